/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdp_harness.h - drives bpf/esper.bpf.c without a NIC, for tests/bpf and tests/bench:
 * the selectors the XDP parser must see in a frame tests/lib/pktbuild.h builds (hx_pkt_sel), SPD/SA/local-address/XSK map fillers, a naive reference of the
 * whole XDP decision (hx_expect: inbound ESP by SPI and outer addresses, then a linear scan
 * over the policies sorted in the order of esper_abi.h, with the actions and the fail-closed
 * rule for opaque packets) and a verdict reader around BPF_PROG_TEST_RUN: action, the
 * counter that moved, the metadata in front of the frame. The reference is written from
 * esper_abi.h, independently of user/tables/spd.c and user/datapath/classify.c.
 * No cmocka here: functions return 0 or -errno and callers assert.
 *
 * Under BPF_PROG_TEST_RUN (no live frames) a redirect is not performed: the program's
 * return value comes back as is. bpf_redirect_map() into an XSKMAP slot without a socket
 * returns the fallback action, so to observe XDP_REDIRECT the harness binds a real AF_XDP
 * socket (copy mode) to lo queue 0, the default ingress of test runs, and puts it in the
 * slot (hx_xsk_open), in a private network namespace (hx_open). The metadata comes back in
 * data_out: test_run copies from data_meta, and ctx_out.data is the metadata length;
 * hx_run_meta puts metadata in front of the frame first, to leave bpf_xdp_adjust_meta no
 * room. The reference does not model ESPER_CFG_RPF (the kernel's FIB) nor a missing XSK.
 */
#ifndef ESPER_XDP_HARNESS_H
#define ESPER_XDP_HARNESS_H

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>

#include <linux/if_xdp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/xsk.h>

#include "esper_abi.h"
#include "control/bpf_load.h"
#include "lib/log.h"
#include "../lib/pktbuild.h"

_Static_assert(ESPER_AF_INET == PB_IPV4 && ESPER_AF_INET6 == PB_IPV6, "pb_pkt families");

#define HX_FRAME_MAX	2048
#define HX_META_MAX	252	/* metadata test_run accepts in front of a frame (u8, aligned) */

/* A policy's direction (the actions are ESPER_ACT_IPSEC, _DISCARD, _BYPASS). */
enum hx_dir { HX_OUT = 1, HX_IN = 2 };

/* The selectors the XDP parser must extract from a built frame. */
struct hx_sel {
	uint8_t family;
	uint8_t proto;			/* 255 if the IPv6 walk gives up */
	uint8_t has_ports;
	uint8_t nonfirst;
	uint8_t fragment;		/* any fragment, first or not */
	uint8_t esp_hdr;		/* ESP with its 8-byte header in the packet */
	uint8_t src[16], dst[16];
	uint16_t sport, dport;		/* host order */
	uint32_t spi;			/* if esp_hdr */
};

/* A policy as the tests see it. Addresses need not be masked. */
struct hx_policy {
	uint8_t family;
	uint8_t src_plen, dst_plen;
	uint8_t flags;			/* ESPER_T_* */
	uint8_t proto;
	uint8_t dir;			/* HX_OUT or HX_IN */
	uint8_t action;			/* ESPER_ACT_IPSEC, ESPER_ACT_DISCARD or ESPER_ACT_BYPASS */
	uint16_t sport, dport;		/* host order */
	uint8_t src[16], dst[16];
	uint32_t id;
};

/* An SA that may decrypt, as sa_in holds it. */
struct hx_sa {
	uint32_t spi;			/* host order */
	uint32_t uid;
	uint8_t family;
	uint8_t src[16], dst[16];	/* outer addresses, IPv4 in the first 4 bytes */
};

/* Everything the reference decides by: policies sorted by hx_ref_sort, the SAs in sa_in,
 * the addresses in local_addrs and the config (ESPER_CFG_RPF is not modeled). */
struct hx_world {
	const struct hx_policy *p;
	size_t n;
	const struct hx_sa *sa;
	size_t nsa;
	const struct esper_addr_key *local;
	size_t nlocal;
	uint32_t cfg;
};

struct hx_verdict {
	int action;			/* XDP_* */
	int counter;			/* the one counter that moved, -1 if none or several */
	bool has_meta;
	struct esper_meta meta;		/* the 12 bytes right in front of the frame */
	struct esper_meta meta_front;	/* the first 12 bytes of the metadata area */
	uint32_t meta_len;		/* metadata in front of the frame after the run */
};

struct hx {
	struct bpf_load *bl;
	struct bpf_load_fds fds;
	int prog_fd;
	int lo_ifindex;
	/* AF_XDP socket on lo queue 0, so redirects succeed under test_run */
	void *umem_area;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp, rx;
	struct xsk_ring_prod tx;
};

/* The selectors esper.bpf.c must extract from pb_frame(p) (the rules of esper_abi.h and
 * bpf/parse.h, written independently). */
static inline void hx_pkt_sel(const struct pb_pkt *p, struct hx_sel *s)
{
	size_t l4 = pb_l4_len(p);

	memset(s, 0, sizeof(*s));
	s->family = p->family;
	memcpy(s->src, p->src, p->family == ESPER_AF_INET6 ? 16 : 4);
	memcpy(s->dst, p->dst, p->family == ESPER_AF_INET6 ? 16 : 4);
	s->proto = p->proto;
	if (p->family == ESPER_AF_INET) {
		s->nonfirst = p->frag == PB_FRAG_NONFIRST;
		s->fragment = p->frag != PB_FRAG_NONE;
	}
	for (int i = 0; p->family == ESPER_AF_INET6 && i < p->next; i++) {
		if (i >= ESPER_MAX_IPV6_EXT) {
			s->proto = 255;
			return;
		}
		if (p->ext[i] == 44)	/* M=1 offset 0 unless PB_FRAG_NONFIRST: a fragment */
			s->fragment = 1;
		if (p->ext[i] == 44 && p->frag == PB_FRAG_NONFIRST) {
			/* what follows is payload: an extension header named there hides the
			 * upper layer (unknown, 255) */
			s->nonfirst = 1;
			s->proto = i + 1 < p->next ? 255 : p->proto;
			return;
		}
	}
	if ((s->proto == 6 || s->proto == 17) && !s->nonfirst && l4 >= 4) {
		s->has_ports = 1;
		s->sport = p->sport;
		s->dport = p->dport;
	}
	if (s->proto == 50 && l4 >= 8) {
		s->esp_hdr = 1;
		s->spi = p->spi;
	}
}

/* Can't all of the selectors be read (esper_abi.h, "failing closed")? */
static inline bool hx_sel_opaque(const struct hx_sel *s)
{
	return s->proto == 255 || ((s->proto == 6 || s->proto == 17) && !s->has_ports);
}

/* --- policies: tuple order, keys, reference matcher ---------------------------------------- */

static inline struct esper_tuple hx_tuple(const struct hx_policy *p)
{
	return (struct esper_tuple){ .src_plen = p->src_plen, .dst_plen = p->dst_plen,
				     .flags = p->flags };
}

/* The order of esper_abi.h: < 0 if a is probed before b. */
static inline int hx_tuple_cmp(const struct esper_tuple *a, const struct esper_tuple *b)
{
	int d;

	d = (b->src_plen + b->dst_plen) - (a->src_plen + a->dst_plen);
	if (d)
		return d;
	d = b->dst_plen - a->dst_plen;
	if (d)
		return d;
	d = (b->flags & ESPER_T_PROTO) - (a->flags & ESPER_T_PROTO);
	if (d)
		return d;
	d = (b->flags & ESPER_T_DPORT) - (a->flags & ESPER_T_DPORT);
	if (d)
		return d;
	return (b->flags & ESPER_T_SPORT) - (a->flags & ESPER_T_SPORT);
}

static inline void hx_mask(uint8_t *dst, const uint8_t *src, unsigned plen)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = plen > i * 8 ? plen - i * 8 : 0;

		dst[i] = bits >= 8 ? src[i] : bits ? src[i] & (uint8_t)(0xff << (8 - bits)) : 0;
	}
}

