// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_crypto_gost.c - crypto_gost.c through the facade: the eight example packets of
 * RFC 9227 Appendix A (K_msg, nonce, IV, ciphertext, ICV, the ESP packet's layout, every
 * bit flip rejected), random round trips for the four transforms, the IV counter of 4.8
 * (pnum -> i3 -> i2 -> i1, the Magma octet limit of section 5, exhaustion, many threads),
 * and the per-slot key-tree cache: the current and the previous leaf, forged IVs never
 * evicting the genuine leaf (derivations counted). The whole group runs once per block
 * cipher implementation (gost_impls.h).
 */
#include "test_util.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>

#include "crypto/crypto.h"
#include "crypto/crypto_gost.h"
#include "crypto/kdf_tree.h"
#include "crypto/mgm.h"
#include "gost_impls.h"
#include "../data/rfc9227_vectors.h"

static struct kdf_tree_ctx *kctx;

static int setup(void **state)
{
	(void)state;
	if (gost_setup("test_crypto_gost"))
		return -1;
	fprintf(stderr, "    GF(2^n): %s, GOST %s\n", mgm_gf_name(), crypto_gost_impl_name());
	kctx = kdf_tree_ctx_new();
	return kctx ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	kdf_tree_ctx_free(kctx);
	crypto_fini();
	return 0;
}

static bool is_mac(enum aead_cipher c)
{
	return c == AEAD_KUZNYECHIK_MGM_MAC || c == AEAD_MAGMA_MGM_MAC;
}

static bool is_kuz(enum aead_cipher c)
{
	return c == AEAD_KUZNYECHIK_MGM || c == AEAD_KUZNYECHIK_MGM_MAC;
}

struct pkt_bin {
	uint8_t tkey[44], kmsg[32], nonce[16], iv[8], aad[128], pt[128], ct[128], icv[16];
	uint8_t esp[256];
	size_t tklen, nlen, alen, plen, icvlen, esplen;
	/* what the facade gets: SPI | SN, and the ESP payload (clear for MAC-only) */
	const uint8_t *spi_sn, *payload, *sealed;
	size_t len;
};

static void decode_pkt(const struct rfc9227_pkt *v, struct pkt_bin *b)
{
	b->tklen = hex_decode(v->tkey, b->tkey, sizeof(b->tkey));
	assert_int_equal(hex_decode(v->kmsg, b->kmsg, sizeof(b->kmsg)), 32);
	b->nlen = hex_decode(v->nonce, b->nonce, sizeof(b->nonce));
	assert_int_equal(hex_decode(v->iv, b->iv, sizeof(b->iv)), 8);
	b->alen = hex_decode(v->aad, b->aad, sizeof(b->aad));
	b->plen = hex_decode(v->pt, b->pt, sizeof(b->pt));
	assert_int_equal(hex_decode(v->ct, b->ct, sizeof(b->ct)), b->plen);
	b->icvlen = hex_decode(v->icv, b->icv, sizeof(b->icv));
	b->esplen = hex_decode(v->esp, b->esp, sizeof(b->esp));
	assert_int_equal(b->tklen, aead_keymat_len(v->c));
	assert_int_equal(b->icvlen, aead_icv_len_of(v->c));
	b->spi_sn = b->aad;
	if (is_mac(v->c)) {
		assert_int_equal(b->plen, 0);
		assert_memory_equal(b->aad + 8, b->iv, 8);
		b->payload = b->sealed = b->aad + 16;
		b->len = b->alen - 16;
	} else {
		assert_int_equal(b->alen, 8);
		b->payload = b->pt;
		b->sealed = b->ct;
		b->len = b->plen;
	}
}

/* K_msg from the tree, then MGM with K_msg and the example nonce gives ciphertext and ICV. */
static void check_kmsg_nonce(const struct rfc9227_pkt *v, const struct pkt_bin *b)
{
	struct mgm_seg seg = {b->aad, b->alen};
	uint8_t kmsg[32], buf[128], tag[16];
	struct gost_block *blk;
	struct mgm_cipher mc;

	assert_int_equal(
	    kdf_tree_leaf(kctx, b->tkey, (uint8_t)v->i1, (uint16_t)v->i2, (uint16_t)v->i3, kmsg),
	    0);
	assert_memory_equal(kmsg, b->kmsg, 32);
	blk = crypto_gost_block_new(is_kuz(v->c) ? GOST_BLOCK_KUZNYECHIK : GOST_BLOCK_MAGMA, kmsg);
	assert_non_null(blk);
	mc = (struct mgm_cipher){crypto_gost_block_ecb, blk, b->nlen};
	memcpy(buf, b->pt, b->plen);
	assert_int_equal(mgm_encrypt(&mc, b->nonce, &seg, 1, buf, b->plen, tag, b->icvlen), 0);
	assert_memory_equal(buf, b->ct, b->plen);
	assert_memory_equal(tag, b->icv, b->icvlen);
	crypto_gost_block_free(blk);
}

