// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * mgm.c - Multilinear Galois Mode: RFC 9058 section 4.1 (encryption, tag) and 4.2
 * (verification, decryption) for n = 128 and n = 64, and the GF(2^n) multiplication of its
 * section 3 (VPCLMULQDQ or PCLMULQDQ where the CPU has it, portable C otherwise). Called
 * per packet by crypto_gost.c for the RFC 9227 ESP transforms, and by the tests.
 *
 * Per packet three calls to the block cipher: Y_1 = E(0||ICN) with Z_1 = E(1||ICN); then
 * every E(Y_i) and H_j = E(Z_j) at once into a per-thread scratch buffer (packets too long
 * for it go in chunks), from counter blocks built there or, if the cipher has a counter
 * path (mgm_cipher.ctr), from Y_1 and Z_1 alone; then the tag. The products H_j (x) X_j
 * are summed unreduced and reduced once. With mgm_ahead the first call can be skipped: the
 * previous packet's tag call made this one's Y_1 and Z_1 along with its tag.
 */
#include <endian.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "mgm.h"
#include "lib/wipe.h"

/* Room for a 9000-byte payload with 128-bit blocks (Y and Z: 2 * 563 + 2 blocks) in one
 * call to the cipher. Two buffers: counter blocks in, their encryptions out. */
#define SCRATCH_BYTES 20480

static __thread uint8_t scr_in[SCRATCH_BYTES] __attribute__((aligned(64)));
static __thread uint8_t scr_out[SCRATCH_BYTES] __attribute__((aligned(64)));

static inline uint64_t ld64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return be64toh(v);
}

static inline void st64(uint8_t *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, 8);
}

static inline uint32_t ld32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return be32toh(v);
}

static inline void st32(uint8_t *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, 4);
}

/* One block (n = 16 or 8), copied with a constant length: no call into libc. */
static inline void copy_block(uint8_t *dst, const uint8_t *src, size_t n)
{
	if (n == 16)
		memcpy(dst, src, 16);
	else
		memcpy(dst, src, 8);
}

/* --- GF(2^128) mod x^128+x^7+x^2+x+1 and GF(2^64) mod x^64+x^4+x^3+x+1 -------------------
 * A block is the polynomial whose x^i coefficient is bit i of the block read big-endian.
 * acc128 adds H_i * X_i into a 256-bit accumulator acc[0..3] (acc[0] lowest), acc64 into a
 * 128-bit one; nothing is reduced until the end. */
typedef void (*gf_acc_fn)(uint64_t *acc, const uint8_t *h, const uint8_t *x, size_t nblocks);

struct gf_impl {
	const char *name;
	gf_acc_fn acc128;
	gf_acc_fn acc64;
};

/* Low half of the 64x64 carry-less product with integer multiplications: operand bits are
 * kept 4 apart, so carries never reach the next kept bit (BearSSL's bmul64, constant time). */
static uint64_t bmul64(uint64_t x, uint64_t y)
{
	const uint64_t m0 = 0x1111111111111111, m1 = m0 << 1, m2 = m0 << 2, m3 = m0 << 3;
	uint64_t x0 = x & m0, x1 = x & m1, x2 = x & m2, x3 = x & m3;
	uint64_t y0 = y & m0, y1 = y & m1, y2 = y & m2, y3 = y & m3;
	uint64_t z0 = (x0 * y0) ^ (x1 * y3) ^ (x2 * y2) ^ (x3 * y1);
	uint64_t z1 = (x0 * y1) ^ (x1 * y0) ^ (x2 * y3) ^ (x3 * y2);
	uint64_t z2 = (x0 * y2) ^ (x1 * y1) ^ (x2 * y0) ^ (x3 * y3);
	uint64_t z3 = (x0 * y3) ^ (x1 * y2) ^ (x2 * y1) ^ (x3 * y0);

	return (z0 & m0) | (z1 & m1) | (z2 & m2) | (z3 & m3);
}

static uint64_t rev64(uint64_t x)
{
	x = ((x & 0x5555555555555555) << 1) | ((x >> 1) & 0x5555555555555555);
	x = ((x & 0x3333333333333333) << 2) | ((x >> 2) & 0x3333333333333333);
	x = ((x & 0x0f0f0f0f0f0f0f0f) << 4) | ((x >> 4) & 0x0f0f0f0f0f0f0f0f);
	return __builtin_bswap64(x);
}

