// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_xdp.c - bpf/esper.bpf.c under BPF_PROG_TEST_RUN (root): crafted frames against
 * maps filled here, checking the action, the one counter that moved and the metadata in
 * front of redirected frames. Covers the parser (VLAN, IPv4 options, IPv6 extension
 * headers, fragments, truncation), the SPD (tuple order, the three actions in both
 * directions, outbound first on one key), failing closed on opaque packets (shadow keys),
 * inbound ESP (SPI, outer addresses, family, ESPER_CFG_LOCAL; fragments and ESP of no SA
 * through the SPD), ESPER_CFG_RPF against the kernel's FIB (veth pairs and routes in the
 * test's private network namespace), missing XSKs and the metadata; then a randomized
 * differential against the naive reference of tests/bpf/xdp_harness.h.
 * Run by `make test-bpf`.
 */
#include <stdarg.h>
#include <unistd.h>

#include "test_util.h"
#include "xdp_harness.h"

static struct hx H;

#define OUT	HX_OUT
#define IN	HX_IN
#define IPSEC	ESPER_ACT_IPSEC
#define DISCARD	ESPER_ACT_DISCARD
#define BYPASS	ESPER_ACT_BYPASS
#define TP	ESPER_T_PROTO
#define TS	ESPER_T_SPORT
#define TD	ESPER_T_DPORT

#define RUN(pkt, v) assert_int_equal(hx_run_pkt(&H, (pkt), (v)), 0)

static const char *counter_name(int c)
{
	static const char *const names[ESPER_C_MAX] = {
#define NAME(name, text) [ESPER_C_##name] = #name,
		ESPER_XDP_COUNTERS(NAME)
#undef NAME
	};

	return c >= 0 && c < ESPER_C_MAX ? names[c] : "(none or several)";
}

static int action_of(int counter)
{
	switch (counter) {
	case ESPER_C_REDIRECT_ESP_IN:
	case ESPER_C_REDIRECT_PLAIN_OUT:
		return XDP_REDIRECT;
	case ESPER_C_DROP_UNKNOWN_SPI:
	case ESPER_C_DROP_IN_POLICY:
	case ESPER_C_DROP_DISCARD:
	case ESPER_C_DROP_OPAQUE:
	case ESPER_C_DROP_RPF:
	case ESPER_C_DROP_NO_XSK:
		return XDP_DROP;
	}
	return XDP_PASS;
}

static void expect(const struct hx_verdict *v, int action, int counter)
{
	if (v->action != action || v->counter != counter)
		fail_msg("verdict %d counter %s, expected %d counter %s", v->action,
			 counter_name(v->counter), action, counter_name(counter));
}

static void expect_redirect(const struct hx_verdict *v, uint32_t kind, uint32_t id)
{
	expect(v, XDP_REDIRECT,
	       kind == ESPER_META_ESP_IN ? ESPER_C_REDIRECT_ESP_IN : ESPER_C_REDIRECT_PLAIN_OUT);
	assert_true(v->has_meta);
	assert_int_equal(v->meta_len, sizeof(struct esper_meta));
	assert_int_equal(v->meta.magic, ESPER_META_MAGIC);
	assert_int_equal(v->meta.kind, kind);
	assert_int_equal(v->meta.id, id);
}

/* The verdict named by its counter (and, for a redirect, the id in the metadata). */
static void expect_c(const struct hx_verdict *v, int counter, uint32_t id, const char *what)
{
	bool redirect = action_of(counter) == XDP_REDIRECT;
	uint32_t kind = counter == ESPER_C_REDIRECT_ESP_IN ? ESPER_META_ESP_IN
							    : ESPER_META_PLAIN_OUT;

	if (v->action != action_of(counter) || v->counter != counter ||
	    (redirect && (!v->has_meta || v->meta.magic != ESPER_META_MAGIC ||
			  v->meta.kind != kind || v->meta.id != id)))
		fail_msg("%s: verdict %d counter %s kind %u id %u, expected %d counter %s id %u",
			 what, v->action, counter_name(v->counter), v->meta.kind, v->meta.id,
			 action_of(counter), counter_name(counter), id);
}

static void expect_pkt_c(const struct pb_pkt *p, int counter, uint32_t id, const char *what)
{
	struct hx_verdict v;

	RUN(p, &v);
	expect_c(&v, counter, id, what);
}

static void expect_out(const struct pb_pkt *p, uint32_t id)
{
	struct hx_verdict v;

	RUN(p, &v);
	expect_redirect(&v, ESPER_META_PLAIN_OUT, id);
}

static void expect_esp_in(const struct pb_pkt *p, uint32_t uid)
{
	struct hx_verdict v;

	RUN(p, &v);
	expect_redirect(&v, ESPER_META_ESP_IN, uid);
}

static void expect_pkt(const struct pb_pkt *p, int action, int counter)
{
	struct hx_verdict v;

	RUN(p, &v);
	expect(&v, action, counter);
}

static void install(const struct hx_policy *p, size_t n)
{
	assert_int_equal(hx_spd_install(&H, p, n), 0);
}

static void add_sa(uint32_t spi, uint32_t uid, const struct pb_pkt *esp)
{
	assert_int_equal(hx_add_sa_pkt(&H, spi, uid, esp), 0);
}

static void config(uint32_t flags)
{
	assert_int_equal(hx_set_config(&H, flags), 0);
}

/* Fresh maps and the lo socket in slot 0 for (lo, 0). */
static int setup(void **state)
{
	(void)state;
	if (hx_reset(&H))
		return -1;
	return hx_set_slot(&H, (uint32_t)H.lo_ifindex, 0, 0, true);
}

