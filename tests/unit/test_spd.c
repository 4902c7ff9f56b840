// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_spd.c - the SPD (tables/spd.c): the documented order (most specific first) on
 * hand-made cases; replacement of a policy with the same selectors and direction; removal;
 * the shadow keys that make a lookup fail closed for packets whose ports or protocol can't
 * be read (esper_abi.h, "Failing closed"), in the SPD and in its mirror; and a randomized
 * differential test (fixed seed) against a deliberately naive linear scan over the
 * policies sorted by that order, for every action (ipsec, discard, none) and the opaque
 * flag, which also checks that the mirror (what the XDP program would see in its maps)
 * gives the same answer and that the SAs' inbound selectors follow their policies.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>

#include "esp_fixture.h"
#include "lib/rcu.h"
#include "tables/spd.h"

/* --- a mirror that models the BPF maps -------------------------------------------------- */

#define MIRROR_MAX 20000
#define INDEX_SIZE 65536	/* a power of two, well above MIRROR_MAX */

struct fake_maps {
	struct esper_spd_key key[MIRROR_MAX];
	struct esper_spd_val val[MIRROR_MAX];
	unsigned n;
	uint32_t index[INDEX_SIZE];	/* open addressing, linear probing: key index + 1 */
	struct esper_tuple_list lists[2];
	unsigned fail_after;	/* fail the n-th call from now (0: never) */
};

static int fake_fail(struct fake_maps *m)
{
	return m->fail_after && --m->fail_after == 0 ? -ENOMEM : 0;
}

/* FNV-1a: where a key's probe sequence starts. */
static unsigned home(const struct esper_spd_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 16777619u;
	return h & (INDEX_SIZE - 1);
}

/* The index slot of k, or of the empty slot where it would go. */
static unsigned fake_slot(const struct fake_maps *m, const struct esper_spd_key *k)
{
	unsigned s = home(k);

	while (m->index[s] && memcmp(&m->key[m->index[s] - 1], k, sizeof(*k)))
		s = (s + 1) & (INDEX_SIZE - 1);
	return s;
}

static int fake_find(const struct fake_maps *m, const struct esper_spd_key *k)
{
	return (int)m->index[fake_slot(m, k)] - 1;
}

/* Empty slot s, moving back the entries of its cluster that can't be found without it. */
static void index_delete(struct fake_maps *m, unsigned s)
{
	for (unsigned j = (s + 1) & (INDEX_SIZE - 1); m->index[j]; j = (j + 1) & (INDEX_SIZE - 1)) {
		unsigned h = home(&m->key[m->index[j] - 1]);

		if (((j - h) & (INDEX_SIZE - 1)) >= ((j - s) & (INDEX_SIZE - 1))) {
			m->index[s] = m->index[j];
			s = j;
		}
	}
	m->index[s] = 0;
}

static int fake_set_entry(void *ctx, const struct esper_spd_key *k, const struct esper_spd_val *v)
{
	struct fake_maps *m = ctx;
	unsigned s = fake_slot(m, k);

	if (fake_fail(m))
		return -ENOMEM;
	if (!m->index[s]) {
		assert_true(m->n < MIRROR_MAX);
		m->key[m->n] = *k;
		m->index[s] = ++m->n;
	}
	m->val[m->index[s] - 1] = *v;
	return 0;
}

/* Delete by moving the last entry into the hole. */
static int fake_del_entry(void *ctx, const struct esper_spd_key *k)
{
	struct fake_maps *m = ctx;
	unsigned s = fake_slot(m, k), i = m->index[s];

	if (!i)
		return -ENOENT;
	index_delete(m, s);
	if (i != m->n) {
		m->index[fake_slot(m, &m->key[m->n - 1])] = i;
		m->key[i - 1] = m->key[m->n - 1];
		m->val[i - 1] = m->val[m->n - 1];
	}
	m->n--;
	return 0;
}

static int fake_set_tuples(void *ctx, unsigned idx, const struct esper_tuple_list *l)
{
	struct fake_maps *m = ctx;

	if (fake_fail(m))
		return -ENOMEM;
	m->lists[idx] = *l;
	return 0;
}

/* What the XDP program (spd_lookup in bpf/esper.bpf.c) finds in those maps. */
struct lookup {
	uint32_t id;		/* the policy it acts on; 0: none */
	bool out;		/* that policy is the outbound one of its key */
	uint8_t act;		/* its ESPER_ACT_* */
	bool opaque;		/* a shadow key was hit ahead of it */
};

static const uint8_t esper_act[] = {
	[SP_IPSEC] = ESPER_ACT_IPSEC, [SP_DISCARD] = ESPER_ACT_DISCARD,
	[SP_BYPASS] = ESPER_ACT_BYPASS,
};