/* Full 128-bit carry-less product: the high half is the low half of the bit-reversed
 * operands' product, reversed back. */
static void clmul64(uint64_t x, uint64_t y, uint64_t *hi, uint64_t *lo)
{
	*lo = bmul64(x, y);
	*hi = rev64(bmul64(rev64(x), rev64(y))) >> 1;
}

static void acc128_portable(uint64_t *acc, const uint8_t *h, const uint8_t *x, size_t nb)
{
	for (; nb; nb--, h += 16, x += 16) {
		uint64_t h1 = ld64(h), h0 = ld64(h + 8), x1 = ld64(x), x0 = ld64(x + 8);
		uint64_t lh, ll, hh, hl, mh, ml;

		/* Karatsuba: three 64x64 products. */
		clmul64(x0, h0, &lh, &ll);
		clmul64(x1, h1, &hh, &hl);
		clmul64(x0 ^ x1, h0 ^ h1, &mh, &ml);
		mh ^= lh ^ hh;
		ml ^= ll ^ hl;
		acc[0] ^= ll;
		acc[1] ^= lh ^ ml;
		acc[2] ^= hl ^ mh;
		acc[3] ^= hh;
	}
}

static void acc64_portable(uint64_t *acc, const uint8_t *h, const uint8_t *x, size_t nb)
{
	for (; nb; nb--, h += 8, x += 8) {
		uint64_t hi, lo;

		clmul64(ld64(x), ld64(h), &hi, &lo);
		acc[0] ^= lo;
		acc[1] ^= hi;
	}
}

#if defined(__x86_64__)
#define PCLMUL_TARGET __attribute__((target("pclmul,sse4.1")))

/* One 128-bit block's schoolbook product, its terms added to lo, mid and hi (the callers
 * fold mid in once). Always inlined: VEX code in the VPCLMULQDQ function below. */
__attribute__((target("pclmul,sse4.1"), always_inline)) static inline void
clmul_block(__m128i a, __m128i b, __m128i *lo, __m128i *mid, __m128i *hi)
{
	*lo = _mm_xor_si128(*lo, _mm_clmulepi64_si128(a, b, 0x00));
	*hi = _mm_xor_si128(*hi, _mm_clmulepi64_si128(a, b, 0x11));
	*mid = _mm_xor_si128(*mid, _mm_clmulepi64_si128(a, b, 0x01));
	*mid = _mm_xor_si128(*mid, _mm_clmulepi64_si128(a, b, 0x10));
}

PCLMUL_TARGET static void acc128_pclmul(uint64_t *acc, const uint8_t *h, const uint8_t *x,
					size_t nb)
{
	const __m128i bswap = _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
	__m128i lo = _mm_loadu_si128((const __m128i *)acc);
	__m128i hi = _mm_loadu_si128((const __m128i *)(acc + 2));
	__m128i mid = _mm_setzero_si128();

	for (; nb; nb--, h += 16, x += 16) {
		__m128i a = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)x), bswap);
		__m128i b = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)h), bswap);

		clmul_block(a, b, &lo, &mid, &hi);
	}
	lo = _mm_xor_si128(lo, _mm_slli_si128(mid, 8));
	hi = _mm_xor_si128(hi, _mm_srli_si128(mid, 8));
	_mm_storeu_si128((__m128i *)acc, lo);
	_mm_storeu_si128((__m128i *)(acc + 2), hi);
}

/* Two 64-bit blocks per iteration: each 64-bit lane byte-swapped, then lane 0 x lane 0 and
 * lane 1 x lane 1. */
PCLMUL_TARGET static void acc64_pclmul(uint64_t *acc, const uint8_t *h, const uint8_t *x, size_t nb)
{
	const __m128i bswap = _mm_set_epi8(8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7);
	__m128i s = _mm_loadu_si128((const __m128i *)acc);

	for (; nb >= 2; nb -= 2, h += 16, x += 16) {
		__m128i a = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)x), bswap);
		__m128i b = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)h), bswap);

		s = _mm_xor_si128(s, _mm_clmulepi64_si128(a, b, 0x00));
		s = _mm_xor_si128(s, _mm_clmulepi64_si128(a, b, 0x11));
	}
	if (nb) {
		__m128i a = _mm_cvtsi64_si128((long long)ld64(x));
		__m128i b = _mm_cvtsi64_si128((long long)ld64(h));

		s = _mm_xor_si128(s, _mm_clmulepi64_si128(a, b, 0x00));
	}
	_mm_storeu_si128((__m128i *)acc, s);
}
/* The same with VPCLMULQDQ on 256-bit registers: two blocks per instruction, and Karatsuba
 * (three products per block pair instead of four: (a0 + a1)(b0 + b1) + a0 b0 + a1 b1 is the
 * middle term; the sums of the three are kept apart and combined once at the end). */
