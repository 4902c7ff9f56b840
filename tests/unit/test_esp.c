// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_esp.c - ESP in and out (esp_out.c, esp_in.c): the AES-GCM-ESP known answers of
 * draft-mcgrew-gcm-test-01 on both backends, round trips for every mode, family combination,
 * transform and ESN setting, a flipped byte anywhere in the ESP packet rejected, replay,
 * padding, dummy packets, TFC, ECN (RFC 6040), sequence number exhaustion, IPv4 options
 * and IPv6 extension headers in transport mode.
 */
#include "esp_fixture.h"
#include "gost_impls.h"
#include "../data/gcm_esp_vectors.h"

static const enum crypto_backend gcm_backends[] = { CRYPTO_IPSECMB, CRYPTO_OPENSSL };

static void use_backend(struct sa *sa, enum crypto_backend be)
{
	assert_int_equal(sa_use_backend(sa, be), 0);
}

static struct sa *vector_sa(const struct gcm_esp_vector *v, bool for_receive)
{
	uint8_t key[36];
	size_t n = hex_decode(v->keymat, key, sizeof(key));

	/* A receiver positions its window so the vector's number is the next one. */
	(void)for_receive;
	return fx_sa(ESP_ALG_AES_GCM_16, key, n, v->spi, v->esn, v->seq, 0);
}

/* The vector's payload data and next header, from its plaintext. */
static size_t vector_payload(const struct gcm_esp_vector *v, uint8_t *out, uint8_t *nh)
{
	uint8_t pt[256];
	size_t n = hex_decode(v->plaintext, pt, sizeof(pt));
	size_t len = n - 2 - pt[n - 2];

	memcpy(out, pt, len);
	*nh = pt[n - 1];
	return len;
}

static void test_gcm_vectors_encrypt(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(gcm_esp_vectors) / sizeof(gcm_esp_vectors[0]); i++) {
		const struct gcm_esp_vector *v = &gcm_esp_vectors[i];

		for (size_t b = 0; b < 2; b++) {
			uint8_t payload[256], want[256], iv[8], nh;
			size_t len = vector_payload(v, payload, &nh);
			size_t want_len = hex_decode(v->packet, want, sizeof(want));
			struct sa *sa = vector_sa(v, false);
			struct sp *sp = fx_sp(sa, AF_INET, 0);
			struct fx_buf fb;
			int err;

			use_backend(sa, gcm_backends[b]);
			hex_decode(v->iv, iv, sizeof(iv));
			fx_packet(&fb, AF_INET, nh, payload, len);
			err = esp_out_seq_iv(sp, &fb.b, 0, 0, 0, v->seq, iv);
			assert_int_equal(err, 0);
			assert_int_equal(fb.b.len, 20 + want_len);
			if (memcmp(fb.b.head + fb.b.off + 20, want, want_len))
				fail_msg("%s: encrypted packet differs (backend %zu)", v->name, b);
			assert_int_equal(fb.b.head[fb.b.off + 9], IPPROTO_ESP_);
			sp_free(sp);
			sa_free(sa);
		}
	}
}

static void test_gcm_vectors_decrypt(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(gcm_esp_vectors) / sizeof(gcm_esp_vectors[0]); i++) {
		const struct gcm_esp_vector *v = &gcm_esp_vectors[i];

		for (size_t b = 0; b < 2; b++) {
			uint8_t payload[256], packet[256], nh;
			size_t len = vector_payload(v, payload, &nh);
			size_t plen = hex_decode(v->packet, packet, sizeof(packet));
			struct sa *sa = vector_sa(v, true);
			struct fx_buf fb;
			int err;

			use_backend(sa, gcm_backends[b]);
			fx_packet(&fb, AF_INET, IPPROTO_ESP_, packet, plen);
			err = fx_in(sa, &fb.b);
			if (err)
				fail_msg("%s: decrypt failed (%d, backend %zu)", v->name, err, b);
			assert_int_equal(fb.b.len, 20 + len);
			assert_int_equal(fb.b.head[fb.b.off + 9], nh);
			assert_memory_equal(fb.b.head + fb.b.off + 20, payload, len);
			/* The same packet again is a replay. */
			fx_packet(&fb, AF_INET, IPPROTO_ESP_, packet, plen);
			assert_int_equal(fx_in(sa, &fb.b), ESP_DROP(SA_C_replay));
			sa_free(sa);
		}
	}
}

