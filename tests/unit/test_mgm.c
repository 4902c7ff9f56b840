// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_mgm.c - mgm.c: RFC 9058 Appendix A (Kuznyechik and Magma) under both GF(2^n)
 * backends, a bit flip anywhere rejected, the GF multiplications against a bit-by-bit
 * reference and the RFC's intermediate sums, and random messages (AAD in pieces, tags
 * truncated, long enough to go in chunks) against a textbook MGM written here. Block ciphers
 * come from crypto_gost.c; the whole group runs once per implementation (gost_impls.h).
 */
#include "test_util.h"

#include <errno.h>

#include "crypto/crypto.h"
#include "crypto/crypto_gost.h"
#include "crypto/mgm.h"
#include "gost_impls.h"

struct vec {
	const char *name;
	size_t n;
	const char *key, *icn, *aad, *pt, *ct, *tag;
};

/* RFC 9058 Appendix A */
/* clang-format off */
static const struct vec vecs[] = {
	{ "A.1.1 Kuznyechik", 16,
	  "88 99 AA BB CC DD EE FF 00 11 22 33 44 55 66 77 FE DC BA 98 76 54 32 10 01 23 45 67 89 AB CD EF",
	  "11 22 33 44 55 66 77 00 FF EE DD CC BB AA 99 88",
	  "02 02 02 02 02 02 02 02 01 01 01 01 01 01 01 01 04 04 04 04 04 04 04 04 03 03 03 03 03 03 03 03"
	  "EA 05 05 05 05 05 05 05 05",
	  "11 22 33 44 55 66 77 00 FF EE DD CC BB AA 99 88 00 11 22 33 44 55 66 77 88 99 AA BB CC EE FF 0A"
	  "11 22 33 44 55 66 77 88 99 AA BB CC EE FF 0A 00 22 33 44 55 66 77 88 99 AA BB CC EE FF 0A 00 11"
	  "AA BB CC",
	  "A9 75 7B 81 47 95 6E 90 55 B8 A3 3D E8 9F 42 FC 80 75 D2 21 2B F9 FD 5B D3 F7 06 9A AD C1 6B 39"
	  "49 7A B1 59 15 A6 BA 85 93 6B 5D 0E A9 F6 85 1C C6 0C 14 D4 D3 F8 83 D0 AB 94 42 06 95 C7 6D EB"
	  "2C 75 52",
	  "CF 5D 65 6F 40 C3 4F 5C 46 E8 BB 0E 29 FC DB 4C" },
	{ "A.1.2 Kuznyechik", 16,
	  "99 AA BB CC DD EE FF 00 11 22 33 44 55 66 77 FE DC BA 98 76 54 32 10 01 23 45 67 89 AB CD EF 88",
	  "11 22 33 44 55 66 77 00 FF EE DD CC BB AA 99 88",
	  "01 01 01 01 01 01 01 01 01 01 01 01 01 01 01 01", "", "",
	  "79 01 E9 EA 20 85 CD 24 7E D2 49 69 5F 9F 8A 85" },
	{ "A.2.1 Magma", 8,
	  "FF EE DD CC BB AA 99 88 77 66 55 44 33 22 11 00 F0 F1 F2 F3 F4 F5 F6 F7 F8 F9 FA FB FC FD FE FF",
	  "12 DE F0 6B 3C 13 0A 59",
	  "01 01 01 01 01 01 01 01 02 02 02 02 02 02 02 02 03 03 03 03 03 03 03 03 04 04 04 04 04 04 04 04"
	  "05 05 05 05 05 05 05 05 EA",
	  "FF EE DD CC BB AA 99 88 11 22 33 44 55 66 77 00 88 99 AA BB CC EE FF 0A 00 11 22 33 44 55 66 77"
	  "99 AA BB CC EE FF 0A 00 11 22 33 44 55 66 77 88 AA BB CC EE FF 0A 00 11 22 33 44 55 66 77 88 99"
	  "AA BB CC",
	  "C7 95 06 6C 5F 9E A0 3B 85 11 33 42 45 91 85 AE 1F 2E 00 D6 BF 2B 78 5D 94 04 70 B8 BB 9C 8E 7D"
	  "9A 5D D3 73 1F 7D DC 70 EC 27 CB 0A CE 6F A5 76 70 F6 5C 64 6A BB 75 D5 47 AA 37 C3 BC B5 C3 4E"
	  "03 BB 9C",
	  "A7 92 80 69 AA 10 FD 10" },
	{ "A.2.2 Magma", 8,
	  "99 AA BB CC DD EE FF 00 11 22 33 44 55 66 77 FE DC BA 98 76 54 32 10 01 23 45 67 89 AB CD EF 88",
	  "00 77 66 55 44 33 22 11", "", "22 33 44 55 66 77 00 FF", "6A 95 E1 42 6B 25 9D 4E",
	  "33 4E E2 70 45 0B EC 9E" },
};
/* clang-format on */

