// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * classify.c - the first decision about a packet (classify.h): inbound ESP by SPI and outer
 * addresses (RFC 4303 2.1, RFC 4301 4.1: SAs are unidirectional), else the SPD (RFC 4301
 * 4.4.1, 5.1, 7). The same rules, in the same order, as bpf/esper.bpf.c. Called by the
 * pipeline for every packet it did not get a verdict for from XDP, and by the tests.
 */
#include <string.h>
#include <sys/socket.h>

#include "classify.h"
#include "esp.h"
#include "esper_wire.h"

struct sa *classify_esp(const struct sad *sad, const uint8_t *l3, const struct pkt_info *pi)
{
	size_t alen = pi->family == AF_INET ? 4 : 16;
	uint32_t spi;
	struct sa *sa;

	if (pi->fragment || !esp_spi(l3, pi, &spi))
		return NULL;
	sa = sad_by_spi(sad, spi);
	if (!sa || sa_is_outbound(sa) || sa->dst.family != pi->family ||
	    memcmp(sa->src.a, pi->src, alen) || memcmp(sa->dst.a, pi->dst, alen))
		return NULL;
	return sa;
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
	bool opaque;
	struct sp *sp;

	memset(out, 0, sizeof(*out));
	if (pi->proto == IPPROTO_ESP_ && (out->sa = classify_esp(sad, l3, pi))) {
		set(out, V_DECRYPT, ESPER_C_REDIRECT_ESP_IN);
		return;
	}
	sp = spd_match(spd, pi, &opaque);
	if (sp)
		by_policy(sp, opaque, out);
	else if (opaque)
		set(out, V_DROP, ESPER_C_DROP_OPAQUE);
	else if (pi->proto == IPPROTO_ESP_ && !pi->fragment)
		set(out, unknown_spi_drop ? V_DROP : V_PASS,
		    unknown_spi_drop ? ESPER_C_DROP_UNKNOWN_SPI : ESPER_C_PASS_UNKNOWN_SPI);
	else
		set(out, V_PASS, ESPER_C_PASS_NO_POLICY);
}
