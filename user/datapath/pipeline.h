/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pipeline.h - the packet pipeline: the one place in userspace where a packet's fate is
 * decided. A burst of IP packets comes in from a driver (the live worker: AF_XDP and the
 * host port; pcap mode: a capture file); each is classified (classify.h), inbound ESP is
 * decrypted and its inner packet checked against the SA's inbound policies (RFC 4301 5.2),
 * plaintext for an outbound policy is encrypted, and every packet leaves by one of the
 * driver's ports: to the wire (toward a resolved next hop), to the kernel (ESP whose next
 * hop is not known yet), to the host (decrypted traffic, ICMP errors of ours), passed as it
 * came, or released. The egress rules: fragment IPv4 without DF that outgrows the path
 * before encryption (RFC 4459 3), answer the rest with "packet too big" (RFC 4301 8.2), and
 * with fast forward send decrypted packets the kernel would route out of a port of ours
 * straight there, but for runs of one flow that the host port merges.
 *
 * Plaintext for an outbound require:ID policy whose SA does not exist yet is dropped
 * (no_sa), and an acquire event (tables/event.h) goes to the control side, at most one per
 * policy per PIPE_ACQUIRE_INTERVAL seconds.
 *
 * One struct pipe per driver thread; its counters are written by that thread only.
 */
#ifndef ESPER_PIPELINE_H
#define ESPER_PIPELINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "esp.h"
#include "lib/ring.h"
#include "nexthop.h"
#include "tables/event.h"

#define PIPE_BURST 64	/* packets per pipe_burst, at most */

#define PIPE_COUNTERS(X)							\
	X(esp_in, "inbound ESP for an SA of ours")				\
	X(plain_out, "plaintext to encrypt")					\
	X(to_wire, "packets sent out (AF_XDP; the output file)")		\
	X(to_kernel, "ESP handed to the kernel (next hop not known yet)")	\
	X(to_host, "packets delivered to the host (host port; the output file)") \
	X(forwarded, "decrypted packets forwarded by AF_XDP (--fast-forward)")	\
	X(passed, "packets passed as they came")				\
	X(fragmented, "fragments made of IPv4 packets without DF, before ESP")	\
	X(icmp_too_big, "ICMP packet-too-big messages sent")			\
	X(esp_drop, "dropped by ESP (see the SA counters)")			\
	X(inner_drop, "dropped after decryption: outside the SA's inbound policies") \
	X(policy_drop, "dropped: an inbound or discard policy")		\
	X(opaque_drop, "dropped: selectors unreadable, a policy might protect it") \
	X(unknown_spi, "dropped: ESP for no SA of ours (--unknown-spi drop)")	\
	X(no_policy, "dropped: host plaintext no outbound policy protects")	\
	X(stale, "dropped: the verdict of XDP no longer holds (tables changed)") \
	X(no_sa, "dropped: its outbound policy waits for its SA (require:ID; acquire)") \
	X(event_lost, "events lost: the ring to the control thread was full")	\
	X(no_route, "dropped: no route to the outer destination")		\
	X(too_small, "dropped: too big, and the path is below what the family allows") \
	X(malformed, "dropped: not a sane IP packet")				\
	X(no_frame, "dropped: no free buffer")					\
	X(tx_error, "dropped: the port refused it")

enum pipe_counter {
#define PIPE_COUNTER_ENUM(name, text) P_C_##name,
	PIPE_COUNTERS(PIPE_COUNTER_ENUM)
#undef PIPE_COUNTER_ENUM
	P_C_MAX
};

extern const char *const pipe_counter_names[P_C_MAX];
extern const char *const pipe_counter_help[P_C_MAX];

/* At most one acquire event per policy per this many seconds (of the coarse clock). */
#define PIPE_ACQUIRE_INTERVAL 1

enum pipe_from {
	PIPE_FROM_WIRE,		/* redirected by XDP: its checks passed (reverse path, local) */
	PIPE_FROM_HOST,		/* read from the host port: only encryption or a drop */
	PIPE_FROM_FILE,		/* pcap mode: anything, as if from the wire, no XDP before */
};

/* A packet of a burst: an IP packet in a driver's buffer. */
struct pipe_pkt {
	struct pbuf b;		/* the IP packet (room before and after it) */
	uint64_t handle;	/* the driver's name for the buffer */
	uint32_t hint;		/* XDP's outbound policy id for plaintext (metadata), 0: none */
	uint8_t from;		/* enum pipe_from */
	struct pkt_info pi;	/* the parse of b's packet (the pipeline fills it) */
};

/* The driver's ports. Those taking a struct pipe_pkt own it afterwards; the others copy. */
struct pipe_ports {
	void (*wire)(void *drv, struct pipe_pkt *p, const struct nexthop *nh);
	bool (*kernel)(void *drv, const uint8_t *ip, uint32_t len);	/* route it yourself */
	bool (*host)(void *drv, const uint8_t *ip, uint32_t len);
	void (*pass)(void *drv, struct pipe_pkt *p);
	void (*release)(void *drv, struct pipe_pkt *p);
	bool (*alloc)(void *drv, struct pipe_pkt *p);	/* an empty buffer, b.off at headroom */
	/* The next hop toward dst, never blocking: 0, -EAGAIN (not known yet), -ENETUNREACH.
	 * inner: a decrypted packet's destination (fast forward): -EXDEV unless the route
	 * leaves by one of the driver's own ports. */
	int (*route)(void *drv, int family, const uint8_t *dst, bool inner, struct nexthop *nh);
	/* Optional (NULL: never). Would the host port merge decrypted packet b after a into one
	 * packet (the live host port's GSO, coalesce.h)? With fast forward, such runs go to the
	 * host: one write and one pass through the kernel for the run costs less than the
	 * wire's per-packet path (BENCHMARKS.md). */
	bool (*merges)(void *drv, const struct pipe_pkt *a, const struct pipe_pkt *b);
};

struct pipe_config {
	bool unknown_spi_drop;	/* ESP for no SA of ours: drop (else pass) */
	bool strict_inbound;	/* an SA no inbound policy names delivers nothing */
	bool fix_csum;		/* recompute every inner L4 checksum before encrypting */
	bool forward_v4, forward_v6;	/* fast forward of decrypted packets, per family */
};

struct pipe {
	const struct sad *sad;
	const struct spd *spd;
	struct pipe_config cfg;
	unsigned thread;		/* the crypto thread slot */
	const struct pipe_ports *ports;
	void *drv;
	struct ring *events;		/* struct event records for the control side; NULL: none */
	_Atomic uint64_t counters[P_C_MAX];
};

/* Process n (<= PIPE_BURST) packets whose b holds an IP packet; every one ends in a port. */
void pipe_burst(struct pipe *pp, struct pipe_pkt *pkts, unsigned n);

/* Only the pipeline's thread writes its counters: no atomic read-modify-write needed. */
static inline void pipe_count(struct pipe *pp, enum pipe_counter c)
{
	atomic_store_explicit(&pp->counters[c],
			      atomic_load_explicit(&pp->counters[c], memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

static inline uint64_t pipe_counter(const struct pipe *pp, enum pipe_counter c)
{
	return atomic_load_explicit(&((struct pipe *)pp)->counters[c], memory_order_relaxed);
}

/* Hand an event (tables/event.h) to the control side; lost (and counted) if its ring is
 * full. Called by the pipeline's thread only. */
void pipe_event(struct pipe *pp, const struct event *ev);

#endif
