// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * crypto_gcm_ipsecmb.c - AES-GCM-16 for ESP (RFC 4106) on intel-ipsec-mb, the default on
 * x86-64. The code path (SSE/AVX/AVX2/AVX-512) is picked once for the CPU by
 * init_mb_mgr_auto. An SA's expanded key and GHASH tables (struct gcm_key_data, ~1 KB) are
 * computed once, on its first packet (crypto.h, lazy keying), and are read-only afterwards,
 * so every thread shares them; the per-packet state lives on the caller's stack.
 *
 * Nonce (RFC 4106 4): salt (4 bytes, the tail of the keying material) | IV (8 bytes).
 */
#include <emmintrin.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <intel-ipsec-mb.h>

#include "crypto.h"
#include "lib/wipe.h"

struct gcm_mb {
	struct gcm_key_data key;	/* first: needs 64-byte alignment */
	aes_gcm_enc_dec_t enc, dec;	/* the code path for the CPU and key length */
	uint8_t salt[4];
	bool aes256;
};

static IMB_MGR *mgr;
static IMB_ARCH arch;

static const char *const arch_names[] = {
	[IMB_ARCH_NONE] = "none", [IMB_ARCH_NOAESNI] = "no-aesni", [IMB_ARCH_SSE] = "sse",
	[IMB_ARCH_AVX] = "avx",   [IMB_ARCH_AVX2] = "avx2",	    [IMB_ARCH_AVX512] = "avx512",
};

int crypto_gcm_ipsecmb_init(void)
{
	if (mgr)
		return 0;
	mgr = alloc_mb_mgr(0);
	if (!mgr)
		return -ENOMEM;
	init_mb_mgr_auto(mgr, &arch);
	if (imb_get_errno(mgr) || arch == IMB_ARCH_NONE || arch == IMB_ARCH_NOAESNI) {
		free_mb_mgr(mgr);
		mgr = NULL;
		return -ENOTSUP;
	}
	return 0;
}

const char *crypto_gcm_ipsecmb_arch(void)
{
	return arch < IMB_ARCH_NUM ? arch_names[arch] : "?";
}

static int mb_key(const struct aead *a, const uint8_t *keymat, size_t len, void **state)
{
	struct gcm_mb *g;
	size_t klen = len - 4;

	(void)a;
	if (!mgr)
		return -ENOTSUP;
	g = aligned_alloc(64, (sizeof(*g) + 63) & ~(size_t)63);
	if (!g)
		return -ENOMEM;
	memset(g, 0, sizeof(*g));
	g->aes256 = klen == 32;
	memcpy(g->salt, keymat + klen, 4);
	if (g->aes256) {
		IMB_AES256_GCM_PRE(mgr, keymat, &g->key);
		g->enc = mgr->gcm256_enc;
		g->dec = mgr->gcm256_dec;
	} else {
		IMB_AES128_GCM_PRE(mgr, keymat, &g->key);
		g->enc = mgr->gcm128_enc;
		g->dec = mgr->gcm128_dec;
	}
	*state = g;
	return 0;
}

static void mb_unkey(const struct aead *a, void *state)
{
	(void)a;
	wipe(state, sizeof(struct gcm_mb));
	free(state);
}

/* Made in registers and stored as 8 + 4 bytes, the way the library loads it: a load
 * across several narrower stores would wait for them to retire. x86-64: little-endian. */
static inline void nonce_of(const struct gcm_mb *g, const uint8_t *iv, uint8_t nonce[12])
{
	uint32_t salt, iv_lo, iv_hi;
	uint64_t head;

	memcpy(&salt, g->salt, 4);
	memcpy(&iv_lo, iv, 4);
	memcpy(&iv_hi, iv + 4, 4);
	head = salt | (uint64_t)iv_lo << 32;
	memcpy(nonce, &head, 8);
	memcpy(nonce + 8, &iv_hi, 4);
}

/* The direct API, one call per packet: on this library's AVX2/AVX-512 paths the job and
 * burst APIs end in the same single-buffer GCM code, with a job manager on top. */
static int mb_seal(struct aead *a, unsigned thread, const struct aead_req *r)
{
	struct gcm_mb *g = a->priv;
	struct gcm_context_data ctx;
	uint8_t nonce[12];

	(void)thread;
	nonce_of(g, r->iv, nonce);
	g->enc(&g->key, &ctx, r->data, r->data, r->len, nonce, r->aad, r->aad_len, r->icv, 16);
	return 0;
}

/* Constant time, like CRYPTO_memcmp, without the call into libcrypto; one 16-byte load of
 * the tag the library has just stored in one piece. */
static inline bool tag_eq(const uint8_t *x, const uint8_t *y)
{
	__m128i d = _mm_xor_si128(_mm_loadu_si128((const __m128i *)x),
				  _mm_loadu_si128((const __m128i *)y));

	return _mm_movemask_epi8(_mm_cmpeq_epi8(d, _mm_setzero_si128())) == 0xffff;
}

static int mb_open(struct aead *a, unsigned thread, const struct aead_req *r)
{
	struct gcm_mb *g = a->priv;
	struct gcm_context_data ctx;
	uint8_t nonce[12], tag[16];

	(void)thread;
	nonce_of(g, r->iv, nonce);
	g->dec(&g->key, &ctx, r->data, r->data, r->len, nonce, r->aad, r->aad_len, tag, 16);
	return tag_eq(tag, r->icv) ? 0 : -EBADMSG;
}

const struct aead_ops aead_gcm_ipsecmb_ops = {
	.key = mb_key,
	.unkey = mb_unkey,
	.seal = mb_seal,
	.open = mb_open,
};
