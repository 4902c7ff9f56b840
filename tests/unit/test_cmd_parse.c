// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_cmd_parse.c - the command lexer and parser (user/control/cmd_lex.c, cmd_parse.c):
 * tables of valid commands with every field of the struct cmd they give (rendered as one
 * line, the defaults the parser fills included), their token locations, and the invalid
 * commands of cmd_invalid_cases.h with the exact LINE:COL and message; recovery after
 * errors in a stream; lines beyond the length limit refused whole; a command is returned
 * as soon as its ';' line is readable on a pipe whose writer is still open.
 */
#include <ctype.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test_util.h"
#include "control/cmd.h"
#include "control/cmd_lex.h"	/* CMD_LINE_MAX */
#include "cmd_invalid_cases.h"

#define K20	CIC_K20
#define K36	CIC_K36
#define K44	CIC_K44
#define H20	CIC_H20
#define H36	CIC_H36
#define H44	CIC_H44

/* ---- rendering a struct cmd as one line, checking the fields it does not show are zero --- */

struct out {
	char s[1024];
};

static void cat(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cat(struct out *o, const char *fmt, ...)
{
	size_t n = strlen(o->s);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(o->s + n, sizeof(o->s) - n, fmt, ap);
	va_end(ap);
}

static bool all_zero(const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++) {
		if (b[i])
			return false;
	}
	return true;
}

static void cat_addr(struct out *o, const struct ip_addr *a)
{
	char buf[ADDR_STRLEN];

	assert_true(a->family == AF_INET || a->family == AF_INET6);
	assert_true(all_zero(a->pad, sizeof(a->pad)));
	if (a->family == AF_INET)
		assert_true(all_zero(a->a + 4, 12));
	cat(o, "%s", addr_str(a, buf));
}

static void cat_sel(struct out *o, const struct sp_sel *s)
{
	cat_addr(o, &s->addr);
	cat(o, "/%u", s->plen);
	if (s->has_port)
		cat(o, "[%u]", s->port);
	else
		assert_int_equal(s->port, 0);
}

static const char *const alg_names[] = { "aes-gcm-16", "gost", "gost-mac" };

/* The options show only where they differ from the defaults the parser fills: no TFC
 * padding, seq 1, no anti-replay window given (REPLAY_WINDOW_AUTO: the daemon's default for
 * its number of workers). */
/* SRC DST, or SRC[PORT] DST[PORT] udp for esp-udp (ESP in UDP). */
static void cat_endpoints(struct out *o, const struct sa_params *a)
{
	cat_addr(o, &a->src);
	if (a->encap)
		cat(o, "[%u]", a->sport);
	cat(o, " ");
	cat_addr(o, &a->dst);
	if (a->encap)
		cat(o, "[%u] udp", a->dport);
	else
		assert_true(a->sport == 0 && a->dport == 0);
}

static void cat_add(struct out *o, const struct sa_params *a)
{
	cat(o, "add ");
	cat_endpoints(o, a);
	cat(o, " spi=0x%x uid=%u alg=%s esn=%d cipher=%s key=", a->spi, a->uid,
	    alg_names[a->alg], a->esn, aead_cipher_name(a->cipher));
	for (unsigned i = 0; i < a->key_len; i++)
		cat(o, "%02x", a->key[i]);
	assert_true(all_zero(a->key + a->key_len, sizeof(a->key) - a->key_len));
	if (a->tfc)
		cat(o, " tfc=%u", a->tfc);
	assert_true(a->seq != 0);
	if (a->seq != 1)
		cat(o, " seq=0x%llx", (unsigned long long)a->seq);
	if (a->replay != REPLAY_WINDOW_AUTO)
		cat(o, " replay=%u", a->replay);
	if (a->dir)
		cat(o, " dir=%s", a->dir == SA_OUTBOUND ? "out" : "in");
}

static const char *const action_names[] = {
	[SP_IPSEC] = "ipsec", [SP_DISCARD] = "discard", [SP_BYPASS] = "none",
};

/* discard and none name no SA and no mode: those fields stay zero. */
static void cat_spdadd(struct out *o, const struct sp_params *s)
{
	cat(o, "spdadd ");
	cat_sel(o, &s->src);
	cat(o, " ");
	cat_sel(o, &s->dst);
	assert_true(s->dir == SP_DIR_OUT || s->dir == SP_DIR_IN);
	assert_true(s->action == SP_IPSEC || s->action == SP_DISCARD || s->action == SP_BYPASS);
	cat(o, " proto=%u dir=%s %s", s->proto, s->dir == SP_DIR_IN ? "in" : "out",
	    action_names[s->action]);
	if (s->action != SP_IPSEC) {
		assert_int_equal(s->mode, SP_MODE_TRANSPORT);
		assert_true(all_zero(&s->tsrc, sizeof(s->tsrc)));
		assert_true(all_zero(&s->tdst, sizeof(s->tdst)));
		assert_int_equal(s->uid, 0);
		return;
	}
	if (s->mode == SP_MODE_TUNNEL) {
		cat(o, " tunnel ");
		cat_addr(o, &s->tsrc);
		cat(o, "-");
		cat_addr(o, &s->tdst);
	} else {
		cat(o, " transport");
		assert_true(all_zero(&s->tsrc, sizeof(s->tsrc)));
		assert_true(all_zero(&s->tdst, sizeof(s->tdst)));
	}
	cat(o, " uid=%u", s->uid);
}

