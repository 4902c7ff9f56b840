// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * esp_out.c - outbound ESP (RFC 4303 3.1-3.3): sequence number (sad.c, never wraps), IV
 * (crypto.h), TFC padding (2.4, tunnel mode), padding to 4-byte alignment (2.4), the
 * trailer, the outer header (tunnel: RFC 4301 5.1.2.1, TTL 64, DSCP and ECN copied as
 * RFC 6040's normal mode does; transport: ESP inserted after the IPv4 options or the IPv6
 * extension headers, 3.1.1), then one AEAD seal over the payload.
 * Called by the workers and pcap mode, with the policy the packet matched.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "esp.h"
#include "esper_wire.h"

/* The sizes of one encapsulation. */
struct out_plan {
	uint32_t payload;	/* payload data: the protected packet or L4 part, plus TFC */
	uint32_t data;		/* the part of the payload that is in the buffer already */
	uint32_t pad;		/* padding to 4-byte alignment */
	uint32_t enc;		/* payload + padding + pad length + next header */
	uint32_t hdr;		/* bytes in front of the ESP header: outer IP (+ options) */
	uint32_t total;		/* the resulting packet */
	uint8_t next_hdr;
};

static void plan(const struct sa *sa, struct out_plan *p, uint32_t data, uint32_t tfc,
		 uint32_t hdr)
{
	p->data = data;
	p->payload = data < tfc ? tfc : data;
	p->pad = (4 - (p->payload + 2) % 4) % 4;
	p->enc = p->payload + p->pad + 2;
	p->hdr = hdr;
	p->total = hdr + ESP_HDR_LEN + ESP_IV_LEN + p->enc + sa->icv_len;
}

/* Fits the MTU and the buffer? The ESP header starts at head + esp_at after encapsulation. */
static int check_room(struct sa *sa, const struct pbuf *b, const struct out_plan *p,
		      uint32_t esp_at, uint32_t mtu)
{
	uint32_t end = esp_at + ESP_HDR_LEN + ESP_IV_LEN + p->enc + sa->icv_len;

	if (mtu && p->total > mtu) {
		sa_count(sa, SA_C_too_big, 1);
		return ESP_DROP(SA_C_too_big);
	}
	if (esp_at < p->hdr || end > b->size) {
		sa_count(sa, SA_C_no_room, 1);
		return ESP_DROP(SA_C_no_room);
	}
	return 0;
}

/* TFC zeros, padding 1, 2, 3 ... (RFC 4303 2.4), pad length, next header. */
static void write_trailer(uint8_t *payload, const struct out_plan *p)
{
	uint8_t *t = payload + p->data;

	memset(t, 0, p->payload - p->data);
	t += p->payload - p->data;
	for (uint32_t i = 0; i < p->pad; i++)
		t[i] = (uint8_t)(i + 1);
	t[p->pad] = (uint8_t)p->pad;
	t[p->pad + 1] = p->next_hdr;
}

/* ESP header, IV, then seal payload..trailer in place with the ICV behind it. */
static int seal(struct sa *sa, uint8_t *esp, const struct out_plan *p, unsigned thread,
		uint64_t seq, const uint8_t iv[ESP_IV_LEN])
{
	uint8_t aad[12];
	struct aead_req r = {
		.aad = aad,
		.aad_len = esp_aad(sa, seq, aad),
		.iv = esp + ESP_HDR_LEN,
		.data = esp + ESP_HDR_LEN + ESP_IV_LEN,
		.len = p->enc,
		.icv = esp + ESP_HDR_LEN + ESP_IV_LEN + p->enc,
	};

	memcpy(esp, aad, 4);
	memcpy(esp + 4, aad + r.aad_len - 4, 4);
	memcpy(esp + ESP_HDR_LEN, iv, ESP_IV_LEN);
	return aead_seal(sa->aead, thread, &r);
}

/* --- tunnel mode ----------------------------------------------------------------------- */

static uint8_t inner_tos(const uint8_t *inner)
{
	if (inner[0] >> 4 == 4)
		return inner[1];
	return (uint8_t)((inner[0] & 0x0f) << 4 | inner[1] >> 4);
}

static void outer_ipv4(uint8_t *h, const struct sp *sp, const uint8_t *inner,
		       const struct out_plan *p, uint64_t seq)
{
	struct ipv4_hdr *ip = (void *)h;
	bool df = inner[0] >> 4 != 4 || (inner[6] & 0x40);

	ip->ver_ihl = 0x45;
	ip->tos = inner_tos(inner);	/* DSCP and ECN copied (RFC 6040 normal mode) */
	ip->tot_len = htons((uint16_t)p->total);
	ip->id = htons((uint16_t)seq);
	ip->frag_off = htons(df ? IPV4_DF : 0);
	ip->ttl = 64;
	ip->proto = IPPROTO_ESP_;
	memcpy(ip->saddr, sp->conf.tsrc.a, 4);
	memcpy(ip->daddr, sp->conf.tdst.a, 4);
	csum_ipv4_header(h);
}

static void outer_ipv6(uint8_t *h, const struct sp *sp, const uint8_t *inner,
		       const struct out_plan *p)
{
	struct ipv6_hdr *ip = (void *)h;

	ip->ver_tc_flow = htonl(6u << 28 | (uint32_t)inner_tos(inner) << 20);
	ip->payload_len = htons((uint16_t)(p->total - sizeof(*ip)));
	ip->nexthdr = IPPROTO_ESP_;
	ip->hop_limit = 64;
	memcpy(ip->saddr, sp->conf.tsrc.a, 16);
	memcpy(ip->daddr, sp->conf.tdst.a, 16);
}

