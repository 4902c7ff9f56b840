// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * nexthop.c - route and neighbour lookups over rtnetlink (RTM_GETROUTE, RTM_GETNEIGH) with a
 * small per-thread cache, and the monitor thread that invalidates every cache at once by
 * bumping a generation number. See nexthop.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "lib/htab.h"
#include "lib/log.h"
#include "nexthop.h"

_Atomic uint32_t nexthop_generation = 1;

struct entry {
	uint32_t gen;
	int family;
	uint8_t dst[16];
	int err;
	struct nexthop nh;
};

struct nexthop_cache {
	int fd;			/* netlink */
	int ioctl_fd;		/* for SIOCGIFMTU */
	uint32_t seq;
	uint32_t mark;
	uint32_t mask;		/* entries - 1: direct-mapped */
	uint8_t buf[8192];
	struct entry e[];
};

struct nl_req {
	struct nlmsghdr h;
	union {
		struct rtmsg rt;
		struct ndmsg nd;
	};
	uint8_t attrs[64];
};

static int nl_socket(unsigned groups)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = groups };
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

struct nexthop_cache *nexthop_cache_new(uint32_t mark, unsigned entries)
{
	struct nexthop_cache *c;

	if (!entries || entries & (entries - 1)) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c) + entries * sizeof(c->e[0]));
	if (!c)
		return NULL;
	c->mask = entries - 1;
	c->mark = mark;
	c->fd = nl_socket(0);
	c->ioctl_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || c->ioctl_fd < 0) {
		int err = c->fd < 0 ? -c->fd : errno;

		nexthop_cache_free(c);
		errno = err;
		return NULL;
	}
	return c;
}

void nexthop_cache_free(struct nexthop_cache *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	if (c->ioctl_fd >= 0)
		close(c->ioctl_fd);
	free(c);
}

static void add_attr(struct nl_req *r, unsigned short type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((uint8_t *)r + NLMSG_ALIGN(r->h.nlmsg_len));

	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/* A failure of the exchange itself (no answer: asked again next time), not the kernel's
 * answer "no such route / neighbour" (kept until the next event). */
#define NL_NO_ANSWER (-ETIMEDOUT)

/* Send r and wait for its answer: the first message of that sequence number; NULL with
 * *err the kernel's -errno, or NL_NO_ANSWER. */
static struct nlmsghdr *transact(struct nexthop_cache *c, struct nl_req *r, int *err)
{
	r->h.nlmsg_seq = ++c->seq;
	if (send(c->fd, r, r->h.nlmsg_len, 0) < 0) {
		*err = NL_NO_ANSWER;
		return NULL;
	}
	for (;;) {
		ssize_t n = recv(c->fd, c->buf, sizeof(c->buf), 0);
		struct nlmsghdr *h = (struct nlmsghdr *)c->buf;

		if (n < 0) {
			*err = NL_NO_ANSWER;
			return NULL;
		}
		for (; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != c->seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				*err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
				return NULL;
			}
			return h;
		}
	}
}

/* The route: egress interface, gateway (into gw, else gw = dst), MTU metric, unicast. */
static int get_route(struct nexthop_cache *c, int family, const uint8_t *dst, int *oif,
		     uint8_t gw[16], uint32_t *mtu, bool *unicast)
{
	struct nl_req r = { .h = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg)),
				   .nlmsg_type = RTM_GETROUTE, .nlmsg_flags = NLM_F_REQUEST } };
	size_t alen = family == AF_INET ? 4 : 16;
	struct nlmsghdr *h;
	struct rtattr *a;
	int len, err = 0;

	r.rt.rtm_family = (unsigned char)family;
	r.rt.rtm_dst_len = (unsigned char)(alen * 8);
	add_attr(&r, RTA_DST, dst, alen);
	if (c->mark)
		add_attr(&r, RTA_MARK, &c->mark, sizeof(c->mark));
	h = transact(c, &r, &err);
	if (!h)	/* unreachable, prohibit, blackhole...: no usable route */
		return err == NL_NO_ANSWER ? err : -ENETUNREACH;
	memcpy(gw, dst, alen);
	*oif = 0;
	*mtu = 0;
	*unicast = ((struct rtmsg *)NLMSG_DATA(h))->rtm_type == RTN_UNICAST;
	len = (int)RTM_PAYLOAD(h);
	for (a = RTM_RTA(NLMSG_DATA(h)); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == RTA_OIF)
			memcpy(oif, RTA_DATA(a), sizeof(*oif));
		else if (a->rta_type == RTA_GATEWAY && RTA_PAYLOAD(a) == alen)
			memcpy(gw, RTA_DATA(a), alen);
		else if (a->rta_type == RTA_METRICS) {
			int mlen = (int)RTA_PAYLOAD(a);

			for (struct rtattr *m = RTA_DATA(a); RTA_OK(m, mlen); m = RTA_NEXT(m, mlen))
				if (m->rta_type == RTAX_MTU)
					memcpy(mtu, RTA_DATA(m), sizeof(*mtu));
		}
	}
	return *oif ? 0 : -ENETUNREACH;
}

