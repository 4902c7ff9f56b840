// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_kdf_tree.c - kdf_tree.c: RFC 7836 Appendix B examples 9 (KDF_GOSTR3411_2012_256) and
 * 10 (KDF_TREE_GOSTR3411_2012_256, L = 512), the K_msg of all eight RFC 9227 Appendix A
 * packets from their root keys and i1/i2/i3, and argument checks.
 */
#include "test_util.h"

#include <errno.h>

#include "crypto/crypto.h"
#include "crypto/kdf_tree.h"
#include "gost_impls.h"

static struct kdf_tree_ctx *kctx;

static int setup(void **state)
{
	(void)state;
	if (gost_setup("test_kdf_tree"))
		return -1;
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

#define B_KEY                                                                                      \
	"00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 14 15 16 17 18 19 1a 1b 1c "  \
	"1d 1e 1f"
#define B_LABEL "26 bd b8 78"
#define B_SEED	"af 21 43 41 45 65 63 78"

/* RFC 7836 B.9 */
static void test_kdf256_rfc7836(void **state)
{
	uint8_t key[32], label[4], seed[8], want[32], out[32];

	(void)state;
	hex_decode(B_KEY, key, sizeof(key));
	hex_decode(B_LABEL, label, sizeof(label));
	hex_decode(B_SEED, seed, sizeof(seed));
	hex_decode("a1 aa 5f 7d e4 02 d7 b3 d3 23 f2 99 1c 8d 45 34"
		   "01 31 37 01 0a 83 75 4f d0 af 6d 7c d4 92 2e d9",
		   want, sizeof(want));
	assert_int_equal(kdf_tree_kdf256(kctx, key, label, 4, seed, 8, out), 0);
	assert_memory_equal(out, want, 32);
	/* KDF_256 is KDF_TREE with R = 1, L = 256 */
	memset(out, 0, sizeof(out));
	assert_int_equal(kdf_tree_derive(kctx, key, label, 4, seed, 8, out, 32), 0);
	assert_memory_equal(out, want, 32);
}

/* RFC 7836 B.10: L = 512, R = 1 */
static void test_kdf_tree_rfc7836(void **state)
{
	uint8_t key[32], label[4], seed[8], want[64], out[64];

	(void)state;
	hex_decode(B_KEY, key, sizeof(key));
	hex_decode(B_LABEL, label, sizeof(label));
	hex_decode(B_SEED, seed, sizeof(seed));
	hex_decode("22 b6 83 78 45 c6 be f6 5e a7 16 72 b2 65 83 10"
		   "86 d3 c7 6a eb e6 da e9 1c ad 51 d8 3f 79 d1 6b"
		   "07 4c 93 30 59 9d 7f 8d 71 2f ca 54 39 2f 4d dd"
		   "e9 37 51 20 6b 35 84 c8 f4 3f 9e 6d c5 15 31 f9",
		   want, sizeof(want));
	assert_int_equal(kdf_tree_derive(kctx, key, label, 4, seed, 8, out, 64), 0);
	assert_memory_equal(out, want, 64);
}

/* RFC 9227 Appendix A: K and i1/i2/i3 -> K_msg, examples 1 to 8 */
/* clang-format off */
static const struct {
	const char *k;
	unsigned i1, i2, i3;
	const char *kmsg;
} leaves[] = {
	{ "b6 18 0c 14 5c 51 2d bd 69 d9 ce a9 2c ac 1b 5c e1 bc fa 73 79 2d 61 af 0b 44 0d 84 b5 22 cc 38",
	  0, 0, 0,
	  "2f f1 c9 0e de 78 6e 06 1e 17 b3 74 d7 82 af 7b d8 80 bd 52 7c 66 a2 ba dc 3e 56 9a ab 27 1d a4" },
	{ "b6 18 0c 14 5c 51 2d bd 69 d9 ce a9 2c ac 1b 5c e1 bc fa 73 79 2d 61 af 0b 44 0d 84 b5 22 cc 38",
	  0, 1, 1,
	  "9a ba c6 57 78 18 0e 6f 2a f6 1f b8 d5 71 62 36 66 c2 f5 13 0d 54 e2 11 6c 7d 53 0e 6e 7d 48 bc" },
	{ "5b 50 bf 33 78 87 02 38 f3 ca 74 0f d1 24 ba 6c 22 83 ef 58 9b e6 f4 6a 89 4a a3 5d 5f 06 b2 03",
	  0, 0, 0,
	  "25 65 21 e2 70 b7 4a 16 4d fc 26 e6 bf 0c ca 76 5e 9d 41 02 7d 4b 7b 19 76 2b 1c c9 01 dc de 7f" },
	{ "5b 50 bf 33 78 87 02 38 f3 ca 74 0f d1 24 ba 6c 22 83 ef 58 9b e6 f4 6a 89 4a a3 5d 5f 06 b2 03",
	  0, 1, 1,
	  "20 e0 46 d4 09 83 9b 23 f0 66 a5 0a 7a 06 5b 4a 39 24 4f 0e 29 ef 1e 6f 2e 5d 2e 13 55 f5 da 08" },
	{ "98 bd 34 ce 3b e1 9a 34 65 e4 87 c0 06 48 83 f4 88 cc 23 92 63 dc 32 04 91 9b 64 3f e7 57 b2 be",
	  0, 0, 0,
	  "98 f1 03 01 81 0a 04 1c da dd e1 bd 85 a0 8f 21 8b ac b5 7e 00 35 e2 22 c8 31 e3 e4 f0 a2 0c 8f" },
	{ "98 bd 34 ce 3b e1 9a 34 65 e4 87 c0 06 48 83 f4 88 cc 23 92 63 dc 32 04 91 9b 64 3f e7 57 b2 be",
	  0, 0, 1,
	  "02 c5 41 87 7c c6 23 f3 f1 35 91 9a 75 13 b6 f8 a8 a1 8c b2 63 99 86 2f 50 81 4f 52 91 01 67 84" },
	{ "d0 65 b5 30 fa 20 b8 24 c7 57 0c 1d 86 2a e3 39 2c 1c 07 6d fa da 69 75 74 4a 07 a8 85 7d bd 30",
	  0, 0, 0,
	  "4c 61 45 99 a0 a0 67 f1 94 87 24 0a e1 00 e1 b7 ea f2 3e da f8 7e 38 73 50 86 1c 68 3b a4 04 46" },
	{ "d0 65 b5 30 fa 20 b8 24 c7 57 0c 1d 86 2a e3 39 2c 1c 07 6d fa da 69 75 74 4a 07 a8 85 7d bd 30",
	  0, 0, 1,
	  "b4 f3 f9 0d c4 87 fa b8 c4 af d0 eb 45 49 f2 f0 e4 36 32 b6 79 19 37 2e 1e 96 09 ea f0 b8 e2 28" },
};
/* clang-format on */

static void test_rfc9227_leaf_keys(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
		uint8_t k[32], want[32], out[32];

		hex_decode(leaves[i].k, k, sizeof(k));
		hex_decode(leaves[i].kmsg, want, sizeof(want));
		assert_int_equal(kdf_tree_leaf(kctx, k, (uint8_t)leaves[i].i1,
					       (uint16_t)leaves[i].i2, (uint16_t)leaves[i].i3, out),
				 0);
		assert_memory_equal(out, want, 32);
	}
}

