// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sad.c - the SAD (RFC 4301 4.4.2): SA objects, their two indexes (SPI, UniqueID), their
 * insertion-ordered list for dumps, sequence number allocation (RFC 4303 3.3.3: never
 * wraps), direction and inbound selectors (RFC 4301 4.1, 5.2), paths (`update`), lifetimes'
 * sweep, NAT-T destinations (natt_dests.c). Written by the command
 * executor (user/control) only; read by the datapath.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "key_history.h"
#include "lib/htab.h"
#include "lib/rcu.h"
#include "lib/slab.h"
#include "lib/wipe.h"
#include "natt_dests.h"
#include "sad.h"

const char *const sa_counter_names[SA_C_MAX] = {
#define SA_COUNTER_NAME(name, text) [SA_C_##name] = #name,
	SA_COUNTERS(SA_COUNTER_NAME)
#undef SA_COUNTER_NAME
};

const char *const sa_counter_help[SA_C_MAX] = {
#define SA_COUNTER_HELP(name, text) [SA_C_##name] = text,
	SA_COUNTERS(SA_COUNTER_HELP)
#undef SA_COUNTER_HELP
};

struct sad {
	struct htab *by_spi;
	struct htab *by_uid;
	struct key_history *keys;
	struct list sas;	/* insertion order */
	size_t count;
	struct natt_dests *natt;	/* where the esp-udp SAs that may decrypt go */
	struct list timed;	/* SAs with lifetimes (struct sa, timed) */
	struct list *sweep;	/* sad_timed_next's place in timed */
	size_t n_timed;
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
	list_init(&sad->timed);
	sad->sweep = &sad->timed;
	sad->by_spi = htab_new(spi_eq);
	sad->by_uid = htab_new(uid_eq);
	sad->keys = key_history_new();
	sad->natt = natt_dests_new();
	if (!sad->by_spi || !sad->by_uid || !sad->keys || !sad->natt) {
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
	natt_dests_free(sad->natt);
	free(sad);
}

/* SAs: one slab for all SADs (lib/slab.h); struct sa is 64-byte aligned. */
static struct slab sa_slab = SLAB_INIT(struct sa, 64);

_Atomic uint64_t sa_counters_lost;

struct sa_path *sa_path_new(const struct sa_params *p)
{
	struct sa_path *path = calloc(1, sizeof(*path));

	if (!path)
		return NULL;
	path->src = p->src;
	path->dst = p->dst;
	path->encap = p->encap;
	if (p->encap) {
		path->sport = htons(p->sport);
		path->dport = htons(p->dport);
	}
	return path;
}

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
	sa->conf.replay_default = p->replay == REPLAY_WINDOW_AUTO;
	sa->conf.seq = p->seq;
	sa->conf.soft = p->soft;
	sa->conf.hard = p->hard;
	atomic_store_explicit(&sa->flags, p->dir, memory_order_relaxed);
	sa->spi = p->spi;
	sa->uid = p->uid;
	sa->family = p->dst.family;
	sa->cipher = p->cipher;
	sa->esn = p->esn;
	sa->tfc = p->tfc;
	sa->seq_max = p->esn ? UINT64_MAX : UINT32_MAX;
	for (int i = 0; i < 4; i++)
		sa->spi_be[i] = (uint8_t)(sa->spi >> (24 - 8 * i));
	list_init(&sa->sps);
	list_init(&sa->node);
	list_init(&sa->timed);
	sa->added_ms = clock_ms();
	atomic_store(&sa->seq_next, p->seq);
	replay_init(&sa->replay, sa->conf.replay_default ? replay_default_window(nthreads)
							 : p->replay, p->seq - 1);
	atomic_store(&sa->path, sa_path_new(p));
	err = atomic_load(&sa->path) ? aead_init(&sa->aead, sa->cipher, sa->conf.key,
						 sa->conf.key_len, nthreads, CRYPTO_AUTO)
				     : -ENOMEM;
	if (err) {
		free(atomic_load(&sa->path));
		wipe(sa, sizeof(*sa));
		slab_free(&sa_slab, sa);
		errno = -err;
		return NULL;
	}
	sa->icv_len = (uint8_t)aead_icv_len(&sa->aead);
	return sa;
}

/* Has a peer sent with sa's key: an inbound policy named it, or it decrypted? */
static bool sa_received(const struct sa *sa)
{
	return !sa_is_outbound(sa) && ((atomic_load(&((struct sa *)sa)->flags) & SA_INBOUND) ||
				       sa_counter(sa, SA_C_in_packets));
}