static const char *const kind_names[] = {
	[CMD_FLUSH] = "flush", [CMD_SPDFLUSH] = "spdflush", [CMD_DUMP] = "dump",
	[CMD_SPDDUMP] = "spddump", [CMD_SPDDELETE] = "spddelete", [CMD_DELETE] = "delete",
	[CMD_ADD] = "add", [CMD_SPDADD] = "spdadd", [CMD_SPIGRP] = "spigrp",
	[CMD_STATS] = "stats", [CMD_UPDATE] = "update",
};

static struct out render(const struct cmd *c)
{
	struct out o = { "" };

	switch (c->kind) {
	case CMD_DELETE:
		cat(&o, "delete ");
		cat_addr(&o, &c->del.src);
		cat(&o, " ");
		cat_addr(&o, &c->del.dst);
		cat(&o, " spi=0x%x", c->del.spi);
		break;
	case CMD_ADD:
		cat_add(&o, &c->add);
		break;
	case CMD_UPDATE:	/* the SPI and the path only */
		cat(&o, "update ");
		cat_endpoints(&o, &c->add);
		cat(&o, " spi=0x%x", c->add.spi);
		assert_true(!c->add.uid && !c->add.key_len && !c->add.seq && !c->add.replay);
		break;
	case CMD_SPDADD:
		cat_spdadd(&o, &c->spd);
		break;
	default:
		cat(&o, "%s", kind_names[c->kind]);
		assert_true(all_zero(&c->add, sizeof(c->add)));
		assert_true(all_zero(&c->spd, sizeof(c->spd)));
	}
	return o;
}

static const char *const field_names[CF_MAX] = {
	"cmd", "src", "dst", "spi", "uid", "alg", "key", "tfc", "seq", "replay", "sa_dir", "proto",
	"dir", "action", "policy", "tunnel", "policy_uid",
};

static struct out render_locs(const struct cmd *c)
{
	struct out o = { "" };

	for (int f = 0; f < CF_MAX; f++) {
		if (c->at[f].line)
			cat(&o, "%s%s=%u:%u", o.s[0] ? " " : "", field_names[f], c->at[f].line,
			    c->at[f].col);
		else
			assert_int_equal(c->at[f].col, 0);
	}
	return o;
}

/* ---- valid commands --------------------------------------------------------------------- */

struct valid_case {
	const char *input;
	const char *expect;	/* render() of the command */
};

#define ADD4	"add 10.0.0.1 10.0.0.2 esp 0x1000 -u 1 -E "
#define ADD4_R	"add 10.0.0.1 10.0.0.2 spi=0x1000 uid=1 "
#define AES20	ADD4 "aes-gcm-16 " K20
#define AES20_R	ADD4_R "alg=aes-gcm-16 esn=0 cipher=AES-128-GCM key=" H20
#define ESN20	ADD4 "aes-gcm-16-esn " K20
#define ESN20_R	ADD4_R "alg=aes-gcm-16 esn=1 cipher=AES-128-GCM key=" H20
#define POL	"esp/transport//unique:1"

