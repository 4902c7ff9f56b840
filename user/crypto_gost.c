// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * crypto_gost.c - placeholder until the GOST transforms (RFC 9227) land: gost-engine is
 * reported missing, so GOST SAs are refused with a clear error.
 */
#include <errno.h>

#include "crypto.h"

int crypto_gost_init(void)
{
	return -ENOTSUP;
}

void crypto_gost_fini(void)
{
}

static int gost_unsupported(struct aead *a, const uint8_t *keymat, size_t len)
{
	(void)a;
	(void)keymat;
	(void)len;
	return -ENOTSUP;
}

const struct aead_ops aead_gost_ops = {
	.init = gost_unsupported,
};
