/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * test_util.h - small helpers shared by the unit tests: cmocka's headers in the order it
 * wants, hex decoding for vectors, a fixed-seed PRNG for randomized tests.
 */
#ifndef ESPER_TEST_UTIL_H
#define ESPER_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* Decode hex (whitespace ignored) into out; returns the number of bytes. Fails the test on
 * bad input or overflow. */
static inline size_t hex_decode(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (const char *p = hex; *p; p++) {
		int v = 0;

		if (*p == ' ' || *p == '\n' || *p == '\t' || *p == ':')
			continue;
		if (*p >= '0' && *p <= '9')
			v = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			v = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			v = *p - 'A' + 10;
		else
			fail_msg("bad hex digit '%c'", *p);
		if (hi < 0) {
			hi = v;
			continue;
		}
		assert_true(n < cap);
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	assert_int_equal(hi, -1);
	return n;
}

/* xorshift64*: deterministic, seedable, good enough for test inputs. */
static inline uint64_t test_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static inline void test_rand_bytes(uint64_t *state, uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(test_rand(state) >> 56);
}

#endif
