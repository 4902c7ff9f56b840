/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * nexthop.h - where a packet goes: the kernel's route to a destination and the next hop's
 * link-layer address, asked over rtnetlink by one resolver thread and cached per worker.
 * A worker never waits for netlink: a miss queues a request to the resolver and answers
 * -EAGAIN at once (the caller hands the packet to the kernel), and the answer lands in the
 * worker's cache when it next calls nexthop_poll. The resolver also listens to route,
 * neighbour, address and link events and bumps a generation; an entry of an older
 * generation is still used while the resolver asks again (the caller never stalls on a
 * change). Lookups use the routing mark `mark`, so that policy routing can keep ESP out of
 * the host port.
 */
#ifndef ESPER_NEXTHOP_H
#define ESPER_NEXTHOP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct nexthop {
	int ifindex;		/* egress interface */
	uint32_t mtu;		/* of the route, else of the interface; 0: no limit */
	bool resolved;		/* mac is valid; else the kernel must resolve (raw socket) */
	bool unicast;		/* a unicast route (not local, broadcast, multicast...) */
	uint8_t mac[6];
};

struct nexthop_cache;

/* A cache of `entries` destinations (a power of two) for one worker, its routing mark.
 * Create every cache before nexthop_resolver_start. NULL with errno set. */
struct nexthop_cache *nexthop_cache_new(uint32_t mark, unsigned entries);
void nexthop_cache_free(struct nexthop_cache *c);	/* after nexthop_resolver_stop */

/* The next hop toward dst (4 or 16 bytes, family AF_INET/AF_INET6), from the cache: 0;
 * -EAGAIN while the resolver is asked (or its queue is full); -ENETUNREACH when there is no
 * usable route (unreachable, prohibit, blackhole). Never blocks. Owner thread only. */
int nexthop_lookup(struct nexthop_cache *c, int family, const uint8_t *dst, struct nexthop *out);

/* Take the resolver's answers into the cache. Owner thread only. */
void nexthop_poll(struct nexthop_cache *c);

/* The resolver thread: answers every cache's requests and follows the kernel's events. */
int nexthop_resolver_start(void);
void nexthop_resolver_stop(void);

#endif
