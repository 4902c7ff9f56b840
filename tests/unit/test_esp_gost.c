// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_esp_gost.c - the GOST transforms of RFC 9227 at the ESP level (esp_out.c, esp_in.c
 * over crypto_gost.c): every example packet of Appendix A decrypted by esp_in into the
 * example's inner packet and the inner packet encrypted by esp_out_seq_iv into the
 * example's ESP packet, byte-exact; then, for the four transforms with and without ESN:
 * replay and reordering within the window across a leaf-key change, ESN across 2^32 (and
 * exhaustion without it), the payload in clear for the MAC-only transforms, and forged
 * tree indices: refused by the replay pre-check before any key derivation when the SN is a
 * replay, and otherwise costing the derivations of one leaf and nothing for genuine
 * traffic afterwards (the previous-leaf cache of RFC 9227 4.8). The whole group runs once
 * per block cipher implementation (gost_impls.h).
 */
#include "esp_fixture.h"

#include <inttypes.h>

#include "crypto/crypto_gost.h"
#include "lib/bytes.h"
#include "gost_impls.h"
#include "../data/rfc9227_vectors.h"

static const enum aead_cipher gost_ciphers[] = {
    AEAD_KUZNYECHIK_MGM,
    AEAD_MAGMA_MGM,
    AEAD_KUZNYECHIK_MGM_MAC,
    AEAD_MAGMA_MGM_MAC,
};
#define N_CIPHERS (sizeof(gost_ciphers) / sizeof(gost_ciphers[0]))

static bool is_mac(enum aead_cipher c)
{
	return c == AEAD_KUZNYECHIK_MGM_MAC || c == AEAD_MAGMA_MGM_MAC;
}

static int setup(void **state)
{
	(void)state;
	return gost_setup("test_esp_gost");
}

static int teardown(void **state)
{
	(void)state;
	crypto_fini();
	return 0;
}

/* --- RFC 9227 Appendix A at the ESP level ---------------------------------------------- */

/* One example, decoded: the complete packet, and what ESP needs to rebuild it. */
struct example {
	enum esp_alg alg;
	uint8_t tkey[44], packet[128], inner[128], iv[8];
	size_t tklen, plen, inner_len;
	uint32_t spi, sn;
};

static void decode_example(const struct rfc9227_pkt *v, struct example *ex)
{
	uint8_t payload[128];
	size_t n;

	ex->alg = is_mac(v->c) ? ESP_ALG_GOST_MAC : ESP_ALG_GOST;
	ex->tklen = hex_decode(v->tkey, ex->tkey, sizeof(ex->tkey));
	ex->plen = hex_decode(v->esp, ex->packet, sizeof(ex->packet));
	assert_int_equal(hex_decode(v->iv, ex->iv, sizeof(ex->iv)), 8);
	/* The ESP payload (inner | padding | pad length | next header): the plaintext, or
	 * for MAC-only what follows SPI | SN | IV in the AAD. */
	if (is_mac(v->c)) {
		uint8_t aad[128];

		n = hex_decode(v->aad, aad, sizeof(aad)) - 16;
		memcpy(payload, aad + 16, n);
	} else {
		n = hex_decode(v->pt, payload, sizeof(payload));
	}
	assert_int_equal(payload[n - 1], 4); /* next header: IPv4, tunnel mode */
	ex->inner_len = n - 2 - payload[n - 2];
	memcpy(ex->inner, payload, ex->inner_len);
	assert_int_equal(rd16(ex->inner + 2), ex->inner_len);
	/* outer IPv4 (20) | SPI | SN | IV */
	assert_int_equal(ex->packet[0], 0x45);
	assert_int_equal(ex->packet[9], IPPROTO_ESP_);
	ex->spi = rd32(ex->packet + 20);
	ex->sn = rd32(ex->packet + 24);
	assert_memory_equal(ex->packet + 28, ex->iv, 8);
}

/* The example's inner packet goes from 10.111.10.197 to 10.111.10.29, like its tunnel. */
static struct sp *example_sp(struct sa *sa)
{
	struct sp_params c = {.proto = SP_PROTO_ANY, .dir = SP_DIR_OUT, .action = SP_IPSEC,
			      .uid = sa->uid, .mode = SP_MODE_TUNNEL};