static bool val_zero(const struct esper_spd_val *v)
{
	static const struct esper_spd_val zero;

	return !memcmp(v, &zero, sizeof(zero));
}

/* Probe the tuples in order; a tuple the packet lacks fields for is probed by its shadow
 * key if the packet is opaque (TCP or UDP without ports, or its protocol unknown), until
 * one shadow key has been hit. The first real key wins, its outbound policy first. */
static struct lookup fake_lookup(struct fake_maps *m, const struct pkt_info *pi)
{
	const struct esper_tuple_list *l = &m->lists[pi->family == AF_INET6];
	bool can_lack = pi->proto == PKT_PROTO_UNKNOWN ||
			((pi->proto == 6 || pi->proto == 17) && !pi->has_ports);
	struct lookup r = { 0 };

	assert_int_equal(spd_packet_opaque(pi), can_lack);
	for (unsigned t = 0; t < l->count; t++) {
		const struct esper_spd_val *v;
		struct esper_spd_key k;
		int i;

		if (!spd_packet_key(pi, &l->t[t], &k)) {
			if (!can_lack || r.opaque)
				continue;
			spd_shadow_key(pi, &l->t[t], &k);
			assert_true(k.flags & ESPER_K_SHADOW);
			i = fake_find(m, &k);
			if (i >= 0) {
				/* only its presence counts */
				assert_true(val_zero(&m->val[i]));
				r.opaque = true;
			}
			continue;
		}
		assert_false(k.flags & (ESPER_K_SHADOW | ESPER_K_NOPROTO));
		i = fake_find(m, &k);
		if (i < 0)
			continue;
		v = &m->val[i];
		assert_true(v->out || v->in);	/* a key without policies is deleted */
		r.out = v->out != ESPER_ACT_NONE;
		r.act = r.out ? v->out : v->in;
		r.id = r.out ? v->out_id : v->in_id;
		return r;
	}
	return r;
}

/* --- the naive reference ----------------------------------------------------------------- */

static bool prefix_match(const uint8_t *a, const uint8_t *net, unsigned plen)
{
	for (unsigned i = 0; i < plen; i++)
		if (((a[i / 8] ^ net[i / 8]) >> (7 - i % 8)) & 1)
			return false;
	return true;
}

static bool naive_addrs(const struct sp_params *c, const struct pkt_info *pi)
{
	return c->src.addr.family == pi->family &&
	       prefix_match(pi->src, c->src.addr.a, c->src.plen) &&
	       prefix_match(pi->dst, c->dst.addr.a, c->dst.plen);
}

/* Does sp match the packet, every selector it has read from the packet? */
static bool naive_matches(const struct sp *sp, const struct pkt_info *pi)
{
	const struct sp_params conf = sp_params(sp), *c = &conf;

	if (!naive_addrs(c, pi))
		return false;
	if (c->proto != SP_PROTO_ANY && c->proto != pi->proto)
		return false;
	if ((c->src.has_port || c->dst.has_port) && !pi->has_ports)
		return false;
	if (c->src.has_port && htons(c->src.port) != pi->sport)
		return false;
	return !c->dst.has_port || htons(c->dst.port) == pi->dport;
}

/*
 * Might sp match the packet, for all that can be read of it, while it needs what can't -
 * ports of a TCP or UDP packet that has none readable, the protocol of a packet whose
 * protocol is unknown? Only policies that protect or discard count: a bypass never makes a
 * packet opaque.
 */
static bool naive_might_match(const struct sp *sp, const struct pkt_info *pi)
{
	const struct sp_params conf = sp_params(sp), *c = &conf;
	bool proto_known = pi->proto != PKT_PROTO_UNKNOWN;
	bool needs_ports = (c->src.has_port || c->dst.has_port) && !pi->has_ports;
	bool needs_proto = c->proto != SP_PROTO_ANY && !proto_known;

	if (c->action == SP_BYPASS || !naive_addrs(c, pi))
		return false;
	if (c->proto != SP_PROTO_ANY && proto_known && c->proto != pi->proto)
		return false;
	return needs_ports || needs_proto;
}

static int naive_tuple_cmp(const struct sp *a, const struct sp *b)
{
	struct esper_tuple ta = { a->key.src_plen, a->key.dst_plen, a->key.flags, 0 };
	struct esper_tuple tb = { b->key.src_plen, b->key.dst_plen, b->key.flags, 0 };

	return spd_tuple_cmp(&ta, &tb);
}

static int naive_cmp(const struct sp *a, const struct sp *b)
{
	int c = naive_tuple_cmp(a, b);

	return c ? c : (int)sp_params(a).dir - (int)sp_params(b).dir;	/* out first */
}

/* The first policy in the documented order that matches; *opaque: some policy that is not
 * a bypass might match, by what can be read, in a tuple probed before that one's (or at
 * all, if none matches). */
