// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_security.c - the security suite's unit half (tests/security/ has the pcap and live
 * halves): no (key, nonce) pair is ever used twice, across a restart from `dump` and the
 * re-adding of a key (GOST and AES-GCM); forged GOST IVs cannot make the receiver derive
 * key-tree leaves without bound (RFC 9227 5); command lines have a length limit and a
 * refused one changes nothing; error messages quote a backslash unambiguously.
 * Everything goes through the command language, as a keying daemon would.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>

#include "control/cmd_exec.h"
#include "crypto/crypto_gost.h"
#include "esp_fixture.h"
#include "gost_impls.h"
#include "lib/rcu.h"
#include "tables/key_history.h"

#define KUZ "0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" \
	    "202122232425262728292a2b"
#define MAGMA "0x303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f50515253"
#define AES "0x606162636465666768696a6b6c6d6e6f70717273"

struct gw {
	struct sad *sad;
	struct spd *spd;
	struct exec_env env;
};

static struct gw *gw_new(void)
{
	struct gw *g = calloc(1, sizeof(*g));

	assert_non_null(g);
	g->sad = sad_new();
	g->spd = spd_new();
	assert_true(g->sad && g->spd);
	g->env = (struct exec_env){ .sad = g->sad, .spd = g->spd, .nthreads = 1, .out = stdout };
	return g;
}

static void gw_free(struct gw *g)
{
	spd_flush(g->spd);
	sad_flush(g->sad);
	rcu_barrier();
	spd_free(g->spd);
	sad_free(g->sad);
	free(g);
}

/* Apply text; the number of refused commands. Listings go to *out if out is not NULL. */
static unsigned gw_run(struct gw *g, const char *text, char **out)
{
	FILE *in = fmemopen((void *)text, strlen(text), "r");
	size_t len;
	FILE *o = out ? open_memstream(out, &len) : fopen("/dev/null", "w");
	struct cmd_reader *r;
	unsigned refused;

	assert_true(in && o);
	r = cmd_reader_new(in, "<test>");
	assert_non_null(r);
	g->env.out = o;
	refused = cmd_exec_stream(&g->env, r);
	g->env.out = stdout;
	cmd_reader_free(r);
	fclose(in);
	fclose(o);
	return refused;
}

/* Encrypt one packet with the policy its selectors match; the 8-byte IV it was sent with. */
static uint64_t send_one(struct gw *g)
{
	uint8_t payload[32] = { 1, 2, 3 }, *iv;
	bool opaque;
	struct pkt_info pi;
	struct fx_buf fb;
	struct sp *sp;
	uint64_t v;

	fx_packet(&fb, AF_INET, 17, payload, sizeof(payload));
	assert_int_equal(pkt_parse(fb.b.head + fb.b.off, fb.b.len, &pi), 0);
	sp = spd_match(g->spd, &pi, &opaque);
	assert_non_null(sp);
	assert_int_equal(esp_out(sp, &fb.b, 0, 0, 0), 0);
	iv = fb.b.head + fb.b.off + 20 + 8;	/* tunnel 4in4: outer IPv4, SPI, SN */
	memcpy(&v, iv, 8);
	return v;
}

#define SENT 6

static void send_run(struct gw *g, uint64_t *ivs)
{
	for (unsigned i = 0; i < SENT; i++)
		ivs[i] = send_one(g);
}

static void assert_fresh(const uint64_t *before, const uint64_t *after, const char *what)
{
	for (unsigned i = 0; i < SENT; i++)
		for (unsigned j = 0; j < SENT; j++)
			if (after[i] == before[j])
				fail_msg("%s: packet %u reuses the IV %016llx of packet %u", what, i,
					 (unsigned long long)be64toh(after[i]), j);
}

static const char *policy =
	"spdadd 198.51.100.0/24 203.0.113.0/24 any -P out ipsec "
	"esp/tunnel/192.0.2.1-192.0.2.2/unique:1 ;\n";

/* Send, dump, restart a fresh instance from the dump, send again: no IV twice. */
static void restart_from_dump(const char *alg, const char *key)
{
	struct gw *a = gw_new(), *b;
	uint64_t first[SENT], second[SENT];
	char add[512], *dump = NULL;

	snprintf(add, sizeof(add), "add 192.0.2.1 192.0.2.2 esp 0x1001 -u 1 -E %s %s ;\n", alg,
		 key);
	assert_int_equal(gw_run(a, add, NULL), 0);
	assert_int_equal(gw_run(a, policy, NULL), 0);
	send_run(a, first);
	assert_int_equal(gw_run(a, "dump ;\n", &dump), 0);
	gw_free(a);
	b = gw_new();
	assert_int_equal(gw_run(b, dump, NULL), 0);
	assert_int_equal(gw_run(b, policy, NULL), 0);
	send_run(b, second);
	assert_fresh(first, second, alg);
	free(dump);
	gw_free(b);
}

