/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * worker.h - one worker thread per queue: it owns the AF_XDP sockets of that queue on every
 * interface (xsk.h), one queue of the host port (hostport.h), a next-hop cache (nexthop.h)
 * and raw sockets for handing packets to the kernel. Its counters are written by it alone
 * and read by anyone.
 */
#ifndef ESPER_WORKER_H
#define ESPER_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "nexthop.h"
#include "lib/rcu.h"
#include "tables/sad.h"
#include "tables/spd.h"
#include "xsk.h"

#define WORKER_COUNTERS(X)						\
	X(rx, "frames received from XDP")				\
	X(rx_esp, "of them inbound ESP")				\
	X(rx_plain, "of them plaintext to encrypt")			\
	X(host_rx, "packets read from the host port")			\
	X(host_tx, "packets written to the host port")		\
	X(forwarded, "decrypted packets forwarded by AF_XDP (--fast-forward)")	\
	X(xsk_tx, "ESP packets sent by AF_XDP")				\
	X(kernel_tx, "ESP packets handed to the kernel (no neighbour yet)")	\
	X(icmp_too_big, "ICMP packet-too-big messages sent")		\
	X(fragmented, "fragments made of IPv4 packets without DF, before ESP")	\
	X(no_sa, "dropped: no SA for the SPI")				\
	X(no_policy, "dropped: no outbound policy any more")		\
	X(policy_drop, "dropped: plaintext matching an inbound policy")	\
	X(esp_drop, "dropped by ESP (see the SA counters)")		\
	X(no_route, "dropped: no route to the outer destination")	\
	X(malformed, "dropped: not a sane IP packet")			\
	X(no_frame, "dropped: no free frame")				\
	X(tx_error, "dropped: transmit failed")

enum worker_counter {
#define WORKER_COUNTER_ENUM(name, text) W_C_##name,
	WORKER_COUNTERS(WORKER_COUNTER_ENUM)
#undef WORKER_COUNTER_ENUM
	W_C_MAX
};

extern const char *const worker_counter_names[W_C_MAX];

#define WORKER_FWD_IPV4 1u
#define WORKER_FWD_IPV6 2u

struct worker {
	unsigned id;			/* the crypto thread slot */
	int cpu;			/* -1: not pinned */
	struct xsk_set xs;
	int host_fd;			/* this worker's host port queue */
	int raw[2];			/* IPv4, IPv6 raw sockets (header included) */
	struct nexthop_cache *nh;	/* outer destinations of ESP */
	struct nexthop_cache *nh_fwd;	/* inner destinations (--fast-forward), no mark */
	unsigned fast_forward;		/* WORKER_FWD_*: families forwarded by the worker */
	const struct sad *sad;
	const struct spd *spd;
	unsigned out_flags;		/* esp_out flags (ESP_OUT_FIX_CSUM) */
	uint32_t fwmark;		/* SO_MARK of the raw sockets, RTA_MARK of lookups */
	pthread_t thread;
	_Atomic bool stop;
	_Atomic uint64_t counters[W_C_MAX];
};

/* Only the worker itself writes its counters: no atomic read-modify-write needed. */
static inline void worker_count(struct worker *w, enum worker_counter c)
{
	atomic_store_explicit(&w->counters[c],
			      atomic_load_explicit(&w->counters[c], memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

/* Open raw sockets and the next-hop caches (the sockets and host fd are set by the caller),
 * then start the thread pinned to w->cpu. */
int worker_start(struct worker *w);
void worker_stop(struct worker *w);	/* stop and join; frees what worker_start made */

#endif
