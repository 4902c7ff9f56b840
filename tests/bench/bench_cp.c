// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench_cp.c - the in-process parts of the control-plane benchmark (scripts/bench-cp.sh):
 *
 *   bench_cp --parse        read and parse every command of standard input (cmd_next),
 *                           apply nothing: the baseline
 *   bench_cp --apply        parse and apply them to a SAD and SPD of its own (cmd_exec),
 *                           no BPF maps
 *   bench_cp --count-map ID the entries of BPF map ID (batched lookups)
 *   bench_cp --first-packet the cost of lazy keying: for each transform, the first seal and
 *                           the first open of fresh SAs (key schedule made then) against
 *                           the next ones, 64-byte payloads, medians over 2000 SAs
 *
 * --parse and --apply print one line: mode, commands, refused, wall and CPU seconds, and
 * the resident memory the commands added (VmRSS after less VmRSS before), in bytes per
 * command pair. A benchmark: it exits 0 unless it cannot run.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "control/cmd_exec.h"
#include "lib/rcu.h"
#include "bench_time.h"

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

/* --- --count-map ------------------------------------------------------------------------ */

static int count_map(const char *id_text)
{
	int fd = bpf_map_get_fd_by_id((__u32)strtoul(id_text, NULL, 0));
	struct bpf_map_info info = { 0 };
	__u32 info_len = sizeof(info), batch = 4096, count;
	unsigned long total = 0;
	void *keys, *values, *in = NULL, *out = malloc(64);
	int err;

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &info_len)) {
		perror("bench_cp: map");
		return 1;
	}
	keys = malloc((size_t)batch * info.key_size);
	values = malloc((size_t)batch * info.value_size);
	do {
		LIBBPF_OPTS(bpf_map_batch_opts, opts);

		count = batch;
		err = bpf_map_lookup_batch(fd, in, out, keys, values, &count, &opts);
		total += count;
		if (!in)
			in = malloc(64);
		memcpy(in, out, 64);
	} while (!err);
	if (errno != ENOENT) {
		perror("bench_cp: lookup batch");
		return 1;
	}
	printf("%lu\n", total);
	return 0;
}

/* --- --first-packet ---------------------------------------------------------------------- */

#define FP_SAS 2000

/* The first seal and open of a fresh SA pair, in ns; keyed before (eager) or by the packet. */
static void first_of(enum aead_cipher c, enum crypto_backend be, unsigned s, bool eager,
		     double *seal_ns, double *open_ns)
{
	uint8_t km[ESP_KEYMAT_MAX], aad[8] = { 0, 0, 0x10, 0, 0, 0, 0, 1 }, iv[ESP_IV_LEN];
	uint8_t data[64], icv[ESP_ICV_MAX];
	struct aead_req r = { aad, sizeof(aad), iv, data, sizeof(data), icv };
	size_t len = aead_keymat_len(c);
	struct aead *tx, *rx;
	double t0, t1, t2;

	memset(km, 0x5a, sizeof(km));
	memcpy(km, &s, sizeof(s));
	tx = aead_new_backend(c, km, len, 2, be);
	rx = aead_new_backend(c, km, len, 2, be);
	if (!tx || !rx || aead_keyed(tx) || (eager && (aead_key(tx) || aead_key(rx)))) {
		fprintf(stderr, "bench_cp: %s: cannot set up\n", aead_cipher_name(c));
		exit(1);
	}
	memset(data, 0xab, sizeof(data));
	t0 = bench_wall_time();	/* a sender's first packet: its IV (GOST: keys the SA), its seal */
	if (aead_next_iv(tx, 1, sizeof(data), iv) || aead_seal(tx, 0, &r)) {
		fprintf(stderr, "bench_cp: %s: the first packet does not seal\n",
			aead_cipher_name(c));
		exit(1);
	}
	t1 = bench_wall_time();
	if (aead_open(rx, 0, &r)) {
		fprintf(stderr, "bench_cp: %s: the first packet does not open\n",
			aead_cipher_name(c));
		exit(1);
	}
	t2 = bench_wall_time();
	*seal_ns = (t1 - t0) * 1e9;
	*open_ns = (t2 - t1) * 1e9;
	aead_free(tx);
	aead_free(rx);
}

