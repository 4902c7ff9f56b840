// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_coalesce.c - the merged packets of datapath/coalesce.c, cut back into packets by a
 * reference of what the kernel's GSO does (tcp_gso_segment, __udp_gso_segment,
 * inet_gso_segment: the payload in gso_size pieces, lengths, IPv4 IDs up by one, TCP
 * sequence numbers, PSH and FIN on the last piece only, checksums made), must give back
 * exactly the packets that went in, in order; the virtio_net_hdr must say what the kernel
 * needs (NEEDS_CSUM with the pseudo-header sum in place). Every rule that keeps a packet
 * out of a run is tried, and a randomized stream of two flows with random breaks must come
 * out as it went in. Also csum_l4_valid and csum_l4_partial against a plain reference, and
 * the other direction, datapath/segment.c (GSO packets read from the host port cut into
 * packets): the same as the reference, and back to the packets coalesce merged.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "test_util.h"

#include "datapath/coalesce.h"
#include "datapath/segment.h"
#include "lib/bytes.h"
#include "lib/pkt.h"

#define MAXPKT 4096

struct pkt {
	uint8_t b[MAXPKT];
	uint32_t len;
};

/* What a packet is made of; tests change fields between packets. */
struct shape {
	int family;
	uint8_t proto;		/* 6 or 17 */
	uint16_t id;		/* IPv4 */
	bool df;
	uint8_t tos, ttl;
	uint32_t seq, ack;
	uint8_t flags;		/* TCP */
	uint16_t window;
	uint8_t opt_len;	/* TCP options, bytes (multiple of 4) */
	uint8_t opt_byte;
	uint16_t sport, dport;
	uint16_t payload;
	uint8_t fill;		/* payload byte pattern seed */
	bool ipv4_options;
	bool frag;
	bool ipv6_ext;		/* a destination options header before L4 */
	bool bad_csum;
	bool bad_ip_csum;	/* IPv4 header checksum */
	bool udp_no_csum;
	uint32_t flow_label;
	uint8_t dst_host;	/* added to the destination's last byte */
};

static struct shape tcp4(void)
{
	return (struct shape){ .family = AF_INET, .proto = 6, .id = 0x1234, .df = true,
			       .ttl = 63, .seq = 1000, .ack = 77, .flags = 0x10, .window = 500,
			       .opt_len = 12, .opt_byte = 1, .sport = 40000, .dport = 5201,
			       .payload = 1000 };
}

static struct shape udp6(void)
{
	return (struct shape){ .family = AF_INET6, .proto = 17, .ttl = 64, .sport = 5000,
			       .dport = 6000, .payload = 1200, .flow_label = 0x12345 };
}

