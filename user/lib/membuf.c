// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * membuf.c - the wiping memory stream of membuf.h (fopencookie: stdio formats into our
 * iobuf, its write callback appends to data, which grows by copying and wiping the old).
 * Called by control/ctl_sock.c and control/out.c for the answers of sessions.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "membuf.h"
#include "wipe.h"

static int grow(struct membuf *m, size_t need)
{
	size_t cap = m->cap ? m->cap : 4096;
	char *n;

	while (cap < need) {
		if (cap > ((size_t)1 << 40))
			return -ENOMEM;
		cap *= 2;
	}
	n = malloc(cap);
	if (!n)
		return -ENOMEM;
	if (m->len)
		memcpy(n, m->data, m->len);
	wipe(m->data, m->cap);
	free(m->data);
	m->data = n;
	m->cap = cap;
	return 0;
}

static ssize_t cookie_write(void *cookie, const char *buf, size_t size)
{
	struct membuf *m = cookie;

	if (m->len + size > m->cap && grow(m, m->len + size) < 0) {
		errno = ENOMEM;
		return -1;
	}
	memcpy(m->data + m->len, buf, size);
	m->len += size;
	return (ssize_t)size;
}

int membuf_open(struct membuf *m)
{
	cookie_io_functions_t io = { .write = cookie_write };

	memset(m, 0, sizeof(*m));
	m->f = fopencookie(m, "w", io);
	if (!m->f)
		return -errno;
	if (setvbuf(m->f, m->iobuf, _IOFBF, sizeof(m->iobuf))) {
		fclose(m->f);
		m->f = NULL;
		return -ENOMEM;
	}
	return 0;
}

void membuf_flush(struct membuf *m)
{
	fflush(m->f);
	wipe(m->iobuf, sizeof(m->iobuf));	/* flushed: its bytes are in data now */
}

void membuf_reset(struct membuf *m)
{
	membuf_flush(m);
	wipe(m->data, m->len);
	m->len = 0;
	if (m->cap > MEMBUF_KEEP) {	/* a dump of a million SAs is not kept for the next */
		free(m->data);
		m->data = NULL;
		m->cap = 0;
	}
}

void membuf_close(struct membuf *m)
{
	if (m->f)
		fclose(m->f);
	m->f = NULL;
	wipe(m->iobuf, sizeof(m->iobuf));
	wipe(m->data, m->cap);
	free(m->data);
	m->data = NULL;
	m->len = m->cap = 0;
}
