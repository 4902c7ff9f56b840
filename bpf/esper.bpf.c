// SPDX-License-Identifier: GPL-2.0
/*
 * esper.bpf.c - the XDP classifier, the first decision about every packet (the same rules,
 * in the same order, as user/datapath/classify.c, and checked against it by
 * tests/bpf/test_xdp_diff.c):
 *   ESP, not a fragment, whose SPI names an SA that may decrypt, with the SA's outer source
 *     and destination, addressed to this host (local_addrs) -> redirect (RFC 4303 2.1,
 *     RFC 4301 4.1: SAs are unidirectional)
 *   UDP, not a fragment, to this host at the address and port of an esp-udp SA that may
 *     decrypt (natt_dests, RFC 3948 2): ESP in UDP
 *     whose SPI names an esp-udp SA that may decrypt, to its destination and port ->
 *     redirect; a 1-byte keepalive or the non-ESP marker (IKE) -> XDP_PASS, unless an
 *     outbound ipsec policy protects it (then as below)
 *   anything else, ESP included, by the SPD (RFC 4301 4.4.1, tuple-space search as
 *     esper_abi.h specifies, failing closed on unreadable selectors, RFC 4301 7):
 *     outbound ipsec -> redirect, if the source is routed back through the interface the
 *       packet came in on (strict reverse path against the kernel's FIB, as rp_filter)
 *     outbound discard, inbound ipsec or discard, opaque -> XDP_DROP; bypass -> XDP_PASS
 *     no policy -> XDP_PASS (ESP, bare or in UDP to a NAT-T destination: or XDP_DROP,
 *     --unknown-spi drop)
 * A redirect puts struct esper_meta in front of the frame and sends it to the AF_XDP socket
 * of the receiving queue. Loaded and attached by user/control/bpf_load.c; maps (maps.h)
 * written by user/control/bpf_sync.c. Every verdict increments one per-CPU counter.
 */
/* vmlinux.h has a typedef named config; the ABI names a map so. */
#define config vmlinux_config
#include "vmlinux.h"
#undef config
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "esper_abi.h"
#include "maps.h"
#include "parse.h"

enum spd_result {
	SPD_NONE,
	SPD_PROTECT,	/* outbound ipsec: *id is the policy */
	SPD_DISCARD,	/* a discard policy */
	SPD_IN_DROP,	/* inbound ipsec: should have arrived protected */
	SPD_BYPASS,
	SPD_OPAQUE,	/* selectors unreadable, a protecting policy might match */
};

#define AF_INET_	2
#define AF_INET6_	10

static __always_inline int count(__u32 idx, int action)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &idx);

	if (c)
		*c += 1;
	return action;
}

/*
 * mask_tab[p][w]: network-order mask of 32-bit word w of an address under a p-bit prefix,
 * built at compile time (.rodata). Masking costs four loads per IPv6 address and one per
 * IPv4 address, with no branches on the prefix length for the CPU or the verifier.
 */
#define MBITS(p, w) ((p) <= 32 * (w) ? 0 : (p) >= 32 * (w) + 32 ? 32 : (p)-32 * (w))
#define MW(p, w) __bpf_constant_htonl((__u32)(0xffffffff00000000ull >> MBITS(p, w)))
#define M1(p) { MW(p, 0), MW(p, 1), MW(p, 2), MW(p, 3) }
#define M4(p) M1(p), M1((p) + 1), M1((p) + 2), M1((p) + 3)
#define M16(p) M4(p), M4((p) + 4), M4((p) + 8), M4((p) + 12)
#define M64(p) M16(p), M16((p) + 16), M16((p) + 32), M16((p) + 48)

static const __u32 mask_tab[129][4] = { M64(0), M64(64), M1(128) };

/* Does tuple t need what the packet lacks: ports it has none of, a protocol it can't tell? */
static __always_inline bool lacks(const struct pkt_sel *s, __u8 flags)
{
	return ((flags & (ESPER_T_SPORT | ESPER_T_DPORT)) && !s->has_ports) ||
	       ((flags & ESPER_T_PROTO) && s->proto == PROTO_UNKNOWN);
}

/* TCP or UDP without readable ports, or a protocol past the parser (esper_abi.h). */
static __always_inline bool opaque(const struct pkt_sel *s)
{
	return s->proto == PROTO_UNKNOWN ||
	       ((s->proto == IPPROTO_TCP_ || s->proto == IPPROTO_UDP_) && !s->has_ports);
}

/*
 * The packet's selectors masked by tuple t into k: the tuple's key, or (shadow) its shadow
 * key, without the ports, and without the protocol when it is unknown. false if t has a
 * prefix length beyond 128. IPv4 touches word 0 only: the others stay zero.
 */
