// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_scale.c - the control plane at scale: 1,000,000 SAs and 1,000,000 policies (one per
 * SA: /32 or /128 host pairs, 90% IPv4 and 10% IPv6, tunnel and transport, in and out, some
 * with tcp and a port) generated as command text in memory and applied through the parser
 * and the executor (cmd_next, cmd_exec) with counting mirrors; then sad_by_spi, sad_by_uid
 * and spd_match spot checks, and 10% deleted again. Prints elapsed times, rates and RSS
 * (/proc/self/status). Under AddressSanitizer it uses 100,000 SAs and says so. Asserts
 * behaviour only; the figures are printed, never checked.
 */
#include <arpa/inet.h>
#include <sys/socket.h>
#include <time.h>

#include "control/cmd_exec.h"
#include "lib/rcu.h"
#include "test_util.h"

#if defined(__SANITIZE_ADDRESS__)
#define SCALE_N 100000u
#define SCALE_NOTE " (AddressSanitizer build: 100,000 instead of 1,000,000)"
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SCALE_N 100000u
#define SCALE_NOTE " (AddressSanitizer build: 100,000 instead of 1,000,000)"
#endif
#endif
#ifndef SCALE_N
#define SCALE_N 1000000u
#define SCALE_NOTE ""
#endif

#define CHUNK 100000u	/* commands generated and applied at a time */
#define SPI_BASE 0x1000u

/* SA i: SPI SPI_BASE + i, UniqueID i + 1; IPv6 when i % 10 == 9. Its policy: host pair
 * src = 10.0.0.0 + i (2001:db8:a::i), dst = 100.64.0.0 + i (2001:db8:b::i); inbound when
 * i % 4 == 3; tcp to port 443 when i % 7 == 0; IPv4 in tunnel mode, IPv6 in transport. */
static bool is_v6(unsigned i)
{
	return i % 10 == 9;
}

static bool is_tcp(unsigned i)
{
	return i % 7 == 0;
}

static bool is_deleted(unsigned i)	/* the 10% deleted again */
{
	return i % 20 == 3 || i % 20 == 19;	/* IPv4 and IPv6 alike */
}

static void host(unsigned i, bool dst, char *buf, size_t size)
{
	if (is_v6(i))
		snprintf(buf, size, "2001:db8:%c::%x:%x", dst ? 'b' : 'a', i >> 16, i & 0xffff);
	else
		snprintf(buf, size, "%u.%u.%u.%u", dst ? 100u : 10u, (dst ? 64u : 0u) + (i >> 16),
			 (i >> 8) & 0xff, i & 0xff);
}

static void gen_add(FILE *f, unsigned i)
{
	fprintf(f, "add %s esp 0x%x -u %u -E aes-gcm-16 0x%08x%08x%08x%08x%08x ;\n",
		is_v6(i) ? "2001:db8::1 2001:db8::2" : "192.0.2.1 192.0.2.2", SPI_BASE + i, i + 1,
		i, ~i, i * 2654435761u, 0x5a5a5a5au ^ i, i + 1);
}

static void gen_spdadd(FILE *f, unsigned i)
{
	char s[48], d[48];

	host(i, false, s, sizeof(s));
	host(i, true, d, sizeof(d));
	fprintf(f, "spdadd %s %s%s %s -P %s ipsec esp/%s/unique:%u ;\n", s, d,
		is_tcp(i) ? "[443]" : "", is_tcp(i) ? "tcp" : "any", i % 4 == 3 ? "in" : "out",
		is_v6(i) ? "transport/" : "tunnel/192.0.2.1-192.0.2.2", i + 1);
}

static void gen_delete(FILE *f, unsigned i)
{
	fprintf(f, "delete 0.0.0.0 0.0.0.0 esp 0x%x ;\n", SPI_BASE + i);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* VmRSS and VmHWM in MiB. */
static void rss(double *cur, double *peak)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long kb;

	*cur = *peak = 0;
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "VmRSS: %lu kB", &kb) == 1)
			*cur = (double)kb / 1024;
		else if (sscanf(line, "VmHWM: %lu kB", &kb) == 1)
			*peak = (double)kb / 1024;
	}
	if (f)
		fclose(f);
}

/* --- counting mirrors -------------------------------------------------------------------- */

struct counts {
	size_t sa_set, sa_del, entry_set, entry_del, tuples_set;
};

