// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * magma.c - the GOST R 34.12-2015 block cipher Magma (RFC 8891): the S-boxes of section 4.1
 * (id-tc26-gost-28147-param-Z), the round function g of 4.2, the key schedule of 4.3 and
 * encryption of 5.1, as two implementations (magma.h): `table` (four 8-to-32-bit tables)
 * and `ct` (AVX2, vpshufb on nibbles, constant-time). Called by crypto_gost.c as MGM's block
 * cipher, and by the tests.
 *
 * Byte order (RFC 8891): a block a_1 || a_0 is 8 bytes, a_1 first, each half big-endian; so
 * are the eight key words K_1 .. K_8.
 */
#include <endian.h>
#include <pthread.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "magma.h"
#include "lib/wipe.h"

/* RFC 8891 4.1: Pi'_0 .. Pi'_7; Pi'_i substitutes nibble i (bits 4i .. 4i+3) of a word */
static const uint8_t sbox[8][16] __attribute__((aligned(16))) = {
    {12, 4, 6, 2, 10, 5, 11, 9, 14, 8, 13, 7, 0, 3, 15, 1},
    {6, 8, 2, 3, 9, 10, 5, 12, 1, 14, 4, 7, 11, 13, 0, 15},
    {11, 3, 5, 8, 2, 15, 10, 13, 14, 1, 7, 4, 12, 9, 6, 0},
    {12, 8, 2, 1, 13, 4, 15, 6, 7, 0, 10, 5, 3, 14, 9, 11},
    {7, 15, 5, 10, 8, 1, 6, 13, 0, 9, 3, 14, 11, 4, 2, 12},
    {5, 13, 15, 6, 9, 2, 12, 10, 11, 7, 8, 1, 4, 3, 14, 0},
    {8, 14, 2, 5, 6, 9, 1, 12, 15, 4, 11, 0, 13, 10, 3, 7},
    {1, 7, 14, 13, 0, 5, 8, 3, 4, 15, 10, 6, 9, 12, 11, 2},
};

/* Made once by tables_init, read-only afterwards. */
static struct {
	uint32_t g[4][256]; /* g[i][v]: byte i of the word = v, through t and <<< 11 */
	uint8_t hi[8][16];  /* ct: sbox[i][v] << 4 */
} tab __attribute__((aligned(64)));

static pthread_once_t tab_once = PTHREAD_ONCE_INIT;

static uint32_t rotl11(uint32_t x)
{
	return x << 11 | x >> 21;
}

static void tables_init(void)
{
	for (int i = 0; i < 4; i++)
		for (int v = 0; v < 256; v++) {
			uint32_t s = (uint32_t)(sbox[2 * i + 1][v >> 4] << 4 | sbox[2 * i][v & 15]);

			tab.g[i][v] = rotl11(s << (8 * i));
		}
	for (int i = 0; i < 8; i++)
		for (int v = 0; v < 16; v++)
			tab.hi[i][v] = (uint8_t)(sbox[i][v] << 4);
}

void magma_setkey(struct magma_key *k, const uint8_t key[32])
{
	pthread_once(&tab_once, tables_init);
	for (int i = 0; i < 8; i++) {
		uint32_t w;

		memcpy(&w, key + 4 * i, 4);
		k->k[i] = be32toh(w);
	}
}

void magma_wipe(struct magma_key *k)
{
	wipe(k, sizeof(*k));
}

/* Round i (0-based) uses K_1 .. K_8 three times, then K_8 .. K_1. */
static inline int key_index(int i)
{
	return i < 24 ? i & 7 : 7 - (i & 7);
}

/* --- table ----------------------------------------------------------------------------------
 * 32 rounds of (a_1, a_0) <- (a_0, g(a_0 + K) ^ a_1), two per step so that the halves never
 * swap; after the last round (G*, no swap) the block is n1 || n2. */
static inline uint32_t g(uint32_t x)
{
	return tab.g[0][x & 0xff] ^ tab.g[1][(x >> 8) & 0xff] ^ tab.g[2][(x >> 16) & 0xff] ^
	       tab.g[3][x >> 24];
}

static inline __attribute__((always_inline)) void enc_n(const struct magma_key *k, uint8_t *out,
							const uint8_t *in, const int n)
{
	uint32_t n1[4], n2[4], w;

#pragma GCC unroll 4
	for (int b = 0; b < n; b++) {
		memcpy(&w, in + 8 * b, 4);
		n2[b] = be32toh(w);
		memcpy(&w, in + 8 * b + 4, 4);
		n1[b] = be32toh(w);
	}
	for (int i = 0; i < 32; i += 2) {
		uint32_t ka = k->k[key_index(i)], kb = k->k[key_index(i + 1)];

#pragma GCC unroll 4
		for (int b = 0; b < n; b++)
			n2[b] ^= g(n1[b] + ka);
#pragma GCC unroll 4
		for (int b = 0; b < n; b++)
			n1[b] ^= g(n2[b] + kb);
	}
#pragma GCC unroll 4
	for (int b = 0; b < n; b++) {
		w = htobe32(n1[b]);
		memcpy(out + 8 * b, &w, 4);
		w = htobe32(n2[b]);
		memcpy(out + 8 * b + 4, &w, 4);
	}
}

void magma_ecb_table(const struct magma_key *k, uint8_t *out, const uint8_t *in, size_t nblocks)
{
	for (; nblocks >= 4; nblocks -= 4, in += 32, out += 32)
		enc_n(k, out, in, 4);
	if (nblocks == 3)
		enc_n(k, out, in, 3);
	else if (nblocks == 2)
		enc_n(k, out, in, 2);
	else if (nblocks == 1)
		enc_n(k, out, in, 1);
}

