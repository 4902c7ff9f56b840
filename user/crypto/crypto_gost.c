// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * crypto_gost.c - the RFC 9227 ESP transforms behind the crypto facade (crypto.h):
 * ENCR_KUZNYECHIK_MGM_KTREE, ENCR_MAGMA_MGM_KTREE and their _MAC_ variants. Owns the
 * gost-engine handle, the per-SA IV counter i1|i2|i3|pnum (4.2, 4.8, section 5 limits), the
 * per-thread-slot key-tree cache (4.1, via kdf_tree.c: the current and the previous leaf,
 * 4.8) with their cipher contexts, the nonce (4.3) and the AAD layout (4.7.1); MGM itself is
 * mgm.c. Called by crypto.c: crypto_gost_init at start-up, aead_gost_ops per SA and per
 * packet.
 *
 * The block cipher behind MGM is one of three implementations, chosen per process
 * (crypto_gost_select, `--gost`) and bound to an SA when it is set up (aead_init; its
 * cipher contexts are made with its key schedule, on its first packet)
 * (docs/crypto.md):
 *   table   kuznyechik.c and magma.c, table-driven: not constant-time;
 *   ct      the same files' AVX2 code: constant-time;
 *   engine  gost-engine 3.0.1 through the ENGINE API, the reference (not constant-time
 *           either): kuznyechik-ecb for Kuznyechik; Magma has no ECB there, so a batch of
 *           Magma blocks is one GOST 28147-89 CFB *decryption* (cipher "gost89", S-box
 *           id-tc26-gost-28147-param-Z, key meshing off), which is block-parallel:
 *           P_j = C_j ^ E(C_{j-1}). Magma is GOST 28147-89 with that S-box and reversed byte
 *           order (RFC 8891), hence the byte swaps; magma-cbc one block per call is the
 *           fallback if that batch fails its self-test.
 * `auto` takes ct unless it is more than 25 % slower than the fastest of the three on this
 * CPU, measured per cipher at start-up. Every implementation passes its known answers at
 * start-up or is not offered. gost-engine also provides Streebog for KDF_TREE (kdf_tree.c):
 * without it no GOST transform is available.
 */
/*
 * The ENGINE API (and EVP_CIPHER_CTX_iv_noconst) is deprecated in OpenSSL 3. We use it on
 * purpose, in this file only: the Magma batch above needs EVP_CTRL_SET_SBOX and
 * EVP_CTRL_KEY_MESH on the engine's gost89 cipher, which the gostprov provider does not
 * pass through, and kuznyechik-ecb measured the same through both (tests/bench/bench_gost).
 */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>

#include "crypto.h"
#include "crypto_gost.h"
#include "kdf_tree.h"
#include "kuznyechik.h"
#include "lib/bytes.h"
#include "lib/log.h"
#include "lib/wipe.h"
#include "magma.h"
#include "mgm.h"

#define KEY_LEN	     32
#define LEAF_MAX     ((1ull << 40) - 1) /* i1 (8) | i2 (16) | i3 (16) */
#define MAGMA_SBOX   "id-tc26-gost-28147-param-Z"
#define CHUNK_BLOCKS 2560 /* blocks per engine call from crypto_gost_block_ecb */

/* --- gost-engine ---------------------------------------------------------------------------
 * Loaded once by crypto_gost_init; read-only afterwards. */
static struct {
	ENGINE *e;
	const EVP_CIPHER *kuz_ecb, *gost89, *magma_cbc, *magma_ctr;
	bool magma_batch; /* the gost89-CFB batch passed its self-test */
} eng;

/* One implementation of one cipher: the engine's (the reference) or ours. */
enum impl {
	IMPL_KUZ_ENGINE, /* kuznyechik-ecb */
	IMPL_MAGMA_CFB,	 /* the gost89-CFB batch */
	IMPL_MAGMA_CBC1, /* magma-cbc, one block per call */
	IMPL_MAGMA_CTR,	 /* magma-ctr keystream (benchmark baseline, no ECB) */
	IMPL_KUZ_TABLE,	 /* kuznyechik.c */
	IMPL_KUZ_CT,
	IMPL_MAGMA_TABLE, /* magma.c */
	IMPL_MAGMA_CT,
};

/* One keyed block cipher. Used by one thread at a time. */
struct gost_block {
	enum impl impl;
	size_t n;
	mgm_ecb_fn ecb;	     /* the implementation's ECB, called with this block as key */
	EVP_CIPHER_CTX *ctx; /* the engine's; NULL for ours */
	union {
		struct kuznyechik_key kuz;
		struct magma_key magma;
	} k;
};

/* The process-wide choice: made by crypto_gost_init (auto) and crypto_gost_select, before
 * any SA is keyed; an SA keeps what it got. */
static struct {
	enum gost_impl want;
	enum impl kuz, magma;		/* what new SAs get */
	enum impl auto_kuz, auto_magma; /* auto's pick (measured at start-up) */
	bool table_ok, ct_ok;		/* passed their known answers */
} sel;

static bool is_ours(enum impl impl)
{
	return impl >= IMPL_KUZ_TABLE;
}

/* Counter blocks, byte-reversed, for the gost89-CFB batch (one spare block at the end). */
static __thread uint64_t magma_tmp[CHUNK_BLOCKS + 1];

