// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_nexthop.c - the next-hop caches (user/datapath/nexthop.c): a lookup never waits for
 * netlink (a miss answers -EAGAIN at once, resolver running or not, and a full request queue
 * too), the resolver's answer lands in the cache at the next nexthop_poll, a cached answer is
 * used again without a request, many new destinations at once never make a lookup wait nor
 * push out a destination in use. Uses the host's own routes (loopback), no root needed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>
#include <time.h>

#include "datapath/nexthop.h"
#include "test_util.h"

static uint8_t lo4[4] = { 127, 0, 0, 1 };

/* Poll the cache until dst is answered (at most ~2 s); the lookup's result. */
static int answered(struct nexthop_cache *c, const uint8_t *dst, struct nexthop *nh)
{
	int err = -EAGAIN;

	for (int i = 0; i < 400 && err == -EAGAIN; i++) {
		struct timespec ts = { 0, 5000000 };

		nexthop_poll(c);
		err = nexthop_lookup(c, AF_INET, dst, nh);
		if (err == -EAGAIN)
			nanosleep(&ts, NULL);
	}
	return err;
}

static void test_miss_does_not_wait(void **state)
{
	struct nexthop_cache *c = nexthop_cache_new(0, 16);
	struct nexthop nh;

	(void)state;
	assert_non_null(c);
	/* no resolver at all: the lookup still answers at once */
	assert_int_equal(nexthop_lookup(c, AF_INET, lo4, &nh), -EAGAIN);
	assert_int_equal(nexthop_lookup(c, AF_INET, lo4, &nh), -EAGAIN);
	nexthop_cache_free(c);
}

static void test_answer_lands_in_cache(void **state)
{
	struct nexthop_cache *c = nexthop_cache_new(0, 16);
	struct nexthop nh;

	(void)state;
	assert_non_null(c);
	assert_int_equal(nexthop_resolver_start(), 0);
	assert_int_equal(nexthop_lookup(c, AF_INET, lo4, &nh), -EAGAIN);
	assert_int_equal(answered(c, lo4, &nh), 0);
	assert_int_equal(nh.ifindex, 1);	/* lo */
	assert_false(nh.unicast);		/* a local route */
	/* cached: answered again without the resolver */
	nexthop_resolver_stop();
	assert_int_equal(nexthop_lookup(c, AF_INET, lo4, &nh), 0);
	nexthop_cache_free(c);
}

/* A burst of new destinations: every lookup answers at once (-EAGAIN), none waits for the
 * ones before it; all are answered later. */
static void test_burst_of_new_destinations(void **state)
{
	struct nexthop_cache *c = nexthop_cache_new(0, 4096);
	struct nexthop nh;
	unsigned pending = 0;

	(void)state;
	assert_non_null(c);
	assert_int_equal(nexthop_resolver_start(), 0);
	for (unsigned i = 0; i < 1000; i++) {
		uint8_t dst[4] = { 127, 1, (uint8_t)(i >> 8), (uint8_t)i };

		pending += nexthop_lookup(c, AF_INET, dst, &nh) == -EAGAIN;
	}
	assert_int_equal(pending, 1000);
	for (unsigned i = 0; i < 1000; i += 97) {
		uint8_t dst[4] = { 127, 1, (uint8_t)(i >> 8), (uint8_t)i };

		assert_int_equal(answered(c, dst, &nh), 0);
	}
	nexthop_resolver_stop();
	nexthop_cache_free(c);
}

/* A burst of new destinations (four times the cache) does not push out the one traffic is
 * using meanwhile: it never misses (its packets would go to the kernel). The direct-mapped
 * cache of before lost it to the newcomers of its slot. */
static void test_burst_keeps_busy_destination(void **state)
{
	struct nexthop_cache *c = nexthop_cache_new(0, 1024);
	struct nexthop nh;
	unsigned misses = 0;

	(void)state;
	assert_non_null(c);
	assert_int_equal(nexthop_resolver_start(), 0);
	assert_int_equal(answered(c, lo4, &nh), 0);
	for (unsigned i = 0; i < 4096; i++) {
		uint8_t dst[4] = { 127, 2, (uint8_t)(i >> 8), (uint8_t)i };

		assert_int_equal(nexthop_lookup(c, AF_INET, dst, &nh), -EAGAIN);
		if (i % 16 == 15) {
			misses += nexthop_lookup(c, AF_INET, lo4, &nh) != 0;
			nexthop_poll(c);
		}
	}
	assert_int_equal(misses, 0);
	nexthop_resolver_stop();
	nexthop_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_miss_does_not_wait),
		cmocka_unit_test(test_answer_lands_in_cache),
		cmocka_unit_test(test_burst_of_new_destinations),
		cmocka_unit_test(test_burst_keeps_busy_destination),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
