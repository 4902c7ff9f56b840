// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_lifetime.c - SA lifetimes (control/lifetime.c and the executor's housekeeping) with
 * a fake clock: the decision table (hard before soft, soft once, time in whole seconds,
 * bytes and packets of either direction, 0 as no limit); add's options -ls/-lh/-bs/-bh/
 * -ps/-ph parsed in any order among -u, their errors with LINE:COL, and dump's round trip;
 * the housekeeping under time, bytes and packets: "expire soft" once, then "expire hard"
 * with the SA and its unique:ID policies deleted as `delete` does, require:ID policies
 * kept waiting; a bounded sweep that reaches every SA in turn.
 */
#include <sys/socket.h>

#include "control/lifetime.h"
#include "ctl_fixture.h"
#include "esp_fixture.h"

#define T0 1000000000ull	/* the fake clock's start, in ms */

#define ADD_OUT "add 192.0.2.1 192.0.2.2 esp 0x1001 -u 1 "
#define ADD_IN "add 192.0.2.2 192.0.2.1 esp 0x2001 -u 2 "
#define POL_OUT "spdadd 198.51.100.0/24 203.0.113.0/24 any -P out ipsec " \
	"esp/tunnel/192.0.2.1-192.0.2.2/"
#define POL_IN "spdadd 203.0.113.0/24 198.51.100.0/24 any -P in ipsec " \
	"esp/tunnel/192.0.2.2-192.0.2.1/"

/* --- the decision ------------------------------------------------------------------------ */

struct check_case {
	struct sa_lifetime soft, hard;
	struct lifetime_use use;
	bool reported;
	enum lifetime_verdict want;
	const char *by;
};

static const struct check_case check_cases[] = {
	{ { 0 }, { 0 }, { 1000000000, 1ull << 60, 1ull << 60 }, false, LIFETIME_OK, NULL },
	{ { 10, 0, 0 }, { 20, 0, 0 }, { 9999, 0, 0 }, false, LIFETIME_OK, NULL },
	{ { 10, 0, 0 }, { 20, 0, 0 }, { 10000, 0, 0 }, false, LIFETIME_SOFT, "time" },
	{ { 10, 0, 0 }, { 20, 0, 0 }, { 10000, 0, 0 }, true, LIFETIME_OK, NULL },
	{ { 10, 0, 0 }, { 20, 0, 0 }, { 19999, 0, 0 }, true, LIFETIME_OK, NULL },
	{ { 10, 0, 0 }, { 20, 0, 0 }, { 20000, 0, 0 }, true, LIFETIME_HARD, "time" },
	{ { 10, 0, 0 }, { 20, 0, 0 }, { 25000, 0, 0 }, false, LIFETIME_HARD, "time" },
	{ { 0, 100, 0 }, { 0, 200, 0 }, { 0, 99, 5 }, false, LIFETIME_OK, NULL },
	{ { 0, 100, 0 }, { 0, 200, 0 }, { 0, 100, 5 }, false, LIFETIME_SOFT, "bytes" },
	{ { 0, 100, 0 }, { 0, 200, 0 }, { 0, 200, 5 }, true, LIFETIME_HARD, "bytes" },
	{ { 0, 0, 3 }, { 0, 0, 4 }, { 0, 1000, 3 }, false, LIFETIME_SOFT, "packets" },
	{ { 0, 0, 3 }, { 0, 0, 4 }, { 0, 1000, 4 }, true, LIFETIME_HARD, "packets" },
	/* the first limit reached, in the order time, bytes, packets */
	{ { 5, 5, 5 }, { 0 }, { 6000, 6, 6 }, false, LIFETIME_SOFT, "time" },
	{ { 0 }, { 50, 5, 5 }, { 6000, 6, 6 }, false, LIFETIME_HARD, "bytes" },
	/* only a hard limit: no soft report ever */
	{ { 0 }, { 0, 0, 10 }, { 0, 0, 9 }, false, LIFETIME_OK, NULL },
	{ { 0 }, { 0, 0, 10 }, { 0, 0, 10 }, false, LIFETIME_HARD, "packets" },
};

