/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * esper_abi.h - the one copy of everything the XDP program (bpf/esper.bpf.c) and the daemon
 * (user/) share: map keys and values, the metadata in front of redirected frames, verdict
 * counters and limits. Owner of every map's contents: user/control/bpf_sync.c (the only writer);
 * the XDP program only reads, except the per-CPU counters it increments.
 *
 * Only __u8..__u64/__be16/__be32, no includes (the includer provides the types: vmlinux.h
 * in BPF, <linux/types.h> in userspace), explicit padding, a size assert on every struct.
 *
 * SPD lookup (tuple-space search, identical in userspace spd_match and in XDP):
 *   A policy's tuple is (family, src prefix length, dst prefix length, protocol given?,
 *   source port given?, destination port given?). Policies with the same tuple live in one
 *   hash keyed by struct esper_spd_key, the packet's fields masked by the tuple. Each family
 *   has an ordered list of the tuples in use (struct esper_tuple_list); a lookup probes them in
 *   order and the first hit wins. The order is "most specific first":
 *     1. longer src_plen + dst_plen first,   2. longer dst_plen first,
 *     3. protocol given first,               4. destination port given first,
 *     5. source port given first.
 *   Within one tuple at most one key matches a packet. A key holds at most one outbound and
 *   one inbound policy; outbound wins. The cost depends on the number of tuples in use (at
 *   most ESPER_MAX_TUPLES per family), never on the number of policies.
 *
 * Failing closed (RFC 4301 7): a packet is "opaque" when it is TCP or UDP without readable
 *   ports (a non-first fragment, a header cut short) or its protocol is unknown (an IPv6
 *   chain longer than ESPER_MAX_IPV6_EXT or truncated). A tuple that needs what an opaque
 *   packet lacks cannot be keyed for it; instead its "shadow key" is probed: the packet's
 *   fields masked by the tuple with the ports (ESPER_K_SHADOW), and the protocol too when it
 *   is unknown (ESPER_K_NOPROTO), zeroed. Every policy that is not a bypass and needs ports
 *   (or a protocol) keeps its shadow keys in the map. A shadow hit ahead of the first real
 *   hit means a protecting or discarding policy might match the packet: it is then
 *   protected if that first hit is an outbound ipsec policy, and dropped otherwise.
 */
#ifndef ESPER_ABI_H
#define ESPER_ABI_H

#define ESPER_MAX_TUPLES	64	/* distinct tuples per address family */
#define ESPER_MAX_SP		(1u << 21)	/* SPD keys in the BPF map */
#define ESPER_MAX_SA		(1u << 21)	/* inbound SPIs in the BPF map */
#define ESPER_MAX_XSK		256	/* AF_XDP sockets: (interface, queue) slots */
#define ESPER_MAX_IFACES	8	/* interfaces esper-xdp attaches to */
#define ESPER_MAX_IPV6_EXT	8	/* IPv6 extension headers walked before giving up */

#define ESPER_AF_INET		4
#define ESPER_AF_INET6		6

/* Tuple flags; also the flags of struct esper_spd_key. */
#define ESPER_T_PROTO		0x01	/* the protocol is part of the key */
#define ESPER_T_SPORT		0x02	/* the source port is part of the key */
#define ESPER_T_DPORT		0x04	/* the destination port is part of the key */
/* Key flags only (never in a tuple): shadow keys, see above. */
#define ESPER_K_SHADOW		0x40	/* the tuple's key without its ports */
#define ESPER_K_NOPROTO		0x80	/* ... and without its protocol */

struct esper_tuple {
	__u8 src_plen;
	__u8 dst_plen;
	__u8 flags;		/* ESPER_T_* */
	__u8 pad;
};
_Static_assert(sizeof(struct esper_tuple) == 4, "esper_tuple");

/* Map tuple_lists: key 0 = IPv4, 1 = IPv6. Replaced whole (BPF_F_NO_PREALLOC hash), so the
 * XDP program always sees one consistent, ordered list. */
