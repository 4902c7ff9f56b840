// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * esp_common.c - what both directions of ESP need: the AAD (RFC 4303 2.2.1 with the
 * ESN high half of Appendix A, RFC 4106 5, RFC 9227 4.7.1) and the SPI of a packet.
 */
#include <string.h>

#include "esp.h"
#include "esper_wire.h"
#include "lib/bytes.h"

size_t esp_aad(const struct sa *sa, uint64_t seq, uint8_t aad[12])
{
	memcpy(aad, sa->spi_be, 4);
	if (!sa->esn) {
		wr32(aad + 4, (uint32_t)seq);
		return 8;
	}
	wr32(aad + 4, (uint32_t)(seq >> 32));
	wr32(aad + 8, (uint32_t)seq);
	return 12;
}

bool esp_spi(const uint8_t *l3, const struct pkt_info *pi, uint32_t *spi)
{
	const uint8_t *p = l3 + pi->l4_off;

	if (pi->proto != IPPROTO_ESP_ || pi->l4_off + ESP_HDR_LEN > pi->ip_len)
		return false;
	*spi = rd32(p);
	return true;
}
