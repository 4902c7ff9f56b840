// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_esp_burst.c - the burst entry points give what the per-packet ones give:
 * esp_out_burst against esp_out and esp_in_burst against esp_in, packet by packet (result,
 * buffer bytes, offsets; the mode esp_in_burst reports, its array given or NULL) and SA by
 * SA (every counter, the replay window), on randomized bursts (fixed seed) that mix SAs,
 * modes, families, sizes, TFC, ESN, MTU refusals, missing headroom, unfinished checksums,
 * duplicates, reordering, stale and corrupted packets, for every transform and both AES-GCM
 * backends. Also the checksum helpers the fast paths use against a plain 16-bit reference.
 */
#include "esp_fixture.h"
#include "gost_impls.h"

#define NPKT 96
#define NSA  3

static const enum crypto_backend gcm_backends[] = {CRYPTO_IPSECMB, CRYPTO_OPENSSL};

/* Two identical worlds: one driven packet by packet, one by bursts. */
struct world {
	struct sa *sa[NSA];
	struct sp *sp[NSA];
};

static void world_new(struct world *w, enum aead_cipher c, enum crypto_backend be, bool esn,
		      uint32_t tfc)
{
	static const struct {
		int inner, tun;
	} shape[NSA] = {{AF_INET, AF_INET}, {AF_INET6, AF_INET6}, {AF_INET, 0}};

	for (unsigned i = 0; i < NSA; i++) {
		w->sa[i] = fx_sa_cipher(c, 0x100 + i, esn, esn ? 0xfffffff0u : 0, i == 1 ? tfc : 0);
		if (c == AEAD_AES128_GCM || c == AEAD_AES256_GCM) {
			assert_int_equal(sa_use_backend(w->sa[i], be), 0);
		}
		w->sp[i] = fx_sp(w->sa[i], shape[i].inner, shape[i].tun);
		assert_non_null(w->sp[i]);
	}
}

static void world_free(struct world *w)
{
	for (unsigned i = 0; i < NSA; i++) {
		sp_free(w->sp[i]);
		sa_free(w->sa[i]);
	}
}

static void assert_same_sas(const struct world *x, const struct world *y)
{
	for (unsigned i = 0; i < NSA; i++) {
		for (int c = 0; c < SA_C_MAX; c++)
			assert_int_equal(sa_counter(x->sa[i], c), sa_counter(y->sa[i], c));
		assert_int_equal(atomic_load(&x->sa[i]->seq_next),
				 atomic_load(&y->sa[i]->seq_next));
		assert_int_equal(replay_top(&x->sa[i]->replay), replay_top(&y->sa[i]->replay));
	}
}

/* A plaintext packet for policy k of w: UDP or TCP, sometimes with an unfinished checksum,
 * sometimes too short of headroom. */
static void random_packet(struct fx_buf *fb, unsigned k, uint64_t *rs)
{
	uint8_t payload[1500];
	size_t len = test_rand(rs) % 1400 + 8;
	uint8_t proto = test_rand(rs) % 2 ? 17 : 6;
	int family = k == 1 ? AF_INET6 : AF_INET;
	struct pkt_info pi;

	if (proto == 6 && len < 20)
		len = 20;
	for (size_t i = 0; i < len; i++)
		payload[i] = (uint8_t)test_rand(rs);
	fx_packet(fb, family, proto, payload, len);
	assert_int_equal(pkt_parse(fb->b.head + fb->b.off, fb->b.len, &pi), 0);
	if (test_rand(rs) % 4)
		csum_l4(fb->b.head + fb->b.off, &pi); /* complete; else whatever it is */
	if (test_rand(rs) % 3 == 0) { /* unfinished, as an offloading sender leaves it */
		uint8_t *l4 = fb->b.head + fb->b.off + pi.l4_off;
		unsigned at = proto == 6 ? 16 : 6, alen = family == AF_INET ? 4 : 16;
		uint16_t w[2] = {htons(proto), htons((uint16_t)(pi.ip_len - pi.l4_off))}, c;

		c = (uint16_t)~csum_fold(
		    csum_add(csum_add(csum_add(0, pi.src, alen), pi.dst, alen), w, sizeof(w)));
		memcpy(l4 + at, &c, 2);
	}
	if (test_rand(rs) % 29 == 0) { /* no headroom left */
		memmove(fb->mem + 8, fb->b.head + fb->b.off, fb->b.len);
		fb->b.off = 8;
	}
}

static void check_outer_ipv4(const struct pbuf *b)
{
	const uint8_t *ip = b->head + b->off;

	if (ip[0] == 0x45 && ip[9] == IPPROTO_ESP_)
		assert_int_equal(csum_fold(csum_add(0, ip, 20)), 0);
}