static int group_setup(void **state)
{
	int xsk_err;

	(void)state;
	if (geteuid()) {
		fprintf(stderr, "test_xdp: needs root (BPF_PROG_TEST_RUN, AF_XDP)\n");
		return -1;
	}
	if (hx_open(&H, &xsk_err)) {
		fprintf(stderr, "test_xdp: cannot load the XDP program\n");
		return -1;
	}
	if (xsk_err) {
		fprintf(stderr, "test_xdp: no AF_XDP socket on lo: %s\n", strerror(-xsk_err));
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	hx_close(&H);
	return 0;
}

/* --- policies by direction --------------------------------------------------------------- */

static void test_ipv4_out_in_none(void **state)
{
	struct hx_policy p[] = {
		hx_pol("192.0.2.0", 24, "198.51.100.0", 24, 0, 0, 0, 0, OUT, IPSEC, 10),
		hx_pol("198.51.100.0", 24, "192.0.2.0", 24, 0, 0, 0, 0, IN, IPSEC, 11),
	};
	struct pb_pkt out = pb_packet("192.0.2.7", "198.51.100.9", 17, 1000, 53);
	struct pb_pkt in = pb_packet("198.51.100.9", "192.0.2.7", 6, 443, 1000);
	struct pb_pkt other = pb_packet("203.0.113.1", "198.51.100.9", 17, 1000, 53);

	(void)state;
	install(p, 2);
	expect_out(&out, 10);
	expect_pkt(&in, XDP_DROP, ESPER_C_DROP_IN_POLICY);
	expect_pkt(&other, XDP_PASS, ESPER_C_PASS_NO_POLICY);
}

static void test_ipv6_out_in_none(void **state)
{
	struct hx_policy p[] = {
		hx_pol("2001:db8:1::", 48, "2001:db8:2::", 48, 0, 0, 0, 0, OUT, IPSEC, 20),
		hx_pol("2001:db8:2::", 48, "2001:db8:1::", 48, 0, 0, 0, 0, IN, IPSEC, 21),
	};
	struct pb_pkt out = pb_packet("2001:db8:1::5", "2001:db8:2:ffff::9", 6, 1000, 22);
	struct pb_pkt in = pb_packet("2001:db8:2::9", "2001:db8:1::5", 58, 0, 0);
	struct pb_pkt other = pb_packet("2001:db8:3::5", "2001:db8:2::9", 6, 1000, 22);
	struct pb_pkt v4 = pb_packet("192.0.2.1", "198.51.100.1", 6, 1, 2);

	(void)state;
	install(p, 2);
	expect_out(&out, 20);
	expect_pkt(&in, XDP_DROP, ESPER_C_DROP_IN_POLICY);
	expect_pkt(&other, XDP_PASS, ESPER_C_PASS_NO_POLICY);
	expect_pkt(&v4, XDP_PASS, ESPER_C_PASS_NO_POLICY);	/* no IPv4 tuples at all */
}

/* A /0 <-> /0 policy matches everything of its family. */
static void test_zero_prefix(void **state)
{
	struct hx_policy p[] = {
		hx_pol("0.0.0.0", 0, "0.0.0.0", 0, 0, 0, 0, 0, OUT, IPSEC, 30),
		hx_pol("::", 0, "::", 0, 0, 0, 0, 0, IN, IPSEC, 31),
	};
	struct pb_pkt a = pb_packet("255.255.255.255", "0.0.0.1", 47, 0, 0);
	struct pb_pkt b = pb_packet("ffff::1", "::1", 17, 1, 2);

	(void)state;
	install(p, 2);
	expect_out(&a, 30);
	expect_pkt(&b, XDP_DROP, ESPER_C_DROP_IN_POLICY);
}

/* --- actions: discard and bypass, both directions, outbound first on one key ------------- */

/* Each action alone, out and in, both families: what a matching packet gets. */
static void test_actions_each(void **state)
{
	static const struct {
		uint8_t dir, act;
		int counter;
	} c[] = {
		{ OUT, IPSEC, ESPER_C_REDIRECT_PLAIN_OUT },
		{ OUT, DISCARD, ESPER_C_DROP_DISCARD },
		{ OUT, BYPASS, ESPER_C_PASS_BYPASS },
		{ IN, IPSEC, ESPER_C_DROP_IN_POLICY },
		{ IN, DISCARD, ESPER_C_DROP_DISCARD },
		{ IN, BYPASS, ESPER_C_PASS_BYPASS },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct hx_policy p[] = {
			hx_pol("192.0.2.0", 24, "198.51.100.0", 24, TP | TD, 17, 0, 53, c[i].dir,
			       c[i].act, 300 + (uint32_t)i),
			hx_pol("2001:db8:1::", 48, "2001:db8:2::", 48, 0, 0, 0, 0, c[i].dir,
			       c[i].act, 400 + (uint32_t)i),
		};
		struct pb_pkt a = pb_packet("192.0.2.7", "198.51.100.9", 17, 1000, 53);
		struct pb_pkt b = pb_packet("2001:db8:1::5", "2001:db8:2::9", 58, 0, 0);
		struct pb_pkt miss = pb_packet("192.0.2.7", "198.51.100.9", 17, 1000, 54);

		install(p, 2);
		expect_pkt_c(&a, c[i].counter, 300 + (uint32_t)i, "ipv4");
		expect_pkt_c(&b, c[i].counter, 400 + (uint32_t)i, "ipv6");
		expect_pkt_c(&miss, ESPER_C_PASS_NO_POLICY, 0, "ipv4 other port");
	}
}

/* Every pair (outbound action or none, inbound action or none) on one key: the outbound
 * policy decides when there is one, else the inbound one. */
static void test_actions_same_key(void **state)
{
	static const uint8_t acts[] = { 0, IPSEC, DISCARD, BYPASS };
	/* [out][in], written out by hand from the rules rather than computed */
	static const int want[4][4] = {
		/* in: none             ipsec                    discard               bypass */
		{ ESPER_C_PASS_NO_POLICY, ESPER_C_DROP_IN_POLICY, ESPER_C_DROP_DISCARD,
		  ESPER_C_PASS_BYPASS },					/* out none */
		{ ESPER_C_REDIRECT_PLAIN_OUT, ESPER_C_REDIRECT_PLAIN_OUT,
		  ESPER_C_REDIRECT_PLAIN_OUT, ESPER_C_REDIRECT_PLAIN_OUT },	/* out ipsec */
		{ ESPER_C_DROP_DISCARD, ESPER_C_DROP_DISCARD, ESPER_C_DROP_DISCARD,
		  ESPER_C_DROP_DISCARD },					/* out discard */
		{ ESPER_C_PASS_BYPASS, ESPER_C_PASS_BYPASS, ESPER_C_PASS_BYPASS,
		  ESPER_C_PASS_BYPASS },					/* out bypass */
	};
	struct pb_pkt k = pb_packet("192.0.2.1", "198.51.100.1", 17, 1, 2);
	struct pb_pkt k6 = pb_packet("2001:db8::1", "2001:db8::2", 6, 1, 2);

	(void)state;
	for (int o = 0; o < 4; o++) {
		for (int i = 0; i < 4; i++) {
			struct hx_policy p[4];
			size_t n = 0;
			char what[64];

			if (acts[o]) {
				p[n++] = hx_pol("192.0.2.0", 24, "198.51.100.0", 24, TP, 17, 0, 0,
						OUT, acts[o], 131);
				p[n++] = hx_pol("2001:db8::", 32, "2001:db8::", 32, 0, 0, 0, 0,
						OUT, acts[o], 131);
			}
			if (acts[i]) {
				p[n++] = hx_pol("192.0.2.0", 24, "198.51.100.0", 24, TP, 17, 0, 0,
						IN, acts[i], 130);
				p[n++] = hx_pol("2001:db8::", 32, "2001:db8::", 32, 0, 0, 0, 0, IN,
						acts[i], 130);
			}
			install(p, n);
			snprintf(what, sizeof(what), "out %d in %d", acts[o], acts[i]);
			expect_pkt_c(&k, want[o][i], 131, what);
			expect_pkt_c(&k6, want[o][i], 131, what);
		}
	}
}

/* The first tuple to match decides, whatever the actions further on. */
static void test_actions_first_match(void **state)
{
	struct hx_policy p[] = {
		/* /32 -> /32 bypass ahead of a /24 protect */
		hx_pol("192.0.2.1", 32, "198.51.100.1", 32, 0, 0, 0, 0, OUT, BYPASS, 140),
		hx_pol("192.0.2.0", 24, "198.51.100.0", 24, 0, 0, 0, 0, OUT, IPSEC, 141),
		/* a port discard ahead of a protocol-only bypass ahead of a /16 protect */
		hx_pol("192.0.2.0", 24, "203.0.113.0", 24, TP | TD, 6, 0, 23, OUT, DISCARD, 142),
		hx_pol("192.0.2.0", 24, "203.0.113.0", 24, TP, 6, 0, 0, IN, BYPASS, 143),
		hx_pol("192.0.0.0", 16, "203.0.0.0", 16, 0, 0, 0, 0, OUT, IPSEC, 144),
	};
	struct pb_pkt k = pb_packet("192.0.2.1", "198.51.100.1", 6, 1, 2);

	(void)state;
	install(p, sizeof(p) / sizeof(p[0]));
	expect_pkt(&k, XDP_PASS, ESPER_C_PASS_BYPASS);
	k.src[3] = 2;
	expect_out(&k, 141);
	k = pb_packet("192.0.2.1", "203.0.113.1", 6, 1, 23);
	expect_pkt(&k, XDP_DROP, ESPER_C_DROP_DISCARD);
	k.dport = 22;
	expect_pkt(&k, XDP_PASS, ESPER_C_PASS_BYPASS);
	k.proto = 17;
	expect_out(&k, 144);
	k.dst[2] = 114;
	expect_out(&k, 144);
}

/* --- ports --------------------------------------------------------------------------------- */

static void test_ports(void **state)
{
	struct hx_policy p[] = {
		hx_pol("192.0.2.0", 24, "198.51.100.0", 24, TP | TD, 6, 0, 443, OUT, IPSEC, 40),
		hx_pol("192.0.2.0", 24, "198.51.100.0", 24, TP | TS | TD, 17, 500, 500, OUT, IPSEC,
		       41),
		/* port 0 with a port flag: must not match a packet that has no ports */
		hx_pol("192.0.2.0", 24, "198.51.100.0", 24, TD, 0, 0, 0, IN, IPSEC, 42),
		hx_pol("192.0.2.0", 24, "198.51.100.0", 24, TS, 0, 0, 0, IN, IPSEC, 43),
	};
	struct pb_pkt tcp443 = pb_packet("192.0.2.1", "198.51.100.1", 6, 33000, 443);
	struct pb_pkt tcp80 = pb_packet("192.0.2.1", "198.51.100.1", 6, 33000, 80);
	struct pb_pkt ike = pb_packet("192.0.2.1", "198.51.100.1", 17, 500, 500);
	struct pb_pkt ike2 = pb_packet("192.0.2.1", "198.51.100.1", 17, 501, 500);
	struct pb_pkt udp0 = pb_packet("192.0.2.1", "198.51.100.1", 17, 7, 0);
	struct pb_pkt icmp = pb_packet("192.0.2.1", "198.51.100.1", 1, 0, 0);
	struct pb_pkt gre = pb_packet("192.0.2.1", "198.51.100.1", 47, 0, 0);

	(void)state;
	install(p, 4);
	expect_out(&tcp443, 40);
	expect_pkt(&tcp80, XDP_PASS, ESPER_C_PASS_NO_POLICY);
	expect_out(&ike, 41);
	expect_pkt(&ike2, XDP_PASS, ESPER_C_PASS_NO_POLICY);
	expect_pkt(&udp0, XDP_DROP, ESPER_C_DROP_IN_POLICY);	/* real port 0 */
	expect_pkt(&icmp, XDP_PASS, ESPER_C_PASS_NO_POLICY);	/* ICMP has no ports: */
	expect_pkt(&gre, XDP_PASS, ESPER_C_PASS_NO_POLICY);	/* not opaque either */
}

static void test_ports_ipv6(void **state)
{
	struct hx_policy p[] = {
		hx_pol("2001:db8::", 32, "2001:db8::", 32, TP | TD, 17, 0, 53, OUT, IPSEC, 50),
		hx_pol("2001:db8::", 32, "2001:db8::", 32, TD, 0, 0, 0, IN, IPSEC, 51),
	};
	struct pb_pkt dns = pb_packet("2001:db8::1", "2001:db8::2", 17, 40000, 53);
	struct pb_pkt icmp6 = pb_packet("2001:db8::1", "2001:db8::2", 58, 0, 0);

	(void)state;
	install(p, 2);
	expect_out(&dns, 50);
	expect_pkt(&icmp6, XDP_PASS, ESPER_C_PASS_NO_POLICY);
}

/* --- IPv4 header forms --------------------------------------------------------------------- */

static void test_ipv4_options(void **state)
{
	struct hx_policy p = hx_pol("192.0.2.0", 24, "198.51.100.0", 24, TP | TS | TD, 6, 1234,
				    443, OUT, IPSEC, 60);

	(void)state;
	install(&p, 1);
	for (uint8_t opt = 0; opt <= 40; opt += 4) {
		struct pb_pkt k = pb_packet("192.0.2.1", "198.51.100.1", 6, 1234, 443);

		k.ip4_optlen = opt;
		expect_out(&k, 60);
	}
}

static void test_ipv4_bad_headers(void **state)
{
	struct pb_pkt k = pb_packet("192.0.2.1", "198.51.100.1", 6, 1234, 443);
	struct hx_policy p = hx_pol("0.0.0.0", 0, "0.0.0.0", 0, 0, 0, 0, 0, OUT, IPSEC, 61);
	uint8_t buf[HX_FRAME_MAX];
	struct hx_verdict v;
	size_t len;

	(void)state;
	install(&p, 1);
	len = pb_frame(&k, buf);
	buf[14] = 0x44;			/* ihl 4 */
	assert_int_equal(hx_run(&H, buf, len, &v), 0);
	expect(&v, XDP_PASS, ESPER_C_PASS_MALFORMED);
	buf[14] = 0x65;			/* version 6 in an IPv4 ethertype */
	assert_int_equal(hx_run(&H, buf, len, &v), 0);
	expect(&v, XDP_PASS, ESPER_C_PASS_MALFORMED);
	buf[14] = 0x4f;			/* ihl 15 (60 bytes) > total length 56 */
	assert_int_equal(hx_run(&H, buf, len, &v), 0);
	expect(&v, XDP_PASS, ESPER_C_PASS_MALFORMED);
	buf[14] = 0x45;
	wr16(buf + 16, (uint16_t)(len - 14 + 1));	/* total length beyond the frame */
	assert_int_equal(hx_run(&H, buf, len, &v), 0);
	expect(&v, XDP_PASS, ESPER_C_PASS_MALFORMED);
	wr16(buf + 16, 19);			/* total length < header */
	assert_int_equal(hx_run(&H, buf, len, &v), 0);
	expect(&v, XDP_PASS, ESPER_C_PASS_MALFORMED);
	/* Ethernet padding after the IP packet is fine */
	wr16(buf + 16, (uint16_t)(len - 14 - 10));
	assert_int_equal(hx_run(&H, buf, len, &v), 0);
	expect_redirect(&v, ESPER_META_PLAIN_OUT, 61);
}

/* Ports must come from the IP packet, not from Ethernet padding after it: with the IP
 * packet ending inside the ports, TCP is opaque and the port policy's shadow makes the
 * inbound protocol policy's verdict a fail-closed drop. */
static void test_ports_not_from_padding(void **state)
{
	struct hx_policy p[] = {
		hx_pol("192.0.2.0", 24, "198.51.100.0", 24, TP | TD, 6, 0, 443, OUT, IPSEC, 62),
		hx_pol("192.0.2.0", 24, "198.51.100.0", 24, TP, 6, 0, 0, IN, IPSEC, 63),
	};
	struct pb_pkt k = pb_packet("192.0.2.1", "198.51.100.1", 6, 1234, 443);
	uint8_t buf[HX_FRAME_MAX];
	struct hx_verdict v;
	size_t len;

	(void)state;
	install(p, 2);
	len = pb_frame(&k, buf);
	pb_set_ip_end(&k, buf, 14 + 20 + 3);	/* IP ends inside the ports; frame goes on */
	assert_int_equal(hx_run(&H, buf, len, &v), 0);
	expect(&v, XDP_DROP, ESPER_C_DROP_OPAQUE);
	pb_set_ip_end(&k, buf, 14 + 20 + 4);
	assert_int_equal(hx_run(&H, buf, len, &v), 0);
	expect_redirect(&v, ESPER_META_PLAIN_OUT, 62);
}

/* --- IPv6 extension headers -------------------------------------------------------------- */

static const uint8_t ext_kinds[] = { 0, 43, 60, 44, 51 };

static void test_ipv6_ext_each(void **state)
{
	struct hx_policy p = hx_pol("2001:db8::", 32, "2001:db8::", 32, TP | TS | TD, 6, 1234, 443,
				    OUT, IPSEC, 70);

	(void)state;
	install(&p, 1);
	for (size_t i = 0; i < sizeof(ext_kinds); i++) {
		struct pb_pkt k = pb_packet("2001:db8::1", "2001:db8::2", 6, 1234, 443);

		k.next = 1;
		k.ext[0] = ext_kinds[i];
		k.frag = PB_FRAG_FIRST;		/* for 44: first fragment, ports present */
		expect_out(&k, 70);
	}
}

static void test_ipv6_ext_chain_limit(void **state)
{
	struct hx_policy p[] = {
		hx_pol("2001:db8::", 32, "2001:db8::", 32, TP | TD, 6, 0, 443, OUT, IPSEC, 71),
		hx_pol("2001:db8::", 32, "2001:db8::", 32, TP, 6, 0, 0, OUT, IPSEC, 72),
		hx_pol("2001:db8::", 32, "2001:db8::", 32, 0, 0, 0, 0, IN, IPSEC, 73),
	};
	struct pb_pkt k = pb_packet("2001:db8::1", "2001:db8::2", 6, 1234, 443);

	(void)state;
	install(p, 3);
	/* all five kinds, then up to exactly ESPER_MAX_IPV6_EXT: still parsed */
	for (int n = 1; n <= ESPER_MAX_IPV6_EXT; n++) {
		k.next = (uint8_t)n;
		for (int i = 0; i < n; i++)
			k.ext[i] = ext_kinds[i % sizeof(ext_kinds)];
		k.frag = PB_FRAG_FIRST;
		expect_out(&k, 71);
	}
	/* one more: protocol unknown, no ports. The first tuple's shadow (the protocol too
	 * zeroed) hits ahead of the inbound policy: dropped as opaque, not as inbound */
	for (int n = ESPER_MAX_IPV6_EXT + 1; n < PB_MAX_EXT; n++) {
		k.next = (uint8_t)n;
		for (int i = 0; i < n; i++)
			k.ext[i] = 60;
		expect_pkt(&k, XDP_DROP, ESPER_C_DROP_OPAQUE);
	}
}

/* The chain runs past the IPv6 payload: protocol unknown, no ports, opaque. */
static void test_ipv6_ext_truncated(void **state)
{
	struct hx_policy p[] = {
		hx_pol("2001:db8::", 32, "2001:db8::", 32, TP, 6, 0, 0, OUT, IPSEC, 74),
		hx_pol("2001:db8::", 32, "2001:db8::", 32, 0, 0, 0, 0, IN, IPSEC, 75),
	};
	struct pb_pkt k = pb_packet("2001:db8::1", "2001:db8::2", 6, 1234, 443);
	uint8_t buf[HX_FRAME_MAX];
	struct hx_verdict v;
	size_t len, l3 = 14;

	(void)state;
	install(p, 2);
	k.next = 2;
	k.ext[0] = 0;
	k.ext[1] = 60;			/* 16 bytes at l3 + 48 */
	len = pb_frame(&k, buf);
	for (size_t end = l3 + 40; end < l3 + 40 + 8 + 16; end++) {
		pb_set_ip_end(&k, buf, end);
		assert_int_equal(hx_run(&H, buf, end, &v), 0);
		expect(&v, XDP_DROP, ESPER_C_DROP_OPAQUE);
	}
	/* ends right after the chain: TCP without its header, still protocol 6: opaque but
	 * the protocol policy's real key hits first */
	pb_set_ip_end(&k, buf, l3 + 40 + 8 + 16);
	assert_int_equal(hx_run(&H, buf, len, &v), 0);
	expect_redirect(&v, ESPER_META_PLAIN_OUT, 74);
}

/* --- fragments ----------------------------------------------------------------------------- */

static void fragments(uint8_t family)
{
	const char *s = family == ESPER_AF_INET ? "192.0.2.1" : "2001:db8::1";
	const char *d = family == ESPER_AF_INET ? "198.51.100.1" : "2001:db8::2";
	unsigned plen = family == ESPER_AF_INET ? 32 : 128;
	struct hx_policy p[] = {
		hx_pol(s, plen, d, plen, TP | TD, 17, 0, 4500, OUT, IPSEC, 80),
		hx_pol(s, plen, d, plen, TP, 17, 0, 0, IN, IPSEC, 81),
	};
	struct pb_pkt k = family == ESPER_AF_INET ? pb_packet(s, d, 17, 4500, 4500)
						  : pb_packet(s, d, 17, 4500, 4500);

	install(p, 2);
	if (family == ESPER_AF_INET6) {
		k.next = 1;
		k.ext[0] = 44;
	}
	k.frag = PB_FRAG_FIRST;
	expect_out(&k, 80);
	k.frag = PB_FRAG_NONFIRST;	/* no ports: the port policy's shadow comes first */
	expect_pkt(&k, XDP_DROP, ESPER_C_DROP_OPAQUE);
	k.proto = 1;			/* an ICMP fragment is not opaque: no shadow probed */
	expect_pkt(&k, XDP_PASS, ESPER_C_PASS_NO_POLICY);
}

static void test_fragments_ipv4(void **state)
{
	(void)state;
	fragments(ESPER_AF_INET);
}

static void test_fragments_ipv6(void **state)
{
	(void)state;
	fragments(ESPER_AF_INET6);
}

/* A non-first IPv6 fragment ends the walk: the protocol is the fragment header's next. */
static void test_ipv6_nonfirst_ends_walk(void **state)
{
	struct hx_policy p[] = {
		hx_pol("2001:db8::", 32, "2001:db8::", 32, TP, 60, 0, 0, OUT, IPSEC, 82),
		hx_pol("2001:db8::", 32, "2001:db8::", 32, TP, 6, 0, 0, OUT, IPSEC, 83),
		hx_pol("2001:db8::", 32, "2001:db8::", 32, 0, 0, 0, 0, OUT, IPSEC, 84),
	};
	struct pb_pkt k = pb_packet("2001:db8::1", "2001:db8::2", 6, 1, 2);

	(void)state;
	/* A non-first fragment naming another extension header: the walk ends there, and
	 * the upper layer is unknown, so no protocol policy can be keyed for it. Their shadows
	 * make it opaque: protected by the any-protocol policy, dropped without one. */
	install(p, 3);
	k.next = 2;
	k.ext[0] = 44;
	k.ext[1] = 60;
	k.frag = PB_FRAG_NONFIRST;
	expect_out(&k, 84);
	install(p, 2);
	expect_pkt(&k, XDP_DROP, ESPER_C_DROP_OPAQUE);
}

/* --- failing closed: opaque packets ------------------------------------------------------ */

/* The networks of the opaque cases, the same in both families. */
enum { NET_A, NET_B, NET_C };

static void net_addr(uint8_t family, int net, unsigned host, uint8_t *a)
{
	static const char *const v4[] = { "192.0.2.0", "198.51.100.0", "203.0.113.0" };
	static const char *const v6[] = { "2001:db8:1::", "2001:db8:2::", "2001:db8:3::" };

	memset(a, 0, 16);
	if (family == ESPER_AF_INET) {
		inet_pton(AF_INET, v4[net], a);
		a[3] = (uint8_t)host;
	} else {
		inet_pton(AF_INET6, v6[net], a);
		a[15] = (uint8_t)host;
	}
}

/* A policy spec for both families: prefixes in IPv4 terms (32 -> 128, 24 -> 48, else as is). */
struct pspec {
	int src_net;
	unsigned src_host, src_plen;
	int dst_net;
	unsigned dst_host, dst_plen;
	uint8_t flags, proto;
	uint16_t sport, dport;
	uint8_t dir, act;
	uint32_t id;
};

static unsigned plen_of(uint8_t family, unsigned plen4)
{
	if (family == ESPER_AF_INET)
		return plen4;
	return plen4 == 32 ? 128 : plen4 == 24 ? 48 : plen4;
}

static struct hx_policy pol_of(uint8_t family, const struct pspec *s)
{
	struct hx_policy p = { .family = family, .flags = s->flags, .proto = s->proto,
			       .sport = s->sport, .dport = s->dport, .dir = s->dir,
			       .action = s->act, .id = s->id };

	p.src_plen = (uint8_t)plen_of(family, s->src_plen);
	p.dst_plen = (uint8_t)plen_of(family, s->dst_plen);
	net_addr(family, s->src_net, s->src_host, p.src);
	net_addr(family, s->dst_net, s->dst_host, p.dst);
	return p;
}

/* The frames of the opaque cases: TCP A.1:1234 -> B.1:443 whole, as a non-first fragment,
 * with its header cut to 3 bytes, and (IPv6) behind 9 extension headers. */
enum { F_WHOLE, F_FRAG, F_CUT, F_CHAIN, F_MAX };

static bool frame_of(uint8_t family, int kind, uint8_t proto, struct pb_pkt *k)
{
	memset(k, 0, sizeof(*k));
	k->family = family;
	k->proto = proto;
	k->sport = 1234;
	k->dport = 443;
	k->payload = 16;
	net_addr(family, NET_A, 1, k->src);
	net_addr(family, NET_B, 1, k->dst);
	switch (kind) {
	case F_FRAG:
		k->frag = PB_FRAG_NONFIRST;
		if (family == ESPER_AF_INET6) {
			k->next = 2;
			k->ext[0] = 0;
			k->ext[1] = 44;
		}
		break;
	case F_CUT:
		k->cut_l4 = 4;
		if (family == ESPER_AF_INET6) {
			k->next = 1;
			k->ext[0] = 60;
		}
		break;
	case F_CHAIN:
		if (family == ESPER_AF_INET)
			return false;
		k->next = ESPER_MAX_IPV6_EXT + 1;
		for (int i = 0; i < k->next; i++)
			k->ext[i] = ext_kinds[i % 3];	/* 0, 43, 60: no fragment header */
		break;
	}
	return true;
}

struct outcome {
	int counter;
	uint32_t id;
};

struct opaque_case {
	const char *what;
	struct pspec p[3];
	size_t n;
	struct outcome want[F_MAX];	/* by frame kind */
};

#define C_OUT(id)	{ ESPER_C_REDIRECT_PLAIN_OUT, id }
#define C_OPAQUE	{ ESPER_C_DROP_OPAQUE, 0 }
#define C_NONE		{ ESPER_C_PASS_NO_POLICY, 0 }
#define C_BYPASS	{ ESPER_C_PASS_BYPASS, 0 }
#define C_DISCARD	{ ESPER_C_DROP_DISCARD, 0 }
#define C_IN		{ ESPER_C_DROP_IN_POLICY, 0 }

static const struct opaque_case opaque_cases[] = {
	{ "port protect only: shadow, no real hit",
	  { { NET_A, 0, 24, NET_B, 0, 24, TP | TD, 6, 0, 443, OUT, IPSEC, 200 } }, 1,
	  { C_OUT(200), C_OPAQUE, C_OPAQUE, C_OPAQUE } },
	{ "port protect and a covering any-port protect: protected",
	  { { NET_A, 0, 24, NET_B, 0, 24, TP | TD, 6, 0, 443, OUT, IPSEC, 200 },
	    { NET_A, 0, 24, NET_B, 0, 24, 0, 0, 0, 0, OUT, IPSEC, 201 } }, 2,
	  { C_OUT(200), C_OUT(201), C_OUT(201), C_OUT(201) } },
	{ "port protect and a covering protect of a shorter prefix: protected",
	  { { NET_A, 0, 24, NET_B, 0, 24, TP | TS | TD, 6, 1234, 443, OUT, IPSEC, 202 },
	    { NET_A, 0, 0, NET_B, 0, 0, TP, 6, 0, 0, OUT, IPSEC, 203 } }, 2,
	  { C_OUT(202), C_OUT(203), C_OUT(203), C_OPAQUE } },
	{ "protocol protect only: the protocol is known, the ports are not needed",
	  { { NET_A, 0, 24, NET_B, 0, 24, TP, 6, 0, 0, OUT, IPSEC, 210 } }, 1,
	  { C_OUT(210), C_OUT(210), C_OUT(210), C_OPAQUE } },
	{ "protocol protect and a covering any-protocol protect",
	  { { NET_A, 0, 24, NET_B, 0, 24, TP, 6, 0, 0, OUT, IPSEC, 210 },
	    { NET_A, 0, 24, NET_B, 0, 24, 0, 0, 0, 0, OUT, IPSEC, 211 } }, 2,
	  { C_OUT(210), C_OUT(210), C_OUT(210), C_OUT(211) } },
	{ "protocol protect of another protocol: no shadow for this packet but the chain's",
	  { { NET_A, 0, 24, NET_B, 0, 24, TP | TD, 17, 0, 443, OUT, IPSEC, 212 } }, 1,
	  { C_NONE, C_NONE, C_NONE, C_OPAQUE } },
	{ "bypass-only port policies leave no shadow: passed",
	  { { NET_A, 0, 24, NET_B, 0, 24, TP | TD, 6, 0, 443, OUT, BYPASS, 220 },
	    { NET_A, 0, 24, NET_B, 0, 24, TP | TD, 6, 0, 443, IN, BYPASS, 221 } }, 2,
	  { C_BYPASS, C_NONE, C_NONE, C_NONE } },
	{ "bypass-only port and protocol policies: the protocol one's real hit",
	  { { NET_A, 0, 24, NET_B, 0, 24, TP | TD, 6, 0, 443, OUT, BYPASS, 220 },
	    { NET_A, 0, 24, NET_B, 0, 24, TP | TD, 6, 0, 443, IN, BYPASS, 221 },
	    { NET_A, 0, 24, NET_B, 0, 24, TP, 6, 0, 0, OUT, BYPASS, 222 } }, 3,
	  { C_BYPASS, C_BYPASS, C_BYPASS, C_NONE } },
	{ "discard port policy: shadow",
	  { { NET_A, 0, 24, NET_B, 0, 24, TP | TD, 6, 0, 443, OUT, DISCARD, 230 } }, 1,
	  { C_DISCARD, C_OPAQUE, C_OPAQUE, C_OPAQUE } },
	{ "inbound ipsec port policy: shadow",
	  { { NET_A, 0, 24, NET_B, 0, 24, TP | TS, 6, 1234, 0, IN, IPSEC, 231 } }, 1,
	  { C_IN, C_OPAQUE, C_OPAQUE, C_OPAQUE } },
	{ "inbound discard port policy without protocol: shadow",
	  { { NET_A, 0, 24, NET_B, 0, 24, TD, 0, 0, 443, IN, DISCARD, 232 } }, 1,
	  { C_DISCARD, C_OPAQUE, C_OPAQUE, C_OPAQUE } },
	{ "port protect, then a covering bypass: ambiguous, dropped",
	  { { NET_A, 0, 24, NET_B, 0, 24, TP | TD, 6, 0, 443, OUT, IPSEC, 240 },
	    { NET_A, 0, 24, NET_B, 0, 24, 0, 0, 0, 0, OUT, BYPASS, 241 } }, 2,
	  { C_OUT(240), C_OPAQUE, C_OPAQUE, C_OPAQUE } },
	{ "a more specific bypass ahead of the port protect: its real hit comes first",
	  { { NET_A, 0, 24, NET_B, 0, 24, TP | TD, 6, 0, 443, OUT, IPSEC, 250 },
	    { NET_A, 1, 32, NET_B, 1, 32, 0, 0, 0, 0, IN, BYPASS, 251 } }, 2,
	  { C_BYPASS, C_BYPASS, C_BYPASS, C_BYPASS } },
	{ "port protect, then a covering inbound discard: dropped as opaque",
	  { { NET_A, 0, 24, NET_B, 0, 24, TP | TD, 6, 0, 443, OUT, IPSEC, 260 },
	    { NET_A, 0, 24, NET_B, 0, 24, 0, 0, 0, 0, IN, DISCARD, 261 } }, 2,
	  { C_OUT(260), C_OPAQUE, C_OPAQUE, C_OPAQUE } },
	{ "port discard, then a covering protect: protected",
	  { { NET_A, 0, 24, NET_B, 0, 24, TP | TD, 6, 0, 443, OUT, DISCARD, 270 },
	    { NET_A, 0, 24, NET_B, 0, 24, 0, 0, 0, 0, OUT, IPSEC, 271 } }, 2,
	  { C_DISCARD, C_OUT(271), C_OUT(271), C_OUT(271) } },
	{ "port policy for other addresses: no shadow hit",
	  { { NET_A, 0, 24, NET_C, 0, 24, TP | TD, 6, 0, 443, OUT, IPSEC, 280 } }, 1,
	  { C_NONE, C_NONE, C_NONE, C_NONE } },
};

static void test_opaque(void **state)
{
	static const uint8_t fams[] = { ESPER_AF_INET, ESPER_AF_INET6 };
	static const char *const kinds[F_MAX] = { "whole", "non-first fragment", "header cut",
						  "9 extension headers" };

	(void)state;
	for (size_t c = 0; c < sizeof(opaque_cases) / sizeof(opaque_cases[0]); c++) {
		const struct opaque_case *oc = &opaque_cases[c];
		struct hx_policy p[6];
		size_t n = 0;

		for (size_t f = 0; f < 2; f++)
			for (size_t i = 0; i < oc->n; i++)
				p[n++] = pol_of(fams[f], &oc->p[i]);
		install(p, n);
		for (size_t f = 0; f < 2; f++) {
			for (int kind = 0; kind < F_MAX; kind++) {
				struct pb_pkt k;
				char what[200];

				if (!frame_of(fams[f], kind, 6, &k))
					continue;
				snprintf(what, sizeof(what), "%s: IPv%d %s", oc->what,
					 fams[f] == ESPER_AF_INET ? 4 : 6, kinds[kind]);
				expect_pkt_c(&k, oc->want[kind].counter, oc->want[kind].id, what);
			}
		}
	}
}

/* UDP as well as TCP; ICMP, which has no ports, is never opaque. */
static void test_opaque_protocols(void **state)
{
	struct pspec s = { NET_A, 0, 24, NET_B, 0, 24, TD, 0, 0, 443, OUT, IPSEC, 290 };
	struct hx_policy p[2] = { pol_of(ESPER_AF_INET, &s), pol_of(ESPER_AF_INET6, &s) };
	struct pb_pkt k;

	(void)state;
	install(p, 2);
	for (int f = 0; f < 2; f++) {
		uint8_t fam = f ? ESPER_AF_INET6 : ESPER_AF_INET;

		frame_of(fam, F_WHOLE, 17, &k);
		expect_out(&k, 290);
		frame_of(fam, F_FRAG, 17, &k);
		expect_pkt(&k, XDP_DROP, ESPER_C_DROP_OPAQUE);
		frame_of(fam, F_CUT, 17, &k);
		expect_pkt(&k, XDP_DROP, ESPER_C_DROP_OPAQUE);
		k.cut_l4 = 5;		/* the 4 bytes of ports are enough */
		expect_out(&k, 290);
		frame_of(fam, F_FRAG, f ? 58 : 1, &k);
		expect_pkt(&k, XDP_PASS, ESPER_C_PASS_NO_POLICY);
		frame_of(fam, F_CUT, 47, &k);
		expect_pkt(&k, XDP_PASS, ESPER_C_PASS_NO_POLICY);
	}
	/* the number of unreadable extension headers is what matters, not their kinds */
	frame_of(ESPER_AF_INET6, F_CHAIN, 58, &k);
	expect_pkt(&k, XDP_DROP, ESPER_C_DROP_OPAQUE);
	k.next = ESPER_MAX_IPV6_EXT;
	expect_pkt(&k, XDP_PASS, ESPER_C_PASS_NO_POLICY);
}

/* The shadow keys are what makes it fail closed: without them in the map (a bpf_sync that
 * forgot them), the same opaque packet would pass. Keeps the harness honest. */
static void test_opaque_needs_shadows(void **state)
{
	struct pspec s = { NET_A, 0, 24, NET_B, 0, 24, TP | TD, 6, 0, 443, OUT, IPSEC, 295 };
	struct hx_policy p = pol_of(ESPER_AF_INET, &s);
	struct esper_spd_key k[2];
	struct pb_pkt f;

	(void)state;
	install(&p, 1);
	frame_of(ESPER_AF_INET, F_FRAG, 6, &f);
	expect_pkt(&f, XDP_DROP, ESPER_C_DROP_OPAQUE);
	assert_int_equal(hx_shadow_keys(&p, k), 2);
	assert_int_equal(bpf_map_delete_elem(H.fds.spd, &k[0]), 0);
	expect_pkt(&f, XDP_PASS, ESPER_C_PASS_NO_POLICY);
	/* the one without the protocol stays for IPv6 chains */
	p = pol_of(ESPER_AF_INET6, &s);
	install(&p, 1);
	frame_of(ESPER_AF_INET6, F_CHAIN, 6, &f);
	expect_pkt(&f, XDP_DROP, ESPER_C_DROP_OPAQUE);
	assert_int_equal(hx_shadow_keys(&p, k), 2);
	assert_int_equal(bpf_map_delete_elem(H.fds.spd, &k[1]), 0);
	expect_pkt(&f, XDP_PASS, ESPER_C_PASS_NO_POLICY);
}

/* --- VLAN, non-IP ------------------------------------------------------------------------ */

static void test_vlan(void **state)
{
	static const uint16_t tags[][2] = {
		{ 0x8100, 0 }, { 0x88a8, 0 }, { 0x88a8, 0x8100 }, { 0x8100, 0x8100 },
	};
	struct hx_policy p[] = {
		hx_pol("192.0.2.0", 24, "198.51.100.0", 24, 0, 0, 0, 0, OUT, IPSEC, 90),
		hx_pol("2001:db8::", 32, "2001:db8::", 32, 0, 0, 0, 0, OUT, IPSEC, 91),
	};

	(void)state;
	install(p, 2);
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		struct pb_pkt a = pb_packet("192.0.2.1", "198.51.100.1", 6, 1, 2);
		struct pb_pkt b = pb_packet("2001:db8::1", "2001:db8::2", 6, 1, 2);

		memcpy(a.vlan, tags[i], sizeof(a.vlan));
		memcpy(b.vlan, tags[i], sizeof(b.vlan));
		expect_out(&a, 90);
		expect_out(&b, 91);
	}
}

