// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * coalesce.c - runs of decrypted TCP segments and UDP datagrams merged into one GSO packet
 * for the host port (coalesce.h). The header is virtio's (virtio 1.2, 5.1.6 "Device
 * Operation", struct virtio_net_hdr, little-endian), as the TUN device takes it; the merged
 * packet carries the first packet's headers with the total length and, for the kernel to
 * finish per segment, the pseudo-header sum in the L4 checksum (NEEDS_CSUM).
 */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "coalesce.h"
#include "esper_wire.h"
#include "lib/bytes.h"

#define TCP_PSH 0x08
#define TCP_ACK 0x10

/* struct virtio_net_hdr, and what of it the merged packets use. */
#define VNET_F_NEEDS_CSUM 1
#define VNET_GSO_TCPV4 1
#define VNET_GSO_TCPV6 4
#define VNET_GSO_UDP_L4 5

const uint8_t coalesce_plain_vnet[COALESCE_VNET_LEN];

static uint8_t *packet(struct coalesce *c)
{
	return c->buf + COALESCE_VNET_LEN;
}

/* The length of the L4 header of a packet that may be merged, 0 if it may not be. The L4
 * checksum is checked apart (the dearest test comes last). An IPv4 header must sum right:
 * a merged packet gets the first's header with a checksum made anew, which would repair a
 * wrong one that the host drops in a packet alone. */
static unsigned l4_header(const uint8_t *ip, const struct pkt_info *pi)
{
	const uint8_t *l4 = ip + pi->l4_off;
	unsigned l4_len = pi->ip_len - pi->l4_off, th;

	if (pi->fragment || pi->l4_off != (pi->family == AF_INET ? 20 : 40) ||
	    (pi->family == AF_INET6 && pi->nh_off != 6))
		return 0;	/* IPv4 options, IPv6 extension headers, fragments */
	if (pi->family == AF_INET && csum_fold(csum_add(0, ip, 20)) != 0)
		return 0;
	if (pi->proto == IPPROTO_TCP) {
		if (l4_len < 20)
			return 0;
		th = (l4[12] >> 4) * 4u;
		/* ACK, maybe PSH, nothing else; some payload */
		if (th < 20 || th >= l4_len || (l4[13] & ~TCP_PSH) != TCP_ACK)
			return 0;
		return th;
	}
	if (pi->proto == IPPROTO_UDP && l4_len > 8 && rd16(l4 + 4) == l4_len)
		return 8;
	return 0;
}

static void reset_run(struct coalesce_run *r, const uint8_t *ip, const struct pkt_info *pi,
		      unsigned th)
{
	uint16_t payload = (uint16_t)(pi->ip_len - pi->l4_off - th);
	const uint8_t *l4 = ip + pi->l4_off;

	r->len = pi->ip_len;
	r->segs = 1;
	r->hlen = (uint16_t)(pi->l4_off + th);
	r->mss = r->last = payload;
	r->fixed_id = false;
	r->next_id = pi->family == AF_INET ? (uint16_t)(rd16(ip + 4) + 1) : 0;
	r->next_seq = pi->proto == IPPROTO_TCP ? rd32(l4 + 4) + payload : 0;
	r->closed = pi->proto == IPPROTO_TCP && (l4[13] & TCP_PSH);
}

bool coalesce_start(struct coalesce *c, const uint8_t *ip, const struct pkt_info *pi)
{
	unsigned th = l4_header(ip, pi);

	c->r.len = 0;
	if (!th || !csum_l4_valid(ip, pi))
		return false;
	memcpy(packet(c), ip, pi->ip_len);
	reset_run(&c->r, ip, pi, th);
	return true;
}

/* Do the IP headers agree in all but the length, the checksum and the ID? The ID is
 * checked here too: the next one, or (DF) always the first's (*fixed_id then). */
