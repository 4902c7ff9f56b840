// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench_esp.c - ESP encrypt and decrypt on one core, in process (a benchmark, never a test),
 * against the raw AES-GCM rate of the same library measured in the same run.
 *
 * The packets are what a worker sees: tunnel-mode IPv4 packets of 64, 512 and 1420 bytes
 * (IPv4 + UDP + payload; 1420 encapsulates into 1476 bytes) already in memory, one per
 * 2 KB frame at the UMEM offset (256 B XDP headroom + Ethernet), a batch of 256-1024
 * frames (what fits L2) processed in bursts of 64. Encrypt is what worker.c and pipeline.c
 * do for a plaintext packet without the I/O: parse, policy by id (the XDP metadata, looked
 * up once per run of packets with the same id), esp_out_burst; decrypt: parse, the SA as
 * classify finds it (by SPI, looked up once per run of one SPI, its direction and addresses
 * checked per packet), esp_in_burst, the anti-replay window on (every packet a new sequence
 * number, in order). Refilling the frames (a copy, and the encryption of the packets
 * decrypt then opens) is not timed.
 *
 * Raw rate: IMB_AES{128,256}_GCM_ENC over one hot buffer of the packet's size with an
 * 8-byte AAD and a 12-byte nonce, and the same at the length ESP encrypts (the packet plus
 * 2-4 bytes of trailer: the GCM's last block is then partial at 64 and 512 bytes); for
 * OpenSSL an in-process EVP loop (nonce init, AAD update, update, final, tag: what a packet
 * needs) and `openssl speed -evp aes-N-gcm -bytes SIZE`, run by this program on the same
 * CPU. The ratios are ESP packets/s over raw calls/s at the same size.
 *
 * Time: CPU time of this thread (CLOCK_THREAD_CPUTIME_ID: a neighbour's load on the shared
 * machine costs wall time, not ours), pinned to one CPU; the ops of one row run in turns of
 * 10 ms until each has had `secs`; each row is measured in `rounds` rounds interleaved with
 * the other rows, and the table shows the medians (ratios: median of the per-round ratios).
 * A clock read costs ~0.7 us here (a system call under KVM): each timed interval covers a
 * whole batch (~100 us) and the calibrated cost of one read is subtracted.
 *
 * Run by `make bench` (scripts/bench.sh), or: build/bench/bench_esp [-s secs] [-r rounds]
 * [-p] [-C] [-b ipsec-mb|openssl] [-c 128|256] [-l 64|512|1420] [-u 0|1] [-O op]: -p the
 * per-packet API (esp_out/esp_in) instead of the burst API (esp_out_burst/esp_in_burst);
 * -C where the time goes, a second table: the cipher alone in place over the batch's frames
 * (where ESP finds its packets: L2, not one hot buffer), the %raw an ESP that did nothing
 * else would reach (the ceiling), and ESP with a null cipher (the work around the cipher);
 * -b -c -l one backend, cipher, size; -u 0 without the esp-udp rows, -u 1 only them; -O 0-6
 * only one op of each row, for perf record (0 raw, 1 encrypt, 2 decrypt, 3 raw at the ESP
 * length; with -C 4 raw at the ESP length over the frames, 5 and 6 encrypt and decrypt with
 * a null cipher).
 *
 * ESP in UDP (esp-udp SAs, RFC 3948): the rows marked "/udp" (intel-ipsec-mb, 64 and 1420
 * bytes) do the same with a UDP-encapsulated SA (decrypt: the SA found as classify_natt
 * finds it); the line under the table compares them with the plain ESP rows of the run.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <intel-ipsec-mb.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "datapath/classify.h"
#include "datapath/esp.h"
#include "esper_wire.h"
#include "tables/sad.h"
#include "tables/spd.h"
#include "../lib/pktbuild.h"
#include "bench_time.h"

#define FRAME	   2048
#define FRAME_OFF  (256 + 14) /* XDP_PACKET_HEADROOM + Ethernet header */
#define BURST	   64
#define MAX_BATCH  1024
#define ROUNDS_MAX 15

static const uint32_t sizes[] = {64, 512, 1420};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

static double secs = 0.3;
static unsigned rounds = 5;
static bool per_packet_api;
static int only_op = -1; /* -O N: run only op N of a row (profiling) */
static int only_backend = -1, only_bits = -1, only_len = -1; /* -b -c -l: one row */
static int only_udp = -1; /* -u 0: the plain ESP rows only, -u 1: the esp-udp rows only */
static bool ceiling;	  /* -C: also the cipher over the frames and ESP with a null cipher */
static double clock_cost; /* one clock read, subtracted from every timed interval */
static uint8_t *frames;	  /* MAX_BATCH frames of FRAME bytes */

static void calibrate_clock(void)
{
	double d[101];

	for (unsigned i = 0; i < 101; i++) {
		double t0 = bench_cpu_time();

		d[i] = bench_cpu_time() - t0;
	}
	qsort(d, 101, sizeof(d[0]), bench_cmp_double);
	clock_cost = d[50];
}

static void die(const char *what)
{
	fprintf(stderr, "bench_esp: %s\n", what);
	exit(1);
}

/* --- timing ------------------------------------------------------------------------------ */

struct op {
	void (*prep)(void *arg); /* untimed, before every run; may be NULL */
	void (*run)(void *arg);	 /* timed: npkts packets */
	void *arg;
	unsigned npkts;
	double n, t; /* packets done, seconds spent */
};

static void slice(struct op *o, double len)
{
	double spent = 0;

	do {
		double t0, d;

		if (o->prep)
			o->prep(o->arg);
		t0 = bench_cpu_time();
		o->run(o->arg);
		d = bench_cpu_time() - t0 - clock_cost;
		o->t += d;
		o->n += o->npkts;
		spent += d;
	} while (spent < len);
}

/* 10 ms of each op in turn until each has had `secs`: figures compared with each other are
 * taken side by side, under the same load on the machine. */
static void run_ops(struct op *ops, size_t nops)
{
	for (size_t i = 0; i < nops; i++)
		ops[i].n = 0, ops[i].t = 0;
	for (size_t i = 0; i < nops; i++) /* warm up: caches, branch predictors */
		slice(&ops[i], 0.005);
	for (size_t i = 0; i < nops; i++)
		ops[i].n = 0, ops[i].t = 0;
	while (ops[0].t < secs)
		for (size_t i = 0; i < nops; i++)
			slice(&ops[i], 0.01);
}

static double rate(const struct op *o)
{
	return o->n / o->t;
}

/* --- raw AES-GCM ---------------------------------------------------------------------- */

struct raw {
	bool aes256;
	uint32_t len;
	unsigned calls;
	/* intel-ipsec-mb */
	IMB_MGR *mgr;
	struct gcm_key_data *key;
	/* OpenSSL */
	EVP_CIPHER_CTX *ectx;
	uint8_t *buf;
	uint8_t nonce[12], aad[8], tag[16];
};

/* One call over len bytes at buf, in place. */
static inline void raw_mb_one(struct raw *r, uint8_t *buf)
{
	struct gcm_context_data ctx;

	if (r->aes256)
		IMB_AES256_GCM_ENC(r->mgr, r->key, &ctx, buf, buf, r->len, r->nonce, r->aad,
				   sizeof(r->aad), r->tag, 16);
	else
		IMB_AES128_GCM_ENC(r->mgr, r->key, &ctx, buf, buf, r->len, r->nonce, r->aad,
				   sizeof(r->aad), r->tag, 16);
}

static inline void raw_ossl_one(struct raw *r, uint8_t *buf)
{
	int outl;

	if (!EVP_EncryptInit_ex2(r->ectx, NULL, NULL, r->nonce, NULL) ||
	    !EVP_EncryptUpdate(r->ectx, NULL, &outl, r->aad, sizeof(r->aad)) ||
	    !EVP_EncryptUpdate(r->ectx, buf, &outl, buf, (int)r->len) ||
	    !EVP_EncryptFinal_ex(r->ectx, buf + outl, &outl) ||
	    !EVP_CIPHER_CTX_ctrl(r->ectx, EVP_CTRL_GCM_GET_TAG, 16, r->tag))
		die("EVP encrypt failed");
}

static void raw_mb_enc(void *arg)
{
	struct raw *r = arg;

	for (unsigned i = 0; i < r->calls; i++)
		raw_mb_one(r, r->buf);
}

static void raw_ossl_enc(void *arg)
{
	struct raw *r = arg;

	for (unsigned i = 0; i < r->calls; i++)
		raw_ossl_one(r, r->buf);
}

/* -C: the same calls in place over the batch's frames, where ESP finds its packets,
 * refilled as ESP's are (untimed): the data comes from L2, not from one hot buffer. */
static void raw_frames_prep(void *arg)
{
	struct raw *r = arg;

	for (unsigned i = 0; i < r->calls; i++)
		memcpy(frames + (size_t)i * FRAME + FRAME_OFF, r->buf, r->len);
}

static void raw_frames_enc(void *arg)
{
	struct raw *r = arg;

	for (unsigned i = 0; i < r->calls; i++) {
		uint8_t *f = frames + (size_t)i * FRAME + FRAME_OFF;

		if (r->mgr)
			raw_mb_one(r, f);
		else
			raw_ossl_one(r, f);
	}
}

static void raw_init(struct raw *r, enum crypto_backend be, bool aes256, uint32_t len,
		     unsigned calls)
{
	static uint8_t buf[2048] __attribute__((aligned(64)));
	uint8_t key[32];
	const EVP_CIPHER *c;

	memset(r, 0, sizeof(*r));
	memset(key, 0x42, sizeof(key));
	memset(r->nonce, 0x17, sizeof(r->nonce));
	memset(r->aad, 0x01, sizeof(r->aad));
	memset(buf, 0xab, sizeof(buf));
	r->aes256 = aes256;
	r->len = len;
	r->calls = calls;
	r->buf = buf;
	if (be == CRYPTO_IPSECMB) {
		r->mgr = alloc_mb_mgr(0);
		r->key = aligned_alloc(64, (sizeof(*r->key) + 63) & ~(size_t)63);
		if (!r->mgr || !r->key)
			die("out of memory");
		init_mb_mgr_auto(r->mgr, NULL);
		if (aes256)
			IMB_AES256_GCM_PRE(r->mgr, key, r->key);
		else
			IMB_AES128_GCM_PRE(r->mgr, key, r->key);
		return;
	}
	c = aes256 ? EVP_aes_256_gcm() : EVP_aes_128_gcm();
	r->ectx = EVP_CIPHER_CTX_new();
	if (!r->ectx || !EVP_EncryptInit_ex2(r->ectx, c, key, NULL, NULL))
		die("EVP init failed");
}

static void raw_fini(struct raw *r)
{
	if (r->mgr)
		free_mb_mgr(r->mgr);
	free(r->key);
	EVP_CIPHER_CTX_free(r->ectx);
}

/* `openssl speed -evp aes-N-gcm -bytes len` on this CPU (the child inherits the affinity):
 * bytes/s from its machine-readable "+F:" line, or -1. */
static double openssl_speed(bool aes256, uint32_t len)
{
	char cmd[160], line[256];
	double bps = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd),
		 "openssl speed -evp aes-%d-gcm -bytes %u -seconds 1 -mr 2>/dev/null",
		 aes256 ? 256 : 128, len);
	fflush(stdout);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p)) {
		char *v = strrchr(line, ':');

		if (!strncmp(line, "+F:", 3) && v)
			bps = atof(v + 1);
	}
	pclose(p);
	return bps;
}

