/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xsk.h - AF_XDP for one worker: a UMEM of fixed-size frames shared by all the worker's
 * sockets (one per interface, on the worker's queue), so a frame received on one interface
 * is sent on another without a copy; the fill rings are kept full, completions go back to
 * the free stack. Zero-copy where the driver offers it, copy mode otherwise; need_wakeup.
 * Every function here is called by the owning worker thread only (set-up and tear-down by
 * live.c before the thread starts and after it stopped).
 */
#ifndef ESPER_XSK_H
#define ESPER_XSK_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <xdp/xsk.h>
#include <linux/bpf.h>
#include <linux/types.h>

#include "esper_abi.h"

#define XSK_FRAME_SIZE	4096
#define XSK_RING_SIZE	2048
#define XSK_HEADROOM	256	/* room in front of received data: metadata, ESP headers */
/* Where a received packet starts in its frame (the kernel keeps XDP_PACKET_HEADROOM in front
 * of it as well); XDP's metadata, struct esper_meta, ends there. */
#define XSK_RX_DATA	(XSK_HEADROOM + XDP_PACKET_HEADROOM)

struct xsk_port {
	struct xsk_socket *xsk;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	int ifindex;
	unsigned queue;
	uint32_t mtu;
	uint8_t mac[6];
	bool zerocopy;
	uint32_t tx_pending;	/* submitted, not yet completed */
	uint32_t ntxq;
	struct xdp_desc txq[64];	/* queued by xsk_tx, written to the ring by xsk_flush */
	uint64_t tx_dropped;	/* TX ring full */
	char ifname[IF_NAMESIZE];
};

struct xsk_umem_pool {
	void *area;
	size_t size;
	struct xsk_umem *umem;
	uint64_t *free;		/* stack of free frame addresses */
	uint32_t nfree;
	uint32_t nframes;
};

struct xsk_set {
	struct xsk_umem_pool pool;
	struct xsk_port port[ESPER_MAX_IFACES];
	unsigned nports;
};

/* One socket on each of ifnames[0..n-1], queue `queue`, over one shared UMEM. */
int xsk_set_open(struct xsk_set *s, const char *const *ifnames, unsigned n, unsigned queue,
		 bool force_copy);
void xsk_set_close(struct xsk_set *s);

/* The kernel's drop counters of p's socket (XDP_STATISTICS: RX ring full, fill ring empty,
 * invalid descriptors); any thread may ask. */
int xsk_port_kernel_stats(const struct xsk_port *p, struct xdp_statistics *st);

static inline void *xsk_frame(const struct xsk_set *s, uint64_t addr)
{
	return xsk_umem__get_data(s->pool.area, addr);
}

static inline uint64_t xsk_frame_base(uint64_t addr)
{
	return addr & ~(uint64_t)(XSK_FRAME_SIZE - 1);
}

static inline bool xsk_alloc(struct xsk_set *s, uint64_t *addr)
{
	if (!s->pool.nfree)
		return false;
	*addr = s->pool.free[--s->pool.nfree];
	return true;
}

static inline void xsk_free(struct xsk_set *s, uint64_t addr)
{
	s->pool.free[s->pool.nfree++] = xsk_frame_base(addr);
}

/* Queue a frame for transmission on port p (sent at the next xsk_flush, which frees the
 * frames the TX ring has no room for and counts them in tx_dropped); always true. */
bool xsk_tx(struct xsk_set *s, struct xsk_port *p, uint64_t addr, uint32_t len);
void xsk_flush(struct xsk_set *s, struct xsk_port *p);	/* submit and kick TX */
/* xsk_flush, then kick until the kernel took every descriptor (copy mode sends at most
 * 32 per call; a few calls at most): what was queued has been sent when it returns. */
void xsk_drain(struct xsk_set *s, struct xsk_port *p);
void xsk_complete(struct xsk_set *s, struct xsk_port *p);	/* reclaim sent frames */
void xsk_refill(struct xsk_set *s, struct xsk_port *p);	/* top up the fill ring */

#endif