	addr_parse("10.111.10.197", &c.src.addr);
	addr_parse("10.111.10.29", &c.dst.addr);
	c.src.plen = c.dst.plen = 32;
	addr_parse("10.111.10.197", &c.tsrc);
	addr_parse("10.111.10.29", &c.tdst);
	return sp_new(&c, sa);
}

static void load(struct fx_buf *fb, const uint8_t *pkt, size_t len)
{
	memset(fb->mem, 0xee, sizeof(fb->mem));
	memcpy(fb->mem + FX_HEADROOM, pkt, len);
	fb->b = (struct pbuf){
	    .head = fb->mem, .size = sizeof(fb->mem), .off = FX_HEADROOM, .len = (uint32_t)len};
}

static size_t first_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
	size_t i = 0;

	while (i < n && a[i] == b[i])
		i++;
	return i;
}

/* (a) The complete example packet through esp_in: exactly the example's inner packet. The
 * SA's seq puts the window's top at SN - 1, so the example SN is the next expected. */
static void example_decrypt(const struct rfc9227_pkt *v)
{
	struct example ex;
	struct fx_buf fb;
	struct sa *sa;
	int err;

	decode_example(v, &ex);
	sa = fx_sa(ex.alg, ex.tkey, ex.tklen, ex.spi, false, ex.sn, 0);
	assert_int_equal(sa->cipher, v->c);
	load(&fb, ex.packet, ex.plen);
	err = fx_in(sa, &fb.b);
	if (err)
		fail_msg("%s: esp_in %d", v->name, err);
	if (fb.b.len != ex.inner_len || memcmp(fb.b.head + fb.b.off, ex.inner, ex.inner_len))
		fail_msg("%s: inner packet differs (len %u, want %zu; first byte off %zu)", v->name,
			 fb.b.len, ex.inner_len,
			 first_diff(fb.b.head + fb.b.off, ex.inner, ex.inner_len));
	assert_int_equal(sa_counter(sa, SA_C_in_packets), 1);
	assert_int_equal(crypto_gost_derivations(&sa->aead), 3);
	/* Again: a replay, refused before any derivation. */
	load(&fb, ex.packet, ex.plen);
	assert_int_equal(fx_in(sa, &fb.b), ESP_DROP(SA_C_replay));
	assert_int_equal(crypto_gost_derivations(&sa->aead), 3);
	sa_free(sa);
}

/* (b) The inner packet through esp_out_seq_iv with the example's SN and IV: the ESP part
 * (SPI through ICV) byte-exact. Of the outer IPv4 header esper-xdp sets version/IHL, TOS
 * (DSCP and ECN copied from the inner, RFC 6040: 0x00 here), total length, flags (DF
 * copied from the inner: clear here, so 0x0000), protocol and the tunnel addresses: these
 * must match. Two fields are the encapsulator's own choice and differ: the Identification
 * (esper-xdp uses the low 16 bits of the SN, the example's sender its own counter, e.g.
 * 0x004d for SN 1) and the TTL (esper-xdp 64, the example 255); the header checksum
 * follows from them, so it is checked for validity, not equality. */
static void example_encrypt(const struct rfc9227_pkt *v)
{
	struct example ex;
	struct fx_buf fb;
	struct sa *sa;
	struct sp *sp;
	uint8_t *o;
	int err;

	decode_example(v, &ex);
	sa = fx_sa(ex.alg, ex.tkey, ex.tklen, ex.spi, false, 0, 0);
	sp = example_sp(sa);
	assert_non_null(sp);
	load(&fb, ex.inner, ex.inner_len);
	err = esp_out_seq_iv(sp, &fb.b, 0, 0, 0, ex.sn, ex.iv);
	if (err)
		fail_msg("%s: esp_out_seq_iv %d", v->name, err);
	o = fb.b.head + fb.b.off;
	assert_int_equal(fb.b.len, ex.plen);
	if (memcmp(o + 20, ex.packet + 20, ex.plen - 20))
		fail_msg("%s: ESP part differs from byte %zu of the packet", v->name,
			 20 + first_diff(o + 20, ex.packet + 20, ex.plen - 20));
	assert_memory_equal(o, ex.packet, 4);		/* version/IHL, TOS, total length */
	assert_memory_equal(o + 6, ex.packet + 6, 2);	/* flags, fragment offset */
	assert_int_equal(o[9], ex.packet[9]);		/* protocol 50 */
	assert_memory_equal(o + 12, ex.packet + 12, 8); /* addresses */
	assert_int_equal(rd16(o + 4), ex.sn & 0xffff);
	assert_int_equal(o[8], 64);
	assert_int_equal(csum_fold(csum_add(0, o, 20)), 0);
	assert_int_equal(crypto_gost_derivations(&sa->aead), 3);
	sp_free(sp);
	sa_free(sa);
}