/* --- ESP --------------------------------------------------------------------------------- */

struct esp {
	struct sad *sad;
	struct spd *spd;
	struct sa *sa;
	uint32_t sp_id;
	uint32_t len;	     /* inner packet */
	unsigned npkts;	     /* frames in the batch */
	uint8_t plain[2048]; /* the packet every frame starts with */
	struct pbuf b[MAX_BATCH];
	struct pkt_info pi[MAX_BATCH];
	struct sp *sps[MAX_BATCH];
	struct sa *sas[MAX_BATCH];
	struct pbuf *bp[MAX_BATCH];
	uint32_t mtu[MAX_BATCH];
	int res[MAX_BATCH];
};

/* IPv4 | UDP | payload, len bytes in all, checksums complete. */
static void make_packet(uint8_t *ip, uint32_t len)
{
	struct pb_pkt p = { .proto = 17, .sport = 12345, .dport = 4444, .id = 0x1234,
			    .df = true, .payload = len - 28 };
	uint8_t data[65536];

	for (uint32_t i = 0; i < p.payload; i++)
		data[i] = (uint8_t)((28 + i) * 7);
	p.data = data;
	p.family = pb_addr("198.51.100.7", p.src);
	pb_addr("203.0.113.9", p.dst);
	if (pb_ip(&p, ip) != len)
		die("bad test packet");
}

