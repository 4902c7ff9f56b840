/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * crypto.h - the one crypto facade the ESP code sees. An AEAD context is keyed once per SA
 * (crypto_*.c backends: intel-ipsec-mb or OpenSSL for AES-GCM, crypto_gost.c for the GOST
 * transforms); per packet there is no allocation and no algorithm lookup.
 *
 * Lazy keying: aead_init checks everything that can be checked (transform, length, library)
 * and keys nothing; the key schedule (AES-GCM's expanded keys and GHASH tables, about 1 KB;
 * OpenSSL's or GOST's per-thread contexts) is made on the context's first packet, by the
 * thread that seals or opens it (aead_key): the first of two racing threads publishes its
 * schedule with one compare-and-swap, the other wipes and frees its own. Per packet after
 * that, one load and a predicted branch; never a lock. A million SAs that carry no traffic
 * cost no key schedule.
 *
 * Threads: an SA's context serves `nthreads` threads at once; each caller passes its own
 * thread slot (0 .. nthreads-1), which selects per-thread state where a backend needs it
 * (OpenSSL cipher contexts, GOST key-tree caches). aead_next_iv is safe from any thread.
 *
 * ESP mapping (RFC 4303 2.3, RFC 4106 3-5, RFC 9227 4): the caller passes the AAD as ESP
 * builds it (SPI | SN, or SPI | SN-high | SN-low with ESN), the 8-byte IV as it travels, and
 * the ESP payload (inner packet, padding, pad length, next header) to seal or open in place.
 * The MAC-only GOST transforms authenticate AAD | IV | payload and encrypt nothing; the
 * backend does that, the caller does not care.
 */
#ifndef ESPER_CRYPTO_H
#define ESPER_CRYPTO_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The ESPER algorithm names, without the "-esn" suffix. */
enum esp_alg {
	ESP_ALG_AES_GCM_16,	/* aes-gcm-16 */
	ESP_ALG_GOST,		/* gost */
	ESP_ALG_GOST_MAC,	/* gost-mac */
};

/* The transform, picked by algorithm name and key length. */
enum aead_cipher {
	AEAD_AES128_GCM,		/* RFC 4106, 16 + 4 bytes */
	AEAD_AES256_GCM,		/* RFC 4106, 32 + 4 bytes */
	AEAD_KUZNYECHIK_MGM,		/* RFC 9227 ENCR_KUZNYECHIK_MGM_KTREE, 32 + 12 */
	AEAD_MAGMA_MGM,			/* RFC 9227 ENCR_MAGMA_MGM_KTREE, 32 + 4 */
	AEAD_KUZNYECHIK_MGM_MAC,	/* RFC 9227 ENCR_KUZNYECHIK_MGM_MAC_KTREE */
	AEAD_MAGMA_MGM_MAC,		/* RFC 9227 ENCR_MAGMA_MGM_MAC_KTREE */
	AEAD_CIPHER_MAX
};

enum crypto_backend {
	CRYPTO_AUTO,		/* intel-ipsec-mb on x86-64, else OpenSSL */
	CRYPTO_IPSECMB,
	CRYPTO_OPENSSL,
};

/* The block ciphers under the GOST transforms (crypto_gost.c, docs/crypto.md). */
enum gost_impl {
	GOST_IMPL_AUTO,		/* ct unless >25 % slower than the fastest here (measured) */
	GOST_IMPL_ENGINE,	/* gost-engine, the reference */
	GOST_IMPL_TABLE,	/* kuznyechik.c, magma.c: table-driven, not constant-time */
	GOST_IMPL_CT,		/* the same, AVX2 constant-time code */
};

#define ESP_KEYMAT_MAX	44	/* longest keying material (Kuznyechik: 32 + 12) */
#define ESP_IV_LEN	8	/* every transform here sends an 8-byte IV */
#define ESP_ICV_MAX	16

struct aead;

struct aead_req {
	const uint8_t *aad;	/* SPI | SN (8 bytes) or SPI | SN-high | SN-low (12 bytes) */
	size_t aad_len;
	const uint8_t *iv;	/* ESP_IV_LEN bytes, as on the wire */
	uint8_t *data;		/* ESP payload, sealed or opened in place */
	size_t len;
	uint8_t *icv;		/* aead_icv_len() bytes: written by seal, checked by open */
};

/* Process-wide set-up: pick the AES-GCM backend (CPU dispatch for intel-ipsec-mb) and load
 * gost-engine if it is there. Call once before aead_new; idempotent. */
int crypto_init(enum crypto_backend backend);
void crypto_fini(void);
const char *crypto_backend_name(void);	/* what AES-GCM runs on, e.g. "intel-ipsec-mb (avx2)" */
bool crypto_gost_available(void);	/* gost-engine loaded: the GOST transforms can be keyed */
/* After crypto_init, before SAs are keyed (an SA keeps its implementation). -ENOTSUP: not on
 * this CPU, or no gost-engine. */
int crypto_gost_select(enum gost_impl impl);
const char *crypto_gost_impl_name(void);	/* "auto: Kuznyechik table, Magma ct-avx2" */

/* Map an algorithm name and key length to a transform: 0, or -EINVAL for a bad length. */
int aead_cipher_for(enum esp_alg alg, size_t keylen, enum aead_cipher *out);
const char *aead_cipher_name(enum aead_cipher c);	/* "AES-128-GCM", "Kuznyechik-MGM" ... */
size_t aead_keymat_len(enum aead_cipher c);
size_t aead_icv_len_of(enum aead_cipher c);

