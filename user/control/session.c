// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * session.c - the loop of a command session (session.h): read (no lock held), apply under
 * the exec lock, answer under the lock of the shared stream if the answer goes there,
 * acknowledge, deliver. Called by live.c (standard input), ctl_sock.c (each client) and
 * main.c (pcap mode). The command, which may hold key material, is wiped after use.
 */
#include "lib/wipe.h"
#include "session.h"

/* Apply c (n > 0) or report the parse error; 0 if it took effect. */
static int apply(struct session *s, struct exec_env *env, int n, const struct cmd *c,
		 struct cmd_error *err)
{
	int ret = n > 0 ? cmd_exec_as(env, &s->who, c, err) : -1;

	if (ret < 0 && s->errors)
		cmd_error_print(s->errors, cmd_reader_source(s->r), err);
	if (s->ack)
		out_ack(s->who.out, ret < 0 ? err : NULL);
	if (s->ack || ret < 0)
		fflush(s->who.out);
	return ret;
}

static int step(struct session *s, struct exec_env *env, pthread_mutex_t *exec_lock,
		bool *refused)
{
	struct cmd_error err;
	struct cmd c;
	int n = cmd_next(s->r, &c, &err);

	if (n == 0) {
		wipe(&c, sizeof(c));
		return 0;
	}
	if (exec_lock)
		pthread_mutex_lock(exec_lock);
	if (s->shared)
		out_lock(s->shared);
	*refused = apply(s, env, n, &c, &err) < 0;
	if (s->shared)
		out_unlock(s->shared);
	if (exec_lock)
		pthread_mutex_unlock(exec_lock);
	wipe(&c, sizeof(c));	/* it may have held key material */
	if (s->deliver && s->deliver(s->deliver_arg) < 0)
		return 0;
	return 1;
}

int session_step(struct session *s, struct exec_env *env, pthread_mutex_t *exec_lock)
{
	bool refused;

	return step(s, env, exec_lock, &refused);
}

unsigned session_run(struct session *s, struct exec_env *env, pthread_mutex_t *exec_lock)
{
	unsigned n = 0;
	bool refused = false;

	while (step(s, env, exec_lock, &refused) > 0) {
		n += refused;
		refused = false;
	}
	return n;
}