static void test_rfc9227_decrypt(void **state)
{
	(void)state;
	for (size_t i = 0; i < RFC9227_NPKTS; i++)
		example_decrypt(&rfc9227_pkts[i]);
}

static void test_rfc9227_encrypt(void **state)
{
	(void)state;
	for (size_t i = 0; i < RFC9227_NPKTS; i++)
		example_encrypt(&rfc9227_pkts[i]);
}

/* Both examples of a transform (same key) through one receiving SA, its window at SN 1:
 * the second example's leaf shares level 1 (or levels 1 and 2) with the first's. */
static void test_rfc9227_one_sa(void **state)
{
	(void)state;
	for (size_t i = 0; i + 1 < RFC9227_NPKTS; i += 2) {
		const struct rfc9227_pkt *v1 = &rfc9227_pkts[i], *v2 = &rfc9227_pkts[i + 1];
		struct example e1, e2;
		struct fx_buf fb;
		struct sa *sa;
		uint64_t cost2;

		decode_example(v1, &e1);
		decode_example(v2, &e2);
		assert_int_equal(v1->c, v2->c);
		assert_memory_equal(e1.tkey, e2.tkey, e1.tklen);
		assert_int_equal(e1.spi, e2.spi);
		cost2 = v1->i1 != v2->i1 ? 3 : v1->i2 != v2->i2 ? 2 : 1;
		sa = fx_sa(e1.alg, e1.tkey, e1.tklen, e1.spi, false, 1, 0);
		load(&fb, e2.packet, e2.plen); /* the higher SN first: the other is reordered */
		assert_int_equal(fx_in(sa, &fb.b), 0);
		assert_memory_equal(fb.b.head + fb.b.off, e2.inner, e2.inner_len);
		assert_int_equal(crypto_gost_derivations(&sa->aead), 3);
		load(&fb, e1.packet, e1.plen);
		assert_int_equal(fx_in(sa, &fb.b), 0);
		assert_memory_equal(fb.b.head + fb.b.off, e1.inner, e1.inner_len);
		assert_int_equal(crypto_gost_derivations(&sa->aead), 3 + cost2);
		/* replays cost nothing */
		load(&fb, e2.packet, e2.plen);
		assert_int_equal(fx_in(sa, &fb.b), ESP_DROP(SA_C_replay));
		load(&fb, e1.packet, e1.plen);
		assert_int_equal(fx_in(sa, &fb.b), ESP_DROP(SA_C_replay));
		assert_int_equal(crypto_gost_derivations(&sa->aead), 3 + cost2);
		sa_free(sa);
	}
}

/* --- replay, reordering, ESN, leaf changes ----------------------------------------------- */

#define RUN	   1100 /* packets per run: more than the 1024-packet window */
#define PKT_MAX	   200
#define LEAF_SPLIT 600 /* packet index where the sender's leaf key changes */

static uint8_t pkts[RUN][PKT_MAX];
static uint32_t lens[RUN];

/* n packets through esp_out (tunnel 4in4), packet i with payload byte 0 = i. */
static void seal_run(struct sp *sp, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint8_t payload[24];
		struct fx_buf fb;
		int err;

		memset(payload, 0x5c, sizeof(payload));
		payload[0] = (uint8_t)i;
		payload[1] = (uint8_t)(i >> 8);
		fx_packet(&fb, AF_INET, 17, payload, sizeof(payload));
		err = esp_out(sp, &fb.b, 0, 0, 0);
		if (err)
			fail_msg("%s: esp_out of packet %u: %d", aead_cipher_name(sp->sa->cipher),
				 i, err);
		assert_true(fb.b.len <= PKT_MAX);
		memcpy(pkts[i], fb.b.head + fb.b.off, fb.b.len);
		lens[i] = fb.b.len;
	}
}

