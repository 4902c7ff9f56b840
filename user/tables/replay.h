/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * replay.h - the anti-replay window of an inbound SA (RFC 4303 3.4.3 and Appendix A), with
 * extended sequence numbers (Appendix A2: the high half is inferred, never sent).
 *
 * Several workers may receive for one SA at once. replay_check is the lock-free pre-check
 * before the ICV (it may let through a packet that replay_update then refuses, never the
 * other way round); replay_update runs after the ICV verified, under the window's lock, and
 * re-checks the full 64-bit number before marking it. It also keeps the largest distance
 * below the top of a packet it accepted (reorder_max: the window that traffic needed), a
 * store under the lock only when a packet arrives out of order.
 *
 * The bitmap is made by the first replay_update that needs it (under the lock): until then
 * every number up to top counts as seen and none above it, which is what a new window says.
 * A million SAs that never receive cost no bitmap.
 */
#ifndef ESPER_REPLAY_H
#define ESPER_REPLAY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define REPLAY_DEFAULT_WINDOW	1024	/* the default with one worker */
/* The default adds this per worker beyond the first: 127 words of 64 bits, so that with the
 * word of the top two workers' bitmap is 128 words (1 KB; 8192 would take 2 KB). */
#define REPLAY_WORKER_WINDOW	8128
#define REPLAY_MIN_WINDOW	32
#define REPLAY_MAX_WINDOW	65536
#define REPLAY_WINDOW_AUTO	UINT32_MAX	/* a window not given: replay_default_window */

struct replay {
	_Atomic uint64_t top;		/* highest authenticated sequence number */
	_Atomic uint64_t *_Atomic bits;	/* bit (s % 64) of word (s / 64) & mask: s seen;
					 * NULL until the first update */
	uint32_t window : 17;		/* packets; 0: anti-replay off */
	uint32_t mask : 15;		/* bitmap words - 1 (a power of two minus one) */
	_Atomic uint16_t reorder_max;	/* largest top - seq accepted (< window) */
	atomic_flag lock;
};

/* It shares a cache line with the SA's counters (sad.h). */
_Static_assert(sizeof(struct replay) <= 24, "struct replay grew");

enum replay_verdict {
	REPLAY_OK = 0,
	REPLAY_DUP = -1,		/* seen already */
	REPLAY_OLD = -2,		/* left of the window */
	REPLAY_INVALID = -3,		/* sequence number 0, or before the first valid one */
	REPLAY_NOMEM = -4,		/* replay_update: no memory for the bitmap */
};

/* The window of an SA that was given none, on a host with `workers` workers (-q): 1024 for
 * one; REPLAY_WORKER_WINDOW for each worker beyond the first, at most REPLAY_MAX_WINDOW. A
 * peer that sends one SA from several workers delivers it out of order (a worker descheduled
 * after taking its sequence numbers falls behind the others), and so does a host that
 * receives it on several queues; BENCHMARKS.md ("Several queues") has the measurements. */
uint32_t replay_default_window(unsigned workers);

/* top = the highest number already seen (seq: option - 1). Allocates nothing. */
void replay_init(struct replay *r, uint32_t window, uint64_t top);
void replay_fini(struct replay *r);

enum replay_verdict replay_update(struct replay *r, uint64_t seq);

/* The lock-free side, inline: every inbound packet goes through it. */
static inline uint64_t replay_top(const struct replay *r)
{
	return atomic_load_explicit(&((struct replay *)r)->top, memory_order_relaxed);
}

/* The full sequence number of a received low half (RFC 4303 A2.2); seq_lo itself when !esn.
 * Returns false when the number would lie before the SA's first (high half would be < 0). */
static inline bool replay_infer(const struct replay *r, uint32_t seq_lo, bool esn,
				uint64_t *seq)
{
	uint64_t top;
	uint32_t th, tl, w, bottom;

	if (!esn) {
		*seq = seq_lo;
		return true;
	}
	top = replay_top(r);
	th = (uint32_t)(top >> 32);
	tl = (uint32_t)top;
	w = r->window ? r->window : REPLAY_DEFAULT_WINDOW;
	bottom = tl - w + 1;
	if (tl >= w - 1) {
		if (seq_lo < bottom)	/* case A: the window is in one subspace */
			th++;
	} else if (seq_lo >= bottom) {	/* case B: the window spans two subspaces */
		if (th == 0)
			return false;
		th--;
	}
	*seq = (uint64_t)th << 32 | seq_lo;
	return true;
}

static inline enum replay_verdict replay_check(const struct replay *r, uint64_t seq)
{
	/* acquire: a top that a bitmap made it move comes with the bitmap */
	uint64_t top = atomic_load_explicit(&((struct replay *)r)->top, memory_order_acquire);
	_Atomic uint64_t *bits;
	uint64_t word;

	if (seq == 0)
		return REPLAY_INVALID;
	if (!r->window || seq > top)
		return REPLAY_OK;
	if (top - seq >= r->window)
		return REPLAY_OLD;
	/* without a bitmap every number up to top is seen */
	bits = atomic_load_explicit(&((struct replay *)r)->bits, memory_order_acquire);
	if (!bits)
		return REPLAY_DUP;
	word = atomic_load_explicit(&bits[(seq >> 6) & r->mask], memory_order_relaxed);
	return word >> (seq & 63) & 1 ? REPLAY_DUP : REPLAY_OK;
}

/* The largest distance below the top of an accepted packet: a window of reorder_max + 1
 * would have accepted everything this one accepted. */
uint32_t replay_reorder_max(const struct replay *r);

#endif