static inline void hx_policy_key(const struct hx_policy *p, struct esper_spd_key *k)
{
	uint8_t a[16] = { 0 };

	memset(k, 0, sizeof(*k));
	k->family = p->family;
	k->src_plen = p->src_plen;
	k->dst_plen = p->dst_plen;
	k->flags = p->flags;
	k->proto = p->flags & ESPER_T_PROTO ? p->proto : 0;
	k->sport = p->flags & ESPER_T_SPORT ? htons(p->sport) : 0;
	k->dport = p->flags & ESPER_T_DPORT ? htons(p->dport) : 0;
	memcpy(a, p->src, p->family == ESPER_AF_INET6 ? 16 : 4);
	hx_mask(k->src, a, p->src_plen);
	memset(a, 0, sizeof(a));
	memcpy(a, p->dst, p->family == ESPER_AF_INET6 ? 16 : 4);
	hx_mask(k->dst, a, p->dst_plen);
}

/* The shadow keys a policy leaves in the map (esper_abi.h): none for a bypass; for ports,
 * its key with the ports zeroed and ESPER_K_SHADOW; for a protocol, its key with ports and
 * protocol zeroed and ESPER_K_SHADOW | ESPER_K_NOPROTO. Returns how many (0..2). */
static inline unsigned hx_shadow_keys(const struct hx_policy *p, struct esper_spd_key k[2])
{
	unsigned n = 0;

	if (p->action == ESPER_ACT_BYPASS)
		return 0;
	if (p->flags & (ESPER_T_SPORT | ESPER_T_DPORT)) {
		hx_policy_key(p, &k[n]);
		k[n].sport = k[n].dport = 0;
		k[n++].flags |= ESPER_K_SHADOW;
	}
	if (p->flags & ESPER_T_PROTO) {
		hx_policy_key(p, &k[n]);
		k[n].sport = k[n].dport = k[n].proto = 0;
		k[n++].flags |= ESPER_K_SHADOW | ESPER_K_NOPROTO;
	}
	return n;
}

/* Prefix match bit by bit, deliberately unlike the masking above. */
static inline bool hx_prefix_eq(const uint8_t *a, const uint8_t *b, unsigned plen)
{
	for (unsigned i = 0; i < plen; i++) {
		unsigned m = 0x80 >> (i % 8);

		if ((a[i / 8] & m) != (b[i / 8] & m))
			return false;
	}
	return true;
}

/* Does p need a selector s can't give: ports it has none of, a protocol it can't tell? */
static inline bool hx_policy_lacks(const struct hx_policy *p, const struct hx_sel *s)
{
	return ((p->flags & (ESPER_T_SPORT | ESPER_T_DPORT)) && !s->has_ports) ||
	       ((p->flags & ESPER_T_PROTO) && s->proto == 255);
}

/* Does p match s on what can be read of s (the addresses; the protocol unless unknown)? */
static inline bool hx_policy_might_match(const struct hx_policy *p, const struct hx_sel *s)
{
	if (p->family != s->family)
		return false;
	if (!hx_prefix_eq(p->src, s->src, p->src_plen) ||
	    !hx_prefix_eq(p->dst, s->dst, p->dst_plen))
		return false;
	return !(p->flags & ESPER_T_PROTO) || s->proto == 255 || p->proto == s->proto;
}

static inline bool hx_policy_matches(const struct hx_policy *p, const struct hx_sel *s)
{
	if (hx_policy_lacks(p, s) || !hx_policy_might_match(p, s))
		return false;
	if ((p->flags & ESPER_T_SPORT) && p->sport != s->sport)
		return false;
	if ((p->flags & ESPER_T_DPORT) && p->dport != s->dport)
		return false;
	return true;
}

