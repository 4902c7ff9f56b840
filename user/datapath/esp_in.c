// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * esp_in.c - inbound ESP (RFC 4303 3.4), bare or in UDP (RFC 3948 2.1): sequence number
 * with the ESN high half inferred (Appendix A2), replay pre-check (3.4.3), AEAD open
 * (3.4.4), replay update after the ICV verified (re-checked: ESN and concurrent workers),
 * padding check (2.4), dummy packets dropped (2.6), then by the next header: an inner
 * IPv4/IPv6 packet (tunnel mode, ECN combined per RFC 6040 4.2) or the transport-mode
 * packet put back together (from UDP: its checksum made anew, RFC 3948 3.1.2).
 * Called by the workers and pcap mode with the SA the SPI named.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "esp.h"
#include "esper_wire.h"
#include "lib/bytes.h"

/* The per-packet steps are __always_inline (sys/cdefs.h), as in esp_out.c. */
static inline int drop(struct sa *sa, enum sa_counter c)
{
	sa_count(sa, c, 1);
	return ESP_DROP(c);
}

/* The decrypted payload: where it is and what the trailer says. */
struct in_payload {
	uint8_t *data;		/* payload data (after the IV) */
	uint32_t len;		/* payload data length, without padding and trailer */
	uint8_t next_hdr;
};

/* Sequence number, replay pre-check, open, replay update. */
static __always_inline int open_esp(struct sa *sa, uint8_t *esp, uint32_t esp_len,
				    unsigned thread, uint32_t *enc_len)
{
	uint32_t seq_lo;
	uint64_t seq;
	uint8_t aad[12];
	struct aead_req r;
	int err;

	if (esp_len < ESP_HDR_LEN + ESP_IV_LEN + 2u + sa->icv_len || memcmp(esp, sa->spi_be, 4))
		return drop(sa, SA_C_malformed);
	memcpy(&seq_lo, esp + 4, 4);
	if (!replay_infer(&sa->replay, ntohl(seq_lo), sa->esn, &seq) ||
	    replay_check(&sa->replay, seq) != REPLAY_OK)
		return drop(sa, SA_C_replay);
	*enc_len = esp_len - ESP_HDR_LEN - ESP_IV_LEN - sa->icv_len;
	r = (struct aead_req){
		.aad = esp,	/* SPI | SN: the header as received (without ESN) */
		.aad_len = ESP_HDR_LEN,
		.iv = esp + ESP_HDR_LEN,
		.data = esp + ESP_HDR_LEN + ESP_IV_LEN,
		.len = *enc_len,
		.icv = esp + ESP_HDR_LEN + ESP_IV_LEN + *enc_len,
	};
	if (sa->esn) {	/* SPI | SN-high | SN-low */
		r.aad = aad;
		r.aad_len = esp_aad(sa, seq, aad);
	}
	err = aead_open(&sa->aead, thread, &r);
	if (err)
		return drop(sa, err == -EBADMSG ? SA_C_icv_fail :
				err == -EBUSY	? SA_C_derive_limited :
				err == -ENOMEM	? SA_C_no_memory : SA_C_crypto_error);
	switch (replay_update(&sa->replay, seq)) {
	case REPLAY_OK: break;
	case REPLAY_NOMEM: return drop(sa, SA_C_no_memory);
	default: return drop(sa, SA_C_replay);
	}
	return 0;
}

/* Pad length, next header and the padding bytes 1, 2, 3 ... (RFC 4303 2.4). */
static __always_inline int read_trailer(struct sa *sa, uint8_t *data, uint32_t enc_len,
					struct in_payload *pl)
{
	uint8_t pad_len = data[enc_len - 2];

	if (pad_len + 2u > enc_len)
		return drop(sa, SA_C_malformed);
	for (unsigned i = 0; i < pad_len; i++)
		if (data[enc_len - 2 - pad_len + i] != i + 1)
			return drop(sa, SA_C_bad_pad);
	pl->data = data;
	pl->len = enc_len - 2 - pad_len;
	pl->next_hdr = data[enc_len - 1];
	if (pl->next_hdr == IPPROTO_NONE_)
		return drop(sa, SA_C_dummy);
	return 0;
}

/* --- tunnel mode ----------------------------------------------------------------------- */

static uint8_t ecn_of(const uint8_t *ip)
{
	return ip[0] >> 4 == 4 ? ip[1] & 3 : (ip[1] >> 4) & 3;
}

static void set_ecn(uint8_t *ip, uint8_t ecn)
{
	if (ip[0] >> 4 == 4) {
		ip[1] = (uint8_t)((ip[1] & ~3) | ecn);
		csum_ipv4_header(ip);
	} else {
		ip[1] = (uint8_t)((ip[1] & ~0x30) | ecn << 4);
	}
}

/* RFC 6040 Figure 4; false: drop (Not-ECT inner, CE outer). */
static bool ecn_decap(uint8_t *inner, uint8_t outer_ecn)
{
	uint8_t in = ecn_of(inner), out = in;

	if (in == 0)
		return outer_ecn != 3;
	if (outer_ecn == 3)
		out = 3;
	else if (in == 2 && outer_ecn == 1)
		out = 1;
	if (out != in)
		set_ecn(inner, out);
	return true;
}

/* The length of the inner packet as its header says, with pkt_parse's checks (the only
 * ones by which pkt_parse refuses a packet of a known version); 0 if it would refuse it. */
static __always_inline uint32_t inner_len(const uint8_t *ip, uint32_t len)
{
	uint32_t ihl, ip_len;

	if (ip[0] >> 4 == 4) {
		ihl = (ip[0] & 15) * 4u;
		if (len < 20 || ihl < 20)
			return 0;
		ip_len = rd16(ip + 2);
		return ip_len < ihl || ip_len > len ? 0 : ip_len;
	}
	if (len < 40)
		return 0;
	ip_len = 40u + rd16(ip + 4);
	return ip_len > len || ip_len > 65535 ? 0 : ip_len;
}

