// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_pipeline.c - libFuzzer target for the whole packet pipeline (user/datapath/
 * pipeline.c: classify, SAD/SPD, ESP in and out, egress), driven as pcap mode drives it,
 * with a configuration and packets both made from the input:
 *
 *   configuration: up to 4 SAs (even: outbound 192.0.2.1 -> 192.0.2.2 or 2001:db8::1 ->
 *     ::2; odd: inbound, the other way; some esp-udp, RFC 3948, ports 4500) and up to 10
 *     policies whose selectors, protocol,
 *     ports, direction, action (ipsec, discard, none), mode and SA come from small pools
 *     (so that they overlap), applied as command text through the executor (refusals are
 *     fine), and a path MTU;
 *   packets: plaintext from the same pools, with random fragments (first, non-first),
 *     IPv6 extension header chains (some too long to walk), TCP/UDP headers cut short,
 *     protocol 50 with unknown SPIs, UDP (to 4500 too) carrying IKE's non-ESP marker, a
 *     NAT-keepalive or random bytes, and ESP (in UDP for an esp-udp SA) that a peer sealed
 *     for an inbound SA around a random inner packet (tunnel or transport).
 *
 * The invariants, checked against a naive reference written here (a linear scan of the
 * configured policies in the documented order, esper_abi.h):
 *   1. nothing leaves in clear (the pass port) that an outbound ipsec policy matches first,
 *      or could match first by the fields the packet lets be read (RFC 4301 7: fail closed);
 *   2. a decrypted packet reaches the host only from an SA that may decrypt, and when
 *      inbound ipsec policies name that SA, only if it matches one of them (RFC 4301 5.2);
 *   3. everything sent out is ESP of an outbound SA (in UDP exactly if the SA is esp-udp),
 *      no larger than the MTU.
 * Any broken invariant abort()s. Run by tests/fuzz/Makefile.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "control/cmd_exec.h"
#include "datapath/pipeline.h"
#include "esper_wire.h"
#include "lib/bytes.h"
#include "lib/log.h"
#include "lib/rcu.h"
#include "../lib/pktbuild.h"

#define HEADROOM 256
#define BUF 4096
#define MAX_PKTS 16
#define MAX_POL 10

#define check(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_pipeline: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();					\
		}							\
	} while (0)

/* --- reading the input ------------------------------------------------------------------- */

struct rd {
	const uint8_t *p;
	size_t n;
};

static unsigned rd(struct rd *r, unsigned n)	/* 0..n-1 */
{
	unsigned v;

	if (!r->n || !n)
		return 0;
	v = *r->p++;
	r->n--;
	return v % n;
}

/* --- the pools --------------------------------------------------------------------------- */

static const char *const net4[] = { "198.51.100.0/24", "198.51.100.7", "0.0.0.0/0",
				    "203.0.113.0/24", "203.0.113.9", "192.0.2.0/24" };
static const char *const net6[] = { "2001:db8:1::/48", "2001:db8:1::7", "::/0",
				    "2001:db8:2::/48", "2001:db8:2::9" };
static const char *const host4[] = { "198.51.100.7", "198.51.100.8", "203.0.113.9",
				     "203.0.113.10", "192.0.2.5" };
static const char *const host6[] = { "2001:db8:1::7", "2001:db8:1::8", "2001:db8:2::9",
				     "2001:db8:2::a" };
static const uint8_t protos[] = { 0, 6, 17, 1, 58 };	/* 0: any */
static const uint16_t port_pool[] = { 0, 80, 5000, 4500 };	/* 0: none; 4500: NAT-T */

/* A policy as configured, for the reference. */
struct ref_pol {
	bool v6, out;
	int action;		/* 0 ipsec, 1 discard, 2 none */
	bool tunnel;
	unsigned sa;
	uint8_t src[16], dst[16], splen, dplen, proto;
	uint16_t sport, dport;	/* host order, 0: any */
	bool accepted;		/* the executor took it */
	bool live;		/* the SPD holds it (not replaced since) */
};