static void esp_init(struct esp *e, enum crypto_backend be, enum aead_cipher c, uint32_t len,
		     unsigned npkts, bool udp)
{
	struct sa_params add = {.spi = 0x1000,
				.uid = 1,
				.alg = ESP_ALG_AES_GCM_16,
				.cipher = c,
				.key_len = (uint8_t)aead_keymat_len(c),
				.seq = 1,
				.replay = REPLAY_DEFAULT_WINDOW,
				.encap = udp,
				.sport = 4500,
				.dport = 4500};
	struct sp_params sc = {.proto = SP_PROTO_ANY,
			       .dir = SP_DIR_OUT,
			       .action = SP_IPSEC,
			       .uid = 1,
			       .mode = SP_MODE_TUNNEL};
	struct sp *sp;

	memset(add.key, 0x42, add.key_len);
	addr_parse("192.0.2.1", &add.src);
	addr_parse("192.0.2.2", &add.dst);
	addr_parse("198.51.100.0", &sc.src.addr);
	addr_parse("203.0.113.0", &sc.dst.addr);
	sc.src.plen = sc.dst.plen = 24;
	addr_parse("192.0.2.1", &sc.tsrc);
	addr_parse("192.0.2.2", &sc.tdst);
	e->len = len;
	e->npkts = npkts;
	e->sad = sad_new();
	e->spd = spd_new();
	e->sa = sa_new(&add, 1);
	if (!e->sad || !e->spd || !e->sa)
		die("SA set-up failed");
	/* The SA keyed on the backend under test, whatever crypto_init picked. */
	sp = sp_new(&sc, e->sa);
	if (sa_use_backend(e->sa, be) || !sp || sad_add(e->sad, e->sa) || spd_add(e->spd, sp))
		die("SA set-up failed");
	e->sp_id = sp->id;
	make_packet(e->plain, len);
}

