// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * key_history.c - the keys an SAD's SAs have carried (key_history.h): a hash of salted
 * SHA-256 digests of (cipher, keying material) -> where the key stopped, whether a peer sent
 * with it and whether an SA holds it now; a FIFO of the keys of SAs that went bounds it
 * (the oldest forgotten first; a live SA's key never is). Entries are 40-byte slab objects
 * (a million SAs, a million entries). Called by sad.c, on the executor's thread.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "key_history.h"
#include "lib/htab.h"
#include "lib/log.h"
#include "lib/rcu.h"
#include "lib/slab.h"
#include "lib/wipe.h"

struct key_entry {
	struct key_digest digest;	/* first: the hash key */
	uint64_t resume;		/* the first number it may still send; 0: none */
	struct key_entry *newer;	/* age: the FIFO, oldest first */
	bool live;			/* an SA holds the key now */
	bool received;			/* a peer sent with it: it never sends */
	bool queued;			/* in the FIFO (since its SA went) */
	bool went_again;		/* queued, revived and gone again: its place is old */
};

struct key_history {
	struct htab *keys;
	struct key_entry *oldest, *newest;
	size_t count;
	EVP_MD_CTX *md_ctx;		/* reused for every digest */
	EVP_MD *sha256;
	uint8_t salt[32];
};

static struct slab entry_slab = SLAB_INIT(struct key_entry, 8);

static bool digest_eq(const void *obj, const void *key)
{
	return memcmp(obj, key, KEY_DIGEST_LEN) == 0;
}

/* The digest is uniformly distributed already: its first bytes are the hash. */
static uint64_t hash_of(const struct key_digest *k)
{
	uint64_t h;

	memcpy(&h, k->d, sizeof(h));
	return h;
}

struct key_history *key_history_new(void)
{
	struct key_history *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->keys = htab_new(digest_eq);
	h->md_ctx = EVP_MD_CTX_new();
	h->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!h->keys || !h->md_ctx || !h->sha256 ||
	    getrandom(h->salt, sizeof(h->salt), 0) != sizeof(h->salt)) {
		key_history_free(h);
		errno = errno ? errno : EIO;
		return NULL;
	}
	return h;
}

static void free_entry(void *e, void *arg)
{
	(void)arg;
	slab_free(&entry_slab, e);
}

void key_history_free(struct key_history *h)
{
	if (!h)
		return;
	if (h->keys)
		htab_foreach(h->keys, free_entry, NULL);	/* live or gone, every entry */
	htab_free(h->keys);
	EVP_MD_CTX_free(h->md_ctx);
	EVP_MD_free(h->sha256);
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

void key_history_digest(struct key_history *h, enum aead_cipher c, const uint8_t *key,
			size_t len, struct key_digest *out)
{
	uint8_t family = family_of(c), md[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	if (!EVP_DigestInit_ex2(h->md_ctx, h->sha256, NULL) ||
	    !EVP_DigestUpdate(h->md_ctx, h->salt, sizeof(h->salt)) ||
	    !EVP_DigestUpdate(h->md_ctx, &family, 1) || !EVP_DigestUpdate(h->md_ctx, key, len) ||
	    !EVP_DigestFinal_ex(h->md_ctx, md, &n) || n < KEY_DIGEST_LEN)
		memset(md, 0, sizeof(md));	/* OpenSSL's SHA-256 does not fail */
	memcpy(out->d, md, KEY_DIGEST_LEN);
	wipe(md, sizeof(md));
}

static struct key_entry *find(struct key_history *h, const struct key_digest *k)
{
	return htab_find(h->keys, hash_of(k), k);
}

/* The FIFO holds the keys of SAs that went, oldest first. A key whose SA came back stays in
 * its place: live when it is the oldest, it only leaves the FIFO; gone again, it goes to the
 * end (its place says when it went first, not last). */
static void enqueue(struct key_history *h, struct key_entry *e)
{
	e->newer = NULL;
	e->queued = true;
	if (h->newest)
		h->newest->newer = e;
	else
		h->oldest = e;
	h->newest = e;
	h->count++;
}

static struct key_entry *dequeue(struct key_history *h)
{
	struct key_entry *e = h->oldest;

	h->oldest = e->newer;
	if (!h->oldest)
		h->newest = NULL;
	e->queued = false;
	h->count--;
	return e;
}

/* Forget the oldest key of an SA that went while the FIFO is full, passing over those live
 * again and moving those gone again to the end. */
static void forget_oldest(struct key_history *h)
{
	struct key_entry *e;

	while (h->oldest && (h->oldest->live || h->oldest->went_again)) {
		e = dequeue(h);
		if (e->went_again && !e->live)
			enqueue(h, e);
		e->went_again = false;
	}
	if (!h->oldest || h->count < KEY_HISTORY_MAX)
		return;
	log_warnx("key history full: the oldest of %zu keys is forgotten", h->count);
	e = dequeue(h);
	htab_remove(h->keys, hash_of(&e->digest), &e->digest);
	slab_free(&entry_slab, e);	/* no reader: the history is the writer's alone */
}

static struct key_entry *find_or_add(struct key_history *h, const struct key_digest *k)
{
	struct key_entry *e = find(h, k);

	if (e)
		return e;
	e = slab_alloc(&entry_slab);
	if (!e || htab_insert(h->keys, hash_of(k), e) < 0) {
		slab_free(&entry_slab, e);
		return NULL;
	}
	*e = (struct key_entry){ .digest = *k, .resume = 1 };
	return e;
}

static int verdict(const struct key_entry *e, uint64_t seq, uint64_t *resume)
{
	*resume = e ? e->resume : 1;
	if (e && e->live)
		return -EEXIST;
	return !*resume || seq < *resume ? -ESTALE : 0;
}

int key_history_check(struct key_history *h, const struct key_digest *k, uint64_t seq,
		      uint64_t *resume, bool *received)
{
	const struct key_entry *e = find(h, k);

	*received = e && e->received;
	return verdict(e, seq, resume);
}

int key_history_add(struct key_history *h, const struct key_digest *k, uint64_t seq,
		    bool *received)
{
	struct key_entry *e = find_or_add(h, k);
	uint64_t resume;
	int err;

	*received = false;
	if (!e)
		return 0;	/* no memory to remember it: nothing to compare with either */
	err = verdict(e, seq, &resume);
	if (!err) {
		e->live = true;
		*received = e->received;
	}
	return err;
}

void key_history_remove(struct key_history *h, const struct key_digest *k, uint64_t next,
			bool received)
{
	struct key_entry *e = find_or_add(h, k);

	if (!e)
		return;
	e->live = false;
	e->received |= received;
	if (e->queued) {
		e->went_again = true;
	} else {
		if (h->count >= KEY_HISTORY_MAX)
			forget_oldest(h);
		enqueue(h, e);
	}
	if (next == 0)
		e->resume = 0;
	else if (e->resume && next > e->resume)
		e->resume = next;
}