static inline int hx_policy_cmp(const void *a, const void *b)
{
	const struct hx_policy *pa = a, *pb = b;
	struct esper_tuple ta = hx_tuple(pa), tb = hx_tuple(pb);
	int d = hx_tuple_cmp(&ta, &tb);

	if (d)
		return d;
	if (pa->family != pb->family)
		return pa->family - pb->family;
	return (pb->dir == HX_OUT) - (pa->dir == HX_OUT);	/* out first */
}

/* Sort policies for the reference: probe order, outbound before inbound. */
static inline void hx_ref_sort(struct hx_policy *p, size_t n)
{
	qsort(p, n, sizeof(*p), hx_policy_cmp);
}

/* What the SPD says about a packet. */
enum hx_spd {
	HX_SPD_NONE,
	HX_SPD_PROTECT,		/* an outbound ipsec policy: redirect, *id */
	HX_SPD_DISCARD,
	HX_SPD_IN_DROP,		/* an inbound ipsec policy: should have come protected */
	HX_SPD_BYPASS,
	HX_SPD_OPAQUE,		/* unreadable selectors, a non-bypass policy might match */
};

/*
 * Naive SPD over p[0..n) sorted by hx_ref_sort: the first policy that matches, in order,
 * decides; on the same key the outbound one comes first. For an opaque packet, a policy
 * that needs what the packet lacks and is not a bypass makes the packet ambiguous if it
 * matches it on what can be read and comes before the first real match: then the packet is
 * protected if that match is an outbound ipsec policy, and dropped as opaque otherwise.
 * The id of the protecting policy in *id; *ambiguous (if not NULL): whether a shadow came
 * first, for the caller's statistics.
 */
static inline enum hx_spd hx_ref_spd(const struct hx_policy *p, size_t n, const struct hx_sel *s,
				     uint32_t *id, bool *ambiguous)
{
	bool opaque = hx_sel_opaque(s), amb = false;
	enum hx_spd r = HX_SPD_NONE;

	*id = 0;
	for (size_t i = 0; i < n; i++) {
		const struct hx_policy *q = &p[i];

		if (hx_policy_lacks(q, s)) {
			if (opaque && q->action != ESPER_ACT_BYPASS && hx_policy_might_match(q, s))
				amb = true;
			continue;
		}
		if (!hx_policy_matches(q, s))
			continue;
		if (q->dir == HX_OUT && q->action == ESPER_ACT_IPSEC) {
			*id = q->id;
			r = HX_SPD_PROTECT;
		} else if (amb) {
			r = HX_SPD_OPAQUE;
		} else if (q->action == ESPER_ACT_BYPASS) {
			r = HX_SPD_BYPASS;
		} else if (q->action == ESPER_ACT_DISCARD) {
			r = HX_SPD_DISCARD;
		} else {
			r = HX_SPD_IN_DROP;
		}
		if (ambiguous)
			*ambiguous = amb;
		return r;
	}
	if (ambiguous)
		*ambiguous = amb;
	return amb ? HX_SPD_OPAQUE : HX_SPD_NONE;
}

/* --- reference verdicts -------------------------------------------------------------------- */

static inline void hx_set_verdict(struct hx_verdict *e, int action, int counter)
{
	memset(e, 0, sizeof(*e));
	e->action = action;
	e->counter = counter;
}

static inline void hx_set_redirect(struct hx_verdict *e, uint32_t kind, uint32_t id)
{
	hx_set_verdict(e, XDP_REDIRECT,
		       kind == ESPER_META_ESP_IN ? ESPER_C_REDIRECT_ESP_IN
						 : ESPER_C_REDIRECT_PLAIN_OUT);
	e->has_meta = true;
	e->meta = (struct esper_meta){ .magic = ESPER_META_MAGIC, .kind = kind, .id = id };
}

static inline bool hx_addr_eq(uint8_t family, const uint8_t *a, const uint8_t *b)
{
	return !memcmp(a, b, family == ESPER_AF_INET6 ? 16 : 4);
}

/* The SA of w that inbound ESP with selectors s belongs to, or NULL. */
static inline const struct hx_sa *hx_ref_esp(const struct hx_world *w, const struct hx_sel *s)
{
	const struct hx_sa *sa = NULL;
	bool local = false;

	if (s->proto != 50 || s->fragment || !s->esp_hdr)
		return NULL;
	for (size_t i = 0; i < w->nsa && !sa; i++)
		if (w->sa[i].spi == s->spi)
			sa = &w->sa[i];
	if (!sa || sa->family != s->family || !hx_addr_eq(s->family, sa->src, s->src) ||
	    !hx_addr_eq(s->family, sa->dst, s->dst))
		return NULL;
	if (!(w->cfg & ESPER_CFG_LOCAL))
		return sa;
	for (size_t i = 0; i < w->nlocal && !local; i++)
		local = w->local[i].family == s->family &&
			hx_addr_eq(s->family, w->local[i].addr, s->dst);
	return local ? sa : NULL;
}

/* The SPD part of the decision (anything that is not inbound ESP of ours). */
static inline void hx_expect_plain(const struct hx_world *w, const struct hx_sel *s,
				   struct hx_verdict *e)
{
	uint32_t id = 0;

	switch (hx_ref_spd(w->p, w->n, s, &id, NULL)) {
	case HX_SPD_PROTECT:
		return hx_set_redirect(e, ESPER_META_PLAIN_OUT, id);
	case HX_SPD_DISCARD:
		return hx_set_verdict(e, XDP_DROP, ESPER_C_DROP_DISCARD);
	case HX_SPD_IN_DROP:
		return hx_set_verdict(e, XDP_DROP, ESPER_C_DROP_IN_POLICY);
	case HX_SPD_BYPASS:
		return hx_set_verdict(e, XDP_PASS, ESPER_C_PASS_BYPASS);
	case HX_SPD_OPAQUE:
		return hx_set_verdict(e, XDP_DROP, ESPER_C_DROP_OPAQUE);
	case HX_SPD_NONE:
		break;
	}
	if (s->proto == 50 && !s->fragment) {
		if (w->cfg & ESPER_CFG_UNKNOWN_SPI_DROP)
			return hx_set_verdict(e, XDP_DROP, ESPER_C_DROP_UNKNOWN_SPI);
		return hx_set_verdict(e, XDP_PASS, ESPER_C_PASS_UNKNOWN_SPI);
	}
	hx_set_verdict(e, XDP_PASS, ESPER_C_PASS_NO_POLICY);
}

