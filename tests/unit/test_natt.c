// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_natt.c - ESP in UDP (RFC 3948) below the command language: esp_out's UDP header
 * (ports, length, checksum 0 over IPv4, a right one over IPv6) in every mode, esp_in taking
 * from an esp-udp SA nothing but ESP in UDP with a sane UDP length (and from the others no
 * UDP), the MTU counting the UDP header, and classify's NAT-T rule (classify_natt) for each
 * kind of UDP a NAT-T destination gets: keepalive, IKE's non-ESP marker, ESP of an SA of
 * ours, of none, too short to tell; an SA that only sends makes no NAT-T destination. tests/interop/test_scapy.py checks the same against scapy and
 * tests/bpf/test_xdp_diff.c classify_natt against the XDP program.
 */
#include "esp_fixture.h"
#include "datapath/classify.h"
#include "lib/rcu.h"

/* An SA like fx_sa_cipher's (AES-128-GCM), UDP-encapsulated from sport to dport, between
 * the addresses of fx_sp's tunnels of that family. */
static struct sa *udp_sa(uint32_t spi, int family, uint16_t sport, uint16_t dport)
{
	struct sa_params p = { .spi = spi, .uid = spi, .alg = ESP_ALG_AES_GCM_16,
			       .cipher = AEAD_AES128_GCM, .key_len = 20, .seq = 1,
			       .replay = REPLAY_DEFAULT_WINDOW, .encap = true, .sport = sport,
			       .dport = dport };
	struct sa *sa;

	for (unsigned i = 0; i < p.key_len; i++)
		p.key[i] = (uint8_t)(0x11 * i + spi);
	addr_parse(family == AF_INET ? "192.0.2.1" : "2001:db8::1", &p.src);
	addr_parse(family == AF_INET ? "192.0.2.2" : "2001:db8::2", &p.dst);
	sa = sa_new(&p, 1);
	assert_non_null(sa);
	return sa;
}

/* The UDP header an esp-udp SA put in front of ESP in the packet b holds, checked. */
static void check_udp(const struct pbuf *b, const struct sa *sa)
{
	const uint8_t *ip = b->head + b->off;
	uint8_t copy[FX_BUF];
	struct pkt_info pi;
	const uint8_t *udp;

	assert_int_equal(pkt_parse(ip, b->len, &pi), 0);
	assert_int_equal(pi.proto, 17);
	udp = ip + pi.l4_off;
	assert_int_equal(pi.sport, sa_path(sa)->sport);
	assert_int_equal(pi.dport, sa_path(sa)->dport);
	assert_int_equal(udp[4] << 8 | udp[5], pi.ip_len - pi.l4_off);
	assert_memory_equal(udp + 8, sa->spi_be, 4);
	if (pi.family == AF_INET) {
		assert_int_equal(udp[6] | udp[7], 0);	/* RFC 3948 2.1 */
		return;
	}
	memcpy(copy, ip, b->len);	/* the checksum computed again is the one sent */
	assert_int_equal(csum_l4(copy, &pi), 0);
	assert_memory_equal(copy + pi.l4_off + 6, udp + 6, 2);
	assert_true(udp[6] | udp[7]);
}

struct mode {
	int inner, tunnel;	/* tunnel 0: transport mode */
};

static const struct mode modes[] = {
	{ AF_INET, 0 }, { AF_INET6, 0 }, { AF_INET, AF_INET }, { AF_INET6, AF_INET6 },
	{ AF_INET, AF_INET6 }, { AF_INET6, AF_INET },
};

static void test_round_trips(void **state)
{
	static const size_t sizes[] = { 0, 1, 63, 64, 1000, 1420 };

	(void)state;
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		int outer = modes[m].tunnel ? modes[m].tunnel : modes[m].inner;
		struct sa *tx = udp_sa(0x4000, outer, 4500, 31337);
		struct sa *rx = udp_sa(0x4000, outer, 4500, 31337);
		struct sp *sp = fx_sp(tx, modes[m].inner, modes[m].tunnel);

		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			uint8_t payload[1500], orig[1600];
			uint64_t rng = sizes[s] + 7 * m;
			struct fx_buf fb;
			uint32_t len;

			struct pkt_info pi;

			test_rand_bytes(&rng, payload, sizes[s]);
			fx_packet(&fb, modes[m].inner, 17, payload, sizes[s]);
			/* a sound checksum, which transport mode's decapsulation (RFC 3948
			 * 3.1.2) computes again, and must find the same */
			assert_int_equal(pkt_parse(fb.b.head + fb.b.off, fb.b.len, &pi), 0);
			csum_l4(fb.b.head + fb.b.off, &pi);
			len = fb.b.len;
			memcpy(orig, fb.b.head + fb.b.off, len);
			assert_int_equal(esp_out(sp, &fb.b, 0, 0, 0), 0);
			check_udp(&fb.b, tx);
			assert_int_equal(fx_in(rx, &fb.b), 0);
			assert_int_equal(fb.b.len, len);
			assert_memory_equal(fb.b.head + fb.b.off, orig, len);
		}
		sp_free(sp);
		sa_free(tx);
		sa_free(rx);
	}
}

