// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * segment.c - GSO packets read from the host port cut into packets (segment.h), as the
 * kernel's software GSO does it (tcp_gso_segment, __udp_gso_segment, inet_gso_segment):
 * the payload in gso_size pieces behind a copy of the headers; IPv4 total length, ID (up by
 * one per piece) and header checksum; IPv6 payload length; TCP sequence numbers, FIN and PSH
 * on the last piece only, CWR on the first only (RFC 3168 6.1.2); UDP length; every TCP/UDP
 * checksum made whole (RFC 1071). The header is virtio's (virtio 1.2, 5.1.6).
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "esper_wire.h"
#include "lib/bytes.h"
#include "lib/pkt.h"
#include "segment.h"

#define VNET_F_NEEDS_CSUM 1
#define VNET_GSO_TCPV4 1
#define VNET_GSO_TCPV6 4
#define VNET_GSO_UDP_L4 5
#define VNET_GSO_ECN 0x80

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80

static uint16_t rd16le(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* The L4 header length of a GSO packet of type gso_type, 0 if it isn't one. */
static unsigned l4_header(const uint8_t *ip, const struct pkt_info *pi, unsigned gso_type)
{
	unsigned l4_len = pi->ip_len - pi->l4_off, th;

	if (pi->fragment)
		return 0;
	switch (gso_type) {
	case VNET_GSO_TCPV4:
	case VNET_GSO_TCPV6:
		if ((gso_type == VNET_GSO_TCPV4) != (pi->family == AF_INET) ||
		    pi->proto != IPPROTO_TCP || l4_len < 20)
			return 0;
		th = (ip[pi->l4_off + 12] >> 4) * 4u;
		return th >= 20 && th < l4_len ? th : 0;
	case VNET_GSO_UDP_L4:
		return pi->proto == IPPROTO_UDP && l4_len > 8 ? 8 : 0;
	default:
		return 0;
	}
}

int segment_check(const uint8_t *vh, const uint8_t *ip, uint32_t len, struct segment_src *s)
{
	struct pkt_info pi;
	unsigned th;

	memset(s, 0, sizeof(*s));
	s->ip = ip;
	s->len = len;
	s->needs_csum = vh[0] & VNET_F_NEEDS_CSUM;
	s->gso_type = vh[1] & ~VNET_GSO_ECN;
	s->gso_size = rd16le(vh + 4);
	s->csum_start = rd16le(vh + 6);
	s->csum_offset = rd16le(vh + 8);
	s->count = 1;
	if (pkt_parse(ip, len, &pi) < 0 || pi.ip_len != len)
		return -EINVAL;
	if (s->needs_csum && ((uint32_t)s->csum_start + s->csum_offset + 2 > len ||
			      s->csum_start < pi.l4_off))
		return -EINVAL;
	if (!s->gso_type)
		return 0;
	th = l4_header(ip, &pi, s->gso_type);
	if (!th || !s->gso_size)
		return -EINVAL;
	s->hlen = (uint16_t)(pi.l4_off + th);
	s->count = (uint16_t)((len - s->hlen + s->gso_size - 1) / s->gso_size);
	return 0;
}

void segment_csum(const struct segment_src *s, uint8_t *ip)
{
	uint16_t c;

	if (!s->needs_csum)
		return;
	/* The field holds the pseudo-header sum: summing from csum_start takes it in. */
	c = csum_fold(csum_add(0, ip + s->csum_start, s->len - s->csum_start));
	if (!c)
		c = 0xffff;	/* as the kernel's skb_checksum_help: never a zero */
	memcpy(ip + s->csum_start + s->csum_offset, &c, 2);
}

uint32_t segment_piece(const struct segment_src *s, unsigned i, uint8_t *out)
{
	uint32_t at = (uint32_t)i * s->gso_size, payload = s->len - s->hlen;
	uint32_t chunk = payload - at < s->gso_size ? payload - at : s->gso_size;
	uint32_t len = s->hlen + chunk;
	struct pkt_info pi;
	uint8_t *l4;

	memcpy(out, s->ip, s->hlen);
	memcpy(out + s->hlen, s->ip + s->hlen + at, chunk);
	if (out[0] >> 4 == 4) {
		wr16(out + 2, (uint16_t)len);
		wr16(out + 4, (uint16_t)(rd16(s->ip + 4) + i));
		csum_ipv4_header(out);
	} else {
		wr16(out + 4, (uint16_t)(len - 40));
	}
	pkt_parse(out, len, &pi);	/* as segment_check parsed the whole: it holds */
	l4 = out + pi.l4_off;
	if (pi.proto == IPPROTO_TCP) {
		wr32(l4 + 4, rd32(s->ip + pi.l4_off + 4) + at);
		if (i + 1 < s->count)
			l4[13] &= (uint8_t)~(TCP_FIN | TCP_PSH);
		if (i)
			l4[13] &= (uint8_t)~TCP_CWR;
	} else {
		wr16(l4 + 4, (uint16_t)(len - pi.l4_off));
	}
	csum_l4(out, &pi);
	return len;
}
