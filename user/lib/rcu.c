// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rcu.c - QSBR: reader slots, the epoch, and the writer's list of deferred frees.
 * An object unlinked at epoch E may be freed once every online reader has announced an
 * epoch > E, i.e. has been quiescent since the unlink.
 */
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>

#include "list.h"
#include "log.h"
#include "rcu.h"

#define OFFLINE UINT64_MAX

_Atomic uint64_t rcu_epoch = 1;
static struct rcu_reader readers[RCU_MAX_READERS];
static _Atomic bool reader_used[RCU_MAX_READERS];

struct deferred {
	struct list node;
	void (*fn)(void *);
	void *p;
	uint64_t epoch;
};

static struct list pending = LIST_INIT(pending);	/* oldest first; the writer's */

struct rcu_reader *rcu_register(void)
{
	for (int i = 0; i < RCU_MAX_READERS; i++) {
		bool expected = false;

		if (atomic_compare_exchange_strong(&reader_used[i], &expected, true)) {
			rcu_online(&readers[i]);
			return &readers[i];
		}
	}
	errno = ENOSPC;
	return NULL;
}

void rcu_unregister(struct rcu_reader *r)
{
	rcu_offline(r);
	atomic_store(&reader_used[r - readers], false);
}

void rcu_offline(struct rcu_reader *r)
{
	atomic_store_explicit(&r->seen, OFFLINE, memory_order_release);
}

void rcu_online(struct rcu_reader *r)
{
	atomic_store(&r->seen, atomic_load(&rcu_epoch));
	atomic_thread_fence(memory_order_seq_cst);
}

/* The oldest epoch an online reader may still be reading under. */
static uint64_t oldest_seen(void)
{
	uint64_t min = OFFLINE;

	atomic_thread_fence(memory_order_seq_cst);
	for (int i = 0; i < RCU_MAX_READERS; i++) {
		uint64_t s;

		if (!atomic_load_explicit(&reader_used[i], memory_order_acquire))
			continue;
		s = atomic_load_explicit(&readers[i].seen, memory_order_acquire);
		if (s < min)
			min = s;
	}
	return min;
}

void rcu_defer(void (*fn)(void *), void *p)
{
	struct deferred *d = malloc(sizeof(*d));

	if (!d) {
		/* No memory for the list: wait out a grace period right here instead. */
		uint64_t e = atomic_fetch_add(&rcu_epoch, 1);

		while (oldest_seen() <= e)
			sched_yield();
		fn(p);
		return;
	}
	d->fn = fn;
	d->p = p;
	d->epoch = atomic_fetch_add(&rcu_epoch, 1);
	list_add_tail(&pending, &d->node);
}

void rcu_reclaim(void)
{
	struct deferred *d;
	uint64_t min;

	if (list_empty(&pending))
		return;
	min = oldest_seen();
	while ((d = list_first(&pending, struct deferred, node)) && d->epoch < min) {
		list_del(&d->node);
		d->fn(d->p);
		free(d);
	}
}

void rcu_barrier(void)
{
	while (!list_empty(&pending)) {
		rcu_reclaim();
		if (!list_empty(&pending))
			sched_yield();
	}
}
