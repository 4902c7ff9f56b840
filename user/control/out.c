// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * out.c - standard output's lock and the acknowledgement lines (out.h). Called by the
 * sessions (session.c) and by live.c's housekeeper for the events.
 */
#include "out.h"

void out_init(struct out *o, FILE *f)
{
	o->f = f;
	pthread_mutex_init(&o->lock, NULL);
}

void out_lock(struct out *o)
{
	pthread_mutex_lock(&o->lock);
}

void out_unlock(struct out *o)
{
	pthread_mutex_unlock(&o->lock);
}

void out_events(struct out *o, const char *lines, size_t len)
{
	if (!len)
		return;
	out_lock(o);
	fwrite(lines, 1, len, o->f);
	fflush(o->f);
	out_unlock(o);
}

void out_ack(FILE *f, const struct cmd_error *err)
{
	if (err)
		fprintf(f, "error %u:%u: %s\n", err->loc.line, err->loc.col, err->msg);
	else
		fputs("ok\n", f);
}
