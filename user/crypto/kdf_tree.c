// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * kdf_tree.c - KDF_GOSTR3411_2012_256 and KDF_TREE_GOSTR3411_2012_256 (RFC 7836 4.4, 4.5)
 * on OpenSSL's HMAC (EVP_MAC "HMAC") with gost-engine's Streebog-256 (md_gost12_256), and
 * the three-level tree K_msg = KDF(KDF(KDF(K, "level1", 0x00|i1), "level2", i2), "level3",
 * i3) of RFC 9227 4.1. Called by crypto_gost.c when a packet's i1/i2/i3 differ from the
 * cached leaf (never more than three HMACs per packet), and by the tests.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "kdf_tree.h"
#include "lib/bytes.h"
#include "lib/wipe.h"

#define DIGEST_NAME "md_gost12_256"
#define LABEL_LEN   6

struct kdf_tree_ctx {
	EVP_MAC_CTX *mac; /* HMAC, digest set once; keyed per derivation */
};

static EVP_MAC *hmac;

/* RFC 7836 B.9 */
static const uint8_t kat_key[32] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};
static const uint8_t kat_label[4] = {0x26, 0xbd, 0xb8, 0x78};
static const uint8_t kat_seed[8] = {0xaf, 0x21, 0x43, 0x41, 0x45, 0x65, 0x63, 0x78};
static const uint8_t kat_out[32] = {
    0xa1, 0xaa, 0x5f, 0x7d, 0xe4, 0x02, 0xd7, 0xb3, 0xd3, 0x23, 0xf2, 0x99, 0x1c, 0x8d, 0x45, 0x34,
    0x01, 0x31, 0x37, 0x01, 0x0a, 0x83, 0x75, 0x4f, 0xd0, 0xaf, 0x6d, 0x7c, 0xd4, 0x92, 0x2e, 0xd9,
};

static int self_test(void)
{
	struct kdf_tree_ctx *k = kdf_tree_ctx_new();
	uint8_t out[32];
	int err;

	if (!k)
		return -ENOTSUP;
	err = kdf_tree_kdf256(k, kat_key, kat_label, sizeof(kat_label), kat_seed, sizeof(kat_seed),
			      out);
	if (!err && memcmp(out, kat_out, sizeof(out)))
		err = -ENOTSUP;
	kdf_tree_ctx_free(k);
	return err ? -ENOTSUP : 0;
}

int kdf_tree_init(void)
{
	int err;

	if (hmac)
		return 0;
	hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!hmac)
		return -ENOTSUP;
	err = self_test();
	if (err) {
		EVP_MAC_free(hmac);
		hmac = NULL;
		ERR_clear_error();
	}
	return err;
}

void kdf_tree_fini(void)
{
	EVP_MAC_free(hmac);
	hmac = NULL;
}

struct kdf_tree_ctx *kdf_tree_ctx_new(void)
{
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)DIGEST_NAME, 0),
	    OSSL_PARAM_construct_end(),
	};
	struct kdf_tree_ctx *k;

	if (!hmac) {
		errno = ENOTSUP;
		return NULL;
	}
	k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->mac = EVP_MAC_CTX_new(hmac);
	if (!k->mac || !EVP_MAC_CTX_set_params(k->mac, params)) {
		kdf_tree_ctx_free(k);
		ERR_clear_error();
		errno = ENOTSUP;
		return NULL;
	}
	return k;
}

void kdf_tree_ctx_free(struct kdf_tree_ctx *k)
{
	if (!k)
		return;
	EVP_MAC_CTX_free(k->mac);
	free(k);
}

static int mac_update(EVP_MAC_CTX *m, const uint8_t *p, size_t len)
{
	return !len || EVP_MAC_update(m, p, len);
}

/* HMAC(key, i | label | 0x00 | seed | lb) */
static int hmac_block(struct kdf_tree_ctx *k, const uint8_t *key, uint8_t i, const uint8_t *label,
		      size_t label_len, const uint8_t *seed, size_t seed_len, const uint8_t *lb,
		      size_t lb_len, uint8_t *out)
{
	static const uint8_t zero;
	size_t outl = 0;

	if (!EVP_MAC_init(k->mac, key, KDF_TREE_KEY_LEN, NULL) || !mac_update(k->mac, &i, 1) ||
	    !mac_update(k->mac, label, label_len) || !mac_update(k->mac, &zero, 1) ||
	    !mac_update(k->mac, seed, seed_len) || !mac_update(k->mac, lb, lb_len) ||
	    !EVP_MAC_final(k->mac, out, &outl, KDF_TREE_KEY_LEN) || outl != KDF_TREE_KEY_LEN) {
		ERR_clear_error();
		return -EIO;
	}
	return 0;
}

int kdf_tree_derive(struct kdf_tree_ctx *k, const uint8_t key[KDF_TREE_KEY_LEN],
		    const uint8_t *label, size_t label_len, const uint8_t *seed, size_t seed_len,
		    uint8_t *out, size_t out_len)
{
	size_t bits = out_len * 8, n = out_len / KDF_TREE_KEY_LEN;
	uint8_t lb[2];
	size_t lb_len;

	if (!k || !out_len || out_len % KDF_TREE_KEY_LEN || n > 255 || (label_len && !label) ||
	    (seed_len && !seed))
		return -EINVAL;
	/* [L]_b: network byte order, no leading zero bytes (L is 256 .. 65280 here). */
	lb_len = 0;
	if (bits > 0xff)
		lb[lb_len++] = (uint8_t)(bits >> 8);
	lb[lb_len++] = (uint8_t)bits;
	for (size_t i = 1; i <= n; i++) {
		int err = hmac_block(k, key, (uint8_t)i, label, label_len, seed, seed_len, lb,
				     lb_len, out + (i - 1) * KDF_TREE_KEY_LEN);

		if (err) {
			wipe(out, out_len);
			return err;
		}
	}
	return 0;
}

int kdf_tree_kdf256(struct kdf_tree_ctx *k, const uint8_t key[KDF_TREE_KEY_LEN],
		    const uint8_t *label, size_t label_len, const uint8_t *seed, size_t seed_len,
		    uint8_t out[KDF_TREE_KEY_LEN])
{
	return kdf_tree_derive(k, key, label, label_len, seed, seed_len, out, KDF_TREE_KEY_LEN);
}

int kdf_tree_level(struct kdf_tree_ctx *k, unsigned level, const uint8_t key[KDF_TREE_KEY_LEN],
		   uint16_t index, uint8_t out[KDF_TREE_KEY_LEN])
{
	uint8_t label[LABEL_LEN] = {'l', 'e', 'v', 'e', 'l', (uint8_t)('0' + level)};
	uint8_t seed[2];

	wr16(seed, index);
	if (level < 1 || level > 3 || (level == 1 && index > 0xff))
		return -EINVAL;
	return kdf_tree_kdf256(k, key, label, sizeof(label), seed, sizeof(seed), out);
}

int kdf_tree_leaf(struct kdf_tree_ctx *k, const uint8_t root[KDF_TREE_KEY_LEN], uint8_t i1,
		  uint16_t i2, uint16_t i3, uint8_t out[KDF_TREE_KEY_LEN])
{
	uint8_t k1[KDF_TREE_KEY_LEN], k2[KDF_TREE_KEY_LEN];
	int err = kdf_tree_level(k, 1, root, i1, k1);

	if (!err)
		err = kdf_tree_level(k, 2, k1, i2, k2);
	if (!err)
		err = kdf_tree_level(k, 3, k2, i3, out);
	wipe(k1, sizeof(k1));
	wipe(k2, sizeof(k2));
	return err;
}
