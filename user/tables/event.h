/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * event.h - what the datapath reports to the control plane about the tables' objects, as
 * fixed-size records a worker pushes into its event ring (lib/ring.h) without waiting and
 * the control side drains, formats (control/events.c) and writes as one line each on
 * standard output (docs/commands.md, "Events"):
 *   EVENT_ACQUIRE  traffic hit an outbound policy whose SA does not exist yet (require:ID):
 *                  the packet was dropped; the keying daemon should negotiate the SA
 *   EVENT_MAPPING  an esp-udp SA delivered a packet from another peer address or UDP port
 *                  than its own (NAT traversal, RFC 3948): the peer may have moved
 * A record is self-contained (the policy or SA may be gone when it is formatted). New kinds
 * take the next number; the record's size stays fixed.
 */
#ifndef ESPER_EVENT_H
#define ESPER_EVENT_H

#include <stdint.h>

#include "lib/addr.h"

enum event_kind {
	EVENT_NONE,
	EVENT_ACQUIRE,
	EVENT_MAPPING,
};

struct event_acquire {
	uint32_t sp_id;			/* the policy's number (spddump's "SP N") */
	uint32_t uid;			/* the UniqueID it waits for */
	uint8_t dir, mode;		/* enum sp_dir, enum sp_mode */
	uint8_t proto;			/* the packet's protocol (0: could not be read) */
	uint8_t has_ports;
	uint16_t sport, dport;		/* the packet's ports, host order (TCP, UDP) */
	struct ip_addr src, dst;	/* the packet's addresses */
	struct ip_addr tsrc, tdst;	/* the policy's tunnel endpoints (tunnel mode) */
};

struct event_mapping {
	uint32_t spi, uid;		/* the SA whose peer moved */
	uint16_t old_port, new_port;	/* UDP encapsulation ports, host order (0: none) */
	struct ip_addr old_addr, new_addr;
};

struct event {
	uint32_t kind;			/* enum event_kind */
	union {
		struct event_acquire acquire;
		struct event_mapping mapping;
	};
};

#define EVENT_RING_SIZE 256		/* records per worker ring */

#endif