#define VPCLMUL_TARGET __attribute__((target("avx2,vpclmulqdq,pclmul,sse4.1")))

VPCLMUL_TARGET static void acc128_vpclmul(uint64_t *acc, const uint8_t *h, const uint8_t *x,
					  size_t nb)
{
	const __m256i bswap = _mm256_broadcastsi128_si256(
	    _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
	__m256i lo2 = _mm256_setzero_si256(), hi2 = lo2, mid2 = lo2;
	__m128i lo, hi, mid;

	for (; nb >= 2; nb -= 2, h += 32, x += 32) {
		__m256i a = _mm256_shuffle_epi8(_mm256_loadu_si256((const __m256i *)x), bswap);
		__m256i b = _mm256_shuffle_epi8(_mm256_loadu_si256((const __m256i *)h), bswap);
		__m256i as = _mm256_xor_si256(a, _mm256_shuffle_epi32(a, 0x4e));
		__m256i bs = _mm256_xor_si256(b, _mm256_shuffle_epi32(b, 0x4e));

		lo2 = _mm256_xor_si256(lo2, _mm256_clmulepi64_epi128(a, b, 0x00));
		hi2 = _mm256_xor_si256(hi2, _mm256_clmulepi64_epi128(a, b, 0x11));
		mid2 = _mm256_xor_si256(mid2, _mm256_clmulepi64_epi128(as, bs, 0x00));
	}
	lo = _mm_xor_si128(_mm256_castsi256_si128(lo2), _mm256_extracti128_si256(lo2, 1));
	hi = _mm_xor_si128(_mm256_castsi256_si128(hi2), _mm256_extracti128_si256(hi2, 1));
	mid = _mm_xor_si128(_mm256_castsi256_si128(mid2), _mm256_extracti128_si256(mid2, 1));
	mid = _mm_xor_si128(mid, _mm_xor_si128(lo, hi));
	if (nb) {
		__m128i a = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)x),
					     _mm256_castsi256_si128(bswap));
		__m128i b = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)h),
					     _mm256_castsi256_si128(bswap));

		clmul_block(a, b, &lo, &mid, &hi);
	}
	lo = _mm_xor_si128(lo, _mm_slli_si128(mid, 8));
	hi = _mm_xor_si128(hi, _mm_srli_si128(mid, 8));
	_mm_storeu_si128((__m128i *)acc, _mm_xor_si128(_mm_loadu_si128((const __m128i *)acc), lo));
	_mm_storeu_si128((__m128i *)(acc + 2),
			 _mm_xor_si128(_mm_loadu_si128((const __m128i *)(acc + 2)), hi));
}

/* Four 64-bit blocks per iteration (lane by lane as acc64_pclmul), the rest one by one. All
 * in VEX code: legacy SSE code run while the upper halves are dirty (acc64_pclmul as a
 * tail call, which skips vzeroupper) costs hundreds of cycles here. */
VPCLMUL_TARGET static void acc64_vpclmul(uint64_t *acc, const uint8_t *h, const uint8_t *x,
					 size_t nb)
{
	const __m256i bswap = _mm256_broadcastsi128_si256(
	    _mm_set_epi8(8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7));
	__m256i s2 = _mm256_setzero_si256();
	__m128i s;

	for (; nb >= 4; nb -= 4, h += 32, x += 32) {
		__m256i a = _mm256_shuffle_epi8(_mm256_loadu_si256((const __m256i *)x), bswap);
		__m256i b = _mm256_shuffle_epi8(_mm256_loadu_si256((const __m256i *)h), bswap);

		s2 = _mm256_xor_si256(s2, _mm256_clmulepi64_epi128(a, b, 0x00));
		s2 = _mm256_xor_si256(s2, _mm256_clmulepi64_epi128(a, b, 0x11));
	}
	s = _mm_xor_si128(_mm256_castsi256_si128(s2), _mm256_extracti128_si256(s2, 1));
	for (; nb; nb--, h += 8, x += 8) {
		__m128i a = _mm_cvtsi64_si128((long long)ld64(x));
		__m128i b = _mm_cvtsi64_si128((long long)ld64(h));

		s = _mm_xor_si128(s, _mm_clmulepi64_si128(a, b, 0x00));
	}
	_mm_storeu_si128((__m128i *)acc, _mm_xor_si128(_mm_loadu_si128((const __m128i *)acc), s));
}
#endif