static int receive(struct sa *rx, const uint8_t *pkt, uint32_t len)
{
	struct fx_buf fb;

	load(&fb, pkt, len);
	return fx_in(rx, &fb.b);
}

/* Packet i of the run received: accepted, and the inner packet is packet i's. */
static void recv_ok(struct sa *rx, unsigned i)
{
	struct fx_buf fb;
	int err;

	load(&fb, pkts[i], lens[i]);
	err = fx_in(rx, &fb.b);
	if (err)
		fail_msg("%s esn=%d: packet %u refused: %d", aead_cipher_name(rx->cipher), rx->esn,
			 i, err);
	assert_int_equal(fb.b.len, 20 + 24);
	assert_int_equal(fb.b.head[fb.b.off + 20], (uint8_t)i);
	assert_int_equal(fb.b.head[fb.b.off + 21], (uint8_t)(i >> 8));
}

static void recv_drop(struct sa *rx, unsigned i, enum sa_counter why)
{
	int err = receive(rx, pkts[i], lens[i]);

	if (err != ESP_DROP(why))
		fail_msg("%s esn=%d: packet %u: %d, want drop %s", aead_cipher_name(rx->cipher),
			 rx->esn, i, err, sa_counter_names[why]);
}

static uint64_t rx_derivations(const struct sa *rx)
{
	return crypto_gost_derivations(&rx->aead);
}

/*
 * One run of RUN packets, its SN from `first`: with ESN across 2^32, without it up to the
 * last number 2^32-1 (then refused). The sender's key tree moves from leaf (0, 0, 0) to
 * (0, 0, 1) at packet LEAF_SPLIT. The receiver gets them out of order, with duplicates and
 * packets left of the window; it derives (0, 0, 0) once (3 KDF calls) and (0, 0, 1) once
 * (1 call), however the two leaves' packets interleave.
 */
static void replay_run(enum aead_cipher c, bool esn)
{
	uint64_t first = esn ? 0xfffffe00ULL : 0xffffffffULL - (RUN - 1);
	struct sa *tx = fx_sa_cipher(c, 0x4000, esn, first, 0);
	struct sa *rx = fx_sa_cipher(c, 0x4000, esn, first, 0);
	struct sp *sp = fx_sp(tx, AF_INET, AF_INET);
	struct fx_buf fb;
	uint8_t pl[8] = {0};

	assert_int_equal(crypto_gost_set_iv(&tx->aead, first, 0, 0, 0,
					    (1u << crypto_gost_pnum_bits(&tx->aead)) - LEAF_SPLIT),
			 0);
	seal_run(sp, RUN);
	/* the IV on the wire: i1 | i2 | i3 | pnum, the last pnum of leaf 0, then leaf 1 */
	{
		uint32_t last = (1u << crypto_gost_pnum_bits(&tx->aead)) - 1;
		uint8_t want[8] = { 0, 0, 0, 0, 0, (uint8_t)(last >> 16), (uint8_t)(last >> 8),
				    (uint8_t)last };

		assert_memory_equal(pkts[LEAF_SPLIT - 1] + 28, want, 8);
		assert_memory_equal(pkts[LEAF_SPLIT] + 28, "\0\0\0\0\1\0\0\0", 8);
	}

	recv_ok(rx, 5);
	recv_ok(rx, 2); /* reordered */
	recv_drop(rx, 5, SA_C_replay);
	recv_drop(rx, 2, SA_C_replay);
	assert_int_equal(rx_derivations(rx), 3);
	recv_ok(rx, 1030); /* top: first + 1030; leaf (0, 0, 1) */
	assert_int_equal(rx_derivations(rx), 4);
	/* window 1024 below the top: packet 7 and up acceptable, 6 too old; with ESN its low
	 * half left of the window means the next 2^32 block (RFC 4303 A2.2): the ICV fails */
	recv_drop(rx, 6, esn ? SA_C_icv_fail : SA_C_replay);
	recv_ok(rx, 7); /* the previous leaf */
	/* the two leaves' packets alternating: both stay cached */
	for (unsigned a = 8, b = LEAF_SPLIT + 1; a < LEAF_SPLIT || b < 1030;) {
		if (a < LEAF_SPLIT)
			recv_ok(rx, a++);
		if (b < 1030)
			recv_ok(rx, b++);
	}
	recv_ok(rx, LEAF_SPLIT);
	for (unsigned i = RUN - 1; i > 1030; i--)
		recv_ok(rx, i);
	recv_drop(rx, 1099, SA_C_replay);
	recv_drop(rx, 600, SA_C_replay);
	recv_drop(rx, 0, esn ? SA_C_icv_fail : SA_C_replay);
	assert_int_equal(rx_derivations(rx), 4);
	assert_int_equal(replay_top(&rx->replay), first + RUN - 1);
	if (esn)
		assert_true(replay_top(&rx->replay) > 0xffffffffULL);
	assert_int_equal(sa_counter(rx, SA_C_icv_fail), esn ? 2 : 0);
	assert_int_equal(sa_counter(rx, SA_C_replay), esn ? 4 : 6);
	assert_int_equal(sa_counter(rx, SA_C_in_packets), RUN - 5); /* not 0, 1, 3, 4, 6 */
	/* Without ESN the sender has used 2^32-1: the next packet is refused. */
	fx_packet(&fb, AF_INET, 17, pl, sizeof(pl));
	assert_int_equal(esp_out(sp, &fb.b, 0, 0, 0), esn ? 0 : ESP_DROP(SA_C_seq_exhausted));
	sp_free(sp);
	sa_free(tx);
	sa_free(rx);
}

