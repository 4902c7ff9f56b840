// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_gost_ciphers.c - our block ciphers (kuznyechik.c, magma.c), every implementation:
 * the known answers of GOST R 34.12-2015 as RFC 7801 5.4-5.5 (Kuznyechik: the ten round keys
 * and the example block) and RFC 8891 A.3-A.4 (Magma: the key words and the example block),
 * alone and repeated in calls of 1 to 64 blocks; then a differential test against
 * gost-engine through crypto_gost.c, byte-exact: random keys (a new one every 64 calls),
 * random blocks, calls of every length 1..64 and some longer, unaligned buffers, in place
 * or not.
 *
 * GOST_DIFF_BLOCKS sets the differential test's size: blocks per cipher, each compared
 * across every implementation (default 4000000; 200000 when CI=true).
 */
#include "test_util.h"

#include <errno.h>
#include <inttypes.h>

#include "crypto/crypto.h"
#include "crypto/crypto_gost.h"
#include "gost_impls.h"
#include "crypto/kuznyechik.h"
#include "crypto/magma.h"

/* RFC 7801 5.4 (GOST R 34.12-2015 A.1.4) and 5.5 */
static const char *const kuz_key_hex =
    "8899aabbccddeeff0011223344556677fedcba98765432100123456789abcdef";
static const char *const kuz_rk[10] = {
    "8899aabbccddeeff0011223344556677", "fedcba98765432100123456789abcdef",
    "db31485315694343228d6aef8cc78c44", "3d4553d8e9cfec6815ebadc40a9ffd04",
    "57646468c44a5e28d3e59246f429f1ac", "bd079435165c6432b532e82834da581b",
    "51e640757e8745de705727265a0098b1", "5a7925017b9fdd3ed72a91a22286f984",
    "bb44e25378c73123a5f32f73cdb6e517", "72e9dd7416bcf45b755dbaa88e4a4043",
};
static const char *const kuz_pt_hex = "1122334455667700ffeeddccbbaa9988";
static const char *const kuz_ct_hex = "7f679d90bebc24305a468d42b9d4edcd";

/* RFC 8891 A.3 (K_1 .. K_8; rounds 9-24 repeat them, 25-32 reverse them) and A.4 */
static const char *const magma_key_hex =
    "ffeeddccbbaa99887766554433221100f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
static const uint32_t magma_k[8] = {
    0xffeeddcc, 0xbbaa9988, 0x77665544, 0x33221100, 0xf0f1f2f3, 0xf4f5f6f7, 0xf8f9fafb, 0xfcfdfeff,
};
static const char *const magma_pt_hex = "fedcba9876543210";
static const char *const magma_ct_hex = "4ee901e5c2d8ca3d";

static int setup(void **state)
{
	(void)state;
	crypto_init(CRYPTO_AUTO);
	if (!kuznyechik_ct_supported() || !magma_ct_supported())
		fprintf(stderr, "\n*** test_gost_ciphers: no AVX2: the ct implementations are "
				"not tested here ***\n\n");
	if (!crypto_gost_available())
		fprintf(stderr, "\n*** test_gost_ciphers: FAILED: %s: the differential tests "
				"fail ***\n\n", GOST_MISSING);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	crypto_fini();
	return 0;
}

typedef void (*ecb_fn)(const void *k, uint8_t *out, const uint8_t *in, size_t n);

/* Every length 1..64: n copies of pt in one call (in place, then not) give n copies of ct. */
static void check_repeated(ecb_fn ecb, const void *k, size_t bs, const uint8_t *pt,
			   const uint8_t *ct)
{
	uint8_t in[64 * 16], out[64 * 16];

	for (size_t n = 1; n <= 64; n++) {
		for (size_t i = 0; i < n; i++)
			memcpy(in + bs * i, pt, bs);
		ecb(k, out, in, n);
		ecb(k, in, in, n);
		for (size_t i = 0; i < n; i++) {
			assert_memory_equal(out + bs * i, ct, bs);
			assert_memory_equal(in + bs * i, ct, bs);
		}
	}
}

static void ecb_kuz_table(const void *k, uint8_t *out, const uint8_t *in, size_t n)
{
	kuznyechik_ecb_table(k, out, in, n);
}

static void ecb_kuz_ct(const void *k, uint8_t *out, const uint8_t *in, size_t n)
{
	kuznyechik_ecb_ct(k, out, in, n);
}

static void ecb_magma_table(const void *k, uint8_t *out, const uint8_t *in, size_t n)
{
	magma_ecb_table(k, out, in, n);
}

static void ecb_magma_ct(const void *k, uint8_t *out, const uint8_t *in, size_t n)
{
	magma_ecb_ct(k, out, in, n);
}

static void check_kuz_rk(const struct kuznyechik_key *k)
{
	uint8_t rk[16];

	for (int i = 0; i < 10; i++) {
		hex_decode(kuz_rk[i], rk, sizeof(rk));
		assert_memory_equal(k->rk[i], rk, 16);
	}
}

