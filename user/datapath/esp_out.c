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

/* A drop's count, out of line and cold: the per-packet code stays short. */
static __attribute__((cold, noinline)) int drop(struct sa *sa, enum sa_counter c)
{
	sa_count(sa, c, 1);
	return ESP_DROP(c);
}

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
	uint64_t span;		/* b's packet once sealed: offset | length << 32, stored and
				 * loaded whole (two 4-byte stores read back as one word would
				 * wait for them to retire, across the seal's call) */
	bool udp6;		/* ESP in UDP over IPv6: its checksum, once sealed */
};

/* What the packets of a run of one policy share, made once per run (out_run): the ESP
 * header's SPI and the constant words of the outer headers, ready to be stored whole. */
struct out_tmpl {
	const struct sp *sp;
	uint64_t spi;		/* the SPI in the high half of the ESP header's first word */
	uint32_t udp;		/* UDP_HLEN for ESP in UDP (RFC 3948 2.1), else 0 */
	uint64_t udp_ports;	/* ESP in UDP: source and destination port, high half */
	/* tunnel mode (RFC 4301 5.1.2.1) */
	bool v4;		/* the outer header is IPv4 */
	uint8_t proto;		/* what follows it: ESP or UDP */
	uint32_t ip_hdr;	/* 20 or 40 */
	uint32_t sum;		/* IPv4: the sum of its constant 16-bit words */
	uint64_t ip4_ttl_src;	/* IPv4: bytes 8-15 (TTL, protocol, checksum 0, source) */
	uint8_t addrs[32];	/* IPv4: the destination in [0, 4); IPv6: source, destination */
	/* out_run_lean: tunnel mode without TFC padding */
	bool lean;
	uint32_t hdr;		/* outer IP and UDP header */
	uint32_t over;		/* what the packet grows by, without padding and trailer */
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
	if ((mtu && p->total > mtu) || p->total > 65535)
		return drop(sa, SA_C_too_big);
	if (esp_at < p->hdr || end > b->size)
		return drop(sa, SA_C_no_room);
	return 0;
}

/* Padding 1, 2, 3 ... (RFC 4303 2.4), pad length, next header: bytes 0 to pad + 1 of a
 * word in network order (the rest 0), to be stored whole. */
static __always_inline uint64_t trailer_word(uint32_t pad, uint8_t next_hdr)
{
	static const uint64_t pad_word[4] = {
		0, 0x0101ull << 48, 0x010202ull << 40, 0x01020303ull << 32,
	};

	return pad_word[pad] | (uint64_t)next_hdr << (48 - 8 * pad);
}

/* TFC zeros, padding, pad length, next header. */
static __always_inline void write_trailer(const struct sa *sa, uint8_t *payload,
					  const struct out_plan *p)
{
	uint8_t *t = payload + p->data;

	if (p->payload > p->data) {
		memset(t, 0, p->payload - p->data);
		t += p->payload - p->data;
	}
	/* One 8-byte store, which the cipher's load of the last block can be forwarded from:
	 * past the trailer lies the ICV (inside the room check_room found), written after. */
	if (p->pad + 2 + sa->icv_len >= 8) {
		st64(t, trailer_word(p->pad, p->next_hdr));
		return;
	}
	t[0] = 1;
	t[1] = 2;
	t[2] = 3;
	t[p->pad] = (uint8_t)p->pad;
	t[p->pad + 1] = p->next_hdr;
}

