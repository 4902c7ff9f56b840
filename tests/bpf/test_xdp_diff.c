// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_xdp_diff.c - randomized differential test (fixed seed, root): the verdict of
 * bpf/esper.bpf.c under BPF_PROG_TEST_RUN against classify() of user/datapath/classify.c,
 * the decision the workers and pcap mode take, for the same frame (pkt_parse_frame, then
 * classify). Both read the same tables: the SAD and SPD are changed only through the real
 * executor (cmd_exec: add, delete, spdadd, with its direction rules: an SA an outbound
 * ipsec policy names becomes outbound and leaves sa_in) and spd_remove, and mirrored into
 * the loaded program's maps by user/control/bpf_sync.c (spd_set_mirror, the SA mirror
 * set_sa/del_sa), the XSK slot through bpf_sync_xsk. The first half of the rounds writes the
 * maps through, one key at a time; the second half as live: writes held back, coalesced per
 * key and sent in ordered batches by bpf_sync's writer thread (bpf_sync_batch_start),
 * waited for before the maps are read.
 *
 * Compared: the action, the XDP counter that moved against classify's `why`, and for
 * redirects the whole struct esper_meta (magic, kind, id = policy id or SA UniqueID).
 * Config: ESPER_CFG_UNKNOWN_SPI_DROP alternates by round; ESPER_CFG_RPF and ESPER_CFG_LOCAL
 * are off: they are live-only checks (the kernel's FIB, the host's addresses) that classify
 * does not model, tested in test_xdp.c.
 *
 * Policies: all three actions (ipsec, discard, none), both directions, over random tuples
 * (prefix lengths, protocol, ports: the port and protocol policies leave shadow keys),
 * transport or tunnel mode, added, replaced (same selectors and direction, perhaps another
 * action) and removed between batches of frames, some at the level require:ID (waiting for
 * an SA that never comes, or outliving theirs); SAs of both families with random outer
 * addresses added and deleted (their unique:ID policies with them). Frames come from
 * tests/bpf/xdp_harness.h (VLAN/QinQ, IPv4 options, IPv6 extension headers, fragments,
 * TCP/UDP/ICMP/ICMPv6/others), opaque ones (non-first fragments, TCP/UDP headers cut short,
 * IPv6 chains past the parser), ESP with known SPIs whose outer addresses are the SA's or
 * not (one address off, swapped, the other family), of outbound SAs, of deleted and of
 * unknown SPIs; some then truncated, padded, given a version nibble that contradicts the
 * ethertype, a non-IP ethertype, or random header bytes. After each batch of changes the
 * maps are checked against the tables: tuple lists, every SPD key and value, every shadow
 * key (as the harness computes them) and nothing else, sa_in exactly the SAs that may
 * decrypt with their addresses. Run by `make test-bpf`.
 */
#include <unistd.h>

#include "esp_fixture.h"
#include "xdp_harness.h"
#include "control/bpf_sync.h"
#include "datapath/classify.h"
#include "lib/rcu.h"

#define ROUNDS		4
#define POLICIES	2000	/* added at the start of each round */
#define PHASES		5	/* batches of changes and frames per round */
#define CHANGES		400	/* policy changes per phase */
#define FRAMES		2500	/* frames per phase */
#define NSAS		64	/* SAs in the SAD at any time */
#define SA_CHURN	8	/* SAs deleted (with their policies) and added per phase */
#define MAX_LIVE	(POLICIES + PHASES * CHANGES)
#define MAX_REPORTS	8
#define MIN_EACH	50	/* every verdict the frames can get, at least this often */

static struct hx H;
static struct bpf_sync S;
static struct sad *SAD;
static struct spd *SPD;
static struct exec_env ENV;

static struct sa *sas[NSAS];		/* the SAs in the SAD */
static uint32_t gone_spis[256];		/* SPIs of deleted SAs: unknown again */
static size_t ngone;
static uint32_t next_uid = 1000000;

/* What was compared, for the summary line and for the coverage asserts. */
enum stat {
	ST_FRAMES, ST_OPAQUE, ST_OPAQUE_PROTECTED, ST_SHADOWED, ST_ESP_EXACT, ST_ESP_WRONG,
	ST_ESP_OUTBOUND, ST_ESP_GONE, ST_ESP_FRAG, ST_VLAN, ST_IP4_OPTS, ST_IP6_EXT, ST_FRAGMENT,
	ST_CUT_L4, ST_LONG_CHAIN, ST_TRUNCATED, ST_PADDED, ST_VERSION, ST_MUTATED, ST_ADDS,
	ST_REPLACES, ST_REMOVES, ST_REFUSED, ST_SA_ADDS, ST_SA_DELETES, ST_SA_OUTBOUND,
	ST_SA_ENCAP, ST_UDP_ESP, ST_UDP_ESP_OURS, ST_UDP_CONTROL, ST_UDP_CONTROL_PROTECTED,
	ST_NO_SA, ST_WAITING,
	ST_MAX
};
static unsigned long stats[ST_MAX];
static unsigned long seen[ESPER_C_MAX];	/* classify's `why` */
static unsigned disagreements;

/* --- the control path: commands through the executor ------------------------------------- */

static void exec_ok(const struct cmd *c)
{
	struct cmd_error err;

	if (cmd_exec(&ENV, c, &err) < 0)
		fail_msg("command %d refused: %s", c->kind, err.msg);
}

/* A new SA (random family, outer addresses from the policies' pool), through `add`. */
static struct sa *sa_create(struct hx_rand *r)
{
	struct cmd c = { .kind = CMD_ADD };
	struct sa_params *a = &c.add;
	uint8_t fam = hx_rnd(r, 2) ? ESPER_AF_INET6 : ESPER_AF_INET;
	struct sa *sa;