/* --- round trips ----------------------------------------------------------------------- */

struct mode {
	const char *name;
	int inner, tunnel;	/* tunnel 0: transport mode */
};

static const struct mode modes[] = {
	{ "transport v4", AF_INET, 0 },	     { "transport v6", AF_INET6, 0 },
	{ "tunnel 4in4", AF_INET, AF_INET }, { "tunnel 6in6", AF_INET6, AF_INET6 },
	{ "tunnel 4in6", AF_INET, AF_INET6 }, { "tunnel 6in4", AF_INET6, AF_INET },
};

/* AES-GCM always; the GOST transforms need gost-engine (the test fails without it). */
static void cipher_needed(enum aead_cipher c)
{
	if (c > AEAD_AES256_GCM)
		gost_needed();
}

static void round_trip(enum aead_cipher c, const struct mode *m, bool esn, uint32_t tfc,
		       size_t len)
{
	struct sa *tx = fx_sa_cipher(c, 0x1000, esn, esn ? 0xfffffff0ULL : 0, tfc);
	struct sa *rx = fx_sa_cipher(c, 0x1000, esn, esn ? 0xfffffff0ULL : 0, tfc);
	struct sp *sp = fx_sp(tx, m->inner, m->tunnel);
	uint8_t payload[2048], orig[2100];
	struct fx_buf fb;
	uint64_t rng = len * 31 + c;
	int err;

	test_rand_bytes(&rng, payload, len);
	fx_packet(&fb, m->inner, 17, payload, len);
	memcpy(orig, fb.b.head + fb.b.off, fb.b.len);
	for (int n = 0; n < 3; n++) {	/* three packets: sequence numbers move */
		struct fx_buf copy;
		uint32_t olen = 0;

		fx_packet(&copy, m->inner, 17, payload, len);
		olen = copy.b.len;
		err = esp_out(sp, &copy.b, 0, 0, 0);
		if (err)
			fail_msg("%s %s esn=%d len=%zu: encrypt %d", aead_cipher_name(c), m->name,
				 esn, len, err);
		err = fx_in(rx, &copy.b);
		if (err)
			fail_msg("%s %s esn=%d len=%zu: decrypt %d", aead_cipher_name(c), m->name,
				 esn, len, err);
		assert_int_equal(copy.b.len, olen);
		assert_memory_equal(copy.b.head + copy.b.off, orig, olen);
	}
	assert_int_equal(sa_counter(rx, SA_C_in_packets), 3);
	assert_int_equal(sa_counter(tx, SA_C_out_packets), 3);
	sp_free(sp);
	sa_free(tx);
	sa_free(rx);
}

static void test_round_trips(void **state)
{
	static const size_t sizes[] = { 0, 1, 2, 3, 15, 16, 63, 64, 255, 1000, 1420, 2000 };

	(void)state;
	for (int c = 0; c < AEAD_CIPHER_MAX; c++) {
		cipher_needed((enum aead_cipher)c);
		for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++)
			for (int esn = 0; esn < 2; esn++)
				for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
					round_trip((enum aead_cipher)c, &modes[m], esn, 0,
						   sizes[s]);
	}
}

static void test_tfc(void **state)
{
	(void)state;
	for (size_t m = 2; m < sizeof(modes) / sizeof(modes[0]); m++) {
		round_trip(AEAD_AES128_GCM, &modes[m], false, 300, 10);
		round_trip(AEAD_AES128_GCM, &modes[m], true, 300, 1000);
	}
}

