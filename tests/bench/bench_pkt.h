/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * bench_pkt.h - what the live benchmarks (xsk_gen.c, bench_esp_mt.c, scripts/bench-live.sh)
 * agree on: the flows, the packet sizes (IMIX), the SAs and their keys. Header-only, for the
 * benchmark programs; not part of the daemon.
 *
 * Flow f (0 <= f < 125000), IPv4 UDP:
 *   198.51.100.(1 + f % 250) -> 203.0.113.(1 + (f / 250) % 250), ports 4000 -> 10000 + f / 62500
 * IPv6 UDP: 2001:db8:a::(f + 1) -> 2001:db8:b::(f / 250 + 1), the same ports.
 * scripts/bench-live.sh writes one policy per flow with exactly these selectors (one tuple:
 * /32 /32 udp with a destination port), so N flows exercise N policies.
 *
 * SA s (0-based): SPI 0x10000 + s, UniqueID s + 1, tunnel 192.0.2.1 -> 192.0.2.2, keying
 * material byte j = 0x11 + j, except that its first 4 bytes are the big-endian number
 * 0x11121314 + s: each SA has a key of its own, as the SAD requires (no two SAs may hold one
 * key), and SA 0 keeps 0x1112...; the key plays no part in the speed. Flow f uses SA f % nsa.
 *
 * Sizes are IP packet lengths (the plaintext, before ESP). IMIX: the "simple IMIX" 7:4:1 with
 * 1420 in place of 1500 bytes (64, 576, 1420), so the largest packet still fits a 1500-byte
 * MTU once in tunnel-mode ESP; mean 347.7 bytes.
 */
#ifndef ESPER_BENCH_PKT_H
#define ESPER_BENCH_PKT_H

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "control/cmd_exec.h"
#include "datapath/esp.h"
#include "esper_wire.h"
#include "lib/pkt.h"
#include "../lib/pktbuild.h"

#define BP_FLOWS_MAX	125000u
#define BP_IMIX		0u	/* size 0 means the IMIX */
#define BP_IMIX_N	12u
static const uint16_t bp_imix[BP_IMIX_N] = { 64, 576, 64, 64, 576, 64, 1420, 64, 576, 64, 64,
					     576 };

/* The size of packet i of a stream of size `size` (BP_IMIX: the pattern above). */
static inline uint32_t bp_size(uint32_t size, uint32_t i)
{
	return size ? size : bp_imix[i % BP_IMIX_N];
}

static inline double bp_mean_size(uint32_t size)
{
	return size ? size : (7 * 64 + 4 * 576 + 1420) / 12.0;
}

/* Write the IP packet of flow f, len bytes (>= 48 for IPv6, >= 28 for IPv4), at ip. */
static inline void bp_udp(uint8_t *ip, uint32_t len, uint32_t f, int family)
{
	struct pb_pkt p = { .proto = 17, .sport = 4000, .dport = (uint16_t)(10000 + f / 62500),
			    .id = (uint16_t)f, .df = true };
	uint32_t l4 = family == AF_INET ? 20 : 40;
	uint8_t data[65536];

	p.family = family == AF_INET ? PB_IPV4 : PB_IPV6;
	if (family == AF_INET) {
		uint8_t s[4] = { 198, 51, 100, (uint8_t)(1 + f % 250) };
		uint8_t d[4] = { 203, 0, 113, (uint8_t)(1 + (f / 250) % 250) };

		memcpy(p.src, s, 4);
		memcpy(p.dst, d, 4);
	} else {
		pb_addr("2001:db8:a::", p.src);
		pb_addr("2001:db8:b::", p.dst);
		wr32(p.src + 12, f + 1);
		wr16(p.dst + 14, (uint16_t)(f / 250 + 1));
	}
	p.payload = len - l4 - 8;
	for (uint32_t i = 0; i < p.payload; i++)
		data[i] = (uint8_t)((l4 + 8 + i) * 7 + f);
	p.data = data;
	pb_ip(&p, ip);
}

/* Cipher names as the scripts spell them. */
static inline int bp_cipher(const char *name, enum aead_cipher *c)
{
	static const char *const names[] = {
		[AEAD_AES128_GCM] = "aes128gcm", [AEAD_AES256_GCM] = "aes256gcm",
		[AEAD_KUZNYECHIK_MGM] = "kuznyechik", [AEAD_MAGMA_MGM] = "magma",
	};

	for (int i = 0; i <= AEAD_MAGMA_MGM; i++)
		if (!strcmp(name, names[i])) {
			*c = (enum aead_cipher)i;
			return 0;
		}
	return -1;
}

/* The -E algorithm and the keying material of the SAs for cipher c (same as the script's). */
static inline const char *bp_alg(enum aead_cipher c)
{
	return c == AEAD_AES128_GCM || c == AEAD_AES256_GCM ? "aes-gcm-16" : "gost";
}

static inline void bp_key_hex(enum aead_cipher c, unsigned sa, char *out)
{
	size_t n = aead_keymat_len(c);

	out += sprintf(out, "0x%08x", 0x11121314u + sa);
	for (size_t j = 4; j < n; j++)
		out += sprintf(out, "%02x", (unsigned)(0x11 + j));
}

/*
 * nsa SAs for cipher c in a private SAD/SPD, each with one outbound tunnel policy
 * (selectors that no packet is matched against: the benchmark names the policy itself),
 * made by the command executor from the same text a gateway gets. replay: the window of
 * the SAs (0: off). sps[s] gets SA s's policy. 0, or -1 with a message.
 */
static inline int bp_make_sas(struct exec_env *env, enum aead_cipher c, unsigned nsa,
			      unsigned nthreads, unsigned replay, struct sp **sps)
{
	char key[2 + 2 * ESP_KEYMAT_MAX + 1];
	struct cmd_reader *r;
	size_t len = 0;
	char *text = NULL;
	FILE *f = open_memstream(&text, &len);
	unsigned bad, s = 0;

	if (!f)
		return -1;
	for (unsigned i = 0; i < nsa; i++) {
		bp_key_hex(c, i, key);
		fprintf(f, "add 192.0.2.1 192.0.2.2 esp 0x%x -u %u -E %s %s replay:%u ;\n",
			0x10000 + i, i + 1, bp_alg(c), key, replay);
		fprintf(f, "spdadd 2001:db8:%x:%x::/64 2001:db8:ffff::/64 any -P out ipsec "
			   "esp/tunnel/192.0.2.1-192.0.2.2/unique:%u ;\n",
			i >> 16, i & 0xffff, i + 1);
	}
	fclose(f);
	memset(env, 0, sizeof(*env));
	env->sad = sad_new();
	env->spd = spd_new();
	env->nthreads = nthreads;
	env->out = stdout;
	f = fmemopen(text, len, "r");
	r = f ? cmd_reader_new(f, "bench") : NULL;
	if (!env->sad || !env->spd || !r) {
		free(text);
		return -1;
	}
	bad = cmd_exec_stream(env, r);
	cmd_reader_free(r);
	fclose(f);
	free(text);
	if (bad) {
		fprintf(stderr, "bench: %u SA commands refused\n", bad);
		return -1;
	}
	for (struct sp *sp = spd_first(env->spd); sp && s < nsa; sp = spd_next(env->spd, sp))
		sps[s++] = sp;
	return s == nsa ? 0 : -1;
}

#endif
