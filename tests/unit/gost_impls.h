/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * gost_impls.h - what every test of the GOST transforms shares: the group set-up (crypto,
 * gost-engine required, the block cipher under test), the one failure a missing gost-engine
 * gives, and running a group once per block cipher implementation (gost-engine, table, ct:
 * crypto_gost_select), so that every known answer and round trip holds on each.
 *
 * gost-engine is a dependency (scripts/setup-deps.sh installs libengine-gost-openssl):
 * without it every GOST test fails, saying so, and never counts as skipped or passed. A
 * GOST suite's setup is gost_setup(); a test of a mixed suite (AES-GCM and GOST) calls
 * gost_needed() before its GOST part. An implementation this CPU lacks (ct without AVX2)
 * is said and not run: the others still cover the transforms.
 */
#ifndef ESPER_GOST_IMPLS_H
#define ESPER_GOST_IMPLS_H

#include <stdio.h>

#include "crypto/crypto.h"
#include "test_util.h"

#define GOST_MISSING                                                                               \
	"gost-engine is not loadable: install libengine-gost-openssl (scripts/setup-deps.sh "      \
	"installs it)"

static const struct {
	enum gost_impl impl;
	const char *name;
} gost_impls[] __attribute__((unused)) = {
    {GOST_IMPL_ENGINE, "block cipher: gost-engine"},
    {GOST_IMPL_TABLE, "block cipher: table"},
    {GOST_IMPL_CT, "block cipher: ct"},
};

static enum gost_impl gost_impl_under_test __attribute__((unused)) = GOST_IMPL_AUTO;

/* In a test that needs the GOST transforms (after crypto_init): fails it without them. */
static inline void gost_needed(void)
{
	if (!crypto_gost_available())
		fail_msg("FAILED: %s", GOST_MISSING);
}

/* The group set-up of a GOST suite: crypto, gost-engine (-1 and a loud message without
 * it: cmocka fails the whole group), the block cipher under test. */
static inline int gost_setup(const char *suite)
{
	if (crypto_init(CRYPTO_AUTO) < 0)
		return -1;
	if (!crypto_gost_available()) {
		fprintf(stderr, "\n*** %s: FAILED: %s ***\n\n", suite, GOST_MISSING);
		return -1;
	}
	if (crypto_gost_select(gost_impl_under_test))
		fail_msg("crypto_gost_select failed after a successful probe");
	return 0;
}

/* 0: implementation i runs here (without gost-engine only the first: its set-up fails the
 * run); else why not. */
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
				fprintf(stderr, "*** %s: not run: %s ***\n", gost_impls[i_].name,  \
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
