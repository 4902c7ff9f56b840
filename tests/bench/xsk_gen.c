// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xsk_gen.c - an AF_XDP traffic generator for the live benchmarks (scripts/bench-live.sh;
 * a benchmark tool, never a test). xdp-trafficgen makes IPv6 UDP only; this makes what the
 * gateway rows need:
 *   plain  IPv4 or IPv6 UDP of one size or the IMIX, over N flows (bench_pkt.h: N flows hit
 *          N policies of the gateway);
 *   esp    the same packets already encrypted by the project's esp_out for N SAs (flow f by
 *          SA f % N), tunnel mode 192.0.2.1 -> 192.0.2.2: the input of the decrypt rows. The
 *          frames are sent again and again, so the receiving gateway's SAs take replay:0:
 *          the crypto work per packet (open, ICV check, trailer, decapsulation) is the same,
 *          only the window's bookkeeping is skipped.
 *
 * Every frame is built once before the clock starts (one per flow, at least 256, a multiple
 * of 12 with the IMIX). Two ways to send them, one thread per queue, pinned (--cpus):
 *   AF_XDP (default): a TX-only socket per queue (copy mode on veth) over a UMEM holding
 *          the frames; the loop only posts descriptors (TX never writes to a frame, so one
 *          frame may be in flight several times) and kicks the kernel (sendto sends up to
 *          32 frames per call), cycling over every flow. ~0.5-0.7 Mpps here: each frame
 *          becomes a socket buffer, and the receiving veth converts it back for XDP.
 *   --live: what xdp-trafficgen does, with our frames: BPF_PROG_RUN in live-frames mode
 *          runs a 4-instruction bpf_redirect(ifindex) program over 2^20 copies of one
 *          frame per call (a call costs ~25 ms here whatever its size, so frames change only
 *          every 2^20 packets: for one flow). ~4-5 Mpps here. On veth the frames arrive on
 *          the peer's receive queue numbered like the sending CPU.
 * Bounded: -n packets in all, -d seconds; -r caps the rate (token bucket, for the rekey
 * test that needs a known count at a known rate).
 *
 *   xsk_gen -i IFACE -m DSTMAC [-q QUEUES] [--cpus 0,1] [-s SIZE|imix] [-f FLOWS] [-6]
 *           [--esp CIPHER [--sas N]] [-n COUNT] [-d SECS] [-r PPS] [--live]
 *   CIPHER: aes128gcm aes256gcm kuznyechik magma
 *
 * Prints one line: sent=N secs=T pps=X gbps=Y (Gbit/s of the IP packets given to the
 * kernel, completed by it; a veth peer that drops still counts as sent).
 */
#include <errno.h>
#include <getopt.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <xdp/xsk.h>

#include "bench_pkt.h"
#include "crypto/crypto.h"
#include "lib/rcu.h"

#define FRAME		2048
#define RING		2048
#define BATCH		64
#define MIN_TEMPLATES	256
#define MAX_QUEUES	8

struct gen_opts {
	const char *ifname;
	uint8_t dmac[6], smac[6];
	unsigned queues;
	int cpus[MAX_QUEUES];
	unsigned ncpus;
	uint32_t size;		/* IP packet length, BP_IMIX for the IMIX */
	unsigned flows;
	int family;
	bool esp;
	enum aead_cipher cipher;
	unsigned nsa;
	uint64_t count;		/* 0: unbounded (then -d bounds it) */
	double secs;
	double rate;		/* packets/s over all queues, 0: as fast as possible */
	bool live;		/* --live: BPF_PROG_RUN live frames, not AF_XDP TX */
	int prog_fd;		/* --live: the redirect program */
};

struct gen {
	const struct gen_opts *o;
	unsigned q;
	void *area;
	size_t area_size;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp, rx;
	uint32_t ntmpl;
	uint32_t *len;		/* frame length of template i */
	uint64_t sent, completed, bytes;	/* bytes: IP bytes of completed frames */
	pthread_t thread;
};

static atomic_bool stop;
static struct gen_opts opts = { .queues = 1, .size = 64, .flows = 1, .family = AF_INET,
				.nsa = 1, .secs = 10 };
static struct exec_env env;
static struct sp **sas;

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&stop, true);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void die(const char *what)
{
	fprintf(stderr, "xsk_gen: %s\n", what);
	exit(1);
}