static __always_inline bool spd_key(const struct pkt_sel *s, const struct esper_tuple *t,
				    bool shadow, struct esper_spd_key *k)
{
	__u32 *src = (__u32 *)k->src, *dst = (__u32 *)k->dst;
	__u32 sp = t->src_plen, dp = t->dst_plen;
	__u8 flags = t->flags;
	const __u32 *sm, *dm;

	if (sp > 128 || dp > 128)
		return false;
	sm = mask_tab[sp];
	dm = mask_tab[dp];
	k->src_plen = sp;
	k->dst_plen = dp;
	k->proto = flags & ESPER_T_PROTO ? s->proto : 0;
	k->sport = !shadow && (flags & ESPER_T_SPORT) ? s->sport : 0;
	k->dport = !shadow && (flags & ESPER_T_DPORT) ? s->dport : 0;
	if (shadow) {
		flags |= ESPER_K_SHADOW;
		if ((flags & ESPER_T_PROTO) && s->proto == PROTO_UNKNOWN) {
			flags |= ESPER_K_NOPROTO;
			k->proto = 0;
		}
	}
	k->flags = flags;
	if (s->family == ESPER_AF_INET) {
		src[0] = s->src[0] & sm[0];
		dst[0] = s->dst[0] & dm[0];
		return true;
	}
#pragma unroll
	for (int w = 0; w < 4; w++) {
		src[w] = s->src[w] & sm[w];
		dst[w] = s->dst[w] & dm[w];
	}
	return true;
}

/* A key hit: the outbound policy's action, else the inbound one's. */
static __always_inline int by_value(const struct esper_spd_val *v, __u32 *id)
{
	if (v->out == ESPER_ACT_IPSEC) {
		*id = v->out_id;
		return SPD_PROTECT;
	}
	if (v->out == ESPER_ACT_DISCARD)
		return SPD_DISCARD;
	if (v->out == ESPER_ACT_BYPASS)
		return SPD_BYPASS;
	if (v->in == ESPER_ACT_BYPASS)
		return SPD_BYPASS;
	if (v->in == ESPER_ACT_DISCARD)
		return SPD_DISCARD;
	return v->in ? SPD_IN_DROP : SPD_NONE;
}

/*
 * Tuple-space search: probe the family's tuples in their stored order, first hit wins,
 * outbound before inbound on the same key; for an opaque packet a tuple it lacks fields of
 * is probed by its shadow key. A global function, so the verifier checks the loop once
 * whatever path the parser took. Returns enum spd_result, the policy id in *id.
 */
__noinline int spd_lookup(const struct pkt_sel *s, __u32 *id)
{
	struct esper_spd_key key;
	struct esper_tuple_list *tl;
	bool can_lack, ambiguous = false;
	__u32 fam, n;
	int res;

	if (!s || !id)
		return SPD_NONE;
	fam = s->family == ESPER_AF_INET6;
	tl = bpf_map_lookup_elem(&tuple_lists, &fam);
	if (!tl)
		return SPD_NONE;
	n = tl->count;
	can_lack = opaque(s);
	__builtin_memset(&key, 0, sizeof(key));
	key.family = s->family;
#pragma clang loop unroll(disable)
	for (__u32 i = 0; i < ESPER_MAX_TUPLES; i++) {
		struct esper_spd_val *v;
		bool shadow;

		if (i >= n)
			break;
		shadow = lacks(s, tl->t[i].flags);
		if (shadow && (!can_lack || ambiguous))
			continue;
		if (!spd_key(s, &tl->t[i], shadow, &key))
			continue;
		v = bpf_map_lookup_elem(&spd, &key);
		if (!v)
			continue;
		if (shadow) {
			ambiguous = true;
			continue;
		}
		res = by_value(v, id);
		if (res == SPD_NONE)
			continue;
		return ambiguous && res != SPD_PROTECT ? SPD_OPAQUE : res;
	}
	return ambiguous ? SPD_OPAQUE : SPD_NONE;
}

/*
 * Put struct esper_meta in front of the frame and redirect it to the XSK of the receiving
 * (ifindex, queue). Without a slot or a socket in it the fallback action is returned and
 * counted as c_fail.
 */
static __always_inline int redirect(struct xdp_md *ctx, __u32 kind, __u32 id, __u32 c_ok,
				    __u32 c_fail, int fallback)
{
	struct esper_xsk_key xk = {
		.ifindex = ctx->ingress_ifindex,
		.queue = ctx->rx_queue_index,
	};
	struct esper_meta *meta;
	__u32 *slot;
	int act;

	slot = bpf_map_lookup_elem(&xsk_slots, &xk);
	if (!slot)
		return count(c_fail, fallback);
	/* Metadata is a hint: where a driver has no room for it, the worker looks up itself. */
	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*meta)) == 0) {
		meta = (void *)(long)ctx->data_meta;
		if ((void *)(meta + 1) <= (void *)(long)ctx->data) {
			meta->magic = ESPER_META_MAGIC;
			meta->kind = kind;
			meta->id = id;
		}
	}
	act = bpf_redirect_map(&xsks, *slot, fallback);
	return count(act == XDP_REDIRECT ? c_ok : c_fail, act);
}