static const struct valid_case valid_cases[] = {
	/* argument-less commands, terminators, comments */
	{ "flush ;", "flush" },
	{ "flush;", "flush" },
	{ "flush ;\r\n", "flush" },
	{ "flush\n;\n", "flush" },
	{ "\tflush\t;\t# the SAD\n", "flush" },
	{ "# only a comment\n\n   \r\nflush ;", "flush" },
	{ "spdflush ;\r\n", "spdflush" },
	{ "dump ;\r\n", "dump" },
	{ "spddump;", "spddump" },
	{ "spigrp ;", "spigrp" },
	{ "stats ;", "stats" },
	{ "spddelete 10.0.0.0/24 10.0.1.0/24 any -P out ;\r\n", "spddelete" },
	{ "spddelete;", "spddelete" },
	{ "spddelete anything\n at all # even\n [this] ;", "spddelete" },

	/* delete */
	{ "delete 10.0.0.1 10.0.0.2 esp 0x1000 ;", "delete 10.0.0.1 10.0.0.2 spi=0x1000" },
	{ "delete 2001:db8::1 2001:db8::2 esp 0xdeadBEEF ;\r\n",
	  "delete 2001:db8::1 2001:db8::2 spi=0xdeadbeef" },
	{ "delete 10.0.0.1 2001:db8::2 esp 0x100;", "delete 10.0.0.1 2001:db8::2 spi=0x100" },
	{ "delete 10.0.0.1 10.0.0.2 esp 0xffffffff ;", "delete 10.0.0.1 10.0.0.2 spi=0xffffffff" },
	{ "delete 10.0.0.1 10.0.0.2 esp 0X00000001000 ;", "delete 10.0.0.1 10.0.0.2 spi=0x1000" },

	/* delete, update: ESP in UDP (RFC 3948) */
	{ "delete 10.0.0.1[4500] 10.0.0.2[4500] esp-udp 0x1000 ;",
	  "delete 10.0.0.1 10.0.0.2 spi=0x1000" },
	{ "update 192.0.2.1[4500] 198.51.100.7[31337] esp-udp 0x1000 ;",
	  "update 192.0.2.1[4500] 198.51.100.7[31337] udp spi=0x1000" },
	{ "update 192.0.2.1 198.51.100.7 esp-udp 0x1000 ;",
	  "update 192.0.2.1[4500] 198.51.100.7[4500] udp spi=0x1000" },
	{ "update 2001:db8::1 2001:db8::2 esp 0x1000 ;",
	  "update 2001:db8::1 2001:db8::2 spi=0x1000" },
	{ "update 2001:db8::1[1] 2001:db8::2[65535] esp-udp 0x1000 ;",
	  "update 2001:db8::1[1] 2001:db8::2[65535] udp spi=0x1000" },

	/* add: ESP in UDP, ports given or 4500 */
	{ "add 10.0.0.1[4500] 10.0.0.2[4501] esp-udp 0x1000 -u 1 -E aes-gcm-16 " K20 " ;",
	  "add 10.0.0.1[4500] 10.0.0.2[4501] udp spi=0x1000 uid=1 alg=aes-gcm-16 esn=0 "
	  "cipher=AES-128-GCM key=" H20 },
	{ "add 10.0.0.1 10.0.0.2 esp-udp 0x1000 -u 1 -E aes-gcm-16 " K20 " ;",
	  "add 10.0.0.1[4500] 10.0.0.2[4500] udp spi=0x1000 uid=1 alg=aes-gcm-16 esn=0 "
	  "cipher=AES-128-GCM key=" H20 },
	{ "add 10.0.0.1[4500] 10.0.0.2 esp-udp 0x1000 -u 1 -E aes-gcm-16 " K20 " ;",
	  "add 10.0.0.1[4500] 10.0.0.2[4500] udp spi=0x1000 uid=1 alg=aes-gcm-16 esn=0 "
	  "cipher=AES-128-GCM key=" H20 },

	/* add: every algorithm and key length */
	{ AES20 " ;", AES20_R },
	{ ADD4 "aes-gcm-16 " K36 " ;",
	  ADD4_R "alg=aes-gcm-16 esn=0 cipher=AES-256-GCM key=" H36 },
	{ ESN20 " ;", ESN20_R },
	{ ADD4 "aes-gcm-16-esn " K36 " ;",
	  ADD4_R "alg=aes-gcm-16 esn=1 cipher=AES-256-GCM key=" H36 },
	{ ADD4 "gost " K36 " ;", ADD4_R "alg=gost esn=0 cipher=Magma-MGM key=" H36 },
	{ ADD4 "gost " K44 " ;", ADD4_R "alg=gost esn=0 cipher=Kuznyechik-MGM key=" H44 },
	{ ADD4 "gost-esn " K36 " ;", ADD4_R "alg=gost esn=1 cipher=Magma-MGM key=" H36 },
	{ ADD4 "gost-esn " K44 " ;", ADD4_R "alg=gost esn=1 cipher=Kuznyechik-MGM key=" H44 },
	{ ADD4 "gost-mac " K36 " ;", ADD4_R "alg=gost-mac esn=0 cipher=Magma-MGM-MAC key=" H36 },
	{ ADD4 "gost-mac " K44 " ;",
	  ADD4_R "alg=gost-mac esn=0 cipher=Kuznyechik-MGM-MAC key=" H44 },
	{ ADD4 "gost-mac-esn " K36 " ;",
	  ADD4_R "alg=gost-mac esn=1 cipher=Magma-MGM-MAC key=" H36 },
	{ ADD4 "gost-mac-esn " K44 " ;",
	  ADD4_R "alg=gost-mac esn=1 cipher=Kuznyechik-MGM-MAC key=" H44 },
	{ ADD4 "aes-gcm-16 0xFFEEDDCCBBAA99887766554433221100AaBbCcDd ;",
	  ADD4_R "alg=aes-gcm-16 esn=0 cipher=AES-128-GCM "
	  "key=ffeeddccbbaa99887766554433221100aabbccdd" },

	/* add: addresses, SPI, UniqueID, layout */
	{ "add 2001:db8::1 2001:DB8::2 esp 0x100 -u 4294967295 -E gost " K44 " ;\r\n",
	  "add 2001:db8::1 2001:db8::2 spi=0x100 uid=4294967295 alg=gost esn=0 "
	  "cipher=Kuznyechik-MGM key=" H44 },
	{ "add 192.0.2.1 192.0.2.2 esp 0xFFFFFFFF -u 007 -E gost-mac " K36 ";",
	  "add 192.0.2.1 192.0.2.2 spi=0xffffffff uid=7 alg=gost-mac esn=0 "
	  "cipher=Magma-MGM-MAC key=" H36 },
	{ "add 10.0.0.1\r\n 10.0.0.2 esp\r\n 0x1000 -u 1 # a comment\r\n -E aes-gcm-16\r\n "
	  K20 "\r\n ;\r\n", AES20_R },

	/* add: options, in any order, at their limits */
	{ AES20 " tfc:1500 seq:10 replay:64 ;", AES20_R " tfc=1500 seq=0x10 replay=64" },
	/* seq:1 is the default: as if not given; replay:1024 is kept as given (the default
	 * window follows the number of workers) */
	{ AES20 " replay:128 tfc:1 seq:0x1;", AES20_R " tfc=1 replay=128" },
	{ AES20 " replay:1024 seq:2 ;", AES20_R " seq=0x2 replay=1024" },
	{ AES20 " tfc:65478 ;", AES20_R " tfc=65478" },
	{ AES20 " seq:ffffffff ;", AES20_R " seq=0xffffffff" },
	{ AES20 " seq:0XABCDEF ;", AES20_R " seq=0xabcdef" },
	{ AES20 " replay:0 ;", AES20_R " replay=0" },
	{ AES20 " replay:32 ;", AES20_R " replay=32" },
	{ AES20 " replay:65536 ;", AES20_R " replay=65536" },
	{ AES20 " dir:out ;", AES20_R " dir=out" },
	{ AES20 " seq:2 dir:in replay:64 ;", AES20_R " seq=0x2 replay=64 dir=in" },
	{ ESN20 " seq:0xffffffffffffffff replay:32 ;",
	  ESN20_R " seq=0xffffffffffffffff replay=32" },
	{ ESN20 " seq:100000000 ;", ESN20_R " seq=0x100000000" },
	{ ESN20 "\n  tfc:200\n  seq:1\n;", ESN20_R " tfc=200" },

	/* spdadd: selectors */
	{ "spdadd 10.0.0.1 10.0.0.2 any ipsec " POL " ;",
	  "spdadd 10.0.0.1/32 10.0.0.2/32 proto=0 dir=out ipsec transport uid=1" },
	{ "spdadd 10.0.0.0/24 10.0.1.0/24 any ipsec " POL " ;",
	  "spdadd 10.0.0.0/24 10.0.1.0/24 proto=0 dir=out ipsec transport uid=1" },
	{ "spdadd 0.0.0.0/0 192.0.2.128/25 any ipsec " POL " ;",
	  "spdadd 0.0.0.0/0 192.0.2.128/25 proto=0 dir=out ipsec transport uid=1" },
	{ "spdadd 2001:db8::1 2001:DB8::2 any ipsec " POL " ;",
	  "spdadd 2001:db8::1/128 2001:db8::2/128 proto=0 dir=out ipsec transport uid=1" },
	{ "spdadd ::/0 2001:db8:1::/48 any ipsec " POL " ;",
	  "spdadd ::/0 2001:db8:1::/48 proto=0 dir=out ipsec transport uid=1" },
	{ "spdadd 10.0.0.0/24[any] 10.0.1.0/24[0] any ipsec " POL " ;",
	  "spdadd 10.0.0.0/24 10.0.1.0/24 proto=0 dir=out ipsec transport uid=1" },
	{ "spdadd 10.0.0.0/24[1024] 10.0.1.0/24[80] tcp ipsec " POL " ;",
	  "spdadd 10.0.0.0/24[1024] 10.0.1.0/24[80] proto=6 dir=out ipsec transport uid=1" },
	{ "spdadd 10.0.0.1[65535] 10.0.0.2[any] udp ipsec " POL " ;",
	  "spdadd 10.0.0.1/32[65535] 10.0.0.2/32 proto=17 dir=out ipsec transport uid=1" },
	{ "spdadd 10.0.0.1 10.0.0.2[1] udp ipsec " POL " ;",
	  "spdadd 10.0.0.1/32 10.0.0.2/32[1] proto=17 dir=out ipsec transport uid=1" },
	{ "spdadd 2001:db8::/32[443] 2001:db8:1::/48 tcp ipsec " POL " ;",
	  "spdadd 2001:db8::/32[443] 2001:db8:1::/48 proto=6 dir=out ipsec transport uid=1" },

	/* spdadd: protocols, directions */
	{ "spdadd 10.0.0.0/24 10.0.1.0/24 icmp ipsec " POL " ;",
	  "spdadd 10.0.0.0/24 10.0.1.0/24 proto=1 dir=out ipsec transport uid=1" },
	{ "spdadd 2001:db8::/64 2001:db8:1::/64 icmp6 ipsec " POL " ;",
	  "spdadd 2001:db8::/64 2001:db8:1::/64 proto=58 dir=out ipsec transport uid=1" },
	{ "spdadd 10.0.0.0/24 10.0.1.0/24 udp -P in ipsec " POL " ;",
	  "spdadd 10.0.0.0/24 10.0.1.0/24 proto=17 dir=in ipsec transport uid=1" },
	{ "spdadd 10.0.0.0/24 10.0.1.0/24 tcp -P out ipsec " POL " ;",
	  "spdadd 10.0.0.0/24 10.0.1.0/24 proto=6 dir=out ipsec transport uid=1" },

	/* spdadd: the actions discard and none (bypass), with and without -P */
	{ "spdadd 10.0.0.0/24 10.0.1.0/24 any -P out discard ;",
	  "spdadd 10.0.0.0/24 10.0.1.0/24 proto=0 dir=out discard" },
	{ "spdadd 10.0.0.0/24 10.0.1.0/24 any -P in none ;",
	  "spdadd 10.0.0.0/24 10.0.1.0/24 proto=0 dir=in none" },
	{ "spdadd 10.0.0.0/24 10.0.1.0/24 any -P in discard;",
	  "spdadd 10.0.0.0/24 10.0.1.0/24 proto=0 dir=in discard" },
	{ "spdadd 10.0.0.0/24 10.0.1.0/24 any -P out none ;\r\n",
	  "spdadd 10.0.0.0/24 10.0.1.0/24 proto=0 dir=out none" },
	{ "spdadd 2001:db8::/64 2001:db8:1::/64[53] udp discard ;",
	  "spdadd 2001:db8::/64 2001:db8:1::/64[53] proto=17 dir=out discard" },
	{ "spdupdate 10.0.0.1 10.0.0.2 icmp none ;",
	  "spdadd 10.0.0.1/32 10.0.0.2/32 proto=1 dir=out none" },
	{ "spdadd 10.0.0.0/8[22] 10.0.1.0/24 tcp # ssh\n -P in\n discard\n;\n",
	  "spdadd 10.0.0.0/8[22] 10.0.1.0/24 proto=6 dir=in discard" },

	/* spdadd: tunnels, spdupdate, layout */
	{ "spdadd 10.0.0.0/24 10.0.1.0/24 any -P out ipsec "
	  "esp/tunnel/192.0.2.1-192.0.2.2/unique:4294967295 ;\r\n",
	  "spdadd 10.0.0.0/24 10.0.1.0/24 proto=0 dir=out ipsec tunnel 192.0.2.1-192.0.2.2 "
	  "uid=4294967295" },
	{ "spdadd 2001:db8::/64 2001:db8:1::/64 any -P in ipsec "
	  "esp/tunnel/2001:db8:ffff::1-2001:db8:ffff::2/unique:9 ;",
	  "spdadd 2001:db8::/64 2001:db8:1::/64 proto=0 dir=in ipsec tunnel "
	  "2001:db8:ffff::1-2001:db8:ffff::2 uid=9" },
	{ "spdadd 10.0.0.0/24 10.0.1.0/24 any ipsec "
	  "esp/tunnel/2001:db8::1-::ffff:1.2.3.4/unique:2;",
	  "spdadd 10.0.0.0/24 10.0.1.0/24 proto=0 dir=out ipsec tunnel "
	  "2001:db8::1-::ffff:1.2.3.4 uid=2" },
	{ "spdadd ::/0 ::/0 any ipsec esp/tunnel/192.0.2.1-192.0.2.2/unique:3 ;",
	  "spdadd ::/0 ::/0 proto=0 dir=out ipsec tunnel 192.0.2.1-192.0.2.2 uid=3" },
	{ "spdupdate 10.0.0.0/8 10.0.1.0/24[22] tcp -P in ipsec esp/transport//unique:01 ;",
	  "spdadd 10.0.0.0/8 10.0.1.0/24[22] proto=6 dir=in ipsec transport uid=1" },
	{ "spdadd 10.0.0.0/24 # from\n\t10.0.1.0/24 # to\n\tany -P out\n\tipsec\n\t"
	  "esp/tunnel/192.0.2.1-192.0.2.2/unique:5\n;\n",
	  "spdadd 10.0.0.0/24 10.0.1.0/24 proto=0 dir=out ipsec tunnel 192.0.2.1-192.0.2.2 "
	  "uid=5" },
};

