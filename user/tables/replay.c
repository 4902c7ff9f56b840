// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * replay.c - sliding anti-replay window (RFC 4303 3.4.3, Appendix A) as a ring of 64-bit
 * words (the RFC 6479 layout): advancing the window clears whole words, no bit shifting.
 * A window that does not start on a word boundary spans (window - 1) / 64 + 2 words; the
 * ring has at least that many, so a word is reused only for numbers already left of it.
 */
#include <errno.h>
#include <stdlib.h>

#include "replay.h"

/* A window positioned by seq: counts every number up to top as seen: after a restart
 * nobody knows which of them arrived. Words other than top's hold older numbers. */
static void mark_seen_up_to(const struct replay *r, _Atomic uint64_t *bits, uint64_t top)
{
	for (uint32_t w = 0; w <= r->mask; w++)
		atomic_store_explicit(&bits[w], ~0ULL, memory_order_relaxed);
	atomic_store_explicit(&bits[(top >> 6) & r->mask], ~0ULL >> (63 - (top & 63)),
			      memory_order_relaxed);
}

uint32_t replay_default_window(unsigned workers)
{
	uint64_t w = (uint64_t)REPLAY_WORKER_WINDOW * (workers - 1);

	if (workers <= 1)
		return REPLAY_DEFAULT_WINDOW;
	return w < REPLAY_MAX_WINDOW ? (uint32_t)w : REPLAY_MAX_WINDOW;
}

void replay_init(struct replay *r, uint32_t window, uint64_t top)
{
	uint32_t words = 2;

	atomic_store(&r->top, top);
	atomic_flag_clear(&r->lock);
	atomic_store(&r->reorder_max, 0);
	if (window > REPLAY_MAX_WINDOW)	/* the parser allows no more: never cut to 17 bits */
		window = REPLAY_MAX_WINDOW;
	r->window = window;
	while (window && words < (window - 1) / 64 + 2)
		words *= 2;
	r->mask = (words - 1) & 0x7fff;	/* at most 2048 words (REPLAY_MAX_WINDOW) */
	atomic_store(&r->bits, NULL);
}

void replay_fini(struct replay *r)
{
	free(atomic_exchange(&r->bits, NULL));
}

/* Under the lock: the bitmap, made now if it was not (as the window stands: top and
 * everything below it seen). */
static _Atomic uint64_t *bitmap(struct replay *r)
{
	_Atomic uint64_t *bits = atomic_load_explicit(&r->bits, memory_order_relaxed);
	uint64_t top = replay_top(r);

	if (bits)
		return bits;
	bits = calloc(r->mask + 1, sizeof(bits[0]));
	if (!bits)
		return NULL;
	if (top)
		mark_seen_up_to(r, bits, top);
	atomic_store_explicit(&r->bits, bits, memory_order_release);
	return bits;
}

uint32_t replay_reorder_max(const struct replay *r)
{
	return atomic_load_explicit(&((struct replay *)r)->reorder_max, memory_order_relaxed);
}

/* Move the top to seq, clearing the words that now describe numbers beyond the old top. */
static void advance(struct replay *r, _Atomic uint64_t *bits, uint64_t top, uint64_t seq)
{
	uint64_t from = (top >> 6) + 1, to = seq >> 6;

	if (to >= from && to - from > r->mask)
		from = to - r->mask;
	for (uint64_t w = from; w <= to && w >= from; w++)
		atomic_store_explicit(&bits[w & r->mask], 0, memory_order_relaxed);
	atomic_store_explicit(&r->top, seq, memory_order_release);
}

/* Under the lock: only the writer of reorder_max. distance < window <= 65536. */
static void note_reorder(struct replay *r, uint64_t distance)
{
	if (distance > atomic_load_explicit(&r->reorder_max, memory_order_relaxed))
		atomic_store_explicit(&r->reorder_max, (uint16_t)distance, memory_order_relaxed);
}

enum replay_verdict replay_update(struct replay *r, uint64_t seq)
{
	enum replay_verdict v;
	_Atomic uint64_t *word, *bits;

	while (atomic_flag_test_and_set_explicit(&r->lock, memory_order_acquire))
		;
	v = replay_check(r, seq);
	if (v == REPLAY_OK && r->window && !(bits = bitmap(r))) {
		v = REPLAY_NOMEM;
	} else if (v == REPLAY_OK && r->window) {
		uint64_t top = replay_top(r);

		if (seq > top)
			advance(r, bits, top, seq);
		else
			note_reorder(r, top - seq);
		word = &bits[(seq >> 6) & r->mask];
		atomic_store_explicit(word, atomic_load_explicit(word, memory_order_relaxed) |
						    1ULL << (seq & 63),
				      memory_order_relaxed);
	} else if (v == REPLAY_OK && seq > replay_top(r)) {
		atomic_store_explicit(&r->top, seq, memory_order_release);
	}
	atomic_flag_clear_explicit(&r->lock, memory_order_release);
	return v;
}