static void test_vlan_three_tags(void **state)
{
	struct pb_pkt k = pb_packet("192.0.2.1", "198.51.100.1", 6, 1, 2);
	uint8_t buf[HX_FRAME_MAX], buf3[HX_FRAME_MAX];
	struct hx_verdict v;
	size_t len;

	(void)state;
	k.vlan[0] = 0x88a8;
	k.vlan[1] = 0x8100;
	len = pb_frame(&k, buf);
	/* insert a third tag after the second */
	memcpy(buf3, buf, 20);
	wr16(buf3 + 20, 0x8100);
	wr16(buf3 + 22, 102);
	memcpy(buf3 + 24, buf + 20, len - 20);
	assert_int_equal(hx_run(&H, buf3, len + 4, &v), 0);
	/* the kernel strips VID 0 tags however many there are and takes the IP packet inside:
	 * what XDP cannot classify must not reach it */
	expect(&v, XDP_DROP, ESPER_C_DROP_TAGS);
}

static void test_not_ip(void **state)
{
	struct pb_pkt arp = { .ethertype = 0x0806 };
	struct hx_policy p = hx_pol("0.0.0.0", 0, "0.0.0.0", 0, 0, 0, 0, 0, IN, DISCARD, 92);

	(void)state;
	install(&p, 1);
	expect_pkt(&arp, XDP_PASS, ESPER_C_PASS_NOT_IP);
	arp.vlan[0] = 0x8100;
	expect_pkt(&arp, XDP_PASS, ESPER_C_PASS_NOT_IP);
	arp.ethertype = 0x88cc;		/* LLDP */
	arp.vlan[0] = 0;
	expect_pkt(&arp, XDP_PASS, ESPER_C_PASS_NOT_IP);
}

