/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * htab.h - a hash table for one writer and lock-free readers (the SAD and SPD indexes, the
 * key history). Readers call htab_find from anywhere inside an RCU read side (rcu.h); the
 * writer (the command executor) inserts, removes and grows. Open addressing: a slot holds
 * an object's 64-bit hash and its pointer, so a lookup of a key that is not there reads one
 * cache line of slots and no object. Growing (or clearing out removed slots) fills a new
 * slot array and publishes it whole, so a reader never misses an entry that is in the table.
 * Objects are the caller's; the table stores pointers and their hashes.
 */
#ifndef ESPER_HTAB_H
#define ESPER_HTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hash.h"

struct htab;

/* Does object obj have key key? */
typedef bool (*htab_eq_fn)(const void *obj, const void *key);

struct htab *htab_new(htab_eq_fn eq);	/* NULL with errno set */
void htab_free(struct htab *h);	/* frees the table, not the objects; NULL is a no-op */

void *htab_find(const struct htab *h, uint64_t hash, const void *key);
/* For a table whose hash is a 32-bit key itself, stored in each object at key_offset (the
 * SPD's policy ids): the object with that key, with neither a hash function nor an equality
 * call. The key is compared on the object, never taken from the slot's hash alone: the
 * writer may reuse a removed slot between a reader's two loads, so that it sees the old
 * object with the new key's hash. */
void *htab_find_key32(const struct htab *h, uint32_t key, size_t key_offset);

/* Writer side. An object is inserted only if no object with its key is in the table. */
int htab_reserve(struct htab *h, size_t n);	/* room for n more: the next n inserts can't fail */
int htab_insert(struct htab *h, uint64_t hash, void *obj);
void *htab_remove(struct htab *h, uint64_t hash, const void *key);
void htab_foreach(const struct htab *h, void (*fn)(void *obj, void *arg), void *arg);
size_t htab_count(const struct htab *h);

#endif
