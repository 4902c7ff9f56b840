// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_htab.c - the lock-free hash table (user/lib/htab.c) against a plain array model:
 * random inserts, removes and lookups (fixed seed) through growth and the clearing out of
 * removed slots, with keys chosen to collide (a hash of few bits) as well as spread; and a
 * reader thread that must find every key it knows is in the table while the writer grows,
 * fills removed slots and removes other keys under it (objects freed after a grace period,
 * rcu.h). The table's own file is included (not linked) so that a test can set a slot
 * to what a reader sees between its two loads when the writer reuses a removed slot.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "lib/htab.c"
#include "lib/rcu.h"
#include "test_util.h"

struct obj {
	uint32_t key;
	uint32_t gen;
};

static bool obj_eq(const void *o, const void *k)
{
	return ((const struct obj *)o)->key == *(const uint32_t *)k;
}

static uint64_t hash_of(uint32_t key, bool collide)
{
	return collide ? hash_u32(key) & 0x0f0000000000000fULL : hash_u32(key);
}

#define KEYS 20000

/* Random operations on keys 0..KEYS-1, compared with a model after each. */
static void random_ops(bool collide)
{
	static struct obj *model[KEYS];
	uint64_t seed = collide ? 0xc011 : 0x5eed;
	struct htab *h = htab_new(obj_eq);
	size_t live = 0;

	assert_non_null(h);
	memset(model, 0, sizeof(model));
	for (unsigned step = 0; step < 200000; step++) {
		uint32_t k = (uint32_t)(test_rand(&seed) % KEYS);
		uint64_t hash = hash_of(k, collide);
		unsigned what = (unsigned)(test_rand(&seed) % 8);
		struct obj *o = htab_find(h, hash, &k);

		assert_ptr_equal(o, model[k]);
		if (what < 4 && !model[k]) {	/* insert */
			o = malloc(sizeof(*o));
			assert_non_null(o);
			*o = (struct obj){ .key = k, .gen = step };
			assert_int_equal(htab_insert(h, hash, o), 0);
			model[k] = o;
			live++;
		} else if (what < 7 && model[k]) {	/* remove */
			assert_ptr_equal(htab_remove(h, hash, &k), model[k]);
			rcu_defer(free, model[k]);
			model[k] = NULL;
			live--;
		}
		assert_int_equal(htab_count(h), live);
		if (step % 1000 == 0)
			rcu_reclaim();
	}
	for (uint32_t k = 0; k < KEYS; k++)
		assert_ptr_equal(htab_find(h, hash_of(k, collide), &k), model[k]);
	/* a key never inserted, and the removal of one not there */
	{
		uint32_t k = KEYS + 1;

		assert_null(htab_find(h, hash_of(k, collide), &k));
		assert_null(htab_remove(h, hash_of(k, collide), &k));
	}
	htab_free(h);
	for (uint32_t k = 0; k < KEYS; k++)
		free(model[k]);
	rcu_barrier();
}

static void test_random_spread(void **state)
{
	(void)state;
	random_ops(false);
}

static void test_random_colliding(void **state)
{
	(void)state;
	random_ops(true);
}

/* htab_reserve, then as many inserts: all succeed. */
static void test_reserve(void **state)
{
	struct htab *h = htab_new(obj_eq);
	static struct obj objs[5000];

	(void)state;
	assert_int_equal(htab_reserve(h, 5000), 0);
	for (uint32_t k = 0; k < 5000; k++) {
		objs[k].key = k;
		assert_int_equal(htab_insert(h, hash_u32(k), &objs[k]), 0);
	}
	assert_int_equal(htab_count(h), 5000);
	for (uint32_t k = 0; k < 5000; k++)
		assert_ptr_equal(htab_remove(h, hash_u32(k), &k), &objs[k]);
	assert_int_equal(htab_count(h), 0);
	htab_free(h);
	rcu_barrier();
}

/* --- a reader while the writer works ------------------------------------------------------ */

#define STABLE 512		/* keys 0..STABLE-1: always in the table */
#define CHURN 60000		/* keys STABLE..STABLE+CHURN-1: come and go */

static struct htab *shared;
static _Atomic bool done;
static _Atomic unsigned long misses, lookups;

