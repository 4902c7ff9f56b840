/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * cmd.h - one command of the ESPER language (../shared/spec/esper-commands.md) as the parser
 * produces it and the executor applies it. The parser (cmd_lex.c, cmd_parse.c) checks
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
#include "crypto/crypto.h"

enum cmd_kind {
	CMD_FLUSH,		/* flush ; */
	CMD_SPDFLUSH,		/* spdflush ; */
	CMD_DUMP,		/* dump ; */
	CMD_SPDDUMP,		/* spddump ; */
	CMD_SPDDELETE,		/* spddelete ... ; (accepted, ignored) */
	CMD_DELETE,		/* delete SRC DST esp 0xSPI ; */
	CMD_ADD,		/* add SRC DST esp 0xSPI -u ID -E ALGO 0xKEY [OPTS] ; */
	CMD_SPDADD,		/* spdadd ... ; and its alias spdupdate ... ; */
	CMD_SPIGRP,		/* spigrp ; SA groups in ipsec_spigrp(5) SAID notation */
	CMD_STATS,		/* stats ; counters per SA and per worker */
};

enum sp_dir { SP_DIR_OUT, SP_DIR_IN };
enum sp_mode { SP_MODE_TRANSPORT, SP_MODE_TUNNEL };

/* Fields whose position the executor may cite in an error. */
enum cmd_field {
	CF_CMD,			/* the command word */
	CF_SRC, CF_DST,		/* add/delete addresses, spdadd selectors */
	CF_SPI, CF_UID, CF_ALG, CF_KEY,
	CF_TFC, CF_SEQ, CF_REPLAY,
	CF_PROTO, CF_DIR,
	CF_POLICY,		/* the esp/MODE/TUNNEL/unique:ID token */
	CF_TUNNEL,		/* the TSRC-TDST part of it */
	CF_POLICY_UID,		/* the unique:ID part of it */
	CF_MAX
};

struct cmd_loc {
	uint32_t line;
	uint32_t col;
};

/* A selector: IP/PLEN[PORT]. */
struct cmd_sel {
	struct ip_addr addr;	/* host bits are zero (the parser refuses them otherwise) */
	uint8_t plen;
	bool has_port;
	uint16_t port;		/* host order */
};

#define SP_PROTO_ANY	0	/* protocol numbers otherwise: 1 icmp, 6 tcp, 17 udp, 58 icmp6 */

struct cmd_delete {
	struct ip_addr src, dst;
	uint32_t spi;
};

struct cmd_add {
	struct ip_addr src, dst;	/* same family */
	uint32_t spi;
	uint32_t uid;
	enum esp_alg alg;
	bool esn;
	enum aead_cipher cipher;	/* picked by alg and key_len */
	uint8_t key[ESP_KEYMAT_MAX];
	uint8_t key_len;
	bool has_tfc, has_seq, has_replay;
	uint32_t tfc;		/* tfc:LEN, pad the ESP payload to LEN bytes */
	uint64_t seq;		/* seq:SEQ, initial sequence number, >= 1, fits 32 bits without ESN */
	uint32_t replay;	/* replay:N, anti-replay window in packets; 0 = off (not with ESN) */
};

struct cmd_spdadd {
	struct cmd_sel src, dst;	/* same family */
	uint8_t proto;		/* SP_PROTO_ANY or the protocol number */
	bool has_dir;
	enum sp_dir dir;	/* -P in|out; without -P: out */
	enum sp_mode mode;
	struct ip_addr tsrc, tdst;	/* tunnel endpoints, same family; zero in transport mode */
	uint32_t uid;
};

struct cmd {
	enum cmd_kind kind;
	struct cmd_loc at[CF_MAX];
	union {
		struct cmd_delete del;
		struct cmd_add add;
		struct cmd_spdadd spd;
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
