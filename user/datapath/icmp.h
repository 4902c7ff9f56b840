/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * icmp.h - the "packet too big" messages a gateway owes a sender whose packet no longer fits
 * after ESP encapsulation (RFC 4301 8.2, RFC 1191 ICMP "fragmentation needed", RFC 8201
 * ICMPv6 "packet too big"). Pure functions over buffers; the worker sends the result.
 */
#ifndef ESPER_ICMP_H
#define ESPER_ICMP_H

#include <stddef.h>
#include <stdint.h>

#include "lib/pkt.h"

#define ICMP_TOO_BIG_MAX 1280	/* the message, at most (IPv6's minimum MTU) */

/* Build in out (ICMP_TOO_BIG_MAX bytes) the message for the packet at ip (parsed in pi) that
 * must shrink to mtu bytes; its source is the packet's destination. Returns the length, or
 * 0 when no message is due (an ICMP error, a non-first fragment, IPv4 without DF) or none
 * can be true (mtu below 68 for IPv4, 1280 for IPv6: senders may not go below). */
size_t icmp_too_big(const uint8_t *ip, const struct pkt_info *pi, uint32_t mtu, uint8_t *out);

#endif
