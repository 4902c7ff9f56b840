/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * kdf_tree.h - the GOST key derivation functions: KDF_GOSTR3411_2012_256 and
 * KDF_TREE_GOSTR3411_2012_256 (RFC 7836 4.4-4.5, HMAC with Streebog-256 from gost-engine),
 * and the three-level key tree of the RFC 9227 ESP transforms (4.1).
 *
 * Threads: a struct kdf_tree_ctx is used by one thread at a time (crypto_gost.c keeps one
 * per SA thread slot). kdf_tree_init must have succeeded (gost-engine loaded) first.
 */
#ifndef ESPER_KDF_TREE_H
#define ESPER_KDF_TREE_H

#include <stddef.h>
#include <stdint.h>

#define KDF_TREE_KEY_LEN 32

struct kdf_tree_ctx;

/* Process-wide: fetch HMAC, check HMAC-Streebog-256 against RFC 7836 B.9. Needs gost-engine
 * loaded (crypto_gost_init does both). 0, or -ENOTSUP. */
int kdf_tree_init(void);
void kdf_tree_fini(void);

struct kdf_tree_ctx *kdf_tree_ctx_new(void);	/* NULL with errno set */
void kdf_tree_ctx_free(struct kdf_tree_ctx *k); /* NULL is a no-op */

/* KDF_GOSTR3411_2012_256(key, label, seed) = HMAC(key, 0x01 | label | 0x00 | seed | 0x01 0x00) */
int kdf_tree_kdf256(struct kdf_tree_ctx *k, const uint8_t key[KDF_TREE_KEY_LEN],
		    const uint8_t *label, size_t label_len, const uint8_t *seed, size_t seed_len,
		    uint8_t out[KDF_TREE_KEY_LEN]);

/* KDF_TREE_GOSTR3411_2012_256 with R = 1: out_len (a multiple of 32, at most 255 * 32) bytes
 * of K(1) | K(2) | ..., K(i) = HMAC(key, [i]_b | label | 0x00 | seed | [L]_b). */
int kdf_tree_derive(struct kdf_tree_ctx *k, const uint8_t key[KDF_TREE_KEY_LEN],
		    const uint8_t *label, size_t label_len, const uint8_t *seed, size_t seed_len,
		    uint8_t *out, size_t out_len);

/* One level of the RFC 9227 tree: KDF(key, "level<level>", seed), seed = 0x00 | i1 for
 * level 1 (index <= 255), i2 or i3 in network byte order for levels 2 and 3. */
int kdf_tree_level(struct kdf_tree_ctx *k, unsigned level, const uint8_t key[KDF_TREE_KEY_LEN],
		   uint16_t index, uint8_t out[KDF_TREE_KEY_LEN]);

/* K_msg = KDF(KDF(KDF(root, "level1", 0x00|i1), "level2", i2), "level3", i3) */
int kdf_tree_leaf(struct kdf_tree_ctx *k, const uint8_t root[KDF_TREE_KEY_LEN], uint8_t i1,
		  uint16_t i2, uint16_t i3, uint8_t out[KDF_TREE_KEY_LEN]);

#endif