static void test_check_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(check_cases) / sizeof(check_cases[0]); i++) {
		const struct check_case *c = &check_cases[i];
		struct sa_params p = { .soft = c->soft, .hard = c->hard };
		const char *by = "x";
		enum lifetime_verdict v = lifetime_check(&p, &c->use, c->reported, &by);

		if (v != c->want)
			fail_msg("case %zu: verdict %d, expected %d", i, v, c->want);
		if (c->by ? !by || strcmp(by, c->by) : by != NULL)
			fail_msg("case %zu: by %s, expected %s", i, by ? by : "NULL",
				 c->by ? c->by : "NULL");
	}
}

/* --- the options ------------------------------------------------------------------------- */

static void test_parse(void **state)
{
	struct cmd c;
	struct cmd_error err;

	(void)state;
	assert_int_equal(cmd_parse_string(ADD_OUT "-ls 10 -lh 20 -bs 100 -bh 200 -ps 3 -ph 4 "
					   "-E aes-gcm-16 " KEY1 " ;", &c, &err), 1);
	assert_int_equal(c.add.soft.time_s, 10);
	assert_int_equal(c.add.hard.time_s, 20);
	assert_int_equal(c.add.soft.bytes, 100);
	assert_int_equal(c.add.hard.bytes, 200);
	assert_int_equal(c.add.soft.packets, 3);
	assert_int_equal(c.add.hard.packets, 4);
	assert_int_equal(c.add.uid, 1);
	/* setkey's order: extensions (-u among them) in any order before -E; 0 is no limit */
	assert_int_equal(cmd_parse_string("add 192.0.2.1 192.0.2.2 esp 0x1001 -lh 18446744073709551615 "
					   "-u 7 -bs 0 -E aes-gcm-16 " KEY1 " ;", &c, &err), 1);
	assert_int_equal(c.add.uid, 7);
	assert_true(c.add.hard.time_s == UINT64_MAX);
	assert_int_equal(c.add.soft.bytes, 0);
	assert_int_equal(cmd_parse_string(ADD_OUT "-E aes-gcm-16 " KEY1 " ;", &c, &err), 1);
	assert_false(sa_lifetime_set(&c.add.soft) || sa_lifetime_set(&c.add.hard));
}

struct bad_case {
	const char *text;
	unsigned col;
	const char *msg;
};

static const struct bad_case bad_cases[] = {
	{ ADD_OUT "-ls 30 -lh 20 -E aes-gcm-16 " KEY1 " ;", 41,
	  "soft lifetime -ls 30 is beyond the hard one -lh 20" },
	{ ADD_OUT "-bh 20 -bs 30 -E aes-gcm-16 " KEY1 " ;", 48,
	  "soft lifetime -bs 30 is beyond the hard one -bh 20" },
	{ ADD_OUT "-ps 1 -ps 2 -E aes-gcm-16 " KEY1 " ;", 47,
	  "option '-ps' given twice (first at 1:41)" },
	{ ADD_OUT "-u 2 -E aes-gcm-16 " KEY1 " ;", 41, "option '-u' given twice (first at 1:39)" },
	{ ADD_OUT "-lh 1h -E aes-gcm-16 " KEY1 " ;", 45,
	  "invalid lifetime -lh '1h': expected decimal seconds (0: no limit)" },
	{ ADD_OUT "-bh -1 -E aes-gcm-16 " KEY1 " ;", 45, "invalid lifetime -bh '-1'" },
	{ ADD_OUT "-bh 18446744073709551616 -E aes-gcm-16 " KEY1 " ;", 45,
	  "expected decimal bytes" },
	{ ADD_OUT "-ph ;", 45, "expected a lifetime before ';'" },
	{ ADD_OUT "-lx 5 -E aes-gcm-16 " KEY1 " ;", 41, "expected '-E', found '-lx'" },
	{ "add 192.0.2.1 192.0.2.2 esp 0x1001 -ls 5 -E aes-gcm-16 " KEY1 " ;", 42,
	  "expected '-u', found '-E'" },
	{ "add 192.0.2.1 192.0.2.2 esp 0x1001 -ls 5 x ;", 42, "expected '-u', found 'x'" },
};

