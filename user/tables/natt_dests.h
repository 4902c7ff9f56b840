/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * natt_dests.h - where this host takes ESP in UDP (RFC 3948): the destination address and
 * UDP port of every esp-udp SA that may decrypt, counted (several SAs share one). UDP to
 * such a place is ESP in UDP, or IKE and keepalives for the keying daemon (classify.c);
 * UDP anywhere else is plain UDP. Written by the SAD (its one writer, the executor's
 * thread), read lock-free by the workers (htab.h, rcu.h).
 */
#ifndef ESPER_NATT_DESTS_H
#define ESPER_NATT_DESTS_H

#include <stdbool.h>
#include <stdint.h>

struct natt_dests;

struct natt_dests *natt_dests_new(void);
void natt_dests_free(struct natt_dests *d);	/* no reader may be running; NULL is a no-op */

/* Make room so that the next natt_dests_ref cannot fail: 0 or -ENOMEM. */
int natt_dests_reserve(struct natt_dests *d);

/* One more, or one fewer, esp-udp SA that may decrypt goes to (family, addr, port) (port in
 * network order). Whether the place was new, or is now gone. */
bool natt_dests_ref(struct natt_dests *d, int family, const uint8_t *addr, uint16_t port);
bool natt_dests_unref(struct natt_dests *d, int family, const uint8_t *addr, uint16_t port);

/* Is (family, addr, port) such a place? port in network order; addr 4 or 16 bytes.
 * Lock-free. */
bool natt_dests_has(const struct natt_dests *d, int family, const uint8_t *addr, uint16_t port);

#endif
