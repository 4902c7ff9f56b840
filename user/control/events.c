// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * events.c - the event lines of events.h: expiries (from cmd_exec.c's housekeeping),
 * acquires and mappings (records the workers push, tables/event.h, drained by live.c's
 * housekeeper). Pure formatting; the caller writes the line (out.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <sys/socket.h>

#include "events.h"
#include "tables/spd.h"

static const char *proto_name(uint8_t proto, char buf[8])
{
	switch (proto) {
	case 1: return "icmp";
	case 6: return "tcp";
	case 17: return "udp";
	case 58: return "icmp6";
	}
	snprintf(buf, 8, "%u", proto);
	return buf;
}

/* ADDR or ADDR[PORT] (port 0: none), the selector syntax of the command language. */
static const char *endpoint(const struct ip_addr *a, bool has_port, uint16_t port,
			    char buf[ADDR_STRLEN + 8])
{
	char s[ADDR_STRLEN];

	addr_str(a, s);
	if (has_port && port)
		snprintf(buf, ADDR_STRLEN + 8, "%s[%u]", s, port);
	else
		snprintf(buf, ADDR_STRLEN + 8, "%s", s);
	return buf;
}

static size_t fmt_acquire(const struct event_acquire *a, char *buf, size_t size)
{
	char src[ADDR_STRLEN + 8], dst[ADDR_STRLEN + 8], ts[ADDR_STRLEN], td[ADDR_STRLEN];
	char tunnel[2 * ADDR_STRLEN + 16] = "", proto[8];
	int n;

	if (a->mode == SP_MODE_TUNNEL)
		snprintf(tunnel, sizeof(tunnel), " tunnel=%s-%s", addr_str(&a->tsrc, ts),
			 addr_str(&a->tdst, td));
	n = snprintf(buf, size, "acquire uid=%u sp=%u dir=%s mode=%s%s src=%s dst=%s proto=%s",
		     a->uid, a->sp_id, a->dir == SP_DIR_OUT ? "out" : "in",
		     a->mode == SP_MODE_TUNNEL ? "tunnel" : "transport", tunnel,
		     endpoint(&a->src, a->has_ports, a->sport, src),
		     endpoint(&a->dst, a->has_ports, a->dport, dst),
		     proto_name(a->proto, proto));
	return n < 0 ? 0 : (size_t)n;
}

static size_t fmt_mapping(const struct event_mapping *m, char *buf, size_t size)
{
	char old[ADDR_STRLEN + 8], new[ADDR_STRLEN + 8];
	int n = snprintf(buf, size, "mapping spi=0x%08x uid=%u old=%s new=%s", m->spi, m->uid,
			 endpoint(&m->old_addr, true, m->old_port, old),
			 endpoint(&m->new_addr, true, m->new_port, new));

	return n < 0 ? 0 : (size_t)n;
}

size_t event_format(const struct event *ev, char *buf, size_t size)
{
	switch (ev->kind) {
	case EVENT_ACQUIRE: return fmt_acquire(&ev->acquire, buf, size);
	case EVENT_MAPPING: return fmt_mapping(&ev->mapping, buf, size);
	}
	return 0;
}

size_t event_format_expire(bool hard, const struct sa *sa, const char *by,
			   const struct lifetime_use *u, char *buf, size_t size)
{
	char src[ADDR_STRLEN], dst[ADDR_STRLEN];
	int n = snprintf(buf, size, "expire %s spi=0x%08x uid=%u src=%s dst=%s by=%s age=%" PRIu64
			 " bytes=%" PRIu64 " packets=%" PRIu64, hard ? "hard" : "soft", sa->spi,
			 sa->uid, addr_str(&sa_path(sa)->src, src), addr_str(&sa_path(sa)->dst, dst), by,
			 u->age_ms / 1000, u->bytes, u->packets);

	return n < 0 ? 0 : (size_t)n;
}
