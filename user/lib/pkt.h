/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pkt.h - parsing of frames and IP packets in userspace, with the same rules as the XDP
 * program (bpf/parse.h), so that the userspace SPD lookup sees the selectors XDP sees:
 * up to two VLAN tags; IPv4 with options (non-first fragments carry no ports); IPv6 with a
 * walk over at most ESPER_MAX_IPV6_EXT extension headers (a chain that doesn't end within
 * that, or is truncated, gives protocol PKT_PROTO_UNKNOWN and no ports). Also checksums.
 */
#ifndef ESPER_PKT_H
#define ESPER_PKT_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#define PKT_PROTO_UNKNOWN 255

struct pkt_info {
	uint8_t family;		/* AF_INET or AF_INET6 */
	uint8_t proto;		/* upper-layer protocol, or PKT_PROTO_UNKNOWN */
	bool has_ports;
	bool fragment;		/* any fragment (first or not) */
	bool later_fragment;	/* a fragment other than the first */
	uint16_t sport, dport;	/* network order, valid if has_ports */
	uint16_t ip_len;	/* the packet's length as its IP header says */
	uint16_t l4_off;	/* offset of the upper-layer header (after options/ext headers);
				 * ip_len if the IPv6 walk gave up: always <= ip_len */
	uint16_t nh_off;	/* offset of the byte that names the upper-layer protocol */
	const uint8_t *src, *dst;
};

/* Parse the IP packet at l3 (len bytes available). 0, or -EINVAL if it isn't a sane IPv4
 * or IPv6 packet (bad version/length, truncated fixed header). */
int pkt_parse(const uint8_t *l3, size_t len, struct pkt_info *pi);

/* Ethernet: offset of the IP header and its ethertype after up to two VLAN tags.
 * -EINVAL if truncated, -E2BIG if a third tag follows (the kernel strips VID 0 tags however
 * many there are: what is inside cannot be classified, so it must be dropped). */
int pkt_l2_parse(const uint8_t *frame, size_t len, uint16_t *l3_off, uint16_t *ethertype);

/*
 * An Ethernet frame as the XDP program parses it: pkt_l2_parse, then pkt_parse of the IP
 * packet at *l3_off, which must be of the family its ethertype names (XDP goes by the
 * ethertype; pkt_parse alone by the version nibble). 0 with *l3_off and *pi filled;
 * -ENOENT if the ethertype (after at most two VLAN tags) is neither IPv4 nor IPv6, as XDP's
 * "not IP"; -EINVAL for a truncated link header, a version nibble that contradicts the
 * ethertype, or what pkt_parse refuses, as XDP's "malformed"; -E2BIG for a third VLAN
 * tag. Those verdicts are XDP's PASS_NOT_IP, PASS_MALFORMED and DROP_TAGS.
 */
int pkt_parse_frame(const uint8_t *frame, size_t len, uint16_t *l3_off, struct pkt_info *pi);

/* Internet checksum (RFC 1071) helpers. */
uint32_t csum_add(uint32_t sum, const void *data, size_t len);
uint16_t csum_fold(uint32_t sum);
void csum_ipv4_header(uint8_t *ip);
/* Recompute the TCP/UDP/ICMP/ICMPv6 checksum of the parsed packet; 0 or -EINVAL. */
int csum_l4(uint8_t *l3, const struct pkt_info *pi);
/* Does the TCP/UDP checksum look unfinished: only the pseudo-header sum, as a sender that
 * offloads checksums leaves it (CHECKSUM_PARTIAL), or zero where zero is not allowed?
 * A complete checksum matches by chance once in 65536; recomputing it then changes nothing. */
bool csum_l4_unfinished(const uint8_t *l3, const struct pkt_info *pi);
/* Is the TCP/UDP checksum of the parsed packet (not a fragment) right? A UDP checksum of
 * zero (none, over IPv4) is not. */
bool csum_l4_valid(const uint8_t *l3, const struct pkt_info *pi);
/* The pseudo-header sum of a TCP/UDP packet whose L4 part is l4_len bytes, folded, not
 * complemented: what the checksum field holds for a sender that offloads the rest
 * (CHECKSUM_PARTIAL, and virtio_net_hdr's NEEDS_CSUM). */
uint16_t csum_l4_partial(const struct pkt_info *pi, uint32_t l4_len);

/*
 * csum_l4_unfinished for what ESP encrypts, inline over IPv4 (IPv6: the call). The sums are
 * those of pkt.c: 16-bit words in memory order (RFC 1071 2(B)), so the same on either byte
 * order; csum_fold16 folds one to 16 bits without the complement.
 */
static inline uint32_t csum_fold16(uint64_t s)
{
	uint32_t lo = (uint32_t)s, hi = (uint32_t)(s >> 32);

	lo += hi;
	lo += lo < hi;		/* end-around carry */
	/* the high half plus the low half with its carry, in the high half (as Linux's
	 * csum_fold) */
	return (lo + (lo >> 16 | lo << 16)) >> 16;
}

static inline bool csum_l4_unfinished_fast(const uint8_t *l3, const struct pkt_info *pi)
{
	unsigned at = pi->proto == 6 ? 16 : 6;
	uint32_t l4_len = pi->ip_len - pi->l4_off, src, dst;
	uint16_t field;

	if (pi->family != AF_INET)
		return csum_l4_unfinished(l3, pi);
	if ((pi->proto != 6 && pi->proto != 17) || pi->fragment || l4_len < at + 2u)
		return false;
	memcpy(&field, l3 + pi->l4_off + at, 2);
	if (field == 0)	/* TCP never; UDP over IPv4 may */
		return pi->proto == 6;
	/* the pseudo-header (RFC 768, 793): 0 | proto and the length as they would lie in
	 * memory; only its sum there: what an offloading sender leaves */
	memcpy(&src, pi->src, 4);
	memcpy(&dst, pi->dst, 4);
	return field == csum_fold16((uint64_t)src + dst + htons(pi->proto) +
				    htons((uint16_t)l4_len));
}

#endif
