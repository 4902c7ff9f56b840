// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * egress.c - the way out of the worker (egress.h): next hop (nexthop.c) per policy, one
 * esp_out_burst per burst, then per packet: AF_XDP TX with a fresh Ethernet header, or the
 * kernel (raw socket) while the neighbour is unresolved or the egress is not ours; packets
 * that would outgrow the path are fragmented before encapsulation (IPv4 without DF,
 * RFC 4459 3) or answered with ICMP "packet too big" (RFC 4301 8.2, icmp.c).
 * Decrypted packets go to the host port; with --fast-forward, those the kernel would route
 * out of one of our interfaces to a resolved neighbour leave by AF_XDP from their frame
 * (TTL / hop limit decremented, RFC 1812 5.3.1 / RFC 8200 3), and all the rest (local,
 * unresolved, too big, TTL expiring, other interfaces) still take the host port.
 */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "egress.h"
#include "esper_wire.h"
#include "icmp.h"

#define BURST_MAX 64

static inline void count(struct worker *w, enum worker_counter c)
{
	worker_count(w, c);
}

void egress_host(struct worker *w, const uint8_t *ip, uint32_t len)
{
	if (write(w->host_fd, ip, len) == (ssize_t)len)
		count(w, W_C_host_tx);
	else
		count(w, W_C_tx_error);
}

/* --- the kernel and the AF_XDP ports ----------------------------------------------------- */

static void to_kernel(struct worker *w, const uint8_t *ip, uint32_t len)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	int fd;

	if (ip[0] >> 4 == 4) {
		struct sockaddr_in *sin = (void *)&ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, ip + 16, 4);
		sl = sizeof(*sin);
		fd = w->raw[0];
	} else {
		struct sockaddr_in6 *sin6 = (void *)&ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, ip + 24, 16);
		sl = sizeof(*sin6);
		fd = w->raw[1];
	}
	if (sendto(fd, ip, len, 0, (struct sockaddr *)&ss, sl) == (ssize_t)len)
		count(w, W_C_kernel_tx);
	else
		count(w, W_C_tx_error);
}

static struct xsk_port *port_of(struct worker *w, int ifindex)
{
	for (unsigned i = 0; i < w->xs.nports; i++)
		if (w->xs.port[i].ifindex == ifindex)
			return &w->xs.port[i];
	return NULL;
}

/* Queue the IP packet at b (in frame) on port, behind an Ethernet header toward nh. */
static void xsk_send(struct worker *w, struct xsk_port *port, const struct nexthop *nh,
		     uint64_t frame, const struct pbuf *b)
{
	uint8_t *eth = b->head + b->off - ETH_HLEN_;
	uint16_t type = b->head[b->off] >> 4 == 4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6;

	memcpy(eth, nh->mac, 6);
	memcpy(eth + 6, port->mac, 6);
	eth[12] = (uint8_t)(type >> 8);
	eth[13] = (uint8_t)type;
	xsk_tx(&w->xs, port, frame + b->off - ETH_HLEN_, b->len + ETH_HLEN_);
}

/* Send the ESP packet of p: true if its frame went to a TX ring. */
static bool to_wire(struct worker *w, struct egress_pkt *p, const struct nexthop *nh)
{
	struct xsk_port *port = nh->resolved ? port_of(w, nh->ifindex) : NULL;

	if (!port) {
		to_kernel(w, p->b.head + p->b.off, p->b.len);
		return false;
	}
	xsk_send(w, port, nh, p->frame, &p->b);
	count(w, W_C_xsk_tx);
	return true;
}

/* --- decrypted packets ------------------------------------------------------------------ */

/* One hop less, with the IPv4 header checksum updated incrementally (RFC 1624). */
static void decrease_hop_limit(uint8_t *ip)
{
	if (ip[0] >> 4 == 4) {
		struct ipv4_hdr *h = (struct ipv4_hdr *)ip;
		uint32_t check = h->check + (uint32_t)htons(0x0100);

		h->check = (uint16_t)(check + (check >= 0xffff));
		h->ttl--;
	} else {
		ip[7]--;
	}
}