static int c_set_sa(void *ctx, uint32_t spi, uint32_t uid)
{
	(void)spi, (void)uid;
	((struct counts *)ctx)->sa_set++;
	return 0;
}

static int c_del_sa(void *ctx, uint32_t spi)
{
	(void)spi;
	((struct counts *)ctx)->sa_del++;
	return 0;
}

static int c_set_entry(void *ctx, const struct esper_spd_key *k, const struct esper_spd_val *v)
{
	(void)k, (void)v;
	((struct counts *)ctx)->entry_set++;
	return 0;
}

static int c_del_entry(void *ctx, const struct esper_spd_key *k)
{
	(void)k;
	((struct counts *)ctx)->entry_del++;
	return 0;
}

static int c_set_tuples(void *ctx, unsigned idx, const struct esper_tuple_list *l)
{
	(void)idx, (void)l;
	((struct counts *)ctx)->tuples_set++;
	return 0;
}

/* --- applying generated text ------------------------------------------------------------- */

struct timing {
	double gen, exec;
};

/* Generate commands first..first+n-1 (those with keep(i), NULL: all) with gen, CHUNK at a
 * time, and apply them; every one must be accepted. Returns how many were applied. */
static size_t feed(struct exec_env *env, void (*gen)(FILE *, unsigned), bool (*keep)(unsigned),
		   struct timing *t)
{
	size_t applied = 0;

	for (unsigned base = 0; base < SCALE_N; base += CHUNK) {
		char *text;
		size_t len;
		FILE *f = open_memstream(&text, &len);
		struct cmd_reader *r;
		struct cmd_error err;
		struct cmd c;
		double t0 = now(), t1;
		int n;

		for (unsigned i = base; i < base + CHUNK && i < SCALE_N; i++)
			if (!keep || keep(i))
				gen(f, i);
		fclose(f);
		t1 = now();
		t->gen += t1 - t0;
		f = fmemopen(text, len, "r");
		r = cmd_reader_new(f, "<scale>");
		assert_non_null(r);
		while ((n = cmd_next(r, &c, &err)) != 0) {
			if (n < 0 || cmd_exec(env, &c, &err) < 0) {
				cmd_error_print(stderr, "<scale>", &err);
				fail();
			}
			applied++;
		}
		t->exec += now() - t1;
		cmd_reader_free(r);
		fclose(f);
		free(text);
	}
	return applied;
}

/* --- checks -------------------------------------------------------------------------------- */

struct pkt {
	uint8_t src[16], dst[16];
	struct pkt_info pi;
};

static const struct pkt_info *pkt_of(struct pkt *p, unsigned i, bool tcp)
{
	char s[48], d[48];
	struct ip_addr a;

	memset(p, 0, sizeof(*p));
	host(i, false, s, sizeof(s));
	host(i, true, d, sizeof(d));
	assert_int_equal(addr_parse(s, &a), 0);
	memcpy(p->src, a.a, 16);
	p->pi.family = a.family;
	assert_int_equal(addr_parse(d, &a), 0);
	memcpy(p->dst, a.a, 16);
	p->pi.src = p->src;
	p->pi.dst = p->dst;
	p->pi.proto = tcp ? 6 : 17;
	p->pi.has_ports = true;
	p->pi.sport = htons(40000);
	p->pi.dport = htons(tcp ? 443 : 53);
	return &p->pi;
}

/* SA i and its policy are there (or, deleted, not); returns the lookups done. */
static unsigned check_one(struct exec_env *env, unsigned i, bool gone)
{
	struct sa *sa = sad_by_spi(env->sad, SPI_BASE + i);
	struct sp *sp;
	struct pkt p;

	if (gone) {
		assert_null(sa);
		assert_null(sad_by_uid(env->sad, i + 1));
		assert_null(spd_match(env->spd, pkt_of(&p, i, is_tcp(i))));
		return 3;
	}
	assert_non_null(sa);
	assert_int_equal(sa->uid, i + 1);
	assert_ptr_equal(sad_by_uid(env->sad, i + 1), sa);
	sp = spd_match(env->spd, pkt_of(&p, i, is_tcp(i)));
	assert_non_null(sp);
	assert_ptr_equal(sp->sa, sa);
	assert_int_equal(sp->conf.dir, i % 4 == 3 ? SP_DIR_IN : SP_DIR_OUT);
	/* a tcp policy does not take udp; the neighbour's host pair is not this one's */
	if (is_tcp(i))
		assert_null(spd_match(env->spd, pkt_of(&p, i, false)));
	return 4;
}