/* The encrypted size carries the TFC padding. */
static void test_tfc_length(void **state)
{
	struct sa *sa = fx_sa_cipher(AEAD_AES128_GCM, 0x2000, false, 0, 500);
	struct sp *sp = fx_sp(sa, AF_INET, AF_INET);
	uint8_t payload[10] = { 0 };
	struct fx_buf fb;

	(void)state;
	fx_packet(&fb, AF_INET, 17, payload, sizeof(payload));
	assert_int_equal(esp_out(sp, &fb.b, 0, 0, 0), 0);
	/* outer 20 + ESP 8 + IV 8 + 500 TFC'd payload + pad 2 + trailer 2 + ICV 16 */
	assert_int_equal(fb.b.len, 20 + 16 + 500 + 2 + 2 + 16);
	sp_free(sp);
	sa_free(sa);
}

/* --- tampering ------------------------------------------------------------------------- */

static void flip_each_byte(enum aead_cipher c, const struct mode *m)
{
	struct sa *tx = fx_sa_cipher(c, 0x3000, false, 0, 0);
	struct sa *rx = fx_sa_cipher(c, 0x3000, false, 0, 0);
	struct sp *sp = fx_sp(tx, m->inner, m->tunnel);
	uint8_t payload[100], sealed[300];
	struct fx_buf fb;
	uint32_t esp_at, len;

	memset(payload, 0x5a, sizeof(payload));
	fx_packet(&fb, m->inner, 6, payload, sizeof(payload));
	assert_int_equal(esp_out(sp, &fb.b, 0, 0, 0), 0);
	len = fb.b.len;
	memcpy(sealed, fb.b.head + fb.b.off, len);
	esp_at = (m->tunnel ? m->tunnel : m->inner) == AF_INET ? 20 : 40;
	/* Every byte ESP covers: SPI, sequence number, IV, ciphertext, ICV. */
	for (uint32_t i = esp_at; i < len; i++) {
		for (int bit = 0; bit < 8; bit += 7) {
			int err;

			memcpy(fb.b.head + FX_HEADROOM, sealed, len);
			fb.b.off = FX_HEADROOM;
			fb.b.len = len;
			fb.b.head[FX_HEADROOM + i] ^= (uint8_t)(1 << bit);
			err = fx_in(rx, &fb.b);
			if (err == 0)
				fail_msg("%s %s: flipped bit %d of byte %u accepted",
					 aead_cipher_name(c), m->name, bit, i);
		}
	}
	assert_int_equal(sa_counter(rx, SA_C_in_packets), 0);
	/* The untouched packet still decrypts: failures did not move the window. */
	memcpy(fb.b.head + FX_HEADROOM, sealed, len);
	fb.b.off = FX_HEADROOM;
	fb.b.len = len;
	assert_int_equal(fx_in(rx, &fb.b), 0);
	sp_free(sp);
	sa_free(tx);
	sa_free(rx);
}

static void test_bit_flips(void **state)
{
	(void)state;
	for (int c = 0; c < AEAD_CIPHER_MAX; c++) {
		cipher_needed((enum aead_cipher)c);
		for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++)
			flip_each_byte((enum aead_cipher)c, &modes[m]);
	}
}

/* --- replay ---------------------------------------------------------------------------- */

static void seal_n(struct sp *sp, int family, unsigned n, uint8_t pkts[][200], uint32_t *lens)
{
	for (unsigned i = 0; i < n; i++) {
		uint8_t payload[20] = { (uint8_t)i };
		struct fx_buf fb;

		fx_packet(&fb, family, 17, payload, sizeof(payload));
		assert_int_equal(esp_out(sp, &fb.b, 0, 0, 0), 0);
		memcpy(pkts[i], fb.b.head + fb.b.off, fb.b.len);
		lens[i] = fb.b.len;
	}
}

static int receive(struct sa *rx, const uint8_t *pkt, uint32_t len)
{
	struct fx_buf fb;

	memcpy(fb.mem + FX_HEADROOM, pkt, len);
	fb.b = (struct pbuf){ .head = fb.mem, .size = sizeof(fb.mem), .off = FX_HEADROOM,
			      .len = len };
	return fx_in(rx, &fb.b);
}

