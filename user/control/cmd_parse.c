// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cmd_parse.c - text -> struct cmd for the ESPER command language (docs/commands.md); owns
 * struct cmd_reader. Called by main.c and live.c (a reader on
 * stdin or a file, one cmd_next per command, handed to cmd_exec.c), by the unit tests and
 * by the fuzzer. Pure: no SAD/SPD, no logging; the only output is struct cmd or one
 * struct cmd_error.
 *
 * Checks everything a command can be checked for alone: syntax, numbers and their ranges,
 * SPI 0x0-0xff reserved (RFC 4303 2.1), key length against the algorithm (crypto.h),
 * sequence number against the sequence space (RFC 4303 2.2, 3.3.3), address families that
 * must agree within a command, prefix lengths and host bits, ports only with tcp/udp, icmp
 * and icmp6 with the matching family. The executor checks the rest against the SAD and SPD.
 *
 * esper-xdp options of add, besides ESPER's tfc:LEN and seq:SEQ:
 *   replay:N  the anti-replay window in packets, decimal: 0 (off) or 32..65536 (RFC 4303
 *             3.4.3 asks for at least 32); 0 is refused with ESN, whose receiver infers
 *             the high half of the sequence number from the window (RFC 4303 A2.2).
 *             Not given: REPLAY_WINDOW_AUTO, the host's default for its number of workers
 *             (replay_default_window, tables/replay.h).
 *   dir:in|out the direction the SA had when `dump` listed it (an SA is unidirectional,
 *             RFC 4301 4.1): restored, it keeps it even with no policy naming it.
 * tfc:LEN is at most CMD_TFC_MAX: the largest ESP payload any outer IPv4 datagram can carry.
 *
 * Errors are one per command, at the first fault. A key is never quoted; nor is a token
 * of 0x and more than 16 characters, nor a run of more than 16 hex digits in any token (a
 * key in the wrong place, or glued to something).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cmd.h"
#include "cmd_lex.h"
#include "lib/wipe.h"

/* 65535 - 20 (IPv4) - 8 (SPI, SN) - 8 (IV) - 16 (ICV) - 2 (pad length, next header) - 3 (the
 * most padding LEN can need for 4-byte alignment) */
#define CMD_TFC_MAX	65478u
#define REPLAY_MIN	REPLAY_MIN_WINDOW
#define REPLAY_MAX	REPLAY_MAX_WINDOW
#define QUOTE_MAX	48	/* characters of a token shown in a message */

struct cmd_reader {
	struct cmd_lex lx;
	char *source;
	bool skip;		/* the last command failed before its ';': skip to it first */
};

/* One command being parsed. */
struct parse {
	struct cmd_lex *lx;
	struct cmd *c;
	struct cmd_error *err;
	struct cmd_tok t;	/* the token last read */
	struct cmd_loc sport, dport;	/* spdadd: where the selectors' [PORT] start */
};

#define fail(p, loc, ...) (cmd_error_set((p)->err, (loc), __VA_ARGS__), -EINVAL)

/* ---- messages ---------------------------------------------------------------------------- */

struct quoted {
	char s[QUOTE_MAX + 48];	/* QUOTE_MAX, one "<N hex digits>" or \xNN, "...", NUL */
};

