/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * clock.h - the daemon's clocks. The control plane reads a monotonic clock in milliseconds
 * (SA lifetimes, getspi reservations); the datapath reads a coarse clock in seconds that
 * costs one relaxed load (a variable the live housekeeper ticks every 100 ms), for the time
 * an SA was last used; both count from the same origin (CLOCK_MONOTONIC). Unit tests
 * freeze time with clock_fake_ms. The coarse clock is never 0, so that 0 can mean "never".
 */
#ifndef ESPER_CLOCK_H
#define ESPER_CLOCK_H

#include <stdatomic.h>
#include <stdint.h>

/* The coarse clock: CLOCK_MONOTONIC seconds + 1 at the last clock_tick. */
extern _Atomic uint32_t clock_coarse_now;

static inline uint32_t clock_coarse(void)
{
	return atomic_load_explicit(&clock_coarse_now, memory_order_relaxed);
}

uint64_t clock_ms(void);		/* CLOCK_MONOTONIC in ms, or the fake time */
void clock_tick(void);			/* the coarse clock from clock_ms() */
void clock_fake_ms(uint64_t ms);	/* tests: time stands at ms (0: the real clock again) */

/* The coarse instant t (clock_coarse's units, not 0) as Unix time in seconds. */
int64_t clock_unix_of(uint32_t t);

/* The coarse clock's reading for a clock_ms() instant. */
static inline uint32_t clock_coarse_of_ms(uint64_t ms)
{
	return (uint32_t)(ms / 1000 + 1);
}

#endif