/* --- ct: AVX2 -------------------------------------------------------------------------------
 * A register pair holds eight blocks: a_0 of each in n1's 32-bit lanes, a_1 in n2's. t is
 * eight vpshufb on nibbles: byte i of a lane needs Pi'_2i on its low nibble and Pi'_2i+1 on
 * its high one, so each byte position has its own pair of lookups, merged by constant
 * blends. Two pairs (16 blocks) go side by side when there are that many. */
#if defined(__x86_64__)
#define AVX2 __attribute__((target("avx2")))

AVX2 static inline __m256i bcast(const uint8_t *row16)
{
	return _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)row16));
}

/* t(x) <<< 11 */
AVX2 static inline __m256i ct_g(__m256i x)
{
	const __m256i m0f = _mm256_set1_epi8(0x0f), odd = _mm256_set1_epi16((short)0xff00);
	__m256i lo = _mm256_and_si256(x, m0f);
	__m256i hi = _mm256_and_si256(_mm256_srli_epi32(x, 4), m0f);
	__m256i s[4];

#pragma GCC unroll 4
	for (int i = 0; i < 4; i++) /* byte i of every lane, right in byte i */
		s[i] = _mm256_or_si256(_mm256_shuffle_epi8(bcast(sbox[2 * i]), lo),
				       _mm256_shuffle_epi8(bcast(tab.hi[2 * i + 1]), hi));
	s[0] = _mm256_blendv_epi8(s[0], s[1], odd); /* bytes 0 and 1 */
	s[2] = _mm256_blendv_epi8(s[2], s[3], odd); /* bytes 2 and 3 */
	x = _mm256_blend_epi16(s[0], s[2], 0xaa);
	return _mm256_or_si256(_mm256_slli_epi32(x, 11), _mm256_srli_epi32(x, 21));
}

/* sets (1 or 2) register pairs through the 32 rounds */
AVX2 static inline __attribute__((always_inline)) void
ct_rounds(const struct magma_key *k, __m256i *n1, __m256i *n2, const int sets)
{
	for (int i = 0; i < 32; i += 2) {
		__m256i ka = _mm256_set1_epi32((int)k->k[key_index(i)]);
		__m256i kb = _mm256_set1_epi32((int)k->k[key_index(i + 1)]);

		for (int s = 0; s < sets; s++)
			n2[s] = _mm256_xor_si256(n2[s], ct_g(_mm256_add_epi32(n1[s], ka)));
		for (int s = 0; s < sets; s++)
			n1[s] = _mm256_xor_si256(n1[s], ct_g(_mm256_add_epi32(n2[s], kb)));
	}
}

/* 8 * sets blocks. Lanes hold blocks 0 1 4 5 | 2 3 6 7 of each eight: the order in which
 * vshufps splits them and vpunpck{l,h}dq puts them back. */
AVX2 static inline __attribute__((always_inline)) void
ct_pass(const struct magma_key *k, uint8_t *out, const uint8_t *in, const int sets)
{
	const __m256i bswap = _mm256_broadcastsi128_si256(
	    _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3));
	__m256i n1[2], n2[2];

	for (int s = 0; s < sets; s++) {
		__m256 a = _mm256_castsi256_ps(
		    _mm256_shuffle_epi8(_mm256_loadu_si256((const __m256i *)(in + 64 * s)), bswap));
		__m256 b = _mm256_castsi256_ps(_mm256_shuffle_epi8(
		    _mm256_loadu_si256((const __m256i *)(in + 64 * s + 32)), bswap));

		n2[s] = _mm256_castps_si256(_mm256_shuffle_ps(a, b, 0x88)); /* a_1: lanes 0, 2 */
		n1[s] = _mm256_castps_si256(_mm256_shuffle_ps(a, b, 0xdd)); /* a_0: lanes 1, 3 */
	}
	ct_rounds(k, n1, n2, sets);
	for (int s = 0; s < sets; s++) {
		__m256i lo = _mm256_unpacklo_epi32(n1[s], n2[s]),
			hi = _mm256_unpackhi_epi32(n1[s], n2[s]);

		_mm256_storeu_si256((__m256i *)(out + 64 * s), _mm256_shuffle_epi8(lo, bswap));
		_mm256_storeu_si256((__m256i *)(out + 64 * s + 32), _mm256_shuffle_epi8(hi, bswap));
	}
}

AVX2 void magma_ecb_ct(const struct magma_key *k, uint8_t *out, const uint8_t *in, size_t nblocks)
{
	uint8_t buf[16 * 8];

	for (; nblocks >= 16; nblocks -= 16, in += 128, out += 128)
		ct_pass(k, out, in, 2);
	if (!nblocks)
		return;
	memcpy(buf, in, nblocks * 8);
	memset(buf + nblocks * 8, 0, sizeof(buf) - nblocks * 8);
	if (nblocks > 8)
		ct_pass(k, buf, buf, 2);
	else
		ct_pass(k, buf, buf, 1);
	memcpy(out, buf, nblocks * 8);
	wipe(buf, sizeof(buf));
}

bool magma_ct_supported(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2");
}
#else
void magma_ecb_ct(const struct magma_key *k, uint8_t *out, const uint8_t *in, size_t nblocks)
{
	(void)k, (void)out, (void)in, (void)nblocks;
}

bool magma_ct_supported(void)
{
	return false;
}
#endif