/* The example's tunnel-mode packet: 20-byte outer header | SPI | SN | IV | payload | ICV. */
static void check_esp_layout(const struct pkt_bin *b, const uint8_t *data, const uint8_t *icv)
{
	assert_int_equal(b->esplen, 20 + 8 + 8 + b->len + b->icvlen);
	assert_memory_equal(b->esp + 20, b->spi_sn, 8);
	assert_memory_equal(b->esp + 28, b->iv, 8);
	assert_memory_equal(b->esp + 36, data, b->len);
	assert_memory_equal(b->esp + 36 + b->len, icv, b->icvlen);
}

/* Every bit of SPI|SN, IV, payload and ICV flipped in turn: -EBADMSG, payload unchanged; a
 * flipped i1|i2|i3 names another leaf, which past the forged-IV budget is refused before
 * any derivation (-EBUSY). */
static void flip_every_bit(struct aead *a, const struct pkt_bin *b)
{
	size_t total = (8 + 8 + b->len + b->icvlen) * 8;

	for (size_t bit = 0; bit < total; bit++) {
		uint8_t spi_sn[8], iv[8], data[128], icv[16];
		struct aead_req r = {spi_sn, 8, iv, data, b->len, icv};
		uint8_t *p[] = {spi_sn, iv, data, icv};
		size_t lens[] = {8, 8, b->len, b->icvlen}, byte = bit / 8, k = 0;

		memcpy(spi_sn, b->spi_sn, 8);
		memcpy(iv, b->iv, 8);
		memcpy(data, b->sealed, b->len);
		memcpy(icv, b->icv, b->icvlen);
		while (byte >= lens[k])
			byte -= lens[k++];
		p[k][byte] ^= (uint8_t)(1u << (bit % 8));
		if (k == 1 && byte < 5) {
			int err = aead_open(a, 0, &r);

			assert_true(err == -EBADMSG || err == -EBUSY);
		} else {
			assert_int_equal(aead_open(a, 0, &r), -EBADMSG);
		}
		if (k == 2)
			data[byte] ^= (uint8_t)(1u << (bit % 8));
		assert_memory_equal(data, b->sealed, b->len);
	}
}

static void check_packet(const struct rfc9227_pkt *v)
{
	struct pkt_bin b;
	uint8_t iv[8], nonce[16], data[128], icv[16];
	struct aead_req r = {NULL, 8, iv, data, 0, icv};
	struct aead *a;

	fprintf(stderr, "    %s\n", v->name);
	decode_pkt(v, &b);
	check_kmsg_nonce(v, &b);
	a = aead_new(v->c, b.tkey, b.tklen, 1);
	assert_non_null(a);
	assert_int_equal(aead_icv_len(a), b.icvlen);
	/* IV and nonce from i1/i2/i3/pnum */
	assert_int_equal(
	    crypto_gost_set_iv(a, 1, (uint8_t)v->i1, (uint16_t)v->i2, (uint16_t)v->i3, v->pnum), 0);
	assert_int_equal(aead_next_iv(a, 1, b.len, iv), 0);
	assert_memory_equal(iv, b.iv, 8);
	assert_int_equal(crypto_gost_nonce(a, iv, nonce), b.nlen);
	assert_memory_equal(nonce, b.nonce, b.nlen);
	/* seal */
	r.aad = b.spi_sn;
	r.len = b.len;
	memcpy(data, b.payload, b.len);
	assert_int_equal(aead_seal(a, 0, &r), 0);
	assert_memory_equal(data, b.sealed, b.len);
	assert_memory_equal(icv, b.icv, b.icvlen);
	check_esp_layout(&b, data, icv);
	/* open */
	assert_int_equal(aead_open(a, 0, &r), 0);
	assert_memory_equal(data, b.payload, b.len);
	flip_every_bit(a, &b);
	aead_free(a);
}

