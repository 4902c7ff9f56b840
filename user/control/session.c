// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * session.c - the loop of a command session (session.h): read (no lock held), apply and
 * answer under the exec lock, acknowledge, deliver (no lock held). Called by live.c
 * (standard input), ctl_sock.c (each client) and main.c (pcap mode). The command, which may hold key material, is wiped after use.
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
	if (s->ack && env->settle)	/* "ok" means the XDP maps hold it too */
		env->settle(env->settle_arg, true);
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
	*refused = apply(s, env, n, &c, &err) < 0;
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

struct idle {
	struct exec_env *env;
	pthread_mutex_t *exec_lock;
};

/* No further command is waiting: what the executor held back for the maps goes now. */
static void on_idle(void *arg)
{
	struct idle *i = arg;

	if (i->exec_lock)
		pthread_mutex_lock(i->exec_lock);
	i->env->settle(i->env->settle_arg, false);
	if (i->exec_lock)
		pthread_mutex_unlock(i->exec_lock);
}

unsigned session_run(struct session *s, struct exec_env *env, pthread_mutex_t *exec_lock)
{
	struct idle idle = { env, exec_lock };
	bool refused = false;

	if (env->settle)
		cmd_reader_on_idle(s->r, on_idle, &idle);
	while (step(s, env, exec_lock, &refused) > 0) {
		if (!s->applied && !s->refused)
			clock_gettime(CLOCK_MONOTONIC, &s->first);
		s->refused += refused;
		s->applied += !refused;
		refused = false;
	}
	return (unsigned)s->refused;
}
