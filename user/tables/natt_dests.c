// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * natt_dests.c - the places this host takes ESP in UDP at (natt_dests.h, RFC 3948): a hash
 * of (family, address, port) with a count of the SAs going there. An entry is published
 * when its first SA comes and unpublished, then freed after a grace period, when its last
 * goes. natt_dests_reserve allocates ahead, so that adding never fails half-way.
 */
#include <errno.h>
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

struct natt_dests {
	struct htab *h;
	struct natt_dest *spare;	/* natt_dests_reserve's */
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
	if (!d->h) {
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
	free(d);
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
	return true;
}

bool natt_dests_has(const struct natt_dests *d, int family, const uint8_t *addr, uint16_t port)
{
	struct natt_key k;

	key_of(&k, family, addr, port);
	return htab_find(d->h, hash_of(&k), &k) != NULL;
}
