/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * hash.h - the one hash of the userspace tables (SAD, SPD, next-hop caches): multiply-
 * xorshift over 8-byte words, inline so that a lookup with a constant key length unrolls.
 * Keys here are 4 to 44 bytes. Header-only.
 */
#ifndef ESPER_HASH_H
#define ESPER_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t hash_mix(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline __attribute__((always_inline)) uint64_t hash_bytes(const void *p, size_t len)
{
	const uint8_t *s = p;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ len;

	for (; len >= 8; len -= 8, s += 8) {
		uint64_t w;

		memcpy(&w, s, 8);
		h = hash_mix(h ^ w, 0xbf58476d1ce4e5b9ULL);
	}
	if (len) {
		uint64_t w = 0;

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		/* What memcpy(&w, s, len) gives, made in a register: bytes stored into w and
		 * then loaded as one word stall until the stores retire (~20 cycles, on every
		 * SAD and SPD lookup). */
		if (len >= 4) {
			uint32_t lo;

			memcpy(&lo, s, 4);
			w = lo;
		}
		for (size_t i = len >= 4 ? 4 : 0; i < len; i++)
			w |= (uint64_t)s[i] << (8 * i);
#else
		memcpy(&w, s, len);
#endif
		h = hash_mix(h ^ w, 0x94d049bb133111ebULL);
	}
	return hash_mix(h, 0x2545f4914f6cdd1dULL);
}

static inline uint64_t hash_u32(uint32_t v)
{
	return hash_bytes(&v, sizeof(v));
}

#endif