static bool is_hex(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

/* A token starting with 0x and longer than any SPI or sequence number: keying material. */
static bool looks_like_key(const char *s, size_t len)
{
	return len > 18 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
}

static size_t hex_run(const char *s, size_t len)
{
	size_t n = 0;

	while (n < len && is_hex(s[n]))
		n++;
	return n;
}

/* s as shown in a message, between quotes: non-printable bytes as \xNN, a backslash as \\
 * (so that the two cannot be confused), runs of more than 16 hex digits (a key glued to
 * something) replaced by their length, at most about QUOTE_MAX characters then "...". Returned by value: the array lives until the end of the
 * caller's full expression (C11 6.2.4p8). */
static struct quoted quote(const char *s, size_t len)
{
	struct quoted q;
	size_t n = 0, i = 0;

	if (looks_like_key(s, len)) {
		snprintf(q.s, sizeof(q.s), "<%zu characters, not shown>", len);
		return q;
	}
	while (i < len && n < QUOTE_MAX) {
		unsigned char ch = (unsigned char)s[i];
		size_t run = hex_run(s + i, len - i);

		if (run > 16) {
			n += (size_t)sprintf(q.s + n, "<%zu hex digits>", run);
			i += run;
			continue;
		}
		if (ch == '\\') {
			q.s[n++] = '\\';
			q.s[n++] = '\\';
		} else if (ch >= 0x20 && ch < 0x7f)
			q.s[n++] = (char)ch;
		else
			n += (size_t)sprintf(q.s + n, "\\x%02x", ch);
		i++;
	}
	if (i < len)
		n += (size_t)sprintf(q.s + n, "...");
	q.s[n] = '\0';
	return q;
}

static struct quoted quote_tok(const struct cmd_tok *t)
{
	return quote(t->s, t->len);
}

static const char *family_name(const struct ip_addr *a)
{
	return a->family == AF_INET ? "IPv4" : "IPv6";
}

/* The location of byte off of the current token. */
static struct cmd_loc loc_at(const struct parse *p, size_t off)
{
	struct cmd_loc l = p->t.loc;

	l.col = off < UINT32_MAX - l.col ? l.col + (uint32_t)off : UINT32_MAX;
	return l;
}

void cmd_error_set(struct cmd_error *err, struct cmd_loc loc, const char *fmt, ...)
{
	va_list ap;

	err->loc = loc;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

void cmd_error_print(FILE *f, const char *source, const struct cmd_error *err)
{
	fprintf(f, "%s:%u:%u: error: %s\n", source ? source : "<input>", err->loc.line,
		err->loc.col, err->msg);
}

/* ---- numbers ----------------------------------------------------------------------------- */

/* Decimal digits only (no sign, no blanks): 0, -EINVAL, or -ERANGE above max. */
static int parse_dec(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (v > (max - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* A hexadecimal digit's value plus one; 0 for any other byte. */
static const uint8_t hex_digit1[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8,
	['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15,
	['f'] = 16, ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

static unsigned hex_val(char ch)
{
	return ch <= '9' ? (unsigned)(ch - '0') : (unsigned)((ch | 0x20) - 'a' + 10);
}

/* Hex digits only: 0, -EINVAL, or -ERANGE beyond 64 bits. */
static int parse_hex(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (!is_hex(s[i]))
			return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		if (v >> 60)
			return -ERANGE;
		v = v << 4 | hex_val(s[i]);
	}
	*out = v;
	return 0;
}

static bool has_0x(const char *s, size_t len)
{
	return len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
}

/* An address from len bytes of s: 0 or -EINVAL (also for embedded NULs, overlong text).
 * Text with a ':' can only be IPv6, without one only IPv4: one inet_pton, not two. */
static int parse_addr(const char *s, size_t len, struct ip_addr *out)
{
	int family = memchr(s, ':', len) ? AF_INET6 : AF_INET;
	char buf[64];

	memset(out, 0, sizeof(*out));
	if (len >= sizeof(buf) || memchr(s, '\0', len))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(family, buf, out->a) != 1)
		return -EINVAL;
	out->family = (uint8_t)family;
	return 0;
}

/* ---- tokens ------------------------------------------------------------------------------ */

static bool tok_is(const struct cmd_tok *t, const char *word)
{
	return t->kind == CMD_TOK_WORD && t->len == strlen(word) && !memcmp(t->s, word, t->len);
}

static int overlong(struct parse *p)
{
	return fail(p, p->t.loc, "line %u is longer than %u bytes: refused with every command "
		    "on it", p->t.loc.line, CMD_LINE_MAX);
}

static int next(struct parse *p)
{
	int ret = cmd_lex_next(p->lx, &p->t);

	if (ret)
		return fail(p, p->t.loc, "read error: %s", strerror(-ret));
	if (p->t.kind == CMD_TOK_OVERLONG)
		return overlong(p);
	return 0;
}

/* The current token is not what was expected. */
static int unexpected(struct parse *p, const char *what)
{
	if (p->t.kind == CMD_TOK_SEMI)
		return fail(p, p->t.loc, "expected %s before ';'", what);
	if (p->t.kind == CMD_TOK_EOF)
		return fail(p, p->t.loc, "expected %s, found end of input", what);
	return fail(p, p->t.loc, "expected %s, found '%s'", what, quote_tok(&p->t).s);
}

/* Read a word; what names it in the error when there is none. */
static int word(struct parse *p, const char *what)
{
	int ret = next(p);

	if (ret)
		return ret;
	return p->t.kind == CMD_TOK_WORD ? 0 : unexpected(p, what);
}

static int keyword(struct parse *p, const char *kw)
{
	char what[32];
	int ret = next(p);

	if (ret)
		return ret;
	if (tok_is(&p->t, kw))
		return 0;
	snprintf(what, sizeof(what), "'%s'", kw);	/* only for the message */
	return unexpected(p, what);
}

/* The ';' that ends every command. */
static int semi(struct parse *p)
{
	int ret = next(p);

	if (ret)
		return ret;
	if (p->t.kind == CMD_TOK_SEMI)
		return 0;
	if (p->t.kind == CMD_TOK_EOF)
		return fail(p, p->t.loc, "missing ';' at end of input");
	return unexpected(p, "';'");
}

/* A word for field f, its location recorded. */
static int field(struct parse *p, enum cmd_field f, const char *what)
{
	int ret = word(p, what);

	if (!ret)
		p->c->at[f] = p->t.loc;
	return ret;
}

/* ---- shared fields ----------------------------------------------------------------------- */

static int address(struct parse *p, enum cmd_field f, const char *what, struct ip_addr *a)
{
	int ret = field(p, f, what);

	if (ret)
		return ret;
	if (parse_addr(p->t.s, p->t.len, a))
		return fail(p, p->t.loc, "invalid %s '%s'", what, quote_tok(&p->t).s);
	return 0;
}

/* DST after SRC: same family. */
static int same_family(struct parse *p, const char *what, const struct ip_addr *src,
		       const struct ip_addr *dst)
{
	if (src->family == dst->family)
		return 0;
	return fail(p, p->t.loc, "%s families differ: SRC is %s, DST '%s' is %s", what,
		    family_name(src), quote_tok(&p->t).s, family_name(dst));
}

/* 0xSPI: 32 bits, 0x0-0xff reserved (RFC 4303 2.1). */
static int spi(struct parse *p, uint32_t *out)
{
	uint64_t v;
	int ret = field(p, CF_SPI, "SPI");

	if (ret)
		return ret;
	if (!has_0x(p->t.s, p->t.len))
		goto bad;
	ret = parse_hex(p->t.s + 2, p->t.len - 2, &v);
	if (ret == -EINVAL)
		goto bad;
	if (ret || v > UINT32_MAX)
		return fail(p, p->t.loc, "SPI '%s' is wider than 32 bits", quote_tok(&p->t).s);
	if (v < 0x100)
		return fail(p, p->t.loc, "SPI '%s' is reserved (0x0-0xff, RFC 4303 2.1)",
			    quote_tok(&p->t).s);
	*out = (uint32_t)v;
	return 0;
bad:
	return fail(p, p->t.loc, "invalid SPI '%s': expected 0x and hexadecimal digits",
		    quote_tok(&p->t).s);
}

/* A UniqueID: decimal 1..4294967295, at byte off of the current token. */
static int uid(struct parse *p, size_t off, uint32_t *out)
{
	uint64_t v;

	if (parse_dec(p->t.s + off, p->t.len - off, UINT32_MAX, &v) || v == 0)
		return fail(p, loc_at(p, off), "invalid UniqueID '%s': expected decimal 1..%u",
			    quote(p->t.s + off, p->t.len - off).s, UINT32_MAX);
	*out = (uint32_t)v;
	return 0;
}

/* ---- commands without arguments, spddelete ----------------------------------------------- */

static int parse_bare(struct parse *p)
{
	return semi(p);
}

/* spddelete ... ; : setkey compatibility, its arguments are ignored. */
static int parse_spddelete(struct parse *p)
{
	int ret;

	do {
		ret = next(p);
		if (ret)
			return ret;
		if (p->t.kind == CMD_TOK_EOF)
			return fail(p, p->t.loc, "missing ';' at end of input");
	} while (p->t.kind != CMD_TOK_SEMI);
	return 0;
}

/* ---- SA endpoints: SRC[PORT] DST[PORT] esp|esp-udp ------------------------------------ */

#define NATT_PORT 4500	/* RFC 3948 2, IANA: ipsec-nat-t */

/* ADDR or ADDR[PORT] (PORT 1..65535) for field f; *port 0 without [PORT]. */
static int endpoint(struct parse *p, enum cmd_field f, const char *what, struct ip_addr *a,
		    uint16_t *port)
{
	const char *br;
	size_t alen;
	uint64_t v;
	int ret = field(p, f, what);

	if (ret)
		return ret;
	br = memchr(p->t.s, '[', p->t.len);
	alen = br ? (size_t)(br - p->t.s) : p->t.len;
	if (parse_addr(p->t.s, alen, a))
		return fail(p, p->t.loc, "invalid %s '%s'", what, quote(p->t.s, alen).s);
	*port = 0;
	if (!br)
		return 0;
	if (p->t.len - alen < 3 || p->t.s[p->t.len - 1] != ']' ||
	    parse_dec(br + 1, p->t.len - alen - 2, 65535, &v) || v == 0)
		return fail(p, loc_at(p, alen), "invalid port '%s': expected [1..65535]",
			    quote(br, p->t.len - alen).s);
	*port = (uint16_t)v;
	return 0;
}

/* SRC[PORT] DST[PORT] esp|esp-udp: ports only with esp-udp, which defaults them to 4500
 * (RFC 3948), as setkey's `add` and `delete` take them; the families must agree unless
 * the addresses are not used (delete). */
static int endpoints(struct parse *p, struct sa_params *a, bool any_family)
{
	struct cmd_loc sport_at, dport_at;
	int ret;

	ret = endpoint(p, CF_SRC, "SRC address", &a->src, &a->sport);
	sport_at = p->t.loc;
	if (!ret)
		ret = endpoint(p, CF_DST, "DST address", &a->dst, &a->dport);
	dport_at = p->t.loc;
	if (!ret && !any_family)
		ret = same_family(p, "address", &a->src, &a->dst);
	if (!ret)
		ret = word(p, "'esp' or 'esp-udp'");
	if (ret)
		return ret;
	a->encap = tok_is(&p->t, "esp-udp");
	if (!a->encap && !tok_is(&p->t, "esp"))
		return unexpected(p, "'esp' or 'esp-udp'");
	if (!a->encap && (a->sport || a->dport))
		return fail(p, a->sport ? sport_at : dport_at,
			    "a port is for esp-udp (ESP in UDP, RFC 3948) only");
	if (a->encap && !a->sport)
		a->sport = NATT_PORT;
	if (a->encap && !a->dport)
		a->dport = NATT_PORT;
	return 0;
}

/* delete SRC[PORT] DST[PORT] esp|esp-udp 0xSPI ; (the addresses are not used: any do) */
static int parse_delete(struct parse *p)
{
	struct sa_params a = { 0 };
	struct cmd_delete *d = &p->c->del;
	int ret = endpoints(p, &a, true);

	d->src = a.src;
	d->dst = a.dst;
	return ret ?: spi(p, &d->spi) ?: semi(p);
}

/* update SRC[PORT] DST[PORT] esp|esp-udp 0xSPI ; : the SA moves there (setkey's update with
 * addresses only): a peer behind a NAT that changed its mapping, MOBIKE (RFC 4555). */
static int parse_update(struct parse *p)
{
	struct sa_params *a = &p->c->add;

	return endpoints(p, a, false) ?: spi(p, &a->spi) ?: semi(p);
}

/* ---- add --------------------------------------------------------------------------------- */

static const struct alg_def {
	const char *name;
	enum esp_alg alg;
	bool esn;
} algs[] = {
	{ "aes-gcm-16", ESP_ALG_AES_GCM_16, false },
	{ "aes-gcm-16-esn", ESP_ALG_AES_GCM_16, true },
	{ "gost", ESP_ALG_GOST, false },
	{ "gost-esn", ESP_ALG_GOST, true },
	{ "gost-mac", ESP_ALG_GOST_MAC, false },
	{ "gost-mac-esn", ESP_ALG_GOST_MAC, true },
};

static const struct alg_def *alg_def(const struct sa_params *a)
{
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		if (algs[i].alg == a->alg && algs[i].esn == a->esn)
			return &algs[i];
	}
	return &algs[0];
}

/* The algorithm after -E. */
static int algorithm(struct parse *p)
{
	struct sa_params *a = &p->c->add;
	int ret = field(p, CF_ALG, "algorithm");

	if (ret)
		return ret;
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		if (tok_is(&p->t, algs[i].name)) {
			a->alg = algs[i].alg;
			a->esn = algs[i].esn;
			return 0;
		}
	}
	return fail(p, p->t.loc, "unknown algorithm '%s'", quote_tok(&p->t).s);
}

/* "20 (AES-128-GCM) or 36 (AES-256-GCM)": the key lengths alg takes, from crypto.c. */
static void key_lengths(enum esp_alg alg, char *buf, size_t size)
{
	size_t lens[ESP_KEYMAT_MAX + 1] = {0}, n = 0, off = 0;
	enum aead_cipher ciph[ESP_KEYMAT_MAX + 1];

	for (size_t len = 1; len <= ESP_KEYMAT_MAX; len++) {
		if (!aead_cipher_for(alg, len, &ciph[n]))
			lens[n++] = len;
	}
	buf[0] = '\0';
	for (size_t i = 0; i < n && off < size; i++) {
		const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";

		off += (size_t)snprintf(buf + off, size - off, "%s%zu (%s)", sep, lens[i],
					aead_cipher_name(ciph[i]));
	}
}

/* 0xKEY: hex digits, whole bytes, a length the algorithm takes. Never quoted. */
static int key(struct parse *p)
{
	struct sa_params *a = &p->c->add;
	size_t digits, nbytes;
	char lens[128];
	int ret = field(p, CF_KEY, "key");

	if (ret)
		return ret;
	if (!has_0x(p->t.s, p->t.len))
		return fail(p, p->t.loc, "invalid key: expected 0x and hexadecimal digits");
	digits = p->t.len - 2;
	for (size_t i = 0; i < digits; i++) {
		if (!hex_digit1[(unsigned char)p->t.s[2 + i]])
			return fail(p, loc_at(p, 2 + i), "invalid key: not a hexadecimal digit");
	}
	if (digits == 0)
		return fail(p, p->t.loc, "invalid key: no hexadecimal digits after 0x");
	if (digits % 2)
		return fail(p, p->t.loc,
			    "invalid key: %zu hexadecimal digits, expected whole bytes", digits);
	nbytes = digits / 2;
	if (aead_cipher_for(a->alg, nbytes, &a->cipher)) {
		key_lengths(a->alg, lens, sizeof(lens));
		return fail(p, p->t.loc, "key is %zu bytes, %s takes %s", nbytes,
			    alg_def(a)->name, lens);
	}
	for (size_t i = 0; i < nbytes; i++)
		a->key[i] = (uint8_t)((hex_digit1[(unsigned char)p->t.s[2 + 2 * i]] - 1) << 4 |
				      (hex_digit1[(unsigned char)p->t.s[3 + 2 * i]] - 1));
	a->key_len = (uint8_t)nbytes;
	return 0;
}

/* An option's value: s, len, located at loc. */
struct opt_val {
	const char *s;
	size_t len;
	struct cmd_loc loc;
};

static int opt_tfc(struct parse *p, const struct opt_val *v)
{
	uint64_t n;

	if (parse_dec(v->s, v->len, CMD_TFC_MAX, &n) || n == 0)
		return fail(p, v->loc, "invalid tfc length '%s': expected decimal 1..%u",
			    quote(v->s, v->len).s, CMD_TFC_MAX);
	p->c->add.tfc = (uint32_t)n;
	return 0;
}

/* seq:SEQ, hexadecimal with or without 0x (RFC 4303 2.2: 32 bits, 64 with ESN). */
static int opt_seq(struct parse *p, const struct opt_val *v)
{
	struct sa_params *a = &p->c->add;
	size_t skip = has_0x(v->s, v->len) ? 2 : 0;
	uint64_t n;
	int ret = parse_hex(v->s + skip, v->len - skip, &n);

	if (ret == -EINVAL)
		return fail(p, v->loc, "invalid sequence number '%s': expected hexadecimal",
			    quote(v->s, v->len).s);
	if (ret || (!a->esn && n > UINT32_MAX))
		return fail(p, v->loc,
			    "sequence number '%s' is wider than the sequence space (%s)",
			    quote(v->s, v->len).s, a->esn ? "64 bits with ESN" :
			    "32 bits without ESN");
	if (n == 0)
		return fail(p, v->loc, "invalid sequence number '%s': must be at least 1",
			    quote(v->s, v->len).s);
	a->seq = n;
	return 0;
}

/* replay:N, the anti-replay window: 0 (off, not with ESN) or 32..65536. */
static int opt_replay(struct parse *p, const struct opt_val *v)
{
	struct sa_params *a = &p->c->add;
	uint64_t n;

	if (parse_dec(v->s, v->len, REPLAY_MAX, &n) || (n && n < REPLAY_MIN))
		return fail(p, v->loc, "invalid replay window '%s': expected 0 (off) or %u..%u",
			    quote(v->s, v->len).s, REPLAY_MIN, REPLAY_MAX);
	if (n == 0 && a->esn)
		return fail(p, v->loc, "replay:0 (anti-replay off) is not allowed with ESN, "
			    "which needs the window to infer the high half of the sequence");
	a->replay = (uint32_t)n;
	return 0;
}

/* dir:in or dir:out, the direction the SA had (dump's): it keeps it without a policy. */
static int opt_dir(struct parse *p, const struct opt_val *v)
{
	if (v->len == 2 && !memcmp(v->s, "in", 2))
		p->c->add.dir = SA_INBOUND;
	else if (v->len == 3 && !memcmp(v->s, "out", 3))
		p->c->add.dir = SA_OUTBOUND;
	else
		return fail(p, v->loc, "invalid direction '%s': expected in or out",
			    quote(v->s, v->len).s);
	return 0;
}

static const struct opt_def {
	const char *name;
	enum cmd_field field;
	int (*parse)(struct parse *p, const struct opt_val *v);
} opts[] = {
	{ "tfc", CF_TFC, opt_tfc },
	{ "seq", CF_SEQ, opt_seq },
	{ "replay", CF_REPLAY, opt_replay },
	{ "dir", CF_SA_DIR, opt_dir },
};

#define OPTS_HELP "tfc:LEN, seq:SEQ, replay:N or dir:in|out"

/* The current token, KEY:VALUE. */
static int option(struct parse *p)
{
	const char *colon = memchr(p->t.s, ':', p->t.len);
	size_t nlen = colon ? (size_t)(colon - p->t.s) : 0;
	struct opt_val v;

	if (!colon)
		return fail(p, p->t.loc, "invalid option '%s': expected KEY:VALUE (" OPTS_HELP ")",
			    quote_tok(&p->t).s);
	v = (struct opt_val){ colon + 1, p->t.len - nlen - 1, loc_at(p, nlen + 1) };
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		struct cmd_loc *at = &p->c->at[opts[i].field];

		if (nlen != strlen(opts[i].name) || memcmp(p->t.s, opts[i].name, nlen))
			continue;
		if (at->line)
			return fail(p, p->t.loc, "option '%s' given twice (first at %u:%u)",
				    opts[i].name, at->line, at->col);
		*at = p->t.loc;
		return opts[i].parse(p, &v);
	}
	return fail(p, p->t.loc, "unknown option '%s' (expected " OPTS_HELP ")",
		    quote_tok(&p->t).s);
}

static int options(struct parse *p)
{
	int ret;

	for (;;) {
		ret = next(p);
		if (ret)
			return ret;
		if (p->t.kind == CMD_TOK_SEMI)
			return 0;
		if (p->t.kind == CMD_TOK_EOF)
			return fail(p, p->t.loc, "missing ';' at end of input");
		ret = option(p);
		if (ret)
			return ret;
	}
}

/* ---- add: -u and the lifetimes ------------------------------------------------------------ */

/* setkey's lifetime flags (and -ps/-ph, packets), where each puts its value. */
static const struct lifetime_def {
	const char *flag;
	enum cmd_field field;
	bool hard;
	int what;			/* 0 time, 1 bytes, 2 packets */
} lifetimes[] = {
	{ "-ls", CF_LS, false, 0 }, { "-lh", CF_LH, true, 0 },
	{ "-bs", CF_BS, false, 1 }, { "-bh", CF_BH, true, 1 },
	{ "-ps", CF_PS, false, 2 }, { "-ph", CF_PH, true, 2 },
};

static const char *const lifetime_units[] = { "seconds", "bytes", "packets" };

static uint64_t *lifetime_slot(struct sa_params *a, const struct lifetime_def *d)
{
	struct sa_lifetime *l = d->hard ? &a->hard : &a->soft;

	return d->what == 0 ? &l->time_s : d->what == 1 ? &l->bytes : &l->packets;
}

/* The flag at p->t, once, and its decimal value (0: no limit). */
static int lifetime(struct parse *p, const struct lifetime_def *d)
{
	struct cmd_loc *at = &p->c->at[d->field];
	uint64_t v;
	int ret;

	if (at->line)
		return fail(p, p->t.loc, "option '%s' given twice (first at %u:%u)", d->flag,
			    at->line, at->col);
	*at = p->t.loc;
	ret = word(p, "a lifetime");
	if (ret)
		return ret;
	if (parse_dec(p->t.s, p->t.len, UINT64_MAX, &v))
		return fail(p, p->t.loc, "invalid lifetime %s '%s': expected decimal %s "
			    "(0: no limit)", d->flag, quote_tok(&p->t).s, lifetime_units[d->what]);
	*lifetime_slot(&p->c->add, d) = v;
	return 0;
}

/* A soft limit beyond its hard one would never be reported. */
static int lifetimes_agree(struct parse *p)
{
	struct sa_params *a = &p->c->add;

	for (size_t i = 0; i < sizeof(lifetimes) / sizeof(lifetimes[0]); i += 2) {
		uint64_t soft = *lifetime_slot(a, &lifetimes[i]);
		uint64_t hard = *lifetime_slot(a, &lifetimes[i + 1]);

		if (soft && hard && soft > hard)
			return fail(p, p->c->at[lifetimes[i].field],
				    "soft lifetime %s %llu is beyond the hard one %s %llu",
				    lifetimes[i].flag, (unsigned long long)soft,
				    lifetimes[i + 1].flag, (unsigned long long)hard);
	}
	return 0;
}

/* -u ID and the lifetimes, in any order (setkey's extensions), then -E. */
static int extensions(struct parse *p)
{
	struct sa_params *a = &p->c->add;
	struct cmd_loc *uid_at = &p->c->at[CF_UID];
	int ret;

	for (;;) {
		ret = word(p, uid_at->line ? "'-E'" : "'-u'");
		if (ret)
			return ret;
		if (tok_is(&p->t, "-E"))
			return uid_at->line ? lifetimes_agree(p) : unexpected(p, "'-u'");
		if (tok_is(&p->t, "-u") && uid_at->line)
			return fail(p, p->t.loc, "option '-u' given twice (first at %u:%u)",
				    uid_at->line, uid_at->col);
		if (tok_is(&p->t, "-u")) {
			ret = field(p, CF_UID, "UniqueID") ?: uid(p, 0, &a->uid);
			if (ret)
				return ret;
			continue;
		}
		ret = -ENOENT;
		for (size_t i = 0; i < sizeof(lifetimes) / sizeof(lifetimes[0]); i++)
			if (tok_is(&p->t, lifetimes[i].flag))
				ret = lifetime(p, &lifetimes[i]);
		if (ret == -ENOENT)
			return unexpected(p, uid_at->line ? "'-E'" : "'-u'");
		if (ret)
			return ret;
	}
}

/* add SRC[PORT] DST[PORT] esp|esp-udp 0xSPI -u ID [LIFETIMES] -E ALGO 0xKEY [OPTS] ; */
static int parse_add(struct parse *p)
{
	struct sa_params *a = &p->c->add;

	a->seq = 1;
	a->replay = REPLAY_WINDOW_AUTO;
	return endpoints(p, a, false) ?:
	       spi(p, &a->spi) ?:
	       extensions(p) ?:
	       algorithm(p) ?:
	       key(p) ?:
	       options(p);
}

/* ---- spdadd ------------------------------------------------------------------------------ */

/* [PORT] at byte off of the current token, up to its end: 1..65535, or any / 0 for none. */
static int sel_port(struct parse *p, size_t off, struct sp_sel *sel)
{
	size_t len = p->t.len - off;
	const char *s = p->t.s + off;
	uint64_t port = 0;

	if (len < 2 || s[len - 1] != ']' ||
	    !((len == 5 && !memcmp(s + 1, "any", 3)) || !parse_dec(s + 1, len - 2, 65535, &port)))
		return fail(p, loc_at(p, off), "invalid port '%s': expected [1..65535] or [any]",
			    quote(s, len).s);
	sel->has_port = port != 0;
	sel->port = (uint16_t)port;
	return 0;
}

/* /PLEN at byte off of the current token, len bytes, within the family. */
static int sel_plen(struct parse *p, size_t off, size_t len, struct sp_sel *sel)
{
	unsigned bits = addr_bits(&sel->addr);
	uint64_t v;

	if (parse_dec(p->t.s + off, len, 255, &v) || v > bits)
		return fail(p, loc_at(p, off), "invalid prefix length '%s': expected 0..%u for %s",
			    quote(p->t.s + off, len).s, bits, family_name(&sel->addr));
	sel->plen = (uint8_t)v;
	return 0;
}

/* The host bits beyond PLEN must be zero: say what the network would be. */
static int sel_network(struct parse *p, size_t len, const struct sp_sel *sel)
{
	struct ip_addr net = sel->addr;
	char buf[ADDR_STRLEN];

	if (!addr_host_bits_set(&sel->addr, sel->plen))
		return 0;
	addr_mask(net.a, sizeof(net.a), sel->plen);
	return fail(p, p->t.loc, "'%s' has host bits set beyond /%u: the network is %s/%u",
		    quote(p->t.s, len).s, sel->plen, addr_str(&net, buf), sel->plen);
}

/* IP, IP/PLEN, IP[PORT] or IP/PLEN[PORT]; *port_at is where [PORT] starts. */
static int selector(struct parse *p, enum cmd_field f, const char *what, struct sp_sel *sel,
		    struct cmd_loc *port_at)
{
	const char *br, *slash;
	size_t alen, plen_len = 0;
	int ret = field(p, f, what);

	if (ret)
		return ret;
	br = memchr(p->t.s, '[', p->t.len);
	alen = br ? (size_t)(br - p->t.s) : p->t.len;
	slash = memchr(p->t.s, '/', alen);
	if (slash) {
		plen_len = alen - (size_t)(slash - p->t.s) - 1;
		alen = (size_t)(slash - p->t.s);
	}
	if (parse_addr(p->t.s, alen, &sel->addr))
		return fail(p, p->t.loc, "invalid address '%s' in %s", quote(p->t.s, alen).s,
			    what);
	sel->plen = (uint8_t)addr_bits(&sel->addr);
	if (slash && (ret = sel_plen(p, alen + 1, plen_len, sel)))
		return ret;
	if ((ret = sel_network(p, slash ? alen + 1 + plen_len : alen, sel)))
		return ret;
	if (!br)
		return 0;
	*port_at = loc_at(p, (size_t)(br - p->t.s));
	return sel_port(p, (size_t)(br - p->t.s), sel);
}

static const struct proto_def {
	const char *name;
	uint8_t proto;
	uint8_t family;		/* the selectors' family it needs, 0 for any */
} protos[] = {
	{ "any", SP_PROTO_ANY, 0 },
	{ "tcp", 6, 0 },
	{ "udp", 17, 0 },
	{ "icmp", 1, AF_INET },
	{ "icmp6", 58, AF_INET6 },
};

static int port_needs_proto(struct parse *p, const struct sp_sel *sel, struct cmd_loc at)
{
	const struct sp_params *s = &p->c->spd;

	if (!sel->has_port || s->proto == 6 || s->proto == 17)
		return 0;
	return fail(p, at, "port [%u] needs protocol tcp or udp, not '%s'", sel->port,
		    quote_tok(&p->t).s);
}

/* PROTO: known, the family it needs, and ports only with tcp or udp. */
static int protocol(struct parse *p)
{
	struct sp_params *s = &p->c->spd;
	const struct proto_def *d = NULL;
	int ret = field(p, CF_PROTO, "protocol");

	if (ret)
		return ret;
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		if (tok_is(&p->t, protos[i].name))
			d = &protos[i];
	}
	if (!d)
		return fail(p, p->t.loc,
			    "unknown protocol '%s' (expected any, tcp, udp, icmp or icmp6)",
			    quote_tok(&p->t).s);
	if (d->family && d->family != s->src.addr.family)
		return fail(p, p->t.loc, "protocol '%s' needs %s selectors, these are %s",
			    d->name, d->family == AF_INET ? "IPv4" : "IPv6",
			    family_name(&s->src.addr));
	s->proto = d->proto;
	return port_needs_proto(p, &s->src, p->sport) ?: port_needs_proto(p, &s->dst, p->dport);
}

/* [-P in|out] ipsec|discard|none (setkey's actions); without -P: out */
static int direction(struct parse *p)
{
	struct sp_params *s = &p->c->spd;
	int ret = word(p, "'-P' or an action");

	if (ret)
		return ret;
	if (tok_is(&p->t, "-P")) {
		ret = field(p, CF_DIR, "direction");
		if (ret)
			return ret;
		if (tok_is(&p->t, "in"))
			s->dir = SP_DIR_IN;
		else if (!tok_is(&p->t, "out"))
			return fail(p, p->t.loc, "invalid direction '%s': expected in or out",
				    quote_tok(&p->t).s);
		ret = word(p, "an action (ipsec, discard or none)");
		if (ret)
			return ret;
	}
	p->c->at[CF_ACTION] = p->t.loc;
	if (tok_is(&p->t, "ipsec"))
		s->action = SP_IPSEC;
	else if (tok_is(&p->t, "discard"))
		s->action = SP_DISCARD;
	else if (tok_is(&p->t, "none"))
		s->action = SP_BYPASS;
	else
		return unexpected(p, "'-P' or an action (ipsec, discard or none)");
	return 0;
}

static bool addr_unspecified(const struct ip_addr *a)
{
	static const uint8_t zero[16];

	return !memcmp(a->a, zero, sizeof(zero));
}

/* TSRC-TDST at byte off of the policy token, len bytes: addresses of one family. */
static int tunnel(struct parse *p, size_t off, size_t len)
{
	struct sp_params *s = &p->c->spd;
	const char *t = p->t.s + off;
	const char *dash = memchr(t, '-', len);
	size_t slen = dash ? (size_t)(dash - t) : 0;

	if (!dash)
		return fail(p, loc_at(p, off), "invalid tunnel '%s': expected TSRC-TDST",
			    quote(t, len).s);
	if (parse_addr(t, slen, &s->tsrc))
		return fail(p, loc_at(p, off), "invalid tunnel source address '%s'",
			    quote(t, slen).s);
	if (parse_addr(dash + 1, len - slen - 1, &s->tdst))
		return fail(p, loc_at(p, off + slen + 1), "invalid tunnel destination address '%s'",
			    quote(dash + 1, len - slen - 1).s);
	if (addr_unspecified(&s->tsrc))
		return fail(p, loc_at(p, off), "tunnel source '%s' is the unspecified address",
			    quote(t, slen).s);
	if (addr_unspecified(&s->tdst))
		return fail(p, loc_at(p, off + slen + 1),
			    "tunnel destination '%s' is the unspecified address",
			    quote(dash + 1, len - slen - 1).s);
	if (s->tsrc.family != s->tdst.family)
		return fail(p, loc_at(p, off + slen + 1),
			    "tunnel endpoint families differ: TSRC is %s, TDST '%s' is %s",
			    family_name(&s->tsrc), quote(dash + 1, len - slen - 1).s,
			    family_name(&s->tdst));
	return 0;
}

/* MODE at byte off (len bytes), then TUNNEL at toff (tlen bytes), of the policy token. */
static int mode(struct parse *p, size_t off, size_t len, size_t toff, size_t tlen)
{
	struct sp_params *s = &p->c->spd;
	const char *m = p->t.s + off;

	p->c->at[CF_TUNNEL] = loc_at(p, toff);
	if (len == 9 && !memcmp(m, "transport", 9)) {
		s->mode = SP_MODE_TRANSPORT;
		if (tlen)
			return fail(p, loc_at(p, toff),
				    "transport mode takes no tunnel endpoints, found '%s'",
				    quote(p->t.s + toff, tlen).s);
		return 0;
	}
	if (len == 6 && !memcmp(m, "tunnel", 6)) {
		s->mode = SP_MODE_TUNNEL;
		if (!tlen)
			return fail(p, loc_at(p, toff), "tunnel mode needs endpoints TSRC-TDST");
		return tunnel(p, toff, tlen);
	}
	return fail(p, loc_at(p, off), "unknown mode '%s': expected transport or tunnel",
		    quote(m, len).s);
}

/* unique:ID or require:ID at byte off of the policy token. */
static int level(struct parse *p, size_t off)
{
	const char *l = p->t.s + off;
	size_t len = p->t.len - off;

	p->c->at[CF_POLICY_UID] = loc_at(p, off);
	if (len >= 8 && !memcmp(l, "require:", 8)) {
		p->c->spd.require = true;
		return uid(p, off + 8, &p->c->spd.uid);
	}
	if (len < 7 || memcmp(l, "unique:", 7))
		return fail(p, loc_at(p, off),
			    "unsupported level '%s': expected unique:ID or require:ID",
			    quote(l, len).s);
	return uid(p, off + 7, &p->c->spd.uid);
}

/* esp/MODE/TUNNEL/unique:ID */
static int policy(struct parse *p)
{
	size_t cut[3], n = 0;
	int ret = field(p, CF_POLICY, "policy");

	if (ret)
		return ret;
	for (size_t i = 0; i < p->t.len && n < 3; i++) {
		if (p->t.s[i] == '/')
			cut[n++] = i;
	}
	if (n < 3)
		return fail(p, p->t.loc, "invalid policy '%s': expected esp/MODE/TUNNEL/unique:ID "
			    "or .../require:ID",
			    quote_tok(&p->t).s);
	if (cut[0] != 3 || memcmp(p->t.s, "esp", 3))
		return fail(p, p->t.loc, "unsupported protocol '%s' in policy: expected esp",
			    quote(p->t.s, cut[0]).s);
	return mode(p, cut[0] + 1, cut[1] - cut[0] - 1, cut[1] + 1, cut[2] - cut[1] - 1) ?:
	       level(p, cut[2] + 1);
}

/* The ipsec action's esp/MODE/TUNNEL/unique:ID; discard and none end there. */
static int action_args(struct parse *p)
{
	return p->c->spd.action == SP_IPSEC ? policy(p) : 0;
}

/* spdadd SRC DST PROTO [-P DIR] ipsec esp/MODE/TUNNEL/unique:ID ; (and spdupdate)
 * spdadd SRC DST PROTO [-P DIR] discard|none ; */
static int parse_spdadd(struct parse *p)
{
	struct sp_params *s = &p->c->spd;

	return selector(p, CF_SRC, "SRC selector", &s->src, &p->sport) ?:
	       selector(p, CF_DST, "DST selector", &s->dst, &p->dport) ?:
	       same_family(p, "selector", &s->src.addr, &s->dst.addr) ?:
	       protocol(p) ?:
	       direction(p) ?:
	       action_args(p) ?:
	       semi(p);
}

/* ---- getspi, stats ----------------------------------------------------------------------- */

/* 0xMIN-0xMAX: SPIs 0x100..0xffffffff, MIN <= MAX. */
static int spi_range(struct parse *p, struct cmd_getspi *g)
{
	const char *dash = memchr(p->t.s, '-', p->t.len);
	size_t lo_len = dash ? (size_t)(dash - p->t.s) : 0, hi_len = p->t.len - lo_len - 1;
	uint64_t lo, hi;

	p->c->at[CF_RANGE] = p->t.loc;
	if (!dash || !has_0x(p->t.s, lo_len) || !has_0x(dash + 1, hi_len) ||
	    parse_hex(p->t.s + 2, lo_len - 2, &lo) || parse_hex(dash + 3, hi_len - 2, &hi))
		return fail(p, p->t.loc, "invalid SPI range '%s': expected 0xMIN-0xMAX",
			    quote_tok(&p->t).s);
	if (lo < 0x100 || hi > UINT32_MAX || lo > hi)
		return fail(p, p->t.loc, "invalid SPI range '%s': expected 0x100 <= MIN <= MAX "
			    "<= 0xffffffff", quote_tok(&p->t).s);
	g->min = (uint32_t)lo;
	g->max = (uint32_t)hi;
	return 0;
}

/* getspi SRC DST esp [0xMIN-0xMAX] ; (PF_KEY's SADB_GETSPI, RFC 2367 2.3.3) */
static int parse_getspi(struct parse *p)
{
	struct cmd_getspi *g = &p->c->getspi;
	int ret;

	g->min = 0x100;
	g->max = UINT32_MAX;
	ret = address(p, CF_SRC, "SRC address", &g->src) ?:
	      address(p, CF_DST, "DST address", &g->dst) ?:
	      same_family(p, "address", &g->src, &g->dst) ?:
	      keyword(p, "esp") ?:
	      next(p);
	if (ret || p->t.kind == CMD_TOK_SEMI)
		return ret;
	if (p->t.kind != CMD_TOK_WORD)
		return unexpected(p, "an SPI range or ';'");
	return spi_range(p, g) ?: semi(p);
}

/* stats [json] ; */
static int parse_stats(struct parse *p)
{
	int ret = next(p);

	p->c->stats = STATS_TEXT;
	if (ret || p->t.kind == CMD_TOK_SEMI)
		return ret;
	if (p->t.kind == CMD_TOK_EOF)
		return fail(p, p->t.loc, "missing ';' at end of input");
	if (!tok_is(&p->t, "json"))
		return unexpected(p, "';' or 'json'");
	p->c->stats = STATS_JSON;
	return semi(p);
}

/* ---- commands ---------------------------------------------------------------------------- */

static const struct cmd_def {
	const char *word;
	enum cmd_kind kind;
	int (*parse)(struct parse *p);
} cmds[] = {
	{ "flush", CMD_FLUSH, parse_bare },
	{ "spdflush", CMD_SPDFLUSH, parse_bare },
	{ "dump", CMD_DUMP, parse_bare },
	{ "spddump", CMD_SPDDUMP, parse_bare },
	{ "spigrp", CMD_SPIGRP, parse_bare },
	{ "stats", CMD_STATS, parse_stats },
	{ "getspi", CMD_GETSPI, parse_getspi },
	{ "spddelete", CMD_SPDDELETE, parse_spddelete },
	{ "delete", CMD_DELETE, parse_delete },
	{ "add", CMD_ADD, parse_add },
	{ "update", CMD_UPDATE, parse_update },
	{ "spdadd", CMD_SPDADD, parse_spdadd },
	{ "spdupdate", CMD_SPDADD, parse_spdadd },
};

/* 1: a command; 0: end of input; -EINVAL/-EIO: error set. */
static int command(struct parse *p)
{
	int ret = next(p);

	if (ret)
		return ret;
	if (p->t.kind == CMD_TOK_EOF)
		return 0;
	if (p->t.kind == CMD_TOK_SEMI)
		return fail(p, p->t.loc, "empty command: expected a command before ';'");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (tok_is(&p->t, cmds[i].word)) {
			p->c->kind = cmds[i].kind;
			p->c->at[CF_CMD] = p->t.loc;
			ret = cmds[i].parse(p);
			return ret ? ret : 1;
		}
	}
	return fail(p, p->t.loc, "unknown command '%s'", quote_tok(&p->t).s);
}