static void test_restart_from_dump_gost(void **state)
{
	(void)state;
	gost_needed();
	restart_from_dump("gost", KUZ);
	restart_from_dump("gost-esn", MAGMA);
	restart_from_dump("gost-mac", KUZ);
}

static void test_restart_from_dump_aes(void **state)
{
	(void)state;
	restart_from_dump("aes-gcm-16", AES);
	restart_from_dump("aes-gcm-16-esn", AES);
}

/* The same key deleted and added again in one process: refused, or sent with fresh IVs. */
static void readd(const char *alg, const char *key)
{
	struct gw *g = gw_new();
	uint64_t first[SENT], second[SENT];
	char add[512];

	snprintf(add, sizeof(add), "add 192.0.2.1 192.0.2.2 esp 0x1001 -u 1 -E %s %s ;\n", alg,
		 key);
	assert_int_equal(gw_run(g, add, NULL), 0);
	assert_int_equal(gw_run(g, policy, NULL), 0);
	send_run(g, first);
	assert_int_equal(gw_run(g, "delete 192.0.2.1 192.0.2.2 esp 0x1001 ;\n", NULL), 0);
	if (gw_run(g, add, NULL) == 0) {
		assert_int_equal(gw_run(g, policy, NULL), 0);
		send_run(g, second);
		assert_fresh(first, second, alg);
	}
	gw_free(g);
}

static void test_readd_key(void **state)
{
	(void)state;
	gost_needed();
	readd("gost", KUZ);
	readd("gost", MAGMA);
	readd("aes-gcm-16", AES);
}

/* A worker that found the policy before a `delete` may still number packets with the SA
 * until its next quiescent point: those numbers must not be sent again after a re-add. The
 * SA's numbers end with the delete: what the worker asks for then, it does not get. */
static void test_delete_ends_numbering(void **state)
{
	struct gw *g = gw_new();
	struct rcu_reader *worker = rcu_register();
	struct sa *sa;
	uint64_t first;
	unsigned late, refused;

	(void)state;
	rcu_quiescent(worker);
	assert_int_equal(gw_run(g, "add 192.0.2.1 192.0.2.2 esp 0x1001 -u 1 -E aes-gcm-16 " AES
				" ;\n", NULL), 0);
	assert_int_equal(gw_run(g, policy, NULL), 0);
	sa = sad_by_uid(g->sad, 1);		/* the worker's burst found it */
	assert_int_equal(sa_seq_alloc(sa, 10, &first), 10);	/* 1..10 sent */
	assert_int_equal(gw_run(g, "delete 192.0.2.1 192.0.2.2 esp 0x1001 ;\n", NULL), 0);
	late = sa_seq_alloc(sa, 32, &first);	/* the rest of its burst: 11..42 before */
	/* the key resumes after the last number handed out, 10 */
	refused = gw_run(g, "add 192.0.2.1 192.0.2.2 esp 0x1002 -u 2 -E aes-gcm-16 " AES
			 " seq:0xa ;\n", NULL);
	refused += !gw_run(g, "add 192.0.2.1 192.0.2.2 esp 0x1002 -u 2 -E aes-gcm-16 " AES
			   " seq:0xb ;\n", NULL);
	rcu_quiescent(worker);
	rcu_unregister(worker);		/* before any assert: a failed one must not hang RCU */
	if (late)
		fail_msg("numbers %llu.. given out after the delete; the key resumes at 11",
			 (unsigned long long)first);
	assert_int_equal(refused, 2);
	gw_free(g);
}

/* A key a peer has sent with (an inbound SA's, named by an in policy or having decrypted):
 * deleted and added again, its anti-replay window goes on where it stopped (a re-add below
 * is refused), and it never becomes outbound (we would send the peer's nonces). */
