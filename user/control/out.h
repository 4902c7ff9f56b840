/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * out.h - the owner of standard output's lines. Three kinds share it (docs/commands.md):
 * listings (the answer to dump, spddump, spigrp, stats, getspi), acknowledgements (--ack:
 * "ok" or "error LINE:COL: MESSAGE", one per command, after its listing) and events
 * (events.h: expire, acquire, mapping). A command's answer, its listing and its
 * acknowledgement, is written whole under the lock (out_answer), and so are events, so an
 * event line never lands inside a listing or between a listing and its ack. Lines of
 * each kind start with their own words: a reader tells them apart by the first word.
 *
 * Events are queued (out_queue_events, which never waits) and written by a writer thread of
 * their own (out_start_writer): a keying daemon that stops reading its standard output
 * holds up its own listings and the events, never the housekeeper that queues them (which
 * also frees and wipes deleted SAs). Beyond OUT_QUEUE_MAX bytes waiting, events are lost
 * and counted (reported once on standard error).
 */
#ifndef ESPER_OUT_H
#define ESPER_OUT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cmd.h"
#include "lib/membuf.h"

#define OUT_QUEUE_MAX (1u << 20)	/* bytes of event lines waiting to be written */

struct out {
	FILE *f;
	pthread_mutex_t lock;		/* the order of f's lines */
	pthread_mutex_t qlock;		/* the queue below */
	pthread_cond_t qcond;
	char *q;			/* event lines waiting for the writer */
	size_t qlen, qcap;
	uint64_t lost;			/* bytes of event lines dropped: the queue was full */
	bool stop, writing;
	pthread_t writer;
};

void out_init(struct out *o, FILE *f);
void out_fini(struct out *o);		/* after out_stop_writer */
void out_lock(struct out *o);
void out_unlock(struct out *o);

/* Write len bytes of whole event lines ('\n'-terminated) at once and flush. */
void out_events(struct out *o, const char *lines, size_t len);

/* The writer thread; stopping it writes what is queued first. 0 or -errno. */
int out_start_writer(struct out *o);
void out_stop_writer(struct out *o);
/* Queue whole event lines for the writer; never waits (drops them when the queue is full).
 * Without a writer, writes them now (out_events). */
void out_queue_events(struct out *o, const char *lines, size_t len);

/*
 * A session's answers to the shared stream (session.h's deliver): each command's listing and
 * acknowledgement are written into memory under the exec lock, then written whole under the
 * stream's lock once the exec lock is released. A keying daemon that stops reading holds up
 * its own session, never the exec lock that the housekeeper and the control socket take.
 */
struct out_answer {
	struct out *o;
	struct membuf m;	/* the session's who.out is m.f */
};

int out_answer_open(struct out_answer *a, struct out *o);	/* 0 or -errno */
int out_answer_deliver(void *arg);	/* arg: the out_answer; always 0 */
void out_answer_close(struct out_answer *a);

/* The acknowledgement of a command on f: "ok", or "error LINE:COL: MESSAGE" (err). */
void out_ack(FILE *f, const struct cmd_error *err);

#endif