static void out_round(enum aead_cipher c, enum crypto_backend be, bool esn, unsigned flags,
		      uint64_t *rs)
{
	static struct fx_buf one[NPKT], many[NPKT];
	struct world w1, wn;
	struct sp *sps[NPKT];
	struct pbuf *bp[NPKT];
	struct pkt_info pi[NPKT];
	uint32_t mtu[NPKT];
	int res1[NPKT], resn[NPKT];
	unsigned k = 0, done = 0;

	world_new(&w1, c, be, esn, 700);
	world_new(&wn, c, be, esn, 700);
	for (unsigned i = 0; i < NPKT; i++) {
		if (test_rand(rs) % 3 == 0) /* runs of one SA, of random length */
			k = test_rand(rs) % NSA;
		random_packet(&one[i], k, rs);
		many[i] = one[i];
		many[i].b.head = many[i].mem;
		mtu[i] = test_rand(rs) % 13 == 0 ? 300 : 1500;
		res1[i] = esp_out(w1.sp[k], &one[i].b, 0, mtu[i], flags);
		sps[i] = wn.sp[k];
		bp[i] = &many[i].b;
		assert_int_equal(pkt_parse(bp[i]->head + bp[i]->off, bp[i]->len, &pi[i]), 0);
	}
	for (unsigned i = 0; i < NPKT;) { /* bursts of 1 to 40 */
		unsigned n = (unsigned)(test_rand(rs) % 40) + 1;

		n = n > NPKT - i ? NPKT - i : n;
		done += esp_out_burst(sps + i, bp + i, pi + i, n, 0, mtu + i, flags, resn + i);
		i += n;
	}
	for (unsigned i = 0; i < NPKT; i++) {
		assert_int_equal(resn[i], res1[i]);
		assert_int_equal(many[i].b.off, one[i].b.off);
		assert_int_equal(many[i].b.len, one[i].b.len);
		assert_memory_equal(many[i].mem, one[i].mem, FX_BUF);
		done -= !resn[i];
		if (!resn[i])
			check_outer_ipv4(&many[i].b);
	}
	assert_int_equal(done, 0);
	assert_same_sas(&w1, &wn);
	world_free(&w1);
	world_free(&wn);
}

static void each_transform(void (*round)(enum aead_cipher, enum crypto_backend, bool, unsigned,
					 uint64_t *))
{
	static const enum aead_cipher gost[] = {AEAD_KUZNYECHIK_MGM, AEAD_MAGMA_MGM,
						AEAD_KUZNYECHIK_MGM_MAC, AEAD_MAGMA_MGM_MAC};
	uint64_t rs = 0x9e3779b97f4a7c15ULL;

	for (unsigned b = 0; b < 2; b++)
		for (unsigned esn = 0; esn < 2; esn++) {
			round(AEAD_AES128_GCM, gcm_backends[b], esn, esn ? ESP_OUT_FIX_CSUM : 0,
			      &rs);
			round(AEAD_AES256_GCM, gcm_backends[b], esn, 0, &rs);
		}
	gost_needed();
	for (unsigned i = 0; i < sizeof(gost) / sizeof(gost[0]); i++)
		round(gost[i], CRYPTO_AUTO, i % 2, 0, &rs);
}

static void test_out_burst(void **state)
{
	(void)state;
	each_transform(out_round);
}

/* --- inbound ------------------------------------------------------------------------------ */

/* A received stream: ESP packets of the NSA SAs of w, with duplicates, reordering, packets
 * from far back, corrupted ones (ICV, SPI, length). */
static unsigned make_stream(struct world *w, struct fx_buf *out, uint64_t *rs)
{
	static struct fx_buf sent[NPKT];
	unsigned n = 0, k = 0;

	for (unsigned i = 0; i < NPKT; i++) {
		if (test_rand(rs) % 3 == 0)
			k = test_rand(rs) % NSA;
		random_packet(&sent[i], k, rs);
		if (sent[i].b.off < FX_HEADROOM) { /* no room to encapsulate: another */
			static const uint8_t zeros[100];

			fx_packet(&sent[i], k == 1 ? AF_INET6 : AF_INET, 17, zeros, sizeof(zeros));
		}
		assert_int_equal(esp_out(w->sp[k], &sent[i].b, 0, 0, 0), 0);
	}
	while (n < NPKT) {
		unsigned r = (unsigned)(test_rand(rs) % 16), from = n;

		if (r == 0 && n > 0) /* a duplicate of a recent one */
			from = n - 1 - (unsigned)(test_rand(rs) % (n < 8 ? n : 8));
		else if (r == 1 && n + 1 < NPKT) /* swapped with the next */
			from = n + 1;
		else if (r == 2 && n > 0) /* the previous one again, later */
			from = n - 1;
		out[n] = sent[from];
		out[n].b.head = out[n].mem;
		if (r == 3) /* ICV */
			out[n].b.head[out[n].b.off + out[n].b.len - 1] ^= 0x40;
		else if (r == 4) /* payload */
			out[n].b.head[out[n].b.off + out[n].b.len / 2] ^= 1;
		n++;
	}
	return n;
}

