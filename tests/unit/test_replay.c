// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_replay.c - the anti-replay window (replay.c): a numbered table of steps across the
 * window edges, the ESN high-half inference of RFC 4303 Appendix A2 around 2^32 (both
 * cases A and B), the start of an SA, the disabled window, and two threads updating one
 * window at once without losing or doubling a number.
 */
#include <pthread.h>

#include "tables/replay.h"
#include "test_util.h"

enum { OK = REPLAY_OK, DUP = REPLAY_DUP, OLD = REPLAY_OLD, INV = REPLAY_INVALID };

struct step {
	uint64_t seq;
	int want;	/* replay_update's verdict */
	uint64_t top;	/* the top afterwards */
};

static void run_steps(uint32_t window, uint64_t start_top, const struct step *s, size_t n)
{
	struct replay r;

	replay_init(&r, window, start_top);
	for (size_t i = 0; i < n; i++) {
		int pre = replay_check(&r, s[i].seq);
		int got = replay_update(&r, s[i].seq);

		if (got != s[i].want || pre != s[i].want || replay_top(&r) != s[i].top)
			fail_msg("step %zu: seq %#llx: got %d (pre-check %d) top %#llx, want %d top %#llx",
				 i + 1, (unsigned long long)s[i].seq, got, pre,
				 (unsigned long long)replay_top(&r), s[i].want,
				 (unsigned long long)s[i].top);
	}
	replay_fini(&r);
}

/* A window past the largest is the largest, never cut to its low bits (131072 would be 0:
 * anti-replay off). */
static void test_window_above_max(void **state)
{
	struct replay r;

	(void)state;
	replay_init(&r, 2 * REPLAY_MAX_WINDOW, 0);
	assert_int_equal(r.window, REPLAY_MAX_WINDOW);
	assert_int_equal(replay_update(&r, 7), REPLAY_OK);
	assert_int_equal(replay_check(&r, 7), REPLAY_DUP);
	assert_int_equal(replay_update(&r, 7), REPLAY_DUP);
	replay_fini(&r);
}

/* Every window the parser allows, not only multiples of 64: a window that does not start on a
 * word boundary spans (window - 1) / 64 + 2 words; with one word fewer in the ring, the word
 * of the top clears the window's oldest and its numbers are taken again (replay:100 took
 * 29-63 again at top 128). Numbers in order, each time the window's oldest seen again. */
static void test_every_window_size(void **state)
{
	static const uint32_t windows[] = { 32, 63, 64, 65, 100, 127, 128, 129, 200, 250, 255,
					    500, 511, 1000, 1023, 1025, 8128, 8191, 65535, 65536 };

	(void)state;
	for (size_t i = 0; i < sizeof(windows) / sizeof(windows[0]); i++) {
		uint32_t w = windows[i];
		struct replay r;

		replay_init(&r, w, 0);
		for (uint64_t top = 1; top <= 2 * (uint64_t)w + 130; top++) {
			uint64_t oldest = top > w ? top - w + 1 : 1;

			assert_int_equal(replay_update(&r, top), REPLAY_OK);
			if (replay_check(&r, oldest) != REPLAY_DUP)
				fail_msg("window %u, top %llu: %llu would be taken again", w,
					 (unsigned long long)top, (unsigned long long)oldest);
		}
		replay_fini(&r);
	}
}

static void test_window_edges(void **state)
{
	static const struct step steps[] = {
		/* 1 */ { 0, INV, 0 },
		/* 2 */ { 1, OK, 1 },
		/* 3 */ { 1, DUP, 1 },
		/* 4 */ { 64, OK, 64 },
		/* 5 */ { 63, OK, 64 },
		/* 6 */ { 65, OK, 65 },
		/* 7 */ { 1088, OK, 1088 },	/* 1088 - 1024 + 1 = 65 is the bottom */
		/* 8 */ { 64, OLD, 1088 },
		/* 9 */ { 65, DUP, 1088 },	/* still inside, seen at step 6 */
		/* 10 */ { 66, OK, 1088 },
		/* 11 */ { 66, DUP, 1088 },
		/* 12 */ { 1087, OK, 1088 },
		/* 13 */ { 5000, OK, 5000 },	/* a jump past the whole ring */
		/* 14 */ { 1088, OLD, 5000 },
		/* 15 */ { 3977, OK, 5000 },	/* the bottom: 5000 - 1023 */
		/* 16 */ { 3976, OLD, 5000 },
		/* 17 */ { 4032, OK, 5000 },	/* word boundaries */
		/* 18 */ { 4031, OK, 5000 },
		/* 19 */ { 4032, DUP, 5000 },
		/* 20 */ { 5001, OK, 5001 },
		/* 21 */ { 5000, DUP, 5001 },
		/* 22 */ { 5064, OK, 5064 },	/* same word range again: nothing lost */
		/* 23 */ { 5001, DUP, 5064 },
		/* 24 */ { 4031, OLD, 5064 },	/* 5064 - 4031 >= 1024 */
		/* 25 */ { 4041, OK, 5064 },	/* the bottom, 5064 - 1023 */
		/* 26 */ { 4040, OLD, 5064 },
	};

	(void)state;
	run_steps(1024, 0, steps, sizeof(steps) / sizeof(steps[0]));
}

