// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * natt_dests.c - the places this host takes ESP in UDP at (natt_dests.h, RFC 3948): a hash
 * of (family, address, port) with a count of the SAs going there. An entry is published
 * when its first SA comes and unpublished, then freed after a grace period, when its last
 * goes. natt_dests_reserve allocates ahead, so that adding never fails half-way. A gateway
 * usually has one or two such places: while there are at most NATT_FEW, readers compare
 * them in a small array published beside the hash (no hashing on the hot path).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/htab.h"
#include "lib/rcu.h"
#include "natt_dests.h"

struct natt_key {
	uint8_t family;
	uint8_t pad;
	uint16_t port;		/* network order */
	uint8_t addr[16];
};

struct natt_dest {
	struct natt_key key;
	unsigned refs;		/* the writer's only */
};

#define NATT_FEW 8

/* The places, when there are at most NATT_FEW: a snapshot, replaced whole on a change. */
struct natt_few {
	unsigned n;
	struct natt_key k[NATT_FEW];
};

struct natt_dests {
	struct htab *h;
	struct natt_dest *spare;	/* natt_dests_reserve's */
	struct natt_few *_Atomic few;	/* NULL: more than NATT_FEW (or no memory): the hash */
};

static bool key_eq(const void *obj, const void *key)
{
	return !memcmp(&((const struct natt_dest *)obj)->key, key, sizeof(struct natt_key));
}

static void key_of(struct natt_key *k, int family, const uint8_t *addr, uint16_t port)
{
	memset(k, 0, sizeof(*k));
	k->family = (uint8_t)family;
	k->port = port;
	memcpy(k->addr, addr, family == AF_INET ? 4 : 16);
}

static uint64_t hash_of(const struct natt_key *k)
{
	return hash_bytes(k, sizeof(*k));
}

struct natt_dests *natt_dests_new(void)
{
	struct natt_dests *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->h = htab_new(key_eq);
	d->few = calloc(1, sizeof(struct natt_few));
	if (!d->h || !d->few) {
		htab_free(d->h);
		free(d->few);
		free(d);
		return NULL;
	}
	return d;
}

static void free_one(void *obj, void *arg)
{
	(void)arg;
	free(obj);
}

void natt_dests_free(struct natt_dests *d)
{
	if (!d)
		return;
	htab_foreach(d->h, free_one, NULL);
	htab_free(d->h);
	free(d->spare);
	free(atomic_load(&d->few));
	free(d);
}

static void add_few(void *obj, void *arg)
{
	struct natt_few *f = arg;

	f->k[f->n++] = ((const struct natt_dest *)obj)->key;
}

/* After a change: the snapshot of the places again, or none when there are too many (or
 * there is no memory for it: the hash answers as well, only slower). */
static void republish(struct natt_dests *d)
{
	struct natt_few *f = htab_count(d->h) <= NATT_FEW ? calloc(1, sizeof(*f)) : NULL, *old;

	if (f)
		htab_foreach(d->h, add_few, f);
	old = atomic_exchange_explicit(&d->few, f, memory_order_acq_rel);
	if (old)
		rcu_defer(free, old);
}

int natt_dests_reserve(struct natt_dests *d)
{
	if (!d->spare && !(d->spare = calloc(1, sizeof(*d->spare))))
		return -ENOMEM;
	return htab_reserve(d->h, 1) < 0 ? -ENOMEM : 0;
}

static struct natt_dest *find(const struct natt_dests *d, int family, const uint8_t *addr,
			      uint16_t port, struct natt_key *k)
{
	key_of(k, family, addr, port);
	return htab_find(d->h, hash_of(k), k);
}

bool natt_dests_ref(struct natt_dests *d, int family, const uint8_t *addr, uint16_t port)
{
	struct natt_key k;
	struct natt_dest *e = find(d, family, addr, port, &k);

	if (e) {
		e->refs++;
		return false;
	}
	e = d->spare;	/* natt_dests_reserve made sure there is one, and room */
	d->spare = NULL;
	e->key = k;
	e->refs = 1;
	htab_insert(d->h, hash_of(&k), e);
	republish(d);
	return true;
}

bool natt_dests_unref(struct natt_dests *d, int family, const uint8_t *addr, uint16_t port)
{
	struct natt_key k;
	struct natt_dest *e = find(d, family, addr, port, &k);

	if (!e || --e->refs)
		return false;
	htab_remove(d->h, hash_of(&k), &k);
	rcu_defer(free, e);
	republish(d);
	return true;
}

bool natt_dests_has(const struct natt_dests *d, int family, const uint8_t *addr, uint16_t port)
{
	const struct natt_few *f = atomic_load_explicit(&((struct natt_dests *)d)->few,
							memory_order_acquire);
	size_t alen = family == AF_INET ? 4 : 16;
	struct natt_key k;

	if (f) {
		for (unsigned i = 0; i < f->n; i++)
			if (f->k[i].port == port && f->k[i].family == family &&
			    !memcmp(f->k[i].addr, addr, alen))
				return true;
		return false;
	}
	key_of(&k, family, addr, port);
	return htab_find(d->h, hash_of(&k), &k) != NULL;
}