/* The verdict a parsed packet with selectors s must get (an XSK in the slot, no RPF). */
static inline void hx_expect(const struct hx_world *w, const struct hx_sel *s,
			     struct hx_verdict *e)
{
	const struct hx_sa *sa = hx_ref_esp(w, s);

	if (sa)
		return hx_set_redirect(e, ESPER_META_ESP_IN, sa->uid);
	hx_expect_plain(w, s, e);
}

/* --- maps ---------------------------------------------------------------------------------- */

/* Delete every key: all of them listed first, in one walk (a walk from NULL scans the
 * buckets from the start, and the big hashes have millions: once per key would be slow). */
static inline int hx_map_clear(int fd, size_t key_size)
{
	uint8_t *keys = NULL, *prev = NULL;
	size_t n = 0, cap = 0;
	int err = 0;

	if (key_size > 64)
		return -EINVAL;
	for (;;) {
		if (n == cap) {
			uint8_t *k = realloc(keys, (cap = cap ? 2 * cap : 256) * key_size);

			if (!k) {
				free(keys);
				return -ENOMEM;
			}
			keys = k;
		}
		prev = n ? keys + (n - 1) * key_size : NULL;
		if (bpf_map_get_next_key(fd, prev, keys + n * key_size))
			break;
		n++;
	}
	for (size_t i = 0; i < n && !err; i++)
		if (bpf_map_delete_elem(fd, keys + i * key_size) && errno != ENOENT)
			err = -errno;
	free(keys);
	return err;
}

/* Empty every map but counters and xsks; config back to 0. */
static inline int hx_reset(struct hx *h)
{
	struct esper_config cfg = { 0 };
	__u32 zero = 0;
	int err;

	err = hx_map_clear(h->fds.spd, sizeof(struct esper_spd_key));
	err = err ?: hx_map_clear(h->fds.tuple_lists, sizeof(__u32));
	err = err ?: hx_map_clear(h->fds.sa_in, sizeof(__be32));
	err = err ?: hx_map_clear(h->fds.local_addrs, sizeof(struct esper_addr_key));
	err = err ?: hx_map_clear(h->fds.xsk_slots, sizeof(struct esper_xsk_key));
	err = err ?: hx_map_clear(h->fds.natt_dests, sizeof(struct esper_natt_key));
	for (__u32 w = 0; !err && w < ESPER_NATT_PORT_WORDS; w++) {
		__u64 none = 0;

		if (bpf_map_update_elem(h->fds.natt_ports, &w, &none, BPF_ANY))
			err = -errno;
	}
	if (!err && bpf_map_update_elem(h->fds.config, &zero, &cfg, BPF_ANY))
		err = -errno;
	return err;
}

static inline int hx_set_config(struct hx *h, __u32 flags)
{
	struct esper_config cfg = { .flags = flags };
	__u32 zero = 0;

	return bpf_map_update_elem(h->fds.config, &zero, &cfg, BPF_ANY) ? -errno : 0;
}

/* sa_in: SPI -> {uid, family, outer source, outer destination}, as bpf_sync.c writes it. */
static inline int hx_add_sa_w(struct hx *h, const struct hx_sa *sa)
{
	struct esper_sa_in_val v = { .uid = sa->uid, .family = sa->family };
	__be32 k = htonl(sa->spi);

	memcpy(v.src, sa->src, sa->family == ESPER_AF_INET6 ? 16 : 4);
	memcpy(v.dst, sa->dst, sa->family == ESPER_AF_INET6 ? 16 : 4);
	return bpf_map_update_elem(h->fds.sa_in, &k, &v, BPF_ANY) ? -errno : 0;
}

static inline int hx_add_sa(struct hx *h, uint32_t spi, uint32_t uid, uint8_t family,
			    const uint8_t *src, const uint8_t *dst)
{
	struct hx_sa sa = { .spi = spi, .uid = uid, .family = family };

	memcpy(sa.src, src, family == ESPER_AF_INET6 ? 16 : 4);
	memcpy(sa.dst, dst, family == ESPER_AF_INET6 ? 16 : 4);
	return hx_add_sa_w(h, &sa);
}

/* The SA (spi, uid) that ESP packet p belongs to: its family and outer addresses. */
static inline int hx_add_sa_pkt(struct hx *h, uint32_t spi, uint32_t uid, const struct pb_pkt *p)
{
	return hx_add_sa(h, spi, uid, p->family, p->src, p->dst);
}

/* An esp-udp SA (spi, uid) that may decrypt, to (dst, dport), as bpf_sync.c writes it:
 * sa_in's entry, the place in natt_dests and its port's bit in natt_ports. */
static inline int hx_add_udp_sa(struct hx *h, uint32_t spi, uint32_t uid, uint8_t family,
				const uint8_t *dst, uint16_t dport)
{
	struct esper_sa_in_val v = { .uid = uid, .family = family, .encap = 1,
				     .dport = htons(dport) };
	struct esper_natt_key k = { .family = family, .port = htons(dport) };
	__be32 key = htonl(spi);
	__u32 word = dport / 64;
	__u64 bits;
	__u8 one = 1;

	memcpy(v.dst, dst, family == ESPER_AF_INET6 ? 16 : 4);
	memcpy(k.addr, dst, family == ESPER_AF_INET6 ? 16 : 4);
	if (bpf_map_lookup_elem(h->fds.natt_ports, &word, &bits))
		return -errno;
	bits |= 1ull << (dport % 64);
	if (bpf_map_update_elem(h->fds.sa_in, &key, &v, BPF_ANY) ||
	    bpf_map_update_elem(h->fds.natt_ports, &word, &bits, BPF_ANY) ||
	    bpf_map_update_elem(h->fds.natt_dests, &k, &one, BPF_ANY))
		return -errno;
	return 0;
}

