/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * membuf.h - a stdio stream that writes into memory this file owns and wipes (wipe.h):
 * every buffer it ever used, stdio's included, is erased before it is reused or freed, so
 * an answer that held key material (a `dump` for a control socket client) leaves none
 * behind. One thread at a time.
 */
#ifndef ESPER_MEMBUF_H
#define ESPER_MEMBUF_H

#include <stddef.h>
#include <stdio.h>

struct membuf {
	FILE *f;		/* write here */
	char *data;		/* what was written, after membuf_flush */
	size_t len, cap;
	char iobuf[4096];	/* stdio's buffer */
};

#define MEMBUF_KEEP (1u << 20)	/* membuf_reset keeps at most this much memory */

int membuf_open(struct membuf *m);	/* 0 or -errno */
void membuf_flush(struct membuf *m);	/* everything written is in data[0..len) */
void membuf_reset(struct membuf *m);	/* wipe and forget what was written */
void membuf_close(struct membuf *m);	/* wipe and free; a closed membuf may be closed again */

#endif