static void key_rev32(uint8_t *out, const uint8_t *key)
{
	/* Magma reads its key as big-endian 32-bit words, GOST 28147-89 as little-endian. */
	for (int i = 0; i < KEY_LEN; i++)
		out[i] = key[(i & ~3) + 3 - (i & 3)];
}

/* Bind a fresh engine context to its cipher, without a key: all allocation happens here. */
static int engine_open(struct gost_block *b)
{
	static const uint8_t zero_iv[8];
	int ok;

	b->ctx = EVP_CIPHER_CTX_new();
	if (!b->ctx)
		return -ENOMEM;
	switch (b->impl) {
	case IMPL_KUZ_ENGINE:
		ok = EVP_EncryptInit_ex(b->ctx, eng.kuz_ecb, eng.e, NULL, NULL);
		break;
	case IMPL_MAGMA_CFB:
		/* Both ctrls only work before the first byte (engine's count == 0). */
		ok = EVP_DecryptInit_ex(b->ctx, eng.gost89, eng.e, NULL, zero_iv) &&
		     EVP_CIPHER_CTX_ctrl(b->ctx, EVP_CTRL_SET_SBOX, 0, (void *)MAGMA_SBOX) > 0 &&
		     EVP_CIPHER_CTX_ctrl(b->ctx, EVP_CTRL_KEY_MESH, 0, NULL) > 0;
		break;
	case IMPL_MAGMA_CBC1:
		ok = EVP_EncryptInit_ex(b->ctx, eng.magma_cbc, eng.e, NULL, zero_iv);
		break;
	default:
		ok = EVP_EncryptInit_ex(b->ctx, eng.magma_ctr, eng.e, NULL, zero_iv);
		break;
	}
	ERR_clear_error();
	return ok ? 0 : -EIO;
}

static int kuz_table_ecb(void *key, uint8_t *out, const uint8_t *in, size_t nb)
{
	kuznyechik_ecb_table(&((struct gost_block *)key)->k.kuz, out, in, nb);
	return 0;
}

static int kuz_ct_ecb(void *key, uint8_t *out, const uint8_t *in, size_t nb)
{
	kuznyechik_ecb_ct(&((struct gost_block *)key)->k.kuz, out, in, nb);
	return 0;
}

static int magma_table_ecb(void *key, uint8_t *out, const uint8_t *in, size_t nb)
{
	magma_ecb_table(&((struct gost_block *)key)->k.magma, out, in, nb);
	return 0;
}

static int magma_ct_ecb(void *key, uint8_t *out, const uint8_t *in, size_t nb)
{
	magma_ecb_ct(&((struct gost_block *)key)->k.magma, out, in, nb);
	return 0;
}

static int engine_ecb(void *key, uint8_t *out, const uint8_t *in, size_t nblocks);

static int block_open(struct gost_block *b, enum impl impl)
{
	static const mgm_ecb_fn ecb[] = {
	    [IMPL_KUZ_TABLE] = kuz_table_ecb,
	    [IMPL_KUZ_CT] = kuz_ct_ecb,
	    [IMPL_MAGMA_TABLE] = magma_table_ecb,
	    [IMPL_MAGMA_CT] = magma_ct_ecb,
	};

	b->impl = impl;
	b->n = impl == IMPL_KUZ_ENGINE || impl == IMPL_KUZ_TABLE || impl == IMPL_KUZ_CT ? 16 : 8;
	b->ecb = is_ours(impl) ? ecb[impl] : engine_ecb;
	b->ctx = NULL;
	return is_ours(impl) ? 0 : engine_open(b);
}

static void block_close(struct gost_block *b)
{
	EVP_CIPHER_CTX_free(b->ctx); /* the engine's key schedule is cleansed with it */
	b->ctx = NULL;
	wipe(&b->k, sizeof(b->k));
}

/* Rekey without touching the cipher binding (no allocation; the engine's S-box and meshing
 * kept). Ours overwrite every round key. */
static int block_setkey(struct gost_block *b, const uint8_t key[KEY_LEN])
{
	uint8_t rk[KEY_LEN];
	int ok;

	switch (b->impl) {
	case IMPL_KUZ_TABLE:
		kuznyechik_setkey(&b->k.kuz, key);
		return 0;
	case IMPL_KUZ_CT:
		return kuznyechik_setkey_ct(&b->k.kuz, key);
	case IMPL_MAGMA_TABLE:
	case IMPL_MAGMA_CT:
		magma_setkey(&b->k.magma, key);
		return 0;
	case IMPL_MAGMA_CFB:
		key_rev32(rk, key);
		ok = EVP_DecryptInit_ex(b->ctx, NULL, NULL, rk, NULL);
		wipe(rk, sizeof(rk));
		return ok ? 0 : -EIO;
	default:
		return EVP_EncryptInit_ex(b->ctx, NULL, NULL, key, NULL) ? 0 : -EIO;
	}
}

static int kuz_ecb(struct gost_block *b, uint8_t *out, const uint8_t *in, size_t nb)
{
	return EVP_Cipher(b->ctx, out, in, (unsigned)(nb * 16)) > 0 ? 0 : -EIO;
}

/* CFB decryption of C_1..C_nb (IV C_0) gives P_j = C_j ^ E'(C_{j-1}), E' = GOST 28147-89 on
 * byte-reversed blocks. With C_j = reversed block j+1 (and a zero block last), Magma's
 * E(block j) = reverse(P_j ^ C_j). */