/* p3..p0 mod x^128+x^7+x^2+x+1: x^128 = R = x^7+x^2+x+1; p3 x^192 = p3 R x^64, then p2 R.
 * w R spills at most 7 bits past 64, which land in the next word up. */
static void reduce128(const uint64_t *p, uint64_t *hi, uint64_t *lo)
{
	uint64_t p0 = p[0], p1 = p[1], p2 = p[2], p3 = p[3];

	p2 ^= (p3 >> 63) ^ (p3 >> 62) ^ (p3 >> 57);
	p1 ^= p3 ^ (p3 << 1) ^ (p3 << 2) ^ (p3 << 7);
	p1 ^= (p2 >> 63) ^ (p2 >> 62) ^ (p2 >> 57);
	p0 ^= p2 ^ (p2 << 1) ^ (p2 << 2) ^ (p2 << 7);
	*hi = p1;
	*lo = p0;
}

/* p1 p0 mod x^64+x^4+x^3+x+1: p1 x^64 = p1 R spills 4 bits (t), and t R fits in 8 bits. */
static uint64_t reduce64(const uint64_t *p)
{
	uint64_t p1 = p[1];
	uint64_t t = (p1 >> 63) ^ (p1 >> 61) ^ (p1 >> 60);

	return p[0] ^ p1 ^ (p1 << 1) ^ (p1 << 3) ^ (p1 << 4) ^ t ^ (t << 1) ^ (t << 3) ^ (t << 4);
}

static const struct gf_impl gf_portable = {"portable", acc128_portable, acc64_portable};
#if defined(__x86_64__)
static const struct gf_impl gf_pclmul = {"pclmul", acc128_pclmul, acc64_pclmul};
static const struct gf_impl gf_vpclmul = {"vpclmul", acc128_vpclmul, acc64_vpclmul};
#endif
static const struct gf_impl *_Atomic gf_cur;

static bool cpu_has_pclmul(void)
{
#if defined(__x86_64__)
	__builtin_cpu_init();
	return __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
#else
	return false;
#endif
}

static bool cpu_has_vpclmul(void)
{
#if defined(__x86_64__)
	return cpu_has_pclmul() && __builtin_cpu_supports("avx2") &&
	       __builtin_cpu_supports("vpclmulqdq");
#else
	return false;
#endif
}

int mgm_gf_select(enum mgm_gf_impl impl)
{
	const struct gf_impl *g = &gf_portable;

	if ((impl == MGM_GF_PCLMUL && !cpu_has_pclmul()) ||
	    (impl == MGM_GF_VPCLMUL && !cpu_has_vpclmul()))
		return -ENOTSUP;
#if defined(__x86_64__)
	if (impl == MGM_GF_VPCLMUL || (impl == MGM_GF_AUTO && cpu_has_vpclmul()))
		g = &gf_vpclmul;
	else if (impl == MGM_GF_PCLMUL || (impl == MGM_GF_AUTO && cpu_has_pclmul()))
		g = &gf_pclmul;
#endif
	atomic_store_explicit(&gf_cur, g, memory_order_relaxed);
	return 0;
}

static const struct gf_impl *gf(void)
{
	const struct gf_impl *g = atomic_load_explicit(&gf_cur, memory_order_relaxed);

	if (!g) {
		mgm_gf_select(MGM_GF_AUTO);
		g = atomic_load_explicit(&gf_cur, memory_order_relaxed);
	}
	return g;
}

const char *mgm_gf_name(void)
{
	return gf()->name;
}