struct esper_tuple_list {
	__u32 count;
	__u32 pad;
	struct esper_tuple t[ESPER_MAX_TUPLES];
};
_Static_assert(sizeof(struct esper_tuple_list) == 8 + 4 * ESPER_MAX_TUPLES, "tuple_list");

/* Map spd: the packet's selectors masked by one tuple. Addresses in network order, IPv4 in
 * the first 4 bytes, the rest zero. Fields the tuple leaves out are zero. */
struct esper_spd_key {
	__u8 family;		/* ESPER_AF_INET or ESPER_AF_INET6 */
	__u8 src_plen;
	__u8 dst_plen;
	__u8 flags;		/* the tuple's ESPER_T_* */
	__u8 proto;
	__u8 pad[3];
	__be16 sport;
	__be16 dport;
	__u8 src[16];
	__u8 dst[16];
};
_Static_assert(sizeof(struct esper_spd_key) == 44, "esper_spd_key");

/* A policy's action (setkey's ipsec, discard, none); NONE: no policy in that slot. */
#define ESPER_ACT_NONE		0
#define ESPER_ACT_IPSEC		1	/* out: encrypt; in: plaintext must not arrive, drop */
#define ESPER_ACT_DISCARD	2	/* drop */
#define ESPER_ACT_BYPASS	3	/* pass in clear */

/* A shadow key's value is all zero: only its presence counts. */
struct esper_spd_val {
	__u8 out;		/* ESPER_ACT_* of the outbound policy */
	__u8 in;		/* ESPER_ACT_* of the inbound policy */
	__u8 pad[2];
	__u32 out_id;		/* policy id of the outbound policy (user/tables/spd.c numbers them) */
	__u32 in_id;		/* policy id of the inbound policy */
	__u32 pad2;
};
_Static_assert(sizeof(struct esper_spd_val) == 16, "esper_spd_val");

/* Map sa_in: key = SPI in network order (__be32); only SAs that may decrypt (no outbound
 * policy names them). ESP is an SA's only if its outer addresses are the SA's; ESP in UDP
 * (RFC 3948) only if it came to the SA's destination and UDP port, from any source: a NAT
 * may have changed the peer's address and port (the worker reports a new mapping). */
struct esper_sa_in_val {
	__u32 uid;		/* the SA's UniqueID, for the worker's lookup hint */
	__u8 family;		/* ESPER_AF_INET or ESPER_AF_INET6 */
	__u8 encap;		/* 1: ESP in UDP to dport (esp-udp), never bare ESP */
	__be16 dport;		/* encap: the UDP destination port */
	__u8 src[16];		/* outer source, network order, IPv4 in the first 4 bytes */
	__u8 dst[16];		/* outer destination */
};
_Static_assert(sizeof(struct esper_sa_in_val) == 40, "esper_sa_in_val");

/* Map natt_dests: where this host takes ESP in UDP, the destination address and UDP port of
 * every esp-udp SA that may decrypt; value a __u8, 1. UDP to such a place (and, live, to
 * this host) is ESP in UDP (RFC 3948 2.2) unless its first 4 bytes are zero (the non-ESP
 * marker of IKE) or it is a 1-byte NAT-keepalive (0xff, 2.3): those two go to the kernel
 * untouched, past every policy but an outbound ipsec one, so that the keying daemon keeps
 * its socket. */
#define ESPER_MAX_NATT_DESTS	65536

/* Map natt_ports: bit (port % 64) of word (port / 64), the UDP port in host order, is set
 * while natt_dests holds a place with that port. XDP asks natt_dests only about UDP to such
 * a port: a hash lookup for every UDP packet cost ~30 ns (BENCHMARKS.md). */
#define ESPER_NATT_PORT_WORDS	1024

