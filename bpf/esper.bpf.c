// SPDX-License-Identifier: GPL-2.0
/*
 * esper.bpf.c - the XDP classifier: parse (parse.h) -> inbound ESP by SPI (RFC 4303 2.1) or
 * plaintext by the SPD (RFC 4301 4.4.1, tuple-space search as esper_abi.h specifies) ->
 * XDP_PASS, XDP_DROP or a redirect with struct esper_meta into the AF_XDP socket of the
 * receiving queue. Loaded and attached by user/bpf_load.c; maps (maps.h) written by
 * user/bpf_sync.c. Every verdict increments one per-CPU counter.
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
	SPD_OUT,
	SPD_IN,
};

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

/*
 * The packet's selectors masked by tuple t; false if t needs ports the packet lacks (or has
 * a prefix length beyond 128). IPv4 touches word 0 only: the others stay zero.
 */
static __always_inline bool spd_key(const struct pkt_sel *s, const struct esper_tuple *t,
				    struct esper_spd_key *k)
{
	__u32 *src = (__u32 *)k->src, *dst = (__u32 *)k->dst;
	__u32 sp = t->src_plen, dp = t->dst_plen;
	__u8 flags = t->flags;
	const __u32 *sm, *dm;

	if ((flags & (ESPER_T_SPORT | ESPER_T_DPORT)) && !s->has_ports)
		return false;
	if (sp > 128 || dp > 128)
		return false;
	sm = mask_tab[sp];
	dm = mask_tab[dp];
	k->src_plen = sp;
	k->dst_plen = dp;
	k->flags = flags;
	k->proto = flags & ESPER_T_PROTO ? s->proto : 0;
	k->sport = flags & ESPER_T_SPORT ? s->sport : 0;
	k->dport = flags & ESPER_T_DPORT ? s->dport : 0;
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

/*
 * Tuple-space search: probe the family's tuples in their stored order, first hit wins,
 * outbound before inbound on the same key. A global function, so the verifier checks the
 * loop once whatever path the parser took. Returns enum spd_result, the policy id in *id.
 */
__noinline int spd_lookup(const struct pkt_sel *s, __u32 *id)
{
	struct esper_spd_key key;
	struct esper_tuple_list *tl;
	__u32 fam, n;

	if (!s || !id)
		return SPD_NONE;
	fam = s->family == ESPER_AF_INET6;
	tl = bpf_map_lookup_elem(&tuple_lists, &fam);
	if (!tl)
		return SPD_NONE;
	n = tl->count;
	__builtin_memset(&key, 0, sizeof(key));
	key.family = s->family;
#pragma clang loop unroll(disable)
	for (__u32 i = 0; i < ESPER_MAX_TUPLES; i++) {
		struct esper_spd_val *v;

		if (i >= n)
			break;
		if (!spd_key(s, &tl->t[i], &key))
			continue;
		v = bpf_map_lookup_elem(&spd, &key);
		if (!v)
			continue;
		if (v->flags & ESPER_SPD_OUT) {
			*id = v->out_id;
			return SPD_OUT;
		}
		if (v->flags & ESPER_SPD_IN) {
			*id = v->in_id;
			return SPD_IN;
		}
	}
	return SPD_NONE;
}

/*
 * Put struct esper_meta in front of the frame and redirect it to the XSK of the receiving
 * (ifindex, queue). Without a slot or a socket in it the fallback action is returned and
 * counted as c_fail.
 */
static __always_inline int redirect(struct xdp_md *ctx, __u16 kind, __u32 id, __u32 l3_off,
				    __u32 c_ok, __u32 c_fail, int fallback)
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
			meta->l3_off = l3_off;
			meta->id = id;
			meta->pad = 0;
		}
	}
	act = bpf_redirect_map(&xsks, *slot, fallback);
	return count(act == XDP_REDIRECT ? c_ok : c_fail, act);
}

/*
 * Inbound ESP: SPI -> SA; never matched against the SPD as plaintext. Fragmented ESP goes
 * to the kernel whole (the workers do not reassemble; esper-xdp itself never sends ESP
 * that needs fragmenting, it answers with "packet too big" instead).
 */
static __always_inline int classify_esp(struct xdp_md *ctx, const struct pkt_sel *s)
{
	struct esper_sa_in_val *sa;
	struct esper_config *cfg;
	__u32 zero = 0;
	__be32 *esp;

	if (s->fragment)
		return count(ESPER_C_PASS_ESP_FRAGMENT, XDP_PASS);
	if (s->l4_off + 8 > s->l4_end)
		return count(ESPER_C_PASS_MALFORMED, XDP_PASS);
	esp = pkt_ptr(ctx, s->l4_off, 8);
	if (!esp)
		return count(ESPER_C_PASS_MALFORMED, XDP_PASS);
	sa = bpf_map_lookup_elem(&sa_in, esp);
	if (sa)
		return redirect(ctx, ESPER_META_ESP_IN, sa->uid, s->l3_off, ESPER_C_REDIRECT_ESP_IN,
				ESPER_C_PASS_NO_XSK, XDP_PASS);
	cfg = bpf_map_lookup_elem(&config, &zero);
	if (cfg && (cfg->flags & ESPER_CFG_UNKNOWN_SPI_DROP))
		return count(ESPER_C_DROP_UNKNOWN_SPI, XDP_DROP);
	return count(ESPER_C_PASS_UNKNOWN_SPI, XDP_PASS);
}

/* Plaintext: outbound policy -> redirect (drop if no XSK: never leak it), inbound -> drop. */
static __always_inline int classify_plain(struct xdp_md *ctx, const struct pkt_sel *s)
{
	__u32 id = 0;

	switch (spd_lookup(s, &id)) {
	case SPD_OUT:
		return redirect(ctx, ESPER_META_PLAIN_OUT, id, s->l3_off, ESPER_C_REDIRECT_PLAIN_OUT,
				ESPER_C_DROP_NO_XSK, XDP_DROP);
	case SPD_IN:
		return count(ESPER_C_DROP_IN_POLICY, XDP_DROP);
	default:
		return count(ESPER_C_PASS_NO_POLICY, XDP_PASS);
	}
}

SEC("xdp")
int esper_xdp(struct xdp_md *ctx)
{
	struct pkt_sel s;

	__builtin_memset(&s, 0, sizeof(s));
	switch (parse_packet(ctx, &s)) {
	case PARSE_OK:
		break;
	case PARSE_NOT_IP:
		return count(ESPER_C_PASS_NOT_IP, XDP_PASS);
	default:
		return count(ESPER_C_PASS_MALFORMED, XDP_PASS);
	}
	if (s.proto == IPPROTO_ESP_)
		return classify_esp(ctx, &s);
	return classify_plain(ctx, &s);
}

char LICENSE[] SEC("license") = "GPL";