static void test_inbound_key_readded(void **state)
{
	static const char *in_policy =
		"spdadd 203.0.113.0/24 198.51.100.0/24 any -P in ipsec "
		"esp/tunnel/192.0.2.2-192.0.2.1/unique:1 ;\n";
	struct gw *g = gw_new();
	char add[256];
	struct sa *sa;

	(void)state;
	assert_int_equal(gw_run(g, "add 192.0.2.2 192.0.2.1 esp 0x2001 -u 1 -E aes-gcm-16 " AES
				" ;\n", NULL), 0);
	assert_int_equal(gw_run(g, in_policy, NULL), 0);
	sa = sad_by_uid(g->sad, 1);
	for (uint64_t seq = 1; seq <= 100; seq++)
		assert_int_equal(replay_update(&sa->replay, seq), REPLAY_OK);
	sa_count(sa, SA_C_in_packets, 100);
	assert_int_equal(gw_run(g, "delete 192.0.2.2 192.0.2.1 esp 0x2001 ;\n", NULL), 0);
	/* inbound again, from seq 1: the peer's packets 1..100 would be taken again */
	assert_int_equal(gw_run(g, "add 192.0.2.2 192.0.2.1 esp 0x2002 -u 2 -E aes-gcm-16 " AES
				" ;\n", NULL), 1);
	assert_int_equal(gw_run(g, "add 192.0.2.2 192.0.2.1 esp 0x2002 -u 2 -E aes-gcm-16 " AES
				" seq:101 ;\n", NULL), 0);
	sa = sad_by_uid(g->sad, 2);
	assert_int_equal(replay_check(&sa->replay, 50), REPLAY_DUP);
	assert_int_equal(gw_run(g, "delete 192.0.2.2 192.0.2.1 esp 0x2002 ;\n", NULL), 0);
	/* as an outbound SA: refused, whatever its seq: (and dir:out says so at once) */
	snprintf(add, sizeof(add), "add 192.0.2.1 192.0.2.2 esp 0x1003 -u 3 -E aes-gcm-16 %s "
		 "seq:1000 dir:out ;\n", AES);
	assert_int_equal(gw_run(g, add, NULL), 1);
	snprintf(add, sizeof(add), "add 192.0.2.1 192.0.2.2 esp 0x1003 -u 3 -E aes-gcm-16 %s "
		 "seq:1000 ;\n", AES);
	assert_int_equal(gw_run(g, add, NULL), 0);
	assert_int_equal(gw_run(g, "spdadd 198.51.100.0/24 203.0.113.0/24 any -P out ipsec "
				"esp/tunnel/192.0.2.1-192.0.2.2/unique:3 ;\n", NULL), 1);
	assert_false(sa_is_outbound(sad_by_uid(g->sad, 3)));
	/* a receiving key that took the last number of its space (ESN: 2^64-1) takes none again */
	assert_int_equal(gw_run(g, "add 192.0.2.2 192.0.2.1 esp 0x2004 -u 4 -E aes-gcm-16-esn "
				"0x606162636465666768696a6b6c6d6e6f7071727374757677"
				"78797a7b7c7d7e7f80818283 ;\n", NULL), 0);
	sa = sad_by_uid(g->sad, 4);
	assert_int_equal(replay_update(&sa->replay, UINT64_MAX), REPLAY_OK);	/* a jump */
	sa_count(sa, SA_C_in_packets, 1);
	assert_int_equal(gw_run(g, "delete 192.0.2.2 192.0.2.1 esp 0x2004 ;\n", NULL), 0);
	assert_int_equal(gw_run(g, "add 192.0.2.2 192.0.2.1 esp 0x2004 -u 4 -E aes-gcm-16-esn "
				"0x606162636465666768696a6b6c6d6e6f7071727374757677"
				"78797a7b7c7d7e7f80818283 ;\n", NULL), 1);
	gw_free(g);
}

/* A restart from `dump` keeps each SA's direction, also when no policy names it any more
 * (spdflush first, as docs/security.md advises for a dump): the SA that sent never decrypts
 * (its own ESP reflected back would be), the one that received never sends. */