/* A context for keying material keymat (key | salt), embedded in its owner (struct sa).
 * keymat is not copied: the owner keeps it, unchanged, until aead_fini. 0, -EINVAL (bad
 * transform or length, nthreads 0), -ENOTSUP (the transform's library is missing). Keys
 * nothing: see "lazy keying" above. */
int aead_init(struct aead *a, enum aead_cipher c, const uint8_t *keymat, size_t len,
	      unsigned nthreads, enum crypto_backend backend);
void aead_fini(struct aead *a);		/* wipes and frees the key schedule, if made */
/* Make the key schedule now if no thread has: 0, or -ENOMEM (or a backend's -errno). */
int aead_key(struct aead *a);
static inline bool aead_keyed(const struct aead *a);

/* The same, allocated, with its own copy of keymat (tests, benchmarks). NULL with errno. */
struct aead *aead_new(enum aead_cipher c, const uint8_t *keymat, size_t len, unsigned nthreads);
struct aead *aead_new_backend(enum aead_cipher c, const uint8_t *keymat, size_t len,
			      unsigned nthreads, enum crypto_backend backend);
void aead_free(struct aead *a);		/* zeroizes every key it holds; NULL is a no-op */
enum aead_cipher aead_cipher(const struct aead *a);
size_t aead_icv_len(const struct aead *a);

/* The IV of the next outbound packet. AES-GCM: the 64-bit sequence number (unique per SA,
 * RFC 4106 3.1). GOST: the key-tree counter i1|i2|i3|pnum (RFC 9227 4.2), advanced under
 * the limits of its section 5 for a payload of len bytes. -ENOSPC when the SA is exhausted.
 * The three calls below key the context first if it is not (-ENOMEM if that fails). */
static inline int aead_next_iv(struct aead *a, uint64_t seq, size_t len,
			       uint8_t iv[ESP_IV_LEN]);

static inline int aead_seal(struct aead *a, unsigned thread, const struct aead_req *r);
/* -EBADMSG: bad ICV */
static inline int aead_open(struct aead *a, unsigned thread, const struct aead_req *r);

/* Backend interface (crypto_*.c). variant: the process-wide choice a context keeps from
 * aead_init on (optional; GOST: the block cipher implementation). key: make the keyed
 * state for a (its cipher, nthreads, variant) into *state, 0 or -errno; unkey: wipe and
 * free one. seal, open, next_iv find it in a->priv. next_iv: GOST only (AES-GCM's is
 * inline below). */
struct aead_ops {
	uint8_t (*variant)(enum aead_cipher c);
	int (*key)(const struct aead *a, const uint8_t *keymat, size_t len, void **state);
	void (*unkey)(const struct aead *a, void *state);
	int (*next_iv)(struct aead *a, uint64_t seq, size_t len, uint8_t iv[ESP_IV_LEN]);
	int (*seal)(struct aead *a, unsigned thread, const struct aead_req *r);
	int (*open)(struct aead *a, unsigned thread, const struct aead_req *r);
};

/* Written by aead_init and aead_fini; priv set once, by aead_key, from any thread. */
struct aead {
	const struct aead_ops *ops;
	const uint8_t *keymat;	/* the owner's keying material (aead_init) */
	void *_Atomic priv;	/* the backend's keyed state; NULL until the first packet */
	uint8_t cipher;		/* enum aead_cipher */
	uint8_t icv_len;
	uint8_t keymat_len;
	uint8_t variant;	/* aead_ops.variant at aead_init */
	unsigned nthreads;
};

static inline bool aead_keyed(const struct aead *a)
{
	return atomic_load_explicit(&((struct aead *)a)->priv, memory_order_acquire) != NULL;
}

/* Per packet: inline, one indirect call to the backend (none for a GCM IV). */
static inline int aead_next_iv(struct aead *a, uint64_t seq, size_t len,
			       uint8_t iv[ESP_IV_LEN])
{
	int err;

	if (a->cipher == AEAD_AES128_GCM || a->cipher == AEAD_AES256_GCM) {
		seq = __builtin_bswap64(seq);	/* the sequence number, big-endian */
		__builtin_memcpy(iv, &seq, ESP_IV_LEN);
		return 0;
	}
	if (__builtin_expect(!aead_keyed(a), 0) && (err = aead_key(a)) < 0)
		return err;
	return a->ops->next_iv(a, seq, len, iv);
}

static inline int aead_seal(struct aead *a, unsigned thread, const struct aead_req *r)
{
	int err;

	if (__builtin_expect(!aead_keyed(a), 0) && (err = aead_key(a)) < 0)
		return err;
	return a->ops->seal(a, thread, r);
}

static inline int aead_open(struct aead *a, unsigned thread, const struct aead_req *r)
{
	int err;

	if (__builtin_expect(!aead_keyed(a), 0) && (err = aead_key(a)) < 0)
		return err;
	return a->ops->open(a, thread, r);
}

extern const struct aead_ops aead_gcm_ipsecmb_ops;
extern const struct aead_ops aead_gcm_openssl_ops;
extern const struct aead_ops aead_gost_ops;

/* Backend-wide set-up, called by crypto_init. */
int crypto_gcm_ipsecmb_init(void);
const char *crypto_gcm_ipsecmb_arch(void);
int crypto_gost_init(void);
void crypto_gost_fini(void);

#endif