static void check_valid(const struct valid_case *vc)
{
	struct cmd c;
	struct cmd_error err;
	int ret = cmd_parse_string(vc->input, &c, &err);

	if (ret != 1)
		fail_msg("%s\n  -> %d %u:%u %s", vc->input, ret, err.loc.line, err.loc.col,
			 err.msg);
	if (strcmp(render(&c).s, vc->expect))
		fail_msg("%s\n  got      %s\n  expected %s", vc->input, render(&c).s, vc->expect);
}

static void test_valid(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(valid_cases) / sizeof(valid_cases[0]); i++)
		check_valid(&valid_cases[i]);
}

/* The same commands, one stream: each comes out in turn, then the end. */
static void test_valid_stream(void **state)
{
	struct cmd_reader *r;
	struct cmd_error err;
	struct cmd c;
	char *buf;
	size_t len;
	FILE *w = open_memstream(&buf, &len), *in;
	size_t n = sizeof(valid_cases) / sizeof(valid_cases[0]);

	(void)state;
	for (size_t i = 0; i < n; i++)
		fprintf(w, "%s\n", valid_cases[i].input);
	fclose(w);
	in = fmemopen(buf, len, "r");
	r = cmd_reader_new(in, "<stream>");
	assert_non_null(r);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(cmd_next(r, &c, &err), 1);
		assert_string_equal(render(&c).s, valid_cases[i].expect);
	}
	assert_int_equal(cmd_next(r, &c, &err), 0);
	assert_int_equal(cmd_next(r, &c, &err), 0);
	cmd_reader_free(r);
	fclose(in);
	free(buf);
}

