// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_session.c - the interface to keying daemons and operators: acknowledgements (--ack:
 * one per command, in order, after the command's listing; parse and executor errors with
 * LINE:COL), read-only sessions, getspi and its reservations (control/spi_reserve.c: per
 * session, consumed by add, ending with a fake clock, never picked twice, a range that runs
 * out), the three forms of the counters (control/stats_out.c: text unchanged, JSON lines,
 * Prometheus groups with HELP/TYPE and escaped labels), the wiping memory stream
 * (lib/membuf.c), and the control socket in process (control/ctl_sock.c: mode 0600,
 * acknowledged answers, read-only unless allowed, a live socket left alone, a stale one
 * replaced, removed at the end).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control/ctl_sock.h"
#include "control/out.h"
#include "control/spi_reserve.h"
#include "ctl_fixture.h"
#include "lib/membuf.h"

#define T0 3000000000ull
#define ADD(spi, uid, key) "add 192.0.2.2 192.0.2.1 esp " spi " -u " uid " -E aes-gcm-16 " key " ;\n"

/* --- acknowledgements -------------------------------------------------------------------- */

static void test_ack_order(void **state)
{
	struct gw *g = gw_new();
	char *out, *err;

	(void)state;
	assert_int_equal(gw_session(g, ADD("0x1001", "1", KEY1)	/* 1: ok */
				    ADD("0x1001", "2", KEY2)	/* 2: SPI in use */
				    "bogus ;\n"			/* 3: unknown */
				    "dump ; spigrp ;\n"		/* 4: listings, then their ok */
				    "add 192.0.2.2 192.0.2.1 esp 0x1002 -u 3 -E aes-gcm-16 0x12 ;\n"
				    "flush ; flush\n", 0, true, false, &out, &err), 4);
	assert_string_equal(out,
		"ok\n"
		"error 2:29: SPI 0x1001 is already used by the SA with UniqueID 1\n"
		"error 3:1: unknown command 'bogus'\n"
		"# 1 SAs\n"
		"# SA UniqueID 1 SPI 0x00001001: AES-128-GCM, ESN off, replay window 1024, tfc 0, "
		"inbound\n"
		"#   out 0 packets 0 bytes, in 0 packets 0 bytes, replay drops 0, ICV failures 0\n"
		ADD("0x1001", "1", KEY1)
		"ok\n"
		"esp.1001@192.0.2.1\n"
		"ok\n"
		"error 5:55: key is 1 bytes, aes-gcm-16 takes 20 (AES-128-GCM) or 36 (AES-256-GCM)\n"
		"ok\n"
		"error 6:14: missing ';' at end of input\n");
	/* the error lines on stderr are today's, with the source */
	assert_contains(err, "<t>:2:29: error: SPI 0x1001 is already used");
	assert_contains(err, "<t>:6:14: error: missing ';' at end of input\n");
	free(out);
	free(err);
	/* without --ack: listings only */
	assert_int_equal(gw_session(g, "spigrp ;\nbogus ;\n", 0, false, false, &out, &err), 1);
	assert_string_equal(out, "");
	free(out);
	free(err);
	gw_free(g);
}

static void test_read_only(void **state)
{
	struct gw *g = gw_new();
	char *out, *err, *before, *after;

	(void)state;
	gw_apply(g, ADD("0x1001", "1", KEY1));
	before = gw_run(g, "dump ;\nspddump ;\n");
	assert_int_equal(gw_session(g, "stats ;\ndump ;\nspddump ;\nspigrp ;\nstats json ;\n"
				    "delete 192.0.2.2 192.0.2.1 esp 0x1001 ;\nflush ;\n"
				    "getspi 192.0.2.2 192.0.2.1 esp ;\n" ADD("0x1002", "2", KEY2),
				    5, true, true, &out, &err), 4);
	assert_contains(out, "ok\nerror 6:1: this session is read-only: dump, spddump, spigrp "
			"and stats only");
	assert_contains(out, "error 7:1: this session is read-only");
	assert_contains(out, "error 9:1: this session is read-only");
	assert_contains(out, "sa spi=0x00001001 uid=1 alg=AES-128-GCM out_packets=0");
	after = gw_run(g, "dump ;\nspddump ;\n");
	assert_string_equal(before, after);
	free(out), free(err), free(before), free(after);
	gw_free(g);
}

