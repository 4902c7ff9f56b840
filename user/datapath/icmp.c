// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * icmp.c - ICMP "fragmentation needed" (type 3 code 4, RFC 1191) and ICMPv6 "packet too big"
 * (type 2, RFC 4443 3.2) for packets that outgrow the path once encapsulated. The message
 * quotes as much of the packet as fits (RFC 1812 4.3.2.3, RFC 4443 2.4(c)) and is never sent
 * about an ICMP error or a fragment other than the first (RFC 1122 3.2.2).
 */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "esper_wire.h"
#include "icmp.h"
#include "lib/bytes.h"

static bool is_icmp_error(const uint8_t *ip, const struct pkt_info *pi)
{
	uint8_t type;

	if (pi->proto != 1 && pi->proto != 58)
		return false;
	if (pi->l4_off >= pi->ip_len)
		return true;	/* no type to look at: stay quiet */
	type = ip[pi->l4_off];
	return pi->proto == 1 ? (type != 0 && type != 8 && type < 13) : type < 128;
}

static size_t too_big_v4(const uint8_t *ip, const struct pkt_info *pi, uint32_t mtu,
			 uint8_t *out)
{
	const struct ipv4_hdr *in = (const void *)ip;
	size_t quote = pi->ip_len < 548 ? pi->ip_len : 548;
	struct ipv4_hdr *h = (void *)out;
	uint8_t *icmp = out + sizeof(*h);
	uint16_t c;

	if (!(ntohs(in->frag_off) & IPV4_DF))
		return 0;
	memset(out, 0, sizeof(*h) + 8);
	h->ver_ihl = 0x45;
	h->tot_len = htons((uint16_t)(sizeof(*h) + 8 + quote));
	h->ttl = 64;
	h->proto = 1;
	memcpy(h->saddr, in->daddr, 4);
	memcpy(h->daddr, in->saddr, 4);
	csum_ipv4_header(out);
	icmp[0] = 3;	/* destination unreachable */
	icmp[1] = 4;	/* fragmentation needed and DF set */
	wr16(icmp + 6, (uint16_t)mtu);
	memcpy(icmp + 8, ip, quote);
	c = csum_fold(csum_add(0, icmp, 8 + quote));
	memcpy(icmp + 2, &c, 2);
	return sizeof(*h) + 8 + quote;
}

static size_t too_big_v6(const uint8_t *ip, const struct pkt_info *pi, uint32_t mtu,
			 uint8_t *out)
{
	const struct ipv6_hdr *in = (const void *)ip;
	size_t room = ICMP_TOO_BIG_MAX - sizeof(struct ipv6_hdr) - 8;
	size_t quote = pi->ip_len < room ? pi->ip_len : room;
	struct ipv6_hdr *h = (void *)out;
	uint8_t *icmp = out + sizeof(*h);
	struct pkt_info hpi;

	memset(out, 0, sizeof(*h) + 8);
	h->ver_tc_flow = htonl(6u << 28);
	h->payload_len = htons((uint16_t)(8 + quote));
	h->nexthdr = 58;
	h->hop_limit = 64;
	memcpy(h->saddr, in->daddr, 16);
	memcpy(h->daddr, in->saddr, 16);
	icmp[0] = 2;	/* packet too big */
	wr32(icmp + 4, mtu);
	memcpy(icmp + 8, ip, quote);
	pkt_parse(out, sizeof(*h) + 8 + quote, &hpi);
	csum_l4(out, &hpi);
	return sizeof(*h) + 8 + quote;
}

size_t icmp_too_big(const uint8_t *ip, const struct pkt_info *pi, uint32_t mtu, uint8_t *out)
{
	if (pi->later_fragment || is_icmp_error(ip, pi))
		return 0;
	if (mtu < (pi->family == AF_INET ? 68u : 1280u))	/* RFC 791, RFC 8200 5 */
		return 0;
	if (pi->family == AF_INET)
		return too_big_v4(ip, pi, mtu, out);
	return too_big_v6(ip, pi, mtu, out);
}
