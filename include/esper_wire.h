/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * esper_wire.h - headers as they travel, named after their RFCs, for the userspace datapath.
 * Multi-byte fields are network order; access unaligned data through memcpy or these
 * packed structs.
 */
#ifndef ESPER_WIRE_H
#define ESPER_WIRE_H

#include <stdint.h>

#define ETH_HLEN_	14
#define ETHERTYPE_IPV4	0x0800
#define ETHERTYPE_IPV6	0x86dd
#define ETHERTYPE_VLAN	0x8100
#define ETHERTYPE_QINQ	0x88a8

#define IPPROTO_UDP_	17
#define IPPROTO_ESP_	50
#define IPPROTO_NONE_	59	/* ESP next header of a dummy (TFC) packet, RFC 4303 2.6 */

/* RFC 791 */
struct ipv4_hdr {
	uint8_t ver_ihl;
	uint8_t tos;
	uint16_t tot_len;
	uint16_t id;
	uint16_t frag_off;
	uint8_t ttl;
	uint8_t proto;
	uint16_t check;
	uint8_t saddr[4];
	uint8_t daddr[4];
} __attribute__((packed));

#define IPV4_DF		0x4000
#define IPV4_MF		0x2000
#define IPV4_OFFSET	0x1fff

/* RFC 8200 */
struct ipv6_hdr {
	uint32_t ver_tc_flow;
	uint16_t payload_len;
	uint8_t nexthdr;
	uint8_t hop_limit;
	uint8_t saddr[16];
	uint8_t daddr[16];
} __attribute__((packed));

/* RFC 768; as RFC 3948 2.1 puts it in front of ESP */
struct udp_hdr {
	uint16_t source;
	uint16_t dest;
	uint16_t len;
	uint16_t check;
} __attribute__((packed));

#define UDP_HLEN	8

#endif