static int magma_cfb_ecb(struct gost_block *b, uint8_t *out, const uint8_t *in, size_t nb)
{
	uint64_t *c = magma_tmp, v;
	int ok;

	for (size_t i = 0; i < nb; i++) {
		memcpy(&v, in + 8 * i, 8);
		c[i] = htole64(be64toh(v));
	}
	c[nb] = 0;
	memcpy(EVP_CIPHER_CTX_iv_noconst(b->ctx), &c[0], 8);
	EVP_CIPHER_CTX_set_num(b->ctx, 0);
	ok = EVP_Cipher(b->ctx, out, (const uint8_t *)(c + 1), (unsigned)(nb * 8)) > 0;
	for (size_t i = 0; i < nb; i++) {
		memcpy(&v, out + 8 * i, 8);
		v = htobe64(le64toh(v ^ c[i + 1]));
		memcpy(out + 8 * i, &v, 8);
	}
	wipe(c, (nb + 1) * 8);
	return ok ? 0 : -EIO;
}

static int magma_cbc1_ecb(struct gost_block *b, uint8_t *out, const uint8_t *in, size_t nb)
{
	for (size_t i = 0; i < nb; i++) {
		memset(EVP_CIPHER_CTX_iv_noconst(b->ctx), 0, 8);
		if (EVP_Cipher(b->ctx, out + 8 * i, in + 8 * i, 8) <= 0)
			return -EIO;
	}
	return 0;
}

static int engine_ecb(void *key, uint8_t *out, const uint8_t *in, size_t nblocks)
{
	struct gost_block *b = key;

	while (nblocks) {
		size_t k = nblocks < CHUNK_BLOCKS ? nblocks : CHUNK_BLOCKS;
		int err;

		switch (b->impl) {
		case IMPL_KUZ_ENGINE:
			err = kuz_ecb(b, out, in, k);
			break;
		case IMPL_MAGMA_CFB:
			err = magma_cfb_ecb(b, out, in, k);
			break;
		case IMPL_MAGMA_CBC1:
			err = magma_cbc1_ecb(b, out, in, k);
			break;
		default:
			err = -ENOTSUP;
			break;
		}
		if (err)
			return err;
		out += k * b->n;
		in += k * b->n;
		nblocks -= k;
	}
	return 0;
}

int crypto_gost_block_ecb(void *key, uint8_t *out, const uint8_t *in, size_t nblocks)
{
	struct gost_block *b = key;

	return b->ecb(b, out, in, nblocks);
}

int crypto_gost_block_raw(struct gost_block *b, uint8_t *out, const uint8_t *in, size_t len)
{
	if (len % b->n || len > UINT32_MAX)
		return -EINVAL;
	if (is_ours(b->impl))
		return crypto_gost_block_ecb(b, out, in, len / b->n);
	if (b->impl == IMPL_MAGMA_CBC1)
		return magma_cbc1_ecb(b, out, in, len / 8);
	if (b->impl == IMPL_MAGMA_CFB)
		EVP_CIPHER_CTX_set_num(b->ctx, 0);
	return EVP_Cipher(b->ctx, out, in, (unsigned)len) > 0 ? 0 : -EIO;
}

/* The implementation `gi` names for a kind of block; -1 where there is none. */
static int impl_for(enum gost_block_kind kind, enum gost_impl gi)
{
	bool kuz = kind == GOST_BLOCK_KUZNYECHIK;

	if (kind == GOST_BLOCK_MAGMA_CBC1)
		return IMPL_MAGMA_CBC1;
	if (kind == GOST_BLOCK_MAGMA_CTR)
		return IMPL_MAGMA_CTR;
	switch (gi) {
	case GOST_IMPL_ENGINE:
		return kuz ? IMPL_KUZ_ENGINE : eng.magma_batch ? IMPL_MAGMA_CFB : IMPL_MAGMA_CBC1;
	case GOST_IMPL_TABLE:
		return !sel.table_ok ? -1 : kuz ? IMPL_KUZ_TABLE : IMPL_MAGMA_TABLE;
	case GOST_IMPL_CT:
		return !sel.ct_ok ? -1 : kuz ? IMPL_KUZ_CT : IMPL_MAGMA_CT;
	default:
		return kuz ? sel.auto_kuz : sel.auto_magma;
	}
}

static struct gost_block *block_new(enum impl impl, const uint8_t key[32])
{
	struct gost_block *b = aligned_alloc(16, sizeof(*b));
	int err;

	if (!b)
		return NULL;
	memset(b, 0, sizeof(*b));
	err = block_open(b, impl);
	if (!err)
		err = block_setkey(b, key);
	if (err) {
		crypto_gost_block_free(b);
		errno = -err;
		return NULL;
	}
	return b;
}

struct gost_block *crypto_gost_block_new_impl(enum gost_block_kind kind, enum gost_impl gi,
					      const uint8_t key[32])
{
	int impl = impl_for(kind, gi);

	if (!eng.e || impl < 0) {
		errno = ENOTSUP;
		return NULL;
	}
	return block_new((enum impl)impl, key);
}

struct gost_block *crypto_gost_block_new(enum gost_block_kind kind, const uint8_t key[32])
{
	return crypto_gost_block_new_impl(kind, sel.want, key);
}

void crypto_gost_block_free(struct gost_block *b)
{
	if (!b)
		return;
	block_close(b);
	free(b);
}

size_t crypto_gost_block_size(const struct gost_block *b)
{
	return b->n;
}