static __always_inline int in_tunnel(struct sa *sa, struct pbuf *b, const struct in_payload *pl,
				     uint8_t outer_ecn)
{
	uint8_t want = pl->next_hdr == 4 ? 4 : 6;
	uint32_t ip_len;

	if (pl->len == 0 || pl->data[0] >> 4 != want || !(ip_len = inner_len(pl->data, pl->len)))
		return drop(sa, SA_C_malformed);
	if (!ecn_decap(pl->data, outer_ecn))
		return drop(sa, SA_C_ecn_drop);
	b->off = (uint32_t)(pl->data - b->head);
	b->len = ip_len;	/* TFC padding (RFC 4303 2.4) ends here */
	return 0;
}

/* --- transport mode -------------------------------------------------------------------- */

/* The IP header moves up to the payload, over the UDP (esp_off > l4_off) and ESP headers.
 * Behind a NAT the sender's pseudo-header was not ours: the TCP/UDP checksum is computed
 * again (RFC 3948 3.1.2; the ICV has vouched for the data). */
static void in_transport(struct pbuf *b, const struct pkt_info *pi, uint32_t esp_off,
			 const struct in_payload *pl)
{
	uint32_t shift = esp_off - pi->l4_off + ESP_HDR_LEN + ESP_IV_LEN;
	uint8_t *ip = b->head + b->off;
	struct pkt_info inner;

	memmove(ip + shift, ip, pi->l4_off);
	ip += shift;
	ip[pi->nh_off] = pl->next_hdr;
	b->off += shift;
	b->len = pi->l4_off + pl->len;
	if (pi->family == AF_INET) {
		((struct ipv4_hdr *)ip)->tot_len = htons((uint16_t)b->len);
		csum_ipv4_header(ip);
	} else {
		((struct ipv6_hdr *)ip)->payload_len = htons((uint16_t)(b->len - 40));
	}
	if (esp_off != pi->l4_off && pkt_parse(ip, b->len, &inner) == 0 && !inner.fragment)
		csum_l4(ip, &inner);
}

/* --- ESP or ESP in UDP ------------------------------------------------------------------- */

/* Where the ESP header is: after the IP header, or after the UDP header in front of it
 * (RFC 3948 2.1) for an esp-udp SA, which takes nothing else (nor the other SAs UDP). 0 if
 * the packet is neither as the SA wants it. */
static __always_inline uint32_t esp_offset(const struct sa *sa, const uint8_t *ip,
					   const struct pkt_info *pi)
{
	const struct udp_hdr *udp = (const void *)(ip + pi->l4_off);

	if (pi->fragment)
		return 0;
	if (!sa_path(sa)->encap)
		return pi->proto == IPPROTO_ESP_ ? pi->l4_off : 0;
	if (pi->proto != IPPROTO_UDP_ || pi->l4_off + UDP_HLEN > pi->ip_len ||
	    ntohs(udp->len) != pi->ip_len - pi->l4_off)
		return 0;
	return pi->l4_off + UDP_HLEN;
}

/* One packet, without the counters of success; *tunnel: it was tunnel mode. */
static __always_inline int in_one(struct sa *sa, struct pbuf *b, const struct pkt_info *pi,
				  unsigned thread, bool *tunnel)
{
	uint8_t *ip = b->head + b->off;
	uint32_t esp_off = esp_offset(sa, ip, pi);
	uint8_t *esp = ip + esp_off;
	struct in_payload pl;
	uint32_t enc_len;
	int err;

	if (!esp_off)
		return drop(sa, SA_C_malformed);
	err = open_esp(sa, esp, pi->ip_len - esp_off, thread, &enc_len);
	if (err)
		return err;
	err = read_trailer(sa, esp + ESP_HDR_LEN + ESP_IV_LEN, enc_len, &pl);
	if (err)
		return err;
	*tunnel = pl.next_hdr == 4 || pl.next_hdr == 41;
	if (*tunnel)
		return in_tunnel(sa, b, &pl, ecn_of(ip));
	in_transport(b, pi, esp_off, &pl);
	return 0;
}

int esp_in(struct sa *sa, struct pbuf *b, const struct pkt_info *pi, unsigned thread)
{
	bool tunnel;
	int err = in_one(sa, b, pi, thread, &tunnel);

	if (err)
		return err;
	sa_count(sa, SA_C_in_packets, 1);
	sa_count(sa, SA_C_in_bytes, b->len);
	sa_touch(sa);
	return 0;
}

unsigned esp_in_burst(struct sa *const *sa, struct pbuf *const *b, const struct pkt_info *pi,
		      unsigned n, unsigned thread, int *res, bool *tunnel)
{
	bool unused;

	unsigned done = 0;

	for (unsigned i = 0, run; i < n; i += run) {
		uint64_t ok = 0, bytes = 0;

		for (run = 1; i + run < n && sa[i + run] == sa[i]; run++)
			;
		for (unsigned j = i; j < i + run; j++) {
			if (j + 1 < n)
				pbuf_prefetch(b[j + 1]);
			res[j] = in_one(sa[i], b[j], &pi[j], thread, tunnel ? &tunnel[j] : &unused);
			if (!res[j]) {
				ok++;
				bytes += b[j]->len;
			}
		}
		if (ok) {
			sa_count(sa[i], SA_C_in_packets, ok);
			sa_count(sa[i], SA_C_in_bytes, bytes);
			sa_touch(sa[i]);
		}
		done += (unsigned)ok;
	}
	return done;
}