static void test_replay_reorder_esn(void **state)
{
	(void)state;
	for (size_t c = 0; c < N_CIPHERS; c++)
		for (int esn = 0; esn < 2; esn++)
			replay_run(gost_ciphers[c], esn);
}

/* ESN across 2^32 with a window well behind it: packets just below 2^32 arriving after
 * packets above it get the high half 0, those above it 1; the AAD carries it. */
static void esn_cross(enum aead_cipher c)
{
	struct sa *tx = fx_sa_cipher(c, 0x5000, true, 0xfffffffdULL, 0);
	struct sa *rx = fx_sa_cipher(c, 0x5000, true, 0xfffffffdULL, 0);
	struct sp *sp = fx_sp(tx, AF_INET, AF_INET6); /* 4in6 */
	static const unsigned order[] = {7, 1, 3, 0, 6, 2, 5, 4};

	seal_run(sp, 8); /* SN 0xfffffffd .. 0x100000004 */
	/* SN on the wire: the low half only */
	assert_memory_equal(pkts[3] + 40 + 4, "\0\0\0\0", 4);
	for (size_t k = 0; k < 8; k++) {
		struct fx_buf fb;

		load(&fb, pkts[order[k]], lens[order[k]]);
		assert_int_equal(fx_in(rx, &fb.b), 0);
		assert_int_equal(fb.b.len, 20 + 24);
		assert_int_equal(fb.b.head[fb.b.off + 20], order[k]);
	}
	assert_int_equal(replay_top(&rx->replay), 0x100000004ULL);
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(receive(rx, pkts[i], lens[i]), ESP_DROP(SA_C_replay));
	/* two leaves, either side of 2^32 (IV = f(SN)): 3 KDF calls for the first, then the
	 * leaf alone (Kuznyechik: i3 changes) or level 2 and the leaf (Magma: i2 changes) */
	assert_int_equal(crypto_gost_derivations(&rx->aead),
			 crypto_gost_pnum_bits(&rx->aead) == 24 ? 4 : 5);
	/* A receiver without ESN, same key: the 12-byte AAD differs, every ICV fails. */
	sa_free(rx);
	rx = fx_sa_cipher(c, 0x5000, false, 0xfffffffdULL, 0);
	assert_int_equal(receive(rx, pkts[0], lens[0]), ESP_DROP(SA_C_icv_fail));
	sp_free(sp);
	sa_free(tx);
	sa_free(rx);
}

