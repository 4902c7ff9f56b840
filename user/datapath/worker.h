/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * worker.h - one worker thread per queue: the live driver of the packet pipeline
 * (pipeline.h). It owns the AF_XDP sockets of that queue on every interface (xsk.h), one
 * queue of the host port (hostport.h), its next-hop caches (nexthop.h) and raw sockets for
 * handing packets to the kernel, and feeds their bursts to its pipeline. Its counters are
 * written by it alone and read by anyone.
 */
#ifndef ESPER_WORKER_H
#define ESPER_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "coalesce.h"
#include "nexthop.h"
#include "pipeline.h"
#include "xsk.h"

#define WORKER_COUNTERS(X)						\
	X(rx, "frames received from XDP")				\
	X(host_rx, "packets read from the host port")				\
	X(host_gso, "GSO packets written to the host port, each of several packets")

enum worker_counter {
#define WORKER_COUNTER_ENUM(name, text) W_C_##name,
	WORKER_COUNTERS(WORKER_COUNTER_ENUM)
#undef WORKER_COUNTER_ENUM
	W_C_MAX
};

extern const char *const worker_counter_names[W_C_MAX];
extern const char *const worker_counter_help[W_C_MAX];

struct worker {
	unsigned id;			/* the crypto thread slot */
	int cpu;			/* -1: not pinned */
	struct xsk_set xs;
	int host_fd;			/* this worker's host port queue */
	bool host_vnet;			/* its packets have a virtio_net_hdr (hostport.h) */
	struct coalesce_set *gso;	/* host_vnet: the runs of packets to the host */
	uint8_t *spill;			/* host_vnet: a GSO packet read from the host */
	int raw[2];			/* IPv4, IPv6 raw sockets (header included) */
	uint32_t fwmark;		/* SO_MARK of the raw sockets, RTA_MARK of lookups */
	struct nexthop_cache *nh;	/* outer destinations of ESP */
	struct nexthop_cache *nh_fwd;	/* inner destinations (fast forward), no mark */
	struct pipe pipe;		/* tables and configuration set by the caller */
	pthread_t thread;
	_Atomic bool stop;
	_Atomic uint64_t counters[W_C_MAX];
};

/* Open the raw sockets and the next-hop caches (the AF_XDP sockets, the host fd and w->pipe
 * are set by the caller); worker_release frees them (after the resolver stopped). */
int worker_prepare(struct worker *w);
void worker_release(struct worker *w);
/* Start the thread pinned to w->cpu; stop and join it. */
int worker_start(struct worker *w);
void worker_stop(struct worker *w);

#endif