/* ---- the reader -------------------------------------------------------------------------- */

struct cmd_reader *cmd_reader_new(FILE *in, const char *source_name)
{
	struct cmd_reader *r;

	if (!in) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->source = strdup(source_name ? source_name : "<stdin>");
	if (!r->source) {
		free(r);
		return NULL;
	}
	cmd_lex_init(&r->lx, in);
	return r;
}

void cmd_reader_free(struct cmd_reader *r)
{
	if (!r)
		return;
	cmd_lex_fini(&r->lx);
	free(r->source);
	free(r);
}

const char *cmd_reader_source(const struct cmd_reader *r)
{
	return r->source;
}

void cmd_reader_on_idle(struct cmd_reader *r, void (*fn)(void *arg), void *arg)
{
	r->lx.idle = fn;
	r->lx.idle_arg = arg;
}

/* The rest of a failed command, up to its ';' (or end of input, or an overlong line, which
 * is an error of its own). */
static int skip_command(struct parse *p)
{
	int ret;

	do {
		ret = next(p);
	} while (!ret && p->t.kind == CMD_TOK_WORD);
	return ret;
}

/* After an error: is the rest of the command, up to a ';', still to come? */
static bool rest_to_skip(const struct cmd_tok *t)
{
	return t->kind == CMD_TOK_WORD || (t->kind == CMD_TOK_OVERLONG && !t->semi);
}