/* --- getspi -------------------------------------------------------------------------------- */

static uint32_t getspi(struct gw *g, unsigned session, const char *range)
{
	char text[128], *out, *err, *at;
	unsigned long spi;

	snprintf(text, sizeof(text), "getspi 192.0.2.2 192.0.2.1 esp %s;\n", range);
	if (gw_session(g, text, session, true, false, &out, &err))
		fail_msg("getspi refused: %s", out);
	at = strstr(out, "getspi spi=0x");
	assert_non_null(at);
	spi = strtoul(at + 13, NULL, 16);
	assert_contains(out, " src=192.0.2.2 dst=192.0.2.1 hold=60\nok\n");
	free(out);
	free(err);
	return (uint32_t)spi;
}

static void test_getspi(void **state)
{
	struct gw *g;
	char add[256], *out, *err;
	uint32_t a, b;

	(void)state;
	clock_fake_ms(T0);
	g = gw_new();
	a = getspi(g, 1, "");
	assert_true(a >= 0x100);
	/* another session cannot add with it */
	snprintf(add, sizeof(add), "add 192.0.2.2 192.0.2.1 esp 0x%x -u 1 -E aes-gcm-16 "
		 KEY1 " ;\n", a);
	assert_int_equal(gw_session(g, add, 2, true, false, &out, &err), 1);
	assert_contains(out, "is reserved by getspi for another session (60 s more)");
	free(out), free(err);
	/* its session can, and that consumes the reservation */
	assert_int_equal(gw_session(g, add, 1, true, false, &out, &err), 0);
	free(out), free(err);
	assert_non_null(sad_by_spi(g->sad, a));
	assert_int_equal(spi_reserve_count(g->env.spis), 0);
	/* a range: never an SPI in use or reserved; then none left */
	gw_apply(g, ADD("0x200", "2", KEY2));
	a = getspi(g, 1, "0x200-0x202");
	b = getspi(g, 2, "0x200-0x202");
	assert_true(a != b && a > 0x200 && b > 0x200 && a <= 0x202 && b <= 0x202);
	assert_int_equal(gw_session(g, "getspi 192.0.2.2 192.0.2.1 esp 0x200-0x202 ;\n", 3, true,
				    false, &out, &err), 1);
	assert_string_equal(out, "error 1:32: no free SPI in 0x200-0x202\n");
	free(out), free(err);
	/* reservations end: the SPI is free again for anyone */
	clock_fake_ms(T0 + 60000);
	snprintf(add, sizeof(add), "add 192.0.2.2 192.0.2.1 esp 0x%x -u 9 -E aes-gcm-16 "
		 KEY3 " ;\n", a);
	assert_int_equal(gw_session(g, add, 7, true, false, &out, &err), 0);
	free(out), free(err);
	b = getspi(g, 3, "0x200-0x202");
	assert_true(b > 0x200 && b != a);
	gw_free(g);
	clock_fake_ms(0);
}

