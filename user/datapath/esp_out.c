// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * esp_out.c - outbound ESP (RFC 4303 3.1-3.3): sequence number (sad.c, never wraps), IV
 * (crypto.h), TFC padding (2.4, tunnel mode), padding to 4-byte alignment (2.4), the
 * trailer, the outer header (tunnel: RFC 4301 5.1.2.1, TTL 64, DSCP and ECN copied as
 * RFC 6040's normal mode does; transport: ESP inserted after the IPv4 options or the IPv6
 * extension headers, 3.1.1), for an esp-udp SA a UDP header in front of ESP (RFC 3948
 * 2.1: checksum 0 over IPv4, computed over IPv6), then one AEAD seal over the payload.
 * Called by the workers and pcap mode, with the policy the packet matched.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "esp.h"
#include "esper_wire.h"
#include "lib/bytes.h"

/* The per-packet steps are __always_inline (sys/cdefs.h): inlined into the entry points, as
 * calls cost here (at 64 bytes the whole packet takes ~100 ns). */

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

/* A packet made ready to seal (out_prepare): everything but the AEAD (out_finish). */
struct out_job {
	struct aead_req r;
	uint8_t aad[12];	/* with ESN; without it the AAD is the ESP header */
	uint32_t off, len;	/* b's packet once sealed */
	bool udp6;		/* ESP in UDP over IPv6: its checksum, once sealed */
};

static __always_inline void plan(const struct sa *sa, struct out_plan *p, uint32_t data,
				 uint32_t tfc, uint32_t hdr)
{
	p->data = data;
	p->payload = data < tfc ? tfc : data;
	p->pad = (4 - (p->payload + 2) % 4) % 4;
	p->enc = p->payload + p->pad + 2;
	p->hdr = hdr;
	p->total = hdr + ESP_HDR_LEN + ESP_IV_LEN + p->enc + sa->icv_len;
}