/* The neighbour entry of gw on oif: 1 if it holds a usable link-layer address, 0 if not
 * (or there is none), NL_NO_ANSWER. */
static int get_neigh(struct nexthop_cache *c, int family, int oif, const uint8_t *gw,
		     uint8_t mac[6])
{
	struct nl_req r = { .h = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg)),
				   .nlmsg_type = RTM_GETNEIGH, .nlmsg_flags = NLM_F_REQUEST } };
	const unsigned usable = NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT;
	struct nlmsghdr *h;
	struct ndmsg *nd;
	struct rtattr *a;
	int len, err;
	bool got = false;

	r.nd.ndm_family = (unsigned char)family;
	r.nd.ndm_ifindex = oif;
	add_attr(&r, NDA_DST, gw, family == AF_INET ? 4 : 16);
	h = transact(c, &r, &err);
	if (!h)
		return err == NL_NO_ANSWER ? err : 0;
	if (h->nlmsg_type != RTM_NEWNEIGH)
		return 0;
	nd = NLMSG_DATA(h);
	len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*nd)));
	for (a = (struct rtattr *)((uint8_t *)nd + NLMSG_ALIGN(sizeof(*nd))); RTA_OK(a, len);
	     a = RTA_NEXT(a, len))
		if (a->rta_type == NDA_LLADDR && RTA_PAYLOAD(a) == 6) {
			memcpy(mac, RTA_DATA(a), 6);
			got = true;
		}
	return got && (nd->ndm_state & usable);
}

static uint32_t if_mtu(struct nexthop_cache *c, int ifindex)
{
	struct ifreq ifr = { 0 };

	ifr.ifr_ifindex = ifindex;
	if (ioctl(c->ioctl_fd, SIOCGIFNAME, &ifr) == 0 && ioctl(c->ioctl_fd, SIOCGIFMTU, &ifr) == 0)
		return (uint32_t)ifr.ifr_mtu;
	return 1500;
}

static int resolve(struct nexthop_cache *c, int family, const uint8_t *dst, struct nexthop *nh,
		   bool *retry)
{
	uint8_t gw[16];
	uint32_t route_mtu = 0;
	int err;

	memset(nh, 0, sizeof(*nh));
	*retry = false;
	err = get_route(c, family, dst, &nh->ifindex, gw, &route_mtu, &nh->unicast);
	if (err)
		return err;
	nh->mtu = if_mtu(c, nh->ifindex);
	if (route_mtu && route_mtu < nh->mtu)
		nh->mtu = route_mtu;
	err = get_neigh(c, family, nh->ifindex, gw, nh->mac);
	nh->resolved = err == 1;
	*retry = err < 0;	/* the route holds; the neighbour is asked again next time */
	return 0;
}

int nexthop_lookup(struct nexthop_cache *c, int family, const uint8_t *dst, struct nexthop *out)
{
	size_t alen = family == AF_INET ? 4 : 16;
	struct entry *e = &c->e[hash_bytes(dst, alen) & c->mask];
	uint32_t gen = atomic_load_explicit(&nexthop_generation, memory_order_acquire);
	bool retry;

	if (e->gen != gen || e->family != family || memcmp(e->dst, dst, alen)) {
		e->gen = gen;
		e->family = family;
		memcpy(e->dst, dst, alen);
		e->err = resolve(c, family, dst, &e->nh, &retry);
		/* No route, or no neighbour yet: kept until an event (the kernel resolving it, a
		 * route added) moves the generation on, so such packets cost no netlink round
		 * trip each. An exchange without answer is asked again next time. */
		if (e->err == NL_NO_ANSWER || retry)
			e->gen = 0;
	}
	*out = e->nh;
	return e->err;
}

/* --- the monitor ------------------------------------------------------------------------- */

static pthread_t monitor;
static int monitor_fd = -1;
static _Atomic int monitor_stop;

static void *monitor_main(void *arg)
{
	uint8_t buf[16384];

	(void)arg;
	while (!atomic_load(&monitor_stop)) {
		ssize_t n = recv(monitor_fd, buf, sizeof(buf), 0);

		if (n > 0 || (n < 0 && errno == ENOBUFS))	/* ENOBUFS: events lost */
			atomic_fetch_add(&nexthop_generation, 1);
	}
	return NULL;
}

int nexthop_monitor_start(void)
{
	unsigned groups = RTMGRP_LINK | RTMGRP_NEIGH | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE |
			  RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
	int err;

	monitor_fd = nl_socket(groups);
	if (monitor_fd < 0)
		return monitor_fd;
	err = pthread_create(&monitor, NULL, monitor_main, NULL);
	if (err) {
		close(monitor_fd);
		monitor_fd = -1;
		return -err;
	}
	return 0;
}

void nexthop_monitor_stop(void)
{
	if (monitor_fd < 0)
		return;
	atomic_store(&monitor_stop, 1);
	pthread_join(monitor, NULL);	/* recv times out within 200 ms */
	close(monitor_fd);
	monitor_fd = -1;
}