static const struct sp *naive_match(const struct spd *spd, const struct pkt_info *pi,
				    bool *opaque)
{
	const struct sp *best = NULL;

	for (const struct sp *sp = spd_first(spd); sp; sp = spd_next(spd, sp))
		if (naive_matches(sp, pi) && (!best || naive_cmp(sp, best) < 0))
			best = sp;
	*opaque = false;
	for (const struct sp *sp = spd_first(spd); sp; sp = spd_next(spd, sp))
		if (naive_might_match(sp, pi) && (!best || naive_tuple_cmp(sp, best) < 0))
			*opaque = true;
	return best;
}

/* --- random policies and packets -------------------------------------------------------- */

static const char *const v4_pool[] = { "192.0.2.0", "192.0.2.128", "198.51.100.0", "198.51.100.7",
				       "203.0.113.0", "203.0.113.200", "10.0.0.0", "0.0.0.0" };
static const char *const v6_pool[] = { "2001:db8::", "2001:db8::1", "2001:db8:1::", "2001:db8:1::80",
				       "2001:db8:ffff::", "::" };
static const uint8_t plens4[] = { 16, 24, 24, 25, 32, 32, 32, 32 };
static const uint8_t plens6[] = { 32, 48, 64, 128, 128, 128 };
static const uint8_t protos[] = { SP_PROTO_ANY, 6, 17, 1, 58 };
static const uint16_t ports[] = { 53, 80, 443 };

#define PICK(rng, a) (a[test_rand(rng) % (sizeof(a) / sizeof(a[0]))])

static void rand_addr(uint64_t *rng, int family, struct ip_addr *a)
{
	addr_parse(family == AF_INET ? PICK(rng, v4_pool) : PICK(rng, v6_pool), a);
	if (test_rand(rng) % 3 == 0)
		a->a[family == AF_INET ? 3 : 15] ^= (uint8_t)(test_rand(rng) % 4);
}

static void rand_sel(uint64_t *rng, int family, struct sp_sel *s, bool ports_ok)
{
	rand_addr(rng, family, &s->addr);
	s->plen = family == AF_INET ? PICK(rng, plens4) : PICK(rng, plens6);
	addr_mask(s->addr.a, 16, s->plen);
	s->has_port = ports_ok && test_rand(rng) % 2;
	s->port = s->has_port ? PICK(rng, ports) : 0;
}

struct fixture {
	struct sa *out_sa, *in_sa;	/* SAs are unidirectional: one per direction */
	struct spd *spd;
	struct fake_maps *maps;
};

static struct sa *sa_for(const struct fixture *f, enum sp_dir dir)
{
	return dir == SP_DIR_OUT ? f->out_sa : f->in_sa;
}

/* A random policy: ipsec three times in five (with the fixture's SA of its direction),
 * else discard or none. */
static struct sp_params rand_policy(uint64_t *rng, const struct fixture *f)
{
	int family = test_rand(rng) % 3 ? AF_INET : AF_INET6;
	struct sp_params c = { .mode = SP_MODE_TRANSPORT };
	unsigned act;
	bool ports_ok;

	do
		c.proto = PICK(rng, protos);
	while ((c.proto == 1 && family == AF_INET6) || (c.proto == 58 && family == AF_INET));
	ports_ok = c.proto == 6 || c.proto == 17;
	rand_sel(rng, family, &c.src, ports_ok);
	rand_sel(rng, family, &c.dst, ports_ok);
	c.dir = test_rand(rng) % 3 ? SP_DIR_OUT : SP_DIR_IN;
	act = (unsigned)(test_rand(rng) % 5);
	c.action = act < 3 ? SP_IPSEC : act == 3 ? SP_DISCARD : SP_BYPASS;
	if (c.action == SP_IPSEC)
		c.uid = sa_for(f, c.dir)->uid;
	return c;
}

static struct sp *new_sp(const struct fixture *f, const struct sp_params *c)
{
	struct sp *sp = sp_new(c, c->action == SP_IPSEC ? sa_for(f, c->dir) : NULL);

	assert_non_null(sp);
	return sp;
}

struct rand_packet {
	uint8_t src[16], dst[16];
	struct pkt_info pi;
};

static void rand_packet(uint64_t *rng, struct rand_packet *p)
{
	int family = test_rand(rng) % 3 ? AF_INET : AF_INET6;
	struct ip_addr a;
	static const uint8_t pkt_protos[] = { 6, 17, 1, 58, 47, PKT_PROTO_UNKNOWN };

	memset(p, 0, sizeof(*p));
	rand_addr(rng, family, &a);
	memcpy(p->src, a.a, 16);
	rand_addr(rng, family, &a);
	memcpy(p->dst, a.a, 16);
	p->pi.family = (uint8_t)family;
	p->pi.src = p->src;
	p->pi.dst = p->dst;
	p->pi.proto = PICK(rng, pkt_protos);
	p->pi.has_ports = (p->pi.proto == 6 || p->pi.proto == 17) && test_rand(rng) % 8;
	if (p->pi.has_ports) {
		p->pi.sport = htons(PICK(rng, ports));
		p->pi.dport = htons(test_rand(rng) % 4 ? PICK(rng, ports) : 9999);
	}
}

