// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_xdp.c - bpf/esper.bpf.c under BPF_PROG_TEST_RUN (root): crafted frames against
 * maps filled here, checking the action, the one counter that moved and the metadata in
 * front of redirected frames (every ESP fragment goes to the kernel; a redirect does not
 * depend on room for metadata); then a randomized differential against a naive SPD
 * matcher (tests/bpf/xdp_harness.h). Run by `make test-bpf`.
 */
#include <unistd.h>

#include "test_util.h"
#include "xdp_harness.h"

static struct hx H;

#define RUN(pkt, v) assert_int_equal(hx_run_pkt(&H, (pkt), (v)), 0)

static void expect(const struct hx_verdict *v, int action, int counter)
{
	if (v->action != action || v->counter != counter)
		fail_msg("verdict %d counter %d, expected %d counter %d", v->action, v->counter,
			 action, counter);
}

static void expect_redirect(const struct hx_verdict *v, uint16_t kind, uint32_t id,
			    uint16_t l3_off)
{
	expect(v, XDP_REDIRECT,
	       kind == ESPER_META_ESP_IN ? ESPER_C_REDIRECT_ESP_IN : ESPER_C_REDIRECT_PLAIN_OUT);
	assert_true(v->has_meta);
	assert_int_equal(v->meta.magic, ESPER_META_MAGIC);
	assert_int_equal(v->meta.kind, kind);
	assert_int_equal(v->meta.id, id);
	assert_int_equal(v->meta.l3_off, l3_off);
	assert_int_equal(v->meta.pad, 0);
}

static void expect_out(const struct hx_pkt *p, uint32_t id)
{
	struct hx_verdict v;

	RUN(p, &v);
	expect_redirect(&v, ESPER_META_PLAIN_OUT, id, (uint16_t)hx_l3_off(p));
}

static void expect_pkt(const struct hx_pkt *p, int action, int counter)
{
	struct hx_verdict v;

	RUN(p, &v);
	expect(&v, action, counter);
}

static void install(const struct hx_policy *p, size_t n)
{
	assert_int_equal(hx_spd_install(&H, p, n), 0);
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
		hx_pol("192.0.2.0", 24, "198.51.100.0", 24, 0, 0, 0, 0, ESPER_SPD_OUT, 10),
		hx_pol("198.51.100.0", 24, "192.0.2.0", 24, 0, 0, 0, 0, ESPER_SPD_IN, 11),
	};
	struct hx_pkt out = hx_ipv4("192.0.2.7", "198.51.100.9", 17, 1000, 53);
	struct hx_pkt in = hx_ipv4("198.51.100.9", "192.0.2.7", 6, 443, 1000);
	struct hx_pkt other = hx_ipv4("203.0.113.1", "198.51.100.9", 17, 1000, 53);

	(void)state;
	install(p, 2);
	expect_out(&out, 10);
	expect_pkt(&in, XDP_DROP, ESPER_C_DROP_IN_POLICY);
	expect_pkt(&other, XDP_PASS, ESPER_C_PASS_NO_POLICY);
}

static void test_ipv6_out_in_none(void **state)
{
	struct hx_policy p[] = {
		hx_pol("2001:db8:1::", 48, "2001:db8:2::", 48, 0, 0, 0, 0, ESPER_SPD_OUT, 20),
		hx_pol("2001:db8:2::", 48, "2001:db8:1::", 48, 0, 0, 0, 0, ESPER_SPD_IN, 21),
	};
	struct hx_pkt out = hx_ipv6("2001:db8:1::5", "2001:db8:2:ffff::9", 6, 1000, 22);
	struct hx_pkt in = hx_ipv6("2001:db8:2::9", "2001:db8:1::5", 58, 0, 0);
	struct hx_pkt other = hx_ipv6("2001:db8:3::5", "2001:db8:2::9", 6, 1000, 22);
	struct hx_pkt v4 = hx_ipv4("192.0.2.1", "198.51.100.1", 6, 1, 2);

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
		hx_pol("0.0.0.0", 0, "0.0.0.0", 0, 0, 0, 0, 0, ESPER_SPD_OUT, 30),
		hx_pol("::", 0, "::", 0, 0, 0, 0, 0, ESPER_SPD_IN, 31),
	};
	struct hx_pkt a = hx_ipv4("255.255.255.255", "0.0.0.1", 47, 0, 0);
	struct hx_pkt b = hx_ipv6("ffff::1", "::1", 17, 1, 2);

	(void)state;
	install(p, 2);
	expect_out(&a, 30);
	expect_pkt(&b, XDP_DROP, ESPER_C_DROP_IN_POLICY);
}

/* --- ports --------------------------------------------------------------------------------- */

