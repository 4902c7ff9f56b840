// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cmd_lex.c - splits the command stream (docs/commands.md) into tokens with their LINE:COL.
 * Called by cmd_parse.c only, one token at a time, so that a command is complete, and
 * applied, as soon as the line holding its ';' has arrived: a line is read only when the
 * current one has no token left.
 *
 * Tokens: words (runs of bytes other than blanks and ';') and ';'. Blanks are space, tab,
 * CR, LF, VT and FF, so " ;\r\n" (ESPER), ";\n" and "x;" all end a command, and a command
 * may span lines. A '#' where a token would start begins a comment to the end of the line
 * ('#' inside a word is part of it). COL counts bytes from 1.
 *
 * The input may carry keying material, so it never passes through a buffer this file does
 * not wipe: a stream with a descriptor is read with read(2), not stdio, into a fixed chunk;
 * a line is copied into a fixed buffer of CMD_LINE_MAX bytes (never reallocated); both are
 * wiped as soon as their bytes are used and when the lexer ends. A longer line is discarded
 * whole and reported as one CMD_TOK_OVERLONG token.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "cmd_lex.h"
#include "lib/wipe.h"

void cmd_lex_init(struct cmd_lex *lx, FILE *in)
{
	memset(lx, 0, sizeof(*lx));
	lx->in = in;
	lx->fd = fileno(in);
	lx->end = (struct cmd_loc){ 1, 1 };
}

void cmd_lex_fini(struct cmd_lex *lx)
{
	wipe(lx->chunk, sizeof(lx->chunk));
	wipe(lx->line, sizeof(lx->line));
	lx->chunk_len = lx->chunk_pos = lx->len = lx->pos = 0;
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\v' || ch == '\f';
}

/* Does ch end a word (a blank or ';')? One table lookup per byte of a word. */
static bool ends_word(char ch)
{
	static const bool end[256] = {
		[' '] = true, ['\t'] = true, ['\r'] = true, ['\n'] = true,
		['\v'] = true, ['\f'] = true, [';'] = true,
	};

	return end[(unsigned char)ch];
}

static uint32_t col_of(size_t pos)
{
	return pos < UINT32_MAX ? (uint32_t)pos + 1 : UINT32_MAX;
}

/* No byte waiting on the descriptor: the next read would block. */
static bool would_wait(const struct cmd_lex *lx)
{
	struct pollfd p = { .fd = lx->fd, .events = POLLIN };

	return poll(&p, 1, 0) == 0;
}

/* Refill the chunk: >0 bytes, 0 at end of input, -errno. The old bytes are wiped first. */
static ssize_t fill(struct cmd_lex *lx)
{
	ssize_t n;

	wipe(lx->chunk, lx->chunk_len);
	lx->chunk_len = lx->chunk_pos = 0;
	if (lx->idle && (lx->fd < 0 || would_wait(lx)))
		lx->idle(lx->idle_arg);
	if (lx->fd < 0) {
		n = (ssize_t)fread(lx->chunk, 1, sizeof(lx->chunk), lx->in);
		if (n == 0 && ferror(lx->in))
			return -EIO;
	} else {
		do {
			n = read(lx->fd, lx->chunk, sizeof(lx->chunk));
		} while (n < 0 && errno == EINTR);
		if (n < 0)
			return -errno;
	}
	lx->chunk_len = (size_t)n;
	return n;
}

/* Append the n bytes at s to the line, as much as fits; the rest is counted and dropped. */
static void append(struct cmd_lex *lx, const char *s, size_t n)
{
	size_t room = sizeof(lx->line) - lx->len, fit = n < room ? n : room;

	memcpy(lx->line + lx->len, s, fit);
	lx->len += fit;
	if (fit < n) {
		lx->overlong = true;
		lx->overlong_semi |= memchr(s + fit, ';', n - fit) != NULL;
	}
}

/* Move the next line into lx->line (as much as fits; the rest is counted and dropped).
 * 1: a line; 0: end of input; -errno: read error (end of input too). */
static int read_line(struct cmd_lex *lx)
{
	bool any = false;

	wipe(lx->line, lx->len);
	lx->len = lx->pos = 0;
	lx->overlong = lx->overlong_semi = false;
	while (!lx->eof) {
		const char *start, *lf;
		size_t avail;

		if (lx->chunk_pos == lx->chunk_len) {
			ssize_t n = fill(lx);

			if (n <= 0) {
				lx->eof = true;
				if (n < 0)
					return (int)n;
				break;
			}
		}
		start = lx->chunk + lx->chunk_pos;
		avail = lx->chunk_len - lx->chunk_pos;
		lf = memchr(start, '\n', avail);
		any = true;
		append(lx, start, lf ? (size_t)(lf - start) : avail);
		lx->chunk_pos += lf ? (size_t)(lf - start) + 1 : avail;
		if (lf)
			break;
	}
	if (!any)
		return 0;
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
	size_t start = lx->pos, end = start + 1, len = lx->len;
	const char *line = lx->line;

	if (line[start] == ';') {
		t->kind = CMD_TOK_SEMI;
	} else {
		t->kind = CMD_TOK_WORD;
		while (end < len && !ends_word(line[end]))
			end++;
	}
	lx->pos = end;
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
		if (lx->overlong) {
			*t = (struct cmd_tok){ .kind = CMD_TOK_OVERLONG, .s = "",
					       .semi = lx->overlong_semi,
					       .loc = { lx->lineno, CMD_LINE_MAX + 1 } };
			lx->pos = lx->len;	/* nothing of it is a token */
			lx->end = (struct cmd_loc){ lx->lineno, CMD_LINE_MAX + 1 };
			return 0;
		}
	}
	take(lx, t);
	return 0;
}
