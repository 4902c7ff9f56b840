// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_gcm_backends.c - the two AES-GCM backends (intel-ipsec-mb, OpenSSL EVP) agree: for
 * the same SA, sequence number and IV they build byte-identical ESP packets, for every
 * payload size from 0 to 2000 bytes (random contents, fixed seed; modes, families, ESN and
 * key sizes drawn at random), and each decrypts what the other built.
 */
#include "esp_fixture.h"

static const struct {
	int inner, tunnel;
} modes[] = { { AF_INET, 0 }, { AF_INET6, 0 }, { AF_INET, AF_INET }, { AF_INET6, AF_INET6 },
	      { AF_INET, AF_INET6 }, { AF_INET6, AF_INET } };

static struct sa *sa_on(enum aead_cipher c, bool esn, enum crypto_backend be)
{
	struct sa *sa = fx_sa_cipher(c, 0x4242, esn, esn ? 0x1fffffff0ULL : 0, 0);

	assert_int_equal(sa_use_backend(sa, be), 0);
	return sa;
}

static void test_identical_and_cross(void **state)
{
	uint64_t rng = 0xc0ffee;

	(void)state;
	for (size_t len = 0; len <= 2000; len++) {
		enum aead_cipher c = test_rand(&rng) % 2 ? AEAD_AES256_GCM : AEAD_AES128_GCM;
		bool esn = test_rand(&rng) % 2;
		unsigned m = (unsigned)(test_rand(&rng) % 6);
		struct sa *mb = sa_on(c, esn, CRYPTO_IPSECMB), *ossl = sa_on(c, esn, CRYPTO_OPENSSL);
		struct sp *sp_mb = fx_sp(mb, modes[m].inner, modes[m].tunnel);
		struct sp *sp_ossl = fx_sp(ossl, modes[m].inner, modes[m].tunnel);
		static uint8_t payload[2000];
		uint8_t iv[8];
		uint64_t seq = (esn ? 0x1fffffff0ULL : 1) + test_rand(&rng) % 100;
		struct fx_buf a, b;

		test_rand_bytes(&rng, payload, len);
		test_rand_bytes(&rng, iv, sizeof(iv));
		fx_packet(&a, modes[m].inner, 17, payload, len);
		fx_packet(&b, modes[m].inner, 17, payload, len);
		assert_int_equal(esp_out_seq_iv(sp_mb, &a.b, 0, 0, 0, seq, iv), 0);
		assert_int_equal(esp_out_seq_iv(sp_ossl, &b.b, 0, 0, 0, seq, iv), 0);
		assert_int_equal(a.b.len, b.b.len);
		if (memcmp(a.b.head + a.b.off, b.b.head + b.b.off, a.b.len))
			fail_msg("size %zu: the backends' packets differ", len);
		/* Each decrypts the other's. */
		assert_int_equal(fx_in(ossl, &a.b), 0);
		assert_int_equal(fx_in(mb, &b.b), 0);
		assert_int_equal(a.b.len, b.b.len);
		assert_memory_equal(a.b.head + a.b.off, b.b.head + b.b.off, a.b.len);
		sp_free(sp_mb);
		sp_free(sp_ossl);
		sa_free(mb);
		sa_free(ossl);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identical_and_cross),
	};

	if (crypto_init(CRYPTO_IPSECMB) < 0) {
		fprintf(stderr, "*** test_gcm_backends: intel-ipsec-mb is not usable here ***\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
