// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_xdp_spd_diff.c - randomized differential test (fixed seed, root): the verdict of
 * bpf/esper.bpf.c under BPF_PROG_TEST_RUN against the decision userspace takes for the same
 * frame, with the BPF maps filled by the real control path: struct sad/spd, spd_add and
 * spd_remove mirrored through bpf_sync (user/bpf_sync.c) into the program bpf_load loaded,
 * inbound SPIs through the SA mirror, the XSK slot through bpf_sync_xsk.
 *
 * Userspace decides as the workers and pcap mode do: pkt_parse_frame (user/pkt.c), then
 * ESP: fragment -> kernel, SPI known -> redirect with the SA's uid, unknown -> pass or drop
 * (ESPER_CFG_UNKNOWN_SPI_DROP); plaintext: spd_match out -> redirect with sp->id, in -> drop,
 * none -> pass. Compared: action, the XDP counter that moved, and for redirects the whole
 * struct esper_meta (magic, kind, id, l3_off). Frames come from tests/bpf/xdp_harness.h
 * (VLAN/QinQ, IPv4 options, IPv6 extension headers, fragments, TCP/UDP/ICMP/ICMPv6/others,
 * ESP with known, removed and unknown SPIs), some then truncated, padded, given a version
 * nibble that contradicts the ethertype, a non-IP ethertype, or random header bytes.
 * Policies are added, replaced and removed between batches of frames; after each batch the
 * maps are checked against the SPD (tuple lists, number of keys). Run by `make test-bpf`.
 */
#include <unistd.h>

#include "esp_fixture.h"
#include "xdp_harness.h"
#include "control/bpf_sync.h"
#include "lib/rcu.h"

#define ROUNDS		4
#define POLICIES	3000	/* added at the start of each round */
#define PHASES		5	/* batches of changes and frames per round */
#define CHANGES		500	/* policy changes per phase */
#define FRAMES		2000	/* frames per phase */
#define NSAS		96	/* inbound SAs in the SAD at any time */
#define SA_CHURN	16	/* SAs replaced per phase */
#define MAX_LIVE	(POLICIES + PHASES * CHANGES)
#define MAX_REPORTS	8

static struct hx H;
static struct bpf_sync S;
static struct sad *SAD;
static struct spd *SPD;
static struct sa *POL_SA;		/* the SA every policy names */

static struct sp *live[MAX_LIVE];	/* the published policies */
static size_t nlive;
static struct sa *sas[NSAS];		/* inbound SAs in the SAD */
static uint32_t gone_spis[256];		/* SPIs of removed SAs: must be unknown again */
static size_t ngone;
static uint32_t next_uid = 1000000;

/* What was compared, for the summary line and for the coverage asserts. */
enum stat {
	ST_FRAMES, ST_REDIRECT_OUT, ST_DROP_IN, ST_PASS_NO_POLICY, ST_REDIRECT_ESP,
	ST_ESP_UNKNOWN, ST_ESP_FRAGMENT, ST_MALFORMED, ST_NOT_IP, ST_VLAN, ST_IP4_OPTS,
	ST_IP6_EXT, ST_FRAGMENT, ST_TRUNCATED, ST_PADDED, ST_VERSION, ST_MUTATED, ST_ADDS,
	ST_REPLACES, ST_REMOVES, ST_SA_CHANGES, ST_MAX
};
static unsigned long stats[ST_MAX];
static unsigned disagreements;

/* --- the control path ----------------------------------------------------------------- */

/* An inbound SA with its SPI mirrored, uid unlike the SPI (so a swapped field shows). */
static struct sa *sa_add_new(struct hx_rand *r)
{
	struct cmd_add add = { .alg = ESP_ALG_AES_GCM_16, .cipher = AEAD_AES128_GCM,
			       .key_len = 20 };
	struct sa *sa;

	do
		add.spi = hx_rnd(r, 4) ? 0x100 + hx_rnd(r, 0x10000) : hx_rnd(r, UINT32_MAX) + 1;
	while (add.spi < 0x100 || sad_by_spi(SAD, add.spi));
	add.uid = next_uid++;
	test_rand_bytes(&r->s, add.key, add.key_len);
	addr_parse("192.0.2.1", &add.src);
	addr_parse("192.0.2.2", &add.dst);
	sa = sa_new(&add, 1);
	assert_non_null(sa);
	assert_int_equal(S.sa.set_sa(S.sa.ctx, sa->spi, sa->uid), 0);
	assert_int_equal(sad_add(SAD, sa), 0);
	return sa;
}

