/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * gost_impls.h - run a GOST test group once per block cipher implementation (gost-engine,
 * table, ct: crypto_gost_select), so that every known answer and round trip holds on each.
 * The group's setup calls gost_impl_use() after crypto_init; main() calls
 * run_per_gost_impl(). An implementation this CPU lacks (ct without AVX2) is said and
 * skipped; without gost-engine the group runs once, to report its own skips.
 */
#ifndef ESPER_GOST_IMPLS_H
#define ESPER_GOST_IMPLS_H

#include <stdio.h>

#include "crypto/crypto.h"

static const struct {
	enum gost_impl impl;
	const char *name;
} gost_impls[] = {
    {GOST_IMPL_ENGINE, "block cipher: gost-engine"},
    {GOST_IMPL_TABLE, "block cipher: table"},
    {GOST_IMPL_CT, "block cipher: ct"},
};

static enum gost_impl gost_impl_under_test = GOST_IMPL_AUTO;

/* In the group setup, after crypto_init. */
static inline void gost_impl_use(void)
{
	if (crypto_gost_available() && crypto_gost_select(gost_impl_under_test))
		fail_msg("crypto_gost_select failed after a successful probe");
}

/* 0: i runs here (or nothing does: no gost-engine, and i is the first); else why not. */
static inline const char *gost_impl_skip(size_t i)
{
	const char *why = NULL;

	crypto_init(CRYPTO_AUTO);
	if (!crypto_gost_available())
		why = i ? "no gost-engine" : NULL;
	else if (crypto_gost_select(gost_impls[i].impl))
		why = "not on this CPU";
	crypto_fini();
	return why;
}

#define run_per_gost_impl(tests, setup, teardown)                                                  \
	({                                                                                         \
		int failed_ = 0;                                                                   \
		for (size_t i_ = 0; i_ < sizeof(gost_impls) / sizeof(gost_impls[0]); i_++) {       \
			const char *why_ = gost_impl_skip(i_);                                     \
			if (why_) {                                                                \
				fprintf(stderr, "*** %s: SKIPPED: %s ***\n", gost_impls[i_].name,  \
					why_);                                                     \
				continue;                                                          \
			}                                                                          \
			gost_impl_under_test = gost_impls[i_].impl;                                \
			failed_ += cmocka_run_group_tests_name(gost_impls[i_].name, tests, setup,  \
							       teardown);                          \
		}                                                                                  \
		failed_;                                                                           \
	})

#endif
