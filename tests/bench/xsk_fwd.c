// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xsk_fwd.c - the "AF_XDP forward without crypto" baseline of the live benchmarks
 * (scripts/bench-live.sh; a benchmark tool, never a test): what esper-xdp's worker does for
 * a packet minus ESP. It uses esper-xdp's own AF_XDP layer (user/datapath/xsk.c: one UMEM shared by
 * a socket on each interface, 4096-byte frames, 2048-entry rings, need_wakeup, copy mode
 * where zero-copy is missing) and the same loop as worker.c: RX burst of 64 on the ingress
 * socket, rewrite the MACs, queue on the egress socket, then flush, completions and fill
 * rings for both, poll() when idle. The XDP program is the smallest that redirects the same
 * way esper's does: bpf_redirect_map(xskmap, rx_queue_index, XDP_PASS), written here as
 * five BPF instructions (no object file), attached in native mode to the ingress interface
 * only and detached on exit.
 *
 *   xsk_fwd -i IN -o OUT -m DSTMAC [-q QUEUES] [--cpus 0,1] [-d SECS]
 *
 * One thread per queue, pinned like esper-xdp's workers (--cpus); runs until SIGINT/SIGTERM
 * or -d seconds, then prints rx=N tx=N per queue and in all.
 */
#include <errno.h>
#include <getopt.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "esper_wire.h"
#include "datapath/xsk.h"

#define BURST		64
#define MAX_QUEUES	8

struct fwd {
	unsigned q;
	int cpu;
	struct xsk_set xs;	/* port 0: ingress, port 1: egress */
	uint64_t rx, tx;
	pthread_t thread;
};

static atomic_bool stop;
static const char *in_if, *out_if;
static uint8_t dmac[6];
static unsigned queues = 1, ncpus;
static int cpus[MAX_QUEUES];
static double secs = 3600;

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&stop, true);
}

/* r2 = ctx->rx_queue_index; r1 = xskmap; r3 = XDP_PASS; return bpf_redirect_map(r1, r2, r3) */
static int load_prog(int map_fd)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_LDX | BPF_MEM | BPF_W, .dst_reg = BPF_REG_2, .src_reg = BPF_REG_1,
		  .off = offsetof(struct xdp_md, rx_queue_index) },
		{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = BPF_REG_1,
		  .src_reg = BPF_PSEUDO_MAP_FD, .imm = map_fd },
		{ 0 },	/* second half of the 64-bit immediate */
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_3, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_redirect_map },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, po, .expected_attach_type = BPF_XDP);

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "xsk_fwd", "GPL", insns,
			     sizeof(insns) / sizeof(insns[0]), &po);
}

static void fwd_frame(struct fwd *f, uint64_t addr, uint32_t len)
{
	struct xsk_port *out = &f->xs.port[1];
	uint8_t *eth = xsk_frame(&f->xs, addr);

	memcpy(eth, dmac, 6);
	memcpy(eth + 6, out->mac, 6);
	xsk_tx(&f->xs, out, addr, len);
	f->tx++;
}

static unsigned rx_burst(struct fwd *f)
{
	struct xsk_port *p = &f->xs.port[0];
	uint32_t idx, n = xsk_ring_cons__peek(&p->rx, BURST, &idx);

	/* As the worker does: the burst's first lines asked for at once. */
	for (uint32_t i = 0; i < n; i++)
		__builtin_prefetch(xsk_frame(&f->xs, xsk_ring_cons__rx_desc(&p->rx, idx + i)->addr), 1);
	for (uint32_t i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&p->rx, idx + i);

		fwd_frame(f, d->addr, d->len);
	}
	xsk_ring_cons__release(&p->rx, n);
	f->rx += n;
	return n;
}

