// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sad.c - the SAD (RFC 4301 4.4.2): SA objects, their two indexes (SPI, UniqueID), their
 * insertion-ordered list for dumps, sequence number allocation (RFC 4303 3.3.3: never
 * wraps), direction and inbound selectors (RFC 4301 4.1, 5.2). Written by the command
 * executor (user/control) only; read by the datapath.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "key_history.h"
#include "lib/htab.h"
#include "lib/rcu.h"
#include "lib/slab.h"
#include "lib/wipe.h"
#include "sad.h"

const char *const sa_counter_names[SA_C_MAX] = {
#define SA_COUNTER_NAME(name, text) [SA_C_##name] = #name,
	SA_COUNTERS(SA_COUNTER_NAME)
#undef SA_COUNTER_NAME
};

struct sad {
	struct htab *by_spi;
	struct htab *by_uid;
	struct key_history *keys;
	struct list sas;	/* insertion order */
	size_t count;
};

static bool spi_eq(const void *obj, const void *key)
{
	return ((const struct sa *)obj)->spi == *(const uint32_t *)key;
}

static bool uid_eq(const void *obj, const void *key)
{
	return ((const struct sa *)obj)->uid == *(const uint32_t *)key;
}

struct sad *sad_new(void)
{
	struct sad *sad = calloc(1, sizeof(*sad));

	if (!sad)
		return NULL;
	list_init(&sad->sas);
	sad->by_spi = htab_new(spi_eq);
	sad->by_uid = htab_new(uid_eq);
	sad->keys = key_history_new();
	if (!sad->by_spi || !sad->by_uid || !sad->keys) {
		sad_free(sad);
		return NULL;
	}
	return sad;
}

void sad_free(struct sad *sad)
{
	if (!sad)
		return;
	struct sa *sa;

	list_for_each(sa, &sad->sas, node)
		sa_free(sa);
	htab_free(sad->by_spi);
	htab_free(sad->by_uid);
	key_history_free(sad->keys);
	free(sad);
}

/* SAs: one slab for all SADs (lib/slab.h); struct sa is 64-byte aligned. */
static struct slab sa_slab = SLAB_INIT(struct sa, 64);

_Atomic uint64_t sa_counters_lost;

struct sa *sa_new(const struct sa_params *p, unsigned nthreads)
{
	struct sa *sa = slab_alloc(&sa_slab);
	int err;

	if (!sa)
		return NULL;
	memset(sa, 0, sizeof(*sa));
	memcpy(sa->conf.key, p->key, sizeof(sa->conf.key));
	sa->conf.key_len = p->key_len;
	sa->conf.alg = (uint8_t)p->alg;
	sa->conf.seq = p->seq;
	sa->spi = p->spi;
	sa->uid = p->uid;
	sa->src = p->src;
	sa->dst = p->dst;
	sa->cipher = p->cipher;
	sa->esn = p->esn;
	sa->tfc = p->tfc;
	sa->seq_max = p->esn ? UINT64_MAX : UINT32_MAX;
	for (int i = 0; i < 4; i++)
		sa->spi_be[i] = (uint8_t)(sa->spi >> (24 - 8 * i));
	list_init(&sa->sps);
	list_init(&sa->node);
	atomic_store(&sa->seq_next, p->seq);
	replay_init(&sa->replay, p->replay, p->seq - 1);
	err = aead_init(&sa->aead, sa->cipher, sa->conf.key, sa->conf.key_len, nthreads,
			CRYPTO_AUTO);
	if (err) {
		wipe(sa, sizeof(*sa));
		slab_free(&sa_slab, sa);
		errno = -err;
		return NULL;
	}
	sa->icv_len = (uint8_t)aead_icv_len(&sa->aead);
	return sa;
}

struct sa_params sa_params(const struct sa *sa)
{
	struct sa_params p = {
		.spi = sa->spi,
		.uid = sa->uid,
		.src = sa->src,
		.dst = sa->dst,
		.alg = (enum esp_alg)sa->conf.alg,
		.cipher = sa->cipher,
		.esn = sa->esn,
		.key_len = sa->conf.key_len,
		.tfc = sa->tfc,
		.seq = sa->conf.seq,
		.replay = sa->replay.window,
	};

	memcpy(p.key, sa->conf.key, sizeof(p.key));
	return p;
}

int sa_use_backend(struct sa *sa, enum crypto_backend backend)
{
	unsigned nthreads = sa->aead.nthreads;

	aead_fini(&sa->aead);
	return aead_init(&sa->aead, sa->cipher, sa->conf.key, sa->conf.key_len, nthreads,
			 backend);
}

void sa_free(struct sa *sa)
{
	if (!sa)
		return;
	aead_fini(&sa->aead);
	replay_fini(&sa->replay);
	free(atomic_load(&sa->in_sels));
	free(atomic_load(&sa->rare));
	wipe(sa, sizeof(*sa));	/* the key, in conf */
	slab_free(&sa_slab, sa);
}