static void esp_fini(struct esp *e)
{
	spd_free(e->spd);
	sad_free(e->sad);
}

/* Every frame gets a fresh copy of the plaintext packet. */
static void prep_plain(void *arg)
{
	struct esp *e = arg;

	for (unsigned i = 0; i < e->npkts; i++) {
		uint8_t *f = frames + (size_t)i * FRAME;

		memcpy(f + FRAME_OFF, e->plain, e->len);
		e->b[i] = (struct pbuf){.head = f, .size = FRAME, .off = FRAME_OFF, .len = e->len};
	}
}

/* worker.c's path for plaintext, without the I/O: parse, the policy XDP named (looked up
 * once per run of packets with the same id, as pipeline.c does), esp_out. */
static void run_enc(void *arg)
{
	struct esp *e = arg;

	for (unsigned i = 0; i < e->npkts; i += BURST) {
		unsigned n = e->npkts - i < BURST ? e->npkts - i : BURST;
		struct spd_id_memo memo = { 0 };
		struct pbuf *b = e->b + i;

		for (unsigned j = 0; j < n; j++) {
			if (pkt_parse(b[j].head + b[j].off, b[j].len, &e->pi[i + j]) < 0)
				die("parse");
			e->sps[i + j] = spd_by_id_memo(e->spd, &memo, e->sp_id);
		}
		if (per_packet_api) {
			for (unsigned j = 0; j < n; j++)
				if (esp_out(e->sps[i + j], &b[j], 0, 1500, 0))
					die("esp_out failed");
			continue;
		}
		for (unsigned j = 0; j < n; j++) {
			e->bp[i + j] = &b[j];
			e->mtu[i + j] = 1500;
		}
		if (esp_out_burst(e->sps + i, e->bp + i, e->pi + i, n, 0, e->mtu + i, 0,
				  e->res + i) != n)
			die("esp_out_burst failed");
	}
}

/* Fresh plaintext, encrypted (sequence numbers in order): what decrypt opens. */
static void prep_esp(void *arg)
{
	struct esp *e = arg;

	prep_plain(e);
	for (unsigned i = 0; i < e->npkts; i++)
		if (esp_out(spd_by_id(e->spd, e->sp_id), &e->b[i], 0, 0, 0))
			die("esp_out failed");
}

/* worker.c's path for ESP, without the I/O: parse, the SA as classify finds it (by SPI, with
 * the pipeline's memo of the burst's lookups), esp_in. */
