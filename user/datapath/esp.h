/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * esp.h - ESP (RFC 4303) by direction: esp_out.c encapsulates a plaintext IP packet for an
 * outbound policy, esp_in.c decapsulates an ESP packet for an SA. Both work in place on a
 * buffer with head- and tailroom and see crypto only through crypto.h. Every drop is
 * counted in the SA's counters (sad.h) and returned as ESP_DROP(counter).
 */
#ifndef ESPER_ESP_H
#define ESPER_ESP_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "esper_wire.h"
#include "lib/pkt.h"
#include "tables/sad.h"
#include "tables/spd.h"

/* An IP packet at head + off, len bytes, in a buffer of size bytes. */
struct pbuf {
	uint8_t *head;
	uint32_t size;
	uint32_t off;
	uint32_t len;
};

/* Ask for every cache line of b's packet, to be written: a burst prefetches the next packet
 * while the current one is sealed or opened (live, the frames were written by the CPU that
 * ran XDP, so their lines come from another core's cache). */
static inline void pbuf_prefetch(const struct pbuf *b)
{
	const uint8_t *p = b->head + b->off;

	for (uint32_t at = 0; at < b->len; at += 64)
		__builtin_prefetch(p + at, 1);
}

#define ESP_HDR_LEN	8	/* SPI, sequence number */
#define ESP_OVERHEAD_MAX (40 + ESP_HDR_LEN + ESP_IV_LEN + 3 + 2 + ESP_ICV_MAX)
#define ESP_HEADROOM	(40 + ESP_HDR_LEN + ESP_IV_LEN)	/* what tunnel mode prepends at most */

#define ESP_DROP(counter) (-1 - (int)(counter))
static inline enum sa_counter esp_drop_reason(int r)
{
	return (enum sa_counter)(-1 - r);
}

/* esp_out flags */
#define ESP_OUT_FIX_CSUM 0x01	/* recompute every inner L4 checksum (dummy values); without it
				 * only unfinished ones are completed (csum_l4_unfinished) */

/* Encapsulate the packet in b for policy sp (RFC 4303 3.1-3.3; tunnel: RFC 4301 5.1.2,
 * ECN per RFC 6040 normal mode). mtu: the largest result allowed, 0 for no limit
 * (ESP_DROP(SA_C_too_big) otherwise, for the caller's ICMP "packet too big"). */
int esp_out(struct sp *sp, struct pbuf *b, unsigned thread, uint32_t mtu, unsigned flags);

/* The same with the sequence number and IV given (known-answer tests, benchmarks). */
int esp_out_seq_iv(struct sp *sp, struct pbuf *b, unsigned thread, uint32_t mtu,
		   unsigned flags, uint64_t seq, const uint8_t iv[ESP_IV_LEN]);

/* esp_out for a burst: packet b[i] for policy sp[i], pi[i] its parse (pkt_parse of b[i]'s
 * packet, as the caller made it to find the policy: not parsed again), mtu[i] its limit
 * (mtu NULL: none). res[i] gets what esp_out would return. The same results and counters as
 * n calls of esp_out in order; consecutive packets of one SA take their sequence numbers
 * with one atomic operation and add to the SA's counters once. Returns how many succeeded. */
unsigned esp_out_burst(struct sp *const *sp, struct pbuf *const *b, const struct pkt_info *pi,
		       unsigned n, unsigned thread, const uint32_t *mtu, unsigned flags, int *res);

/* Decapsulate the ESP packet in b for sa (RFC 4303 3.4; tunnel decap with RFC 6040 ECN).
 * On success b holds the inner packet (next header 4 or 41) or the transport-mode packet
 * with ESP removed. pi is the parse of b's outer packet (pkt_parse). */
int esp_in(struct sa *sa, struct pbuf *b, const struct pkt_info *pi, unsigned thread);

/* esp_in for a burst: packet b[i] for sa[i], pi[i] its parse; res[i] gets what esp_in would
 * return, and tunnel[i] (if tunnel is not NULL) whether a decrypted packet was tunnel mode.
 * The same results and counters as n calls of esp_in in order; consecutive packets of one
 * SA add to its counters once. Returns how many succeeded. */
unsigned esp_in_burst(struct sa *const *sa, struct pbuf *const *b, const struct pkt_info *pi,
		      unsigned n, unsigned thread, int *res, bool *tunnel);

/* The SPI of an ESP packet parsed in pi (host order); false if too short. */
static inline bool esp_spi(const uint8_t *l3, const struct pkt_info *pi, uint32_t *spi)
{
	uint32_t v;

	if (pi->proto != IPPROTO_ESP_ || pi->l4_off + ESP_HDR_LEN > pi->ip_len)
		return false;
	memcpy(&v, l3 + pi->l4_off, 4);
	*spi = ntohl(v);
	return true;
}

/* The AAD of RFC 4303 2.2 / RFC 4106 5: SPI | SN, or SPI | SN-high | SN-low; its length. */
size_t esp_aad(const struct sa *sa, uint64_t seq, uint8_t aad[12]);

#endif