void sa_count_rare(struct sa *sa, enum sa_counter c, uint64_t n)
{
	_Atomic uint64_t *rare = atomic_load_explicit(&sa->rare, memory_order_acquire), *none = NULL;

	if (!rare) {
		rare = calloc(SA_C_MAX - SA_C_HOT, sizeof(rare[0]));
		if (!rare) {
			atomic_fetch_add_explicit(&sa_counters_lost, n, memory_order_relaxed);
			return;
		}
		if (!atomic_compare_exchange_strong_explicit(&sa->rare, &none, rare,
							     memory_order_acq_rel,
							     memory_order_acquire)) {
			free(rare);	/* another worker made it first */
			rare = none;
		}
	}
	atomic_fetch_add_explicit(&rare[c - SA_C_HOT], n, memory_order_relaxed);
}

static void sa_free_deferred(void *p)
{
	sa_free(p);
}

int sad_reserve(struct sad *sad)
{
	if (htab_reserve(sad->by_spi, 1) < 0 || htab_reserve(sad->by_uid, 1) < 0)
		return -ENOMEM;
	return 0;
}

int sad_add(struct sad *sad, struct sa *sa)
{
	struct key_digest k;

	key_history_digest(sad->keys, sa->cipher, sa->conf.key, sa->conf.key_len, &k);
	return sad_add_checked(sad, sa, &k);
}

int sad_add_checked(struct sad *sad, struct sa *sa, const struct key_digest *k)
{
	int err;

	if (sad_by_spi(sad, sa->spi) || sad_by_uid(sad, sa->uid))
		return -EEXIST;
	if (sad_reserve(sad) < 0)
		return -ENOMEM;
	err = key_history_add(sad->keys, k, sa->conf.seq);
	if (err)
		return err;
	htab_insert(sad->by_spi, hash_u32(sa->spi), sa);
	htab_insert(sad->by_uid, hash_u32(sa->uid), sa);
	list_add_tail(&sad->sas, &sa->node);
	sad->count++;
	return 0;
}

/* The number sa would send next, as key_history_release wants it (0: none left). */
static uint64_t next_to_send(const struct sa *sa)
{
	uint64_t next = atomic_load(&((struct sa *)sa)->seq_next);

	return next > sa->seq_max ? 0 : next;	/* 0 after 2^64-1, seq_max + 1 after 2^32-1 */
}

void sad_remove(struct sad *sad, struct sa *sa)
{
	struct key_digest k;

	key_history_digest(sad->keys, sa->cipher, sa->conf.key, sa->conf.key_len, &k);
	key_history_remove(sad->keys, &k, sa_is_outbound(sa) ? next_to_send(sa) : 1);
	wipe(&k, sizeof(k));
	htab_remove(sad->by_spi, hash_u32(sa->spi), &sa->spi);
	htab_remove(sad->by_uid, hash_u32(sa->uid), &sa->uid);
	list_del(&sa->node);
	sad->count--;
	rcu_defer(sa_free_deferred, sa);
}

void sad_flush(struct sad *sad)
{
	struct sa *sa;

	list_for_each(sa, &sad->sas, node)
		sad_remove(sad, sa);
}

struct sa *sad_by_spi(const struct sad *sad, uint32_t spi)
{
	return htab_find(sad->by_spi, hash_u32(spi), &spi);
}

struct sa *sad_by_uid(const struct sad *sad, uint32_t uid)
{
	return htab_find(sad->by_uid, hash_u32(uid), &uid);
}

struct sa *sad_first(const struct sad *sad)
{
	return list_first(&sad->sas, struct sa, node);
}

struct sa *sad_next(const struct sad *sad, const struct sa *sa)
{
	return sa->node.next == &sad->sas ? NULL : list_entry(sa->node.next, struct sa, node);
}

size_t sad_count(const struct sad *sad)
{
	return sad->count;
}

unsigned sa_seq_alloc(struct sa *sa, unsigned n, uint64_t *first)
{
	uint64_t cur = atomic_load_explicit(&sa->seq_next, memory_order_relaxed), next;
	unsigned granted;

	do {
		if (cur == 0 || cur > sa->seq_max)
			return 0;
		granted = sa->seq_max - cur + 1 < n ? (unsigned)(sa->seq_max - cur + 1) : n;
		next = cur + granted;	/* 0 after 2^64-1: exhausted */
	} while (!atomic_compare_exchange_weak_explicit(&sa->seq_next, &cur, next,
							memory_order_relaxed,
							memory_order_relaxed));
	*first = cur;
	return granted;
}

int sad_key_check(struct sad *sad, const struct sa_params *p, uint64_t *resume,
		  struct key_digest *k)
{
	key_history_digest(sad->keys, p->cipher, p->key, p->key_len, k);
	return key_history_check(sad->keys, k, p->seq, resume);
}

int sa_set_outbound(struct sa *sa)
{
	uint8_t f = atomic_load(&sa->flags);

	if (f & SA_OUTBOUND)
		return 0;
	if ((f & SA_INBOUND) || sa_counter(sa, SA_C_in_packets))
		return -EPERM;
	atomic_fetch_or_explicit(&sa->flags, SA_OUTBOUND, memory_order_release);
	return 0;
}

void sa_unset_outbound(struct sa *sa)
{
	atomic_fetch_and_explicit(&sa->flags, (uint8_t)~SA_OUTBOUND, memory_order_release);
}

void sa_set_in_sels(struct sa *sa, struct sa_sels *sels)
{
	struct sa_sels *old = atomic_exchange_explicit(&sa->in_sels, sels, memory_order_acq_rel);

	if (old)
		rcu_defer(free, old);
}