/* A level is KDF_256 with label "levelN" and a 2-byte big-endian seed (0x00 | i1 first). */
static void test_levels_are_kdf256(void **state)
{
	uint8_t key[32], a[32], b[32], k1[32], k2[32], leaf[32];
	uint64_t rng = 99;

	(void)state;
	for (int round = 0; round < 20; round++) {
		uint16_t idx = (uint16_t)test_rand(&rng);
		unsigned level = 1 + round % 3;
		uint8_t label[6] = {'l', 'e', 'v', 'e', 'l', (uint8_t)('0' + level)};
		uint8_t seed[2];

		if (level == 1)
			idx &= 0xff;
		seed[0] = (uint8_t)(idx >> 8);
		seed[1] = (uint8_t)idx;
		test_rand_bytes(&rng, key, sizeof(key));
		assert_int_equal(kdf_tree_level(kctx, level, key, idx, a), 0);
		assert_int_equal(kdf_tree_kdf256(kctx, key, label, 6, seed, 2, b), 0);
		assert_memory_equal(a, b, 32);
	}
	/* leaf = level3(level2(level1(K, i1), i2), i3) */
	assert_int_equal(kdf_tree_level(kctx, 1, key, 0x12, k1), 0);
	assert_int_equal(kdf_tree_level(kctx, 2, k1, 0x3456, k2), 0);
	assert_int_equal(kdf_tree_level(kctx, 3, k2, 0x789a, a), 0);
	assert_int_equal(kdf_tree_leaf(kctx, key, 0x12, 0x3456, 0x789a, leaf), 0);
	assert_memory_equal(a, leaf, 32);
	/* and every index matters */
	assert_int_equal(kdf_tree_leaf(kctx, key, 0x12, 0x3456, 0x789b, b), 0);
	assert_memory_not_equal(b, leaf, 32);
	assert_int_equal(kdf_tree_leaf(kctx, key, 0x12, 0x3457, 0x789a, b), 0);
	assert_memory_not_equal(b, leaf, 32);
	assert_int_equal(kdf_tree_leaf(kctx, key, 0x13, 0x3456, 0x789a, b), 0);
	assert_memory_not_equal(b, leaf, 32);
}

static void test_bad_args(void **state)
{
	uint8_t key[32] = {0}, out[64];

	(void)state;
	assert_int_equal(kdf_tree_level(kctx, 0, key, 0, out), -EINVAL);
	assert_int_equal(kdf_tree_level(kctx, 4, key, 0, out), -EINVAL);
	assert_int_equal(kdf_tree_level(kctx, 1, key, 256, out), -EINVAL);
	assert_int_equal(kdf_tree_level(kctx, 2, key, 0xffff, out), 0);
	assert_int_equal(kdf_tree_derive(kctx, key, NULL, 0, NULL, 0, out, 0), -EINVAL);
	assert_int_equal(kdf_tree_derive(kctx, key, NULL, 0, NULL, 0, out, 33), -EINVAL);
	assert_int_equal(kdf_tree_derive(kctx, key, NULL, 0, NULL, 0, out, 64), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kdf256_rfc7836),    cmocka_unit_test(test_kdf_tree_rfc7836),
	    cmocka_unit_test(test_rfc9227_leaf_keys), cmocka_unit_test(test_levels_are_kdf256),
	    cmocka_unit_test(test_bad_args),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