static void sa_del(struct sa *sa)
{
	if (ngone < sizeof(gone_spis) / sizeof(gone_spis[0]))
		gone_spis[ngone++] = sa->spi;
	assert_int_equal(S.sa.del_sa(S.sa.ctx, sa->spi), 0);
	sad_remove(SAD, sa);
}

/* Random selectors from the round's tuples of one family (host bits zero, as the parser
 * insists), either direction. */
static void rand_conf(struct hx_rand *r, const struct esper_tuple *t, uint8_t fam,
		      struct cmd_spdadd *c)
{
	unsigned alen = fam == ESPER_AF_INET ? 4 : 16;

	memset(c, 0, sizeof(*c));
	c->src.addr.family = c->dst.addr.family = fam == ESPER_AF_INET ? AF_INET : AF_INET6;
	hx_rand_addr(r, fam, c->src.addr.a);
	hx_rand_addr(r, fam, c->dst.addr.a);
	c->src.plen = t->src_plen;
	c->dst.plen = t->dst_plen;
	addr_mask(c->src.addr.a, alen, c->src.plen);
	addr_mask(c->dst.addr.a, alen, c->dst.plen);
	c->proto = SP_PROTO_ANY;
	if (t->flags & ESPER_T_PROTO)	/* now and then any number: 43, 44, 59, 255 ... */
		c->proto = hx_rnd(r, 16) ? hx_rand_proto(r) : (uint8_t)(1 + hx_rnd(r, 255));
	c->src.has_port = t->flags & ESPER_T_SPORT;
	c->src.port = c->src.has_port ? hx_rand_port(r) : 0;
	c->dst.has_port = t->flags & ESPER_T_DPORT;
	c->dst.port = c->dst.has_port ? hx_rand_port(r) : 0;
	c->has_dir = true;
	c->dir = hx_rnd(r, 3) ? SP_DIR_OUT : SP_DIR_IN;
	c->mode = SP_MODE_TRANSPORT;
	c->uid = POL_SA->uid;
}

static ssize_t live_index(const struct sp *sp)
{
	for (size_t i = 0; i < nlive; i++)
		if (live[i] == sp)
			return (ssize_t)i;
	return -1;
}

/* spd_add; a policy with the same selectors and direction is replaced (a new id). */
static void policy_add(const struct cmd_spdadd *c)
{
	struct sp *sp = sp_new(c, POL_SA), *old;
	ssize_t i;

	assert_non_null(sp);
	old = spd_find_same(SPD, sp);
	assert_int_equal(spd_add(SPD, sp), 0);
	if (!old) {
		assert_true(nlive < MAX_LIVE);
		live[nlive++] = sp;
		stats[ST_ADDS]++;
		return;
	}
	i = live_index(old);
	assert_true(i >= 0);
	assert_true(sp->id != old->id);
	live[i] = sp;
	stats[ST_REPLACES]++;
}

static void policy_remove(size_t i)
{
	spd_remove(SPD, live[i]);
	live[i] = live[--nlive];
	stats[ST_REMOVES]++;
}

struct tuples {
	struct esper_tuple t[2][ESPER_MAX_TUPLES];
	unsigned n;
};

static void rand_tuples(struct hx_rand *r, unsigned n, struct tuples *ts)
{
	ts->n = n;
	for (int f = 0; f < 2; f++)
		for (unsigned i = 0; i < n; i++)
			ts->t[f][i] = (struct esper_tuple){
				.src_plen = hx_rand_plen(r, f ? ESPER_AF_INET6 : ESPER_AF_INET),
				.dst_plen = hx_rand_plen(r, f ? ESPER_AF_INET6 : ESPER_AF_INET),
				.flags = (uint8_t)hx_rnd(r, 8),
			};
}

static void rand_policy(struct hx_rand *r, const struct tuples *ts)
{
	int f = (int)hx_rnd(r, 2);
	struct cmd_spdadd c;

	rand_conf(r, &ts->t[f][hx_rnd(r, ts->n)], f ? ESPER_AF_INET6 : ESPER_AF_INET, &c);
	policy_add(&c);
}