static __always_inline bool config_has(__u32 flag)
{
	__u32 zero = 0;
	struct esper_config *cfg = bpf_map_lookup_elem(&config, &zero);

	return cfg && (cfg->flags & flag);
}

static __always_inline bool addr_eq(const struct pkt_sel *s, const __u32 *pkt, const __u8 *sa)
{
	const __u32 *a = (const __u32 *)sa;

	if (s->family == ESPER_AF_INET)
		return pkt[0] == a[0];
	return pkt[0] == a[0] && pkt[1] == a[1] && pkt[2] == a[2] && pkt[3] == a[3];
}

static __always_inline bool is_local(const struct pkt_sel *s)
{
	struct esper_addr_key k;

	__builtin_memset(&k, 0, sizeof(k));
	k.family = s->family;
	__builtin_memcpy(k.addr, s->dst, sizeof(k.addr));
	return bpf_map_lookup_elem(&local_addrs, &k) != NULL;
}

/* Inbound ESP of an SA of ours (RFC 4303 2.1: the SPI; RFC 4301 4.1: an SA is one way, its
 * own addresses), addressed to this host: its UniqueID in *uid. Fragments are never ours:
 * the workers do not reassemble. */
static __always_inline bool esp_ours(struct xdp_md *ctx, const struct pkt_sel *s, __u32 *uid)
{
	struct esper_sa_in_val *sa;
	__be32 *esp;

	if (s->proto != IPPROTO_ESP_ || s->fragment || s->l4_off + 8 > s->l4_end)
		return false;
	esp = pkt_ptr(ctx, s->l4_off, 8);
	if (!esp)
		return false;
	sa = bpf_map_lookup_elem(&sa_in, esp);
	if (!sa || sa->encap || sa->family != s->family || !addr_eq(s, s->src, sa->src) ||
	    !addr_eq(s, s->dst, sa->dst))
		return false;
	if (config_has(ESPER_CFG_LOCAL) && !is_local(s))
		return false;
	*uid = sa->uid;
	return true;
}

enum natt_result {
	NATT_NONE,	/* not UDP to a NAT-T destination of this host */
	NATT_CONTROL,	/* IKE (non-ESP marker) or a NAT-keepalive: the kernel's */
	NATT_ESP,	/* ESP in UDP of an SA of ours: *uid */
	NATT_UNKNOWN,	/* ESP in UDP for no SA of ours */
};

/* Does an esp-udp SA that may decrypt go to the packet's destination address and port? The
 * port is looked at first, in natt_ports: most UDP goes to no NAT-T port at all. */
static __always_inline bool natt_dest(const struct pkt_sel *s)
{
	__u32 port = bpf_ntohs(s->dport), word = port / 64;
	__u64 *bits = bpf_map_lookup_elem(&natt_ports, &word);
	struct esper_natt_key k;

	if (!bits || !((*bits >> (port % 64)) & 1))
		return false;
	__builtin_memset(&k, 0, sizeof(k));
	k.family = s->family;
	k.port = s->dport;
	__builtin_memcpy(k.addr, s->dst, sizeof(k.addr));
	return bpf_map_lookup_elem(&natt_dests, &k) != NULL;
}

/* UDP to a NAT-T destination of this host (RFC 3948 2.2, 2.3): what it carries. ESP's SPI is the
 * first 4 bytes after the UDP header, never zero; ESP needs its 8-byte header at least. */
static __always_inline int natt(struct xdp_md *ctx, const struct pkt_sel *s, __u32 *uid)
{
	struct esper_sa_in_val *sa;
	__u32 len, off = s->l4_off + 8;
	__u8 *p;

	if (s->proto != IPPROTO_UDP_ || s->fragment || !s->has_ports || off > s->l4_end ||
	    !natt_dest(s) || (config_has(ESPER_CFG_LOCAL) && !is_local(s)))
		return NATT_NONE;
	len = s->l4_end - off;
	if (len == 1) {
		p = pkt_ptr(ctx, off, 1);
		return p && *p == 0xff ? NATT_CONTROL : NATT_NONE;
	}
	p = pkt_ptr(ctx, off, 4);
	if (len < 4 || !p)
		return NATT_NONE;
	if (!*(__u32 *)p)
		return NATT_CONTROL;
	if (len < 8)
		return NATT_NONE;
	sa = bpf_map_lookup_elem(&sa_in, p);
	if (!sa || !sa->encap || sa->dport != s->dport || sa->family != s->family ||
	    !addr_eq(s, s->dst, sa->dst))
		return NATT_UNKNOWN;
	*uid = sa->uid;
	return NATT_ESP;
}