static void build(struct pkt *p, const struct shape *s)
{
	uint8_t *ip = p->b;
	unsigned l3 = s->family == AF_INET ? 20 + (s->ipv4_options ? 4 : 0)
					   : 40 + (s->ipv6_ext ? 8 : 0);
	unsigned l4h = s->proto == 6 ? 20u + s->opt_len : 8u, l4 = l3;
	struct pkt_info pi;

	memset(p->b, 0, sizeof(p->b));
	p->len = l3 + l4h + s->payload;
	assert_true(p->len <= MAXPKT);
	if (s->family == AF_INET) {
		ip[0] = (uint8_t)(0x40 | l3 / 4);
		ip[1] = s->tos;
		wr16(ip + 2, (uint16_t)p->len);
		wr16(ip + 4, s->id);
		wr16(ip + 6, (uint16_t)((s->df ? 0x4000 : 0) | (s->frag ? 0x2000 : 0)));
		ip[8] = s->ttl;
		ip[9] = s->proto;
		wr32(ip + 12, 0xc6336401);	/* 198.51.100.1 */
		wr32(ip + 16, 0xcb00710a + s->dst_host);	/* 203.0.113.10 */
		if (s->ipv4_options)
			ip[20] = 1, ip[21] = 1, ip[22] = 1, ip[23] = 0;	/* NOPs, EOL */
	} else {
		wr32(ip, 0x60000000u | (uint32_t)s->tos << 20 | s->flow_label);
		wr16(ip + 4, (uint16_t)(p->len - 40));
		ip[6] = s->ipv6_ext ? 60 : s->proto;
		ip[7] = s->ttl;
		ip[8] = 0x20, ip[9] = 0x01, ip[10] = 0x0d, ip[11] = 0xb8, ip[23] = 1;
		ip[24] = 0x20, ip[25] = 0x01, ip[26] = 0x0d, ip[27] = 0xb8, ip[28] = 0xb;
		ip[39] = (uint8_t)(2 + s->dst_host);
		if (s->ipv6_ext)
			ip[40] = s->proto;	/* length 0: 8 bytes of PadN-less options */
	}
	wr16(ip + l4, s->sport);
	wr16(ip + l4 + 2, s->dport);
	if (s->proto == 6) {
		wr32(ip + l4 + 4, s->seq);
		wr32(ip + l4 + 8, s->ack);
		ip[l4 + 12] = (uint8_t)((l4h / 4) << 4);
		ip[l4 + 13] = s->flags;
		wr16(ip + l4 + 14, s->window);
		memset(ip + l4 + 20, s->opt_byte, s->opt_len);
	} else {
		wr16(ip + l4 + 4, (uint16_t)(l4h + s->payload));
	}
	for (unsigned i = 0; i < s->payload; i++)
		ip[l4 + l4h + i] = (uint8_t)(s->fill + i * 7 + s->seq);
	if (s->family == AF_INET)
		csum_ipv4_header(ip);
	if (s->bad_ip_csum)
		ip[10] ^= 0x10;
	assert_int_equal(pkt_parse(ip, p->len, &pi), 0);
	if (!s->frag) {
		assert_int_equal(csum_l4(ip, &pi), 0);
		if (s->udp_no_csum)
			wr16(ip + l4 + 6, 0);
		if (s->bad_csum)
			ip[l4 + (s->proto == 6 ? 16 : 6)] ^= 0x10;
	}
}

/* --- the kernel's GSO, as a reference --------------------------------------------------- */

