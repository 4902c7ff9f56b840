// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sad.c - the SAD (RFC 4301 4.4.2): SA objects, their two indexes (SPI, UniqueID), their
 * insertion-ordered list for dumps, sequence number allocation (RFC 4303 3.3.3: never
 * wraps). Written by cmd_exec.c only; read by the ESP code and the workers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#include "lib/htab.h"
#include "lib/rcu.h"
#include "sad.h"

const char *const sa_counter_names[SA_C_MAX] = {
#define SA_COUNTER_NAME(name, text) [SA_C_##name] = #name,
	SA_COUNTERS(SA_COUNTER_NAME)
#undef SA_COUNTER_NAME
};

struct sad {
	struct htab *by_spi;
	struct htab *by_uid;
	struct sa *head, *tail;
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

static inline uint64_t mix(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* hash_bytes(&v, 4) unrolled (htab.c): one per inbound packet (sad_by_spi). */
static inline uint64_t hash_u32(uint32_t v)
{
	uint64_t w = 0;

	memcpy(&w, &v, sizeof(v));
	return mix(mix((0x9e3779b97f4a7c15ULL ^ sizeof(v)) ^ w, 0x94d049bb133111ebULL),
		   0x2545f4914f6cdd1dULL);
}

struct sad *sad_new(void)
{
	struct sad *sad = calloc(1, sizeof(*sad));

	if (!sad)
		return NULL;
	sad->by_spi = htab_new(spi_eq);
	sad->by_uid = htab_new(uid_eq);
	if (!sad->by_spi || !sad->by_uid) {
		sad_free(sad);
		return NULL;
	}
	return sad;
}

void sad_free(struct sad *sad)
{
	if (!sad)
		return;
	while (sad->head) {
		struct sa *sa = sad->head;

		sad->head = sa->next;
		sa_free(sa);
	}
	htab_free(sad->by_spi);
	htab_free(sad->by_uid);
	free(sad);
}

struct sa *sa_new(const struct cmd_add *add, unsigned nthreads)
{
	struct sa *sa = aligned_alloc(64, (sizeof(*sa) + 63) & ~(size_t)63);
	uint32_t window = add->has_replay ? add->replay : REPLAY_DEFAULT_WINDOW;

	if (!sa)
		return NULL;
	memset(sa, 0, sizeof(*sa));
	sa->spi = add->spi;
	sa->uid = add->uid;
	sa->src = add->src;
	sa->dst = add->dst;
	sa->alg = add->alg;
	sa->cipher = add->cipher;
	sa->esn = add->esn;
	sa->tfc = add->has_tfc ? add->tfc : 0;
	sa->seq_init = add->has_seq ? add->seq : 1;
	sa->seq_max = add->esn ? UINT64_MAX : UINT32_MAX;
	sa->key_len = add->key_len;
	memcpy(sa->key, add->key, add->key_len);
	for (int i = 0; i < 4; i++)
		sa->spi_be[i] = (uint8_t)(sa->spi >> (24 - 8 * i));
	atomic_store(&sa->seq_next, sa->seq_init);
	sa->aead = aead_new(sa->cipher, sa->key, sa->key_len, nthreads);
	if (!sa->aead || replay_init(&sa->replay, window, sa->seq_init - 1) < 0) {
		int err = errno;

		sa_free(sa);
		errno = err;
		return NULL;
	}
	sa->icv_len = (uint8_t)aead_icv_len(sa->aead);
	return sa;
}

void sa_free(struct sa *sa)
{
	if (!sa)
		return;
	aead_free(sa->aead);
	replay_fini(&sa->replay);
	OPENSSL_cleanse(sa->key, sizeof(sa->key));
	free(sa);
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
	if (sad_by_spi(sad, sa->spi) || sad_by_uid(sad, sa->uid))
		return -EEXIST;
	if (sad_reserve(sad) < 0)
		return -ENOMEM;
	htab_insert(sad->by_spi, hash_u32(sa->spi), sa);
	htab_insert(sad->by_uid, hash_u32(sa->uid), sa);
	sa->prev = sad->tail;
	sa->next = NULL;
	if (sad->tail)
		sad->tail->next = sa;
	else
		sad->head = sa;
	sad->tail = sa;
	sad->count++;
	return 0;
}

void sad_remove(struct sad *sad, struct sa *sa)
{
	htab_remove(sad->by_spi, hash_u32(sa->spi), &sa->spi);
	htab_remove(sad->by_uid, hash_u32(sa->uid), &sa->uid);
	if (sa->prev)
		sa->prev->next = sa->next;
	else
		sad->head = sa->next;
	if (sa->next)
		sa->next->prev = sa->prev;
	else
		sad->tail = sa->prev;
	sad->count--;
	rcu_defer(sa_free_deferred, sa);
}

void sad_flush(struct sad *sad)
{
	while (sad->head)
		sad_remove(sad, sad->head);
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
	return sad->head;
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