static void test_parse_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *b = &bad_cases[i];
		struct cmd c;
		struct cmd_error err;

		if (cmd_parse_string(b->text, &c, &err) != -1)
			fail_msg("accepted: %s", b->text);
		if (err.loc.line != 1 || err.loc.col != b->col || !strstr(err.msg, b->msg))
			fail_msg("%s\n  gave %u:%u: %s\n  expected 1:%u: %s", b->text,
				 err.loc.line, err.loc.col, err.msg, b->col, b->msg);
	}
}

/* text without its comment lines */
static char *uncommented(const char *text)
{
	char *out = calloc(1, strlen(text) + 1), *o = out;

	assert_non_null(out);
	for (const char *l = text; *l;) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) + 1 : strlen(l);

		if (*l != '#') {
			memcpy(o, l, n);
			o += n;
		}
		l += n;
	}
	return out;
}

static void test_dump_round_trip(void **state)
{
	struct gw *a = gw_new(), *b = gw_new();
	char *d1, *d2, *s1, *s2;

	(void)state;
	gw_apply(a, ADD_OUT "-ls 3000 -lh 3600 -bs 1000000 -bh 2000000 -ps 100 -ph 200 "
		    "-E aes-gcm-16 " KEY1 " ;\n"
		    ADD_IN "-bh 5 -E aes-gcm-16 " KEY2 " replay:64 ;\n"
		    "add 192.0.2.2 192.0.2.1 esp 0x2002 -u 3 -E aes-gcm-16 " KEY3 " ;\n");
	d1 = gw_run(a, "dump ;\n");
	assert_contains(d1, ADD_OUT "-ls 3000 -lh 3600 -bs 1000000 -bh 2000000 -ps 100 -ph 200 "
			"-E aes-gcm-16 " KEY1 " ;\n");
	assert_contains(d1, ADD_IN "-bh 5 -E aes-gcm-16 " KEY2 " replay:64 ;\n");
	assert_contains(d1, "-u 3 -E aes-gcm-16");
	assert_contains(d1, "#   lifetimes: age 0 s, soft not reached\n");
	gw_apply(b, d1);
	d2 = gw_run(b, "dump ;\n");
	s1 = uncommented(d1);
	s2 = uncommented(d2);
	assert_string_equal(s1, s2);
	free(d1), free(d2), free(s1), free(s2);
	gw_free(a);
	gw_free(b);
}

/* --- the housekeeping -------------------------------------------------------------------- */

struct events {
	char lines[4096];
	size_t len;
	unsigned n;
};

static void collect(void *arg, const char *line)
{
	struct events *e = arg;

	e->len += (size_t)snprintf(e->lines + e->len, sizeof(e->lines) - e->len, "%s\n", line);
	e->n++;
}

static unsigned housekeep(struct gw *g, uint64_t at_ms, struct events *e)
{
	clock_fake_ms(at_ms);
	return cmd_exec_housekeep(&g->env, at_ms, 1000, collect, e);
}

