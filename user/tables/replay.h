/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * replay.h - the anti-replay window of an inbound SA (RFC 4303 3.4.3 and Appendix A), with
 * extended sequence numbers (Appendix A2: the high half is inferred, never sent).
 *
 * Several workers may receive for one SA at once. replay_check is the lock-free pre-check
 * before the ICV (it may let through a packet that replay_update then refuses, never the
 * other way round); replay_update runs after the ICV verified, under the window's lock, and
 * re-checks the full 64-bit number before marking it.
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

#define REPLAY_DEFAULT_WINDOW	1024
#define REPLAY_MIN_WINDOW	32
#define REPLAY_MAX_WINDOW	65536

struct replay {
	_Atomic uint64_t top;		/* highest authenticated sequence number */
	_Atomic uint64_t *_Atomic bits;	/* bit (s % 64) of word (s / 64) & mask: s seen;
					 * NULL until the first update */
	uint32_t window;		/* packets; 0: anti-replay off */
	uint16_t mask;			/* bitmap words - 1 (a power of two minus one) */
	atomic_flag lock;
};

enum replay_verdict {
	REPLAY_OK = 0,
	REPLAY_DUP = -1,		/* seen already */
	REPLAY_OLD = -2,		/* left of the window */
	REPLAY_INVALID = -3,		/* sequence number 0, or before the first valid one */
	REPLAY_NOMEM = -4,		/* replay_update: no memory for the bitmap */
};

/* top = the highest number already seen (seq: option - 1). Allocates nothing. */
void replay_init(struct replay *r, uint32_t window, uint64_t top);
void replay_fini(struct replay *r);

/* The full sequence number of a received low half (RFC 4303 A2.2); seq_lo itself when !esn.
 * Returns false when the number would lie before the SA's first (high half would be < 0). */
bool replay_infer(const struct replay *r, uint32_t seq_lo, bool esn, uint64_t *seq);

enum replay_verdict replay_check(const struct replay *r, uint64_t seq);
enum replay_verdict replay_update(struct replay *r, uint64_t seq);
uint64_t replay_top(const struct replay *r);

#endif
