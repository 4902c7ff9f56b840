// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ctl_sock.c - the control socket (ctl_sock.h): a listener thread that accepts clients of
 * root or of our own user (SO_PEERCRED), one thread per client running a session
 * (session.h) that reads with an idle timeout, answers into a wiping memory buffer
 * (lib/membuf.h) under the exec lock, and sends it after the lock with a send timeout.
 * Started and stopped by live.c; the socket file is made 0600 and removed at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_sock.h"
#include "lib/log.h"
#include "lib/membuf.h"
#include "session.h"

struct client {
	struct ctl_sock *cs;
	int fd;				/* -1 once closed; under cs->lock */
	unsigned session;
	pid_t pid;
	pthread_t thread;
	bool used;			/* a thread was started on this slot */
	_Atomic bool done;		/* ... and has returned: it may be joined */
	struct membuf answer;
};

struct ctl_sock {
	char *path;
	int fd;
	int wake[2];			/* the listener stops when this pipe is readable */
	bool allow_write;
	struct exec_env *env;
	pthread_mutex_t *exec_lock;
	pthread_t listener;
	bool listening;
	pthread_mutex_t lock;		/* the slots' fds */
	struct client clients[CTL_MAX_CLIENTS];
	unsigned sessions;		/* numbers given so far (the standard input is 0) */
	dev_t dev;
	ino_t ino;			/* the socket file we made */
};

/* --- one client -------------------------------------------------------------------------- */

static int send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;	/* gone, or CTL_SEND_S passed (EAGAIN) */
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The answer to one command, sent once the exec lock is released. */
static int deliver(void *arg)
{
	struct client *c = arg;
	int ret;

	membuf_flush(&c->answer);
	ret = send_all(c->fd, c->answer.data, c->answer.len);
	membuf_reset(&c->answer);
	return ret;
}

static void set_timeouts(int fd)
{
	struct timeval idle = { CTL_IDLE_S, 0 }, snd = { CTL_SEND_S, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof(idle));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &snd, sizeof(snd));
}

static void run_session(struct client *c, FILE *in)
{
	struct ctl_sock *cs = c->cs;
	struct cmd_reader *r = cmd_reader_new(in, "<ctl>");
	struct session s = {
		.r = r,
		.who = { .out = c->answer.f, .session = c->session,
			 .read_only = !cs->allow_write },
		.ack = true,
		.deliver = deliver,
		.deliver_arg = c,
	};

	if (r)
		session_run(&s, cs->env, cs->exec_lock);
	cmd_reader_free(r);
}

static void *client_main(void *arg)
{
	struct client *c = arg;
	int rfd = dup(c->fd);
	FILE *in = rfd >= 0 ? fdopen(rfd, "r") : NULL;

	if (!in && rfd >= 0)
		close(rfd);
	if (in && membuf_open(&c->answer) == 0) {
		run_session(c, in);
		membuf_close(&c->answer);
	}
	if (in)
		fclose(in);
	pthread_mutex_lock(&c->cs->lock);
	close(c->fd);
	c->fd = -1;
	pthread_mutex_unlock(&c->cs->lock);
	log_info("control socket: client %u (pid %d) gone", c->session, (int)c->pid);
	atomic_store(&c->done, true);
	return NULL;
}

/* --- accepting ------------------------------------------------------------------------- */

static void refuse(int fd, const char *why)
{
	char line[160];
	int n = snprintf(line, sizeof(line), "error 0:0: %s\n", why);

	send(fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

/* A slot whose thread has ended (joined now) or was never used; NULL if all are busy. */
static struct client *free_slot(struct ctl_sock *cs)
{
	for (unsigned i = 0; i < CTL_MAX_CLIENTS; i++) {
		struct client *c = &cs->clients[i];

		if (c->used && atomic_load(&c->done)) {
			pthread_join(c->thread, NULL);
			c->used = false;
		}
		if (!c->used)
			return c;
	}
	return NULL;
}

static void accept_one(struct ctl_sock *cs)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct client *c;
	int fd = accept4(cs->fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    (cred.uid != 0 && cred.uid != geteuid())) {
		refuse(fd, "permission denied");
		return;
	}
	c = free_slot(cs);
	if (!c) {
		refuse(fd, "too many control socket clients");
		return;
	}
	set_timeouts(fd);
	pthread_mutex_lock(&cs->lock);
	*c = (struct client){ .cs = cs, .fd = fd, .session = ++cs->sessions, .pid = cred.pid };
	pthread_mutex_unlock(&cs->lock);
	log_info("control socket: client %u (pid %d, uid %d)", c->session, (int)cred.pid,
		 (int)cred.uid);
	if (pthread_create(&c->thread, NULL, client_main, c)) {
		refuse(fd, "out of resources");
		c->fd = -1;
		return;
	}
	c->used = true;
}

static void *listener_main(void *arg)
{
	struct ctl_sock *cs = arg;

	for (;;) {
		struct pollfd p[2] = { { .fd = cs->fd, .events = POLLIN },
				       { .fd = cs->wake[0], .events = POLLIN } };

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("control socket: poll");
			break;
		}
		if (p[1].revents)
			break;
		if (p[0].revents & POLLIN)
			accept_one(cs);
	}
	return NULL;
}