void mgm_gf_mul(size_t n, uint8_t *r, const uint8_t *a, const uint8_t *b)
{
	uint64_t acc[4] = {0}, hi, lo;

	if (n == 16) {
		gf()->acc128(acc, a, b, 1);
		reduce128(acc, &hi, &lo);
		st64(r, hi);
		st64(r + 8, lo);
	} else {
		gf()->acc64(acc, a, b, 1);
		st64(r, reduce64(acc));
	}
}

/* --- one MGM operation ---------------------------------------------------------------------
 * Two streams of cipher outputs: ks (E(Y_i), the keystream) and h (H_j = E(Z_j)). When both
 * fit in the scratch they are made by one cipher call; otherwise each refills its half of
 * the scratch on demand. */
struct stream {
	uint8_t *in, *out;   /* its scratch region: counters in, encryptions out */
	size_t cap;	     /* blocks */
	uint8_t *ctr;	     /* next counter block */
	bool left;	     /* incr_l (Z) or incr_r (Y) */
	const uint8_t *next; /* made, not yet used */
	size_t avail;
	size_t todo; /* blocks still to make */
};

/* The associated data or ciphertext bytes not yet making a whole block. */
struct part {
	uint8_t b[MGM_BLOCK_MAX];
	size_t len;
};

/* One operation's state, every secret temporary included: run_end wipes it in one go. */
struct run {
	const struct mgm_cipher *c;
	size_t n;
	gf_acc_fn acc_fn;
	uint64_t acc[4];
	uint8_t y[MGM_BLOCK_MAX], z[MGM_BLOCK_MAX];
	struct stream ks, h;
	size_t wipe_in, wipe_out; /* scratch bytes to clear at the end */
	struct part p;
	uint8_t icn[2 * MGM_BLOCK_MAX], e[2 * MGM_BLOCK_MAX]; /* 0||ICN, 1||ICN and E of them */
	uint8_t sum[MGM_BLOCK_MAX], t[MGM_BLOCK_MAX];	      /* the tag: E(sum) = T */
	const struct mgm_ahead *ah;			      /* NULL: nothing made ahead */
	uint8_t tag_in[3 * MGM_BLOCK_MAX], tag_out[3 * MGM_BLOCK_MAX]; /* with ah->next */
};

static inline size_t nblocks(size_t len, size_t n)
{
	return (len + n - 1) / n;
}

/* ctr moves count blocks on: incr_l counts in the left half, incr_r in the right one, each
 * modulo 2^(n/2). */
static void advance_ctr(uint8_t *ctr, size_t n, bool left, size_t count)
{
	size_t off = left ? 0 : n / 2;

	if (n == 16)
		st64(ctr + off, ld64(ctr + off) + count);
	else
		st32(ctr + off, ld32(ctr + off) + (uint32_t)count);
}

/* count counter blocks from ctr into out; ctr moves past them. */
static void fill_ctr(uint8_t *out, uint8_t *ctr, size_t n, bool left, size_t count)
{
	size_t off = left ? 0 : n / 2;

	if (n == 16) {
		uint64_t v = ld64(ctr + off);

		for (size_t i = 0; i < count; i++, out += 16) {
			memcpy(out, ctr, 16);
			st64(out + off, v + i);
		}
	} else {
		uint32_t v = ld32(ctr + off);

		for (size_t i = 0; i < count; i++, out += 8) {
			memcpy(out, ctr, 8);
			st32(out + off, v + (uint32_t)i);
		}
	}
	advance_ctr(ctr, n, left, count);
}

/* E of count blocks of one stream's counters into out (the cipher's counter path if it has
 * one, else ECB over counters built in `in`); ctr moves past them. */
static int encrypt_ctr(struct run *r, uint8_t *out, uint8_t *in, uint8_t *ctr, bool left,
		       size_t count)
{
	const struct mgm_cipher *c = r->c;
	int err;

	if (c->ctr) {
		err = left ? c->ctr(c->key, out, NULL, 0, ctr, count)
			   : c->ctr(c->key, out, ctr, count, NULL, 0);
		advance_ctr(ctr, r->n, left, count);
		return err;
	}
	fill_ctr(in, ctr, r->n, left, count);
	return c->ecb(c->key, out, in, count);
}