struct dec {
	uint8_t key[32], icn[16], aad[64], pt[128], ct[128], tag[16];
	size_t alen, plen;
};

static void decode(const struct vec *v, struct dec *d)
{
	assert_int_equal(hex_decode(v->key, d->key, sizeof(d->key)), 32);
	assert_int_equal(hex_decode(v->icn, d->icn, sizeof(d->icn)), v->n);
	d->alen = hex_decode(v->aad, d->aad, sizeof(d->aad));
	d->plen = hex_decode(v->pt, d->pt, sizeof(d->pt));
	assert_int_equal(hex_decode(v->ct, d->ct, sizeof(d->ct)), d->plen);
	assert_int_equal(hex_decode(v->tag, d->tag, sizeof(d->tag)), v->n);
}

static enum gost_block_kind kind_for(size_t n)
{
	return n == 16 ? GOST_BLOCK_KUZNYECHIK : GOST_BLOCK_MAGMA;
}

static int setup(void **state)
{
	(void)state;
	return gost_setup("test_mgm");
}

static int teardown(void **state)
{
	(void)state;
	mgm_gf_select(MGM_GF_AUTO);
	crypto_fini();
	return 0;
}

/* The GF backends to run: portable always, pclmul where the CPU has it. */
static const enum mgm_gf_impl impls[] = {MGM_GF_PORTABLE, MGM_GF_PCLMUL};

static bool use_impl(enum mgm_gf_impl impl)
{
	if (mgm_gf_select(impl) == 0)
		return true;
	fprintf(stderr, "    note: %s backend not on this CPU, not run\n",
		impl == MGM_GF_PCLMUL ? "pclmul" : "portable");
	return false;
}

static void run_vector(const struct vec *v, enum gost_block_kind kind)
{
	struct dec d;
	struct gost_block *b;
	struct mgm_cipher c;
	struct mgm_seg seg;
	uint8_t buf[128], tag[16];

	decode(v, &d);
	b = crypto_gost_block_new(kind, d.key);
	assert_non_null(b);
	c = (struct mgm_cipher){crypto_gost_block_ecb, b, v->n};
	seg = (struct mgm_seg){d.aad, d.alen};
	memcpy(buf, d.pt, d.plen);
	assert_int_equal(mgm_encrypt(&c, d.icn, &seg, 1, buf, d.plen, tag, v->n), 0);
	assert_memory_equal(buf, d.ct, d.plen);
	assert_memory_equal(tag, d.tag, v->n);
	assert_int_equal(mgm_decrypt(&c, d.icn, &seg, 1, buf, d.plen, d.tag, v->n), 0);
	assert_memory_equal(buf, d.pt, d.plen);
	/* The nonce's top bit is not part of ICN. */
	d.icn[0] |= 0x80;
	memcpy(buf, d.pt, d.plen);
	assert_int_equal(mgm_encrypt(&c, d.icn, &seg, 1, buf, d.plen, tag, v->n), 0);
	assert_memory_equal(tag, d.tag, v->n);
	crypto_gost_block_free(b);
}

static void test_rfc9058_vectors(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(impls) / sizeof(impls[0]); k++) {
		if (!use_impl(impls[k]))
			continue;
		for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
			fprintf(stderr, "    %s [%s]\n", vecs[i].name, mgm_gf_name());
			run_vector(&vecs[i], kind_for(vecs[i].n));
		}
	}
}