	a->alg = ESP_ALG_AES_GCM_16;
	a->cipher = AEAD_AES128_GCM;
	a->key_len = 20;
	a->seq = 1;
	do
		a->spi = hx_rnd(r, 4) ? 0x100 + hx_rnd(r, 0x10000) : hx_rnd(r, UINT32_MAX) + 1;
	while (a->spi < 0x100 || sad_by_spi(SAD, a->spi));
	a->uid = next_uid++;
	test_rand_bytes(&r->s, a->key, a->key_len);
	a->src.family = a->dst.family = fam == ESPER_AF_INET ? AF_INET : AF_INET6;
	hx_rand_addr(r, fam, a->src.a);
	hx_rand_addr(r, fam, a->dst.a);
	if (!hx_rnd(r, 3)) {	/* esp-udp, mostly to one of two NAT-T destinations */
		static const uint16_t ports[] = { 4500, 4500, 4501 };

		a->encap = true;
		a->sport = hx_rnd(r, 2) ? 4500 : (uint16_t)(1 + hx_rnd(r, 65535));
		a->dport = hx_rnd(r, 4) ? ports[hx_rnd(r, 3)] : (uint16_t)(1 + hx_rnd(r, 65535));
		stats[ST_SA_ENCAP]++;
	}
	exec_ok(&c);
	sa = sad_by_spi(SAD, a->spi);
	assert_non_null(sa);
	stats[ST_SA_ADDS]++;
	return sa;
}

/* `delete`: the SA and every policy naming it. */
static void sa_delete(struct sa *sa)
{
	struct cmd c = { .kind = CMD_DELETE };

	if (ngone < sizeof(gone_spis) / sizeof(gone_spis[0]))
		gone_spis[ngone++] = sa->spi;
	c.del.spi = sa->spi;
	c.del.src = sa_path(sa)->src;
	c.del.dst = sa_path(sa)->dst;
	exec_ok(&c);
	stats[ST_SA_DELETES]++;
}

/* May an outbound policy name sa (the executor's direction rule)? If it is outbound
 * already, or no inbound policy has named it (it never decrypts here). */
static bool may_send(const struct sa *sa)
{
	uint8_t f = atomic_load(&((struct sa *)sa)->flags);

#ifdef SA_INBOUND
	if (f & SA_INBOUND)
		return f & SA_OUTBOUND;
#endif
	return (f & SA_OUTBOUND) || !sa->n_in_sps;
}

/* An SA a policy of direction dir may name: outbound ones (or ones that may still send,
 * which then become outbound) for out, those not outbound for in. NULL if none. */
static struct sa *sa_for(struct hx_rand *r, enum sp_dir dir)
{
	struct sa *cand[NSAS];
	unsigned n = 0, nout = 0;

	for (int i = 0; i < NSAS; i++) {
		bool out = sa_is_outbound(sas[i]);

		if (dir == SP_DIR_OUT && out)
			cand[n++] = sas[i], nout++;
	}
	/* out: mostly SAs outbound already, now and then one more turns outbound */
	if (dir == SP_DIR_OUT && nout && hx_rnd(r, 8))
		return cand[hx_rnd(r, n)];
	n = 0;
	for (int i = 0; i < NSAS; i++) {
		if (dir == SP_DIR_OUT ? may_send(sas[i]) : !sa_is_outbound(sas[i]))
			cand[n++] = sas[i];
	}
	return n ? cand[hx_rnd(r, n)] : NULL;
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

static enum sp_action rand_sp_action(struct hx_rand *r)
{
	switch (hx_rand_action(r)) {
	case ESPER_ACT_DISCARD:
		return SP_DISCARD;
	case ESPER_ACT_BYPASS:
		return SP_BYPASS;
	}
	return SP_IPSEC;
}

/* Name an SA for an ipsec policy: transport mode when the families agree (sometimes
 * tunnel anyway), else tunnel between the SA's addresses. false if no SA may be named. */
static bool name_sa(struct hx_rand *r, struct sp_params *c)
{
	struct sa *sa = sa_for(r, c->dir);

	if (!sa)
		return false;
	c->uid = sa->uid;
	if (c->src.addr.family == sa->family && hx_rnd(r, 2)) {
		c->mode = SP_MODE_TRANSPORT;
		memset(&c->tsrc, 0, sizeof(c->tsrc));
		memset(&c->tdst, 0, sizeof(c->tdst));
	} else {
		c->mode = SP_MODE_TUNNEL;
		c->tsrc = sa_path(sa)->src;
		c->tdst = sa_path(sa)->dst;
	}
	return true;
}

/* Random selectors from the round's tuples of one family (host bits zero, as the parser
 * insists), either direction, any action. */
static void rand_conf(struct hx_rand *r, const struct esper_tuple *t, uint8_t fam,
		      struct sp_params *c)
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
	c->dir = hx_rnd(r, 3) ? SP_DIR_OUT : SP_DIR_IN;
	c->action = rand_sp_action(r);
}

/* An ipsec policy at the level require:ID waiting for an SA that never comes: a UniqueID no
 * SA has (sa_create numbers them from 1), one range per direction (the policies waiting
 * for one SA go one way). Tunnel mode between random endpoints, or transport. */
static void name_absent_sa(struct hx_rand *r, struct sp_params *c)
{
	uint8_t fam = hx_rnd(r, 2) ? ESPER_AF_INET6 : ESPER_AF_INET;

	c->require = true;
	c->uid = (c->dir == SP_DIR_OUT ? 0x40000000u : 0x50000000u) + hx_rnd(r, 16);
	c->mode = hx_rnd(r, 2) ? SP_MODE_TUNNEL : SP_MODE_TRANSPORT;
	memset(&c->tsrc, 0, sizeof(c->tsrc));
	memset(&c->tdst, 0, sizeof(c->tdst));
	if (c->mode == SP_MODE_TUNNEL) {
		c->tsrc.family = c->tdst.family = fam == ESPER_AF_INET ? AF_INET : AF_INET6;
		hx_rand_addr(r, fam, c->tsrc.a);
		hx_rand_addr(r, fam, c->tdst.a);
		c->tsrc.a[fam == ESPER_AF_INET ? 3 : 15] |= 1;	/* never unspecified */
		c->tdst.a[fam == ESPER_AF_INET ? 3 : 15] |= 1;
	}
}

