/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * session.h - one source of commands and where its answers go: the standard input (or
 * -f FILE) of the keying daemon, or a client of the control socket (ctl_sock.h). A session
 * reads a command without any lock, applies it under the exec lock (the one lock of every
 * writer of the tables and maps), writes its listing and, with ack, its acknowledgement
 * (out.h), and hands the answer on (deliver) once the exec lock is released, so a session
 * that answers slowly never holds up the others.
 */
#ifndef ESPER_SESSION_H
#define ESPER_SESSION_H

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "cmd_exec.h"
#include "out.h"

struct session {
	struct cmd_reader *r;
	struct exec_caller who;		/* who.out: where listings and acks go */
	FILE *errors;			/* "<source>:LINE:COL: error: ..." lines; NULL: none */
	bool ack;			/* one acknowledgement per command */
	/* After each command, outside the exec lock; < 0 ends the session. NULL: none. */
	int (*deliver)(void *arg);
	void *deliver_arg;
	/* session_run's count, and when its first command came (CLOCK_MONOTONIC). */
	unsigned long applied, refused;
	struct timespec first;
};

/* Read and apply the next command: 1, or 0 at end of input (or when deliver failed).
 * exec_lock NULL: no other thread uses the tables (pcap mode). */
int session_step(struct session *s, struct exec_env *env, pthread_mutex_t *exec_lock);

/* Every command until the end (when no further command is waiting, the executor's
 * held-back map writes go: exec_env's settle); returns the number refused. */
unsigned session_run(struct session *s, struct exec_env *env, pthread_mutex_t *exec_lock);

#endif