/* --- tests ---------------------------------------------------------------------------- */

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct spd_mirror m = { fake_set_entry, fake_del_entry, fake_set_tuples, NULL };

	crypto_init(CRYPTO_AUTO);
	f->out_sa = fx_sa_cipher(AEAD_AES128_GCM, 0x1000, false, 0, 0);
	f->in_sa = fx_sa_cipher(AEAD_AES128_GCM, 0x2000, false, 0, 0);
	f->spd = spd_new();
	f->maps = calloc(1, sizeof(*f->maps));
	m.ctx = f->maps;
	spd_set_mirror(f->spd, &m);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	spd_flush(f->spd);
	rcu_barrier();
	spd_free(f->spd);
	assert_true(list_empty(&f->out_sa->sps) && list_empty(&f->in_sa->sps));
	assert_null(atomic_load(&f->in_sa->in_sels));
	sa_free(f->out_sa);
	sa_free(f->in_sa);
	free(f->maps);
	free(f);
	return 0;
}

static struct sp *add_act(struct fixture *f, const char *src, unsigned splen, const char *dst,
			  unsigned dplen, uint8_t proto, int dport, enum sp_dir dir,
			  enum sp_action action)
{
	struct sp_params c = { .proto = proto, .dir = dir, .action = action };
	struct sp *sp;

	addr_parse(src, &c.src.addr);
	addr_parse(dst, &c.dst.addr);
	c.src.plen = (uint8_t)splen;
	c.dst.plen = (uint8_t)dplen;
	c.dst.has_port = dport >= 0;
	c.dst.port = (uint16_t)(dport >= 0 ? dport : 0);
	if (action == SP_IPSEC)
		c.uid = sa_for(f, dir)->uid;
	sp = new_sp(f, &c);
	assert_int_equal(spd_add(f->spd, sp), 0);
	return sp;
}

static struct sp *add(struct fixture *f, const char *src, unsigned splen, const char *dst,
		      unsigned dplen, uint8_t proto, int dport, enum sp_dir dir)
{
	return add_act(f, src, splen, dst, dplen, proto, dport, dir, SP_IPSEC);
}

/* spd_match for a packet (dport < 0: no readable ports), checked against the mirror's
 * lookup; *opaque (may be NULL: then it must come out false) gets spd_match's flag. */
static struct sp *match_op(struct fixture *f, const char *src, const char *dst, uint8_t proto,
			   int dport, bool *opaque)
{
	struct rand_packet p = { 0 };
	struct ip_addr a;
	struct lookup lk;
	struct sp *sp;
	bool op;

	addr_parse(src, &a);
	memcpy(p.src, a.a, 16);
	p.pi.family = a.family;
	addr_parse(dst, &a);
	memcpy(p.dst, a.a, 16);
	p.pi.src = p.src;
	p.pi.dst = p.dst;
	p.pi.proto = proto;
	p.pi.has_ports = dport >= 0;
	p.pi.sport = htons(1234);
	p.pi.dport = htons((uint16_t)(dport >= 0 ? dport : 0));
	sp = spd_match(f->spd, &p.pi, &op);
	lk = fake_lookup(f->maps, &p.pi);
	assert_int_equal(lk.id, sp ? sp->id : 0);
	assert_int_equal(lk.opaque, op);
	if (sp) {
		assert_int_equal(lk.out, sp->dir == SP_DIR_OUT);
		assert_int_equal(lk.act, esper_act[sp->action]);
	}
	if (opaque)
		*opaque = op;
	else
		assert_false(op);
	return sp;
}

static struct sp *match(struct fixture *f, const char *src, const char *dst, uint8_t proto,
			int dport)
{
	return match_op(f, src, dst, proto, dport, NULL);
}