static void test_expire_time(void **state)
{
	struct gw *g;
	struct events e = { .len = 0 };
	char *sp;

	(void)state;
	clock_fake_ms(T0);
	g = gw_new();
	gw_apply(g, ADD_OUT "-ls 10 -lh 20 -E aes-gcm-16 " KEY1 " ;\n" POL_OUT "unique:1 ;\n"
		    ADD_IN "-E aes-gcm-16 " KEY2 " ;\n" POL_IN "unique:2 ;\n");
	assert_int_equal(housekeep(g, T0 + 9999, &e), 0);
	assert_int_equal(housekeep(g, T0 + 10000, &e), 1);
	assert_string_equal(e.lines, "expire soft spi=0x00001001 uid=1 src=192.0.2.1 "
			    "dst=192.0.2.2 by=time age=10 bytes=0 packets=0\n");
	assert_int_equal(housekeep(g, T0 + 15000, &e), 0);	/* soft fires once */
	assert_contains(sp = gw_run(g, "dump ;\n"), "soft expired (reported)");
	free(sp);
	assert_int_equal(housekeep(g, T0 + 20000, &e), 1);
	assert_contains(e.lines, "\nexpire hard spi=0x00001001 uid=1 src=192.0.2.1 "
			"dst=192.0.2.2 by=time age=20 bytes=0 packets=0\n");
	/* deleted as `delete` does: the SA and its unique:ID policy; the other SA stays */
	assert_null(sad_by_spi(g->sad, 0x1001));
	assert_non_null(sad_by_spi(g->sad, 0x2001));
	sp = gw_run(g, "spddump ;\n");
	assert_contains(sp, "# 1 SPs\n");
	assert_lacks(sp, "unique:1");
	free(sp);
	assert_int_equal(housekeep(g, T0 + 100000, &e), 0);
	gw_free(g);
	clock_fake_ms(0);
}

/* n packets through the policy naming spi (its SA outbound), payload bytes each. */
static void send_n(struct gw *g, uint32_t spi, unsigned n, size_t payload)
{
	struct sa *sa = sad_by_spi(g->sad, spi);
	uint8_t data[1000] = { 0 };
	struct sp *sp;

	assert_non_null(sa);
	sp = list_first(&sa->sps, struct sp, sa_node);
	assert_non_null(sp);
	for (unsigned i = 0; i < n; i++) {
		struct fx_buf fb;

		fx_packet(&fb, AF_INET, 17, data, payload);
		assert_int_equal(esp_out(sp, &fb.b, 0, 0, 0), 0);
	}
}

static void test_expire_bytes_packets(void **state)
{
	struct gw *g;
	struct events e = { .len = 0 };

	(void)state;
	clock_fake_ms(T0);
	g = gw_new();
	/* inner packets of 20 + 80 = 100 bytes */
	gw_apply(g, ADD_OUT "-bs 500 -bh 1000 -E aes-gcm-16 " KEY1 " ;\n" POL_OUT "unique:1 ;\n"
		    "add 192.0.2.1 192.0.2.3 esp 0x1002 -u 3 -ps 2 -ph 3 -E aes-gcm-16 " KEY3 " ;\n"
		    "spdadd 198.51.100.0/24 203.0.113.0/24 tcp -P out ipsec "
		    "esp/tunnel/192.0.2.1-192.0.2.3/unique:3 ;\n");
	send_n(g, 0x1001, 4, 80);
	send_n(g, 0x1002, 1, 80);
	assert_int_equal(housekeep(g, T0 + 1, &e), 0);
	send_n(g, 0x1001, 1, 80);
	send_n(g, 0x1002, 1, 80);
	assert_int_equal(housekeep(g, T0 + 2, &e), 2);
	assert_contains(e.lines, "expire soft spi=0x00001001 uid=1 src=192.0.2.1 dst=192.0.2.2 "
			"by=bytes age=0 bytes=500 packets=5\n");
	assert_contains(e.lines, "expire soft spi=0x00001002 uid=3 src=192.0.2.1 dst=192.0.2.3 "
			"by=packets age=0 bytes=200 packets=2\n");
	send_n(g, 0x1001, 4, 80);
	assert_int_equal(housekeep(g, T0 + 3, &e), 0);
	send_n(g, 0x1001, 1, 80);
	send_n(g, 0x1002, 1, 80);
	assert_int_equal(housekeep(g, T0 + 4, &e), 2);
	assert_contains(e.lines, "expire hard spi=0x00001001 uid=1 src=192.0.2.1 dst=192.0.2.2 "
			"by=bytes age=0 bytes=1000 packets=10\n");
	assert_contains(e.lines, "expire hard spi=0x00001002 uid=3 src=192.0.2.1 dst=192.0.2.3 "
			"by=packets age=0 bytes=300 packets=3\n");
	assert_int_equal(sad_count(g->sad), 0);
	assert_int_equal(spd_count(g->spd), 0);
	gw_free(g);
	clock_fake_ms(0);
}

