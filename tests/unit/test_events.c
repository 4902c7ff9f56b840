// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_events.c - the datapath -> control event path and require:ID policies: the SPSC
 * ring (lib/ring.c: order, full, wrap), the event lines (control/events.c: acquire in
 * tunnel and transport mode, with and without ports, IPv6; mapping; an unknown kind
 * writes nothing), require:ID through the command language (a policy before its SA; the
 * directions its waiting policies may take; the SA that binds them must suit them; delete
 * leaves them waiting; replacement and spdflush), and the pipeline (datapath/pipeline.c)
 * with a fake driver and a fake clock: plaintext for a waiting policy is dropped (no_sa),
 * one acquire event per policy per second reaches the ring, a full ring counts its losses,
 * and once the SA is added the same packets are encrypted and the SA's last use is set;
 * XDP's verdict "plaintext for this policy" stands for ESP too (XDP knows the host's
 * addresses, the pipeline does not).
 */
#include <arpa/inet.h>
#include <sys/socket.h>

#include "control/events.h"
#include "ctl_fixture.h"
#include "datapath/pipeline.h"
#include "esp_fixture.h"
#include "lib/ring.h"

#define T0 2000000000ull

#define POL_OUT "spdadd 198.51.100.0/24 203.0.113.0/24 any -P out ipsec " \
	"esp/tunnel/192.0.2.1-192.0.2.2/"
#define POL_IN "spdadd 203.0.113.0/24 198.51.100.0/24 any -P in ipsec " \
	"esp/tunnel/192.0.2.2-192.0.2.1/"
#define ADD_OUT "add 192.0.2.1 192.0.2.2 esp 0x1001 -u 1 -E aes-gcm-16 " KEY1 " ;\n"

/* --- the ring ------------------------------------------------------------------------------ */

static void test_ring(void **state)
{
	struct ring *r = ring_new(5, sizeof(uint64_t));	/* rounded up to 8 */
	uint64_t v;

	(void)state;
	assert_non_null(r);
	assert_false(ring_pop(r, &v));
	for (unsigned round = 0; round < 3; round++) {	/* across the wrap */
		for (uint64_t i = 0; i < 8; i++)
			assert_true(ring_push(r, &(uint64_t){ round * 100 + i }));
		assert_false(ring_push(r, &(uint64_t){ 999 }));	/* full: refused */
		for (uint64_t i = 0; i < 8; i++) {
			assert_true(ring_pop(r, &v));
			assert_int_equal(v, round * 100 + i);
		}
		assert_false(ring_pop(r, &v));
	}
	ring_free(r);
	assert_null(ring_new(0, 8));
	ring_free(NULL);
}

/* --- event lines --------------------------------------------------------------------------- */

static struct ip_addr ip(const char *s)
{
	struct ip_addr a;

	assert_int_equal(addr_parse(s, &a), 0);
	return a;
}

static void test_format(void **state)
{
	struct event ev = { .kind = EVENT_ACQUIRE };
	char line[EVENT_LINE_MAX];
	size_t n;

	(void)state;
	ev.acquire = (struct event_acquire){ .sp_id = 3, .uid = 7, .dir = SP_DIR_OUT,
					     .mode = SP_MODE_TUNNEL, .proto = 1,
					     .src = ip("198.51.100.7"), .dst = ip("203.0.113.9"),
					     .tsrc = ip("192.0.2.1"), .tdst = ip("192.0.2.2") };
	n = event_format(&ev, line, sizeof(line));
	assert_int_equal(n, strlen(line));
	assert_string_equal(line, "acquire uid=7 sp=3 dir=out mode=tunnel tunnel=192.0.2.1-"
			    "192.0.2.2 src=198.51.100.7 dst=203.0.113.9 proto=icmp");
	ev.acquire = (struct event_acquire){ .sp_id = 4, .uid = 4294967295u, .dir = SP_DIR_OUT,
					     .mode = SP_MODE_TRANSPORT, .proto = 6,
					     .has_ports = 1, .sport = 40000, .dport = 443,
					     .src = ip("2001:db8:1::7"), .dst = ip("2001:db8:2::9") };
	event_format(&ev, line, sizeof(line));
	assert_string_equal(line, "acquire uid=4294967295 sp=4 dir=out mode=transport "
			    "src=2001:db8:1::7[40000] dst=2001:db8:2::9[443] proto=tcp");
	ev.acquire.proto = 132;
	ev.acquire.has_ports = 0;
	event_format(&ev, line, sizeof(line));
	assert_string_equal(line, "acquire uid=4294967295 sp=4 dir=out mode=transport "
			    "src=2001:db8:1::7 dst=2001:db8:2::9 proto=132");
	ev = (struct event){ .kind = EVENT_MAPPING };
	ev.mapping = (struct event_mapping){ .spi = 0x1001, .uid = 7, .old_port = 4500,
					     .new_port = 31000,
					     .old_addr = ip("192.0.2.2"),
					     .new_addr = ip("198.51.100.99") };
	event_format(&ev, line, sizeof(line));
	assert_string_equal(line, "mapping spi=0x00001001 uid=7 old=192.0.2.2[4500] "
			    "new=198.51.100.99[31000]");
	ev.kind = 77;	/* a kind this version does not know */
	assert_int_equal(event_format(&ev, line, sizeof(line)), 0);
}