/* --- ESP ----------------------------------------------------------------------------------- */

static void test_esp_known_unknown(void **state)
{
	struct pb_pkt a = pb_packet("198.51.100.1", "192.0.2.1", 50, 0, 0);
	struct pb_pkt b = pb_packet("2001:db8::1", "2001:db8::2", 50, 0, 0);

	(void)state;
	add_sa(0x1001, 5, &a);
	add_sa(0xfffffff0, 6, &b);
	a.spi = 0x1001;
	expect_esp_in(&a, 5);
	b.spi = 0xfffffff0;
	b.next = 2;
	b.ext[0] = 0;
	b.ext[1] = 60;			/* ESP after extension headers */
	b.vlan[0] = 0x8100;
	expect_esp_in(&b, 6);
	a.spi = 0x1002;
	expect_pkt(&a, XDP_PASS, ESPER_C_PASS_UNKNOWN_SPI);
	config(ESPER_CFG_UNKNOWN_SPI_DROP);
	expect_pkt(&a, XDP_DROP, ESPER_C_DROP_UNKNOWN_SPI);
	a.spi = 0x1001;			/* a known SPI is not affected */
	expect_esp_in(&a, 5);
	b.spi = 7;
	expect_pkt(&b, XDP_DROP, ESPER_C_DROP_UNKNOWN_SPI);
}

/*
 * SAs are one-way with their own outer addresses: a known SPI with the wrong outer source,
 * the wrong destination, the addresses swapped (the reverse direction) or the other family
 * (the same first 4 bytes) is not the SA's; it goes through the SPD like ESP of no SA.
 */
static void test_esp_wrong_addresses(void **state)
{
	struct pb_pkt good4 = pb_packet("198.51.100.1", "192.0.2.1", 50, 0, 0);
	struct pb_pkt good6 = pb_packet("2001:db8:2::1", "2001:db8:1::1", 50, 0, 0);
	struct pb_pkt bad[8];
	struct hx_policy p = hx_pol("0.0.0.0", 0, "0.0.0.0", 0, TP, 50, 0, 0, OUT, IPSEC, 170);
	size_t n = 0;

	(void)state;
	good4.spi = 0x7000;
	good6.spi = 0x7006;
	add_sa(0x7000, 70, &good4);
	add_sa(0x7006, 76, &good6);
	for (int f = 0; f < 2; f++) {
		const struct pb_pkt *g = f ? &good6 : &good4;
		unsigned last = f ? 15 : 3;

		bad[n] = *g;			/* wrong source */
		bad[n++].src[last] ^= 1;
		bad[n] = *g;			/* wrong destination */
		bad[n++].dst[last] ^= 1;
		bad[n] = *g;			/* swapped: the other direction */
		memcpy(bad[n].src, g->dst, 16);
		memcpy(bad[n++].dst, g->src, 16);
	}
	/* IPv6 whose addresses start with the IPv4 SA's; IPv4 with the IPv6 SA's first bytes */
	bad[n] = good4;
	bad[n].family = ESPER_AF_INET6;
	n++;
	bad[n] = good6;
	bad[n].family = ESPER_AF_INET;
	memset(bad[n].src + 4, 0, 12);
	memset(bad[n].dst + 4, 0, 12);
	n++;
	expect_esp_in(&good4, 70);
	expect_esp_in(&good6, 76);
	for (size_t i = 0; i < n; i++) {
		char what[32];

		snprintf(what, sizeof(what), "wrong address %zu", i);
		config(0);
		expect_pkt_c(&bad[i], ESPER_C_PASS_UNKNOWN_SPI, 0, what);
		config(ESPER_CFG_UNKNOWN_SPI_DROP);
		expect_pkt_c(&bad[i], ESPER_C_DROP_UNKNOWN_SPI, 0, what);
	}
	/* by the SPD: an outbound policy for protocol 50 encrypts it as plaintext */
	install(&p, 1);
	for (size_t i = 0; i < n; i++)
		if (bad[i].family == ESPER_AF_INET)
			expect_out(&bad[i], 170);
	expect_esp_in(&good4, 70);
}

/* Protocol 50 of no SA of ours matching an outbound policy: plaintext to protect (ESP in
 * ESP); a known SPI with its SA's addresses is still inbound ESP. */