/* Fits the MTU and the buffer? The ESP header starts at head + esp_at after encapsulation. */
static __always_inline int check_room(struct sa *sa, const struct pbuf *b,
				      const struct out_plan *p, uint32_t esp_at, uint32_t mtu)
{
	uint32_t end = esp_at + ESP_HDR_LEN + ESP_IV_LEN + p->enc + sa->icv_len;

	/* Beyond 65535 the IPv4 total length (and pkt_info's ip_len) can't say it: without
	 * an MTU (pcap mode) or with a large one and TFC, refuse rather than truncate it. */
	if ((mtu && p->total > mtu) || p->total > 65535) {
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
static __always_inline void write_trailer(uint8_t *payload, const struct out_plan *p)
{
	uint8_t *t = payload + p->data;

	if (p->payload > p->data) {
		memset(t, 0, p->payload - p->data);
		t += p->payload - p->data;
	}
	/* Padding is 0-3 bytes: write all three; past the padding lie the pad length, the next
	 * header and the ICV (inside the room check_room found), each written after this. */
	t[0] = 1;
	t[1] = 2;
	t[2] = 3;
	t[p->pad] = (uint8_t)p->pad;
	t[p->pad + 1] = p->next_hdr;
}

/* ESP header and IV; the job seals payload..trailer in place with the ICV behind it. */
static __always_inline void prep_seal(struct sa *sa, uint8_t *esp, const struct out_plan *p,
				      uint64_t seq, const uint8_t iv[ESP_IV_LEN],
				      struct out_job *j)
{
	uint32_t spi_sn[2] = { 0, htonl((uint32_t)seq) };

	memcpy(&spi_sn[0], sa->spi_be, 4);
	memcpy(esp, spi_sn, ESP_HDR_LEN);	/* one store: the AAD is loaded from it */
	memcpy(esp + ESP_HDR_LEN, iv, ESP_IV_LEN);
	j->r = (struct aead_req){
		.aad = esp,	/* SPI | SN: the ESP header itself */
		.aad_len = ESP_HDR_LEN,
		.iv = esp + ESP_HDR_LEN,
		.data = esp + ESP_HDR_LEN + ESP_IV_LEN,
		.len = p->enc,
		.icv = esp + ESP_HDR_LEN + ESP_IV_LEN + p->enc,
	};
	if (sa->esn) {	/* SPI | SN-high | SN-low */
		j->r.aad = j->aad;
		j->r.aad_len = esp_aad(sa, seq, j->aad);
	}
}

/* --- ESP in UDP (RFC 3948 2.1) ------------------------------------------------------------ */

static __always_inline uint32_t udp_len(const struct sa_path *path)
{
	return path->encap ? UDP_HLEN : 0;
}

/* The UDP header in front of the ESP header at esp, len bytes of UDP from here; IPv4 sends
 * checksum 0 (RFC 3948 2.1 allows it), IPv6 needs one (RFC 8200 8.1): computed once sealed,
 * over the whole datagram (out_finish). */
static __always_inline void write_udp(uint8_t *udp, const struct sa_path *path,
				      uint32_t len, bool v6, struct out_job *j)
{
	struct udp_hdr *h = (void *)udp;

	h->source = path->sport;
	h->dest = path->dport;
	h->len = htons((uint16_t)len);
	h->check = 0;
	j->udp6 = v6;
}

/* The UDP checksum of the IPv6 packet at ip, len bytes (RFC 8200 8.1). */
static void udp6_checksum(uint8_t *ip, uint32_t len)
{
	struct pkt_info pi;

	if (pkt_parse(ip, len, &pi) == 0)
		csum_l4(ip, &pi);
}

/* --- tunnel mode ----------------------------------------------------------------------- */

/* TFC padding up to what the path takes (RFC 4303 2.7 makes it optional): the largest
 * payload that still fits mtu after hdr bytes of outer header, never more than sa->tfc. */
static __always_inline uint32_t tfc_within(const struct sa *sa, uint32_t mtu, uint32_t hdr)
{
	uint32_t over = hdr + ESP_HDR_LEN + ESP_IV_LEN + sa->icv_len + 2, room;

	if (!sa->tfc || !mtu)
		return sa->tfc;
	if (mtu < over + 4)
		return 0;
	room = ((mtu - hdr - ESP_HDR_LEN - ESP_IV_LEN - sa->icv_len) & ~3u) - 2;
	return room < sa->tfc ? room : sa->tfc;
}

static __always_inline uint8_t inner_tos(const uint8_t *inner)
{
	if (inner[0] >> 4 == 4)
		return inner[1];
	return (uint8_t)((inner[0] & 0x0f) << 4 | inner[1] >> 4);
}

/* csum_ipv4_header's result, summed from the values rather than read back from the header
 * just written (a load right behind narrower stores to its bytes stalls until they retire):
 * the sum of the big-endian words, byte-swapped (RFC 1071 2(B)). */
static inline uint16_t outer_csum(const struct ipv4_hdr *ip, const struct sp *sp)
{
	uint32_t sum = (uint32_t)ip->ver_ihl << 8 | ip->tos;

	sum += ntohs(ip->tot_len) + ntohs(ip->id) + ntohs(ip->frag_off);
	sum += (uint32_t)ip->ttl << 8 | ip->proto;
	sum += rd16(sp->tsrc.a) + rd16(sp->tsrc.a + 2);
	sum += rd16(sp->tdst.a) + rd16(sp->tdst.a + 2);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

static __always_inline void outer_ipv4(uint8_t *h, const struct sp *sp, const uint8_t *inner,
				       const struct out_plan *p, uint64_t seq, uint8_t proto)
{
	struct ipv4_hdr *ip = (void *)h;
	bool df = inner[0] >> 4 != 4 || (inner[6] & 0x40);

	ip->ver_ihl = 0x45;
	ip->tos = inner_tos(inner);	/* DSCP and ECN copied (RFC 6040 normal mode) */
	ip->tot_len = htons((uint16_t)p->total);
	ip->id = htons((uint16_t)seq);
	ip->frag_off = htons(df ? IPV4_DF : 0);
	ip->ttl = 64;
	ip->proto = proto;
	memcpy(ip->saddr, sp->tsrc.a, 4);
	memcpy(ip->daddr, sp->tdst.a, 4);
	ip->check = outer_csum(ip, sp);
}

static void outer_ipv6(uint8_t *h, const struct sp *sp, const uint8_t *inner,
		       const struct out_plan *p, uint8_t proto)
{
	struct ipv6_hdr *ip = (void *)h;

	ip->ver_tc_flow = htonl(6u << 28 | (uint32_t)inner_tos(inner) << 20);
	ip->payload_len = htons((uint16_t)(p->total - sizeof(*ip)));
	ip->nexthdr = proto;
	ip->hop_limit = 64;
	memcpy(ip->saddr, sp->tsrc.a, 16);
	memcpy(ip->daddr, sp->tdst.a, 16);
}

static __always_inline int out_tunnel(struct sp *sp, const struct sa_path *path,
				      const struct pbuf *b, const struct pkt_info *pi, uint32_t mtu,
				      uint64_t seq, const uint8_t *iv, struct out_job *j)
{
	struct sa *sa = sp->sa;
	bool v4 = sp->tdst.family == AF_INET;
	uint32_t ip_hdr = v4 ? 20 : 40, hdr = ip_hdr + udp_len(path);
	uint8_t proto = path->encap ? IPPROTO_UDP_ : IPPROTO_ESP_;
	uint8_t *inner = b->head + b->off;
	struct out_plan p;
	uint32_t esp_at = b->off - ESP_HDR_LEN - ESP_IV_LEN;
	int err;

	plan(sa, &p, pi->ip_len, tfc_within(sa, mtu, hdr), hdr);
	p.next_hdr = pi->family == AF_INET ? 4 : 41;
	if (b->off < hdr + ESP_HDR_LEN + ESP_IV_LEN)
		esp_at = 0;	/* check_room reports it */
	err = check_room(sa, b, &p, esp_at, mtu);
	if (err)
		return err;
	write_trailer(inner, &p);
	if (v4)
		outer_ipv4(b->head + esp_at - hdr, sp, inner, &p, seq, proto);
	else
		outer_ipv6(b->head + esp_at - hdr, sp, inner, &p, proto);
	j->udp6 = false;
	if (path->encap)
		write_udp(b->head + esp_at - UDP_HLEN, path, p.total - ip_hdr, !v4, j);
	prep_seal(sa, b->head + esp_at, &p, seq, iv, j);
	j->off = esp_at - hdr;
	j->len = p.total;
	return 0;
}

/* --- transport mode -------------------------------------------------------------------- */

static int out_transport(struct sp *sp, const struct sa_path *path, const struct pbuf *b,
			 const struct pkt_info *pi, uint32_t mtu, uint64_t seq, const uint8_t *iv,
			 struct out_job *j)
{
	struct sa *sa = sp->sa;
	uint8_t *ip = b->head + b->off;
	uint32_t udp = udp_len(path), shift = udp + ESP_HDR_LEN + ESP_IV_LEN, esp_at;
	struct out_plan p;
	int err;

	if (pi->fragment) {
		sa_count(sa, SA_C_fragment, 1);
		return ESP_DROP(SA_C_fragment);
	}
	if (pi->family == AF_INET6 && pi->proto == PKT_PROTO_UNKNOWN) {
		/* ESP goes after the extension headers (3.1.1): a chain pkt_parse could not
		 * walk (too long, or running past the packet) leaves no place for it. */
		sa_count(sa, SA_C_malformed, 1);
		return ESP_DROP(SA_C_malformed);
	}
	plan(sa, &p, pi->ip_len - pi->l4_off, 0, pi->l4_off + udp);
	p.next_hdr = ip[pi->nh_off];
	esp_at = b->off < shift ? 0 : b->off - shift + pi->l4_off + udp;
	err = check_room(sa, b, &p, esp_at, mtu);
	if (err)
		return err;
	write_trailer(ip + pi->l4_off, &p);
	memmove(ip - shift, ip, pi->l4_off);
	ip -= shift;
	ip[pi->nh_off] = path->encap ? IPPROTO_UDP_ : IPPROTO_ESP_;
	if (pi->family == AF_INET) {
		((struct ipv4_hdr *)ip)->tot_len = htons((uint16_t)p.total);
		csum_ipv4_header(ip);
	} else {
		((struct ipv6_hdr *)ip)->payload_len = htons((uint16_t)(p.total - 40));
	}
	j->udp6 = false;
	if (path->encap)
		write_udp(ip + pi->l4_off, path, p.total - pi->l4_off, pi->family == AF_INET6, j);
	prep_seal(sa, ip + pi->l4_off + udp, &p, seq, iv, j);
	j->off = b->off - shift;
	j->len = p.total;
	return 0;
}

/* --- entry points ---------------------------------------------------------------------- */

/* One parsed packet with its sequence number and IV: complete the inner checksums, then
 * encapsulate by the policy's mode, all but the seal. */
static __always_inline int out_prepare(struct sp *sp, const struct sa_path *path,
				       const struct pbuf *b, const struct pkt_info *pi,
				       uint32_t mtu, unsigned flags, uint64_t seq, const uint8_t *iv,
				       struct out_job *j)
{
	uint8_t *ip = b->head + b->off;

	if (((flags & ESP_OUT_FIX_CSUM) && !pi->fragment) || csum_l4_unfinished(ip, pi))
		csum_l4(ip, pi);
	if (pi->family == AF_INET)
		csum_ipv4_header(ip);
	if (sp->mode == SP_MODE_TUNNEL)
		return out_tunnel(sp, path, b, pi, mtu, seq, iv, j);
	return out_transport(sp, path, b, pi, mtu, seq, iv, j);
}

/* The seal; b becomes the ESP packet. */
static __always_inline int out_finish(struct sa *sa, struct pbuf *b, const struct out_job *j,
				      unsigned thread)
{
	int err = aead_seal(&sa->aead, thread, &j->r);

	if (err < 0) {
		enum sa_counter c = err == -ENOMEM ? SA_C_no_memory : SA_C_crypto_error;

		sa_count(sa, c, 1);
		return ESP_DROP(c);
	}
	b->off = j->off;
	b->len = j->len;
	if (j->udp6)
		udp6_checksum(b->head + b->off, b->len);
	return 0;
}

int esp_out_seq_iv(struct sp *sp, struct pbuf *b, unsigned thread, uint32_t mtu,
		   unsigned flags, uint64_t seq, const uint8_t iv[ESP_IV_LEN])
{
	struct sa *sa = sp->sa;
	struct pkt_info pi;
	struct out_job j;
	int err;

	if (pkt_parse(b->head + b->off, b->len, &pi) < 0) {
		sa_count(sa, SA_C_malformed, 1);
		return ESP_DROP(SA_C_malformed);
	}
	err = out_prepare(sp, sa_path(sa), b, &pi, mtu, flags, seq, iv, &j);
	if (!err)
		err = out_finish(sa, b, &j, thread);
	if (err)
		return err;
	sa_count(sa, SA_C_out_packets, 1);
	sa_count(sa, SA_C_out_bytes, pi.ip_len);
	sa_touch(sa);
	return 0;
}

/* The IV of a packet of len bytes (RFC 9227 5: the key tree counts the payload with its
 * TFC padding and trailer; counting the largest padding only makes it a little cautious). */
static __always_inline int next_iv(struct sa *sa, uint64_t seq, uint32_t len,
				   uint8_t iv[ESP_IV_LEN])
{
	uint32_t payload = len > sa->tfc ? len : sa->tfc;

	int err = aead_next_iv(&sa->aead, seq, payload + 3 + 2, iv);

	if (err < 0) {	/* -ENOSPC, or -ENOMEM: the key schedule could not be made */
		enum sa_counter c = err == -ENOMEM ? SA_C_no_memory : SA_C_iv_exhausted;

		sa_count(sa, c, 1);
		return ESP_DROP(c);
	}
	return 0;
}

int esp_out(struct sp *sp, struct pbuf *b, unsigned thread, uint32_t mtu, unsigned flags)
{
	struct sa *sa = sp->sa;
	uint8_t iv[ESP_IV_LEN];
	uint64_t seq;
	int err;

	if (!sa_seq_alloc(sa, 1, &seq)) {
		sa_count(sa, SA_C_seq_exhausted, 1);
		return ESP_DROP(SA_C_seq_exhausted);
	}
	err = next_iv(sa, seq, b->len, iv);
	if (err)
		return err;
	return esp_out_seq_iv(sp, b, thread, mtu, flags, seq, iv);
}

/* Packets i .. i+n-1, all for one SA: n sequence numbers at once, the counters once. */
static unsigned out_run(struct sp *const *sp, struct pbuf *const *b, const struct pkt_info *pi,
			unsigned i, unsigned n, unsigned thread, const uint32_t *mtu,
			unsigned flags, int *res)
{
	struct sa *sa = sp[i]->sa;
	const struct sa_path *path = sa_path(sa);
	uint64_t seq = 0, bytes = 0;
	unsigned granted = sa_seq_alloc(sa, n, &seq), ok = 0;

	for (unsigned j = i; j < i + n; j++, seq++) {
		uint8_t iv[ESP_IV_LEN];
		struct out_job job;

		if (j + 1 < i + n)
			pbuf_prefetch(b[j + 1]);
		if (j >= i + granted) {
			res[j] = ESP_DROP(SA_C_seq_exhausted);
			continue;
		}
		res[j] = next_iv(sa, seq, b[j]->len, iv);
		if (!res[j])
			res[j] = out_prepare(sp[j], path, b[j], &pi[j], mtu ? mtu[j] : 0, flags,
					     seq, iv, &job);
		if (!res[j])
			res[j] = out_finish(sa, b[j], &job, thread);
		if (!res[j]) {
			ok++;
			bytes += pi[j].ip_len;
		}
	}
	if (granted < n)
		sa_count(sa, SA_C_seq_exhausted, n - granted);
	if (ok) {
		sa_count(sa, SA_C_out_packets, ok);
		sa_count(sa, SA_C_out_bytes, bytes);
		sa_touch(sa);
	}
	return ok;
}

unsigned esp_out_burst(struct sp *const *sp, struct pbuf *const *b, const struct pkt_info *pi,
		       unsigned n, unsigned thread, const uint32_t *mtu, unsigned flags, int *res)
{
	unsigned done = 0;

	for (unsigned i = 0, run; i < n; i += run) {
		for (run = 1; i + run < n && sp[i + run]->sa == sp[i]->sa; run++)
			;
		done += out_run(sp, b, pi, i, run, thread, mtu, flags, res);
	}
	return done;
}