/* Same results with Magma on the one-block-per-call fallback. */
static void test_rfc9058_magma_cbc1(void **state)
{
	(void)state;
	run_vector(&vecs[2], GOST_BLOCK_MAGMA_CBC1);
	run_vector(&vecs[3], GOST_BLOCK_MAGMA_CBC1);
}

/* Flip each bit of AAD, ciphertext and tag in turn: always -EBADMSG, data untouched. */
static void flip_all(const struct vec *v)
{
	struct dec d;
	struct gost_block *b;
	struct mgm_cipher c;
	uint8_t buf[128], aad[64], tag[16];
	size_t total;

	decode(v, &d);
	b = crypto_gost_block_new(kind_for(v->n), d.key);
	assert_non_null(b);
	c = (struct mgm_cipher){crypto_gost_block_ecb, b, v->n};
	total = (d.alen + d.plen + v->n) * 8;
	for (size_t bit = 0; bit < total; bit++) {
		struct mgm_seg seg = {aad, d.alen};
		size_t byte = bit / 8;
		uint8_t m = (uint8_t)(1u << (bit % 8));

		memcpy(aad, d.aad, d.alen);
		memcpy(buf, d.ct, d.plen);
		memcpy(tag, d.tag, v->n);
		if (byte < d.alen)
			aad[byte] ^= m;
		else if (byte < d.alen + d.plen)
			buf[byte - d.alen] ^= m;
		else
			tag[byte - d.alen - d.plen] ^= m;
		assert_int_equal(mgm_decrypt(&c, d.icn, &seg, 1, buf, d.plen, tag, v->n), -EBADMSG);
		if (byte >= d.alen && byte < d.alen + d.plen)
			buf[byte - d.alen] ^= m;
		assert_memory_equal(buf, d.ct, d.plen);
	}
	crypto_gost_block_free(b);
}

static void test_bit_flips_rejected(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++)
		flip_all(&vecs[i]);
}

/* The AAD of A.1.1 and A.2.1 cut at every point, and in many random pieces. */
static void test_aad_segments(void **state)
{
	uint64_t rng = 0x5eed5eed;

	(void)state;
	for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i += 2) {
		const struct vec *v = &vecs[i];
		struct dec d;
		struct gost_block *b;
		struct mgm_cipher c;
		uint8_t buf[128], tag[16];

		decode(v, &d);
		b = crypto_gost_block_new(kind_for(v->n), d.key);
		c = (struct mgm_cipher){crypto_gost_block_ecb, b, v->n};
		for (size_t cut = 0; cut <= d.alen; cut++) {
			struct mgm_seg seg[2] = {{d.aad, cut}, {d.aad + cut, d.alen - cut}};

			memcpy(buf, d.pt, d.plen);
			assert_int_equal(mgm_encrypt(&c, d.icn, seg, 2, buf, d.plen, tag, v->n), 0);
			assert_memory_equal(tag, d.tag, v->n);
		}
		for (int round = 0; round < 50; round++) {
			struct mgm_seg seg[64];
			size_t ns = 0, off = 0;

			while (off < d.alen) {
				size_t k = test_rand(&rng) % 7;

				k = k > d.alen - off ? d.alen - off : k;
				seg[ns++] = (struct mgm_seg){d.aad + off, k};
				off += k;
			}
			memcpy(buf, d.ct, d.plen);
			assert_int_equal(mgm_decrypt(&c, d.icn, seg, ns, buf, d.plen, d.tag, v->n),
					 0);
			assert_memory_equal(buf, d.pt, d.plen);
		}
		crypto_gost_block_free(b);
	}
}

