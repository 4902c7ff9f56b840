/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * out.h - the owner of standard output's lines. Three kinds share it (docs/commands.md):
 * listings (the answer to dump, spddump, spigrp, stats, getspi), acknowledgements (--ack:
 * "ok" or "error LINE:COL: MESSAGE", one per command, after its listing) and events
 * (events.h: expire, acquire, mapping). A session holds the lock from the start of a
 * command's answer to its acknowledgement; events are written whole under the same lock,
 * so an event line never lands inside a listing or between a listing and its ack. Lines of
 * each kind start with their own words: a reader tells them apart by the first word.
 */
#ifndef ESPER_OUT_H
#define ESPER_OUT_H

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>

#include "cmd.h"

struct out {
	FILE *f;
	pthread_mutex_t lock;
};

void out_init(struct out *o, FILE *f);
void out_lock(struct out *o);
void out_unlock(struct out *o);

/* Write len bytes of whole event lines ('\n'-terminated) at once and flush. */
void out_events(struct out *o, const char *lines, size_t len);

/* The acknowledgement of a command on f: "ok", or "error LINE:COL: MESSAGE" (err). */
void out_ack(FILE *f, const struct cmd_error *err);

#endif