/* What a router does more than decrement the hop limit is left to the kernel: IPv4
 * options, IPv6 hop-by-hop options, link-local addresses, an expiring TTL ("time
 * exceeded"). */
static bool plain_forwardable(const uint8_t *ip, bool v4)
{
	if (v4)
		return ip[0] == 0x45 && ip[8] > 1;
	return ip[6] != 0 /* hop-by-hop */ && ip[7] > 1 &&
	       !(ip[8] == 0xfe && (ip[9] & 0xc0) == 0x80) &&
	       !(ip[24] == 0xfe && (ip[25] & 0xc0) == 0x80);
}

/* The decrypted packet at b, forwarded by the worker if it may: true if queued for TX. */
static bool fast_forward(struct worker *w, uint64_t frame, const struct pbuf *b)
{
	const uint8_t *ip = b->head + b->off;
	bool v4 = ip[0] >> 4 == 4;
	struct xsk_port *port;
	struct nexthop nh;

	if (!(w->fast_forward & (v4 ? WORKER_FWD_IPV4 : WORKER_FWD_IPV6)) ||
	    b->off < ETH_HLEN_ || !plain_forwardable(ip, v4))
		return false;
	if (nexthop_lookup(w->nh_fwd, v4 ? AF_INET : AF_INET6, ip + (v4 ? 16 : 24), &nh) < 0 ||
	    !nh.unicast || !nh.resolved || b->len > nh.mtu ||
	    !(port = port_of(w, nh.ifindex)))
		return false;
	decrease_hop_limit(b->head + b->off);
	xsk_send(w, port, &nh, frame, b);
	count(w, W_C_forwarded);
	return true;
}

bool egress_decrypted(struct worker *w, uint64_t frame, const struct pbuf *b)
{
	if (fast_forward(w, frame, b))
		return true;
	egress_host(w, b->head + b->off, b->len);
	return false;
}

/* --- packets too big for the path ------------------------------------------------------- */

/* The largest packet that still fits mtu once encapsulated by sp (RFC 4303 2.4 padding). */
static uint32_t inner_mtu(const struct sp *sp, uint32_t mtu)
{
	uint32_t outer = sp->conf.mode == SP_MODE_TUNNEL ?
				 (sp->conf.tdst.family == AF_INET ? 20 : 40) : 0;
	uint32_t room = mtu - outer - ESP_HDR_LEN - ESP_IV_LEN - sp->sa->icv_len;

	return (room & ~3u) - 2;
}

static void too_big(struct worker *w, const struct egress_pkt *p, uint32_t mtu)
{
	uint8_t msg[ICMP_TOO_BIG_MAX];
	size_t n = icmp_too_big(p->b.head + p->b.off, &p->pi, inner_mtu(p->sp, mtu), msg);

	if (n) {
		egress_host(w, msg, (uint32_t)n);
		count(w, W_C_icmp_too_big);
	}
}

/* One fragment of p: header, then len bytes of its payload from at, in a frame of its own. */
static bool make_fragment(struct worker *w, const struct egress_pkt *p, uint32_t at,
			  uint32_t len, struct egress_pkt *f)
{
	const uint8_t *ip = p->b.head + p->b.off;
	uint32_t hl = p->pi.l4_off, total = p->pi.ip_len - hl;
	uint16_t frag = ntohs(((const struct ipv4_hdr *)ip)->frag_off);
	struct ipv4_hdr *h;

	if (!xsk_alloc(&w->xs, &f->frame)) {
		count(w, W_C_no_frame);
		return false;
	}
	f->sp = p->sp;
	f->b = (struct pbuf){ .head = xsk_frame(&w->xs, f->frame), .size = XSK_FRAME_SIZE,
			      .off = XSK_HEADROOM, .len = hl + len };
	memcpy(f->b.head + f->b.off, ip, hl);
	memcpy(f->b.head + f->b.off + hl, ip + hl + at, len);
	h = (struct ipv4_hdr *)(f->b.head + f->b.off);
	h->tot_len = htons((uint16_t)(hl + len));
	h->frag_off = htons((uint16_t)(((frag & IPV4_OFFSET) + at / 8) |
				       ((at + len < total || (frag & IPV4_MF)) ? IPV4_MF : 0)));
	csum_ipv4_header(f->b.head + f->b.off);
	pkt_parse(f->b.head + f->b.off, f->b.len, &f->pi);
	count(w, W_C_fragmented);
	return true;
}

