/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * maps.h - the maps of the XDP program, BTF-defined; keys and values come from esper_abi.h.
 * Contents are written only by user/control/bpf_sync.c; the program reads them and increments
 * counters. Hashes are BPF_F_NO_PREALLOC: an update of an existing key links a new element
 * and frees the old one after an RCU grace period, so a reader never sees a half-written
 * value (a preallocated hash may recycle an element while a reader still holds it).
 */
#ifndef ESPER_BPF_MAPS_H
#define ESPER_BPF_MAPS_H

/* SPD: one entry per (tuple, masked selectors); see the lookup comment in esper_abi.h. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, ESPER_MAX_SP);
	__type(key, struct esper_spd_key);
	__type(value, struct esper_spd_val);
} spd SEC(".maps");

/* Ordered tuple list per family: key 0 = IPv4, 1 = IPv6; replaced whole. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct esper_tuple_list);
} tuple_lists SEC(".maps");

/* The SAs that may decrypt: SPI (network order) -> UniqueID and outer addresses. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, ESPER_MAX_SA);
	__type(key, __be32);
	__type(value, struct esper_sa_in_val);
} sa_in SEC(".maps");

/* Where esp-udp SAs that may decrypt go: (address, UDP port) -> 1. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, ESPER_MAX_NATT_DESTS);
	__type(key, struct esper_natt_key);
	__type(value, __u8);
} natt_dests SEC(".maps");

/* The UDP ports of natt_dests, as a bitmap (esper_abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ESPER_NATT_PORT_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} natt_ports SEC(".maps");

/* The host's own addresses (user/control/localaddr.c). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, struct esper_addr_key);
	__type(value, __u8);
} local_addrs SEC(".maps");

/* (ifindex, rx queue) -> slot in xsks. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, ESPER_MAX_XSK);
	__type(key, struct esper_xsk_key);
	__type(value, __u32);
} xsk_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, ESPER_MAX_XSK);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct esper_config);
} config SEC(".maps");

/* Verdict counters, index enum esper_counter; summed over CPUs by user/control/bpf_load.c. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ESPER_C_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

#endif /* ESPER_BPF_MAPS_H */
