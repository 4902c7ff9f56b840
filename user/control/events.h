/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * events.h - the event lines esper-xdp writes on standard output, one line each, never
 * inside a listing (out.h), each starting with its keyword (docs/commands.md, "Events"):
 *
 *   expire soft spi=0x00001001 uid=1 src=ADDR dst=ADDR by=time|bytes|packets age=S bytes=N packets=N
 *   expire hard ...the same...      (the SA has been deleted, as `delete` does)
 *   acquire uid=7 sp=3 dir=out mode=tunnel|transport [tunnel=TSRC-TDST] src=ADDR[PORT]
 *           dst=ADDR[PORT] proto=NAME|NUMBER
 *   mapping spi=0x00001001 old=ADDR[PORT] new=ADDR[PORT]
 *
 * Fields are KEY=VALUE after the keyword(s), in this order; a later version may add fields
 * at the end, never change these. The datapath's records (tables/event.h) and the
 * housekeeping's expiries are formatted here.
 */
#ifndef ESPER_EVENTS_H
#define ESPER_EVENTS_H

#include <stdbool.h>
#include <stddef.h>

#include "lifetime.h"
#include "tables/event.h"

#define EVENT_LINE_MAX 512	/* an event line, its NUL included, always fits */

/* Where event lines go (without their '\n'). */
typedef void (*event_emit_fn)(void *arg, const char *line);

/* The line of a datapath record; 0 for a kind this version does not know (not written). */
size_t event_format(const struct event *ev, char *buf, size_t size);

/* The line of an expiry: soft (hard false) or hard, by which limit, at what use. */
size_t event_format_expire(bool hard, const struct sa *sa, const char *by,
			   const struct lifetime_use *u, char *buf, size_t size);

#endif
