// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * crypto.c - the facade: transform table (names, key and ICV lengths, RFC 4106 / RFC 9227
 * 4.4-4.5), backend choice, lazy keying (crypto.h: one compare-and-swap publishes the key
 * schedule), and dispatch to crypto_gcm_ipsecmb.c, crypto_gcm_openssl.c and crypto_gost.c.
 * Called by esp_in.c/esp_out.c per packet and by sad.c per SA.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "lib/log.h"
#include "lib/wipe.h"

struct cipher_info {
	const char *name;
	size_t keymat_len;
	size_t icv_len;
	bool gost;
};

static const struct cipher_info ciphers[AEAD_CIPHER_MAX] = {
	[AEAD_AES128_GCM] = { "AES-128-GCM", 20, 16, false },
	[AEAD_AES256_GCM] = { "AES-256-GCM", 36, 16, false },
	[AEAD_KUZNYECHIK_MGM] = { "Kuznyechik-MGM", 44, 12, true },
	[AEAD_MAGMA_MGM] = { "Magma-MGM", 36, 8, true },
	[AEAD_KUZNYECHIK_MGM_MAC] = { "Kuznyechik-MGM-MAC", 44, 12, true },
	[AEAD_MAGMA_MGM_MAC] = { "Magma-MGM-MAC", 36, 8, true },
};

static enum crypto_backend gcm_backend = CRYPTO_AUTO;
static bool gost_loaded;
static bool initialized;

int crypto_init(enum crypto_backend backend)
{
	if (initialized)
		return 0;
	if (backend == CRYPTO_AUTO || backend == CRYPTO_IPSECMB) {
#if defined(__x86_64__)
		if (crypto_gcm_ipsecmb_init() == 0)
			backend = CRYPTO_IPSECMB;
		else if (backend == CRYPTO_IPSECMB)
			return -ENOTSUP;
		else
			backend = CRYPTO_OPENSSL;
#else
		if (backend == CRYPTO_IPSECMB)
			return -ENOTSUP;
		backend = CRYPTO_OPENSSL;
#endif
	}
	gcm_backend = backend;
	gost_loaded = crypto_gost_init() == 0;
	initialized = true;
	return 0;
}

void crypto_fini(void)
{
	if (gost_loaded)
		crypto_gost_fini();
	gost_loaded = false;
	initialized = false;
}

const char *crypto_backend_name(void)
{
	static char name[64];

	if (gcm_backend == CRYPTO_IPSECMB) {
		snprintf(name, sizeof(name), "intel-ipsec-mb (%s)", crypto_gcm_ipsecmb_arch());
		return name;
	}
	return "OpenSSL EVP";
}

bool crypto_gost_available(void)
{
	return gost_loaded;
}

int aead_cipher_for(enum esp_alg alg, size_t keylen, enum aead_cipher *out)
{
	switch (alg) {
	case ESP_ALG_AES_GCM_16:
		if (keylen == 20)
			*out = AEAD_AES128_GCM;
		else if (keylen == 36)
			*out = AEAD_AES256_GCM;
		else
			return -EINVAL;
		return 0;
	case ESP_ALG_GOST:
	case ESP_ALG_GOST_MAC:
		if (keylen == 44)
			*out = alg == ESP_ALG_GOST ? AEAD_KUZNYECHIK_MGM : AEAD_KUZNYECHIK_MGM_MAC;
		else if (keylen == 36)
			*out = alg == ESP_ALG_GOST ? AEAD_MAGMA_MGM : AEAD_MAGMA_MGM_MAC;
		else
			return -EINVAL;
		return 0;
	}
	return -EINVAL;
}

const char *aead_cipher_name(enum aead_cipher c)
{
	return c < AEAD_CIPHER_MAX ? ciphers[c].name : "?";
}

size_t aead_keymat_len(enum aead_cipher c)
{
	return ciphers[c].keymat_len;
}

size_t aead_icv_len_of(enum aead_cipher c)
{
	return ciphers[c].icv_len;
}

static const struct aead_ops *ops_for(enum aead_cipher c, enum crypto_backend backend)
{
	if (ciphers[c].gost)
		return gost_loaded ? &aead_gost_ops : NULL;
	if (backend == CRYPTO_AUTO)
		backend = gcm_backend;
	return backend == CRYPTO_IPSECMB ? &aead_gcm_ipsecmb_ops : &aead_gcm_openssl_ops;
}

int aead_init(struct aead *a, enum aead_cipher c, const uint8_t *keymat, size_t len,
	      unsigned nthreads, enum crypto_backend backend)
{
	memset(a, 0, sizeof(*a));
	if (c >= AEAD_CIPHER_MAX || len != ciphers[c].keymat_len || nthreads == 0)
		return -EINVAL;
	if (!initialized)
		crypto_init(CRYPTO_AUTO);
	a->ops = ops_for(c, backend);
	if (!a->ops)
		return -ENOTSUP;
	a->keymat = keymat;
	a->keymat_len = (uint8_t)len;
	a->cipher = (uint8_t)c;
	a->icv_len = (uint8_t)ciphers[c].icv_len;
	a->nthreads = nthreads;
	if (a->ops->variant)
		a->variant = a->ops->variant(c);
	return 0;
}

int aead_key(struct aead *a)
{
	void *state = NULL, *none = NULL;
	int err;

	if (aead_keyed(a))
		return 0;
	err = a->ops->key(a, a->keymat, a->keymat_len, &state);
	if (err)
		return err;
	/* Published whole; the loser of a race drops its own (it was never seen). */
	if (!atomic_compare_exchange_strong_explicit(&a->priv, &none, state, memory_order_acq_rel,
						     memory_order_acquire))
		a->ops->unkey(a, state);
	return 0;
}

void aead_fini(struct aead *a)
{
	void *state = atomic_exchange_explicit(&a->priv, NULL, memory_order_acquire);

	if (state)
		a->ops->unkey(a, state);
	a->keymat = NULL;
}

/* A context of its own: the struct, then its copy of the keying material. */
struct aead_owned {
	struct aead a;
	uint8_t keymat[ESP_KEYMAT_MAX];
};

struct aead *aead_new_backend(enum aead_cipher c, const uint8_t *keymat, size_t len,
			      unsigned nthreads, enum crypto_backend backend)
{
	struct aead_owned *o;
	int err;

	if (len > ESP_KEYMAT_MAX) {
		errno = EINVAL;
		return NULL;
	}
	o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	memcpy(o->keymat, keymat, len);
	err = aead_init(&o->a, c, o->keymat, len, nthreads, backend);
	if (err) {
		wipe(o, sizeof(*o));
		free(o);
		errno = -err;
		return NULL;
	}
	return &o->a;
}

struct aead *aead_new(enum aead_cipher c, const uint8_t *keymat, size_t len, unsigned nthreads)
{
	return aead_new_backend(c, keymat, len, nthreads, CRYPTO_AUTO);
}

void aead_free(struct aead *a)
{
	struct aead_owned *o = (struct aead_owned *)a;

	if (!a)
		return;
	aead_fini(a);
	wipe(o, sizeof(*o));
	free(o);
}

enum aead_cipher aead_cipher(const struct aead *a)
{
	return a->cipher;
}

size_t aead_icv_len(const struct aead *a)
{
	return a->icv_len;
}
