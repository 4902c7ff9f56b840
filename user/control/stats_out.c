// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * stats_out.c - the three forms of the counters (stats_out.h): `stats` text lines, `stats
 * json` JSON lines, and the Prometheus text exposition format of node_exporter's textfile
 * collector (--metrics-file: # HELP, # TYPE, every sample of a metric together). Strings
 * are escaped as JSON (RFC 8259 7) and Prometheus label values want them; names are the
 * X-macro lists' own.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "stats_out.h"

#define PROM_NAME_MAX 128

/* PROM: one metric, its samples written as they come into memory, printed at the end. */
struct prom_group {
	char name[PROM_NAME_MAX];
	const char *help;
	bool counter;
	char *buf;
	size_t len;
	FILE *mem;
};

static void label_raw(struct stats_out *s, const char *key, const char *value, bool quoted,
		      bool json_number);

void stats_out_init(struct stats_out *s, FILE *f, enum stats_format fmt)
{
	memset(s, 0, sizeof(*s));
	s->f = f;
	s->fmt = fmt;
}

/* --- escaping ------------------------------------------------------------------------------ */

/* v in double quotes, escaped for JSON (and so for a Prometheus label value too: its
 * escapes are \\, \" and \n). */
static void put_quoted(FILE *f, const char *v)
{
	fputc('"', f);
	for (const unsigned char *c = (const unsigned char *)v; *c; c++) {
		if (*c == '"' || *c == '\\')
			fprintf(f, "\\%c", *c);
		else if (*c == '\n')
			fputs("\\n", f);
		else if (*c < 0x20 || *c == 0x7f)
			fprintf(f, "\\u%04x", *c);
		else
			fputc(*c, f);
	}
	fputc('"', f);
}

/* The Prometheus metric name esper_KIND_NAME[_SUFFIX]: lower case, [a-z0-9_]. */
static void prom_name(char out[PROM_NAME_MAX], const char *kind, const char *name,
		      const char *suffix)
{
	size_t n = (size_t)snprintf(out, PROM_NAME_MAX, "esper_%s_%s%s%s", kind, name,
				    suffix ? "_" : "", suffix ? suffix : "");

	for (size_t i = 0; i < n && i < PROM_NAME_MAX - 1; i++)
		out[i] = isalnum((unsigned char)out[i]) ? (char)tolower((unsigned char)out[i])
							  : '_';
}

/* --- PROM groups --------------------------------------------------------------------------- */

static struct prom_group *group_find(struct stats_out *s, const char *name)
{
	for (unsigned k = 0; k < s->ngroups; k++) {
		unsigned i = (s->hint + k) % s->ngroups;	/* records repeat one order */

		if (!strcmp(s->groups[i]->name, name)) {
			s->hint = i + 1;
			return s->groups[i];
		}
	}
	return NULL;
}

static struct prom_group *group_add(struct stats_out *s, const char *name, const char *help,
				    bool counter)
{
	struct prom_group *g;

	if (s->ngroups == s->cap) {
		unsigned cap = s->cap ? 2 * s->cap : 64;
		struct prom_group **n = realloc(s->groups, cap * sizeof(*n));

		if (!n)
			return NULL;
		s->groups = n;
		s->cap = cap;
	}
	/* apart from the array: its memstream keeps the addresses of buf and len */
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	snprintf(g->name, sizeof(g->name), "%s", name);
	g->help = help;
	g->counter = counter;
	g->mem = open_memstream(&g->buf, &g->len);
	if (!g->mem) {
		free(g);
		return NULL;
	}
	s->groups[s->ngroups++] = g;
	return g;
}

static void prom_sample(struct stats_out *s, const char *name, const char *help, bool counter,
			const char *value)
{
	struct prom_group *g = group_find(s, name);

	if (!g)
		g = group_add(s, name, help, counter);
	if (!g) {
		s->failed = true;
		return;
	}
	fprintf(g->mem, "%s%s%s%s %s\n", name, s->labels[0] ? "{" : "", s->labels,
		s->labels[0] ? "}" : "", value);
}

static void put_help(FILE *f, const char *help)
{
	for (const char *c = help; *c; c++) {
		if (*c == '\\')
			fputs("\\\\", f);
		else if (*c == '\n')
			fputs("\\n", f);
		else
			fputc(*c, f);
	}
}

int stats_out_finish(struct stats_out *s)
{
	stats_end(s);
	for (unsigned i = 0; i < s->ngroups; i++) {
		struct prom_group *g = s->groups[i];

		fclose(g->mem);
		fprintf(s->f, "# HELP %s ", g->name);
		put_help(s->f, g->help ? g->help : "");
		fprintf(s->f, "\n# TYPE %s %s\n", g->name, g->counter ? "counter" : "gauge");
		fwrite(g->buf, 1, g->len, s->f);
		free(g->buf);
		free(g);
	}
	free(s->groups);
	s->groups = NULL;
	s->ngroups = s->cap = 0;
	return s->failed ? -ENOMEM : 0;
}

/* --- records ------------------------------------------------------------------------------- */

static void json_close(struct stats_out *s)
{
	if (s->json_open)
		fputs("}\n", s->f);
	s->json_open = false;
}

static void json_open(struct stats_out *s, const char *kind)
{
	json_close(s);
	fputs("{\"type\":", s->f);
	put_quoted(s->f, kind);
	s->json_open = true;
}

void stats_begin(struct stats_out *s, const char *kind)
{
	stats_end(s);
	s->kind = kind;
	s->nvalues = 0;
	s->labels[0] = '\0';
	s->id[0] = '\0';
	if (s->fmt == STATS_TEXT)
		fputs(kind, s->f);
	else if (s->fmt == STATS_JSON)
		json_open(s, kind);
}

/* PROM: the record ends; an info metric if it had no values. */
static void prom_end(struct stats_out *s)
{
	char name[PROM_NAME_MAX];

	if (s->nvalues)
		return;
	prom_name(name, s->kind, "info", NULL);
	prom_sample(s, name, "what esper-xdp runs with", false, "1");
}

void stats_end(struct stats_out *s)
{
	if (!s->kind)
		return;
	if (s->fmt == STATS_TEXT)
		fputc('\n', s->f);
	else if (s->fmt == STATS_JSON)
		json_close(s);
	else
		prom_end(s);
	s->kind = NULL;
	s->port = NULL;
}

static void prom_label(struct stats_out *s, const char *key, const char *value)
{
	size_t n = strlen(s->labels);
	FILE *f;

	if (n + strlen(key) + 6 * strlen(value) + 6 >= sizeof(s->labels))
		return;	/* labels are short: a name, a number; never cut one in half */
	f = fmemopen(s->labels + n, sizeof(s->labels) - n, "w");
	if (!f)
		return;
	fprintf(f, "%s%s=", n ? "," : "", key);
	put_quoted(f, value);
	fputc('\0', f);
	fclose(f);
}

void stats_port(struct stats_out *s, const char *iface)
{
	char worker[sizeof(s->id)];

	if (s->fmt == STATS_TEXT) {
		s->port = iface;
		return;
	}
	snprintf(worker, sizeof(worker), "%s", s->id);
	stats_begin(s, "port");
	snprintf(s->id, sizeof(s->id), "%s", worker);	/* for the worker's next port */
	label_raw(s, "worker", worker, false, true);	/* a worker's id: a number */
	stats_label(s, "iface", iface, true);
}

/* --- labels -------------------------------------------------------------------------------- */

static void label_raw(struct stats_out *s, const char *key, const char *value, bool quoted,
		      bool json_number)
{
	if (!strcmp(key, "id"))
		snprintf(s->id, sizeof(s->id), "%s", value);
	switch (s->fmt) {
	case STATS_TEXT:
		fprintf(s->f, " %s=", key);
		if (quoted)
			put_quoted(s->f, value);
		else
			fputs(value, s->f);
		break;
	case STATS_JSON:
		fputc(',', s->f);
		put_quoted(s->f, key);
		fputc(':', s->f);
		if (json_number)
			fputs(value, s->f);
		else
			put_quoted(s->f, value);
		break;
	case STATS_PROM:
		prom_label(s, key, value);
		break;
	}
}

void stats_label(struct stats_out *s, const char *key, const char *value, bool text_quoted)
{
	label_raw(s, key, value, text_quoted, false);
}

void stats_label_u(struct stats_out *s, const char *key, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	label_raw(s, key, buf, false, true);
}

void stats_label_i(struct stats_out *s, const char *key, int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	label_raw(s, key, buf, false, true);
}

void stats_label_hex(struct stats_out *s, const char *key, uint32_t v)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "0x%08x", v);
	label_raw(s, key, buf, false, false);
}

/* --- values -------------------------------------------------------------------------------- */

static void value(struct stats_out *s, const char *name, const char *unit, const char *help,
		  bool counter, const char *v)
{
	char pname[PROM_NAME_MAX];

	s->nvalues++;
	switch (s->fmt) {
	case STATS_TEXT:
		fprintf(s->f, " %s%s%s=%s", s->port ? s->port : "", s->port ? "_" : "", name, v);
		break;
	case STATS_JSON:
		fputc(',', s->f);
		put_quoted(s->f, name);
		fprintf(s->f, ":%s", v);
		break;
	case STATS_PROM:
		prom_name(pname, s->kind, name, counter ? "total" : unit);
		prom_sample(s, pname, help, counter, v);
		break;
	}
}

void stats_counter(struct stats_out *s, const char *name, const char *help, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	value(s, name, NULL, help, true, buf);
}

void stats_gauge(struct stats_out *s, const char *name, const char *unit, const char *help,
		 int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	value(s, name, unit, help, false, buf);
}
