/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * localaddr.h - the host's own addresses, mirrored into the XDP map local_addrs (through
 * bpf_sync.c) and kept current from rtnetlink's address events by a thread of its own, so
 * that inbound ESP is only taken when it is addressed to this gateway (RFC 4301 5.2). The
 * thread writes the map with the control lock held.
 */
#ifndef ESPER_LOCALADDR_H
#define ESPER_LOCALADDR_H

#include <pthread.h>

#include "bpf_sync.h"

struct localaddr;

/* Mirror the addresses now, then follow them. NULL with errno set. */
struct localaddr *localaddr_start(struct bpf_sync *sync, pthread_mutex_t *lock);
void localaddr_stop(struct localaddr *la);	/* NULL is a no-op */

#endif
