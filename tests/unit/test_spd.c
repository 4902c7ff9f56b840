// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_spd.c - the SPD (spd.c): the documented order (most specific first) on hand-made
 * cases; replacement of a policy with the same selectors and direction; removal; and a
 * randomized differential test (fixed seed) against a deliberately naive linear scan over
 * the policies sorted by that order, which also checks the mirror (what the XDP program
 * would see in its maps) gives the same answer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>

#include "esp_fixture.h"
#include "lib/rcu.h"
#include "tables/spd.h"

/* --- a mirror that models the BPF maps -------------------------------------------------- */

#define MIRROR_MAX 20000

struct fake_maps {
	struct esper_spd_key key[MIRROR_MAX];
	struct esper_spd_val val[MIRROR_MAX];
	unsigned n;
	struct esper_tuple_list lists[2];
	unsigned fail_after;	/* fail the n-th call from now (0: never) */
};

static int fake_fail(struct fake_maps *m)
{
	return m->fail_after && --m->fail_after == 0 ? -ENOMEM : 0;
}

static int fake_find(struct fake_maps *m, const struct esper_spd_key *k)
{
	for (unsigned i = 0; i < m->n; i++)
		if (!memcmp(&m->key[i], k, sizeof(*k)))
			return (int)i;
	return -1;
}

static int fake_set_entry(void *ctx, const struct esper_spd_key *k, const struct esper_spd_val *v)
{
	struct fake_maps *m = ctx;
	int i = fake_find(m, k);

	if (fake_fail(m))
		return -ENOMEM;
	if (i < 0) {
		assert_true(m->n < MIRROR_MAX);
		i = (int)m->n++;
		m->key[i] = *k;
	}
	m->val[i] = *v;
	return 0;
}