/* What policy_add submitted for each policy id: the harness's view of a policy comes from
 * here, not from the SPD (sp_params is checked against it); a waiting require:ID policy
 * that spd_unbind copied (a new id) is taken as sp_params gives it. */
static struct sp_params *submitted;
static size_t n_submitted;

static void remember(const struct sp *sp, const struct sp_params *c)
{
	if (sp->id >= n_submitted) {
		size_t n = (sp->id + 1) * 2;

		submitted = realloc(submitted, n * sizeof(*submitted));
		assert_non_null(submitted);
		memset(submitted + n_submitted, 0, (n - n_submitted) * sizeof(*submitted));
		n_submitted = n;
	}
	submitted[sp->id] = *c;
}

static void sel_equal(const struct sp_sel *a, const struct sp_sel *b)
{
	assert_int_equal(a->addr.family, b->addr.family);
	assert_memory_equal(a->addr.a, b->addr.a, 16);
	assert_int_equal(a->plen, b->plen);
	assert_int_equal(a->has_port, b->has_port);
	assert_int_equal(a->port, b->port);
}

static const struct sp_params *submitted_of(const struct sp *sp)
{
	struct sp_params now = sp_params(sp);
	const struct sp_params *c;

	if (sp->id >= n_submitted || !submitted[sp->id].src.addr.family)
		remember(sp, &now);	/* a require:ID policy's copy, made by spd_unbind */
	c = &submitted[sp->id];
	/* sp_params gives back what was submitted */
	sel_equal(&now.src, &c->src);
	sel_equal(&now.dst, &c->dst);
	assert_int_equal(now.proto, c->proto);
	assert_int_equal(now.dir, c->dir);
	assert_int_equal(now.action, c->action);
	assert_int_equal(now.mode, c->mode);
	assert_memory_equal(now.tsrc.a, c->tsrc.a, 16);
	assert_memory_equal(now.tdst.a, c->tdst.a, 16);
	assert_int_equal(now.uid, c->uid);
	assert_int_equal(now.require, c->require);
	return c;
}

/* spdadd through the executor; a policy with the same selectors and direction is replaced
 * (a new id). An ipsec policy without an SA it may name becomes a require:ID policy
 * waiting for an SA, or a discard; one in four that name an SA is require:ID (and so
 * outlives it, waiting, once sa_churn deletes it). */
static void policy_add(struct hx_rand *r, struct sp_params *c)
{
	struct cmd cmd = { .kind = CMD_SPDADD };
	struct sp *probe, *old, *now;
	size_t before = spd_count(SPD);

	c->require = false;
	if (c->action == SP_IPSEC && !name_sa(r, c)) {
		if (hx_rnd(r, 2))
			name_absent_sa(r, c);
		else
			c->action = SP_DISCARD;
	} else if (c->action == SP_IPSEC && !hx_rnd(r, 4)) {
		c->require = true;
	}
	if (c->action != SP_IPSEC) {
		c->mode = SP_MODE_TRANSPORT;
		c->uid = 0;
		c->require = false;
		memset(&c->tsrc, 0, sizeof(c->tsrc));
		memset(&c->tdst, 0, sizeof(c->tdst));
	}
	probe = sp_new(c, NULL);
	assert_non_null(probe);
	old = spd_find_same(SPD, probe);
	cmd.spd = *c;
	exec_ok(&cmd);
	now = spd_find_same(SPD, probe);
	sp_free(probe);
	assert_non_null(now);
	remember(now, c);
	assert_true(now != old);
	assert_int_equal(spd_count(SPD), before + !old);
	stats[old ? ST_REPLACES : ST_ADDS]++;
}

/* An ipsec policy naming an SA against its direction: refused, nothing changes. */
static void policy_refused(struct hx_rand *r)
{
	struct cmd cmd = { .kind = CMD_SPDADD };
	struct esper_tuple t = { .src_plen = 24, .dst_plen = 24 };
	struct cmd_error err;
	struct sa *sa = NULL;
	size_t before = spd_count(SPD);

	for (int i = 0; i < NSAS && !sa; i++) {
		struct sa *s = sas[(i + hx_rnd(r, NSAS)) % NSAS];

		if (sa_is_outbound(s) || !may_send(s))
			sa = s;
	}
	if (!sa)
		return;
	rand_conf(r, &t, sa->family == AF_INET ? ESPER_AF_INET : ESPER_AF_INET6, &cmd.spd);
	cmd.spd.action = SP_IPSEC;
	cmd.spd.dir = sa_is_outbound(sa) ? SP_DIR_IN : SP_DIR_OUT;
	cmd.spd.mode = SP_MODE_TRANSPORT;
	cmd.spd.uid = sa->uid;
	assert_int_equal(cmd_exec(&ENV, &cmd, &err), -1);
	assert_int_equal(spd_count(SPD), before);
	stats[ST_REFUSED]++;
}

/* The published policies, in insertion order. */
static size_t live_policies(struct sp **out, size_t cap)
{
	size_t n = 0;

	for (struct sp *sp = spd_first(SPD); sp && n < cap; sp = spd_next(SPD, sp))
		out[n++] = sp;
	assert_int_equal(n, spd_count(SPD));
	return n;
}

static void rand_policy(struct hx_rand *r, const struct tuples *ts)
{
	int f = (int)hx_rnd(r, 2);
	struct sp_params c;

	rand_conf(r, &ts->t[f][hx_rnd(r, ts->n)], f ? ESPER_AF_INET6 : ESPER_AF_INET, &c);
	policy_add(r, &c);
}