static void test_getspi_parse(void **state)
{
	static const struct { const char *text; unsigned col; const char *msg; } bad[] = {
		{ "getspi 192.0.2.2 192.0.2.1 esp 0x100 ;", 32, "invalid SPI range '0x100'" },
		{ "getspi 192.0.2.2 192.0.2.1 esp 0xff-0x200 ;", 32,
		  "expected 0x100 <= MIN <= MAX <= 0xffffffff" },
		{ "getspi 192.0.2.2 192.0.2.1 esp 0x300-0x200 ;", 32, "MIN <= MAX" },
		{ "getspi 192.0.2.2 192.0.2.1 esp 0x300-0x100000000 ;", 32, "<= 0xffffffff" },
		{ "getspi 192.0.2.2 192.0.2.1 esp 256-512 ;", 32, "expected 0xMIN-0xMAX" },
		{ "getspi 192.0.2.2 2001:db8::1 esp ;", 18, "address families differ" },
		{ "getspi 192.0.2.2 192.0.2.1 ah ;", 28, "expected 'esp', found 'ah'" },
		{ "getspi 192.0.2.2 192.0.2.1 esp 0x100-0x200 x ;", 44, "expected ';'" },
		{ "stats xml ;", 7, "expected ';' or 'json', found 'xml'" },
	};
	struct cmd c;
	struct cmd_error err;

	(void)state;
	assert_int_equal(cmd_parse_string("getspi 192.0.2.2 192.0.2.1 esp 0xC000-0xCFFF ;", &c,
					  &err), 1);
	assert_int_equal(c.kind, CMD_GETSPI);
	assert_int_equal(c.getspi.min, 0xc000);
	assert_int_equal(c.getspi.max, 0xcfff);
	assert_int_equal(cmd_parse_string("getspi 2001:db8::2 2001:db8::1 esp;", &c, &err), 1);
	assert_int_equal(c.getspi.min, 0x100);
	assert_int_equal(c.getspi.max, 0xffffffff);
	assert_int_equal(cmd_parse_string("stats json ;", &c, &err), 1);
	assert_int_equal(c.stats, STATS_JSON);
	assert_int_equal(cmd_parse_string("stats;", &c, &err), 1);
	assert_int_equal(c.stats, STATS_TEXT);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cmd_parse_string(bad[i].text, &c, &err) != -1)
			fail_msg("accepted: %s", bad[i].text);
		if (err.loc.col != bad[i].col || !strstr(err.msg, bad[i].msg))
			fail_msg("%s: %u:%u: %s", bad[i].text, err.loc.line, err.loc.col, err.msg);
	}
}

static void test_spi_reserve(void **state)
{
	struct spi_reserve *r = spi_reserve_new();
	unsigned who;
	uint64_t until;

	(void)state;
	assert_int_equal(spi_reserve_take(r, 0x1000, 4, 100, 0), 0);
	assert_int_equal(spi_reserve_take(r, 0x1000, 5, 200, 10), -EEXIST);
	assert_int_equal(spi_reserve_take(r, 0x1001, 5, 200, 10), 0);
	assert_true(spi_reserve_held(r, 0x1000, 99, &who, &until));
	assert_int_equal(who, 4);
	assert_int_equal(until, 100);
	assert_false(spi_reserve_held(r, 0x1000, 100, NULL, NULL));
	spi_reserve_expire(r, 150);
	assert_int_equal(spi_reserve_count(r), 1);
	spi_reserve_release(r, 0x1001);
	spi_reserve_release(r, 0x4242);
	assert_int_equal(spi_reserve_count(r), 0);
	for (uint32_t i = 0; i < SPI_RESERVE_MAX; i++)
		assert_int_equal(spi_reserve_take(r, 0x10000 + i, 1, 1000, 500), 0);
	assert_int_equal(spi_reserve_take(r, 0x100, 1, 1000, 500), -ENOSPC);
	assert_int_equal(spi_reserve_take(r, 0x100, 1, 2000, 1000), 0);	/* the rest ended */
	assert_int_equal(spi_reserve_count(r), 1);
	spi_reserve_free(r);
}

/* --- the forms of the counters ----------------------------------------------------------- */

static void extra(struct stats_out *o, void *arg)
{
	(void)arg;
	stats_begin(o, "worker");
	stats_label_u(o, "id", 0);
	stats_label_i(o, "cpu", 1);
	stats_counter(o, "rx", "frames received", 10);
	stats_port(o, "we\"ird\\if");
	stats_counter(o, "tx_ring_full", "the TX ring was full", 2);
	stats_port(o, "eth1");
	stats_counter(o, "tx_ring_full", "the TX ring was full", 3);
	stats_end(o);
	stats_begin(o, "crypto");
	stats_label(o, "backend", "ipsec-mb", true);
	stats_label(o, "gost", "yes", false);
	stats_end(o);
}