/* One transform on one backend: medians of the first seal and open, keyed by the packet
 * (lazy) and keyed before it (eager, as `add` did before); the difference is what lazy
 * keying moves onto the first packet. */
static void first_packet(enum aead_cipher c, enum crypto_backend be, const char *name)
{
	static double lazy_seal[FP_SAS], lazy_open[FP_SAS], eager_seal[FP_SAS],
		eager_open[FP_SAS];
	double ls, lo, es, eo;

	for (unsigned s = 0; s < FP_SAS; s++) {
		first_of(c, be, s, false, &lazy_seal[s], &lazy_open[s]);
		first_of(c, be, s, true, &eager_seal[s], &eager_open[s]);
	}
	ls = bench_median(lazy_seal, FP_SAS);
	lo = bench_median(lazy_open, FP_SAS);
	es = bench_median(eager_seal, FP_SAS);
	eo = bench_median(eager_open, FP_SAS);
	printf("first packet %-24s seal %6.2f us (keyed before: %6.2f, +%5.2f us), "
	       "open %6.2f us (keyed before: %6.2f, +%5.2f us)\n", name, ls / 1e3, es / 1e3,
	       (ls - es) / 1e3, lo / 1e3, eo / 1e3, (lo - eo) / 1e3);
}

static int first_packets(void)
{
	if (crypto_init(CRYPTO_AUTO) < 0)
		return 1;
	printf("first packet: lazy keying (2 thread slots), medians over %u SAs; AES-GCM on %s\n",
	       FP_SAS, crypto_backend_name());
	first_packet(AEAD_AES128_GCM, CRYPTO_AUTO, "AES-128-GCM");
	first_packet(AEAD_AES256_GCM, CRYPTO_AUTO, "AES-256-GCM");
	first_packet(AEAD_AES128_GCM, CRYPTO_OPENSSL, "AES-128-GCM (OpenSSL)");
	if (crypto_gost_available()) {
		first_packet(AEAD_KUZNYECHIK_MGM, CRYPTO_AUTO, "Kuznyechik-MGM");
		first_packet(AEAD_MAGMA_MGM, CRYPTO_AUTO, "Magma-MGM");
	} else {
		printf("first packet: GOST transforms not available (no gost-engine)\n");
	}
	return 0;
}

int main(int argc, char **argv)
{
	bool apply = argc == 2 && !strcmp(argv[1], "--apply");
	struct exec_env env = { .nthreads = 1, .out = stdout };
	struct cmd_reader *r;
	struct cmd_error err;
	unsigned long n = 0, refused = 0;
	double t0, c0, secs, cpu;
	long rss0, rss1;
	struct cmd c;
	int got;

	if (argc == 3 && !strcmp(argv[1], "--count-map"))
		return count_map(argv[2]);
	if (argc == 2 && !strcmp(argv[1], "--first-packet"))
		return first_packets();
	if (argc != 2 || (!apply && strcmp(argv[1], "--parse"))) {
		fprintf(stderr, "usage: bench_cp --parse|--apply < commands | --count-map ID | "
			"--first-packet\n");
		return 2;
	}
	if (crypto_init(CRYPTO_AUTO) < 0 || !(env.sad = sad_new()) || !(env.spd = spd_new()) ||
	    !(r = cmd_reader_new(stdin, "<stdin>"))) {
		fprintf(stderr, "bench_cp: cannot set up\n");
		return 1;
	}
	rss0 = rss_kb();
	t0 = bench_wall_time();
	c0 = cpu_seconds();
	while ((got = cmd_next(r, &c, &err)) != 0) {
		n++;
		if (got < 0 || (apply && cmd_exec(&env, &c, &err) < 0))
			refused++;
	}
	secs = bench_wall_time() - t0;
	cpu = cpu_seconds() - c0;
	rss1 = rss_kb();
	printf("bench_cp %s: %lu commands, %lu refused, %.2f s wall, %.2f s CPU, "
	       "%.0f bytes per add+spdadd pair\n", apply ? "apply" : "parse", n, refused, secs,
	       cpu, n ? (double)(rss1 - rss0) * 1024 / ((double)n / 2) : 0);
	cmd_reader_free(r);
	return 0;
}
