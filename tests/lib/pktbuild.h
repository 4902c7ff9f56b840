/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pktbuild.h - the one packet builder of the C tests, fuzz targets and benchmarks: IPv4
 * (with NOP options, fragments) and IPv6 (with extension headers: hop-by-hop, routing,
 * fragment, AH, destination options) packets carrying TCP, UDP, ICMP, ICMPv6 or ESP headers
 * or raw bytes, optionally in an Ethernet frame with up to two VLAN tags; or headers cut
 * short. The IPv4 header checksum is always right; the TCP/UDP/ICMP/ICMPv6 checksum too
 * when the builder writes the upper-layer header of a whole, unfragmented packet. The
 * checksums are computed here (RFC 1071), independently of user/lib/pkt.c. Header-only.
 *
 *	struct pb_pkt p = pb_packet("198.51.100.7", "203.0.113.9", 17, 4000, 53);
 *	size_t len = pb_ip(&p, buf);		// or pb_frame(&p, buf) for Ethernet
 */
#ifndef ESPER_TEST_PKTBUILD_H
#define ESPER_TEST_PKTBUILD_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/bytes.h"

#define PB_IPV4	   4 /* = ESPER_AF_INET */
#define PB_IPV6	   6 /* = ESPER_AF_INET6 */
#define PB_MAX_EXT 16

enum pb_frag {
	PB_FRAG_NONE,
	PB_FRAG_FIRST,	  /* IPv4 MF; IPv6 fragment headers M=1 offset 0 */
	PB_FRAG_NONFIRST, /* IPv4 offset 1480; IPv6 fragment headers M=1 offset 1480 */
	PB_FRAG_RAW,	  /* frag_raw as it is: IPv4 flags | offset, IPv6 offset | M */
};

/* What to build. Zero is a sensible default for every field but family and addresses. */
struct pb_pkt {
	uint8_t family;		  /* PB_IPV4 or PB_IPV6 */
	uint8_t src[16], dst[16]; /* network order, IPv4 in the first 4 bytes */
	uint8_t proto;		  /* upper layer; 6, 17, 1, 58, 50 get a header unless raw;
				   * never an IPv6 extension header number */
	uint16_t sport, dport;	  /* TCP and UDP, host order */
	uint32_t spi, seq;	  /* ESP, host order; seq 0 is written as 1 */
	/* the IP header */
	uint8_t tos;		 /* IPv4 TOS, IPv6 traffic class */
	uint8_t ttl;		 /* TTL or hop limit; 0: 64 */
	uint16_t id;		 /* IPv4 identification */
	uint32_t flow;		 /* IPv6 flow label */
	bool df;		 /* IPv4 DF, with PB_FRAG_NONE */
	uint8_t frag;		 /* enum pb_frag: the IPv4 header or each IPv6 fragment header */
	uint16_t frag_raw;	 /* with PB_FRAG_RAW */
	uint8_t ip4_optlen;	 /* IPv4 options (NOPs), a multiple of 4, <= 40 */
	uint8_t next;		 /* IPv6 extension headers: how many of ext[] */
	uint8_t ext[PB_MAX_EXT]; /* 0, 43, 44, 51 or 60, in order */
	uint8_t ext_len[PB_MAX_EXT]; /* multiples of 8; 0: 24 for 43 and 51, 16 for 60, else 8
				      * (44 is always 8) */
	/* the upper layer */
	bool raw;	     /* no upper-layer header: data is all of it */
	bool no_l4_csum;     /* leave the upper-layer checksum 0 */
	const uint8_t *data; /* payload bytes; NULL: 0xa0, 0xa1, ... */
	uint32_t payload;    /* bytes after the upper-layer header */
	uint8_t cut_l4;	     /* 0: whole; else the packet ends after cut_l4 - 1 bytes of
			      * the upper layer (a header cut short) */
	/* the link layer, pb_frame only */
	uint16_t vlan[2];   /* TPIDs of up to two tags, 0 ends the list */
	uint16_t ethertype; /* 0: from family; else a raw non-IP frame (28 zero bytes) */
};