static void *fwd_main(void *arg)
{
	struct fwd *f = arg;
	struct pollfd pfd = { .fd = xsk_socket__fd(f->xs.port[0].xsk), .events = POLLIN };

	if (f->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(f->cpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		unsigned work = rx_burst(f);

		for (unsigned i = 0; i < f->xs.nports; i++) {
			xsk_flush(&f->xs, &f->xs.port[i]);
			xsk_complete(&f->xs, &f->xs.port[i]);
			xsk_refill(&f->xs, &f->xs.port[i]);
		}
		if (!work)
			poll(&pfd, 1, 100);
	}
	return NULL;
}

static int parse_mac(const char *s, uint8_t *mac)
{
	unsigned m[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)m[i];
	return 0;
}

static void parse_args(int argc, char **argv)
{
	static const struct option lo[] = { { "cpus", required_argument, NULL, 'C' },
					    { NULL, 0, NULL, 0 } };
	bool mac = false;
	int c;

	while ((c = getopt_long(argc, argv, "i:o:m:q:d:", lo, NULL)) != -1) {
		switch (c) {
		case 'i': in_if = optarg; break;
		case 'o': out_if = optarg; break;
		case 'm': mac = !parse_mac(optarg, dmac); break;
		case 'q': queues = (unsigned)atoi(optarg); break;
		case 'd': secs = atof(optarg); break;
		case 'C':
			for (char *t = strtok(optarg, ","); t && ncpus < MAX_QUEUES;
			     t = strtok(NULL, ","))
				cpus[ncpus++] = atoi(t);
			break;
		default: goto usage;
		}
	}
	if (in_if && out_if && mac && queues && queues <= MAX_QUEUES && secs > 0)
		return;
usage:
	fprintf(stderr, "usage: xsk_fwd -i IN -o OUT -m DSTMAC [-q QUEUES] [--cpus 0,1] [-d SECS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static struct fwd f[MAX_QUEUES];
	const char *ifs[2];
	int map_fd, prog_fd, ifindex, err = 1;
	uint64_t rx = 0, tx = 0, ring_full = 0;
	struct timespec deadline;
	sigset_t sigs;

	parse_args(argc, argv);
	ifs[0] = in_if;
	ifs[1] = out_if;
	ifindex = (int)if_nametoindex(in_if);
	map_fd = bpf_map_create(BPF_MAP_TYPE_XSKMAP, "xsk_fwd", 4, 4, MAX_QUEUES, NULL);
	prog_fd = map_fd < 0 ? -1 : load_prog(map_fd);
	if (!ifindex || prog_fd < 0) {
		fprintf(stderr, "xsk_fwd: cannot load the XDP program: %s\n", strerror(errno));
		return 1;
	}
	for (unsigned q = 0; q < queues; q++) {
		int fd;

		f[q].q = q;
		f[q].cpu = ncpus ? cpus[q % ncpus] : -1;
		err = xsk_set_open(&f[q].xs, ifs, 2, q, false);
		if (err) {
			fprintf(stderr, "xsk_fwd: AF_XDP sockets on queue %u: %s\n", q, strerror(-err));
			goto out;
		}
		fd = xsk_socket__fd(f[q].xs.port[0].xsk);
		if (bpf_map_update_elem(map_fd, &q, &fd, BPF_ANY)) {
			err = -errno;
			goto out;
		}
	}
	if (bpf_xdp_attach(ifindex, prog_fd, XDP_FLAGS_DRV_MODE, NULL)) {
		fprintf(stderr, "xsk_fwd: attach to %s: %s\n", in_if, strerror(errno));
		goto out;
	}
	/* Signals only by sigtimedwait here; the threads block them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	for (unsigned q = 0; q < queues; q++)
		pthread_create(&f[q].thread, NULL, fwd_main, &f[q]);
	fprintf(stderr, "xsk_fwd: %s -> %s, %u queue(s), %s mode\n", in_if, out_if, queues,
		f[0].xs.port[0].zerocopy ? "zero-copy" : "copy");
	deadline.tv_sec = (time_t)secs;
	deadline.tv_nsec = (long)((secs - (double)(time_t)secs) * 1e9);
	sigtimedwait(&sigs, NULL, &deadline);
	on_signal(0);
	for (unsigned q = 0; q < queues; q++)
		pthread_join(f[q].thread, NULL);
	bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
	for (unsigned q = 0; q < queues; q++) {
		printf("queue=%u rx=%llu tx=%llu tx_ring_full=%llu\n", q,
		       (unsigned long long)f[q].rx, (unsigned long long)f[q].tx,
		       (unsigned long long)f[q].xs.port[1].tx_dropped);
		rx += f[q].rx;
		tx += f[q].tx;
		ring_full += f[q].xs.port[1].tx_dropped;
	}
	printf("rx=%llu tx=%llu tx_ring_full=%llu\n", (unsigned long long)rx,
	       (unsigned long long)tx, (unsigned long long)ring_full);
	err = 0;
out:
	if (err)
		bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
	for (unsigned q = 0; q < queues; q++)
		xsk_set_close(&f[q].xs);
	close(prog_fd);
	close(map_fd);
	return err ? 1 : 0;
}
