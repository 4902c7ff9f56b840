/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * cmd_exec.h - applies parsed commands (cmd.h) to the SAD and SPD: the only writer of both,
 * and through the mirrors the only writer of the BPF maps. A refused command changes
 * nothing: every check runs before the first change, and a mirror that fails rolls back.
 */
#ifndef ESPER_CMD_EXEC_H
#define ESPER_CMD_EXEC_H

#include <stdint.h>
#include <stdio.h>

#include "cmd.h"
#include "tables/sad.h"
#include "tables/spd.h"

/* Where the SAs that may decrypt are mirrored (the BPF map sa_in: SPI, UniqueID and outer
 * addresses); callbacks return 0 or -errno. */
struct sa_mirror {
	int (*set_sa)(void *ctx, const struct sa *sa);
	int (*del_sa)(void *ctx, uint32_t spi);
	void *ctx;
};

struct exec_env {
	struct sad *sad;
	struct spd *spd;
	unsigned nthreads;		/* thread slots each SA's crypto serves */
	const struct sa_mirror *sa_mirror;	/* NULL: none */
	FILE *out;			/* dump, spddump, spigrp, stats */
	void (*stats_extra)(FILE *out, void *arg);	/* workers' counters for `stats` */
	void *stats_arg;
};

/* Apply c; 0, or -1 with *err filled (nothing changed). */
int cmd_exec(struct exec_env *env, const struct cmd *c, struct cmd_error *err);

/* Read and apply every command of r until EOF; errors go to stderr, one line each.
 * Returns the number of refused commands. */
unsigned cmd_exec_stream(struct exec_env *env, struct cmd_reader *r);

/* The same for the file at path (errors name it). Returns the number of refused commands,
 * or -errno if the file cannot be opened. */
int cmd_exec_file(struct exec_env *env, const char *path);

/* The listings (cmd_dump.c). */
void cmd_dump_sad(const struct sad *sad, FILE *out);
void cmd_dump_spd(const struct spd *spd, FILE *out);
void cmd_dump_spigrp(const struct sad *sad, FILE *out);
void cmd_dump_stats(const struct sad *sad, FILE *out);

#endif
