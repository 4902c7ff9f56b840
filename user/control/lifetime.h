/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * lifetime.h - SA lifetimes (RFC 2367 2.3.4's soft and hard limits; setkey's -ls/-lh and
 * -bs/-bh, and -ps/-ph for packets): which limit an SA's use has reached. Pure: the caller
 * (cmd_exec.c's housekeeping) gives the time and the counters, and acts: soft is reported
 * once, hard deletes the SA.
 */
#ifndef ESPER_LIFETIME_H
#define ESPER_LIFETIME_H

#include <stdbool.h>
#include <stdint.h>

#include "tables/sad.h"

enum lifetime_verdict { LIFETIME_OK, LIFETIME_SOFT, LIFETIME_HARD };

/* What an SA has used: its age and the bytes and packets it carried (either direction). */
struct lifetime_use {
	uint64_t age_ms;
	uint64_t bytes;
	uint64_t packets;
};

struct lifetime_use lifetime_use_of(const struct sa *sa, uint64_t now_ms);

/* The hard limit if one is reached, else the soft one if one is reached and soft_reported
 * is false, else LIFETIME_OK. *by: the limit reached first in that order: "time", "bytes"
 * or "packets". */
enum lifetime_verdict lifetime_check(const struct sa_params *p, const struct lifetime_use *u,
				     bool soft_reported, const char **by);

#endif