/* local_addrs: addr (network order, IPv4 in the first 4 bytes) is one of this host's. */
static inline int hx_add_local(struct hx *h, uint8_t family, const uint8_t *addr)
{
	struct esper_addr_key k = { .family = family };
	__u8 one = 1;

	memcpy(k.addr, addr, family == ESPER_AF_INET6 ? 16 : 4);
	return bpf_map_update_elem(h->fds.local_addrs, &k, &one, BPF_ANY) ? -errno : 0;
}

static inline int hx_del_local(struct hx *h, uint8_t family, const uint8_t *addr)
{
	struct esper_addr_key k = { .family = family };

	memcpy(k.addr, addr, family == ESPER_AF_INET6 ? 16 : 4);
	return bpf_map_delete_elem(h->fds.local_addrs, &k) ? -errno : 0;
}

/* The ordered tuple list of one family of p[0..n), as bpf_sync.c must write it. */
static inline int hx_tuple_list(const struct hx_policy *p, size_t n, uint8_t family,
				struct esper_tuple_list *l)
{
	memset(l, 0, sizeof(*l));
	for (size_t i = 0; i < n; i++) {
		struct esper_tuple t = hx_tuple(&p[i]);
		bool seen = false;

		if (p[i].family != family)
			continue;
		for (__u32 j = 0; j < l->count && !seen; j++)
			seen = !hx_tuple_cmp(&l->t[j], &t);
		if (seen)
			continue;
		if (l->count == ESPER_MAX_TUPLES)
			return -ENOSPC;
		l->t[l->count++] = t;
	}
	/* insertion sort: at most 64 */
	for (__u32 i = 1; i < l->count; i++)
		for (__u32 j = i; j > 0 && hx_tuple_cmp(&l->t[j - 1], &l->t[j]) > 0; j--) {
			struct esper_tuple t = l->t[j];

			l->t[j] = l->t[j - 1];
			l->t[j - 1] = t;
		}
	return 0;
}

/* Replace the SPD maps with p[0..n): tuple lists, one key per (key, direction) with the
 * action and id in its slot (a later policy with the same key and direction replaces an
 * earlier one), and the shadow keys of every non-bypass policy (value all zero). */
static inline int hx_spd_install(struct hx *h, const struct hx_policy *p, size_t n)
{
	static const uint8_t fams[2] = { ESPER_AF_INET, ESPER_AF_INET6 };
	struct esper_tuple_list l;
	int err;

	err = hx_map_clear(h->fds.spd, sizeof(struct esper_spd_key));
	err = err ?: hx_map_clear(h->fds.tuple_lists, sizeof(__u32));
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		static const struct esper_spd_val zero;
		struct esper_spd_key k[2];
		unsigned ns = hx_shadow_keys(&p[i], k);

		for (unsigned j = 0; j < ns; j++)
			if (bpf_map_update_elem(h->fds.spd, &k[j], &zero, BPF_ANY))
				return -errno;
	}
	for (size_t i = 0; i < n; i++) {
		struct esper_spd_val v = { 0 };
		struct esper_spd_key k;

		hx_policy_key(&p[i], &k);
		bpf_map_lookup_elem(h->fds.spd, &k, &v);	/* ENOENT leaves v zero */
		if (p[i].dir == HX_OUT) {
			v.out = p[i].action;
			v.out_id = p[i].id;
		} else {
			v.in = p[i].action;
			v.in_id = p[i].id;
		}
		if (bpf_map_update_elem(h->fds.spd, &k, &v, BPF_ANY))
			return -errno;
	}
	for (__u32 f = 0; f < 2; f++) {
		err = hx_tuple_list(p, n, fams[f], &l);
		if (err)
			return err;
		if (l.count && bpf_map_update_elem(h->fds.tuple_lists, &f, &l, BPF_ANY))
			return -errno;
	}
	return 0;
}

/* --- AF_XDP socket on lo, slots ----------------------------------------------------------- */

#define HX_UMEM_FRAMES	64

/* Bind an AF_XDP socket (copy mode, no program loaded by libxdp) to lo queue 0. */
static inline int hx_xsk_open(struct hx *h)
{
	struct xsk_socket_config cfg = {
		.rx_size = XSK_RING_CONS__DEFAULT_NUM_DESCS,
		.tx_size = XSK_RING_PROD__DEFAULT_NUM_DESCS,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY,
	};
	size_t size = HX_UMEM_FRAMES * XSK_UMEM__DEFAULT_FRAME_SIZE;
	int err;

	h->umem_area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (h->umem_area == MAP_FAILED) {
		h->umem_area = NULL;
		return -errno;
	}
	err = xsk_umem__create(&h->umem, h->umem_area, size, &h->fill, &h->comp, NULL);
	if (err)
		return err;
	return xsk_socket__create(&h->xsk, "lo", 0, h->umem, &h->rx, &h->tx, &cfg);
}

static inline int hx_xsk_fd(const struct hx *h)
{
	return h->xsk ? xsk_socket__fd(h->xsk) : -1;
}

/* Map (ifindex, queue) to slot; with_socket also puts the lo socket in the slot. */
static inline int hx_set_slot(struct hx *h, uint32_t ifindex, uint32_t queue, uint32_t slot,
			      bool with_socket)
{
	struct esper_xsk_key k = { .ifindex = ifindex, .queue = queue };
	int fd = hx_xsk_fd(h);

	if (bpf_map_update_elem(h->fds.xsk_slots, &k, &slot, BPF_ANY))
		return -errno;
	if (!with_socket) {
		if (bpf_map_delete_elem(h->fds.xsks, &slot) && errno != ENOENT)
			return -errno;
		return 0;
	}
	if (fd < 0)
		return -ENOTSOCK;
	return bpf_map_update_elem(h->fds.xsks, &slot, &fd, BPF_ANY) ? -errno : 0;
}

