/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * list.h - an intrusive, circular, doubly linked list (the kernel's shape): the one list of
 * the userspace code (SAs and policies in insertion order, an SA's policies, the writer's
 * deferred frees). Not thread-safe: each list states its owner. Header-only.
 */
#ifndef ESPER_LIST_H
#define ESPER_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct list {
	struct list *prev, *next;
};

#define LIST_INIT(l) { &(l), &(l) }
#define list_entry(node, type, member) ((type *)((char *)(node) - offsetof(type, member)))
#define list_first(l, type, member) (list_empty(l) ? NULL : list_entry((l)->next, type, member))

/* for (type *it = first; it; it = next): safe against removing it inside the body. */
#define list_for_each(it, l, member)                                                       \
	for (struct list *_n = (l)->next, *_nn = _n->next; _n != (l) &&                    \
	     ((it) = list_entry(_n, __typeof__(*(it)), member), 1);                          \
	     _n = _nn, _nn = _n->next)

static inline void list_init(struct list *l)
{
	l->prev = l->next = l;
}

static inline bool list_empty(const struct list *l)
{
	return l->next == l;
}

/* Insert n after at (at: the list head for the front, a member to follow it). */
static inline void list_insert_after(struct list *at, struct list *n)
{
	n->prev = at;
	n->next = at->next;
	at->next->prev = n;
	at->next = n;
}

static inline void list_add_tail(struct list *l, struct list *n)
{
	list_insert_after(l->prev, n);
}

static inline void list_del(struct list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = n;
}

#endif