/* An esp-udp SA takes ESP in UDP only, with the UDP length of the datagram; a bare one no
 * UDP at all. */
static void test_wrong_encapsulation(void **state)
{
	struct sa *udp_tx = udp_sa(0x4001, AF_INET, 4500, 4500);
	struct sa *udp_rx = udp_sa(0x4001, AF_INET, 4500, 4500);
	struct sa *bare = fx_sa_cipher(AEAD_AES128_GCM, 0x4001, false, 0, 0);
	struct sp *sp = fx_sp(udp_tx, AF_INET, AF_INET), *bare_sp = fx_sp(bare, AF_INET, AF_INET);
	uint8_t payload[100] = { 0 };
	struct fx_buf fb, good;
	uint8_t *ip;

	(void)state;
	fx_packet(&fb, AF_INET, 17, payload, sizeof(payload));	/* bare ESP to udp_rx */
	assert_int_equal(esp_out(bare_sp, &fb.b, 0, 0, 0), 0);
	assert_int_equal(fx_in(udp_rx, &fb.b), ESP_DROP(SA_C_malformed));

	fx_packet(&good, AF_INET, 17, payload, sizeof(payload));
	assert_int_equal(esp_out(sp, &good.b, 0, 0, 0), 0);
	fb = good;
	fb.b.head = fb.mem;
	assert_int_equal(fx_in(bare, &fb.b), ESP_DROP(SA_C_malformed));	/* UDP to bare */
	for (int delta = -1; delta <= 1; delta += 2) {	/* a UDP length that lies */
		fb = good;
		fb.b.head = fb.mem;
		unsigned ulen;

		ip = fb.b.head + fb.b.off;
		ulen = (unsigned)(ip[24] << 8 | ip[25]) + (unsigned)delta;
		ip[24] = (uint8_t)(ulen >> 8);
		ip[25] = (uint8_t)ulen;
		assert_int_equal(fx_in(udp_rx, &fb.b), ESP_DROP(SA_C_malformed));
	}
	fb = good;
	fb.b.head = fb.mem;
	assert_int_equal(fx_in(udp_rx, &fb.b), 0);	/* and the packet itself is good */
	assert_int_equal(sa_counter(udp_rx, SA_C_malformed), 3);
	sp_free(sp);
	sp_free(bare_sp);
	sa_free(udp_tx);
	sa_free(udp_rx);
	sa_free(bare);
}

/* The MTU counts the UDP header: a packet that fits bare does not in UDP. */
static void test_mtu(void **state)
{
	struct sa *bare = fx_sa_cipher(AEAD_AES128_GCM, 0x4002, false, 0, 0);
	struct sa *udp = udp_sa(0x4003, AF_INET, 4500, 4500);
	struct sp *bare_sp = fx_sp(bare, AF_INET, AF_INET), *udp_sp = fx_sp(udp, AF_INET, AF_INET);
	uint8_t payload[1000] = { 0 };
	struct fx_buf fb;
	uint32_t mtu;

	(void)state;
	fx_packet(&fb, AF_INET, 17, payload, sizeof(payload));
	assert_int_equal(esp_out(bare_sp, &fb.b, 0, 0, 0), 0);
	mtu = fb.b.len;		/* exactly what the bare packet needs */
	fx_packet(&fb, AF_INET, 17, payload, sizeof(payload));
	assert_int_equal(esp_out(udp_sp, &fb.b, 0, mtu, 0), ESP_DROP(SA_C_too_big));
	fx_packet(&fb, AF_INET, 17, payload, sizeof(payload));
	assert_int_equal(esp_out(udp_sp, &fb.b, 0, mtu + 8, 0), 0);
	assert_int_equal(fb.b.len, mtu + 8);
	sp_free(bare_sp);
	sp_free(udp_sp);
	sa_free(bare);
	sa_free(udp);
}

/* --- classify's NAT-T rule ------------------------------------------------------------------ */

