/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * nexthop.h - where an ESP packet goes: the kernel's route to its outer destination and the
 * next hop's link-layer address, asked over rtnetlink and cached per worker. A monitor
 * thread listens to route, neighbour and link events and bumps a generation; a cached entry
 * of an older generation is asked again. Lookups done with the routing mark `mark`, so that
 * policy routing can keep ESP out of the host port.
 */
#ifndef ESPER_NEXTHOP_H
#define ESPER_NEXTHOP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct nexthop {
	int ifindex;		/* egress interface */
	uint32_t mtu;		/* of the route, else of the interface */
	bool resolved;		/* mac is valid; else the kernel must resolve (raw socket) */
	bool unicast;		/* a unicast route (not local, broadcast, multicast...) */
	uint8_t mac[6];
};

struct nexthop_cache;

extern _Atomic uint32_t nexthop_generation;

/* A cache of `entries` destinations (a power of two) for one thread, with its own netlink
 * socket. NULL with errno set. */
struct nexthop_cache *nexthop_cache_new(uint32_t mark, unsigned entries);
void nexthop_cache_free(struct nexthop_cache *c);

/* The next hop toward dst (4 or 16 bytes, family AF_INET/AF_INET6): 0, or -ENETUNREACH
 * when there is no usable route (unreachable, prohibit, blackhole), -ETIMEDOUT when
 * netlink did not answer. */
int nexthop_lookup(struct nexthop_cache *c, int family, const uint8_t *dst, struct nexthop *out);

/* The event monitor: a thread that bumps nexthop_generation on every route, neighbour or
 * link change. */
int nexthop_monitor_start(void);
void nexthop_monitor_stop(void);

#endif