static void *reader(void *arg)
{
	struct rcu_reader *r = rcu_register();
	uint64_t seed = 0x7ead;

	(void)arg;
	assert_non_null(r);
	while (!atomic_load(&done)) {
		for (int i = 0; i < 64; i++) {
			uint32_t k = (uint32_t)(test_rand(&seed) % STABLE);
			struct obj *o = htab_find(shared, hash_u32(k), &k);

			if (!o || o->key != k)
				atomic_fetch_add(&misses, 1);
			atomic_fetch_add_explicit(&lookups, 1, memory_order_relaxed);
		}
		rcu_quiescent(r);
	}
	rcu_unregister(r);
	return NULL;
}

static void test_reader_never_misses(void **state)
{
	static struct obj stable[STABLE];
	static struct obj *churn[CHURN];
	uint64_t seed = 0xc4a2;
	pthread_t t;

	(void)state;
	shared = htab_new(obj_eq);
	assert_non_null(shared);
	for (uint32_t k = 0; k < STABLE; k++) {
		stable[k].key = k;
		assert_int_equal(htab_insert(shared, hash_u32(k), &stable[k]), 0);
	}
	assert_int_equal(pthread_create(&t, NULL, reader, NULL), 0);
	for (int round = 0; round < 3; round++) {
		for (uint32_t i = 0; i < CHURN; i++) {	/* grow: tens of thousands in */
			uint32_t k = STABLE + i;

			churn[i] = malloc(sizeof(*churn[i]));
			assert_non_null(churn[i]);
			churn[i]->key = k;
			assert_int_equal(htab_insert(shared, hash_u32(k), churn[i]), 0);
		}
		for (uint32_t i = 0; i < CHURN; i++) {	/* and out again, in random order */
			uint32_t j = (uint32_t)(test_rand(&seed) % CHURN), k;

			if (!churn[j])
				continue;
			k = churn[j]->key;
			assert_ptr_equal(htab_remove(shared, hash_u32(k), &k), churn[j]);
			rcu_defer(free, churn[j]);
			churn[j] = NULL;
			rcu_reclaim();
		}
		for (uint32_t i = 0; i < CHURN; i++) {
			uint32_t k = STABLE + i;

			if (churn[i]) {
				assert_ptr_equal(htab_remove(shared, hash_u32(k), &k), churn[i]);
				rcu_defer(free, churn[i]);
				churn[i] = NULL;
			}
		}
		rcu_reclaim();
	}
	atomic_store(&done, true);
	pthread_join(t, NULL);
	rcu_barrier();
	fprintf(stderr, "[          ] %lu lookups of present keys during the churn, %lu missed\n",
		atomic_load(&lookups), atomic_load(&misses));
	assert_int_equal(atomic_load(&misses), 0);
	assert_true(atomic_load(&lookups) > 0);
	assert_int_equal(htab_count(shared), STABLE);
	htab_free(shared);
}

/* A reader loads a slot's object, the writer removes it and puts another key in that slot,
 * the reader loads the slot's hash: the old object with the new key's hash. A lookup by key
 * must not take the old object for the new key (the SPD's policies by id: a flow would be
 * encrypted under another policy's SA). */
static void test_find_key32_reused_slot(void **state)
{
	struct obj old = { .key = 5 };
	struct htab *h = htab_new(obj_eq);
	struct table *t;

	(void)state;
	assert_non_null(h);
	assert_int_equal(htab_insert(h, old.key, &old), 0);
	t = atomic_load(&h->tab);
	assert_ptr_equal(atomic_load(&t->slot[5].obj), &old);
	atomic_store(&t->slot[5].hash, 5 + MIN_SLOTS);	/* key 69's probe starts at slot 5 */
	assert_null(htab_find_key32(h, 5 + MIN_SLOTS, offsetof(struct obj, key)));
	atomic_store(&t->slot[5].hash, 5);
	assert_ptr_equal(htab_find_key32(h, 5, offsetof(struct obj, key)), &old);
	htab_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_spread),
		cmocka_unit_test(test_random_colliding),
		cmocka_unit_test(test_reserve),
		cmocka_unit_test(test_reader_never_misses),
		cmocka_unit_test(test_find_key32_reused_slot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