/* --- open/close, run ------------------------------------------------------------------------ */

static inline void hx_close(struct hx *h)
{
	if (h->xsk)
		xsk_socket__delete(h->xsk);
	if (h->umem)
		xsk_umem__delete(h->umem);
	if (h->umem_area)
		munmap(h->umem_area, HX_UMEM_FRAMES * XSK_UMEM__DEFAULT_FRAME_SIZE);
	bpf_load_free(h->bl);
	memset(h, 0, sizeof(*h));
}

/*
 * Move the process to a private network namespace (its lo is the default ingress of test
 * runs; nothing touches the host's interfaces and two runs can't collide on lo queue 0),
 * load the program quietly and bind the lo socket if possible: *xsk_err says why not.
 */
static inline int hx_open(struct hx *h, int *xsk_err)
{
	memset(h, 0, sizeof(*h));
	*xsk_err = -ENODEV;
	if (unshare(CLONE_NEWNET))
		return -errno;
	log_init("test", LOG_LVL_WARN);
	bpf_load_log_init();
	h->bl = bpf_load_new();
	if (!h->bl)
		return -errno;
	bpf_load_map_fds(h->bl, &h->fds);
	h->prog_fd = bpf_load_prog_fd(h->bl);
	h->lo_ifindex = (int)if_nametoindex("lo");
	*xsk_err = hx_xsk_open(h);
	return 0;
}

static inline int hx_counters(struct hx *h, __u64 c[ESPER_C_MAX])
{
	return bpf_load_counters(h->bl, c);
}

/*
 * Run data_in (meta_len bytes of metadata already in front of the frame, a multiple of 4)
 * received on (ifindex, queue); ifindex 0 means lo queue 0. Action, the one counter that
 * moved, the last 12 bytes in front of the frame after the run (where the worker looks for
 * struct esper_meta) and the first 12 bytes of the metadata area (where the program put its
 * own if there was metadata already).
 */
static inline int hx_exec(struct hx *h, const void *data_in, size_t meta_len, size_t len,
			  uint32_t ifindex, uint32_t queue, struct hx_verdict *v)
{
	static uint8_t out[HX_META_MAX + HX_FRAME_MAX + 512];
	struct xdp_md ctx_in = { .data = (__u32)meta_len, .data_end = (__u32)(meta_len + len),
				 .ingress_ifindex = ifindex, .rx_queue_index = queue };
	struct xdp_md ctx_out = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = data_in,
		    .data_size_in = (__u32)(meta_len + len), .data_out = out,
		    .data_size_out = sizeof(out), .ctx_in = &ctx_in, .ctx_size_in = sizeof(ctx_in),
		    .ctx_out = &ctx_out, .ctx_size_out = sizeof(ctx_out), .repeat = 1);
	__u64 before[ESPER_C_MAX], after[ESPER_C_MAX];
	int err;

	memset(v, 0, sizeof(*v));
	err = hx_counters(h, before);
	if (err)
		return err;
	if (bpf_prog_test_run_opts(h->prog_fd, &o))
		return -errno;
	err = hx_counters(h, after);
	if (err)
		return err;
	v->action = (int)o.retval;
	v->counter = -1;
	for (int i = 0, moved = 0; i < ESPER_C_MAX; i++) {
		if (after[i] == before[i])
			continue;
		v->counter = !moved++ && after[i] == before[i] + 1 ? i : -1;
	}
	v->meta_len = ctx_out.data;
	if (ctx_out.data >= sizeof(v->meta)) {
		memcpy(&v->meta, out + ctx_out.data - sizeof(v->meta), sizeof(v->meta));
		memcpy(&v->meta_front, out, sizeof(v->meta_front));
		v->has_meta = true;
	}
	return 0;
}

/* Run one frame received on (ifindex, queue); ifindex 0 means lo queue 0. */
static inline int hx_run_on(struct hx *h, const void *frame, size_t len, uint32_t ifindex,
			    uint32_t queue, struct hx_verdict *v)
{
	return hx_exec(h, frame, 0, len, ifindex, queue, v);
}

/* Run one frame on lo queue 0 with meta_len bytes of metadata in front of it (a multiple of
 * 4, at most HX_META_MAX; test_run refuses with -EINVAL what its headroom can't hold). Near
 * the top of the accepted range bpf_xdp_adjust_meta has no room for 12 more bytes, as on a
 * driver without metadata room. */
static inline int hx_run_meta(struct hx *h, const void *meta, size_t meta_len, const void *frame,
			      size_t len, struct hx_verdict *v)
{
	static uint8_t in[HX_META_MAX + HX_FRAME_MAX];

	if (meta_len > HX_META_MAX || len > HX_FRAME_MAX)
		return -EINVAL;
	memcpy(in, meta, meta_len);
	memcpy(in + meta_len, frame, len);
	return hx_exec(h, in, meta_len, len, 0, 0, v);
}

static inline int hx_run(struct hx *h, const void *frame, size_t len, struct hx_verdict *v)
{
	return hx_run_on(h, frame, len, 0, 0, v);
}

/* Build p and run it on lo queue 0. */
static inline int hx_run_pkt(struct hx *h, const struct pb_pkt *p, struct hx_verdict *v)
{
	uint8_t buf[HX_FRAME_MAX];

	return hx_run(h, buf, pb_frame(p, buf), v);
}

