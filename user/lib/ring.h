/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ring.h - a bounded single-producer single-consumer ring of fixed-size records: how a
 * worker hands events (tables/event.h) to the control side without ever waiting. The
 * producer's push fails when the ring is full (the caller counts the loss); the consumer
 * pops at its own pace. One thread pushes, one thread pops; records are copied in and out.
 */
#ifndef ESPER_RING_H
#define ESPER_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct ring {
	_Atomic uint32_t head __attribute__((aligned(64)));	/* next slot to write: producer */
	_Atomic uint32_t tail __attribute__((aligned(64)));	/* next slot to read: consumer */
	uint32_t mask __attribute__((aligned(64)));		/* slots - 1 */
	uint32_t rec_size;
	uint8_t *slots;
};

/* A ring of at least n records (rounded up to a power of two) of rec_size bytes; NULL with
 * errno set. */
struct ring *ring_new(uint32_t n, uint32_t rec_size);
void ring_free(struct ring *r);		/* NULL is a no-op */

/* Producer: copy rec in; false if the ring is full (rec is not queued). */
static inline bool ring_push(struct ring *r, const void *rec)
{
	uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint32_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);

	if (head - tail > r->mask)
		return false;
	memcpy(r->slots + (size_t)(head & r->mask) * r->rec_size, rec, r->rec_size);
	atomic_store_explicit(&r->head, head + 1, memory_order_release);
	return true;
}

/* Consumer: copy the oldest record out; false if the ring is empty. */
static inline bool ring_pop(struct ring *r, void *rec)
{
	uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint32_t head = atomic_load_explicit(&r->head, memory_order_acquire);

	if (head == tail)
		return false;
	memcpy(rec, r->slots + (size_t)(tail & r->mask) * r->rec_size, r->rec_size);
	atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
	return true;
}

#endif
