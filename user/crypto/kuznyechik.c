// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * kuznyechik.c - the GOST R 34.12-2015 block cipher Kuznyechik (RFC 7801): the S-box pi and
 * the linear map L of section 4.1, the key schedule of 4.3 and encryption of 4.4.1, as two
 * implementations (kuznyechik.h): `table` (LS folded into 16 tables of 256 16-byte rows)
 * and `ct` (AVX2, byte-sliced, constant-time). Called by crypto_gost.c as MGM's block
 * cipher, and by the tests.
 *
 * Byte order: a block is a_15 .. a_0 of RFC 7801 in memory order (byte 0 = a_15); ell's
 * coefficients below are listed in that order. GF(2^8) is modulo x^8+x^7+x^6+x+1.
 */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "kuznyechik.h"
#include "lib/wipe.h"

/* RFC 7801 4.1.1 */
static const uint8_t pi[256] __attribute__((aligned(64))) = {
    0xfc, 0xee, 0xdd, 0x11, 0xcf, 0x6e, 0x31, 0x16, 0xfb, 0xc4, 0xfa, 0xda, 0x23, 0xc5, 0x04, 0x4d,
    0xe9, 0x77, 0xf0, 0xdb, 0x93, 0x2e, 0x99, 0xba, 0x17, 0x36, 0xf1, 0xbb, 0x14, 0xcd, 0x5f, 0xc1,
    0xf9, 0x18, 0x65, 0x5a, 0xe2, 0x5c, 0xef, 0x21, 0x81, 0x1c, 0x3c, 0x42, 0x8b, 0x01, 0x8e, 0x4f,
    0x05, 0x84, 0x02, 0xae, 0xe3, 0x6a, 0x8f, 0xa0, 0x06, 0x0b, 0xed, 0x98, 0x7f, 0xd4, 0xd3, 0x1f,
    0xeb, 0x34, 0x2c, 0x51, 0xea, 0xc8, 0x48, 0xab, 0xf2, 0x2a, 0x68, 0xa2, 0xfd, 0x3a, 0xce, 0xcc,
    0xb5, 0x70, 0x0e, 0x56, 0x08, 0x0c, 0x76, 0x12, 0xbf, 0x72, 0x13, 0x47, 0x9c, 0xb7, 0x5d, 0x87,
    0x15, 0xa1, 0x96, 0x29, 0x10, 0x7b, 0x9a, 0xc7, 0xf3, 0x91, 0x78, 0x6f, 0x9d, 0x9e, 0xb2, 0xb1,
    0x32, 0x75, 0x19, 0x3d, 0xff, 0x35, 0x8a, 0x7e, 0x6d, 0x54, 0xc6, 0x80, 0xc3, 0xbd, 0x0d, 0x57,
    0xdf, 0xf5, 0x24, 0xa9, 0x3e, 0xa8, 0x43, 0xc9, 0xd7, 0x79, 0xd6, 0xf6, 0x7c, 0x22, 0xb9, 0x03,
    0xe0, 0x0f, 0xec, 0xde, 0x7a, 0x94, 0xb0, 0xbc, 0xdc, 0xe8, 0x28, 0x50, 0x4e, 0x33, 0x0a, 0x4a,
    0xa7, 0x97, 0x60, 0x73, 0x1e, 0x00, 0x62, 0x44, 0x1a, 0xb8, 0x38, 0x82, 0x64, 0x9f, 0x26, 0x41,
    0xad, 0x45, 0x46, 0x92, 0x27, 0x5e, 0x55, 0x2f, 0x8c, 0xa3, 0xa5, 0x7d, 0x69, 0xd5, 0x95, 0x3b,
    0x07, 0x58, 0xb3, 0x40, 0x86, 0xac, 0x1d, 0xf7, 0x30, 0x37, 0x6b, 0xe4, 0x88, 0xd9, 0xe7, 0x89,
    0xe1, 0x1b, 0x83, 0x49, 0x4c, 0x3f, 0xf8, 0xfe, 0x8d, 0x53, 0xaa, 0x90, 0xca, 0xd8, 0x85, 0x61,
    0x20, 0x71, 0x67, 0xa4, 0x2d, 0x2b, 0x09, 0x5b, 0xcb, 0x9b, 0x25, 0xd0, 0xbe, 0xe5, 0x6c, 0x52,
    0x59, 0xa6, 0x74, 0xd2, 0xe6, 0xf4, 0xb4, 0xc0, 0xd1, 0x66, 0xaf, 0xc2, 0x39, 0x4b, 0x63, 0xb6,
};

