/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * cmd_lex.h - private to cmd_parse.c: the tokens of the command language with their
 * LINE:COL. Owner: the struct cmd_reader that embeds the lexer (one thread at a time).
 */
#ifndef ESPER_CMD_LEX_H
#define ESPER_CMD_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cmd.h"

#define CMD_LINE_MAX	4096	/* bytes of one line, its line feed not counted */

enum cmd_tok_kind {
	CMD_TOK_WORD,		/* a run of bytes other than blanks and ';' */
	CMD_TOK_SEMI,		/* ';' */
	CMD_TOK_OVERLONG,	/* a line longer than CMD_LINE_MAX: discarded whole */
	CMD_TOK_EOF,		/* end of input (or after a read error) */
};

struct cmd_tok {
	enum cmd_tok_kind kind;
	const char *s;		/* WORD: its bytes, not NUL-terminated (may contain NUL); valid
				 * until the next cmd_lex_next */
	size_t len;
	bool semi;		/* OVERLONG: the discarded line held a ';' */
	struct cmd_loc loc;	/* first byte; EOF: just past the last token of the input;
				 * OVERLONG: the first byte past the limit */
};

struct cmd_lex {
	FILE *in;
	int fd;			/* in's descriptor, read directly (no stdio buffer); -1: fread */
	char chunk[16384];	/* bytes read, not yet made into lines */
	size_t chunk_len, chunk_pos;
	char line[CMD_LINE_MAX];	/* the current line, without its line feed */
	size_t len;		/* bytes in line */
	size_t pos;		/* next byte to look at */
	bool overlong;		/* the current line was longer than CMD_LINE_MAX */
	bool overlong_semi;	/* ... and held a ';' */
	uint32_t lineno;	/* of line, 1-based; saturates */
	bool eof;
	struct cmd_loc end;	/* just past the last token returned */
	void (*idle)(void *arg);	/* before a read that would wait for input; NULL: none */
	void *idle_arg;
};

void cmd_lex_init(struct cmd_lex *lx, FILE *in);
void cmd_lex_fini(struct cmd_lex *lx);	/* wipes what it read */

/* The next token in *t: 0, or -errno on a read error (then *t is EOF, and so is every
 * later token). Reads a line only when the current one has no token left. */
int cmd_lex_next(struct cmd_lex *lx, struct cmd_tok *t);

#endif