static void test_replay_and_reorder(void **state)
{
	struct sa *tx = fx_sa_cipher(AEAD_AES128_GCM, 0x4000, false, 0, 0);
	struct sa *rx = fx_sa_cipher(AEAD_AES128_GCM, 0x4000, false, 0, 0);
	struct sp *sp = fx_sp(tx, AF_INET, AF_INET);
	static uint8_t pkts[1100][200];
	static uint32_t lens[1100];

	(void)state;
	seal_n(sp, AF_INET, 1100, pkts, lens);
	assert_int_equal(receive(rx, pkts[5], lens[5]), 0);
	assert_int_equal(receive(rx, pkts[2], lens[2]), 0);	/* reordered: fine */
	assert_int_equal(receive(rx, pkts[5], lens[5]), ESP_DROP(SA_C_replay));
	assert_int_equal(receive(rx, pkts[2], lens[2]), ESP_DROP(SA_C_replay));
	assert_int_equal(receive(rx, pkts[1030], lens[1030]), 0);	/* seq 1031 */
	/* Window 1024 below top 1031: 8 .. 1031 are acceptable. */
	assert_int_equal(receive(rx, pkts[6], lens[6]), ESP_DROP(SA_C_replay));	/* seq 7 */
	assert_int_equal(receive(rx, pkts[7], lens[7]), 0);			/* seq 8 */
	assert_int_equal(receive(rx, pkts[1029], lens[1029]), 0);
	assert_int_equal(sa_counter(rx, SA_C_replay), 3);
	sp_free(sp);
	sa_free(tx);
	sa_free(rx);
}

/* ESN: a run across 2^32; the high half is never sent but the receiver infers it. */
static void test_esn_wrap(void **state)
{
	struct sa *tx = fx_sa_cipher(AEAD_AES256_GCM, 0x5000, true, 0xfffffffdULL, 0);
	struct sa *rx = fx_sa_cipher(AEAD_AES256_GCM, 0x5000, true, 0xfffffffdULL, 0);
	struct sp *sp = fx_sp(tx, AF_INET6, AF_INET6);
	static uint8_t pkts[8][200];
	uint32_t lens[8];

	(void)state;
	seal_n(sp, AF_INET6, 8, pkts, lens);
	for (int i = 0; i < 8; i++)
		assert_int_equal(receive(rx, pkts[i], lens[i]), 0);
	assert_int_equal(replay_top(&rx->replay), 0x100000004ULL);
	assert_int_equal(receive(rx, pkts[1], lens[1]), ESP_DROP(SA_C_replay));
	assert_int_equal(receive(rx, pkts[6], lens[6]), ESP_DROP(SA_C_replay));
	sp_free(sp);
	sa_free(tx);
	sa_free(rx);
}

static void test_seq_exhaustion(void **state)
{
	struct sa *sa32 = fx_sa_cipher(AEAD_AES128_GCM, 0x6000, false, 0xffffffffULL, 0);
	struct sa *sa64 = fx_sa_cipher(AEAD_AES128_GCM, 0x6001, true, UINT64_MAX, 0);
	struct sa *sas[2] = { sa32, sa64 };
	uint8_t payload[8] = { 0 };

	(void)state;
	for (int i = 0; i < 2; i++) {
		struct sp *sp = fx_sp(sas[i], AF_INET, AF_INET);
		struct fx_buf fb;

		fx_packet(&fb, AF_INET, 17, payload, sizeof(payload));
		assert_int_equal(esp_out(sp, &fb.b, 0, 0, 0), 0);	/* the last number */
		fx_packet(&fb, AF_INET, 17, payload, sizeof(payload));
		assert_int_equal(esp_out(sp, &fb.b, 0, 0, 0), ESP_DROP(SA_C_seq_exhausted));
		assert_int_equal(esp_out(sp, &fb.b, 0, 0, 0), ESP_DROP(SA_C_seq_exhausted));
		assert_int_equal(sa_counter(sas[i], SA_C_seq_exhausted), 2);
		sp_free(sp);
		sa_free(sas[i]);
	}
}

/* --- trailer checks -------------------------------------------------------------------- */