/* Each metric has one # TYPE, and its samples follow it, together. */
static void check_prom_groups(const char *text)
{
	static char names[256][128];
	unsigned n = 0;
	char cur[128] = "";

	for (const char *l = text; *l; l = strchr(l, '\n') + 1) {
		char name[128];

		if (!strncmp(l, "# HELP ", 7))
			continue;
		if (!strncmp(l, "# TYPE ", 7)) {
			assert_int_equal(sscanf(l, "# TYPE %127s", name), 1);
			for (unsigned i = 0; i < n; i++)
				if (!strcmp(names[i], name))
					fail_msg("metric %s twice", name);
			assert_true(n < 256);
			strcpy(names[n++], name);
			strcpy(cur, name);
			continue;
		}
		assert_int_equal(sscanf(l, "%127[^{ ]", name), 1);
		if (strcmp(name, cur))
			fail_msg("sample of %s under %s", name, cur);
	}
}

static void test_stats_forms(void **state)
{
	struct gw *g;
	char *out, *p;
	unsigned lines = 0;

	(void)state;
	clock_fake_ms(T0);
	g = gw_new();
	g->env.stats_extra = extra;
	gw_apply(g, ADD("0x1001", "1", KEY1) ADD("0x1002", "2", KEY2));
	out = gw_run(g, "stats ;\n");
	assert_contains(out, "sa spi=0x00001002 uid=2 alg=AES-128-GCM out_packets=0 ");
	assert_contains(out, " no_memory=0 mapping=0 peer_address=0 reorder_max=0 last_use=0 "
			     "age=0 idle=0\n");
	assert_contains(out, "\nworker id=0 cpu=1 rx=10 we\"ird\\if_tx_ring_full=2 "
			"eth1_tx_ring_full=3\n"
			"crypto backend=\"ipsec-mb\" gost=yes\n");
	free(out);
	out = gw_run(g, "stats json ;\n");
	assert_contains(out, "{\"type\":\"sa\",\"spi\":\"0x00001001\",\"uid\":1,\"alg\":"
			"\"AES-128-GCM\",\"out_packets\":0,");
	assert_contains(out, ",\"last_use\":0,\"age\":0,\"idle\":0}\n");
	assert_contains(out, "{\"type\":\"worker\",\"id\":0,\"cpu\":1,\"rx\":10}\n"
			"{\"type\":\"port\",\"worker\":0,\"iface\":\"we\\\"ird\\\\if\","
			"\"tx_ring_full\":2}\n"
			"{\"type\":\"port\",\"worker\":0,\"iface\":\"eth1\",\"tx_ring_full\":3}\n"
			"{\"type\":\"crypto\",\"backend\":\"ipsec-mb\",\"gost\":\"yes\"}\n");
	for (p = out; (p = strchr(p, '\n')); p++)
		lines++;
	assert_int_equal(lines, 6);
	free(out);
	/* Prometheus: through stats_out directly, as metrics.c does */
	{
		struct stats_out o;
		size_t len;
		FILE *f = open_memstream(&out, &len);

		stats_out_init(&o, f, STATS_PROM);
		cmd_stats_sad(g->sad, &o);
		extra(&o, NULL);
		stats_begin(&o, "many");	/* more metrics than the first groups array holds */
		for (unsigned i = 0; i < 150; i++) {
			char name[16];

			snprintf(name, sizeof(name), "c%u", i);
			stats_counter(&o, name, "one of many", i);
		}
		stats_end(&o);
		assert_int_equal(stats_out_finish(&o), 0);
		fclose(f);
	}
	assert_contains(out, "# HELP esper_sa_out_packets_total packets encrypted\n"
			"# TYPE esper_sa_out_packets_total counter\n"
			"esper_sa_out_packets_total{spi=\"0x00001001\",uid=\"1\",alg=\"AES-128-GCM\"} 0\n"
			"esper_sa_out_packets_total{spi=\"0x00001002\",uid=\"2\",alg=\"AES-128-GCM\"} 0\n"
			"# HELP esper_sa_out_bytes_total");
	assert_contains(out, "# TYPE esper_sa_last_use_timestamp_seconds gauge\n");
	assert_contains(out, "# TYPE esper_sa_idle_seconds gauge\n");
	assert_contains(out, "esper_worker_rx_total{id=\"0\",cpu=\"1\"} 10\n");
	assert_contains(out, "esper_port_tx_ring_full_total{worker=\"0\",iface=\"we\\\"ird\\\\if\"} 2\n"
			"esper_port_tx_ring_full_total{worker=\"0\",iface=\"eth1\"} 3\n");
	assert_contains(out, "# TYPE esper_many_c149_total counter\nesper_many_c149_total 149\n");
	assert_contains(out, "# TYPE esper_crypto_info gauge\n"
			"esper_crypto_info{backend=\"ipsec-mb\",gost=\"yes\"} 1\n");
	check_prom_groups(out);
	free(out);
	gw_free(g);
	clock_fake_ms(0);
}