static void test_kuznyechik_rfc7801(void **state)
{
	struct kuznyechik_key k, zero;
	uint8_t key[32], pt[16], ct[16];

	(void)state;
	hex_decode(kuz_key_hex, key, sizeof(key));
	hex_decode(kuz_pt_hex, pt, sizeof(pt));
	hex_decode(kuz_ct_hex, ct, sizeof(ct));
	kuznyechik_setkey(&k, key);
	check_kuz_rk(&k);
	check_repeated(ecb_kuz_table, &k, 16, pt, ct);
	if (kuznyechik_ct_supported()) {
		memset(&k, 0, sizeof(k));
		assert_int_equal(kuznyechik_setkey_ct(&k, key), 0);
		check_kuz_rk(&k);
		check_repeated(ecb_kuz_ct, &k, 16, pt, ct);
	} else {
		assert_int_equal(kuznyechik_setkey_ct(&k, key), -ENOTSUP);
	}
	kuznyechik_wipe(&k);
	memset(&zero, 0, sizeof(zero));
	assert_memory_equal(&k, &zero, sizeof(k));
}

static void test_magma_rfc8891(void **state)
{
	struct magma_key k, zero;
	uint8_t key[32], pt[8], ct[8];

	(void)state;
	hex_decode(magma_key_hex, key, sizeof(key));
	hex_decode(magma_pt_hex, pt, sizeof(pt));
	hex_decode(magma_ct_hex, ct, sizeof(ct));
	magma_setkey(&k, key);
	assert_memory_equal(k.k, magma_k, sizeof(magma_k));
	check_repeated(ecb_magma_table, &k, 8, pt, ct);
	if (magma_ct_supported())
		check_repeated(ecb_magma_ct, &k, 8, pt, ct);
	magma_wipe(&k);
	memset(&zero, 0, sizeof(zero));
	assert_memory_equal(&k, &zero, sizeof(k));
}

/* --- differential: each of ours against gost-engine ------------------------------------ */
static size_t diff_blocks(void)
{
	const char *n = getenv("GOST_DIFF_BLOCKS"), *ci = getenv("CI");

	if (n && *n)
		return strtoull(n, NULL, 10);
	return ci && !strcmp(ci, "true") ? 200000 : 4000000;
}

struct diff {
	struct gost_block *ref, *ours[2]; /* gost-engine; table, ct (NULL: not here) */
	size_t bs;
};

static void diff_rekey(struct diff *d, enum gost_block_kind kind, uint64_t *rng)
{
	static const enum gost_impl impls[2] = {GOST_IMPL_TABLE, GOST_IMPL_CT};
	uint8_t key[32];

	test_rand_bytes(rng, key, sizeof(key));
	crypto_gost_block_free(d->ref);
	d->ref = crypto_gost_block_new_impl(kind, GOST_IMPL_ENGINE, key);
	assert_non_null(d->ref);
	for (int i = 0; i < 2; i++) {
		crypto_gost_block_free(d->ours[i]);
		d->ours[i] = crypto_gost_block_new_impl(kind, impls[i], key);
		assert_true(d->ours[i] || (i == 1 && errno == ENOTSUP));
	}
	d->bs = crypto_gost_block_size(d->ref);
}

/* Call number c: its length (1..64 in turn, every 16th call 65..400) and buffer offsets. */
static void diff_call(struct diff *d, uint64_t c, uint64_t *rng, size_t *done)
{
	static uint8_t in[400 * 16 + 16], ref[400 * 16], out[400 * 16 + 16];
	size_t n = c % 16 == 15 ? 65 + test_rand(rng) % 336 : c % 64 + 1;
	uint8_t *src = in + c % 16, *dst = out + (c * 7 + 3) % 16;

	test_rand_bytes(rng, src, n * d->bs);
	assert_int_equal(crypto_gost_block_ecb(d->ref, ref, src, n), 0);
	for (int i = 0; i < 2; i++) {
		if (!d->ours[i])
			continue;
		if (c % 4 == 0) { /* in place */
			memcpy(dst, src, n * d->bs);
			assert_int_equal(crypto_gost_block_ecb(d->ours[i], dst, dst, n), 0);
		} else {
			assert_int_equal(crypto_gost_block_ecb(d->ours[i], dst, src, n), 0);
		}
		if (memcmp(dst, ref, n * d->bs))
			fail_msg("%s %s differs from gost-engine: call %" PRIu64 ", %zu blocks",
				 d->bs == 16 ? "Kuznyechik" : "Magma", i ? "ct" : "table", c, n);
	}
	*done += n;
}

static void differential(enum gost_block_kind kind, uint64_t seed)
{
	struct diff d = {.ref = NULL};
	size_t total = diff_blocks(), done = 0;
	uint64_t rng = seed, c;

	gost_needed();
	for (c = 0; done < total; c++) {
		if (c % 64 == 0)
			diff_rekey(&d, kind, &rng);
		diff_call(&d, c, &rng, &done);
	}
	fprintf(stderr, "    %s: %zu blocks in %" PRIu64 " calls, %" PRIu64 " keys: equal\n",
		d.bs == 16 ? "Kuznyechik" : "Magma", done, c, (c + 63) / 64);
	crypto_gost_block_free(d.ref);
	crypto_gost_block_free(d.ours[0]);
	crypto_gost_block_free(d.ours[1]);
}

static void test_kuznyechik_vs_engine(void **state)
{
	(void)state;
	differential(GOST_BLOCK_KUZNYECHIK, 0x6b757a);
}

static void test_magma_vs_engine(void **state)
{
	(void)state;
	differential(GOST_BLOCK_MAGMA, 0x6d61676d61);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kuznyechik_rfc7801),
	    cmocka_unit_test(test_magma_rfc8891),
	    cmocka_unit_test(test_kuznyechik_vs_engine),
	    cmocka_unit_test(test_magma_vs_engine),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