/* --- GF(2^n): bit-by-bit reference ---------------------------------------------------------- */
static void ref_gf_mul(size_t n, uint8_t *r, const uint8_t *a, const uint8_t *b)
{
	uint8_t v[16], acc[16] = {0};

	memcpy(v, a, n);
	for (size_t bit = 0; bit < 8 * n; bit++) {
		int carry = v[0] >> 7;

		if ((b[n - 1 - bit / 8] >> (bit % 8)) & 1)
			for (size_t i = 0; i < n; i++)
				acc[i] ^= v[i];
		for (size_t i = 0; i < n - 1; i++)
			v[i] = (uint8_t)(v[i] << 1 | v[i + 1] >> 7);
		v[n - 1] = (uint8_t)(v[n - 1] << 1);
		if (carry)
			v[n - 1] ^= n == 16 ? 0x87 : 0x1b;
	}
	memcpy(r, acc, n);
}

static void test_gf_mul(void **state)
{
	uint64_t rng = 1234567;
	uint8_t a[16], b[16], want[16], got[16], got2[16];
	bool have_pclmul = mgm_gf_select(MGM_GF_PCLMUL) == 0;

	(void)state;
	if (!have_pclmul)
		fprintf(stderr, "    note: no PCLMULQDQ, portable backend only\n");
	for (int i = 0; i < 20000; i++) {
		size_t n = i & 1 ? 8 : 16;

		test_rand_bytes(&rng, a, n);
		test_rand_bytes(&rng, b, n);
		if (i % 7 == 0)
			memset(a, 0xff, n); /* every carry at once */
		ref_gf_mul(n, want, a, b);
		mgm_gf_select(MGM_GF_PORTABLE);
		mgm_gf_mul(n, got, a, b);
		assert_memory_equal(got, want, n);
		if (have_pclmul) {
			mgm_gf_select(MGM_GF_PCLMUL);
			mgm_gf_mul(n, got2, a, b);
			assert_memory_equal(got2, want, n);
		}
	}
	mgm_gf_select(MGM_GF_AUTO);
}

/* RFC 9058 A.1.1 and A.2.1, "current sum" after the first block: H_1 (x) A_1. */
static void test_gf_rfc_sums(void **state)
{
	static const char *const rows[][4] = {
	    {"16", "8D B1 87 D6 53 83 0E A4 BC 44 64 76 95 2C 30 0B",
	     "02 02 02 02 02 02 02 02 01 01 01 01 01 01 01 01",
	     "4C F4 27 F4 AD B7 5C F4 C0 DA 39 D5 AB 48 CF 38"},
	    {"8", "70 8A 78 19 1C DD 22 AA", "01 01 01 01 01 01 01 01", "D6 BB 5B EA 81 93 12 62"},
	    /* A.2.2: H_1 (x) C_1 */
	    {"8", "EC E3 F9 DA 11 8C 7D 95", "6A 95 E1 42 6B 25 9D 4E", "25 D0 E4 20 7B 6B F6 3D"},
	};

	(void)state;
	for (size_t k = 0; k < sizeof(impls) / sizeof(impls[0]); k++) {
		if (!use_impl(impls[k]))
			continue;
		for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			uint8_t h[16], x[16], want[16], got[16];
			size_t n = (size_t)atoi(rows[i][0]);

			hex_decode(rows[i][1], h, n);
			hex_decode(rows[i][2], x, n);
			hex_decode(rows[i][3], want, n);
			mgm_gf_mul(n, got, h, x);
			assert_memory_equal(got, want, n);
			ref_gf_mul(n, got, h, x);
			assert_memory_equal(got, want, n);
		}
	}
	mgm_gf_select(MGM_GF_AUTO);
}

/* --- textbook MGM (RFC 9058 4.1), one block per cipher call ------------------------------- */
static void ecb1(const struct mgm_cipher *mc, uint8_t *out, const uint8_t *in)
{
	assert_int_equal(mc->ecb(mc->key, out, in, 1), 0);
}

static void incr_half(uint8_t *blk, size_t n, bool left)
{
	size_t lo = left ? 0 : n / 2;

	for (size_t i = lo + n / 2; i-- > lo;)
		if (++blk[i])
			break;
}

static void ref_hash_block(const struct mgm_cipher *mc, uint8_t *z, uint8_t *sum, const uint8_t *x)
{
	uint8_t h[16], p[16];

	ecb1(mc, h, z);
	ref_gf_mul(mc->n, p, h, x);
	for (size_t i = 0; i < mc->n; i++)
		sum[i] ^= p[i];
	incr_half(z, mc->n, true);
}