/* One change: remove, replace (same selectors and direction), or add. */
static void rand_change(struct hx_rand *r, const struct tuples *ts)
{
	unsigned what = hx_rnd(r, 10);

	if (nlive && what < 4) {
		policy_remove(hx_rnd(r, (uint32_t)nlive));
	} else if (nlive && what < 7) {
		struct cmd_spdadd c = live[hx_rnd(r, (uint32_t)nlive)]->conf;

		policy_add(&c);
	} else {
		rand_policy(r, ts);
	}
}

static void sa_churn(struct hx_rand *r)
{
	for (int i = 0; i < SA_CHURN; i++) {
		unsigned k = hx_rnd(r, NSAS);

		sa_del(sas[k]);
		sas[k] = sa_add_new(r);
		stats[ST_SA_CHANGES]++;
	}
	rcu_reclaim();
}

/* --- the maps against the SPD ----------------------------------------------------------- */

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct esper_spd_key));
}

static size_t map_count(int fd, size_t key_size)
{
	uint8_t key[64], next[64];
	size_t n = 0;
	void *prev = NULL;

	assert_true(key_size <= sizeof(key));
	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, key_size);
		prev = key;
		n++;
	}
	return n;
}

/* The tuple lists in the map are the SPD's, and the map holds one key per distinct policy
 * key (no leftovers of removed or replaced policies). */
static void check_maps(void)
{
	static struct esper_spd_key keys[MAX_LIVE];
	size_t distinct = 0;

	for (__u32 f = 0; f < 2; f++) {
		const struct esper_tuple_list *u = spd_tuples(SPD, f);
		struct esper_tuple_list b;

		if (bpf_map_lookup_elem(H.fds.tuple_lists, &f, &b)) {
			assert_int_equal(u->count, 0);
			continue;
		}
		assert_int_equal(b.count, u->count);
		assert_memory_equal(b.t, u->t, u->count * sizeof(u->t[0]));
	}
	for (size_t i = 0; i < nlive; i++)
		keys[i] = live[i]->key;
	qsort(keys, nlive, sizeof(keys[0]), key_cmp);
	for (size_t i = 0; i < nlive; i++)
		distinct += !i || key_cmp(&keys[i - 1], &keys[i]);
	assert_int_equal(map_count(H.fds.spd, sizeof(struct esper_spd_key)), distinct);
	assert_int_equal(map_count(H.fds.sa_in, sizeof(__be32)), sad_count(SAD));
	assert_int_equal(spd_count(SPD), nlive);
}

/* --- userspace's decision ----------------------------------------------------------------- */

static void set_verdict(struct hx_verdict *e, int action, int counter)
{
	memset(e, 0, sizeof(*e));
	e->action = action;
	e->counter = counter;
}

static void set_redirect(struct hx_verdict *e, uint16_t kind, uint32_t id, uint16_t l3_off)
{
	set_verdict(e, XDP_REDIRECT,
		    kind == ESPER_META_ESP_IN ? ESPER_C_REDIRECT_ESP_IN : ESPER_C_REDIRECT_PLAIN_OUT);
	e->has_meta = true;
	e->meta = (struct esper_meta){ .magic = ESPER_META_MAGIC, .kind = kind, .l3_off = l3_off,
				       .id = id };
}

