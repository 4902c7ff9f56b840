/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * bpf_load.h - the XDP program's life cycle: open and load the skeleton (build/bpf/
 * esper.skel.h), attach to and detach from interfaces through libxdp, remove a stale
 * attachment of a crashed earlier run, hand map fds to user/bpf_sync.c (the only map
 * writer) and sum the per-CPU verdict counters. Owned by the main thread: not thread-safe;
 * bpf_load_counters may be called from any thread (it only reads the map).
 */
#ifndef ESPER_BPF_LOAD_H
#define ESPER_BPF_LOAD_H

#include <stdbool.h>
#include <linux/types.h>

#include "esper_abi.h"

#define BPF_LOAD_PROG_NAME	"esper_xdp"	/* the XDP function; stale attachments match it */

enum bpf_load_mode {
	BPF_LOAD_NATIVE,	/* driver mode (default) */
	BPF_LOAD_SKB,		/* generic mode */
};

/* Map fds, owned by struct bpf_load: valid until bpf_load_free, never close them. */
struct bpf_load_fds {
	int spd;
	int tuple_lists;
	int sa_in;
	int xsk_slots;
	int xsks;
	int config;
	int counters;
	int local_addrs;
	int natt_dests;
	int natt_ports;
};

struct bpf_load;

/* Route libbpf and libxdp messages through log.h: shown at debug level only, except
 * libbpf warnings while loading (a verifier rejection is worth seeing). */
void bpf_load_log_init(void);

/* Open and load the program and create its maps (config zeroed). NULL with errno set. */
struct bpf_load *bpf_load_new(void);

/* Detach from every interface still attached, then unload. NULL is a no-op. */
void bpf_load_free(struct bpf_load *bl);

/* Attach to ifindex. libxdp's dispatcher cannot load on this kernel (freplace: EPERM), so
 * libxdp falls back to attaching the program alone; the interface must have no other XDP
 * program (-EEXIST/-EBUSY otherwise; call bpf_load_clean_stale first for our own). */
int bpf_load_attach(struct bpf_load *bl, int ifindex, enum bpf_load_mode mode);
int bpf_load_detach(struct bpf_load *bl, int ifindex);

/* Detach an XDP program named BPF_LOAD_PROG_NAME left on ifindex by an earlier run that
 * died without detaching (kill -9). Other programs are left alone. 0 if there was none or
 * it was removed, -errno on failure. */
int bpf_load_clean_stale(int ifindex);

void bpf_load_map_fds(const struct bpf_load *bl, struct bpf_load_fds *fds);
int bpf_load_prog_fd(const struct bpf_load *bl);

/* Sum the per-CPU counters into sum[ESPER_C_MAX]. */
int bpf_load_counters(const struct bpf_load *bl, __u64 sum[ESPER_C_MAX]);

#endif