const char *crypto_gost_magma_path(void)
{
	return eng.magma_batch ? "gost89-cfb batch" : "magma-cbc per block";
}

/* --- start-up self-tests (GOST R 34.12-2015 / RFC 7801, RFC 8891 examples) ----------------- */
static const uint8_t kuz_kat_key[32] = {
    0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
    0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
};
static const uint8_t kuz_kat_pt[16] = {
    0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x00, 0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88,
};
static const uint8_t kuz_kat_ct[16] = {
    0x7f, 0x67, 0x9d, 0x90, 0xbe, 0xbc, 0x24, 0x30, 0x5a, 0x46, 0x8d, 0x42, 0xb9, 0xd4, 0xed, 0xcd,
};
static const uint8_t magma_kat_key[32] = {
    0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00,
    0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff,
};
static const uint8_t magma_kat_pt[8] = {0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10};
static const uint8_t magma_kat_ct[8] = {0x4e, 0xe9, 0x01, 0xe5, 0xc2, 0xd8, 0xca, 0x3d};

static int kat(enum impl impl, const uint8_t *key, const uint8_t *pt, const uint8_t *ct)
{
	struct gost_block b;
	uint8_t out[16];
	int err = block_open(&b, impl);

	if (!err)
		err = block_setkey(&b, key);
	if (!err)
		err = crypto_gost_block_ecb(&b, out, pt, 1);
	if (!err && memcmp(out, ct, b.n))
		err = -ENOTSUP;
	block_close(&b);
	return err;
}

static int kat_pair(enum impl kuz, enum impl magma)
{
	return kat(kuz, kuz_kat_key, kuz_kat_pt, kuz_kat_ct) ||
	       kat(magma, magma_kat_key, magma_kat_pt, magma_kat_ct);
}

/* The batch must equal one-block magma-cbc over more than 1024 bytes (where GOST 28147-89
 * would mesh its key) and across a rekey. */
static int magma_batch_test(void)
{
	struct gost_block batch = {.ctx = NULL}, ref = {.ctx = NULL};
	uint8_t in[8 * 300], a[8 * 300], b[8 * 300];
	int err;

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 131 + 7);
	err = block_open(&batch, IMPL_MAGMA_CFB);
	if (!err)
		err = block_open(&ref, IMPL_MAGMA_CBC1);
	for (int round = 0; round < 2 && !err; round++) {
		const uint8_t *key = round ? kuz_kat_key : magma_kat_key;

		err = block_setkey(&batch, key) || block_setkey(&ref, key) ? -EIO : 0;
		if (!err)
			err = crypto_gost_block_ecb(&batch, a, in, 300);
		if (!err)
			err = crypto_gost_block_ecb(&batch, a, in, 300);
		if (!err)
			err = crypto_gost_block_ecb(&ref, b, in, 300);
		if (!err && memcmp(a, b, sizeof(a)))
			err = -EIO;
	}
	block_close(&batch);
	block_close(&ref);
	return err;
}

static int self_test(void)
{
	if (kat_pair(IMPL_KUZ_ENGINE, IMPL_MAGMA_CBC1)) {
		log_warnx("gost-engine: Kuznyechik or Magma fails its known answer");
		return -ENOTSUP;
	}
	eng.magma_batch =
	    !kat(IMPL_MAGMA_CFB, magma_kat_key, magma_kat_pt, magma_kat_ct) && !magma_batch_test();
	if (!eng.magma_batch)
		log_warnx("gost-engine: batched Magma unavailable, one engine call per block");
	sel.table_ok = !kat_pair(IMPL_KUZ_TABLE, IMPL_MAGMA_TABLE);
	sel.ct_ok = kuznyechik_ct_supported() && magma_ct_supported() &&
		    !kat_pair(IMPL_KUZ_CT, IMPL_MAGMA_CT);
	if (!sel.table_ok)
		log_warnx("GOST table ciphers fail their known answers: not used");
	ERR_clear_error();
	return 0;
}

/* --- auto: which implementation this CPU runs best -------------------------------------------
 * Each candidate makes the cipher calls of MGM (mgm.c: 2 blocks, then q + t, then 1) for a
 * 64-byte and a 1420-byte payload with 8 bytes of AAD: best of 5 runs of 8 packets. ct wins
 * if it is within 25 % of the fastest at both sizes; otherwise the fastest overall. */
#define AUTO_SLACK 1.25

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double packet_ns(struct gost_block *b, size_t len, uint8_t *buf)
{
	size_t q = (len + b->n - 1) / b->n, best = SIZE_MAX;

	for (int run = 0; run < 5; run++) {
		uint64_t t0 = mono_ns();

		for (int p = 0; p < 8; p++) {
			crypto_gost_block_ecb(b, buf, buf, 2);
			crypto_gost_block_ecb(b, buf, buf, q + q + 2);
			crypto_gost_block_ecb(b, buf, buf, 1);
		}
		if (mono_ns() - t0 < best)
			best = mono_ns() - t0;
	}
	return (double)best / 8;
}

/* ns per packet of impl at 64 and 1420 bytes; false if it cannot run here. */
static bool auto_measure(int impl, double ns[2])
{
	static uint8_t buf[2 * 180 * 16];
	struct gost_block *b;

	if (impl < 0 || !(b = block_new((enum impl)impl, kuz_kat_key)))
		return false;
	ns[0] = packet_ns(b, 64, buf);
	ns[1] = packet_ns(b, 1420, buf);
	crypto_gost_block_free(b);
	return true;
}

