// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * out.c - standard output's lock, the acknowledgement lines, and the queue and writer
 * thread of the event lines (out.h). Called by the sessions (session.c), by live.c's
 * housekeeper (events) and by main.c in pcap mode.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <stdio_ext.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "out.h"

void out_init(struct out *o, FILE *f)
{
	memset(o, 0, sizeof(*o));
	o->f = f;
	pthread_mutex_init(&o->lock, NULL);
	pthread_mutex_init(&o->qlock, NULL);
	pthread_cond_init(&o->qcond, NULL);
}

void out_fini(struct out *o)
{
	free(o->q);
	o->q = NULL;
	o->qlen = o->qcap = 0;
	pthread_cond_destroy(&o->qcond);
	pthread_mutex_destroy(&o->qlock);
	pthread_mutex_destroy(&o->lock);
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

/* --- the event queue and its writer ------------------------------------------------------ */

static bool queue_room(struct out *o, size_t len)
{
	size_t cap = o->qcap ? o->qcap : 4096;
	char *q;

	if (o->qlen + len > OUT_QUEUE_MAX)
		return false;
	if (o->qlen + len <= o->qcap)
		return true;
	while (cap < o->qlen + len)
		cap *= 2;
	q = realloc(o->q, cap);
	if (!q)
		return false;
	o->q = q;
	o->qcap = cap;
	return true;
}

void out_queue_events(struct out *o, const char *lines, size_t len)
{
	bool first_loss = false;

	if (!len)
		return;
	pthread_mutex_lock(&o->qlock);
	if (!o->writing) {
		pthread_mutex_unlock(&o->qlock);
		out_events(o, lines, len);
		return;
	}
	if (queue_room(o, len)) {
		memcpy(o->q + o->qlen, lines, len);
		o->qlen += len;
		pthread_cond_signal(&o->qcond);
	} else {
		first_loss = !o->lost;
		o->lost += len;
	}
	pthread_mutex_unlock(&o->qlock);
	if (first_loss)
		log_warnx("standard output is not read: event lines are being lost");
}

/* Take what is queued (the caller writes and frees it); NULL when stopping and empty. */
static char *take(struct out *o, size_t *len)
{
	char *q;

	pthread_mutex_lock(&o->qlock);
	while (!o->qlen && !o->stop)
		pthread_cond_wait(&o->qcond, &o->qlock);
	q = o->q;
	*len = o->qlen;
	o->q = NULL;
	o->qlen = o->qcap = 0;
	pthread_mutex_unlock(&o->qlock);
	return q;
}

int out_answer_open(struct out_answer *a, struct out *o)
{
	a->o = o;
	return membuf_open(&a->m);
}

int out_answer_deliver(void *arg)
{
	struct out_answer *a = arg;

	if (!a->m.len && !__fpending(a->m.f))
		return 0;	/* nothing to say (most commands without --ack): no flush */
	membuf_flush(&a->m);
	if (a->m.len) {
		out_lock(a->o);
		fwrite(a->m.data, 1, a->m.len, a->o->f);
		fflush(a->o->f);
		out_unlock(a->o);
	}
	membuf_reset(&a->m);	/* a dump's keys are wiped */
	return 0;
}

void out_answer_close(struct out_answer *a)
{
	membuf_close(&a->m);
}

static void unlock_out(void *arg)
{
	out_unlock(arg);
}

/* The writer may be cancelled in write(2) (out_stop_writer): it then frees what it took
 * and releases the lock. */
static void *writer_main(void *arg)
{
	struct out *o = arg;
	size_t len;
	char *q;

	while ((q = take(o, &len))) {
		pthread_cleanup_push(free, q);
		out_lock(o);
		pthread_cleanup_push(unlock_out, o);
		fwrite(q, 1, len, o->f);
		fflush(o->f);
		pthread_cleanup_pop(1);
		pthread_cleanup_pop(1);
	}
	return NULL;
}

int out_start_writer(struct out *o)
{
	int err = pthread_create(&o->writer, NULL, writer_main, o);

	if (err)
		return -err;
	pthread_mutex_lock(&o->qlock);
	o->writing = true;
	pthread_mutex_unlock(&o->qlock);
	return 0;
}

/* What is queued is written first, for at most a second: a reader that is gone for good
 * (its pipe full) does not hold up the shutdown (the writer is cancelled in write(2)). */
void out_stop_writer(struct out *o)
{
	struct timespec until;

	pthread_mutex_lock(&o->qlock);
	if (!o->writing) {
		pthread_mutex_unlock(&o->qlock);
		return;
	}
	o->stop = true;
	pthread_cond_signal(&o->qcond);
	pthread_mutex_unlock(&o->qlock);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 1;
	if (pthread_timedjoin_np(o->writer, NULL, &until)) {
		log_warnx("standard output is not read: the last event lines are dropped");
		pthread_cancel(o->writer);
		pthread_join(o->writer, NULL);
	}
	o->writing = false;
	if (o->lost)
		log_warnx("%" PRIu64 " bytes of event lines were lost (standard output not read)",
			  o->lost);
}

void out_ack(FILE *f, const struct cmd_error *err)
{
	if (err)
		fprintf(f, "error %u:%u: %s\n", err->loc.line, err->loc.col, err->msg);
	else
		fputs("ok\n", f);
}
