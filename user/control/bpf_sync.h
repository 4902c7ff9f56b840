/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * bpf_sync.h - the only writer of the XDP program's maps at run time: the SPD and SAD
 * mirrors that cmd_exec.c drives (tables/spd.h, cmd_exec.h), the host's addresses
 * (localaddr.h), the config, and the AF_XDP socket slots the workers register. Called with
 * the control lock held (live.c), one writer at a time.
 */
#ifndef ESPER_BPF_SYNC_H
#define ESPER_BPF_SYNC_H

#include <stdbool.h>

#include "bpf_load.h"
#include "cmd_exec.h"
#include "lib/addr.h"
#include "tables/spd.h"

struct bpf_sync {
	struct bpf_load_fds fds;
	struct spd_mirror spd;
	struct sa_mirror sa;
};

void bpf_sync_init(struct bpf_sync *s, const struct bpf_load_fds *fds);
int bpf_sync_config(struct bpf_sync *s, const struct esper_config *cfg);
/* (ifindex, queue) is served by the AF_XDP socket xsk_fd in XSKMAP slot `slot`. */
int bpf_sync_xsk(struct bpf_sync *s, int ifindex, unsigned queue, unsigned slot, int xsk_fd);
/* Address a is one of this host's (present) or no longer is. */
int bpf_sync_local_addr(struct bpf_sync *s, const struct ip_addr *a, bool present);

#endif