/* --- the event queue of standard output -------------------------------------------------- */

static void test_event_queue(void **state)
{
	char line[200], *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct out o;
	int fds[2];
	struct timespec t0, t1;

	(void)state;
	/* a reader that reads: every line, in order, whole */
	out_init(&o, f);
	assert_int_equal(out_start_writer(&o), 0);
	for (unsigned i = 0; i < 1000; i++) {
		int n = snprintf(line, sizeof(line), "acquire uid=%u\n", i);

		out_queue_events(&o, line, (size_t)n);
	}
	out_stop_writer(&o);
	fclose(f);
	assert_int_equal(o.lost, 0);
	for (unsigned i = 0, at = 0; i < 1000; i++) {
		int n = snprintf(line, sizeof(line), "acquire uid=%u\n", i);

		assert_memory_equal(buf + at, line, (size_t)n);
		at += (unsigned)n;
	}
	free(buf);
	out_fini(&o);
	/* a reader that never reads: queueing never waits, what does not fit is counted lost,
	 * and stopping takes at most about a second */
	assert_int_equal(pipe(fds), 0);
	f = fdopen(fds[1], "w");
	out_init(&o, f);
	assert_int_equal(out_start_writer(&o), 0);
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned i = 0; i < 3 * OUT_QUEUE_MAX / sizeof(line); i++)
		out_queue_events(&o, line, sizeof(line));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 2);
	assert_true(o.lost > 0);
	out_stop_writer(&o);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 4);
	/* what the writer left in f's buffer fails with EPIPE, as in the daemon (live.c ignores
	 * SIGPIPE); the signal would end the test silently, as it did once under load */
	signal(SIGPIPE, SIG_IGN);
	close(fds[0]);
	fclose(f);
	free(o.q);
}

/* A keying daemon that stops reading its standard output (the pipe full, the event writer
 * blocked in write(2) with the stream's lock) must not hold up the exec lock when its next
 * command comes: the housekeeper, which frees and wipes deleted SAs and enforces lifetimes,
 * takes that lock every 100 ms. The session's answer waits; the lock does not. */
struct blocked_session {
	struct gw *g;
	struct session s;
	pthread_mutex_t *exec_lock;
};

static void *run_blocked(void *arg)
{
	struct blocked_session *b = arg;

	session_run(&b->s, &b->g->env, b->exec_lock);
	return NULL;
}

