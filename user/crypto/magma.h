/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * magma.h - the GOST R 34.12-2015 64-bit block cipher "Magma" (RFC 8891), encryption only
 * (MGM, mgm.c, never decrypts a block). Two implementations share one key schedule and take
 * many independent blocks per call (ECB), in RFC byte order:
 *
 *   table  the eight 4-bit S-boxes and the 11-bit rotation folded into four 8-to-32-bit
 *          tables (4 KB), four blocks interleaved. NOT constant-time: its loads are indexed
 *          by secret state.
 *   ct     AVX2: eight blocks per register pair, the S-boxes as vpshufb on nibbles, 16 blocks
 *          per pass when there are that many. Constant-time.
 *
 * A key is used by one thread at a time; the tables are process-wide and read-only once
 * made (on the first key schedule).
 */
#ifndef ESPER_MAGMA_H
#define ESPER_MAGMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAGMA_BLOCK 8

struct magma_key {
	uint32_t k[8]; /* K_1 .. K_8 (RFC 8891 4.3); rounds use 1-8 three times, then 8-1 */
};

void magma_setkey(struct magma_key *k, const uint8_t key[32]); /* constant-time */
void magma_wipe(struct magma_key *k);

/* nblocks blocks from in to out (the same buffer or distinct ones, any alignment). */
void magma_ecb_table(const struct magma_key *k, uint8_t *out, const uint8_t *in, size_t nblocks);
/* Constant-time; the caller has checked magma_ct_supported(). */
void magma_ecb_ct(const struct magma_key *k, uint8_t *out, const uint8_t *in, size_t nblocks);
bool magma_ct_supported(void); /* AVX2 */

#endif
