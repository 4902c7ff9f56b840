// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ctl_client.c - the client mode (ctl_client.h): connect, send the request while reading
 * the answers (poll, so that neither side waits for the other with full buffers), shut the
 * sending side when the request is out (the server ends the session then), and sort each
 * answer line by its first word: "ok" counts, "error ..." goes to stderr, the rest (the
 * listings) to stdout. Called by main.c. The request may hold keys: it is wiped.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_client.h"
#include "lib/wipe.h"

struct request {
	char *buf;
	size_t len, cap, sent;
};

struct answers {
	char line[8192];
	size_t len;
	bool overlong;		/* the line in hand did not fit: passed through, not sorted */
	unsigned oks, errors;
};

static int append(struct request *r, const char *p, size_t n)
{
	if (r->len + n + 1 > r->cap) {
		size_t cap = (r->len + n + 1) * 2;
		char *b = malloc(cap);

		if (!b)
			return -1;
		if (r->len)
			memcpy(b, r->buf, r->len);
		wipe(r->buf, r->cap);
		free(r->buf);
		r->buf = b;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, p, n);
	r->len += n;
	return 0;
}

/* The words, joined by spaces, with a ';' at the end if they lack one. */
static int request_of_words(struct request *r, int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		if ((i && append(r, " ", 1)) || append(r, argv[i], strlen(argv[i])))
			return -1;
	if (r->len && r->buf[r->len - 1] != ';' && append(r, " ;", 2))
		return -1;
	return append(r, "\n", 1);
}

static int request_of_stdin(struct request *r)
{
	char chunk[4096];
	ssize_t n;

	while ((n = read(STDIN_FILENO, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || append(r, chunk, (size_t)n)) {
			wipe(chunk, sizeof(chunk));
			return -1;
		}
	}
	wipe(chunk, sizeof(chunk));
	return 0;
}

/* One complete answer line (without its '\n'). */
static void sort_line(struct answers *a, const char *line, size_t len)
{
	if (len == 2 && !memcmp(line, "ok", 2)) {
		a->oks++;
	} else if (len >= 6 && !memcmp(line, "error ", 6)) {
		a->errors++;
		fprintf(stderr, "esper-xdp ctl: %.*s\n", (int)len - 6, line + 6);
	} else {
		fwrite(line, 1, len, stdout);
		fputc('\n', stdout);
	}
}

static void take(struct answers *a, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n') {
			if (a->overlong)
				fputs("\n", stdout);
			else
				sort_line(a, a->line, a->len);
			a->len = 0;
			a->overlong = false;
		} else if (a->overlong) {
			fputc(p[i], stdout);
		} else if (a->len == sizeof(a->line)) {	/* a listing line: pass it on */
			fwrite(a->line, 1, a->len, stdout);
			fputc(p[i], stdout);
			a->overlong = true;
		} else {
			a->line[a->len++] = p[i];
		}
	}
}

static int connect_to(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/* Send r and read the answers until the server closes: 0, or -1 (I/O error). */
static int exchange(int fd, struct request *r, struct answers *a)
{
	char buf[16384];
	bool shut = false;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (!shut && r->sent == r->len) {
			shutdown(fd, SHUT_WR);
			shut = true;
		}
		if (!shut)
			p.events |= POLLOUT;
		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (!shut && (p.revents & POLLOUT)) {
			n = send(fd, r->buf + r->sent, r->len - r->sent, MSG_NOSIGNAL);
			if (n < 0 && errno != EINTR && errno != EAGAIN)
				return -1;
			r->sent += n > 0 ? (size_t)n : 0;
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			n = recv(fd, buf, sizeof(buf), 0);
			if (n == 0)
				return 0;
			if (n < 0 && errno != EINTR && errno != EAGAIN)
				return -1;
			if (n > 0)
				take(a, buf, (size_t)n);
		}
	}
}

int ctl_client_run(const char *path, int argc, char **argv)
{
	struct request r = { 0 };
	struct answers a = { .len = 0 };
	int fd, ret;

	if ((argc ? request_of_words(&r, argc, argv) : request_of_stdin(&r)) < 0) {
		fprintf(stderr, "esper-xdp ctl: cannot read the commands: %s\n", strerror(errno));
		ret = 2;
		goto out;
	}
	fd = connect_to(path);
	if (fd < 0) {
		fprintf(stderr, "esper-xdp ctl: %s: %s\n", path, strerror(errno));
		ret = 2;
		goto out;
	}
	ret = exchange(fd, &r, &a);
	close(fd);
	if (a.len)
		sort_line(&a, a.line, a.len);	/* a last line without its '\n' */
	fflush(stdout);
	if (ret < 0 || r.sent < r.len) {
		fprintf(stderr, "esper-xdp ctl: %s: the answer was cut short\n", path);
		ret = 2;
	} else {
		ret = a.errors ? 1 : 0;
	}
out:
	wipe(r.buf, r.cap);
	free(r.buf);
	wipe(a.line, sizeof(a.line));
	return ret;
}