static enum impl auto_pick(enum gost_block_kind kind)
{
	static const enum gost_impl cand[3] = {GOST_IMPL_CT, GOST_IMPL_TABLE, GOST_IMPL_ENGINE};
	double ns[3][2], best[2] = {1e300, 1e300}, cost, least = 1e300;
	bool ok[3];
	int pick = 0;

	for (int c = 0; c < 3; c++) {
		ok[c] = auto_measure(impl_for(kind, cand[c]), ns[c]);
		for (int s = 0; ok[c] && s < 2; s++)
			best[s] = ns[c][s] < best[s] ? ns[c][s] : best[s];
	}
	log_debug("GOST auto, %s: ns per 64/1420-byte packet's cipher calls: ct %.0f/%.0f, "
		  "table %.0f/%.0f, engine %.0f/%.0f (0: not here)",
		  kind == GOST_BLOCK_KUZNYECHIK ? "Kuznyechik" : "Magma", ok[0] ? ns[0][0] : 0,
		  ok[0] ? ns[0][1] : 0, ok[1] ? ns[1][0] : 0, ok[1] ? ns[1][1] : 0,
		  ok[2] ? ns[2][0] : 0, ok[2] ? ns[2][1] : 0);
	if (ok[0] && ns[0][0] <= AUTO_SLACK * best[0] && ns[0][1] <= AUTO_SLACK * best[1])
		return (enum impl)impl_for(kind, GOST_IMPL_CT);
	for (int c = 0; c < 3; c++) {
		cost = ok[c] ? ns[c][0] / best[0] + ns[c][1] / best[1] : 1e300;
		if (cost < least)
			least = cost, pick = c;
	}
	return (enum impl)impl_for(kind, cand[pick]);
}

static const char *impl_name(enum impl impl)
{
	switch (impl) {
	case IMPL_KUZ_TABLE:
	case IMPL_MAGMA_TABLE:
		return "table";
	case IMPL_KUZ_CT:
	case IMPL_MAGMA_CT:
		return "ct-avx2";
	default:
		return "gost-engine";
	}
}

int crypto_gost_select(enum gost_impl gi)
{
	int kuz = impl_for(GOST_BLOCK_KUZNYECHIK, gi), magma = impl_for(GOST_BLOCK_MAGMA, gi);

	if (!eng.e || kuz < 0 || magma < 0)
		return -ENOTSUP;
	sel.want = gi;
	sel.kuz = (enum impl)kuz;
	sel.magma = (enum impl)magma;
	return 0;
}

const char *crypto_gost_impl_name(void)
{
	static const char *const wants[] = {"auto", "engine", "table", "ct"};
	static char name[80];

	if (!eng.e)
		return "none (no gost-engine)";
	snprintf(name, sizeof(name), "%s: Kuznyechik %s, Magma %s", wants[sel.want],
		 impl_name(sel.kuz), impl_name(sel.magma));
	return name;
}

static int engine_load(void)
{
	ENGINE *e = ENGINE_by_id("gost");

	if (!e)
		return -ENOTSUP;
	if (!ENGINE_init(e)) {
		ENGINE_free(e);
		return -ENOTSUP;
	}
	eng.e = e;
	eng.kuz_ecb = ENGINE_get_cipher(e, NID_kuznyechik_ecb);
	eng.gost89 = ENGINE_get_cipher(e, NID_id_Gost28147_89);
	eng.magma_cbc = ENGINE_get_cipher(e, NID_magma_cbc);
	eng.magma_ctr = ENGINE_get_cipher(e, NID_magma_ctr);
	if (!eng.kuz_ecb || !eng.gost89 || !eng.magma_cbc || !eng.magma_ctr)
		return -ENOTSUP;
	return 0;
}

static void engine_unload(void)
{
	if (eng.e) {
		ENGINE_finish(eng.e);
		ENGINE_free(eng.e);
	}
	memset(&eng, 0, sizeof(eng));
	memset(&sel, 0, sizeof(sel));
}

int crypto_gost_init(void)
{
	int err;

	if (eng.e)
		return 0;
	err = engine_load();
	if (!err)
		err = kdf_tree_init();
	if (!err)
		err = self_test();
	if (err) {
		kdf_tree_fini();
		engine_unload();
	} else {
		sel.auto_kuz = auto_pick(GOST_BLOCK_KUZNYECHIK);
		sel.auto_magma = auto_pick(GOST_BLOCK_MAGMA);
		crypto_gost_select(GOST_IMPL_AUTO);
	}
	ERR_clear_error();
	return err;
}

void crypto_gost_fini(void)
{
	kdf_tree_fini();
	engine_unload();
}

/* --- per SA --------------------------------------------------------------------------------- */

/*
 * The IV of a packet is a function of its ESP sequence number (RFC 9227 4.2 leaves the
 * choice to the sender): position = seq + offset (offset 0 but in the tests), leaf i1|i2|i3
 * = position / P, pnum = position % P, with P packets per leaf small enough that no leaf
 * can pass its section 5 octet limit: Kuznyechik 2^24 (pnum's width: 2^24 packets of at
 * most 2^16 octets stay under 2^41), Magma 2^11 (2^11 packets of at most 2^16 + 20 octets
 * stay under 2^28). Sequence numbers never repeat (sad.c), and a restart from `dump`
 * resumes them, so neither do (key, IV) pairs; no counter state, no lock.
 */
