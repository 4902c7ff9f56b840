// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pcap_mode.c - the offline datapath: every packet of a capture is handled as if it had
 * arrived on the wire, with the same decisions as the XDP program and the workers:
 * ESP for a known SPI is decrypted; plaintext matching an outbound policy is encrypted;
 * plaintext matching an inbound policy is dropped (it should have arrived protected);
 * ESP with an unknown SPI is passed (or dropped with --unknown-spi drop); everything else is
 * copied unchanged. Dropped packets are not written. Link types: Ethernet (with up to two
 * VLAN tags) and raw IP. Needs no root and no NIC. Called by main.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "esp.h"
#include "esper_wire.h"
#include "lib/log.h"
#include "pcap_mode.h"

#define HEADROOM 256
#define BUF_SIZE (HEADROOM + 65536 + 256)

#define PCAP_COUNTERS(X)						\
	X(read, "packets read")						\
	X(written, "packets written")					\
	X(encrypted, "encrypted")					\
	X(decrypted, "decrypted")					\
	X(passed, "passed unchanged")					\
	X(esp_dropped, "ESP dropped (see the SA counters)")		\
	X(out_dropped, "plaintext refused by its SA (see the SA counters)")	\
	X(in_policy_dropped, "plaintext matching an inbound policy, dropped")	\
	X(unknown_spi, "ESP with an unknown SPI")			\
	X(not_ip, "not IP")						\
	X(malformed, "malformed IP")					\
	X(truncated, "truncated in the capture, passed unchanged")

struct pcap_counts {
#define PCAP_COUNTER_FIELD(name, text) uint64_t name;
	PCAP_COUNTERS(PCAP_COUNTER_FIELD)
#undef PCAP_COUNTER_FIELD
};

struct pcap_run {
	struct exec_env *env;
	const struct pcap_opts *opts;
	pcap_dumper_t *out;
	int linktype;
	struct pcap_counts n;
	uint8_t buf[BUF_SIZE];
};

enum verdict { V_PASS, V_WRITE, V_DROP };

/* --- ESP and plaintext ----------------------------------------------------------------- */

static enum verdict handle_esp(struct pcap_run *run, struct pbuf *b, const struct pkt_info *pi)
{
	uint32_t spi;
	struct sa *sa;

	if (!esp_spi(b->head + b->off, pi, &spi) || !(sa = sad_by_spi(run->env->sad, spi))) {
		run->n.unknown_spi++;
		return run->opts->unknown_spi_drop ? V_DROP : V_PASS;
	}
	if (esp_in(sa, b, pi, 0) < 0) {
		run->n.esp_dropped++;
		return V_DROP;
	}
	run->n.decrypted++;
	return V_WRITE;
}

static enum verdict handle_plain(struct pcap_run *run, struct pbuf *b, const struct pkt_info *pi)
{
	struct sp *sp = spd_match(run->env->spd, pi);
	unsigned flags = run->opts->fix_csum ? ESP_OUT_FIX_CSUM : 0;

	if (!sp) {
		run->n.passed++;
		return V_PASS;
	}
	if (sp->conf.dir == SP_DIR_IN) {
		run->n.in_policy_dropped++;
		return V_DROP;
	}
	if (esp_out(sp, b, 0, 0, flags) < 0) {
		run->n.out_dropped++;
		return V_DROP;
	}
	run->n.encrypted++;
	return V_WRITE;
}

/* The IP packet in b, parsed in pi: decide, and transform it in place. */
static enum verdict handle_ip(struct pcap_run *run, struct pbuf *b, const struct pkt_info *p)
{
	struct pkt_info pi = *p;

	b->len = pi.ip_len;	/* drop link-layer padding */
	if (pi.proto == IPPROTO_ESP_ && pi.fragment) {
		run->n.passed++;	/* ESP is never plaintext; fragments are the kernel's */
		return V_PASS;
	}
	if (pi.proto == IPPROTO_ESP_)
		return handle_esp(run, b, &pi);
	return handle_plain(run, b, &pi);
}

/* --- link layer ------------------------------------------------------------------------ */

static void write_packet(struct pcap_run *run, const struct pcap_pkthdr *h, const uint8_t *data,
			 uint32_t len)
{
	struct pcap_pkthdr oh = *h;

	oh.caplen = oh.len = len;
	pcap_dump((u_char *)run->out, &oh, data);
	run->n.written++;
}

/* Ethernet: keep the link header (and its VLAN tags) in front of the new IP packet, with
 * the ethertype of the new packet's family. */