/* RFC 7801 4.1.2: ell's coefficients for a_15 .. a_0 */
static const uint8_t ell[16] = {148, 32,  133, 16, 194, 192, 1,	  251,
				1,   192, 194, 16, 133, 32,  148, 1};

typedef uint64_t v2 __attribute__((vector_size(16)));

/* Made once by tables_init, read-only afterwards. */
static struct {
	v2 ls[16][256];	       /* ls[j][v] = L(pi(v) at byte j, zeros elsewhere) */
	uint8_t c[32][16];     /* C_1 .. C_32 = L(Vec_128(i)) (4.3) */
	uint8_t mul[7][2][16]; /* ct: c * v and c * (v << 4) for ell's coefficients != 1 */
} tab __attribute__((aligned(64)));

static pthread_once_t tab_once = PTHREAD_ONCE_INIT;

/* ell's coefficients other than 1, in the order kuz_ct_l uses them */
static const uint8_t ct_coef[7] = {148, 32, 133, 16, 194, 192, 251};

static uint8_t gf_mul(uint8_t a, uint8_t b)
{
	uint8_t r = 0;

	for (; b; b >>= 1) {
		if (b & 1)
			r ^= a;
		a = (uint8_t)(a << 1) ^ (a & 0x80 ? 0xc3 : 0);
	}
	return r;
}

/* L = R^16 on public data (table making only): R puts ell(a) in front of a_15 .. a_1. */
static void l_slow(uint8_t x[16])
{
	for (int k = 0; k < 16; k++) {
		uint8_t t = 0;

		for (int i = 0; i < 16; i++)
			t ^= gf_mul(ell[i], x[i]);
		memmove(x + 1, x, 15);
		x[0] = t;
	}
}

/* L is GF(2^8)-linear: L(v at byte j) = v * L(1 at byte j), column by column. */
static void tables_init(void)
{
	uint8_t col[16][16], row[16];

	for (int j = 0; j < 16; j++) {
		memset(col[j], 0, 16);
		col[j][j] = 1;
		l_slow(col[j]);
	}
	for (int j = 0; j < 16; j++)
		for (int v = 0; v < 256; v++) {
			for (int i = 0; i < 16; i++)
				row[i] = gf_mul(pi[v], col[j][i]);
			memcpy(&tab.ls[j][v], row, 16);
		}
	for (int i = 0; i < 32; i++)
		for (int k = 0; k < 16; k++)
			tab.c[i][k] = gf_mul((uint8_t)(i + 1), col[15][k]);
	for (int m = 0; m < 7; m++)
		for (int v = 0; v < 16; v++) {
			tab.mul[m][0][v] = gf_mul(ct_coef[m], (uint8_t)v);
			tab.mul[m][1][v] = gf_mul(ct_coef[m], (uint8_t)(v << 4));
		}
}

/* --- key schedule (4.3) -------------------------------------------------------------------
 * (K_1, K_2) = the key's halves; then pairs of F[C_i](a_1, a_0) = (LSX[C_i](a_1) ^ a_0, a_1),
 * eight per pair of round keys. lsx(x, c) sets x = L(S(x ^ c)). */
typedef void (*lsx_fn)(uint8_t x[16], const uint8_t c[16]);