/* Build p and run it on (ifindex, queue). */
static inline int hx_run_pkt_on(struct hx *h, const struct pb_pkt *p, uint32_t ifindex,
				uint32_t queue, struct hx_verdict *v)
{
	uint8_t buf[HX_FRAME_MAX];

	return hx_run_on(h, buf, pb_frame(p, buf), ifindex, queue, v);
}

/* --- small constructors ---------------------------------------------------------------------- */

/* A policy from text: family from the address syntax; dir HX_OUT/HX_IN, action ESPER_ACT_*. */
static inline struct hx_policy hx_pol(const char *src, unsigned src_plen, const char *dst,
				      unsigned dst_plen, uint8_t flags, uint8_t proto,
				      uint16_t sport, uint16_t dport, uint8_t dir, uint8_t action,
				      uint32_t id)
{
	struct hx_policy p = { .src_plen = (uint8_t)src_plen, .dst_plen = (uint8_t)dst_plen,
			       .flags = flags, .proto = proto, .sport = sport, .dport = dport,
			       .dir = dir, .action = action, .id = id };
	int af = strchr(src, ':') ? AF_INET6 : AF_INET;

	p.family = af == AF_INET6 ? ESPER_AF_INET6 : ESPER_AF_INET;
	inet_pton(af, src, p.src);
	inet_pton(af, dst, p.dst);
	return p;
}

/* --- randomized policies and packets (fixed seed, shared by the differential tests) --------- */

struct hx_rand {
	uint64_t s;
};

static inline uint32_t hx_rnd(struct hx_rand *r, uint32_t n)	/* 0..n-1 */
{
	uint64_t x = r->s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->s = x;
	return n ? (uint32_t)((x * 0x2545F4914F6CDD1DULL) >> 32) % n : 0;
}

/* Addresses from a small pool so that prefixes overlap often. */
static inline void hx_rand_addr(struct hx_rand *r, uint8_t family, uint8_t *a)
{
	memset(a, 0, 16);
	if (family == ESPER_AF_INET) {
		a[0] = 10;
		a[1] = (uint8_t)hx_rnd(r, 2);
		a[2] = (uint8_t)hx_rnd(r, 4);
		a[3] = (uint8_t)(hx_rnd(r, 2) ? hx_rnd(r, 4) : hx_rnd(r, 256));
		return;
	}
	a[0] = 0x20;
	a[1] = 0x01;
	a[2] = 0x0d;
	a[3] = 0xb8;
	for (int i = 4; i < 16; i++)
		if (!hx_rnd(r, 4))
			a[i] = (uint8_t)hx_rnd(r, 4);
}

/* Flip random bits of a beyond the first plen bits. */
static inline void hx_rand_host(struct hx_rand *r, uint8_t family, uint8_t *a, unsigned plen)
{
	unsigned bits = family == ESPER_AF_INET ? 32 : 128;

	for (int i = 0; plen < bits && i < 3; i++) {
		unsigned b = plen + hx_rnd(r, bits - plen);

		if (hx_rnd(r, 2))
			a[b / 8] ^= (uint8_t)(0x80 >> (b % 8));
	}
}

static inline uint8_t hx_rand_plen(struct hx_rand *r, uint8_t family)
{
	static const uint8_t v4[] = { 0, 8, 16, 20, 24, 28, 31, 32 };
	static const uint8_t v6[] = { 0, 16, 32, 48, 56, 64, 96, 112, 127, 128 };

	if (!hx_rnd(r, 8))
		return (uint8_t)hx_rnd(r, family == ESPER_AF_INET ? 33 : 129);
	if (family == ESPER_AF_INET)
		return v4[hx_rnd(r, sizeof(v4))];
	return v6[hx_rnd(r, sizeof(v6))];
}

static inline uint8_t hx_rand_proto(struct hx_rand *r)
{
	static const uint8_t protos[] = { 6, 17, 6, 17, 1, 58, 47, 132, 50 };

	return protos[hx_rnd(r, sizeof(protos))];
}

static inline uint16_t hx_rand_port(struct hx_rand *r)
{
	static const uint16_t ports[] = { 53, 80, 443, 500, 4500, 0 };

	return hx_rnd(r, 4) ? ports[hx_rnd(r, sizeof(ports) / sizeof(ports[0]))]
			    : (uint16_t)hx_rnd(r, 65536);
}

/* A random action: ipsec half of the time, discard and bypass a quarter each. */
static inline uint8_t hx_rand_action(struct hx_rand *r)
{
	static const uint8_t acts[] = { ESPER_ACT_IPSEC, ESPER_ACT_IPSEC, ESPER_ACT_DISCARD,
					ESPER_ACT_BYPASS };

	return acts[hx_rnd(r, sizeof(acts))];
}

static inline bool hx_same_key_dir(const struct hx_policy *a, const struct hx_policy *b)
{
	struct esper_spd_key ka, kb;

	if (a->dir != b->dir)
		return false;
	hx_policy_key(a, &ka);
	hx_policy_key(b, &kb);
	return !memcmp(&ka, &kb, sizeof(ka));
}

/* n random policies (ids 1..n, all three actions, both directions) over at most ntuples
 * tuples per family, no two with the same key and direction. Returns how many were made
 * (duplicates are dropped). */
