// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * live.c - the live datapath. Not built yet: this version says so and exits.
 */
#include "live.h"
#include "log.h"

int live_run(const struct live_opts *o, struct exec_env *env)
{
	(void)o;
	(void)env;
	log_warnx("the live datapath (-i) is not available in this build yet; use pcap mode");
	return 2;
}
