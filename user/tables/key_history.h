/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * key_history.h - what one SAD knows of the keys its SAs have sent with, so that no (key,
 * nonce) pair is used twice (RFC 4106 8.1, RFC 9227 5): both AES-GCM's IV and the GOST IV
 * are functions of the sequence number, so a key that has sent numbers below N must not
 * send them again, and two SAs must never share a key (were one outbound, the other
 * inbound, the peer would be sending with it too). Keys are held as a salted
 * SHA-256 digest (the salt random per history), never in clear. Owned by the SAD (sad.c);
 * bounded (KEY_HISTORY_MAX keys, the oldest forgotten first). A key added again after a
 * restart is beyond what one process can know: the keying daemon must not do that, or must
 * give seq: as `dump` printed it.
 */
#ifndef ESPER_KEY_HISTORY_H
#define ESPER_KEY_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"

#define KEY_HISTORY_MAX (1u << 20)

struct key_history;

struct key_history *key_history_new(void);	/* NULL with errno set */
void key_history_free(struct key_history *h);	/* NULL is a no-op */

/* The first sequence number the key may still send from: 1 if it never sent here, 0 when
 * it sent the last one. */
uint64_t key_history_resume(struct key_history *h, enum aead_cipher c, const uint8_t *key,
			    size_t len);

/* Does a live SA have this key? */
bool key_history_held(struct key_history *h, enum aead_cipher c, const uint8_t *key,
		      size_t len);

/* An SA with this key and first sequence number seq comes: 0 (recorded), -EEXIST (a live
 * SA has this key: two SAs, in either direction, never share one), -ESTALE (an SA with it
 * has sent up to where seq does not reach, or sent the last number). */
int key_history_add(struct key_history *h, enum aead_cipher c, const uint8_t *key, size_t len,
		    uint64_t seq);

/* That SA goes: next is the number it would have sent next if it sent (0: it sent the
 * last one), 1 if it never did. */
void key_history_remove(struct key_history *h, enum aead_cipher c, const uint8_t *key,
			size_t len, uint64_t next);

#endif
