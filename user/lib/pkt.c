// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pkt.c - frame and IP parsing for the userspace datapath (the rules of pkt.h, the same as
 * the XDP program's) and Internet checksums (RFC 1071; pseudo-headers of RFC 793/768/8200).
 * Called by the datapath (ESP, the pipeline and its drivers) and the tests.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/types.h>
#include "bytes.h"
#include "esper_abi.h"
#include "esper_wire.h"
#include "pkt.h"

int pkt_l2_parse(const uint8_t *frame, size_t len, uint16_t *l3_off, uint16_t *ethertype)
{
	size_t off = 12;
	uint16_t type;

	if (len < ETH_HLEN_)
		return -EINVAL;
	type = rd16(frame + off);
	for (int tags = 0; tags < 2 && (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ); tags++) {
		off += 4;
		if (len < off + 2)
			return -EINVAL;
		type = rd16(frame + off);
	}
	if (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ)
		return -E2BIG;
	*l3_off = (uint16_t)(off + 2);
	*ethertype = type;
	return 0;
}

static void l4_ports(const uint8_t *l3, struct pkt_info *pi)
{
	if ((pi->proto != 6 && pi->proto != 17) || pi->l4_off + 4u > pi->ip_len)
		return;
	memcpy(&pi->sport, l3 + pi->l4_off, 2);
	memcpy(&pi->dport, l3 + pi->l4_off + 2, 2);
	pi->has_ports = true;
}

static int parse_ipv4(const uint8_t *l3, size_t len, struct pkt_info *pi)
{
	const struct ipv4_hdr *ip = (const void *)l3;
	unsigned ihl = (ip->ver_ihl & 15) * 4u;
	uint16_t frag;

	if (len < sizeof(*ip) || ihl < sizeof(*ip))
		return -EINVAL;
	pi->ip_len = ntohs(ip->tot_len);
	if (pi->ip_len < ihl || pi->ip_len > len)
		return -EINVAL;
	pi->family = AF_INET;
	pi->proto = ip->proto;
	pi->l4_off = (uint16_t)ihl;
	pi->nh_off = offsetof(struct ipv4_hdr, proto);
	pi->src = ip->saddr;
	pi->dst = ip->daddr;
	frag = ntohs(ip->frag_off);
	pi->fragment = frag & (IPV4_MF | IPV4_OFFSET);
	pi->later_fragment = frag & IPV4_OFFSET;
	if (!pi->later_fragment)
		l4_ports(l3, pi);
	return 0;
}

static bool is_ipv6_ext(uint8_t nh)
{
	return nh == 0 || nh == 43 || nh == 60 || nh == 44 || nh == 51;
}

/* Walk the extension headers; false if the chain is truncated or too long. */
static bool walk_ipv6_ext(const uint8_t *l3, struct pkt_info *pi, bool *non_first)
{
	for (int i = 0; i < ESPER_MAX_IPV6_EXT; i++) {
		const uint8_t *h = l3 + pi->l4_off;
		unsigned hlen;

		if (!is_ipv6_ext(pi->proto))
			return true;
		if (pi->l4_off + 8u > pi->ip_len)
			return false;
		if (pi->proto == 44) {
			pi->fragment = true;
			*non_first = rd16(h + 2) & 0xfff8;
			hlen = 8;
		} else if (pi->proto == 51) {
			hlen = (h[1] + 2u) * 4;
		} else {
			hlen = (h[1] + 1u) * 8;
		}
		pi->nh_off = pi->l4_off;
		pi->proto = h[0];
		pi->l4_off = (uint16_t)(pi->l4_off + hlen);
		if (pi->l4_off > pi->ip_len)
			return false;
		if (*non_first && is_ipv6_ext(pi->proto))
			return false;	/* as XDP: the upper layer is beyond this fragment */
		if (*non_first)
			return true;
	}
	return !is_ipv6_ext(pi->proto);
}