static void test_esp_unknown_spi_by_policy(void **state)
{
	struct hx_policy p[] = {
		hx_pol("192.0.2.0", 24, "198.51.100.0", 24, TP, 50, 0, 0, OUT, IPSEC, 171),
		hx_pol("2001:db8:1::", 48, "2001:db8:2::", 48, 0, 0, 0, 0, OUT, IPSEC, 172),
		hx_pol("198.51.100.0", 24, "192.0.2.0", 24, 0, 0, 0, 0, IN, DISCARD, 173),
		hx_pol("198.51.100.0", 24, "203.0.113.0", 24, TP, 50, 0, 0, IN, BYPASS, 174),
	};
	struct pb_pkt a = pb_packet("192.0.2.1", "198.51.100.1", 50, 0, 0);
	struct pb_pkt b = pb_packet("2001:db8:1::1", "2001:db8:2::1", 50, 0, 0);
	struct pb_pkt c = pb_packet("198.51.100.1", "192.0.2.1", 50, 0, 0);
	struct pb_pkt d = pb_packet("198.51.100.1", "203.0.113.1", 50, 0, 0);

	(void)state;
	install(p, 4);
	config(ESPER_CFG_UNKNOWN_SPI_DROP);
	a.spi = b.spi = c.spi = d.spi = 0x9999;
	expect_out(&a, 171);
	expect_out(&b, 172);
	expect_pkt(&c, XDP_DROP, ESPER_C_DROP_DISCARD);
	expect_pkt(&d, XDP_PASS, ESPER_C_PASS_BYPASS);
	/* the same SPI known for those addresses: inbound ESP before the SPD */
	add_sa(0x9999, 99, &c);
	expect_esp_in(&c, 99);
	expect_pkt(&a, XDP_REDIRECT, ESPER_C_REDIRECT_PLAIN_OUT);	/* not its addresses */
}

/* ESP shorter than its 8-byte header is not inbound ESP; of no SA, by the SPD. */
static void test_esp_short(void **state)
{
	struct pb_pkt a = pb_packet("198.51.100.1", "192.0.2.1", 50, 0, 0);
	struct hx_policy p = hx_pol("198.51.100.0", 24, "192.0.2.0", 24, TP, 50, 0, 0, IN, IPSEC,
				    175);
	uint8_t buf[HX_FRAME_MAX];
	struct hx_verdict v;

	(void)state;
	add_sa(0x1001, 5, &a);
	config(ESPER_CFG_UNKNOWN_SPI_DROP);
	a.spi = 0x1001;
	a.payload = 0;
	pb_frame(&a, buf);
	for (size_t end = 14 + 20; end < 14 + 20 + 8; end++) {	/* < 8 bytes of ESP */
		pb_set_ip_end(&a, buf, end);
		assert_int_equal(hx_run(&H, buf, end, &v), 0);
		expect(&v, XDP_DROP, ESPER_C_DROP_UNKNOWN_SPI);
	}
	install(&p, 1);
	for (size_t end = 14 + 20; end < 14 + 20 + 8; end++) {
		pb_set_ip_end(&a, buf, end);
		assert_int_equal(hx_run(&H, buf, end, &v), 0);
		expect(&v, XDP_DROP, ESPER_C_DROP_IN_POLICY);
	}
	pb_set_ip_end(&a, buf, 14 + 20 + 8);
	assert_int_equal(hx_run(&H, buf, 14 + 20 + 8, &v), 0);
	expect_redirect(&v, ESPER_META_ESP_IN, 5);
}

/*
 * ESP fragments, first or not, known SPI or not, are never inbound ESP of ours (the
 * workers do not reassemble): the SPD decides, as for any packet; with no policy they
 * pass whatever the unknown-SPI setting (they are not "ESP of no SA").
 */
static void esp_fragments(uint8_t family, uint32_t cfg)
{
	static const uint8_t chains[][3] = { { 44 }, { 0, 44 }, { 0, 43, 44 } };
	static const uint32_t spis[] = { 0x1001, 0x1002 };	/* known, unknown */
	bool v4 = family == ESPER_AF_INET;
	struct hx_policy p[] = {
		v4 ? hx_pol("192.0.2.0", 24, "198.51.100.0", 24, TP, 50, 0, 0, OUT, IPSEC, 180)
		   : hx_pol("2001:db8:1::", 48, "2001:db8:2::", 48, TP, 50, 0, 0, OUT, IPSEC, 180),
		v4 ? hx_pol("198.51.100.0", 24, "192.0.2.0", 24, 0, 0, 0, 0, IN, DISCARD, 181)
		   : hx_pol("2001:db8:2::", 48, "2001:db8:1::", 48, 0, 0, 0, 0, IN, DISCARD, 181),
		v4 ? hx_pol("198.51.100.0", 24, "203.0.113.0", 24, 0, 0, 0, 0, IN, BYPASS, 182)
		   : hx_pol("2001:db8:2::", 48, "2001:db8:3::", 48, 0, 0, 0, 0, IN, BYPASS, 182),
		v4 ? hx_pol("0.0.0.0", 0, "198.51.100.77", 32, 0, 0, 0, 0, IN, IPSEC, 183)
		   : hx_pol("::", 0, "2001:db8:2::77", 128, 0, 0, 0, 0, IN, IPSEC, 183),
	};
	struct {
		const char *src, *dst;
		int counter;
		uint32_t id;
	} to[] = {
		{ v4 ? "192.0.2.1" : "2001:db8:1::1", v4 ? "198.51.100.1" : "2001:db8:2::1",
		  ESPER_C_REDIRECT_PLAIN_OUT, 180 },	/* protected */
		{ v4 ? "198.51.100.1" : "2001:db8:2::1", v4 ? "192.0.2.1" : "2001:db8:1::1",
		  ESPER_C_DROP_DISCARD, 0 },		/* dropped by policy */
		{ v4 ? "198.51.100.1" : "2001:db8:2::1", v4 ? "203.0.113.1" : "2001:db8:3::1",
		  ESPER_C_PASS_BYPASS, 0 },		/* passed by policy */
		{ v4 ? "203.0.113.1" : "2001:db8:3::1", v4 ? "198.51.100.77" : "2001:db8:2::77",
		  ESPER_C_DROP_IN_POLICY, 0 },		/* plaintext for an inbound ipsec */
		{ v4 ? "203.0.113.1" : "2001:db8:3::1", v4 ? "192.0.2.1" : "2001:db8:1::1",
		  ESPER_C_PASS_NO_POLICY, 0 },		/* no policy */
	};
	unsigned nchains = v4 ? 1 : 3;

	for (size_t t = 0; t < sizeof(to) / sizeof(to[0]); t++) {
		for (unsigned c = 0; c < nchains; c++) {
			for (unsigned i = 0; i < 2; i++) {
				struct pb_pkt a = v4 ? pb_packet(to[t].src, to[t].dst, 50, 0, 0)
						     : pb_packet(to[t].src, to[t].dst, 50, 0, 0);
				uint8_t buf[HX_FRAME_MAX];
				struct hx_verdict v;
				size_t len;

				if (!i) {	/* an SA of exactly these addresses */
					assert_int_equal(setup(NULL), 0);
					install(p, 4);
					config(cfg);
					add_sa(spis[0], 5, &a);
				}
				a.spi = spis[i];
				if (!v4) {
					a.next = (uint8_t)(c + 1);
					memcpy(a.ext, chains[c], a.next);
				}
				a.frag = PB_FRAG_FIRST;
				expect_pkt_c(&a, to[t].counter, to[t].id, "first fragment");
				a.frag = PB_FRAG_NONFIRST;
				expect_pkt_c(&a, to[t].counter, to[t].id, "non-first fragment");
				/* a fragment too short for an SPI: still a fragment */
				a.payload = 0;
				a.frag = PB_FRAG_FIRST;
				len = pb_frame(&a, buf) - 4;
				pb_set_ip_end(&a, buf, len);
				assert_int_equal(hx_run(&H, buf, len, &v), 0);
				expect_c(&v, to[t].counter, to[t].id, "short first fragment");
				/* and not a fragment: known, ours; unknown, the SPD or no SA */
				a.frag = PB_FRAG_NONE;
				a.payload = 16;
				if (!v4)
					a.next = 0;
				if (!i) {
					expect_esp_in(&a, 5);
				} else if (to[t].counter == ESPER_C_PASS_NO_POLICY) {
					expect_pkt_c(&a,
						     cfg ? ESPER_C_DROP_UNKNOWN_SPI
							 : ESPER_C_PASS_UNKNOWN_SPI,
						     0, "unknown SPI");
				} else {
					expect_pkt_c(&a, to[t].counter, to[t].id, "unknown SPI");
				}
			}
		}
	}
}

static void test_esp_fragments(void **state)
{
	(void)state;
	esp_fragments(ESPER_AF_INET, 0);
	esp_fragments(ESPER_AF_INET, ESPER_CFG_UNKNOWN_SPI_DROP);
	esp_fragments(ESPER_AF_INET6, 0);
	esp_fragments(ESPER_AF_INET6, ESPER_CFG_UNKNOWN_SPI_DROP);
}

/* IPv4: MF with an offset (a middle fragment) is a fragment; DF alone is not. */
static void test_esp_ipv4_flags(void **state)
{
	struct pb_pkt a = pb_packet("198.51.100.1", "192.0.2.1", 50, 0, 0);
	uint8_t buf[HX_FRAME_MAX];
	struct hx_verdict v;
	size_t len;

	(void)state;
	add_sa(0x1001, 5, &a);
	config(ESPER_CFG_UNKNOWN_SPI_DROP);
	a.spi = 0x1001;
	len = pb_frame(&a, buf);
	wr16(buf + 14 + 6, 0x2000 | 185);	/* MF, offset 1480 */
	wr16(buf + 14 + 10, 0);
	wr16(buf + 14 + 10, pb_csum(buf + 14, 20));
	assert_int_equal(hx_run(&H, buf, len, &v), 0);
	expect(&v, XDP_PASS, ESPER_C_PASS_NO_POLICY);
	wr16(buf + 14 + 6, 0x4000);		/* DF */
	assert_int_equal(hx_run(&H, buf, len, &v), 0);
	expect_redirect(&v, ESPER_META_ESP_IN, 5);
	wr16(buf + 14 + 6, 0x8000);		/* the reserved bit: not a fragment either */
	assert_int_equal(hx_run(&H, buf, len, &v), 0);
	expect_redirect(&v, ESPER_META_ESP_IN, 5);
}

/* ESPER_CFG_LOCAL: inbound ESP of an SA must also be addressed to one of local_addrs. */
static void test_esp_local(void **state)
{
	struct pb_pkt a = pb_packet("198.51.100.1", "192.0.2.1", 50, 0, 0);
	struct pb_pkt b = pb_packet("2001:db8:2::1", "2001:db8:1::1", 50, 0, 0);
	struct hx_policy p = hx_pol("198.51.100.0", 24, "192.0.2.0", 24, 0, 0, 0, 0, IN, IPSEC,
				    185);
	uint8_t other4[16] = { 192, 0, 2, 2 }, other6[16];
	uint8_t v6_like_a[16] = { 192, 0, 2, 1 };

	(void)state;
	memcpy(other6, b.dst, 16);
	other6[15] = 2;
	a.spi = 0x6000;
	b.spi = 0x6006;
	add_sa(0x6000, 60, &a);
	add_sa(0x6006, 66, &b);
	/* off: local_addrs is not looked at */
	expect_esp_in(&a, 60);
	expect_esp_in(&b, 66);
	config(ESPER_CFG_LOCAL);
	expect_pkt(&a, XDP_PASS, ESPER_C_PASS_UNKNOWN_SPI);	/* local_addrs empty */
	expect_pkt(&b, XDP_PASS, ESPER_C_PASS_UNKNOWN_SPI);
	assert_int_equal(hx_add_local(&H, ESPER_AF_INET, other4), 0);
	assert_int_equal(hx_add_local(&H, ESPER_AF_INET6, other6), 0);
	assert_int_equal(hx_add_local(&H, ESPER_AF_INET6, v6_like_a), 0);	/* wrong family */
	expect_pkt(&a, XDP_PASS, ESPER_C_PASS_UNKNOWN_SPI);
	expect_pkt(&b, XDP_PASS, ESPER_C_PASS_UNKNOWN_SPI);
	config(ESPER_CFG_LOCAL | ESPER_CFG_UNKNOWN_SPI_DROP);
	expect_pkt(&a, XDP_DROP, ESPER_C_DROP_UNKNOWN_SPI);
	install(&p, 1);			/* not ours: by the SPD */
	expect_pkt(&a, XDP_DROP, ESPER_C_DROP_IN_POLICY);
	assert_int_equal(hx_add_local(&H, ESPER_AF_INET, a.dst), 0);
	assert_int_equal(hx_add_local(&H, ESPER_AF_INET6, b.dst), 0);
	expect_esp_in(&a, 60);
	expect_esp_in(&b, 66);
	assert_int_equal(hx_del_local(&H, ESPER_AF_INET, a.dst), 0);
	expect_pkt(&a, XDP_DROP, ESPER_C_DROP_IN_POLICY);
	expect_esp_in(&b, 66);
	config(0);
	expect_esp_in(&a, 60);
}

