// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench_gcm_api.c - intel-ipsec-mb's three ways to run AES-GCM on one core, side by side (a
 * benchmark, never a test): the direct API (IMB_AES128_GCM_ENC: what crypto_gcm_ipsecmb.c
 * calls for every packet), the job API (IMB_GET_NEXT_JOB / IMB_SUBMIT_JOB_NOCHECK, one job
 * at a time) and the burst API (IMB_GET_NEXT_BURST / IMB_SUBMIT_BURST_NOCHECK, 64 jobs at
 * once). Does a job manager, or handing it a whole burst, beat one call per packet? Each
 * way seals 64 buffers of the size (8-byte AAD, 12-byte nonce, 16-byte tag) per timed turn;
 * the three take 10 ms turns until each has had the time, for `rounds` rounds; the medians
 * in ns per packet, and each API's time over the direct one's.
 *
 *   build/bench/bench_gcm_api [-s secs] [-r rounds]     (defaults 0.2 s, 5 rounds)
 *
 * Time: CPU time of this thread, pinned to its CPU; a timed interval is 16 turns of 64
 * packets and the calibrated cost of a clock read is subtracted (as bench_esp).
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <intel-ipsec-mb.h>
#include "bench_time.h"

#define N	 64	/* packets per burst */
#define TURNS	 16	/* bursts per timed interval */
#define ROUNDS_MAX 15

static const uint32_t sizes[] = {64, 68, 512, 516, 1420, 1424};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

enum api { DIRECT, JOB, BURST, NAPI };
static const char *const api_names[NAPI] = {"direct", "job", "burst"};

static IMB_MGR *mgr;
static struct gcm_key_data *key;
static uint8_t bufs[N][2048] __attribute__((aligned(64)));
static uint8_t tags[N][16], nonce[12], aad[8];
static double clock_cost;

static void die(const char *what)
{
	fprintf(stderr, "bench_gcm_api: %s\n", what);
	exit(1);
}

/* A GCM encrypt job for buffer i: AES-128, in place, tag behind nothing (its own array). */
static void fill_job(IMB_JOB *j, unsigned i, uint32_t len)
{
	j->cipher_mode = IMB_CIPHER_GCM;
	j->cipher_direction = IMB_DIR_ENCRYPT;
	j->chain_order = IMB_ORDER_CIPHER_HASH;
	j->hash_alg = IMB_AUTH_AES_GMAC;
	j->enc_keys = key;
	j->dec_keys = key;
	j->key_len_in_bytes = IMB_KEY_128_BYTES;
	j->src = bufs[i];
	j->dst = bufs[i];
	j->cipher_start_src_offset_in_bytes = 0;
	j->msg_len_to_cipher_in_bytes = len;
	j->hash_start_src_offset_in_bytes = 0;
	j->msg_len_to_hash_in_bytes = len;
	j->iv = nonce;
	j->iv_len_in_bytes = sizeof(nonce);
	j->u.GCM.aad = aad;
	j->u.GCM.aad_len_in_bytes = sizeof(aad);
	j->auth_tag_output = tags[i];
	j->auth_tag_output_len_in_bytes = 16;
}

static void run_direct(uint32_t len)
{
	struct gcm_context_data ctx;

	for (unsigned i = 0; i < N; i++)
		IMB_AES128_GCM_ENC(mgr, key, &ctx, bufs[i], bufs[i], len, nonce, aad, sizeof(aad),
				   tags[i], 16);
}

static void run_job(uint32_t len)
{
	for (unsigned i = 0; i < N; i++) {
		IMB_JOB *j = IMB_GET_NEXT_JOB(mgr);

		fill_job(j, i, len);
		j = IMB_SUBMIT_JOB_NOCHECK(mgr);
		while (j) {
			if (j->status != IMB_STATUS_COMPLETED)
				die("job failed");
			j = IMB_GET_COMPLETED_JOB(mgr);
		}
	}
}