#define PNUM_BITS_KUZ	24
#define PNUM_BITS_MAGMA 11

/* The forged-IV budget of a receiving SA (RFC 9227 5: a forged IV can force three KDF
 * calls before its ICV fails). A leaf other than the next one after the highest verified
 * leaf costs a token per KDF call; tokens refill at DERIVE_RATE per second up to
 * DERIVE_BURST (a GCRA: `tat` is the theoretical arrival time in ns). The next leaf is
 * always derived, so an attacker spending the budget cannot stall genuine traffic. */
#define DERIVE_BURST 48
#define DERIVE_RATE  48
#define NO_LEAF	     UINT64_MAX

struct derive_budget {
	_Atomic uint64_t tat;
	_Atomic uint64_t verified;	/* highest leaf a packet verified under; NO_LEAF: none */
};

/* One cached leaf of the key tree: a cipher context keyed with K_msg for (i1, i2, i3), and
 * the level-1 key for i1 and level-2 key for (i1, i2) it came from, so that the next leaf
 * under the same i1 or (i1, i2) costs one or two KDF calls, not three. K_msg itself lives
 * only in the cipher context. */
struct gost_leaf {
	struct gost_block blk;	 /* keyed with K_msg for (i1, i2, i3) when has_leaf */
	uint8_t key[2][KEY_LEN]; /* level 1 for i1, level 2 for (i1, i2): the first `levels` */
	unsigned levels;	 /* 0, 1 or 2 */
	bool has_leaf;
	bool verified; /* a packet under this leaf passed its ICV (or was sealed with it) */
	uint8_t i1;
	uint16_t i2, i3;
};

/* One thread's state: used only by the thread that owns the slot. Two leaves: the current
 * one and the previous one (RFC 9227 4.8 lets a receiver keep the previous leaf key for
 * reordered packets), so traffic straddling a leaf change, or a forged IV between genuine
 * packets, derives nothing for the leaf it already has. */
struct gost_slot {
	struct gost_leaf leaf[2];
	unsigned mru; /* the leaf used last */
	struct kdf_tree_ctx *kdf;
} __attribute__((aligned(64)));

struct gost_sa {
	struct derive_budget budget __attribute__((aligned(64)));
	_Atomic uint64_t derivations;
	_Atomic uint64_t limited;	/* packets refused: budget spent */
	uint64_t iv_offset;		/* added to the sequence number (tests only) */
	unsigned pnum_bits;		/* PNUM_BITS_*: log2 of the packets per leaf */
	uint8_t root[KEY_LEN];
	uint8_t salt[12];
	size_t salt_len;
	size_t n;	      /* block size */
	bool mac_only;
	enum impl impl;
	unsigned nslots;
	struct gost_slot slot[];
};

static bool is_kuznyechik(enum aead_cipher c)
{
	return c == AEAD_KUZNYECHIK_MGM || c == AEAD_KUZNYECHIK_MGM_MAC;
}

static int slot_open(struct gost_slot *s, enum impl impl)
{
	for (unsigned k = 0; k < 2; k++) {
		int err = block_open(&s->leaf[k].blk, impl);

		if (err)
			return err;
	}
	s->kdf = kdf_tree_ctx_new();
	return s->kdf ? 0 : -ENOMEM;
}

static void slot_close(struct gost_slot *s)
{
	for (unsigned k = 0; k < 2; k++) {
		struct gost_leaf *l = &s->leaf[k];

		block_close(&l->blk);
		wipe(l->key, sizeof(l->key));
		l->levels = 0;
		l->has_leaf = l->verified = false;
	}
	kdf_tree_ctx_free(s->kdf);
	s->kdf = NULL;
}

static void gost_unkey(const struct aead *a, void *state)
{
	struct gost_sa *g = state;

	(void)a;
	for (unsigned i = 0; i < g->nslots; i++)
		slot_close(&g->slot[i]);
	wipe(g, sizeof(*g));
	free(g);
}

static struct gost_sa *sa_alloc(unsigned nthreads)
{
	size_t sz = sizeof(struct gost_sa) + nthreads * sizeof(struct gost_slot);
	struct gost_sa *g = aligned_alloc(64, (sz + 63) & ~(size_t)63);

	if (!g)
		return NULL;
	memset(g, 0, sz);
	atomic_store(&g->budget.verified, NO_LEAF);
	return g;
}

/* The implementation an SA gets is the one selected when it was set up (aead_init), even
 * though it is keyed later. */
static uint8_t gost_variant(enum aead_cipher c)
{
	return (uint8_t)(is_kuznyechik(c) ? sel.kuz : sel.magma);
}

static int gost_key(const struct aead *a, const uint8_t *keymat, size_t len, void **state)
{
	bool kuz = is_kuznyechik(a->cipher);
	size_t salt_len = kuz ? 12 : 4;
	struct gost_sa *g;

	if (len != KEY_LEN + salt_len || !eng.e)
		return -EINVAL;
	g = sa_alloc(a->nthreads);
	if (!g)
		return -ENOMEM;
	memcpy(g->root, keymat, KEY_LEN);
	memcpy(g->salt, keymat + KEY_LEN, salt_len);
	g->salt_len = salt_len;
	g->n = kuz ? 16 : 8;
	g->pnum_bits = kuz ? PNUM_BITS_KUZ : PNUM_BITS_MAGMA;
	g->mac_only = a->cipher == AEAD_KUZNYECHIK_MGM_MAC || a->cipher == AEAD_MAGMA_MGM_MAC;
	g->impl = (enum impl)a->variant;
	for (; g->nslots < a->nthreads; g->nslots++) {
		int err = slot_open(&g->slot[g->nslots], g->impl);

		if (err) {
			g->nslots++;
			gost_unkey(a, g);
			return err;
		}
	}
	*state = g;
	return 0;
}