static uint16_t rd16le(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* The pseudo-header sum (RFC 793, RFC 768, RFC 8200 8.1), plain: 16 bits at a time, folded,
 * not complemented. addrs: source then destination, alen bytes each. */
static uint16_t ref_pseudo(const uint8_t *addrs, unsigned alen, uint8_t proto, uint32_t l4len)
{
	uint32_t s = 0;

	for (unsigned i = 0; i < 2 * alen; i += 2)
		s += rd16(addrs + i);
	s += proto + (l4len >> 16) + (l4len & 0xffff);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* Cut what coalesce_take gave into the packets the kernel would send; returns how many. */
static unsigned segment(const uint8_t *w, uint32_t wlen, struct pkt *out, unsigned max)
{
	const uint8_t *ip = w + COALESCE_VNET_LEN;
	uint32_t len = wlen - COALESCE_VNET_LEN;
	unsigned hlen = rd16le(w + 2), mss = rd16le(w + 4), l4 = rd16le(w + 6), n = 0;
	bool v4 = ip[0] >> 4 == 4, tcp;
	struct pkt_info pi;

	assert_true(wlen > COALESCE_VNET_LEN);
	if (w[1] == 0) {	/* not GSO: as it is, nothing to finish */
		assert_int_equal(w[0], 0);
		memcpy(out[0].b, ip, len);
		out[0].len = len;
		return 1;
	}
	assert_int_equal(w[0], 1);	/* NEEDS_CSUM */
	assert_int_equal(pkt_parse(ip, len, &pi), 0);
	assert_int_equal(pi.ip_len, len);
	assert_int_equal(l4, pi.l4_off);
	tcp = pi.proto == 6;
	assert_int_equal(w[1], tcp ? (v4 ? 1 : 4) : 5);
	assert_int_equal(rd16le(w + 8), tcp ? 16 : 6);
	assert_true(hlen > l4 && hlen < len && mss > 0);
	/* The checksum field holds the pseudo-header sum of the whole L4 length. */
	assert_int_equal(rd16(ip + l4 + (tcp ? 16 : 6)),
			 ref_pseudo(ip + (v4 ? 12 : 8), v4 ? 4 : 16, pi.proto, len - l4));
	if (v4)
		assert_int_equal(csum_fold(csum_add(0, ip, 20)), 0);
	if (!tcp)
		assert_int_equal(rd16(ip + l4 + 4), len - l4);
	for (uint32_t at = hlen; at < len; at += mss, n++) {
		uint32_t chunk = len - at < mss ? len - at : mss;
		bool last = at + chunk == len;
		uint8_t *p = out[n].b;
		struct pkt_info q;

		assert_true(n < max);
		memcpy(p, ip, hlen);
		memcpy(p + hlen, ip + at, chunk);
		out[n].len = hlen + chunk;
		if (v4) {
			wr16(p + 2, (uint16_t)out[n].len);
			wr16(p + 4, (uint16_t)(rd16(ip + 4) + n));
			csum_ipv4_header(p);
		} else {
			wr16(p + 4, (uint16_t)(out[n].len - 40));
		}
		if (tcp) {
			wr32(p + l4 + 4, rd32(ip + l4 + 4) + (at - hlen));
			if (!last)
				p[l4 + 13] &= (uint8_t)~0x09;	/* PSH, FIN */
		} else {
			wr16(p + l4 + 4, (uint16_t)(out[n].len - l4));
		}
		assert_int_equal(pkt_parse(p, out[n].len, &q), 0);
		assert_int_equal(csum_l4(p, &q), 0);
	}
	return n;
}

/* segment.c on what coalesce_take gave: the same packets as the reference. */
static unsigned segment_ours(const uint8_t *w, uint32_t wlen, struct pkt *out, unsigned max)
{
	struct segment_src src;
	uint32_t len = wlen - COALESCE_VNET_LEN;

	assert_int_equal(segment_check(w, w + COALESCE_VNET_LEN, len, &src), 0);
	if (!src.gso_type) {
		memcpy(out[0].b, w + COALESCE_VNET_LEN, len);
		segment_csum(&src, out[0].b);
		out[0].len = len;
		return 1;
	}
	assert_true(src.count <= max);
	for (unsigned i = 0; i < src.count; i++)
		out[i].len = segment_piece(&src, i, out[i].b);
	return src.count;
}

/* --- the writer as the worker drives it --------------------------------------------------- */

struct stream {
	struct coalesce c;
	struct coalesce_set set;
	struct pkt out[512];
	unsigned nout, writes, merged, alone;	/* alone: not even a run of one */
};

static void emit(void *arg, const uint8_t *w, uint32_t n, unsigned segs)
{
	struct stream *s = arg;

	assert_true(n > 0);
	assert_int_equal(segs > 1, w[1] != 0);
	s->writes++;
	s->merged += w[1] != 0;
	{
		struct pkt *ours = calloc(COALESCE_MAX_SEGS, sizeof(*ours));
		unsigned k = segment_ours(w, n, ours, COALESCE_MAX_SEGS);

		assert_int_equal(segment(w, n, s->out + s->nout, 512 - s->nout), k);
		for (unsigned i = 0; i < k; i++) {
			assert_int_equal(ours[i].len, s->out[s->nout + i].len);
			assert_memory_equal(ours[i].b, s->out[s->nout + i].b, ours[i].len);
		}
		assert_int_equal(k, segs);
		s->nout += k;
		free(ours);
	}
}

static void flush(struct stream *s)
{
	coalesce_flush(&s->set, emit, s);
}

static void put(struct stream *s, const struct pkt *p)
{
	struct pkt_info pi;

	assert_int_equal(pkt_parse(p->b, p->len, &pi), 0);
	if (coalesce_put(&s->set, p->b, &pi, emit, s))
		return;
	s->writes++;
	s->alone++;
	memcpy(s->out[s->nout].b, p->b, p->len);
	s->out[s->nout++].len = p->len;
}

/* Every packet of p[0..n-1] in turn, then the end of the turn. */
static void put_all(struct stream *s, const struct pkt *p, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		put(s, &p[i]);
	flush(s);
}

/* The packets of one flow (by source port, the flows of a test differ in it), in order,
 * in the input and in what came out. */
static void assert_same_flows(const struct pkt *a, unsigned na, const struct stream *s)
{
	unsigned nflow = 0;
	uint16_t flows[64];

	assert_int_equal(s->nout, na);
	for (unsigned i = 0; i < na; i++) {
		struct pkt_info pi;
		unsigned f;

		assert_int_equal(pkt_parse(a[i].b, a[i].len, &pi), 0);
		for (f = 0; f < nflow && flows[f] != pi.sport; f++)
			;
		if (f == nflow) {
			assert_true(nflow < 64);
			flows[nflow++] = pi.sport;
		}
	}
	for (unsigned f = 0; f < nflow; f++) {
		unsigned j = 0;

		for (unsigned i = 0; i < na; i++) {
			struct pkt_info pa, pb;

			pkt_parse(a[i].b, a[i].len, &pa);
			if (pa.sport != flows[f])
				continue;
			for (;; j++) {
				assert_true(j < s->nout);
				pkt_parse(s->out[j].b, s->out[j].len, &pb);
				if (pb.sport == flows[f])
					break;
			}
			assert_int_equal(s->out[j].len, a[i].len);
			assert_memory_equal(s->out[j].b, a[i].b, a[i].len);
			j++;
		}
	}
}

static void assert_same(const struct pkt *a, unsigned na, const struct stream *s)
{
	assert_int_equal(s->nout, na);
	for (unsigned i = 0; i < na; i++) {
		assert_int_equal(s->out[i].len, a[i].len);
		assert_memory_equal(s->out[i].b, a[i].b, a[i].len);
	}
}

/* n packets of shape s, each continuing the last (sequence, ID). */
static unsigned run_of(struct pkt *p, struct shape s, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		build(&p[i], &s);
		s.seq += s.payload;
		s.id++;
	}
	return n;
}

static struct stream *stream_new(void)
{
	struct stream *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	coalesce_set_init(&s->set);
	return s;
}

static void stream_reset(struct stream *s)
{
	memset(s, 0, sizeof(*s));
	coalesce_set_init(&s->set);
}

/* --- tests --------------------------------------------------------------------------------- */

static void check_run(struct shape sh, unsigned n, uint16_t last_payload, uint8_t last_flags)
{
	struct pkt *p = calloc(n, sizeof(*p));
	struct stream *s = stream_new();

	run_of(p, sh, n - 1);
	sh.seq += (uint32_t)(n - 1) * sh.payload;
	sh.id = (uint16_t)(sh.id + n - 1);
	sh.payload = last_payload;
	if (last_flags)
		sh.flags = last_flags;
	build(&p[n - 1], &sh);
	put_all(s, p, n);
	assert_int_equal(s->writes, 1);
	assert_int_equal(s->merged, n > 1);
	assert_same(p, n, s);
	free(p);
	free(s);
}

static void test_tcp_runs(void **state)
{
	struct shape v6 = tcp4();

	(void)state;
	check_run(tcp4(), 2, 1000, 0);
	check_run(tcp4(), 40, 1000, 0);
	check_run(tcp4(), 10, 3, 0x18);		/* shorter, PSH */
	check_run(tcp4(), 10, 1000, 0x18);	/* PSH on a full one */
	check_run(tcp4(), 1, 1000, 0);		/* alone: as it came, no GSO */
	v6.family = AF_INET6;
	v6.flow_label = 7;
	check_run(v6, 30, 999, 0x18);
	v6.opt_len = 0;
	check_run(v6, 64, 1000, 0);		/* the most a run holds */
}

static void test_udp_runs(void **state)
{
	struct shape v4 = udp6();

	(void)state;
	check_run(udp6(), 20, 1200, 0);
	check_run(udp6(), 20, 1, 0);
	v4.family = AF_INET;
	v4.id = 0xfff0;			/* IDs wrap */
	v4.payload = 1372;
	check_run(v4, 33, 500, 0);
}

/* A run is cut where the kernel's GSO could not give back the same packets. */
static void check_break(const char *what, struct shape a, struct shape b, bool b_alone)
{
	struct pkt p[3];
	struct stream *s = stream_new();

	build(&p[0], &a);
	a.seq += a.payload;
	a.id++;
	build(&p[1], &a);
	build(&p[2], &b);
	put_all(s, p, 3);
	if (s->writes != 2 || s->merged != 1 || s->alone != b_alone)
		fail_msg("%s: %u writes, %u merged", what, s->writes, s->merged);
	assert_same(p, 3, s);
	free(s);
}

static void test_breaks(void **state)
{
	struct shape a = tcp4(), b;

	(void)state;
	/* b: what would continue the run of two packets of a, then one thing changed */
#define NEXT() (b = a, b.seq += 2 * a.payload, b.id = (uint16_t)(a.id + 2))
	NEXT(); b.sport++;		check_break("other port", a, b, false);
	NEXT(); b.seq++;		check_break("sequence gap", a, b, false);
	NEXT(); b.ack++;		check_break("other ack", a, b, false);
	NEXT(); b.window++;		check_break("other window", a, b, false);
	NEXT(); b.opt_byte = 2;	check_break("other options", a, b, false);
	NEXT(); b.opt_len = 8;		check_break("other header length", a, b, false);
	NEXT(); b.ttl--;		check_break("other TTL", a, b, false);
	NEXT(); b.tos = 1;		check_break("other ECN", a, b, false);
	NEXT(); b.df = false;		check_break("other DF", a, b, false);
	NEXT(); b.id++;			check_break("ID gap", a, b, false);
	NEXT(); b.id = a.id;		check_break("the first's ID after others", a, b, false);
	NEXT(); b.dst_host = 1;	check_break("other destination", a, b, false);
	NEXT(); b.payload++;		check_break("larger than the first", a, b, false);
	NEXT(); b.proto = 17; b.payload = 1000;	check_break("other protocol", a, b, false);
	NEXT(); b.bad_csum = true;	check_break("bad checksum", a, b, true);
	/* the merged packet's header and checksum are the first's, made anew: a wrong one
	 * of a later packet would be repaired (the host drops it alone) */
	NEXT(); b.bad_ip_csum = true;	check_break("bad IPv4 header checksum", a, b, true);
	NEXT(); b.flags = 0x11;	check_break("FIN", a, b, true);
	NEXT(); b.flags = 0x12;	check_break("SYN", a, b, true);
	NEXT(); b.flags = 0x14;	check_break("RST", a, b, true);
	NEXT(); b.flags = 0x30;	check_break("URG", a, b, true);
	NEXT(); b.flags = 0x50;	check_break("ECE", a, b, true);
	NEXT(); b.flags = 0x90;	check_break("CWR", a, b, true);
	NEXT(); b.payload = 0;		check_break("no payload", a, b, true);
	NEXT(); b.ipv4_options = true;	check_break("IPv4 options", a, b, true);
	NEXT(); b.frag = true;		check_break("fragment", a, b, true);
	NEXT(); b.family = AF_INET6;	check_break("other family", a, b, false);
	a = udp6();
	NEXT(); b.flow_label++;	check_break("other flow label", a, b, false);
	NEXT(); b.dst_host = 1;	check_break("other IPv6 destination", a, b, false);
	NEXT(); b.ipv6_ext = true;	check_break("IPv6 extension header", a, b, true);
	NEXT(); b.payload--; b.dport++;	check_break("UDP, other port", a, b, false);
	a.family = AF_INET;
	a.id = 9;
	NEXT(); b.udp_no_csum = true;	check_break("UDP without checksum", a, b, true);
#undef NEXT
}

/* Nothing follows a shorter packet or a PSH; the first packet must be a good one too. */
static void test_closed_and_refused_starts(void **state)
{
	struct shape a = tcp4();
	struct pkt p[3];
	struct stream *s = stream_new();

	(void)state;
	a.payload = 500;
	run_of(p, a, 1);
	a.seq += 500;
	a.id++;
	a.payload = 1000;
	run_of(p + 1, a, 2);	/* larger than the first: a new run */
	put_all(s, p, 3);
	assert_int_equal(s->writes, 2);
	assert_same(p, 3, s);

	stream_reset(s);
	a = tcp4();
	a.flags = 0x18;		/* PSH: the run ends with it */
	run_of(p, a, 3);
	put_all(s, p, 3);
	assert_int_equal(s->writes, 3);
	assert_int_equal(s->merged, 0);
	assert_same(p, 3, s);

	stream_reset(s);
	a = tcp4();
	a.bad_csum = true;	/* a bad first packet starts nothing */
	build(&p[0], &a);
	a.bad_csum = false;
	a.bad_ip_csum = true;	/* nor does one with a bad IPv4 header checksum */
	build(&p[1], &a);
	for (unsigned i = 0; i < 2; i++) {
		struct pkt_info pi;

		assert_int_equal(pkt_parse(p[i].b, p[i].len, &pi), 0);
		assert_false(coalesce_start(&s->c, p[i].b, &pi));
		assert_int_equal(s->c.r.len, 0);
	}
	free(s);
}

/* DF with one ID throughout merges; the packets then leave with IDs going up by one
 * (RFC 6864 4.1: atomic datagrams), everything else as it was. Without DF: no. */
static void test_fixed_id(void **state)
{
	struct shape a = udp6();
	struct pkt p[5];
	struct stream *s = stream_new();

	(void)state;
	a.family = AF_INET;
	a.df = true;
	a.id = 42;
	for (unsigned i = 0; i < 5; i++)
		build(&p[i], &a);
	put_all(s, p, 5);
	assert_int_equal(s->writes, 1);
	assert_int_equal(s->nout, 5);
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(rd16(s->out[i].b + 4), 42 + i);
		assert_memory_equal(s->out[i].b + 20, p[i].b + 20, p[i].len - 20);
		assert_memory_equal(s->out[i].b, p[i].b, 4);
		assert_memory_equal(s->out[i].b + 6, p[i].b + 6, 4);
	}
	stream_reset(s);
	a.df = false;
	for (unsigned i = 0; i < 3; i++)
		build(&p[i], &a);
	put_all(s, p, 3);
	assert_int_equal(s->writes, 3);
	assert_same(p, 3, s);
	free(s);
}