static void handle_ether(struct pcap_run *run, const struct pcap_pkthdr *h, const uint8_t *data)
{
	struct pbuf b = { .head = run->buf, .size = BUF_SIZE, .off = HEADROOM };
	struct pkt_info pi;
	uint16_t l3_off, type;
	enum verdict v;
	uint8_t *l2;
	int err = pkt_parse_frame(data, h->caplen, &l3_off, &pi);

	if (err < 0) {	/* the XDP program passes these: not IP, or not sane IP */
		if (err == -ENOENT)
			run->n.not_ip++;
		else
			run->n.malformed++;
		write_packet(run, h, data, h->caplen);
		return;
	}
	b.len = h->caplen - l3_off;
	memcpy(b.head + b.off, data + l3_off, b.len);
	v = handle_ip(run, &b, &pi);
	if (v == V_DROP)
		return;
	if (v == V_PASS) {
		write_packet(run, h, data, h->caplen);
		return;
	}
	l2 = b.head + b.off - l3_off;
	memcpy(l2, data, l3_off);
	type = b.head[b.off] >> 4 == 4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6;
	l2[l3_off - 2] = (uint8_t)(type >> 8);
	l2[l3_off - 1] = (uint8_t)type;
	write_packet(run, h, l2, l3_off + b.len);
}

static void handle_raw(struct pcap_run *run, const struct pcap_pkthdr *h, const uint8_t *data)
{
	struct pbuf b = { .head = run->buf, .size = BUF_SIZE, .off = HEADROOM, .len = h->caplen };
	struct pkt_info pi;
	enum verdict v;

	if (pkt_parse(data, h->caplen, &pi) < 0) {
		run->n.malformed++;
		write_packet(run, h, data, h->caplen);
		return;
	}
	memcpy(b.head + b.off, data, b.len);
	v = handle_ip(run, &b, &pi);
	if (v == V_PASS)
		write_packet(run, h, data, h->caplen);
	else if (v == V_WRITE)
		write_packet(run, h, b.head + b.off, b.len);
}

static void handle_frame(struct pcap_run *run, const struct pcap_pkthdr *h, const uint8_t *data)
{
	run->n.read++;
	if (h->caplen < h->len || h->caplen > 65535) {
		run->n.truncated++;
		write_packet(run, h, data, h->caplen);
		return;
	}
	if (run->linktype == DLT_EN10MB)
		handle_ether(run, h, data);
	else
		handle_raw(run, h, data);
}

/* --- the run --------------------------------------------------------------------------- */

static void print_counts(const struct pcap_run *run)
{
	fprintf(stderr, "pcap:");
#define PCAP_COUNTER_PRINT(name, text) fprintf(stderr, " %s=%" PRIu64, #name, run->n.name);
	PCAP_COUNTERS(PCAP_COUNTER_PRINT)
#undef PCAP_COUNTER_PRINT
	fputc('\n', stderr);
	cmd_dump_stats(run->env->sad, stderr);
}

static bool linktype_ok(int lt)
{
	return lt == DLT_EN10MB || lt == DLT_RAW || lt == DLT_IPV4 || lt == DLT_IPV6;
}

int pcap_mode_run(struct exec_env *env, const struct pcap_opts *opts)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	struct pcap_run *run;
	pcap_t *in, *dead;
	int rc, ret = -1;

	in = pcap_open_offline(opts->in, errbuf);
	if (!in) {
		log_warnx("%s: %s", opts->in, errbuf);
		return -1;
	}
	run = calloc(1, sizeof(*run));
	if (!run)
		goto close_in;
	run->env = env;
	run->opts = opts;
	run->linktype = pcap_datalink(in);
	if (!linktype_ok(run->linktype)) {
		log_warnx("%s: link type %s is not supported (Ethernet or raw IP)", opts->in,
			  pcap_datalink_val_to_name(run->linktype));
		goto free_run;
	}
	dead = pcap_open_dead(run->linktype, 65535);
	run->out = dead ? pcap_dump_open(dead, opts->out) : NULL;
	if (!run->out) {
		log_warnx("%s: %s", opts->out, dead ? pcap_geterr(dead) : "cannot open");
		goto close_dead;
	}
	while ((rc = pcap_next_ex(in, &h, &data)) == 1)
		handle_frame(run, h, data);
	if (rc == PCAP_ERROR)
		log_warnx("%s: %s", opts->in, pcap_geterr(in));
	else
		ret = 0;
	pcap_dump_close(run->out);
	print_counts(run);
close_dead:
	if (dead)
		pcap_close(dead);
free_run:
	free(run);
close_in:
	pcap_close(in);
	return ret;
}