/* seq:100 on an inbound SA: 99 is the highest seen, and so is everything below it. */
static void test_small_window_and_seq_start(void **state)
{
	static const struct step steps[] = {
		{ 99, DUP, 99 }, { 90, DUP, 99 }, { 100, OK, 100 }, { 110, OK, 110 },
		{ 105, OK, 110 },	/* above the old top: never seen */
		{ 79, DUP, 110 },	/* the bottom of a 32 window, from before seq: */
		{ 78, OLD, 110 }, { 105, DUP, 110 },
	};

	(void)state;
	run_steps(32, 99, steps, sizeof(steps) / sizeof(steps[0]));
}

static void test_disabled_window(void **state)
{
	static const struct step steps[] = {
		{ 5, OK, 5 }, { 5, OK, 5 }, { 1, OK, 5 }, { 0, INV, 5 }, { 9, OK, 9 },
	};

	(void)state;
	run_steps(0, 0, steps, sizeof(steps) / sizeof(steps[0]));
}

struct infer_case {
	uint64_t top;
	uint32_t lo;
	bool ok;
	uint64_t want;
};

static void test_esn_inference(void **state)
{
	static const struct infer_case cases[] = {
		/* case A: the window lies in one subspace (Tl >= W - 1) */
		{ 0x100000400ULL, 0x401, true, 0x100000401ULL },
		{ 0x100000400ULL, 0x1, true, 0x100000001ULL },	/* bottom */
		{ 0x100000400ULL, 0x0, true, 0x200000000ULL },	/* below bottom: next subspace */
		{ 0xfffffffeULL, 0xffffffff, true, 0xffffffffULL },
		{ 0xffffffffULL, 0x0, true, 0x100000000ULL },	/* crossing 2^32 */
		{ 0xffffffffULL, 0x5, true, 0x100000005ULL },
		/* case B: the window spans two subspaces (Tl < W - 1) */
		{ 0x100000004ULL, 0xfffffffe, true, 0xfffffffeULL },	/* just before 2^32 */
		{ 0x100000004ULL, 0x3, true, 0x100000003ULL },
		{ 0x100000004ULL, 0x10, true, 0x100000010ULL },
		{ 0x100000004ULL, 0xfffffc05, true, 0xfffffc05ULL },	/* the bottom */
		{ 0x100000004ULL, 0xfffffc04, true, 0x1fffffc04ULL },	/* below: far ahead */
		/* the start of an SA: nothing before 1 */
		{ 0x0ULL, 0xffffffff, false, 0 },
		{ 0x0ULL, 0x1, true, 0x1ULL },
		{ 0x5ULL, 0xfffffc10, false, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct replay r;
		uint64_t seq = 0;
		bool ok;

		replay_init(&r, 1024, cases[i].top);
		ok = replay_infer(&r, cases[i].lo, true, &seq);
		if (ok != cases[i].ok || (ok && seq != cases[i].want))
			fail_msg("case %zu: top %#llx lo %#x: ok %d seq %#llx", i + 1,
				 (unsigned long long)cases[i].top, cases[i].lo, ok,
				 (unsigned long long)seq);
		assert_true(replay_infer(&r, cases[i].lo, false, &seq));
		assert_int_equal(seq, cases[i].lo);
		replay_fini(&r);
	}
}

/* reorder_max: the largest distance below the top of an accepted packet; refused packets
 * (duplicates, too old) and packets above the top leave it alone. */
static void test_reorder_max(void **state)
{
	static const struct {
		uint64_t seq;
		int want;
		uint32_t reorder_max;
	} steps[] = {
		{ 10, OK, 0 }, { 11, OK, 0 }, { 5, OK, 6 }, { 9, OK, 6 }, { 5, DUP, 6 },
		{ 100, OK, 6 }, { 1, OK, 99 }, { 2000, OK, 99 },
		{ 900, OLD, 99 },	/* 1100 below: outside the window of 1024 */
		{ 977, OK, 1023 },	/* the bottom */
		{ 1000, OK, 1023 }, { 1999, OK, 1023 },
	};
	struct replay r;

	(void)state;
	replay_init(&r, 1024, 0);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		int got = replay_update(&r, steps[i].seq);

		if (got != steps[i].want || replay_reorder_max(&r) != steps[i].reorder_max)
			fail_msg("step %zu: seq %llu: got %d reorder_max %u, want %d and %u", i + 1,
				 (unsigned long long)steps[i].seq, got, replay_reorder_max(&r),
				 steps[i].want, steps[i].reorder_max);
	}
	replay_fini(&r);
	/* The largest window and distance. */
	replay_init(&r, REPLAY_MAX_WINDOW, 0);
	assert_int_equal(r.window, 65536);
	assert_int_equal(replay_update(&r, 70000), OK);
	assert_int_equal(replay_update(&r, 70000 - 65536), OLD);
	assert_int_equal(replay_update(&r, 70000 - 65535), OK);
	assert_int_equal(replay_reorder_max(&r), 65535);
	replay_fini(&r);
	/* With anti-replay off nothing is tracked. */
	replay_init(&r, 0, 0);
	assert_int_equal(replay_update(&r, 50), OK);
	assert_int_equal(replay_update(&r, 3), OK);
	assert_int_equal(replay_reorder_max(&r), 0);
	replay_fini(&r);
}

