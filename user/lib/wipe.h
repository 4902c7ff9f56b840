/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * wipe.h - the one way secrets are erased: keys, key schedules, nonces, command text that
 * held keying material. explicit_bzero is never optimised away. Header-only.
 */
#ifndef ESPER_WIPE_H
#define ESPER_WIPE_H

#include <stddef.h>
#include <string.h>

static inline void wipe(void *p, size_t len)
{
	if (p)
		explicit_bzero(p, len);
}

#endif
