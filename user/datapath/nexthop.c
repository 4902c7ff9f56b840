// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * nexthop.c - route and neighbour lookups over rtnetlink (RTM_GETROUTE, RTM_GETNEIGH) made
 * by one resolver thread for every worker's cache (nexthop.h). Each cache has two
 * single-producer single-consumer rings: requests (worker -> resolver) and answers
 * (resolver -> worker); an eventfd wakes the resolver, which also follows the kernel's
 * route, neighbour, address and link events and bumps the generation that ages every entry.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "lib/hash.h"
#include "lib/log.h"
#include "nexthop.h"

#define RING 64			/* requests (and answers) in flight per cache, a power of two */
#define WAYS 4			/* entries per set: a new destination evicts the least used */
#define MAX_CACHES 256

enum state { EMPTY, PENDING, DONE };

struct entry {
	uint8_t state;		/* enum state */
	bool asking;		/* a request for it is queued (a refresh of a DONE entry too) */
	int family;
	uint32_t used;		/* the cache's tick when it was last looked up */
	uint32_t gen;		/* of the answer */
	int err;
	uint8_t dst[16];
	struct nexthop nh;
};

struct msg {
	int family;
	uint32_t gen;
	int err;
	uint8_t dst[16];
	struct nexthop nh;
};

struct ring {
	_Atomic uint32_t head, tail;	/* head: next to write (producer), tail: to read */
	struct msg m[RING];
};

struct nexthop_cache {
	uint32_t mark;
	uint32_t sets;		/* entries / WAYS, a power of two */
	uint32_t tick;
	struct ring req, ans;
	struct entry e[];
};

static _Atomic uint32_t generation = 1;

static struct {
	struct nexthop_cache *_Atomic cache[MAX_CACHES];
	pthread_t thread;
	int wake;		/* eventfd */
	int events;		/* netlink, subscribed to the groups below */
	int query;		/* netlink, for the resolver's requests */
	int ioctl_fd;
	uint32_t seq;
	_Atomic bool stop, running;
	uint8_t buf[16384] __attribute__((aligned(8)));	/* netlink messages */
} r = { .wake = -1, .events = -1, .query = -1, .ioctl_fd = -1 };

/* --- the rings --------------------------------------------------------------------------- */

static bool ring_put(struct ring *q, const struct msg *m)
{
	uint32_t h = atomic_load_explicit(&q->head, memory_order_relaxed);

	if (h - atomic_load_explicit(&q->tail, memory_order_acquire) == RING)
		return false;
	q->m[h % RING] = *m;
	atomic_store_explicit(&q->head, h + 1, memory_order_release);
	return true;
}

static bool ring_get(struct ring *q, struct msg *m)
{
	uint32_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);

	if (t == atomic_load_explicit(&q->head, memory_order_acquire))
		return false;
	*m = q->m[t % RING];
	atomic_store_explicit(&q->tail, t + 1, memory_order_release);
	return true;
}

/* --- caches (worker side) ---------------------------------------------------------------- */

struct nexthop_cache *nexthop_cache_new(uint32_t mark, unsigned entries)
{
	struct nexthop_cache *c;

	if (entries < WAYS || entries & (entries - 1)) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c) + entries * sizeof(c->e[0]));
	if (!c)
		return NULL;
	c->sets = entries / WAYS;
	c->mark = mark;
	for (unsigned i = 0; i < MAX_CACHES; i++) {
		struct nexthop_cache *none = NULL;

		if (atomic_compare_exchange_strong(&r.cache[i], &none, c))
			return c;
	}
	free(c);
	errno = ENOSPC;
	return NULL;
}

void nexthop_cache_free(struct nexthop_cache *c)
{
	if (!c)
		return;
	for (unsigned i = 0; i < MAX_CACHES; i++) {
		struct nexthop_cache *me = c;

		atomic_compare_exchange_strong(&r.cache[i], &me, NULL);
	}
	free(c);
}

static void ask(struct nexthop_cache *c, struct entry *e)
{
	struct msg m = { .family = e->family };
	uint64_t one = 1;

	memcpy(m.dst, e->dst, sizeof(m.dst));
	if (!ring_put(&c->req, &m))
		return;	/* full: asked again on the next lookup */
	e->asking = true;
	if (r.wake >= 0 && write(r.wake, &one, sizeof(one)) < 0)
		return;	/* the resolver polls anyway */
}

/* The set dst falls in, and in it dst's entry (NULL if none). */
static struct entry *find(struct nexthop_cache *c, int family, const uint8_t *dst,
			  struct entry **set)
{
	size_t alen = family == AF_INET ? 4 : 16;

