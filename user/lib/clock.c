// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * clock.c - the clocks of clock.h: CLOCK_MONOTONIC in milliseconds (or a fake time set by
 * the unit tests), the coarse seconds clock the datapath reads, and its conversion to Unix
 * time for the listings. Ticked by live.c's housekeeper; read by anyone.
 */
#include <time.h>

#include "clock.h"

_Atomic uint32_t clock_coarse_now = 1;
static _Atomic uint64_t fake_ms;

uint64_t clock_ms(void)
{
	uint64_t fake = atomic_load_explicit(&fake_ms, memory_order_relaxed);
	struct timespec ts;

	if (fake)
		return fake;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void clock_tick(void)
{
	atomic_store_explicit(&clock_coarse_now, clock_coarse_of_ms(clock_ms()),
			      memory_order_relaxed);
}

void clock_fake_ms(uint64_t ms)
{
	atomic_store(&fake_ms, ms);
	clock_tick();
}

int64_t clock_unix_of(uint32_t t)
{
	int64_t ago = (int64_t)clock_coarse_of_ms(clock_ms()) - (int64_t)t;

	return (int64_t)time(NULL) - (ago > 0 ? ago : 0);
}
