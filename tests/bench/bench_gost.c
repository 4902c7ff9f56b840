// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench_gost.c - speed of the RFC 9227 transforms (crypto_gost.c, mgm.c) against the raw
 * block cipher they run on, measured in the same run on one core (a benchmark, never a
 * test). For 64, 512 and 1420-byte payloads: the engine's raw rate over a buffer of that
 * size (kuznyechik-ecb; for Magma the gost89-CFB batch that the transforms use), aead_seal
 * and aead_open in MB/s and Mpps, and the share of the ceiling: raw / 2 for the AEAD
 * transforms (two block encryptions per block: keystream and hash key), raw / 1 for the
 * MAC-only ones (hash keys only). Then the same with the portable GF(2^n) code, the other
 * raw Magma paths, and kuznyechik-ecb from the engine against the gostprov provider (in a
 * child process), to back the choices made in crypto_gost.c.
 * Time-bounded: 0.3 s of thread CPU time per figure, the figures of a row taken in turns.
 * Run by `make bench`, or build/bench/bench_gost [secs].
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/provider.h>

#include "crypto/crypto.h"
#include "crypto/crypto_gost.h"
#include "crypto/mgm.h"

static const size_t sizes[] = {64, 512, 1420};
static double secs = 0.3;

/* CPU time of this thread: what the operation costs on its core, whatever else the machine
 * runs meanwhile (wall time on a shared machine measures the neighbours). */
static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

struct op {
	int (*fn)(void *);
	void *arg;
	long n;	  /* calls made */
	double t; /* seconds spent */
};

static void slice(struct op *o, double len)
{
	double t0 = now(), t;

	do {
		for (int i = 0; i < 32; i++)
			if (o->fn(o->arg)) {
				fprintf(stderr, "bench_gost: operation failed\n");
				exit(1);
			}
		o->n += 32;
		t = now() - t0;
	} while (t < len);
	o->t += t;
}

/* 10 ms of each op in turn until each has had `secs`: figures compared with each other are
 * taken side by side, under the same load on the machine and the same clock. */
static void run_ops(struct op *ops, size_t nops)
{
	for (size_t i = 0; i < nops; i++)
		ops[i].n = 0, ops[i].t = 0;
	while (ops[0].t < secs)
		for (size_t i = 0; i < nops; i++)
			slice(&ops[i], 0.01);
}

static double per_sec(const struct op *o)
{
	return (double)o->n / o->t;
}

/* --- raw block cipher --------------------------------------------------------------------- */
struct raw_job {
	struct gost_block *b;
	uint8_t *in, *out;
	size_t len;
};

static int raw_op(void *arg)
{
	struct raw_job *j = arg;

	return crypto_gost_block_raw(j->b, j->out, j->in, j->len);
}

static int ecb_op(void *arg)
{
	struct raw_job *j = arg;

	return crypto_gost_block_ecb(j->b, j->out, j->in, j->len / crypto_gost_block_size(j->b));
}

static void raw_job_init(struct raw_job *j, enum gost_block_kind kind, size_t len)
{
	static uint8_t in[4096], out[4096];
	uint8_t key[32];
	size_t n;

	memset(key, 0x5a, sizeof(key));
	j->b = crypto_gost_block_new(kind, key);
	if (!j->b) {
		perror("crypto_gost_block_new");
		exit(1);
	}
	n = crypto_gost_block_size(j->b);
	j->in = in;
	j->out = out;
	j->len = (len + n - 1) / n * n;
}

/* --- the transforms ------------------------------------------------------------------------ */
struct aead_job {
	struct aead *a;
	struct aead_req r;
	const uint8_t *sealed; /* to restore before each open (decryption is in place) */
};

static int seal_op(void *arg)
{
	struct aead_job *j = arg;

	return aead_seal(j->a, 0, &j->r);
}

static int open_op(void *arg)
{
	struct aead_job *j = arg;

	memcpy(j->r.data, j->sealed, j->r.len);
	return aead_open(j->a, 0, &j->r);
}

struct result {
	double raw, seal, open;
};