/* require:ID policies outlive their SA: after a hard expiry they wait for the next one. */
static void test_expire_keeps_require(void **state)
{
	struct gw *g;
	struct events e = { .len = 0 };
	char *sp;

	(void)state;
	clock_fake_ms(T0);
	g = gw_new();
	gw_apply(g, ADD_OUT "-lh 5 -E aes-gcm-16 " KEY1 " ;\n" POL_OUT "require:1 ;\n");
	assert_int_equal(housekeep(g, T0 + 5000, &e), 1);
	assert_contains(e.lines, "expire hard spi=0x00001001");
	sp = gw_run(g, "spddump ;\n");
	assert_contains(sp, "# SP 2: out, ipsec, tunnel, SA UniqueID 1 (none yet: what it "
			"matches is dropped)\n");
	assert_contains(sp, POL_OUT "require:1 ;\n");
	free(sp);
	assert_null(sp_sa(spd_first(g->spd)));
	/* the rekeyed SA (a new key) binds it again */
	gw_apply(g, "add 192.0.2.1 192.0.2.2 esp 0x1003 -u 1 -E aes-gcm-16 " KEY2 " ;\n");
	assert_ptr_equal(sp_sa(spd_first(g->spd)), sad_by_spi(g->sad, 0x1003));
	assert_true(sa_is_outbound(sad_by_spi(g->sad, 0x1003)));
	gw_free(g);
	clock_fake_ms(0);
}

/* A sweep of at most max SAs per call reaches every SA in turn, also while some go. */
static void test_sweep_budget(void **state)
{
	struct gw *g;
	struct events e = { .len = 0 };
	unsigned total = 0;

	(void)state;
	clock_fake_ms(T0);
	g = gw_new();
	for (unsigned i = 0; i < 10; i++) {
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "add 192.0.2.1 192.0.2.2 esp 0x%x -u %u -lh 1 "
			 "-E aes-gcm-16 0x%040x ;\n", 0x3000 + i, 100 + i, 0x77 + i);
		gw_apply(g, cmd);
	}
	gw_apply(g, ADD_IN "-E aes-gcm-16 " KEY2 " ;\n");	/* no lifetime: not swept */
	assert_int_equal(sad_timed_count(g->sad), 10);
	gw_apply(g, "delete 192.0.2.1 192.0.2.2 esp 0x3004 ;\n");
	clock_fake_ms(T0 + 1000);
	for (unsigned round = 0; round < 3; round++) {
		unsigned n = cmd_exec_housekeep(&g->env, T0 + 1000, 4, collect, &e);

		assert_true(n <= 4);
		total += n;
	}
	assert_int_equal(total, 9);
	assert_int_equal(sad_count(g->sad), 1);
	assert_int_equal(sad_timed_count(g->sad), 0);
	gw_free(g);
	clock_fake_ms(0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_table),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_dump_round_trip),
		cmocka_unit_test(test_expire_time),
		cmocka_unit_test(test_expire_bytes_packets),
		cmocka_unit_test(test_expire_keeps_require),
		cmocka_unit_test(test_sweep_budget),
	};

	crypto_init(CRYPTO_AUTO);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