static int stream_refill(struct run *r, struct stream *s)
{
	size_t k = s->todo < s->cap ? s->todo : s->cap;
	int err;

	if (!k)
		return -EIO; /* asked for more blocks than the message has */
	err = encrypt_ctr(r, s->out, s->in, s->ctr, s->left, k);
	if (err)
		return err;
	s->next = s->out;
	s->avail = k;
	s->todo -= k;
	return 0;
}

/* Up to want contiguous blocks of the stream; *got says how many. */
static const uint8_t *stream_take(struct run *r, struct stream *s, size_t want, size_t *got,
				  int *err)
{
	const uint8_t *p;

	if (!s->avail) {
		*err = stream_refill(r, s);
		if (*err)
			return NULL;
	}
	*got = want < s->avail ? want : s->avail;
	p = s->next;
	s->next += *got * r->n;
	s->avail -= *got;
	return p;
}

/* Both streams whole, in one cipher call: Y_1..Y_q then Z_1..Z_t. */
static int run_batch(struct run *r, size_t q, size_t t)
{
	size_t n = r->n;

	r->wipe_out = (q + t) * n;
	r->ks.next = scr_out;
	r->ks.avail = q;
	r->h.next = scr_out + q * n;
	r->h.avail = t;
	if (r->c->ctr)
		return r->c->ctr(r->c->key, scr_out, r->y, q, r->z, t);
	fill_ctr(scr_in, r->y, n, false, q);
	fill_ctr(scr_in + q * n, r->z, n, true, t);
	r->wipe_in = (q + t) * n;
	return r->c->ecb(r->c->key, scr_out, scr_in, q + t);
}

/* Too long for one call: each stream gets half of the scratch. */
static void run_split(struct run *r, size_t q, size_t t)
{
	size_t cap = SCRATCH_BYTES / r->n, half = cap / 2;

	r->ks.in = scr_in;
	r->ks.out = scr_out;
	r->ks.cap = half;
	r->ks.todo = q;
	r->h.in = scr_in + half * r->n;
	r->h.out = scr_out + half * r->n;
	r->h.cap = cap - half;
	r->h.todo = t;
	r->wipe_in = r->c->ctr ? 0 : SCRATCH_BYTES;
	r->wipe_out = SCRATCH_BYTES;
}

/* 0||ICN then 1||ICN from a nonce (its top bit ignored) */
static void icn_pair(uint8_t *icn, const uint8_t *nonce, size_t n)
{
	copy_block(icn, nonce, n);
	icn[0] &= 0x7f;
	copy_block(icn + n, nonce, n);
	icn[n] |= 0x80;
}

/* Y_1 = E(0||ICN) and Z_1 = E(1||ICN); Y_1 only when there is something to encrypt (the
 * MAC-only transforms have not). */
static int run_first(struct run *r, const uint8_t *nonce, size_t q)
{
	const struct mgm_cipher *c = r->c;
	size_t n = r->n;
	int err;

	icn_pair(r->icn, nonce, n);
	if (q) {
		err = c->ecb(c->key, r->e, r->icn, 2);
		copy_block(r->y, r->e, n);
		copy_block(r->z, r->e + n, n);
	} else {
		err = c->ecb(c->key, r->e, r->icn + n, 1);
		copy_block(r->z, r->e, n);
	}
	return err; /* icn holds the SA's secret salt, e secret counters: run_end wipes both */
}

/* Y_1 and Z_1 (or those made ahead: mgm_ahead), then the streams for q data and t hash
 * blocks. */
static int run_start(struct run *r, const struct mgm_cipher *c, const uint8_t *nonce, size_t q,
		     size_t t, const struct mgm_ahead *ah)
{
	size_t n = c->n;
	int err;

	/* every field read before it is written, and no more (a memset of the whole costs
	 * more than a 64-byte packet's GF products) */
	r->c = c;
	r->n = n;
	r->acc_fn = n == 16 ? gf()->acc128 : gf()->acc64;
	memset(r->acc, 0, sizeof(r->acc));
	r->ks = (struct stream){.ctr = r->y};
	r->h = (struct stream){.ctr = r->z, .left = true};
	r->wipe_in = r->wipe_out = 0;
	r->p.len = 0;
	r->ah = ah;
	if (ah && ah->e) {
		copy_block(r->y, ah->e, n);
		copy_block(r->z, ah->e + n, n);
	} else {
		err = run_first(r, nonce, q);
		if (err)
			return err;
	}
	if (q + t <= SCRATCH_BYTES / n)
		return run_batch(r, q, t);
	run_split(r, q, t);
	return 0;
}

