/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * bpf_sync.h - the only writer of the XDP program's maps at run time: the SPD and SAD
 * mirrors that cmd_exec.c drives (tables/spd.h, cmd_exec.h), the host's addresses
 * (localaddr.h), the config, and the AF_XDP socket slots the workers register. Called with
 * the control lock held (live.c), one writer at a time.
 *
 * The mirrors write through (one system call per key) until bpf_sync_batch_start; from then
 * on their writes are held back and sent in batches (bpf_batch.h) by a writer thread of
 * their own, while the control thread goes on parsing and applying commands. A batch goes
 * when it is full or on bpf_sync_flush (live.c: when no further command is waiting on the
 * input, and every HOUSEKEEPING_MS), in this order, which keeps what XDP sees safe at every
 * step:
 *   1. SPIs leaving sa_in (an SA an out policy named: out of the map before that policy
 *      is in the spd map, as docs/security.md says);
 *   2. spd keys added or changed (shadow keys before the keys that leave them);
 *   3. the tuple lists (after the keys they make reachable, before those they orphan go);
 *   4. spd keys deleted;
 *   5. SPIs entering sa_in.
 * Until its batch is sent, the XDP program acts as if the command had come a few
 * milliseconds later; the workers already apply it (the userspace tables are their
 * authority: a packet XDP hands them is classified again). A write the kernel refuses is
 * logged (the command was accepted already); the SAD and SPD check the maps' capacity
 * first, so only an allocation failure of the kernel can do that.
 */
#ifndef ESPER_BPF_SYNC_H
#define ESPER_BPF_SYNC_H

#include <pthread.h>
#include <stdbool.h>

#include "bpf_batch.h"
#include "bpf_load.h"
#include "cmd_exec.h"
#include "lib/addr.h"
#include "tables/spd.h"

/* One generation of held-back writes. */
struct bpf_sync_set {
	struct bpf_batch spd, sa_in;
	struct esper_tuple_list tuples[2];
	bool tuples_set[2];
};

struct bpf_sync {
	struct bpf_load_fds fds;
	struct spd_mirror spd;
	struct sa_mirror sa;

	/* Batched mode: the control thread fills *filling while the writer sends *sending. */
	bool batched;
	struct bpf_sync_set set[2];
	struct bpf_sync_set *filling, *sending;
	pthread_t writer;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool busy;		/* the writer has *sending to send */
	bool stopping;
	unsigned long failed;	/* writes the kernel refused, since the start */
};

void bpf_sync_init(struct bpf_sync *s, const struct bpf_load_fds *fds);
/* From now on, hold the mirrors' writes back and send them in batches (above): 0 or
 * -errno (then writes still go through one by one). */
int bpf_sync_batch_start(struct bpf_sync *s);
/* Hand what is held back to the writer; returns at once. */
void bpf_sync_flush(struct bpf_sync *s);
/* Flush and wait until every write made so far is in the maps. */
void bpf_sync_wait(struct bpf_sync *s);
/* Wait, stop the writer; writes go through one by one again. */
void bpf_sync_batch_stop(struct bpf_sync *s);
int bpf_sync_config(struct bpf_sync *s, const struct esper_config *cfg);
/* (ifindex, queue) is served by the AF_XDP socket xsk_fd in XSKMAP slot `slot`. */
int bpf_sync_xsk(struct bpf_sync *s, int ifindex, unsigned queue, unsigned slot, int xsk_fd);
/* Address a is one of this host's (present) or no longer is. */
int bpf_sync_local_addr(struct bpf_sync *s, const struct ip_addr *a, bool present);

#endif
