/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ctl_sock.h - the operator's control socket: a Unix stream socket (mode 0600, clients of
 * root or of the daemon's own user only) speaking the command language, so that `dump`,
 * `spddump`, `stats` (and with allow_write every command) can be run on a running gateway
 * while the standard input belongs to the keying daemon. Each client is a session
 * (session.h) of its own thread: its commands are applied under the same exec lock as the
 * standard input's, every command is acknowledged ("ok" or "error LINE:COL: ..."), and its
 * answers are built in memory and sent after the lock is released, with a send timeout, so
 * that a slow or hostile client holds up nothing but itself. At most CTL_MAX_CLIENTS at
 * once; a client idle for CTL_IDLE_S seconds is disconnected.
 */
#ifndef ESPER_CTL_SOCK_H
#define ESPER_CTL_SOCK_H

#include <pthread.h>
#include <stdbool.h>

#include "cmd_exec.h"

#define CTL_SOCK_DEFAULT "/run/esper-xdp/control"	/* beside the service's FIFO */
#define CTL_MAX_CLIENTS 8
#define CTL_IDLE_S 60		/* a client that sends nothing for this long is dropped */
#define CTL_SEND_S 5		/* an answer the client does not take within this is dropped */

struct ctl_sock;

/* Listen on path (its directory is made, 0700, if it is missing; one that is a symlink,
 * another user's, or others may write to without the sticky bit is refused: EPERM; a stale
 * socket file of a dead run is replaced;
 * one a live process answers on is left alone: EADDRINUSE). NULL with errno set. */
struct ctl_sock *ctl_sock_start(const char *path, bool allow_write, struct exec_env *env,
				pthread_mutex_t *exec_lock);
/* Disconnect every client, stop, remove the socket file. NULL is a no-op. */
void ctl_sock_stop(struct ctl_sock *cs);

#endif