static void test_ports(void **state)
{
	struct hx_policy p[] = {
		hx_pol("192.0.2.0", 24, "198.51.100.0", 24, ESPER_T_PROTO | ESPER_T_DPORT, 6, 0,
		       443, ESPER_SPD_OUT, 40),
		hx_pol("192.0.2.0", 24, "198.51.100.0", 24,
		       ESPER_T_PROTO | ESPER_T_SPORT | ESPER_T_DPORT, 17, 500, 500, ESPER_SPD_OUT, 41),
		/* port 0 with a port flag: must not match a packet that has no ports */
		hx_pol("192.0.2.0", 24, "198.51.100.0", 24, ESPER_T_DPORT, 0, 0, 0, ESPER_SPD_IN, 42),
		hx_pol("192.0.2.0", 24, "198.51.100.0", 24, ESPER_T_SPORT, 0, 0, 0, ESPER_SPD_IN, 43),
	};
	struct hx_pkt tcp443 = hx_ipv4("192.0.2.1", "198.51.100.1", 6, 33000, 443);
	struct hx_pkt tcp80 = hx_ipv4("192.0.2.1", "198.51.100.1", 6, 33000, 80);
	struct hx_pkt ike = hx_ipv4("192.0.2.1", "198.51.100.1", 17, 500, 500);
	struct hx_pkt ike2 = hx_ipv4("192.0.2.1", "198.51.100.1", 17, 501, 500);
	struct hx_pkt udp0 = hx_ipv4("192.0.2.1", "198.51.100.1", 17, 7, 0);
	struct hx_pkt icmp = hx_ipv4("192.0.2.1", "198.51.100.1", 1, 0, 0);
	struct hx_pkt gre = hx_ipv4("192.0.2.1", "198.51.100.1", 47, 0, 0);

	(void)state;
	install(p, 4);
	expect_out(&tcp443, 40);
	expect_pkt(&tcp80, XDP_PASS, ESPER_C_PASS_NO_POLICY);
	expect_out(&ike, 41);
	expect_pkt(&ike2, XDP_PASS, ESPER_C_PASS_NO_POLICY);
	expect_pkt(&udp0, XDP_DROP, ESPER_C_DROP_IN_POLICY);	/* real port 0 */
	expect_pkt(&icmp, XDP_PASS, ESPER_C_PASS_NO_POLICY);	/* ICMP has no ports */
	expect_pkt(&gre, XDP_PASS, ESPER_C_PASS_NO_POLICY);
}

static void test_ports_ipv6(void **state)
{
	struct hx_policy p[] = {
		hx_pol("2001:db8::", 32, "2001:db8::", 32, ESPER_T_PROTO | ESPER_T_DPORT, 17, 0, 53,
		       ESPER_SPD_OUT, 50),
		hx_pol("2001:db8::", 32, "2001:db8::", 32, ESPER_T_DPORT, 0, 0, 0, ESPER_SPD_IN, 51),
	};
	struct hx_pkt dns = hx_ipv6("2001:db8::1", "2001:db8::2", 17, 40000, 53);
	struct hx_pkt icmp6 = hx_ipv6("2001:db8::1", "2001:db8::2", 58, 0, 0);

	(void)state;
	install(p, 2);
	expect_out(&dns, 50);
	expect_pkt(&icmp6, XDP_PASS, ESPER_C_PASS_NO_POLICY);
}

/* --- IPv4 header forms --------------------------------------------------------------------- */

static void test_ipv4_options(void **state)
{
	struct hx_policy p = hx_pol("192.0.2.0", 24, "198.51.100.0", 24,
				    ESPER_T_PROTO | ESPER_T_SPORT | ESPER_T_DPORT, 6, 1234, 443,
				    ESPER_SPD_OUT, 60);

	(void)state;
	install(&p, 1);
	for (uint8_t opt = 0; opt <= 40; opt += 4) {
		struct hx_pkt k = hx_ipv4("192.0.2.1", "198.51.100.1", 6, 1234, 443);

		k.ip4_optlen = opt;
		expect_out(&k, 60);
	}
}

static void test_ipv4_bad_headers(void **state)
{
	struct hx_pkt k = hx_ipv4("192.0.2.1", "198.51.100.1", 6, 1234, 443);
	struct hx_policy p = hx_pol("0.0.0.0", 0, "0.0.0.0", 0, 0, 0, 0, 0, ESPER_SPD_OUT, 61);
	uint8_t buf[HX_FRAME_MAX];
	struct hx_verdict v;
	size_t len;

	(void)state;
	install(&p, 1);
	len = hx_build(&k, buf);
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
	hx_put16(buf + 16, (uint16_t)(len - 14 + 1));	/* total length beyond the frame */
	assert_int_equal(hx_run(&H, buf, len, &v), 0);
	expect(&v, XDP_PASS, ESPER_C_PASS_MALFORMED);
	hx_put16(buf + 16, 19);			/* total length < header */
	assert_int_equal(hx_run(&H, buf, len, &v), 0);
	expect(&v, XDP_PASS, ESPER_C_PASS_MALFORMED);
	/* Ethernet padding after the IP packet is fine */
	hx_put16(buf + 16, (uint16_t)(len - 14 - 10));
	assert_int_equal(hx_run(&H, buf, len, &v), 0);
	expect_redirect(&v, ESPER_META_PLAIN_OUT, 61, 14);
}

/* Ports must come from the IP packet, not from Ethernet padding after it. */
static void test_ports_not_from_padding(void **state)
{
	struct hx_policy p[] = {
		hx_pol("192.0.2.0", 24, "198.51.100.0", 24, ESPER_T_PROTO | ESPER_T_DPORT, 6, 0,
		       443, ESPER_SPD_OUT, 62),
		hx_pol("192.0.2.0", 24, "198.51.100.0", 24, ESPER_T_PROTO, 6, 0, 0, ESPER_SPD_IN, 63),
	};
	struct hx_pkt k = hx_ipv4("192.0.2.1", "198.51.100.1", 6, 1234, 443);
	uint8_t buf[HX_FRAME_MAX];
	struct hx_verdict v;
	size_t len;

	(void)state;
	install(p, 2);
	len = hx_build(&k, buf);
	hx_set_ip_end(&k, buf, 14 + 20 + 3);	/* IP ends inside the ports; frame goes on */
	assert_int_equal(hx_run(&H, buf, len, &v), 0);
	expect(&v, XDP_DROP, ESPER_C_DROP_IN_POLICY);
	hx_set_ip_end(&k, buf, 14 + 20 + 4);
	assert_int_equal(hx_run(&H, buf, len, &v), 0);
	expect_redirect(&v, ESPER_META_PLAIN_OUT, 62, 14);
}

/* --- IPv6 extension headers -------------------------------------------------------------- */

static const uint8_t ext_kinds[] = { 0, 43, 60, 44, 51 };