/* ---- locations -------------------------------------------------------------------------- */

static const struct valid_case loc_cases[] = {
	{ "flush ;", "cmd=1:1" },
	{ "\n\n  dump ;", "cmd=3:3" },
	{ "delete 10.0.0.1 10.0.0.2 esp 0x1000 ;", "cmd=1:1 src=1:8 dst=1:17 spi=1:30" },
	{ "add 10.0.0.1 10.0.0.2 esp 0x1000 -u 7 -E gost " K44 " tfc:100 seq:5 replay:64 ;",
	  "cmd=1:1 src=1:5 dst=1:14 spi=1:27 uid=1:37 alg=1:42 key=1:47 tfc=1:138 seq=1:146 "
	  "replay=1:152" },
	{ "add 10.0.0.1\n\t10.0.0.2 esp\n0x1000 -u 1 -E aes-gcm-16 " K20 "\nreplay:64 ;",
	  "cmd=1:1 src=1:5 dst=2:2 spi=3:1 uid=3:11 alg=3:16 key=3:27 replay=4:1" },
	{ "spdadd 10.0.0.0/24 10.0.1.0/24 any ipsec esp/transport//unique:1 ;",
	  "cmd=1:1 src=1:8 dst=1:20 proto=1:32 action=1:36 policy=1:42 tunnel=1:56 "
	  "policy_uid=1:57" },
	{ "spdadd 10.0.0.0/24 10.0.1.0/24 tcp -P in ipsec "
	  "esp/tunnel/192.0.2.1-192.0.2.2/unique:5 ;",
	  "cmd=1:1 src=1:8 dst=1:20 proto=1:32 dir=1:39 action=1:42 policy=1:48 tunnel=1:59 "
	  "policy_uid=1:79" },
	{ "spdupdate\r\n 10.0.0.0/24\r\n 10.0.1.0/24 any\r\n -P out ipsec\r\n"
	  " esp/tunnel/2001:db8::1-2001:db8::2/unique:5 ;\r\n",
	  "cmd=1:1 src=2:2 dst=3:2 proto=3:14 dir=4:5 action=4:9 policy=5:2 tunnel=5:13 "
	  "policy_uid=5:37" },
	{ "spdadd 10.0.0.0/24 10.0.1.0/24 any -P in none ;",
	  "cmd=1:1 src=1:8 dst=1:20 proto=1:32 dir=1:39 action=1:42" },
	{ "spdadd 10.0.0.0/24 10.0.1.0/24 tcp\n discard ;",
	  "cmd=1:1 src=1:8 dst=1:20 proto=1:32 action=2:2" },
};

