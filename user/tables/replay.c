// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * replay.c - sliding anti-replay window (RFC 4303 3.4.3, Appendix A) as a ring of 64-bit
 * words (the RFC 6479 layout): advancing the window clears whole words, no bit shifting.
 * The ring has at least window/64 + 1 words, so a word is reused only for numbers that are
 * already left of the window.
 */
#include <errno.h>
#include <stdlib.h>

#include "replay.h"

/* A window positioned by seq: counts every number up to top as seen: after a restart
 * nobody knows which of them arrived. Words other than top's hold older numbers. */
static void mark_seen_up_to(struct replay *r, uint64_t top)
{
	for (uint32_t w = 0; w <= r->mask; w++)
		atomic_store(&r->bits[w], ~0ULL);
	atomic_store(&r->bits[(top >> 6) & r->mask], ~0ULL >> (63 - (top & 63)));
}

int replay_init(struct replay *r, uint32_t window, uint64_t top)
{
	uint32_t words = 2;

	atomic_store(&r->top, top);
	atomic_flag_clear(&r->lock);
	r->window = window;
	while (words < window / 64 + 1)
		words *= 2;
	r->mask = words - 1;
	r->bits = calloc(words, sizeof(r->bits[0]));
	if (!r->bits)
		return -ENOMEM;
	if (top)
		mark_seen_up_to(r, top);
	return 0;
}

void replay_fini(struct replay *r)
{
	free(r->bits);
	r->bits = NULL;
}

/* Move the top to seq, clearing the words that now describe numbers beyond the old top. */
static void advance(struct replay *r, uint64_t top, uint64_t seq)
{
	uint64_t from = (top >> 6) + 1, to = seq >> 6;

	if (to >= from && to - from > r->mask)
		from = to - r->mask;
	for (uint64_t w = from; w <= to && w >= from; w++)
		atomic_store_explicit(&r->bits[w & r->mask], 0, memory_order_relaxed);
	atomic_store_explicit(&r->top, seq, memory_order_release);
}

enum replay_verdict replay_update(struct replay *r, uint64_t seq)
{
	enum replay_verdict v;
	_Atomic uint64_t *word;

	while (atomic_flag_test_and_set_explicit(&r->lock, memory_order_acquire))
		;
	v = replay_check(r, seq);
	if (v == REPLAY_OK && r->window) {
		uint64_t top = replay_top(r);

		if (seq > top)
			advance(r, top, seq);
		word = &r->bits[(seq >> 6) & r->mask];
		atomic_store_explicit(word, atomic_load_explicit(word, memory_order_relaxed) |
						    1ULL << (seq & 63),
				      memory_order_relaxed);
	} else if (v == REPLAY_OK && seq > replay_top(r)) {
		atomic_store_explicit(&r->top, seq, memory_order_release);
	}
	atomic_flag_clear_explicit(&r->lock, memory_order_release);
	return v;
}
