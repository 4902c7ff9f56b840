/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * kuznyechik.h - the GOST R 34.12-2015 128-bit block cipher "Kuznyechik" (RFC 7801),
 * encryption only: MGM (mgm.c) never decrypts a block. Two implementations share one key
 * schedule and take many independent blocks per call (ECB), in RFC byte order:
 *
 *   table  16 precomputed LS tables (64 KB), four blocks interleaved, and a counter path
 *          for MGM that shares round 1 among a packet's counter blocks. Fast everywhere,
 *          NOT constant-time: its loads are indexed by secret state.
 *   ct     AVX2, byte-sliced: 32 blocks per pass, the S-box and the GF(2^8) products of L
 *          done with vpshufb on nibbles. Constant-time: no secret-indexed load, no
 *          secret-dependent branch. A call of 1 block costs a whole 32-block pass.
 *
 * A key is used by one thread at a time; the tables are process-wide and read-only once
 * made (on the first key schedule).
 */
#ifndef ESPER_KUZNYECHIK_H
#define ESPER_KUZNYECHIK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KUZNYECHIK_BLOCK 16

struct kuznyechik_key {
	uint8_t rk[10][16] __attribute__((aligned(16))); /* K_1 .. K_10 (RFC 7801 4.3) */
};

/* Round keys from a 32-byte key with the table-driven LS (not constant-time). */
void kuznyechik_setkey(struct kuznyechik_key *k, const uint8_t key[32]);
/* The same round keys, constant-time (the ct pass); -ENOTSUP if the CPU has no AVX2. */
int kuznyechik_setkey_ct(struct kuznyechik_key *k, const uint8_t key[32]);
void kuznyechik_wipe(struct kuznyechik_key *k);

/* nblocks blocks from in to out (the same buffer or distinct ones, any alignment). */
void kuznyechik_ecb_table(const struct kuznyechik_key *k, uint8_t *out, const uint8_t *in,
			  size_t nblocks);
/* Which build of the table code runs: with AVX2 and BMI2 (the default where the CPU has
 * them) or the plain one. Tests only; -ENOTSUP if the CPU lacks them. Not thread-safe. */
int kuznyechik_table_vex(bool on);
/* MGM's counter blocks (RFC 9058 4.1), table: out gets E(y + i) for i < ny, counting in y's
 * right 64-bit half (incr_r), then E(z + i) for i < nz, counting in z's left half (incr_l).
 * The same output as ECB over those counters, with round 1 shared: 129 table lookups per
 * block instead of 144. out holds 16 (ny + nz) bytes. */
void kuznyechik_mgm_ctr_table(const struct kuznyechik_key *k, uint8_t *out, const uint8_t y[16],
			      size_t ny, const uint8_t z[16], size_t nz);
/* Constant-time; the caller has checked kuznyechik_ct_supported(). */
void kuznyechik_ecb_ct(const struct kuznyechik_key *k, uint8_t *out, const uint8_t *in,
		       size_t nblocks);
bool kuznyechik_ct_supported(void); /* AVX2 */

#endif