	*set = &c->e[(hash_bytes(dst, alen) & (c->sets - 1)) * WAYS];
	for (unsigned w = 0; w < WAYS; w++) {
		struct entry *e = &(*set)[w];

		if (e->state != EMPTY && e->family == family && !memcmp(e->dst, dst, alen))
			return e;
	}
	return NULL;
}

/* A new destination's entry: an empty one of the set, else the least recently used (a
 * burst of new destinations does not push out the ones traffic is using). */
static struct entry *claim(struct entry *set, int family, const uint8_t *dst)
{
	struct entry *e = &set[0];

	for (unsigned w = 0; w < WAYS && e->state != EMPTY; w++)
		if (set[w].state == EMPTY || set[w].used < e->used)
			e = &set[w];
	memset(e, 0, sizeof(*e));
	e->state = PENDING;
	e->family = family;
	memcpy(e->dst, dst, family == AF_INET ? 4 : 16);
	return e;
}

int nexthop_lookup(struct nexthop_cache *c, int family, const uint8_t *dst, struct nexthop *out)
{
	struct entry *set, *e = find(c, family, dst, &set);

	if (!e)
		e = claim(set, family, dst);
	e->used = ++c->tick;
	if (!e->asking && (e->state == PENDING ||
			   e->gen != atomic_load_explicit(&generation, memory_order_relaxed)))
		ask(c, e);
	if (e->state == PENDING)
		return -EAGAIN;
	*out = e->nh;
	return e->err;
}

void nexthop_poll(struct nexthop_cache *c)
{
	struct msg m;

	while (ring_get(&c->ans, &m)) {
		struct entry *set, *e = find(c, m.family, m.dst, &set);

		if (!e)
			continue;	/* its entry went to another destination meanwhile */
		e->asking = false;
		if (m.err == -ETIMEDOUT)
			continue;	/* no answer: asked again on the next lookup */
		e->state = DONE;
		e->gen = m.gen;
		e->err = m.err;
		e->nh = m.nh;
	}
}

/* --- netlink (resolver side) --------------------------------------------------------------- */

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

static void add_attr(struct nl_req *q, unsigned short type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((uint8_t *)q + NLMSG_ALIGN(q->h.nlmsg_len));

	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	q->h.nlmsg_len = NLMSG_ALIGN(q->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/* A failure of the exchange itself (no answer: asked again later), not the kernel's answer
 * "no such route / neighbour" (kept until the next event). */
#define NL_NO_ANSWER (-ETIMEDOUT)

/* Send q and wait for its answer: the first message of that sequence number; NULL with *err
 * the kernel's -errno, or NL_NO_ANSWER. */
static struct nlmsghdr *transact(struct nl_req *q, int *err)
{
	q->h.nlmsg_seq = ++r.seq;
	if (send(r.query, q, q->h.nlmsg_len, 0) < 0) {
		*err = NL_NO_ANSWER;
		return NULL;
	}
	for (;;) {
		ssize_t n = recv(r.query, r.buf, sizeof(r.buf), 0);
		struct nlmsghdr *h = (struct nlmsghdr *)r.buf;

		if (n < 0) {
			*err = NL_NO_ANSWER;
			return NULL;
		}
		for (; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != r.seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				*err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
				return NULL;
			}
			return h;
		}
	}
}

static void route_attrs(struct nlmsghdr *h, size_t alen, int *oif, uint8_t *gw, uint32_t *mtu)
{
	int len = (int)RTM_PAYLOAD(h);

	for (struct rtattr *a = RTM_RTA(NLMSG_DATA(h)); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
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
}

/* The route: egress interface, gateway (into gw, else gw = dst), MTU metric, unicast. */
static int get_route(int family, const uint8_t *dst, uint32_t mark, int *oif, uint8_t gw[16],
		     uint32_t *mtu, bool *unicast)
{
	struct nl_req q = { .h = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg)),
				   .nlmsg_type = RTM_GETROUTE, .nlmsg_flags = NLM_F_REQUEST } };
	size_t alen = family == AF_INET ? 4 : 16;
	struct nlmsghdr *h;
	int err = 0;

	q.rt.rtm_family = (unsigned char)family;
	q.rt.rtm_dst_len = (unsigned char)(alen * 8);
	add_attr(&q, RTA_DST, dst, alen);
	if (mark)
		add_attr(&q, RTA_MARK, &mark, sizeof(mark));
	h = transact(&q, &err);
	if (!h)	/* unreachable, prohibit, blackhole...: no usable route */
		return err == NL_NO_ANSWER ? err : -ENETUNREACH;
	memcpy(gw, dst, alen);
	*oif = 0;
	*mtu = 0;
	*unicast = ((struct rtmsg *)NLMSG_DATA(h))->rtm_type == RTN_UNICAST;
	route_attrs(h, alen, oif, gw, mtu);
	return *oif ? 0 : -ENETUNREACH;
}