/* --- the frames ------------------------------------------------------------------------ */

/* Template i of queue q: flow (q + i * queues) % flows, so queues share the flows. */
static uint32_t build_frame(struct gen *g, uint32_t i, uint8_t *frame)
{
	const struct gen_opts *o = g->o;
	uint32_t f = (g->q + i * o->queues) % o->flows, len = bp_size(o->size, i);
	static __thread uint8_t buf[FRAME];
	struct pbuf b = { .head = buf, .size = sizeof(buf), .off = 256, .len = len };
	uint16_t type;

	bp_udp(buf + b.off, len, f, o->family);
	if (o->esp && esp_out(sas[f % o->nsa], &b, g->q, 0, 0))
		die("esp_out failed (cipher available? gost-engine for GOST)");
	type = buf[b.off] >> 4 == 4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6;
	pb_eth(frame, o->dmac, o->smac, type);
	memcpy(frame + ETH_HLEN_, buf + b.off, b.len);
	return ETH_HLEN_ + b.len;
}

/* --live: the program every repeated frame runs: return bpf_redirect(ifindex, 0). */
static int live_prog(int ifindex)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_1, .imm = ifindex },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_2, .imm = 0 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_redirect },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "xsk_gen_live", "GPL", insns,
			     sizeof(insns) / sizeof(insns[0]), NULL);
}