/* The window of an SA given none: 1024 with one worker, 8128 more per further worker, at
 * most the largest window; two workers' bitmap is 1 KB. */
static void test_default_window(void **state)
{
	static const uint32_t want[] = { 1024, 1024, 8128, 16256, 24384, 32512, 40640, 48768,
					 56896, 65024, 65536, 65536 };
	struct replay r;

	(void)state;
	for (unsigned n = 0; n < sizeof(want) / sizeof(want[0]); n++)
		assert_int_equal(replay_default_window(n), want[n]);
	assert_int_equal(replay_default_window(64), REPLAY_MAX_WINDOW);
	assert_int_equal(replay_default_window(~0u), REPLAY_MAX_WINDOW);
	replay_init(&r, replay_default_window(2), 0);
	assert_int_equal(r.mask + 1, 128);
	replay_fini(&r);
}

/* --- two threads, one window ----------------------------------------------------------- */

#define N_BLOCKS 400
#define BLOCK 1024

struct worker_arg {
	struct replay *r;
	pthread_barrier_t *barrier;
	unsigned parity;
	unsigned accepted, refused;
};

/* Both threads walk the same blocks of numbers in step (a barrier per block keeps their
 * skew below the window), one the odd numbers and one the even, each number twice. */
static void *worker(void *p)
{
	struct worker_arg *a = p;

	for (uint64_t b = 0; b < N_BLOCKS; b++) {
		pthread_barrier_wait(a->barrier);
		for (uint64_t s = b * BLOCK + 1 + a->parity; s <= (b + 1) * BLOCK; s += 2) {
			if (replay_update(a->r, s) == REPLAY_OK)
				a->accepted++;
			if (replay_update(a->r, s) != REPLAY_OK)
				a->refused++;
		}
	}
	return NULL;
}

static void test_concurrent_updates(void **state)
{
	struct replay r;
	pthread_barrier_t barrier;
	struct worker_arg a[2] = { { &r, &barrier, 0, 0, 0 }, { &r, &barrier, 1, 0, 0 } };
	pthread_t t[2];

	(void)state;
	replay_init(&r, 4096, 0);
	pthread_barrier_init(&barrier, NULL, 2);
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, worker, &a[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&barrier);
	/* No number lost as old, none accepted twice. */
	assert_int_equal(a[0].accepted + a[1].accepted, N_BLOCKS * BLOCK);
	assert_int_equal(a[0].refused + a[1].refused, N_BLOCKS * BLOCK);
	assert_int_equal(replay_top(&r), N_BLOCKS * BLOCK);
	replay_fini(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_edges),
		cmocka_unit_test(test_every_window_size),
		cmocka_unit_test(test_small_window_and_seq_start),
		cmocka_unit_test(test_disabled_window),
		cmocka_unit_test(test_esn_inference),
		cmocka_unit_test(test_reorder_max),
		cmocka_unit_test(test_default_window),
		cmocka_unit_test(test_window_above_max),
		cmocka_unit_test(test_concurrent_updates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