static void ref_hash(const struct mgm_cipher *mc, uint8_t *z, uint8_t *sum, const uint8_t *s,
		     size_t len)
{
	size_t n = mc->n;

	for (size_t i = 0; i < len; i += n) {
		uint8_t blk[16] = {0};

		memcpy(blk, s + i, len - i < n ? len - i : n);
		ref_hash_block(mc, z, sum, blk);
	}
}

static void ref_mgm(const struct mgm_cipher *mc, const uint8_t *icn, const uint8_t *a, size_t alen,
		    const uint8_t *p, size_t plen, uint8_t *c, uint8_t *tag)
{
	uint8_t y[16], z[16], e[16], blk[16], sum[16] = {0}, lens[16] = {0};
	size_t n = mc->n;

	memcpy(blk, icn, n);
	blk[0] &= 0x7f;
	ecb1(mc, y, blk);
	for (size_t i = 0; i < plen; i += n) {
		ecb1(mc, e, y);
		for (size_t j = i; j < plen && j < i + n; j++)
			c[j] = p[j] ^ e[j - i];
		incr_half(y, n, false);
	}
	blk[0] |= 0x80;
	ecb1(mc, z, blk);
	ref_hash(mc, z, sum, a, alen);
	ref_hash(mc, z, sum, c, plen);
	for (size_t i = 0; i < n / 2; i++) {
		lens[n / 2 - 1 - i] = (uint8_t)((uint64_t)alen * 8 >> (8 * i));
		lens[n - 1 - i] = (uint8_t)((uint64_t)plen * 8 >> (8 * i));
	}
	ref_hash_block(mc, z, sum, lens);
	ecb1(mc, tag, sum);
}

static uint8_t big_a[70000], big_p[70000], big_c[70000], big_buf[70000];

/* mgm_encrypt/mgm_decrypt against ref_mgm for one message; the AAD goes in three pieces. */
static void check_vs_ref(const struct mgm_cipher *mc, const uint8_t *icn, size_t alen, size_t cut,
			 size_t plen, size_t tl, uint64_t *rng)
{
	struct mgm_seg seg[3] = {
	    {big_a, cut},
	    {big_a + cut, 0},
	    {big_a + cut, alen - cut},
	};
	uint8_t tag[16], rtag[16];

	ref_mgm(mc, icn, big_a, alen, big_p, plen, big_c, rtag);
	memcpy(big_buf, big_p, plen);
	assert_int_equal(mgm_encrypt(mc, icn, seg, 3, big_buf, plen, tag, tl), 0);
	assert_memory_equal(big_buf, big_c, plen);
	assert_memory_equal(tag, rtag, tl);
	assert_int_equal(mgm_decrypt(mc, icn, seg, 3, big_buf, plen, tag, tl), 0);
	assert_memory_equal(big_buf, big_p, plen);
	tag[test_rand(rng) % tl] ^= 1;
	memcpy(big_buf, big_c, plen);
	assert_int_equal(mgm_decrypt(mc, icn, seg, 3, big_buf, plen, tag, tl), -EBADMSG);
	assert_memory_equal(big_buf, big_c, plen);
}

/* Random lengths, AAD pieces and tag lengths; long messages take the chunked path (more
 * blocks than the per-thread scratch holds). */
static void random_vs_ref(size_t n, uint64_t *rng, size_t maxlen, int rounds)
{
	uint8_t key[32], icn[16];
	struct gost_block *b;
	struct mgm_cipher mc;

	test_rand_bytes(rng, key, sizeof(key));
	b = crypto_gost_block_new(kind_for(n), key);
	assert_non_null(b);
	mc = (struct mgm_cipher){crypto_gost_block_ecb, b, n};
	for (int r = 0; r < rounds; r++) {
		size_t alen = test_rand(rng) % (r % 4 ? 100 : maxlen);
		size_t plen = test_rand(rng) % maxlen, tl = 4 + test_rand(rng) % (n - 3);
		size_t cut = alen ? test_rand(rng) % alen : 0;

		if (alen + plen == 0)
			plen = 1;
		test_rand_bytes(rng, icn, n);
		test_rand_bytes(rng, big_a, alen);
		test_rand_bytes(rng, big_p, plen);
		check_vs_ref(&mc, icn, alen, cut, plen, tl, rng);
	}
	crypto_gost_block_free(b);
}