struct world {
	struct sad *sad;
	struct spd *spd;
	struct exec_env env;
	struct ref_pol pol[MAX_POL];
	unsigned npol;
	unsigned nsa;
	uint32_t mtu;
	struct pipe pipe;
	uint8_t buf[MAX_PKTS * 2 + 1][BUF];
	bool used[MAX_PKTS * 2 + 1];
	uint8_t cur_orig[BUF];		/* the packet being processed, as it came */
	uint32_t cur_len;
	int cur_sa;			/* ESP: the inbound SA index it was sealed for; -1 */
	bool cur_tunnel;
};

static struct world W;

static void prefix_of(const char *s, bool v6, uint8_t *a, uint8_t *plen)
{
	char tmp[64];
	char *slash;

	snprintf(tmp, sizeof(tmp), "%s", s);
	slash = strchr(tmp, '/');
	*plen = slash ? (uint8_t)atoi(slash + 1) : (v6 ? 128 : 32);
	if (slash)
		*slash = 0;
	memset(a, 0, 16);
	inet_pton(v6 ? AF_INET6 : AF_INET, tmp, a);
}

/* --- the configuration ------------------------------------------------------------------- */

/* Apply one command; whether it was accepted. */
static bool exec_text(const char *text)
{
	struct cmd_error err;
	struct cmd c;

	return cmd_parse_string(text, &c, &err) == 1 && cmd_exec(&W.env, &c, &err) == 0;
}

static bool sa_udp[4];	/* SA i is esp-udp, from port 4500 to 4500 */

static const char *sa_end(unsigned i, bool v6, bool src)
{
	bool outbound = !(i % 2);

	if (v6)
		return outbound == src ? "2001:db8::1" : "2001:db8::2";
	return outbound == src ? "192.0.2.1" : "192.0.2.2";
}

static void add_sas(struct rd *r)
{
	W.nsa = 2 + rd(r, 3);
	for (unsigned i = 0; i < W.nsa; i++) {
		bool v6 = i >= 2 && (i & 2);
		const char *port = (sa_udp[i] = !rd(r, 3)) ? "[4500]" : "";
		char text[256];

		snprintf(text, sizeof(text),
			 "add %s%s %s%s %s 0x%x -u %u -E aes-gcm-16 0x%02x%038x%s ;",
			 sa_end(i, v6, true), port, sa_end(i, v6, false), port,
			 sa_udp[i] ? "esp-udp" : "esp", 0x1000 + i, i + 1, i + 1, 0x55,
			 rd(r, 4) ? "" : " tfc:300");
		exec_text(text);
	}
}

static void add_policy(struct rd *r)
{
	struct ref_pol *p = &W.pol[W.npol];
	bool v6 = rd(r, 3) == 0;
	const char *const *nets = v6 ? net6 : net4;
	unsigned nnet = v6 ? 5 : 6, s = rd(r, nnet), d = rd(r, nnet);
	char text[512], sp[16] = "", dp[16] = "", act[128];
	static const char *const pnames[] = { "any", "tcp", "udp", "icmp", "icmp6" };
	unsigned pi = rd(r, 5);

	memset(p, 0, sizeof(*p));
	p->v6 = v6;
	p->out = rd(r, 2);
	p->action = rd(r, 4) ? 0 : 1 + rd(r, 2);
	p->tunnel = rd(r, 3) != 0;
	p->sa = (rd(r, 2) * 2 + !p->out) % W.nsa;	/* out: even SAs; in: odd */
	if ((pi == 3 && v6) || (pi == 4 && !v6))
		pi = 0;
	p->proto = protos[pi];
	if (pi == 1 || pi == 2) {
		p->sport = port_pool[rd(r, 4)];
		p->dport = port_pool[rd(r, 4)];
	}
	prefix_of(nets[s], v6, p->src, &p->splen);
	prefix_of(nets[d], v6, p->dst, &p->dplen);
	if (p->sport)
		snprintf(sp, sizeof(sp), "[%u]", p->sport);
	if (p->dport)
		snprintf(dp, sizeof(dp), "[%u]", p->dport);
	if (p->action)
		snprintf(act, sizeof(act), "%s", p->action == 1 ? "discard" : "none");
	else if (p->tunnel)
		snprintf(act, sizeof(act), "ipsec esp/tunnel/%s-%s/unique:%u",
			 sa_end(p->sa, p->sa >= 2 && (p->sa & 2), true),
			 sa_end(p->sa, p->sa >= 2 && (p->sa & 2), false), p->sa + 1);
	else
		snprintf(act, sizeof(act), "ipsec esp/transport//unique:%u", p->sa + 1);
	snprintf(text, sizeof(text), "spdadd %s%s %s%s %s -P %s %s ;", nets[s], sp, nets[d], dp,
		 pnames[pi], p->out ? "out" : "in", act);
	p->accepted = exec_text(text);
	W.npol++;
}