static void schedule(struct kuznyechik_key *k, const uint8_t key[32], lsx_fn lsx)
{
	uint8_t a1[16], a0[16], t[16];

	pthread_once(&tab_once, tables_init);
	memcpy(a1, key, 16);
	memcpy(a0, key + 16, 16);
	memcpy(k->rk[0], a1, 16);
	memcpy(k->rk[1], a0, 16);
	for (int i = 0; i < 32; i++) {
		memcpy(t, a1, 16);
		lsx(t, tab.c[i]);
		for (int j = 0; j < 16; j++)
			t[j] ^= a0[j];
		memcpy(a0, a1, 16);
		memcpy(a1, t, 16);
		if (i % 8 == 7) {
			memcpy(k->rk[2 + i / 8 * 2], a1, 16);
			memcpy(k->rk[3 + i / 8 * 2], a0, 16);
		}
	}
	wipe(a1, sizeof(a1));
	wipe(a0, sizeof(a0));
	wipe(t, sizeof(t));
}

void kuznyechik_wipe(struct kuznyechik_key *k)
{
	wipe(k, sizeof(*k));
}

/* --- table: LS(x) = XOR over j of ls[j][x_j] ----------------------------------------------
 * t is tab.ls seen as bytes, kept in one register: row j of byte value v is at
 * t + 4096 j + 16 v, and 16 v comes straight from a state word: (w >> (8i - 4)) & 0xff0 is
 * 16 * byte i of w (a rotation for i = 0). */
#define ROW(t, j, w, sh)                                                                           \
	(*(const v2 *)((t) + 4096 * (j) + (((w) >> (sh) | (w) << (64 - (sh))) & 0xff0)))

static inline __attribute__((always_inline)) v2 ls(const uint8_t *t, v2 x)
{
	uint64_t a = le64toh(x[0]), b = le64toh(x[1]);

	return ROW(t, 0, a, 60) ^ ROW(t, 1, a, 4) ^ ROW(t, 2, a, 12) ^ ROW(t, 3, a, 20) ^
	       ROW(t, 4, a, 28) ^ ROW(t, 5, a, 36) ^ ROW(t, 6, a, 44) ^ ROW(t, 7, a, 52) ^
	       ROW(t, 8, b, 60) ^ ROW(t, 9, b, 4) ^ ROW(t, 10, b, 12) ^ ROW(t, 11, b, 20) ^
	       ROW(t, 12, b, 28) ^ ROW(t, 13, b, 36) ^ ROW(t, 14, b, 44) ^ ROW(t, 15, b, 52);
}

/* The table base, hidden from the compiler so that it stays one register. */
static inline const uint8_t *ls_base(void)
{
	const uint8_t *t = (const uint8_t *)tab.ls;

	__asm__("" : "+r"(t));
	return t;
}

static void lsx_table(uint8_t x[16], const uint8_t c[16])
{
	v2 a, b;

	memcpy(&a, x, 16);
	memcpy(&b, c, 16);
	a = ls(ls_base(), a ^ b);
	memcpy(x, &a, 16);
}

void kuznyechik_setkey(struct kuznyechik_key *k, const uint8_t key[32])
{
	schedule(k, key, lsx_table);
}

/* n (1 to 4, a constant after inlining) blocks side by side: 9 rounds of X then LS, then X. */
static inline __attribute__((always_inline)) void
enc_n(const struct kuznyechik_key *k, uint8_t *out, const uint8_t *in, const int n)
{
	const uint8_t *t = ls_base();
	v2 x[4], rk;

#pragma GCC unroll 4
	for (int b = 0; b < n; b++)
		memcpy(&x[b], in + 16 * b, 16);
	for (int r = 0; r < 9; r++) {
		memcpy(&rk, k->rk[r], 16);
#pragma GCC unroll 4
		for (int b = 0; b < n; b++)
			x[b] = ls(t, x[b] ^ rk);
	}
	memcpy(&rk, k->rk[9], 16);
#pragma GCC unroll 4
	for (int b = 0; b < n; b++) {
		x[b] ^= rk;
		memcpy(out + 16 * b, &x[b], 16);
	}
}

