/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * mgm.h - Multilinear Galois Mode (RFC 9058) for 128-bit (Kuznyechik) and 64-bit (Magma)
 * block ciphers. The cipher is a callback that encrypts a batch of independent blocks (ECB):
 * MGM builds every keystream counter Y_i and hash-key counter Z_i of a packet first and
 * hands them over in one call. Owner of the caller's buffers: none kept after return.
 *
 * Threads: any number at once, each with its own cipher context; the scratch space is
 * per thread (TLS), so there is no allocation per call.
 */
#ifndef ESPER_MGM_H
#define ESPER_MGM_H

#include <stddef.h>
#include <stdint.h>

#define MGM_BLOCK_MAX 16

/* Encrypt nblocks independent blocks of the cipher's block size, in RFC byte order, from in
 * to out (distinct buffers). 0 or -errno. */
typedef int (*mgm_ecb_fn)(void *key, uint8_t *out, const uint8_t *in, size_t nblocks);

/* Optional, for a cipher that does better from the counters' start than ECB over built
 * counter blocks: out gets E(y + i) for i < ny, y counting in its right half (incr_r), then
 * E(z + i) for i < nz, z counting in its left half (incr_l), each half modulo 2^(n/2).
 * 0 or -errno. */
typedef int (*mgm_ctr_fn)(void *key, uint8_t *out, const uint8_t *y, size_t ny, const uint8_t *z,
			  size_t nz);

struct mgm_cipher {
	mgm_ecb_fn ecb;
	void *key;	/* passed to ecb and ctr: the keyed block cipher */
	size_t n;	/* block size in bytes: 16 (Kuznyechik) or 8 (Magma) */
	mgm_ctr_fn ctr; /* NULL: counter blocks are built and go through ecb */
};

/* One piece of the associated data; the pieces are authenticated as their concatenation. */
struct mgm_seg {
	const uint8_t *p;
	size_t len;
};

/* nonce: n bytes; its top bit is ignored (ICN is the low n-1 bits). data is encrypted in
 * place. tag_len: 4 .. n; the tag is the first tag_len bytes of T. 0 or -EINVAL/-EIO. */
int mgm_encrypt(const struct mgm_cipher *c, const uint8_t *nonce, const struct mgm_seg *aad,
		size_t naad, uint8_t *data, size_t len, uint8_t *tag, size_t tag_len);

/* Verifies the tag (constant time) before touching data; decrypts in place only if it
 * matches. -EBADMSG on mismatch (data unchanged). */
int mgm_decrypt(const struct mgm_cipher *c, const uint8_t *nonce, const struct mgm_seg *aad,
		size_t naad, uint8_t *data, size_t len, const uint8_t *tag, size_t tag_len);

/* The first and last calls to the block cipher wait on one block's rounds one after the
 * other; the blocks of the next packet's first call can ride along in this one's last.
 * e: this nonce's E(0||ICN) then E(1||ICN) (2n bytes, made earlier), or NULL: made here.
 * next: another nonce, or NULL; if set, its E(0||ICN), E(1||ICN) are made with the tag and
 * written to next_e (2n bytes), also when decryption fails. Secret: the caller wipes them. */
struct mgm_ahead {
	const uint8_t *e;
	const uint8_t *next;
	uint8_t *next_e;
};

int mgm_encrypt_ahead(const struct mgm_cipher *c, const uint8_t *nonce, const struct mgm_seg *aad,
		      size_t naad, uint8_t *data, size_t len, uint8_t *tag, size_t tag_len,
		      const struct mgm_ahead *ah);
int mgm_decrypt_ahead(const struct mgm_cipher *c, const uint8_t *nonce, const struct mgm_seg *aad,
		      size_t naad, uint8_t *data, size_t len, const uint8_t *tag, size_t tag_len,
		      const struct mgm_ahead *ah);

/* GF(2^n) multiplication backends: auto takes VPCLMULQDQ (AVX2, two blocks per instruction)
 * where the CPU has it, else PCLMULQDQ, else portable C. */
enum mgm_gf_impl {
	MGM_GF_AUTO,
	MGM_GF_PORTABLE,
	MGM_GF_PCLMUL,
	MGM_GF_VPCLMUL,
};

int mgm_gf_select(enum mgm_gf_impl impl); /* -ENOTSUP: not on this CPU */
const char *mgm_gf_name(void);		  /* "vpclmul", "pclmul" or "portable" */
/* r = a (x) b in GF(2^(8n)), n = 16 or 8, blocks in RFC byte order (tests, diagnostics). */
void mgm_gf_mul(size_t n, uint8_t *r, const uint8_t *a, const uint8_t *b);

#endif
