// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench_gost.c - speed of the RFC 9227 transforms (crypto_gost.c, mgm.c) on each block cipher
 * implementation: gost-engine (the reference), table and ct (kuznyechik.c, magma.c), on one
 * core and in one run, so that the ratios to the engine are taken under the same load (a
 * benchmark, never a test). Prints the CPU's flags and what `auto` chose; then for each
 * transform and 64, 512, 1420-byte payloads aead_seal and aead_open in MB/s per
 * implementation with their ratio to the engine (each packet with its own IV, consecutive
 * as in traffic: our implementations make the next packet's first MGM blocks with this
 * one's tag, gost-engine's path stays as it was); then each implementation's raw ECB rate
 * (what MGM calls); the table Kuznyechik against the cost of its table loads alone (the
 * method's ceiling here); then the older baselines: the portable GF(2^n) code,
 * gost-engine's Magma paths, and kuznyechik-ecb from the engine against the gostprov
 * provider (in a child).
 * Every figure is the median of `rounds` rounds (ratios: the median of the per-round
 * ratios); in a round the figures of a row are taken side by side in 10 ms turns until each
 * has had `secs` of thread CPU time. Run by `make bench`, or
 * build/bench/bench_gost [secs [rounds]] (default 0.1 s, 5 rounds).
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <immintrin.h>
#include <openssl/evp.h>
#include <openssl/provider.h>

#include "crypto/crypto.h"
#include "crypto/crypto_gost.h"
#include "crypto/mgm.h"
#include "bench_time.h"

#define MAX_ROUNDS 15

static const size_t sizes[] = {64, 512, 1420};
static double secs = 0.1;
static int rounds = 5;

/* CPU time of this thread: what the operation costs on its core, whatever else the machine
 * runs meanwhile (wall time on a shared machine measures the neighbours). */
struct op {
	int (*fn)(void *);
	void *arg;
	long n;	  /* calls made */
	double t; /* seconds spent */
};

static void slice(struct op *o, double len)
{
	double t0 = bench_cpu_time(), t;

	do {
		for (int i = 0; i < 32; i++)
			if (o->fn(o->arg)) {
				fprintf(stderr, "bench_gost: operation failed\n");
				exit(1);
			}
		o->n += 32;
		t = bench_cpu_time() - t0;
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

/* --- the implementations ------------------------------------------------------------------ */
enum { I_ENGINE, I_TABLE, I_CT, NIMPL };
static const enum gost_impl impl_ids[NIMPL] = {GOST_IMPL_ENGINE, GOST_IMPL_TABLE, GOST_IMPL_CT};

/* A row: nops ops (bytes per call each), `rounds` rounds side by side. mbps[i] is op i's
 * median MB/s; ratio[i] the median over rounds of op i's rate over op base[i]'s. */
struct row {
	struct op op[2 * NIMPL];
	size_t bytes[2 * NIMPL];
	int base[2 * NIMPL];
	size_t nops;
	double mbps[2 * NIMPL], ratio[2 * NIMPL];
};

static void run_row(struct row *r)
{
	double rate[2 * NIMPL][MAX_ROUNDS], q[2 * NIMPL][MAX_ROUNDS];

	for (int k = 0; k < rounds; k++) {
		run_ops(r->op, r->nops);
		for (size_t i = 0; i < r->nops; i++)
			rate[i][k] = per_sec(&r->op[i]) * (double)r->bytes[i] / 1e6;
		for (size_t i = 0; i < r->nops; i++)
			q[i][k] = rate[i][k] / rate[r->base[i]][k];
	}
	for (size_t i = 0; i < r->nops; i++) {
		r->mbps[i] = bench_median(rate[i], rounds);
		r->ratio[i] = bench_median(q[i], rounds);
	}
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

/* false if that implementation is not on this CPU */
static bool raw_job_init(struct raw_job *j, enum gost_block_kind kind, enum gost_impl impl,
			 size_t len)
{
	static uint8_t in[16384], out[16384];
	uint8_t key[32];
	size_t n;

	memset(key, 0x5a, sizeof(key));
	j->b = crypto_gost_block_new_impl(kind, impl, key);
	if (!j->b && errno == ENOTSUP && impl == GOST_IMPL_CT)
		return false;
	if (!j->b) {
		perror("crypto_gost_block_new");
		exit(1);
	}
	n = crypto_gost_block_size(j->b);
	j->in = in;
	j->out = out;
	j->len = (len + n - 1) / n * n;
	return true;
}

/* --- the transforms ------------------------------------------------------------------------
 * Every packet has its own IV, as in traffic: seal takes the next sequence number each call
 * (within the first key-tree leaf, back to 1 before its end: the leaf stays cached); open
 * goes round a ring of RING packets sealed with consecutive sequence numbers. */
#define RING 16

struct aead_job {
	struct aead *a;
	struct aead_req r;
	uint64_t seq, seq_wrap; /* seal: the last sequence number used; wrap before seq_wrap */
	unsigned next;		/* open: the ring's next packet */
	uint8_t data[2048], aad[8], iv[8], icv[16];
	struct {
		uint8_t data[2048], iv[8], icv[16];
	} ring[RING];
};

static int seal_op(void *arg)
{
	struct aead_job *j = arg;

	j->seq = j->seq + 1 < j->seq_wrap ? j->seq + 1 : 1;
	if (aead_next_iv(j->a, j->seq, j->r.len, j->iv))
		return -1;
	return aead_seal(j->a, 0, &j->r);
}

static int open_op(void *arg)
{
	struct aead_job *j = arg;

	memcpy(j->data, j->ring[j->next].data, j->r.len);
	memcpy(j->iv, j->ring[j->next].iv, 8);
	memcpy(j->icv, j->ring[j->next].icv, 16);
	j->next = (j->next + 1) % RING;
	return aead_open(j->a, 0, &j->r);
}

/* An SA of cipher c on impl; for open, RING packets of len bytes sealed by it. false if impl
 * is not on this CPU. */
static bool aead_job_init(struct aead_job *j, enum aead_cipher c, enum gost_impl impl, size_t len,
			  bool for_open)
{
	uint8_t km[ESP_KEYMAT_MAX];

	memset(km, 0x33, sizeof(km));
	memset(j->data, 0xab, sizeof(j->data));
	memcpy(j->aad, (uint8_t[8]){1, 2, 3, 4, 0, 0, 0, 1}, 8);
	if (crypto_gost_select(impl))
		return false;
	j->a = aead_new(c, km, aead_keymat_len(c), 1);
	crypto_gost_select(GOST_IMPL_AUTO);
	if (!j->a) {
		perror("aead_new");
		exit(1);
	}
	j->r = (struct aead_req){j->aad, sizeof(j->aad), j->iv, j->data, len, j->icv};
	j->seq = 0;
	j->seq_wrap = ((uint64_t)1 << crypto_gost_pnum_bits(j->a)) - 1;
	j->next = 0;
	for (unsigned i = 0; for_open && i < RING; i++) {
		memset(j->data, 0xab, len);
		if (seal_op(j))
			exit(1);
		memcpy(j->ring[i].data, j->data, len);
		memcpy(j->ring[i].iv, j->iv, 8);
		memcpy(j->ring[i].icv, j->icv, 16);
	}
	return true;
}

static void print_ratio_cols(const struct row *r, const int *col, int first)
{
	for (int i = first; i < NIMPL; i++) {
		if (col[i] < 0)
			printf(" %6s", "n/a");
		else
			printf(" %6.2f", r->ratio[col[i]]);
	}
}

static void print_mbps_cols(const struct row *r, const int *col)
{
	for (int i = 0; i < NIMPL; i++) {
		if (col[i] < 0)
			printf(" %7s", "n/a");
		else
			printf(" %7.1f", r->mbps[col[i]]);
	}
}

/* seal and open of one transform at one size on every implementation */
static void print_aead_row(enum aead_cipher c, size_t len)
{
	static struct aead_job js[NIMPL], jo[NIMPL];
	int cs[NIMPL], co[NIMPL];
	struct row r = {.nops = 0};

	for (int i = 0; i < NIMPL; i++) {
		cs[i] = co[i] = -1;
		if (!aead_job_init(&js[i], c, impl_ids[i], len, false))
			continue;
		aead_job_init(&jo[i], c, impl_ids[i], len, true);
		cs[i] = (int)r.nops;
		r.op[r.nops] = (struct op){seal_op, &js[i], 0, 0};
		r.bytes[r.nops] = len;
		r.base[r.nops++] = cs[I_ENGINE];
		co[i] = (int)r.nops;
		r.op[r.nops] = (struct op){open_op, &jo[i], 0, 0};
		r.bytes[r.nops] = len;
		r.base[r.nops++] = co[I_ENGINE];
	}
	run_row(&r);
	printf("%-18s %5zu |", aead_cipher_name(c), len);
	print_mbps_cols(&r, cs);
	printf(" |");
	print_ratio_cols(&r, cs, I_TABLE);
	printf(" |");
	print_mbps_cols(&r, co);
	printf(" |");
	print_ratio_cols(&r, co, I_TABLE);
	printf("\n");
	fflush(stdout);
	for (int i = 0; i < NIMPL; i++) {
		if (cs[i] >= 0) {
			aead_free(js[i].a);
			aead_free(jo[i].a);
		}
	}
}

static void print_aead_header(void)
{
	printf("%-18s %5s | %-23s | %-13s | %-23s | %-13s\n", "", "", "seal MB/s", "seal x engine",
	       "open MB/s", "open x engine");
	printf("%-18s %5s | %7s %7s %7s | %6s %6s | %7s %7s %7s | %6s %6s\n", "transform", "bytes",
	       "engine", "table", "ct", "table", "ct", "engine", "table", "ct", "table", "ct");
}

static void print_aead_table(void)
{
	static const enum aead_cipher cs[] = {
	    AEAD_KUZNYECHIK_MGM,
	    AEAD_MAGMA_MGM,
	    AEAD_KUZNYECHIK_MGM_MAC,
	    AEAD_MAGMA_MGM_MAC,
	};

	print_aead_header();
	for (size_t c = 0; c < sizeof(cs) / sizeof(cs[0]); c++)
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
			print_aead_row(cs[c], sizes[s]);
	printf("x engine: the median over the rounds of (rate / the engine's rate in the same\n"
	       "round). Packets: aead_seal/aead_open on a payload of that many bytes with an\n"
	       "8-byte AAD, each with its own IV (consecutive sequence numbers), the key-tree\n"
	       "leaf cached (as between leaf changes).\n");
}

/* Raw ECB (what MGM calls: crypto_gost_block_ecb over one buffer) per implementation. */
static void print_raw_table(void)
{
	static const size_t raw_sizes[] = {64, 512, 1420, 16384};
	static const enum gost_block_kind kinds[] = {GOST_BLOCK_KUZNYECHIK, GOST_BLOCK_MAGMA};

	printf("\nRaw ECB, one call over a buffer (MB/s, x engine):\n");
	printf("%-10s %6s | %7s %7s %7s | %6s %6s\n", "cipher", "bytes", "engine", "table", "ct",
	       "table", "ct");
	for (size_t k = 0; k < 2; k++) {
		for (size_t s = 0; s < 4; s++) {
			struct raw_job j[NIMPL];
			struct row r = {.nops = 0};
			int col[NIMPL];

			for (int i = 0; i < NIMPL; i++) {
				col[i] = -1;
				if (!raw_job_init(&j[i], kinds[k], impl_ids[i], raw_sizes[s]))
					continue;
				col[i] = (int)r.nops;
				r.op[r.nops] = (struct op){ecb_op, &j[i], 0, 0};
				r.bytes[r.nops] = j[i].len;
				r.base[r.nops++] = col[I_ENGINE];
			}
			run_row(&r);
			printf("%-10s %6zu |", k ? "Magma" : "Kuznyechik", raw_sizes[s]);
			print_mbps_cols(&r, col);
			printf(" |");
			print_ratio_cols(&r, col, I_TABLE);
			printf("\n");
			fflush(stdout);
			for (int i = 0; i < NIMPL; i++)
				if (col[i] >= 0)
					crypto_gost_block_free(j[i].b);
		}
	}
}

/* The same at 1420 bytes with the portable GF(2^n) multiplication (CPUs without PCLMULQDQ). */
static void print_portable(void)
{
	if (mgm_gf_select(MGM_GF_PORTABLE))
		return;
	printf("\nWith the portable GF(2^n) multiplication instead of PCLMULQDQ:\n");
	print_aead_header();
	print_aead_row(AEAD_KUZNYECHIK_MGM, 1420);
	print_aead_row(AEAD_MAGMA_MGM, 1420);
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
			raw_job_init(&j[i], rows[i].kind, GOST_IMPL_ENGINE, sizes[s]);
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

			raw_job_init(&raw, GOST_BLOCK_KUZNYECHIK, GOST_IMPL_ENGINE, sizes[s]);
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

/* --- the table method's ceiling ------------------------------------------------------------
 * What the loads of table Kuznyechik cost by themselves on this CPU: one block is 9 rounds of
 * 16 loads of a 16-byte row, row j from table j of 256 rows. Here they come at random rows
 * (xorshift), XORed into eight accumulators, nothing waiting on a load: the rate the loads
 * and their cache allow, with the tables' 64 KB (the kernel's), and folded onto 32 KB and
 * 4 KB (timing only), beside the kernel itself (raw ECB and the MGM counter path). */
struct ceil_job {
	unsigned fold; /* tables used: 16, 8 or 1 */
	uint64_t x[4], sink;
};

#define CEIL_BLOCKS 180

static uint8_t ceil_tab[16 * 4096] __attribute__((aligned(64)));

typedef uint64_t ceil_v2 __attribute__((vector_size(16)));

#define CEIL_ROW(j, w, sh)                                                                         \
	(*(const ceil_v2 *)(ceil_tab + 4096 * ((j) & (fold - 1)) + ((w) >> (sh) & 0xff0)))

/* Per block and round 16 loads, their rows from four xorshift64 streams side by side in one
 * 256-bit register (no chain from one load to the next). */
__attribute__((target("avx2"))) static inline __attribute__((always_inline)) void
ceil_run(const unsigned fold, __m256i *state, uint64_t *sink)
{
	ceil_v2 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, a4 = {0}, a5 = {0}, a6 = {0}, a7 = {0};
	__m256i x = *state;

	for (int b = 0; b < CEIL_BLOCKS * 9; b++) {
		__m128i h;
		uint64_t w0, w1, w2, w3;

		x = _mm256_xor_si256(x, _mm256_slli_epi64(x, 13));
		x = _mm256_xor_si256(x, _mm256_srli_epi64(x, 7));
		x = _mm256_xor_si256(x, _mm256_slli_epi64(x, 17));
		h = _mm256_extracti128_si256(x, 1);
		w0 = (uint64_t)_mm_cvtsi128_si64(_mm256_castsi256_si128(x));
		w1 = (uint64_t)_mm_extract_epi64(_mm256_castsi256_si128(x), 1);
		w2 = (uint64_t)_mm_cvtsi128_si64(h);
		w3 = (uint64_t)_mm_extract_epi64(h, 1);
		a0 ^= CEIL_ROW(0, w0, 4), a1 ^= CEIL_ROW(1, w0, 20);
		a2 ^= CEIL_ROW(2, w0, 36), a3 ^= CEIL_ROW(3, w0, 52);
		a4 ^= CEIL_ROW(4, w1, 4), a5 ^= CEIL_ROW(5, w1, 20);
		a6 ^= CEIL_ROW(6, w1, 36), a7 ^= CEIL_ROW(7, w1, 52);
		a0 ^= CEIL_ROW(8, w2, 4), a1 ^= CEIL_ROW(9, w2, 20);
		a2 ^= CEIL_ROW(10, w2, 36), a3 ^= CEIL_ROW(11, w2, 52);
		a4 ^= CEIL_ROW(12, w3, 4), a5 ^= CEIL_ROW(13, w3, 20);
		a6 ^= CEIL_ROW(14, w3, 36), a7 ^= CEIL_ROW(15, w3, 52);
	}
	a0 ^= a1 ^ a2 ^ a3 ^ a4 ^ a5 ^ a6 ^ a7;
	*sink += a0[0] ^ a0[1];
	*state = x;
}

__attribute__((target("avx2"))) static int ceil_op(void *arg)
{
	struct ceil_job *j = arg;
	__m256i x = _mm256_loadu_si256((const __m256i *)j->x);

	if (j->fold == 16)
		ceil_run(16, &x, &j->sink);
	else if (j->fold == 8)
		ceil_run(8, &x, &j->sink);
	else
		ceil_run(1, &x, &j->sink);
	_mm256_storeu_si256((__m256i *)j->x, x);
	return 0;
}

/* The kernel on blocks it has not seen: each call changes a byte outside the counters
 * (MGM counter path) or a byte of every block (ECB), so no call finds the last one's rows
 * in the cache. */
struct ctr_job {
	struct gost_block *b;
	struct mgm_cipher mc;
	uint8_t y[16], z[16], in[CEIL_BLOCKS * 16], out[CEIL_BLOCKS * 16];
};

static int ctr_op(void *arg)
{
	struct ctr_job *j = arg;

	j->y[0]++;
	j->z[8]++;
	return j->mc.ctr(j->mc.key, j->out, j->y, CEIL_BLOCKS / 2, j->z, CEIL_BLOCKS / 2);
}

static int ecb_fresh_op(void *arg)
{
	struct ctr_job *j = arg;

	for (int b = 0; b < CEIL_BLOCKS; b++)
		j->in[16 * b]++;
	return crypto_gost_block_ecb(j->b, j->out, j->in, CEIL_BLOCKS);
}

static void print_ceiling(void)
{
	static struct ceil_job cj[3] = {{.fold = 16}, {.fold = 8}, {.fold = 1}};
	static struct ctr_job tj;
	struct row r = {.nops = 0};
	uint8_t key[32];

	__builtin_cpu_init();
	if (!__builtin_cpu_supports("avx2"))
		return;
	for (size_t i = 0; i < sizeof(ceil_tab); i++)
		ceil_tab[i] = (uint8_t)(i * 131 + (i >> 9));
	for (int i = 0; i < 3; i++)
		for (int k = 0; k < 4; k++)
			cj[i].x[k] = 88172645463325252ull * (uint64_t)(2 * k + 1);
	memset(key, 0x5a, sizeof(key));
	tj.b = crypto_gost_block_new_impl(GOST_BLOCK_KUZNYECHIK, GOST_IMPL_TABLE, key);
	if (!tj.b)
		return;
	crypto_gost_block_mgm(tj.b, &tj.mc);
	for (size_t i = 0; i < sizeof(tj.in); i++)
		tj.in[i] = (uint8_t)(i * 7 + (i >> 8));
	for (int i = 0; i < 3; i++) {
		r.op[r.nops] = (struct op){ceil_op, &cj[i], 0, 0};
		r.bytes[r.nops] = CEIL_BLOCKS * 16;
		r.base[r.nops++] = 0;
	}
	r.op[r.nops] = (struct op){ecb_fresh_op, &tj, 0, 0};
	r.bytes[r.nops] = CEIL_BLOCKS * 16;
	r.base[r.nops++] = 0;
	if (tj.mc.ctr) {
		r.op[r.nops] = (struct op){ctr_op, &tj, 0, 0};
		r.bytes[r.nops] = CEIL_BLOCKS * 16;
		r.base[r.nops++] = 0;
	}
	run_row(&r);
	printf("\nTable Kuznyechik against the cost of its loads alone (ns per 16-byte block, in\n"
	       "calls of %d blocks not seen before; 144 random 16-byte rows per block, nothing\n"
	       "else):\n",
	       CEIL_BLOCKS);
	printf("  loads alone, 16 tables (64 KB, the kernel's)  %6.1f ns\n", 16e3 / r.mbps[0]);
	printf("  loads alone, folded onto 32 KB (8 tables)      %6.1f ns\n", 16e3 / r.mbps[1]);
	printf("  loads alone, folded onto 4 KB (1 table)        %6.1f ns\n", 16e3 / r.mbps[2]);
	printf("  table kernel, ECB (144 loads)                  %6.1f ns\n", 16e3 / r.mbps[3]);
	if (tj.mc.ctr)
		printf("  table kernel, MGM counter path (129 loads)     %6.1f ns\n",
		       16e3 / r.mbps[4]);
	crypto_gost_block_free(tj.b);
}

/* The CPU features the implementations could use, as the kernel reports them. */
static void print_cpu(void)
{
	static const char *const want[] = {"pclmulqdq", "ssse3",      "avx2", "bmi2", "avx512f",
					   "avx512bw",	"avx512vbmi", "gfni", "vaes", "vpclmulqdq"};
	char line[8192], *flags = NULL;
	FILE *f = fopen("/proc/cpuinfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "flags", 5) && (flags = strchr(line, ':')))
			break;
	if (f)
		fclose(f);
	printf("cpu flags:");
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char w[32];
		const char *p = flags;
		bool has = false;

		snprintf(w, sizeof(w), " %s", want[i]);
		while (p && (p = strstr(p, w)) && !has) {
			char end = p[strlen(w)];

			has = end == ' ' || end == '\n' || end == 0;
			p += strlen(w);
		}
		printf(" %s%s", has ? "" : "no-", want[i]);
	}
	printf("\n");
}

static void pin_one_core(void)
{
	cpu_set_t set;
	int cpu = sched_getcpu();

	CPU_ZERO(&set);
	CPU_SET(cpu < 0 ? 0 : cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		perror("sched_setaffinity");
	printf("pinned to CPU %d; every figure the median of %d rounds, each %.2f s of thread\n"
	       "CPU time per figure, the figures of a row taken side by side in 10 ms turns\n",
	       cpu < 0 ? 0 : cpu, rounds, secs);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		secs = atof(argv[1]) > 0 ? atof(argv[1]) : secs;
	if (argc > 2 && atoi(argv[2]) > 0)
		rounds = atoi(argv[2]) < MAX_ROUNDS ? atoi(argv[2]) : MAX_ROUNDS;
	pin_one_core();
	print_cpu();
	measure_kuz_paths(); /* before the engine is loaded in this process */
	crypto_init(CRYPTO_AUTO);
	if (!crypto_gost_available()) {
		printf("bench_gost: gost-engine not loadable, nothing to measure\n");
		return 1;
	}
	printf("GOST block ciphers: %s; GF(2^n) multiply: %s; engine's Magma ECB: %s\n\n",
	       crypto_gost_impl_name(), mgm_gf_name(), crypto_gost_magma_path());
	print_aead_table();
	print_raw_table();
	print_ceiling();
	print_portable();
	print_magma_paths();
	print_kuz_paths();
	crypto_fini();
	return 0;
}