static void test_stdout_not_read(void **state)
{
	static char events[OUT_QUEUE_MAX / 2];
	const char *text = "stats ;\n";
	pthread_mutex_t exec_lock = PTHREAD_MUTEX_INITIALIZER;
	struct blocked_session b = { .g = gw_new(), .exec_lock = &exec_lock };
	FILE *in = fmemopen((void *)text, strlen(text), "r"), *f;
	struct timespec until;
	struct out_answer answer;
	struct out o;
	pthread_t t;
	int fds[2], locked;

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(pipe(fds), 0);
	f = fdopen(fds[1], "w");
	out_init(&o, f);
	assert_int_equal(out_start_writer(&o), 0);
	memset(events, 'x', sizeof(events));
	events[sizeof(events) - 1] = '\n';
	out_queue_events(&o, events, sizeof(events));	/* more than the pipe holds */
	usleep(100 * 1000);
	assert_int_equal(out_answer_open(&answer, &o), 0);	/* as live.c's standard input */
	b.s = (struct session){ .r = cmd_reader_new(in, "<stdin>"), .who = { .out = answer.m.f },
				.ack = true, .deliver = out_answer_deliver, .deliver_arg = &answer };
	assert_int_equal(pthread_create(&t, NULL, run_blocked, &b), 0);
	usleep(200 * 1000);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 2;
	locked = pthread_mutex_timedlock(&exec_lock, &until);	/* as the housekeeper */
	if (!locked)
		pthread_mutex_unlock(&exec_lock);
	close(fds[0]);		/* the reader goes: everything waiting fails with EPIPE */
	pthread_join(t, NULL);
	out_stop_writer(&o);
	cmd_reader_free(b.s.r);
	out_answer_close(&answer);
	fclose(in);
	fclose(f);
	out_fini(&o);
	free(o.q);
	gw_free(b.g);
	assert_int_equal(locked, 0);
}

/* --- the wiping memory stream ------------------------------------------------------------ */

static void test_membuf(void **state)
{
	struct membuf m;

	(void)state;
	assert_int_equal(membuf_open(&m), 0);
	for (unsigned i = 0; i < 5000; i++)
		fprintf(m.f, "%04u\n", i % 10000);
	membuf_flush(&m);
	assert_int_equal(m.len, 25000);
	assert_memory_equal(m.data + 5 * 4999, "4999\n", 5);
	membuf_reset(&m);
	assert_int_equal(m.len, 0);
	for (size_t i = 0; i < 25000; i++)	/* what was written is wiped */
		assert_int_equal(m.data[i], 0);
	fputs("again\n", m.f);
	membuf_flush(&m);
	assert_int_equal(m.len, 6);
	assert_memory_equal(m.data, "again\n", 6);
	/* a big answer (a dump of many SAs) is not kept after it went */
	for (unsigned i = 0; i < 2 * MEMBUF_KEEP / 5; i++)
		fprintf(m.f, "%04u\n", i % 10000);
	membuf_flush(&m);
	assert_true(m.cap > MEMBUF_KEEP);
	membuf_reset(&m);
	assert_true(m.cap <= MEMBUF_KEEP);
	fputs("small\n", m.f);
	membuf_flush(&m);
	assert_memory_equal(m.data, "small\n", 6);
	membuf_close(&m);
	membuf_close(&m);
}

/* --- the control socket, in process --------------------------------------------------------- */

static int ctl_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

/* Send text, close our side, read every answer until the server closes. */
static char *ctl_ask(const char *path, const char *text)
{
	int fd = ctl_connect(path);
	size_t len = 0, cap = 1 << 16;
	char *buf = calloc(1, cap);
	ssize_t n;

	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	shutdown(fd, SHUT_WR);
	while ((n = read(fd, buf + len, cap - len - 1)) > 0)
		len += (size_t)n;
	close(fd);
	return buf;
}