static void test_dump_keeps_direction(void **state)
{
	struct gw *a = gw_new(), *b = gw_new();
	uint64_t ivs[SENT];
	char *dump = NULL;

	(void)state;
	assert_int_equal(gw_run(a, "add 192.0.2.1 192.0.2.2 esp 0x1001 -u 1 -E aes-gcm-16 " AES
				" ;\nadd 192.0.2.2 192.0.2.1 esp 0x2001 -u 2 -E aes-gcm-16 "
				"0x000102030405060708090a0b0c0d0e0f10111213 ;\n", NULL), 0);
	assert_int_equal(gw_run(a, policy, NULL), 0);
	assert_int_equal(gw_run(a, "spdadd 203.0.113.0/24 198.51.100.0/24 any -P in ipsec "
				"esp/tunnel/192.0.2.2-192.0.2.1/unique:2 ;\n", NULL), 0);
	send_run(a, ivs);
	assert_int_equal(gw_run(a, "spdflush ;\ndump ;\n", &dump), 0);
	assert_int_equal(gw_run(b, dump, NULL), 0);
	assert_true(sa_is_outbound(sad_by_uid(b->sad, 1)));
	assert_int_equal(gw_run(b, "spdadd 203.0.113.0/24 198.51.100.0/24 any -P in ipsec "
				"esp/tunnel/192.0.2.2-192.0.2.1/unique:1 ;\n", NULL), 1);
	assert_int_equal(gw_run(b, "spdadd 198.51.100.0/24 203.0.113.0/24 any -P out ipsec "
				"esp/tunnel/192.0.2.2-192.0.2.1/unique:2 ;\n", NULL), 1);
	free(dump);
	gw_free(a);
	gw_free(b);
}

/* Key number i (its first bytes, which the history hashes: low bits first, 0xcc after). */
static struct key_digest key_number(uint32_t i)
{
	struct key_digest k = { { 0, 0, 0, 0, 0xcc } };

	memcpy(k.d, &i, sizeof(i));
	return k;
}

/* Keys number 0..n-1 come and go (each sent up to 4); the last one in *last. */
static void keys_come_and_go(struct key_history *h, uint32_t n, struct key_digest *last)
{
	bool received;

	for (uint32_t i = 0; i < n; i++) {
		*last = key_number(i);
		assert_int_equal(key_history_add(h, last, 1, &received), 0);
		key_history_remove(h, last, 5, false);
	}
}

/* The key history is bounded by forgetting the keys of deleted SAs, oldest first; the key of
 * a live SA, however old, is never forgotten (a second SA with it would repeat its nonces). */
static void test_history_keeps_live_keys(void **state)
{
	struct key_history *h = key_history_new();
	struct key_digest live = { { 0xaa, 0xbb } }, k;
	uint64_t resume;
	bool received;

	(void)state;
	assert_non_null(h);
	assert_int_equal(key_history_add(h, &live, 1, &received), 0);
	keys_come_and_go(h, KEY_HISTORY_MAX + 1, &k);	/* one more than it holds */
	assert_int_equal(key_history_check(h, &live, 1, &resume, &received), -EEXIST);
	assert_int_equal(key_history_check(h, &k, 1, &resume, &received), -ESTALE);	/* the newest */
	k = key_number(0);
	assert_int_equal(key_history_check(h, &k, 1, &resume, &received), 0);	/* the oldest: gone */
	key_history_free(h);
}

/* A key whose SA went, came back and went again counts from when it went last: it is not
 * forgotten at its first going's turn (a re-add from seq:1 would repeat its nonces). */
static void test_history_key_gone_again(void **state)
{
	struct key_history *h = key_history_new();
	struct key_digest again = { { 0xaa, 0xbb } }, k;
	uint64_t resume;
	bool received;

	(void)state;
	assert_non_null(h);
	assert_int_equal(key_history_add(h, &again, 1, &received), 0);
	key_history_remove(h, &again, 5, false);		/* gone: the oldest */
	assert_int_equal(key_history_add(h, &again, 5, &received), 0);	/* back */
	keys_come_and_go(h, KEY_HISTORY_MAX - 1, &k);		/* the history is full */
	key_history_remove(h, &again, 9, false);		/* gone again, up to 8 sent */
	k = key_number(UINT32_MAX);
	assert_int_equal(key_history_add(h, &k, 1, &received), 0);
	key_history_remove(h, &k, 5, false);			/* one key must be forgotten */
	assert_int_equal(key_history_check(h, &again, 1, &resume, &received), -ESTALE);
	assert_int_equal(resume, 9);
	k = key_number(0);
	assert_int_equal(key_history_check(h, &k, 1, &resume, &received), 0);	/* this one */
	key_history_free(h);
}

/* --- forged GOST IVs ------------------------------------------------------------------- */

/* The packet fx_packet makes, encrypted by g's outbound policy, into out; its length. */
static uint32_t seal(struct gw *g, uint8_t *out)
{
	uint8_t payload[32] = { 9 };
	bool opaque;
	struct pkt_info pi;
	struct fx_buf fb;

	fx_packet(&fb, AF_INET, 17, payload, sizeof(payload));
	assert_int_equal(pkt_parse(fb.b.head + fb.b.off, fb.b.len, &pi), 0);
	assert_int_equal(esp_out(spd_match(g->spd, &pi, &opaque), &fb.b, 0, 0, 0), 0);
	memcpy(out, fb.b.head + fb.b.off, fb.b.len);
	return fb.b.len;
}

