// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench_esp_mt.c - one SA shared by two worker threads, in process (a benchmark, never a
 * test). One tunnel must not be stuck on one core (docs/live.md, threads and queues): this measures it.
 *
 * 1. Rates on one thread (pinned to the first CPU): the raw AEAD seal through the crypto
 *    facade over a buffer of the packet's size (the library in use: intel-ipsec-mb for
 *    AES-GCM, MGM over gost-engine for GOST), esp_out (encrypt) and esp_in (decrypt, SA with
 *    replay:0 like the live decrypt rows, which resend their frames). These are the
 *    in-process references of the live GOST rows (scripts/bench-live.sh).
 * 2. Encrypt with one SA: one thread, then two threads (pinned to CPU 0 and 1) at once,
 *    each with its own frames, as fast as they can; ratio = two-thread rate / one-thread
 *    rate. Two ways of calling ESP: per packet (esp_out: one atomic sequence-number
 *    allocation and two counter additions on the shared SA per packet, what worker.c
 *    did before it went to bursts) and per burst of 64 (esp_out_burst, what workers call:
 *    one allocation and one addition per burst).
 *    Timing: each thread's CPU time over the ESP work only (refilling the frames with
 *    plaintext is outside the timed part; a clock read costs ~0.7 us under KVM, so a timed
 *    interval covers 256 packets and the calibrated cost of a read is subtracted); rate of a
 *    run = sum over threads of packets / CPU time. One thread and two threads are measured
 *    in turn, -r rounds (3): the medians, and the median of the per-round ratios, are
 *    printed; the wall-clock rate of two threads beside them. The control: two threads
 *    each on its own SA (nothing shared), the scaling the machine itself gives this work;
 *    its ratio to the shared-SA figure says what sharing costs.
 * 3. Replay: two threads encrypt a bounded stream (the frames kept, not refilled), each
 *    burst stamped with the TSC when it was finished (when a worker would hand it to TX);
 *    the two outputs merged in stamp order are fed to esp_in on a receiver SA with the
 *    default window (1024, -w to change); replay drops must be 0. Also printed: the window
 *    the stream needed (largest lag behind the highest number seen, + 1).
 *
 *   bench_esp_mt [-c CIPHER] [-s SIZES] [-t SECS] [-r ROUNDS] [-w WINDOW] [--cpus A,B] [--csv]
 *                [--one]   (--one: only part 1, the one-thread rates)
 *   CIPHER: aes128gcm (default) aes256gcm kuznyechik magma; SIZES: e.g. 64,512,1420,imix
 */
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "bench_pkt.h"
#include "crypto/crypto.h"
#include "lib/rcu.h"
#include "bench_time.h"

#define FRAME		2048
#define OFF		(256 + ETH_HLEN_)
#define NFRAMES		256
#define BURST		64
#define REPLAY_MEM	(96u << 20)	/* bytes of kept frames per thread in the replay run */

enum api { API_PACKET, API_BURST };

static enum aead_cipher cipher = AEAD_AES128_GCM;
static uint32_t sizes[8] = { 64, 512, 1420, BP_IMIX };
static unsigned nsizes = 4;
static double secs = 1.0;
static unsigned window = REPLAY_DEFAULT_WINDOW;
static int cpu[2] = { 0, 1 };
static bool csv;
static double clock_cost;
static unsigned rounds = 3;
static bool one_only;	/* --one: the one-thread rates only (live GOST references) */

static void die(const char *what)
{
	fprintf(stderr, "bench_esp_mt: %s\n", what);
	exit(1);
}

static void pin(int c)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(c, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
		fprintf(stderr, "bench_esp_mt: cannot pin to CPU %d\n", c);
}

/* --- one thread's work ---------------------------------------------------------------- */

struct job {
	struct sp *sp;		/* encrypt: the policy; decrypt: its SA */
	unsigned thread;
	uint32_t size;
	enum api api;
	bool decrypt;
	uint8_t *frames;	/* NFRAMES frames */
	uint8_t *plain;		/* NFRAMES packets to copy in: plaintext, or ESP to decrypt */
	uint32_t *plen;
	struct pbuf b[NFRAMES];
	uint64_t pkts;
	double busy;		/* CPU seconds of ESP work */
	double secs;		/* wall seconds to run */
	_Atomic bool *go;
};

