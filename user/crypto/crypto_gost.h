/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * crypto_gost.h - what crypto_gost.c offers besides aead_gost_ops (crypto.h): hooks for the
 * tests (IV counter, derivation count, nonce), the derivation count for `stats`
 * (cmd_dump.c), and the raw block ciphers for the MGM tests and the benchmark.
 * The ESP code needs none of it.
 */
#ifndef ESPER_CRYPTO_GOST_H
#define ESPER_CRYPTO_GOST_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "mgm.h"

/* The IV is a function of the sequence number (crypto_gost.c): i1|i2|i3 = position / 2^bits,
 * pnum = position % 2^bits, position = seq (+ the test hook's offset); bits is 24 for
 * Kuznyechik, 11 for Magma (RFC 9227 5 octet limits). 0 if a is not GOST. */
unsigned crypto_gost_pnum_bits(const struct aead *a);

/* Test hook: from now on sequence number seq gets the IV i1|i2|i3|pnum, and the numbers after
 * it the positions after it. -EINVAL: not a GOST context, or pnum >= 2^bits. */
int crypto_gost_set_iv(struct aead *a, uint64_t seq, uint8_t i1, uint16_t i2, uint16_t i3,
		       uint32_t pnum);

/* Packets refused before their ICV because their IV would have needed key-tree derivations
 * beyond the forged-IV budget (crypto_gost.c; RFC 9227 5). */
uint64_t crypto_gost_limited(const struct aead *a);

/* KDF_GOSTR3411_2012_256 calls made for this SA so far, all thread slots together (a new
 * leaf costs 1 to 3 of them: the levels no cached leaf shares); 0 if a is not GOST. */
uint64_t crypto_gost_derivations(const struct aead *a);

/* The MGM nonce 0x00 | pnum | salt (RFC 9227 4.3) for a packet with this IV. Returns its
 * length, 16 or 8; 0 if a is not a GOST context. */
size_t crypto_gost_nonce(const struct aead *a, const uint8_t iv[ESP_IV_LEN], uint8_t nonce[16]);

/* How Magma ECB runs: "gost89-cfb batch" (one engine call per batch) or "magma-cbc per
 * block" (the fallback if the batch path fails its self-test at crypto_gost_init). */
const char *crypto_gost_magma_path(void);

/* The block ciphers, keyed once: Kuznyechik and Magma on the implementation the transforms
 * use (crypto_gost_select) or on a given one; two gost-engine paths as baselines. */
enum gost_block_kind {
	GOST_BLOCK_KUZNYECHIK,
	GOST_BLOCK_MAGMA,
	GOST_BLOCK_MAGMA_CBC1, /* gost-engine's magma-cbc with a zero IV, one block per call */
	GOST_BLOCK_MAGMA_CTR,  /* gost-engine's magma-ctr keystream: raw only, no ECB */
};

struct gost_block;

struct gost_block *crypto_gost_block_new(enum gost_block_kind kind, const uint8_t key[32]);
/* ENOTSUP: that implementation is not on this CPU (the last two kinds ignore impl). */
struct gost_block *crypto_gost_block_new_impl(enum gost_block_kind kind, enum gost_impl impl,
					      const uint8_t key[32]);
void crypto_gost_block_free(struct gost_block *b);	   /* zeroizes; NULL is a no-op */
size_t crypto_gost_block_size(const struct gost_block *b); /* 16 or 8 */
/* ECB over nblocks blocks in RFC byte order, out != in; an mgm_ecb_fn (key = the block). */
int crypto_gost_block_ecb(void *b, uint8_t *out, const uint8_t *in, size_t nblocks);
/* The block as MGM's cipher (mgm.h): its ECB, and its counter path where it has one
 * (Kuznyechik table); the tests and the benchmark call MGM through it as gost_run does. */
void crypto_gost_block_mgm(struct gost_block *b, struct mgm_cipher *mc);
/* One raw call over len bytes (a multiple of the block size), the benchmark's baseline:
 * kuznyechik-ecb, gost89-cfb decryption, magma-cbc (per block), magma-ctr; ECB for ours. */
int crypto_gost_block_raw(struct gost_block *b, uint8_t *out, const uint8_t *in, size_t len);

#endif