static void test_order(void **state)
{
	struct fixture *f = *state;
	struct sp *wide = add(f, "0.0.0.0", 0, "0.0.0.0", 0, 0, -1, SP_DIR_OUT);
	struct sp *net = add(f, "198.51.100.0", 24, "203.0.113.0", 24, 0, -1, SP_DIR_OUT);
	struct sp *host = add(f, "198.51.100.7", 32, "203.0.113.0", 24, 0, -1, SP_DIR_IN);
	struct sp *dst_longer = add(f, "198.51.100.0", 24, "203.0.113.9", 32, 0, -1, SP_DIR_OUT);
	struct sp *tcp = add(f, "198.51.100.0", 24, "203.0.113.0", 24, 6, -1, SP_DIR_OUT);
	struct sp *http = add(f, "198.51.100.0", 24, "203.0.113.0", 24, 6, 80, SP_DIR_IN);
	bool opaque;

	assert_ptr_equal(match(f, "192.0.2.1", "192.0.2.2", 17, 53), wide);
	assert_ptr_equal(match(f, "198.51.100.1", "203.0.113.1", 17, 53), net);
	assert_ptr_equal(match(f, "198.51.100.1", "203.0.113.1", 6, 22), tcp);
	assert_ptr_equal(match(f, "198.51.100.1", "203.0.113.1", 6, 80), http);
	/* No ports: tcp matches, but http, probed first, might too (its shadow key). */
	assert_ptr_equal(match_op(f, "198.51.100.1", "203.0.113.1", 6, -1, &opaque), tcp);
	assert_true(opaque);
	/* /32 + /24 both sum 56: the longer destination goes first. */
	assert_ptr_equal(match(f, "198.51.100.7", "203.0.113.9", 17, 53), dst_longer);
	assert_ptr_equal(match(f, "198.51.100.7", "203.0.113.8", 17, 53), host);
	assert_null(match(f, "2001:db8::1", "2001:db8::2", 17, 53));
	/* The policies of an SA are linked to it, by direction. */
	assert_ptr_equal(wide->sa, f->out_sa);
	assert_ptr_equal(host->sa, f->in_sa);
	assert_int_equal(f->in_sa->n_in_sps, 2);
	assert_int_equal(atomic_load(&f->in_sa->in_sels)->n, 2);
	assert_null(atomic_load(&f->out_sa->in_sels));
}

static void test_replace_and_remove(void **state)
{
	struct fixture *f = *state;
	struct sp *out1 = add(f, "198.51.100.0", 24, "203.0.113.0", 24, 0, -1, SP_DIR_OUT);
	struct sp *in = add(f, "198.51.100.0", 24, "203.0.113.0", 24, 0, -1, SP_DIR_IN);
	struct sp *out2, *out3;

	assert_ptr_equal(match(f, "198.51.100.1", "203.0.113.1", 17, 53), out1);	/* out wins */
	assert_int_equal(spd_count(f->spd), 2);
	out2 = add(f, "198.51.100.0", 24, "203.0.113.0", 24, 0, -1, SP_DIR_OUT);	/* replaces */
	assert_int_equal(spd_count(f->spd), 2);
	assert_ptr_equal(spd_find_same(f->spd, out2), out2);
	assert_ptr_equal(match(f, "198.51.100.1", "203.0.113.1", 17, 53), out2);
	assert_ptr_equal(spd_first(f->spd), out2);	/* it took the old one's place */
	assert_int_equal(f->maps->n, 1);
	assert_int_equal(f->maps->val[0].out, ESPER_ACT_IPSEC);
	assert_int_equal(f->maps->val[0].in, ESPER_ACT_IPSEC);
	assert_int_equal(f->maps->val[0].out_id, out2->id);
	assert_int_equal(f->maps->val[0].in_id, in->id);
	/* Replaced by a discard: the SA loses the policy. */
	out3 = add_act(f, "198.51.100.0", 24, "203.0.113.0", 24, 0, -1, SP_DIR_OUT, SP_DISCARD);
	assert_int_equal(spd_count(f->spd), 2);
	assert_ptr_equal(match(f, "198.51.100.1", "203.0.113.1", 17, 53), out3);
	assert_null(out3->sa);
	assert_true(list_empty(&f->out_sa->sps));
	assert_int_equal(f->out_sa->n_tunnel_sps + f->out_sa->n_transport_sps, 0);
	assert_int_equal(f->maps->n, 1);
	assert_int_equal(f->maps->val[0].out, ESPER_ACT_DISCARD);
	assert_int_equal(f->maps->val[0].out_id, out3->id);
	spd_remove(f->spd, out3);
	assert_ptr_equal(match(f, "198.51.100.1", "203.0.113.1", 17, 53), in);
	assert_int_equal(f->maps->val[0].out, ESPER_ACT_NONE);
	assert_int_equal(f->maps->val[0].in, ESPER_ACT_IPSEC);
	assert_int_equal(f->maps->val[0].out_id, 0);
	spd_remove(f->spd, in);
	assert_null(match(f, "198.51.100.1", "203.0.113.1", 17, 53));
	assert_int_equal(f->maps->n, 0);
	assert_int_equal(f->maps->lists[0].count, 0);
	assert_int_equal(spd_count(f->spd), 0);
	assert_true(list_empty(&f->out_sa->sps) && list_empty(&f->in_sa->sps));
	assert_int_equal(f->in_sa->n_in_sps, 0);
	assert_null(atomic_load(&f->in_sa->in_sels));
}

