/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * parse.h - bounded, verifier-proof parsers of the XDP program (bpf/esper.bpf.c): Ethernet
 * with up to two VLAN tags, IPv4 (options skipped by ihl), IPv6 with a walk over at most
 * ESPER_MAX_IPV6_EXT extension headers (RFC 8200 section 4), TCP/UDP ports. The result is a
 * struct pkt_sel: the selectors the SPD and the inbound SA lookups need.
 *
 * Headers at bounded offsets (Ethernet, VLAN, IPv4, IPv6, the ports, the ESP header) are
 * read directly from the packet. The extension header walk reads each header with
 * bpf_xdp_load_bytes: its offsets are data-dependent, and keeping them out of pointer
 * arithmetic keeps them imprecise for the verifier, so the walk's paths prune instead of
 * multiplying (it costs one helper call per extension header, a rare path).
 */
#ifndef ESPER_BPF_PARSE_H
#define ESPER_BPF_PARSE_H

#define ETH_P_IP_	0x0800
#define ETH_P_IPV6_	0x86DD
#define ETH_P_8021Q_	0x8100
#define ETH_P_8021AD_	0x88A8

#define IPPROTO_HOPOPTS_	0
#define IPPROTO_TCP_		6
#define IPPROTO_UDP_		17
#define IPPROTO_ROUTING_	43
#define IPPROTO_FRAGMENT_	44
#define IPPROTO_ESP_		50
#define IPPROTO_AH_		51
#define IPPROTO_DSTOPTS_	60
#define PROTO_UNKNOWN		255	/* IPv6 chain too long or truncated */

#define MAX_VLAN_TAGS		2
#define IP4_FRAG_OFFSET		0x1fff
#define IP6_FRAG_OFFSET		0xfff8
#define MAX_L4_OFF		0x7fff	/* beyond any walk: 22 + 40 + 8 * 2048 */

enum parse_result {
	PARSE_OK,
	PARSE_NOT_IP,
	PARSE_MALFORMED,
	PARSE_TOO_MANY_TAGS,	/* a third VLAN tag: the kernel would strip it (VID 0) */
};

/* The selectors of one packet. Addresses in network order, IPv4 in src[0]/dst[0]. */
struct pkt_sel {
	__u32 src[4];
	__u32 dst[4];
	__be16 sport;		/* valid if has_ports */
	__be16 dport;
	__u8 family;		/* ESPER_AF_INET or ESPER_AF_INET6 */
	__u8 proto;		/* upper-layer protocol, PROTO_UNKNOWN if the walk gave up */
	__u8 has_ports;
	__u8 nonfirst_frag;
	__u8 fragment;		/* any fragment, first or not */
	__u32 l3_off;		/* IP header, from the frame start */
	__u32 l4_off;		/* upper-layer header */
	__u32 l4_end;		/* end of the IP packet: min(frame, IP length) */
};

/* Ethernet and up to two VLAN tags (802.1Q, 802.1ad in any order). A third is refused: the
 * kernel strips priority tags (VID 0) however many there are and takes what is inside. */
static __always_inline int parse_eth(void *data, void *data_end, __u32 *l3_off, __be16 *proto)
{
	struct ethhdr *eth = data;
	__u32 off = sizeof(*eth);
	__be16 p;

	if ((void *)(eth + 1) > data_end)
		return PARSE_MALFORMED;
	p = eth->h_proto;
#pragma unroll
	for (int i = 0; i < MAX_VLAN_TAGS; i++) {
		struct vlan_hdr *vh = data + off;

		if (p != bpf_htons(ETH_P_8021Q_) && p != bpf_htons(ETH_P_8021AD_))
			break;
		if ((void *)(vh + 1) > data_end)
			return PARSE_MALFORMED;
		p = vh->h_vlan_encapsulated_proto;
		off += sizeof(*vh);
	}
	if (p == bpf_htons(ETH_P_8021Q_) || p == bpf_htons(ETH_P_8021AD_))
		return PARSE_TOO_MANY_TAGS;
	*l3_off = off;
	*proto = p;
	return PARSE_OK;
}

/* RFC 791: header length from ihl (options skipped), total length within the frame. */
static __always_inline int parse_ipv4(void *data, void *data_end, __u32 l3_off, struct pkt_sel *s)
{
	struct iphdr *ip = data + l3_off;
	__u32 hlen, tot;

	if ((void *)(ip + 1) > data_end)
		return PARSE_MALFORMED;
	hlen = ip->ihl * 4;
	tot = bpf_ntohs(ip->tot_len);
	if (ip->version != 4 || hlen < sizeof(*ip) || tot < hlen)
		return PARSE_MALFORMED;
	if ((void *)ip + tot > data_end)
		return PARSE_MALFORMED;
	s->family = ESPER_AF_INET;
	s->proto = ip->protocol;
	s->src[0] = ip->saddr;
	s->dst[0] = ip->daddr;
	s->nonfirst_frag = (ip->frag_off & bpf_htons(IP4_FRAG_OFFSET)) != 0;
	s->fragment = (ip->frag_off & bpf_htons(IP4_FRAG_OFFSET | 0x2000)) != 0;
	s->l3_off = l3_off;
	s->l4_off = l3_off + hlen;
	s->l4_end = l3_off + tot;
	return PARSE_OK;
}

