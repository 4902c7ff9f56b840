/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pcap_mode.h - the offline datapath over capture files (pcap_mode.c), the pipeline's file
 * driver.
 */
#ifndef ESPER_PCAP_MODE_H
#define ESPER_PCAP_MODE_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/ring.h"
#include "tables/sad.h"
#include "tables/spd.h"

struct pcap_opts {
	const char *in, *out;
	uint32_t mtu;		/* of every path (fragments, packet too big, TFC); 0: none */
	bool unknown_spi_drop;	/* ESP for no SA of ours: drop instead of copying it */
	bool strict_inbound;	/* an SA no inbound policy names delivers nothing */
	bool fix_csum;		/* complete L4 checksums of plaintext before encrypting */
	struct ring *events;	/* the pipeline's events (tables/event.h); NULL: none */
};

/* Process every packet of opts->in into opts->out with these tables; print the counters on
 * stderr. 0, or -1 if a file could not be read or written. */
int pcap_mode_run(const struct sad *sad, const struct spd *spd, const struct pcap_opts *opts);

#endif