/* --- require:ID through the commands ----------------------------------------------------- */

static void test_require_commands(void **state)
{
	struct gw *g = gw_new();
	char *s;

	(void)state;
	/* unique:ID still needs its SA; require:ID does not */
	s = gw_refuse(g, POL_OUT "unique:1 ;\n");
	assert_contains(s, "no SA with UniqueID 1");
	free(s);
	gw_apply(g, POL_OUT "require:1 ;\n");
	assert_null(sp_sa(spd_first(g->spd)));
	/* the policies waiting for one SA go one way */
	s = gw_refuse(g, "spdadd 203.0.113.0/24 198.51.100.0/24 any -P in ipsec "
			 "esp/tunnel/192.0.2.2-192.0.2.1/require:1 ;\n");
	assert_contains(s, "<t>:1:86: error: UniqueID 1 is named by an out policy already (SP 1)");
	free(s);
	/* the SA must suit them: an IPv6 SA for IPv4 tunnel endpoints is refused whole */
	s = gw_refuse(g, "add 2001:db8::1 2001:db8::2 esp 0x1001 -u 1 -E aes-gcm-16 " KEY1 " ;\n");
	assert_contains(s, "the policy SP 1 waiting for UniqueID 1 has IPv4 tunnel endpoints, "
			"this SA is IPv6");
	free(s);
	assert_int_equal(sad_count(g->sad), 0);
	gw_apply(g, POL_IN "require:2 ;\n"
		    "spdadd 192.0.2.1 192.0.2.2 udp -P out ipsec esp/transport//require:3 ;\n");
	s = gw_refuse(g, "add 192.0.2.1 192.0.2.2 esp 0x3001 -u 3 -E aes-gcm-16 " KEY3
			 " tfc:500 ;\n");
	assert_contains(s, "is transport mode, which cannot carry tfc:500");
	free(s);
	/* the SAs come: bound in place (the policies keep their numbers), directions taken */
	gw_apply(g, ADD_OUT "add 192.0.2.2 192.0.2.1 esp 0x2001 -u 2 -E aes-gcm-16 " KEY2 " ;\n");
	assert_true(sa_is_outbound(sad_by_spi(g->sad, 0x1001)));
	assert_false(sa_is_outbound(sad_by_spi(g->sad, 0x2001)));
	assert_non_null(atomic_load(&sad_by_spi(g->sad, 0x2001)->in_sels));
	s = gw_run(g, "spddump ;\n");
	assert_contains(s, "# SP 1: out, ipsec, tunnel, SA UniqueID 1 (SPI 0x00001001)\n"
			POL_OUT "require:1 ;\n");
	assert_contains(s, "# SP 2: in, ipsec, tunnel, SA UniqueID 2 (SPI 0x00002001)\n"
			POL_IN "require:2 ;\n");
	assert_contains(s, "# SP 3: out, ipsec, transport, SA UniqueID 3 (none yet");
	free(s);
	/* delete: the SA goes, its require:ID policies stay and wait (new numbers) */
	gw_apply(g, "delete 192.0.2.1 192.0.2.2 esp 0x1001 ;\nflush ;\n");
	assert_int_equal(sad_count(g->sad), 0);
	assert_int_equal(spd_count(g->spd), 3);
	for (struct sp *sp = spd_first(g->spd); sp; sp = spd_next(g->spd, sp))
		assert_null(sp_sa(sp));
	/* replaced by a unique:ID policy of an existing SA, a waiting one is gone for good */
	gw_apply(g, "add 192.0.2.1 192.0.2.2 esp 0x1005 -u 5 -E aes-gcm-16 " KEY4 " ;\n"
		    POL_OUT "unique:5 ;\n");
	assert_null(spd_waiting(g->spd, 1));
	gw_apply(g, "spdflush ;\n");
	assert_null(spd_waiting(g->spd, 2));
	assert_null(spd_waiting(g->spd, 3));
	gw_apply(g, "add 192.0.2.2 192.0.2.1 esp 0x2002 -u 2 -E aes-gcm-16 " KEY2 " ;\n");
	assert_false(sa_is_outbound(sad_by_spi(g->sad, 0x2002)));
	assert_null(atomic_load(&sad_by_spi(g->sad, 0x2002)->in_sels));
	gw_free(g);
}