static void run_aead(enum aead_cipher c, size_t len, struct result *res)
{
	static uint8_t data_s[2048], data_o[2048], sealed[2048];
	uint8_t km[ESP_KEYMAT_MAX], aad[8] = {1, 2, 3, 4, 0, 0, 0, 1}, iv[8];
	uint8_t icv_s[16], icv_o[16];
	bool kuz = c == AEAD_KUZNYECHIK_MGM || c == AEAD_KUZNYECHIK_MGM_MAC;
	enum gost_block_kind kind = kuz ? GOST_BLOCK_KUZNYECHIK : GOST_BLOCK_MAGMA;
	struct aead_job js, jo;
	struct raw_job raw;
	struct op ops[3] = {
	    {raw_op, &raw, 0, 0},
	    {seal_op, &js, 0, 0},
	    {open_op, &jo, 0, 0},
	};

	memset(km, 0x33, sizeof(km));
	memset(data_s, 0xab, sizeof(data_s));
	memset(data_o, 0xab, sizeof(data_o));
	js.a = jo.a = aead_new(c, km, aead_keymat_len(c), 1);
	if (!js.a || aead_next_iv(js.a, 1, len, iv)) {
		perror("aead_new");
		exit(1);
	}
	/* separate buffers: seal keeps sealing its own; open always gets the same packet */
	js.r = (struct aead_req){aad, sizeof(aad), iv, data_s, len, icv_s};
	jo.r = (struct aead_req){aad, sizeof(aad), iv, data_o, len, icv_o};
	if (seal_op(&jo))
		exit(1);
	memcpy(sealed, data_o, len);
	jo.sealed = sealed;
	raw_job_init(&raw, kind, len);
	run_ops(ops, 3);
	res->raw = per_sec(&ops[0]) * (double)raw.len / 1e6;
	res->seal = per_sec(&ops[1]) * (double)len / 1e6;
	res->open = per_sec(&ops[2]) * (double)len / 1e6;
	crypto_gost_block_free(raw.b);
	aead_free(js.a);
}

static void print_row(enum aead_cipher c, size_t len)
{
	bool mac = c == AEAD_KUZNYECHIK_MGM_MAC || c == AEAD_MAGMA_MGM_MAC;
	struct result r;
	double ceil;

	run_aead(c, len, &r);
	ceil = mac ? r.raw : r.raw / 2;
	printf("%-19s %5zu %9.1f %9.1f | %9.1f %7.3f %5.0f%% | %9.1f %7.3f %5.0f%%\n",
	       aead_cipher_name(c), len, r.raw, ceil, r.seal, r.seal / (double)len,
	       100 * r.seal / ceil, r.open, r.open / (double)len, 100 * r.open / ceil);
	fflush(stdout);
}

static void print_header(void)
{
	printf("%-19s %5s %9s %9s | %9s %7s %6s | %9s %7s %6s\n", "transform", "bytes", "raw MB/s",
	       "ceil MB/s", "seal MB/s", "Mpps", "%ceil", "open MB/s", "Mpps", "%ceil");
}

static void print_aead_table(void)
{
	static const enum aead_cipher cs[] = {
	    AEAD_KUZNYECHIK_MGM,
	    AEAD_MAGMA_MGM,
	    AEAD_KUZNYECHIK_MGM_MAC,
	    AEAD_MAGMA_MGM_MAC,
	};

	print_header();
	for (size_t c = 0; c < sizeof(cs) / sizeof(cs[0]); c++)
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
			print_row(cs[c], sizes[s]);
	printf("ceil = raw / 2 for the AEAD transforms (E(Y_i) and H_i per block), raw for the\n"
	       "MAC-only ones (H_i only). MGM also needs E(0||ICN), E(1||ICN), H for the AAD and\n"
	       "length blocks and E(sum): at 1420 B 183 encryptions against the ceiling's 178.\n");
}

/* The same at 1420 bytes with the portable GF(2^n) multiplication (CPUs without PCLMULQDQ). */
static void print_portable(void)
{
	if (mgm_gf_select(MGM_GF_PORTABLE))
		return;
	printf("\nWith the portable GF(2^n) multiplication instead of PCLMULQDQ:\n");
	print_header();
	print_row(AEAD_KUZNYECHIK_MGM, 1420);
	print_row(AEAD_MAGMA_MGM, 1420);
	mgm_gf_select(MGM_GF_AUTO);
}

/* --- the alternatives ---------------------------------------------------------------------- */
static void print_magma_paths(void)
{
	static const struct {
		const char *name;
		enum gost_block_kind kind;
		bool ecb;
	} rows[] = {
	    {"gost89-cfb decrypt, one call (raw)", GOST_BLOCK_MAGMA, false},
	    {"gost89-cfb as ECB batch (what MGM uses)", GOST_BLOCK_MAGMA, true},
	    {"magma-ctr, one call (keystream only)", GOST_BLOCK_MAGMA_CTR, false},
	    {"magma-cbc zero IV, one call per block", GOST_BLOCK_MAGMA_CBC1, true},
	};
	double mbps[4][3];

	for (size_t s = 0; s < 3; s++) {
		struct raw_job j[4];
		struct op o[4];

		for (size_t i = 0; i < 4; i++) {
			raw_job_init(&j[i], rows[i].kind, sizes[s]);
			o[i] = (struct op){rows[i].ecb ? ecb_op : raw_op, &j[i], 0, 0};
		}
		run_ops(o, 4);
		for (size_t i = 0; i < 4; i++) {
			mbps[i][s] = per_sec(&o[i]) * (double)j[i].len / 1e6;
			crypto_gost_block_free(j[i].b);
		}
	}
	printf("\nMagma raw paths in gost-engine, side by side (MB/s; ECB batch includes byte "
	       "swaps):\n");
	printf("%-40s %9s %9s %9s\n", "path", "64", "512", "1420");
	for (size_t i = 0; i < 4; i++)
		printf("%-40s %9.1f %9.1f %9.1f\n", rows[i].name, mbps[i][0], mbps[i][1],
		       mbps[i][2]);
}

