// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_scale.c - the control plane at scale: N SAs and N policies (one per SA: /32 or /128
 * host pairs, 90% IPv4 and 10% IPv6, tunnel and transport, in and out, some with tcp and a
 * port) generated as command text in memory and applied through the parser and the
 * executor (cmd_next, cmd_exec) with counting mirrors; then sad_by_spi, sad_by_uid and
 * spd_match checks on a sample (direction, the SA mirror holding only the SAs that may
 * decrypt, shadow keys for the tcp policies), and 10% deleted again.
 *
 * N is 20,000 (`make unit`), or ESPER_SCALE if set (100..4,000,000; the 1,000,000 of
 * docs/commands.md is ESPER_SCALE=1000000, which `make bench` runs: scripts/bench.sh).
 * Prints elapsed times, rates, time and memory
 * per SA and its policy (RSS, /proc/self/status); asserts the lookups and the mirrors'
 * counts, and bounds on the figures: CPU time per SA and its policy (CPU_BOUND_US: the
 * machine is shared, CPU time is what a busy neighbour disturbs least) and resident memory
 * per SA and its policy: MEM_BOUND_BYTES (the 1 KB of BENCHMARKS.md) plus MEM_FIXED_MIB
 * shared by all of them (the last slab chunks, the hash tables' bucket arrays half empty
 * after a doubling). Ten times that under AddressSanitizer (every object its own malloc).
 */
#include <arpa/inet.h>
#include <sys/socket.h>
#include <time.h>

#include "control/cmd_exec.h"
#include "lib/rcu.h"
#include "test_util.h"

#if defined(__SANITIZE_ADDRESS__)
#define ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN 1
#endif
#endif
#ifndef ASAN
#define ASAN 0
#endif

#define SCALE_DEFAULT 20000u
#define SCALE_MIN 100u
#define SCALE_MAX 4000000u	/* IPv4 host pairs and SPIs stay distinct well beyond */
#define CPU_BOUND_US (ASAN ? 250.0 : 25.0)	/* per SA and policy: add + spdadd, CPU time */
#define MEM_BOUND_BYTES (ASAN ? 10240.0 : 1024.0)	/* per SA and policy, RSS growth */
#define MEM_FIXED_MIB 16.0			/* for all of them */

static unsigned scale_n = SCALE_DEFAULT;	/* SAs, and policies */

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

static bool is_in(unsigned i)
{
	return i % 4 == 3;
}

static bool is_deleted(unsigned i)	/* the 10% deleted again */
{
	return i % 20 == 3 || i % 20 == 9;	/* IPv4 inbound, IPv6 outbound */
}