static void test_random_vs_reference(void **state)
{
	uint64_t rng = 42;

	(void)state;
	for (size_t k = 0; k < sizeof(impls) / sizeof(impls[0]); k++) {
		if (!use_impl(impls[k]))
			continue;
		random_vs_ref(16, &rng, 3000, 60);
		random_vs_ref(8, &rng, 3000, 60);
		random_vs_ref(16, &rng, 70000, 3);
		random_vs_ref(8, &rng, 70000, 3);
	}
	mgm_gf_select(MGM_GF_AUTO);
}

/* The identity permutation as a block cipher: Y_1 and Z_1 are then the nonce itself, so the
 * counters can be put next to their wrap (RFC 9058: each half counts modulo 2^(n/2)). */
static int identity_ecb(void *key, uint8_t *out, const uint8_t *in, size_t nblocks)
{
	memcpy(out, in, nblocks * *(size_t *)key);
	return 0;
}

static void test_counter_wrap(void **state)
{
	static const char *const nonces[] = {
	    "7f ff ff ff ff ff ff fd ff ff ff ff ff ff ff fd",
	    "7f ff ff fd ff ff ff fd",
	};
	uint64_t rng = 7;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		size_t n = i ? 8 : 16;
		struct mgm_cipher mc = {identity_ecb, &n, n};
		uint8_t icn[16];

		hex_decode(nonces[i], icn, n);
		test_rand_bytes(&rng, big_a, 100);
		test_rand_bytes(&rng, big_p, 40000);
		for (size_t k = 0; k < sizeof(impls) / sizeof(impls[0]); k++) {
			if (!use_impl(impls[k]))
				continue;
			check_vs_ref(&mc, icn, 100, 37, 100, n, &rng);
			check_vs_ref(&mc, icn, 5 * n, n, 40000, n, &rng);
		}
	}
	mgm_gf_select(MGM_GF_AUTO);
}

static void test_bad_args(void **state)
{
	uint8_t key[32] = {0}, icn[16] = {0}, buf[16] = {0}, tag[16];
	struct gost_block *b;
	struct mgm_cipher mc;
	struct mgm_seg seg = {buf, 8};

	(void)state;
	b = crypto_gost_block_new(GOST_BLOCK_KUZNYECHIK, key);
	mc = (struct mgm_cipher){crypto_gost_block_ecb, b, 16};
	assert_int_equal(mgm_encrypt(&mc, icn, &seg, 1, buf, 0, tag, 3), -EINVAL);
	assert_int_equal(mgm_encrypt(&mc, icn, &seg, 1, buf, 0, tag, 17), -EINVAL);
	assert_int_equal(mgm_encrypt(&mc, icn, NULL, 0, buf, 0, tag, 16), -EINVAL);
	assert_int_equal(mgm_encrypt(&mc, icn, NULL, 0, NULL, 4, tag, 16), -EINVAL);
	mc.n = 12;
	assert_int_equal(mgm_encrypt(&mc, icn, &seg, 1, buf, 0, tag, 8), -EINVAL);
	mc.n = 16;
	assert_int_equal(mgm_encrypt(&mc, icn, &seg, 1, buf, 0, tag, 4), 0);
	crypto_gost_block_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_gf_mul),
	    cmocka_unit_test(test_gf_rfc_sums),
	    cmocka_unit_test(test_rfc9058_vectors),
	    cmocka_unit_test(test_rfc9058_magma_cbc1),
	    cmocka_unit_test(test_bit_flips_rejected),
	    cmocka_unit_test(test_aad_segments),
	    cmocka_unit_test(test_random_vs_reference),
	    cmocka_unit_test(test_counter_wrap),
	    cmocka_unit_test(test_bad_args),
	};

	return run_per_gost_impl(tests, setup, teardown);
}