static void test_esn_across_2_32(void **state)
{
	(void)state;
	for (size_t c = 0; c < N_CIPHERS; c++)
		esn_cross(gost_ciphers[c]);
}

/* gost encrypts the ESP payload; gost-mac sends it in clear (RFC 9227 4.7.1) and
 * authenticates it, with the IV, as AAD. */
static void test_mac_only_in_clear(void **state)
{
	(void)state;
	for (size_t c = 0; c < N_CIPHERS; c++) {
		struct sa *tx = fx_sa_cipher(gost_ciphers[c], 0x6000, false, 0, 0);
		struct sa *rx = fx_sa_cipher(gost_ciphers[c], 0x6000, false, 0, 0);
		struct sp *sp = fx_sp(tx, AF_INET, AF_INET);
		uint8_t payload[40], inner[100];
		struct fx_buf fb;
		uint32_t ilen;
		const uint8_t *o;
		bool clear;

		memset(payload, 0xa5, sizeof(payload));
		fx_packet(&fb, AF_INET, 17, payload, sizeof(payload));
		ilen = fb.b.len;
		memcpy(inner, fb.b.head + fb.b.off, ilen);
		assert_int_equal(esp_out(sp, &fb.b, 0, 0, 0), 0);
		o = fb.b.head + fb.b.off;
		/* outer 20 | ESP 8 | IV 8 | inner 60 | padding 2 | pad length | next header | ICV
		 */
		assert_int_equal(fb.b.len, 20 + 16 + ilen + 2 + 2 + tx->icv_len);
		clear =
		    !memcmp(o + 36, inner, ilen) && o[36 + ilen + 2] == 2 && o[36 + ilen + 3] == 4;
		if (clear != is_mac(gost_ciphers[c]))
			fail_msg("%s: payload %s", aead_cipher_name(gost_ciphers[c]),
				 clear ? "in clear" : "encrypted");
		assert_int_equal(fx_in(rx, &fb.b), 0);
		assert_int_equal(fb.b.len, ilen);
		assert_memory_equal(fb.b.head + fb.b.off, inner, ilen);
		sp_free(sp);
		sa_free(tx);
		sa_free(rx);
	}
}

/* --- forged tree indices --------------------------------------------------------------- */

/* Packet i with IV byte k (0: i1, 1-2: i2, 3-4: i3) changed to val. */
static int receive_forged(struct sa *rx, unsigned i, unsigned k, uint8_t val)
{
	uint8_t p[PKT_MAX];

	memcpy(p, pkts[i], lens[i]);
	p[20 + 8 + k] = val;
	return receive(rx, p, lens[i]);
}