static void test_locations(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(loc_cases) / sizeof(loc_cases[0]); i++) {
		struct cmd c;
		struct cmd_error err;

		assert_int_equal(cmd_parse_string(loc_cases[i].input, &c, &err), 1);
		if (strcmp(render_locs(&c).s, loc_cases[i].expect))
			fail_msg("%s\n  got      %s\n  expected %s", loc_cases[i].input,
				 render_locs(&c).s, loc_cases[i].expect);
	}
}

/* ---- invalid commands ------------------------------------------------------------------- */

/* No run of more than 16 hex digits: keying material never shows in a message. An
 * escaped byte \xNN stands for one byte that is not a hex digit. */
static bool no_key_material(const char *msg)
{
	size_t run = 0;

	for (const char *p = msg; *p; p++) {
		if (p[0] == '\\' && p[1] == 'x' && p[2] && p[3]) {
			p += 3;
			run = 0;
			continue;
		}
		run = isxdigit((unsigned char)*p) ? run + 1 : 0;
		if (run > 16)
			return false;
	}
	return true;
}

/* Print what differs; true if the error is the expected one. */
static bool error_ok(const struct cmd_invalid_case *ic, int ret, const struct cmd_error *err,
		     const char *how)
{
	if (ret == -1 && err->loc.line == ic->line && err->loc.col == ic->col &&
	    strstr(err->msg, ic->msg) && !strchr(err->msg, '\n') && no_key_material(err->msg))
		return true;
	print_error("%s: %.200s\n  got      %d %u:%u %s\n  expected -1 %u:%u ...%s...\n", how,
		    ic->input, ret, err->loc.line, err->loc.col, err->msg, ic->line, ic->col,
		    ic->msg);
	return false;
}

static bool ends_with_semicolon(const char *s)
{
	size_t n = strlen(s);

	while (n && strchr(" \t\r\n", s[n - 1]))
		n--;
	return n && s[n - 1] == ';';
}

/* In a stream followed by more commands: the error, then the next command. */
static bool invalid_in_stream_ok(const struct cmd_invalid_case *ic)
{
	char *text;
	struct cmd_reader *r;
	struct cmd_error err;
	struct cmd c;
	FILE *in;
	bool ok;

	assert_true(asprintf(&text, "%s\nstats ;\n", ic->input) > 0);
	in = fmemopen(text, strlen(text), "r");
	r = cmd_reader_new(in, "<stream>");
	assert_non_null(r);
	ok = error_ok(ic, cmd_next(r, &c, &err), &err, "stream");
	assert_true(all_zero(&c, sizeof(c)));
	ok = ok && cmd_next(r, &c, &err) == 1 && c.kind == CMD_STATS &&
	     cmd_next(r, &c, &err) == 0;
	if (!ok)
		print_error("stream: %.200s: no recovery\n", ic->input);
	cmd_reader_free(r);
	fclose(in);
	free(text);
	return ok;
}

static void test_invalid(void **state)
{
	unsigned failed = 0;

	(void)state;
	assert_true(CMD_INVALID_CASES_N >= 110);
	for (size_t i = 0; i < CMD_INVALID_CASES_N; i++) {
		const struct cmd_invalid_case *ic = &cmd_invalid_cases[i];
		struct cmd_error err;
		struct cmd c;

		if (!error_ok(ic, cmd_parse_string(ic->input, &c, &err), &err, "string"))
			failed++;
		else if (ends_with_semicolon(ic->input) && !invalid_in_stream_ok(ic))
			failed++;
	}
	if (failed)
		fail_msg("%u of %zu invalid cases failed", failed, CMD_INVALID_CASES_N);
}

static void test_error_print(void **state)
{
	struct cmd_error err;
	struct cmd c;
	char *buf;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_int_equal(cmd_parse_string("\n" CIC_ADD "aes-gcm-96 " K20 " ;", &c, &err), -1);
	cmd_error_print(f, "<stdin>", &err);
	cmd_error_set(&err, (struct cmd_loc){ 7, 9 }, "unknown thing '%s'", "x");
	cmd_error_print(f, NULL, &err);
	fclose(f);
	assert_string_equal(buf, "<stdin>:2:42: error: unknown algorithm 'aes-gcm-96'\n"
				 "<input>:7:9: error: unknown thing 'x'\n");
	free(buf);
}

/* ---- streams: recovery, odd bytes, long input, live input ------------------------------- */

struct step {
	int ret;
	enum cmd_kind kind;	/* ret 1 */
	unsigned line, col;	/* ret -1 */
};

static void run_steps(const char *text, size_t len, const struct step *steps, size_t n)
{
	FILE *in = fmemopen((void *)text, len, "r");
	struct cmd_reader *r = cmd_reader_new(in, NULL);
	struct cmd_error err;
	struct cmd c;

	assert_non_null(r);
	assert_string_equal(cmd_reader_source(r), "<stdin>");
	for (size_t i = 0; i < n; i++) {
		int ret = cmd_next(r, &c, &err);

		if (ret != steps[i].ret || (ret == 1 && c.kind != steps[i].kind) ||
		    (ret == -1 && (err.loc.line != steps[i].line || err.loc.col != steps[i].col)))
			fail_msg("step %zu: got %d kind %d %u:%u %s", i, ret, c.kind,
				 err.loc.line, err.loc.col, err.msg);
	}
	cmd_reader_free(r);
	fclose(in);
}