/* Under both GF(2^n) backends (pclmul only where the CPU has it). */
static void test_rfc9227_examples(void **state)
{
	static const enum mgm_gf_impl impls[] = {MGM_GF_PCLMUL, MGM_GF_PORTABLE};

	(void)state;
	for (size_t k = 0; k < 2; k++) {
		if (mgm_gf_select(impls[k])) {
			fprintf(stderr,
				"    note: no PCLMULQDQ on this CPU, portable backend only\n");
			continue;
		}
		fprintf(stderr, "  GF(2^n) backend: %s\n", mgm_gf_name());
		for (size_t i = 0; i < RFC9227_NPKTS; i++)
			check_packet(&rfc9227_pkts[i]);
	}
	mgm_gf_select(MGM_GF_AUTO);
}

/* --- round trips ---------------------------------------------------------------------------- */
static const enum aead_cipher gost_ciphers[] = {
    AEAD_KUZNYECHIK_MGM,
    AEAD_MAGMA_MGM,
    AEAD_KUZNYECHIK_MGM_MAC,
    AEAD_MAGMA_MGM_MAC,
};

static struct aead *random_sa(enum aead_cipher c, unsigned nthreads, uint64_t *rng)
{
	uint8_t km[ESP_KEYMAT_MAX];
	struct aead *a;

	test_rand_bytes(rng, km, sizeof(km));
	a = aead_new(c, km, aead_keymat_len(c), nthreads);
	assert_non_null(a);
	return a;
}

static void round_trip(struct aead *a, size_t len, uint64_t *rng, int i)
{
	static uint8_t pt[2048], data[2048];
	uint8_t aad[12], iv[8], icv[16];
	struct aead_req r = {aad, i % 3 ? 8 : 12, iv, data, len, icv};
	size_t icvlen = aead_icv_len(a), bit;

	test_rand_bytes(rng, aad, sizeof(aad));
	test_rand_bytes(rng, pt, len);
	memcpy(data, pt, len);
	assert_int_equal(aead_next_iv(a, (uint64_t)i, len, iv), 0);
	assert_int_equal(aead_seal(a, (unsigned)i % 2, &r), 0);
	if (is_mac(aead_cipher(a)))
		assert_memory_equal(data, pt, len); /* nothing encrypted */
	else if (len >= 16)
		assert_memory_not_equal(data, pt, len);
	assert_int_equal(aead_open(a, (unsigned)(i + 1) % 2, &r), 0);
	assert_memory_equal(data, pt, len);
	/* one bit somewhere in SPI|SN, IV, payload or ICV */
	assert_int_equal(aead_seal(a, 0, &r), 0);
	bit = test_rand(rng) % ((r.aad_len + 8 + len + icvlen) * 8);
	if (bit < r.aad_len * 8)
		aad[bit / 8] ^= (uint8_t)(1u << bit % 8);
	else if ((bit -= r.aad_len * 8) < 64)
		iv[bit / 8] ^= (uint8_t)(1u << bit % 8);
	else if ((bit -= 64) < len * 8)
		data[bit / 8] ^= (uint8_t)(1u << bit % 8);
	else
		icv[(bit - len * 8) / 8] ^= (uint8_t)(1u << bit % 8);
	assert_int_equal(aead_open(a, 1, &r), -EBADMSG);
}

static void test_round_trips(void **state)
{
	uint64_t rng = 2024;

	(void)state;
	for (size_t c = 0; c < 4; c++) {
		struct aead *a = random_sa(gost_ciphers[c], 2, &rng);

		for (int i = 0; i < 400; i++)
			round_trip(a, i < 4 ? (size_t)i : test_rand(&rng) % 2001, &rng, i);
		round_trip(a, 2000, &rng, 1);
		aead_free(a);
	}
}

/* The same packet sealed on either thread slot gives the same bytes. */
static void test_slots_agree(void **state)
{
	uint64_t rng = 77;

	(void)state;
	for (size_t c = 0; c < 4; c++) {
		struct aead *a = random_sa(gost_ciphers[c], 3, &rng);
		uint8_t aad[8] = {1, 2, 3, 4, 0, 0, 0, 9}, iv[8] = {0, 0, 2, 0, 3, 0, 0, 7};
		uint8_t d0[300], d2[300], icv0[16], icv2[16];
		struct aead_req r0 = {aad, 8, iv, d0, sizeof(d0), icv0};
		struct aead_req r2 = {aad, 8, iv, d2, sizeof(d2), icv2};

		test_rand_bytes(&rng, d0, sizeof(d0));
		memcpy(d2, d0, sizeof(d0));
		assert_int_equal(aead_seal(a, 0, &r0), 0);
		assert_int_equal(aead_seal(a, 2, &r2), 0);
		assert_memory_equal(d0, d2, sizeof(d0));
		assert_memory_equal(icv0, icv2, aead_icv_len(a));
		assert_int_equal(aead_seal(a, 3, &r2), -EINVAL); /* no such slot */
		aead_free(a);
	}
}

