// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench_nexthop.c - does a burst of new destinations stall the other traffic of a queue?
 * (a benchmark, never a test; user/datapath/nexthop.c). One worker's cache, the resolver
 * thread running, the host's own routes (loopback: every 127.0.0.0/8 address is routed,
 * no root needed).
 *
 *   baseline: lookups of one cached destination, back to back;
 *   burst:    BURST new destinations, 16 to each lookup of the cached one (each a miss:
 *             -EAGAIN at once, a request to the resolver; the packet goes to the kernel),
 *             then traffic goes on: 16 lookups of the cached destination to one of a new
 *             one (in turn), a nexthop_poll after each 17, until every new one is answered.
 *
 * Printed: the time of a cached lookup (median, 99th percentile, max; the first SAMPLES
 * of the burst phase) in both phases and
 * their ratio, how often the cached destination missed (pushed out by the newcomers: its
 * packets would go to the kernel until answered again), the longest miss, and how long the
 * resolver took for the burst (what the new destinations' first packets wait for, in the
 * kernel's hands). Run by `make bench`.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "datapath/nexthop.h"

#define BASELINE 200000
#define BURST	 4096
#define SAMPLES	 400000

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct dist {
	double p50, p99, max;
};

static struct dist dist_of(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp);
	return (struct dist){ v[n / 2], v[n * 99 / 100], v[n - 1] };
}

static void die(const char *what)
{
	fprintf(stderr, "bench_nexthop: %s\n", what);
	exit(1);
}

/* 127.0.0.1, answered and cached. */
static void warm(struct nexthop_cache *c, const uint8_t *dst)
{
	struct nexthop nh;

	for (int i = 0; i < 2000; i++) {
		struct timespec ts = { 0, 1000000 };

		nexthop_poll(c);
		if (nexthop_lookup(c, AF_INET, dst, &nh) == 0)
			return;
		nanosleep(&ts, NULL);
	}
	die("127.0.0.1 was never resolved");
}

static unsigned long cached_misses;

/* n lookups of the cached dst, each timed, into v (a poll every 64, as a worker polls once
 * per burst). */
static size_t cached_lookups(struct nexthop_cache *c, const uint8_t *dst, double *v, size_t n)
{
	struct nexthop nh;

	for (size_t i = 0; i < n; i++) {
		double t0 = now_ns();

		cached_misses += nexthop_lookup(c, AF_INET, dst, &nh) != 0;
		v[i] = now_ns() - t0;
		if (i % 64 == 63)
			nexthop_poll(c);
	}
	return n;
}

int main(void)
{
	static double base[BASELINE], during[SAMPLES];
	static bool done[BURST];
	static double spare[16];
	const uint8_t lo[4] = { 127, 0, 0, 1 };
	struct nexthop_cache *c = nexthop_cache_new(0, 8192);
	double miss_max = 0, t_burst, t_done = 0;
	size_t n = 0, answered = 0;
	struct dist b, d;

	if (!c || nexthop_resolver_start() < 0)
		die("cannot start the resolver");
	warm(c, lo);
	b = dist_of(base, cached_lookups(c, lo, base, BASELINE));
	if (cached_misses)
		die("the cached destination missed alone");

	t_burst = now_ns();
	for (unsigned i = 0; i < BURST; i++) {
		uint8_t dst[4] = { 127, 1, (uint8_t)(i >> 8), (uint8_t)i };
		struct nexthop nh;
		double t0 = now_ns();
		int err = nexthop_lookup(c, AF_INET, dst, &nh);
		double dt = now_ns() - t0;

		if (err != -EAGAIN)
			die("a new destination did not miss");
		miss_max = dt > miss_max ? dt : miss_max;
		if (i % 16 == 15)
			n += cached_lookups(c, lo, during + n, 1);
	}
	for (unsigned i = 0; answered < BURST && now_ns() - t_burst < 5e9; i = (i + 1) % BURST) {
		uint8_t dst[4] = { 127, 1, (uint8_t)(i >> 8), (uint8_t)i };
		struct nexthop nh;

		if (n < SAMPLES)	/* timed; later ones only counted */
			n += cached_lookups(c, lo, during + n, SAMPLES - n < 16 ? SAMPLES - n : 16);
		else
			cached_lookups(c, lo, spare, 16);
		nexthop_poll(c);	/* once per burst of the queue */
		if (!done[i] && nexthop_lookup(c, AF_INET, dst, &nh) == 0) {
			done[i] = true;
			if (++answered == BURST)
				t_done = now_ns();
		}
	}
	d = dist_of(during, n);
	printf("cached lookup, alone:           median %6.0f ns, p99 %6.0f ns, max %8.0f ns "
	       "(%d lookups)\n", b.p50, b.p99, b.max, BASELINE);
	printf("cached lookup, during %d new:  median %6.0f ns, p99 %6.0f ns, max %8.0f ns "
	       "(%zu lookups)\n", BURST, d.p50, d.p99, d.max, n);
	printf("during / alone: median %.2fx, p99 %.2fx; the cached destination missed %lu times; "
	       "a miss took at most %.0f ns (it never waits)\n",
	       d.p50 / b.p50, d.p99 / b.p99, cached_misses, miss_max);
	if (answered == BURST)
		printf("the resolver answered the %d new destinations in %.1f ms (%.1f us each)\n",
		       BURST, (t_done - t_burst) / 1e6, (t_done - t_burst) / 1e3 / BURST);
	else
		printf("the resolver answered %zu of %d new destinations in 5 s\n", answered, BURST);
	nexthop_resolver_stop();
	nexthop_cache_free(c);
	return 0;
}