/* One change: remove, replace (same selectors and direction, perhaps another action),
 * add, or now and then a refused one. */
static void rand_change(struct hx_rand *r, const struct tuples *ts)
{
	static struct sp *live[MAX_LIVE + NSAS];
	size_t n = live_policies(live, sizeof(live) / sizeof(live[0]));
	unsigned what = hx_rnd(r, 20);

	if (n && what < 8) {
		spd_remove(SPD, live[hx_rnd(r, (uint32_t)n)]);
		rcu_reclaim();
		stats[ST_REMOVES]++;
	} else if (n && what < 13) {
		struct sp_params c = sp_params(live[hx_rnd(r, (uint32_t)n)]);

		if (hx_rnd(r, 2))
			c.action = rand_sp_action(r);
		policy_add(r, &c);
	} else if (what == 19) {
		policy_refused(r);
	} else {
		rand_policy(r, ts);
	}
}

static void sa_churn(struct hx_rand *r)
{
	for (int i = 0; i < SA_CHURN; i++) {
		unsigned k = hx_rnd(r, NSAS);

		sa_delete(sas[k]);
		sas[k] = sa_create(r);
	}
	rcu_reclaim();
}

/* --- the maps against the tables -------------------------------------------------------- */

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct esper_spd_key));
}

/* Every key of a map (key_size bytes each) into a malloc'ed array; *n of them. */
static void *map_keys(int fd, size_t key_size, size_t *n)
{
	size_t cap = 1024;
	uint8_t *keys = malloc(cap * key_size);

	assert_non_null(keys);
	*n = 0;
	for (;;) {
		if (*n == cap) {
			keys = realloc(keys, (cap *= 2) * key_size);
			assert_non_null(keys);
		}
		if (bpf_map_get_next_key(fd, *n ? keys + (*n - 1) * key_size : NULL,
					 keys + *n * key_size))
			break;
		++*n;
	}
	return keys;
}

/* A published policy as the harness sees it. */
static void hx_policy_of(const struct sp *sp, struct hx_policy *p)
{
	const struct sp_params *c = submitted_of(sp);

	memset(p, 0, sizeof(*p));
	p->family = c->src.addr.family == AF_INET ? ESPER_AF_INET : ESPER_AF_INET6;
	p->src_plen = c->src.plen;
	p->dst_plen = c->dst.plen;
	p->flags = (c->proto != SP_PROTO_ANY ? ESPER_T_PROTO : 0) |
		   (c->src.has_port ? ESPER_T_SPORT : 0) |
		   (c->dst.has_port ? ESPER_T_DPORT : 0);
	p->proto = c->proto;
	p->sport = c->src.port;
	p->dport = c->dst.port;
	memcpy(p->src, c->src.addr.a, 16);
	memcpy(p->dst, c->dst.addr.a, 16);
	p->dir = c->dir == SP_DIR_OUT ? HX_OUT : HX_IN;
	p->action = c->action == SP_IPSEC	    ? ESPER_ACT_IPSEC
		    : c->action == SP_DISCARD ? ESPER_ACT_DISCARD
						    : ESPER_ACT_BYPASS;
	p->id = sp->id;
}

/* Does an esp-udp SA of the SAD that may decrypt go to (dst, dport)? */
static bool natt_wanted(const struct ip_addr *dst, uint16_t dport)
{
	for (struct sa *sa = sad_first(SAD); sa; sa = sad_next(SAD, sa))
		if (sa_path(sa)->encap && !sa_is_outbound(sa) && ntohs(sa_path(sa)->dport) == dport &&
		    !memcmp(&sa_path(sa)->dst, dst, sizeof(*dst)))
			return true;
	return false;
}

/* natt_ports has the bit of a port set exactly when one of natt_dests' keys has that port. */
static void check_natt_ports(const struct esper_natt_key *keys, size_t nk)
{
	for (__u32 w = 0; w < ESPER_NATT_PORT_WORDS; w++) {
		__u64 bits, want = 0;

		assert_int_equal(bpf_map_lookup_elem(H.fds.natt_ports, &w, &bits), 0);
		for (size_t i = 0; i < nk; i++)
			if (ntohs(keys[i].port) / 64 == w)
				want |= 1ull << (ntohs(keys[i].port) % 64);
		if (bits != want)
			fail_msg("natt_ports word %u: %#llx, natt_dests' ports make %#llx", w,
				 (unsigned long long)bits, (unsigned long long)want);
	}
}

/* natt_dests holds where the SAD's esp-udp SAs that may decrypt go, and nothing else: the
 * map's keys are exactly those places (and sad_natt_dest agrees); natt_ports their ports. */
static void check_natt_dests(void)
{
	struct esper_natt_key *keys;
	size_t nk, want = 0;

	for (struct sa *sa = sad_first(SAD); sa; sa = sad_next(SAD, sa)) {
		struct esper_natt_key k = { .port = htons(ntohs(sa_path(sa)->dport)) };
		bool w = natt_wanted(&sa_path(sa)->dst, ntohs(sa_path(sa)->dport)), first = true;
		__u8 v;

		k.family = sa->family == AF_INET ? ESPER_AF_INET : ESPER_AF_INET6;
		memcpy(k.addr, sa_path(sa)->dst.a, 16);
		if (w != (bpf_map_lookup_elem(H.fds.natt_dests, &k, &v) == 0))
			fail_msg("natt_dests and the SAD disagree for SPI 0x%x", sa->spi);
		assert_int_equal(sad_natt_dest(SAD, sa->family, sa_path(sa)->dst.a, k.port), w);
		for (struct sa *o = sad_first(SAD); o != sa; o = sad_next(SAD, o))
			first &= !(ntohs(sa_path(o)->dport) == ntohs(sa_path(sa)->dport) &&
				   !memcmp(&sa_path(o)->dst, &sa_path(sa)->dst, sizeof(sa_path(o)->dst)));
		want += w && first;
	}
	keys = map_keys(H.fds.natt_dests, sizeof(*keys), &nk);
	assert_int_equal(nk, want);
	check_natt_ports(keys, nk);
	free(keys);
}