static int parse_ipv6(const uint8_t *l3, size_t len, struct pkt_info *pi)
{
	const struct ipv6_hdr *ip = (const void *)l3;
	bool non_first = false;

	if (len < sizeof(*ip))
		return -EINVAL;
	pi->ip_len = (uint16_t)(sizeof(*ip) + ntohs(ip->payload_len));
	if (pi->ip_len > len || sizeof(*ip) + ntohs(ip->payload_len) > 65535)
		return -EINVAL;
	pi->family = AF_INET6;
	pi->proto = ip->nexthdr;
	pi->l4_off = sizeof(*ip);
	pi->nh_off = offsetof(struct ipv6_hdr, nexthdr);
	pi->src = ip->saddr;
	pi->dst = ip->daddr;
	if (!walk_ipv6_ext(l3, pi, &non_first)) {
		/* As XDP: nothing beyond is known. The walk may have stepped past ip_len. */
		pi->proto = PKT_PROTO_UNKNOWN;
		pi->l4_off = pi->ip_len;
		pi->later_fragment = non_first;
		return 0;
	}
	pi->later_fragment = non_first;
	if (!non_first)
		l4_ports(l3, pi);
	return 0;
}

int pkt_parse(const uint8_t *l3, size_t len, struct pkt_info *pi)
{
	memset(pi, 0, sizeof(*pi));
	if (len < 1)
		return -EINVAL;
	switch (l3[0] >> 4) {
	case 4:
		return parse_ipv4(l3, len, pi);
	case 6:
		return parse_ipv6(l3, len, pi);
	}
	return -EINVAL;
}

int pkt_parse_frame(const uint8_t *frame, size_t len, uint16_t *l3_off, struct pkt_info *pi)
{
	uint16_t type;
	unsigned version;
	int err;

	memset(pi, 0, sizeof(*pi));
	err = pkt_l2_parse(frame, len, l3_off, &type);
	if (err < 0)
		return err;
	if (type == ETHERTYPE_IPV4)
		version = 4;
	else if (type == ETHERTYPE_IPV6)
		version = 6;
	else
		return -ENOENT;
	if (len <= *l3_off || frame[*l3_off] >> 4 != version)
		return -EINVAL;
	return pkt_parse(frame + *l3_off, len - *l3_off, pi);
}

/* --- checksums ------------------------------------------------------------------------- */

/* The body of csum_add, inlined where the length is a constant (headers, pseudo-headers)
 * so that the compiler unrolls it: the same sums, without the loops and the call. */
static inline __attribute__((always_inline)) uint32_t add(uint32_t sum, const void *data,
							   size_t len)
{
	const uint8_t *p = data;
	uint64_t acc = sum;

	for (; len >= 8; len -= 8, p += 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		acc += w;
		acc += acc < w;	/* end-around carry */
	}
	/* Below 2^33, so that the at most 3 words and a byte of the tail can't carry out of
	 * the 64 bits (they could when acc was within 2^18 of 2^64: one lost). */
	acc = (acc & 0xffffffff) + (acc >> 32);
	for (; len >= 2; len -= 2, p += 2) {
		uint16_t w;

		memcpy(&w, p, 2);
		acc += w;
	}
	if (len) {
		uint16_t w = 0;

		memcpy(&w, p, 1);
		acc += w;
	}
	acc = (acc & 0xffffffff) + (acc >> 32);
	acc = (acc & 0xffffffff) + (acc >> 32);
	return (uint32_t)acc;
}

uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	return add(sum, data, len);
}

uint16_t csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