/* --- the IV: a function of the sequence number (RFC 9227 4.2, 5) ---------------------------- */
static void expect_iv(struct aead *a, uint64_t seq, unsigned i1, unsigned i2, unsigned i3,
		      unsigned pnum)
{
	uint8_t iv[8],
	    want[8] = {
		(uint8_t)i1, (uint8_t)(i2 >> 8),    (uint8_t)i2,	  (uint8_t)(i3 >> 8),
		(uint8_t)i3, (uint8_t)(pnum >> 16), (uint8_t)(pnum >> 8), (uint8_t)pnum,
	    };

	assert_int_equal(aead_next_iv(a, seq, 100, iv), 0);
	if (memcmp(iv, want, 8))
		fail_msg("SN %#" PRIx64 ": IV %02x%02x%02x%02x%02x%02x%02x%02x", seq, iv[0], iv[1],
			 iv[2], iv[3], iv[4], iv[5], iv[6], iv[7]);
}

/* Kuznyechik: 2^24 packets per leaf (pnum's width), so the whole 64-bit sequence space maps
 * onto the 40-bit leaf counter; the carries pnum -> i3 -> i2 -> i1. */
static void test_iv_kuznyechik(void **state)
{
	uint64_t rng = 5;
	struct aead *a;

	(void)state;
	a = random_sa(AEAD_KUZNYECHIK_MGM, 1, &rng);
	assert_int_equal(crypto_gost_pnum_bits(a), 24);
	expect_iv(a, 1, 0, 0, 0, 1); /* the SN is the position */
	expect_iv(a, 2, 0, 0, 0, 2);
	expect_iv(a, 0xffffff, 0, 0, 0, 0xffffff);
	expect_iv(a, 0x1000000, 0, 0, 1, 0); /* pnum -> i3 */
	expect_iv(a, 0x7ffffffffffull, 0, 7, 0xffff, 0xffffff);
	expect_iv(a, 0x80000000000ull, 0, 8, 0, 0); /* i3 -> i2 */
	expect_iv(a, 0x400000000000000ull, 4, 0, 0, 0); /* i2 -> i1 */
	expect_iv(a, UINT64_MAX, 0xff, 0xffff, 0xffff, 0xffffff); /* the very last SN */
	/* the test hook moves the mapping: SN 10 -> leaf (0, 0, 9), pnum 5, and on from there */
	assert_int_equal(crypto_gost_set_iv(a, 10, 0, 0, 9, 5), 0);
	expect_iv(a, 10, 0, 0, 9, 5);
	expect_iv(a, 11, 0, 0, 9, 6);
	assert_int_equal(crypto_gost_set_iv(a, 1, 0, 0, 0, 0x1000000), -EINVAL);
	aead_free(a);
}

/* Magma: 2^11 packets per leaf, so that no leaf can pass 2^28 octets (2^11 packets of at
 * most 2^16 + 20 octets each); 2^51 sequence numbers, then the IV space is exhausted. */
static void test_iv_magma(void **state)
{
	uint64_t rng = 6;
	struct aead *a;
	uint8_t iv[8];

	(void)state;
	a = random_sa(AEAD_MAGMA_MGM_MAC, 1, &rng);
	assert_int_equal(crypto_gost_pnum_bits(a), 11);
	assert_true(((uint64_t)1 << 11) * (65536 + 20) <= (uint64_t)1 << 28);
	assert_true(((uint64_t)1 << 24) * (65536 + 20) <= (uint64_t)1 << 41);
	expect_iv(a, 1, 0, 0, 0, 1);
	expect_iv(a, 2047, 0, 0, 0, 2047);
	expect_iv(a, 2048, 0, 0, 1, 0);
	expect_iv(a, 0x100000000ull, 0, 0x20, 0, 0); /* 2^32: i2 */
	expect_iv(a, (1ull << 51) - 1, 0xff, 0xffff, 0xffff, 2047);
	assert_int_equal(aead_next_iv(a, 1ull << 51, 100, iv), -ENOSPC);
	assert_int_equal(aead_next_iv(a, UINT64_MAX, 100, iv), -ENOSPC);
	aead_free(a);
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

/* Distinct sequence numbers give distinct IVs, across leaf boundaries (both ciphers). */
static void test_iv_distinct(void **state)
{
	static uint64_t all[300000];
	uint64_t rng = 8;

	(void)state;
	for (int kuz = 0; kuz < 2; kuz++) {
		struct aead *a = random_sa(kuz ? AEAD_KUZNYECHIK_MGM : AEAD_MAGMA_MGM, 1, &rng);
		uint64_t first = kuz ? 0xffffff - 100000 : 0xfffff000;

		for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
			uint8_t iv[8];

			assert_int_equal(aead_next_iv(a, first + i, 64, iv), 0);
			memcpy(&all[i], iv, 8);
		}
		qsort(all, sizeof(all) / sizeof(all[0]), sizeof(all[0]), cmp_u64);
		for (size_t i = 1; i < sizeof(all) / sizeof(all[0]); i++)
			assert_true(all[i] != all[i - 1]);
		aead_free(a);
	}
}