struct esper_natt_key {
	__u8 family;		/* ESPER_AF_INET or ESPER_AF_INET6 */
	__u8 pad;
	__be16 port;		/* the UDP destination port */
	__u8 addr[16];		/* the destination address, IPv4 in the first 4 bytes */
};
_Static_assert(sizeof(struct esper_natt_key) == 20, "esper_natt_key");

/* Map local_addrs: the addresses of this host (user/control/localaddr.c keeps them); inbound
 * ESP must be addressed to one of them. Value: a __u8, 1. */
struct esper_addr_key {
	__u8 family;		/* ESPER_AF_INET or ESPER_AF_INET6 */
	__u8 pad[3];
	__u8 addr[16];
};
_Static_assert(sizeof(struct esper_addr_key) == 20, "esper_addr_key");

/* Map xsk_slots: which slot of the XSKMAP serves (ifindex, queue). */
struct esper_xsk_key {
	__u32 ifindex;
	__u32 queue;
};
_Static_assert(sizeof(struct esper_xsk_key) == 8, "esper_xsk_key");

/* Config, array map with one element; written once at start-up. */
#define ESPER_CFG_UNKNOWN_SPI_DROP	0x01	/* ESP with an unknown SPI: XDP_DROP, not PASS */
#define ESPER_CFG_RPF			0x02	/* plaintext to encrypt: strict reverse path */
#define ESPER_CFG_LOCAL			0x04	/* inbound ESP: to an address in local_addrs */

struct esper_config {
	__u32 flags;		/* ESPER_CFG_* */
	__u32 pad;
};
_Static_assert(sizeof(struct esper_config) == 8, "esper_config");

/* Metadata the XDP program puts in front of every redirected frame (bpf_xdp_adjust_meta). */
#define ESPER_META_MAGIC	0x45535052	/* "ESPR" */
#define ESPER_META_ESP_IN	1	/* inbound ESP: id = SA UniqueID */
#define ESPER_META_PLAIN_OUT	2	/* plaintext for an outbound policy: id = policy id */

struct esper_meta {
	__u32 magic;
	__u32 kind;		/* ESPER_META_* */
	__u32 id;
};
_Static_assert(sizeof(struct esper_meta) == 12, "esper_meta");

/* Per-CPU verdict counters of the XDP program: map counters, index = enum esper_counter. */
#define ESPER_XDP_COUNTERS(X)						\
	X(PASS_NOT_IP, "pass: not IP")					\
	X(PASS_MALFORMED, "pass: malformed or truncated")		\
	X(DROP_TAGS, "drop: more VLAN tags than XDP reads (2); the kernel would take the packet inside") \
	X(PASS_NO_POLICY, "pass: no policy matched")			\
	X(PASS_BYPASS, "pass: a bypass (none) policy matched")		\
	X(PASS_NATT_CONTROL, "pass: IKE or a NAT-keepalive to a NAT-T destination of this host") \
	X(PASS_UNKNOWN_SPI, "pass: ESP for no SA of this gateway")	\
	X(DROP_UNKNOWN_SPI, "drop: ESP for no SA of this gateway")	\
	X(DROP_IN_POLICY, "drop: plaintext matching an inbound policy")	\
	X(DROP_DISCARD, "drop: a discard policy matched")		\
	X(DROP_OPAQUE, "drop: selectors unreadable, a policy might protect it") \
	X(DROP_RPF, "drop: plaintext to encrypt from a source not routed back to its interface") \
	X(REDIRECT_ESP_IN, "redirect: inbound ESP")			\
	X(REDIRECT_PLAIN_OUT, "redirect: plaintext to encrypt")	\
	X(PASS_NO_XSK, "pass: no AF_XDP socket on this queue")		\
	X(DROP_NO_XSK, "drop: no AF_XDP socket on this queue")

enum esper_counter {
#define ESPER_COUNTER_ENUM(name, text) ESPER_C_##name,
	ESPER_XDP_COUNTERS(ESPER_COUNTER_ENUM)
#undef ESPER_COUNTER_ENUM
	ESPER_C_MAX
};

#endif /* ESPER_ABI_H */