static void forged_run(enum aead_cipher c, bool esn)
{
	uint64_t first = esn ? 0x1fffffff0ULL : 1;
	struct sa *tx = fx_sa_cipher(c, 0x7000, esn, first, 0);
	struct sa *rx = fx_sa_cipher(c, 0x7000, esn, first, 0);
	struct sp *sp = fx_sp(tx, AF_INET, AF_INET);
	const char *name = aead_cipher_name(c);

	seal_run(sp, 8);
	recv_ok(rx, 0);
	recv_ok(rx, 1);
	recv_ok(rx, 3);
	assert_int_equal(rx_derivations(rx), 3);

	/* The SN is a replay: refused by the pre-check, no derivation, no ICV check. */
	for (unsigned k = 0; k < 5; k++) {
		assert_int_equal(receive_forged(rx, 1, k, 0x5a), ESP_DROP(SA_C_replay));
		assert_int_equal(receive_forged(rx, 3, k, 0xa5), ESP_DROP(SA_C_replay));
	}
	if (rx_derivations(rx) != 3)
		fail_msg("%s esn=%d: a replayed SN with forged indices derived keys", name, esn);
	assert_int_equal(sa_counter(rx, SA_C_icv_fail), 0);
	assert_int_equal(sa_counter(rx, SA_C_replay), 10);

	/* A fresh SN: the forged leaf is derived (one leaf: i3 alone 1 KDF call, a new i2 2,
	 * a new i1 3) and its ICV fails; the window does not move. */
	assert_int_equal(receive_forged(rx, 2, 4, 0x01), ESP_DROP(SA_C_icv_fail));
	if (rx_derivations(rx) != 4)
		fail_msg("%s esn=%d: forged i3 cost %" PRIu64 " KDF calls, want 1", name, esn,
			 rx_derivations(rx) - 3);
	assert_int_equal(receive_forged(rx, 4, 0, 0x80), ESP_DROP(SA_C_icv_fail));
	if (rx_derivations(rx) != 7)
		fail_msg("%s esn=%d: forged i1 cost %" PRIu64 " KDF calls, want 3", name, esn,
			 rx_derivations(rx) - 4);
	assert_int_equal(receive_forged(rx, 5, 2, 0x33), ESP_DROP(SA_C_icv_fail));
	assert_int_equal(rx_derivations(rx), 9);
	assert_int_equal(sa_counter(rx, SA_C_icv_fail), 3);

	/* The genuine packets with those SNs: accepted, the genuine leaf still cached. */
	recv_ok(rx, 2);
	recv_ok(rx, 4);
	recv_ok(rx, 5);
	recv_ok(rx, 7);
	recv_ok(rx, 6);
	if (rx_derivations(rx) != 9)
		fail_msg("%s esn=%d: genuine traffic re-derived after forgeries", name, esn);
	/* And now all replays, forged or not, cost nothing. */
	for (unsigned i = 0; i < 8; i++) {
		recv_drop(rx, i, SA_C_replay);
		assert_int_equal(receive_forged(rx, i, 0, 0x77), ESP_DROP(SA_C_replay));
	}
	assert_int_equal(rx_derivations(rx), 9);
	assert_int_equal(sa_counter(rx, SA_C_in_packets), 8);
	sp_free(sp);
	sa_free(tx);
	sa_free(rx);
}

static void test_forged_indices(void **state)
{
	(void)state;
	for (size_t c = 0; c < N_CIPHERS; c++)
		for (int esn = 0; esn < 2; esn++)
			forged_run(gost_ciphers[c], esn);
}

/* A forged SN left of the window with forged indices: the replay check, no keys. Without
 * ESN only: with ESN a low half left of the window means the next 2^32 block (RFC 4303
 * A2.2), which no pre-check can refuse; it costs one leaf like any fresh SN above. */
static void test_forged_old_sn(void **state)
{
	(void)state;
	for (size_t c = 0; c < N_CIPHERS; c++) {
		struct sa *tx = fx_sa_cipher(gost_ciphers[c], 0x8000, false, 5000, 0);
		struct sa *rx = fx_sa_cipher(gost_ciphers[c], 0x8000, false, 5000, 0);
		struct sp *sp = fx_sp(tx, AF_INET, AF_INET);
		uint8_t p[PKT_MAX];

		seal_run(sp, 1);
		memcpy(p, pkts[0], lens[0]);
		p[24 + 2] = 0; /* SN 5000 -> 136: left of the window (top 4999) */
		p[24 + 3] = 136;
		p[28] = 0x99; /* i1 */
		assert_int_equal(receive(rx, p, lens[0]), ESP_DROP(SA_C_replay));
		p[24 + 3] = 0; /* SN 0: never valid */
		assert_int_equal(receive(rx, p, lens[0]), ESP_DROP(SA_C_replay));
		assert_int_equal(crypto_gost_derivations(&rx->aead), 0);
		recv_ok(rx, 0);
		assert_int_equal(crypto_gost_derivations(&rx->aead), 3);
		sp_free(sp);
		sa_free(tx);
		sa_free(rx);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc9227_decrypt), cmocka_unit_test(test_rfc9227_encrypt),
	    cmocka_unit_test(test_rfc9227_one_sa),  cmocka_unit_test(test_replay_reorder_esn),
	    cmocka_unit_test(test_esn_across_2_32), cmocka_unit_test(test_mac_only_in_clear),
	    cmocka_unit_test(test_forged_indices),  cmocka_unit_test(test_forged_old_sn),
	};

	return run_per_gost_impl(tests, setup, teardown);
}