static bool same_ip(const struct coalesce_run *r, const uint8_t *first, const uint8_t *ip,
		    int family, bool *fixed_id)
{
	uint16_t id;

	*fixed_id = r->fixed_id;
	if (family == AF_INET6)
		return !memcmp(first, ip, 4) && !memcmp(first + 6, ip + 6, 34);
	if (memcmp(first, ip, 2) || memcmp(first + 6, ip + 6, 4) || memcmp(first + 12, ip + 12, 8))
		return false;
	id = rd16(ip + 4);
	if (!r->fixed_id && id == r->next_id)
		return true;
	*fixed_id = (rd16(ip + 6) & IPV4_DF) && id == rd16(first + 4) &&
		    (r->segs == 1 || r->fixed_id);
	return *fixed_id;
}

/* Do the L4 headers continue the run: same ports, and for TCP the next sequence number,
 * the same acknowledgment, header length, window, urgent pointer and options? */
static bool same_l4(const struct coalesce_run *r, const uint8_t *first, const uint8_t *l4,
		    unsigned th, bool tcp)
{
	if (memcmp(first, l4, 4))
		return false;
	if (!tcp)
		return true;
	return rd32(l4 + 4) == r->next_seq && !memcmp(first + 8, l4 + 8, 5) &&
	       !memcmp(first + 14, l4 + 14, 2) && !memcmp(first + 18, l4 + 18, th - 18);
}

/* Does ip continue run r, whose first packet's headers are at first (the checksum
 * aside)? *fixed_id: the run's ID rule with ip in it. */
static bool continues(const struct coalesce_run *r, const uint8_t *first, const uint8_t *ip,
		      const struct pkt_info *pi, bool *fixed_id)
{
	unsigned th = l4_header(ip, pi);
	uint32_t payload;

	if (!r->len || r->closed || r->segs >= COALESCE_MAX_SEGS || !th ||
	    pi->l4_off + th != r->hlen || (first[0] >> 4) != (ip[0] >> 4) ||
	    pi->proto != (pi->family == AF_INET ? first[9] : first[6]))
		return false;
	payload = pi->ip_len - r->hlen;
	if (payload > r->mss || r->last != r->mss || r->len + payload > COALESCE_MAX_LEN)
		return false;
	return same_ip(r, first, ip, pi->family, fixed_id) &&
	       same_l4(r, first + pi->l4_off, ip + pi->l4_off, th, pi->proto == IPPROTO_TCP);
}

bool coalesce_pair(const uint8_t *a, const struct pkt_info *pa, const uint8_t *b,
		   const struct pkt_info *pb)
{
	unsigned th = l4_header(a, pa);
	struct coalesce_run r;
	bool fixed_id;

	if (!th)
		return false;
	reset_run(&r, a, pa, th);
	return continues(&r, a, b, pb, &fixed_id);
}

bool coalesce_append(struct coalesce *c, const uint8_t *ip, const struct pkt_info *pi)
{
	struct coalesce_run *r = &c->r;
	uint8_t *first = packet(c);
	uint32_t payload;
	bool fixed_id;

	if (!continues(r, first, ip, pi, &fixed_id) || !csum_l4_valid(ip, pi))
		return false;
	payload = pi->ip_len - r->hlen;
	memcpy(first + r->len, ip + r->hlen, payload);
	r->len += payload;
	r->segs++;
	r->last = (uint16_t)payload;
	r->fixed_id = fixed_id;
	r->next_id = (uint16_t)(r->next_id + !r->fixed_id);
	r->next_seq += payload;
	if (pi->proto == IPPROTO_TCP && (ip[pi->l4_off + 13] & TCP_PSH)) {
		first[pi->l4_off + 13] |= TCP_PSH;	/* the kernel leaves it on the last */
		r->closed = true;
	}
	if (payload < r->mss)
		r->closed = true;
	return true;
}