/* A run stops at 64 packets and at 65535 bytes. */
static void test_limits(void **state)
{
	struct pkt *p = calloc(80, sizeof(*p));
	struct shape a = tcp4();
	struct stream *s = stream_new();

	(void)state;
	a.payload = 500;
	run_of(p, a, 80);
	put_all(s, p, 80);
	assert_int_equal(s->writes, 2);		/* 64 + 16 */
	assert_same(p, 80, s);

	stream_reset(s);
	a.opt_len = 0;
	a.payload = 1460;
	run_of(p, a, 50);	/* 44 x 1460 + 40 = 64280 bytes; the 45th would pass 65535 */
	put_all(s, p, 50);
	assert_int_equal(s->writes, 2);
	assert_same(p, 50, s);
	free(p);
	free(s);
}

/* Two flows interleaved in random runs, random breaks (gaps are closed again by the next
 * packet's own numbers): whatever is merged, what comes out is what went in. */
static void test_random_streams(void **state)
{
	uint64_t rnd = 0x5eed;
	struct pkt *p = calloc(400, sizeof(*p));
	struct stream *s = stream_new();
	struct shape f[2] = { tcp4(), udp6() };
	unsigned merged = 0;

	(void)state;
	f[1].family = AF_INET;
	f[1].id = 3;
	for (int round = 0; round < 20; round++) {
		unsigned n = 0;

		stream_reset(s);
		while (n < 400) {
			struct shape *sh = &f[test_rand(&rnd) % 2];
			unsigned k = 1 + test_rand(&rnd) % 30;

			for (unsigned i = 0; i < k && n < 400; i++) {
				struct shape x = *sh;
				uint64_t r = test_rand(&rnd) % 100;

				if (r < 5)
					x.payload = (uint16_t)(1 + test_rand(&rnd) % x.payload);
				else if (r < 8)
					x.flags = 0x18;
				else if (r < 10)
					x.bad_csum = true;
				else if (r < 12)
					x.window++;
				build(&p[n++], &x);
				sh->seq += x.payload;
				sh->id++;
			}
		}
		put_all(s, p, n);
		assert_same_flows(p, n, s);
		merged += s->merged;
	}
	assert_true(merged > 100);
	free(p);
	free(s);
}

