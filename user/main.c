// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * main.c - esper-xdp's command line, start-up and shutdown order; nothing else.
 *
 *   esper-xdp -i IFACE [-i IFACE ...] [-q QUEUES] [-m native|skb] [--tun NAME] [-f FILE]
 *   esper-xdp --pcap-in IN.pcap --pcap-out OUT.pcap [-f FILE]
 *   esper-xdp ctl [--socket PATH] [COMMAND...]
 *   esper-xdp --version
 *
 * Commands (the ESPER language) come from --init FILE first, then from -f FILE, else from
 * standard input; `ctl` sends them to the control socket of a running esper-xdp instead.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/cmd_exec.h"
#include "control/ctl_client.h"
#include "control/ctl_sock.h"
#include "control/events.h"
#include "control/metrics.h"
#include "control/session.h"
#include "crypto/crypto.h"
#include "live.h"
#include "lib/log.h"
#include "datapath/pcap_mode.h"
#include "lib/clock.h"
#include "lib/rcu.h"
#include "lib/ring.h"
#include "esper_version.h"	/* ESPER_VERSION, made by the Makefile (scripts/version.sh) */

struct opts {
	struct live_opts live;
	struct pcap_opts pcap;
	const char *cmd_file;
	const char *init_file;
	enum crypto_backend backend;
	enum gost_impl gost;
	bool ack;
	unsigned getspi_hold;	/* seconds; 0: the default */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: esper-xdp -i IFACE [-i IFACE ...] [-q QUEUES] [-m native|skb] [--tun NAME]\n"
		"                 [-f FILE] [options]\n"
		"       esper-xdp --pcap-in IN.pcap --pcap-out OUT.pcap [-f FILE] [options]\n"
		"       esper-xdp ctl [--socket PATH] [COMMAND...]   (a running esper-xdp's socket)\n"
		"\n"
		"  -i, --interface IFACE   attach the XDP classifier to IFACE (repeatable)\n"
		"  -q, --queues N          AF_XDP queues (and workers) per interface (default 1)\n"
		"  -m, --mode native|skb   XDP attach mode (default native)\n"
		"      --tun NAME          name of the host port TUN device (default esper0)\n"
		"      --cpus LIST         pin workers to these CPUs, e.g. 0,1\n"
		"  -f, --file FILE         read commands from FILE, not standard input\n"
		"      --init FILE         apply the commands of FILE first (live: before attaching),\n"
		"                          then read -f FILE or standard input\n"
		"      --pcap-in FILE      offline mode: process this capture...\n"
		"      --pcap-out FILE     ...into this one (no root, no NIC needed)\n"
		"      --crypto auto|ipsec-mb|openssl   AES-GCM backend (default auto)\n"
		"      --gost auto|engine|table|ct      GOST block ciphers (default auto: ct unless\n"
		"                          it is >25%% slower here; docs/crypto.md)\n"
		"      --unknown-spi pass|drop          ESP for no SA of ours (default pass)\n"
		"      --strict-inbound    an SA that no inbound policy names delivers nothing\n"
		"                          (RFC 4301 throughout; default: ESPER's rule, delivered)\n"
		"      --rpf strict|off    plaintext to encrypt must come from a source routed back\n"
		"                          through the interface it arrived on (default strict)\n"
		"      --mtu N             pcap mode: the path MTU (fragments, packet too big, TFC)\n"
		"      --fix-csum          complete L4 checksums of plaintext before encrypting\n"
		"      --fast-forward      decrypted packets that the kernel would route out of one of\n"
		"                          these interfaces leave from the worker by AF_XDP (they\n"
		"                          skip netfilter and tc of the host; see docs/live.md)\n"
		"      --host-gso on|off   GSO packets through the host port: decrypted runs of one\n"
		"                          flow merged, the host's segmented by us (default on)\n"
		"      --fwmark N          routing mark of esper-xdp's own ESP packets and lookups,\n"
		"                          so policy routing can keep them out of the host port\n"
		"      --ack               answer every command on stdout: ok, or error LINE:COL: ...\n"
		"      --getspi-hold S     seconds getspi holds an SPI for an add (default %u)\n"
		"      --ctl-socket PATH|none  the operator's control socket (default %s)\n"
		"      --ctl-allow-write   its clients may run every command (default: dump,\n"
		"                          spddump, spigrp and stats only)\n"
		"      --metrics-file PATH write the counters there for node_exporter's textfile\n"
		"                          collector (Prometheus text format)\n"
		"      --metrics-interval S  ...every S seconds (default %u)\n"
		"  -v, --verbose           more diagnostics (repeat for debug)\n"
		"  -V, --version           the version and the crypto backends available here\n"
		"  -h, --help\n", GETSPI_HOLD_DEFAULT, CTL_SOCK_DEFAULT, METRICS_INTERVAL_DEFAULT);
}

