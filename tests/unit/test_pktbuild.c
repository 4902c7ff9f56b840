// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_pktbuild.c - the tests' packet builder (tests/lib/pktbuild.h) against the daemon's
 * parser and checksums (user/lib/pkt.c), two independent implementations: random packets
 * of both families and every upper layer, with IPv4 options, IPv6 extension headers and
 * VLAN tags, parse to what was asked (family, protocol, ports, lengths, offsets); the IPv4
 * header checksum verifies; a TCP/UDP/ICMP/ICMPv6 checksum the builder wrote equals the
 * one csum_l4 computes; fragments and raw upper layers are left as given.
 */
#include "test_util.h"

#include "lib/pkt.h"
#include "../lib/pktbuild.h"

static const uint8_t l4_protos[] = {6, 17, 1, 58, 50, 47};
static const uint8_t ext_kinds[] = {0, 43, 60, 51};

static struct pb_pkt random_pkt(uint64_t *rs)
{
	struct pb_pkt p = {.proto = l4_protos[test_rand(rs) % sizeof(l4_protos)]};

	p.family = test_rand(rs) % 2 ? PB_IPV6 : PB_IPV4;
	test_rand_bytes(rs, p.src, p.family == PB_IPV6 ? 16 : 4);
	test_rand_bytes(rs, p.dst, p.family == PB_IPV6 ? 16 : 4);
	p.sport = (uint16_t)test_rand(rs);
	p.dport = (uint16_t)test_rand(rs);
	p.spi = (uint32_t)test_rand(rs);
	p.tos = (uint8_t)test_rand(rs);
	p.ttl = (uint8_t)test_rand(rs);
	p.id = (uint16_t)test_rand(rs);
	p.payload = (uint32_t)(test_rand(rs) % 1400);
	if (p.family == PB_IPV4) {
		p.ip4_optlen = (uint8_t)(4 * (test_rand(rs) % 11));
	} else {
		p.next = (uint8_t)(test_rand(rs) % 4);
		for (int i = 0; i < p.next; i++) {
			p.ext[i] = ext_kinds[test_rand(rs) % sizeof(ext_kinds)];
			p.ext_len[i] = (uint8_t)(8 * (1 + test_rand(rs) % 3));
		}
	}
	for (int i = 0; i < 2 && test_rand(rs) % 3 == 0; i++)
		p.vlan[i] = i ? 0x8100 : 0x88a8;
	return p;
}

/* The packet parses to what p asked for, and its checksums are right. */
static void check_packet(const struct pb_pkt *p, const uint8_t *ip, size_t len)
{
	struct pkt_info pi;
	uint8_t copy[2048];

	assert_int_equal(pkt_parse(ip, len, &pi), 0);
	assert_int_equal(pi.family, p->family == PB_IPV4 ? AF_INET : AF_INET6);
	assert_int_equal(pi.proto, p->proto);
	assert_int_equal(pi.ip_len, len);
	assert_int_equal(pi.l4_off, pb_l4_off(p));
	assert_int_equal(len, pb_l4_off(p) + pb_l4_len(p));
	assert_memory_equal(pi.src, p->src, p->family == PB_IPV4 ? 4 : 16);
	assert_memory_equal(pi.dst, p->dst, p->family == PB_IPV4 ? 4 : 16);
	if (p->proto == 6 || p->proto == 17) {
		assert_true(pi.has_ports);
		assert_int_equal(ntohs(pi.sport), p->sport);
		assert_int_equal(ntohs(pi.dport), p->dport);
	}
	if (p->family == PB_IPV4)
		assert_int_equal(csum_fold(csum_add(0, ip, 20u + p->ip4_optlen)), 0);
	if (p->proto == 6 || p->proto == 17 || p->proto == 1 || p->proto == 58) {
		memcpy(copy, ip, len);
		assert_int_equal(csum_l4(copy, &pi), 0);
		assert_memory_equal(copy, ip, len); /* pkt.c computes the same checksum */
	}
}

static void test_random_packets(void **state)
{
	uint64_t rs = 0x706b7462756964ULL;
	uint8_t frame[2048];

	(void)state;
	for (unsigned i = 0; i < 20000; i++) {
		struct pb_pkt p = random_pkt(&rs);
		size_t len = pb_frame(&p, frame);
		uint16_t l3_off;
		struct pkt_info pi;

		assert_int_equal(pkt_parse_frame(frame, len, &l3_off, &pi), 0);
		assert_int_equal(l3_off, pb_l3_off(&p));
		check_packet(&p, frame + l3_off, len - l3_off);
		assert_int_equal(pb_ip(&p, frame), len - l3_off);
	}
}

/* Raw upper layers keep their bytes; fragments and cut headers get no upper checksum. */
static void test_raw_fragments_cut(void **state)
{
	static const uint8_t udp[12] = {0x13, 0x88, 0, 53, 0, 12, 0xab, 0xcd, 'd', 'a', 't', 'a'};
	struct pb_pkt p = pb_packet("198.51.100.7", "203.0.113.9", 17, 5000, 53);
	struct pkt_info pi;
	uint8_t ip[256];
	size_t len;

	(void)state;
	p.raw = true;
	p.data = udp;
	p.payload = sizeof(udp);
	len = pb_ip(&p, ip);
	assert_int_equal(len, 20 + sizeof(udp));
	assert_memory_equal(ip + 20, udp, sizeof(udp));

	p = pb_packet("2001:db8:1::7", "2001:db8:2::9", 6, 1, 2);
	p.next = 1;
	p.ext[0] = 44;
	p.frag = PB_FRAG_NONFIRST;
	len = pb_ip(&p, ip);
	assert_int_equal(pkt_parse(ip, len, &pi), 0);
	assert_true(pi.fragment && pi.later_fragment && !pi.has_ports);
	assert_int_equal(ip[48 + 16] | ip[48 + 17], 0); /* no TCP checksum */

	p = pb_packet("198.51.100.7", "203.0.113.9", 17, 1, 2);
	p.cut_l4 = 4; /* 3 bytes of the UDP header */
	len = pb_ip(&p, ip);
	assert_int_equal(len, 23);
	assert_int_equal(pkt_parse(ip, len, &pi), 0);
	assert_false(pi.has_ports);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_random_packets),
	    cmocka_unit_test(test_raw_fragments_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
