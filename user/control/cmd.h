/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * cmd.h - one command of the ESPER language (docs/commands.md) as the parser produces it
 * and the executor applies it: its kind, where each field was, and the parameters of the
 * table entry it makes (struct sa_params, struct sp_params: the SAD's and SPD's own types). The parser (cmd_lex.c, cmd_parse.c) checks
 * everything a command can be checked for alone: syntax, ranges, key length against the
 * algorithm, address families that must agree within the command. The executor
 * (cmd_exec.c) checks it against the SAD and SPD and applies it, or changes nothing.
 *
 * Errors are one line: "<source>:LINE:COL: error: <what>", LINE and COL of the token at
 * fault (1-based, COL in bytes), the token quoted where it helps; key material never.
 */
#ifndef ESPER_CMD_H
#define ESPER_CMD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/addr.h"
#include "stats_out.h"
#include "tables/sad.h"
#include "tables/spd.h"

enum cmd_kind {
	CMD_FLUSH,		/* flush ; */
	CMD_SPDFLUSH,		/* spdflush ; */
	CMD_DUMP,		/* dump ; */
	CMD_SPDDUMP,		/* spddump ; */
	CMD_SPDDELETE,		/* spddelete ... ; (accepted, ignored) */
	CMD_DELETE,		/* delete SRC DST esp 0xSPI ; */
	CMD_ADD,		/* add SRC[PORT] DST[PORT] esp|esp-udp 0xSPI -u ID -E ALGO 0xKEY ... ; */
	CMD_UPDATE,		/* update SRC[PORT] DST[PORT] esp|esp-udp 0xSPI ; (moves the SA) */
	CMD_SPDADD,		/* spdadd ... ; and its alias spdupdate ... ; */
	CMD_SPIGRP,		/* spigrp ; SA groups in ipsec_spigrp(5) SAID notation */
	CMD_STATS,		/* stats [json] ; counters per SA and per worker */
	CMD_GETSPI,		/* getspi SRC DST esp [0xMIN-0xMAX] ; reserve an inbound SPI */
};

/* Fields whose position the executor may cite in an error. */
enum cmd_field {
	CF_CMD,			/* the command word */
	CF_SRC, CF_DST,		/* add/delete addresses, spdadd selectors */
	CF_SPI, CF_UID, CF_ALG, CF_KEY,
	CF_TFC, CF_SEQ, CF_REPLAY, CF_SA_DIR,
	CF_PROTO, CF_DIR,
	CF_ACTION,		/* ipsec, discard or none */
	CF_POLICY,		/* the esp/MODE/TUNNEL/unique:ID token */
	CF_TUNNEL,		/* the TSRC-TDST part of it */
	CF_POLICY_UID,		/* the unique:ID (require:ID) part of it */
	CF_LS, CF_LH, CF_BS, CF_BH, CF_PS, CF_PH,	/* add's lifetimes: soft/hard time, bytes,
						 * packets (the flag's place) */
	CF_RANGE,		/* getspi's 0xMIN-0xMAX */
	CF_MAX
};

struct cmd_loc {
	uint32_t line;
	uint32_t col;
};

struct cmd_delete {
	struct ip_addr src, dst;
	uint32_t spi;
};

struct cmd_getspi {
	struct ip_addr src, dst;	/* the SA to come carries ESP from src to dst (us) */
	uint32_t min, max;		/* the range to pick from, 0x100..0xffffffff by default */
};


struct cmd {
	enum cmd_kind kind;
	struct cmd_loc at[CF_MAX];
	union {
		struct cmd_delete del;
		struct sa_params add;	/* defaults filled: seq 1, replay REPLAY_WINDOW_AUTO;
					 * update: spi, addresses, encapsulation */
		struct sp_params spd;	/* without -P: out */
		struct cmd_getspi getspi;
		enum stats_format stats;	/* STATS_TEXT or STATS_JSON */
	};
};

/* A diagnostic: where and what. */
struct cmd_error {
	struct cmd_loc loc;
	char msg[256];
};

/* Reads commands from a stream, one at a time, as soon as each is complete (live input). */
struct cmd_reader;

struct cmd_reader *cmd_reader_new(FILE *in, const char *source_name);
void cmd_reader_free(struct cmd_reader *r);	/* does not close the stream; NULL is a no-op */
const char *cmd_reader_source(const struct cmd_reader *r);
/* Call fn(arg) whenever the reader is about to wait for input (no byte is waiting on the
 * stream): what the caller held back for the commands so far can go now. */
void cmd_reader_on_idle(struct cmd_reader *r, void (*fn)(void *arg), void *arg);

/* Next command: 1 and *c filled; 0 at end of input; -1 on a syntax error, *err filled and
 * the rest of that command (up to its ';') skipped, so the caller can report and go on. */
int cmd_next(struct cmd_reader *r, struct cmd *c, struct cmd_error *err);

/* Parse one command from a string (tests, fuzzing): same results as cmd_next. */
int cmd_parse_string(const char *text, struct cmd *c, struct cmd_error *err);

/* Print err as "<source>:LINE:COL: error: MSG" on f. */
void cmd_error_print(FILE *f, const char *source, const struct cmd_error *err);
void cmd_error_set(struct cmd_error *err, struct cmd_loc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
