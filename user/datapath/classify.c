// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * classify.c - the first decision about a packet (classify.h): inbound ESP by SPI and outer
 * addresses (RFC 4303 2.1, RFC 4301 4.1: SAs are unidirectional), else the SPD (RFC 4301
 * 4.4.1, 5.1, 7), with ESP in UDP to a NAT-T destination (RFC 3948 2.2, 2.3). The same
 * rules, in the same order, as bpf/esper.bpf.c. Called by the
 * pipeline for every packet it did not get a verdict for from XDP, and by the tests.
 */
#include <string.h>
#include <sys/socket.h>

#include "classify.h"
#include "esp.h"
#include "esper_wire.h"
#include "lib/bytes.h"

struct sa *classify_esp(const struct sad *sad, const uint8_t *l3, const struct pkt_info *pi)
{
	size_t alen = pi->family == AF_INET ? 4 : 16;
	const struct sa_path *path;
	uint32_t spi;
	struct sa *sa;

	if (pi->fragment || !esp_spi(l3, pi, &spi))
		return NULL;
	sa = sad_by_spi(sad, spi);
	if (!sa || sa_is_outbound(sa) || sa->family != pi->family)
		return NULL;
	path = sa_path(sa);
	if (path->encap || memcmp(path->src.a, pi->src, alen) || memcmp(path->dst.a, pi->dst, alen))
		return NULL;
	return sa;
}

enum natt classify_natt(const struct sad *sad, const uint8_t *l3, const struct pkt_info *pi,
			struct sa **out)
{
	size_t alen = pi->family == AF_INET ? 4 : 16;
	uint32_t off = pi->l4_off + 8u, len;
	const struct sa_path *path;
	const uint8_t *p = l3 + off;
	struct sa *sa;

	if (pi->proto != IPPROTO_UDP_ || pi->fragment || !pi->has_ports || off > pi->ip_len ||
	    !sad_natt_dest(sad, pi->family, pi->dst, pi->dport))
		return NATT_NONE;
	len = pi->ip_len - off;
	if (len == 1)
		return p[0] == 0xff ? NATT_CONTROL : NATT_NONE;
	if (len < 4)
		return NATT_NONE;
	if (!rd32(p))
		return NATT_CONTROL;
	if (len < ESP_HDR_LEN)
		return NATT_NONE;
	sa = sad_by_spi(sad, rd32(p));
	if (!sa || sa_is_outbound(sa) || sa->family != pi->family)
		return NATT_UNKNOWN;
	path = sa_path(sa);
	if (!path->encap || path->dport != pi->dport || memcmp(path->dst.a, pi->dst, alen))
		return NATT_UNKNOWN;
	*out = sa;
	return NATT_ESP;
}

static void set(struct classified *out, enum verdict v, enum esper_counter why)
{
	out->v = v;
	out->why = why;
}

/* What an outbound policy's action, or else an inbound one's, does to plaintext. */
static void by_policy(struct sp *sp, bool opaque, struct classified *out)
{
	if (sp->dir == SP_DIR_OUT && sp->action == SP_IPSEC) {
		out->sp = sp;
		set(out, V_ENCRYPT, ESPER_C_REDIRECT_PLAIN_OUT);
	} else if (opaque) {
		set(out, V_DROP, ESPER_C_DROP_OPAQUE);
	} else if (sp->action == SP_BYPASS) {
		set(out, V_PASS, ESPER_C_PASS_BYPASS);
	} else if (sp->dir == SP_DIR_OUT) {
		set(out, V_DROP, ESPER_C_DROP_DISCARD);
	} else {
		set(out, V_DROP, sp->action == SP_IPSEC ? ESPER_C_DROP_IN_POLICY
							: ESPER_C_DROP_DISCARD);
	}
}

void classify(const struct sad *sad, const struct spd *spd, bool unknown_spi_drop,
	      const uint8_t *l3, const struct pkt_info *pi, struct classified *out)
{
	enum natt natt;
	bool opaque;
	struct sp *sp;

	memset(out, 0, sizeof(*out));
	if (pi->proto == IPPROTO_ESP_ && (out->sa = classify_esp(sad, l3, pi))) {
		set(out, V_DECRYPT, ESPER_C_REDIRECT_ESP_IN);
		return;
	}
	natt = classify_natt(sad, l3, pi, &out->sa);
	if (natt == NATT_ESP) {
		set(out, V_DECRYPT, ESPER_C_REDIRECT_ESP_IN);
		return;
	}
	sp = spd_match(spd, pi, &opaque);
	/* IKE and keepalives: past every policy but one that protects them (tunnelled, never
	 * leaked), as XDP does */
	if (natt == NATT_CONTROL && !(sp && sp->dir == SP_DIR_OUT && sp->action == SP_IPSEC))
		set(out, V_PASS, ESPER_C_PASS_NATT_CONTROL);
	else if (sp)
		by_policy(sp, opaque, out);
	else if (opaque)
		set(out, V_DROP, ESPER_C_DROP_OPAQUE);
	else if ((pi->proto == IPPROTO_ESP_ && !pi->fragment) || natt == NATT_UNKNOWN)
		set(out, unknown_spi_drop ? V_DROP : V_PASS,
		    unknown_spi_drop ? ESPER_C_DROP_UNKNOWN_SPI : ESPER_C_PASS_UNKNOWN_SPI);
	else
		set(out, V_PASS, ESPER_C_PASS_NO_POLICY);
}