enum { OPT_TUN = 256, OPT_PCAP_IN, OPT_PCAP_OUT, OPT_CRYPTO, OPT_GOST, OPT_UNKNOWN_SPI,
       OPT_FIX_CSUM, OPT_CPUS, OPT_FWMARK, OPT_FAST_FORWARD, OPT_STRICT_INBOUND, OPT_RPF,
       OPT_MTU, OPT_INIT, OPT_ACK, OPT_GETSPI_HOLD, OPT_CTL_SOCKET, OPT_CTL_ALLOW_WRITE,
       OPT_METRICS_FILE, OPT_METRICS_INTERVAL, OPT_HOST_GSO };

static const struct option long_opts[] = {
	{ "interface", required_argument, NULL, 'i' },
	{ "queues", required_argument, NULL, 'q' },
	{ "mode", required_argument, NULL, 'm' },
	{ "file", required_argument, NULL, 'f' },
	{ "init", required_argument, NULL, OPT_INIT },
	{ "tun", required_argument, NULL, OPT_TUN },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "pcap-in", required_argument, NULL, OPT_PCAP_IN },
	{ "pcap-out", required_argument, NULL, OPT_PCAP_OUT },
	{ "crypto", required_argument, NULL, OPT_CRYPTO },
	{ "gost", required_argument, NULL, OPT_GOST },
	{ "unknown-spi", required_argument, NULL, OPT_UNKNOWN_SPI },
	{ "fix-csum", no_argument, NULL, OPT_FIX_CSUM },
	{ "fwmark", required_argument, NULL, OPT_FWMARK },
	{ "fast-forward", no_argument, NULL, OPT_FAST_FORWARD },
	{ "strict-inbound", no_argument, NULL, OPT_STRICT_INBOUND },
	{ "rpf", required_argument, NULL, OPT_RPF },
	{ "mtu", required_argument, NULL, OPT_MTU },
	{ "host-gso", required_argument, NULL, OPT_HOST_GSO },
	{ "ack", no_argument, NULL, OPT_ACK },
	{ "getspi-hold", required_argument, NULL, OPT_GETSPI_HOLD },
	{ "ctl-socket", required_argument, NULL, OPT_CTL_SOCKET },
	{ "ctl-allow-write", no_argument, NULL, OPT_CTL_ALLOW_WRITE },
	{ "metrics-file", required_argument, NULL, OPT_METRICS_FILE },
	{ "metrics-interval", required_argument, NULL, OPT_METRICS_INTERVAL },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* "esper-xdp VERSION", then what AES-GCM and GOST would run on here. */
static void print_version(void)
{
	if (crypto_init(CRYPTO_AUTO) < 0)
		fatalx("no crypto backend");
	printf("esper-xdp %s\n", ESPER_VERSION);
	printf("AES-GCM: %s%s\n", crypto_backend_name(),
	       strcmp(crypto_backend_name(), "OpenSSL EVP") ? ", OpenSSL EVP" : "");
	printf("GOST: %s\n", crypto_gost_available() ? crypto_gost_impl_name()
						     : "not available (no gost-engine)");
	crypto_fini();
}

static unsigned parse_uint(const char *s, const char *what, unsigned max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || v == 0 || v > max)
		fatalx("bad %s '%s' (1 to %u)", what, s, max);
	return (unsigned)v;
}