static int open_copy(struct sa *sa, const uint8_t *pkt, uint32_t len, struct fx_buf *fb)
{
	memcpy(fb->mem + FX_HEADROOM, pkt, len);
	fb->b = (struct pbuf){ .head = fb->mem, .size = sizeof(fb->mem), .off = FX_HEADROOM,
			       .len = len };
	return fx_in(sa, &fb->b);
}

static void test_forged_iv_budget(void **state)
{
	struct gw *tx = gw_new(), *rx = gw_new();
	const char *add = "add 192.0.2.2 192.0.2.1 esp 0x2001 -u 1 -E gost " KUZ " ;\n";
	uint8_t p1[256], p2[256];
	uint32_t l1, l2;
	struct fx_buf fb;
	struct sa *sa;
	uint64_t rng = 7, before;

	(void)state;
	gost_needed();
	assert_int_equal(gw_run(tx, add, NULL), 0);
	assert_int_equal(gw_run(tx, "spdadd 198.51.100.0/24 203.0.113.0/24 any -P out ipsec "
				    "esp/tunnel/192.0.2.2-192.0.2.1/unique:1 ;\n", NULL), 0);
	assert_int_equal(gw_run(rx, add, NULL), 0);
	l1 = seal(tx, p1);
	l2 = seal(tx, p2);
	sa = sad_by_spi(rx->sad, 0x2001);
	assert_int_equal(open_copy(sa, p1, l1, &fb), 0);
	before = crypto_gost_derivations(&sa->aead);
	for (unsigned i = 0; i < 1000; i++) {
		uint8_t forged[256];

		memcpy(forged, p2, l2);
		forged[20 + 6] = (uint8_t)((i + 3) >> 8);	/* a fresh SN, a random leaf */
		forged[20 + 7] = (uint8_t)(i + 3);
		test_rand_bytes(&rng, forged + 20 + 8, 5);
		assert_true(open_copy(sa, forged, l2, &fb) < 0);
	}
	if (crypto_gost_derivations(&sa->aead) - before > 100)
		fail_msg("1000 forged IVs forced %llu key-tree derivations",
			 (unsigned long long)(crypto_gost_derivations(&sa->aead) - before));
	assert_int_equal(open_copy(sa, p2, l2, &fb), 0);	/* the genuine leaf still works */
	gw_free(tx);
	gw_free(rx);
}

/* --- the command reader ----------------------------------------------------------------- */

static void test_line_limit(void **state)
{
	struct gw *g = gw_new();
	size_t pad = 100000;
	const char *add = "add 192.0.2.1 192.0.2.2 esp 0x1001 -u 1 -E aes-gcm-16 " AES;
	char *text = malloc(strlen(add) + pad + 8);

	(void)state;
	strcpy(text, add);
	memset(text + strlen(add), ' ', pad);
	strcpy(text + strlen(add) + pad, " ;\n");
	assert_int_equal(gw_run(g, text, NULL), 1);
	assert_int_equal(sad_count(g->sad), 0);
	/* and the reader goes on with the next line */
	assert_int_equal(gw_run(g, "flush ;\n", NULL), 0);
	free(text);
	gw_free(g);
}

static void test_backslash_quoted(void **state)
{
	struct cmd_error err;
	struct cmd c;

	(void)state;
	assert_int_equal(cmd_parse_string("a\\x41b ;", &c, &err), -1);
	if (!strstr(err.msg, "'a\\\\x41b'"))
		fail_msg("the literal backslash is not escaped: %s", err.msg);
	assert_int_equal(cmd_parse_string("a\x01 ;", &c, &err), -1);
	assert_non_null(strstr(err.msg, "'a\\x01'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restart_from_dump_gost),
		cmocka_unit_test(test_restart_from_dump_aes),
		cmocka_unit_test(test_readd_key),
		cmocka_unit_test(test_delete_ends_numbering),
		cmocka_unit_test(test_inbound_key_readded),
		cmocka_unit_test(test_history_keeps_live_keys),
		cmocka_unit_test(test_history_key_gone_again),
		cmocka_unit_test(test_dump_keeps_direction),
		cmocka_unit_test(test_forged_iv_budget),
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_backslash_quoted),
	};

	crypto_init(CRYPTO_AUTO);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