static void test_recovery(void **state)
{
	static const char text[] =
		"flush ;\n"
		CIC_ADD "aes-gcm-16 " K20 " tfc:1 tfc:2 ;\n"
		"spdadd 10.0.0.0/24 10.0.1.0/24 any ipsec " POL " ;\n"
		"bogus\n more words ; # and a comment\n"
		";\n"
		"dump ; spddump ; delete 10.0.0.1 10.0.0.2 esp 0x10 ; spigrp ;\n"
		CIC_ADD "aes-gcm-96 " K20 " ;  stats ;\n"
		"spddelete ; delete 10.0.0.1 10.0.0.2 esp 0x1000";
	static const struct step steps[] = {
		{ 1, CMD_FLUSH }, { -1, 0, 2, 102 }, { 1, CMD_SPDADD }, { -1, 0, 4, 1 },
		{ -1, 0, 6, 1 }, { 1, CMD_DUMP }, { 1, CMD_SPDDUMP }, { -1, 0, 7, 47 },
		{ 1, CMD_SPIGRP }, { -1, 0, 8, 42 }, { 1, CMD_STATS }, { 1, CMD_SPDDELETE },
		{ -1, 0, 9, 48 }, { 0 }, { 0 },
	};

	(void)state;
	run_steps(text, sizeof(text) - 1, steps, sizeof(steps) / sizeof(steps[0]));
}

/* NUL and other bytes a C string cannot hold: refused, quoted as \xNN, then recovery. */
static void test_odd_bytes(void **state)
{
	static const char text[] = "fl\0ush ;\nflush ;\ndelete 10.0.0.1\0 10.0.0.2 esp 0x1000 ;\n"
				   "\xff\xfe ;\nstats\0;\n\0";
	static const struct step steps[] = {
		{ -1, 0, 1, 1 }, { 1, CMD_FLUSH }, { -1, 0, 3, 8 }, { -1, 0, 4, 1 },
		{ -1, 0, 5, 1 }, { -1, 0, 6, 1 }, { 0 },
	};
	struct cmd_error err;
	struct cmd c;
	FILE *in = fmemopen((void *)text, sizeof(text) - 1, "r");
	struct cmd_reader *r = cmd_reader_new(in, "x");

	(void)state;
	run_steps(text, sizeof(text) - 1, steps, sizeof(steps) / sizeof(steps[0]));
	assert_int_equal(cmd_next(r, &c, &err), -1);
	assert_string_equal(err.msg, "unknown command 'fl\\x00ush'");
	assert_int_equal(cmd_next(r, &c, &err), 1);
	assert_int_equal(cmd_next(r, &c, &err), -1);
	assert_string_equal(err.msg, "invalid SRC address '10.0.0.1\\x00'");
	assert_int_equal(cmd_next(r, &c, &err), -1);
	assert_string_equal(err.msg, "unknown command '\\xff\\xfe'");
	cmd_reader_free(r);
	fclose(in);
}

/* The error for line `line`, longer than the limit: at the first byte past it. */
static void expect_overlong(struct cmd_reader *r, unsigned line)
{
	struct cmd_error err;
	struct cmd c;
	char want[128];

	snprintf(want, sizeof(want), "line %u is longer than %u bytes: refused with every "
		 "command on it", line, CMD_LINE_MAX);
	assert_int_equal(cmd_next(r, &c, &err), -1);
	if (err.loc.line != line || err.loc.col != CMD_LINE_MAX + 1 || strcmp(err.msg, want))
		fail_msg("got %u:%u %s\n  expected %u:%u %s", err.loc.line, err.loc.col,
			 err.msg, line, CMD_LINE_MAX + 1, want);
	assert_true(all_zero(&c, sizeof(c)));
}

static void expect_kind(struct cmd_reader *r, enum cmd_kind kind)
{
	struct cmd_error err;
	struct cmd c;

	assert_int_equal(cmd_next(r, &c, &err), 1);
	assert_int_equal(c.kind, kind);
}

/* Long input. Within the line limit (CMD_LINE_MAX bytes, its line feed not counted): a
 * 4000-byte token is quoted cut, a 4091-byte line and a line of exactly the limit are
 * commands. Beyond it: a line is refused whole, once, with every command on it - a 1 MiB
 * token, a 1 MiB line, a line one byte over - and the reader goes on with the next line
 * (or, if the refused line held no ';', after the ';' that ends its command). Nothing
 * overflows. */
