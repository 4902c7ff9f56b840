/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * bpf_batch.h - writes to one BPF hash map, held back and sent in batches: private to
 * bpf_sync.c, which decides when and in which order the maps' batches go (bpf_sync.h).
 *
 * Each key keeps only its last pending write (an update after a delete is the update, a
 * delete after an update the delete), in the order of those last writes; a key that the map
 * did not hold when its first write of the batch came (the caller says so: fresh) and whose
 * last write deletes it costs nothing (an SA added, then named by an out policy, within one
 * batch never enters sa_in). A flush sends the
 * deletes or the updates with BPF_MAP_DELETE_BATCH / BPF_MAP_UPDATE_BATCH (one system call
 * for up to BPF_BATCH_MAX keys; the kernel applies them in order, each as
 * bpf_map_update_elem would). A delete of a key the map does not hold is not an error (the
 * key may have been added and deleted within the batch). One thread at a time.
 */
#ifndef ESPER_BPF_BATCH_H
#define ESPER_BPF_BATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "tables/spd.h"

#define BPF_BATCH_MAX 4096	/* pending keys per map before the batch must be flushed */
_Static_assert(BPF_BATCH_MAX <= ESPER_MAX_SP - SPD_MAX_KEYS, "room for a batch's new keys");

struct bpf_batch {
	int fd;
	uint32_t key_size, value_size;
	uint32_t n;			/* writes pending, dead ones included */
	uint8_t *keys, *values;		/* BPF_BATCH_MAX of each, in order */
	uint8_t *state;			/* per write: BATCH_UPDATE, BATCH_DELETE, BATCH_DEAD,
					 * | BATCH_ABSENT: the map did not hold the key before */
	uint32_t *index;		/* open addressing, key -> write + 1 (0: empty) */
	uint8_t *scratch_keys, *scratch_values;	/* one kind of write, packed */
};

/* 0 or -ENOMEM. */
int bpf_batch_init(struct bpf_batch *b, int fd, uint32_t key_size, uint32_t value_size);
void bpf_batch_fini(struct bpf_batch *b);

/* A write: value NULL deletes key; fresh: the map does not hold key now, as far as the
 * writes made so far go. The caller flushes before the batch is full. */
void bpf_batch_put(struct bpf_batch *b, const void *key, const void *value, bool fresh);
static inline bool bpf_batch_full(const struct bpf_batch *b)
{
	return b->n >= BPF_BATCH_MAX;
}

static inline bool bpf_batch_empty(const struct bpf_batch *b)
{
	return b->n == 0;
}

/* Send the pending deletes, or the pending updates. Returns how many writes failed (each
 * failure is logged with its errno; the rest of the batch still goes). */
unsigned bpf_batch_flush_deletes(struct bpf_batch *b);
unsigned bpf_batch_flush_updates(struct bpf_batch *b);
void bpf_batch_reset(struct bpf_batch *b);	/* after both flushes: empty again */

#endif