static void run_end(struct run *r)
{
	wipe(scr_in, r->wipe_in);
	wipe(scr_out, r->wipe_out);
	wipe(r, sizeof(*r));
}

typedef uint64_t u64x2 __attribute__((vector_size(16)));

/* d ^= ks, 16 bytes at a time */
static void xor_bytes(uint8_t *d, const uint8_t *ks, size_t len)
{
	size_t i = 0;

	for (; i + 16 <= len; i += 16) {
		u64x2 a, b;

		memcpy(&a, d + i, 16);
		memcpy(&b, ks + i, 16);
		a ^= b;
		memcpy(d + i, &a, 16);
	}
	for (; i < len; i++)
		d[i] ^= ks[i];
}

/* data ^= keystream; encryption and decryption alike. */
static int run_crypt(struct run *r, uint8_t *d, size_t len)
{
	while (len) {
		size_t got, bytes;
		int err;
		const uint8_t *ks = stream_take(r, &r->ks, nblocks(len, r->n), &got, &err);

		if (!ks)
			return err;
		bytes = got * r->n < len ? got * r->n : len;
		xor_bytes(d, ks, bytes);
		d += bytes;
		len -= bytes;
	}
	return 0;
}

static int hash_blocks(struct run *r, const uint8_t *x, size_t nb)
{
	while (nb) {
		size_t got;
		int err;
		const uint8_t *h = stream_take(r, &r->h, nb, &got, &err);

		if (!h)
			return err;
		r->acc_fn(r->acc, h, x, got);
		x += got * r->n;
		nb -= got;
	}
	return 0;
}

/* Whole blocks straight from s; a block split across pieces is gathered in p. */
static int absorb(struct run *r, struct part *p, const uint8_t *s, size_t len)
{
	size_t n = r->n, full;
	int err;

	if (!len)
		return 0;
	if (p->len) {
		size_t k = n - p->len < len ? n - p->len : len;

		memcpy(p->b + p->len, s, k);
		p->len += k;
		s += k;
		len -= k;
		if (p->len < n)
			return 0;
		p->len = 0;
		err = hash_blocks(r, p->b, 1);
		if (err)
			return err;
	}
	full = len / n;
	err = hash_blocks(r, s, full);
	if (err)
		return err;
	p->len = len - full * n;
	if (p->len)
		memcpy(p->b, s + full * n, p->len);
	return 0;
}

/* A_h or C_q padded with zeros (RFC 9058 4.1 step 2). */
static int hash_pad(struct run *r, struct part *p)
{
	if (!p->len)
		return 0;
	memset(p->b + p->len, 0, r->n - p->len);
	p->len = 0;
	return hash_blocks(r, p->b, 1);
}

/* r->t = E(sum ^ H_{h+q+1} (x) (len(A) || len(C))), all n bytes of it. */
static int run_tag(struct run *r, size_t alen, size_t clen)
{
	uint8_t blk[MGM_BLOCK_MAX], *sum = r->sum;
	uint64_t hi, lo;
	int err;

	if (r->n == 16) {
		st64(blk, (uint64_t)alen * 8);
		st64(blk + 8, (uint64_t)clen * 8);
	} else {
		st32(blk, (uint32_t)(alen * 8));
		st32(blk + 4, (uint32_t)(clen * 8));
	}
	err = hash_blocks(r, blk, 1);
	if (err)
		return err;
	if (r->n == 16) {
		reduce128(r->acc, &hi, &lo);
		st64(sum, hi);
		st64(sum + 8, lo);
	} else {
		st64(sum, reduce64(r->acc));
	}
	if (!r->ah || !r->ah->next)
		return r->c->ecb(r->c->key, r->t, sum, 1);
	/* One call for the tag and the next nonce's E(0||ICN), E(1||ICN): a call of one block
	 * waits on its rounds one after another; three cost hardly more. */
	copy_block(r->tag_in, sum, r->n);
	icn_pair(r->tag_in + r->n, r->ah->next, r->n);
	err = r->c->ecb(r->c->key, r->tag_out, r->tag_in, 3);
	if (err)
		return err;
	copy_block(r->t, r->tag_out, r->n);
	copy_block(r->ah->next_e, r->tag_out + r->n, r->n);
	copy_block(r->ah->next_e + r->n, r->tag_out + 2 * r->n, r->n);
	return 0;
}