static void run_dec(void *arg)
{
	struct esp *e = arg;

	for (unsigned i = 0; i < e->npkts; i += BURST) {
		unsigned n = e->npkts - i < BURST ? e->npkts - i : BURST;
		struct classify_memo memo = { 0 };
		struct pbuf *b = e->b + i;

		for (unsigned j = 0; j < n; j++) {
			struct pkt_info *pi = &e->pi[i + j];
			const uint8_t *l3 = b[j].head + b[j].off;

			if (pkt_parse(l3, b[j].len, pi) < 0)
				die("parse");
			if (pi->proto == 17) {	/* ESP in UDP */
				if (classify_natt_memo(e->sad, &memo, l3, pi, &e->sas[i + j]) !=
				    NATT_ESP)
					die("not ESP in UDP");
				continue;
			}
			if (!(e->sas[i + j] = classify_esp_memo(e->sad, &memo, l3, pi)))
				die("not ESP of our SA");
		}
		if (per_packet_api) {
			for (unsigned j = 0; j < n; j++)
				if (esp_in(e->sas[i + j], &b[j], &e->pi[i + j], 0))
					die("esp_in failed");
			continue;
		}
		for (unsigned j = 0; j < n; j++)
			e->bp[i + j] = &b[j];
		if (esp_in_burst(e->sas + i, e->bp + i, e->pi + i, n, 0, e->res + i, NULL) != n)
			die("esp_in_burst failed");
	}
}

/* Round trip once before timing: decrypt gives back the packet encrypt was given. */
static void esp_check(struct esp *e)
{
	prep_esp(e);
	run_dec(e);
	for (unsigned i = 0; i < e->npkts; i++)
		if (e->b[i].len != e->len || memcmp(e->b[i].head + e->b[i].off, e->plain, e->len))
			die("round trip does not give the packet back");
}

/* --- the table ------------------------------------------------------------------------- */

struct row {
	enum crypto_backend be;
	enum aead_cipher c;
	uint32_t len;
	bool udp;		/* an esp-udp SA */
	/* per round, packets (calls) per second: raw encrypt at len and at what ESP encrypts
	 * (len + padding + 2), ESP encrypt and decrypt; speed: openssl speed's bytes/s */
	double raw[ROUNDS_MAX], raw_esp[ROUNDS_MAX], enc[ROUNDS_MAX], dec[ROUNDS_MAX];
	double speed[ROUNDS_MAX];
	/* -C: raw at what ESP encrypts over the batch's frames; ESP with a null cipher */
	double frames[ROUNDS_MAX], enc0[ROUNDS_MAX], dec0[ROUNDS_MAX];
};

static unsigned batch_of(uint32_t len)
{
	return len <= 64 ? 1024 : len <= 512 ? 512 : 256; /* about 100 us, in L2 */
}

/* What ESP encrypts for an inner packet of len bytes: padded so that len + 2 is a multiple
 * of 4 (RFC 4303 2.4), plus pad length and next header. */
static uint32_t esp_len_of(uint32_t len)
{
	return len + (4 - (len + 2) % 4) % 4 + 2;
}

/* -C: ESP with a null cipher (seal and open do nothing; the SA's own keyed context stays
 * to be freed), to measure the work around the cipher. */
static int null_crypt(struct aead *a, unsigned thread, const struct aead_req *r)
{
	(void)a, (void)thread, (void)r;
	return 0;
}

static void null_cipher(struct esp *e)
{
	static struct aead_ops ops;

	ops = *e->sa->aead.ops;
	ops.seal = null_crypt;
	ops.open = null_crypt;
	e->sa->aead.ops = &ops;
}

#define NOPS 7	/* raw, encrypt, decrypt, raw@ESP; -C: raw@ESP over the frames, encrypt and
		 * decrypt with a null cipher */

static void measure(struct row *w, unsigned round)
{
	bool aes256 = w->c == AEAD_AES256_GCM;
	unsigned npkts = batch_of(w->len), nops = ceiling ? NOPS : 4;
	void (*raw_fn)(void *) = w->be == CRYPTO_IPSECMB ? raw_mb_enc : raw_ossl_enc;
	static struct esp e, e0;
	struct raw r, r_esp;
	struct op ops[NOPS] = {
	    {NULL, raw_fn, &r, npkts, 0, 0},
	    {prep_plain, run_enc, &e, npkts, 0, 0},
	    {prep_esp, run_dec, &e, npkts, 0, 0},
	    {NULL, raw_fn, &r_esp, npkts, 0, 0},
	    {raw_frames_prep, raw_frames_enc, &r_esp, npkts, 0, 0},
	    {prep_plain, run_enc, &e0, npkts, 0, 0},
	    {prep_esp, run_dec, &e0, npkts, 0, 0},
	};

	raw_init(&r, w->be, aes256, w->len, npkts);
	raw_init(&r_esp, w->be, aes256, esp_len_of(w->len), npkts);
	esp_init(&e, w->be, w->c, w->len, npkts, w->udp);
	esp_check(&e);
	if (ceiling) {
		esp_init(&e0, w->be, w->c, w->len, npkts, w->udp);
		null_cipher(&e0);
		esp_check(&e0);
	}
	if (only_op >= 0) { /* profiling: one op, its figure in every column */
		run_ops(&ops[only_op % nops], 1);
		for (unsigned i = 0; i < NOPS; i++)
			ops[i] = ops[only_op % nops];
	} else {
		run_ops(ops, nops);
	}
	w->raw[round] = rate(&ops[0]);
	w->enc[round] = rate(&ops[1]);
	w->dec[round] = rate(&ops[2]);
	w->raw_esp[round] = rate(&ops[3]);
	w->frames[round] = rate(&ops[4]);
	w->enc0[round] = rate(&ops[5]);
	w->dec0[round] = rate(&ops[6]);
	w->speed[round] = w->be == CRYPTO_OPENSSL ? openssl_speed(aes256, w->len) : -1;
	esp_fini(&e);
	if (ceiling)
		esp_fini(&e0);
	raw_fini(&r);
	raw_fini(&r_esp);
}

