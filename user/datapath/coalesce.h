/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * coalesce.h - decrypted packets for the host port merged into GSO packets (what GRO does in
 * the kernel for a NIC): consecutive TCP segments of one flow, or UDP datagrams of one flow
 * and one size, become one IP packet behind a virtio_net_hdr (GSO TCPV4/TCPV6/UDP_L4, the
 * checksum left to the kernel), which the TUN device (hostport.h, IFF_VNET_HDR) takes in one
 * write. The kernel routes it once and, where it leaves, cuts it back into the packets it was
 * made of (or hands it whole to a local socket). A write per packet and a pass through the
 * forwarding path per packet was the cost of the host port (BENCHMARKS.md).
 *
 * What may be merged, so that the kernel's segmentation gives back the same packets: no IP
 * options or IPv6 extension headers, no fragment; every IP header field equal but the length,
 * the checksum and the IPv4 ID, which must go up by one per packet (or, with DF, stay the
 * same: such atomic datagrams then leave with IDs going up by one, RFC 6864 4.1); TCP: the
 * next sequence number, the same ACK, window and options, flags ACK (PSH allowed on the last
 * segment), every segment but the last of the same payload size; UDP: the same size but the
 * last one, which may be shorter. Every packet's own L4 checksum must be right: a merged
 * packet's checksum is made again by the kernel, which must not turn a corrupt segment into
 * a good one. Anything else is written as it came.
 */
#ifndef ESPER_COALESCE_H
#define ESPER_COALESCE_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/pkt.h"

#define COALESCE_VNET_LEN 10	/* struct virtio_net_hdr, the TUN device's default size */
#define COALESCE_MAX_LEN 65535	/* an IP packet, headers included */
#define COALESCE_MAX_SEGS 64
#define COALESCE_RUNS 8		/* flows merged at once */

/* Where a run stands (its first packet's headers are the merged packet's). */
struct coalesce_run {
	uint32_t len;		/* bytes of the IP packet in pkt; 0: empty */
	uint16_t segs;		/* packets merged in it */
	uint16_t hlen;		/* IP and L4 headers */
	uint16_t mss;		/* the payload size of the first packet */
	uint16_t last;		/* the payload size of the last one */
	uint16_t next_id;	/* IPv4: the ID the next packet must have */
	bool fixed_id;		/* IPv4 with DF: every packet has the same ID */
	bool closed;		/* the last packet ends the run (shorter, PSH) */
	uint32_t next_seq;	/* TCP: the sequence number of the next segment */
};

struct coalesce {
	struct coalesce_run r;
	uint8_t buf[COALESCE_VNET_LEN + COALESCE_MAX_LEN];	/* virtio_net_hdr, packet */
};

/* Start a run with the parsed packet ip (pi->ip_len bytes): copied, true; false if it can't
 * be merged with anything (c stays empty). */
bool coalesce_start(struct coalesce *c, const uint8_t *ip, const struct pkt_info *pi);
/* Append ip to c's run if it continues it: true (copied); false leaves c as it was. */
bool coalesce_append(struct coalesce *c, const uint8_t *ip, const struct pkt_info *pi);
/* Would b continue a run that a starts? The same rules, but the checksums, which
 * coalesce_start and coalesce_append check: a guess for choosing a path, never copied. */
bool coalesce_pair(const uint8_t *a, const struct pkt_info *pa, const uint8_t *b,
		   const struct pkt_info *pb);
/* The run as one write: its virtio_net_hdr and packet (headers set), in *out; its length.
 * c is empty afterwards. 0 if it was empty. */
uint32_t coalesce_take(struct coalesce *c, const uint8_t **out);

/* Runs of several flows at once, as GRO keeps them: run[0..n) are open, oldest first. */
struct coalesce_set {
	unsigned n;
	struct coalesce *run[COALESCE_RUNS];
	struct coalesce slab[COALESCE_RUNS];
};

/* Where a finished run goes: buf (virtio_net_hdr and packet, len bytes) of segs packets. */
typedef void coalesce_emit_fn(void *arg, const uint8_t *buf, uint32_t len, unsigned segs);

void coalesce_set_init(struct coalesce_set *s);
/* The parsed packet ip for the host port: true if it joined or started a run; false if it
 * is to be written alone, after every run it must not overtake (those between the same
 * addresses) was emitted. A run that ip does not continue but belongs to ip's flow is
 * emitted first; with every run open, the oldest is. */
bool coalesce_put(struct coalesce_set *s, const uint8_t *ip, const struct pkt_info *pi,
		  coalesce_emit_fn *emit, void *arg);
/* Emit every open run, oldest first. */
void coalesce_flush(struct coalesce_set *s, coalesce_emit_fn *emit, void *arg);

/* A virtio_net_hdr of zeros (no GSO, checksum complete) in front of every other packet. */
extern const uint8_t coalesce_plain_vnet[COALESCE_VNET_LEN];

#endif