static void test_ipv6_ext_each(void **state)
{
	struct hx_policy p = hx_pol("2001:db8::", 32, "2001:db8::", 32,
				    ESPER_T_PROTO | ESPER_T_SPORT | ESPER_T_DPORT, 6, 1234, 443,
				    ESPER_SPD_OUT, 70);

	(void)state;
	install(&p, 1);
	for (size_t i = 0; i < sizeof(ext_kinds); i++) {
		struct hx_pkt k = hx_ipv6("2001:db8::1", "2001:db8::2", 6, 1234, 443);

		k.next = 1;
		k.ext[0] = ext_kinds[i];
		k.frag = HX_FRAG_FIRST;		/* for 44: first fragment, ports present */
		expect_out(&k, 70);
	}
}

static void test_ipv6_ext_chain_limit(void **state)
{
	struct hx_policy p[] = {
		hx_pol("2001:db8::", 32, "2001:db8::", 32, ESPER_T_PROTO | ESPER_T_DPORT, 6, 0, 443,
		       ESPER_SPD_OUT, 71),
		hx_pol("2001:db8::", 32, "2001:db8::", 32, ESPER_T_PROTO, 6, 0, 0, ESPER_SPD_OUT, 72),
		hx_pol("2001:db8::", 32, "2001:db8::", 32, 0, 0, 0, 0, ESPER_SPD_IN, 73),
	};
	struct hx_pkt k = hx_ipv6("2001:db8::1", "2001:db8::2", 6, 1234, 443);

	(void)state;
	install(p, 3);
	/* all five kinds, then up to exactly ESPER_MAX_IPV6_EXT: still parsed */
	for (int n = 1; n <= ESPER_MAX_IPV6_EXT; n++) {
		k.next = (uint8_t)n;
		for (int i = 0; i < n; i++)
			k.ext[i] = ext_kinds[i % sizeof(ext_kinds)];
		k.frag = HX_FRAG_FIRST;
		expect_out(&k, 71);
	}
	/* one more: protocol 255, no ports; only the policy without a protocol matches */
	for (int n = ESPER_MAX_IPV6_EXT + 1; n < HX_MAX_EXT; n++) {
		k.next = (uint8_t)n;
		for (int i = 0; i < n; i++)
			k.ext[i] = 60;
		expect_pkt(&k, XDP_DROP, ESPER_C_DROP_IN_POLICY);
	}
}

/* The chain runs past the IPv6 payload: protocol 255, no ports. */
static void test_ipv6_ext_truncated(void **state)
{
	struct hx_policy p[] = {
		hx_pol("2001:db8::", 32, "2001:db8::", 32, ESPER_T_PROTO, 6, 0, 0, ESPER_SPD_OUT, 74),
		hx_pol("2001:db8::", 32, "2001:db8::", 32, 0, 0, 0, 0, ESPER_SPD_IN, 75),
	};
	struct hx_pkt k = hx_ipv6("2001:db8::1", "2001:db8::2", 6, 1234, 443);
	uint8_t buf[HX_FRAME_MAX];
	struct hx_verdict v;
	size_t len, l3 = 14;

	(void)state;
	install(p, 2);
	k.next = 2;
	k.ext[0] = 0;
	k.ext[1] = 60;			/* 16 bytes at l3 + 48 */
	len = hx_build(&k, buf);
	for (size_t end = l3 + 40; end < l3 + 40 + 8 + 16; end++) {
		hx_set_ip_end(&k, buf, end);
		assert_int_equal(hx_run(&H, buf, end, &v), 0);
		expect(&v, XDP_DROP, ESPER_C_DROP_IN_POLICY);
	}
	/* ends right after the chain: TCP without its header, still protocol 6 */
	hx_set_ip_end(&k, buf, l3 + 40 + 8 + 16);
	assert_int_equal(hx_run(&H, buf, len, &v), 0);
	expect_redirect(&v, ESPER_META_PLAIN_OUT, 74, 14);
}

/* --- fragments ----------------------------------------------------------------------------- */

static void fragments(uint8_t family)
{
	const char *s = family == ESPER_AF_INET ? "192.0.2.1" : "2001:db8::1";
	const char *d = family == ESPER_AF_INET ? "198.51.100.1" : "2001:db8::2";
	struct hx_policy p[] = {
		hx_pol(s, family == ESPER_AF_INET ? 32 : 128, d, family == ESPER_AF_INET ? 32 : 128,
		       ESPER_T_PROTO | ESPER_T_DPORT, 17, 0, 4500, ESPER_SPD_OUT, 80),
		hx_pol(s, family == ESPER_AF_INET ? 32 : 128, d, family == ESPER_AF_INET ? 32 : 128,
		       ESPER_T_PROTO, 17, 0, 0, ESPER_SPD_IN, 81),
	};
	struct hx_pkt k = family == ESPER_AF_INET ? hx_ipv4(s, d, 17, 4500, 4500)
						  : hx_ipv6(s, d, 17, 4500, 4500);

	install(p, 2);
	if (family == ESPER_AF_INET6) {
		k.next = 1;
		k.ext[0] = 44;
	}
	k.frag = HX_FRAG_FIRST;
	expect_out(&k, 80);
	k.frag = HX_FRAG_NONFIRST;	/* no ports: only the protocol-only policy */
	expect_pkt(&k, XDP_DROP, ESPER_C_DROP_IN_POLICY);
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
	struct hx_policy p = hx_pol("2001:db8::", 32, "2001:db8::", 32, ESPER_T_PROTO, 60, 0, 0,
				    ESPER_SPD_OUT, 82);
	struct hx_pkt k = hx_ipv6("2001:db8::1", "2001:db8::2", 6, 1, 2);

	(void)state;
	install(&p, 1);
	k.next = 2;
	k.ext[0] = 44;
	k.ext[1] = 60;
	k.frag = HX_FRAG_NONFIRST;
	expect_out(&k, 82);
}