/* Strict reverse path (as rp_filter): the kernel's route back to the source leaves by the
 * interface the packet came in on. A lookup the FIB refuses (no route, a local source,
 * forwarding off on that interface) fails it. */
static __always_inline bool reverse_path_ok(struct xdp_md *ctx, const struct pkt_sel *s)
{
	struct bpf_fib_lookup p;
	long rc;

	__builtin_memset(&p, 0, sizeof(p));
	p.ifindex = ctx->ingress_ifindex;
	if (s->family == ESPER_AF_INET) {
		p.family = AF_INET_;
		p.ipv4_src = s->dst[0];
		p.ipv4_dst = s->src[0];
	} else {
		p.family = AF_INET6_;
		__builtin_memcpy(p.ipv6_src, s->dst, 16);
		__builtin_memcpy(p.ipv6_dst, s->src, 16);
	}
	rc = bpf_fib_lookup(ctx, &p, sizeof(p), BPF_FIB_LOOKUP_SKIP_NEIGH);
	return rc == BPF_FIB_LKUP_RET_SUCCESS && p.ifindex == ctx->ingress_ifindex;
}

/* Everything but inbound ESP of ours, ESP included, by the SPD; natt: what natt() made of
 * it. IKE and keepalives to a NAT-T destination of this host pass past every policy but one that
 * protects them (which tunnels them: never a leak), as the kernel's UDP-encapsulation
 * socket would take them, so the keying daemon keeps its socket under any policy. */
static __always_inline int classify_plain(struct xdp_md *ctx, const struct pkt_sel *s,
					  int natt)
{
	__u32 id = 0;
	int res = spd_lookup(s, &id);

	if (res == SPD_PROTECT) {
		if (config_has(ESPER_CFG_RPF) && !reverse_path_ok(ctx, s))
			return count(ESPER_C_DROP_RPF, XDP_DROP);
		/* never pass it when the socket is missing: that would leak it */
		return redirect(ctx, ESPER_META_PLAIN_OUT, id, ESPER_C_REDIRECT_PLAIN_OUT,
				ESPER_C_DROP_NO_XSK, XDP_DROP);
	}
	if (natt == NATT_CONTROL)
		return count(ESPER_C_PASS_NATT_CONTROL, XDP_PASS);
	switch (res) {
	case SPD_DISCARD:
		return count(ESPER_C_DROP_DISCARD, XDP_DROP);
	case SPD_IN_DROP:
		return count(ESPER_C_DROP_IN_POLICY, XDP_DROP);
	case SPD_OPAQUE:
		return count(ESPER_C_DROP_OPAQUE, XDP_DROP);
	case SPD_BYPASS:
		return count(ESPER_C_PASS_BYPASS, XDP_PASS);
	}
	if ((s->proto == IPPROTO_ESP_ && !s->fragment) || natt == NATT_UNKNOWN) {
		if (config_has(ESPER_CFG_UNKNOWN_SPI_DROP))
			return count(ESPER_C_DROP_UNKNOWN_SPI, XDP_DROP);
		return count(ESPER_C_PASS_UNKNOWN_SPI, XDP_PASS);
	}
	return count(ESPER_C_PASS_NO_POLICY, XDP_PASS);
}

SEC("xdp")
int esper_xdp(struct xdp_md *ctx)
{
	struct pkt_sel s;
	__u32 uid = 0;
	int natt_res;

	__builtin_memset(&s, 0, sizeof(s));
	switch (parse_packet(ctx, &s)) {
	case PARSE_OK:
		break;
	case PARSE_NOT_IP:
		return count(ESPER_C_PASS_NOT_IP, XDP_PASS);
	case PARSE_TOO_MANY_TAGS:
		return count(ESPER_C_DROP_TAGS, XDP_DROP);
	default:
		return count(ESPER_C_PASS_MALFORMED, XDP_PASS);
	}
	if (esp_ours(ctx, &s, &uid))
		return redirect(ctx, ESPER_META_ESP_IN, uid, ESPER_C_REDIRECT_ESP_IN,
				ESPER_C_PASS_NO_XSK, XDP_PASS);
	natt_res = natt(ctx, &s, &uid);
	if (natt_res == NATT_ESP)
		return redirect(ctx, ESPER_META_ESP_IN, uid, ESPER_C_REDIRECT_ESP_IN,
				ESPER_C_PASS_NO_XSK, XDP_PASS);
	return classify_plain(ctx, &s, natt_res);
}

char LICENSE[] SEC("license") = "GPL";