static inline size_t hx_rand_policies(struct hx_rand *r, struct hx_policy *p, size_t n,
				      unsigned ntuples)
{
	struct esper_tuple t[2][ESPER_MAX_TUPLES];
	size_t m = 0;

	if (ntuples > ESPER_MAX_TUPLES)
		ntuples = ESPER_MAX_TUPLES;
	for (int f = 0; f < 2; f++)
		for (unsigned i = 0; i < ntuples; i++)
			t[f][i] = (struct esper_tuple){
				.src_plen = hx_rand_plen(r, f ? ESPER_AF_INET6 : ESPER_AF_INET),
				.dst_plen = hx_rand_plen(r, f ? ESPER_AF_INET6 : ESPER_AF_INET),
				.flags = (uint8_t)hx_rnd(r, 8),
			};
	for (size_t i = 0; i < n; i++) {
		int f = (int)hx_rnd(r, 2);
		struct esper_tuple *tt = &t[f][hx_rnd(r, ntuples)];
		struct hx_policy *q = &p[m];
		bool dup = false;

		memset(q, 0, sizeof(*q));
		q->family = f ? ESPER_AF_INET6 : ESPER_AF_INET;
		q->src_plen = tt->src_plen;
		q->dst_plen = tt->dst_plen;
		q->flags = tt->flags;
		q->proto = tt->flags & ESPER_T_PROTO ? hx_rand_proto(r) : 0;
		q->sport = tt->flags & ESPER_T_SPORT ? hx_rand_port(r) : 0;
		q->dport = tt->flags & ESPER_T_DPORT ? hx_rand_port(r) : 0;
		q->dir = hx_rnd(r, 3) ? HX_OUT : HX_IN;
		q->action = hx_rand_action(r);
		q->id = (uint32_t)(m + 1);
		hx_rand_addr(r, q->family, q->src);
		hx_rand_addr(r, q->family, q->dst);
		for (size_t j = 0; j < m && !dup; j++)
			dup = hx_same_key_dir(&p[j], q);
		if (!dup)
			m++;
	}
	return m;
}

/* A random packet: mostly aimed at one of the policies, with random encapsulation (VLAN
 * tags, IPv4 options, IPv6 extension headers, fragments) and now and then opaque (a
 * non-first fragment, a TCP/UDP header cut short, an IPv6 chain past the parser). ESP with
 * spi when esp. */
static inline void hx_rand_pkt(struct hx_rand *r, const struct hx_policy *p, size_t n,
			       bool esp, uint32_t spi, struct pb_pkt *k)
{
	static const uint8_t kinds[] = { 0, 43, 60, 51, 44 };
	const struct hx_policy *q = n && hx_rnd(r, 10) < 7 ? &p[hx_rnd(r, (uint32_t)n)] : NULL;

	memset(k, 0, sizeof(*k));
	k->family = q ? q->family : hx_rnd(r, 2) ? ESPER_AF_INET6 : ESPER_AF_INET;
	hx_rand_addr(r, k->family, k->src);
	hx_rand_addr(r, k->family, k->dst);
	k->proto = hx_rand_proto(r);
	k->sport = hx_rand_port(r);
	k->dport = hx_rand_port(r);
	if (q) {
		memcpy(k->src, q->src, 16);
		memcpy(k->dst, q->dst, 16);
		hx_rand_host(r, k->family, k->src, hx_rnd(r, 4) ? q->src_plen : 0);
		hx_rand_host(r, k->family, k->dst, hx_rnd(r, 4) ? q->dst_plen : 0);
		if ((q->flags & ESPER_T_PROTO) && hx_rnd(r, 8))
			k->proto = q->proto;
		if ((q->flags & ESPER_T_SPORT) && hx_rnd(r, 8))
			k->sport = q->sport;
		if ((q->flags & ESPER_T_DPORT) && hx_rnd(r, 8))
			k->dport = q->dport;
	}
	if (esp) {
		k->proto = 50;
		k->spi = spi;
	}
	k->payload = (uint16_t)hx_rnd(r, 64);
	for (int i = 0; i < 2 && !hx_rnd(r, 3); i++)
		k->vlan[i] = hx_rnd(r, 2) ? 0x8100 : 0x88a8;
	if (k->family == ESPER_AF_INET && !hx_rnd(r, 4))
		k->ip4_optlen = (uint8_t)(4 * hx_rnd(r, 11));
	if (k->family == ESPER_AF_INET6 && !hx_rnd(r, 3)) {
		k->next = (uint8_t)(hx_rnd(r, 8) ? 1 + hx_rnd(r, 3) : 9 + hx_rnd(r, 3));
		for (int i = 0; i < k->next; i++)
			k->ext[i] = kinds[hx_rnd(r, sizeof(kinds))];
	}
	if (!hx_rnd(r, 6))
		k->frag = hx_rnd(r, 2) ? PB_FRAG_FIRST : PB_FRAG_NONFIRST;
	if (!hx_rnd(r, 12))		/* a header cut short: 0..9 bytes of it */
		k->cut_l4 = (uint8_t)(1 + hx_rnd(r, 10));
}

/* Address ESP packet k as the SA (family, src, dst) says, or not: which of them is
 * returned (0: exactly the SA's; 1 wrong source, 2 wrong destination, 3 swapped, 4 the
 * other family with the SA's address bytes). The SPI is left alone. */
static inline int hx_rand_esp_addrs(struct hx_rand *r, struct pb_pkt *k, uint8_t family,
				    const uint8_t *src, const uint8_t *dst)
{
	unsigned alen = family == ESPER_AF_INET6 ? 16 : 4;
	int how = hx_rnd(r, 2) ? 0 : 1 + (int)hx_rnd(r, 4);

	k->family = family;
	memset(k->src, 0, 16);
	memset(k->dst, 0, 16);
	memcpy(k->src, how == 3 ? dst : src, alen);
	memcpy(k->dst, how == 3 ? src : dst, alen);
	if (how == 1 || how == 2) {
		uint8_t *a = how == 1 ? k->src : k->dst;
		unsigned b = hx_rnd(r, alen * 8);

		a[b / 8] ^= (uint8_t)(0x80 >> (b % 8));
	}
	if (how == 3 && !memcmp(src, dst, alen))
		k->src[alen - 1] ^= 1;
	if (how == 4)	/* IPv4 <-> IPv6, the first 4 bytes unchanged */
		k->family = family == ESPER_AF_INET ? ESPER_AF_INET6 : ESPER_AF_INET;
	if (k->family == ESPER_AF_INET) {
		memset(k->src + 4, 0, 12);
		memset(k->dst + 4, 0, 12);
		k->next = 0;
	} else {
		k->ip4_optlen = 0;
	}
	return how;
}

#endif
