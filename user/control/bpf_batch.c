// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bpf_batch.c - see bpf_batch.h. Writes are appended in order; a key written again marks
 * its earlier write dead, so the live writes are each key's last, in the order they were
 * made. A small open-addressing index (twice BPF_BATCH_MAX slots, reset per batch) finds a
 * key's pending write. Called by bpf_sync.c only.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bpf_batch.h"
#include "lib/hash.h"
#include "lib/log.h"

enum { BATCH_UPDATE = 1, BATCH_DELETE, BATCH_DEAD, BATCH_KIND = 0x7f, BATCH_ABSENT = 0x80 };

#define INDEX_SLOTS (2 * BPF_BATCH_MAX)
#define LOGGED_FAILURES 3	/* per flush; the rest are only counted */

int bpf_batch_init(struct bpf_batch *b, int fd, uint32_t key_size, uint32_t value_size)
{
	memset(b, 0, sizeof(*b));
	b->fd = fd;
	b->key_size = key_size;
	b->value_size = value_size;
	b->keys = malloc((size_t)BPF_BATCH_MAX * key_size);
	b->values = malloc((size_t)BPF_BATCH_MAX * value_size);
	b->scratch_keys = malloc((size_t)BPF_BATCH_MAX * key_size);
	b->scratch_values = malloc((size_t)BPF_BATCH_MAX * value_size);
	b->state = malloc(BPF_BATCH_MAX);
	b->index = calloc(INDEX_SLOTS, sizeof(b->index[0]));
	if (!b->keys || !b->values || !b->scratch_keys || !b->scratch_values || !b->state ||
	    !b->index) {
		bpf_batch_fini(b);
		return -ENOMEM;
	}
	return 0;
}

void bpf_batch_fini(struct bpf_batch *b)
{
	free(b->keys);
	free(b->values);
	free(b->scratch_keys);
	free(b->scratch_values);
	free(b->state);
	free(b->index);
	memset(b, 0, sizeof(*b));
	b->fd = -1;
}

static uint8_t *key_at(const struct bpf_batch *b, uint32_t i)
{
	return b->keys + (size_t)i * b->key_size;
}

static uint8_t *value_at(const struct bpf_batch *b, uint32_t i)
{
	return b->values + (size_t)i * b->value_size;
}

/* The index slot of key: the one holding it, or the empty one where it goes. */
static uint32_t *slot_of(struct bpf_batch *b, const void *key)
{
	uint32_t i = (uint32_t)hash_bytes(key, b->key_size) & (INDEX_SLOTS - 1);

	while (b->index[i] && memcmp(key_at(b, b->index[i] - 1), key, b->key_size))
		i = (i + 1) & (INDEX_SLOTS - 1);
	return &b->index[i];
}

void bpf_batch_put(struct bpf_batch *b, const void *key, const void *value, bool fresh)
{
	uint32_t *slot = slot_of(b, key), i = b->n++;
	uint8_t absent = fresh ? BATCH_ABSENT : 0;

	if (*slot) {	/* the map's state before the batch is what the key's first write said */
		absent = b->state[*slot - 1] & BATCH_ABSENT;
		b->state[*slot - 1] = BATCH_DEAD | absent;
	}
	*slot = i + 1;
	memcpy(key_at(b, i), key, b->key_size);
	if (value)
		memcpy(value_at(b, i), value, b->value_size);
	b->state[i] = (uint8_t)((value ? BATCH_UPDATE : BATCH_DELETE) | absent);
}

/* Write i of the packed scratch arrays failed with err in the batch call: try it alone
 * (a kernel without batch operations for this map lands here for every key). */
static int one(const struct bpf_batch *b, bool del, uint32_t i)
{
	const uint8_t *k = b->scratch_keys + (size_t)i * b->key_size;
	int err = del ? bpf_map_delete_elem(b->fd, k)
		      : bpf_map_update_elem(b->fd, k, b->scratch_values + (size_t)i * b->value_size,
					    BPF_ANY);

	if (err && del && errno == ENOENT)
		return 0;	/* added and deleted within the batch, or never there */
	return err ? -errno : 0;
}

/* Send n packed writes of one kind; returns how many failed. */
static unsigned send_writes(const struct bpf_batch *b, bool del, uint32_t n)
{
	struct bpf_map_batch_opts opts = { .sz = sizeof(opts), .elem_flags = BPF_ANY };
	unsigned failed = 0;
	uint32_t done = 0;

	while (done < n) {
		__u32 count = n - done;
		uint8_t *k = b->scratch_keys + (size_t)done * b->key_size;
		int err = del ? bpf_map_delete_batch(b->fd, k, &count, &opts)
			      : bpf_map_update_batch(b->fd, k,
						     b->scratch_values +
							     (size_t)done * b->value_size,
						     &count, &opts);

		done += count;
		if (!err || done >= n)
			break;
		err = one(b, del, done);	/* the write the batch stopped at */
		if (err && ++failed <= LOGGED_FAILURES)
			log_warnx("BPF map (fd %d): %s of a key failed: %s", b->fd,
				  del ? "delete" : "update", strerror(-err));
		done++;
	}
	if (failed > LOGGED_FAILURES)
		log_warnx("BPF map (fd %d): %u writes failed in one batch", b->fd, failed);
	return failed;
}

static unsigned flush_kind(struct bpf_batch *b, uint8_t kind)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < b->n; i++) {
		if ((b->state[i] & BATCH_KIND) != kind)
			continue;
		if (kind == BATCH_DELETE && (b->state[i] & BATCH_ABSENT))
			continue;	/* never in the map: nothing to delete */
		memcpy(b->scratch_keys + (size_t)n * b->key_size, key_at(b, i), b->key_size);
		if (kind == BATCH_UPDATE)
			memcpy(b->scratch_values + (size_t)n * b->value_size, value_at(b, i),
			       b->value_size);
		n++;
	}
	return n ? send_writes(b, kind == BATCH_DELETE, n) : 0;
}

unsigned bpf_batch_flush_deletes(struct bpf_batch *b)
{
	return flush_kind(b, BATCH_DELETE);
}

unsigned bpf_batch_flush_updates(struct bpf_batch *b)
{
	return flush_kind(b, BATCH_UPDATE);
}

void bpf_batch_reset(struct bpf_batch *b)
{
	if (!b->n)
		return;
	memset(b->index, 0, INDEX_SLOTS * sizeof(b->index[0]));
	b->n = 0;
}