/* The neighbour entry of gw on oif: 1 if it holds a usable link-layer address, 0 if not
 * (or there is none), NL_NO_ANSWER. */
static int get_neigh(int family, int oif, const uint8_t *gw, uint8_t mac[6])
{
	struct nl_req q = { .h = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg)),
				   .nlmsg_type = RTM_GETNEIGH, .nlmsg_flags = NLM_F_REQUEST } };
	const unsigned usable = NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT;
	struct nlmsghdr *h;
	struct ndmsg *nd;
	struct rtattr *a;
	int len, err;
	bool got = false;

	q.nd.ndm_family = (unsigned char)family;
	q.nd.ndm_ifindex = oif;
	add_attr(&q, NDA_DST, gw, family == AF_INET ? 4 : 16);
	h = transact(&q, &err);
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

static uint32_t if_mtu(int ifindex)
{
	struct ifreq ifr = { 0 };

	ifr.ifr_ifindex = ifindex;
	if (ioctl(r.ioctl_fd, SIOCGIFNAME, &ifr) == 0 && ioctl(r.ioctl_fd, SIOCGIFMTU, &ifr) == 0)
		return (uint32_t)ifr.ifr_mtu;
	return 1500;
}

/* One answer: 0 with *nh (nh->resolved: the neighbour is known), -ENETUNREACH, or
 * NL_NO_ANSWER; an unanswered neighbour query gives an unresolved next hop. */
static int resolve(int family, const uint8_t *dst, uint32_t mark, struct nexthop *nh)
{
	uint8_t gw[16];
	uint32_t route_mtu = 0;
	int err;

	memset(nh, 0, sizeof(*nh));
	err = get_route(family, dst, mark, &nh->ifindex, gw, &route_mtu, &nh->unicast);
	if (err)
		return err;
	nh->mtu = if_mtu(nh->ifindex);
	if (route_mtu && route_mtu < nh->mtu)
		nh->mtu = route_mtu;
	nh->resolved = get_neigh(family, nh->ifindex, gw, nh->mac) == 1;
	return 0;
}

/* --- the resolver thread -------------------------------------------------------------------- */

static void serve(struct nexthop_cache *c)
{
	struct msg m;

	while (ring_get(&c->req, &m)) {
		m.gen = atomic_load(&generation);
		m.err = resolve(m.family, m.dst, c->mark, &m.nh);
		while (!ring_put(&c->ans, &m) && !atomic_load(&r.stop))
			usleep(100);	/* the worker takes answers every loop */
	}
}

static void drain_events(void)
{
	for (;;) {
		ssize_t n = recv(r.events, r.buf, sizeof(r.buf), MSG_DONTWAIT);

		if (n > 0 || (n < 0 && errno == ENOBUFS))	/* ENOBUFS: events lost */
			atomic_fetch_add(&generation, 1);
		else
			return;
	}
}

static void *resolver_main(void *arg)
{
	struct pollfd pfd[2] = { { .fd = r.wake, .events = POLLIN },
				 { .fd = r.events, .events = POLLIN } };

	(void)arg;
	while (!atomic_load(&r.stop)) {
		uint64_t v;

		poll(pfd, 2, 100);
		if (pfd[0].revents & POLLIN && read(r.wake, &v, sizeof(v)) < 0)
			v = 0;
		drain_events();
		for (unsigned i = 0; i < MAX_CACHES; i++) {
			struct nexthop_cache *c = atomic_load(&r.cache[i]);

			if (c)
				serve(c);
		}
	}
	return NULL;
}

static void close_all(void)
{
	int *fds[] = { &r.wake, &r.events, &r.query, &r.ioctl_fd };

	for (unsigned i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

static int open_all(void)
{
	unsigned groups = RTMGRP_LINK | RTMGRP_NEIGH | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE |
			  RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;

	r.wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	r.events = nl_socket(groups);
	r.query = nl_socket(0);
	r.ioctl_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (r.wake < 0 || r.events < 0 || r.query < 0 || r.ioctl_fd < 0) {
		int err = r.events < 0 ? r.events : r.query < 0 ? r.query : -errno;

		close_all();
		return err;
	}
	return 0;
}

int nexthop_resolver_start(void)
{
	int err = open_all();

	if (err)
		return err;
	atomic_store(&r.stop, false);
	err = pthread_create(&r.thread, NULL, resolver_main, NULL);
	if (err) {
		close_all();
		return -err;
	}
	atomic_store(&r.running, true);
	return 0;
}

void nexthop_resolver_stop(void)
{
	if (!atomic_load(&r.running))
		return;
	atomic_store(&r.stop, true);
	pthread_join(r.thread, NULL);
	atomic_store(&r.running, false);
	close_all();
}