static void gen_open(struct gen *g)
{
	const struct gen_opts *o = g->o;
	struct xsk_umem_config ucfg = { .fill_size = RING, .comp_size = RING, .frame_size = FRAME };
	struct xsk_socket_config cfg = {
		.rx_size = 0,
		.tx_size = RING,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_USE_NEED_WAKEUP | XDP_COPY,
	};
	int err;

	g->ntmpl = o->flows < MIN_TEMPLATES ? MIN_TEMPLATES : o->flows;
	if (o->size == BP_IMIX)
		g->ntmpl = (g->ntmpl + BP_IMIX_N - 1) / BP_IMIX_N * BP_IMIX_N;
	g->area_size = (size_t)g->ntmpl * FRAME;
	g->area = mmap(NULL, g->area_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	g->len = calloc(g->ntmpl, sizeof(*g->len));
	if (g->area == MAP_FAILED || !g->len)
		die("out of memory");
	for (uint32_t i = 0; i < g->ntmpl; i++)
		g->len[i] = build_frame(g, i, (uint8_t *)g->area + (size_t)i * FRAME);
	if (o->live)
		return;
	err = xsk_umem__create(&g->umem, g->area, g->area_size, &g->fill, &g->comp, &ucfg);
	if (err) {
		fprintf(stderr, "xsk_gen: UMEM: %s\n", strerror(-err));
		exit(1);
	}
	err = xsk_socket__create(&g->xsk, o->ifname, g->q, g->umem, NULL, &g->tx, &cfg);
	if (err) {
		fprintf(stderr, "xsk_gen: AF_XDP socket on %s queue %u: %s\n", o->ifname, g->q,
			strerror(-err));
		exit(1);
	}
}

static void gen_close(struct gen *g)
{
	if (!g->o->live) {
		xsk_socket__delete(g->xsk);
		xsk_umem__delete(g->umem);
	}
	munmap(g->area, g->area_size);
	free(g->len);
}

/* --- the TX loop ------------------------------------------------------------------------ */

static void reclaim(struct gen *g)
{
	uint32_t idx, n = xsk_ring_cons__peek(&g->comp, RING, &idx);

	for (uint32_t i = 0; i < n; i++) {
		uint64_t addr = *xsk_ring_cons__comp_addr(&g->comp, idx + i);

		g->bytes += g->len[addr / FRAME] - ETH_HLEN_;
	}
	xsk_ring_cons__release(&g->comp, n);
	g->completed += n;
}

static void kick(struct gen *g)
{
	if (xsk_ring_prod__needs_wakeup(&g->tx))
		sendto(xsk_socket__fd(g->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0);
}

static void *gen_main(void *arg)
{
	struct gen *g = arg;
	const struct gen_opts *o = g->o;
	uint64_t quota = o->count ? o->count / o->queues + (g->q < o->count % o->queues) : ~0ull;
	double rate = o->rate / o->queues, t0 = now(), t = t0, end = t0 + o->secs;
	uint32_t cursor = 0;
	unsigned loops = 0;

	while (!atomic_load_explicit(&stop, memory_order_relaxed) && g->sent < quota) {
		uint32_t idx, n = BATCH;

		reclaim(g);
		if ((++loops & 7) == 0 || rate > 0) {
			t = now();
			if (t >= end)
				break;
		}
		if (rate > 0) {
			double allowed = (t - t0) * rate - (double)g->sent;

			if (allowed < 1) {
				kick(g);
				usleep(20);
				continue;
			}
			if (allowed < n)
				n = (uint32_t)allowed;
		}
		if (quota - g->sent < n)
			n = (uint32_t)(quota - g->sent);
		n = xsk_ring_prod__reserve(&g->tx, n, &idx);
		for (uint32_t i = 0; i < n; i++) {
			struct xdp_desc *d = xsk_ring_prod__tx_desc(&g->tx, idx + i);

			d->addr = (uint64_t)cursor * FRAME;
			d->len = g->len[cursor];
			if (++cursor == g->ntmpl)
				cursor = 0;
		}
		xsk_ring_prod__submit(&g->tx, n);
		g->sent += n;
		kick(g);
	}
	/* Let the kernel finish what was posted (bounded). */
	for (double until = now() + 1; g->completed < g->sent && now() < until;) {
		kick(g);
		reclaim(g);
	}
	return NULL;
}

static void pin(unsigned q)
{
	cpu_set_t set;

	if (!opts.ncpus)
		return;
	CPU_ZERO(&set);
	CPU_SET(opts.cpus[q % opts.ncpus], &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/*
 * --live: what xdp-trafficgen does, with our frames: BPF_PROG_RUN in live-frames mode runs
 * the redirect program over `repeat` copies of a frame and transmits each (veth: to the
 * peer's receive queue of this CPU, as xdp_frames, no socket buffer). Template after
 * template, `repeat` copies each (runs of one flow). Sent = frames the kernel was given;
 * a peer ring that is full drops some (not seen here).
 */
static void *live_main(void *arg)
{
	struct gen *g = arg;
	const struct gen_opts *o = g->o;
	uint64_t quota = o->count ? o->count / o->queues + (g->q < o->count % o->queues) : ~0ull;
	double rate = o->rate / o->queues, t0 = now(), t = t0, end = t0 + o->secs;
	uint32_t cursor = 0, repeat = 1u << 20;	/* a call costs ~25 ms here, whatever its size */

	while (!atomic_load_explicit(&stop, memory_order_relaxed) && g->sent < quota) {
		uint8_t *frame = (uint8_t *)g->area + (size_t)cursor * FRAME;
		LIBBPF_OPTS(bpf_test_run_opts, ro, .data_in = frame, .data_size_in = g->len[cursor],
			    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = 64);
		uint32_t n = repeat;

		t = now();
		if (t >= end)
			break;
		if (rate > 0) {
			double allowed = (t - t0) * rate - (double)g->sent;

			if (allowed < 1) {
				usleep(50);
				continue;
			}
			if (allowed < n)
				n = (uint32_t)allowed;
		}
		if (quota - g->sent < n)
			n = (uint32_t)(quota - g->sent);
		ro.repeat = n;
		if (bpf_prog_test_run_opts(o->prog_fd, &ro)) {
			fprintf(stderr, "xsk_gen: BPF_PROG_RUN live frames: %s\n", strerror(errno));
			break;
		}
		g->sent += n;
		g->completed += n;
		g->bytes += (uint64_t)n * (g->len[cursor] - ETH_HLEN_);
		if (++cursor == g->ntmpl)
			cursor = 0;
	}
	return NULL;
}

static void *pinned_main(void *arg)
{
	pin(((struct gen *)arg)->q);
	return ((struct gen *)arg)->o->live ? live_main(arg) : gen_main(arg);
}

/* --- options ---------------------------------------------------------------------------- */

static int parse_mac(const char *s, uint8_t *mac)
{
	unsigned m[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)m[i];
	return 0;
}

static void own_mac(const char *ifname, uint8_t *mac)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		die("no such interface");
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: xsk_gen -i IFACE -m DSTMAC [-q QUEUES] [--cpus 0,1] [-s SIZE|imix]\n"
		"               [-f FLOWS] [-6] [--esp CIPHER [--sas N]] [-n COUNT] [-d SECS]\n"
		"               [-r PPS] [--live]\n"
		"  CIPHER: aes128gcm aes256gcm kuznyechik magma\n");
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "esp", required_argument, NULL, 'E' }, { "sas", required_argument, NULL, 'S' },
		{ "cpus", required_argument, NULL, 'C' }, { "live", no_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_mac = false;
	int c;

	while ((c = getopt_long(argc, argv, "i:m:q:s:f:6n:d:r:", lo, NULL)) != -1) {
		switch (c) {
		case 'i': opts.ifname = optarg; break;
		case 'm': have_mac = !parse_mac(optarg, opts.dmac); break;
		case 'q': opts.queues = (unsigned)atoi(optarg); break;
		case 's': opts.size = strcmp(optarg, "imix") ? (uint32_t)atoi(optarg) : BP_IMIX; break;
		case 'f': opts.flows = (unsigned)atoi(optarg); break;
		case '6': opts.family = AF_INET6; break;
		case 'n': opts.count = strtoull(optarg, NULL, 10); break;
		case 'd': opts.secs = atof(optarg); break;
		case 'r': opts.rate = atof(optarg); break;
		case 'E':
			opts.esp = true;
			if (bp_cipher(optarg, &opts.cipher))
				usage();
			break;
		case 'L': opts.live = true; break;
		case 'S': opts.nsa = (unsigned)atoi(optarg); break;
		case 'C':
			for (char *t = strtok(optarg, ","); t && opts.ncpus < MAX_QUEUES;
			     t = strtok(NULL, ","))
				opts.cpus[opts.ncpus++] = atoi(t);
			break;
		default: usage();
		}
	}
	if (!opts.ifname || !have_mac || !opts.queues || opts.queues > MAX_QUEUES ||
	    !opts.flows || opts.flows > BP_FLOWS_MAX || !opts.nsa || opts.secs <= 0 ||
	    (opts.size && (opts.size < (opts.family == AF_INET ? 28u : 48u) || opts.size > 1420)))
		usage();
	own_mac(opts.ifname, opts.smac);
}

int main(int argc, char **argv)
{
	struct gen g[MAX_QUEUES] = { 0 };
	uint64_t sent = 0, done = 0, bytes = 0;
	double t0, t1;

	parse_args(argc, argv);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (opts.esp) {
		if (crypto_init(CRYPTO_AUTO) < 0)
			die("crypto_init");
		sas = calloc(opts.nsa, sizeof(*sas));
		if (!sas || bp_make_sas(&env, opts.cipher, opts.nsa, opts.queues, 0, sas))
			die("cannot make the SAs");
	}
	if (opts.live) {
		opts.prog_fd = live_prog((int)if_nametoindex(opts.ifname));
		if (opts.prog_fd < 0)
			die("cannot load the live-frames program");
	}
	for (unsigned q = 0; q < opts.queues; q++) {
		g[q].o = &opts;
		g[q].q = q;
		gen_open(&g[q]);
	}
	t0 = now();
	for (unsigned q = 0; q < opts.queues; q++)
		if (pthread_create(&g[q].thread, NULL, pinned_main, &g[q]))
			die("pthread_create");
	for (unsigned q = 0; q < opts.queues; q++)
		pthread_join(g[q].thread, NULL);
	t1 = now();
	for (unsigned q = 0; q < opts.queues; q++) {
		sent += g[q].sent;
		done += g[q].completed;
		bytes += g[q].bytes;
		gen_close(&g[q]);
	}
	printf("sent=%llu completed=%llu secs=%.3f pps=%.0f gbps=%.3f size=%s flows=%u queues=%u%s%s\n",
	       (unsigned long long)sent, (unsigned long long)done, t1 - t0,
	       (double)done / (t1 - t0), (double)bytes * 8 / (t1 - t0) / 1e9,
	       opts.size ? "fixed" : "imix", opts.flows, opts.queues, opts.esp ? " esp=" : "",
	       opts.esp ? aead_cipher_name(opts.cipher) : "");
	if (opts.esp) {
		spd_flush(env.spd);
		sad_flush(env.sad);
		rcu_barrier();
		spd_free(env.spd);
		sad_free(env.sad);
		free(sas);
	}
	return 0;
}