/* The addresses of pb_frame's frames: to 02:00:00:00:00:02 from 02:00:00:00:00:01. */
static const uint8_t pb_mac_dst[6] __attribute__((unused)) = {2, 0, 0, 0, 0, 2};
static const uint8_t pb_mac_src[6] __attribute__((unused)) = {2, 0, 0, 0, 0, 1};

/* --- checksums (RFC 1071) --------------------------------------------------------------- */

static inline uint32_t pb_sum(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static inline uint16_t pb_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static inline uint16_t pb_csum(const uint8_t *p, size_t len)
{
	return pb_fold(pb_sum(0, p, len));
}

/* --- lengths ------------------------------------------------------------------------------ */

static inline size_t pb_ext_len(const struct pb_pkt *p, int i)
{
	if (p->ext[i] == 44)
		return 8;
	if (p->ext_len[i])
		return p->ext_len[i];
	return p->ext[i] == 43 || p->ext[i] == 51 ? 24 : p->ext[i] == 60 ? 16 : 8;
}

/* Offset of the upper layer in the IP packet: header, options, extension headers. */
static inline size_t pb_l4_off(const struct pb_pkt *p)
{
	size_t off = p->family == PB_IPV6 ? 40 : 20u + p->ip4_optlen;

	for (int i = 0; p->family == PB_IPV6 && i < p->next; i++)
		off += pb_ext_len(p, i);
	return off;
}

static inline size_t pb_l4_hdr_len(const struct pb_pkt *p)
{
	if (p->raw)
		return 0;
	switch (p->proto) {
	case 6:
		return 20;
	case 17:
	case 1:
	case 58:
	case 50:
		return 8;
	}
	return 0;
}

/* Bytes of the upper layer (header and payload) in the packet. */
static inline size_t pb_l4_len(const struct pb_pkt *p)
{
	size_t n = pb_l4_hdr_len(p) + p->payload;

	return p->cut_l4 && n > p->cut_l4 - 1u ? p->cut_l4 - 1u : n;
}

/* Offset of the IP header in a frame pb_frame builds. */
static inline size_t pb_l3_off(const struct pb_pkt *p)
{
	size_t off = 14;

	for (int i = 0; i < 2 && p->vlan[i]; i++)
		off += 4;
	return off;
}

/* --- the parts ---------------------------------------------------------------------------- */

static inline bool pb_fragment(const struct pb_pkt *p)
{
	if (p->family == PB_IPV4)
		return p->frag == PB_FRAG_RAW ? (p->frag_raw & 0x3fff) != 0
					      : p->frag != PB_FRAG_NONE;
	for (int i = 0; i < p->next; i++)
		if (p->ext[i] == 44)
			return true;
	return false;
}

/* The upper-layer header and payload at l4, cut as asked; its length. */
static inline size_t pb_build_l4(const struct pb_pkt *p, uint8_t *l4)
{
	size_t n = pb_l4_hdr_len(p), len = pb_l4_len(p);

	memset(l4, 0, n);
	switch (n ? p->proto : 0) {
	case 6:
		wr16(l4, p->sport);
		wr16(l4 + 2, p->dport);
		l4[12] = 5 << 4;
		l4[13] = 0x02; /* SYN */
		break;
	case 17:
		wr16(l4, p->sport);
		wr16(l4 + 2, p->dport);
		wr16(l4 + 4, (uint16_t)(8 + p->payload));
		break;
	case 1:
	case 58:
		l4[0] = p->proto == 1 ? 8 : 128; /* echo request */
		break;
	case 50:
		wr32(l4, p->spi);
		wr32(l4 + 4, p->seq ? p->seq : 1);
		break;
	}
	for (size_t i = 0; i < p->payload; i++)
		l4[n + i] = p->data ? p->data[i] : (uint8_t)(0xa0 + i);
	return len;
}

/* The TCP/UDP/ICMP/ICMPv6 checksum of the whole packet at ip, whose upper layer (l4len
 * bytes) is at l4. */
static inline void pb_l4_csum(const struct pb_pkt *p, const uint8_t *ip, uint8_t *l4, size_t l4len)
{
	size_t at = p->proto == 6 ? 16 : p->proto == 17 ? 6 : 2;
	uint8_t tail[8] = {0};
	uint32_t sum = 0;
	uint16_t c;

	if (p->proto == 50 || !pb_l4_hdr_len(p) || p->no_l4_csum || p->cut_l4 || pb_fragment(p))
		return;
	if (p->proto != 1) { /* the pseudo-header (RFC 768, 793, 8200 8.1) */
		size_t alen = p->family == PB_IPV6 ? 16 : 4;

		sum = pb_sum(pb_sum(0, ip + (alen == 4 ? 12 : 8), alen), ip + (alen == 4 ? 16 : 24),
			     alen);
		wr32(tail, (uint32_t)l4len);
		tail[7] = p->proto;
		sum = pb_sum(sum, tail, 8);
	}
	wr16(l4 + at, 0);
	c = pb_fold(pb_sum(sum, l4, l4len));
	if (p->proto == 17 && c == 0)
		c = 0xffff;
	wr16(l4 + at, c);
}

/* One IPv6 extension header i of p at h, naming nh as the next; its length. */
static inline size_t pb_build_ext(const struct pb_pkt *p, int i, uint8_t nh, uint8_t *h)
{
	static const uint16_t frag6[] = {[PB_FRAG_FIRST] = 1, [PB_FRAG_NONFIRST] = 185 << 3 | 1};
	size_t len = pb_ext_len(p, i);

	memset(h, 0, len);
	h[0] = nh;
	switch (p->ext[i]) {
	case 0:	 /* hop-by-hop: PadN */
	case 60: /* destination options: PadN */
		h[1] = (uint8_t)(len / 8 - 1);
		h[2] = 1;
		h[3] = (uint8_t)(len - 4);
		break;
	case 43: /* routing, type 4 (SRH-like), no segments left */
		h[1] = (uint8_t)(len / 8 - 1);
		h[2] = 4;
		break;
	case 44: /* fragment */
		wr16(h + 2, p->frag == PB_FRAG_RAW	  ? p->frag_raw
			    : p->frag == PB_FRAG_NONFIRST ? frag6[PB_FRAG_NONFIRST]
							  : frag6[PB_FRAG_FIRST]);
		wr32(h + 4, 0x1234);
		break;
	case 51: /* AH: SPI, sequence number, ICV */
		h[1] = (uint8_t)(len / 4 - 2);
		wr32(h + 4, 0xa5a5a5a5);
		if (len >= 12)
			wr32(h + 8, 7);
		break;
	}
	return len;
}

static inline size_t pb_build_ipv4(const struct pb_pkt *p, uint8_t *ip)
{
	size_t hlen = 20u + p->ip4_optlen, l4len = pb_build_l4(p, ip + hlen);
	uint16_t frag = p->frag == PB_FRAG_RAW	      ? p->frag_raw
			: p->frag == PB_FRAG_FIRST    ? 0x2000
			: p->frag == PB_FRAG_NONFIRST ? 185
			: p->df			      ? 0x4000
						      : 0;

	ip[0] = (uint8_t)(0x40 | hlen / 4);
	ip[1] = p->tos;
	wr16(ip + 2, (uint16_t)(hlen + l4len));
	wr16(ip + 4, p->id);
	wr16(ip + 6, frag);
	ip[8] = p->ttl ? p->ttl : 64;
	ip[9] = p->proto;
	wr16(ip + 10, 0);
	memcpy(ip + 12, p->src, 4);
	memcpy(ip + 16, p->dst, 4);
	memset(ip + 20, 1, p->ip4_optlen); /* NOP options */
	wr16(ip + 10, pb_csum(ip, hlen));
	pb_l4_csum(p, ip, ip + hlen, l4len);
	return hlen + l4len;
}

static inline size_t pb_build_ipv6(const struct pb_pkt *p, uint8_t *ip)
{
	size_t off = 40, l4len;

	for (int i = 0; i < p->next; i++) {
		uint8_t nh = i + 1 < p->next ? p->ext[i + 1] : p->proto;

		off += pb_build_ext(p, i, nh, ip + off);
	}
	l4len = pb_build_l4(p, ip + off);
	wr32(ip, 6u << 28 | (uint32_t)p->tos << 20 | (p->flow & 0xfffff));
	wr16(ip + 4, (uint16_t)(off - 40 + l4len));
	ip[6] = p->next ? p->ext[0] : p->proto;
	ip[7] = p->ttl ? p->ttl : 64;
	memcpy(ip + 8, p->src, 16);
	memcpy(ip + 24, p->dst, 16);
	pb_l4_csum(p, ip, ip + off, l4len);
	return off + l4len;
}

/* --- what the callers use ------------------------------------------------------------------ */

/* The IP packet of p at ip (room for pb_l4_off(p) + pb_l4_len(p) bytes); its length. */
static inline size_t pb_ip(const struct pb_pkt *p, uint8_t *ip)
{
	return p->family == PB_IPV6 ? pb_build_ipv6(p, ip) : pb_build_ipv4(p, ip);
}

/* An Ethernet header without tags at frame; its length (14). */
static inline size_t pb_eth(uint8_t *frame, const uint8_t dst[6], const uint8_t src[6],
			    uint16_t type)
{
	memcpy(frame, dst, 6);
	memcpy(frame + 6, src, 6);
	wr16(frame + 12, type);
	return 14;
}

/* The Ethernet frame of p at buf (room for pb_l3_off(p) + the IP packet); its length. */
static inline size_t pb_frame(const struct pb_pkt *p, uint8_t *buf)
{
	uint16_t type = p->ethertype ? p->ethertype : p->family == PB_IPV6 ? 0x86dd : 0x0800;
	size_t off = 12;

	memcpy(buf, pb_mac_dst, 6);
	memcpy(buf + 6, pb_mac_src, 6);
	for (int i = 0; i < 2 && p->vlan[i]; i++) {
		wr16(buf + off, p->vlan[i]);
		wr16(buf + off + 2, (uint16_t)(100 + i));
		off += 4;
	}
	wr16(buf + off, type);
	off += 2;
	if (p->ethertype) {
		memset(buf + off, 0, 28); /* an ARP body's worth of bytes */
		return off + 28;
	}
	return off + pb_ip(p, buf + off);
}

/* Shorten the IP packet of a frame pb_frame built from p to end at new_len (a frame
 * length), fixing its length field (and IPv4 header checksum), as a sender of a short
 * packet would have. */
static inline void pb_set_ip_end(const struct pb_pkt *p, uint8_t *buf, size_t new_len)
{
	size_t l3 = pb_l3_off(p);

	if (p->family == PB_IPV6) {
		wr16(buf + l3 + 4, (uint16_t)(new_len - l3 - 40));
		return;
	}
	wr16(buf + l3 + 2, (uint16_t)(new_len - l3));
	wr16(buf + l3 + 10, 0);
	wr16(buf + l3 + 10, pb_csum(buf + l3, 20u + p->ip4_optlen));
}

/* An address from text into a (16 bytes; IPv4 in the first 4); its family (PB_IPV4 or
 * PB_IPV6), 0 if it is neither. */
static inline uint8_t pb_addr(const char *text, uint8_t a[16])
{
	memset(a, 0, 16);
	if (inet_pton(AF_INET, text, a) == 1)
		return PB_IPV4;
	return inet_pton(AF_INET6, text, a) == 1 ? PB_IPV6 : 0;
}

/* A packet from src to dst (both of one family) with proto, ports and 16 payload bytes. */
static inline struct pb_pkt pb_packet(const char *src, const char *dst, uint8_t proto,
				      uint16_t sport, uint16_t dport)
{
	struct pb_pkt p = {.proto = proto, .sport = sport, .dport = dport, .payload = 16};

	p.family = pb_addr(src, p.src);
	pb_addr(dst, p.dst);
	return p;
}

#endif
