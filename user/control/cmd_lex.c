// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cmd_lex.c - splits the command stream (../shared/spec/esper-commands.md) into tokens with
 * their LINE:COL. Called by cmd_parse.c only, one token at a time, so that a command is
 * complete, and applied, as soon as the line holding its ';' has arrived: a line is read
 * (getline) only when the current one has no token left.
 *
 * Tokens: words (runs of bytes other than blanks and ';') and ';'. Blanks are space, tab,
 * CR, LF, VT and FF, so " ;\r\n" (ESPER), ";\n" and "x;" all end a command, and a command
 * may span lines. A '#' where a token would start begins a comment to the end of the line
 * ('#' inside a word is part of it). COL counts bytes from 1. The line buffer is wiped
 * before it is reused and when the lexer ends: it may have held keying material.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "cmd_lex.h"

void cmd_lex_init(struct cmd_lex *lx, FILE *in)
{
	memset(lx, 0, sizeof(*lx));
	lx->in = in;
	lx->end = (struct cmd_loc){ 1, 1 };
}

void cmd_lex_fini(struct cmd_lex *lx)
{
	if (lx->line)
		explicit_bzero(lx->line, lx->cap);
	free(lx->line);
	lx->line = NULL;
	lx->cap = lx->len = lx->pos = 0;
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\v' || ch == '\f';
}

static uint32_t col_of(size_t pos)
{
	return pos < UINT32_MAX ? (uint32_t)pos + 1 : UINT32_MAX;
}

/* 1: a new line is in lx->line; 0: end of input; -errno: read error (end of input too). */
static int read_line(struct cmd_lex *lx)
{
	ssize_t n;

	if (lx->eof)
		return 0;
	if (lx->line)
		explicit_bzero(lx->line, lx->len);
	lx->len = lx->pos = 0;
	errno = 0;
	n = getline(&lx->line, &lx->cap, lx->in);
	if (n < 0) {
		lx->eof = true;
		if (ferror(lx->in))
			return errno ? -errno : -EIO;
		return 0;
	}
	lx->len = (size_t)n;
	if (lx->lineno < UINT32_MAX)
		lx->lineno++;
	return 1;
}

/* Skip blanks and a comment; true if a token starts at lx->pos. */
static bool at_token(struct cmd_lex *lx)
{
	while (lx->pos < lx->len && is_blank(lx->line[lx->pos]))
		lx->pos++;
	if (lx->pos < lx->len && lx->line[lx->pos] == '#')
		lx->pos = lx->len;
	return lx->pos < lx->len;
}

static void take(struct cmd_lex *lx, struct cmd_tok *t)
{
	size_t start = lx->pos;

	if (lx->line[start] == ';') {
		t->kind = CMD_TOK_SEMI;
		lx->pos++;
	} else {
		t->kind = CMD_TOK_WORD;
		while (lx->pos < lx->len && !is_blank(lx->line[lx->pos]) &&
		       lx->line[lx->pos] != ';')
			lx->pos++;
	}
	t->s = lx->line + start;
	t->len = lx->pos - start;
	t->loc = (struct cmd_loc){ lx->lineno, col_of(start) };
	lx->end = (struct cmd_loc){ lx->lineno, col_of(lx->pos) };
}

int cmd_lex_next(struct cmd_lex *lx, struct cmd_tok *t)
{
	int ret;

	while (!at_token(lx)) {
		ret = read_line(lx);
		if (ret <= 0) {
			*t = (struct cmd_tok){ .kind = CMD_TOK_EOF, .s = "", .loc = lx->end };
			return ret;
		}
	}
	take(lx, t);
	return 0;
}
