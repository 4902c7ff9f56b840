/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * addr.h - IPv4/IPv6 addresses as the control plane holds them: parse, print, compare, mask.
 * IPv4 sits in the first 4 bytes of a[], the rest is zero, so keys compare with memcmp.
 */
#ifndef ESPER_ADDR_H
#define ESPER_ADDR_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

struct ip_addr {
	uint8_t family;		/* AF_INET or AF_INET6 */
	uint8_t pad[3];
	uint8_t a[16];		/* network order */
};

#define ADDR_STRLEN INET6_ADDRSTRLEN

int addr_parse(const char *s, struct ip_addr *out);
const char *addr_str(const struct ip_addr *a, char buf[ADDR_STRLEN]);
unsigned addr_bits(const struct ip_addr *a);
void addr_mask(uint8_t *a, unsigned len, unsigned plen);
bool addr_host_bits_set(const struct ip_addr *a, unsigned plen);

#endif
