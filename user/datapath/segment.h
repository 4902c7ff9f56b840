/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * segment.h - packets read from the host port behind a virtio_net_hdr (hostport.h, with TSO
 * and checksum offload on): a GSO packet (TCPV4, TCPV6, UDP_L4) is cut into the packets the
 * kernel would have sent, each of which then goes through the pipeline like any other
 * (policy, encryption, MTU); a packet whose checksum the kernel left unfinished (NEEDS_CSUM)
 * gets it. Nothing leaves as the big packet: what cannot be cut is refused.
 */
#ifndef ESPER_SEGMENT_H
#define ESPER_SEGMENT_H

#include <stdbool.h>
#include <stdint.h>

#define SEGMENT_VNET_LEN 10	/* struct virtio_net_hdr */

/* A packet read from the host port: its virtio_net_hdr and the IP packet that follows. */
struct segment_src {
	const uint8_t *ip;
	uint32_t len;
	uint8_t gso_type;	/* 0: not GSO */
	uint16_t gso_size;	/* payload bytes per piece */
	bool needs_csum;
	uint16_t csum_start, csum_offset;
	uint16_t hlen;		/* IP and L4 headers (found by segment_check) */
	uint16_t count;		/* pieces (1 if not GSO) */
};

/* Read the virtio_net_hdr vh in front of ip (len bytes) and check that ip can be cut as it
 * says: 0, or -EINVAL (refuse the packet). */
int segment_check(const uint8_t *vh, const uint8_t *ip, uint32_t len, struct segment_src *s);
/* A packet that is not GSO: its checksum finished in place (ip is s->ip) if the kernel
 * left it to us. */
void segment_csum(const struct segment_src *s, uint8_t *ip);
/* Write piece i (< s->count) of GSO packet s at out (room for s->hlen + s->gso_size bytes),
 * with its lengths, IPv4 ID, TCP sequence number and flags, and checksums made, as the
 * kernel's GSO makes them; its length. */
uint32_t segment_piece(const struct segment_src *s, unsigned i, uint8_t *out);

#endif
