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
#include "events.h"
#include "spi_reserve.h"
#include "stats_out.h"
#include "tables/sad.h"
#include "tables/spd.h"

#define GETSPI_HOLD_DEFAULT 60u	/* seconds a getspi reservation is held */

/* Where the SAs that may decrypt are mirrored (the BPF map sa_in: SPI, UniqueID, the outer
 * addresses and UDP encapsulation of path), and where those of them that are esp-udp go
 * (the BPF map natt_dests, sad_natt_dest); callbacks return 0 or -errno. */
struct sa_mirror {
	int (*set_sa)(void *ctx, const struct sa *sa, const struct sa_path *path);	/* new */
	int (*move_sa)(void *ctx, const struct sa *sa, const struct sa_path *path); /* update */
	int (*del_sa)(void *ctx, uint32_t spi);
	int (*set_natt_dest)(void *ctx, const struct sa_path *path, bool used);
	void *ctx;
};

struct exec_env {
	struct sad *sad;
	struct spd *spd;
	unsigned nthreads;		/* thread slots each SA's crypto serves */
	const struct sa_mirror *sa_mirror;	/* NULL: none */
	FILE *out;			/* dump, spddump, spigrp, stats (cmd_exec) */
	void (*stats_extra)(struct stats_out *s, void *arg);	/* workers' counters */
	void *stats_arg;
	unsigned getspi_hold_s;		/* 0: GETSPI_HOLD_DEFAULT */
	struct spi_reserve *spis;	/* getspi's reservations (made on the first) */
	/* The map writes the mirrors hold back (live: control/bpf_sync.h): settle sends them,
	 * with wait until the maps hold them; called with the exec lock held. NULL: the
	 * mirrors write through. */
	void (*settle)(void *arg, bool wait);
	void *settle_arg;
};

/* Who runs a command: a session (the standard input, a control socket client). */
struct exec_caller {
	FILE *out;			/* its listings */
	unsigned session;		/* getspi's reservations are a session's */
	bool read_only;			/* only dump, spddump, spigrp and stats */
};

/* Apply c for who; 0, or -1 with *err filled (nothing changed). */
int cmd_exec_as(struct exec_env *env, const struct exec_caller *who, const struct cmd *c,
		struct cmd_error *err);

/* The same for session 0, listings to env->out. */
int cmd_exec(struct exec_env *env, const struct cmd *c, struct cmd_error *err);

/* Does the command only read (what a read-only session may run)? */
bool cmd_is_read_only(enum cmd_kind kind);

/* The housekeeping, every 100 ms live, under the exec lock: the lifetimes of up to max SAs
 * that have any, from where the last call stopped (a soft limit reached is reported once,
 * a hard one deletes the SA as `delete` does, and is reported), and the getspi
 * reservations that ended. Each event line goes to emit. Returns the number of events. */
unsigned cmd_exec_housekeep(struct exec_env *env, uint64_t now_ms, unsigned max,
			    event_emit_fn emit, void *arg);

/* Frees what the executor made for itself (the reservations); the tables stay. */
void cmd_exec_fini(struct exec_env *env);

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
void cmd_dump_stats(const struct sad *sad, FILE *out);	/* text, the SAs only */
void cmd_stats_sad(const struct sad *sad, struct stats_out *o);

#endif
