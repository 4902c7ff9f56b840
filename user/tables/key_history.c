// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * key_history.c - the keys an SAD's outbound SAs have sent with (key_history.h): a hash of
 * salted SHA-256 digests of (cipher, keying material) -> where the key stopped sending and
 * whether an SA holds it now; a FIFO of the same entries bounds it (the oldest first). Called by sad.c, on the
 * executor's thread.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "key_history.h"
#include "lib/htab.h"
#include "lib/list.h"
#include "lib/log.h"
#include "lib/rcu.h"
#include "lib/wipe.h"

struct key_entry {
	uint8_t digest[32];	/* first: the hash key */
	uint64_t resume;	/* the first number it may still send; 0: none */
	bool live;		/* an SA holds the key now */
	struct list node;	/* age, oldest first */
};

struct key_history {
	struct htab *keys;
	struct list age;
	size_t count;
	uint8_t salt[32];
};

static bool digest_eq(const void *obj, const void *key)
{
	return memcmp(obj, key, 32) == 0;
}

struct key_history *key_history_new(void)
{
	struct key_history *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	list_init(&h->age);
	h->keys = htab_new(digest_eq);
	if (!h->keys || getrandom(h->salt, sizeof(h->salt), 0) != sizeof(h->salt)) {
		key_history_free(h);
		errno = errno ? errno : EIO;
		return NULL;
	}
	return h;
}

void key_history_free(struct key_history *h)
{
	struct key_entry *e;

	if (!h)
		return;
	list_for_each(e, &h->age, node)
		free(e);
	htab_free(h->keys);
	wipe(h->salt, sizeof(h->salt));
	free(h);
}

/* The primitive a key is for: MGM and MGM-MAC of one cipher use the same key tree, the
 * same leaf keys and nonces, so they are one family; the others have distinct lengths or
 * ciphers. */
static uint8_t family_of(enum aead_cipher c)
{
	switch (c) {
	case AEAD_KUZNYECHIK_MGM_MAC: return AEAD_KUZNYECHIK_MGM;
	case AEAD_MAGMA_MGM_MAC: return AEAD_MAGMA_MGM;
	default: return (uint8_t)c;
	}
}

static void digest_of(const struct key_history *h, enum aead_cipher c, const uint8_t *key,
		      size_t len, uint8_t out[32])
{
	uint8_t in[32 + 1 + ESP_KEYMAT_MAX];
	unsigned n = 0;

	memcpy(in, h->salt, 32);
	in[32] = family_of(c);
	memcpy(in + 33, key, len);
	if (!EVP_Digest(in, 33 + len, out, &n, EVP_sha256(), NULL) || n != 32)
		memset(out, 0, 32);	/* OpenSSL's SHA-256 does not fail */
	wipe(in, sizeof(in));
}

static struct key_entry *find(struct key_history *h, const uint8_t digest[32])
{
	return htab_find(h->keys, hash_bytes(digest, 32), digest);
}

static void forget_oldest(struct key_history *h)
{
	struct key_entry *e = list_first(&h->age, struct key_entry, node);

	log_warnx("key history full: the oldest of %zu keys is forgotten", h->count);
	list_del(&e->node);
	htab_remove(h->keys, hash_bytes(e->digest, 32), e->digest);
	rcu_defer(free, e);
	h->count--;
}

static struct key_entry *find_or_add(struct key_history *h, enum aead_cipher c,
				     const uint8_t *key, size_t len)
{
	uint8_t digest[32];
	struct key_entry *e;

	digest_of(h, c, key, len, digest);
	e = find(h, digest);
	if (e)
		return e;
	if (h->count >= KEY_HISTORY_MAX)
		forget_oldest(h);
	e = calloc(1, sizeof(*e));
	if (!e || htab_insert(h->keys, hash_bytes(digest, 32), e) < 0) {
		free(e);
		return NULL;
	}
	memcpy(e->digest, digest, 32);
	e->resume = 1;
	list_add_tail(&h->age, &e->node);
	h->count++;
	return e;
}

uint64_t key_history_resume(struct key_history *h, enum aead_cipher c, const uint8_t *key,
			    size_t len)
{
	uint8_t digest[32];
	struct key_entry *e;

	digest_of(h, c, key, len, digest);
	e = find(h, digest);
	return e ? e->resume : 1;
}

bool key_history_held(struct key_history *h, enum aead_cipher c, const uint8_t *key,
		      size_t len)
{
	uint8_t digest[32];
	struct key_entry *e;

	digest_of(h, c, key, len, digest);
	e = find(h, digest);
	return e && e->live;
}

int key_history_add(struct key_history *h, enum aead_cipher c, const uint8_t *key, size_t len,
		    uint64_t seq)
{
	struct key_entry *e = find_or_add(h, c, key, len);

	if (!e)
		return 0;	/* no memory to remember it: nothing to compare with either */
	if (e->live)
		return -EEXIST;
	if (!e->resume || seq < e->resume)
		return -ESTALE;
	e->live = true;
	return 0;
}

void key_history_remove(struct key_history *h, enum aead_cipher c, const uint8_t *key,
			size_t len, uint64_t next)
{
	struct key_entry *e = find_or_add(h, c, key, len);

	if (!e)
		return;
	e->live = false;
	if (next == 0)
		e->resume = 0;
	else if (e->resume && next > e->resume)
		e->resume = next;
}
