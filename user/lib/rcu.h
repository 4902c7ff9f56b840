/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * rcu.h - quiescent-state-based reclamation (QSBR) for the tables the workers read while the
 * command executor edits them. Readers (workers) never lock: each registers once, calls
 * rcu_quiescent() between bursts (holding no table pointer), and goes offline around
 * blocking waits. The one writer unlinks an object, hands it to rcu_defer(), and it is freed
 * once every online reader has passed a quiescent state.
 */
#ifndef ESPER_RCU_H
#define ESPER_RCU_H

#include <stdatomic.h>
#include <stdint.h>

#define RCU_MAX_READERS 64

struct rcu_reader {
	_Atomic uint64_t seen;	/* last epoch seen quiescent; UINT64_MAX while offline */
	char pad[56];
};

struct rcu_reader *rcu_register(void);	/* a reader slot, online; NULL if all are taken */
void rcu_unregister(struct rcu_reader *r);
void rcu_offline(struct rcu_reader *r);	/* about to block: holds no pointer */
void rcu_online(struct rcu_reader *r);

extern _Atomic uint64_t rcu_epoch;

static inline void rcu_quiescent(struct rcu_reader *r)
{
	atomic_store_explicit(&r->seen, atomic_load_explicit(&rcu_epoch, memory_order_acquire),
			      memory_order_release);
}

/* Writer side (one thread). */
void rcu_defer(void (*fn)(void *), void *p);	/* free p with fn after a grace period */
void rcu_reclaim(void);				/* free what is safe now, without waiting */
void rcu_barrier(void);				/* wait until everything deferred is freed */

#endif