static void refill(struct job *j)
{
	for (unsigned i = 0; i < NFRAMES; i++) {
		uint8_t *f = j->frames + (size_t)i * FRAME;

		memcpy(f + OFF, j->plain + (size_t)i * FRAME, j->plen[i]);
		j->b[i] = (struct pbuf){ .head = f, .size = FRAME, .off = OFF, .len = j->plen[i] };
	}
}

/* Parse and encrypt (or decrypt) frames [i, i+n) the way a worker does. */
static void process(struct job *j, unsigned i, unsigned n)
{
	struct pkt_info pi[BURST];
	struct pbuf *bp[BURST];
	struct sp *sps[BURST];
	uint32_t mtu[BURST];
	int res[BURST];

	for (unsigned k = 0; k < n; k++) {
		struct pbuf *b = &j->b[i + k];

		if (pkt_parse(b->head + b->off, b->len, &pi[k]) < 0)
			die("parse");
		if (j->decrypt) {
			if (esp_in(j->sp->sa, b, &pi[k], j->thread))
				die("esp_in failed");
			continue;
		}
		if (j->api == API_PACKET) {
			if (esp_out(j->sp, b, j->thread, 1500, 0))
				die("esp_out failed");
			continue;
		}
		sps[k] = j->sp;
		bp[k] = b;
		mtu[k] = 1500;
	}
	if (!j->decrypt && j->api == API_BURST &&
	    esp_out_burst(sps, bp, pi, n, j->thread, mtu, 0, res) != n)
		die("esp_out_burst failed");
}

static void *job_main(void *arg)
{
	struct job *j = arg;
	double end;

	pin(cpu[j->thread]);
	while (!atomic_load(j->go))
		;
	end = bench_wall_time() + j->secs;
	do {
		double t0, t1;

		refill(j);
		t0 = bench_cpu_time();
		for (unsigned i = 0; i < NFRAMES; i += BURST)
			process(j, i, BURST);
		t1 = bench_cpu_time();
		j->busy += t1 - t0 - clock_cost;
		j->pkts += NFRAMES;
	} while (bench_wall_time() < end);
	return NULL;
}

/* --- set-up ----------------------------------------------------------------------------- */

static void job_init(struct job *j, struct sp *sp, unsigned thread, uint32_t size,
		     struct sp *enc_sp)
{
	memset(j, 0, sizeof(*j));
	j->sp = sp;
	j->thread = thread;
	j->size = size;
	j->frames = aligned_alloc(4096, (size_t)NFRAMES * FRAME);
	j->plain = aligned_alloc(4096, (size_t)NFRAMES * FRAME);
	j->plen = calloc(NFRAMES, sizeof(*j->plen));
	if (!j->frames || !j->plain || !j->plen)
		die("out of memory");
	for (unsigned i = 0; i < NFRAMES; i++) {
		uint8_t *p = j->plain + (size_t)i * FRAME;

		j->plen[i] = bp_size(size, i);
		bp_udp(p, j->plen[i], i, AF_INET);
		if (enc_sp) {	/* the ESP packet to decrypt, built in a scratch frame */
			struct pbuf b = { .head = j->frames, .size = FRAME, .off = OFF,
					  .len = j->plen[i] };

			memcpy(b.head + b.off, p, b.len);
			if (esp_out(enc_sp, &b, 0, 0, 0))
				die("esp_out failed");
			memcpy(p, b.head + b.off, b.len);
			j->plen[i] = b.len;
			j->decrypt = true;
		}
	}
}

static void job_fini(struct job *j)
{
	free(j->frames);
	free(j->plain);
	free(j->plen);
}