static int parse_choice(const char *s, const char *what, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(s, names[i]))
			return i;
	fatalx("bad %s '%s'", what, s);
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	static const char *const backends[] = { "auto", "ipsec-mb", "openssl" };
	static const char *const gost[] = { "auto", "engine", "table", "ct" };
	static const char *const modes[] = { "native", "skb" };
	static const char *const spi[] = { "pass", "drop" };
	static const char *const rpf[] = { "strict", "off" };
	static const char *const off_on[] = { "off", "on" };
	int c, verbose = 0;

	while ((c = getopt_long(argc, argv, "i:q:m:f:vVh", long_opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (o->live.n_ifaces == ESPER_MAX_IFACES)
				fatalx("at most %d interfaces", ESPER_MAX_IFACES);
			o->live.ifaces[o->live.n_ifaces++] = optarg;
			break;
		case 'q': o->live.queues = parse_uint(optarg, "queue count", 64); break;
		case 'm': o->live.skb_mode = parse_choice(optarg, "mode", modes, 2); break;
		case 'f': o->cmd_file = optarg; break;
		case OPT_INIT: o->init_file = optarg; break;
		case OPT_TUN: o->live.tun_name = optarg; break;
		case OPT_CPUS: o->live.cpus = optarg; break;
		case OPT_PCAP_IN: o->pcap.in = optarg; break;
		case OPT_PCAP_OUT: o->pcap.out = optarg; break;
		case OPT_CRYPTO: o->backend = parse_choice(optarg, "crypto backend", backends, 3); break;
		case OPT_GOST: o->gost = parse_choice(optarg, "--gost", gost, 4); break;
		case OPT_UNKNOWN_SPI:
			o->pcap.unknown_spi_drop = o->live.unknown_spi_drop =
				parse_choice(optarg, "--unknown-spi", spi, 2);
			break;
		case OPT_FIX_CSUM: o->pcap.fix_csum = o->live.fix_csum = true; break;
		case OPT_FWMARK: o->live.fwmark = parse_uint(optarg, "fwmark", UINT32_MAX); break;
		case OPT_FAST_FORWARD: o->live.fast_forward = true; break;
		case OPT_STRICT_INBOUND: o->pcap.strict_inbound = o->live.strict_inbound = true; break;
		case OPT_RPF: o->live.no_rpf = parse_choice(optarg, "--rpf", rpf, 2); break;
		case OPT_HOST_GSO:
			o->live.no_host_gso = !parse_choice(optarg, "--host-gso", off_on, 2);
			break;
		case OPT_MTU: o->pcap.mtu = parse_uint(optarg, "MTU", 65535); break;
		case OPT_ACK: o->ack = o->live.ack = true; break;
		case OPT_GETSPI_HOLD: o->getspi_hold = parse_uint(optarg, "--getspi-hold", 86400); break;
		case OPT_CTL_SOCKET:
			o->live.ctl_path = strcmp(optarg, "none") ? optarg : NULL;
			o->live.ctl_path_given = true;
			break;
		case OPT_CTL_ALLOW_WRITE: o->live.ctl_allow_write = true; break;
		case OPT_METRICS_FILE: o->live.metrics_file = optarg; break;
		case OPT_METRICS_INTERVAL:
			o->live.metrics_interval = parse_uint(optarg, "--metrics-interval", 86400);
			break;
		case 'v': verbose++; break;
		case 'V': print_version(); exit(0);
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind < argc || (!o->pcap.in != !o->pcap.out) ||
	    (o->pcap.in && o->live.n_ifaces) || (!o->pcap.in && !o->live.n_ifaces)) {
		usage(stderr);
		exit(2);
	}
	log_set_level(verbose > 1 ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	o->live.verbose = verbose;
}

static FILE *open_commands(const char *file)
{
	FILE *f;

	if (!file)
		return stdin;
	f = fopen(file, "r");
	if (!f)
		fatal("%s", file);
	return f;
}

/* The events of pcap mode (acquire), after the capture, on standard output. */
static void print_events(struct ring *r)
{
	char line[EVENT_LINE_MAX];
	struct event ev;

	while (ring_pop(r, &ev))
		if (event_format(&ev, line, sizeof(line)))
			printf("%s\n", line);
	fflush(stdout);
}

/* Offline: read every command (--init FILE first, each command accepted), then process
 * the capture. */
static int run_pcap(struct opts *o, struct exec_env *env)
{
	int ret, refused = o->init_file ? cmd_exec_file(env, o->init_file) : 0;
	struct session s = { .who = { .out = stdout }, .errors = stderr, .ack = o->ack };
	struct ring *events = ring_new(EVENT_RING_SIZE, sizeof(struct event));
	FILE *in;

	if (refused < 0)
		fatalx("%s: %s", o->init_file, strerror(-refused));
	if (refused > 0)
		fatalx("%s: %d command(s) refused", o->init_file, refused);
	in = open_commands(o->cmd_file);
	s.r = cmd_reader_new(in, o->cmd_file ? o->cmd_file : "<stdin>");
	if (!s.r || !events)
		fatal("out of memory");
	session_run(&s, env, NULL);
	cmd_reader_free(s.r);
	if (in != stdin)
		fclose(in);
	o->pcap.events = events;
	ret = pcap_mode_run(env->sad, env->spd, &o->pcap) < 0 ? 1 : 0;
	print_events(events);
	ring_free(events);
	cmd_dump_stats(env->sad, stderr);
	return ret;
}

/* esper-xdp ctl [--socket PATH | -s PATH] [--] [COMMAND...] */
static int run_ctl(int argc, char **argv)
{
	const char *path = CTL_SOCK_DEFAULT;
	int i = 2;

	for (; i < argc; i++) {
		if ((!strcmp(argv[i], "--socket") || !strcmp(argv[i], "-s")) && i + 1 < argc) {
			path = argv[++i];
		} else if (!strncmp(argv[i], "--socket=", 9)) {
			path = argv[i] + 9;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: esper-xdp ctl [--socket PATH] [COMMAND...]\n"
			       "  sends COMMAND (or every command of standard input) to the control\n"
			       "  socket (default %s); exit status 0: all applied, 1: one was\n"
			       "  refused, 2: no answer\n", CTL_SOCK_DEFAULT);
			return 0;
		} else {
			if (!strcmp(argv[i], "--"))
				i++;
			break;
		}
	}
	return ctl_client_run(path, argc - i, argv + i);
}

int main(int argc, char **argv)
{
	struct opts o = { .live = { .queues = 1, .tun_name = "esper0",
				    .ctl_path = CTL_SOCK_DEFAULT,
				    .metrics_interval = METRICS_INTERVAL_DEFAULT } };
	struct exec_env env = { .out = stdout, .nthreads = 1 };
	int ret;

	log_init("esper-xdp", LOG_LVL_INFO);
	if (argc > 1 && !strcmp(argv[1], "ctl"))
		return run_ctl(argc, argv);
	parse_args(argc, argv, &o);
	clock_tick();
	env.getspi_hold_s = o.getspi_hold;
	if (crypto_init(o.backend) < 0)
		fatalx("the requested crypto backend is not available on this machine");
	if (o.gost != GOST_IMPL_AUTO && crypto_gost_select(o.gost) < 0)
		fatalx("--gost: not available on this machine (no gost-engine, or no AVX2 for ct)");
	log_info("crypto: AES-GCM on %s; GOST %s", crypto_backend_name(),
		 crypto_gost_available() ? crypto_gost_impl_name() : "not available (no gost-engine)");
	env.sad = sad_new();
	env.spd = spd_new();
	if (!env.sad || !env.spd)
		fatal("out of memory");
	if (o.pcap.in) {
		ret = run_pcap(&o, &env);
	} else {
		o.live.cmd_file = o.cmd_file;
		o.live.init_file = o.init_file;
		ret = live_run(&o.live, &env);
	}
	spd_flush(env.spd);
	sad_flush(env.sad);
	rcu_barrier();
	spd_free(env.spd);
	sad_free(env.sad);
	cmd_exec_fini(&env);
	crypto_fini();
	return ret;
}
