/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pcap_mode.h - the offline datapath over capture files (pcap_mode.c).
 */
#ifndef ESPER_PCAP_MODE_H
#define ESPER_PCAP_MODE_H

#include <stdbool.h>

#include "control/cmd_exec.h"

struct pcap_opts {
	const char *in, *out;
	bool unknown_spi_drop;	/* ESP with an unknown SPI: drop instead of copying it */
	bool fix_csum;		/* complete L4 checksums of plaintext before encrypting */
};

/* Process every packet of opts->in into opts->out with the SAD and SPD of env; print the
 * counters on stderr. 0, or -1 if a file could not be read or written. */
int pcap_mode_run(struct exec_env *env, const struct pcap_opts *opts);

#endif