static __always_inline int ipv6_is_ext(__u8 nh)
{
	return nh == IPPROTO_HOPOPTS_ || nh == IPPROTO_ROUTING_ || nh == IPPROTO_DSTOPTS_ ||
	       nh == IPPROTO_FRAGMENT_ || nh == IPPROTO_AH_;
}

/* Length of one extension header from its first 8 bytes: options and routing headers
 * count 8-octet units beyond the first (RFC 8200 4.3-4.6), AH 4-octet units beyond the
 * first two (RFC 4302 2.2), the fragment header is 8 bytes (RFC 8200 4.5). */
static __always_inline __u32 ipv6_ext_len(__u8 nh, const __u8 *h)
{
	if (nh == IPPROTO_FRAGMENT_)
		return 8;
	if (nh == IPPROTO_AH_)
		return ((__u32)h[1] + 2) * 4;
	return ((__u32)h[1] + 1) * 8;
}

/* Walk at most ESPER_MAX_IPV6_EXT extension headers from off; sets proto, l4_off and
 * nonfirst_frag. A chain that is longer or truncated gives PROTO_UNKNOWN (no ports). */
static __always_inline void ipv6_walk(struct xdp_md *ctx, __u8 nh, __u32 off, struct pkt_sel *s)
{
	__u8 h[8];

	for (int i = 0; i < ESPER_MAX_IPV6_EXT; i++) {
		__u32 len;

		if (!ipv6_is_ext(nh))
			break;
		if (off + sizeof(h) > s->l4_end || bpf_xdp_load_bytes(ctx, off, h, sizeof(h)))
			goto unknown;
		len = ipv6_ext_len(nh, h);
		if (off + len > s->l4_end)
			goto unknown;
		if (nh == IPPROTO_FRAGMENT_)
			s->fragment = 1;
		if (nh == IPPROTO_FRAGMENT_ && (*(__be16 *)&h[2] & bpf_htons(IP6_FRAG_OFFSET))) {
			/* Not the first fragment: what follows is payload, no ports. If the
			 * fragment header names another extension header, the upper-layer
			 * protocol is not known here at all. */
			s->nonfirst_frag = 1;
			s->proto = ipv6_is_ext(h[0]) ? PROTO_UNKNOWN : h[0];
			s->l4_off = off + len;
			return;
		}
		nh = h[0];
		off += len;
	}
	if (ipv6_is_ext(nh))
		goto unknown;
	s->proto = nh;
	s->l4_off = off;
	return;
unknown:
	s->proto = PROTO_UNKNOWN;
	s->l4_off = s->l4_end;
}

/* RFC 8200: fixed header, payload length within the frame, then the extension headers. */
static __always_inline int parse_ipv6(struct xdp_md *ctx, void *data, void *data_end,
				      __u32 l3_off, struct pkt_sel *s)
{
	struct ipv6hdr *ip6 = data + l3_off;
	__u32 end;

	if ((void *)(ip6 + 1) > data_end)
		return PARSE_MALFORMED;
	if (ip6->version != 6)
		return PARSE_MALFORMED;
	end = l3_off + sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
	if (data + end > data_end)
		return PARSE_MALFORMED;
	s->family = ESPER_AF_INET6;
	__builtin_memcpy(s->src, &ip6->saddr, sizeof(s->src));
	__builtin_memcpy(s->dst, &ip6->daddr, sizeof(s->dst));
	s->l3_off = l3_off;
	s->l4_end = end;
	ipv6_walk(ctx, ip6->nexthdr, l3_off + sizeof(*ip6), s);
	return PARSE_OK;
}

/* Bytes [off, off + len) of the frame, or NULL if they are not all in it. */
static __always_inline void *pkt_ptr(struct xdp_md *ctx, __u32 off, __u32 len)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *p = (void *)(long)ctx->data;

	if (off > MAX_L4_OFF)
		return NULL;
	p += off;
	if (p + len > data_end)
		return NULL;
	return p;
}

/* TCP and UDP ports: only when the 4 bytes are in the packet and it is not a non-first
 * fragment. Other protocols (ICMP and ICMPv6 included) never have ports. */
static __always_inline void parse_ports(struct xdp_md *ctx, struct pkt_sel *s)
{
	__be16 *p;

	if (s->proto != IPPROTO_TCP_ && s->proto != IPPROTO_UDP_)
		return;
	if (s->nonfirst_frag || s->l4_off + 4 > s->l4_end)
		return;
	p = pkt_ptr(ctx, s->l4_off, 4);
	if (!p)
		return;
	s->sport = p[0];
	s->dport = p[1];
	s->has_ports = 1;
}

/* The whole frame: PARSE_OK with s filled, PARSE_NOT_IP or PARSE_MALFORMED. */
static __always_inline int parse_packet(struct xdp_md *ctx, struct pkt_sel *s)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	__u32 l3_off;
	__be16 proto;
	int rc;

	rc = parse_eth(data, data_end, &l3_off, &proto);
	if (rc)
		return rc;
	if (proto == bpf_htons(ETH_P_IP_))
		rc = parse_ipv4(data, data_end, l3_off, s);
	else if (proto == bpf_htons(ETH_P_IPV6_))
		rc = parse_ipv6(ctx, data, data_end, l3_off, s);
	else
		return PARSE_NOT_IP;
	if (rc)
		return rc;
	parse_ports(ctx, s);
	return PARSE_OK;
}

#endif /* ESPER_BPF_PARSE_H */