static int out_tunnel(struct sp *sp, struct pbuf *b, const struct pkt_info *pi, unsigned thread,
		      uint32_t mtu, uint64_t seq, const uint8_t *iv)
{
	struct sa *sa = sp->sa;
	uint32_t hdr = sp->conf.tdst.family == AF_INET ? 20 : 40;
	uint8_t *inner = b->head + b->off;
	struct out_plan p;
	uint32_t esp_at = b->off - ESP_HDR_LEN - ESP_IV_LEN;
	int err;

	plan(sa, &p, pi->ip_len, sa->tfc, hdr);
	p.next_hdr = pi->family == AF_INET ? 4 : 41;
	if (b->off < hdr + ESP_HDR_LEN + ESP_IV_LEN)
		esp_at = 0;	/* check_room reports it */
	err = check_room(sa, b, &p, esp_at, mtu);
	if (err)
		return err;
	write_trailer(inner, &p);
	if (hdr == 20)
		outer_ipv4(b->head + esp_at - hdr, sp, inner, &p, seq);
	else
		outer_ipv6(b->head + esp_at - hdr, sp, inner, &p);
	err = seal(sa, b->head + esp_at, &p, thread, seq, iv);
	if (err)
		return err;
	b->off = esp_at - hdr;
	b->len = p.total;
	return 0;
}

/* --- transport mode -------------------------------------------------------------------- */

static int out_transport(struct sp *sp, struct pbuf *b, const struct pkt_info *pi,
			 unsigned thread, uint32_t mtu, uint64_t seq, const uint8_t *iv)
{
	struct sa *sa = sp->sa;
	uint8_t *ip = b->head + b->off;
	uint32_t shift = ESP_HDR_LEN + ESP_IV_LEN, esp_at;
	struct out_plan p;
	int err;

	if (pi->fragment) {
		sa_count(sa, SA_C_fragment, 1);
		return ESP_DROP(SA_C_fragment);
	}
	plan(sa, &p, pi->ip_len - pi->l4_off, 0, pi->l4_off);
	p.next_hdr = ip[pi->nh_off];
	esp_at = b->off < shift ? 0 : b->off - shift + pi->l4_off;
	err = check_room(sa, b, &p, esp_at, mtu);
	if (err)
		return err;
	write_trailer(ip + pi->l4_off, &p);
	memmove(ip - shift, ip, pi->l4_off);
	ip -= shift;
	ip[pi->nh_off] = IPPROTO_ESP_;
	if (pi->family == AF_INET) {
		((struct ipv4_hdr *)ip)->tot_len = htons((uint16_t)p.total);
		csum_ipv4_header(ip);
	} else {
		((struct ipv6_hdr *)ip)->payload_len = htons((uint16_t)(p.total - 40));
	}
	err = seal(sa, ip + pi->l4_off, &p, thread, seq, iv);
	if (err)
		return err;
	b->off -= shift;
	b->len = p.total;
	return 0;
}

/* --- entry points ---------------------------------------------------------------------- */

int esp_out_seq_iv(struct sp *sp, struct pbuf *b, unsigned thread, uint32_t mtu,
		   unsigned flags, uint64_t seq, const uint8_t iv[ESP_IV_LEN])
{
	struct sa *sa = sp->sa;
	uint8_t *ip = b->head + b->off;
	struct pkt_info pi;
	uint32_t inner_len;
	int err;

	if (pkt_parse(ip, b->len, &pi) < 0) {
		sa_count(sa, SA_C_malformed, 1);
		return ESP_DROP(SA_C_malformed);
	}
	if (((flags & ESP_OUT_FIX_CSUM) && !pi.fragment) || csum_l4_unfinished(ip, &pi))
		csum_l4(ip, &pi);
	if (pi.family == AF_INET)
		csum_ipv4_header(ip);
	inner_len = pi.ip_len;
	if (sp->conf.mode == SP_MODE_TUNNEL)
		err = out_tunnel(sp, b, &pi, thread, mtu, seq, iv);
	else
		err = out_transport(sp, b, &pi, thread, mtu, seq, iv);
	if (err)
		return err;
	sa_count(sa, SA_C_out_packets, 1);
	sa_count(sa, SA_C_out_bytes, inner_len);
	return 0;
}

int esp_out(struct sp *sp, struct pbuf *b, unsigned thread, uint32_t mtu, unsigned flags)
{
	struct sa *sa = sp->sa;
	uint8_t iv[ESP_IV_LEN];
	uint64_t seq;

	if (!sa_seq_alloc(sa, 1, &seq)) {
		sa_count(sa, SA_C_seq_exhausted, 1);
		return ESP_DROP(SA_C_seq_exhausted);
	}
	/* The key tree counts the octets it protects (RFC 9227 5): the payload with its
	 * trailer; a few bytes of padding more or less only make it a little cautious. */
	if (aead_next_iv(sa->aead, seq, b->len + 4 + 2, iv) < 0) {
		sa_count(sa, SA_C_iv_exhausted, 1);
		return ESP_DROP(SA_C_iv_exhausted);
	}
	return esp_out_seq_iv(sp, b, thread, mtu, flags, seq, iv);
}
