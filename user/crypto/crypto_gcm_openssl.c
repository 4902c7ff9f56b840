// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * crypto_gcm_openssl.c - AES-GCM-16 for ESP (RFC 4106) on OpenSSL 3 EVP: the portable
 * fallback (`--crypto openssl`, or where intel-ipsec-mb is missing). EVP contexts carry
 * state, so each thread slot gets its own pair (seal, open), keyed once in aead_new; per
 * packet only the nonce is set.
 */
#include <errno.h>
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

static EVP_CIPHER *cipher_of(size_t klen)
{
	static EVP_CIPHER *aes128, *aes256;
	EVP_CIPHER **c = klen == 32 ? &aes256 : &aes128;

	if (!*c)
		*c = EVP_CIPHER_fetch(NULL, klen == 32 ? "AES-256-GCM" : "AES-128-GCM", NULL);
	return *c;
}

static void ossl_fini(struct aead *a)
{
	struct gcm_ossl *g = a->priv;

	for (unsigned i = 0; i < g->nslots; i++) {
		EVP_CIPHER_CTX_free(g->slot[i].seal);
		EVP_CIPHER_CTX_free(g->slot[i].open);
	}
	wipe(g->salt, sizeof(g->salt));
	free(g);
}

static int ossl_init(struct aead *a, const uint8_t *keymat, size_t len)
{
	size_t klen = len - 4;
	EVP_CIPHER *c = cipher_of(klen);
	struct gcm_ossl *g;

	if (!c)
		return -ENOTSUP;
	g = calloc(1, sizeof(*g) + a->nthreads * sizeof(g->slot[0]));
	if (!g)
		return -ENOMEM;
	a->priv = g;
	memcpy(g->salt, keymat + klen, 4);
	for (; g->nslots < a->nthreads; g->nslots++) {
		struct gcm_slot *s = &g->slot[g->nslots];

		s->seal = EVP_CIPHER_CTX_new();
		s->open = EVP_CIPHER_CTX_new();
		if (!s->seal || !s->open ||
		    !EVP_EncryptInit_ex2(s->seal, c, keymat, NULL, NULL) ||
		    !EVP_DecryptInit_ex2(s->open, c, keymat, NULL, NULL)) {
			g->nslots++;
			ossl_fini(a);
			return -ENOMEM;
		}
	}
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
	.init = ossl_init,
	.fini = ossl_fini,
	.seal = ossl_seal,
	.open = ossl_open,
};