static unsigned spot_check(struct exec_env *env, uint64_t seed, unsigned samples,
			   bool after_delete)
{
	unsigned lookups = 0;

	for (unsigned k = 0; k < samples; k++) {
		unsigned i = (unsigned)(test_rand(&seed) % SCALE_N);

		lookups += check_one(env, i, after_delete && is_deleted(i));
	}
	lookups += check_one(env, 0, false);
	lookups += check_one(env, SCALE_N - 1, after_delete && is_deleted(SCALE_N - 1));
	assert_null(sad_by_spi(env->sad, SPI_BASE + SCALE_N));
	assert_null(sad_by_uid(env->sad, SCALE_N + 1));
	return lookups;
}

static void report(const char *what, size_t n, double secs)
{
	double cur, peak;

	rss(&cur, &peak);
	printf("  %-28s %8zu in %7.3f s = %9.0f/s   RSS %7.1f MiB (peak %7.1f)\n", what, n, secs,
	       secs > 0 ? (double)n / secs : 0, cur, peak);
}

static void test_scale(void **state)
{
	struct counts cnt = { 0 };
	struct sa_mirror sam = { c_set_sa, c_del_sa, &cnt };
	struct spd_mirror spm = { c_set_entry, c_del_entry, c_set_tuples, &cnt };
	struct exec_env env = { .sad = sad_new(), .spd = spd_new(), .nthreads = 1,
				.sa_mirror = &sam, .out = stdout };
	struct timing t_add = { 0 }, t_spd = { 0 }, t_del = { 0 };
	double rss0, peak0, t0, secs;
	size_t n, ndel;
	unsigned lookups;

	(void)state;
	assert_true(env.sad && env.spd);
	spd_set_mirror(env.spd, &spm);
	rss(&rss0, &peak0);
	printf("scale: %u SAs and %u policies through the parser and the executor%s\n", SCALE_N,
	       SCALE_N, SCALE_NOTE);
	printf("  RSS at start %.1f MiB\n", rss0);

	n = feed(&env, gen_add, NULL, &t_add);
	assert_int_equal(n, SCALE_N);
	assert_int_equal(sad_count(env.sad), SCALE_N);
	report("add (parse + key + insert)", n, t_add.exec);
	n = feed(&env, gen_spdadd, NULL, &t_spd);
	assert_int_equal(n, SCALE_N);
	assert_int_equal(spd_count(env.spd), SCALE_N);
	report("spdadd", n, t_spd.exec);
	printf("  %-28s %8s in %7.3f s (not counted above)\n", "generating the text", "",
	       t_add.gen + t_spd.gen);
	assert_int_equal(cnt.sa_set, SCALE_N);
	assert_int_equal(cnt.entry_set, SCALE_N);
	/* per family two tuples: host pairs with and without tcp port 443 */
	assert_int_equal(spd_tuples(env.spd, 0)->count, 2);
	assert_int_equal(spd_tuples(env.spd, 1)->count, 2);

	t0 = now();
	lookups = spot_check(&env, 0x5ca1e, 100000, false);
	secs = now() - t0;
	report("spot-check lookups", lookups, secs);

	ndel = feed(&env, gen_delete, is_deleted, &t_del);
	assert_int_equal(ndel, SCALE_N / 10);
	assert_int_equal(sad_count(env.sad), SCALE_N - ndel);
	assert_int_equal(spd_count(env.spd), SCALE_N - ndel);
	assert_int_equal(cnt.sa_del, ndel);
	assert_int_equal(cnt.entry_del, ndel);
	rcu_barrier();
	report("delete (SA and its policy)", ndel, t_del.exec);
	lookups = spot_check(&env, 0xde1e7e, 100000, true);

	t0 = now();
	spd_flush(env.spd);
	sad_flush(env.sad);
	rcu_barrier();
	secs = now() - t0;
	report("flush the rest", SCALE_N - ndel, secs);
	assert_int_equal(sad_count(env.sad), 0);
	assert_int_equal(spd_count(env.spd), 0);
	spd_free(env.spd);
	sad_free(env.sad);
}

static int group_setup(void **state)
{
	(void)state;
	return crypto_init(CRYPTO_AUTO) < 0 ? -1 : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scale),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