/* Run n jobs at once for secs; the rate (sum of packets / busy CPU time) and the wall rate. */
static double run_jobs(struct job *j, unsigned n, double *wall_rate)
{
	_Atomic bool go = false;
	pthread_t t[2];
	double rate = 0, w0, w1;
	uint64_t pkts = 0;

	for (unsigned i = 0; i < n; i++) {
		j[i].go = &go;
		j[i].secs = secs;
		j[i].pkts = 0;
		j[i].busy = 0;
		if (pthread_create(&t[i], NULL, job_main, &j[i]))
			die("pthread_create");
	}
	w0 = bench_wall_time();
	atomic_store(&go, true);
	for (unsigned i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	w1 = bench_wall_time();
	for (unsigned i = 0; i < n; i++) {
		rate += j[i].busy > 0 ? (double)j[i].pkts / j[i].busy : 0;
		pkts += j[i].pkts;
	}
	if (wall_rate)
		*wall_rate = (double)pkts / (w1 - w0);
	return rate;
}

/* One thread, then two, `rounds` times in turn (the load of this machine changes within
 * seconds); medians of the rates and of the per-round ratios. */
static void scale(struct job *j, enum api api, double *one, double *two, double *x,
		  double *wall)
{
	double o[16], t[16], r[16], w[16];

	j[0].api = j[1].api = api;
	for (unsigned i = 0; i < rounds; i++) {
		o[i] = run_jobs(j, 1, NULL);
		t[i] = run_jobs(j, 2, &w[i]);
		r[i] = t[i] / o[i];
	}
	*one = bench_median(o, rounds);
	*two = bench_median(t, rounds);
	*x = bench_median(r, rounds);
	*wall = bench_median(w, rounds);
}

static void calibrate_clock(void)
{
	double t0 = bench_cpu_time(), t1 = t0;

	for (int i = 0; i < 10000; i++)
		t1 = bench_cpu_time();
	clock_cost = (t1 - t0) / 10000;
}

/* --- raw AEAD ---------------------------------------------------------------------------- */

static double raw_rate(struct sa *sa, uint32_t size)
{
	static uint8_t buf[FRAME + 64];
	uint8_t aad[8] = { 0 }, iv[8] = { 0 };
	struct aead_req r = { .aad = aad, .aad_len = 8, .iv = iv, .data = buf,
			      .len = size, .icv = buf + FRAME };
	double t0, t1, busy = 0;
	uint64_t n = 0;

	pin(cpu[0]);
	do {
		t0 = bench_cpu_time();
		for (int i = 0; i < 256; i++) {
			iv[7] = (uint8_t)i;
			r.len = bp_size(size, (uint32_t)n + (uint32_t)i);
			aead_seal(&sa->aead, 0, &r);
		}
		t1 = bench_cpu_time();
		busy += t1 - t0 - clock_cost;
		n += 256;
	} while (busy < secs);
	return (double)n / busy;
}

/* --- replay ------------------------------------------------------------------------------ */

struct stamp {
	uint64_t tsc;
	uint32_t first;		/* index of the burst's first frame in its thread's array */
	uint32_t n;
	unsigned thread;
};

struct rjob {
	struct sp *sp;
	unsigned thread;
	uint32_t size, nframes;
	uint8_t *frames;
	struct pbuf *b;
	struct stamp *st;
	uint32_t nst;
	_Atomic bool *go;
};

static void *rjob_main(void *arg)
{
	struct rjob *r = arg;

	pin(cpu[r->thread]);
	while (!atomic_load(r->go))
		;
	for (uint32_t i = 0; i < r->nframes; i += BURST) {
		uint32_t n = r->nframes - i < BURST ? r->nframes - i : BURST;

		for (uint32_t k = 0; k < n; k++)
			if (esp_out(r->sp, &r->b[i + k], r->thread, 1500, 0))
				die("esp_out failed");
		r->st[r->nst++] = (struct stamp){ .tsc = __rdtsc(), .first = i, .n = n,
						  .thread = r->thread };
	}
	return NULL;
}

static int cmp_stamp(const void *a, const void *b)
{
	const struct stamp *x = a, *y = b;

	return x->tsc < y->tsc ? -1 : x->tsc > y->tsc;
}

/* Two threads encrypt, the merged output goes to esp_in on rx_sa: replay drops, needed window. */
static void replay_run(struct sp *sp, struct sa *rx_sa, uint32_t size, uint64_t *drops,
		       uint64_t *fed, uint64_t *need)
{
	struct rjob r[2];
	uint32_t nframes = REPLAY_MEM / FRAME;
	_Atomic bool go = false;
	pthread_t t[2];
	struct stamp *all;
	uint64_t top = 0, before = sa_counter(rx_sa, SA_C_replay);

	*need = 0;
	*fed = 0;
	for (unsigned i = 0; i < 2; i++) {
		r[i] = (struct rjob){ .sp = sp, .thread = i, .size = size, .nframes = nframes,
				      .go = &go };
		r[i].frames = malloc((size_t)nframes * FRAME);
		r[i].b = calloc(nframes, sizeof(*r[i].b));
		r[i].st = calloc(nframes / BURST + 1, sizeof(*r[i].st));
		if (!r[i].frames || !r[i].b || !r[i].st)
			die("out of memory");
		for (uint32_t k = 0; k < nframes; k++) {
			uint8_t *f = r[i].frames + (size_t)k * FRAME;
			uint32_t len = bp_size(size, k);

			bp_udp(f + OFF, len, k, AF_INET);
			r[i].b[k] = (struct pbuf){ .head = f, .size = FRAME, .off = OFF, .len = len };
		}
		if (pthread_create(&t[i], NULL, rjob_main, &r[i]))
			die("pthread_create");
	}
	atomic_store(&go, true);
	for (unsigned i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	all = calloc(r[0].nst + r[1].nst, sizeof(*all));
	if (!all)
		die("out of memory");
	memcpy(all, r[0].st, r[0].nst * sizeof(*all));
	memcpy(all + r[0].nst, r[1].st, r[1].nst * sizeof(*all));
	qsort(all, r[0].nst + r[1].nst, sizeof(*all), cmp_stamp);
	for (uint32_t s = 0; s < r[0].nst + r[1].nst; s++) {
		struct rjob *x = &r[all[s].thread];

		for (uint32_t k = all[s].first; k < all[s].first + all[s].n; k++) {
			struct pbuf *b = &x->b[k];
			struct pkt_info pi;
			uint32_t seq;

			pkt_parse(b->head + b->off, b->len, &pi);
			memcpy(&seq, b->head + b->off + pi.l4_off + 4, 4);
			seq = ntohl(seq);
			if (seq < top && top - seq + 1 > *need)
				*need = top - seq + 1;
			if (seq > top)
				top = seq;
			esp_in(rx_sa, b, &pi, 0);
			(*fed)++;
		}
	}
	*drops = sa_counter(rx_sa, SA_C_replay) - before;
	free(all);
	for (unsigned i = 0; i < 2; i++) {
		free(r[i].frames);
		free(r[i].b);
		free(r[i].st);
	}
}

/* --- main ------------------------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr, "usage: bench_esp_mt [-c aes128gcm|aes256gcm|kuznyechik|magma] "
			"[-s 64,512,1420,imix] [-t SECS] [-r ROUNDS] [-w WINDOW] [--cpus A,B] [--csv] [--one]\n");
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	static const struct option lo[] = { { "cpus", required_argument, NULL, 'C' },
					    { "csv", no_argument, NULL, 'V' },
					    { "one", no_argument, NULL, '1' },
					    { NULL, 0, NULL, 0 } };
	int c;

	while ((c = getopt_long(argc, argv, "c:s:t:w:r:", lo, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (bp_cipher(optarg, &cipher))
				usage();
			break;
		case 's':
			nsizes = 0;
			for (char *t = strtok(optarg, ","); t && nsizes < 8; t = strtok(NULL, ","))
				sizes[nsizes++] = strcmp(t, "imix") ? (uint32_t)atoi(t) : BP_IMIX;
			break;
		case 't': secs = atof(optarg); break;
		case 'w': window = (unsigned)atoi(optarg); break;
		case 'r':
			rounds = (unsigned)atoi(optarg);
			if (rounds < 1 || rounds > 16)
				usage();
			break;
		case 'C':
			if (sscanf(optarg, "%d,%d", &cpu[0], &cpu[1]) != 2)
				usage();
			break;
		case 'V': csv = true; break;
		case '1': one_only = true; break;
		default: usage();
		}
	}
	for (unsigned i = 0; i < nsizes; i++)
		if (sizes[i] && (sizes[i] < 28 || sizes[i] > 1420))
			usage();
}

static const char *size_name(uint32_t s, char *buf)
{
	if (!s)
		return "imix";
	sprintf(buf, "%u", s);
	return buf;
}

int main(int argc, char **argv)
{
	struct exec_env tx_env, rx_env;
	struct sp *tx_sps[2], *tx_sp, *rx_sp;

	parse_args(argc, argv);
	if (crypto_init(CRYPTO_AUTO) < 0)
		die("crypto_init");
	/* The sender's SA has replay:0, so it also serves the decrypt rate (frames reused). */
	if (bp_make_sas(&tx_env, cipher, 2, 2, 0, tx_sps) ||
	    bp_make_sas(&rx_env, cipher, 1, 1, window, &rx_sp))
		die("cannot make the SA (GOST needs gost-engine)");
	tx_sp = tx_sps[0];
	calibrate_clock();
	if (!csv) {
		printf("cipher %s, backend %s; CPUs %d and %d; %.1f s per figure\n",
		       aead_cipher_name(cipher), crypto_backend_name(), cpu[0], cpu[1], secs);
		printf("%6s %10s %10s %10s | %10s %10s %5s %10s | %10s %10s %5s | %5s | %7s %7s\n",
		       "size", "raw Mpps", "enc 1T", "dec 1T", "pkt 1T", "pkt 2T", "x", "2T wall",
		       "burst 1T", "burst 2T", "x", "2SA x", "replay", "window");
	} else {
		printf("cipher,size,raw_pps,enc1_pps,dec1_pps,pkt1_pps,pkt2_pps,pkt_ratio,"
		       "pkt2_wall_pps,burst1_pps,burst2_pps,burst_ratio,replay_drops,replay_fed,"
		       "window_needed,two_sa_ratio,shared_vs_two_sa\n");
	}
	for (unsigned s = 0; s < nsizes; s++) {
		struct job j[2], sep[2], d;
		double raw, enc1, dec1, p1, p2, px, p2w, b1, b2, bx, b2w, s1, s2, sx, s2w;
		uint64_t drops, fed, need;
		char nb[16];

		raw = raw_rate(tx_sp->sa, sizes[s]);
		job_init(&j[0], tx_sp, 0, sizes[s], NULL);
		job_init(&j[1], tx_sp, 1, sizes[s], NULL);
		job_init(&d, tx_sp, 0, sizes[s], tx_sp);
		job_init(&sep[0], tx_sps[0], 0, sizes[s], NULL);
		job_init(&sep[1], tx_sps[1], 1, sizes[s], NULL);
		j[0].api = API_PACKET;
		enc1 = run_jobs(j, 1, NULL);
		dec1 = run_jobs(&d, 1, NULL);
		p1 = p2 = px = p2w = b1 = b2 = bx = b2w = s1 = s2 = sx = s2w = 0;
		drops = fed = need = 0;
		if (!one_only) {
			scale(j, API_PACKET, &p1, &p2, &px, &p2w);
			scale(j, API_BURST, &b1, &b2, &bx, &b2w);
			/* The control: two threads, each on its own SA (what the machine gives two
			 * threads of this work when they share nothing). */
			scale(sep, API_BURST, &s1, &s2, &sx, &s2w);
			replay_run(tx_sp, rx_sp->sa, sizes[s], &drops, &fed, &need);
		}
		job_fini(&j[0]);
		job_fini(&j[1]);
		job_fini(&d);
		job_fini(&sep[0]);
		job_fini(&sep[1]);
		if (csv)
			printf("%s,%s,%.0f,%.0f,%.0f,%.0f,%.0f,%.3f,%.0f,%.0f,%.0f,%.3f,%llu,%llu,%llu,"
			       "%.3f,%.3f\n",
			       aead_cipher_name(cipher), size_name(sizes[s], nb), raw, enc1, dec1, p1,
			       p2, px, p2w, b1, b2, bx, (unsigned long long)drops,
			       (unsigned long long)fed, (unsigned long long)need, sx,
			       sx > 0 ? bx / sx : 0);
		else
			printf("%6s %10.2f %10.2f %10.2f | %10.2f %10.2f %5.2f %10.2f | %10.2f %10.2f %5.2f | %5.2f | %7llu %7llu\n",
			       size_name(sizes[s], nb), raw / 1e6, enc1 / 1e6, dec1 / 1e6, p1 / 1e6,
			       p2 / 1e6, px, p2w / 1e6, b1 / 1e6, b2 / 1e6, bx, sx,
			       (unsigned long long)drops, (unsigned long long)need);
		fflush(stdout);
	}
	if (!csv)
		printf("Mpps; 1T/2T: one thread / two threads on one SA (sum of packets per CPU "
		       "second of ESP work); x: 2T/1T (target >= 1.8);\n2SA x: the same with each "
		       "thread on its own SA (the machine's own two-thread scaling);\nreplay: drops by a "
		       "receiver (window %u) fed both threads' output merged in TX order "
		       "(target 0); window: the window that stream needed\n", window);
	spd_flush(tx_env.spd);
	sad_flush(tx_env.sad);
	spd_flush(rx_env.spd);
	sad_flush(rx_env.sad);
	rcu_barrier();
	return 0;
}