/*
 * The maps hold exactly what the tables say: the SPD's tuple lists; one key per distinct
 * policy key with the outbound and inbound policies' actions and ids; the shadow keys of
 * the non-bypass policies (computed by the harness from the policies, value zero); and
 * in sa_in every SA that is not outbound, with its UniqueID, family and outer addresses.
 */
static void check_maps(void)
{
	static struct sp *live[MAX_LIVE + NSAS];
	static struct esper_spd_key want[3 * (MAX_LIVE + NSAS)];
	size_t n = live_policies(live, sizeof(live) / sizeof(live[0])), nw = 0, nd = 0, nk;
	struct esper_spd_key *keys;
	size_t may_decrypt = 0;
	__be32 *spis;

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
	size_t waiting = 0;

	for (size_t i = 0; i < n; i++) {
		struct hx_policy p;
		struct esper_spd_val v;
		struct esper_spd_key k;

		waiting += live[i]->action == SP_IPSEC && !sp_sa(live[i]);
		hx_policy_of(live[i], &p);
		hx_policy_key(&p, &k);
		assert_memory_equal(&k, &live[i]->key, sizeof(k));	/* harness == SPD */
		want[nw++] = k;
		nw += hx_shadow_keys(&p, want + nw);
		assert_int_equal(bpf_map_lookup_elem(H.fds.spd, &k, &v), 0);
		if (p.dir == HX_OUT) {
			assert_int_equal(v.out, p.action);
			assert_int_equal(v.out_id, p.id);
		} else {
			assert_int_equal(v.in, p.action);
			assert_int_equal(v.in_id, p.id);
		}
	}
	if (waiting > stats[ST_WAITING])
		stats[ST_WAITING] = waiting;
	qsort(want, nw, sizeof(want[0]), key_cmp);
	for (size_t i = 0; i < nw; i++)
		if (!i || key_cmp(&want[nd - 1], &want[i]))
			want[nd++] = want[i];
	keys = map_keys(H.fds.spd, sizeof(*keys), &nk);
	qsort(keys, nk, sizeof(*keys), key_cmp);
	assert_int_equal(nk, nd);
	assert_memory_equal(keys, want, nd * sizeof(*keys));
	for (size_t i = 0; i < nk; i++) {	/* a shadow's value is zero; a key's isn't */
		struct esper_spd_val v, zero = { 0 };

		assert_int_equal(bpf_map_lookup_elem(H.fds.spd, &keys[i], &v), 0);
		if (keys[i].flags & ESPER_K_SHADOW)
			assert_memory_equal(&v, &zero, sizeof(v));
		else
			assert_true(v.out || v.in);
	}
	free(keys);

	for (struct sa *sa = sad_first(SAD); sa; sa = sad_next(SAD, sa)) {
		struct esper_sa_in_val v, w = { .uid = sa->uid };
		__be32 k = htonl(sa->spi);
		int rc = bpf_map_lookup_elem(H.fds.sa_in, &k, &v);

		if (sa_is_outbound(sa)) {
			assert_int_equal(rc, -ENOENT);
			continue;
		}
		assert_int_equal(rc, 0);
		w.family = sa->family == AF_INET ? ESPER_AF_INET : ESPER_AF_INET6;
		w.encap = sa_path(sa)->encap;
		w.dport = sa_path(sa)->encap ? htons(ntohs(sa_path(sa)->dport)) : 0;
		memcpy(w.src, sa_path(sa)->src.a, 16);
		memcpy(w.dst, sa_path(sa)->dst.a, 16);
		assert_memory_equal(&v, &w, sizeof(v));
		may_decrypt++;
	}
	spis = map_keys(H.fds.sa_in, sizeof(*spis), &nk);
	free(spis);
	assert_int_equal(nk, may_decrypt);
	check_natt_dests();
}

/* --- userspace's decision ----------------------------------------------------------------- */

/* What classify() decides for the frame, as an XDP verdict. */
static void user_decide(const uint8_t *f, size_t len, bool unknown_drop, struct hx_verdict *e)
{
	struct classified c;
	struct pkt_info pi;
	uint16_t l3_off;
	bool opaque;
	int rc = pkt_parse_frame(f, len, &l3_off, &pi);

	hx_set_verdict(e, -1, -1);	/* a verdict classify() doesn't know stays this */
	if (rc == -ENOENT)
		return hx_set_verdict(e, XDP_PASS, ESPER_C_PASS_NOT_IP);
	if (rc == -E2BIG)
		return hx_set_verdict(e, XDP_DROP, ESPER_C_DROP_TAGS);
	if (rc < 0)
		return hx_set_verdict(e, XDP_PASS, ESPER_C_PASS_MALFORMED);
	classify(SAD, SPD, unknown_drop, f + l3_off, &pi, &c);
	switch (c.v) {
	case V_DECRYPT:
		assert_int_equal(c.why, ESPER_C_REDIRECT_ESP_IN);
		assert_non_null(c.sa);
		hx_set_redirect(e, ESPER_META_ESP_IN, c.sa->uid);
		break;
	case V_ENCRYPT:
		assert_int_equal(c.why, ESPER_C_REDIRECT_PLAIN_OUT);
		assert_non_null(c.sp);
		hx_set_redirect(e, ESPER_META_PLAIN_OUT, c.sp->id);
		stats[ST_NO_SA] += !sp_sa(c.sp);	/* require:ID waiting: the worker drops it */
		break;
	case V_DROP:
		hx_set_verdict(e, XDP_DROP, (int)c.why);
		break;
	case V_PASS:
		hx_set_verdict(e, XDP_PASS, (int)c.why);
		break;
	}
	/* for the statistics only */
	if (spd_packet_opaque(&pi)) {
		stats[ST_OPAQUE]++;
		stats[ST_OPAQUE_PROTECTED] += c.v == V_ENCRYPT;
	}
	spd_match(SPD, &pi, &opaque);
	stats[ST_SHADOWED] += opaque;
	stats[ST_ESP_FRAG] += pi.proto == IPPROTO_ESP_ && pi.fragment;
	stats[ST_UDP_ESP_OURS] += c.v == V_DECRYPT && pi.proto == 17;
	stats[ST_UDP_CONTROL] += c.why == ESPER_C_PASS_NATT_CONTROL;
	if (c.v == V_ENCRYPT && pi.proto == 17) {	/* IKE that a policy protects */
		struct sa *unused;

		stats[ST_UDP_CONTROL_PROTECTED] +=
			classify_natt(SAD, f + l3_off, &pi, &unused) == NATT_CONTROL;
	}
}

