/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * bench_time.h - what the benchmark programs share to time themselves: this thread's CPU
 * time (on the shared machine a neighbour's load costs wall time, not ours), the wall
 * clock, and the median and minimum of a figure's rounds. Header-only, for the benchmarks.
 */
#ifndef ESPER_BENCH_TIME_H
#define ESPER_BENCH_TIME_H

#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double bench_seconds(clockid_t clock)
{
	struct timespec t;

	clock_gettime(clock, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* CPU time of the calling thread, in seconds. */
static inline double bench_cpu_time(void)
{
	return bench_seconds(CLOCK_THREAD_CPUTIME_ID);
}

static inline double bench_wall_time(void)
{
	return bench_seconds(CLOCK_MONOTONIC);
}

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of v[0..n-1] (the mean of the middle two for even n), v left as it is; 0 for
 * no figures. */
static inline double bench_median(const double *v, size_t n)
{
	double *s = n ? malloc(n * sizeof(*s)) : NULL, m;

	if (!s)
		return 0;
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), bench_cmp_double);
	m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	free(s);
	return m;
}

/* The smallest of v[0..n-1]; 0 for no figures. */
static inline double bench_min(const double *v, size_t n)
{
	double m = n ? v[0] : 0;

	for (size_t i = 1; i < n; i++)
		if (v[i] < m)
			m = v[i];
	return m;
}

#endif