static int fake_del_entry(void *ctx, const struct esper_spd_key *k)
{
	struct fake_maps *m = ctx;
	int i = fake_find(m, k);

	if (i < 0)
		return -ENOENT;
	m->key[i] = m->key[m->n - 1];
	m->val[i] = m->val[m->n - 1];
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

/* What the XDP program does with those maps: the policy id it would act on, or 0. */
static uint32_t fake_lookup(struct fake_maps *m, const struct pkt_info *pi, bool *out)
{
	const struct esper_tuple_list *l = &m->lists[pi->family == AF_INET6];

	for (unsigned t = 0; t < l->count; t++) {
		struct esper_spd_key k;
		int i;

		if (!spd_packet_key(pi, &l->t[t], &k) || (i = fake_find(m, &k)) < 0)
			continue;
		*out = m->val[i].flags & ESPER_SPD_OUT;
		return *out ? m->val[i].out_id : m->val[i].in_id;
	}
	return 0;
}

/* --- the naive reference ----------------------------------------------------------------- */

static bool prefix_match(const uint8_t *a, const uint8_t *net, unsigned plen)
{
	for (unsigned i = 0; i < plen; i++)
		if (((a[i / 8] ^ net[i / 8]) >> (7 - i % 8)) & 1)
			return false;
	return true;
}

static bool naive_matches(const struct sp *sp, const struct pkt_info *pi)
{
	const struct cmd_spdadd *c = &sp->conf;

	if (c->src.addr.family != pi->family || !prefix_match(pi->src, c->src.addr.a, c->src.plen) ||
	    !prefix_match(pi->dst, c->dst.addr.a, c->dst.plen))
		return false;
	if (c->proto != SP_PROTO_ANY && c->proto != pi->proto)
		return false;
	if ((c->src.has_port || c->dst.has_port) && !pi->has_ports)
		return false;
	if (c->src.has_port && htons(c->src.port) != pi->sport)
		return false;
	return !c->dst.has_port || htons(c->dst.port) == pi->dport;
}

static int naive_cmp(const struct sp *a, const struct sp *b)
{
	struct esper_tuple ta = { a->key.src_plen, a->key.dst_plen, a->key.flags, 0 };
	struct esper_tuple tb = { b->key.src_plen, b->key.dst_plen, b->key.flags, 0 };
	int c = spd_tuple_cmp(&ta, &tb);

	return c ? c : (int)a->conf.dir - (int)b->conf.dir;	/* out first */
}

static const struct sp *naive_match(const struct spd *spd, const struct pkt_info *pi)
{
	const struct sp *best = NULL;

	for (const struct sp *sp = spd_first(spd); sp; sp = sp->next)
		if (naive_matches(sp, pi) && (!best || naive_cmp(sp, best) < 0))
			best = sp;
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

static void rand_sel(uint64_t *rng, int family, struct cmd_sel *s, bool ports_ok)
{
	rand_addr(rng, family, &s->addr);
	s->plen = family == AF_INET ? PICK(rng, plens4) : PICK(rng, plens6);
	addr_mask(s->addr.a, 16, s->plen);
	s->has_port = ports_ok && test_rand(rng) % 2;
	s->port = s->has_port ? PICK(rng, ports) : 0;
}

static struct cmd_spdadd rand_policy(uint64_t *rng, uint32_t uid)
{
	int family = test_rand(rng) % 3 ? AF_INET : AF_INET6;
	struct cmd_spdadd c = { .uid = uid, .mode = SP_MODE_TRANSPORT };
	bool ports_ok;

	do
		c.proto = PICK(rng, protos);
	while ((c.proto == 1 && family == AF_INET6) || (c.proto == 58 && family == AF_INET));
	ports_ok = c.proto == 6 || c.proto == 17;
	rand_sel(rng, family, &c.src, ports_ok);
	rand_sel(rng, family, &c.dst, ports_ok);
	c.dir = test_rand(rng) % 3 ? SP_DIR_OUT : SP_DIR_IN;
	return c;
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

struct fixture {
	struct sa *sa;
	struct spd *spd;
	struct fake_maps *maps;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct spd_mirror m = { fake_set_entry, fake_del_entry, fake_set_tuples, NULL };

	crypto_init(CRYPTO_AUTO);
	f->sa = fx_sa_cipher(AEAD_AES128_GCM, 0x1000, false, 0, 0);
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
	sa_free(f->sa);
	free(f->maps);
	free(f);
	return 0;
}

static struct sp *add(struct fixture *f, const char *src, unsigned splen, const char *dst,
		      unsigned dplen, uint8_t proto, int dport, enum sp_dir dir)
{
	struct cmd_spdadd c = { .uid = f->sa->uid, .proto = proto, .dir = dir };
	struct sp *sp;

	addr_parse(src, &c.src.addr);
	addr_parse(dst, &c.dst.addr);
	c.src.plen = (uint8_t)splen;
	c.dst.plen = (uint8_t)dplen;
	c.dst.has_port = dport >= 0;
	c.dst.port = (uint16_t)(dport >= 0 ? dport : 0);
	sp = sp_new(&c, f->sa);
	assert_int_equal(spd_add(f->spd, sp), 0);
	return sp;
}

static struct sp *match(struct fixture *f, const char *src, const char *dst, uint8_t proto,
			int dport)
{
	struct rand_packet p = { 0 };
	struct ip_addr a;

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
	return spd_match(f->spd, &p.pi);
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

	assert_ptr_equal(match(f, "192.0.2.1", "192.0.2.2", 17, 53), wide);
	assert_ptr_equal(match(f, "198.51.100.1", "203.0.113.1", 17, 53), net);
	assert_ptr_equal(match(f, "198.51.100.1", "203.0.113.1", 6, 22), tcp);
	assert_ptr_equal(match(f, "198.51.100.1", "203.0.113.1", 6, 80), http);
	assert_ptr_equal(match(f, "198.51.100.1", "203.0.113.1", 6, -1), tcp);	/* no ports */
	/* /32 + /24 both sum 56: the longer destination goes first. */
	assert_ptr_equal(match(f, "198.51.100.7", "203.0.113.9", 17, 53), dst_longer);
	assert_ptr_equal(match(f, "198.51.100.7", "203.0.113.8", 17, 53), host);
	assert_null(match(f, "2001:db8::1", "2001:db8::2", 17, 53));
}

static void test_replace_and_remove(void **state)
{
	struct fixture *f = *state;
	struct sp *out1 = add(f, "198.51.100.0", 24, "203.0.113.0", 24, 0, -1, SP_DIR_OUT);
	struct sp *in = add(f, "198.51.100.0", 24, "203.0.113.0", 24, 0, -1, SP_DIR_IN);
	struct sp *out2;

	assert_ptr_equal(match(f, "198.51.100.1", "203.0.113.1", 17, 53), out1);	/* out wins */
	assert_int_equal(spd_count(f->spd), 2);
	out2 = add(f, "198.51.100.0", 24, "203.0.113.0", 24, 0, -1, SP_DIR_OUT);	/* replaces */
	assert_int_equal(spd_count(f->spd), 2);
	assert_ptr_equal(spd_find_same(f->spd, out2), out2);
	assert_ptr_equal(match(f, "198.51.100.1", "203.0.113.1", 17, 53), out2);
	assert_ptr_equal(spd_first(f->spd), out2);	/* it took the old one's place */
	assert_int_equal(f->maps->n, 1);
	assert_int_equal(f->maps->val[0].out_id, out2->id);
	assert_int_equal(f->maps->val[0].in_id, in->id);
	spd_remove(f->spd, out2);
	assert_ptr_equal(match(f, "198.51.100.1", "203.0.113.1", 17, 53), in);
	assert_int_equal(f->maps->val[0].flags, ESPER_SPD_IN);
	spd_remove(f->spd, in);
	assert_null(match(f, "198.51.100.1", "203.0.113.1", 17, 53));
	assert_int_equal(f->maps->n, 0);
	assert_int_equal(f->maps->lists[0].count, 0);
	assert_int_equal(spd_count(f->spd), 0);
	assert_null(f->sa->sps);
}

/* A mirror that fails leaves both sides as they were. */
static void test_mirror_failure(void **state)
{
	struct fixture *f = *state;
	struct cmd_spdadd c = { .uid = f->sa->uid, .dir = SP_DIR_OUT };
	struct sp *sp;

	addr_parse("198.51.100.0", &c.src.addr);
	addr_parse("203.0.113.0", &c.dst.addr);
	c.src.plen = c.dst.plen = 24;
	for (unsigned fail = 1; fail <= 2; fail++) {
		sp = sp_new(&c, f->sa);
		f->maps->fail_after = fail;	/* the entry, then the tuple list */
		assert_int_equal(spd_add(f->spd, sp), -ENOMEM);
		sp_free(sp);
		assert_int_equal(spd_count(f->spd), 0);
		assert_int_equal(f->maps->n, 0);
		assert_int_equal(f->maps->lists[0].count, 0);
		assert_null(match(f, "198.51.100.1", "203.0.113.1", 17, 53));
	}
	f->maps->fail_after = 0;
}

static void test_differential(void **state)
{
	struct fixture *f = *state;
	uint64_t rng = 0x5eed5eedULL;
	static struct sp *live[3000];
	unsigned nlive = 0, checked = 0, hits = 0;

	for (int round = 0; round < 30; round++) {
		/* Add and replace, then remove some. */
		for (int i = 0; i < 100; i++) {
			struct cmd_spdadd c = rand_policy(&rng, f->sa->uid);
			struct sp *sp = sp_new(&c, f->sa), *old = spd_find_same(f->spd, sp);
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
		for (int i = 0; i < 2000; i++) {
			struct rand_packet p;
			const struct sp *want, *got;
			bool out = false;
			uint32_t id;

			rand_packet(&rng, &p);
			want = naive_match(f->spd, &p.pi);
			got = spd_match(f->spd, &p.pi);
			id = fake_lookup(f->maps, &p.pi, &out);
			if (want != got)
				fail_msg("round %d packet %d: spd_match %u, naive %u", round, i,
					 got ? got->id : 0, want ? want->id : 0);
			assert_int_equal(id, want ? want->id : 0);
			if (want)
				assert_int_equal(out, want->conf.dir == SP_DIR_OUT);
			checked++;
			hits += want != NULL;
		}
	}
	printf("differential: %u packets, %u matched a policy, %u policies at the end\n", checked,
	       hits, nlive);
	/* The test exercises matches and misses alike. */
	assert_true(hits > checked / 10 && hits < checked - checked / 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_and_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mirror_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_differential, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
