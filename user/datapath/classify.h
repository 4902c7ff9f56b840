/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * classify.h - the first decision about a packet, the one the XDP program makes too
 * (bpf/esper.bpf.c, checked against this by tests/bpf/test_xdp_diff.c): inbound ESP of an
 * SA of ours, plaintext to encrypt, pass, or drop, with the XDP counter that names it.
 * Pure: reads the SAD and SPD (lock-free), changes nothing.
 *
 *   ESP, not a fragment, whose SPI names an SA that may decrypt (no outbound policy names
 *     it) and whose outer source and destination are the SA's ------> decrypt
 *   UDP, not a fragment, to the address and port of an esp-udp SA that may decrypt
 *     (sad_natt_dest, RFC 3948):
 *     ESP whose SPI names an esp-udp SA that may decrypt, to its destination address and
 *     port, from any source (a NAT may have moved the peer) -------------> decrypt;
 *     a 1-byte NAT-keepalive 0xff or the non-ESP marker (4 zero bytes: IKE) -> pass,
 *     whatever the SPD says but outbound ipsec (then encrypt: never a leak)
 *   anything else, ESP included, by the SPD (tables/spd.h, failing closed):
 *     outbound ipsec -> encrypt; outbound discard, inbound ipsec or discard -> drop;
 *     bypass -> pass; selectors unreadable and a protecting policy might match -> drop;
 *     no policy -> pass (ESP, bare or in UDP to a NAT-T destination: as --unknown-spi says)
 * What XDP checks besides (live only): the reverse path of plaintext to encrypt, and that
 * inbound ESP is addressed to this host.
 */
#ifndef ESPER_CLASSIFY_H
#define ESPER_CLASSIFY_H

#include <stdbool.h>
#include <linux/types.h>

#include "esper_abi.h"
#include "lib/pkt.h"
#include "tables/sad.h"
#include "tables/spd.h"

enum verdict { V_PASS, V_DROP, V_DECRYPT, V_ENCRYPT };

struct classified {
	enum verdict v;
	enum esper_counter why;		/* the XDP counter of this verdict */
	struct sa *sa;			/* V_DECRYPT */
	struct sp *sp;			/* V_ENCRYPT */
};

/* The IP packet at l3, parsed in pi. */
void classify(const struct sad *sad, const struct spd *spd, bool unknown_spi_drop,
	      const uint8_t *l3, const struct pkt_info *pi, struct classified *out);

/* The SA that inbound ESP at l3 belongs to (classify's first rule), or NULL. */
struct sa *classify_esp(const struct sad *sad, const uint8_t *l3, const struct pkt_info *pi);

/* What UDP at l3 carries, if it goes to a NAT-T destination (classify's second rule); NATT_ESP
 * with its SA in *sa. */
enum natt {
	NATT_NONE,	/* not UDP to a NAT-T destination */
	NATT_CONTROL,	/* IKE (non-ESP marker) or a NAT-keepalive: the host's */
	NATT_ESP,	/* ESP in UDP of an SA of ours */
	NATT_UNKNOWN,	/* ESP in UDP for no SA of ours */
};
enum natt classify_natt(const struct sad *sad, const uint8_t *l3, const struct pkt_info *pi,
			struct sa **sa);

#endif
