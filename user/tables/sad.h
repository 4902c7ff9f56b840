/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sad.h - the Security Association Database: SAs by SPI (inbound ESP, RFC 4301 4.4.2) and
 * by UniqueID (what policies name). The command executor is the only writer; workers look
 * SAs up lock-free (htab.h, rcu.h) and see each SA either whole or not at all. An SA's
 * identity and keys never change after it is published; only its runtime state does
 * (sequence counter, replay window, counters), each with its own atomic contract.
 */
#ifndef ESPER_SAD_H
#define ESPER_SAD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/addr.h"
#include "control/cmd.h"
#include "crypto/crypto.h"
#include "replay.h"

/* Counters kept per SA (summed over workers). */
#define SA_COUNTERS(X)							\
	X(out_packets, "packets encrypted")				\
	X(out_bytes, "bytes encrypted (inner packets)")			\
	X(in_packets, "packets decrypted")				\
	X(in_bytes, "bytes decrypted (inner packets)")			\
	X(replay, "dropped: replayed or too old")			\
	X(icv_fail, "dropped: ICV verification failed")			\
	X(malformed, "dropped: malformed ESP or inner packet")		\
	X(bad_pad, "dropped: bad ESP padding")				\
	X(dummy, "dropped: dummy packets (next header 59)")		\
	X(ecn_drop, "dropped: not-ECT inner with CE outer (RFC 6040)")	\
	X(seq_exhausted, "refused: sequence numbers exhausted")		\
	X(iv_exhausted, "refused: IV space (key tree) exhausted")	\
	X(too_big, "refused: encapsulation larger than the MTU")	\
	X(no_room, "refused: no room in the buffer")			\
	X(fragment, "refused: fragment in transport mode")		\
	X(tx_error, "dropped: transmit failed")				\
	X(crypto_error, "dropped: crypto backend error (key derivation, engine)") \
	X(derive_limited, "dropped: GOST key-tree derivations over the forged-IV budget")

enum sa_counter {
#define SA_COUNTER_ENUM(name, text) SA_C_##name,
	SA_COUNTERS(SA_COUNTER_ENUM)
#undef SA_COUNTER_ENUM
	SA_C_MAX
};

extern const char *const sa_counter_names[SA_C_MAX];

struct sp;

struct sa {
	/* Identity and keys: immutable once published. */
	uint32_t spi;			/* host order */
	uint32_t uid;
	struct ip_addr src, dst;
	enum esp_alg alg;
	enum aead_cipher cipher;
	bool esn;
	uint8_t icv_len;
	uint8_t key_len;
	uint32_t tfc;			/* 0: no TFC padding */
	uint64_t seq_init;
	uint64_t seq_max;		/* 2^32-1, or 2^64-1 with ESN */
	struct aead *aead;
	uint8_t key[ESP_KEYMAT_MAX];	/* kept for dump; zeroized on free */
	uint8_t spi_be[4];		/* the SPI as it travels */

	/* Outbound: the next sequence number to send; 0 once 2^64-1 has been used. */
	_Atomic uint64_t seq_next __attribute__((aligned(64)));

	/* Inbound: the anti-replay window (its own lock). */
	struct replay replay __attribute__((aligned(64)));

	_Atomic uint64_t counters[SA_C_MAX] __attribute__((aligned(64)));

	/* Control plane only (the executor's thread). */
	struct sp *sps;			/* policies naming this SA, through sp->sa_next */
	unsigned n_tunnel_sps, n_transport_sps;
	struct sa *prev, *next;		/* insertion order, for dump */
};

struct sad;

struct sad *sad_new(void);
void sad_free(struct sad *sad);		/* frees every SA now: no reader may be running */

/* A keyed SA from an add command, not yet in the SAD. NULL with errno set. */
struct sa *sa_new(const struct cmd_add *add, unsigned nthreads);
void sa_free(struct sa *sa);		/* zeroizes keys; NULL is a no-op */

int sad_reserve(struct sad *sad);	/* make room so the next sad_add can't fail */
int sad_add(struct sad *sad, struct sa *sa);
void sad_remove(struct sad *sad, struct sa *sa);	/* unpublish; free it with rcu_defer */
void sad_flush(struct sad *sad);	/* unpublish and defer-free every SA */

/* Lock-free lookups for readers. */
struct sa *sad_by_spi(const struct sad *sad, uint32_t spi);
struct sa *sad_by_uid(const struct sad *sad, uint32_t uid);

struct sa *sad_first(const struct sad *sad);	/* insertion order (control thread only) */
size_t sad_count(const struct sad *sad);

/* Sequence numbers for n packets: the first in *first; returns how many were granted (0
 * once the SA is exhausted: it never wraps, RFC 4303 3.3.3). */
unsigned sa_seq_alloc(struct sa *sa, unsigned n, uint64_t *first);

static inline void sa_count(struct sa *sa, enum sa_counter c, uint64_t n)
{
	atomic_fetch_add_explicit(&sa->counters[c], n, memory_order_relaxed);
}

static inline uint64_t sa_counter(const struct sa *sa, enum sa_counter c)
{
	return atomic_load_explicit(&((struct sa *)sa)->counters[c], memory_order_relaxed);
}

#endif
