// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ring.c - allocation of the SPSC rings of ring.h (the push and pop are inline there).
 * Called by live.c (one ring per worker) and pcap mode's caller.
 */
#include <errno.h>
#include <stdlib.h>

#include "ring.h"

struct ring *ring_new(uint32_t n, uint32_t rec_size)
{
	struct ring *r;
	uint32_t slots = 1;

	if (n == 0 || n > (1u << 20) || rec_size == 0) {
		errno = EINVAL;
		return NULL;
	}
	while (slots < n)
		slots <<= 1;
	r = aligned_alloc(64, sizeof(*r));
	if (!r)
		return NULL;
	memset(r, 0, sizeof(*r));
	r->slots = calloc(slots, rec_size);
	if (!r->slots) {
		free(r);
		return NULL;
	}
	r->mask = slots - 1;
	r->rec_size = rec_size;
	return r;
}

void ring_free(struct ring *r)
{
	if (!r)
		return;
	free(r->slots);
	free(r);
}