/* What the workers and pcap mode decide for the frame, as XDP verdicts. */
static void user_decide(const uint8_t *f, size_t len, bool unknown_drop, struct hx_verdict *e)
{
	struct pkt_info pi;
	uint16_t l3_off;
	uint32_t spi;
	struct sa *sa;
	struct sp *sp;
	int rc = pkt_parse_frame(f, len, &l3_off, &pi);

	if (rc == -ENOENT)
		return set_verdict(e, XDP_PASS, ESPER_C_PASS_NOT_IP);
	if (rc < 0)
		return set_verdict(e, XDP_PASS, ESPER_C_PASS_MALFORMED);
	if (pi.proto == IPPROTO_ESP_) {
		if (pi.fragment)
			return set_verdict(e, XDP_PASS, ESPER_C_PASS_ESP_FRAGMENT);
		if (!esp_spi(f + l3_off, &pi, &spi))
			return set_verdict(e, XDP_PASS, ESPER_C_PASS_MALFORMED);
		sa = sad_by_spi(SAD, spi);
		if (sa)
			return set_redirect(e, ESPER_META_ESP_IN, sa->uid, l3_off);
		if (unknown_drop)
			return set_verdict(e, XDP_DROP, ESPER_C_DROP_UNKNOWN_SPI);
		return set_verdict(e, XDP_PASS, ESPER_C_PASS_UNKNOWN_SPI);
	}
	sp = spd_match(SPD, &pi);
	if (!sp)
		return set_verdict(e, XDP_PASS, ESPER_C_PASS_NO_POLICY);
	if (sp->conf.dir == SP_DIR_IN)
		return set_verdict(e, XDP_DROP, ESPER_C_DROP_IN_POLICY);
	set_redirect(e, ESPER_META_PLAIN_OUT, sp->id, l3_off);
}

static void count_verdict(const struct hx_verdict *e)
{
	static const enum stat of[ESPER_C_MAX] = {
		[ESPER_C_PASS_NOT_IP] = ST_NOT_IP,
		[ESPER_C_PASS_NO_POLICY] = ST_PASS_NO_POLICY,
		[ESPER_C_PASS_MALFORMED] = ST_MALFORMED,
		[ESPER_C_PASS_UNKNOWN_SPI] = ST_ESP_UNKNOWN,
		[ESPER_C_DROP_UNKNOWN_SPI] = ST_ESP_UNKNOWN,
		[ESPER_C_PASS_ESP_FRAGMENT] = ST_ESP_FRAGMENT,
		[ESPER_C_DROP_IN_POLICY] = ST_DROP_IN,
		[ESPER_C_REDIRECT_ESP_IN] = ST_REDIRECT_ESP,
		[ESPER_C_REDIRECT_PLAIN_OUT] = ST_REDIRECT_OUT,
	};

	if (e->counter >= 0 && e->counter < ESPER_C_MAX && of[e->counter])
		stats[of[e->counter]]++;
}

/* --- frames ----------------------------------------------------------------------------- */

/* A live policy as the harness's packet generator wants it. */
static void hx_policy_of(const struct sp *sp, struct hx_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->family = sp->key.family;
	p->src_plen = sp->key.src_plen;
	p->dst_plen = sp->key.dst_plen;
	p->flags = sp->key.flags;
	p->proto = sp->key.proto;
	p->sport = sp->conf.src.port;
	p->dport = sp->conf.dst.port;
	memcpy(p->src, sp->conf.src.addr.a, 16);
	memcpy(p->dst, sp->conf.dst.addr.a, 16);
	p->id = sp->id;
}

static uint32_t rand_spi(struct hx_rand *r)
{
	unsigned w = hx_rnd(r, 8);

	if (w < 5)
		return sas[hx_rnd(r, NSAS)]->spi;
	if (w < 6 && ngone)
		return gone_spis[hx_rnd(r, (uint32_t)ngone)];
	return hx_rnd(r, 2) ? 0x100 + hx_rnd(r, 0x10000) : hx_rnd(r, UINT32_MAX) + 1;
}

/* A frame from the harness's generator, aimed at a live policy most of the time, then
 * perhaps damaged. Returns its length (at least ETH_HLEN, test_run's minimum). */
