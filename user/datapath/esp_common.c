// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * esp_common.c - what both directions of ESP need: the AAD (RFC 4303 2.2.1 with the
 * ESN high half of Appendix A, RFC 4106 5, RFC 9227 4.7.1; the SPI of a packet is esp.h's
 * esp_spi, inline).
 */
#include <string.h>

#include "esp.h"
#include "esper_wire.h"
#include "lib/bytes.h"

/* Stored as 8 bytes and 4, the way the cipher loads it right after: a load across
 * narrower stores would wait for them to retire. */
size_t esp_aad(const struct sa *sa, uint64_t seq, uint8_t aad[12])
{
	if (!sa->esn) {
		st64(aad, (uint64_t)sa->spi << 32 | (uint32_t)seq);
		return 8;
	}
	st64(aad, (uint64_t)sa->spi << 32 | seq >> 32);
	st32(aad + 8, (uint32_t)seq);
	return 12;
}