/* --- the socket file ------------------------------------------------------------------- */

/* Does a live process answer on path? */
static bool answered(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool alive = fd >= 0 && connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;

	if (fd >= 0)
		close(fd);
	return alive;
}

static int bind_0600(int fd, const struct sockaddr_un *sun)
{
	mode_t old = umask(0177);	/* the file is born 0600: no moment when others may */
	int ret = bind(fd, (const struct sockaddr *)sun, sizeof(*sun));

	umask(old);
	return ret < 0 ? -errno : 0;
}

/* The socket's directory, 0700, if it is missing (its parent must exist). It must be a
 * directory (not a symlink to one) of ours or root's, and one that others may write to must
 * have the sticky bit (as /tmp): else another user could put a socket of theirs in the
 * daemon's place, and operators would talk to it (-EPERM). */
static int make_dir(const char *path)
{
	char *copy = strdup(path);
	struct stat st;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	if (mkdir(dirname(copy), 0700) < 0 && errno != EEXIST)
		err = -errno;
	else if (lstat(copy, &st) < 0)
		err = -errno;
	else if (!S_ISDIR(st.st_mode) || (st.st_uid != geteuid() && st.st_uid != 0) ||
		 ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)))
		err = -EPERM;
	if (err == -EPERM)
		log_warnx("control socket: %s is not a directory of root's or ours that only we "
			  "may change (a symlink, another user's, or writable without the sticky "
			  "bit)", copy);
	free(copy);
	return err;
}

static int listen_on(struct ctl_sock *cs)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int err;

	if (strlen(cs->path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	err = make_dir(cs->path);
	if (err)
		return err;
	strcpy(sun.sun_path, cs->path);
	cs->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (cs->fd < 0)
		return -errno;
	err = bind_0600(cs->fd, &sun);
	if (err == -EADDRINUSE && !answered(&sun) && lstat(cs->path, &st) == 0 &&
	    S_ISSOCK(st.st_mode)) {
		unlink(cs->path);	/* a dead run's */
		err = bind_0600(cs->fd, &sun);
	}
	if (err)
		return err;
	/* born 0600 (bind_0600); lstat: what is at the path now, never through a symlink */
	if (lstat(cs->path, &st) < 0 || listen(cs->fd, 8) < 0) {
		err = -errno;
		unlink(cs->path);
		return err;
	}
	cs->dev = st.st_dev;
	cs->ino = st.st_ino;
	return 0;
}

/* --- start, stop ----------------------------------------------------------------------- */

static void release(struct ctl_sock *cs)
{
	if (cs->fd >= 0)
		close(cs->fd);
	if (cs->wake[0] >= 0)
		close(cs->wake[0]);
	if (cs->wake[1] >= 0)
		close(cs->wake[1]);
	pthread_mutex_destroy(&cs->lock);
	free(cs->path);
	free(cs);
}

struct ctl_sock *ctl_sock_start(const char *path, bool allow_write, struct exec_env *env,
				pthread_mutex_t *exec_lock)
{
	struct ctl_sock *cs = calloc(1, sizeof(*cs));
	int err;

	if (!cs)
		return NULL;
	*cs = (struct ctl_sock){ .fd = -1, .wake = { -1, -1 }, .allow_write = allow_write,
				 .env = env, .exec_lock = exec_lock, .path = strdup(path) };
	pthread_mutex_init(&cs->lock, NULL);
	if (!cs->path || pipe2(cs->wake, O_CLOEXEC) < 0) {
		err = -errno;
		goto fail;
	}
	err = listen_on(cs);
	if (err)
		goto fail;
	err = -pthread_create(&cs->listener, NULL, listener_main, cs);
	if (err) {
		unlink(cs->path);
		goto fail;
	}
	cs->listening = true;
	return cs;
fail:
	release(cs);
	errno = -err;
	return NULL;
}

void ctl_sock_stop(struct ctl_sock *cs)
{
	struct stat st;
	char one = 1;

	if (!cs)
		return;
	if (write(cs->wake[1], &one, 1) < 0)
		log_warn("control socket: cannot wake the listener");
	pthread_join(cs->listener, NULL);
	pthread_mutex_lock(&cs->lock);
	for (unsigned i = 0; i < CTL_MAX_CLIENTS; i++)
		if (cs->clients[i].used && cs->clients[i].fd >= 0)
			shutdown(cs->clients[i].fd, SHUT_RDWR);	/* ends its read and send */
	pthread_mutex_unlock(&cs->lock);
	for (unsigned i = 0; i < CTL_MAX_CLIENTS; i++)
		if (cs->clients[i].used)
			pthread_join(cs->clients[i].thread, NULL);
	if (stat(cs->path, &st) == 0 && st.st_dev == cs->dev && st.st_ino == cs->ino)
		unlink(cs->path);
	release(cs);
}
