/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sad.h - the Security Association Database: SAs by SPI (inbound ESP, RFC 4301 4.4.2) and
 * by UniqueID (what policies name). The command executor is the only writer; workers look
 * SAs up lock-free (htab.h, rcu.h) and see each SA either whole or not at all.
 *
 * An SA has three parts. Its identity and keys never change once it is published. Its
 * runtime state (sequence counter, replay window, counters) has one atomic contract per
 * field. Its direction and inbound selectors are written by the control thread while
 * workers read them: SAs are unidirectional (RFC 4301 4.1), and one that an outbound policy
 * names is outbound for good (SA_OUTBOUND: it never decrypts); an inbound policy naming it
 * adds its selectors to the set a decrypted packet must match (RFC 4301 5.2 step 4).
 * The configuration (struct sa_params) is kept for the listings only. Its path (outer
 * addresses, UDP encapsulation) is published apart: `update` moves it (sad_move).
 */
#ifndef ESPER_SAD_H
#define ESPER_SAD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "key_history.h"
#include "lib/addr.h"
#include "lib/clock.h"
#include "lib/list.h"
#include "replay.h"

/* Counters kept per SA (summed over workers). The first four are counted per packet and
 * live in struct sa; the others count rare events, in a block made on the first of them
 * (sa_count). */
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
	X(policy_mismatch, "dropped: decrypted packet outside the SA's inbound policies") \
	X(no_in_policy, "dropped: no inbound policy names the SA (--strict-inbound)") \
	X(seq_exhausted, "refused: sequence numbers exhausted")		\
	X(iv_exhausted, "refused: IV space (key tree) exhausted")	\
	X(too_big, "refused: encapsulation larger than the MTU")	\
	X(no_room, "refused: no room in the buffer")			\
	X(fragment, "refused: fragment in transport mode")		\
	X(tx_error, "dropped: transmit failed")				\
	X(crypto_error, "dropped: crypto backend error (key derivation, engine)") \
	X(derive_limited, "dropped: GOST key-tree derivations over the forged-IV budget") \
	X(no_memory, "dropped: no memory for the SA's key schedule or replay window") \
	X(mapping, "decrypted from a peer address or port other than the SA's (NAT, RFC 3948)") \
	X(peer_address, "dropped: transport mode in UDP from an address other than the SA's peer")

enum sa_counter {
#define SA_COUNTER_ENUM(name, text) SA_C_##name,
	SA_COUNTERS(SA_COUNTER_ENUM)
#undef SA_COUNTER_ENUM
	SA_C_MAX
};

#define SA_C_HOT	(SA_C_in_bytes + 1)	/* counters kept in struct sa */

extern const char *const sa_counter_names[SA_C_MAX];
extern const char *const sa_counter_help[SA_C_MAX];

/* Lifetime limits (setkey's -ls/-lh, -bs/-bh, and -ps/-ph): 0 is no limit. Bytes and
 * packets are those the counters count (out_bytes + in_bytes: the inner packets). */
struct sa_lifetime {
	uint64_t time_s;		/* seconds since the SA was added */
	uint64_t bytes;
	uint64_t packets;
};

static inline bool sa_lifetime_set(const struct sa_lifetime *l)
{
	return l->time_s || l->bytes || l->packets;
}

#define SA_OUTBOUND	0x01	/* an outbound policy has named it: it never decrypts */
#define SA_INBOUND	0x02	/* an inbound policy has named it, it decrypted, or a peer sent
				 * with its key: it never sends */

/* An SA as configured: what `add` says. */
struct sa_params {
	uint32_t spi;			/* host order */
	uint32_t uid;
	struct ip_addr src, dst;	/* the SA carries ESP from src to dst */
	bool encap;			/* esp-udp: ESP in UDP (RFC 3948) */
	uint16_t sport, dport;		/* esp-udp: the UDP ports, host order */
	enum esp_alg alg;
	enum aead_cipher cipher;
	bool esn;
	uint8_t key[ESP_KEYMAT_MAX];
	uint8_t key_len;
	uint32_t tfc;			/* pad the payload to this many bytes; 0: none */
	uint64_t seq;			/* the first sequence number (1 by default) */
	uint32_t replay;		/* the anti-replay window in packets (0: off;
					 * REPLAY_WINDOW_AUTO: the default for the workers) */
	struct sa_lifetime soft;	/* reported once (an event), the SA stays */
	struct sa_lifetime hard;	/* the SA is deleted (and an event reported) */
	uint8_t dir;			/* dir: (dump's): SA_INBOUND or SA_OUTBOUND; 0: as
					 * its policies make it */
};

/* What of struct sa_params an SA keeps besides its identity and path (sa_params() gives
 * the whole back). key is the aead's keying material. */
struct sa_conf {
	uint8_t key[ESP_KEYMAT_MAX];
	uint8_t key_len;
	uint8_t alg;			/* enum esp_alg */
	bool replay_default;		/* no replay: given: the host's default window */
	uint64_t seq;			/* the first sequence number */
	struct sa_lifetime soft, hard;
};