/* --- key-tree cache ------------------------------------------------------------------------- */
static int seal_iv(struct aead *a, unsigned slot, unsigned i1, unsigned i2, unsigned i3,
		   unsigned pnum)
{
	uint8_t aad[8] = {0}, data[40] = {0}, icv[16];
	uint8_t iv[8] = {
	    (uint8_t)i1, (uint8_t)(i2 >> 8),	(uint8_t)i2,	      (uint8_t)(i3 >> 8),
	    (uint8_t)i3, (uint8_t)(pnum >> 16), (uint8_t)(pnum >> 8), (uint8_t)pnum,
	};
	struct aead_req r = {aad, 8, iv, data, sizeof(data), icv};

	return aead_seal(a, slot, &r);
}

static void test_derivation_cache(void **state)
{
	/* Each slot keeps two leaves, the current and the previous one (RFC 9227 4.8), each
	 * with the level-1 and level-2 keys above it. */
	static const struct {
		unsigned slot, i1, i2, i3, pnum;
		uint64_t total; /* KDF calls so far */
	} steps[] = {
	    {0, 0, 0, 0, 0, 3},			      /* first packet: level 1, 2, 3 */
	    {0, 0, 0, 0, 1, 3},			      /* same leaf */
	    {0, 0, 0, 0, 99, 3}, {1, 0, 0, 0, 2, 6},  /* another slot has its own cache */
	    {0, 0, 0, 1, 0, 7},			      /* i3: the leaf only */
	    {0, 0, 0, 1, 5, 7},	 {0, 0, 1, 1, 0, 9},  /* i2: level 2 and the leaf */
	    {0, 1, 1, 1, 0, 12},		      /* i1: all three */
	    {0, 1, 1, 1, 7, 12}, {1, 0, 0, 0, 3, 12}, /* slot 1 still holds (0, 0, 0) */
	    {0, 1, 1, 2, 0, 13},		      /* next leaf: (1, 1, 1) is the previous */
	    {0, 1, 1, 1, 8, 13}, {0, 1, 1, 2, 1, 13}, /* the previous leaf and back: no KDF */
	    {0, 1, 1, 3, 0, 14},		      /* (1, 1, 1) drops out ... */
	    {0, 1, 1, 1, 9, 15},		      /* ... so it is derived again (leaf only) */
	    {0, 1, 1, 3, 1, 15},		      /* the previous leaf */
	    {0, 0, 1, 1, 1, 18}, /* i1 0 again: no cached leaf is under it, all three */
	    {0, 1, 1, 3, 2, 18}, /* (1, 1, 3) is the previous leaf now */
	};
	uint64_t rng = 11;

	(void)state;
	for (size_t c = 0; c < 4; c++) {
		struct aead *a = random_sa(gost_ciphers[c], 2, &rng);

		assert_int_equal(crypto_gost_derivations(a), 0);
		for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
			assert_int_equal(seal_iv(a, steps[i].slot, steps[i].i1, steps[i].i2,
						 steps[i].i3, steps[i].pnum),
					 0);
			if (crypto_gost_derivations(a) != steps[i].total)
				fail_msg("%s step %zu: %" PRIu64 " KDF calls, want %" PRIu64,
					 aead_cipher_name(gost_ciphers[c]), i,
					 crypto_gost_derivations(a), steps[i].total);
		}
		aead_free(a);
	}
}