/* ESP header and IV; the job seals payload..trailer in place with the ICV behind it. */
static __always_inline void prep_seal(struct sa *sa, const struct out_tmpl *t, uint8_t *esp,
				      const struct out_plan *p, uint64_t seq,
				      const uint8_t iv[ESP_IV_LEN], struct out_job *j)
{
	st64(esp, t->spi | (uint32_t)seq);	/* one store: the AAD is loaded from it */
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

/* The UDP header in front of the ESP header at esp, len bytes of UDP from here; IPv4 sends
 * checksum 0 (RFC 3948 2.1 allows it), IPv6 needs one (RFC 8200 8.1): computed once sealed,
 * over the whole datagram (out_finish). */
static __always_inline void write_udp(uint8_t *udp, const struct out_tmpl *t, uint32_t len,
				      bool v6, struct out_job *j)
{
	st64(udp, t->udp_ports | (uint64_t)len << 16);
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

/* The outer IPv4 header from the template: three stores, its checksum summed from the
 * values (RFC 1071), not read back from what was just stored. */
static __always_inline void outer_ipv4(uint8_t *h, const struct out_tmpl *t,
				       const uint8_t *inner, uint32_t total, uint64_t seq)
{
	bool df = inner[0] >> 4 != 4 || (inner[6] & 0x40);
	uint32_t tos = inner_tos(inner);	/* DSCP and ECN copied (RFC 6040 normal mode) */
	uint32_t frag = df ? IPV4_DF : 0, id = (uint16_t)seq;
	uint32_t sum = t->sum + tos + total + id + frag;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	st64(h, (0x4500ull | tos) << 48 | (uint64_t)total << 32 | id << 16 | frag);
	st64(h + 8, t->ip4_ttl_src | (uint64_t)(uint16_t)~sum << 32);
	memcpy(h + 16, t->addrs, 4);
}

static __always_inline void outer_ipv6(uint8_t *h, const struct out_tmpl *t,
				       const uint8_t *inner, uint32_t total)
{
	uint64_t tos = inner_tos(inner);

	st64(h, (6ull << 28 | tos << 20) << 32 | (uint64_t)(total - 40) << 16 |
			(uint64_t)t->proto << 8 | 64);
	memcpy(h + 8, t->addrs, 32);
}

static void tmpl_tunnel(struct out_tmpl *t, const struct sp *sp)
{
	const uint8_t *s = sp->tsrc.a, *d = sp->tdst.a;

	t->v4 = sp->tdst.family == AF_INET;
	t->proto = t->udp ? IPPROTO_UDP_ : IPPROTO_ESP_;
	t->ip_hdr = t->v4 ? 20 : 40;
	t->hdr = t->ip_hdr + t->udp;
	t->over = t->hdr + ESP_HDR_LEN + ESP_IV_LEN + sp->sa->icv_len;
	/* out_run_lean's trailer is one 8-byte store, which the ICV's room must take; ESP in
	 * UDP over IPv6 takes its checksum after the seal (out_finish) */
	t->lean = !sp->sa->tfc && sp->sa->icv_len >= 6 && !(t->udp && !t->v4);
	if (!t->v4) {
		memcpy(t->addrs, s, 16);
		memcpy(t->addrs + 16, d, 16);
		return;
	}
	t->ip4_ttl_src = (64ull << 8 | t->proto) << 48 | rd32(s);
	t->sum = 0x4500 + (64u << 8 | t->proto) + rd16(s) + rd16(s + 2) + rd16(d) + rd16(d + 2);
	memcpy(t->addrs, d, 4);
}

/* The template of a run of packets of sp (whose SA goes by path). */
static void tmpl_init(struct out_tmpl *t, const struct sp *sp, const struct sa_path *path)
{
	t->sp = sp;
	t->lean = false;
	t->spi = (uint64_t)sp->sa->spi << 32;
	t->udp = path->encap ? UDP_HLEN : 0;
	t->udp_ports = (uint64_t)ntohs(path->sport) << 48 | (uint64_t)ntohs(path->dport) << 32;
	if (sp->mode == SP_MODE_TUNNEL)
		tmpl_tunnel(t, sp);
}

static __always_inline int out_tunnel(const struct out_tmpl *t, struct sa *sa,
				      const struct pbuf *b, const struct pkt_info *pi, uint32_t mtu,
				      uint64_t seq, const uint8_t *iv, struct out_job *j)
{
	uint32_t hdr = t->ip_hdr + t->udp;
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
	write_trailer(sa, inner, &p);
	if (t->v4)
		outer_ipv4(b->head + esp_at - hdr, t, inner, p.total, seq);
	else
		outer_ipv6(b->head + esp_at - hdr, t, inner, p.total);
	j->udp6 = false;
	if (t->udp)
		write_udp(b->head + esp_at - UDP_HLEN, t, p.total - t->ip_hdr, !t->v4, j);
	prep_seal(sa, t, b->head + esp_at, &p, seq, iv, j);
	j->span = (uint64_t)p.total << 32 | (esp_at - hdr);
	return 0;
}

/* --- transport mode -------------------------------------------------------------------- */

static int out_transport(const struct out_tmpl *t, struct sa *sa, const struct pbuf *b,
			 const struct pkt_info *pi, uint32_t mtu, uint64_t seq, const uint8_t *iv,
			 struct out_job *j)
{
	uint8_t *ip = b->head + b->off;
	uint32_t udp = t->udp, shift = udp + ESP_HDR_LEN + ESP_IV_LEN, esp_at;
	struct out_plan p;
	int err;

	if (pi->fragment)
		return drop(sa, SA_C_fragment);
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
	write_trailer(sa, ip + pi->l4_off, &p);
	memmove(ip - shift, ip, pi->l4_off);
	ip -= shift;
	ip[pi->nh_off] = udp ? IPPROTO_UDP_ : IPPROTO_ESP_;
	if (pi->family == AF_INET) {
		((struct ipv4_hdr *)ip)->tot_len = htons((uint16_t)p.total);
		csum_ipv4_header(ip);
	} else {
		((struct ipv6_hdr *)ip)->payload_len = htons((uint16_t)(p.total - 40));
	}
	j->udp6 = false;
	if (udp)
		write_udp(ip + pi->l4_off, t, p.total - pi->l4_off, pi->family == AF_INET6, j);
	prep_seal(sa, t, ip + pi->l4_off + udp, &p, seq, iv, j);
	j->span = (uint64_t)p.total << 32 | (b->off - shift);
	return 0;
}

/* --- entry points ---------------------------------------------------------------------- */

/* One parsed packet with its sequence number and IV: complete an unfinished TCP/UDP
 * checksum (a local sender's offload; ESP_OUT_FIX_CSUM: recompute it), then encapsulate by
 * the policy's mode, all but the seal. The inner IPv4 header is the sender's, checksum and
 * all: tunnel mode leaves it alone (RFC 4301 5.1.2.1), transport mode rewrites it. */
static __always_inline int out_prepare(const struct out_tmpl *t, struct sa *sa,
				       const struct pbuf *b, const struct pkt_info *pi,
				       uint32_t mtu, unsigned flags, uint64_t seq, const uint8_t *iv,
				       struct out_job *j)
{
	uint8_t *ip = b->head + b->off;

	if (((flags & ESP_OUT_FIX_CSUM) && !pi->fragment) || csum_l4_unfinished_fast(ip, pi))
		csum_l4(ip, pi);
	if (t->sp->mode == SP_MODE_TUNNEL)
		return out_tunnel(t, sa, b, pi, mtu, seq, iv, j);
	return out_transport(t, sa, b, pi, mtu, seq, iv, j);
}

/* The seal; b becomes the ESP packet. */
static __always_inline int out_finish(struct sa *sa, struct pbuf *b, const struct out_job *j,
				      unsigned thread)
{
	int err = aead_seal(&sa->aead, thread, &j->r);

	if (err < 0)
		return drop(sa, err == -ENOMEM ? SA_C_no_memory : SA_C_crypto_error);
	b->off = (uint32_t)j->span;
	b->len = (uint32_t)(j->span >> 32);
	if (j->udp6)
		udp6_checksum(b->head + b->off, b->len);
	return 0;
}

int esp_out_seq_iv(struct sp *sp, struct pbuf *b, unsigned thread, uint32_t mtu,
		   unsigned flags, uint64_t seq, const uint8_t iv[ESP_IV_LEN])
{
	struct sa *sa = sp->sa;
	struct out_tmpl t;
	struct pkt_info pi;
	struct out_job j;
	int err;

	if (pkt_parse(b->head + b->off, b->len, &pi) < 0)
		return drop(sa, SA_C_malformed);
	tmpl_init(&t, sp, sa_path(sa));
	err = out_prepare(&t, sa, b, &pi, mtu, flags, seq, iv, &j);
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

	/* -ENOSPC, or -ENOMEM: the key schedule could not be made */
	if (err < 0)
		return drop(sa, err == -ENOMEM ? SA_C_no_memory : SA_C_iv_exhausted);
	return 0;
}

int esp_out(struct sp *sp, struct pbuf *b, unsigned thread, uint32_t mtu, unsigned flags)
{
	struct sa *sa = sp->sa;
	uint8_t iv[ESP_IV_LEN];
	uint64_t seq;
	int err;

	if (!sa_seq_alloc(sa, 1, &seq))
		return drop(sa, SA_C_seq_exhausted);
	err = next_iv(sa, seq, b->len, iv);
	if (err)
		return err;
	return esp_out_seq_iv(sp, b, thread, mtu, flags, seq, iv);
}

/* The SPI | SN-high | SN-low of an ESN SA's AAD (RFC 4303 2.2.1), stored as the library
 * loads it: 8 bytes, then 4. */
static __always_inline void esn_aad(const struct out_tmpl *t, uint64_t seq, uint8_t aad[12])
{
	st64(aad, t->spi | seq >> 32);
	st32(aad + 8, (uint32_t)seq);
}

/* One packet of a lean run (the template's tunnel mode without TFC padding): what
 * out_prepare, out_tunnel and out_finish do, with the run's constants from the template;
 * the same results, counters and bytes (test_esp_burst compares them). */
static __always_inline int out_lean(const struct out_tmpl *t, struct sa *sa, struct pbuf *b,
				    const struct pkt_info *pi, uint32_t mtu, unsigned flags,
				    uint64_t seq, const uint8_t iv[ESP_IV_LEN], unsigned thread)
{
	/* the padding: payload + padding + 2 a multiple of 4 (RFC 4303 2.4) */
	uint32_t len = pi->ip_len, pad = (2 - len) & 3, enc = len + pad + 2;
	uint32_t total = t->over + enc, off = b->off;
	uint8_t *ip = b->head + off, *esp, aad[12];
	struct aead_req r;
	int err;

	if (((flags & ESP_OUT_FIX_CSUM) && !pi->fragment) || csum_l4_unfinished_fast(ip, pi))
		csum_l4(ip, pi);
	if ((mtu && total > mtu) || total > 65535)
		return drop(sa, SA_C_too_big);
	if (off < t->hdr + ESP_HDR_LEN + ESP_IV_LEN || off + enc + sa->icv_len > b->size)
		return drop(sa, SA_C_no_room);
	st64(ip + len, trailer_word(pad, pi->family == AF_INET ? 4 : 41));
	esp = ip - ESP_HDR_LEN - ESP_IV_LEN;
	if (t->v4)
		outer_ipv4(esp - t->hdr, t, ip, total, seq);
	else
		outer_ipv6(esp - t->hdr, t, ip, total);
	if (t->udp)
		st64(esp - UDP_HLEN, t->udp_ports | (uint64_t)(total - t->ip_hdr) << 16);
	st64(esp, t->spi | (uint32_t)seq);	/* one store: the AAD is loaded from it */
	memcpy(esp + ESP_HDR_LEN, iv, ESP_IV_LEN);
	r = (struct aead_req){ .aad = esp, .aad_len = ESP_HDR_LEN, .iv = esp + ESP_HDR_LEN,
			       .data = ip, .len = enc, .icv = ip + enc };
	if (sa->esn) {
		esn_aad(t, seq, aad);
		r.aad = aad;
		r.aad_len = 12;
	}
	err = aead_seal(&sa->aead, thread, &r);
	if (err < 0)
		return drop(sa, err == -ENOMEM ? SA_C_no_memory : SA_C_crypto_error);
	b->off = off - ESP_HDR_LEN - ESP_IV_LEN - t->hdr;
	b->len = total;
	return 0;
}

/* Packets i .. i+n-1, all for one policy: n sequence numbers at once, the counters once. */
static unsigned out_run(struct sp *const *sp, struct pbuf *const *b, const struct pkt_info *pi,
			unsigned i, unsigned n, unsigned thread, const uint32_t *mtu,
			unsigned flags, int *res)
{
	struct sa *sa = sp[i]->sa;
	uint64_t seq = 0, bytes = 0;
	unsigned granted = sa_seq_alloc(sa, n, &seq), ok = 0;
	struct out_tmpl t;

	tmpl_init(&t, sp[i], sa_path(sa));
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
		if (res[j])
			continue;
		if (t.lean) {
			res[j] = out_lean(&t, sa, b[j], &pi[j], mtu ? mtu[j] : 0, flags, seq, iv,
					  thread);
		} else {
			res[j] = out_prepare(&t, sa, b[j], &pi[j], mtu ? mtu[j] : 0, flags, seq, iv,
					     &job);
			if (!res[j])
				res[j] = out_finish(sa, b[j], &job, thread);
		}
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
		for (run = 1; i + run < n && sp[i + run] == sp[i]; run++)
			;
		done += out_run(sp, b, pi, i, run, thread, mtu, flags, res);
	}
	return done;
}