/* --- frames ----------------------------------------------------------------------------- */

/* Frames aim at one of these: the policies as the harness's generator wants them. */
static struct hx_policy targets[MAX_LIVE + NSAS];
static size_t ntargets;

static void load_targets(void)
{
	static struct sp *live[MAX_LIVE + NSAS];

	ntargets = live_policies(live, sizeof(live) / sizeof(live[0]));
	for (size_t i = 0; i < ntargets; i++)
		hx_policy_of(live[i], &targets[i]);
}

/* An SPI for ESP: of an SA (addressed as the SA or not), of a deleted SA, or random. */
static uint32_t rand_spi(struct hx_rand *r, struct sa **sa)
{
	unsigned w = hx_rnd(r, 8);

	*sa = NULL;
	if (w < 5) {
		*sa = sas[hx_rnd(r, NSAS)];
		return (*sa)->spi;
	}
	if (w < 6 && ngone) {
		stats[ST_ESP_GONE]++;
		return gone_spis[hx_rnd(r, (uint32_t)ngone)];
	}
	return hx_rnd(r, 2) ? 0x100 + hx_rnd(r, 0x10000) : hx_rnd(r, UINT32_MAX) + 1;
}

/* UDP as a NAT-T destination would get it (RFC 3948 2.2, 2.3): to an esp-udp SA's port (or to
 * 4500, or anywhere), carrying ESP (of that SA, of another, of none), a keepalive, IKE or
 * data, addressed as the SA or not. */
static void rand_udp_encap(struct hx_rand *r, struct pb_pkt *k)
{
	static uint8_t data[72];	/* what the UDP header carries */
	struct sa *sa = sas[hx_rnd(r, NSAS)];
	struct sa *other;
	unsigned what = hx_rnd(r, 20);
	uint32_t spi = hx_rnd(r, 4) ? sa->spi : rand_spi(r, &other);

	k->proto = 17;
	k->dport = sa_path(sa)->encap && hx_rnd(r, 4) ? ntohs(sa_path(sa)->dport) : hx_rnd(r, 2) ? 4500 : k->dport;
	k->payload = 8 + hx_rnd(r, 64);
	test_rand_bytes(&r->s, data, sizeof(data));
	k->data = data;
	if (what < 12) {	/* ESP: SPI, sequence number 1 */
		wr32(data, spi);
		wr32(data + 4, 1);
		stats[ST_UDP_ESP]++;
	} else if (what < 15) {	/* a NAT-keepalive */
		data[0] = 0xff;
		k->payload = 1;
	} else if (what < 18) {	/* IKE behind the non-ESP marker */
		wr32(data, 0);
		k->payload = 4 + hx_rnd(r, 64);
	} else {		/* data, perhaps 1-3 bytes: neither ESP nor a marker */
		k->payload = hx_rnd(r, 2) ? hx_rnd(r, 4) : k->payload;
	}
	if (hx_rnd(r, 4)) {
		uint8_t fam = sa->family == AF_INET ? ESPER_AF_INET : ESPER_AF_INET6;

		hx_rand_esp_addrs(r, k, fam, sa_path(sa)->src.a, sa_path(sa)->dst.a);
	}
}

/* A frame from the harness's generator, aimed at a live policy most of the time, then
 * perhaps damaged. Returns its length (at least ETH_HLEN, test_run's minimum). */