static int open_iv(struct aead *a, const uint8_t *iv, const uint8_t *sealed, size_t len,
		   const uint8_t *icv)
{
	uint8_t aad[8] = {0}, data[64], ivc[8], icvc[16];
	struct aead_req r = {aad, 8, ivc, data, len, icvc};

	memcpy(ivc, iv, 8);
	memcpy(data, sealed, len);
	memcpy(icvc, icv, aead_icv_len(a));
	return aead_open(a, 0, &r);
}

/* A forged IV on the receive side costs the derivations of its own leaf (counted) and fails
 * the ICV; it replaces neither the genuine current leaf nor, when they are not shared, the
 * level keys above it, so genuine traffic derives nothing more because of it. */
static void test_forged_indices(void **state)
{
	static const struct {
		unsigned byte; /* of the IV */
		uint8_t val;
		uint64_t cost; /* KDF calls */
	} forged[] = {
	    {0, 0x42, 3}, /* i1: level 1, 2 and the leaf */
	    {4, 0x07, 1}, /* i3: the leaf only (levels 1 and 2 are the genuine ones) */
	    {2, 0x09, 2}, /* i2: level 2 and the leaf */
	    {0, 0x43, 3}, /* forged after forged: replaces the forged leaf */
	};
	uint64_t rng = 12;

	(void)state;
	for (size_t c = 0; c < 4; c++) {
		struct aead *a = random_sa(gost_ciphers[c], 1, &rng);
		uint8_t aad[8] = {0}, iv[8] = {0}, data[64] = {0}, icv[16], sealed[64];
		struct aead_req r = {aad, 8, iv, data, sizeof(data), icv};
		uint64_t d = 3;

		assert_int_equal(aead_next_iv(a, 0, sizeof(data), iv), 0);
		assert_int_equal(aead_seal(a, 0, &r), 0);
		memcpy(sealed, data, sizeof(data));
		assert_int_equal(crypto_gost_derivations(a), 3);
		for (size_t f = 0; f < sizeof(forged) / sizeof(forged[0]); f++) {
			uint8_t bad[8];

			memcpy(bad, iv, 8);
			bad[forged[f].byte] = forged[f].val;
			assert_int_equal(open_iv(a, bad, sealed, sizeof(data), icv), -EBADMSG);
			d += forged[f].cost;
			assert_int_equal(crypto_gost_derivations(a), d);
			/* the genuine packet: still cached */
			assert_int_equal(open_iv(a, iv, sealed, sizeof(data), icv), 0);
			assert_int_equal(crypto_gost_derivations(a), d);
		}
		/* two forged in a row, then genuine: still no derivation for the genuine one */
		iv[4] = 0x11;
		assert_int_equal(open_iv(a, iv, sealed, sizeof(data), icv), -EBADMSG);
		iv[4] = 0x12;
		assert_int_equal(open_iv(a, iv, sealed, sizeof(data), icv), -EBADMSG);
		d += 2;
		iv[4] = 0;
		assert_int_equal(open_iv(a, iv, sealed, sizeof(data), icv), 0);
		assert_int_equal(crypto_gost_derivations(a), d);
		/* the genuine next leaf under the same (i1, i2): one KDF call */
		assert_int_equal(seal_iv(a, 0, 0, 0, 1, 0), 0);
		assert_int_equal(crypto_gost_derivations(a), d + 1);
		aead_free(a);
	}
}

static void test_not_gost(void **state)
{
	uint8_t km[20] = {0}, iv[8] = {0}, nonce[16];
	struct aead *a;

	(void)state;
	a = aead_new(AEAD_AES128_GCM, km, sizeof(km), 1);
	assert_non_null(a);
	assert_int_equal(crypto_gost_set_iv(a, 1, 0, 0, 0, 0), -EINVAL);
	assert_int_equal(crypto_gost_derivations(a), 0);
	assert_int_equal(crypto_gost_nonce(a, iv, nonce), 0);
	aead_free(a);
	assert_int_equal(crypto_gost_set_iv(NULL, 1, 0, 0, 0, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc9227_examples), cmocka_unit_test(test_round_trips),
	    cmocka_unit_test(test_slots_agree),	     cmocka_unit_test(test_iv_kuznyechik),
	    cmocka_unit_test(test_iv_magma),	     cmocka_unit_test(test_iv_distinct),
	    cmocka_unit_test(test_derivation_cache), cmocka_unit_test(test_forged_indices),
	    cmocka_unit_test(test_not_gost),
	};

	return run_per_gost_impl(tests, setup, teardown);
}