/* Eight, then ten TCP flows between the same hosts, one packet of each in turn: eight runs
 * at once, the oldest written for a ninth flow; each flow comes out in order. A packet that cannot
 * join writes its flow's run first; one with no flow of ours (ICMP) every run of its hosts. */
static void test_many_flows(void **state)
{
	struct pkt *p = calloc(400, sizeof(*p));
	struct stream *s = stream_new();
	struct shape f[10];
	unsigned n = 0;

	(void)state;
	for (unsigned i = 0; i < 10; i++) {
		f[i] = tcp4();
		f[i].sport = (uint16_t)(1000 + i);
		f[i].id = (uint16_t)(i * 1000);
	}
	for (unsigned k = 0; k < 30; k++)
		for (unsigned i = 0; i < (k < 15 ? 8u : 10u); i++) {
			struct shape x = f[i];

			if (k == 20 && i == 3)
				x.flags = 0x11;	/* FIN: flow 3's run first, then it */
			build(&p[n++], &x);
			f[i].seq += x.payload;
			f[i].id++;
		}
	put_all(s, p, n);
	assert_same_flows(p, n, s);
	/* 8 flows x 15 in 8 runs of 15; then ten flows in turn for eight runs: each packet
	 * finds its run written for the one before (the oldest goes, as in GRO) */
	assert_true(s->merged >= 8);
	assert_true(s->writes >= 8 + 150 - 8);
	free(p);
	free(s);
}