/* Seal a hand-made ESP payload for sa as a transport-mode IPv4 packet. */
static void seal_raw(struct sa *sa, uint64_t seq, const uint8_t *pl, size_t len, struct fx_buf *fb)
{
	uint8_t esp[300], aad[12];
	struct aead_req r = { .aad = aad, .iv = esp + 8, .data = esp + 16, .len = len };

	r.aad_len = esp_aad(sa, seq, aad);
	memcpy(esp, sa->spi_be, 4);
	memcpy(esp + 4, aad + r.aad_len - 4, 4);
	memset(esp + 8, 0x42, 8);
	memcpy(esp + 16, pl, len);
	r.icv = esp + 16 + len;
	assert_int_equal(aead_seal(&sa->aead, 0, &r), 0);
	fx_packet(fb, AF_INET, IPPROTO_ESP_, esp, 16 + len + sa->icv_len);
}

static void test_bad_padding_and_dummy(void **state)
{
	struct sa *sa = fx_sa_cipher(AEAD_AES128_GCM, 0x7000, false, 0, 0);
	const uint8_t bad_pad[] = { 'a', 'b', 1, 3, 2, 17 };	/* padding 1, 3: not 1, 2 */
	const uint8_t good_pad[] = { 'a', 'b', 1, 2, 2, 17 };
	const uint8_t too_long[] = { 'a', 'b', 9, 17 };	/* pad length beyond the payload */
	const uint8_t dummy[] = { 0, 0, 0, 0, 1, 2, 2, 59 };
	struct fx_buf fb;

	(void)state;
	seal_raw(sa, 1, bad_pad, sizeof(bad_pad), &fb);
	assert_int_equal(fx_in(sa, &fb.b), ESP_DROP(SA_C_bad_pad));
	seal_raw(sa, 2, too_long, sizeof(too_long), &fb);
	assert_int_equal(fx_in(sa, &fb.b), ESP_DROP(SA_C_malformed));
	seal_raw(sa, 3, dummy, sizeof(dummy), &fb);
	assert_int_equal(fx_in(sa, &fb.b), ESP_DROP(SA_C_dummy));
	seal_raw(sa, 4, good_pad, sizeof(good_pad), &fb);
	assert_int_equal(fx_in(sa, &fb.b), 0);
	assert_int_equal(fb.b.len, 22);
	assert_int_equal(fb.b.head[fb.b.off + 9], 17);
	assert_int_equal(sa_counter(sa, SA_C_dummy), 1);
	assert_int_equal(sa_counter(sa, SA_C_bad_pad), 1);
	sa_free(sa);
}

/* --- ECN (RFC 6040) and outer header ----------------------------------------------------- */

static void test_outer_header_and_ecn(void **state)
{
	struct sa *tx = fx_sa_cipher(AEAD_AES128_GCM, 0x8000, false, 0, 0);
	struct sa *rx = fx_sa_cipher(AEAD_AES128_GCM, 0x8000, false, 0, 0);
	struct sp *sp = fx_sp(tx, AF_INET, AF_INET);
	uint8_t payload[40] = { 0 };
	struct fx_buf fb;
	uint8_t *o;

	(void)state;
	fx_packet(&fb, AF_INET, 17, payload, sizeof(payload));
	assert_int_equal(esp_out(sp, &fb.b, 0, 0, 0), 0);
	o = fb.b.head + fb.b.off;
	assert_int_equal(o[1], 0x2a);	/* DSCP and ECN copied */
	assert_int_equal(o[8], 64);	/* TTL */
	assert_int_equal(o[9], IPPROTO_ESP_);
	assert_int_equal(csum_fold(csum_add(0, o, 20)), 0);
	o[1] = 0x2b;	/* the outer gets CE on the way */
	csum_ipv4_header(o);
	assert_int_equal(fx_in(rx, &fb.b), 0);
	assert_int_equal(fb.b.head[fb.b.off + 1], 0x2b);	/* inner ECT(0) becomes CE */
	assert_int_equal(csum_fold(csum_add(0, fb.b.head + fb.b.off, 20)), 0);

	/* Not-ECT inner with CE outer: drop. */
	fx_packet(&fb, AF_INET, 17, payload, sizeof(payload));
	fb.b.head[fb.b.off + 1] = 0x28;
	csum_ipv4_header(fb.b.head + fb.b.off);
	assert_int_equal(esp_out(sp, &fb.b, 0, 0, 0), 0);
	o = fb.b.head + fb.b.off;
	o[1] |= 3;
	csum_ipv4_header(o);
	assert_int_equal(fx_in(rx, &fb.b), ESP_DROP(SA_C_ecn_drop));
	sp_free(sp);
	sa_free(tx);
	sa_free(rx);
}

