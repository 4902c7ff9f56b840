// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * crypto_gcm_openssl.c - AES-GCM-16 for ESP (RFC 4106) on OpenSSL 3 EVP: the portable
 * fallback (`--crypto openssl`, or where intel-ipsec-mb is missing). EVP contexts carry
 * state, so each thread slot gets its own pair (seal, open), all keyed on the SA's first
 * packet (crypto.h, lazy keying); per packet only the nonce is set.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "crypto.h"
#include "lib/wipe.h"

struct gcm_slot {
	EVP_CIPHER_CTX *seal;
	EVP_CIPHER_CTX *open;
};

struct gcm_ossl {
	uint8_t salt[4];
	unsigned nslots;
	struct gcm_slot slot[];
};

/* Fetched once per process; keying happens on workers (lazy keying), so the first fetch
 * may race: one compare-and-swap keeps one. */
static EVP_CIPHER *cipher_of(size_t klen)
{
	static EVP_CIPHER *_Atomic aes128, *_Atomic aes256;
	EVP_CIPHER *_Atomic *c = klen == 32 ? &aes256 : &aes128;
	EVP_CIPHER *got = atomic_load_explicit(c, memory_order_acquire), *none = NULL;

	if (got)
		return got;
	got = EVP_CIPHER_fetch(NULL, klen == 32 ? "AES-256-GCM" : "AES-128-GCM", NULL);
	if (got && !atomic_compare_exchange_strong_explicit(c, &none, got, memory_order_acq_rel,
							    memory_order_acquire)) {
		EVP_CIPHER_free(got);
		got = none;
	}
	return got;
}

static void ossl_unkey(const struct aead *a, void *state)
{
	struct gcm_ossl *g = state;

	(void)a;
	for (unsigned i = 0; i < g->nslots; i++) {
		EVP_CIPHER_CTX_free(g->slot[i].seal);
		EVP_CIPHER_CTX_free(g->slot[i].open);
	}
	wipe(g->salt, sizeof(g->salt));
	free(g);
}

static int ossl_key(const struct aead *a, const uint8_t *keymat, size_t len, void **state)
{
	size_t klen = len - 4;
	EVP_CIPHER *c = cipher_of(klen);
	struct gcm_ossl *g;

	if (!c)
		return -ENOTSUP;
	g = calloc(1, sizeof(*g) + a->nthreads * sizeof(g->slot[0]));
	if (!g)
		return -ENOMEM;
	memcpy(g->salt, keymat + klen, 4);
	for (; g->nslots < a->nthreads; g->nslots++) {
		struct gcm_slot *s = &g->slot[g->nslots];

		s->seal = EVP_CIPHER_CTX_new();
		s->open = EVP_CIPHER_CTX_new();
		if (!s->seal || !s->open ||
		    !EVP_EncryptInit_ex2(s->seal, c, keymat, NULL, NULL) ||
		    !EVP_DecryptInit_ex2(s->open, c, keymat, NULL, NULL)) {
			g->nslots++;
			ossl_unkey(a, g);
			return -ENOMEM;
		}
	}
	*state = g;
	return 0;
}

static int ossl_seal(struct aead *a, unsigned thread, const struct aead_req *r)
{
	struct gcm_ossl *g = a->priv;
	EVP_CIPHER_CTX *ctx = g->slot[thread].seal;
	uint8_t nonce[12];
	int outl;

	memcpy(nonce, g->salt, 4);
	memcpy(nonce + 4, r->iv, 8);
	if (!EVP_EncryptInit_ex2(ctx, NULL, NULL, nonce, NULL) ||
	    !EVP_EncryptUpdate(ctx, NULL, &outl, r->aad, (int)r->aad_len) ||
	    !EVP_EncryptUpdate(ctx, r->data, &outl, r->data, (int)r->len) ||
	    !EVP_EncryptFinal_ex(ctx, r->data + outl, &outl) ||
	    !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, r->icv))
		return -EIO;
	return 0;
}

static int ossl_open(struct aead *a, unsigned thread, const struct aead_req *r)
{
	struct gcm_ossl *g = a->priv;
	EVP_CIPHER_CTX *ctx = g->slot[thread].open;
	uint8_t nonce[12];
	int outl;

	memcpy(nonce, g->salt, 4);
	memcpy(nonce + 4, r->iv, 8);
	if (!EVP_DecryptInit_ex2(ctx, NULL, NULL, nonce, NULL) ||
	    !EVP_DecryptUpdate(ctx, NULL, &outl, r->aad, (int)r->aad_len) ||
	    !EVP_DecryptUpdate(ctx, r->data, &outl, r->data, (int)r->len) ||
	    !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, r->icv))
		return -EIO;
	return EVP_DecryptFinal_ex(ctx, r->data + outl, &outl) > 0 ? 0 : -EBADMSG;
}

const struct aead_ops aead_gcm_openssl_ops = {
	.key = ossl_key,
	.unkey = ossl_unkey,
	.seal = ossl_seal,
	.open = ossl_open,
};