struct natt_case {
	const char *name;
	uint16_t dport;
	const uint8_t *data;	/* after the UDP header */
	size_t len;
	bool to_other_dst;	/* to another address than the SA's destination */
	enum natt want;
	uint32_t want_spi;
};

static const uint8_t esp_ours[] = { 0, 0, 0x50, 0x01, 0, 0, 0, 1, 9, 9 };
static const uint8_t esp_outbound[] = { 0, 0, 0x50, 0x02, 0, 0, 0, 1, 9, 9 };
static const uint8_t esp_bare_sa[] = { 0, 0, 0x50, 0x03, 0, 0, 0, 1, 9, 9 };
static const uint8_t esp_none[] = { 0, 0, 0x5f, 0xff, 0, 0, 0, 1 };
static const uint8_t keepalive[] = { 0xff };
static const uint8_t not_keepalive[] = { 0x00 };
static const uint8_t ike[] = { 0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t marker_only[] = { 0, 0, 0, 0 };
static const uint8_t short3[] = { 1, 2, 3 };
static const uint8_t short7[] = { 0, 0, 0x50, 0x01, 0, 0, 0 };

static const struct natt_case natt_cases[] = {
	{ "ESP of our esp-udp SA", 4500, esp_ours, sizeof(esp_ours), false, NATT_ESP, 0x5001 },
	{ "... to another address (transit)", 4500, esp_ours, sizeof(esp_ours), true, NATT_NONE },
	{ "... to another place we take ESP at", 4600, esp_ours, sizeof(esp_ours), false,
	  NATT_UNKNOWN },
	{ "... to a port no SA goes to", 4502, esp_ours, sizeof(esp_ours), false, NATT_NONE },
	{ "... to the port of an outbound esp-udp SA (not a place we take ESP at)", 4501,
	  esp_ours, sizeof(esp_ours), false, NATT_NONE },
	{ "ESP of an outbound esp-udp SA", 4500, esp_outbound, sizeof(esp_outbound), false,
	  NATT_UNKNOWN },
	{ "ESP of a bare SA, in UDP", 4500, esp_bare_sa, sizeof(esp_bare_sa), false,
	  NATT_UNKNOWN },
	{ "ESP of no SA", 4500, esp_none, sizeof(esp_none), false, NATT_UNKNOWN },
	{ "NAT-keepalive", 4500, keepalive, sizeof(keepalive), false, NATT_CONTROL },
	{ "NAT-keepalive to another address (transit)", 4500, keepalive, 1, true, NATT_NONE },
	{ "IKE to another address (transit)", 4500, ike, sizeof(ike), true, NATT_NONE },
	{ "IKE to the port of an outbound esp-udp SA", 4501, ike, sizeof(ike), false, NATT_NONE },
	{ "one byte, not 0xff", 4500, not_keepalive, 1, false, NATT_NONE },
	{ "IKE behind the non-ESP marker", 4500, ike, sizeof(ike), false, NATT_CONTROL },
	{ "the marker alone", 4500, marker_only, sizeof(marker_only), false, NATT_CONTROL },
	{ "3 bytes", 4500, short3, sizeof(short3), false, NATT_NONE },
	{ "7 bytes, not a marker", 4500, short7, sizeof(short7), false, NATT_NONE },
	{ "empty", 4500, NULL, 0, false, NATT_NONE },
	{ "keepalive to a port no SA goes to", 500, keepalive, 1, false, NATT_NONE },
};

/* A UDP packet from 192.0.2.9 to 192.0.2.2 (or .3) at dport carrying data, parsed. */
static void udp_packet(struct fx_buf *fb, const struct natt_case *c, struct pkt_info *pi)
{
	uint8_t l4[64] = { 0x11, 0x94, (uint8_t)(c->dport >> 8), (uint8_t)c->dport };
	uint8_t *ip;

	l4[4] = (uint8_t)((8 + c->len) >> 8);
	l4[5] = (uint8_t)(8 + c->len);
	if (c->len)
		memcpy(l4 + 8, c->data, c->len);
	fx_packet(fb, AF_INET, 17, l4, 8 + c->len);
	ip = fb->b.head + fb->b.off;
	inet_pton(AF_INET, "192.0.2.9", ip + 12);
	inet_pton(AF_INET, c->to_other_dst ? "192.0.2.3" : "192.0.2.2", ip + 16);
	assert_int_equal(pkt_parse(ip, fb->b.len, pi), 0);
}

static void add_sa(struct sad *sad, struct sa *sa)
{
	assert_int_equal(sad_add(sad, sa), 0);
}

static void test_classify_natt(void **state)
{
	struct sad *sad = sad_new();
	struct sa *out = udp_sa(0x5002, AF_INET, 4500, 4501);
	uint8_t gw[4] = { 192, 0, 2, 2 };

	(void)state;
	assert_non_null(sad);
	add_sa(sad, udp_sa(0x5001, AF_INET, 4500, 4500));
	add_sa(sad, out);
	add_sa(sad, udp_sa(0x5004, AF_INET, 4500, 4600));
	add_sa(sad, fx_sa_cipher(AEAD_AES256_GCM, 0x5003, false, 0, 0));
	assert_true(sad_natt_dest(sad, AF_INET, gw, htons(4501)));	/* until it sends */
	assert_int_equal(sad_set_outbound(sad, out), 0);
	assert_true(sad_natt_dest(sad, AF_INET, gw, htons(4500)) &&
		    sad_natt_dest(sad, AF_INET, gw, htons(4600)) &&
		    !sad_natt_dest(sad, AF_INET, gw, htons(4501)));
	for (size_t i = 0; i < sizeof(natt_cases) / sizeof(natt_cases[0]); i++) {
		const struct natt_case *c = &natt_cases[i];
		struct sa *sa = NULL;
		struct fx_buf fb;
		struct pkt_info pi;
		enum natt got;

		udp_packet(&fb, c, &pi);
		got = classify_natt(sad, fb.b.head + fb.b.off, &pi, &sa);
		if (got != c->want || (got == NATT_ESP && sa->spi != c->want_spi))
			fail_msg("%s: %d, want %d", c->name, got, c->want);
		/* ESP in UDP is never taken for bare ESP */
		assert_null(classify_esp(sad, fb.b.head + fb.b.off, &pi));
	}
	sad_free(sad);
}

/* IKE and keepalives pass past every policy but one that protects them: an in ipsec or a
 * discard policy does not drop them (the keying daemon must get them), an out ipsec policy
 * encrypts them (passing them would leak what it protects). */
static void test_control_and_policies(void **state)
{
	static const struct {
		enum sp_dir dir;
		enum sp_action action;
		enum verdict want;
	} cases[] = {
		{ SP_DIR_IN, SP_IPSEC, V_PASS },   { SP_DIR_IN, SP_DISCARD, V_PASS },
		{ SP_DIR_OUT, SP_DISCARD, V_PASS }, { SP_DIR_OUT, SP_BYPASS, V_PASS },
		{ SP_DIR_OUT, SP_IPSEC, V_ENCRYPT },
	};
	const struct natt_case ike_case = { "IKE", 4500, ike, sizeof(ike) };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sad *sad = sad_new();
		struct spd *spd = spd_new();
		struct sa *sa = udp_sa(0x6001, AF_INET, 4500, 4500), *tx = udp_sa(0x6002, AF_INET,
									      4500, 4500);
		struct sp_params c = { .proto = SP_PROTO_ANY, .dir = cases[i].dir,
				       .action = cases[i].action, .mode = SP_MODE_TRANSPORT };
		struct classified out;
		struct fx_buf fb;
		struct pkt_info pi;

		assert_true(sad && spd);
		add_sa(sad, sa);
		add_sa(sad, tx);
		if (cases[i].action == SP_IPSEC)
			c.uid = cases[i].dir == SP_DIR_OUT ? tx->uid : sa->uid;
		addr_parse("192.0.2.0", &c.src.addr);	/* everything between the peers */
		addr_parse("192.0.2.0", &c.dst.addr);
		c.src.plen = c.dst.plen = 24;
		assert_int_equal(spd_add(spd, sp_new(&c, c.uid ? sad_by_uid(sad, c.uid) : NULL)),
				 0);
		udp_packet(&fb, &ike_case, &pi);
		classify(sad, spd, false, fb.b.head + fb.b.off, &pi, &out);
		if (out.v != cases[i].want)
			fail_msg("policy %zu: verdict %d, want %d", i, out.v, cases[i].want);
		assert_int_equal(out.why, cases[i].want == V_PASS ? ESPER_C_PASS_NATT_CONTROL
								  : ESPER_C_REDIRECT_PLAIN_OUT);
		spd_flush(spd);
		rcu_barrier();
		spd_free(spd);
		sad_free(sad);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_wrong_encapsulation),
		cmocka_unit_test(test_mtu),
		cmocka_unit_test(test_classify_natt),
		cmocka_unit_test(test_control_and_policies),
	};

	if (crypto_init(CRYPTO_AUTO) < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