static size_t rand_frame(struct hx_rand *r, uint8_t *buf)
{
	struct pb_pkt k;
	bool esp = !hx_rnd(r, 4);
	struct sa *sa = NULL;
	uint32_t spi = esp ? rand_spi(r, &sa) : 0;
	size_t len, l3;
	unsigned what;

	hx_rand_pkt(r, targets, ntargets, esp, spi, &k);
	if (sa) {
		uint8_t fam = sa->family == AF_INET ? ESPER_AF_INET : ESPER_AF_INET6;
		int how = hx_rand_esp_addrs(r, &k, fam, sa_path(sa)->src.a, sa_path(sa)->dst.a);

		stats[how ? ST_ESP_WRONG : ST_ESP_EXACT]++;
		stats[ST_ESP_OUTBOUND] += sa_is_outbound(sa);
	}
	if (!esp && !hx_rnd(r, 5))
		rand_udp_encap(r, &k);
	else if (!hx_rnd(r, 8))	/* ICMP of the family, which has no ports */
		k.proto = esp ? 50 : k.family == ESPER_AF_INET ? 1 : 58;
	if (!hx_rnd(r, 40))
		k.ethertype = hx_rnd(r, 2) ? 0x0806 : 0x88cc;
	len = pb_frame(&k, buf);
	l3 = pb_l3_off(&k);
	stats[ST_VLAN] += k.vlan[0] != 0;
	if (k.vlan[1] && !hx_rnd(r, 4)) {	/* a third tag, which XDP does not read past */
		memmove(buf + 24, buf + 20, len - 20);
		wr16(buf + 20, hx_rnd(r, 2) ? 0x8100 : 0x88a8);
		wr16(buf + 22, (uint16_t)hx_rnd(r, 2));	/* VID 0: the kernel would strip it */
		len += 4;
		l3 += 4;
	}
	stats[ST_IP4_OPTS] += !k.ethertype && k.family == ESPER_AF_INET && k.ip4_optlen;
	stats[ST_IP6_EXT] += !k.ethertype && k.family == ESPER_AF_INET6 && k.next;
	stats[ST_LONG_CHAIN] +=
		!k.ethertype && k.family == ESPER_AF_INET6 && k.next > ESPER_MAX_IPV6_EXT;
	stats[ST_FRAGMENT] += !k.ethertype && k.frag != PB_FRAG_NONE;
	stats[ST_CUT_L4] += !k.ethertype && k.cut_l4;
	if (k.ethertype)
		return len;
	what = hx_rnd(r, 100);
	if (what < 6) {			/* cut short: the IP length claims more */
		len = ETH_HLEN_ + hx_rnd(r, (uint32_t)(len - ETH_HLEN_));
		stats[ST_TRUNCATED]++;
	} else if (what < 12) {		/* cut short as the sender meant it */
		size_t min = l3 + (k.family == ESPER_AF_INET ? 20u + k.ip4_optlen : 40u);

		len = min + hx_rnd(r, (uint32_t)(len - min + 1));
		pb_set_ip_end(&k, buf, len);
		stats[ST_TRUNCATED]++;
	} else if (what < 18) {		/* Ethernet padding behind the IP packet */
		size_t pad = 1 + hx_rnd(r, 64);

		test_rand_bytes(&r->s, buf + len, pad);
		len += pad;
		stats[ST_PADDED]++;
	} else if (what < 22) {		/* a version against the ethertype */
		if (hx_rnd(r, 2))	/* a sound packet of the other family */
			wr16(buf + l3 - 2, k.family == ESPER_AF_INET ? 0x86dd : 0x0800);
		else
			buf[l3] = (uint8_t)((buf[l3] & 0x0f) | hx_rnd(r, 16) << 4);
		stats[ST_VERSION]++;
	} else if (what < 28) {		/* random header bytes */
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
	if (e.counter >= 0 && e.counter < ESPER_C_MAX)
		seen[e.counter]++;
	if (same(&v, &e))
		return;
	if (disagreements++ < MAX_REPORTS) {
		fprintf(stderr,
			"%s: XDP %d/counter %d/kind %u/id %u, classify %d/counter %d/kind %u/id "
			"%u; frame of %zu bytes:\n",
			where, v.action, v.counter, v.meta.kind, v.meta.id, e.action, e.counter,
			e.meta.kind, e.meta.id, len);
		hexdump(f, len);
	}
}

static void frames(struct hx_rand *r, unsigned n, bool unknown_drop, const char *where)
{
	uint8_t buf[HX_FRAME_MAX + 64];

	load_targets();
	for (unsigned i = 0; i < n; i++)
		compare(buf, rand_frame(r, buf), unknown_drop, where);
}

/* --- the test ------------------------------------------------------------------------- */

static void test_xdp_differential(void **state)
{
	static const unsigned ntuples[ROUNDS] = { 4, 16, ESPER_MAX_TUPLES, ESPER_MAX_TUPLES };
	static const int expected[] = {
		ESPER_C_PASS_NOT_IP, ESPER_C_PASS_MALFORMED, ESPER_C_PASS_NO_POLICY,
		ESPER_C_PASS_BYPASS, ESPER_C_PASS_UNKNOWN_SPI, ESPER_C_DROP_UNKNOWN_SPI,
		ESPER_C_DROP_IN_POLICY, ESPER_C_DROP_DISCARD, ESPER_C_DROP_OPAQUE,
		ESPER_C_REDIRECT_ESP_IN, ESPER_C_REDIRECT_PLAIN_OUT, ESPER_C_PASS_NATT_CONTROL,
		ESPER_C_DROP_TAGS,
	};
	struct hx_rand r = { .s = 0xd1ffd1ff5eed0002ULL };
	struct tuples ts;
	char where[64];

	(void)state;
	for (int round = 0; round < ROUNDS; round++) {
		bool drop = round & 1;
		struct esper_config cfg = { .flags = drop ? ESPER_CFG_UNKNOWN_SPI_DROP : 0 };

		assert_int_equal(bpf_sync_config(&S, &cfg), 0);
		/* the last rounds as live runs: map writes held back and sent in batches by
		 * bpf_sync's writer thread, complete (bpf_sync_wait) before the maps are read */
		if (round == ROUNDS / 2)
			assert_int_equal(bpf_sync_batch_start(&S), 0);
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
			bpf_sync_wait(&S);
			check_maps();
			snprintf(where, sizeof(where), "round %d phase %d", round, phase);
			frames(&r, FRAMES, drop, where);
		}
		/* every policy goes: the SPD maps empty, nothing matches any more */
		spd_flush(SPD);
		rcu_reclaim();
		bpf_sync_wait(&S);
		check_maps();
		{
			size_t n;
			void *k = map_keys(H.fds.spd, sizeof(struct esper_spd_key), &n);

			free(k);
			assert_int_equal(n, 0);
		}
		snprintf(where, sizeof(where), "round %d flushed", round);
		frames(&r, FRAMES / 4, drop, where);
	}
	bpf_sync_batch_stop(&S);
	for (int i = 0; i < NSAS; i++)
		stats[ST_SA_OUTBOUND] += sa_is_outbound(sas[i]);
	fprintf(stderr, "[          ] require:ID: %lu policies waiting for their SA at most "
		"at once; %lu frames redirected to one\n", stats[ST_WAITING], stats[ST_NO_SA]);
	fprintf(stderr,
		"[          ] %lu frames compared: %lu redirect out, %lu redirect ESP, %lu drop "
		"in, %lu discard, %lu opaque drop, %lu bypass, %lu no policy, %lu unknown SPI "
		"passed, %lu dropped, %lu malformed, %lu not IP\n"
		"[          ] %lu opaque (%lu protected), %lu behind a shadow; ESP to a known SPI: "
		"%lu with its SA's addresses, %lu not, %lu of an outbound SA; %lu to a deleted "
		"SPI; %lu ESP fragments\n"
		"[          ] built with %lu VLAN, %lu IPv4 options, %lu IPv6 ext (%lu past the "
		"parser), %lu fragments, %lu headers cut; %lu truncated, %lu padded, %lu version, "
		"%lu mutated\n"
		"[          ] policies: %lu added, %lu replaced, %lu removed, %lu refused; SAs: "
		"%lu added (%lu esp-udp), %lu deleted, %lu of %d outbound at the end\n"
		"[          ] UDP to NAT-T destinations: %lu ESP (%lu of ours), %lu IKE or keepalive passed, "
		"%lu protected\n",
		stats[ST_FRAMES], seen[ESPER_C_REDIRECT_PLAIN_OUT], seen[ESPER_C_REDIRECT_ESP_IN],
		seen[ESPER_C_DROP_IN_POLICY], seen[ESPER_C_DROP_DISCARD], seen[ESPER_C_DROP_OPAQUE],
		seen[ESPER_C_PASS_BYPASS], seen[ESPER_C_PASS_NO_POLICY],
		seen[ESPER_C_PASS_UNKNOWN_SPI], seen[ESPER_C_DROP_UNKNOWN_SPI],
		seen[ESPER_C_PASS_MALFORMED], seen[ESPER_C_PASS_NOT_IP], stats[ST_OPAQUE],
		stats[ST_OPAQUE_PROTECTED], stats[ST_SHADOWED], stats[ST_ESP_EXACT],
		stats[ST_ESP_WRONG], stats[ST_ESP_OUTBOUND], stats[ST_ESP_GONE],
		stats[ST_ESP_FRAG], stats[ST_VLAN], stats[ST_IP4_OPTS], stats[ST_IP6_EXT],
		stats[ST_LONG_CHAIN], stats[ST_FRAGMENT], stats[ST_CUT_L4], stats[ST_TRUNCATED],
		stats[ST_PADDED], stats[ST_VERSION], stats[ST_MUTATED], stats[ST_ADDS],
		stats[ST_REPLACES], stats[ST_REMOVES], stats[ST_REFUSED], stats[ST_SA_ADDS],
		stats[ST_SA_ENCAP], stats[ST_SA_DELETES], stats[ST_SA_OUTBOUND], NSAS,
		stats[ST_UDP_ESP], stats[ST_UDP_ESP_OURS], stats[ST_UDP_CONTROL],
		stats[ST_UDP_CONTROL_PROTECTED]);
	if (disagreements)
		fail_msg("%u frames where XDP and classify() disagree", disagreements);
	/* every verdict must have been exercised, or the comparison proves little */
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
		if (seen[expected[i]] < MIN_EACH)
			fail_msg("verdict %d seen %lu times only", expected[i], seen[expected[i]]);
	assert_true(stats[ST_OPAQUE_PROTECTED] >= MIN_EACH && stats[ST_SHADOWED] >= MIN_EACH);
	assert_true(stats[ST_ESP_WRONG] >= MIN_EACH && stats[ST_ESP_OUTBOUND] >= MIN_EACH);
	assert_true(stats[ST_ESP_FRAG] >= MIN_EACH && stats[ST_LONG_CHAIN] >= MIN_EACH);
	assert_true(stats[ST_REFUSED] > 0 && stats[ST_REPLACES] > 0);
	assert_true(stats[ST_UDP_ESP_OURS] >= MIN_EACH && stats[ST_UDP_CONTROL] >= MIN_EACH);
	assert_true(stats[ST_UDP_CONTROL_PROTECTED] >= 10);
	assert_true(stats[ST_NO_SA] >= MIN_EACH && stats[ST_WAITING] >= MIN_EACH);
}

