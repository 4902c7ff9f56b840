// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_lazy_key.c - lazy keying (crypto.h) and the SA state made on first use (sad.h,
 * replay.h): `add` keys nothing and allocates no replay bitmap; the first packet of an SA,
 * sent or received, passes and keys it; threads racing to key one context all succeed with
 * one key schedule kept (AddressSanitizer sees the loser's freed); the counters of rare
 * events appear on the first one; and a refused `add` still changes nothing.
 */
#include <pthread.h>

#include "control/cmd_exec.h"
#include "esp_fixture.h"
#include "lib/rcu.h"
#include "lib/wipe.h"

static const struct transform {
	enum aead_cipher c;
	enum crypto_backend be;
	const char *name;
} transforms[] = {
	{ AEAD_AES128_GCM, CRYPTO_IPSECMB, "AES-128-GCM intel-ipsec-mb" },
	{ AEAD_AES256_GCM, CRYPTO_IPSECMB, "AES-256-GCM intel-ipsec-mb" },
	{ AEAD_AES128_GCM, CRYPTO_OPENSSL, "AES-128-GCM OpenSSL" },
	{ AEAD_AES256_GCM, CRYPTO_OPENSSL, "AES-256-GCM OpenSSL" },
	{ AEAD_KUZNYECHIK_MGM, CRYPTO_AUTO, "Kuznyechik-MGM" },
	{ AEAD_MAGMA_MGM, CRYPTO_AUTO, "Magma-MGM" },
	{ AEAD_KUZNYECHIK_MGM_MAC, CRYPTO_AUTO, "Kuznyechik-MGM-MAC" },
	{ AEAD_MAGMA_MGM_MAC, CRYPTO_AUTO, "Magma-MGM-MAC" },
};

static bool usable(const struct transform *t)
{
	bool gost = t->c != AEAD_AES128_GCM && t->c != AEAD_AES256_GCM;

	/* GOST needs gost-engine; its absence is a failure elsewhere (test_crypto_gost) */
	return !gost || crypto_gost_available();
}

static struct sa *fresh(const struct transform *t, uint32_t spi)
{
	struct sa *sa = fx_sa_cipher(t->c, spi, false, 0, 0);

	if (t->be != CRYPTO_AUTO)
		assert_int_equal(sa_use_backend(sa, t->be), 0);
	return sa;
}

/* A new SA holds no key schedule, no replay bitmap, no block of rare counters. */
static void assert_idle(struct sa *sa)
{
	assert_false(aead_keyed(&sa->aead));
	assert_null(atomic_load(&sa->replay.bits));
	assert_null(atomic_load(&sa->rare));
}

/* The first packet of an outbound SA and the first of the inbound one both pass. */
static void test_first_packet_passes(void **state)
{
	static const uint8_t payload[] = "the first packet of a lazily keyed SA";

	(void)state;
	for (size_t i = 0; i < sizeof(transforms) / sizeof(transforms[0]); i++) {
		const struct transform *t = &transforms[i];
		struct sa *tx, *rx;
		struct sp *sp;
		struct fx_buf fb;
		int err;

		if (!usable(t))
			continue;
		tx = fresh(t, 0x2000 + (uint32_t)i);
		rx = fresh(t, 0x2000 + (uint32_t)i);
		sp = fx_sp(tx, AF_INET, AF_INET);
		assert_idle(tx);
		assert_idle(rx);
		fx_packet(&fb, AF_INET, 17, payload, sizeof(payload));
		err = esp_out(sp, &fb.b, 0, 0, 0);
		if (err)
			fail_msg("%s: the first packet out: %d", t->name, err);
		assert_true(aead_keyed(&tx->aead));
		assert_int_equal(sa_counter(tx, SA_C_out_packets), 1);
		err = fx_in(rx, &fb.b);
		if (err)
			fail_msg("%s: the first packet in: %d", t->name, err);
		assert_true(aead_keyed(&rx->aead));
		assert_non_null(atomic_load(&rx->replay.bits));
		assert_int_equal(sa_counter(rx, SA_C_in_packets), 1);
		assert_memory_equal(fb.b.head + fb.b.off + 20, payload, sizeof(payload));
		/* nothing was dropped, so no block of rare counters either */
		assert_null(atomic_load(&tx->rare));
		assert_null(atomic_load(&rx->rare));
		sp_free(sp);
		sa_free(tx);
		sa_free(rx);
	}
}

/* The replayed first packet: dropped as a replay, once the window exists. */
static void test_first_packet_replayed(void **state)
{
	static const uint8_t payload[] = "twice";
	struct sa *tx = fresh(&transforms[0], 0x3000), *rx = fresh(&transforms[0], 0x3000);
	struct sp *sp = fx_sp(tx, AF_INET6, AF_INET);
	struct fx_buf fb, copy;

	(void)state;
	fx_packet(&fb, AF_INET6, 17, payload, sizeof(payload));
	assert_int_equal(esp_out(sp, &fb.b, 0, 0, 0), 0);
	copy = fb;
	copy.b.head = copy.mem;
	assert_int_equal(fx_in(rx, &fb.b), 0);
	assert_int_equal(esp_drop_reason(fx_in(rx, &copy.b)), SA_C_replay);
	assert_int_equal(sa_counter(rx, SA_C_replay), 1);	/* the rare block, made now */
	assert_non_null(atomic_load(&rx->rare));
	assert_int_equal(sa_counter(rx, SA_C_icv_fail), 0);
	sp_free(sp);
	sa_free(tx);
	sa_free(rx);
}

/* A window positioned by seq: (a restart from dump): the numbers before it stay refused
 * while no bitmap exists, and once it does. */
static void test_window_before_bitmap(void **state)
{
	struct replay r;

	(void)state;
	replay_init(&r, 64, 500);
	assert_null(atomic_load(&r.bits));
	assert_int_equal(replay_check(&r, 500), REPLAY_DUP);
	assert_int_equal(replay_check(&r, 1), REPLAY_OLD);
	assert_int_equal(replay_check(&r, 499), REPLAY_DUP);
	assert_int_equal(replay_check(&r, 501), REPLAY_OK);
	assert_int_equal(replay_update(&r, 503), REPLAY_OK);
	assert_non_null(atomic_load(&r.bits));
	assert_int_equal(replay_check(&r, 500), REPLAY_DUP);
	assert_int_equal(replay_check(&r, 501), REPLAY_OK);
	assert_int_equal(replay_check(&r, 503), REPLAY_DUP);
	replay_fini(&r);
}

/* --- racing threads ------------------------------------------------------------------------ */

#define RACERS 4

struct racer {
	struct aead *a;
	pthread_barrier_t *go;
	unsigned slot;
	uint8_t data[64], icv[ESP_ICV_MAX];
	int err;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	uint8_t aad[8] = { 0, 0, 0x40, 0, 0, 0, 0, 7 }, iv[ESP_IV_LEN];
	struct aead_req req = { aad, sizeof(aad), iv, r->data, sizeof(r->data), r->icv };

	memset(r->data, 0x5c, sizeof(r->data));
	pthread_barrier_wait(r->go);
	r->err = aead_next_iv(r->a, 7, sizeof(r->data), iv) ?: aead_seal(r->a, r->slot, &req);
	return NULL;
}

/* RACERS threads key one context at once, each on its thread slot: all seal, all alike. */
static void test_racing_first_packets(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(transforms) / sizeof(transforms[0]); i++) {
		const struct transform *t = &transforms[i];
		struct racer r[RACERS];
		pthread_t th[RACERS];
		pthread_barrier_t go;
		uint8_t km[ESP_KEYMAT_MAX];

		if (!usable(t))
			continue;
		memset(km, 0x3c + (int)i, sizeof(km));
		for (int round = 0; round < 20; round++) {
			struct aead *a = aead_new_backend(t->c, km, aead_keymat_len(t->c), RACERS,
							  t->be);

			assert_non_null(a);
			assert_false(aead_keyed(a));
			pthread_barrier_init(&go, NULL, RACERS);
			for (unsigned k = 0; k < RACERS; k++) {
				r[k] = (struct racer){ .a = a, .go = &go, .slot = k };
				assert_int_equal(pthread_create(&th[k], NULL, race, &r[k]), 0);
			}
			for (unsigned k = 0; k < RACERS; k++)
				pthread_join(th[k], NULL);
			pthread_barrier_destroy(&go);
			for (unsigned k = 0; k < RACERS; k++) {
				if (r[k].err)
					fail_msg("%s: racer %u: %d", t->name, k, r[k].err);
				assert_memory_equal(r[k].data, r[0].data, sizeof(r[0].data));
				assert_memory_equal(r[k].icv, r[0].icv, aead_icv_len(a));
			}
			assert_true(aead_keyed(a));
			aead_free(a);
		}
	}
}