/* --- VLAN, non-IP ------------------------------------------------------------------------ */

static void test_vlan(void **state)
{
	static const uint16_t tags[][2] = {
		{ 0x8100, 0 }, { 0x88a8, 0 }, { 0x88a8, 0x8100 }, { 0x8100, 0x8100 },
	};
	struct hx_policy p[] = {
		hx_pol("192.0.2.0", 24, "198.51.100.0", 24, 0, 0, 0, 0, ESPER_SPD_OUT, 90),
		hx_pol("2001:db8::", 32, "2001:db8::", 32, 0, 0, 0, 0, ESPER_SPD_OUT, 91),
	};

	(void)state;
	install(p, 2);
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		struct hx_pkt a = hx_ipv4("192.0.2.1", "198.51.100.1", 6, 1, 2);
		struct hx_pkt b = hx_ipv6("2001:db8::1", "2001:db8::2", 6, 1, 2);

		memcpy(a.vlan, tags[i], sizeof(a.vlan));
		memcpy(b.vlan, tags[i], sizeof(b.vlan));
		expect_out(&a, 90);
		expect_out(&b, 91);
	}
}

static void test_vlan_three_tags(void **state)
{
	struct hx_pkt k = hx_ipv4("192.0.2.1", "198.51.100.1", 6, 1, 2);
	uint8_t buf[HX_FRAME_MAX], buf3[HX_FRAME_MAX];
	struct hx_verdict v;
	size_t len;

	(void)state;
	k.vlan[0] = 0x88a8;
	k.vlan[1] = 0x8100;
	len = hx_build(&k, buf);
	/* insert a third tag after the second */
	memcpy(buf3, buf, 20);
	hx_put16(buf3 + 20, 0x8100);
	hx_put16(buf3 + 22, 102);
	memcpy(buf3 + 24, buf + 20, len - 20);
	assert_int_equal(hx_run(&H, buf3, len + 4, &v), 0);
	expect(&v, XDP_PASS, ESPER_C_PASS_NOT_IP);
}

static void test_not_ip(void **state)
{
	struct hx_pkt arp = { .ethertype = 0x0806 };
	struct hx_policy p = hx_pol("0.0.0.0", 0, "0.0.0.0", 0, 0, 0, 0, 0, ESPER_SPD_IN, 92);

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
	struct hx_pkt a = hx_ipv4("198.51.100.1", "192.0.2.1", 50, 0, 0);
	struct hx_pkt b = hx_ipv6("2001:db8::1", "2001:db8::2", 50, 0, 0);

	(void)state;
	assert_int_equal(hx_add_sa(&H, 0x1001, 5), 0);
	assert_int_equal(hx_add_sa(&H, 0xfffffff0, 6), 0);
	a.spi = 0x1001;
	expect_pkt(&a, XDP_REDIRECT, ESPER_C_REDIRECT_ESP_IN);
	{
		struct hx_verdict v;

		RUN(&a, &v);
		expect_redirect(&v, ESPER_META_ESP_IN, 5, 14);
	}
	b.spi = 0xfffffff0;
	b.next = 2;
	b.ext[0] = 0;
	b.ext[1] = 60;			/* ESP after extension headers */
	b.vlan[0] = 0x8100;
	{
		struct hx_verdict v;

		RUN(&b, &v);
		expect_redirect(&v, ESPER_META_ESP_IN, 6, 18);
	}
	a.spi = 0x1002;
	expect_pkt(&a, XDP_PASS, ESPER_C_PASS_UNKNOWN_SPI);
	assert_int_equal(hx_set_config(&H, ESPER_CFG_UNKNOWN_SPI_DROP), 0);
	expect_pkt(&a, XDP_DROP, ESPER_C_DROP_UNKNOWN_SPI);
	a.spi = 0x1001;			/* a known SPI is not affected */
	expect_pkt(&a, XDP_REDIRECT, ESPER_C_REDIRECT_ESP_IN);
	b.spi = 7;
	expect_pkt(&b, XDP_DROP, ESPER_C_DROP_UNKNOWN_SPI);
}

static void test_esp_short(void **state)
{
	struct hx_pkt a = hx_ipv4("198.51.100.1", "192.0.2.1", 50, 0, 0);
	uint8_t buf[HX_FRAME_MAX];
	struct hx_verdict v;

	(void)state;
	assert_int_equal(hx_add_sa(&H, 0x1001, 5), 0);
	assert_int_equal(hx_set_config(&H, ESPER_CFG_UNKNOWN_SPI_DROP), 0);
	a.spi = 0x1001;
	a.payload = 0;
	hx_build(&a, buf);
	for (size_t end = 14 + 20; end < 14 + 20 + 8; end++) {	/* < 8 bytes of ESP */
		hx_set_ip_end(&a, buf, end);
		assert_int_equal(hx_run(&H, buf, end, &v), 0);
		expect(&v, XDP_PASS, ESPER_C_PASS_MALFORMED);
	}
	hx_set_ip_end(&a, buf, 14 + 20 + 8);
	assert_int_equal(hx_run(&H, buf, 14 + 20 + 8, &v), 0);
	expect_redirect(&v, ESPER_META_ESP_IN, 5, 14);
}

/*
 * Every fragment of ESP goes to the kernel, first or not, known SPI or not, whatever the
 * unknown-SPI setting, and is never matched as plaintext (an inbound /0 policy would drop
 * it): the workers do not reassemble.
 */
