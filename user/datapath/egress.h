/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * egress.h - where a worker's packets go after classification: plaintext for an outbound
 * policy is encrypted and leaves by AF_XDP on the egress interface (or through the kernel
 * while the next hop is unresolved), fragmented first or answered with "packet too big"
 * when it outgrows the path; decrypted packets go to the host port, or with --fast-forward
 * straight out of the interface the kernel routes them to. Called by worker.c on
 * the worker's own thread only.
 */
#ifndef ESPER_EGRESS_H
#define ESPER_EGRESS_H

#include "esp.h"
#include "worker.h"

/* A plaintext packet in a frame of the worker's UMEM, with the policy it is encrypted for. */
struct egress_pkt {
	uint64_t frame;		/* the frame's base address in the UMEM */
	struct pbuf b;
	struct pkt_info pi;	/* the parse of b's packet */
	struct sp *sp;
};

/* Encrypt and send n packets; every frame is consumed (queued for TX or freed). */
void egress_encrypt(struct worker *w, struct egress_pkt *pkts, unsigned n);

/* A decrypted packet at b in frame: forwarded by AF_XDP (--fast-forward; true, the frame is
 * queued) or handed to the host port (false, the caller frees the frame). */
bool egress_decrypted(struct worker *w, uint64_t frame, const struct pbuf *b);

/* Hand a packet to the host stack through the worker's host port queue. */
void egress_host(struct worker *w, const uint8_t *ip, uint32_t len);

#endif