/* One inbound policy's selectors, masked, as a decrypted packet is checked against them. */
struct sa_sel {
	uint8_t family;			/* AF_INET or AF_INET6 */
	uint8_t proto;			/* 0: any */
	uint8_t src_plen, dst_plen;
	uint8_t tunnel;			/* the policy's mode is tunnel */
	uint16_t sport, dport;		/* network order; 0: any */
	uint8_t src[16], dst[16];
};

struct sa_sels {
	unsigned n;
	struct sa_sel sel[];
};

/* Where an SA's ESP travels: its outer addresses and, UDP-encapsulated (RFC 3948), its
 * ports. `update` replaces it whole (a peer that moved behind a NAT, MOBIKE): readers load
 * it once and see the old path or the new one. */
struct sa_path {
	struct ip_addr src, dst;
	bool encap;
	uint16_t sport, dport;		/* network order; 0 without encapsulation */
};

/*
 * One SA: a slab object (sad.c) of 64-byte lines, with what workers read apart
 * from what they write, and what only the control thread uses last. Small on purpose: a
 * million of them and their policies must fit in well under 1 KB a pair (BENCHMARKS.md), and
 * on the VMs this runs on every fresh gigabyte costs seconds to fault in. The key schedule
 * (aead), the replay bitmap (replay.h) and the counters of rare events are made when first
 * needed, by the worker that needs them.
 */
struct sa {
	/* Line 0-1: identity and keys, immutable once published (the aead is keyed on the
	 * first packet, crypto.h); direction and inbound selectors, written by the control
	 * thread while workers read them. */
	uint32_t spi;			/* host order */
	uint32_t uid;
	uint8_t family;			/* of the outer addresses: `update` keeps it */
	enum aead_cipher cipher;
	bool esn;
	uint8_t icv_len;
	uint8_t spi_be[4];		/* the SPI as it travels */
	uint32_t tfc;			/* 0: no TFC padding */
	uint64_t seq_max;		/* 2^32-1, or 2^64-1 with ESN */
	struct aead aead;		/* keymat: conf.key */
	_Atomic uint8_t flags;			/* SA_OUTBOUND, SA_INBOUND: sticky */
	struct sa_sels *_Atomic in_sels;	/* NULL: no inbound policy names it */
	_Atomic uint64_t *_Atomic rare;		/* counters from SA_C_HOT on; NULL: all 0 */
	struct sa_path *_Atomic path;		/* never NULL once published */

	/* Line 2: what workers write: a sender the next sequence number to send (0 once
	 * 2^64-1 has been used) and its counters, a receiver the anti-replay window (its own
	 * lock) and its counters. One line: an SA is unidirectional, its senders and
	 * receivers are never both busy. */
	_Atomic uint64_t seq_next __attribute__((aligned(64)));
	_Atomic uint64_t out_packets, out_bytes;
	struct replay replay;
	_Atomic uint64_t in_packets, in_bytes;
	/* Written rarely: the coarse clock (lib/clock.h) when a packet last went through (0:
	 * never), at most once a second; when a new peer mapping was last reported. */
	_Atomic uint32_t last_use;
	_Atomic uint64_t mapping_told;

	/* Control plane only (the executor's thread). */
	struct sa_conf conf;		/* the rest of what `add` said; wiped when freed */
	uint64_t added_ms;		/* clock_ms() at sa_new: the lifetimes count from here */
	bool soft_reported;		/* the soft lifetime has expired and was reported */
	struct list timed;		/* the SAD's SAs with lifetimes (sad_timed_next) */
	struct list sps;		/* policies naming this SA (struct sp, sa_node) */
	unsigned n_tunnel_sps, n_transport_sps, n_in_sps;
	struct list node;		/* SAD insertion order, for dump */
};

struct sad;

struct sad *sad_new(void);
void sad_free(struct sad *sad);		/* frees every SA now: no reader may be running */

/* An SA, not yet in the SAD; keyed on its first packet (crypto.h). NULL with errno set
 * (EINVAL, ENOTSUP: see aead_init). */
struct sa *sa_new(const struct sa_params *p, unsigned nthreads);
void sa_free(struct sa *sa);		/* wipes keys; NULL is a no-op */
/* Key sa on this AES-GCM backend instead (tests, benchmarks): 0 or -errno. */
int sa_use_backend(struct sa *sa, enum crypto_backend backend);
/* What `add` said (for tests: the peer's copy of an SA). */
struct sa_params sa_params(const struct sa *sa);

int sad_reserve(struct sad *sad);	/* room so that the next sad_add, sad_move or
					 * sad_unset_outbound can't fail */
int sad_add(struct sad *sad, struct sa *sa);
/* The same, with the digest of sa's key that sad_key_check made (hashed once). */
int sad_add_checked(struct sad *sad, struct sa *sa, const struct key_digest *k);
void sad_remove(struct sad *sad, struct sa *sa);	/* unpublish; freed after a grace period */
void sad_flush(struct sad *sad);	/* unpublish and defer-free every SA */

