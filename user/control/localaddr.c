// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * localaddr.c - the host's addresses in the XDP map local_addrs (localaddr.h): a dump of
 * every address (RTM_GETADDR) at start and after every address event (RTMGRP_IPV4_IFADDR,
 * RTMGRP_IPV6_IFADDR, or lost events), compared with what the map holds: new addresses
 * added, gone ones deleted. Events are rare; a full dump keeps it simple and exact.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "lib/log.h"
#include "localaddr.h"

#define MAX_ADDRS 4096

struct addr_set {
	struct ip_addr a[MAX_ADDRS];
	unsigned n;
};

struct localaddr {
	struct bpf_sync *sync;
	pthread_mutex_t *lock;
	int events, query;
	pthread_t thread;
	_Atomic bool stop;
	struct addr_set now;		/* what the map holds */
	uint8_t buf[32768] __attribute__((aligned(8)));	/* netlink messages */
};

static int nl_open(unsigned groups)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = groups };
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void set_add(struct addr_set *s, uint8_t family, const void *a, size_t len)
{
	if (s->n == MAX_ADDRS)
		return;
	memset(&s->a[s->n], 0, sizeof(s->a[0]));
	s->a[s->n].family = family;
	memcpy(s->a[s->n].a, a, len);
	s->n++;
}

static bool set_has(const struct addr_set *s, const struct ip_addr *a)
{
	for (unsigned i = 0; i < s->n; i++)
		if (s->a[i].family == a->family && !memcmp(s->a[i].a, a->a, 16))
			return true;
	return false;
}

/* One RTM_NEWADDR: its IFA_LOCAL (IPv4, where point-to-point links keep it) or IFA_ADDRESS. */
static void take_addr(struct nlmsghdr *h, struct addr_set *s)
{
	struct ifaddrmsg *ifa = NLMSG_DATA(h);
	size_t alen = ifa->ifa_family == AF_INET ? 4 : 16;
	int len = (int)IFA_PAYLOAD(h);
	const void *addr = NULL;

	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return;
	for (struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (RTA_PAYLOAD(a) != alen)
			continue;
		if (a->rta_type == IFA_LOCAL || (a->rta_type == IFA_ADDRESS && !addr))
			addr = RTA_DATA(a);
	}
	if (addr)
		set_add(s, ifa->ifa_family, addr, alen);
}

/* Every address of the host into s: 0 or -1. */
static int dump(struct localaddr *la, struct addr_set *s)
{
	struct {
		struct nlmsghdr h;
		struct ifaddrmsg ifa;
	} q = { .h = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg)),
		       .nlmsg_type = RTM_GETADDR, .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		       .nlmsg_seq = 1 } };

	s->n = 0;
	if (send(la->query, &q, q.h.nlmsg_len, 0) < 0)
		return -1;
	for (;;) {
		ssize_t n = recv(la->query, la->buf, sizeof(la->buf), 0);

		if (n <= 0)
			return -1;
		for (struct nlmsghdr *h = (void *)la->buf; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR)
				return -1;
			if (h->nlmsg_type == RTM_NEWADDR)
				take_addr(h, s);
		}
	}
}

/* Make the map hold exactly the addresses the host has now. */
static void sync_map(struct localaddr *la)
{
	static struct addr_set fresh;	/* used by this thread only */

	if (dump(la, &fresh) < 0) {
		log_warnx("local addresses: netlink dump failed; the map stays as it was");
		return;
	}
	pthread_mutex_lock(la->lock);
	for (unsigned i = 0; i < fresh.n; i++)
		if (!set_has(&la->now, &fresh.a[i]) &&
		    bpf_sync_local_addr(la->sync, &fresh.a[i], true) < 0)
			log_warnx("local addresses: cannot add one to the XDP map");
	for (unsigned i = 0; i < la->now.n; i++)
		if (!set_has(&fresh, &la->now.a[i]))
			bpf_sync_local_addr(la->sync, &la->now.a[i], false);
	pthread_mutex_unlock(la->lock);
	la->now = fresh;
}

static void *localaddr_main(void *arg)
{
	struct localaddr *la = arg;

	while (!atomic_load(&la->stop)) {
		ssize_t n = recv(la->events, la->buf, sizeof(la->buf), 0);

		if (n > 0 || (n < 0 && errno == ENOBUFS)) {
			while (recv(la->events, la->buf, sizeof(la->buf), MSG_DONTWAIT) > 0)
				;	/* one dump answers them all */
			sync_map(la);
		}
	}
	return NULL;
}

struct localaddr *localaddr_start(struct bpf_sync *sync, pthread_mutex_t *lock)
{
	struct localaddr *la = calloc(1, sizeof(*la));

	if (!la)
		return NULL;
	la->sync = sync;
	la->lock = lock;
	la->events = nl_open(RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR);
	la->query = nl_open(0);
	if (la->events < 0 || la->query < 0)
		goto fail;
	sync_map(la);
	if (pthread_create(&la->thread, NULL, localaddr_main, la) == 0)
		return la;
fail:
	if (la->events >= 0)
		close(la->events);
	if (la->query >= 0)
		close(la->query);
	free(la);
	return NULL;
}

void localaddr_stop(struct localaddr *la)
{
	if (!la)
		return;
	atomic_store(&la->stop, true);
	pthread_join(la->thread, NULL);
	close(la->events);
	close(la->query);
	free(la);
}
