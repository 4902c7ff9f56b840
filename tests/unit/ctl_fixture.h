/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ctl_fixture.h - a gateway's tables driven through the command language for the tests of
 * the control interface (test_lifetime.c, test_events.c, test_session.c): a fresh SAD and
 * SPD, an executor, and a session (control/session.h) whose answers and errors are caught
 * in memory. No BPF mirrors.
 */
#ifndef CTL_FIXTURE_H
#define CTL_FIXTURE_H

#include "control/session.h"
#include "lib/clock.h"
#include "lib/rcu.h"
#include "test_util.h"

#define KEY1 "0xa54dca182530bb1d6d132cded6237b2ed91e3f72"
#define KEY2 "0x1fcb1971174494d6493c9d5c3460be31201e69fe"
#define KEY3 "0xdaa0eee8b9997f5c7c2999fdafe593253cd654af"
#define KEY4 "0x6b1f3e2d5a4c7b9e8d0f1a2b3c4d5e6f70819203"

struct gw {
	struct sad *sad;
	struct spd *spd;
	struct exec_env env;
};

static inline struct gw *gw_new(void)
{
	struct gw *g = calloc(1, sizeof(*g));

	assert_non_null(g);
	g->sad = sad_new();
	g->spd = spd_new();
	assert_true(g->sad && g->spd);
	g->env = (struct exec_env){ .sad = g->sad, .spd = g->spd, .nthreads = 1, .out = stdout };
	return g;
}

static inline void gw_free(struct gw *g)
{
	cmd_exec_fini(&g->env);
	spd_flush(g->spd);
	sad_flush(g->sad);
	rcu_barrier();
	spd_free(g->spd);
	sad_free(g->sad);
	free(g);
}

/* Run text as session `session` (ack, read_only as given); the answers in *out, the error
 * lines in *err (both to be freed); returns the number of refused commands. */
static inline unsigned gw_session(struct gw *g, const char *text, unsigned session, bool ack,
				  bool read_only, char **out, char **err)
{
	FILE *in = fmemopen((void *)text, strlen(text), "r");
	size_t olen, elen;
	FILE *o = open_memstream(out, &olen), *e = open_memstream(err, &elen);
	struct session s = { .who = { .out = o, .session = session, .read_only = read_only },
			     .errors = e, .ack = ack };
	unsigned refused;

	assert_true(in && o && e);
	s.r = cmd_reader_new(in, "<t>");
	assert_non_null(s.r);
	refused = session_run(&s, &g->env, NULL);
	cmd_reader_free(s.r);
	fclose(in);
	fclose(o);
	fclose(e);
	return refused;
}

/* Run text, which must be accepted whole; its answers (to be freed). */
static inline char *gw_run(struct gw *g, const char *text)
{
	char *out, *err;

	if (gw_session(g, text, 0, false, false, &out, &err))
		fail_msg("refused:\n%s", err);
	free(err);
	return out;
}

static inline void gw_apply(struct gw *g, const char *text)
{
	free(gw_run(g, text));
}

/* The one error line of text, which must be refused (to be freed). */
static inline char *gw_refuse(struct gw *g, const char *text)
{
	char *out, *err;

	assert_int_equal(gw_session(g, text, 0, false, false, &out, &err), 1);
	free(out);
	return err;
}

static inline void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("'%s' not found in:\n%s", needle, hay);
}

static inline void assert_lacks(const char *hay, const char *needle)
{
	if (strstr(hay, needle))
		fail_msg("'%s' found in:\n%s", needle, hay);
}

#endif