static void in_round(enum aead_cipher c, enum crypto_backend be, bool esn, unsigned flags,
		     uint64_t *rs)
{
	static struct fx_buf one[NPKT], many[NPKT];
	struct world tx, w1, wn;
	struct sa *sas[NPKT];
	struct pbuf *bp[NPKT];
	struct pkt_info pi[NPKT], pi1;
	int res1[NPKT], resn[NPKT];
	bool tunnel[NPKT], want_tunnel[NPKT], given[NPKT];
	uint64_t replays = 0, icv_fails = 0;
	unsigned n, done = 0, bursts = 0;

	(void)flags;
	world_new(&tx, c, be, esn, 700);
	world_new(&w1, c, be, esn, 700);
	world_new(&wn, c, be, esn, 700);
	n = make_stream(&tx, one, rs);
	for (unsigned i = 0; i < n; i++) {
		uint32_t spi;

		many[i] = one[i];
		many[i].b.head = many[i].mem;
		bp[i] = &many[i].b;
		assert_int_equal(pkt_parse(bp[i]->head + bp[i]->off, bp[i]->len, &pi[i]), 0);
		assert_true(esp_spi(bp[i]->head + bp[i]->off, &pi[i], &spi));
		sas[i] = wn.sa[spi - 0x100];
		want_tunnel[i] = wn.sp[spi - 0x100]->mode == SP_MODE_TUNNEL;
		assert_int_equal(pkt_parse(one[i].b.head + one[i].b.off, one[i].b.len, &pi1), 0);
		res1[i] = esp_in(w1.sa[spi - 0x100], &one[i].b, &pi1, 0);
	}
	for (unsigned i = 0; i < n;) {
		unsigned m = (unsigned)(test_rand(rs) % 40) + 1;

		m = m > n - i ? n - i : m;
		/* every other burst without the tunnel array (NULL is allowed) */
		for (unsigned j = i; j < i + m; j++) {
			given[j] = bursts % 2 == 0;
			tunnel[j] = !want_tunnel[j];
		}
		done += esp_in_burst(sas + i, bp + i, pi + i, m, 0, resn + i,
				     bursts++ % 2 ? NULL : tunnel + i);
		i += m;
	}
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(resn[i], res1[i]);
		/* a decrypted packet reports its mode: tunnel for the SAs of tunnel policies */
		if (given[i] && !resn[i])
			assert_int_equal(tunnel[i], want_tunnel[i]);
		assert_int_equal(many[i].b.off, one[i].b.off);
		assert_int_equal(many[i].b.len, one[i].b.len);
		if (!resn[i]) /* dropped packets may hold whatever opening them left */
			assert_memory_equal(many[i].b.head + many[i].b.off,
					    one[i].b.head + one[i].b.off, one[i].b.len);
		done -= !resn[i];
	}
	assert_int_equal(done, 0);
	for (unsigned i = 0; i < NSA; i++) { /* the stream had them all */
		replays += sa_counter(w1.sa[i], SA_C_replay);
		icv_fails += sa_counter(w1.sa[i], SA_C_icv_fail);
	}
	assert_true(replays > 0 && icv_fails > 0);
	assert_same_sas(&w1, &wn);
	world_free(&tx);
	world_free(&w1);
	world_free(&wn);
}

static void test_in_burst(void **state)
{
	(void)state;
	each_transform(in_round);
}

/* --- checksums ---------------------------------------------------------------------------- */

static uint16_t ref_csum(const uint8_t *p, size_t len)
{
	uint64_t a = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		a += (uint16_t)(p[i] | p[i + 1] << 8); /* little-endian words, as on x86 */
	if (len & 1)
		a += p[i];
	while (a > 0xffff)
		a = (a & 0xffff) + (a >> 16);
	return (uint16_t)~a;
}

/* Bytes mostly 0xff: the sums run close to 2^64, where a lost carry shows. */
static void test_checksums(void **state)
{
	uint64_t rs = 42;
	uint8_t b[64], h[64];

	(void)state;
	for (unsigned n = 0; n < 200000; n++) {
		size_t len = test_rand(&rs) % 64;
		uint16_t got;

		for (size_t i = 0; i < sizeof(b); i++)
			b[i] = test_rand(&rs) % 3 ? 0xff : (uint8_t)test_rand(&rs);
		assert_int_equal(csum_fold(csum_add(0, b, len)), ref_csum(b, len));
		b[0] = (uint8_t)(0x40 | (5 + test_rand(&rs) % 11));
		memcpy(h, b, sizeof(h));
		h[10] = h[11] = 0;
		csum_ipv4_header(b);
		memcpy(&got, b + 10, 2);
		assert_int_equal(got, ref_csum(h, (h[0] & 15) * 4u));
	}
}

static int setup(void **state)
{
	(void)state;
	return crypto_init(CRYPTO_AUTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_out_burst),
	    cmocka_unit_test(test_in_burst),
	    cmocka_unit_test(test_checksums),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