static bool same_key(const struct ref_pol *a, const struct ref_pol *b)
{
	return a->v6 == b->v6 && a->out == b->out && a->splen == b->splen &&
	       a->dplen == b->dplen && a->proto == b->proto && a->sport == b->sport &&
	       a->dport == b->dport && !memcmp(a->src, b->src, 16) && !memcmp(a->dst, b->dst, 16);
}

static bool names_in(const struct ref_pol *p, unsigned sa)
{
	return !p->out && !p->action && p->sa == sa;
}

/* An SA's inbound selectors, as tables/spd.c keeps them: the inbound ipsec policies naming
 * it, recomputed whenever one is added or goes, except when one is replaced by a policy
 * naming another SA (a rekey: the SA keeps what it had). */
static bool sels[4][MAX_POL];

static void recompute(unsigned sa)
{
	for (unsigned i = 0; i < W.npol; i++)
		sels[sa][i] = W.pol[i].live && names_in(&W.pol[i], sa);
}

/* Replay the accepted policies in order: which are live at the end, and the selectors. */
static void mark_live(void)
{
	memset(sels, 0, sizeof(sels));
	for (unsigned j = 0; j < W.npol; j++) {
		struct ref_pol *q = &W.pol[j];

		q->live = false;
		if (!q->accepted)
			continue;
		for (unsigned i = 0; i < j; i++) {
			struct ref_pol *o = &W.pol[i];

			if (!o->live || !same_key(o, q))
				continue;
			o->live = false;	/* replaced by q */
			if (!o->out && !o->action && !(names_in(q, o->sa)))
				continue;	/* a rekey away: o's SA keeps its selectors */
			if (!o->out && !o->action)
				recompute(o->sa);
		}
		q->live = true;
		if (names_in(q, q->sa))
			recompute(q->sa);
	}
}

/* --- the reference ----------------------------------------------------------------------- */

static bool prefix_eq(const uint8_t *a, const uint8_t *b, unsigned plen)
{
	for (unsigned i = 0; i < plen; i++) {
		unsigned m = 0x80 >> (i % 8);

		if ((a[i / 8] & m) != (b[i / 8] & m))
			return false;
	}
	return true;
}

/* The documented order: more prefix bits, then longer destination, then protocol, then
 * destination port, then source port given; outbound before inbound. */
static int pol_cmp(const struct ref_pol *a, const struct ref_pol *b)
{
	int d = (b->splen + b->dplen) - (a->splen + a->dplen);

	if (d)
		return d;
	if (a->dplen != b->dplen)
		return b->dplen - a->dplen;
	if (!!a->proto != !!b->proto)
		return b->proto ? 1 : -1;
	if (!!a->dport != !!b->dport)
		return b->dport ? 1 : -1;
	if (!!a->sport != !!b->sport)
		return b->sport ? 1 : -1;
	return a->out == b->out ? 0 : a->out ? -1 : 1;
}

enum fit { NO, MAYBE, YES };

/* Does p match the packet pi? MAYBE: only fields the packet hides could tell. */
static enum fit fits(const struct ref_pol *p, const struct pkt_info *pi)
{
	bool unknown_proto = pi->proto == PKT_PROTO_UNKNOWN;

	if ((pi->family == AF_INET6) != p->v6 || !prefix_eq(pi->src, p->src, p->splen) ||
	    !prefix_eq(pi->dst, p->dst, p->dplen))
		return NO;
	if (p->proto && !unknown_proto && p->proto != pi->proto)
		return NO;
	if ((p->sport || p->dport) && pi->has_ports &&
	    ((p->sport && htons(p->sport) != pi->sport) || (p->dport && htons(p->dport) != pi->dport)))
		return NO;
	if ((p->proto && unknown_proto) || ((p->sport || p->dport) && !pi->has_ports))
		return (p->proto == 6 || p->proto == 17 || unknown_proto) ? MAYBE : NO;
	return YES;
}