/*
 * The skip after an error is done at the start of the next call rather than before
 * returning the error, so that a live daemon reports a bad command at once instead of
 * waiting for its ';'. The caller sees the same sequence of results either way.
 */
int cmd_next(struct cmd_reader *r, struct cmd *c, struct cmd_error *err)
{
	struct parse p = { .lx = &r->lx, .c = c, .err = err };
	int ret = 0;

	memset(c, 0, sizeof(*c));
	memset(err, 0, sizeof(*err));
	if (r->skip) {
		r->skip = false;
		ret = skip_command(&p);
	}
	if (!ret)
		ret = command(&p);
	if (ret >= 0)
		return ret;
	r->skip = rest_to_skip(&p.t);
	wipe(c, sizeof(*c));
	return -1;
}

/*
 * One command from a string. Same results as cmd_next on a stream holding text, except that
 * text must hold only that one command: a token after its ';' is an error.
 */
int cmd_parse_string(const char *text, struct cmd *c, struct cmd_error *err)
{
	struct cmd_reader *r;
	struct cmd extra;
	FILE *f;
	int ret;

	memset(c, 0, sizeof(*c));
	memset(err, 0, sizeof(*err));
	f = fmemopen((void *)text, strlen(text), "r");
	if (!f)
		return cmd_error_set(err, (struct cmd_loc){ 1, 1 }, "%s", strerror(errno)), -1;
	r = cmd_reader_new(f, "<string>");
	if (!r) {
		fclose(f);
		return cmd_error_set(err, (struct cmd_loc){ 1, 1 }, "%s", strerror(errno)), -1;
	}
	ret = cmd_next(r, c, err);
	if (ret == 1) {
		struct parse p = { .lx = &r->lx, .c = &extra, .err = err };

		if (!next(&p) && p.t.kind != CMD_TOK_EOF) {
			cmd_error_set(err, p.t.loc, "only one command expected, found '%s'",
				      quote_tok(&p.t).s);
			wipe(c, sizeof(*c));
			ret = -1;
		}
	}
	cmd_reader_free(r);
	fclose(f);
	return ret;
}