static void test_long_input(void **state)
{
	size_t big = 1 << 20;
	char *text = malloc(3 * big + 4 * CMD_LINE_MAX);
	struct cmd_error err;
	struct cmd c;
	FILE *in;
	struct cmd_reader *r;
	size_t n = 0;

	(void)state;
	memset(text, 'z', 4000);				/* 1 */
	n = 4000;
	n += (size_t)sprintf(text + n, " ;\nspddelete");	/* 2 */
	for (size_t i = 0; i < 2040; i++, n += 2)
		memcpy(text + n, " x", 2);
	n += (size_t)sprintf(text + n, " ;\n");
	memset(text + n, 'z', big);				/* 3 */
	n += big;
	n += (size_t)sprintf(text + n, " ;\nspddelete");	/* 4 */
	for (size_t i = 0; i < big / 2; i++, n += 2)
		memcpy(text + n, " x", 2);
	n += (size_t)sprintf(text + n, " ;\nstats ;\nflush");	/* 5, 6 */
	memset(text + n, ' ', CMD_LINE_MAX - 6);
	n += CMD_LINE_MAX - 6;
	n += (size_t)sprintf(text + n, ";\nflush");		/* 7: one byte more */
	memset(text + n, ' ', CMD_LINE_MAX - 5);
	n += CMD_LINE_MAX - 5;
	n += (size_t)sprintf(text + n, ";\ndump");		/* 8: no ';' on it */
	memset(text + n, ' ', 2 * CMD_LINE_MAX);
	n += 2 * CMD_LINE_MAX;
	n += (size_t)sprintf(text + n, "\n ; spigrp ;\nflush");	/* 9, 10 */
	in = fmemopen(text, n, "r");
	r = cmd_reader_new(in, "<big>");
	assert_int_equal(cmd_next(r, &c, &err), -1);
	assert_int_equal(err.loc.line, 1);
	assert_int_equal(err.loc.col, 1);
	assert_true(strstr(err.msg, "unknown command 'zzzz"));
	assert_true(strstr(err.msg, "...'"));
	assert_true(strlen(err.msg) < 100);
	expect_kind(r, CMD_SPDDELETE);
	expect_overlong(r, 3);
	expect_overlong(r, 4);
	expect_kind(r, CMD_STATS);
	expect_kind(r, CMD_FLUSH);
	expect_overlong(r, 7);
	expect_overlong(r, 8);
	expect_kind(r, CMD_SPIGRP);
	assert_int_equal(cmd_next(r, &c, &err), -1);
	assert_int_equal(err.loc.line, 10);
	assert_int_equal(err.loc.col, 6);
	assert_string_equal(err.msg, "missing ';' at end of input");
	assert_int_equal(cmd_next(r, &c, &err), 0);
	cmd_reader_free(r);
	fclose(in);
	free(text);
}

static void put(int fd, const char *s)
{
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

static void expect_next(struct cmd_reader *r, int ret, enum cmd_kind kind)
{
	struct cmd_error err;
	struct cmd c;

	assert_int_equal(cmd_next(r, &c, &err), ret);
	if (ret == 1)
		assert_int_equal(c.kind, kind);
}

/* A pipe whose writer stays open: each command comes out once its ';' line is written; a
 * command that blocked for more input would hang, and the alarm would kill the test. */
static void test_live_pipe(void **state)
{
	struct cmd_reader *r;
	int fds[2];
	FILE *in;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	in = fdopen(fds[0], "r");
	r = cmd_reader_new(in, "<pipe>");
	assert_non_null(r);
	alarm(20);
	put(fds[1], "flush ;\r\n" CIC_ADD "aes-gcm-16");
	expect_next(r, 1, CMD_FLUSH);
	put(fds[1], " " K20 "\r\n  tfc:100\r\n ;\r\nbogus 1 2\r\n");
	expect_next(r, 1, CMD_ADD);
	expect_next(r, -1, 0);	/* at once, before the rest of the bad command arrives */
	put(fds[1], "3 ;\r\nspddump ;\r\n");
	expect_next(r, 1, CMD_SPDDUMP);
	put(fds[1], "dump ; stats ;\n");
	expect_next(r, 1, CMD_DUMP);
	expect_next(r, 1, CMD_STATS);
	close(fds[1]);
	expect_next(r, 0, 0);
	alarm(0);
	cmd_reader_free(r);
	fclose(in);
}

/* A read error is reported once, where the input stopped, then the input has ended. */
static void test_read_error(void **state)
{
	FILE *in = fopen("/", "r");	/* opens; every read fails with EISDIR */
	struct cmd_reader *r = cmd_reader_new(in, "/");
	struct cmd_error err;
	struct cmd c;

	(void)state;
	assert_non_null(r);
	assert_int_equal(cmd_next(r, &c, &err), -1);
	assert_int_equal(err.loc.line, 1);
	assert_int_equal(err.loc.col, 1);
	assert_string_equal(err.msg, "read error: Is a directory");
	assert_int_equal(cmd_next(r, &c, &err), 0);
	assert_int_equal(cmd_next(r, &c, &err), 0);
	cmd_reader_free(r);
	fclose(in);
}

/* ---- cmd_parse_string, the reader's edges ----------------------------------------------- */

static void test_parse_string(void **state)
{
	struct cmd_error err;
	struct cmd c;

	(void)state;
	assert_int_equal(cmd_parse_string("", &c, &err), 0);
	assert_int_equal(cmd_parse_string(" \r\n# nothing\n\n", &c, &err), 0);
	assert_int_equal(cmd_parse_string("flush ; # done\n", &c, &err), 1);
	assert_int_equal(c.kind, CMD_FLUSH);
	assert_int_equal(cmd_parse_string("flush ; dump ;", &c, &err), -1);
	assert_int_equal(err.loc.line, 1);
	assert_int_equal(err.loc.col, 9);
	assert_string_equal(err.msg, "only one command expected, found 'dump'");
	assert_true(all_zero(&c, sizeof(c)));
	assert_int_equal(cmd_parse_string(AES20 " ;", &c, &err), 1);
	assert_int_equal(c.add.key_len, 20);
	for (unsigned i = 0; i < 20; i++)
		assert_int_equal(c.add.key[i], i);
	cmd_reader_free(NULL);
	assert_null(cmd_reader_new(NULL, "x"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_valid_stream),
		cmocka_unit_test(test_locations),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_error_print),
		cmocka_unit_test(test_recovery),
		cmocka_unit_test(test_odd_bytes),
		cmocka_unit_test(test_long_input),
		cmocka_unit_test(test_live_pipe),
		cmocka_unit_test(test_read_error),
		cmocka_unit_test(test_parse_string),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