/* May this packet leave in clear? Not if an outbound ipsec policy is, or could be, its
 * first match. */
static bool may_pass(const struct pkt_info *pi)
{
	const struct ref_pol *order[MAX_POL];
	unsigned n = 0;

	for (unsigned i = 0; i < W.npol; i++)
		if (W.pol[i].live)
			order[n++] = &W.pol[i];
	for (unsigned i = 1; i < n; i++)	/* insertion sort, stable */
		for (unsigned j = i; j > 0 && pol_cmp(order[j - 1], order[j]) > 0; j--) {
			const struct ref_pol *t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (unsigned i = 0; i < n; i++) {
		enum fit f = fits(order[i], pi);
		bool protect = order[i]->out && order[i]->action == 0;

		if (f == YES)
			return !protect;
		if (f == MAYBE && protect)
			return false;
	}
	return true;
}

/* --- the driver's ports -------------------------------------------------------------------- */

static void port_release(void *drv, struct pipe_pkt *p)
{
	(void)drv;
	W.used[p->handle] = false;
}

static void port_wire(void *drv, struct pipe_pkt *p, const struct nexthop *nh)
{
	const uint8_t *ip = p->b.head + p->b.off;
	struct pkt_info pi;

	(void)nh;
	bool udp;
	struct sa *sa;

	check(pkt_parse(ip, p->b.len, &pi) == 0);	/* invariant 3 */
	udp = pi.proto == 17;
	check(pi.proto == IPPROTO_ESP_ || udp);
	check(pi.l4_off + (udp ? 8u : 0u) + 8u <= pi.ip_len);
	sa = sad_by_spi(W.sad, rd32(ip + pi.l4_off + (udp ? 8 : 0)));
	check(sa && sa_is_outbound(sa) && sa_path(sa)->encap == udp);
	check(!W.mtu || p->b.len <= W.mtu);
	port_release(drv, p);
}

static bool port_kernel(void *drv, const uint8_t *ip, uint32_t len)
{
	(void)drv, (void)ip, (void)len;
	check(0);	/* every next hop here is resolved */
	return false;
}

/* What an inbound policy lets through (docs/security.md): a packet that shows everything
 * the policy asks, or a fragment other than the first whose missing ports are all it hides
 * (its first fragment is checked). */
static bool fits_inbound(const struct ref_pol *p, const struct pkt_info *pi)
{
	enum fit f = fits(p, pi);

	return f == YES || (f == MAYBE && pi->later_fragment &&
			    !(p->proto && pi->proto == PKT_PROTO_UNKNOWN));
}

/* Invariant 2: a decrypted packet matches an inbound ipsec policy of its SA, if any names
 * it (or, with --strict-inbound, one must). ICMP errors of ours come here too. */
static bool port_host(void *drv, const uint8_t *ip, uint32_t len)
{
	struct pkt_info pi;
	bool named = false, matched = false;

	(void)drv;
	check(pkt_parse(ip, len, &pi) == 0);
	if (W.cur_sa < 0)
		return true;	/* not decrypted: a message of ours */
	for (unsigned i = 0; i < W.npol; i++) {
		const struct ref_pol *p = &W.pol[i];

		if (!sels[W.cur_sa][i])
			continue;
		named = true;
		matched |= p->tunnel == W.cur_tunnel && fits_inbound(p, &pi);
	}
	check(named ? matched : !W.pipe.cfg.strict_inbound);
	return true;
}

static void port_pass(void *drv, struct pipe_pkt *p)
{
	struct pkt_info pi;

	check(pkt_parse(W.cur_orig, W.cur_len, &pi) == 0);
	check(may_pass(&pi));	/* invariant 1 */
	port_release(drv, p);
}

static bool port_alloc(void *drv, struct pipe_pkt *p)
{
	(void)drv;
	for (unsigned i = 1; i < sizeof(W.used); i++)
		if (!W.used[i]) {
			W.used[i] = true;
			p->handle = i;
			p->b = (struct pbuf){ .head = W.buf[i], .size = BUF, .off = HEADROOM };
			return true;
		}
	return false;
}

static int port_route(void *drv, int family, const uint8_t *dst, bool inner, struct nexthop *nh)
{
	(void)drv, (void)family, (void)dst;
	if (inner)
		return -EXDEV;
	*nh = (struct nexthop){ .ifindex = 1, .mtu = W.mtu, .resolved = true, .unicast = true };
	return 0;
}

static const struct pipe_ports ports = {
	.wire = port_wire, .kernel = port_kernel, .host = port_host, .pass = port_pass,
	.release = port_release, .alloc = port_alloc, .route = port_route,
};

/* --- packets ------------------------------------------------------------------------------ */

/* A plaintext packet from the pools into ip; its length. The upper layer is raw bytes:
 * its ports (if it has 4 bytes), then zeros. */
static uint32_t build_plain(struct rd *r, uint8_t *ip)
{
	bool v6 = rd(r, 3) == 0;
	struct pb_pkt p = { .proto = (uint8_t[]){ 6, 17, 1, 50, 47, 58 }[rd(r, 6)], .raw = true,
			    .frag = PB_FRAG_RAW };
	unsigned next = v6 ? (uint8_t[]){ 0, 0, 1, 2, 9 }[rd(r, 5)] : 0;
	unsigned frag = rd(r, 6);	/* 0: first, 1: non-first, else none */
	uint32_t l4 = p.proto == 50 ? 8 : p.proto == 6 ? 20 : 8;
	uint32_t pay = rd(r, 4) ? rd(r, 64) : 1400 + rd(r, 100);
	unsigned udp_pay = p.proto == 17 ? rd(r, 3) : 0;	/* 1: a keepalive; 2: random bytes */
	uint8_t data[20 + 1500] = { 0 };

	if (udp_pay == 1)
		pay = 1;

	if (!rd(r, 8))
		l4 = rd(r, 4);	/* a header cut short */
	if (v6) {
		p.family = pb_addr(host6[rd(r, 4)], p.src);
		pb_addr(host6[rd(r, 4)], p.dst);
		p.next = (uint8_t)next;
		for (unsigned i = 0; i < next; i++)
			p.ext[i] = 60, p.ext_len[i] = 8;
		if (next && frag < 2) {
			p.ext[0] = 44;
			p.frag_raw = frag ? 17 << 3 : 1;	/* offset 17, or M=1 */
		}
	} else {
		p.frag_raw = frag == 0 ? IPV4_MF : frag == 1 ? 0x100 : (rd(r, 2) ? IPV4_DF : 0);
		p.family = pb_addr(host4[rd(r, 5)], p.src);
		pb_addr(host4[rd(r, 5)], p.dst);
	}
	if (l4 >= 4) {
		wr16(data, port_pool[rd(r, 4)]);
		wr16(data + 2, port_pool[rd(r, 4)]);
	}
	if (l4 == 8 && pay && udp_pay == 1)	/* zeros: IKE's non-ESP marker */
		data[8] = 0xff;
	for (unsigned i = 0; l4 == 8 && udp_pay == 2 && i < pay && i < 8; i++)
		data[8 + i] = (uint8_t)rd(r, 256);
	p.data = data;
	p.payload = l4 + pay;
	return (uint32_t)pb_ip(&p, ip);
}

/* ESP a peer sealed for inbound SA index i around a plaintext from the input. */
static uint32_t build_esp(struct rd *r, uint8_t *buf, uint32_t *off)
{
	unsigned i = 1 + 2 * rd(r, 2);
	struct sa *sa = i < W.nsa ? sad_by_spi(W.sad, 0x1000 + i) : NULL;
	struct sp_params c = { .dir = SP_DIR_OUT, .action = SP_IPSEC };
	struct sa_params peer_conf;
	struct pbuf b = { .head = buf, .size = BUF, .off = HEADROOM };
	struct sa *peer;
	struct sp *sp;

	if (!sa)
		return 0;
	b.len = build_plain(r, buf + HEADROOM);
	c.mode = rd(r, 2) ? SP_MODE_TUNNEL : SP_MODE_TRANSPORT;
	if (c.mode == SP_MODE_TRANSPORT) {	/* between the SA's own addresses */
		uint8_t *ip = buf + HEADROOM;
		bool v6 = ip[0] >> 4 == 6;

		if (v6 != (sa->family == AF_INET6))
			c.mode = SP_MODE_TUNNEL;
		else if (v6)
			memcpy(ip + 8, sa_path(sa)->src.a, 16), memcpy(ip + 24, sa_path(sa)->dst.a, 16);
		else if (!(ip[6] & 0x3f) && !ip[7])	/* the checksum must stay right */
			memcpy(ip + 12, sa_path(sa)->src.a, 4), memcpy(ip + 16, sa_path(sa)->dst.a, 4),
				csum_ipv4_header(ip);
		else
			c.mode = SP_MODE_TUNNEL;
	}
	W.cur_sa = (int)i;
	W.cur_tunnel = c.mode == SP_MODE_TUNNEL;
	c.tsrc = sa_path(sa)->src;
	c.tdst = sa_path(sa)->dst;
	peer_conf = sa_params(sa);
	peer = sa_new(&peer_conf, 1);	/* the peer's outbound copy of the SA */
	check(peer);
	atomic_store(&peer->seq_next, 1 + rd(r, 200));
	sp = sp_new(&c, peer);
	check(sp);
	if (esp_out(sp, &b, 0, 0, 0) < 0)
		b.len = 0;
	sp_free(sp);
	sa_free(peer);
	*off = b.off;
	return b.len;
}

static void run_packet(struct rd *r)
{
	struct pipe_pkt p = { .handle = 0, .from = PIPE_FROM_FILE };
	uint32_t off = HEADROOM, len;

	memset(W.buf[0], 0, BUF);
	W.cur_sa = -1;
	len = rd(r, 3) ? build_plain(r, W.buf[0] + HEADROOM) : build_esp(r, W.buf[0], &off);
	if (!len || pkt_parse(W.buf[0] + off, len, &p.pi) < 0)
		return;
	memcpy(W.cur_orig, W.buf[0] + off, len);
	W.cur_len = len;
	p.b = (struct pbuf){ .head = W.buf[0], .size = BUF, .off = off, .len = len };
	W.used[0] = true;
	pipe_burst(&W.pipe, &p, 1);
	for (unsigned i = 0; i < sizeof(W.used); i++)
		check(!W.used[i]);	/* every buffer went to a port */
}

/* Invariant 2: no SA delivered what it should not have, and none that may not decrypt did. */
static void check_sas(void)
{
	for (const struct sa *sa = sad_first(W.sad); sa; sa = sad_next(W.sad, sa))
		if (sa_is_outbound(sa))
			check(sa_counter(sa, SA_C_in_packets) == 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	log_init("fuzz_pipeline", LOG_LVL_ERR);
	crypto_init(CRYPTO_AUTO);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rd r = { data, size };
	unsigned npol, npkt;

	memset(&W, 0, sizeof(W));
	W.sad = sad_new();
	W.spd = spd_new();
	check(W.sad && W.spd);
	W.env = (struct exec_env){ .sad = W.sad, .spd = W.spd, .nthreads = 1,
				   .out = fopen("/dev/null", "w") };
	add_sas(&r);
	npol = rd(&r, MAX_POL + 1);
	for (unsigned i = 0; i < npol; i++)
		add_policy(&r);
	mark_live();
	W.mtu = rd(&r, 3) ? 0 : 600 + 100 * rd(&r, 10);
	W.pipe = (struct pipe){ .sad = W.sad, .spd = W.spd, .ports = &ports, .drv = &W };
	W.pipe.cfg.unknown_spi_drop = rd(&r, 2);
	W.pipe.cfg.strict_inbound = rd(&r, 2);
	npkt = 1 + rd(&r, MAX_PKTS);
	for (unsigned i = 0; i < npkt; i++)
		run_packet(&r);
	check_sas();
	fclose(W.env.out);
	spd_flush(W.spd);
	sad_flush(W.sad);
	rcu_barrier();
	spd_free(W.spd);
	sad_free(W.sad);
	return 0;
}