/* The keys of the mirror with ESPER_K_SHADOW. */
static unsigned map_shadows(const struct fake_maps *m)
{
	unsigned n = 0;

	for (unsigned i = 0; i < m->n; i++) {
		if (m->key[i].flags & ESPER_K_SHADOW) {
			assert_true(val_zero(&m->val[i]));
			n++;
		}
	}
	return n;
}

/* Is sp's shadow key (ports zeroed; noproto: the protocol too) in the mirror? */
static bool has_shadow(struct fixture *f, const struct sp *sp, bool noproto)
{
	struct esper_spd_key k = sp->key;

	k.flags |= ESPER_K_SHADOW | (noproto ? ESPER_K_NOPROTO : 0);
	k.sport = k.dport = 0;
	if (noproto)
		k.proto = 0;
	return fake_find(f->maps, &k) >= 0;
}

/*
 * Failing closed: a policy that protects or discards and needs ports or a protocol leaves
 * shadow keys (refcounted: policies sharing one keep it until the last goes); a packet
 * whose ports or protocol can't be read that hits one ahead of its first real match is
 * opaque. A bypass leaves none, and a shadow behind the first match doesn't count.
 */
static void test_shadows(void **state)
{
	struct fixture *f = *state;
	const char *s = "198.51.100.0", *d = "203.0.113.0";
	struct sp *tcp80 = add_act(f, s, 24, d, 24, 6, 80, SP_DIR_OUT, SP_IPSEC);
	struct sp *tcp443, *dns, *icmp, *wide, *host, *v6;
	bool opaque;

	assert_int_equal(f->maps->n, 3);	/* the key, without ports, without protocol */
	assert_int_equal(map_shadows(f->maps), 2);
	assert_true(has_shadow(f, tcp80, false) && has_shadow(f, tcp80, true));
	tcp443 = add_act(f, s, 24, d, 24, 6, 443, SP_DIR_OUT, SP_DISCARD);
	assert_int_equal(f->maps->n, 4);	/* the same two shadows */
	dns = add_act(f, s, 24, d, 24, 17, 53, SP_DIR_IN, SP_BYPASS);
	assert_int_equal(f->maps->n, 5);	/* a bypass: none */
	icmp = add_act(f, s, 24, d, 24, 1, -1, SP_DIR_IN, SP_DISCARD);
	assert_int_equal(f->maps->n, 7);	/* a shadow without its protocol */
	assert_true(has_shadow(f, icmp, true));
	wide = add(f, "0.0.0.0", 0, "0.0.0.0", 0, 0, -1, SP_DIR_OUT);
	assert_int_equal(f->maps->n, 8);
	assert_int_equal(map_shadows(f->maps), 3);

	assert_ptr_equal(match(f, "198.51.100.1", "203.0.113.1", 6, 80), tcp80);
	assert_ptr_equal(match(f, "198.51.100.1", "203.0.113.1", 6, 443), tcp443);
	assert_ptr_equal(match(f, "198.51.100.1", "203.0.113.1", 6, 22), wide);
	assert_ptr_equal(match(f, "198.51.100.1", "203.0.113.1", 17, 53), dns);
	assert_ptr_equal(match(f, "198.51.100.1", "203.0.113.1", 1, -1), icmp);
	/* TCP without ports: tcp80 or tcp443 might match. */
	assert_ptr_equal(match_op(f, "198.51.100.1", "203.0.113.1", 6, -1, &opaque), wide);
	assert_true(opaque);
	/* UDP without ports: only a bypass needs them. */
	assert_ptr_equal(match(f, "198.51.100.1", "203.0.113.1", 17, -1), wide);
	/* The protocol unknown: any of the protocol policies might. */
	assert_ptr_equal(match_op(f, "198.51.100.1", "203.0.113.1", PKT_PROTO_UNKNOWN, -1,
				  &opaque), wide);
	assert_true(opaque);
	/* Other addresses: no shadow of theirs. */
	assert_ptr_equal(match(f, "192.0.2.1", "192.0.2.2", 6, -1), wide);
	assert_ptr_equal(match(f, "192.0.2.1", "192.0.2.2", PKT_PROTO_UNKNOWN, -1), wide);

	/* A real match ahead of every shadow: not opaque. */
	host = add_act(f, "198.51.100.1", 32, "203.0.113.1", 32, 0, -1, SP_DIR_IN, SP_DISCARD);
	assert_int_equal(f->maps->n, 9);
	assert_ptr_equal(match(f, "198.51.100.1", "203.0.113.1", 6, -1), host);
	assert_ptr_equal(match(f, "198.51.100.1", "203.0.113.1", PKT_PROTO_UNKNOWN, -1), host);
	assert_ptr_equal(match_op(f, "198.51.100.2", "203.0.113.1", 6, -1, &opaque), wide);
	assert_true(opaque);

	/* Shadows go with the last policy that leaves them. */
	spd_remove(f->spd, tcp80);
	assert_int_equal(f->maps->n, 8);
	assert_ptr_equal(match_op(f, "198.51.100.2", "203.0.113.1", 6, -1, &opaque), wide);
	assert_true(opaque);
	spd_remove(f->spd, tcp443);
	assert_int_equal(f->maps->n, 5);
	assert_int_equal(map_shadows(f->maps), 1);
	assert_ptr_equal(match(f, "198.51.100.2", "203.0.113.1", 6, -1), wide);
	assert_ptr_equal(match_op(f, "198.51.100.2", "203.0.113.1", PKT_PROTO_UNKNOWN, -1,
				  &opaque), wide);
	assert_true(opaque);	/* icmp might match */

	/* Replacing a discard by a bypass drops its shadow; the other way round adds them. */
	icmp = add_act(f, s, 24, d, 24, 1, -1, SP_DIR_IN, SP_BYPASS);
	assert_int_equal(f->maps->n, 4);
	assert_int_equal(map_shadows(f->maps), 0);
	assert_ptr_equal(match(f, "198.51.100.2", "203.0.113.1", PKT_PROTO_UNKNOWN, -1), wide);
	assert_ptr_equal(match(f, "198.51.100.2", "203.0.113.1", 17, -1), wide);
	dns = add_act(f, s, 24, d, 24, 17, 53, SP_DIR_IN, SP_DISCARD);
	assert_int_equal(f->maps->n, 6);
	assert_true(has_shadow(f, dns, false) && has_shadow(f, dns, true));
	assert_ptr_equal(match_op(f, "198.51.100.2", "203.0.113.1", 17, -1, &opaque), wide);
	assert_true(opaque);

	/* IPv6: a chain the parser gave up on (protocol unknown), TCP without ports. */
	v6 = add_act(f, "2001:db8:1::", 48, "2001:db8:2::", 48, 6, 443, SP_DIR_IN, SP_IPSEC);
	assert_null(match(f, "2001:db8:1::7", "2001:db8:2::9", 17, -1));
	assert_null(match_op(f, "2001:db8:1::7", "2001:db8:2::9", PKT_PROTO_UNKNOWN, -1, &opaque));
	assert_true(opaque);
	assert_null(match_op(f, "2001:db8:1::7", "2001:db8:2::9", 6, -1, &opaque));
	assert_true(opaque);
	assert_ptr_equal(match(f, "2001:db8:1::7", "2001:db8:2::9", 6, 443), v6);
	assert_null(match(f, "2001:db8:3::7", "2001:db8:2::9", 6, -1));
	(void)icmp;
}