struct sa_params sa_params(const struct sa *sa)
{
	const struct sa_path *path = sa_path(sa);
	struct sa_params p = {
		.spi = sa->spi,
		.uid = sa->uid,
		.src = path->src,
		.dst = path->dst,
		.encap = path->encap,
		.sport = ntohs(path->sport),
		.dport = ntohs(path->dport),
		.soft = sa->conf.soft,
		.hard = sa->conf.hard,
		.alg = (enum esp_alg)sa->conf.alg,
		.cipher = sa->cipher,
		.esn = sa->esn,
		.key_len = sa->conf.key_len,
		.tfc = sa->tfc,
		.seq = sa->conf.seq,
		.replay = sa->conf.replay_default ? REPLAY_WINDOW_AUTO : sa->replay.window,
		.dir = sa_is_outbound(sa) ? SA_OUTBOUND : sa_received(sa) ? SA_INBOUND : 0,
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
	free(atomic_load(&sa->path));
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

/* The NAT-T destination of an SA that may decrypt on path, if it is esp-udp (natt_dests.h):
 * one SA more or less goes there. */
static void natt_ref(struct sad *sad, const struct sa_path *path, bool more)
{
	if (!path->encap)
		return;
	if (more)
		natt_dests_ref(sad->natt, path->dst.family, path->dst.a, path->dport);
	else
		natt_dests_unref(sad->natt, path->dst.family, path->dst.a, path->dport);
}

int sad_reserve(struct sad *sad)
{
	if (htab_reserve(sad->by_spi, 1) < 0 || htab_reserve(sad->by_uid, 1) < 0 ||
	    natt_dests_reserve(sad->natt) < 0)
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
	bool received;
	int err;

	if (sad_by_spi(sad, sa->spi) || sad_by_uid(sad, sa->uid))
		return -EEXIST;
	if (sad_reserve(sad) < 0)
		return -ENOMEM;
	err = key_history_add(sad->keys, k, sa->conf.seq, &received);
	if (err)
		return err;
	if (received)	/* the peer has sent with this key: never we */
		atomic_fetch_or_explicit(&sa->flags, SA_INBOUND, memory_order_relaxed);
	htab_insert(sad->by_spi, hash_u32(sa->spi), sa);
	htab_insert(sad->by_uid, hash_u32(sa->uid), sa);
	list_add_tail(&sad->sas, &sa->node);
	sad->count++;
	if (!sa_is_outbound(sa))
		natt_ref(sad, sa_path(sa), true);
	if (sa_lifetime_set(&sa->conf.soft) || sa_lifetime_set(&sa->conf.hard)) {
		list_add_tail(&sad->timed, &sa->timed);
		sad->n_timed++;
	}
	return 0;
}

/* The first number sa's key may carry again, as key_history_remove wants it (0: none left).
 * A sender's numbering ends here: a worker that found the SA before it was unpublished gets
 * no number from now on (sa_seq_alloc), so none it sends can be sent again after a re-add. */
static uint64_t key_resume(struct sa *sa)
{
	uint64_t next = atomic_exchange(&sa->seq_next, 0), top;

	if (sa_is_outbound(sa))
		return next > sa->seq_max ? 0 : next;	/* 0 after 2^64-1 or 2^32-1 */
	if (!sa_received(sa))
		return 1;
	top = replay_top(&sa->replay);
	if (top >= sa->seq_max)
		return 0;			/* the peer sent the last number */
	return top + 1 > sa->conf.seq ? top + 1 : sa->conf.seq;	/* the window goes on */
}

void sad_remove(struct sad *sad, struct sa *sa)
{
	struct key_digest k;
	bool received = sa_received(sa);

	key_history_digest(sad->keys, sa->cipher, sa->conf.key, sa->conf.key_len, &k);
	key_history_remove(sad->keys, &k, key_resume(sa), received);
	wipe(&k, sizeof(k));
	htab_remove(sad->by_spi, hash_u32(sa->spi), &sa->spi);
	htab_remove(sad->by_uid, hash_u32(sa->uid), &sa->uid);
	list_del(&sa->node);
	sad->count--;
	if (!sa_is_outbound(sa))
		natt_ref(sad, sa_path(sa), false);
	if (!list_empty(&sa->timed)) {
		if (sad->sweep == &sa->timed)
			sad->sweep = sa->timed.next;
		list_del(&sa->timed);
		sad->n_timed--;
	}
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

bool sad_natt_dest(const struct sad *sad, int family, const uint8_t *addr, uint16_t port)
{
	return natt_dests_has(sad->natt, family, addr, port);
}

struct sa *sad_timed_next(struct sad *sad)
{
	struct list *at = sad->sweep;

	if (at == &sad->timed)
		at = at->next;
	if (at == &sad->timed)
		return NULL;
	sad->sweep = at->next;
	return list_entry(at, struct sa, timed);
}

size_t sad_timed_count(const struct sad *sad)
{
	return sad->n_timed;
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
		  bool *received, struct key_digest *k)
{
	key_history_digest(sad->keys, p->cipher, p->key, p->key_len, k);
	return key_history_check(sad->keys, k, p->seq, resume, received);
}

int sad_set_outbound(struct sad *sad, struct sa *sa)
{
	uint8_t f = atomic_load(&sa->flags);

	if (f & SA_OUTBOUND)
		return 0;
	if ((f & SA_INBOUND) || sa_counter(sa, SA_C_in_packets))
		return -EPERM;
	atomic_fetch_or_explicit(&sa->flags, SA_OUTBOUND, memory_order_release);
	natt_ref(sad, sa_path(sa), false);
	return 0;
}

void sad_unset_outbound(struct sad *sad, struct sa *sa)
{
	atomic_fetch_and_explicit(&sa->flags, (uint8_t)~SA_OUTBOUND, memory_order_release);
	natt_ref(sad, sa_path(sa), true);
}

/* sa takes path; the old one is freed after a grace period. */
static void set_path(struct sa *sa, struct sa_path *path)
{
	struct sa_path *old = atomic_exchange_explicit(&sa->path, path, memory_order_acq_rel);

	if (old)
		rcu_defer(free, old);
}

void sad_move(struct sad *sad, struct sa *sa, struct sa_path *path)
{
	bool decrypts = !sa_is_outbound(sa);

	if (decrypts)
		natt_ref(sad, sa_path(sa), false);
	set_path(sa, path);
	if (decrypts)
		natt_ref(sad, path, true);
}

void sa_set_in_sels(struct sa *sa, struct sa_sels *sels)
{
	struct sa_sels *old = atomic_exchange_explicit(&sa->in_sels, sels, memory_order_acq_rel);

	if (old)
		rcu_defer(free, old);
}