/* --- the pipeline ------------------------------------------------------------------------ */

struct drv {
	unsigned wire, released;
	struct fx_buf bufs[8];
};

static void d_wire(void *drv, struct pipe_pkt *p, const struct nexthop *nh)
{
	(void)p, (void)nh;
	((struct drv *)drv)->wire++;
}

static bool d_copy(void *drv, const uint8_t *ip, uint32_t len)
{
	(void)drv, (void)ip, (void)len;
	return true;
}

static void d_release(void *drv, struct pipe_pkt *p)
{
	(void)p;
	((struct drv *)drv)->released++;
}

static bool d_alloc(void *drv, struct pipe_pkt *p)
{
	(void)drv, (void)p;
	return false;
}

static int d_route(void *drv, int family, const uint8_t *dst, bool inner, struct nexthop *nh)
{
	(void)drv, (void)family, (void)dst, (void)inner;
	*nh = (struct nexthop){ .ifindex = 1, .mtu = 1500, .resolved = true, .unicast = true };
	return 0;
}

static const struct pipe_ports ports = { d_wire, d_copy, d_copy, d_release, d_release,
					 d_alloc, d_route };

/* n ICMP packets 198.51.100.7 -> 203.0.113.9 through the pipeline, as if from the wire
 * with no XDP hint (so classify.c decides, as XDP would: an out ipsec policy). */
static void burst(struct pipe *pp, struct drv *d, unsigned n)
{
	struct pipe_pkt pkts[8];
	uint8_t payload[64] = { 8 };

	assert_true(n <= 8);
	for (unsigned i = 0; i < n; i++) {
		fx_packet(&d->bufs[i], AF_INET, 1, payload, sizeof(payload));
		pkts[i] = (struct pipe_pkt){ .b = d->bufs[i].b, .from = PIPE_FROM_FILE };
		assert_int_equal(pkt_parse(pkts[i].b.head + pkts[i].b.off, pkts[i].b.len,
					   &pkts[i].pi), 0);
	}
	pipe_burst(pp, pkts, n);
}

static unsigned drain(struct ring *r, char *last, size_t size)
{
	struct event ev;
	unsigned n = 0;

	while (ring_pop(r, &ev)) {
		assert_int_equal(ev.kind, EVENT_ACQUIRE);
		event_format(&ev, last, size);
		n++;
	}
	return n;
}

static void test_pipeline_acquire(void **state)
{
	struct gw *g = gw_new();
	struct drv d = { 0 };
	struct ring *r = ring_new(2, sizeof(struct event));
	struct pipe pp = { .sad = g->sad, .spd = g->spd, .ports = &ports, .drv = &d, .events = r };
	char line[EVENT_LINE_MAX];
	struct sa *sa;

	(void)state;
	clock_fake_ms(T0);
	gw_apply(g, POL_OUT "require:1 ;\n");
	burst(&pp, &d, 5);
	assert_int_equal(d.released, 5);
	assert_int_equal(d.wire, 0);
	assert_int_equal(pipe_counter(&pp, P_C_no_sa), 5);
	assert_int_equal(pipe_counter(&pp, P_C_plain_out), 0);
	assert_int_equal(drain(r, line, sizeof(line)), 1);	/* one per second */
	assert_string_equal(line, "acquire uid=1 sp=1 dir=out mode=tunnel tunnel=192.0.2.1-"
			    "192.0.2.2 src=198.51.100.7 dst=203.0.113.9 proto=icmp");
	clock_fake_ms(T0 + 900);
	burst(&pp, &d, 1);
	assert_int_equal(drain(r, line, sizeof(line)), 0);
	clock_fake_ms(T0 + 1000);
	burst(&pp, &d, 1);
	assert_int_equal(drain(r, line, sizeof(line)), 1);
	/* a full ring loses events and counts them */
	gw_apply(g, "spdadd 198.51.100.0/24 203.0.113.0/25 any -P out ipsec "
		    "esp/tunnel/192.0.2.1-192.0.2.3/require:2 ;\n"
		    "spdadd 198.51.100.0/25 203.0.113.0/24 icmp -P out ipsec "
		    "esp/tunnel/192.0.2.1-192.0.2.4/require:3 ;\n");
	clock_fake_ms(T0 + 2000);
	burst(&pp, &d, 1);	/* 203.0.113.9: the /25 policy */
	clock_fake_ms(T0 + 3000);
	burst(&pp, &d, 1);
	clock_fake_ms(T0 + 4000);
	burst(&pp, &d, 1);
	assert_int_equal(pipe_counter(&pp, P_C_event_lost), 1);
	assert_int_equal(drain(r, line, sizeof(line)), 2);
	assert_contains(line, "acquire uid=2 sp=2 ");
	/* the SA comes: the same traffic is encrypted, and its last use is now */
	gw_apply(g, "spdflush ;\n" POL_OUT "require:1 ;\n" ADD_OUT);
	sa = sad_by_spi(g->sad, 0x1001);
	assert_int_equal(atomic_load(&sa->last_use), 0);
	clock_fake_ms(T0 + 7000);
	burst(&pp, &d, 3);
	assert_int_equal(d.wire, 3);
	assert_int_equal(pipe_counter(&pp, P_C_plain_out), 3);
	assert_int_equal(sa_counter(sa, SA_C_out_packets), 3);
	assert_int_equal(atomic_load(&sa->last_use), clock_coarse_of_ms(T0 + 7000));
	assert_int_equal(drain(r, line, sizeof(line)), 0);
	ring_free(r);
	gw_free(g);
	clock_fake_ms(0);
}

