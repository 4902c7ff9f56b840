/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * cmd_invalid_cases.h - commands the parser must refuse, each with the exact LINE:COL of
 * the error and a substring of its message. Used by test_cmd_parse.c; the executor's tests
 * may feed them too, to check that a refused command changes nothing.
 *
 * Each input holds one command (possibly over several lines, with comments). Inputs ending
 * in ';' are complete: a reader must refuse them and then read whatever follows normally.
 * CIC_AT(prefix) is the column just after prefix, on prefix's last line if it spans lines.
 */
#ifndef ESPER_CMD_INVALID_CASES_H
#define ESPER_CMD_INVALID_CASES_H

struct cmd_invalid_case {
	const char *input;
	unsigned line, col;
	const char *msg;	/* a substring of the message */
};

#define CIC_AT(prefix)	((unsigned)sizeof(prefix))

/* Keying material: bytes 00 01 02 ... of each length (CIC_H<n>: n bytes in hex). */
#define CIC_H16	"000102030405060708090a0b0c0d0e0f"
#define CIC_H20	CIC_H16 "10111213"
#define CIC_H32	CIC_H16 "101112131415161718191a1b1c1d1e1f"
#define CIC_H36	CIC_H32 "20212223"
#define CIC_H44	CIC_H36 "2425262728292a2b"
#define CIC_K20	"0x" CIC_H20
#define CIC_K36	"0x" CIC_H36
#define CIC_K44	"0x" CIC_H44
#define CIC_H128	CIC_H32 CIC_H32 CIC_H32 CIC_H32
#define CIC_H512	CIC_H128 CIC_H128 CIC_H128 CIC_H128
#define CIC_X64	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
#define CIC_X48	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"

/* add up to the algorithm; with aes-gcm-16 (-esn) and a key, up to the options. */
#define CIC_ADD	"add 10.0.0.1 10.0.0.2 esp 0x1000 -u 1 -E "
#define CIC_AES	CIC_ADD "aes-gcm-16 " CIC_K20 " "
#define CIC_ESN	CIC_ADD "aes-gcm-16-esn " CIC_K20 " "
#define CIC_DEL	"delete 10.0.0.1 10.0.0.2 esp "
/* spdadd up to the protocol; with any and ipsec, up to the policy. */
#define CIC_SPD	"spdadd 10.0.0.0/24 10.0.1.0/24 "
#define CIC_SPP	CIC_SPD "any ipsec "
#define CIC_POL	"esp/transport//unique:1"