/*
 * ESP in UDP (RFC 3948) live: UDP is looked at as ESP in UDP, IKE or a keepalive only at the
 * address and port of an esp-udp SA that may decrypt, and (ESPER_CFG_LOCAL) only to this
 * host; anywhere else it is plain UDP to the SPD, here a discard policy over everything.
 * The SA's SPI in UDP to it decrypts from any source; IKE and keepalives pass past the
 * discard policy.
 */
static void test_esp_in_udp_local(void **state)
{
	static const uint8_t esp[8] = { 0, 0, 0x70, 0x01, 0, 0, 0, 1 }, ike[8] = { 0 },
			     keepalive[1] = { 0xff };
	struct hx_policy p = hx_pol("0.0.0.0", 0, "192.0.2.0", 24, 0, 0, 0, 0, IN, DISCARD, 7);
	struct pb_pkt u = pb_packet("203.0.113.77", "192.0.2.1", 17, 31337, 4500);
	struct pb_pkt other_port = u, other_addr = u;

	(void)state;
	u.data = esp;
	u.payload = sizeof(esp);
	other_port.dport = 4501;
	other_port.data = esp;
	other_port.payload = sizeof(esp);
	pb_addr("192.0.2.9", other_addr.dst);
	other_addr.data = esp;
	other_addr.payload = sizeof(esp);
	install(&p, 1);
	assert_int_equal(hx_add_udp_sa(&H, 0x7001, 71, ESPER_AF_INET, u.dst, 4500), 0);
	config(ESPER_CFG_LOCAL);
	expect_pkt(&u, XDP_DROP, ESPER_C_DROP_DISCARD);	/* not this host's address yet */
	assert_int_equal(hx_add_local(&H, ESPER_AF_INET, u.dst), 0);
	assert_int_equal(hx_add_local(&H, ESPER_AF_INET, other_addr.dst), 0);
	expect_esp_in(&u, 71);					/* from anywhere */
	expect_pkt(&other_port, XDP_DROP, ESPER_C_DROP_DISCARD);	/* no SA goes there */
	expect_pkt(&other_addr, XDP_DROP, ESPER_C_DROP_DISCARD);
	u.data = ike;
	expect_pkt(&u, XDP_PASS, ESPER_C_PASS_NATT_CONTROL);
	other_port.data = ike;
	expect_pkt(&other_port, XDP_DROP, ESPER_C_DROP_DISCARD);
	u.data = keepalive;
	u.payload = 1;
	expect_pkt(&u, XDP_PASS, ESPER_C_PASS_NATT_CONTROL);
	assert_int_equal(hx_del_local(&H, ESPER_AF_INET, u.dst), 0);
	expect_pkt(&u, XDP_DROP, ESPER_C_DROP_DISCARD);	/* transit: the SPD's */
	config(0);
}

/*
 * The metadata is a hint: where bpf_xdp_adjust_meta has no room for it (here: metadata
 * already in front of the frame, up to test_run's limit, leaves no headroom for 12 bytes
 * more), the frame is redirected all the same and what was in front of it is left alone.
 */
static void test_meta_is_a_hint(void **state)
{
	struct hx_policy p = hx_pol("192.0.2.0", 24, "198.51.100.0", 24, 0, 0, 0, 0, OUT, IPSEC,
				    150);
	struct pb_pkt plain = pb_packet("192.0.2.1", "198.51.100.1", 6, 1, 2);
	struct pb_pkt esp = pb_packet("2001:db8::1", "2001:db8::2", 50, 0, 0);
	struct pb_pkt *pk[2] = { &plain, &esp };
	uint8_t meta[HX_META_MAX], buf[HX_FRAME_MAX];
	unsigned no_room = 0, room = 0;
	struct esper_meta junk;

	(void)state;
	install(&p, 1);
	add_sa(0x5000, 151, &esp);
	esp.spi = 0x5000;
	esp.vlan[0] = 0x8100;
	memset(meta, 0xab, sizeof(meta));
	memset(&junk, 0xab, sizeof(junk));
	for (int k = 0; k < 2; k++) {
		struct esper_meta want = { .magic = ESPER_META_MAGIC,
					   .kind = k ? ESPER_META_ESP_IN : ESPER_META_PLAIN_OUT,
					   .id = k ? 151 : 150 };
		size_t len = pb_frame(pk[k], buf);

		for (size_t ml = 0; ml <= HX_META_MAX; ml += 4) {
			struct hx_verdict v;
			int err = hx_run_meta(&H, meta, ml, buf, len, &v);

			if (err == -EINVAL && ml > 64)	/* beyond test_run's headroom */
				break;
			assert_int_equal(err, 0);
			expect(&v, XDP_REDIRECT,
			       k ? ESPER_C_REDIRECT_ESP_IN : ESPER_C_REDIRECT_PLAIN_OUT);
			if (!ml) {
				expect_redirect(&v, want.kind, want.id);
				room++;
			} else if (v.meta_len == ml + sizeof(want)) {	/* put in front of ours */
				assert_memory_equal(&v.meta_front, &want, sizeof(want));
				if (ml >= sizeof(junk))
					assert_memory_equal(&v.meta, &junk, sizeof(junk));
				room++;
			} else {			/* no room: ours untouched */
				assert_int_equal(v.meta_len, ml);
				if (ml >= sizeof(junk)) {
					assert_memory_equal(&v.meta_front, &junk, sizeof(junk));
					assert_memory_equal(&v.meta, &junk, sizeof(junk));
				}
				no_room++;
			}
		}
	}
	assert_true(room >= 2 && no_room >= 2);	/* both paths were taken */
}

/* Inbound ESP of ours comes before the SPD: an inbound discard or ipsec policy on its
 * addresses (protocol 50 or any) does not touch it; ESP of no SA it drops. */
static void test_esp_before_spd(void **state)
{
	struct hx_policy p[] = {
		hx_pol("198.51.100.0", 24, "192.0.2.0", 24, 0, 0, 0, 0, IN, DISCARD, 100),
		hx_pol("198.51.100.0", 24, "192.0.2.0", 24, TP, 50, 0, 0, IN, IPSEC, 101),
		hx_pol("2001:db8:2::", 48, "2001:db8:1::", 48, 0, 0, 0, 0, OUT, DISCARD, 102),
	};
	struct pb_pkt esp = pb_packet("198.51.100.1", "192.0.2.1", 50, 0, 0);
	struct pb_pkt esp6 = pb_packet("2001:db8:2::1", "2001:db8:1::1", 50, 0, 0);
	struct pb_pkt udp = pb_packet("198.51.100.1", "192.0.2.1", 17, 1, 2);

	(void)state;
	install(p, 3);
	add_sa(0x2000, 9, &esp);
	add_sa(0x2006, 10, &esp6);
	esp.spi = 0x2000;
	expect_esp_in(&esp, 9);
	esp6.spi = 0x2006;
	expect_esp_in(&esp6, 10);
	esp.spi = 0x2001;
	expect_pkt(&esp, XDP_DROP, ESPER_C_DROP_IN_POLICY);
	esp6.spi = 0x2001;
	expect_pkt(&esp6, XDP_DROP, ESPER_C_DROP_DISCARD);
	expect_pkt(&udp, XDP_DROP, ESPER_C_DROP_DISCARD);
}

/* --- no AF_XDP socket --------------------------------------------------------------------- */

static void test_no_xsk(void **state)
{
	struct hx_policy p = hx_pol("192.0.2.0", 24, "198.51.100.0", 24, 0, 0, 0, 0, OUT, IPSEC,
				    110);
	struct pb_pkt plain = pb_packet("192.0.2.1", "198.51.100.1", 6, 1, 2);
	struct pb_pkt esp = pb_packet("198.51.100.1", "192.0.2.1", 50, 0, 0);
	struct esper_xsk_key xk = { .ifindex = (uint32_t)H.lo_ifindex, .queue = 0 };
	uint8_t buf[HX_FRAME_MAX];
	struct hx_verdict v;
	unsigned other;

	(void)state;
	install(&p, 1);
	add_sa(0x3000, 11, &esp);
	esp.spi = 0x3000;
	/* a slot without a socket: bpf_redirect_map falls back */
	assert_int_equal(hx_set_slot(&H, (uint32_t)H.lo_ifindex, 0, 1, false), 0);
	expect_pkt(&plain, XDP_DROP, ESPER_C_DROP_NO_XSK);
	expect_pkt(&esp, XDP_PASS, ESPER_C_PASS_NO_XSK);
	/* no slot at all */
	assert_int_equal(bpf_map_delete_elem(H.fds.xsk_slots, &xk), 0);
	expect_pkt(&plain, XDP_DROP, ESPER_C_DROP_NO_XSK);
	expect_pkt(&esp, XDP_PASS, ESPER_C_PASS_NO_XSK);
	/* a slot for lo only; the same frames arriving on another interface find none */
	assert_int_equal(hx_set_slot(&H, (uint32_t)H.lo_ifindex, 0, 0, true), 0);
	other = if_nametoindex("xdpt0");
	if (!other && system("ip link add xdpt0 type veth peer name xdpt1 2>/dev/null") == 0)
		other = if_nametoindex("xdpt0");	/* in the test's own namespace */
	if (!other) {
		printf("[          ] no second interface: (ifindex, queue) part skipped\n");
		return;
	}
	assert_int_equal(hx_run_on(&H, buf, pb_frame(&plain, buf), other, 0, &v), 0);
	expect(&v, XDP_DROP, ESPER_C_DROP_NO_XSK);
	assert_int_equal(hx_run_on(&H, buf, pb_frame(&esp, buf), other, 0, &v), 0);
	expect(&v, XDP_PASS, ESPER_C_PASS_NO_XSK);
	/* and with a slot of its own, they are redirected */
	assert_int_equal(hx_set_slot(&H, other, 0, 0, true), 0);
	assert_int_equal(hx_run_on(&H, buf, pb_frame(&plain, buf), other, 0, &v), 0);
	expect_redirect(&v, ESPER_META_PLAIN_OUT, 110);
	assert_int_equal(system("ip link del xdpt0"), 0);
}

/* --- ESPER_CFG_RPF: strict reverse path against the kernel's FIB ---------------------------- */

static void sh(const char *fmt, ...)
{
	char cmd[256];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc != 0)
		fail_msg("`%s` failed (%d)", cmd, rc);
}