/* ESP that XDP redirected as plaintext for an out ipsec policy (its destination is not an
 * address of this host, say an address that moved to another gateway) is encrypted as XDP
 * decided, never decrypted with the inbound SA whose SPI and addresses it carries. Without
 * XDP before it (pcap mode) the same packet is inbound ESP. */
static void test_pipeline_esp_hinted_as_plaintext(void **state)
{
	struct gw *g = gw_new();
	struct drv d = { 0 };
	struct pipe pp = { .sad = g->sad, .spd = g->spd, .ports = &ports, .drv = &d };
	struct pb_pkt esp = { .proto = 50, .spi = 0x2002, .seq = 1, .payload = 64, .df = true };
	struct pipe_pkt pkt;

	(void)state;
	gw_apply(g, "add 192.0.2.1 192.0.2.3 esp 0x1001 -u 1 -E aes-gcm-16 " KEY1 " ;\n"
		    "add 192.0.2.2 192.0.2.1 esp 0x2002 -u 2 -E aes-gcm-16 " KEY2 " ;\n"
		    "spdadd 192.0.2.0/24 192.0.2.0/24 any -P out ipsec "
		    "esp/tunnel/192.0.2.1-192.0.2.3/unique:1 ;\n");
	esp.family = pb_addr("192.0.2.2", esp.src);
	pb_addr("192.0.2.1", esp.dst);
	for (int hinted = 1; hinted >= 0; hinted--) {
		memset(d.bufs[0].mem, 0, sizeof(d.bufs[0].mem));
		d.bufs[0].b = (struct pbuf){ .head = d.bufs[0].mem, .size = sizeof(d.bufs[0].mem),
					     .off = FX_HEADROOM,
					     .len = (uint32_t)pb_ip(&esp, d.bufs[0].mem + FX_HEADROOM) };
		pkt = (struct pipe_pkt){ .b = d.bufs[0].b,
					 .from = hinted ? PIPE_FROM_WIRE : PIPE_FROM_FILE,
					 .hint = hinted ? spd_first(g->spd)->id : 0 };
		assert_int_equal(pkt_parse(pkt.b.head + pkt.b.off, pkt.b.len, &pkt.pi), 0);
		pipe_burst(&pp, &pkt, 1);
	}
	assert_int_equal(pipe_counter(&pp, P_C_plain_out), 1);	/* hinted: encrypted */
	assert_int_equal(d.wire, 1);
	assert_int_equal(pipe_counter(&pp, P_C_esp_in), 1);	/* from a file: inbound ESP */
	gw_free(g);
}

/* stats: last_use, age and idle from the fake clock */
static void test_stats_use(void **state)
{
	struct gw *g;
	char *s;

	(void)state;
	clock_fake_ms(T0);
	g = gw_new();
	gw_apply(g, ADD_OUT POL_OUT "unique:1 ;\n");
	clock_fake_ms(T0 + 5000);
	s = gw_run(g, "stats ;\n");
	assert_contains(s, " last_use=0 age=5 idle=5\n");
	free(s);
	atomic_store(&sad_by_spi(g->sad, 0x1001)->last_use, clock_coarse_of_ms(T0 + 3000));
	clock_fake_ms(T0 + 9000);
	s = gw_run(g, "stats ;\n");
	assert_contains(s, " age=9 idle=6\n");
	assert_lacks(s, " last_use=0 ");
	free(s);
	gw_free(g);
	clock_fake_ms(0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_require_commands),
		cmocka_unit_test(test_pipeline_acquire),
		cmocka_unit_test(test_pipeline_esp_hinted_as_plaintext),
		cmocka_unit_test(test_stats_use),
	};

	crypto_init(CRYPTO_AUTO);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