void kuznyechik_ecb_table(const struct kuznyechik_key *k, uint8_t *out, const uint8_t *in,
			  size_t nblocks)
{
	for (; nblocks >= 4; nblocks -= 4, in += 64, out += 64)
		enc_n(k, out, in, 4);
	if (nblocks == 3)
		enc_n(k, out, in, 3);
	else if (nblocks == 2)
		enc_n(k, out, in, 2);
	else if (nblocks == 1)
		enc_n(k, out, in, 1);
}

/* --- ct: AVX2, byte-sliced ------------------------------------------------------------------
 * 32 blocks per pass. After the transpose, register j holds byte j of every block (blocks
 * 0-15 in the low 128-bit lane, 16-31 in the high one), so every operation is the same for
 * all 32 bytes of a register: the S-box is 16 vpshufb on the low nibble (one per value of
 * the high nibble: pi's 16-byte rows) merged by a vpblendvb tree on the high nibble's bits;
 * L is R^16 as the linear recurrence u_{k+16} = ell(u_k .. u_{k+15}), whose products by a
 * constant are two vpshufb on nibbles. No load or branch depends on data. */
#if defined(__x86_64__)
#define AVX2 __attribute__((target("avx2")))

AVX2 static inline __m256i bcast(const uint8_t *row16)
{
	return _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)row16));
}

AVX2 static inline __m256i ct_sbox(__m256i x)
{
	__m256i lo = _mm256_and_si256(x, _mm256_set1_epi8(0x0f));
	__m256i s4 = _mm256_slli_epi16(x, 3), s5 = _mm256_slli_epi16(x, 2);
	__m256i s6 = _mm256_add_epi8(x, x), u[8];

#pragma GCC unroll 8
	for (int h = 0; h < 8; h++) /* bit 7 of s4 is bit 4 of x: pi row 2h or 2h + 1 */
		u[h] = _mm256_blendv_epi8(_mm256_shuffle_epi8(bcast(pi + 32 * h), lo),
					  _mm256_shuffle_epi8(bcast(pi + 32 * h + 16), lo), s4);
#pragma GCC unroll 4
	for (int h = 0; h < 4; h++)
		u[h] = _mm256_blendv_epi8(u[2 * h], u[2 * h + 1], s5);
	u[0] = _mm256_blendv_epi8(u[0], u[1], s6);
	u[1] = _mm256_blendv_epi8(u[2], u[3], s6);
	return _mm256_blendv_epi8(u[0], u[1], x);
}

/* v * ct_coef[m] */
AVX2 static inline __m256i ct_mul(__m256i v, int m)
{
	__m256i m0f = _mm256_set1_epi8(0x0f);
	__m256i lo = _mm256_and_si256(v, m0f);
	__m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m0f);

	return _mm256_xor_si256(_mm256_shuffle_epi8(bcast(tab.mul[m][0]), lo),
				_mm256_shuffle_epi8(bcast(tab.mul[m][1]), hi));
}

#define X(a, b) _mm256_xor_si256(a, b)

/* State byte i is u_{15-i}; ell pairs the equal coefficients (148 for u_{k+15} and u_{k+1},
 * ...), 1 for u_{k+9}, u_{k+7} and u_k. After 16 steps byte i is u_{31-i}. */
AVX2 static inline __attribute__((always_inline)) void ct_l(__m256i s[16])
{
	__m256i u[32];

#pragma GCC unroll 16
	for (int i = 0; i < 16; i++)
		u[i] = s[15 - i];
#pragma GCC unroll 16
	for (int k = 0; k < 16; k++) {
		__m256i *w = u + k;
		__m256i a = X(ct_mul(X(w[15], w[1]), 0), ct_mul(X(w[14], w[2]), 1));
		__m256i b = X(ct_mul(X(w[13], w[3]), 2), ct_mul(X(w[12], w[4]), 3));
		__m256i c = X(ct_mul(X(w[11], w[5]), 4), ct_mul(X(w[10], w[6]), 5));
		__m256i d = X(ct_mul(w[8], 6), X(X(w[9], w[7]), w[0]));

		w[16] = X(X(a, b), X(c, d));
	}
#pragma GCC unroll 16
	for (int i = 0; i < 16; i++)
		s[i] = u[31 - i];
}