void csum_ipv4_header(uint8_t *ip)
{
	struct ipv4_hdr *h = (void *)ip;
	unsigned ihl = (h->ver_ihl & 15) * 4u;
	uint64_t sum;

	if (ihl < 20) {	/* not a header: what the check field holds doesn't matter */
		h->check = 0;
		h->check = csum_fold(add(0, ip, ihl));
		return;
	}
	/* The sum with the old checksum taken out (adding ~c subtracts c in one's complement)
	 * rather than zeroed first: loads right behind a store to the bytes they cover stall
	 * until the store retires. ver_ihl is not 0, so the sum can't be +0 in one and -0 in
	 * the other. */
	sum = (uint64_t)(ihl == 20 ? add(0, ip, 20) : add(0, ip, ihl)) + (uint16_t)~h->check;
	sum = (sum & 0xffffffff) + (sum >> 32);
	h->check = csum_fold((uint32_t)sum);
}

static uint32_t pseudo_header(const uint8_t *l3, const struct pkt_info *pi, uint32_t l4_len)
{
	uint8_t tail[8] = { 0 };
	uint32_t sum;

	(void)l3;
	if (pi->family == AF_INET) {
		/* The words 0 | proto and the length as add() would load them from bytes, made
		 * in registers: loading them from bytes just stored stalls until they retire. */
		sum = add(add(0, pi->src, 4), pi->dst, 4);
		return sum + htons(pi->proto) + htons((uint16_t)l4_len);
	}
	sum = add(add(0, pi->src, 16), pi->dst, 16);
	wr32(tail, l4_len);
	tail[7] = pi->proto;
	return add(sum, tail, 8);
}

int csum_l4(uint8_t *l3, const struct pkt_info *pi)
{
	uint32_t l4_len = pi->ip_len - pi->l4_off;
	uint8_t *l4 = l3 + pi->l4_off;
	unsigned at;
	uint32_t sum;
	uint16_t c;

	if (pi->fragment)
		return -EINVAL;	/* only the whole datagram has a checksum */
	switch (pi->proto) {
	case 6: at = 16; break;
	case 17: at = 6; break;
	case 1: at = 2; break;
	case 58: at = 2; break;
	default: return -EINVAL;
	}
	if (l4_len < at + 2)
		return -EINVAL;
	memset(l4 + at, 0, 2);
	sum = pi->proto == 1 ? 0 : pseudo_header(l3, pi, l4_len);
	c = csum_fold(csum_add(sum, l4, l4_len));
	if (pi->proto == 17 && c == 0)
		c = 0xffff;	/* RFC 768: a computed zero is sent as all ones */
	memcpy(l4 + at, &c, 2);
	return 0;
}

bool csum_l4_unfinished(const uint8_t *l3, const struct pkt_info *pi)
{
	unsigned at = pi->proto == 6 ? 16 : 6;
	uint32_t l4_len = pi->ip_len - pi->l4_off;
	uint16_t field, partial;

	if ((pi->proto != 6 && pi->proto != 17) || pi->fragment || l4_len < at + 2u)
		return false;
	memcpy(&field, l3 + pi->l4_off + at, 2);
	if (field == 0)	/* TCP never; UDP over IPv6 never (RFC 8200 8.1) */
		return pi->proto == 6 || pi->family == AF_INET6;
	partial = (uint16_t)~csum_fold(pseudo_header(l3, pi, l4_len));
	return field == partial;
}

bool csum_l4_valid(const uint8_t *l3, const struct pkt_info *pi)
{
	unsigned at = pi->proto == 6 ? 16 : 6;
	uint32_t l4_len = pi->ip_len - pi->l4_off;
	uint16_t field;

	if ((pi->proto != 6 && pi->proto != 17) || pi->fragment || l4_len < at + 2u)
		return false;
	memcpy(&field, l3 + pi->l4_off + at, 2);
	if (field == 0 && pi->proto == 17)
		return false;	/* no checksum (IPv4), or a forbidden one (IPv6) */
	return csum_fold(csum_add(pseudo_header(l3, pi, l4_len), l3 + pi->l4_off, l4_len)) == 0;
}

uint16_t csum_l4_partial(const struct pkt_info *pi, uint32_t l4_len)
{
	return (uint16_t)~csum_fold(pseudo_header(NULL, pi, l4_len));
}