/* RFC 9227 4.2: i1 (1) | i2 (2) | i3 (2) | pnum (3), network byte order */
static void iv_write(uint8_t *iv, uint64_t leaf, uint32_t pnum)
{
	wr64(iv, leaf << 24 | (pnum & 0xffffff));
}

static int gost_next_iv(struct aead *a, uint64_t seq, size_t len, uint8_t iv[ESP_IV_LEN])
{
	struct gost_sa *g = a->priv;
	uint64_t pos = seq + g->iv_offset, leaf = pos >> g->pnum_bits;

	(void)len; /* P packets of any size fit a leaf's octet limit */
	if (leaf > LEAF_MAX)
		return -ENOSPC;
	iv_write(iv, leaf, (uint32_t)(pos & ((1u << g->pnum_bits) - 1)));
	return 0;
}

static uint64_t leaf_of(uint8_t i1, uint16_t i2, uint16_t i3)
{
	return (uint64_t)i1 << 32 | (uint64_t)i2 << 16 | i3;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* May a receiver derive `calls` KDF levels for leaf? The next leaf after the highest
 * verified one (or leaf 0 before any) always; others while the budget lasts. */
static bool may_derive(struct gost_sa *g, uint64_t leaf, unsigned calls)
{
	const uint64_t step = 1000000000u / DERIVE_RATE, burst = DERIVE_BURST * step;
	uint64_t verified = atomic_load_explicit(&g->budget.verified, memory_order_relaxed);
	uint64_t now, tat, next;

	if (leaf == verified + 1 || (verified == NO_LEAF && leaf == 0))
		return true;
	now = now_ns();
	tat = atomic_load_explicit(&g->budget.tat, memory_order_relaxed);
	do {
		next = (tat > now ? tat : now) + calls * step;
		if (next > now + burst)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&g->budget.tat, &tat, next,
							memory_order_relaxed, memory_order_relaxed));
	return true;
}

static void leaf_verified(struct gost_sa *g, uint64_t leaf)
{
	uint64_t v = atomic_load_explicit(&g->budget.verified, memory_order_relaxed);

	while ((v == NO_LEAF || leaf > v) &&
	       !atomic_compare_exchange_weak_explicit(&g->budget.verified, &v, leaf,
						      memory_order_relaxed, memory_order_relaxed))
		;
}

/* How many tree levels above the leaf l shares with (i1, i2): 0, 1 or 2. */
static unsigned prefix_levels(const struct gost_leaf *l, uint8_t i1, uint16_t i2)
{
	if (l->levels < 1 || l->i1 != i1)
		return 0;
	return l->levels < 2 || l->i2 != i2 ? 1 : 2;
}

/* Which leaf a new one replaces: the least recently used, unless the most recently used
 * never verified a packet and the other did. A forged IV thus replaces the previous forged
 * one, never the genuine leaf that traffic is still using. */
static unsigned victim(const struct gost_slot *s)
{
	unsigned lru = s->mru ^ 1;

	return !s->leaf[s->mru].verified && s->leaf[lru].verified ? s->mru : lru;
}

/* Find or make the leaf for (i1, i2, i3) in slot s, deriving only the levels neither cached
 * leaf has (level 1 if i1 is new, 2 if (i1, i2) is new, always the leaf). Each KDF call is
 * counted; a receiver's (open) within the forged-IV budget (-EBUSY beyond it, nothing
 * changed). The leaf is the slot's most recently used afterwards. */
static int slot_leaf(struct gost_sa *g, struct gost_slot *s, uint8_t i1, uint16_t i2, uint16_t i3,
		     bool open, struct gost_leaf **out)
{
	struct gost_leaf *l, *o;
	uint8_t kmsg[KEY_LEN] = {0}; /* kdf_tree_level writes it; cppcheck cannot tell */
	unsigned v, from, other;
	int err = 0;

	for (v = 0; v < 2; v++) {
		l = &s->leaf[v];
		if (l->has_leaf && l->i1 == i1 && l->i2 == i2 && l->i3 == i3) {
			s->mru = v;
			*out = l;
			return 0;
		}
	}
	v = victim(s);
	l = &s->leaf[v];
	o = &s->leaf[v ^ 1];
	from = prefix_levels(l, i1, i2);
	other = prefix_levels(o, i1, i2);
	if (open && !may_derive(g, leaf_of(i1, i2, i3), 3 - (other > from ? other : from))) {
		atomic_fetch_add_explicit(&g->limited, 1, memory_order_relaxed);
		return -EBUSY;
	}
	if (other > from) {
		memcpy(l->key, o->key, other * KEY_LEN);
		from = other;
	}
	l->has_leaf = l->verified = false;
	l->levels = from;
	l->i1 = i1;
	l->i2 = i2;
	l->i3 = i3;
	s->mru = v;
	for (unsigned lvl = from + 1; lvl <= 3 && !err; lvl++) {
		const uint8_t *parent = lvl == 1 ? g->root : l->key[lvl - 2];
		uint16_t idx = lvl == 1 ? i1 : lvl == 2 ? i2 : i3;

		err = kdf_tree_level(s->kdf, lvl, parent, idx, lvl == 3 ? kmsg : l->key[lvl - 1]);
		atomic_fetch_add_explicit(&g->derivations, 1, memory_order_relaxed);
		if (!err && lvl < 3)
			l->levels = lvl;
	}
	if (!err)
		err = block_setkey(&l->blk, kmsg) ? -EIO : 0;
	wipe(kmsg, sizeof(kmsg));
	if (err)
		return err;
	l->has_leaf = true;
	*out = l;
	return 0;
}

