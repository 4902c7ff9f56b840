/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * stats_out.h - counters written in one of three forms from one description: records
 * (an SA, a worker, a worker's AF_XDP socket on one interface, the XDP program, the crypto
 * backend), each with labels (what it is) and values (counters, gauges) named as the
 * X-macro lists name them (tables/sad.h, datapath/pipeline.h, include/esper_abi.h).
 *
 *   STATS_TEXT  `stats`: one line per record, "KIND label=value ... name=value ..."; a
 *               port's values continue its worker's line as IFACE_name=value
 *   STATS_JSON  `stats json`: one JSON object per line, {"type":"KIND", labels, values}; a
 *               port is its own object with "worker" and "iface"
 *   STATS_PROM  the node_exporter textfile format (--metrics-file): esper_KIND_NAME_total
 *               {labels} for counters, esper_KIND_NAME_UNIT for gauges, each metric's
 *               samples grouped under its # HELP and # TYPE (written at stats_out_finish);
 *               a record without values is an info metric, esper_KIND_info{labels} 1
 * Owner: the caller, one thread. Called by cmd_dump.c, metrics.c and live.c (workers).
 */
#ifndef ESPER_STATS_OUT_H
#define ESPER_STATS_OUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum stats_format { STATS_TEXT, STATS_JSON, STATS_PROM };

struct prom_group;

struct stats_out {
	FILE *f;
	enum stats_format fmt;
	const char *kind;		/* of the open record, NULL: none */
	bool json_open;			/* JSON: an object is open */
	const char *port;		/* TEXT: the interface whose values continue the line */
	unsigned nvalues;		/* values in the open record */
	char labels[512];		/* PROM: the open record's labels, k="v",... */
	char id[32];			/* the open record's "id" label (a port's worker) */
	struct prom_group **groups;	/* PROM: the metrics seen so far, in order */
	unsigned ngroups, cap, hint;
	bool failed;			/* PROM: out of memory, the output is incomplete */
};

void stats_out_init(struct stats_out *s, FILE *f, enum stats_format fmt);
/* End the last record; PROM: write every metric. 0, or -ENOMEM if something was lost. */
int stats_out_finish(struct stats_out *s);

void stats_begin(struct stats_out *s, const char *kind);
/* A port of the open worker record: TEXT continues its line, the others start a record
 * "port" with labels worker (the worker's id) and iface. */
void stats_port(struct stats_out *s, const char *iface);
void stats_end(struct stats_out *s);

/* Labels, before the values. text_quoted: TEXT prints the value in double quotes. */
void stats_label(struct stats_out *s, const char *key, const char *value, bool text_quoted);
void stats_label_u(struct stats_out *s, const char *key, uint64_t v);
void stats_label_i(struct stats_out *s, const char *key, int64_t v);
void stats_label_hex(struct stats_out *s, const char *key, uint32_t v);	/* 0x%08x */

/* Values. unit: the gauge's unit in its PROM name (esper_KIND_NAME_UNIT), NULL for none. */
void stats_counter(struct stats_out *s, const char *name, const char *help, uint64_t v);
void stats_gauge(struct stats_out *s, const char *name, const char *unit, const char *help,
		 int64_t v);

#endif