static void test_mtu(void **state)
{
	struct sa *sa = fx_sa_cipher(AEAD_AES128_GCM, 0x9000, false, 0, 0);
	struct sp *sp = fx_sp(sa, AF_INET, AF_INET);
	uint8_t payload[1452] = { 0 };	/* 1472-byte packet: 1472+20+16+2+2+16 > 1500 */
	struct fx_buf fb;

	(void)state;
	fx_packet(&fb, AF_INET, 17, payload, sizeof(payload));
	assert_int_equal(esp_out(sp, &fb.b, 0, 1500, 0), ESP_DROP(SA_C_too_big));
	fx_packet(&fb, AF_INET, 17, payload, 1400);
	assert_int_equal(esp_out(sp, &fb.b, 0, 1500, 0), 0);
	sp_free(sp);
	sa_free(sa);
}

/* --- transport mode after options and extension headers -------------------------------- */

static void test_transport_ipv4_options(void **state)
{
	struct sa *tx = fx_sa_cipher(AEAD_AES128_GCM, 0xa000, false, 0, 0);
	struct sa *rx = fx_sa_cipher(AEAD_AES128_GCM, 0xa000, false, 0, 0);
	struct sp *sp = fx_sp(tx, AF_INET, 0);
	uint8_t payload[64], orig[200];
	struct fx_buf fb;
	uint8_t *ip;
	uint32_t len;

	(void)state;
	/* A 24-byte header: one NOP x4 option word, payload behind it. */
	memset(payload, 0x77, sizeof(payload));
	fx_packet(&fb, AF_INET, 17, payload, sizeof(payload));
	ip = fb.b.head + fb.b.off;
	memmove(ip + 24, ip + 20, sizeof(payload));
	memset(ip + 20, 1, 4);
	ip[0] = 0x46;
	((struct ipv4_hdr *)ip)->tot_len = htons(24 + sizeof(payload));
	csum_ipv4_header(ip);
	fb.b.len = len = 24 + sizeof(payload);
	memcpy(orig, ip, len);
	assert_int_equal(esp_out(sp, &fb.b, 0, 0, 0), 0);
	ip = fb.b.head + fb.b.off;
	assert_int_equal(ip[0], 0x46);
	assert_int_equal(ip[9], IPPROTO_ESP_);
	assert_memory_equal(ip + 20, orig + 20, 4);	/* options stay in front of ESP */
	assert_memory_equal(ip + 24, tx->spi_be, 4);
	assert_int_equal(fx_in(rx, &fb.b), 0);
	assert_int_equal(fb.b.len, len);
	assert_memory_equal(fb.b.head + fb.b.off, orig, len);
	sp_free(sp);
	sa_free(tx);
	sa_free(rx);
}

static void test_transport_ipv6_ext(void **state)
{
	struct sa *tx = fx_sa_cipher(AEAD_AES128_GCM, 0xb000, true, 0, 0);
	struct sa *rx = fx_sa_cipher(AEAD_AES128_GCM, 0xb000, true, 0, 0);
	struct sp *sp = fx_sp(tx, AF_INET6, 0);
	uint8_t payload[8 + 8 + 30], orig[200];
	struct fx_buf fb;
	uint8_t *ip;
	uint32_t len;

	(void)state;
	/* hop-by-hop (8) -> destination options (8) -> UDP */
	memset(payload, 0, sizeof(payload));
	payload[0] = 60;
	payload[8] = 17;
	memset(payload + 16, 0x33, 30);
	fx_packet(&fb, AF_INET6, 0, payload, sizeof(payload));
	ip = fb.b.head + fb.b.off;
	len = fb.b.len;
	memcpy(orig, ip, len);
	assert_int_equal(esp_out(sp, &fb.b, 0, 0, 0), 0);
	ip = fb.b.head + fb.b.off;
	assert_int_equal(ip[6], 0);			/* still hop-by-hop first */
	assert_int_equal(ip[40 + 8], IPPROTO_ESP_);	/* dest opts now names ESP */
	assert_memory_equal(ip + 56, tx->spi_be, 4);
	assert_int_equal(fx_in(rx, &fb.b), 0);
	assert_int_equal(fb.b.len, len);
	assert_memory_equal(fb.b.head + fb.b.off, orig, len);
	sp_free(sp);
	sa_free(tx);
	sa_free(rx);
}