static double gbps(double pps, uint32_t len)
{
	return pps * len * 8 / 1e9;
}

/* Median and range over the rounds of a[i] / b[i] (b: packets/s, or NULL for 1). */
struct ratio {
	double med, lo, hi;
};

static struct ratio ratio_of(const double *a, const double *b)
{
	double v[ROUNDS_MAX];
	struct ratio q;

	for (unsigned i = 0; i < rounds; i++)
		v[i] = a[i] / b[i];
	q.med = bench_median(v, rounds);
	qsort(v, rounds, sizeof(v[0]), bench_cmp_double);
	q.lo = v[0];
	q.hi = v[rounds - 1];
	return q;
}

static const char *verdict(struct ratio e, struct ratio d, double target)
{
	if (target <= 0)
		return "";
	return e.med >= target && d.med >= target ? "PASS" : "MISS";
}

static void print_ratios(double pps, uint32_t len, struct ratio q)
{
	printf(" %6.2f %6.2f %4.0f%% [%3.0f-%3.0f] |", pps / 1e6, gbps(pps, len), q.med * 100,
	       q.lo * 100, q.hi * 100);
}

static void print_row(const struct row *w)
{
	bool ossl = w->be == CRYPTO_OPENSSL;
	/* intel-ipsec-mb: 64 B >= 60 %, 512 B >= 80 %, 1420 B >= 85 % of the raw call rate */
	double target = ossl || w->udp ? 0 : w->len == 64 ? 0.60 : w->len == 512 ? 0.80 : 0.85;
	double raw = bench_median((double *)w->raw, rounds),
	       raw_esp = bench_median((double *)w->raw_esp, rounds);
	struct ratio e = ratio_of(w->enc, w->raw), d = ratio_of(w->dec, w->raw);
	char tgt[16] = "";

	if (target > 0)
		snprintf(tgt, sizeof(tgt), ">=%.0f%%", target * 100);
	char cipher[32];

	snprintf(cipher, sizeof(cipher), "%s%s", aead_cipher_name(w->c), w->udp ? "/udp" : "");
	printf("%-8s %-15s %5u | %6.2f %6.2f %6.2f |", ossl ? "openssl" : "ipsec-mb", cipher,
	       w->len, raw / 1e6, gbps(raw, w->len), raw_esp / 1e6);
	print_ratios(bench_median((double *)w->enc, rounds), w->len, e);
	print_ratios(bench_median((double *)w->dec, rounds), w->len, d);
	printf(" %-5s %s\n", tgt, verdict(e, d, target));
	if (ossl) {
		double speed_pps[ROUNDS_MAX];
		bool ok = true;

		for (unsigned i = 0; i < rounds; i++)
			ok &= (speed_pps[i] = w->speed[i] / w->len) > 0;
		if (!ok) {
			printf("%-30s | no figure\n", "  openssl speed");
			return;
		}
		e = ratio_of(w->enc, speed_pps);
		d = ratio_of(w->dec, speed_pps);
		target = w->len == 1420 ? 0.90 : 0;
		tgt[0] = 0;
		if (target > 0)
			snprintf(tgt, sizeof(tgt), ">=%.0f%%", target * 100);
		raw = bench_median(speed_pps, rounds);
		printf("%-30s | %6.2f %6.2f %6s |", "  openssl speed", raw / 1e6, gbps(raw, w->len),
		       "");
		printf(" %13s %4.0f%% [%3.0f-%3.0f] | %13s %4.0f%% [%3.0f-%3.0f] | %-5s %s\n", "",
		       e.med * 100, e.lo * 100, e.hi * 100, "", d.med * 100, d.lo * 100, d.hi * 100,
		       tgt, verdict(e, d, target));
	}
}

