// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xsk.c - a worker's AF_XDP sockets over one shared UMEM (libxdp's xsk API; the XSKMAP is
 * ours, so libxdp is told not to load its own program). See xsk.h for the contract.
 */
#include <errno.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"
#include "xsk.h"

static int iface_info(struct xsk_port *p, const char *ifname)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), err = 0;

	if (fd < 0)
		return -errno;
	snprintf(p->ifname, sizeof(p->ifname), "%s", ifname);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) == 0)
		memcpy(p->mac, ifr.ifr_hwaddr.sa_data, 6);
	else
		err = -errno;
	if (!err && ioctl(fd, SIOCGIFMTU, &ifr) == 0)
		p->mtu = (uint32_t)ifr.ifr_mtu;
	else if (!err)
		err = -errno;
	close(fd);
	p->ifindex = (int)if_nametoindex(ifname);
	return p->ifindex ? err : -ENODEV;
}

static int pool_open(struct xsk_umem_pool *pool, unsigned nports)
{
	pool->nframes = nports * 3 * XSK_RING_SIZE;
	pool->size = (size_t)pool->nframes * XSK_FRAME_SIZE;
	pool->area = mmap(NULL, pool->size, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (pool->area == MAP_FAILED) {
		pool->area = NULL;
		return -errno;
	}
	pool->free = calloc(pool->nframes, sizeof(pool->free[0]));
	if (!pool->free)
		return -ENOMEM;
	for (uint32_t i = 0; i < pool->nframes; i++)
		pool->free[pool->nfree++] = (uint64_t)(pool->nframes - 1 - i) * XSK_FRAME_SIZE;
	return 0;
}

/* What the kernel made of the socket (a socket sharing a UMEM inherits its mode). */
static bool is_zerocopy(struct xsk_port *p)
{
	struct xdp_options opts = { 0 };
	socklen_t len = sizeof(opts);

	return getsockopt(xsk_socket__fd(p->xsk), SOL_XDP, XDP_OPTIONS, &opts, &len) == 0 &&
	       (opts.flags & XDP_OPTIONS_ZEROCOPY);
}

/* The first port creates the UMEM with its fill and completion rings; the others share it. */
static int port_open(struct xsk_set *s, struct xsk_port *p, unsigned queue, bool first,
		     bool zerocopy)
{
	struct xsk_socket_config cfg = {
		.rx_size = XSK_RING_SIZE,
		.tx_size = XSK_RING_SIZE,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_USE_NEED_WAKEUP | (zerocopy ? XDP_ZEROCOPY : XDP_COPY),
	};
	struct xsk_umem_config ucfg = {
		.fill_size = XSK_RING_SIZE,
		.comp_size = XSK_RING_SIZE,
		.frame_size = XSK_FRAME_SIZE,
		.frame_headroom = XSK_HEADROOM,
	};
	int err;

	if (first) {
		err = xsk_umem__create(&s->pool.umem, s->pool.area, s->pool.size, &p->fill,
				       &p->comp, &ucfg);
		if (err)
			return err;
	}
	err = xsk_socket__create_shared(&p->xsk, p->ifname, queue, s->pool.umem, &p->rx, &p->tx,
					&p->fill, &p->comp, &cfg);
	if (err)
		return err;
	p->queue = queue;
	p->zerocopy = is_zerocopy(p);
	return 0;
}

int xsk_set_open(struct xsk_set *s, const char *const *ifnames, unsigned n, unsigned queue,
		 bool force_copy)
{
	int err;

	memset(s, 0, sizeof(*s));
	if (n == 0 || n > ESPER_MAX_IFACES)
		return -EINVAL;
	err = pool_open(&s->pool, n);
	if (err)
		goto fail;
	for (unsigned i = 0; i < n; i++) {
		struct xsk_port *p = &s->port[i];

		err = iface_info(p, ifnames[i]);
		if (err)
			goto fail;
		err = force_copy ? -EOPNOTSUPP : port_open(s, p, queue, i == 0, true);
		if (err && i == 0 && s->pool.umem) {
			xsk_umem__delete(s->pool.umem);
			s->pool.umem = NULL;
		}
		if (err)
			err = port_open(s, p, queue, i == 0, false);
		if (err)
			goto fail;
		s->nports++;
		xsk_refill(s, p);
	}
	return 0;
fail:
	xsk_set_close(s);
	return err;
}

void xsk_set_close(struct xsk_set *s)
{
	for (unsigned i = 0; i < s->nports; i++)
		xsk_socket__delete(s->port[i].xsk);
	if (s->pool.umem)
		xsk_umem__delete(s->pool.umem);
	if (s->pool.area)
		munmap(s->pool.area, s->pool.size);
	free(s->pool.free);
	memset(s, 0, sizeof(*s));
}

bool xsk_tx(struct xsk_set *s, struct xsk_port *p, uint64_t addr, uint32_t len)
{
	if (p->ntxq == sizeof(p->txq) / sizeof(p->txq[0]))
		xsk_flush(s, p);
	p->txq[p->ntxq++] = (struct xdp_desc){ .addr = addr, .len = len };
	return true;
}

/* Descriptors in the TX ring that the kernel has not taken yet. */
static uint32_t tx_unsent(struct xsk_port *p)
{
	return XSK_RING_SIZE - xsk_prod_nb_free(&p->tx, XSK_RING_SIZE);
}

/* Wake the kernel until it has taken every descriptor. In copy mode each system call sends
 * at most 32 frames (the kernel's TX budget) and returns; the rest would wait in the ring
 * until the worker's next round, which may be a poll() of up to 100 ms away. Those
 * frames hold ESP whose sequence numbers are taken: another worker sending for the same SA
 * meanwhile puts thousands of newer numbers on the wire first, and the receiver's window
 * drops the late ones. In zero-copy mode the driver sends on its own: one call, no progress
 * seen, done. */
static void tx_kick(struct xsk_port *p)
{
	uint32_t left = tx_unsent(p);

	for (unsigned i = 0; left && i < XSK_RING_SIZE / 32 + 1; i++) {
		uint32_t before = left;

		if (!xsk_ring_prod__needs_wakeup(&p->tx))
			return;
		if (sendto(xsk_socket__fd(p->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 &&
		    errno != EAGAIN && errno != EBUSY && errno != ENOBUFS)
			return;
		left = tx_unsent(p);
		if (left >= before)
			return;
	}
}

void xsk_flush(struct xsk_set *s, struct xsk_port *p)
{
	uint32_t idx, n;

	if (!p->ntxq)
		return;
	n = xsk_ring_prod__reserve(&p->tx, p->ntxq, &idx);
	for (uint32_t i = 0; i < n; i++)
		*xsk_ring_prod__tx_desc(&p->tx, idx + i) = p->txq[i];
	for (uint32_t i = n; i < p->ntxq; i++) {
		xsk_free(s, p->txq[i].addr);
		p->tx_dropped++;
	}
	p->ntxq = 0;
	if (!n)
		return;
	xsk_ring_prod__submit(&p->tx, n);
	p->tx_pending += n;
	tx_kick(p);
}

void xsk_drain(struct xsk_set *s, struct xsk_port *p)
{
	xsk_flush(s, p);
	if (tx_unsent(p))
		tx_kick(p);
}

void xsk_complete(struct xsk_set *s, struct xsk_port *p)
{
	uint32_t idx, n;

	if (!p->tx_pending)
		return;
	n = xsk_ring_cons__peek(&p->comp, XSK_RING_SIZE, &idx);
	for (uint32_t i = 0; i < n; i++)
		xsk_free(s, *xsk_ring_cons__comp_addr(&p->comp, idx + i));
	xsk_ring_cons__release(&p->comp, n);
	p->tx_pending -= n;
	if (p->tx_pending && xsk_ring_prod__needs_wakeup(&p->tx))
		sendto(xsk_socket__fd(p->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0);
}

void xsk_refill(struct xsk_set *s, struct xsk_port *p)
{
	uint32_t idx, want = xsk_prod_nb_free(&p->fill, XSK_RING_SIZE), n;

	if (want > s->pool.nfree)
		want = s->pool.nfree;
	/* Keep a reserve for frames read from the host port and for TX. */
	if (s->pool.nfree - want < 256)
		want = s->pool.nfree > 256 ? s->pool.nfree - 256 : 0;
	if (!want)
		return;
	n = xsk_ring_prod__reserve(&p->fill, want, &idx);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t frame = s->pool.free[--s->pool.nfree];

		/* no earlier use of the frame (a host packet's bytes) may pass for XDP's verdict */
		memset((uint8_t *)xsk_frame(s, frame) + XSK_RX_DATA - sizeof(struct esper_meta), 0,
		       sizeof(struct esper_meta));
		*xsk_ring_prod__fill_addr(&p->fill, idx + i) = frame;
	}
	xsk_ring_prod__submit(&p->fill, n);
}

int xsk_port_kernel_stats(const struct xsk_port *p, struct xdp_statistics *st)
{
	socklen_t len = sizeof(*st);

	memset(st, 0, sizeof(*st));
	if (getsockopt(xsk_socket__fd(p->xsk), SOL_XDP, XDP_STATISTICS, st, &len) < 0)
		return -errno;
	return 0;
}