/* --- set-up ------------------------------------------------------------------------------ */

static int group_setup(void **state)
{
	struct hx_rand r = { .s = 0x5a5a0002 };
	int xsk_err;

	(void)state;
	if (geteuid()) {
		fprintf(stderr, "test_xdp_diff: needs root (BPF_PROG_TEST_RUN, AF_XDP)\n");
		return -1;
	}
	if (crypto_init(CRYPTO_AUTO) < 0 || hx_open(&H, &xsk_err)) {
		fprintf(stderr, "test_xdp_diff: cannot set up crypto or load the program\n");
		return -1;
	}
	if (xsk_err) {
		fprintf(stderr, "test_xdp_diff: no AF_XDP socket on lo: %s\n", strerror(-xsk_err));
		return -1;
	}
	bpf_sync_init(&S, &H.fds);
	SAD = sad_new();
	SPD = spd_new();
	if (!SAD || !SPD)
		return -1;
	spd_set_mirror(SPD, &S.spd);
	ENV = (struct exec_env){ .sad = SAD, .spd = SPD, .nthreads = 1, .sa_mirror = &S.sa,
				 .out = fopen("/dev/null", "w") };
	if (!ENV.out || bpf_sync_xsk(&S, H.lo_ifindex, 0, 0, hx_xsk_fd(&H)))
		return -1;
	for (int i = 0; i < NSAS; i++)
		sas[i] = sa_create(&r);
	return 0;
}

static int group_teardown(void **state)
{
	struct cmd flush = { .kind = CMD_FLUSH };
	struct cmd_error err;

	(void)state;
	if (SPD && SAD)
		cmd_exec(&ENV, &flush, &err);
	rcu_barrier();
	spd_free(SPD);
	sad_free(SAD);
	if (ENV.out)
		fclose(ENV.out);
	hx_close(&H);
	crypto_fini();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xdp_differential),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