/* ESP in UDP against plain ESP of the same backend, cipher and size: the median over the
 * rounds of (esp-udp packets/s over its raw rate) / (ESP's over its own), each row against
 * the raw rate measured interleaved with it (the rows run at different times of a shared
 * machine). */
static double udp_cost(const double *u, const double *u_raw, const double *p,
		       const double *p_raw)
{
	double v[ROUNDS_MAX];

	for (unsigned i = 0; i < rounds; i++)
		v[i] = (u[i] / u_raw[i]) / (p[i] / p_raw[i]);
	return bench_median(v, rounds);
}

static void print_udp_cost(const struct row *rows, size_t nrows)
{
	for (size_t i = 0; i < nrows; i++) {
		const struct row *u = &rows[i];

		for (size_t j = 0; u->udp && j < nrows; j++) {
			const struct row *p = &rows[j];

			if (p->udp || p->be != u->be || p->c != u->c || p->len != u->len)
				continue;
			printf("esp-udp / esp, %s %u bytes: encrypt %.1f%%, decrypt %.1f%%\n",
			       aead_cipher_name(u->c), u->len,
			       udp_cost(u->enc, u->raw, p->enc, p->raw) * 100,
			       udp_cost(u->dec, u->raw, p->dec, p->raw) * 100);
		}
	}
}

/* -C: per packet, medians in ns: the cipher (hot buffer at the packet's size and at what
 * ESP encrypts, and the latter over the frames), what ESP takes, and the work around the
 * cipher (ESP with a null cipher). ceiling: the %raw of an ESP that did nothing but the
 * cipher over its frames. */
static double ns_of(const double *pps)
{
	return 1e9 / bench_median((double *)pps, rounds);
}

static void print_ceiling(const struct row *rows, size_t nrows)
{
	printf("\n%30s | %-22s | %7s | %-15s | %-15s |\n", "", "the cipher alone, ns", "",
	       "ESP encrypt, ns", "ESP decrypt, ns");
	printf("%-8s %-15s %5s | %6s %6s %8s | %7s | %6s %8s | %6s %8s |\n", "backend", "cipher",
	       "bytes", "raw", "@ESP", "frames", "ceiling", "total", "no ciph", "total",
	       "no ciph");
	for (size_t i = 0; i < nrows; i++) {
		const struct row *w = &rows[i];
		char cipher[32];

		snprintf(cipher, sizeof(cipher), "%s%s", aead_cipher_name(w->c),
			 w->udp ? "/udp" : "");
		printf("%-8s %-15s %5u | %6.1f %6.1f %8.1f | %6.0f%% | %6.1f %8.1f | %6.1f %8.1f |\n",
		       w->be == CRYPTO_OPENSSL ? "openssl" : "ipsec-mb", cipher, w->len,
		       ns_of(w->raw), ns_of(w->raw_esp), ns_of(w->frames),
		       ratio_of(w->frames, w->raw).med * 100, ns_of(w->enc), ns_of(w->enc0),
		       ns_of(w->dec), ns_of(w->dec0));
	}
	printf("\nframes: the cipher at what ESP encrypts, in place over the batch's frames (where "
	       "ESP finds\nits packets: L2, not one hot buffer); ceiling: %%raw of an ESP that did "
	       "nothing else\n(median of the per-round ratios); no ciph: ESP with a null cipher, "
	       "the work around it.\n");
}

static void print_table(struct row *rows, size_t nrows)
{
	printf("\n%30s | %-20s | %-29s | %-29s |\n", "", "raw AES-GCM encrypt", "ESP encrypt",
	       "ESP decrypt");
	printf("%-8s %-15s %5s | %6s %6s %6s | %6s %6s %5s %9s | %6s %6s %5s %9s | %s\n", "backend",
	       "cipher", "bytes", "Mpps", "Gbit/s", "@ESP", "Mpps", "Gbit/s", "%raw", "[range]",
	       "Mpps", "Gbit/s", "%raw", "[range]", "target");
	for (size_t i = 0; i < nrows; i++)
		print_row(&rows[i]);
	printf("\n");
	print_udp_cost(rows, nrows);
	printf("\nraw: intel-ipsec-mb IMB_AES*_GCM_ENC, OpenSSL an EVP loop (nonce init, AAD, "
	       "update, final, tag),\none hot buffer of the packet's size, 8-byte AAD; @ESP: the "
	       "same at the length ESP encrypts\n(+2-4 bytes of trailer: 68, 516, 1424), Mpps. "
	       "%%raw: ESP packets/s over raw calls/s.\nopenssl speed: `openssl speed -evp "
	       "aes-N-gcm -bytes SIZE -seconds 1` from this run (its bytes/s\nshown as Mpps and "
	       "Gbit/s); enc/dec: ESP's share of it. Medians over %u rounds, [min-max] of\nthe "
	       "per-round ratios; Gbit/s of inner packets; targets on the medians.\n",
	       rounds);
	if (ceiling)
		print_ceiling(rows, nrows);
}