/* A mirror that fails leaves both sides as they were: for a policy without ports (its
 * entry, then the tuple list) and for one with (its two shadow keys first). */
static void test_mirror_failure(void **state)
{
	struct fixture *f = *state;
	struct sp_params c = { .uid = f->out_sa->uid, .dir = SP_DIR_OUT, .action = SP_IPSEC };
	struct sp *sp;

	addr_parse("198.51.100.0", &c.src.addr);
	addr_parse("203.0.113.0", &c.dst.addr);
	c.src.plen = c.dst.plen = 24;
	for (int ports = 0; ports < 2; ports++) {
		unsigned calls = ports ? 4 : 2;

		if (ports) {
			c.proto = 6;
			c.dst.has_port = true;
			c.dst.port = 80;
			c.action = SP_DISCARD;
			c.uid = 0;
		}
		for (unsigned fail = 1; fail <= calls; fail++) {
			sp = new_sp(f, &c);
			f->maps->fail_after = fail;
			assert_int_equal(spd_add(f->spd, sp), -ENOMEM);
			sp_free(sp);
			assert_int_equal(spd_count(f->spd), 0);
			assert_int_equal(f->maps->n, 0);
			assert_int_equal(f->maps->lists[0].count, 0);
			assert_null(match(f, "198.51.100.1", "203.0.113.1", 6, 80));
			assert_null(match(f, "198.51.100.1", "203.0.113.1", 6, -1));
			assert_true(list_empty(&f->out_sa->sps));
		}
		/* one more call succeeds */
		sp = new_sp(f, &c);
		f->maps->fail_after = calls + 1;
		assert_int_equal(spd_add(f->spd, sp), 0);
		f->maps->fail_after = 0;
		assert_int_equal(f->maps->n, ports ? 3 : 1);
		assert_ptr_equal(match(f, "198.51.100.1", "203.0.113.1", 6, 80), sp);
		spd_remove(f->spd, sp);
		assert_int_equal(f->maps->n, 0);
	}
	f->maps->fail_after = 0;
}

/* The SAs' inbound selectors are those of the live inbound ipsec policies naming them;
 * their policy lists hold exactly the live ipsec policies of their direction. */
