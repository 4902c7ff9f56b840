// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_cmd_parse.c - libFuzzer target for the command lexer and parser
 * (user/control/cmd_lex.c, user/control/cmd_parse.c): the input is a command stream (fmemopen) read with cmd_next to its
 * end. Besides the sanitizers, it checks what every result promises: a known kind, a
 * location in the input, one NUL-terminated line of message without keying material, and
 * progress (each call consumes input, so the loop ends). Run by tests/fuzz/Makefile.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/cmd.h"

static void check_error(const struct cmd_error *err, size_t size)
{
	size_t run = 0;

	if (!memchr(err->msg, '\0', sizeof(err->msg)) || !err->msg[0] || strchr(err->msg, '\n'))
		abort();
	if (err->loc.line == 0 || err->loc.col == 0 || err->loc.line > size + 1 ||
	    err->loc.col > size + 1)
		abort();
	/* no more than 16 hex digits in a row; an escaped byte \xNN and an escaped backslash
	 * \\ are not hex digits */
	for (const char *p = err->msg; *p; p++) {
		if (p[0] == '\\' && p[1] == 'x' && p[2] && p[3]) {
			p += 3;
			run = 0;
			continue;
		}
		if (p[0] == '\\' && p[1] == '\\') {
			p++;
			run = 0;
			continue;
		}
		run = isxdigit((unsigned char)*p) ? run + 1 : 0;
		if (run > 16)
			abort();
	}
}

static void check_cmd(const struct cmd *c, size_t size)
{
	if ((unsigned)c->kind > CMD_GETSPI || c->at[CF_CMD].line == 0 ||
	    c->at[CF_CMD].line > size || c->at[CF_CMD].col > size)
		abort();
	if (c->kind == CMD_ADD && (c->add.key_len == 0 || c->add.key_len > ESP_KEYMAT_MAX))
		abort();
	if (c->kind == CMD_SPDADD && (c->spd.src.addr.family != c->spd.dst.addr.family ||
				      c->spd.src.plen > addr_bits(&c->spd.src.addr)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cmd_reader *r;
	struct cmd_error err;
	struct cmd c;
	FILE *in, *sink;
	int ret;

	if (size == 0)
		return 0;
	in = fmemopen((void *)data, size, "r");
	sink = fopen("/dev/null", "w");
	r = cmd_reader_new(in, "<fuzz>");
	if (!in || !sink || !r)
		abort();
	for (size_t calls = 0; (ret = cmd_next(r, &c, &err)) != 0; calls++) {
		if (calls > size)	/* no progress */
			abort();
		if (ret == 1)
			check_cmd(&c, size);
		else if (ret == -1)
			check_error(&err, size);
		else
			abort();
		if (ret == -1)
			cmd_error_print(sink, cmd_reader_source(r), &err);
	}
	cmd_reader_free(r);
	fclose(sink);
	fclose(in);
	return 0;
}
