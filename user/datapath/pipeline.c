// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pipeline.c - the packet pipeline (pipeline.h): a burst is sorted by classify.c (or, for
 * plaintext XDP redirected, by the policy id XDP found), decrypted with one esp_in_burst and
 * encrypted with one esp_out_burst, and every packet handed to one of the driver's ports.
 *
 *   inbound ESP (bare, or in UDP: a new peer address or port is reported, RFC 3948) ->
 *     esp_in -> the inner packet must match an inbound policy of its SA, if any
 *     names it (RFC 4301 5.2 step 4; --strict-inbound: there must be one) -> fast forward
 *     (a route out of a port of ours to a known neighbour: TTL / hop limit decremented,
 *     RFC 1812 5.3.1, RFC 8200 3; not for packets the host port merges with a neighbour
 *     of the burst, ports->merges) or the host
 *   plaintext -> the next hop of the outer destination -> esp_out within its MTU (TFC padding
 *     is cut to fit, RFC 4303 2.7) -> the wire, or the kernel while the next hop is unknown;
 *     too big: IPv4 without DF is fragmented first (RFC 4459 3) and each fragment encrypted
 *     once (a fragment is never fragmented again), else "packet too big" to the sender
 *     (RFC 4301 8.2, icmp.c); below what the family lets a sender be told (IPv6: 1280,
 *     RFC 8200 5) the packet is dropped and counted.
 * Never logs per packet: every outcome is a counter (pipeline.h, sad.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "classify.h"
#include "esper_wire.h"
#include "icmp.h"
#include "pipeline.h"

const char *const pipe_counter_names[P_C_MAX] = {
#define PIPE_COUNTER_NAME(name, text) [P_C_##name] = #name,
	PIPE_COUNTERS(PIPE_COUNTER_NAME)
#undef PIPE_COUNTER_NAME
};

const char *const pipe_counter_help[P_C_MAX] = {
#define PIPE_COUNTER_HELP(name, text) [P_C_##name] = text,
	PIPE_COUNTERS(PIPE_COUNTER_HELP)
#undef PIPE_COUNTER_HELP
};

static void count(struct pipe *pp, enum pipe_counter c)
{
	pipe_count(pp, c);
}

static void drop(struct pipe *pp, struct pipe_pkt *p, enum pipe_counter why)
{
	count(pp, why);
	pp->ports->release(pp->drv, p);
}

/* The burst, sorted: inbound ESP with its SA, plaintext with its policy. */
struct sorted {
	struct pipe_pkt *in[PIPE_BURST];
	struct sa *sa[PIPE_BURST];
	unsigned nin;
	struct pipe_pkt *out[PIPE_BURST];
	struct sp *sp[PIPE_BURST];
	unsigned nout;
	struct spd_id_memo hint;	/* XDP's policy ids: one lookup per run of one id */
	struct classify_memo memo;	/* classify's SAD lookups, the same */
};

/* --- the way out -------------------------------------------------------------------------- */

static void to_host(struct pipe *pp, struct pipe_pkt *p)
{
	count(pp, pp->ports->host(pp->drv, p->b.head + p->b.off, p->b.len) ? P_C_to_host
									     : P_C_tx_error);
	pp->ports->release(pp->drv, p);
}

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

/* A decrypted packet, forwarded by the pipeline if it may: true if it went to the wire. */
static bool fast_forward(struct pipe *pp, struct pipe_pkt *p)
{
	const uint8_t *ip = p->b.head + p->b.off;
	bool v4 = ip[0] >> 4 == 4;
	struct nexthop nh;

	if (!(v4 ? pp->cfg.forward_v4 : pp->cfg.forward_v6) || !plain_forwardable(ip, v4))
		return false;
	if (pp->ports->route(pp->drv, v4 ? AF_INET : AF_INET6, ip + (v4 ? 16 : 24), true,
			     &nh) < 0 ||
	    !nh.unicast || !nh.resolved || (nh.mtu && p->b.len > nh.mtu))
		return false;
	decrease_hop_limit(p->b.head + p->b.off);
	count(pp, P_C_forwarded);
	pp->ports->wire(pp->drv, p, &nh);
	return true;
}

/* --- decrypted packets: the inbound policy check (RFC 4301 5.2) ---------------------------- */

static bool prefix_eq(const uint8_t *a, const uint8_t *net, unsigned plen)
{
	unsigned bytes = plen / 8, bits = plen % 8;

	if (memcmp(a, net, bytes))
		return false;
	return !bits || ((a[bytes] ^ net[bytes]) & (uint8_t)(0xff00 >> bits)) == 0;
}

/* Does the inner packet match sel? A selector with a protocol matches no packet whose
 * protocol could not be read (an IPv6 chain past the parser, IP protocol 255); one with
 * ports, no packet without them (a TCP or UDP header cut short), RFC 4301 4.4.1.1. A
 * fragment other than the first is the exception: its first fragment, which carries the
 * ports, is checked, and esper-xdp itself sends such fragments on an SA with ports (it
 * fragments before encapsulating), as a peer that negotiated NON_FIRST_FRAGMENTS_ALSO
 * would (RFC 4301 7.3; docs/security.md). */
static bool sel_match(const struct sa_sel *sel, const struct pkt_info *pi, bool tunnel)
{
	if (sel->family != pi->family || sel->tunnel != tunnel ||
	    !prefix_eq(pi->src, sel->src, sel->src_plen) ||
	    !prefix_eq(pi->dst, sel->dst, sel->dst_plen))
		return false;
	if (sel->proto && sel->proto != pi->proto)
		return false;
	if (!sel->sport && !sel->dport)
		return true;
	if (!pi->has_ports)
		return pi->later_fragment;
	return (!sel->sport || sel->sport == pi->sport) && (!sel->dport || sel->dport == pi->dport);
}

static bool inner_allowed(struct pipe *pp, struct sa *sa, const struct pkt_info *pi,
			  bool tunnel)
{
	const struct sa_sels *sels = atomic_load_explicit(&sa->in_sels, memory_order_acquire);

	if (!sels) {
		if (!pp->cfg.strict_inbound)
			return true;	/* ESPER: no inbound policy, no check */
		sa_count(sa, SA_C_no_in_policy, 1);
		return false;
	}
	for (unsigned i = 0; i < sels->n; i++)
		if (sel_match(&sels->sel[i], pi, tunnel))
			return true;
	sa_count(sa, SA_C_policy_mismatch, 1);
	return false;
}


/* --- ESP in UDP: a peer that a NAT moved (RFC 3948 2.2, RFC 7296 2.23) --------------------- */

/* Where ESP in UDP came from: its outer source and UDP source port, noted before esp_in
 * overwrites the outer headers. */
struct peer {
	uint8_t addr[16];
	uint16_t port;		/* network order */
};

static void note_peer(const struct pipe_pkt *p, struct peer *peer)
{
	memcpy(peer->addr, p->pi.src, p->pi.family == AF_INET ? 4 : 16);
	peer->port = p->pi.sport;
}

#define MAPPING_REPORT_NS 1000000000ull	/* one mapping event per SA per second at most */

/* How a decrypted packet's peer compares with its SA's (ESP in UDP only). */
enum peer_moved { PEER_SAME, PEER_PORT, PEER_ADDR };

static enum peer_moved peer_moved(const struct sa *sa, const struct peer *peer)
{
	const struct sa_path *path = sa_path(sa);

	if (memcmp(peer->addr, path->src.a, sa->family == AF_INET ? 4 : 16))
		return PEER_ADDR;
	return peer->port == path->sport ? PEER_SAME : PEER_PORT;
}

/* A delivered packet came from elsewhere than the SA's peer: reported (tables/event.h) at
 * most once a second per SA; the SA moves only when the keying daemon says so (update). */
static void report_peer(struct pipe *pp, struct sa *sa, const struct peer *peer)
{
	const struct sa_path *path = sa_path(sa);
	size_t alen = sa->family == AF_INET ? 4 : 16;
	struct event ev = { .kind = EVENT_MAPPING };
	struct event_mapping *m = &ev.mapping;
	struct timespec now;
	uint64_t ns, told;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec + 1;	/* never 0 */
	told = atomic_load_explicit(&sa->mapping_told, memory_order_relaxed);
	if ((told && ns - told < MAPPING_REPORT_NS) ||
	    !atomic_compare_exchange_strong(&sa->mapping_told, &told, ns))
		return;
	m->spi = sa->spi;
	m->uid = sa->uid;
	m->old_addr = path->src;
	m->old_port = ntohs(path->sport);
	m->new_addr.family = sa->family;
	memcpy(m->new_addr.a, peer->addr, alen);
	m->new_port = ntohs(peer->port);
	pipe_event(pp, &ev);
}

/*
 * A decrypted packet: the inbound policy check, then the host or fast forward. ESP in UDP
 * (peer not NULL) from another place than the SA's peer is counted; in transport mode the
 * outer source becomes the delivered packet's source, which the ICV does not cover (a NAT,
 * or anyone on the path, rewrites it): from another address than the SA's it is dropped.
 * Only a packet that is delivered is reported (report_peer).
 */
/* run: p joins a neighbour of the burst in the host port's merged packet (no fast forward). */
static void decrypted(struct pipe *pp, struct pipe_pkt *p, struct sa *sa, bool tunnel,
		      const struct peer *peer, bool run)
{
	enum peer_moved moved = peer ? peer_moved(sa, peer) : PEER_SAME;
	struct pkt_info pi;

	if (moved != PEER_SAME)
		sa_count(sa, SA_C_mapping, 1);
	if (moved == PEER_ADDR && !tunnel) {
		sa_count(sa, SA_C_peer_address, 1);
		drop(pp, p, P_C_inner_drop);
		return;
	}
	if (pkt_parse(p->b.head + p->b.off, p->b.len, &pi) < 0) {
		drop(pp, p, P_C_malformed);	/* esp_in checked it: cannot happen */
		return;
	}
	if (!inner_allowed(pp, sa, &pi, tunnel)) {
		drop(pp, p, P_C_inner_drop);
		return;
	}
	if (moved != PEER_SAME)
		report_peer(pp, sa, peer);
	if (!tunnel || run || !fast_forward(pp, p))
		to_host(pp, p);
}

/* With fast forward and a host port that merges: joined[i], packets i and i + 1 (both
 * decrypted) would go out as one. */
static void find_runs(struct pipe *pp, struct sorted *s, const int *res, bool *joined)
{
	bool ask = pp->ports->merges && (pp->cfg.forward_v4 || pp->cfg.forward_v6);

	for (unsigned i = 0; i < s->nin; i++)
		joined[i] = ask && i + 1 < s->nin && !res[i] && !res[i + 1] &&
			    pp->ports->merges(pp->drv, s->in[i], s->in[i + 1]);
}

static void decrypt(struct pipe *pp, struct sorted *s)
{
	struct pbuf *b[PIPE_BURST];
	struct pkt_info pi[PIPE_BURST];
	struct peer peer[PIPE_BURST];
	int res[PIPE_BURST];
	bool tunnel[PIPE_BURST], joined[PIPE_BURST];

	for (unsigned i = 0; i < s->nin; i++) {
		b[i] = &s->in[i]->b;
		pi[i] = s->in[i]->pi;
		if (pi[i].proto == IPPROTO_UDP_)
			note_peer(s->in[i], &peer[i]);
	}
	esp_in_burst(s->sa, b, pi, s->nin, pp->thread, res, tunnel);
	find_runs(pp, s, res, joined);
	for (unsigned i = 0; i < s->nin; i++) {
		if (res[i])
			drop(pp, s->in[i], P_C_esp_drop);
		else
			decrypted(pp, s->in[i], s->sa[i], tunnel[i],
				  pi[i].proto == IPPROTO_UDP_ ? &peer[i] : NULL,
				  joined[i] || (i && joined[i - 1]));
	}
}

/* --- plaintext: the next hop, the MTU, ESP ------------------------------------------------ */

/* The largest packet that still fits mtu once encapsulated by sp (RFC 4303 2.4 padding,
 * no TFC padding: esp_out cuts that to fit). 0 if nothing fits. */
static uint32_t inner_mtu(const struct sp *sp, uint32_t mtu)
{
	uint32_t outer = sp->mode == SP_MODE_TUNNEL ? (sp->tdst.family == AF_INET ? 20 : 40) : 0;
	uint32_t udp = sa_path(sp->sa)->encap ? UDP_HLEN : 0;
	uint32_t over = outer + udp + ESP_HDR_LEN + ESP_IV_LEN + sp->sa->icv_len;

	return mtu < over + 8 ? 0 : ((mtu - over) & ~3u) - 2;
}

static void too_big(struct pipe *pp, struct pipe_pkt *p, struct sp *sp, uint32_t mtu)
{
	uint32_t room = inner_mtu(sp, mtu);
	uint8_t msg[ICMP_TOO_BIG_MAX];
	size_t n;

	if (room < (p->pi.family == AF_INET ? 68u : 1280u)) {	/* RFC 791, RFC 8200 5 */
		drop(pp, p, P_C_too_small);
		return;
	}
	n = icmp_too_big(p->b.head + p->b.off, &p->pi, room, msg);
	if (n && pp->ports->host(pp->drv, msg, (uint32_t)n))
		count(pp, P_C_icmp_too_big);
	drop(pp, p, P_C_esp_drop);
}

static bool without_df(const struct pipe_pkt *p)
{
	const struct ipv4_hdr *h = (const void *)(p->b.head + p->b.off);

	return p->pi.family == AF_INET && !(ntohs(h->frag_off) & IPV4_DF);
}

/* One fragment of p: its header, then len bytes of its payload from at, in a new buffer. */
static bool make_fragment(struct pipe *pp, const struct pipe_pkt *p, uint32_t at, uint32_t len,
			  struct pipe_pkt *f)
{
	const uint8_t *ip = p->b.head + p->b.off;
	uint32_t hl = p->pi.l4_off, total = p->pi.ip_len - hl;
	uint16_t frag = ntohs(((const struct ipv4_hdr *)ip)->frag_off);
	struct ipv4_hdr *h;

	if (!pp->ports->alloc(pp->drv, f)) {
		count(pp, P_C_no_frame);
		return false;
	}
	f->from = p->from;
	f->hint = 0;
	f->b.len = hl + len;
	memcpy(f->b.head + f->b.off, ip, hl);
	memcpy(f->b.head + f->b.off + hl, ip + hl + at, len);
	h = (struct ipv4_hdr *)(f->b.head + f->b.off);
	h->tot_len = htons((uint16_t)(hl + len));
	h->frag_off = htons((uint16_t)(((frag & IPV4_OFFSET) + at / 8) |
				       ((at + len < total || (frag & IPV4_MF)) ? IPV4_MF : 0)));
	csum_ipv4_header(f->b.head + f->b.off);
	pkt_parse(f->b.head + f->b.off, f->b.len, &f->pi);
	count(pp, P_C_fragmented);
	return true;
}

static void encrypt(struct pipe *pp, struct pipe_pkt **pkts, struct sp **sp, unsigned n,
		    bool may_fragment);

/* IPv4 without DF: fragments that fit once encapsulated, each encrypted (options are
 * copied into every fragment); they are never fragmented again. */
static void fragment(struct pipe *pp, struct pipe_pkt *p, struct sp *sp, uint32_t mtu)
{
	uint32_t hl = p->pi.l4_off, total = p->pi.ip_len - hl;
	uint32_t room = inner_mtu(sp, mtu), step = room > hl ? (room - hl) & ~7u : 0;
	struct pipe_pkt frags[PIPE_BURST], *f[PIPE_BURST];
	struct sp *fsp[PIPE_BURST];
	unsigned n = 0;

	if (step < 8 || (total + step - 1) / step > PIPE_BURST) {
		drop(pp, p, P_C_too_small);
		return;
	}
	for (uint32_t at = 0; at < total; at += step, n++) {
		if (!make_fragment(pp, p, at, total - at < step ? total - at : step, &frags[n]))
			break;
		f[n] = &frags[n];
		fsp[n] = sp;
	}
	pp->ports->release(pp->drv, p);
	encrypt(pp, f, fsp, n, false);
}

/* The outer destination's next hop: 0, or -EAGAIN (unknown yet: the kernel routes it,
 * without a known MTU), or -ENETUNREACH. */
static int outer_route(struct pipe *pp, const struct pipe_pkt *p, const struct sp *sp,
		       struct nexthop *nh)
{
	if (sp->mode == SP_MODE_TUNNEL)
		return pp->ports->route(pp->drv, sp->tdst.family, sp->tdst.a, false, nh);
	return pp->ports->route(pp->drv, p->pi.family, p->pi.dst, false, nh);
}

static void sent(struct pipe *pp, struct pipe_pkt *p, const struct nexthop *nh, bool known)
{
	if (known && nh->resolved) {
		count(pp, P_C_to_wire);
		pp->ports->wire(pp->drv, p, nh);
		return;
	}
	count(pp, pp->ports->kernel(pp->drv, p->b.head + p->b.off, p->b.len) ? P_C_to_kernel
									       : P_C_tx_error);
	pp->ports->release(pp->drv, p);
}

static void encrypted(struct pipe *pp, struct pipe_pkt *p, struct sp *sp,
		      const struct nexthop *nh, bool known, int res, bool may_fragment)
{
	if (res == 0)
		sent(pp, p, nh, known);
	else if (res != ESP_DROP(SA_C_too_big))
		drop(pp, p, P_C_esp_drop);
	else if (may_fragment && without_df(p) && !p->pi.fragment)
		fragment(pp, p, sp, nh->mtu);
	else if (may_fragment)
		too_big(pp, p, sp, nh->mtu);
	else
		drop(pp, p, P_C_too_small);	/* a fragment of ours that does not fit */
}

static void encrypt(struct pipe *pp, struct pipe_pkt **pkts, struct sp **sp, unsigned n,
		    bool may_fragment)
{
	struct sp *esp_sp[PIPE_BURST];
	struct pbuf *b[PIPE_BURST];
	struct pkt_info pi[PIPE_BURST];
	struct nexthop nh[PIPE_BURST];
	uint32_t mtu[PIPE_BURST];
	unsigned idx[PIPE_BURST], m = 0;
	bool known[PIPE_BURST];
	int res[PIPE_BURST];

	for (unsigned i = 0; i < n; i++) {
		int err = outer_route(pp, pkts[i], sp[i], &nh[m]);

		if (err && err != -EAGAIN) {
			drop(pp, pkts[i], P_C_no_route);
			continue;
		}
		known[m] = !err;
		mtu[m] = known[m] ? nh[m].mtu : 0;
		esp_sp[m] = sp[i];
		b[m] = &pkts[i]->b;
		pi[m] = pkts[i]->pi;
		idx[m++] = i;
	}
	if (!m)
		return;
	esp_out_burst(esp_sp, b, pi, m, pp->thread, mtu, pp->cfg.fix_csum ? ESP_OUT_FIX_CSUM : 0,
		      res);
	for (unsigned j = 0; j < m; j++)
		encrypted(pp, pkts[idx[j]], esp_sp[j], &nh[j], known[j], res[j], may_fragment);
}

/* --- events: a policy without its SA ------------------------------------------------------ */

void pipe_event(struct pipe *pp, const struct event *ev)
{
	if (pp->events && !ring_push(pp->events, ev))
		count(pp, P_C_event_lost);
}

/* Once per PIPE_ACQUIRE_INTERVAL per policy, whichever worker comes first. */
static bool acquire_due(struct sp *sp)
{
	uint32_t now = clock_coarse();
	uint32_t last = atomic_load_explicit(&sp->acquire_at, memory_order_relaxed);

	if (last && now - last < PIPE_ACQUIRE_INTERVAL)
		return false;
	return atomic_compare_exchange_strong_explicit(&sp->acquire_at, &last, now,
						       memory_order_relaxed, memory_order_relaxed);
}

static void set_addr(struct ip_addr *a, int family, const uint8_t *bytes)
{
	memset(a, 0, sizeof(*a));
	a->family = (uint8_t)family;
	memcpy(a->a, bytes, family == AF_INET ? 4 : 16);
}

/* Plaintext for an outbound policy that waits for its SA (require:ID): dropped, and the
 * keying daemon asked for the SA (RFC 2367 SADB_ACQUIRE's role). */
static void no_sa(struct pipe *pp, struct pipe_pkt *p, struct sp *sp)
{
	struct event ev = { .kind = EVENT_ACQUIRE };
	struct event_acquire *a = &ev.acquire;

	if (acquire_due(sp)) {
		a->sp_id = sp->id;
		a->uid = sp->uid;
		a->dir = sp->dir;
		a->mode = sp->mode;
		a->proto = p->pi.proto == PKT_PROTO_UNKNOWN ? 0 : (uint8_t)p->pi.proto;
		a->has_ports = p->pi.has_ports;
		a->sport = ntohs(p->pi.sport);
		a->dport = ntohs(p->pi.dport);
		set_addr(&a->src, p->pi.family, p->pi.src);
		set_addr(&a->dst, p->pi.family, p->pi.dst);
		a->tsrc = sp->tsrc;
		a->tdst = sp->tdst;
		pipe_event(pp, &ev);
	}
	drop(pp, p, P_C_no_sa);
}

/* --- sorting the burst -------------------------------------------------------------------- */

static enum pipe_counter drop_counter(enum esper_counter why)
{
	switch (why) {
	case ESPER_C_DROP_OPAQUE: return P_C_opaque_drop;
	case ESPER_C_DROP_UNKNOWN_SPI: return P_C_unknown_spi;
	default: return P_C_policy_drop;
	}
}

/* Host plaintext: only an outbound ipsec policy takes it; there is nowhere to pass it. */
static void decide_host(struct pipe *pp, struct pipe_pkt *p, struct classified *c)
{
	bool opaque;
	struct sp *sp = spd_match(pp->spd, &p->pi, &opaque);

	memset(c, 0, sizeof(*c));
	if (sp && sp->dir == SP_DIR_OUT && sp->action == SP_IPSEC) {
		c->v = V_ENCRYPT;
		c->sp = sp;
		return;
	}
	c->v = V_DROP;
	c->why = opaque ? ESPER_C_DROP_OPAQUE : ESPER_C_PASS_NO_POLICY;
	if (sp && sp->action != SP_BYPASS && !opaque)
		c->why = ESPER_C_DROP_IN_POLICY;
}

static void decide(struct pipe *pp, struct pipe_pkt *p, struct sorted *s, struct classified *c)
{
	struct sp *sp;

	if (p->from == PIPE_FROM_HOST) {
		decide_host(pp, p, c);
		return;
	}
	/* XDP's policy for plaintext, while it stands: the lookup it made is not made again,
	 * and for a run of packets with the same id, ours only once. ESP too: XDP found it not
	 * addressed to this host (or for no SA it knows), which only XDP can tell */
	if (p->hint && (sp = spd_by_id_memo(pp->spd, &s->hint, p->hint)) &&
	    sp->dir == SP_DIR_OUT && sp->action == SP_IPSEC) {
		*c = (struct classified){ .v = V_ENCRYPT, .sp = sp };
		return;
	}
	classify_memo(pp->sad, pp->spd, pp->cfg.unknown_spi_drop, &s->memo, p->b.head + p->b.off,
		      &p->pi, c);
}

static void sort(struct pipe *pp, struct pipe_pkt *p, struct sorted *s)
{
	struct classified c;

	p->b.len = p->pi.ip_len;	/* link-layer padding is not the packet's */
	decide(pp, p, s, &c);
	switch (c.v) {
	case V_DECRYPT:
		count(pp, P_C_esp_in);
		s->in[s->nin] = p;
		s->sa[s->nin++] = c.sa;
		break;
	case V_ENCRYPT:
		if (!sp_sa(c.sp)) {
			no_sa(pp, p, c.sp);
			break;
		}
		count(pp, P_C_plain_out);
		s->out[s->nout] = p;
		s->sp[s->nout++] = c.sp;
		break;
	case V_PASS:
		if (p->from == PIPE_FROM_FILE) {
			count(pp, P_C_passed);
			pp->ports->pass(pp->drv, p);
		} else {
			drop(pp, p, P_C_stale);	/* XDP redirected it; it may not pass now */
		}
		break;
	case V_DROP:
		drop(pp, p, p->from == PIPE_FROM_HOST && c.why == ESPER_C_PASS_NO_POLICY
				    ? P_C_no_policy : drop_counter(c.why));
		break;
	}
}

void pipe_burst(struct pipe *pp, struct pipe_pkt *pkts, unsigned n)
{
	struct sorted s;

	s.nin = s.nout = 0;
	s.hint = (struct spd_id_memo){ 0 };
	s.memo = (struct classify_memo){ 0 };
	for (unsigned i = 0; i < n; i++)
		sort(pp, &pkts[i], &s);
	if (s.nin)
		decrypt(pp, &s);
	if (s.nout)
		encrypt(pp, s.out, s.sp, s.nout, true);
}