static size_t rand_frame(struct hx_rand *r, uint8_t *buf)
{
	struct hx_policy target = { 0 };
	struct hx_pkt k;
	bool esp = !hx_rnd(r, 4);
	size_t len, l3;
	unsigned what;

	if (nlive)
		hx_policy_of(live[hx_rnd(r, (uint32_t)nlive)], &target);
	hx_rand_pkt(r, &target, nlive ? 1 : 0, esp, esp ? rand_spi(r) : 0, &k);
	if (!hx_rnd(r, 8))	/* ICMP of the family, which has no ports */
		k.proto = esp ? 50 : k.family == ESPER_AF_INET ? 1 : 58;
	if (!hx_rnd(r, 40))
		k.ethertype = hx_rnd(r, 2) ? 0x0806 : 0x88cc;
	len = hx_build(&k, buf);
	l3 = hx_l3_off(&k);
	stats[ST_VLAN] += k.vlan[0] != 0;
	stats[ST_IP4_OPTS] += !k.ethertype && k.family == ESPER_AF_INET && k.ip4_optlen;
	stats[ST_IP6_EXT] += !k.ethertype && k.family == ESPER_AF_INET6 && k.next;
	stats[ST_FRAGMENT] += !k.ethertype && k.frag != HX_FRAG_NONE;
	if (k.ethertype)
		return len;
	what = hx_rnd(r, 100);
	if (what < 8) {			/* cut short: the IP length claims more */
		len = ETH_HLEN_ + hx_rnd(r, (uint32_t)(len - ETH_HLEN_));
		stats[ST_TRUNCATED]++;
	} else if (what < 16) {		/* cut short as the sender meant it */
		size_t min = l3 + (k.family == ESPER_AF_INET ? 20u + k.ip4_optlen : 40u);

		len = min + hx_rnd(r, (uint32_t)(len - min + 1));
		hx_set_ip_end(&k, buf, len);
		stats[ST_TRUNCATED]++;
	} else if (what < 22) {		/* Ethernet padding behind the IP packet */
		size_t pad = 1 + hx_rnd(r, 64);

		test_rand_bytes(&r->s, buf + len, pad);
		len += pad;
		stats[ST_PADDED]++;
	} else if (what < 27) {		/* a version against the ethertype */
		if (hx_rnd(r, 2))	/* a sound packet of the other family */
			hx_put16(buf + l3 - 2, k.family == ESPER_AF_INET ? 0x86dd : 0x0800);
		else
			buf[l3] = (uint8_t)((buf[l3] & 0x0f) | hx_rnd(r, 16) << 4);
		stats[ST_VERSION]++;
	} else if (what < 35) {		/* random header bytes */
		for (int i = 0, n = 1 + (int)hx_rnd(r, 3); i < n; i++)
			buf[hx_rnd(r, (uint32_t)(len < 120 ? len : 120))] ^=
				(uint8_t)(1 + hx_rnd(r, 255));
		stats[ST_MUTATED]++;
	}
	return len;
}

static void hexdump(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		fprintf(stderr, "%02x%s", p[i], i % 32 == 31 || i + 1 == len ? "\n" : " ");
}

static bool same(const struct hx_verdict *v, const struct hx_verdict *e)
{
	if (v->action != e->action || v->counter != e->counter)
		return false;
	return !e->has_meta || (v->has_meta && !memcmp(&v->meta, &e->meta, sizeof(e->meta)));
}

static void compare(const uint8_t *f, size_t len, bool unknown_drop, const char *where)
{
	struct hx_verdict v, e;

	user_decide(f, len, unknown_drop, &e);
	assert_int_equal(hx_run(&H, f, len, &v), 0);
	stats[ST_FRAMES]++;
	count_verdict(&e);
	if (same(&v, &e))
		return;
	if (disagreements++ < MAX_REPORTS) {
		fprintf(stderr,
			"%s: XDP %d/counter %d/kind %u/id %u/l3 %u, userspace %d/counter %d/"
			"kind %u/id %u/l3 %u; frame of %zu bytes:\n",
			where, v.action, v.counter, v.meta.kind, v.meta.id, v.meta.l3_off, e.action,
			e.counter, e.meta.kind, e.meta.id, e.meta.l3_off, len);
		hexdump(f, len);
	}
}

static void frames(struct hx_rand *r, unsigned n, bool unknown_drop, const char *where)
{
	uint8_t buf[HX_FRAME_MAX + 64];

	for (unsigned i = 0; i < n; i++)
		compare(buf, rand_frame(r, buf), unknown_drop, where);
}

/* --- the test ------------------------------------------------------------------------- */