static void wr16le(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* The merged packet's headers: lengths, the IPv4 header checksum, the pseudo-header sum
 * in the L4 checksum; and the virtio_net_hdr that asks the kernel for the rest. */
static void finish_gso(struct coalesce *c)
{
	uint8_t *ip = packet(c), *vh = c->buf;
	struct pkt_info pi;
	uint16_t partial;
	unsigned at;

	uint32_t len = c->r.len;

	if ((ip[0] >> 4) == 4) {
		wr16(ip + 2, (uint16_t)len);
		csum_ipv4_header(ip);
	} else {
		wr16(ip + 4, (uint16_t)(len - 40));
	}
	pkt_parse(ip, len, &pi);	/* as the first packet parsed: only the lengths moved */
	if (pi.proto == IPPROTO_UDP)
		wr16(ip + pi.l4_off + 4, (uint16_t)(len - pi.l4_off));
	at = pi.proto == IPPROTO_TCP ? 16 : 6;
	partial = csum_l4_partial(&pi, len - pi.l4_off);
	memcpy(ip + pi.l4_off + at, &partial, 2);
	vh[0] = VNET_F_NEEDS_CSUM;
	vh[1] = pi.proto == IPPROTO_UDP ? VNET_GSO_UDP_L4
		: pi.family == AF_INET ? VNET_GSO_TCPV4 : VNET_GSO_TCPV6;
	wr16le(vh + 2, c->r.hlen);
	wr16le(vh + 4, c->r.mss);
	wr16le(vh + 6, pi.l4_off);
	wr16le(vh + 8, (uint16_t)at);
}

uint32_t coalesce_take(struct coalesce *c, const uint8_t **out)
{
	uint32_t n = c->r.len;

	if (!n)
		return 0;
	if (c->r.segs > 1)
		finish_gso(c);
	else
		memset(c->buf, 0, COALESCE_VNET_LEN);
	c->r.len = 0;
	*out = c->buf;
	return COALESCE_VNET_LEN + n;
}

/* --- several flows at once ---------------------------------------------------------------- */

void coalesce_set_init(struct coalesce_set *s)
{
	s->n = 0;
	for (unsigned i = 0; i < COALESCE_RUNS; i++) {
		s->run[i] = &s->slab[i];
		s->slab[i].r.len = 0;
	}
}

/* Emit open run i and close its slot (the later ones move up, keeping their age). */
static void emit_run(struct coalesce_set *s, unsigned i, coalesce_emit_fn *emit, void *arg)
{
	struct coalesce *c = s->run[i];
	unsigned segs = c->r.segs;
	const uint8_t *buf;
	uint32_t len = coalesce_take(c, &buf);

	if (len)
		emit(arg, buf, len, segs);
	memmove(&s->run[i], &s->run[i + 1], (s->n - i - 1) * sizeof(s->run[0]));
	s->run[--s->n] = c;
}

/* The same source and destination (and family) as run c's packets? */
static bool same_hosts(struct coalesce *c, const uint8_t *ip, const struct pkt_info *pi)
{
	const uint8_t *first = packet(c);

	if ((first[0] >> 4) != (ip[0] >> 4))
		return false;
	return pi->family == AF_INET ? !memcmp(first + 12, ip + 12, 8)
				     : !memcmp(first + 8, ip + 8, 32);
}

/* The same flow as run c, whose hosts are pi's: protocol and ports. */
static bool same_flow(struct coalesce *c, const struct pkt_info *pi)
{
	const uint8_t *first = packet(c);
	uint8_t proto = pi->family == AF_INET ? first[9] : first[6];

	return proto == pi->proto && pi->has_ports && !memcmp(first + pi->l4_off, &pi->sport, 2) &&
	       !memcmp(first + pi->l4_off + 2, &pi->dport, 2);
}

bool coalesce_put(struct coalesce_set *s, const uint8_t *ip, const struct pkt_info *pi,
		  coalesce_emit_fn *emit, void *arg)
{
	bool mergeable = l4_header(ip, pi) != 0;

	for (unsigned i = 0; i < s->n; i++) {
		struct coalesce *c = s->run[i];

		if (!same_hosts(c, ip, pi))
			continue;
		if (coalesce_append(c, ip, pi))
			return true;
		/* ip cannot join: nothing of its flow (or, if it has no flow of ours, of its
		 * hosts) may wait behind it */
		if (!mergeable || same_flow(c, pi)) {
			emit_run(s, i, emit, arg);
			i--;
		}
	}
	if (!mergeable)
		return false;
	if (s->n == COALESCE_RUNS)
		emit_run(s, 0, emit, arg);
	if (!coalesce_start(s->run[s->n], ip, pi))
		return false;
	s->n++;
	return true;
}

void coalesce_flush(struct coalesce_set *s, coalesce_emit_fn *emit, void *arg)
{
	while (s->n)
		emit_run(s, 0, emit, arg);
}