static void check_sas(const struct fixture *f, struct sp *const *live, unsigned nlive)
{
	const struct sa_sels *sels = atomic_load(&f->in_sa->in_sels);
	unsigned n_in = 0, n_out = 0, linked;
	const struct sp *sp;

	for (unsigned i = 0; i < nlive; i++) {
		const struct sp *l = live[i];

		if (l->action != SP_IPSEC) {
			assert_null(l->sa);
			continue;
		}
		assert_ptr_equal(l->sa, sa_for(f, l->dir));
		if (l->dir == SP_DIR_OUT) {
			n_out++;
			continue;
		}
		n_in++;
		assert_non_null(sels);
		for (unsigned j = 0;; j++) {
			const struct sa_sel *e;

			assert_true(j < sels->n);	/* its selectors are there */
			e = &sels->sel[j];
			if (e->family == sp_params(l).src.addr.family && e->proto == sp_params(l).proto &&
			    e->src_plen == l->key.src_plen && e->dst_plen == l->key.dst_plen &&
			    e->sport == l->key.sport && e->dport == l->key.dport &&
			    !memcmp(e->src, l->key.src, 16) && !memcmp(e->dst, l->key.dst, 16))
				break;
		}
	}
	assert_int_equal(sels ? sels->n : 0, n_in);
	assert_int_equal(f->in_sa->n_in_sps, n_in);
	assert_null(atomic_load(&f->out_sa->in_sels));
	assert_int_equal(f->out_sa->n_in_sps, 0);
	linked = 0;
	list_for_each(sp, &f->in_sa->sps, sa_node)
		linked++;
	assert_int_equal(linked, n_in);
	linked = 0;
	list_for_each(sp, &f->out_sa->sps, sa_node)
		linked++;
	assert_int_equal(linked, n_out);
}

static void test_differential(void **state)
{
	struct fixture *f = *state;
	uint64_t rng = 0x5eed5eedULL;
	static struct sp *live[3000];
	unsigned nlive = 0, checked = 0, hits = 0, opaques = 0, acts[3] = { 0 };

	for (int round = 0; round < 30; round++) {
		/* Add and replace, then remove some. */
		for (int i = 0; i < 100; i++) {
			struct sp_params c = rand_policy(&rng, f);
			struct sp *sp = new_sp(f, &c), *old = spd_find_same(f->spd, sp);
			int err = spd_add(f->spd, sp);

			if (err == -ENOSPC) {	/* tuple space full: fine, nothing changed */
				sp_free(sp);
				continue;
			}
			assert_int_equal(err, 0);
			if (!old) {
				live[nlive++] = sp;
				continue;
			}
			for (unsigned j = 0; j < nlive; j++)
				if (live[j] == old)
					live[j] = sp;
		}
		for (int i = 0; i < 30 && nlive; i++) {
			unsigned j = (unsigned)(test_rand(&rng) % nlive);

			spd_remove(f->spd, live[j]);
			live[j] = live[--nlive];
		}
		rcu_reclaim();
		assert_int_equal(spd_count(f->spd), nlive);
		check_sas(f, live, nlive);
		for (int i = 0; i < 2000; i++) {
			struct rand_packet p;
			const struct sp *want, *got;
			bool want_opaque, got_opaque;
			struct lookup lk;

			rand_packet(&rng, &p);
			want = naive_match(f->spd, &p.pi, &want_opaque);
			got = spd_match(f->spd, &p.pi, &got_opaque);
			lk = fake_lookup(f->maps, &p.pi);
			if (want != got || want_opaque != got_opaque)
				fail_msg("round %d packet %d: spd_match %u%s, naive %u%s", round, i,
					 got ? got->id : 0, got_opaque ? " (opaque)" : "",
					 want ? want->id : 0, want_opaque ? " (opaque)" : "");
			assert_int_equal(lk.id, want ? want->id : 0);
			assert_int_equal(lk.opaque, want_opaque);
			if (want) {
				assert_int_equal(lk.out, want->dir == SP_DIR_OUT);
				assert_int_equal(want->action, sp_params(want).action);
				assert_int_equal(lk.act, esper_act[want->action]);
				acts[want->action]++;
			}
			checked++;
			hits += want != NULL;
			opaques += want_opaque;
		}
	}
	printf("differential: %u packets, %u matched a policy (ipsec %u, discard %u, none %u), "
	       "%u opaque, %u policies at the end\n", checked, hits, acts[SP_IPSEC],
	       acts[SP_DISCARD], acts[SP_BYPASS], opaques, nlive);
	/* The test exercises matches and misses alike, every action, opaque packets. */
	assert_true(hits > checked / 10 && hits < checked - checked / 10);
	for (int a = 0; a < 3; a++)
		assert_true(acts[a] > hits / 20);
	assert_true(opaques > checked / 50 && opaques < checked / 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_and_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shadows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mirror_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_differential, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