static void pin_one_core(void)
{
	cpu_set_t set;
	int cpu = sched_getcpu();

	CPU_ZERO(&set);
	CPU_SET(cpu < 0 ? 0 : cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		perror("sched_setaffinity");
	printf("pinned to CPU %d; %.2f s of thread CPU time per figure, the figures of a row in "
	       "10 ms turns;\n%u rounds; clock read %.0f ns (subtracted); %s API\n",
	       cpu < 0 ? 0 : cpu, secs, rounds, clock_cost * 1e9,
	       per_packet_api ? "per-packet (esp_out/esp_in)" : "burst");
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench_esp [-s secs] [-r rounds] [-p] [-b ipsec-mb|openssl] [-c 128|256] "
		"[-l 64|512|1420] [-u 0|1] [-C] [-O op]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const enum aead_cipher ciphers[] = {AEAD_AES128_GCM, AEAD_AES256_GCM};
	static const enum crypto_backend backends[] = {CRYPTO_IPSECMB, CRYPTO_OPENSSL};
	struct row rows[2 * 2 * NSIZES + 4];
	size_t nrows = 0;
	int opt;

	while ((opt = getopt(argc, argv, "s:r:pCb:c:l:O:u:")) != -1) {
		if (opt == 'b')
			only_backend = !strcmp(optarg, "openssl") ? CRYPTO_OPENSSL : CRYPTO_IPSECMB;
		else if (opt == 'O')
			only_op = atoi(optarg) % NOPS;
		else if (opt == 'c')
			only_bits = atoi(optarg);
		else if (opt == 'l')
			only_len = atoi(optarg);
		else if (opt == 'u')
			only_udp = atoi(optarg) != 0;
		else if (opt == 's' && atof(optarg) > 0)
			secs = atof(optarg);
		else if (opt == 'r' && atoi(optarg) > 0 && atoi(optarg) <= ROUNDS_MAX)
			rounds = (unsigned)atoi(optarg);
		else if (opt == 'p')
			per_packet_api = true;
		else if (opt == 'C')
			ceiling = true;
		else
			usage();
	}
	calibrate_clock();
	pin_one_core();
	calibrate_clock();
	if (crypto_init(CRYPTO_IPSECMB))
		die("intel-ipsec-mb not usable");
	printf("AES-GCM: %s and OpenSSL %s\n", crypto_backend_name(),
	       OpenSSL_version(OPENSSL_VERSION_STRING));
	frames = aligned_alloc(4096, (size_t)MAX_BATCH * FRAME);
	if (!frames)
		die("out of memory");
	memset(frames, 0, (size_t)MAX_BATCH * FRAME);
	for (size_t b = 0; b < 2; b++)
		for (size_t c = 0; c < 2; c++)
			for (size_t s = 0; s < NSIZES; s++) {
				if ((only_backend >= 0 && only_backend != (int)backends[b]) ||
				    (only_bits >= 0 && only_bits != (c ? 256 : 128)) ||
				    (only_len >= 0 && only_len != (int)sizes[s]))
					continue;
				if (only_udp != 1)
					rows[nrows++] = (struct row){
					    .be = backends[b], .c = ciphers[c], .len = sizes[s]};
				if (backends[b] == CRYPTO_IPSECMB && sizes[s] != 512 && only_udp != 0)
					rows[nrows++] = (struct row){.be = backends[b],
								     .c = ciphers[c],
								     .len = sizes[s],
								     .udp = true};
			}
	for (unsigned r = 0; r < rounds; r++) {
		fprintf(stderr, "bench_esp: round %u/%u\n", r + 1, rounds);
		for (size_t i = 0; i < nrows; i++)
			measure(&rows[i], r);
	}
	print_table(rows, nrows);
	free(frames);
	crypto_fini();
	return 0;
}