static const struct cmd_invalid_case cmd_invalid_cases[] __attribute__((unused)) = {
	/* command words, terminators */
	{ "bogus ;", 1, 1, "unknown command 'bogus'" },
	{ "FLUSH ;", 1, 1, "unknown command 'FLUSH'" },
	{ "fl\x01ush ;", 1, 1, "unknown command 'fl\\x01ush'" },
	{ "flush#comment ;", 1, 1, "unknown command 'flush#comment'" },
	{ CIC_X64 CIC_X64 CIC_X64 CIC_X64 " ;", 1, 1, "unknown command '" CIC_X48 "...'" },
	{ "\n\n   bogus\n;", 3, 4, "unknown command 'bogus'" },
	{ ";", 1, 1, "empty command: expected a command before ';'" },
	{ "  \t ;\r\n", 1, 5, "empty command" },
	{ "flush", 1, 6, "missing ';' at end of input" },
	{ "  # comment\n\tflush\n# more\n", 2, 7, "missing ';' at end of input" },
	{ "flush foo ;", 1, 7, "expected ';', found 'foo'" },
	{ "spdflush x;", 1, 10, "expected ';', found 'x'" },
	{ "dump extra ;", 1, 6, "expected ';', found 'extra'" },
	{ "spddump 1 ;", 1, 9, "expected ';', found '1'" },
	{ "spigrp all ;", 1, 8, "expected ';', found 'all'" },
	{ "stats -v ;", 1, 7, "expected ';' or 'json', found '-v'" },
	{ "spddelete 10.0.0.0/24 10.0.1.0/24 any -P out", 1, 45,
	  "missing ';' at end of input" },
	{ "spddelete", 1, 10, "missing ';' at end of input" },

	/* delete */
	{ "delete ;", 1, 8, "expected SRC address before ';'" },
	{ "delete 10.0.0.1 ;", 1, 17, "expected DST address before ';'" },
	{ "delete 10.0.0.1", 1, 16, "expected DST address, found end of input" },
	{ "delete foo 10.0.0.2 esp 0x1000 ;", 1, 8, "invalid SRC address 'foo'" },
	{ "delete 10.0.0.1 10.0.0.256 esp 0x1000 ;", 1, 17, "invalid DST address '10.0.0.256'" },
	{ "delete 10.0.0.1/32 10.0.0.2 esp 0x1000 ;", 1, 8, "invalid SRC address '10.0.0.1/32'" },
	{ "delete 10.0.0.1 fe80::1%eth0 esp 0x1000 ;", 1, 17, "invalid DST address" },
	{ "delete 10.0.0.1 10.0.0.2 ah 0x1000 ;", 1, 26, "expected 'esp' or 'esp-udp', found 'ah'" },
	{ "delete 10.0.0.1 10.0.0.2 ESP 0x1000 ;", 1, 26, "expected 'esp' or 'esp-udp', found 'ESP'" },
	{ CIC_DEL ";", 1, 30, "expected SPI before ';'" },
	{ CIC_DEL "1000 ;", 1, 30, "invalid SPI '1000': expected 0x and hexadecimal digits" },
	{ CIC_DEL "0x ;", 1, 30, "invalid SPI '0x'" },
	{ CIC_DEL "0x10g0 ;", 1, 30, "invalid SPI '0x10g0'" },
	{ CIC_DEL "-0x1000 ;", 1, 30, "invalid SPI '-0x1000'" },
	{ CIC_DEL "0xff ;", 1, 30, "SPI '0xff' is reserved (0x0-0xff, RFC 4303 2.1)" },
	{ CIC_DEL "0x0 ;", 1, 30, "SPI '0x0' is reserved" },
	{ CIC_DEL "0x1 ;", 1, 30, "SPI '0x1' is reserved" },
	{ CIC_DEL "0x100000000 ;", 1, 30, "SPI '0x100000000' is wider than 32 bits" },
	{ CIC_DEL "0x1000", 1, 36, "missing ';' at end of input" },
	{ CIC_DEL "0x1000 0x2000 ;", 1, 37, "expected ';', found '0x2000'" },

	/* ESP in UDP: ports, esp-udp; update */
	{ "add 10.0.0.1[4500] 10.0.0.2 esp 0x1000 -u 1 -E aes-gcm-16 " CIC_K20 " ;", 1, 5,
	  "a port is for esp-udp (ESP in UDP, RFC 3948) only" },
	{ "add 10.0.0.1 10.0.0.2[4500] esp 0x1000 -u 1 -E aes-gcm-16 " CIC_K20 " ;", 1, 14,
	  "a port is for esp-udp (ESP in UDP, RFC 3948) only" },
	{ "add 10.0.0.1[0] 10.0.0.2 esp-udp 0x1000 ;", 1, 13,
	  "invalid port '[0]': expected [1..65535]" },
	{ "add 10.0.0.1[65536] 10.0.0.2 esp-udp 0x1000 ;", 1, 13, "invalid port '[65536]'" },
	{ "add 10.0.0.1[4500 10.0.0.2 esp-udp 0x1000 ;", 1, 13, "invalid port '[4500'" },
	{ "add 10.0.0.1[] 10.0.0.2 esp-udp 0x1000 ;", 1, 13, "invalid port '[]'" },
	{ "add 10.0.0.1[any] 10.0.0.2 esp-udp 0x1000 ;", 1, 13, "invalid port '[any]'" },
	{ "add 10.0.0.1[4500]x 10.0.0.2 esp-udp 0x1000 ;", 1, 13, "invalid port '[4500]x'" },
	{ "add 10.0.0.1/32[4500] 10.0.0.2 esp-udp 0x1000 ;", 1, 5,
	  "invalid SRC address '10.0.0.1/32'" },
	{ "add 10.0.0.1 10.0.0.2 esp-tcp 0x1000 ;", 1, 23,
	  "expected 'esp' or 'esp-udp', found 'esp-tcp'" },
	{ "update ;", 1, 8, "expected SRC address before ';'" },
	{ "update 10.0.0.1 10.0.0.2 esp ;", 1, 30, "expected SPI before ';'" },
	{ "update 10.0.0.1 10.0.0.2 esp 0x1000 -u 1 ;", 1, 37, "expected ';', found '-u'" },
	{ "update 10.0.0.1 2001:db8::2 esp-udp 0x1000 ;", 1, 17,
	  "address families differ: SRC is IPv4, DST '2001:db8::2' is IPv6" },
	{ "update 10.0.0.1[4500] 10.0.0.2 esp 0x1000 ;", 1, 8,
	  "a port is for esp-udp (ESP in UDP, RFC 3948) only" },

	/* add: addresses, SPI, UniqueID */
	{ "add", 1, 4, "expected SRC address, found end of input" },
	{ "add ;", 1, 5, "expected SRC address before ';'" },
	{ "add 2001:db8::g 2001:db8::1 esp 0x1000 -u 1 -E aes-gcm-16 " CIC_K20 " ;", 1, 5,
	  "invalid SRC address '2001:db8::g'" },
	{ "add 10.0.0.1 2001:db8::1 esp 0x1000 -u 1 -E aes-gcm-16 " CIC_K20 " ;", 1, 14,
	  "address families differ: SRC is IPv4, DST '2001:db8::1' is IPv6" },
	{ "add 2001:db8::1 10.0.0.2 esp 0x1000 -u 1 -E aes-gcm-16 " CIC_K20 " ;", 1, 17,
	  "address families differ: SRC is IPv6, DST '10.0.0.2' is IPv4" },
	{ "add 10.0.0.1 10.0.0.2 esp ;", 1, 27, "expected SPI before ';'" },
	{ "add 10.0.0.1 10.0.0.2 esp 0x1 -u 1 -E aes-gcm-16 " CIC_K20 " ;", 1, 27,
	  "SPI '0x1' is reserved" },
	{ "add 10.0.0.1 10.0.0.2 esp 0x1000 -E aes-gcm-16 " CIC_K20 " ;", 1, 34,
	  "expected '-u', found '-E'" },
	{ "add 10.0.0.1 10.0.0.2 esp 0x1000 -u ;", 1, 37, "expected UniqueID before ';'" },
	{ "add 10.0.0.1 10.0.0.2 esp 0x1000 -u 0 -E aes-gcm-16 " CIC_K20 " ;", 1, 37,
	  "invalid UniqueID '0': expected decimal 1..4294967295" },
	{ "add 10.0.0.1 10.0.0.2 esp 0x1000 -u 4294967296 -E aes-gcm-16 " CIC_K20 " ;", 1, 37,
	  "invalid UniqueID '4294967296'" },
	{ "add 10.0.0.1 10.0.0.2 esp 0x1000 -u 0x10 -E aes-gcm-16 " CIC_K20 " ;", 1, 37,
	  "invalid UniqueID '0x10'" },
	{ "add 10.0.0.1 10.0.0.2 esp 0x1000 -u -1 -E aes-gcm-16 " CIC_K20 " ;", 1, 37,
	  "invalid UniqueID '-1'" },
	{ "add 10.0.0.1 10.0.0.2 esp 0x1000 -u +1 -E aes-gcm-16 " CIC_K20 " ;", 1, 37,
	  "invalid UniqueID '+1'" },
	{ "add 10.0.0.1 10.0.0.2 esp 0x1000 -u 1 aes-gcm-16 " CIC_K20 " ;", 1, 39,
	  "expected '-E', found 'aes-gcm-16'" },

	/* add: algorithm and key (never quoted) */
	{ CIC_ADD "aes-gcm-96 " CIC_K20 " ;", 1, 42, "unknown algorithm 'aes-gcm-96'" },
	{ CIC_ADD "AES-GCM-16 " CIC_K20 " ;", 1, 42, "unknown algorithm 'AES-GCM-16'" },
	{ CIC_ADD "gost-mac-esn-x " CIC_K36 " ;", 1, 42, "unknown algorithm 'gost-mac-esn-x'" },
	{ CIC_ADD CIC_K20 " ;", 1, 42, "unknown algorithm '<42 characters, not shown>'" },
	{ CIC_ADD CIC_H20 " ;", 1, 42, "unknown algorithm '<40 hex digits>'" },
	{ CIC_ADD "aes-gcm-16" CIC_K20 " ;", 1, 42,
	  "unknown algorithm 'aes-gcm-160x<40 hex digits>'" },
	{ CIC_ADD "gost 0x" CIC_H20 "z" CIC_H20 " ;", 1, CIC_AT(CIC_ADD "gost 0x" CIC_H20),
	  "invalid key: not a hexadecimal digit" },
	{ CIC_ADD "gost-mac " CIC_K36 CIC_K36 " ;", 1,
	  CIC_AT(CIC_ADD "gost-mac 0x" CIC_H36 "0"), "invalid key: not a hexadecimal digit" },
	{ CIC_ADD ";", 1, 42, "expected algorithm before ';'" },
	{ CIC_ADD "aes-gcm-16 ;", 1, 53, "expected key before ';'" },
	{ CIC_ADD "aes-gcm-16", 1, 52, "expected key, found end of input" },
	{ CIC_ADD "aes-gcm-16 " CIC_H20 " ;", 1, 53,
	  "invalid key: expected 0x and hexadecimal digits" },
	{ CIC_ADD "aes-gcm-16 0x ;", 1, 53, "invalid key: no hexadecimal digits after 0x" },
	{ CIC_ADD "aes-gcm-16 0x" CIC_H16 "1011121 ;", 1, 53,
	  "invalid key: 39 hexadecimal digits, expected whole bytes" },
	{ CIC_ADD "aes-gcm-16 0x0011zz" CIC_H16 " ;", 1, CIC_AT(CIC_ADD "aes-gcm-16 0x0011"),
	  "invalid key: not a hexadecimal digit" },
	{ CIC_ADD "aes-gcm-16 0x" CIC_H16 " ;", 1, 53,
	  "key is 16 bytes, aes-gcm-16 takes 20 (AES-128-GCM) or 36 (AES-256-GCM)" },
	{ CIC_ADD "aes-gcm-16 " CIC_K44 " ;", 1, 53, "key is 44 bytes, aes-gcm-16 takes 20" },
	{ CIC_ADD "aes-gcm-16-esn 0x" CIC_H32 " ;", 1, 57,
	  "key is 32 bytes, aes-gcm-16-esn takes 20 (AES-128-GCM) or 36 (AES-256-GCM)" },
	{ CIC_ADD "gost " CIC_K20 " ;", 1, 47,
	  "key is 20 bytes, gost takes 36 (Magma-MGM) or 44 (Kuznyechik-MGM)" },
	{ CIC_ADD "gost-esn 0x" CIC_H32 " ;", 1, 51, "key is 32 bytes, gost-esn takes 36" },
	{ CIC_ADD "gost-mac 0x" CIC_H36 "01020304 ;", 1, 51,
	  "key is 40 bytes, gost-mac takes 36 (Magma-MGM-MAC) or 44 (Kuznyechik-MGM-MAC)" },
	{ CIC_ADD "gost-mac-esn 0x" CIC_H44 "0102030405060708 ;", 1, 55,
	  "key is 52 bytes, gost-mac-esn takes 36 (Magma-MGM-MAC) or 44" },
	{ CIC_ADD "aes-gcm-16 0x" CIC_H512 CIC_H512 " ;", 1, 53, "key is 1024 bytes" },
	{ CIC_ADD "aes-gcm-16 " CIC_K20, 1, 95, "missing ';' at end of input" },

	/* add: options */
	{ CIC_AES "tfc:0 ;", 1, CIC_AT(CIC_AES "tfc:"),
	  "invalid tfc length '0': expected decimal 1..65478" },
	{ CIC_AES "tfc:65479 ;", 1, CIC_AT(CIC_AES "tfc:"), "invalid tfc length '65479'" },
	{ CIC_AES "tfc:abc ;", 1, CIC_AT(CIC_AES "tfc:"), "invalid tfc length 'abc'" },
	{ CIC_AES "tfc: ;", 1, CIC_AT(CIC_AES "tfc:"), "invalid tfc length ''" },
	{ CIC_AES "tfc:-1 ;", 1, CIC_AT(CIC_AES "tfc:"), "invalid tfc length '-1'" },
	{ CIC_AES "tfc:100 tfc:200 ;", 1, CIC_AT(CIC_AES "tfc:100 "),
	  "option 'tfc' given twice (first at 1:96)" },
	{ CIC_AES "seq:0 ;", 1, CIC_AT(CIC_AES "seq:"),
	  "invalid sequence number '0': must be at least 1" },
	{ CIC_AES "seq:0x0 ;", 1, CIC_AT(CIC_AES "seq:"), "invalid sequence number '0x0'" },
	{ CIC_AES "seq:100000000 ;", 1, CIC_AT(CIC_AES "seq:"),
	  "sequence number '100000000' is wider than the sequence space (32 bits without ESN)" },
	{ CIC_AES "seq:0x100000000 ;", 1, CIC_AT(CIC_AES "seq:"),
	  "sequence number '0x100000000' is wider than the sequence space" },
	{ CIC_ESN "seq:10000000000000000 ;", 1, CIC_AT(CIC_ESN "seq:"),
	  "is wider than the sequence space (64 bits with ESN)" },
	{ CIC_AES "seq:xyz ;", 1, CIC_AT(CIC_AES "seq:"),
	  "invalid sequence number 'xyz': expected hexadecimal" },
	{ CIC_AES "seq:0x ;", 1, CIC_AT(CIC_AES "seq:"), "invalid sequence number '0x'" },
	{ CIC_AES "seq:1 seq:2 ;", 1, CIC_AT(CIC_AES "seq:1 "), "option 'seq' given twice" },
	{ CIC_AES "replay:16 ;", 1, CIC_AT(CIC_AES "replay:"),
	  "invalid replay window '16': expected 0 (off) or 32..65536" },
	{ CIC_AES "replay:31 ;", 1, CIC_AT(CIC_AES "replay:"), "invalid replay window '31'" },
	{ CIC_AES "replay:65537 ;", 1, CIC_AT(CIC_AES "replay:"),
	  "invalid replay window '65537'" },
	{ CIC_AES "replay:x ;", 1, CIC_AT(CIC_AES "replay:"), "invalid replay window 'x'" },
	{ CIC_ESN "replay:0 ;", 1, CIC_AT(CIC_ESN "replay:"),
	  "replay:0 (anti-replay off) is not allowed with ESN" },
	{ CIC_AES "replay:64 tfc:1 replay:64 ;", 1, CIC_AT(CIC_AES "replay:64 tfc:1 "),
	  "option 'replay' given twice (first at 1:96)" },
	{ CIC_AES "dir:up ;", 1, CIC_AT(CIC_AES "dir:"), "invalid direction 'up': expected in or out" },
	{ CIC_AES "dir:IN ;", 1, CIC_AT(CIC_AES "dir:"), "invalid direction 'IN'" },
	{ CIC_AES "dir:in dir:out ;", 1, CIC_AT(CIC_AES "dir:in "), "option 'dir' given twice" },
	{ CIC_AES "foo:1 ;", 1, 96,
	  "unknown option 'foo:1' (expected tfc:LEN, seq:SEQ, replay:N or dir:in|out)" },
	{ CIC_AES "TFC:1 ;", 1, 96, "unknown option 'TFC:1'" },
	{ CIC_AES "tfc ;", 1, 96, "invalid option 'tfc': expected KEY:VALUE" },
	{ CIC_AES "-m tunnel ;", 1, 96, "invalid option '-m'" },
	{ CIC_AES "tfc:100", 1, 103, "missing ';' at end of input" },
	{ "add 10.0.0.1 10.0.0.2\n  esp 0x1000 -u 1\n  -E aes-gcm-96 " CIC_K20 " ;", 3, 6,
	  "unknown algorithm 'aes-gcm-96'" },
	{ "# SAs\r\n" CIC_AES "\r\n  seq:0 ;\r\n", 3, CIC_AT("  seq:"),
	  "invalid sequence number '0'" },

	/* spdadd: selectors */
	{ "spdadd ;", 1, 8, "expected SRC selector before ';'" },
	{ "spdadd 10.0.0.0/33 10.0.1.0/24 any ipsec " CIC_POL " ;", 1, 17,
	  "invalid prefix length '33': expected 0..32 for IPv4" },
	{ "spdadd 2001:db8::/129 2001:db8:1::/48 any ipsec " CIC_POL " ;", 1, 19,
	  "invalid prefix length '129': expected 0..128 for IPv6" },
	{ "spdadd 10.0.0.0/ 10.0.1.0/24 any ipsec " CIC_POL " ;", 1, 17,
	  "invalid prefix length ''" },
	{ "spdadd 10.0.0.0/abc 10.0.1.0/24 any ipsec " CIC_POL " ;", 1, 17,
	  "invalid prefix length 'abc'" },
	{ "spdadd 10.0.0.0/24/8 10.0.1.0/24 any ipsec " CIC_POL " ;", 1, 17,
	  "invalid prefix length '24/8'" },
	{ "spdadd 10.0.0.1/24 10.0.1.0/24 any ipsec " CIC_POL " ;", 1, 8,
	  "'10.0.0.1/24' has host bits set beyond /24: the network is 10.0.0.0/24" },
	{ "spdadd 10.0.0.0/0 10.0.1.0/24 any ipsec " CIC_POL " ;", 1, 8,
	  "the network is 0.0.0.0/0" },
	{ "spdadd 2001:db8::/64 2001:db8:1::1/48 any ipsec " CIC_POL " ;", 1, 22,
	  "'2001:db8:1::1/48' has host bits set beyond /48: the network is 2001:db8:1::/48" },
	{ "spdadd 10.0.0/24 10.0.1.0/24 any ipsec " CIC_POL " ;", 1, 8,
	  "invalid address '10.0.0' in SRC selector" },
	{ "spdadd /24 10.0.1.0/24 any ipsec " CIC_POL " ;", 1, 8,
	  "invalid address '' in SRC selector" },
	{ "spdadd 10.0.0.0/24 host any ipsec " CIC_POL " ;", 1, 20,
	  "invalid address 'host' in DST selector" },
	{ "spdadd 10.0.0.0/24 2001:db8::/32 any ipsec " CIC_POL " ;", 1, 20,
	  "selector families differ: SRC is IPv4, DST '2001:db8::/32' is IPv6" },
	{ CIC_SPD ";", 1, 32, "expected protocol before ';'" },
	{ "spdadd 10.0.0.0/24[80] 10.0.1.0/24 any ipsec " CIC_POL " ;", 1, 19,
	  "port [80] needs protocol tcp or udp, not 'any'" },
	{ "spdadd 10.0.0.0/24 10.0.1.0/24[53] icmp ipsec " CIC_POL " ;", 1, 31,
	  "port [53] needs protocol tcp or udp, not 'icmp'" },
	{ "spdadd 10.0.0.0/24[65536] 10.0.1.0/24 tcp ipsec " CIC_POL " ;", 1, 19,
	  "invalid port '[65536]': expected [1..65535] or [any]" },
	{ "spdadd 10.0.0.0/24[] 10.0.1.0/24 tcp ipsec " CIC_POL " ;", 1, 19,
	  "invalid port '[]'" },
	{ "spdadd 10.0.0.0/24[80 10.0.1.0/24 tcp ipsec " CIC_POL " ;", 1, 19,
	  "invalid port '[80'" },
	{ "spdadd 10.0.0.0/24[any 10.0.1.0/24 tcp ipsec " CIC_POL " ;", 1, 19,
	  "invalid port '[any'" },
	{ "spdadd 10.0.0.0/24[http] 10.0.1.0/24 tcp ipsec " CIC_POL " ;", 1, 19,
	  "invalid port '[http]'" },
	{ "spdadd 10.0.0.0/24[80]x 10.0.1.0/24 tcp ipsec " CIC_POL " ;", 1, 19,
	  "invalid port '[80]x'" },
	{ "spdadd 10.0.0.1[80]/32 10.0.1.0/24 tcp ipsec " CIC_POL " ;", 1, 16,
	  "invalid port '[80]/32'" },
	{ "spdupdate 10.1.0.0/8 10.0.1.0/24 any ipsec " CIC_POL " ;", 1, 11,
	  "'10.1.0.0/8' has host bits set beyond /8: the network is 10.0.0.0/8" },

	/* spdadd: protocol, direction */
	{ CIC_SPD "gre ipsec " CIC_POL " ;", 1, 32,
	  "unknown protocol 'gre' (expected any, tcp, udp, icmp or icmp6)" },
	{ CIC_SPD "TCP ipsec " CIC_POL " ;", 1, 32, "unknown protocol 'TCP'" },
	{ CIC_SPD "6 ipsec " CIC_POL " ;", 1, 32, "unknown protocol '6'" },
	{ "spdadd 2001:db8::/64 2001:db8:1::/64 icmp ipsec " CIC_POL " ;", 1, 38,
	  "protocol 'icmp' needs IPv4 selectors, these are IPv6" },
	{ CIC_SPD "icmp6 ipsec " CIC_POL " ;", 1, 32,
	  "protocol 'icmp6' needs IPv6 selectors, these are IPv4" },
	{ CIC_SPD "any ;", 1, 36, "expected '-P' or an action before ';'" },
	{ CIC_SPD "any " CIC_POL " ;", 1, 36,
	  "expected '-P' or an action (ipsec, discard or none), found 'esp/transport//unique:1'" },
	{ CIC_SPD "any -p in ipsec " CIC_POL " ;", 1, 36,
	  "expected '-P' or an action (ipsec, discard or none), found '-p'" },
	{ CIC_SPD "any -P fwd ipsec " CIC_POL " ;", 1, 39,
	  "invalid direction 'fwd': expected in or out" },
	{ CIC_SPD "any -P OUT ipsec " CIC_POL " ;", 1, 39, "invalid direction 'OUT'" },
	{ CIC_SPD "any -P ;", 1, 39, "expected direction before ';'" },
	{ CIC_SPD "any -P out bypass ;", 1, 43,
	  "expected '-P' or an action (ipsec, discard or none), found 'bypass'" },
	{ CIC_SPD "any -P in " CIC_POL " ;", 1, 42,
	  "expected '-P' or an action (ipsec, discard or none), found 'esp/" },
	{ CIC_SPD "any -P out discard " CIC_POL " ;", 1, 51, "expected ';', found 'esp/" },
	{ CIC_SPD "any -P in none ipsec ;", 1, 47, "expected ';', found 'ipsec'" },

	/* spdadd: the policy */
	{ CIC_SPP ";", 1, 42, "expected policy before ';'" },
	{ CIC_SPP "ah/transport//unique:1 ;", 1, 42,
	  "unsupported protocol 'ah' in policy: expected esp" },
	{ CIC_SPP "esp ;", 1, 42, "invalid policy 'esp': expected esp/MODE/TUNNEL/unique:ID" },
	{ CIC_SPP "esp/transport/unique:1 ;", 1, 42, "invalid policy 'esp/transport/unique:1'" },
	{ CIC_SPP "esp/beet//unique:1 ;", 1, 46,
	  "unknown mode 'beet': expected transport or tunnel" },
	{ CIC_SPP "esp///unique:1 ;", 1, 46, "unknown mode ''" },
	{ CIC_SPP "esp/transport/10.0.0.1-10.0.0.2/unique:1 ;", 1, 56,
	  "transport mode takes no tunnel endpoints, found '10.0.0.1-10.0.0.2'" },
	{ CIC_SPP "esp/tunnel//unique:1 ;", 1, 53, "tunnel mode needs endpoints TSRC-TDST" },
	{ CIC_SPP "esp/tunnel/10.0.0.1/unique:1 ;", 1, 53,
	  "invalid tunnel '10.0.0.1': expected TSRC-TDST" },
	{ CIC_SPP "esp/tunnel/10.0.0-10.0.0.2/unique:1 ;", 1, 53,
	  "invalid tunnel source address '10.0.0'" },
	{ CIC_SPP "esp/tunnel/-10.0.0.2/unique:1 ;", 1, 53, "invalid tunnel source address ''" },
	{ CIC_SPP "esp/tunnel/10.0.0.1-10.0.0/unique:1 ;", 1, 62,
	  "invalid tunnel destination address '10.0.0'" },
	{ CIC_SPP "esp/tunnel/0.0.0.0-10.0.0.2/unique:1 ;", 1, 53,
	  "tunnel source '0.0.0.0' is the unspecified address" },
	{ CIC_SPP "esp/tunnel/2001:db8::1-::/unique:1 ;", 1, 65,
	  "tunnel destination '::' is the unspecified address" },
	{ CIC_SPP "esp/tunnel/10.0.0.1-2001:db8::2/unique:1 ;", 1, 62,
	  "tunnel endpoint families differ: TSRC is IPv4, TDST '2001:db8::2' is IPv6" },
	{ CIC_SPP "esp/tunnel/2001:db8::1-2001:db8::2-3/unique:1 ;", 1, 65,
	  "invalid tunnel destination address '2001:db8::2-3'" },
	{ CIC_SPP "esp/transport//require ;", 1, 57,
	  "unsupported level 'require': expected unique:ID or require:ID" },
	{ CIC_SPP "esp/transport//unique ;", 1, 57, "unsupported level 'unique'" },
	{ CIC_SPP "esp/transport//unique: ;", 1, 64, "invalid UniqueID ''" },
	{ CIC_SPP "esp/transport//unique:0 ;", 1, 64,
	  "invalid UniqueID '0': expected decimal 1..4294967295" },
	{ CIC_SPP "esp/transport//unique:4294967296 ;", 1, 64, "invalid UniqueID '4294967296'" },
	{ CIC_SPP "esp/transport//unique:1/x ;", 1, 64, "invalid UniqueID '1/x'" },
	{ CIC_SPP CIC_POL " ah/transport//unique:2 ;", 1, 66,
	  "expected ';', found 'ah/transport//unique:2'" },
	{ CIC_SPP CIC_POL, 1, 65, "missing ';' at end of input" },
	{ "spdadd 10.0.0.0/24\r\n  10.0.1.0/24\r\n  gre ipsec " CIC_POL " ;\r\n", 3, 3,
	  "unknown protocol 'gre'" },
	{ "spdadd 10.0.0.0/24 # source\n 10.0.1.0/24 # destination\n any -P in ipsec\n"
	  " esp/tunnel/192.0.2.1-192.0.2.300/unique:7\n ;\n", 4, CIC_AT(" esp/tunnel/192.0.2.1-"),
	  "invalid tunnel destination address '192.0.2.300'" },
};

#define CMD_INVALID_CASES_N (sizeof(cmd_invalid_cases) / sizeof(cmd_invalid_cases[0]))

#endif
