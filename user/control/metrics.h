/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * metrics.h - the counters in the Prometheus text format of node_exporter's textfile
 * collector (--metrics-file PATH, every --metrics-interval seconds): written whole to
 * PATH.tmp, then renamed over PATH, so a reader never sees half a file. No HTTP server.
 */
#ifndef ESPER_METRICS_H
#define ESPER_METRICS_H

#include "stats_out.h"

#define METRICS_INTERVAL_DEFAULT 10u	/* seconds */

/* produce writes the records (cmd_stats_sad, the workers...). 0 or -errno. */
int metrics_write(const char *path, void (*produce)(struct stats_out *o, void *arg),
		  void *arg);

#endif