/* Lock-free lookups for readers. */
struct sa *sad_by_spi(const struct sad *sad, uint32_t spi);
struct sa *sad_by_uid(const struct sad *sad, uint32_t uid);

struct sa *sad_first(const struct sad *sad);	/* insertion order (control thread only) */
struct sa *sad_next(const struct sad *sad, const struct sa *sa);
size_t sad_count(const struct sad *sad);

/* Does an esp-udp SA that may decrypt go to (family, addr, port) (port in network order)?
 * UDP to such a place is looked at as ESP in UDP (RFC 3948 2.2). Lock-free. */
bool sad_natt_dest(const struct sad *sad, int family, const uint8_t *addr, uint16_t port);
/* The SAs with lifetimes in turn: the one after the last returned, wrapping around (NULL if
 * there is none), so that a bounded number per call visits each in turn (control thread). */
struct sa *sad_timed_next(struct sad *sad);
size_t sad_timed_count(const struct sad *sad);

/* Sequence numbers for n packets: the first in *first; returns how many were granted (0
 * once the SA is exhausted: it never wraps, RFC 4303 3.3.3). */
unsigned sa_seq_alloc(struct sa *sa, unsigned n, uint64_t *first);

/* May an SA with these parameters join the SAD, as far as its key goes (key_history.h)? 0,
 * -EEXIST (an SA of the SAD has the key), -ESTALE (the key has sent numbers p->seq does
 * not reach: *resume is where it may start, 0 if nowhere). *k: the key's digest, for
 * sad_add_checked. sad_add records the key; sad_remove remembers where the SA's key stopped
 * (sending or receiving) and whether a peer sent with it (*received). */
int sad_key_check(struct sad *sad, const struct sa_params *p, uint64_t *resume,
		  bool *received, struct key_digest *k);

/* Control thread: sa, an SA of sad, becomes outbound, for good (-EPERM if it is inbound: an
 * inbound policy named it, or it has decrypted); sad_unset_outbound undoes it before it
 * sent (after sad_reserve: it cannot fail). */
int sad_set_outbound(struct sad *sad, struct sa *sa);
void sad_unset_outbound(struct sad *sad, struct sa *sa);

/* Control thread: publish sa's inbound selectors (NULL: none), the old set freed after a
 * grace period. */
void sa_set_in_sels(struct sa *sa, struct sa_sels *sels);

/* The path of an SA with the addresses and encapsulation of p. NULL with errno set. */
struct sa_path *sa_path_new(const struct sa_params *p);

/* Control thread, after sad_reserve: sa, an SA of sad, moves to path (`update`), which it
 * owns from now on; the old path is freed after a grace period. Sequence numbers, replay
 * window and keys stay. */
void sad_move(struct sad *sad, struct sa *sa, struct sa_path *path);

static inline const struct sa_path *sa_path(const struct sa *sa)
{
	return atomic_load_explicit(&((struct sa *)sa)->path, memory_order_acquire);
}

static inline bool sa_is_outbound(const struct sa *sa)
{
	return atomic_load_explicit(&((struct sa *)sa)->flags, memory_order_acquire) & SA_OUTBOUND;
}

/* The slot of a per-packet counter; NULL for the others. */
static inline _Atomic uint64_t *sa_hot_counter(struct sa *sa, enum sa_counter c)
{
	switch (c) {
	case SA_C_out_packets: return &sa->out_packets;
	case SA_C_out_bytes: return &sa->out_bytes;
	case SA_C_in_packets: return &sa->in_packets;
	case SA_C_in_bytes: return &sa->in_bytes;
	default: return NULL;
	}
}

/* Counts a rare event: makes the SA's block of them on the first (one compare-and-swap);
 * without memory, counts it in sa_counters_lost. */
void sa_count_rare(struct sa *sa, enum sa_counter c, uint64_t n);
extern _Atomic uint64_t sa_counters_lost;

static inline void sa_count(struct sa *sa, enum sa_counter c, uint64_t n)
{
	_Atomic uint64_t *hot = sa_hot_counter(sa, c);

	if (hot)
		atomic_fetch_add_explicit(hot, n, memory_order_relaxed);
	else
		sa_count_rare(sa, c, n);
}

static inline uint64_t sa_counter(const struct sa *sa, enum sa_counter c)
{
	struct sa *s = (struct sa *)sa;
	_Atomic uint64_t *hot = sa_hot_counter(s, c), *rare;

	if (hot)
		return atomic_load_explicit(hot, memory_order_relaxed);
	rare = atomic_load_explicit(&s->rare, memory_order_acquire);
	return rare ? atomic_load_explicit(&rare[c - SA_C_HOT], memory_order_relaxed) : 0;
}

/* A packet of sa went through now: at most one store per SA per second (a load otherwise). */
static inline void sa_touch(struct sa *sa)
{
	uint32_t now = clock_coarse();

	if (atomic_load_explicit(&sa->last_use, memory_order_relaxed) != now)
		atomic_store_explicit(&sa->last_use, now, memory_order_relaxed);
}

#endif