AVX2 static inline __attribute__((always_inline)) void ct_round(__m256i s[16], const uint8_t rk[16])
{
#pragma GCC unroll 16
	for (int j = 0; j < 16; j++)
		s[j] = ct_sbox(X(s[j], _mm256_set1_epi8((char)rk[j])));
	ct_l(s);
}

/* 16x16 byte transpose in each 128-bit lane (its own inverse): four rounds of byte
 * interleaving, each pairing registers that differ in one bit of their index. */
AVX2 static inline __attribute__((always_inline)) void ct_transpose(__m256i r[16])
{
#pragma GCC unroll 4
	for (int step = 8; step >= 1; step >>= 1)
#pragma GCC unroll 16
		for (int i = 0; i < 16; i++) {
			if (i & step)
				continue;
			__m256i a = r[i], b = r[i + step];

			r[i] = _mm256_unpacklo_epi8(a, b);
			r[i + step] = _mm256_unpackhi_epi8(a, b);
		}
}

/* 32 blocks of buf, in place. */
AVX2 static void ct_pass(const struct kuznyechik_key *k, uint8_t *buf)
{
	__m256i s[16];

	for (int i = 0; i < 16; i++)
		s[i] = _mm256_inserti128_si256(
		    _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(buf + 16 * i))),
		    _mm_loadu_si128((const __m128i *)(buf + 16 * (i + 16))), 1);
	ct_transpose(s);
	for (int r = 0; r < 9; r++)
		ct_round(s, k->rk[r]);
	for (int j = 0; j < 16; j++)
		s[j] = X(s[j], _mm256_set1_epi8((char)k->rk[9][j]));
	ct_transpose(s);
	for (int i = 0; i < 16; i++) {
		_mm_storeu_si128((__m128i *)(buf + 16 * i), _mm256_castsi256_si128(s[i]));
		_mm_storeu_si128((__m128i *)(buf + 16 * (i + 16)),
				 _mm256_extracti128_si256(s[i], 1));
	}
}

/* One block in every lane (its bytes broadcast): the key schedule's LSX, constant-time. */
AVX2 static void lsx_ct(uint8_t x[16], const uint8_t c[16])
{
	__m256i s[16];

	for (int j = 0; j < 16; j++)
		s[j] = _mm256_set1_epi8((char)x[j]);
	ct_round(s, c);
	for (int j = 0; j < 16; j++)
		x[j] = (uint8_t)_mm256_extract_epi8(s[j], 0);
}

AVX2 void kuznyechik_ecb_ct(const struct kuznyechik_key *k, uint8_t *out, const uint8_t *in,
			    size_t nblocks)
{
	uint8_t buf[32 * 16] __attribute__((aligned(32)));

	while (nblocks) {
		size_t m = nblocks < 32 ? nblocks : 32;

		memcpy(buf, in, m * 16);
		memset(buf + m * 16, 0, (32 - m) * 16);
		ct_pass(k, buf);
		memcpy(out, buf, m * 16);
		in += m * 16;
		out += m * 16;
		nblocks -= m;
	}
	wipe(buf, sizeof(buf));
}

bool kuznyechik_ct_supported(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2");
}

int kuznyechik_setkey_ct(struct kuznyechik_key *k, const uint8_t key[32])
{
	if (!kuznyechik_ct_supported())
		return -ENOTSUP;
	schedule(k, key, lsx_ct);
	return 0;
}
#else
void kuznyechik_ecb_ct(const struct kuznyechik_key *k, uint8_t *out, const uint8_t *in,
		       size_t nblocks)
{
	(void)k, (void)out, (void)in, (void)nblocks;
}

bool kuznyechik_ct_supported(void)
{
	return false;
}

int kuznyechik_setkey_ct(struct kuznyechik_key *k, const uint8_t key[32])
{
	(void)k, (void)key;
	return -ENOTSUP;
}
#endif