static int run_hash(struct run *r, const struct mgm_seg *aad, size_t naad, size_t alen,
		    const uint8_t *c, size_t clen)
{
	int err = 0;

	for (size_t i = 0; i < naad && !err; i++)
		err = absorb(r, &r->p, aad[i].p, aad[i].len);
	if (!err)
		err = hash_pad(r, &r->p);
	if (!err)
		err = absorb(r, &r->p, c, clen);
	if (!err)
		err = hash_pad(r, &r->p);
	if (!err)
		err = run_tag(r, alen, clen);
	return err;
}

/* RFC 9058 4: 0 < |A| + |P| < 2^(n/2) bits; S from 32 bits to n. */
static int check_args(const struct mgm_cipher *c, const struct mgm_seg *aad, size_t naad,
		      const uint8_t *data, size_t len, size_t tag_len, size_t *alen)
{
	uint64_t limit;

	if (!c || !c->ecb || (c->n != 16 && c->n != 8) || tag_len < 4 || tag_len > c->n ||
	    (len && !data) || (naad && !aad))
		return -EINVAL;
	limit = c->n == 16 ? (uint64_t)1 << 61 : (uint64_t)1 << 29; /* bytes */
	*alen = 0;
	for (size_t i = 0; i < naad; i++) {
		if ((aad[i].len && !aad[i].p) || aad[i].len >= limit - *alen)
			return -EINVAL;
		*alen += aad[i].len;
	}
	if (len >= limit - *alen || *alen + len == 0)
		return -EINVAL;
	return 0;
}

static int ct_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint8_t d = 0;

	for (size_t i = 0; i < n; i++)
		d |= a[i] ^ b[i];
	return ((d - 1u) >> 8) & 1;
}

int mgm_encrypt_ahead(const struct mgm_cipher *c, const uint8_t *nonce, const struct mgm_seg *aad,
		      size_t naad, uint8_t *data, size_t len, uint8_t *tag, size_t tag_len,
		      const struct mgm_ahead *ah)
{
	struct run r;
	size_t alen;
	int err = check_args(c, aad, naad, data, len, tag_len, &alen);

	if (err)
		return err;
	err = run_start(&r, c, nonce, nblocks(len, c->n),
			nblocks(alen, c->n) + nblocks(len, c->n) + 1, ah);
	if (!err)
		err = run_crypt(&r, data, len);
	if (!err)
		err = run_hash(&r, aad, naad, alen, data, len);
	if (!err)
		memcpy(tag, r.t, tag_len);
	run_end(&r);
	return err;
}

int mgm_decrypt_ahead(const struct mgm_cipher *c, const uint8_t *nonce, const struct mgm_seg *aad,
		      size_t naad, uint8_t *data, size_t len, const uint8_t *tag, size_t tag_len,
		      const struct mgm_ahead *ah)
{
	struct run r;
	size_t alen;
	int err = check_args(c, aad, naad, data, len, tag_len, &alen);

	if (err)
		return err;
	err = run_start(&r, c, nonce, nblocks(len, c->n),
			nblocks(alen, c->n) + nblocks(len, c->n) + 1, ah);
	if (!err)
		err = run_hash(&r, aad, naad, alen, data, len);
	if (!err && !ct_equal(r.t, tag, tag_len))
		err = -EBADMSG;
	if (!err)
		err = run_crypt(&r, data, len);
	run_end(&r);
	return err;
}

int mgm_encrypt(const struct mgm_cipher *c, const uint8_t *nonce, const struct mgm_seg *aad,
		size_t naad, uint8_t *data, size_t len, uint8_t *tag, size_t tag_len)
{
	return mgm_encrypt_ahead(c, nonce, aad, naad, data, len, tag, tag_len, NULL);
}

int mgm_decrypt(const struct mgm_cipher *c, const uint8_t *nonce, const struct mgm_seg *aad,
		size_t naad, uint8_t *data, size_t len, const uint8_t *tag, size_t tag_len)
{
	return mgm_decrypt_ahead(c, nonce, aad, naad, data, len, tag, tag_len, NULL);
}
