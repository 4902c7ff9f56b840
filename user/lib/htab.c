// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * htab.c - see htab.h. Buckets hold singly linked nodes {next, hash, obj}; inserts publish a
 * node at a bucket's head with a release store, removes unlink it and defer its free (rcu.c).
 * The table doubles when it holds more entries than buckets: a new array with new nodes is
 * filled, published with one pointer store, and the old one freed after a grace period.
 * Nodes come from a free list refilled in blocks, so an insert does not call malloc.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "htab.h"
#include "rcu.h"

struct node {
	struct node *_Atomic next;
	uint64_t hash;
	void *obj;
};

struct table {
	size_t mask;
	struct node *_Atomic bucket[];
};

struct htab {
	struct table *_Atomic tab;
	htab_eq_fn eq;
	size_t count;
	struct node *spare;	/* nodes ready for inserts, linked through next */
	size_t nspare;
};

#define MIN_BUCKETS 64

static struct table *table_new(size_t nbuckets)
{
	struct table *t = calloc(1, sizeof(*t) + nbuckets * sizeof(t->bucket[0]));

	if (t)
		t->mask = nbuckets - 1;
	return t;
}

static void table_free_nodes(void *p)
{
	struct table *t = p;

	for (size_t i = 0; i <= t->mask; i++) {
		struct node *n = atomic_load_explicit(&t->bucket[i], memory_order_relaxed);

		while (n) {
			struct node *next = atomic_load_explicit(&n->next, memory_order_relaxed);

			free(n);
			n = next;
		}
	}
	free(t);
}

struct htab *htab_new(htab_eq_fn eq)
{
	struct htab *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->eq = eq;
	h->tab = table_new(MIN_BUCKETS);
	if (!h->tab) {
		free(h);
		return NULL;
	}
	return h;
}

void htab_free(struct htab *h)
{
	if (!h)
		return;
	table_free_nodes(atomic_load(&h->tab));
	while (h->spare) {
		struct node *n = h->spare;

		h->spare = atomic_load_explicit(&n->next, memory_order_relaxed);
		free(n);
	}
	free(h);
}

void *htab_find(const struct htab *h, uint64_t hash, const void *key)
{
	struct table *t = atomic_load_explicit(&((struct htab *)h)->tab, memory_order_acquire);
	struct node *n = atomic_load_explicit(&t->bucket[hash & t->mask], memory_order_acquire);

	for (; n; n = atomic_load_explicit(&n->next, memory_order_acquire))
		if (n->hash == hash && h->eq(n->obj, key))
			return n->obj;
	return NULL;
}

void *htab_find_hash(const struct htab *h, uint64_t hash)
{
	struct table *t = atomic_load_explicit(&((struct htab *)h)->tab, memory_order_acquire);
	struct node *n = atomic_load_explicit(&t->bucket[hash & t->mask], memory_order_acquire);

	for (; n; n = atomic_load_explicit(&n->next, memory_order_acquire))
		if (n->hash == hash)
			return n->obj;
	return NULL;
}

static int spare_fill(struct htab *h, size_t want)
{
	while (h->nspare < want) {
		struct node *n = malloc(sizeof(*n));

		if (!n)
			return -ENOMEM;
		atomic_store_explicit(&n->next, h->spare, memory_order_relaxed);
		h->spare = n;
		h->nspare++;
	}
	return 0;
}

static struct node *spare_take(struct htab *h)
{
	struct node *n = h->spare;

	h->spare = atomic_load_explicit(&n->next, memory_order_relaxed);
	h->nspare--;
	return n;
}

/* Copy every entry into a table of nbuckets with fresh nodes, then publish it. */
static int grow(struct htab *h, size_t nbuckets)
{
	struct table *old = atomic_load(&h->tab), *t = table_new(nbuckets);

	if (!t || spare_fill(h, h->count + h->nspare) < 0) {
		free(t);
		return -ENOMEM;
	}
	for (size_t i = 0; i <= old->mask; i++) {
		struct node *o = atomic_load_explicit(&old->bucket[i], memory_order_relaxed);

		for (; o; o = atomic_load_explicit(&o->next, memory_order_relaxed)) {
			struct node *n = spare_take(h);
			size_t b = o->hash & t->mask;

			n->hash = o->hash;
			n->obj = o->obj;
			atomic_store_explicit(&n->next, t->bucket[b], memory_order_relaxed);
			atomic_store_explicit(&t->bucket[b], n, memory_order_relaxed);
		}
	}
	atomic_store_explicit(&h->tab, t, memory_order_release);
	rcu_defer(table_free_nodes, old);
	return 0;
}

int htab_reserve(struct htab *h, size_t n)
{
	struct table *t = atomic_load(&h->tab);
	size_t need = h->count + n, nb = t->mask + 1;

	while (nb < need)
		nb *= 2;
	if (nb != t->mask + 1 && grow(h, nb) < 0)
		return -ENOMEM;
	return spare_fill(h, n);
}

int htab_insert(struct htab *h, uint64_t hash, void *obj)
{
	struct table *t;
	struct node *n;
	size_t b;

	if (htab_reserve(h, 1) < 0)
		return -ENOMEM;
	t = atomic_load(&h->tab);
	n = spare_take(h);
	b = hash & t->mask;
	n->hash = hash;
	n->obj = obj;
	atomic_store_explicit(&n->next, atomic_load(&t->bucket[b]), memory_order_relaxed);
	atomic_store_explicit(&t->bucket[b], n, memory_order_release);
	h->count++;
	return 0;
}

void *htab_remove(struct htab *h, uint64_t hash, const void *key)
{
	struct table *t = atomic_load(&h->tab);
	struct node *_Atomic *link = &t->bucket[hash & t->mask];
	struct node *n;

	for (; (n = atomic_load(link)); link = &n->next) {
		if (n->hash != hash || !h->eq(n->obj, key))
			continue;
		atomic_store_explicit(link, atomic_load(&n->next), memory_order_release);
		h->count--;
		rcu_defer(free, n);
		return n->obj;
	}
	return NULL;
}

void htab_foreach(const struct htab *h, void (*fn)(void *obj, void *arg), void *arg)
{
	struct table *t = atomic_load(&((struct htab *)h)->tab);

	for (size_t i = 0; i <= t->mask; i++) {
		struct node *n = atomic_load(&t->bucket[i]);

		while (n) {
			struct node *next = atomic_load(&n->next);

			fn(n->obj, arg);
			n = next;
		}
	}
}