/* IPv4 without DF: fragment before encapsulation; options are copied into every fragment. */
static void fragment(struct worker *w, const struct egress_pkt *p, uint32_t mtu)
{
	uint32_t hl = p->pi.l4_off, total = p->pi.ip_len - hl;
	uint32_t room = (inner_mtu(p->sp, mtu) - hl) & ~7u;

	if (inner_mtu(p->sp, mtu) <= hl + 8) {
		count(w, W_C_no_route);
		return;
	}
	for (uint32_t at = 0; at < total; at += room) {
		struct egress_pkt f;

		if (!make_fragment(w, p, at, total - at < room ? total - at : room, &f))
			return;
		egress_encrypt(w, &f, 1);
	}
}

static bool without_df(const struct egress_pkt *p)
{
	const struct ipv4_hdr *h = (const void *)(p->b.head + p->b.off);

	return p->pi.family == AF_INET && !(ntohs(h->frag_off) & IPV4_DF);
}

/* --- the burst ------------------------------------------------------------------------ */

/* The next hop of p's outer destination; consecutive packets of one tunnel share it. */
static int route(struct worker *w, const struct egress_pkt *p, const struct egress_pkt *prev,
		 const struct nexthop *prev_nh, struct nexthop *nh)
{
	const struct cmd_spdadd *c = &p->sp->conf;

	if (c->mode == SP_MODE_TUNNEL) {
		if (prev && prev->sp == p->sp) {
			*nh = *prev_nh;
			return 0;
		}
		return nexthop_lookup(w->nh, c->tdst.family, c->tdst.a, nh);
	}
	return nexthop_lookup(w->nh, p->pi.family, p->pi.dst, nh);
}

static void finish(struct worker *w, struct egress_pkt *p, const struct nexthop *nh, int res)
{
	bool queued = false;

	if (res == 0)
		queued = to_wire(w, p, nh);
	else if (res == ESP_DROP(SA_C_too_big) && without_df(p))
		fragment(w, p, nh->mtu);
	else if (res == ESP_DROP(SA_C_too_big))
		too_big(w, p, nh->mtu);
	else
		count(w, W_C_esp_drop);
	if (!queued)
		xsk_free(&w->xs, p->frame);
}

void egress_encrypt(struct worker *w, struct egress_pkt *pkts, unsigned n)
{
	struct sp *sp[BURST_MAX];
	struct pbuf *b[BURST_MAX];
	struct pkt_info pi[BURST_MAX];
	struct nexthop nh[BURST_MAX];
	uint32_t mtu[BURST_MAX];
	unsigned idx[BURST_MAX], m = 0;
	int res[BURST_MAX];

	for (unsigned i = 0; i < n; i++) {
		if (route(w, &pkts[i], m ? &pkts[idx[m - 1]] : NULL, m ? &nh[m - 1] : NULL,
			  &nh[m]) < 0) {
			count(w, W_C_no_route);
			xsk_free(&w->xs, pkts[i].frame);
			continue;
		}
		sp[m] = pkts[i].sp;
		b[m] = &pkts[i].b;
		pi[m] = pkts[i].pi;
		mtu[m] = nh[m].mtu;
		idx[m++] = i;
	}
	if (!m)
		return;
	esp_out_burst(sp, b, pi, m, w->id, mtu, w->out_flags, res);
	for (unsigned j = 0; j < m; j++)
		finish(w, &pkts[idx[j]], &nh[j], res[j]);
}
