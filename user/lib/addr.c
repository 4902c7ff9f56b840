// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * addr.c - address helpers shared by the command parser, the SAD/SPD and the dumps.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "addr.h"

int addr_parse(const char *s, struct ip_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, out->a) == 1) {
		out->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out->a) == 1) {
		out->family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

const char *addr_str(const struct ip_addr *a, char buf[ADDR_STRLEN])
{
	if (!inet_ntop(a->family, a->a, buf, ADDR_STRLEN))
		strcpy(buf, "?");
	return buf;
}

unsigned addr_bits(const struct ip_addr *a)
{
	return a->family == AF_INET ? 32 : 128;
}

/* Clear every bit after the first plen of the len-byte address a. */
void addr_mask(uint8_t *a, unsigned len, unsigned plen)
{
	unsigned i = plen / 8;

	if (i >= len)
		return;
	if (plen % 8)
		a[i++] &= (uint8_t)(0xff00 >> (plen % 8));
	memset(a + i, 0, len - i);
}

bool addr_host_bits_set(const struct ip_addr *a, unsigned plen)
{
	uint8_t m[16];

	memcpy(m, a->a, 16);
	addr_mask(m, 16, plen);
	return memcmp(m, a->a, 16) != 0;
}