/* RFC 9227 4.3: 0x00 | pnum | salt */
static void make_nonce(const struct gost_sa *g, const uint8_t *iv, uint8_t *nonce)
{
	nonce[0] = 0;
	memcpy(nonce + 1, iv + 5, 3);
	memcpy(nonce + 4, g->salt, g->salt_len);
}

static int prepare(struct aead *a, unsigned thread, const uint8_t *iv, bool open,
		   struct mgm_cipher *c, uint8_t *nonce, struct gost_leaf **leaf)
{
	struct gost_sa *g = a->priv;
	int err;

	if (thread >= g->nslots)
		return -EINVAL;
	err = slot_leaf(g, &g->slot[thread], iv[0], rd16(iv + 1), rd16(iv + 3), open, leaf);
	if (err)
		return err;
	make_nonce(g, iv, nonce);
	c->ecb = (*leaf)->blk.ecb;
	c->key = &(*leaf)->blk;
	c->n = g->n;
	return 0;
}

/* gost: AAD = SPI | (E)SN, payload encrypted. gost-mac: AAD = SPI | (E)SN | IV | payload,
 * nothing encrypted (RFC 9227 4.7.1). seal or open, in place. */
static int gost_run(struct aead *a, unsigned thread, const struct aead_req *r, bool seal)
{
	struct gost_sa *g = a->priv;
	struct mgm_seg seg[3] = {
	    {r->aad, r->aad_len},
	    {r->iv, ESP_IV_LEN},
	    {r->data, r->len},
	};
	size_t nseg = g->mac_only ? 3 : 1, len = g->mac_only ? 0 : r->len;
	uint8_t *data = g->mac_only ? NULL : r->data;
	uint8_t nonce[16];
	struct gost_leaf *leaf;
	struct mgm_cipher c;
	int err = prepare(a, thread, r->iv, !seal, &c, nonce, &leaf);

	if (err)
		return err;
	if (seal)
		err = mgm_encrypt(&c, nonce, seg, nseg, data, len, r->icv, a->icv_len);
	else
		err = mgm_decrypt(&c, nonce, seg, nseg, data, len, r->icv, a->icv_len);
	wipe(nonce, sizeof(nonce));
	if (!err && !leaf->verified) {
		leaf->verified = true;
		if (!seal)
			leaf_verified(g, leaf_of(leaf->i1, leaf->i2, leaf->i3));
	}
	return err;
}

static int gost_seal(struct aead *a, unsigned thread, const struct aead_req *r)
{
	return gost_run(a, thread, r, true);
}

static int gost_open(struct aead *a, unsigned thread, const struct aead_req *r)
{
	return gost_run(a, thread, r, false);
}

const struct aead_ops aead_gost_ops = {
    .variant = gost_variant,
    .key = gost_key,
    .unkey = gost_unkey,
    .next_iv = gost_next_iv,
    .seal = gost_seal,
    .open = gost_open,
};

/* --- test hooks ----------------------------------------------------------------------------- */
/* The SA's state, keyed now if it was not (the hooks may come before any packet). */
static struct gost_sa *gost_of(const struct aead *a)
{
	if (!a || a->ops != &aead_gost_ops || aead_key((struct aead *)a) < 0)
		return NULL;
	return a->priv;
}

/* The SA's state if it is keyed: what the counters read (never keys: `stats` must not
 * make a key schedule for every idle SA). */
static struct gost_sa *gost_if_keyed(const struct aead *a)
{
	return a && a->ops == &aead_gost_ops && aead_keyed(a) ? a->priv : NULL;
}

int crypto_gost_set_iv(struct aead *a, uint64_t seq, uint8_t i1, uint16_t i2, uint16_t i3,
		       uint32_t pnum)
{
	struct gost_sa *g = gost_of(a);

	if (!g || pnum >> g->pnum_bits)
		return -EINVAL;
	g->iv_offset = (leaf_of(i1, i2, i3) << g->pnum_bits | pnum) - seq;
	return 0;
}

unsigned crypto_gost_pnum_bits(const struct aead *a)
{
	struct gost_sa *g = gost_of(a);

	return g ? g->pnum_bits : 0;
}

uint64_t crypto_gost_limited(const struct aead *a)
{
	struct gost_sa *g = gost_if_keyed(a);

	return g ? atomic_load_explicit(&g->limited, memory_order_relaxed) : 0;
}

uint64_t crypto_gost_derivations(const struct aead *a)
{
	struct gost_sa *g = gost_if_keyed(a);

	return g ? atomic_load_explicit(&g->derivations, memory_order_relaxed) : 0;
}

size_t crypto_gost_nonce(const struct aead *a, const uint8_t iv[ESP_IV_LEN], uint8_t nonce[16])
{
	struct gost_sa *g = gost_of(a);

	if (!g)
		return 0;
	make_nonce(g, iv, nonce);
	return g->n;
}
