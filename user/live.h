/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * live.h - the live datapath (live.c): XDP classifier on the interfaces, AF_XDP workers,
 * the host port, the control loop reading commands while traffic flows, the control
 * socket, the housekeeping (lifetimes, events, metrics).
 */
#ifndef ESPER_LIVE_H
#define ESPER_LIVE_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/types.h>

#include "control/cmd_exec.h"
#include "esper_abi.h"


struct live_opts {
	const char *ifaces[ESPER_MAX_IFACES];
	unsigned n_ifaces;
	unsigned queues;	/* AF_XDP queues per interface */
	bool skb_mode;		/* generic XDP instead of native */
	const char *tun_name;	/* the host port */
	const char *cpus;	/* worker CPU list, NULL: spread over the online CPUs */
	const char *cmd_file;	/* NULL: standard input */
	const char *init_file;	/* --init: applied before attaching; NULL: none */
	bool unknown_spi_drop;
	bool strict_inbound;	/* an SA no inbound policy names delivers nothing */
	bool no_rpf;		/* no reverse-path check of plaintext to encrypt */
	bool fix_csum;
	bool fast_forward;	/* decrypted packets to our interfaces leave by AF_XDP */
	bool no_host_gso;	/* the host port without vnet headers: no merged packets */
	uint32_t fwmark;		/* routing mark of esper-xdp's own ESP (0: none) */
	int verbose;
	bool ack;			/* --ack: acknowledge every command on stdout */
	const char *ctl_path;		/* the control socket, NULL: none */
	bool ctl_path_given;		/* --ctl-socket PATH: failing to listen is fatal */
	bool ctl_allow_write;		/* its clients may run every command */
	const char *metrics_file;	/* NULL: none */
	unsigned metrics_interval;	/* seconds */
};

/* Run until SIGINT/SIGTERM; the exit status for main. */
int live_run(const struct live_opts *o, struct exec_env *env);

#endif