static void esp_fragments(uint8_t family, uint32_t cfg)
{
	static const uint8_t chains[][3] = { { 44 }, { 0, 44 }, { 0, 43, 44 } };
	static const uint32_t spis[] = { 0x1001, 0x1002 };	/* known, unknown */
	struct hx_policy p = family == ESPER_AF_INET
				     ? hx_pol("0.0.0.0", 0, "0.0.0.0", 0, 0, 0, 0, 0, ESPER_SPD_IN, 7)
				     : hx_pol("::", 0, "::", 0, 0, 0, 0, 0, ESPER_SPD_IN, 7);
	unsigned nchains = family == ESPER_AF_INET ? 1 : 3;

	assert_int_equal(hx_reset(&H), 0);
	assert_int_equal(hx_set_slot(&H, (uint32_t)H.lo_ifindex, 0, 0, true), 0);
	install(&p, 1);
	assert_int_equal(hx_add_sa(&H, 0x1001, 5), 0);
	assert_int_equal(hx_set_config(&H, cfg), 0);
	for (unsigned c = 0; c < nchains; c++) {
		for (unsigned i = 0; i < 2; i++) {
			struct hx_pkt a = family == ESPER_AF_INET
						  ? hx_ipv4("198.51.100.1", "192.0.2.1", 50, 0, 0)
						  : hx_ipv6("2001:db8::1", "2001:db8::2", 50, 0, 0);

			a.spi = spis[i];
			if (family == ESPER_AF_INET6) {
				a.next = (uint8_t)(c + 1);
				memcpy(a.ext, chains[c], a.next);
			}
			a.frag = HX_FRAG_FIRST;
			expect_pkt(&a, XDP_PASS, ESPER_C_PASS_ESP_FRAGMENT);
			a.frag = HX_FRAG_NONFIRST;
			expect_pkt(&a, XDP_PASS, ESPER_C_PASS_ESP_FRAGMENT);
			a.payload = 0;		/* a fragment too short for an SPI: still a fragment */
			a.frag = HX_FRAG_FIRST;
			{
				uint8_t buf[HX_FRAME_MAX];
				size_t len = hx_build(&a, buf) - 4;
				struct hx_verdict v;

				hx_set_ip_end(&a, buf, len);
				assert_int_equal(hx_run(&H, buf, len, &v), 0);
				expect(&v, XDP_PASS, ESPER_C_PASS_ESP_FRAGMENT);
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
	struct hx_pkt a = hx_ipv4("198.51.100.1", "192.0.2.1", 50, 0, 0);
	uint8_t buf[HX_FRAME_MAX];
	struct hx_verdict v;
	size_t len;

	(void)state;
	assert_int_equal(hx_add_sa(&H, 0x1001, 5), 0);
	a.spi = 0x1001;
	len = hx_build(&a, buf);
	hx_put16(buf + 14 + 6, 0x2000 | 185);	/* MF, offset 1480 */
	assert_int_equal(hx_run(&H, buf, len, &v), 0);
	expect(&v, XDP_PASS, ESPER_C_PASS_ESP_FRAGMENT);
	hx_put16(buf + 14 + 6, 0x4000);		/* DF */
	assert_int_equal(hx_run(&H, buf, len, &v), 0);
	expect_redirect(&v, ESPER_META_ESP_IN, 5, 14);
	hx_put16(buf + 14 + 6, 0x8000);		/* the reserved bit: not a fragment either */
	assert_int_equal(hx_run(&H, buf, len, &v), 0);
	expect_redirect(&v, ESPER_META_ESP_IN, 5, 14);
}

/*
 * The metadata is a hint: where bpf_xdp_adjust_meta has no room for it (here: metadata
 * already in front of the frame, up to test_run's limit, leaves no headroom for 16 bytes
 * more), the frame is redirected all the same and what was in front of it is left alone.
 */
static void test_meta_is_a_hint(void **state)
{
	struct hx_policy p = hx_pol("192.0.2.0", 24, "198.51.100.0", 24, 0, 0, 0, 0, ESPER_SPD_OUT,
				    150);
	struct hx_pkt plain = hx_ipv4("192.0.2.1", "198.51.100.1", 6, 1, 2);
	struct hx_pkt esp = hx_ipv6("2001:db8::1", "2001:db8::2", 50, 0, 0);
	struct hx_pkt *pk[2] = { &plain, &esp };
	uint8_t meta[HX_META_MAX], buf[HX_FRAME_MAX];
	unsigned no_room = 0, room = 0;
	struct esper_meta junk;

	(void)state;
	install(&p, 1);
	assert_int_equal(hx_add_sa(&H, 0x5000, 151), 0);
	esp.spi = 0x5000;
	esp.vlan[0] = 0x8100;
	memset(meta, 0xab, sizeof(meta));
	memset(&junk, 0xab, sizeof(junk));
	for (int k = 0; k < 2; k++) {
		struct esper_meta want = { .magic = ESPER_META_MAGIC,
					   .kind = k ? ESPER_META_ESP_IN : ESPER_META_PLAIN_OUT,
					   .id = k ? 151 : 150,
					   .l3_off = (uint16_t)hx_l3_off(pk[k]) };
		size_t len = hx_build(pk[k], buf);

		for (size_t ml = 0; ml <= HX_META_MAX; ml += 4) {
			struct hx_verdict v;
			int err = hx_run_meta(&H, meta, ml, buf, len, &v);

			if (err == -EINVAL && ml > 64)	/* beyond test_run's headroom */
				break;
			assert_int_equal(err, 0);
			expect(&v, XDP_REDIRECT,
			       k ? ESPER_C_REDIRECT_ESP_IN : ESPER_C_REDIRECT_PLAIN_OUT);
			if (!ml) {
				expect_redirect(&v, want.kind, want.id, want.l3_off);
				room++;
			} else if (v.meta_len == ml + sizeof(want)) {	/* put in front of ours */
				assert_memory_equal(&v.meta_front, &want, sizeof(want));
				if (ml >= sizeof(junk))
					assert_memory_equal(&v.meta, &junk, sizeof(junk));
				room++;
			} else {			/* no room: ours untouched */
				assert_int_equal(v.meta_len, ml);
				assert_memory_equal(&v.meta_front, &junk, sizeof(junk));
				assert_memory_equal(&v.meta, &junk, sizeof(junk));
				no_room++;
			}
		}
	}
	assert_true(room >= 2 && no_room >= 2);	/* both paths were taken */
}

/* ESP whose addresses match an inbound policy is ESP, not plaintext to drop. */
static void test_esp_not_matched_as_plaintext(void **state)
{
	struct hx_policy p[] = {
		hx_pol("198.51.100.0", 24, "192.0.2.0", 24, 0, 0, 0, 0, ESPER_SPD_IN, 100),
		hx_pol("198.51.100.0", 24, "192.0.2.0", 24, ESPER_T_PROTO, 50, 0, 0, ESPER_SPD_IN,
		       101),
		hx_pol("2001:db8:2::", 48, "2001:db8:1::", 48, 0, 0, 0, 0, ESPER_SPD_IN, 102),
	};
	struct hx_pkt esp = hx_ipv4("198.51.100.1", "192.0.2.1", 50, 0, 0);
	struct hx_pkt esp6 = hx_ipv6("2001:db8:2::1", "2001:db8:1::1", 50, 0, 0);
	struct hx_pkt udp = hx_ipv4("198.51.100.1", "192.0.2.1", 17, 1, 2);
	struct hx_verdict v;

	(void)state;
	install(p, 3);
	assert_int_equal(hx_add_sa(&H, 0x2000, 9), 0);
	esp.spi = 0x2000;
	RUN(&esp, &v);
	expect_redirect(&v, ESPER_META_ESP_IN, 9, 14);
	esp.spi = 0x2001;
	expect_pkt(&esp, XDP_PASS, ESPER_C_PASS_UNKNOWN_SPI);
	esp6.spi = 0x2001;
	expect_pkt(&esp6, XDP_PASS, ESPER_C_PASS_UNKNOWN_SPI);
	expect_pkt(&udp, XDP_DROP, ESPER_C_DROP_IN_POLICY);
}

/* --- no AF_XDP socket --------------------------------------------------------------------- */

static void test_no_xsk(void **state)
{
	struct hx_policy p = hx_pol("192.0.2.0", 24, "198.51.100.0", 24, 0, 0, 0, 0, ESPER_SPD_OUT,
				    110);
	struct hx_pkt plain = hx_ipv4("192.0.2.1", "198.51.100.1", 6, 1, 2);
	struct hx_pkt esp = hx_ipv4("198.51.100.1", "192.0.2.1", 50, 0, 0);
	struct esper_xsk_key xk = { .ifindex = (uint32_t)H.lo_ifindex, .queue = 0 };
	uint8_t buf[HX_FRAME_MAX];
	struct hx_verdict v;
	unsigned other;

	(void)state;
	install(&p, 1);
	assert_int_equal(hx_add_sa(&H, 0x3000, 11), 0);
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
	assert_int_equal(hx_run_on(&H, buf, hx_build(&plain, buf), other, 0, &v), 0);
	expect(&v, XDP_DROP, ESPER_C_DROP_NO_XSK);
	assert_int_equal(hx_run_on(&H, buf, hx_build(&esp, buf), other, 0, &v), 0);
	expect(&v, XDP_PASS, ESPER_C_PASS_NO_XSK);
	/* and with a slot of its own, they are redirected */
	assert_int_equal(hx_set_slot(&H, other, 0, 0, true), 0);
	assert_int_equal(hx_run_on(&H, buf, hx_build(&plain, buf), other, 0, &v), 0);
	expect_redirect(&v, ESPER_META_PLAIN_OUT, 110, 14);
}

/* --- order of tuples ------------------------------------------------------------------------ */

struct order_case {
	const char *what;
	struct hx_policy win, lose;
};

/* Each pair overlaps the same packet; win must be probed first by the abi order. */
static void test_order_most_specific_first(void **state)
{
	const uint8_t P = ESPER_T_PROTO, S = ESPER_T_SPORT, D = ESPER_T_DPORT;
	const uint8_t O = ESPER_SPD_OUT, I = ESPER_SPD_IN;
	struct order_case c[] = {
		{ "1: longer src+dst",
		  hx_pol("192.0.2.1", 32, "198.51.100.0", 24, 0, 0, 0, 0, O, 1),
		  hx_pol("192.0.2.0", 24, "198.51.100.0", 24, P | S | D, 6, 1234, 443, I, 2) },
		{ "1: longer src+dst, dst shorter",
		  hx_pol("192.0.2.1", 32, "198.51.100.0", 20, 0, 0, 0, 0, I, 3),
		  hx_pol("192.0.2.0", 16, "198.51.100.0", 24, P, 6, 0, 0, O, 4) },
		{ "2: same sum, longer dst",
		  hx_pol("192.0.2.0", 16, "198.51.100.1", 32, 0, 0, 0, 0, O, 5),
		  hx_pol("192.0.2.1", 32, "198.51.100.0", 16, P | D, 6, 0, 443, I, 6) },
		{ "3: protocol given",
		  hx_pol("192.0.2.0", 24, "198.51.100.0", 24, P, 6, 0, 0, I, 7),
		  hx_pol("192.0.2.0", 24, "198.51.100.0", 24, S | D, 0, 1234, 443, O, 8) },
		{ "4: destination port given",
		  hx_pol("192.0.2.0", 24, "198.51.100.0", 24, P | D, 6, 0, 443, O, 9),
		  hx_pol("192.0.2.0", 24, "198.51.100.0", 24, P | S, 6, 1234, 0, I, 10) },
		{ "5: source port given",
		  hx_pol("192.0.2.0", 24, "198.51.100.0", 24, P | S, 6, 1234, 0, I, 11),
		  hx_pol("192.0.2.0", 24, "198.51.100.0", 24, P, 6, 0, 0, O, 12) },
		{ "4 before 5",
		  hx_pol("0.0.0.0", 0, "0.0.0.0", 0, D, 0, 0, 443, O, 13),
		  hx_pol("0.0.0.0", 0, "0.0.0.0", 0, S, 0, 1234, 0, I, 14) },
		{ "ipv6 1: longer src+dst",
		  hx_pol("2001:db8::1", 128, "2001:db8::", 64, 0, 0, 0, 0, I, 15),
		  hx_pol("2001:db8::", 64, "2001:db8::2", 127, P | S | D, 6, 1234, 443, O, 16) },
		{ "ipv6 2: same sum, longer dst",
		  hx_pol("2001:db8::", 64, "2001:db8::2", 128, 0, 0, 0, 0, O, 17),
		  hx_pol("2001:db8::1", 128, "2001:db8::", 64, P, 6, 0, 0, I, 18) },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct hx_policy both[2] = { c[i].lose, c[i].win };
		bool v6 = c[i].win.family == ESPER_AF_INET6;
		struct hx_pkt k = v6 ? hx_ipv6("2001:db8::1", "2001:db8::2", 6, 1234, 443)
				     : hx_ipv4("192.0.2.1", "198.51.100.1", 6, 1234, 443);

		for (int pass = 0; pass < 3; pass++) {
			const struct hx_policy *want = pass == 2 ? &c[i].lose : &c[i].win;
			struct hx_verdict v;

			assert_int_equal(setup(NULL), 0);
			if (pass == 2)	/* alone, the loser matches too */
				install(&c[i].lose, 1);
			else
				install(pass ? both : both + 1, pass ? 2 : 1);
			RUN(&k, &v);
			if (want->dir == ESPER_SPD_OUT && v.action == XDP_REDIRECT &&
			    v.meta.id == want->id)
				continue;
			if (want->dir == ESPER_SPD_IN && v.counter == ESPER_C_DROP_IN_POLICY)
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
		hx_pol("192.0.2.1", 32, "198.51.100.1", 32, 0, 0, 0, 0, ESPER_SPD_OUT, 120),
		hx_pol("192.0.2.0", 24, "198.51.100.0", 24, 0, 0, 0, 0, ESPER_SPD_OUT, 121),
	};
	struct hx_pkt k = hx_ipv4("192.0.2.1", "198.51.100.1", 6, 1, 2);
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
	struct hx_pkt k = hx_ipv6("2001:db8::1", "2001:db8::2", 17, 1, 2);

	(void)state;
	for (int i = 0; i < ESPER_MAX_TUPLES; i++)	/* tuples /128-i <-> /128, non-matching */
		p[i] = hx_pol("2001:db8:ffff::1", (unsigned)(128 - i), "2001:db8::2", 128, 0, 0, 0,
			      0, ESPER_SPD_IN, (uint32_t)(200 + i));
	p[ESPER_MAX_TUPLES - 1] = hx_pol("::", 0, "2001:db8::2", 128, 0, 0, 0, 0, ESPER_SPD_OUT,
					 299);
	install(p, ESPER_MAX_TUPLES);
	expect_out(&k, 299);
}

static void test_in_out_same_key(void **state)
{
	struct hx_policy p[] = {
		hx_pol("192.0.2.0", 24, "198.51.100.0", 24, ESPER_T_PROTO, 17, 0, 0, ESPER_SPD_IN, 130),
		hx_pol("192.0.2.0", 24, "198.51.100.0", 24, ESPER_T_PROTO, 17, 0, 0, ESPER_SPD_OUT,
		       131),
	};
	struct hx_pkt k = hx_ipv4("192.0.2.1", "198.51.100.1", 17, 1, 2);

	(void)state;
	install(p, 1);
	expect_pkt(&k, XDP_DROP, ESPER_C_DROP_IN_POLICY);
	install(p + 1, 1);		/* same key: now in + out, out wins */
	expect_out(&k, 131);
}

/* --- truncation ---------------------------------------------------------------------------- */

/* Cut a valid frame at every length: the IP length still claims the whole packet, so
 * every cut is malformed; and with the IP length fixed to the cut, the verdict follows
 * what is left (ports, protocol) exactly. */
static void truncations(const struct hx_pkt *k, size_t l4_off)
{
	uint8_t buf[HX_FRAME_MAX], cut[HX_FRAME_MAX];
	size_t len = hx_build(k, buf), l3 = hx_l3_off(k);
	size_t ip_hdr = l3 + (k->family == ESPER_AF_INET ? 20u + k->ip4_optlen : 40u);
	struct hx_verdict v;

	for (size_t n = 14; n < len; n++) {
		assert_int_equal(hx_run(&H, buf, n, &v), 0);
		expect(&v, XDP_PASS, ESPER_C_PASS_MALFORMED);
	}
	for (size_t n = ip_hdr; n <= len; n++) {
		memcpy(cut, buf, len);
		hx_set_ip_end(k, cut, n);
		assert_int_equal(hx_run(&H, cut, n, &v), 0);
		if (k->proto == 50) {
			if (n < l4_off + 8)
				expect(&v, XDP_PASS, ESPER_C_PASS_MALFORMED);
			else
				expect_redirect(&v, ESPER_META_ESP_IN, 1, (uint16_t)l3);
		} else if (n >= l4_off + 4) {
			expect_redirect(&v, ESPER_META_PLAIN_OUT, 140, (uint16_t)l3);	/* ports */
		} else if (n >= l4_off) {
			expect_redirect(&v, ESPER_META_PLAIN_OUT, 141, (uint16_t)l3);	/* proto */
		} else {
			expect(&v, XDP_DROP, ESPER_C_DROP_IN_POLICY);	/* proto 255 */
		}
	}
}

static void test_truncated_every_length(void **state)
{
	struct hx_policy p[] = {
		hx_pol("192.0.2.1", 32, "198.51.100.1", 32, ESPER_T_PROTO | ESPER_T_DPORT, 6, 0, 443,
		       ESPER_SPD_OUT, 140),
		hx_pol("192.0.2.1", 32, "198.51.100.1", 32, ESPER_T_PROTO, 6, 0, 0, ESPER_SPD_OUT, 141),
		hx_pol("0.0.0.0", 0, "0.0.0.0", 0, 0, 0, 0, 0, ESPER_SPD_IN, 142),
		hx_pol("2001:db8::1", 128, "2001:db8::2", 128, ESPER_T_PROTO | ESPER_T_DPORT, 6, 0,
		       443, ESPER_SPD_OUT, 140),
		hx_pol("2001:db8::1", 128, "2001:db8::2", 128, ESPER_T_PROTO, 6, 0, 0, ESPER_SPD_OUT,
		       141),
		hx_pol("::", 0, "::", 0, 0, 0, 0, 0, ESPER_SPD_IN, 142),
	};
	struct hx_pkt a = hx_ipv4("192.0.2.1", "198.51.100.1", 6, 1234, 443);
	struct hx_pkt b = hx_ipv6("2001:db8::1", "2001:db8::2", 6, 1234, 443);
	struct hx_pkt e = hx_ipv4("198.51.100.1", "192.0.2.1", 50, 0, 0);

	(void)state;
	install(p, 6);
	assert_int_equal(hx_add_sa(&H, 0x4000, 1), 0);
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

/* --- randomized differential against the naive matcher ------------------------------------ */

#define RAND_ROUNDS	4
#define RAND_POLICIES	1500
#define RAND_PACKETS	3000
#define RAND_SAS	64

static void test_random_differential(void **state)
{
	static struct hx_policy pol[RAND_POLICIES];
	struct hx_rand r = { .s = 0x5eed5eed12345678ULL };
	uint32_t spis[RAND_SAS];
	unsigned checked = 0, hits[3] = { 0 }, esp_frags = 0;

	(void)state;
	for (int round = 0; round < RAND_ROUNDS; round++) {
		unsigned ntuples = round == 0 ? 4 : round == 1 ? 16 : ESPER_MAX_TUPLES;
		size_t n = hx_rand_policies(&r, pol, RAND_POLICIES, ntuples);
		bool drop = round & 1;		/* unknown SPIs: pass, then drop */

		assert_int_equal(setup(NULL), 0);
		assert_int_equal(hx_set_config(&H, drop ? ESPER_CFG_UNKNOWN_SPI_DROP : 0), 0);
		install(pol, n);
		hx_ref_sort(pol, n);
		for (int i = 0; i < RAND_SAS; i++) {
			spis[i] = 0x10000 + (uint32_t)i * 4096 + hx_rnd(&r, 4096);
			assert_int_equal(hx_add_sa(&H, spis[i], 1000 + (uint32_t)i), 0);
		}
		for (int i = 0; i < RAND_PACKETS; i++) {
			bool esp = !hx_rnd(&r, 10);
			int sa = (int)hx_rnd(&r, RAND_SAS * 2);	/* half of them unknown */
			uint32_t spi = sa < RAND_SAS ? spis[sa] : 0x200000 + (uint32_t)sa;
			struct hx_verdict v, e;
			struct hx_sel s;
			struct hx_pkt k;

			hx_rand_pkt(&r, pol, n, esp, spi, &k);
			hx_pkt_sel(&k, &s);
			if (s.proto == 50)
				hx_expect_esp(&s, sa < RAND_SAS, 1000 + (uint32_t)sa, drop, &e);
			else
				hx_expect_plain(pol, n, &s, &e);
			e.meta.l3_off = (uint16_t)hx_l3_off(&k);
			RUN(&k, &v);
			if (v.action != e.action || v.counter != e.counter ||
			    (e.has_meta && memcmp(&v.meta, &e.meta, sizeof(e.meta))))
				fail_msg("round %d packet %d: got %d/%d/kind %u/id %u/l3 %u, reference "
					 "%d/%d/kind %u/id %u/l3 %u", round, i, v.action, v.counter,
					 v.meta.kind, v.meta.id, v.meta.l3_off, e.action, e.counter,
					 e.meta.kind, e.meta.id, e.meta.l3_off);
			hits[e.action == XDP_REDIRECT ? 0 : e.action == XDP_DROP ? 1 : 2]++;
			esp_frags += s.proto == 50 && s.fragment;
			checked++;
		}
	}
	/* the generator must exercise every outcome */
	assert_true(hits[0] > checked / 20 && hits[1] > checked / 20 && hits[2] > checked / 20);
	assert_true(esp_frags > 10);
	printf("[          ] %u random packets: %u redirect, %u drop, %u pass; %u ESP fragments\n",
	       checked, hits[0], hits[1], hits[2], esp_frags);
}

/* --- counters ------------------------------------------------------------------------------ */

static void test_counters_sum(void **state)
{
	struct hx_pkt arp = { .ethertype = 0x0806 };
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
		T(test_vlan),
		T(test_vlan_three_tags),
		T(test_not_ip),
		T(test_esp_known_unknown),
		T(test_esp_short),
		T(test_esp_fragments),
		T(test_esp_ipv4_flags),
		T(test_meta_is_a_hint),
		T(test_esp_not_matched_as_plaintext),
		T(test_no_xsk),
		T(test_order_most_specific_first),
		T(test_order_follows_list),
		T(test_order_max_tuples),
		T(test_in_out_same_key),
		T(test_truncated_every_length),
		T(test_random_differential),
		T(test_counters_sum),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