static void test_checksum_helpers(void **state)
{
	struct shape sh[2] = { tcp4(), udp6() };

	(void)state;
	for (int i = 0; i < 2; i++) {
		struct pkt p;
		struct pkt_info pi;
		bool v4 = sh[i].family == AF_INET;
		unsigned l4;
		uint16_t want;

		build(&p, &sh[i]);
		assert_int_equal(pkt_parse(p.b, p.len, &pi), 0);
		assert_true(csum_l4_valid(p.b, &pi));
		l4 = pi.l4_off;
		want = ref_pseudo(p.b + (v4 ? 12 : 8), v4 ? 4 : 16, pi.proto, p.len - l4);
		{
			uint16_t got = csum_l4_partial(&pi, p.len - l4);

			assert_int_equal(rd16((uint8_t *)&got), want);
		}
		p.b[p.len - 1] ^= 1;
		assert_false(csum_l4_valid(p.b, &pi));
	}
}

/* What the host sends: FIN, PSH on the last piece only, CWR on the first only; a packet
 * with its checksum left to us gets it; what cannot be cut is refused. */
static void test_segment_host_packets(void **state)
{
	struct shape a = tcp4();
	struct pkt big, piece;
	struct segment_src src;
	struct pkt_info pi;
	uint8_t vh[10] = { 1, 0x81, 0, 0, 0, 0, 20, 0, 16, 0 };	/* TCPV4 | ECN */

	(void)state;
	a.payload = 1000 * 3 + 1;
	a.flags = 0x80 | 0x18 | 0x01;	/* CWR, PSH, ACK, FIN */
	build(&big, &a);
	vh[4] = (uint8_t)1000, vh[5] = 1000 >> 8;
	assert_int_equal(segment_check(vh, big.b, big.len, &src), 0);
	assert_int_equal(src.count, 4);
	assert_int_equal(src.hlen, 20 + 32);
	for (unsigned i = 0; i < 4; i++) {
		uint8_t want = (uint8_t)(0x10 | (i == 0 ? 0x80 : 0) | (i == 3 ? 0x09 : 0));

		piece.len = segment_piece(&src, i, piece.b);
		assert_int_equal(piece.len, 52 + (i == 3 ? 1 : 1000));
		assert_int_equal(piece.b[20 + 13], want);
		assert_int_equal(rd32(piece.b + 24), a.seq + 1000 * i);
		assert_int_equal(rd16(piece.b + 4), a.id + i);
		assert_int_equal(pkt_parse(piece.b, piece.len, &pi), 0);
		assert_true(csum_l4_valid(piece.b, &pi));
		assert_int_equal(csum_fold(csum_add(0, piece.b, 20)), 0);
	}
	/* Not GSO, checksum left to us: the pseudo-header sum in the field, as the kernel
	 * leaves it (CHECKSUM_PARTIAL). */
	a = udp6();
	build(&big, &a);
	assert_int_equal(pkt_parse(big.b, big.len, &pi), 0);
	{
		uint16_t partial = csum_l4_partial(&pi, big.len - 40);
		uint8_t v[10] = { 1, 0, 0, 0, 0, 0, 40, 0, 6, 0 };
		uint8_t want[2];

		memcpy(want, big.b + 46, 2);
		memcpy(big.b + 46, &partial, 2);
		assert_int_equal(segment_check(v, big.b, big.len, &src), 0);
		segment_csum(&src, big.b);
		assert_memory_equal(big.b + 46, want, 2);
		v[6] = 30;	/* checksum start inside the IP header */
		assert_int_equal(segment_check(v, big.b, big.len, &src), -EINVAL);
		v[6] = 40, v[9] = 0x10;	/* beyond the packet */
		assert_int_equal(segment_check(v, big.b, big.len, &src), -EINVAL);
	}
	/* Refused: a GSO type that does not fit the packet, an unknown one, no size, a
	 * fragment, a length that is not the packet's. */
	{
		uint8_t v[10] = { 1, 1, 0, 0, 100, 0, 40, 0, 6, 0 };	/* TCPV4 on IPv6 UDP */

		assert_int_equal(segment_check(v, big.b, big.len, &src), -EINVAL);
		v[1] = 4;	/* TCPV6 on UDP */
		assert_int_equal(segment_check(v, big.b, big.len, &src), -EINVAL);
		v[1] = 3;	/* UFO: not ours */
		assert_int_equal(segment_check(v, big.b, big.len, &src), -EINVAL);
		v[1] = 5, v[4] = 0;	/* UDP_L4 without a size */
		assert_int_equal(segment_check(v, big.b, big.len, &src), -EINVAL);
		v[4] = 100;
		assert_int_equal(segment_check(v, big.b, big.len, &src), 0);
		assert_int_equal(src.count, (big.len - 48 + 99) / 100);
		assert_int_equal(segment_check(v, big.b, big.len - 1, &src), -EINVAL);
		a = tcp4();
		a.frag = true;
		build(&big, &a);
		v[1] = 1, v[6] = 20, v[8] = 16;
		assert_int_equal(segment_check(v, big.b, big.len, &src), -EINVAL);
		a.frag = false;
		build(&big, &a);
		assert_int_equal(segment_check(v, big.b, big.len, &src), 0);
		v[1] = 5;	/* UDP_L4 on TCP */
		assert_int_equal(segment_check(v, big.b, big.len, &src), -EINVAL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_runs),
		cmocka_unit_test(test_udp_runs),
		cmocka_unit_test(test_breaks),
		cmocka_unit_test(test_closed_and_refused_starts),
		cmocka_unit_test(test_fixed_id),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_random_streams),
		cmocka_unit_test(test_many_flows),
		cmocka_unit_test(test_checksum_helpers),
		cmocka_unit_test(test_segment_host_packets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