static void sysctl_set(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");

	if (!f)
		fail_msg("%s: %s", path, strerror(errno));
	assert_true(fputs(val, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static void rpf_check(const struct pb_pkt *k, uint32_t ifindex, int counter, uint32_t id,
		      const char *what)
{
	struct hx_verdict v;

	assert_int_equal(hx_run_pkt_on(&H, k, ifindex, 0, &v), 0);
	expect_c(&v, counter, id, what);
}

/*
 * Two veth pairs in the test's namespace: rpfa0 routes 192.0.2.0/24 and 2001:db8:1::/48,
 * rpfb0 routes 203.0.113.0/24 and 2001:db8:3::/48. Plaintext to protect passes the check
 * only when it came in on the interface its source is routed back through; no route, a
 * local source and forwarding off on the ingress interface (BPF_FIB_LKUP_RET_FWD_DISABLED)
 * fail it, closed. Only plaintext to protect is checked.
 */
static void test_rpf(void **state)
{
	struct hx_policy p[] = {
		hx_pol("0.0.0.0", 0, "0.0.0.0", 0, 0, 0, 0, 0, OUT, IPSEC, 160),
		hx_pol("::", 0, "::", 0, 0, 0, 0, 0, OUT, IPSEC, 161),
		hx_pol("0.0.0.0", 0, "198.51.100.99", 32, 0, 0, 0, 0, OUT, BYPASS, 162),
		hx_pol("0.0.0.0", 0, "198.51.100.98", 32, 0, 0, 0, 0, OUT, DISCARD, 163),
	};
	struct pb_pkt a4 = pb_packet("192.0.2.5", "198.51.100.9", 6, 1000, 80);
	struct pb_pkt b4 = pb_packet("203.0.113.5", "198.51.100.9", 6, 1000, 80);
	struct pb_pkt none4 = pb_packet("100.64.0.1", "198.51.100.9", 6, 1000, 80);
	struct pb_pkt self4 = pb_packet("10.77.0.1", "198.51.100.9", 6, 1000, 80);
	struct pb_pkt a6 = pb_packet("2001:db8:1::5", "2001:db8:2::9", 6, 1000, 80);
	struct pb_pkt b6 = pb_packet("2001:db8:3::5", "2001:db8:2::9", 6, 1000, 80);
	struct pb_pkt none6 = pb_packet("2001:db8:99::5", "2001:db8:2::9", 6, 1000, 80);
	struct pb_pkt esp = pb_packet("203.0.113.5", "198.51.100.9", 50, 0, 0);
	struct pb_pkt byp = pb_packet("203.0.113.5", "198.51.100.99", 6, 1000, 80);
	struct pb_pkt dis = pb_packet("203.0.113.5", "198.51.100.98", 6, 1000, 80);
	uint32_t ia, ib, lo = (uint32_t)H.lo_ifindex;

	(void)state;
	sh("ip link add rpfa0 type veth peer name rpfa1 && ip link add rpfb0 type veth peer name "
	   "rpfb1");
	sh("for d in rpfa0 rpfa1 rpfb0 rpfb1; do ip link set $d up || exit 1; done");
	sh("ip addr add 10.77.0.1/24 dev rpfa0 && ip addr add 10.78.0.1/24 dev rpfb0");
	sh("ip route add 192.0.2.0/24 dev rpfa0 && ip route add 203.0.113.0/24 dev rpfb0");
	sh("ip -6 route add 2001:db8:1::/48 dev rpfa0 && ip -6 route add 2001:db8:3::/48 dev "
	   "rpfb0");
	ia = if_nametoindex("rpfa0");
	ib = if_nametoindex("rpfb0");
	assert_true(ia && ib);
	sysctl_set("/proc/sys/net/ipv4/conf/rpfa0/forwarding", "1");
	sysctl_set("/proc/sys/net/ipv4/conf/rpfb0/forwarding", "1");
	sysctl_set("/proc/sys/net/ipv6/conf/all/forwarding", "1");
	install(p, 4);
	esp.spi = 0x8000;
	add_sa(0x8000, 80, &esp);
	assert_int_equal(hx_set_slot(&H, ia, 0, 0, true), 0);
	assert_int_equal(hx_set_slot(&H, ib, 0, 0, true), 0);

	/* off: no check, whatever the interface */
	rpf_check(&b4, ia, ESPER_C_REDIRECT_PLAIN_OUT, 160, "off, wrong interface");
	rpf_check(&none4, lo, ESPER_C_REDIRECT_PLAIN_OUT, 160, "off, no route");

	config(ESPER_CFG_RPF);
	rpf_check(&a4, ia, ESPER_C_REDIRECT_PLAIN_OUT, 160, "ipv4 right interface");
	rpf_check(&b4, ib, ESPER_C_REDIRECT_PLAIN_OUT, 160, "ipv4 right interface (b)");
	rpf_check(&a4, ib, ESPER_C_DROP_RPF, 0, "ipv4 wrong interface");
	rpf_check(&b4, ia, ESPER_C_DROP_RPF, 0, "ipv4 wrong interface (b)");
	rpf_check(&a4, lo, ESPER_C_DROP_RPF, 0, "ipv4 on lo");
	rpf_check(&none4, ia, ESPER_C_DROP_RPF, 0, "ipv4 no route back");
	rpf_check(&self4, ia, ESPER_C_DROP_RPF, 0, "ipv4 a local source");
	rpf_check(&a6, ia, ESPER_C_REDIRECT_PLAIN_OUT, 161, "ipv6 right interface");
	rpf_check(&b6, ib, ESPER_C_REDIRECT_PLAIN_OUT, 161, "ipv6 right interface (b)");
	rpf_check(&a6, ib, ESPER_C_DROP_RPF, 0, "ipv6 wrong interface");
	rpf_check(&b6, ia, ESPER_C_DROP_RPF, 0, "ipv6 wrong interface (b)");
	rpf_check(&none6, ia, ESPER_C_DROP_RPF, 0, "ipv6 no route back");
	/* only plaintext to protect is checked */
	rpf_check(&esp, ia, ESPER_C_REDIRECT_ESP_IN, 80, "inbound ESP, wrong interface");
	rpf_check(&byp, ia, ESPER_C_PASS_BYPASS, 0, "bypass, wrong interface");
	rpf_check(&dis, ib, ESPER_C_DROP_DISCARD, 0, "discard, right interface");

	/* forwarding off on the ingress interface: the FIB refuses, the check fails */
	sysctl_set("/proc/sys/net/ipv4/conf/rpfa0/forwarding", "0");
	rpf_check(&a4, ia, ESPER_C_DROP_RPF, 0, "ipv4 forwarding off");
	rpf_check(&b4, ib, ESPER_C_REDIRECT_PLAIN_OUT, 160, "ipv4 forwarding on elsewhere");
	sysctl_set("/proc/sys/net/ipv6/conf/all/forwarding", "0");
	rpf_check(&a6, ia, ESPER_C_DROP_RPF, 0, "ipv6 forwarding off");
	sysctl_set("/proc/sys/net/ipv4/conf/rpfa0/forwarding", "1");
	sysctl_set("/proc/sys/net/ipv6/conf/all/forwarding", "1");
	rpf_check(&a4, ia, ESPER_C_REDIRECT_PLAIN_OUT, 160, "ipv4 forwarding on again");
	rpf_check(&a6, ia, ESPER_C_REDIRECT_PLAIN_OUT, 161, "ipv6 forwarding on again");

	/* the route moves: so does the verdict */
	sh("ip route replace 192.0.2.0/24 dev rpfb0");
	rpf_check(&a4, ia, ESPER_C_DROP_RPF, 0, "ipv4 route moved away");
	rpf_check(&a4, ib, ESPER_C_REDIRECT_PLAIN_OUT, 160, "ipv4 route moved here");

	sh("ip link del rpfa0 && ip link del rpfb0");
	sysctl_set("/proc/sys/net/ipv6/conf/all/forwarding", "0");
}

/* --- order of tuples ------------------------------------------------------------------------ */

struct order_case {
	const char *what;
	struct hx_policy win, lose;
};

/* Each pair overlaps the same packet; win must be probed first by the abi order. */
static void test_order_most_specific_first(void **state)
{
	const uint8_t P = TP, S = TS, D = TD, O = OUT, I = IN;
	struct order_case c[] = {
		{ "1: longer src+dst",
		  hx_pol("192.0.2.1", 32, "198.51.100.0", 24, 0, 0, 0, 0, O, IPSEC, 1),
		  hx_pol("192.0.2.0", 24, "198.51.100.0", 24, P | S | D, 6, 1234, 443, I, IPSEC,
			 2) },
		{ "1: longer src+dst, dst shorter",
		  hx_pol("192.0.2.1", 32, "198.51.100.0", 20, 0, 0, 0, 0, I, IPSEC, 3),
		  hx_pol("192.0.2.0", 16, "198.51.100.0", 24, P, 6, 0, 0, O, IPSEC, 4) },
		{ "2: same sum, longer dst",
		  hx_pol("192.0.2.0", 16, "198.51.100.1", 32, 0, 0, 0, 0, O, IPSEC, 5),
		  hx_pol("192.0.2.1", 32, "198.51.100.0", 16, P | D, 6, 0, 443, I, IPSEC, 6) },
		{ "3: protocol given",
		  hx_pol("192.0.2.0", 24, "198.51.100.0", 24, P, 6, 0, 0, I, IPSEC, 7),
		  hx_pol("192.0.2.0", 24, "198.51.100.0", 24, S | D, 0, 1234, 443, O, IPSEC, 8) },
		{ "4: destination port given",
		  hx_pol("192.0.2.0", 24, "198.51.100.0", 24, P | D, 6, 0, 443, O, IPSEC, 9),
		  hx_pol("192.0.2.0", 24, "198.51.100.0", 24, P | S, 6, 1234, 0, I, IPSEC, 10) },
		{ "5: source port given",
		  hx_pol("192.0.2.0", 24, "198.51.100.0", 24, P | S, 6, 1234, 0, I, IPSEC, 11),
		  hx_pol("192.0.2.0", 24, "198.51.100.0", 24, P, 6, 0, 0, O, IPSEC, 12) },
		{ "4 before 5",
		  hx_pol("0.0.0.0", 0, "0.0.0.0", 0, D, 0, 0, 443, O, IPSEC, 13),
		  hx_pol("0.0.0.0", 0, "0.0.0.0", 0, S, 0, 1234, 0, I, IPSEC, 14) },
		{ "ipv6 1: longer src+dst",
		  hx_pol("2001:db8::1", 128, "2001:db8::", 64, 0, 0, 0, 0, I, IPSEC, 15),
		  hx_pol("2001:db8::", 64, "2001:db8::2", 127, P | S | D, 6, 1234, 443, O, IPSEC,
			 16) },
		{ "ipv6 2: same sum, longer dst",
		  hx_pol("2001:db8::", 64, "2001:db8::2", 128, 0, 0, 0, 0, O, IPSEC, 17),
		  hx_pol("2001:db8::1", 128, "2001:db8::", 64, P, 6, 0, 0, I, IPSEC, 18) },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct hx_policy both[2] = { c[i].lose, c[i].win };
		bool v6 = c[i].win.family == ESPER_AF_INET6;
		struct pb_pkt k = v6 ? pb_packet("2001:db8::1", "2001:db8::2", 6, 1234, 443)
				     : pb_packet("192.0.2.1", "198.51.100.1", 6, 1234, 443);

		for (int pass = 0; pass < 3; pass++) {
			const struct hx_policy *want = pass == 2 ? &c[i].lose : &c[i].win;
			struct hx_verdict v;

			assert_int_equal(setup(NULL), 0);
			if (pass == 2)	/* alone, the loser matches too */
				install(&c[i].lose, 1);
			else
				install(pass ? both : both + 1, pass ? 2 : 1);
			RUN(&k, &v);
			if (want->dir == OUT && v.action == XDP_REDIRECT && v.meta.id == want->id)
				continue;
			if (want->dir == IN && v.counter == ESPER_C_DROP_IN_POLICY)
				continue;
			fail_msg("%s (pass %d): verdict %d counter %d id %u, want id %u", c[i].what,
				 pass, v.action, v.counter, v.meta.id, want->id);
		}
	}
}

/* XDP follows the stored list order (sorting is bpf_sync's job): reversed list, other winner. */
static void test_order_follows_list(void **state)
{
	struct hx_policy p[] = {
		hx_pol("192.0.2.1", 32, "198.51.100.1", 32, 0, 0, 0, 0, OUT, IPSEC, 120),
		hx_pol("192.0.2.0", 24, "198.51.100.0", 24, 0, 0, 0, 0, OUT, IPSEC, 121),
	};
	struct pb_pkt k = pb_packet("192.0.2.1", "198.51.100.1", 6, 1, 2);
	struct esper_tuple_list l;
	__u32 zero = 0;

	(void)state;
	install(p, 2);
	expect_out(&k, 120);
	assert_int_equal(bpf_map_lookup_elem(H.fds.tuple_lists, &zero, &l), 0);
	assert_int_equal(l.count, 2);
	l.t[0] = hx_tuple(&p[1]);
	l.t[1] = hx_tuple(&p[0]);
	assert_int_equal(bpf_map_update_elem(H.fds.tuple_lists, &zero, &l, BPF_ANY), 0);
	expect_out(&k, 121);
	l.count = 1;			/* tuples past count are not probed */
	l.t[0] = hx_tuple(&p[0]);
	l.t[1] = hx_tuple(&p[1]);
	assert_int_equal(bpf_map_update_elem(H.fds.tuple_lists, &zero, &l, BPF_ANY), 0);
	k.src[3] = 2;
	expect_pkt(&k, XDP_PASS, ESPER_C_PASS_NO_POLICY);
	l.count = 1000;			/* a bad count is bounded by ESPER_MAX_TUPLES */
	l.t[1] = hx_tuple(&p[1]);
	assert_int_equal(bpf_map_update_elem(H.fds.tuple_lists, &zero, &l, BPF_ANY), 0);
	expect_out(&k, 121);
}

/* All ESPER_MAX_TUPLES tuples in use, the match in the last one. */
static void test_order_max_tuples(void **state)
{
	struct hx_policy p[ESPER_MAX_TUPLES];
	struct pb_pkt k = pb_packet("2001:db8::1", "2001:db8::2", 17, 1, 2);

	(void)state;
	for (int i = 0; i < ESPER_MAX_TUPLES; i++)	/* tuples /128-i <-> /128, non-matching */
		p[i] = hx_pol("2001:db8:ffff::1", (unsigned)(128 - i), "2001:db8::2", 128, 0, 0, 0,
			      0, IN, IPSEC, (uint32_t)(200 + i));
	p[ESPER_MAX_TUPLES - 1] = hx_pol("::", 0, "2001:db8::2", 128, 0, 0, 0, 0, OUT, IPSEC, 299);
	install(p, ESPER_MAX_TUPLES);
	expect_out(&k, 299);
}

/* All ESPER_MAX_TUPLES tuples in use with ports, an opaque packet: the shadow is in the
 * first, the real hit in the last. */
static void test_order_max_tuples_opaque(void **state)
{
	struct hx_policy p[ESPER_MAX_TUPLES];
	struct pb_pkt k = pb_packet("2001:db8::1", "2001:db8::2", 17, 1, 2);

	(void)state;
	p[0] = hx_pol("2001:db8::1", 128, "2001:db8::2", 128, TP | TD, 17, 0, 53, IN, DISCARD,
		      200);
	for (int i = 1; i < ESPER_MAX_TUPLES; i++)	/* non-matching */
		p[i] = hx_pol("2001:db8:ffff::1", (unsigned)(128 - i), "2001:db8::2", 128, 0, 0, 0,
			      0, IN, IPSEC, (uint32_t)(200 + i));
	p[ESPER_MAX_TUPLES - 1] = hx_pol("::", 0, "2001:db8::2", 128, 0, 0, 0, 0, OUT, BYPASS, 299);
	install(p, ESPER_MAX_TUPLES);
	expect_pkt(&k, XDP_PASS, ESPER_C_PASS_BYPASS);
	k.next = 1;
	k.ext[0] = 44;
	k.frag = PB_FRAG_NONFIRST;
	expect_pkt(&k, XDP_DROP, ESPER_C_DROP_OPAQUE);
	p[ESPER_MAX_TUPLES - 1].action = IPSEC;
	install(p, ESPER_MAX_TUPLES);
	expect_out(&k, 299);
}

/* --- truncation ---------------------------------------------------------------------------- */

/* Cut a valid frame at every length: the IP length still claims the whole packet, so
 * every cut is malformed; and with the IP length fixed to the cut, the verdict follows
 * what is left (ports, protocol) exactly. */
static void truncations(const struct pb_pkt *k, size_t l4_off)
{
	uint8_t buf[HX_FRAME_MAX], cut[HX_FRAME_MAX];
	size_t len = pb_frame(k, buf), l3 = pb_l3_off(k);
	size_t ip_hdr = l3 + (k->family == ESPER_AF_INET ? 20u + k->ip4_optlen : 40u);
	struct hx_verdict v;

	for (size_t n = 14; n < len; n++) {
		assert_int_equal(hx_run(&H, buf, n, &v), 0);
		expect(&v, XDP_PASS, ESPER_C_PASS_MALFORMED);
	}
	for (size_t n = ip_hdr; n <= len; n++) {
		memcpy(cut, buf, len);
		pb_set_ip_end(k, cut, n);
		assert_int_equal(hx_run(&H, cut, n, &v), 0);
		if (k->proto == 50) {
			if (n < l4_off + 8)	/* no SPI: by the SPD, the inbound /0 */
				expect(&v, XDP_DROP, ESPER_C_DROP_IN_POLICY);
			else
				expect_redirect(&v, ESPER_META_ESP_IN, 1);
		} else if (n >= l4_off + 4) {
			expect_redirect(&v, ESPER_META_PLAIN_OUT, 140);	/* ports */
		} else if (n >= l4_off) {
			/* protocol, no ports: the port policy's shadow, then a protect */
			expect_redirect(&v, ESPER_META_PLAIN_OUT, 141);
		} else {
			expect(&v, XDP_DROP, ESPER_C_DROP_OPAQUE);	/* protocol unknown */
		}
	}
}

static void test_truncated_every_length(void **state)
{
	struct hx_policy p[] = {
		hx_pol("192.0.2.1", 32, "198.51.100.1", 32, TP | TD, 6, 0, 443, OUT, IPSEC, 140),
		hx_pol("192.0.2.1", 32, "198.51.100.1", 32, TP, 6, 0, 0, OUT, IPSEC, 141),
		hx_pol("0.0.0.0", 0, "0.0.0.0", 0, 0, 0, 0, 0, IN, IPSEC, 142),
		hx_pol("2001:db8::1", 128, "2001:db8::2", 128, TP | TD, 6, 0, 443, OUT, IPSEC, 140),
		hx_pol("2001:db8::1", 128, "2001:db8::2", 128, TP, 6, 0, 0, OUT, IPSEC, 141),
		hx_pol("::", 0, "::", 0, 0, 0, 0, 0, IN, IPSEC, 142),
	};
	struct pb_pkt a = pb_packet("192.0.2.1", "198.51.100.1", 6, 1234, 443);
	struct pb_pkt b = pb_packet("2001:db8::1", "2001:db8::2", 6, 1234, 443);
	struct pb_pkt e = pb_packet("198.51.100.1", "192.0.2.1", 50, 0, 0);

	(void)state;
	install(p, 6);
	add_sa(0x4000, 1, &e);
	a.ip4_optlen = 8;
	a.vlan[0] = 0x8100;
	truncations(&a, 18 + 28);
	b.vlan[0] = 0x88a8;
	b.vlan[1] = 0x8100;
	b.next = 3;
	b.ext[0] = 0;
	b.ext[1] = 43;
	b.ext[2] = 51;
	truncations(&b, 22 + 40 + 8 + 24 + 24);
	e.spi = 0x4000;
	truncations(&e, 14 + 20);
}

/* --- randomized differential against the naive reference ---------------------------------- */

#define RAND_ROUNDS	4
#define RAND_POLICIES	1500
#define RAND_PACKETS	4000
#define RAND_SAS	64

static void test_random_differential(void **state)
{
	static struct hx_policy pol[RAND_POLICIES];
	static const uint32_t cfgs[RAND_ROUNDS] = {
		0, ESPER_CFG_UNKNOWN_SPI_DROP, ESPER_CFG_LOCAL,
		ESPER_CFG_LOCAL | ESPER_CFG_UNKNOWN_SPI_DROP,
	};
	struct hx_rand r = { .s = 0x5eed5eed12345678ULL };
	struct hx_sa sas[RAND_SAS];
	struct esper_addr_key locals[RAND_SAS];
	unsigned long seen[ESPER_C_MAX] = { 0 }, checked = 0, opaque = 0, ambiguous = 0;
	unsigned long esp_wrong = 0, esp_frag = 0;

	(void)state;
	for (int round = 0; round < RAND_ROUNDS; round++) {
		unsigned ntuples = round == 0 ? 4 : round == 1 ? 16 : ESPER_MAX_TUPLES;
		size_t n = hx_rand_policies(&r, pol, RAND_POLICIES, ntuples), nlocal = 0;
		struct hx_world w = { .p = pol, .n = n, .sa = sas, .nsa = RAND_SAS,
				      .local = locals, .cfg = cfgs[round] };

		assert_int_equal(setup(NULL), 0);
		config(w.cfg);
		install(pol, n);
		hx_ref_sort(pol, n);
		for (int i = 0; i < RAND_SAS; i++) {
			struct hx_sa *sa = &sas[i];

			memset(sa, 0, sizeof(*sa));
			sa->spi = 0x10000 + (uint32_t)i * 4096 + hx_rnd(&r, 4096);
			sa->uid = 1000 + (uint32_t)i;
			sa->family = hx_rnd(&r, 2) ? ESPER_AF_INET6 : ESPER_AF_INET;
			hx_rand_addr(&r, sa->family, sa->src);
			hx_rand_addr(&r, sa->family, sa->dst);
			assert_int_equal(hx_add_sa_w(&H, sa), 0);
			if (hx_rnd(&r, 4)) {	/* most destinations are this host's */
				memset(&locals[nlocal], 0, sizeof(locals[0]));
				locals[nlocal].family = sa->family;
				memcpy(locals[nlocal].addr, sa->dst, 16);
				assert_int_equal(hx_add_local(&H, sa->family, sa->dst), 0);
				nlocal++;
			}
		}
		w.nlocal = nlocal;
		for (int i = 0; i < RAND_PACKETS; i++) {
			bool esp = !hx_rnd(&r, 4);
			int which = (int)hx_rnd(&r, RAND_SAS * 2);	/* half of them unknown */
			uint32_t spi = which < RAND_SAS ? sas[which].spi
							: 0x200000 + (uint32_t)which;
			struct hx_verdict v, e;
			struct hx_sel s;
			struct pb_pkt k;
			uint32_t id;
			bool amb = false;

			hx_rand_pkt(&r, pol, n, esp, spi, &k);
			if (esp && which < RAND_SAS && hx_rnd(&r, 3))
				esp_wrong += hx_rand_esp_addrs(&r, &k, sas[which].family,
							       sas[which].src, sas[which].dst) != 0;
			hx_pkt_sel(&k, &s);
			hx_expect(&w, &s, &e);
			RUN(&k, &v);
			if (v.action != e.action || v.counter != e.counter ||
			    (e.has_meta && memcmp(&v.meta, &e.meta, sizeof(e.meta))))
				fail_msg("round %d packet %d: got %d/%s/kind %u/id %u, reference "
					 "%d/%s/kind %u/id %u", round, i, v.action,
					 counter_name(v.counter), v.meta.kind, v.meta.id, e.action,
					 counter_name(e.counter), e.meta.kind, e.meta.id);
			seen[e.counter]++;
			opaque += hx_sel_opaque(&s);
			hx_ref_spd(pol, n, &s, &id, &amb);
			ambiguous += amb;
			esp_frag += s.proto == 50 && s.fragment;
			checked++;
		}
	}
	printf("[          ] %lu random packets: %lu redirect out, %lu redirect ESP, %lu drop in, "
	       "%lu discard, %lu opaque drop, %lu bypass, %lu no policy, %lu unknown SPI "
	       "(%lu dropped); %lu opaque, %lu behind a shadow, %lu ESP with wrong addresses, "
	       "%lu ESP fragments\n",
	       checked, seen[ESPER_C_REDIRECT_PLAIN_OUT], seen[ESPER_C_REDIRECT_ESP_IN],
	       seen[ESPER_C_DROP_IN_POLICY], seen[ESPER_C_DROP_DISCARD],
	       seen[ESPER_C_DROP_OPAQUE], seen[ESPER_C_PASS_BYPASS], seen[ESPER_C_PASS_NO_POLICY],
	       seen[ESPER_C_PASS_UNKNOWN_SPI] + seen[ESPER_C_DROP_UNKNOWN_SPI],
	       seen[ESPER_C_DROP_UNKNOWN_SPI], opaque, ambiguous, esp_wrong, esp_frag);
	/* the generator must exercise every outcome */
	assert_true(seen[ESPER_C_REDIRECT_PLAIN_OUT] > checked / 20);
	assert_true(seen[ESPER_C_PASS_NO_POLICY] > checked / 20);
	assert_true(seen[ESPER_C_REDIRECT_ESP_IN] >= 100);
	assert_true(seen[ESPER_C_DROP_IN_POLICY] >= 100);
	assert_true(seen[ESPER_C_DROP_DISCARD] >= 100);
	assert_true(seen[ESPER_C_DROP_OPAQUE] >= 50);
	assert_true(seen[ESPER_C_PASS_BYPASS] >= 100);
	assert_true(seen[ESPER_C_PASS_UNKNOWN_SPI] >= 50 && seen[ESPER_C_DROP_UNKNOWN_SPI] >= 50);
	assert_true(opaque >= 300 && ambiguous >= 100 && esp_wrong >= 100 && esp_frag >= 50);
}

/* --- counters ------------------------------------------------------------------------------ */

static void test_counters_sum(void **state)
{
	struct pb_pkt arp = { .ethertype = 0x0806 };
	__u64 before[ESPER_C_MAX], after[ESPER_C_MAX];
	struct hx_verdict v;

	(void)state;
	assert_int_equal(bpf_load_counters(H.bl, before), 0);
	for (int i = 0; i < 5; i++)
		RUN(&arp, &v);
	assert_int_equal(bpf_load_counters(H.bl, after), 0);
	assert_int_equal(after[ESPER_C_PASS_NOT_IP] - before[ESPER_C_PASS_NOT_IP], 5);
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_ipv4_out_in_none),
		T(test_ipv6_out_in_none),
		T(test_zero_prefix),
		T(test_actions_each),
		T(test_actions_same_key),
		T(test_actions_first_match),
		T(test_ports),
		T(test_ports_ipv6),
		T(test_ipv4_options),
		T(test_ipv4_bad_headers),
		T(test_ports_not_from_padding),
		T(test_ipv6_ext_each),
		T(test_ipv6_ext_chain_limit),
		T(test_ipv6_ext_truncated),
		T(test_fragments_ipv4),
		T(test_fragments_ipv6),
		T(test_ipv6_nonfirst_ends_walk),
		T(test_opaque),
		T(test_opaque_protocols),
		T(test_opaque_needs_shadows),
		T(test_vlan),
		T(test_vlan_three_tags),
		T(test_not_ip),
		T(test_esp_known_unknown),
		T(test_esp_wrong_addresses),
		T(test_esp_unknown_spi_by_policy),
		T(test_esp_short),
		T(test_esp_fragments),
		T(test_esp_ipv4_flags),
		T(test_esp_local),
		T(test_esp_in_udp_local),
		T(test_meta_is_a_hint),
		T(test_esp_before_spd),
		T(test_no_xsk),
		T(test_rpf),
		T(test_order_most_specific_first),
		T(test_order_follows_list),
		T(test_order_max_tuples),
		T(test_order_max_tuples_opaque),
		T(test_truncated_every_length),
		T(test_random_differential),
		T(test_counters_sum),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
