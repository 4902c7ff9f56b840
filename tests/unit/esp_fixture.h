/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * esp_fixture.h - SAs, policies and packets for the ESP tests, built without the command
 * parser: an SA from (cipher, key, SPI, ESN, seq), a policy for it, and plaintext packets
 * of every family with a given payload (tests/lib/pktbuild.h), in buffers with head- and
 * tailroom.
 */
#ifndef ESP_FIXTURE_H
#define ESP_FIXTURE_H

#include <arpa/inet.h>
#include <sys/socket.h>

#include "datapath/esp.h"
#include "esper_wire.h"
#include "test_util.h"
#include "../lib/pktbuild.h"

#define FX_HEADROOM 128
#define FX_BUF 4096

struct fx_buf {
	uint8_t mem[FX_BUF];
	struct pbuf b;
};

static inline struct sa *fx_sa(enum esp_alg alg, const uint8_t *key, size_t key_len, uint32_t spi,
			       bool esn, uint64_t seq, uint32_t tfc)
{
	struct sa_params add = { .spi = spi, .uid = spi, .alg = alg, .esn = esn,
				 .key_len = (uint8_t)key_len, .seq = seq ? seq : 1, .tfc = tfc,
				 .replay = REPLAY_DEFAULT_WINDOW };
	struct sa *sa;

	assert_int_equal(aead_cipher_for(alg, key_len, &add.cipher), 0);
	memcpy(add.key, key, key_len);
	addr_parse("192.0.2.1", &add.src);
	addr_parse("192.0.2.2", &add.dst);
	sa = sa_new(&add, 1);
	assert_non_null(sa);
	return sa;
}

/* An SA keyed with a fixed pattern of the cipher's length. */
static inline struct sa *fx_sa_cipher(enum aead_cipher c, uint32_t spi, bool esn, uint64_t seq,
				      uint32_t tfc)
{
	static const enum esp_alg alg_of[AEAD_CIPHER_MAX] = {
		[AEAD_AES128_GCM] = ESP_ALG_AES_GCM_16, [AEAD_AES256_GCM] = ESP_ALG_AES_GCM_16,
		[AEAD_KUZNYECHIK_MGM] = ESP_ALG_GOST, [AEAD_MAGMA_MGM] = ESP_ALG_GOST,
		[AEAD_KUZNYECHIK_MGM_MAC] = ESP_ALG_GOST_MAC, [AEAD_MAGMA_MGM_MAC] = ESP_ALG_GOST_MAC,
	};
	uint8_t key[ESP_KEYMAT_MAX];

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0x11 * i + spi);
	return fx_sa(alg_of[c], key, aead_keymat_len(c), spi, esn, seq, tfc);
}

/* A policy for sa; tunnel endpoints of family tun_family (0: transport mode). */
static inline struct sp *fx_sp(struct sa *sa, int inner_family, int tun_family)
{
	struct sp_params c = { .proto = SP_PROTO_ANY, .dir = SP_DIR_OUT, .action = SP_IPSEC,
			       .uid = sa->uid };

	addr_parse(inner_family == AF_INET ? "198.51.100.0" : "2001:db8:1::", &c.src.addr);
	addr_parse(inner_family == AF_INET ? "203.0.113.0" : "2001:db8:2::", &c.dst.addr);
	c.src.plen = c.dst.plen = inner_family == AF_INET ? 24 : 48;
	if (tun_family) {
		c.mode = SP_MODE_TUNNEL;
		addr_parse(tun_family == AF_INET ? "192.0.2.1" : "2001:db8::1", &c.tsrc);
		addr_parse(tun_family == AF_INET ? "192.0.2.2" : "2001:db8::2", &c.tdst);
	} else {
		c.mode = SP_MODE_TRANSPORT;
	}
	return sp_new(&c, sa);
}

/* An IPv4 or IPv6 packet with protocol proto and payload (len bytes: all of the upper
 * layer) at b's headroom, from 198.51.100.7 to 203.0.113.9 (2001:db8:1::7 to
 * 2001:db8:2::9), DSCP 10 and ECT(0), TTL 61, DF. */
static inline void fx_packet(struct fx_buf *fb, int family, uint8_t proto, const uint8_t *payload,
			     size_t len)
{
	struct pb_pkt p = { .proto = proto, .raw = true, .data = payload, .payload = (uint32_t)len,
			    .tos = 0x2a, .ttl = 61, .id = 0x1234, .df = true, .flow = 0x12345 };

	p.family = pb_addr(family == AF_INET ? "198.51.100.7" : "2001:db8:1::7", p.src);
	pb_addr(family == AF_INET ? "203.0.113.9" : "2001:db8:2::9", p.dst);
	memset(fb->mem, 0xee, sizeof(fb->mem));
	fb->b = (struct pbuf){ .head = fb->mem, .size = sizeof(fb->mem), .off = FX_HEADROOM,
			       .len = (uint32_t)pb_ip(&p, fb->mem + FX_HEADROOM) };
}

static inline int fx_in(struct sa *sa, struct pbuf *b)
{
	struct pkt_info pi;

	assert_int_equal(pkt_parse(b->head + b->off, b->len, &pi), 0);
	return esp_in(sa, b, &pi, 0);
}

#endif