static void test_ctl_sock(void **state)
{
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct gw *g = gw_new();
	char path[96], *out;
	struct ctl_sock *cs, *other;
	struct stat st;
	int idle;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/esper-test-%d.sock", (int)getpid());
	unlink(path);
	gw_apply(g, ADD("0x1001", "1", KEY1));
	cs = ctl_sock_start(path, false, &g->env, &lock);
	assert_non_null(cs);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	/* a second instance leaves a live socket alone */
	other = ctl_sock_start(path, false, &g->env, &lock);
	assert_null(other);
	assert_int_equal(errno, EADDRINUSE);
	/* an idle client holds up nobody */
	idle = ctl_connect(path);
	out = ctl_ask(path, "stats ;\ndump ;\n" ADD("0x1002", "2", KEY2) "oops ;\n");
	assert_contains(out, "sa spi=0x00001001 uid=1 alg=AES-128-GCM");
	assert_contains(out, "\nok\n# 1 SAs\n");
	assert_contains(out, ADD("0x1001", "1", KEY1) "ok\n"
			"error 3:1: this session is read-only");
	assert_contains(out, "error 4:1: unknown command 'oops'\n");
	free(out);
	assert_null(sad_by_spi(g->sad, 0x1002));
	close(idle);
	ctl_sock_stop(cs);
	assert_int_equal(stat(path, &st), -1);	/* removed */
	/* a stale socket file (no one answers) is replaced; writes allowed */
	{
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);

		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
		assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
		close(fd);
	}
	cs = ctl_sock_start(path, true, &g->env, &lock);
	assert_non_null(cs);
	out = ctl_ask(path, ADD("0x1002", "2", KEY2) "getspi 192.0.2.2 192.0.2.1 esp ;\n");
	assert_contains(out, "ok\ngetspi spi=0x");
	free(out);
	assert_non_null(sad_by_spi(g->sad, 0x1002));
	ctl_sock_stop(cs);
	/* a missing directory is made, 0700 (as /run/esper-xdp outside systemd) */
	{
		char dir[64];

		snprintf(dir, sizeof(dir), "/tmp/esper-test-%d.d", (int)getpid());
		snprintf(path, sizeof(path), "%s/control", dir);
		cs = ctl_sock_start(path, false, &g->env, &lock);
		assert_non_null(cs);
		assert_int_equal(stat(dir, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0700);
		out = ctl_ask(path, "spigrp ;\n");
		assert_string_equal(out, "esp.1001@192.0.2.1\nesp.1002@192.0.2.1\nok\n");
		free(out);
		ctl_sock_stop(cs);
		/* a directory others may write to without the sticky bit: another user could
		 * put a socket of theirs in the daemon's place, and operators would talk to it */
		assert_int_equal(chmod(dir, 0777), 0);
		errno = 0;
		assert_null(ctl_sock_start(path, false, &g->env, &lock));
		assert_int_equal(errno, EPERM);
		assert_int_equal(chmod(dir, 01777), 0);	/* sticky: as /tmp */
		cs = ctl_sock_start(path, false, &g->env, &lock);
		assert_non_null(cs);
		ctl_sock_stop(cs);
		if (geteuid() == 0) {	/* another user's directory, however strict */
			assert_int_equal(chmod(dir, 0700), 0);
			assert_int_equal(chown(dir, 65534, 65534), 0);
			errno = 0;
			assert_null(ctl_sock_start(path, false, &g->env, &lock));
			assert_int_equal(errno, EPERM);
			assert_int_equal(chown(dir, 0, 0), 0);
		}
		assert_int_equal(rmdir(dir), 0);
	}
	gw_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ack_order),
		cmocka_unit_test(test_read_only),
		cmocka_unit_test(test_getspi),
		cmocka_unit_test(test_getspi_parse),
		cmocka_unit_test(test_spi_reserve),
		cmocka_unit_test(test_stats_forms),
		cmocka_unit_test(test_event_queue),
		cmocka_unit_test(test_stdout_not_read),
		cmocka_unit_test(test_membuf),
		cmocka_unit_test(test_ctl_sock),
	};

	crypto_init(CRYPTO_AUTO);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