struct prov_job {
	EVP_CIPHER_CTX *ctx;
	uint8_t in[1424], out[1424];
	int len;
};

static int prov_op(void *arg)
{
	struct prov_job *j = arg;
	int outl;

	return EVP_EncryptUpdate(j->ctx, j->out, &outl, j->in, j->len) ? 0 : -EIO;
}

static double kuz_mbps[2][3]; /* [engine, provider][size]; < 0: not available */

/* kuznyechik-ecb from the gost ENGINE (as crypto_gost.c uses it) and from the gostprov
 * provider, side by side. In a child: the provider must be loaded before the engine, and
 * the parent's own figures should not depend on it. Results come back through a pipe. */
static void child_kuz(int fd)
{
	static struct prov_job j;
	uint8_t key[32] = {0x5a};
	double r[2][3] = {{-1, -1, -1}, {-1, -1, -1}};
	EVP_CIPHER *c;

	if (OSSL_PROVIDER_load(NULL, "gostprov") && OSSL_PROVIDER_load(NULL, "default") &&
	    (c = EVP_CIPHER_fetch(NULL, "kuznyechik-ecb", NULL)) &&
	    (j.ctx = EVP_CIPHER_CTX_new()) && EVP_EncryptInit_ex2(j.ctx, c, key, NULL, NULL) &&
	    crypto_init(CRYPTO_AUTO) == 0 && crypto_gost_available()) {
		EVP_CIPHER_CTX_set_padding(j.ctx, 0);
		for (size_t s = 0; s < 3; s++) {
			struct raw_job raw;
			struct op o[2] = {{raw_op, &raw, 0, 0}, {prov_op, &j, 0, 0}};

			raw_job_init(&raw, GOST_BLOCK_KUZNYECHIK, sizes[s]);
			j.len = (int)raw.len;
			run_ops(o, 2);
			r[0][s] = per_sec(&o[0]) * j.len / 1e6;
			r[1][s] = per_sec(&o[1]) * j.len / 1e6;
			crypto_gost_block_free(raw.b);
		}
	}
	if (write(fd, r, sizeof(r)) != sizeof(r))
		_exit(1);
	_exit(0);
}

static void measure_kuz_paths(void)
{
	int fds[2];
	pid_t pid;

	for (size_t i = 0; i < 2; i++)
		for (size_t s = 0; s < 3; s++)
			kuz_mbps[i][s] = -1;
	if (pipe(fds))
		return;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		child_kuz(fds[1]);
	}
	close(fds[1]);
	if (pid > 0) {
		if (read(fds[0], kuz_mbps, sizeof(kuz_mbps)) != sizeof(kuz_mbps))
			kuz_mbps[0][0] = kuz_mbps[1][0] = -1;
		waitpid(pid, NULL, 0);
	}
	close(fds[0]);
}

static void print_kuz_paths(void)
{
	static const char *const names[] = {
	    "kuznyechik-ecb, gost ENGINE (used)",
	    "kuznyechik-ecb, gostprov provider",
	};

	printf("\nKuznyechik raw, engine against provider, side by side (MB/s):\n");
	printf("%-40s %9s %9s %9s\n", "path", "64", "512", "1420");
	for (size_t i = 0; i < 2; i++) {
		printf("%-40s", names[i]);
		for (size_t s = 0; s < 3; s++) {
			if (kuz_mbps[i][s] < 0)
				printf(" %9s", "n/a");
			else
				printf(" %9.1f", kuz_mbps[i][s]);
		}
		printf("\n");
	}
}

static void pin_one_core(void)
{
	cpu_set_t set;
	int cpu = sched_getcpu();

	CPU_ZERO(&set);
	CPU_SET(cpu < 0 ? 0 : cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		perror("sched_setaffinity");
	printf("pinned to CPU %d, %.2f s of thread CPU time per figure, figures of one row\n"
	       "taken side by side in 10 ms turns\n",
	       cpu < 0 ? 0 : cpu, secs);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		secs = atof(argv[1]) > 0 ? atof(argv[1]) : secs;
	pin_one_core();
	measure_kuz_paths(); /* before the engine is loaded in this process */
	crypto_init(CRYPTO_AUTO);
	if (!crypto_gost_available()) {
		printf("bench_gost: gost-engine not loadable, nothing to measure\n");
		return 1;
	}
	printf("GF(2^n) multiply: %s; Magma ECB: %s\n\n", mgm_gf_name(), crypto_gost_magma_path());
	print_aead_table();
	print_portable();
	print_magma_paths();
	print_kuz_paths();
	crypto_fini();
	return 0;
}
