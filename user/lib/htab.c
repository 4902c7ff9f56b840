// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * htab.c - see htab.h. Linear probing over an array of {hash, object} slots: an empty slot
 * (object NULL) ends a probe, a removed one (TOMB) does not. The writer fills a slot's hash,
 * then publishes its object with a release store; a reader loads the object (acquire), then
 * the hash, and compares keys only when the hashes agree (the writer reuses a removed slot
 * for another object, so the reader's key comparison is what decides). Live and removed
 * slots together stay under half the array: probes are short, and one always ends. When an
 * insert would pass that, a new array (twice the size, or the same size if removed slots
 * are the excess) is filled with the live slots, published with one pointer store, and the
 * old one freed after a grace period (rcu.h). Arrays of 2 MB and more are their own mapping
 * with transparent huge pages asked for (a lookup in a million slots is a TLB miss
 * otherwise).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "htab.h"
#include "rcu.h"

#define TOMB ((void *)1)	/* a removed slot: probes go on past it */
#define MIN_SLOTS 64
#define MAPPED_TABLE (2u << 20)	/* bytes from which a slot array is its own mapping */

struct slot {
	_Atomic uint64_t hash;
	void *_Atomic obj;	/* NULL: empty; TOMB: removed */
};

struct table {
	size_t mask;		/* slots - 1, a power of two minus one */
	struct slot slot[];
};

struct htab {
	struct table *_Atomic tab;
	htab_eq_fn eq;
	size_t count;		/* live slots */
	size_t tombs;		/* removed slots */
};

static size_t table_bytes(size_t nslots)
{
	return sizeof(struct table) + nslots * sizeof(struct slot);
}

static struct table *table_new(size_t nslots)
{
	size_t bytes = table_bytes(nslots);
	struct table *t;

	if (bytes < MAPPED_TABLE) {
		t = calloc(1, bytes);
	} else {
		t = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (t == MAP_FAILED)
			t = NULL;
		else
			madvise(t, bytes, MADV_HUGEPAGE);
	}
	if (t)
		t->mask = nslots - 1;
	return t;
}

static void table_free(void *p)
{
	struct table *t = p;
	size_t bytes = table_bytes(t->mask + 1);

	if (bytes < MAPPED_TABLE)
		free(t);
	else
		munmap(t, bytes);
}

struct htab *htab_new(htab_eq_fn eq)
{
	struct htab *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->eq = eq;
	h->tab = table_new(MIN_SLOTS);
	if (!h->tab) {
		free(h);
		errno = ENOMEM;
		return NULL;
	}
	return h;
}

void htab_free(struct htab *h)
{
	if (!h)
		return;
	table_free(atomic_load(&h->tab));
	free(h);
}

void *htab_find(const struct htab *h, uint64_t hash, const void *key)
{
	const struct table *t = atomic_load_explicit(&((struct htab *)h)->tab,
						     memory_order_acquire);

	for (size_t i = hash & t->mask;; i = (i + 1) & t->mask) {
		struct slot *s = (struct slot *)&t->slot[i];
		void *o = atomic_load_explicit(&s->obj, memory_order_acquire);

		if (!o)
			return NULL;
		if (o != TOMB && atomic_load_explicit(&s->hash, memory_order_relaxed) == hash &&
		    h->eq(o, key))
			return o;
	}
}

void *htab_find_key32(const struct htab *h, uint32_t key, size_t key_offset)
{
	const struct table *t = atomic_load_explicit(&((struct htab *)h)->tab,
						     memory_order_acquire);

	for (size_t i = key & t->mask;; i = (i + 1) & t->mask) {
		struct slot *s = (struct slot *)&t->slot[i];
		void *o = atomic_load_explicit(&s->obj, memory_order_acquire);

		if (!o)
			return NULL;
		if (o != TOMB && atomic_load_explicit(&s->hash, memory_order_relaxed) == key &&
		    *(const uint32_t *)((const char *)o + key_offset) == key)
			return o;
	}
}

/* Writer: put obj in the first free or removed slot of its probe. Returns whether the
 * slot was a removed one. */
static bool place(struct table *t, uint64_t hash, void *obj)
{
	for (size_t i = hash & t->mask;; i = (i + 1) & t->mask) {
		struct slot *s = &t->slot[i];
		void *o = atomic_load_explicit(&s->obj, memory_order_relaxed);

		if (o && o != TOMB)
			continue;
		atomic_store_explicit(&s->hash, hash, memory_order_relaxed);
		atomic_store_explicit(&s->obj, obj, memory_order_release);
		return o == TOMB;
	}
}

/* A new array of nslots with every live slot, published whole. */
static int rebuild(struct htab *h, size_t nslots)
{
	struct table *old = atomic_load(&h->tab), *t = table_new(nslots);

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i <= old->mask; i++) {
		void *o = atomic_load_explicit(&old->slot[i].obj, memory_order_relaxed);

		if (o && o != TOMB)
			place(t, atomic_load_explicit(&old->slot[i].hash, memory_order_relaxed), o);
	}
	h->tombs = 0;
	atomic_store_explicit(&h->tab, t, memory_order_release);
	rcu_defer(table_free, old);
	return 0;
}

int htab_reserve(struct htab *h, size_t n)
{
	struct table *t = atomic_load(&h->tab);
	size_t slots = t->mask + 1, need = h->count + n;

	if (h->count + h->tombs + n <= slots / 2)
		return 0;
	while (need > slots / 2)	/* the same size when removed slots are the excess */
		slots *= 2;
	return rebuild(h, slots);
}

int htab_insert(struct htab *h, uint64_t hash, void *obj)
{
	if (htab_reserve(h, 1) < 0)
		return -ENOMEM;
	if (place(atomic_load(&h->tab), hash, obj))
		h->tombs--;
	h->count++;
	return 0;
}

void *htab_remove(struct htab *h, uint64_t hash, const void *key)
{
	struct table *t = atomic_load(&h->tab);

	for (size_t i = hash & t->mask;; i = (i + 1) & t->mask) {
		struct slot *s = &t->slot[i];
		void *o = atomic_load_explicit(&s->obj, memory_order_relaxed);

		if (!o)
			return NULL;
		if (o == TOMB || atomic_load_explicit(&s->hash, memory_order_relaxed) != hash ||
		    !h->eq(o, key))
			continue;
		atomic_store_explicit(&s->obj, TOMB, memory_order_release);
		h->count--;
		h->tombs++;
		return o;
	}
}

void htab_foreach(const struct htab *h, void (*fn)(void *obj, void *arg), void *arg)
{
	struct table *t = atomic_load(&((struct htab *)h)->tab);

	for (size_t i = 0; i <= t->mask; i++) {
		void *o = atomic_load(&t->slot[i].obj);

		if (o && o != TOMB)
			fn(o, arg);
	}
}

size_t htab_count(const struct htab *h)
{
	return h->count;
}