static bool is_deleted_in(unsigned i)
{
	return is_deleted(i) && is_in(i);
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
		is_tcp(i) ? "[443]" : "", is_tcp(i) ? "tcp" : "any", is_in(i) ? "in" : "out",
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

/* The SA mirror holds only SAs that may decrypt: never an outbound one. */
static int c_set_sa(void *ctx, const struct sa *sa, const struct sa_path *path)
{
	(void)path;
	assert_false(sa_is_outbound(sa));
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
	double gen, exec, cpu;
};

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Generate commands first..first+n-1 (those with keep(i), NULL: all) with gen, CHUNK at a
 * time, and apply them; every one must be accepted. Returns how many were applied. */
static size_t feed(struct exec_env *env, void (*gen)(FILE *, unsigned), bool (*keep)(unsigned),
		   struct timing *t)
{
	size_t applied = 0;

	for (unsigned base = 0; base < scale_n; base += CHUNK) {
		char *text;
		size_t len;
		FILE *f = open_memstream(&text, &len);
		struct cmd_reader *r;
		struct cmd_error err;
		struct cmd c;
		double t0 = now(), t1, c1;
		int n;

		for (unsigned i = base; i < base + CHUNK && i < scale_n; i++)
			if (!keep || keep(i))
				gen(f, i);
		fclose(f);
		t1 = now();
		c1 = cpu_now();
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
		t->cpu += cpu_now() - c1;
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

/* A packet for policy i's host pair: tcp to port 443 or udp to 53; ports: readable. */
static const struct pkt_info *pkt_of(struct pkt *p, unsigned i, bool tcp, bool ports)
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
	p->pi.has_ports = ports;
	if (ports) {
		p->pi.sport = htons(40000);
		p->pi.dport = htons(tcp ? 443 : 53);
	}
	return &p->pi;
}

/* SA i and its policy are there (or, deleted, not); returns the lookups done. */
static unsigned check_one(struct exec_env *env, unsigned i, bool gone)
{
	struct sa *sa = sad_by_spi(env->sad, SPI_BASE + i);
	struct sp *sp;
	struct pkt p;
	bool opaque;

	if (gone) {
		assert_null(sa);
		assert_null(sad_by_uid(env->sad, i + 1));
		assert_null(spd_match(env->spd, pkt_of(&p, i, is_tcp(i), true), &opaque));
		assert_false(opaque);
		/* its shadow keys went with it */
		assert_null(spd_match(env->spd, pkt_of(&p, i, is_tcp(i), false), &opaque));
		assert_false(opaque);
		return 4;
	}
	assert_non_null(sa);
	assert_int_equal(sa->uid, i + 1);
	assert_ptr_equal(sad_by_uid(env->sad, i + 1), sa);
	/* the SA has the direction of the policy naming it */
	assert_int_equal(sa_is_outbound(sa), !is_in(i));
	assert_int_equal(sa->n_in_sps, is_in(i));
	sp = spd_match(env->spd, pkt_of(&p, i, is_tcp(i), true), &opaque);
	assert_non_null(sp);
	assert_false(opaque);
	assert_ptr_equal(sp->sa, sa);
	assert_int_equal(sp->action, SP_IPSEC);
	assert_int_equal(sp->dir, is_in(i) ? SP_DIR_IN : SP_DIR_OUT);
	if (!is_tcp(i))
		return 4;
	/* a tcp policy does not take udp; the neighbour's host pair is not this one's */
	assert_null(spd_match(env->spd, pkt_of(&p, i, false, true), &opaque));
	assert_false(opaque);
	/* tcp without readable ports: no match, but this policy might: opaque (its shadow) */
	assert_null(spd_match(env->spd, pkt_of(&p, i, true, false), &opaque));
	assert_true(opaque);
	return 6;
}

static unsigned spot_check(struct exec_env *env, uint64_t seed, unsigned samples,
			   bool after_delete)
{
	unsigned lookups = 0;

	for (unsigned k = 0; k < samples; k++) {
		unsigned i = (unsigned)(test_rand(&seed) % scale_n);

		lookups += check_one(env, i, after_delete && is_deleted(i));
	}
	lookups += check_one(env, 0, false);
	lookups += check_one(env, scale_n - 1, after_delete && is_deleted(scale_n - 1));
	assert_null(sad_by_spi(env->sad, SPI_BASE + scale_n));
	assert_null(sad_by_uid(env->sad, scale_n + 1));
	return lookups;
}

static void report(const char *what, size_t n, double secs)
{
	double cur, peak;

	rss(&cur, &peak);
	printf("  %-28s %8zu in %7.3f s = %9.0f/s   RSS %7.1f MiB (peak %7.1f)\n", what, n, secs,
	       secs > 0 ? (double)n / secs : 0, cur, peak);
}

/* How many of 0..scale_n-1 are pred, and tcp too. */
static unsigned count(bool (*pred)(unsigned), bool tcp)
{
	unsigned n = 0;

	for (unsigned i = 0; i < scale_n; i++)
		n += (!pred || pred(i)) && (!tcp || is_tcp(i));
	return n;
}

static void test_scale(void **state)
{
	struct counts cnt = { 0 };
	struct sa_mirror sam = { c_set_sa, c_set_sa, c_del_sa, NULL, &cnt };
	struct spd_mirror spm = { c_set_entry, c_del_entry, c_set_tuples, &cnt };
	struct exec_env env = { .sad = sad_new(), .spd = spd_new(), .nthreads = 1,
				.sa_mirror = &sam, .out = stdout };
	struct timing t_add = { 0 }, t_spd = { 0 }, t_del = { 0 };
	unsigned n_in = count(is_in, false), n_tcp = count(NULL, true);
	unsigned want_del = count(is_deleted, false);
	double rss0, peak0, rss1, peak1, t0, secs, us_per, cpu_per, bytes_per, mem_bound;
	size_t n, ndel;
	unsigned lookups, samples = scale_n < 100000 ? scale_n : 100000;

	(void)state;
	assert_true(env.sad && env.spd);
	spd_set_mirror(env.spd, &spm);
	rss(&rss0, &peak0);
	printf("scale: %u SAs and %u policies through the parser and the executor%s\n", scale_n,
	       scale_n, ASAN ? " (AddressSanitizer build)" : "");
	printf("  RSS at start %.1f MiB\n", rss0);

	n = feed(&env, gen_add, NULL, &t_add);
	assert_int_equal(n, scale_n);
	assert_int_equal(sad_count(env.sad), scale_n);
	report("add (parse + key + insert)", n, t_add.exec);
	assert_int_equal(cnt.sa_set, scale_n);	/* every SA may decrypt until an out policy */
	assert_int_equal(cnt.sa_del, 0);
	n = feed(&env, gen_spdadd, NULL, &t_spd);
	assert_int_equal(n, scale_n);
	assert_int_equal(spd_count(env.spd), scale_n);
	report("spdadd", n, t_spd.exec);
	rss(&rss1, &peak1);
	printf("  %-28s %8s in %7.3f s (not counted above)\n", "generating the text", "",
	       t_add.gen + t_spd.gen);
	us_per = (t_add.exec + t_spd.exec) * 1e6 / scale_n;
	cpu_per = (t_add.cpu + t_spd.cpu) * 1e6 / scale_n;
	bytes_per = (rss1 - rss0) * 1048576 / scale_n;
	mem_bound = MEM_BOUND_BYTES + MEM_FIXED_MIB * 1048576 / scale_n;
	printf("  per SA and its policy: %.2f us (%.2f us CPU, bound %.0f), %.0f bytes (bound "
	       "%.0f)\n", us_per, cpu_per, CPU_BOUND_US, bytes_per, mem_bound);
	assert_true(cpu_per < CPU_BOUND_US);
	assert_true(bytes_per < mem_bound);
	/* the out policies took their SAs out of the SA mirror */
	assert_int_equal(cnt.sa_set, scale_n);
	assert_int_equal(cnt.sa_del, scale_n - n_in);
	/* one key per policy, and two shadow keys (without ports, without protocol) per tcp
	 * policy */
	assert_int_equal(cnt.entry_set, scale_n + 2 * n_tcp);
	/* per family two tuples: host pairs with and without tcp port 443 */
	assert_int_equal(spd_tuples(env.spd, 0)->count, 2);
	assert_int_equal(spd_tuples(env.spd, 1)->count, 2);

	t0 = now();
	lookups = spot_check(&env, 0x5ca1e, samples, false);
	secs = now() - t0;
	report("spot-check lookups", lookups, secs);

	ndel = feed(&env, gen_delete, is_deleted, &t_del);
	assert_int_equal(ndel, want_del);
	assert_int_equal(sad_count(env.sad), scale_n - ndel);
	assert_int_equal(spd_count(env.spd), scale_n - ndel);
	/* only the deleted SAs that were in the SA mirror leave it */
	assert_int_equal(cnt.sa_del, scale_n - n_in + count(is_deleted_in, false));
	assert_int_equal(cnt.entry_del, ndel + 2 * count(is_deleted, true));
	rcu_barrier();
	report("delete (SA and its policy)", ndel, t_del.exec);
	lookups = spot_check(&env, 0xde1e7e, samples, true);

	t0 = now();
	spd_flush(env.spd);
	sad_flush(env.sad);
	rcu_barrier();
	secs = now() - t0;
	report("flush the rest", scale_n - ndel, secs);
	assert_int_equal(sad_count(env.sad), 0);
	assert_int_equal(spd_count(env.spd), 0);
	assert_int_equal(cnt.entry_set, cnt.entry_del);	/* every key and shadow key gone */
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
	const char *env = getenv("ESPER_SCALE");

	if (env && *env) {
		char *end;
		unsigned long n = strtoul(env, &end, 10);

		if (*end || n < SCALE_MIN || n > SCALE_MAX) {
			fprintf(stderr, "test_scale: ESPER_SCALE=%s: expected %u..%u\n", env,
				SCALE_MIN, SCALE_MAX);
			return 1;
		}
		scale_n = (unsigned)n;
	}
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
