/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * key_history.h - what one SAD knows of the keys its SAs have carried, so that no (key,
 * nonce) pair is used twice (RFC 4106 8.1, RFC 9227 5): both AES-GCM's IV and the GOST IV
 * are functions of the sequence number, so a key that has carried numbers below N must not
 * carry them again (a sender would repeat nonces, a receiver take replays), two SAs must
 * never share a key (were one outbound, the other inbound, the peer would be sending with
 * it too), and a key a peer has sent with is never ours to send with. Keys are held as a
 * salted SHA-256 digest (its first 128 bits; the salt random per history), never in clear.
 * Owned by the SAD (sad.c), one thread at a time; bounded (the keys of every live SA, and
 * of at most KEY_HISTORY_MAX SAs that went, the oldest forgotten first). A key added again
 * after a restart is beyond what one process can know: the keying daemon must not do that,
 * or must give seq: as `dump` printed it.
 *
 * A key is looked up by its digest, computed once per command (key_history_digest).
 */
#ifndef ESPER_KEY_HISTORY_H
#define ESPER_KEY_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"

#define KEY_HISTORY_MAX (1u << 20)
#define KEY_DIGEST_LEN	16

struct key_digest {
	uint8_t d[KEY_DIGEST_LEN];
};

struct key_history;

struct key_history *key_history_new(void);	/* NULL with errno set */
void key_history_free(struct key_history *h);	/* NULL is a no-op */

/* The salted digest of (the primitive of c, key). */
void key_history_digest(struct key_history *h, enum aead_cipher c, const uint8_t *key,
			size_t len, struct key_digest *out);

/* May an SA with this key and first sequence number seq come? 0; -EEXIST (a live SA has
 * the key: two SAs, in either direction, never share one); -ESTALE (an SA with it has sent
 * up to where seq does not reach, or sent the last number). *resume: the first number the
 * key may still send from (1 if it never sent here, 0 when it sent the last one);
 * *received: a peer has sent with it (the SA may not send). Records nothing. */
int key_history_check(struct key_history *h, const struct key_digest *k, uint64_t seq,
		      uint64_t *resume, bool *received);

/* That SA comes: what key_history_check answers, and on 0 the key is recorded as live and
 * *received says whether a peer has sent with it before (then the SA must never send). */
int key_history_add(struct key_history *h, const struct key_digest *k, uint64_t seq,
		    bool *received);

/* That SA goes: next is the first number the key may carry again (a sender's next to send, 0
 * after the last one; a receiver's top + 1), 1 if it carried none; received: a peer sent
 * with it (it never sends, in any later SA either). */
void key_history_remove(struct key_history *h, const struct key_digest *k, uint64_t next,
			bool received);

#endif