static void test_transport_refuses_fragments(void **state)
{
	struct sa *sa = fx_sa_cipher(AEAD_AES128_GCM, 0xc000, false, 0, 0);
	struct sp *sp = fx_sp(sa, AF_INET, 0);
	uint8_t payload[16] = { 0 };
	struct fx_buf fb;

	(void)state;
	fx_packet(&fb, AF_INET, 17, payload, sizeof(payload));
	((struct ipv4_hdr *)(fb.b.head + fb.b.off))->frag_off = htons(IPV4_MF);
	assert_int_equal(esp_out(sp, &fb.b, 0, 0, 0), ESP_DROP(SA_C_fragment));
	sp_free(sp);
	sa_free(sa);
}

/* Found by fuzz_esp_in: an encapsulation that would pass 65535 bytes is refused, not
 * written with a truncated length field (pcap mode has no MTU; tfc: may be large). */
static void test_refuses_oversize_result(void **state)
{
	struct sa *sa = fx_sa_cipher(AEAD_AES128_GCM, 0xd000, false, 0, 0);
	struct sp *sp = fx_sp(sa, AF_INET, AF_INET);
	static uint8_t mem[70000 + 256];
	struct pb_pkt p = pb_packet("198.51.100.7", "203.0.113.9", 17, 0, 0);
	struct pbuf b = { .head = mem, .size = sizeof(mem), .off = 128 };

	(void)state;
	p.raw = true;
	p.payload = 65500 - 20;	/* + 20 + 16 + trailer + 16 > 65535 */
	b.len = (uint32_t)pb_ip(&p, mem + 128);
	assert_int_equal(b.len, 65500);
	assert_int_equal(esp_out(sp, &b, 0, 0, 0), ESP_DROP(SA_C_too_big));
	assert_int_equal(b.len, 65500);
	sp_free(sp);
	sa_free(sa);
}

/* Found by fuzz_esp_in: transport mode over an IPv6 packet whose extension headers run past
 * its end must not compute a negative payload length. */
static void test_transport_unwalkable_ipv6(void **state)
{
	struct sa *sa = fx_sa_cipher(AEAD_AES128_GCM, 0xd001, false, 0, 0);
	struct sp *sp = fx_sp(sa, AF_INET6, 0);
	uint8_t payload[8] = { 60, 20 };	/* hop-by-hop claiming 168 bytes */
	struct fx_buf fb;
	uint32_t len;

	(void)state;
	fx_packet(&fb, AF_INET6, 0, payload, sizeof(payload));
	len = fb.b.len;
	assert_int_equal(esp_out(sp, &fb.b, 0, 0, 0), ESP_DROP(SA_C_malformed));
	assert_int_equal(fb.b.len, len);
	sp_free(sp);
	sa_free(sa);
}

static int setup(void **state)
{
	(void)state;
	return crypto_init(CRYPTO_AUTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gcm_vectors_encrypt),
		cmocka_unit_test(test_gcm_vectors_decrypt),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_tfc),
		cmocka_unit_test(test_tfc_length),
		cmocka_unit_test(test_bit_flips),
		cmocka_unit_test(test_replay_and_reorder),
		cmocka_unit_test(test_esn_wrap),
		cmocka_unit_test(test_seq_exhaustion),
		cmocka_unit_test(test_bad_padding_and_dummy),
		cmocka_unit_test(test_outer_header_and_ecn),
		cmocka_unit_test(test_mtu),
		cmocka_unit_test(test_transport_ipv4_options),
		cmocka_unit_test(test_transport_ipv6_ext),
		cmocka_unit_test(test_transport_refuses_fragments),
		cmocka_unit_test(test_refuses_oversize_result),
		cmocka_unit_test(test_transport_unwalkable_ipv6),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