static void run_burst(uint32_t len)
{
	IMB_JOB *jobs[N];

	if (IMB_GET_NEXT_BURST(mgr, N, jobs) < N) {
		IMB_FLUSH_BURST(mgr, N, jobs);
		if (IMB_GET_NEXT_BURST(mgr, N, jobs) < N)
			die("no room for a burst");
	}
	for (unsigned i = 0; i < N; i++)
		fill_job(jobs[i], i, len);
	if (IMB_SUBMIT_BURST_NOCHECK(mgr, N, jobs) != N)
		die("burst failed");
}

static void (*const runs[NAPI])(uint32_t) = {run_direct, run_job, run_burst};

/* 10 ms turns of each API until each has had secs; ns per packet of each. */
static void measure(uint32_t len, double secs, double ns[NAPI])
{
	double t[NAPI] = {0}, n[NAPI] = {0};

	for (unsigned a = 0; a < NAPI; a++) /* warm up */
		for (unsigned k = 0; k < 100; k++)
			runs[a](len);
	while (t[0] < secs)
		for (unsigned a = 0; a < NAPI; a++)
			for (double spent = 0; spent < 0.01;) {
				double t0 = bench_cpu_time(), d;

				for (unsigned k = 0; k < TURNS; k++)
					runs[a](len);
				d = bench_cpu_time() - t0 - clock_cost;
				t[a] += d;
				n[a] += TURNS * N;
				spent += d;
			}
	for (unsigned a = 0; a < NAPI; a++)
		ns[a] = t[a] / n[a] * 1e9;
}

int main(int argc, char **argv)
{
	double secs = 0.2, ns[NSIZES][NAPI][ROUNDS_MAX], d[101];
	unsigned rounds = 5;
	uint8_t k[16] = {0x42};
	cpu_set_t set;
	int opt;

	while ((opt = getopt(argc, argv, "s:r:")) != -1) {
		if (opt == 's' && atof(optarg) > 0)
			secs = atof(optarg);
		else if (opt == 'r' && atoi(optarg) > 0 && atoi(optarg) <= ROUNDS_MAX)
			rounds = (unsigned)atoi(optarg);
		else
			die("usage: bench_gcm_api [-s secs] [-r rounds]");
	}
	CPU_ZERO(&set);
	CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &set);
	sched_setaffinity(0, sizeof(set), &set);
	for (unsigned i = 0; i < 101; i++) {
		double t0 = bench_cpu_time();

		d[i] = bench_cpu_time() - t0;
	}
	qsort(d, 101, sizeof(d[0]), bench_cmp_double);
	clock_cost = d[50];
	mgr = alloc_mb_mgr(0);
	key = aligned_alloc(64, (sizeof(*key) + 63) & ~(size_t)63);
	if (!mgr || !key)
		die("out of memory");
	init_mb_mgr_auto(mgr, NULL);
	IMB_AES128_GCM_PRE(mgr, k, key);
	for (unsigned r = 0; r < rounds; r++)
		for (unsigned s = 0; s < NSIZES; s++) {
			double x[NAPI];

			measure(sizes[s], secs, x);
			for (unsigned a = 0; a < NAPI; a++)
				ns[s][a][r] = x[a];
		}
	printf("intel-ipsec-mb %s, AES-128-GCM, one core, ns per packet (medians of %u rounds);\n"
	       "x direct: the median of the per-round ratios to the direct API\n\n", IMB_VERSION_STR,
	       rounds);
	printf("bytes | %8s | %8s %8s | %8s %8s\n", api_names[DIRECT], api_names[JOB],
	       "x direct", api_names[BURST], "x direct");
	for (unsigned s = 0; s < NSIZES; s++) {
		double rj[ROUNDS_MAX], rb[ROUNDS_MAX];

		for (unsigned r = 0; r < rounds; r++) {
			rj[r] = ns[s][JOB][r] / ns[s][DIRECT][r];
			rb[r] = ns[s][BURST][r] / ns[s][DIRECT][r];
		}
		printf("%5u | %8.1f | %8.1f %8.2f | %8.1f %8.2f\n", sizes[s],
		       bench_median(ns[s][DIRECT], rounds), bench_median(ns[s][JOB], rounds), bench_median(rj, rounds),
		       bench_median(ns[s][BURST], rounds), bench_median(rb, rounds));
	}
	free_mb_mgr(mgr);
	free(key);
	return 0;
}
