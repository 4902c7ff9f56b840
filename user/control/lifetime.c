// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * lifetime.c - which lifetime limit an SA has reached (lifetime.h; RFC 2367 2.3.4: soft
 * and hard, in time since it was added, bytes and packets). Called by cmd_exec.c's
 * housekeeping and by the unit tests with a fake clock.
 */
#include "lifetime.h"

struct lifetime_use lifetime_use_of(const struct sa *sa, uint64_t now_ms)
{
	return (struct lifetime_use){
		.age_ms = now_ms > sa->added_ms ? now_ms - sa->added_ms : 0,
		.bytes = sa_counter(sa, SA_C_out_bytes) + sa_counter(sa, SA_C_in_bytes),
		.packets = sa_counter(sa, SA_C_out_packets) + sa_counter(sa, SA_C_in_packets),
	};
}

/* The first limit of l that u has reached, or NULL (0 is no limit). */
static const char *reached(const struct sa_lifetime *l, const struct lifetime_use *u)
{
	if (l->time_s && u->age_ms / 1000 >= l->time_s)
		return "time";
	if (l->bytes && u->bytes >= l->bytes)
		return "bytes";
	if (l->packets && u->packets >= l->packets)
		return "packets";
	return NULL;
}

enum lifetime_verdict lifetime_check(const struct sa_params *p, const struct lifetime_use *u,
				     bool soft_reported, const char **by)
{
	if ((*by = reached(&p->hard, u)))
		return LIFETIME_HARD;
	if (!soft_reported && (*by = reached(&p->soft, u)))
		return LIFETIME_SOFT;
	*by = NULL;
	return LIFETIME_OK;
}