static void test_spd_differential(void **state)
{
	static const unsigned ntuples[ROUNDS] = { 4, 16, ESPER_MAX_TUPLES, ESPER_MAX_TUPLES };
	struct hx_rand r = { .s = 0xd1ffd1ff5eed0001ULL };
	struct tuples ts;
	char where[64];

	(void)state;
	for (int round = 0; round < ROUNDS; round++) {
		bool drop = round & 1;
		struct esper_config cfg = { .flags = drop ? ESPER_CFG_UNKNOWN_SPI_DROP : 0 };

		assert_int_equal(bpf_sync_config(&S, &cfg), 0);
		rand_tuples(&r, ntuples[round], &ts);
		for (int i = 0; i < POLICIES; i++)
			rand_policy(&r, &ts);
		for (int phase = 0; phase < PHASES; phase++) {
			if (phase) {
				for (int i = 0; i < CHANGES; i++)
					rand_change(&r, &ts);
				sa_churn(&r);
			}
			rcu_reclaim();
			check_maps();
			snprintf(where, sizeof(where), "round %d phase %d", round, phase);
			frames(&r, FRAMES, drop, where);
		}
		/* everything goes: the maps empty, nothing matches any more */
		spd_flush(SPD);
		nlive = 0;
		rcu_reclaim();
		check_maps();
		assert_int_equal(map_count(H.fds.spd, sizeof(struct esper_spd_key)), 0);
		snprintf(where, sizeof(where), "round %d flushed", round);
		frames(&r, FRAMES / 4, drop, where);
	}
	fprintf(stderr,
		"[          ] %lu frames compared: %lu redirect out, %lu drop in, %lu no policy, "
		"%lu redirect ESP, %lu unknown SPI, %lu ESP fragment, %lu malformed, %lu not IP\n"
		"[          ] built with %lu VLAN, %lu IPv4 options, %lu IPv6 ext, %lu fragments; "
		"%lu truncated, %lu padded, %lu version, %lu mutated\n"
		"[          ] policies: %lu added, %lu replaced, %lu removed; %lu SA changes\n",
		stats[ST_FRAMES], stats[ST_REDIRECT_OUT], stats[ST_DROP_IN],
		stats[ST_PASS_NO_POLICY], stats[ST_REDIRECT_ESP], stats[ST_ESP_UNKNOWN],
		stats[ST_ESP_FRAGMENT], stats[ST_MALFORMED], stats[ST_NOT_IP], stats[ST_VLAN],
		stats[ST_IP4_OPTS], stats[ST_IP6_EXT], stats[ST_FRAGMENT], stats[ST_TRUNCATED],
		stats[ST_PADDED], stats[ST_VERSION], stats[ST_MUTATED], stats[ST_ADDS],
		stats[ST_REPLACES], stats[ST_REMOVES], stats[ST_SA_CHANGES]);
	if (disagreements)
		fail_msg("%u frames where XDP and userspace disagree", disagreements);
	/* every outcome must have been exercised, or the comparison proves little */
	for (int i = ST_REDIRECT_OUT; i <= ST_NOT_IP; i++)
		assert_true(stats[i] > stats[ST_FRAMES] / 500);
}

/* --- set-up ------------------------------------------------------------------------------ */

static int group_setup(void **state)
{
	struct hx_rand r = { .s = 0x5a5a0001 };
	int xsk_err;

	(void)state;
	if (geteuid()) {
		fprintf(stderr, "test_xdp_spd_diff: needs root (BPF_PROG_TEST_RUN, AF_XDP)\n");
		return -1;
	}
	if (crypto_init(CRYPTO_AUTO) < 0 || hx_open(&H, &xsk_err)) {
		fprintf(stderr, "test_xdp_spd_diff: cannot set up crypto or load the program\n");
		return -1;
	}
	if (xsk_err) {
		fprintf(stderr, "test_xdp_spd_diff: no AF_XDP socket on lo: %s\n",
			strerror(-xsk_err));
		return -1;
	}
	bpf_sync_init(&S, &H.fds);
	SAD = sad_new();
	SPD = spd_new();
	POL_SA = fx_sa_cipher(AEAD_AES128_GCM, 0x7fff0001, false, 0, 0);
	if (!SAD || !SPD || !POL_SA)
		return -1;
	spd_set_mirror(SPD, &S.spd);
	if (bpf_sync_xsk(&S, H.lo_ifindex, 0, 0, hx_xsk_fd(&H)))
		return -1;
	for (int i = 0; i < NSAS; i++)
		sas[i] = sa_add_new(&r);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (SPD)
		spd_flush(SPD);
	rcu_barrier();
	spd_free(SPD);
	sad_free(SAD);
	sa_free(POL_SA);
	hx_close(&H);
	crypto_fini();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spd_differential),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