/* --- through the executor ------------------------------------------------------------------ */

static int apply(struct exec_env *env, const char *text)
{
	struct cmd_error err;
	struct cmd c;
	int ret;

	assert_int_equal(cmd_parse_string(text, &c, &err), 1);
	ret = cmd_exec(env, &c, &err);
	wipe(&c, sizeof(c));
	return ret;
}

/* `add` keys nothing; a refused add (a reused key) leaves the SAD as it was. */
static void test_add_keys_nothing(void **state)
{
	struct exec_env env = { .sad = sad_new(), .spd = spd_new(), .nthreads = 2, .out = stdout };
	struct sa *sa;

	(void)state;
	assert_int_equal(apply(&env, "add 192.0.2.1 192.0.2.2 esp 0x1001 -u 1 -E aes-gcm-16 "
				     "0x00112233445566778899aabbccddeeff01020304 ;"), 0);
	sa = sad_by_spi(env.sad, 0x1001);
	assert_non_null(sa);
	assert_idle(sa);
	/* the same key again: refused, as before lazy keying */
	assert_int_equal(apply(&env, "add 192.0.2.1 192.0.2.2 esp 0x1002 -u 2 -E aes-gcm-16 "
				     "0x00112233445566778899aabbccddeeff01020304 ;"), -1);
	assert_null(sad_by_spi(env.sad, 0x1002));
	assert_int_equal(sad_count(env.sad), 1);
	spd_free(env.spd);
	sad_free(env.sad);
	rcu_barrier();
}

static int setup(void **state)
{
	(void)state;
	return crypto_init(CRYPTO_AUTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_packet_passes),
		cmocka_unit_test(test_first_packet_replayed),
		cmocka_unit_test(test_window_before_bitmap),
		cmocka_unit_test(test_racing_first_packets),
		cmocka_unit_test(test_add_keys_nothing),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
