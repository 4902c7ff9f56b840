// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pcap_mode.c - the offline datapath: the file driver of the packet pipeline (pipeline.h).
 * Every packet of a capture goes through the pipeline as if it had arrived on the wire
 * with no XDP before it (PIPE_FROM_FILE: no reverse-path or local-address check, which are
 * live only), and every port writes to the output capture: the wire and the kernel the ESP
 * made, the host what was decrypted and the ICMP errors of ours, pass the packet as it
 * came; a released packet is not written. The next hop of every destination is a resolved
 * one with the MTU of --mtu (0: none), so fragmentation, "packet too big" and TFC within
 * the MTU run here as live. Link types: Ethernet (with up to two VLAN tags, kept on what is
 * written) and raw IP. Needs no root and no NIC. Called by main.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "esper_wire.h"
#include "lib/bytes.h"
#include "lib/log.h"
#include "pcap_mode.h"
#include "pipeline.h"

#define HEADROOM 256
#define BUF_SIZE (HEADROOM + 65536 + 256)

#define PCAP_COUNTERS(X)						\
	X(read, "packets read")						\
	X(written, "packets written")					\
	X(not_ip, "not IP, written unchanged")				\
	X(tags, "dropped: more than two VLAN tags (XDP's DROP_TAGS)")	\
	X(truncated, "truncated in the capture, written unchanged")

struct pcap_counts {
#define PCAP_COUNTER_FIELD(name, text) uint64_t name;
	PCAP_COUNTERS(PCAP_COUNTER_FIELD)
#undef PCAP_COUNTER_FIELD
};

struct pcap_run {
	const struct pcap_opts *opts;
	pcap_dumper_t *out;
	int linktype;
	struct pcap_counts n;
	struct pipe pipe;
	/* the packet being processed: its record and link header */
	const struct pcap_pkthdr *h;
	const uint8_t *frame;
	uint16_t l3_off;
	/* buffers: 0 for the packet read, the rest for fragments made of it */
	uint8_t (*buf)[BUF_SIZE];
	bool used[1 + PIPE_BURST];
};

/* --- writing ------------------------------------------------------------------------------ */

static void write_record(struct pcap_run *run, const uint8_t *data, uint32_t len)
{
	struct pcap_pkthdr oh = *run->h;

	oh.caplen = oh.len = len;
	pcap_dump((u_char *)run->out, &oh, data);
	run->n.written++;
}

/* An IP packet of ours, behind the link header of the packet read (Ethernet: with the
 * ethertype of the new packet's family). */
static void write_ip(struct pcap_run *run, const uint8_t *ip, uint32_t len)
{
	uint8_t frame[64 + 65536];
	uint16_t type = ip[0] >> 4 == 4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6;
	uint16_t l2 = run->l3_off;

	if (len > 65536)
		return;
	memcpy(frame, run->frame, l2);
	memcpy(frame + l2, ip, len);
	if (l2)
		wr16(frame + l2 - 2, type);
	write_record(run, frame, l2 + len);
}

/* --- the pipeline's ports ------------------------------------------------------------------ */

static void port_release(void *drv, struct pipe_pkt *p)
{
	struct pcap_run *run = drv;

	run->used[p->handle] = false;
}

static void port_wire(void *drv, struct pipe_pkt *p, const struct nexthop *nh)
{
	(void)nh;
	write_ip(drv, p->b.head + p->b.off, p->b.len);
	port_release(drv, p);
}

static bool port_copy(void *drv, const uint8_t *ip, uint32_t len)
{
	write_ip(drv, ip, len);
	return true;
}

static void port_pass(void *drv, struct pipe_pkt *p)
{
	struct pcap_run *run = drv;

	write_record(run, run->frame, run->h->caplen);
	port_release(drv, p);
}

static bool port_alloc(void *drv, struct pipe_pkt *p)
{
	struct pcap_run *run = drv;

	for (unsigned i = 1; i <= PIPE_BURST; i++) {
		if (run->used[i])
			continue;
		run->used[i] = true;
		p->handle = i;
		p->b = (struct pbuf){ .head = run->buf[i], .size = BUF_SIZE, .off = HEADROOM };
		return true;
	}
	return false;
}

static int port_route(void *drv, int family, const uint8_t *dst, bool inner, struct nexthop *nh)
{
	struct pcap_run *run = drv;

	(void)family, (void)dst;
	if (inner)
		return -EXDEV;	/* decrypted packets go to the output as the host would get them */
	*nh = (struct nexthop){ .ifindex = 1, .mtu = run->opts->mtu, .resolved = true,
				.unicast = true };
	return 0;
}

static const struct pipe_ports ports = {
	.wire = port_wire,
	.kernel = port_copy,
	.host = port_copy,
	.pass = port_pass,
	.release = port_release,
	.alloc = port_alloc,
	.route = port_route,
};

/* --- reading ------------------------------------------------------------------------------- */

/* The IP packet at frame + l3_off (parsed in pi) into buffer 0, through the pipeline. */
static void process(struct pcap_run *run, const struct pkt_info *pi, uint32_t len)
{
	struct pipe_pkt p = { .handle = 0, .from = PIPE_FROM_FILE, .pi = *pi };

	p.b = (struct pbuf){ .head = run->buf[0], .size = BUF_SIZE, .off = HEADROOM, .len = len };
	memcpy(p.b.head + p.b.off, run->frame + run->l3_off, len);
	run->used[0] = true;
	pipe_burst(&run->pipe, &p, 1);
}

static void handle_frame(struct pcap_run *run, const struct pcap_pkthdr *h, const uint8_t *data)
{
	struct pkt_info pi;
	int err;

	run->n.read++;
	run->h = h;
	run->frame = data;
	run->l3_off = 0;
	if (h->caplen < h->len || h->caplen > 65535) {
		run->n.truncated++;
		write_record(run, data, h->caplen);
		return;
	}
	if (run->linktype == DLT_EN10MB)
		err = pkt_parse_frame(data, h->caplen, &run->l3_off, &pi);
	else
		err = pkt_parse(data, h->caplen, &pi);
	if (err == -E2BIG) {	/* and drops these */
		run->n.tags++;
		return;
	}
	if (err < 0) {	/* the XDP program passes these: not IP, or not sane IP */
		if (err == -ENOENT)
			run->n.not_ip++;
		else
			pipe_count(&run->pipe, P_C_malformed);
		write_record(run, data, h->caplen);
		return;
	}
	process(run, &pi, h->caplen - run->l3_off);
}

/* --- the run --------------------------------------------------------------------------- */

static void print_counts(const struct pcap_run *run)
{
	fprintf(stderr, "pcap:");
#define PCAP_COUNTER_PRINT(name, text) fprintf(stderr, " %s=%" PRIu64, #name, run->n.name);
	PCAP_COUNTERS(PCAP_COUNTER_PRINT)
#undef PCAP_COUNTER_PRINT
	for (int c = 0; c < P_C_MAX; c++)
		fprintf(stderr, " %s=%" PRIu64, pipe_counter_names[c],
			pipe_counter(&run->pipe, (enum pipe_counter)c));
	fputc('\n', stderr);
}

static bool linktype_ok(int lt)
{
	return lt == DLT_EN10MB || lt == DLT_RAW || lt == DLT_IPV4 || lt == DLT_IPV6;
}

/* The output capture, created 0600: it holds decrypted traffic. */
static pcap_dumper_t *open_output(pcap_t *dead, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
	pcap_dumper_t *d = f ? pcap_dump_fopen(dead, f) : NULL;

	if (!d) {
		log_warn("%s", path);
		if (f)
			fclose(f);
		else if (fd >= 0)
			close(fd);
	}
	return d;
}

static int run_capture(struct pcap_run *run, pcap_t *in, const char *name)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;

	while ((rc = pcap_next_ex(in, &h, &data)) == 1)
		handle_frame(run, h, data);
	if (rc == PCAP_ERROR) {
		log_warnx("%s: %s", name, pcap_geterr(in));
		return -1;
	}
	return 0;
}

static void pipe_setup(struct pcap_run *run, const struct sad *sad, const struct spd *spd,
		       const struct pcap_opts *o)
{
	run->pipe = (struct pipe){ .sad = sad, .spd = spd, .thread = 0,
				   .ports = &ports, .drv = run, .events = o->events };
	run->pipe.cfg = (struct pipe_config){ .unknown_spi_drop = o->unknown_spi_drop,
					      .strict_inbound = o->strict_inbound,
					      .fix_csum = o->fix_csum };
}

int pcap_mode_run(const struct sad *sad, const struct spd *spd, const struct pcap_opts *opts)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_run *run;
	pcap_t *in, *dead = NULL;
	int ret = -1;

	in = pcap_open_offline(opts->in, errbuf);
	if (!in) {
		log_warnx("%s: %s", opts->in, errbuf);
		return -1;
	}
	run = calloc(1, sizeof(*run));
	if (!run || !(run->buf = calloc(1 + PIPE_BURST, BUF_SIZE)))
		goto free_run;
	run->opts = opts;
	run->linktype = pcap_datalink(in);
	pipe_setup(run, sad, spd, opts);
	if (!linktype_ok(run->linktype)) {
		log_warnx("%s: link type %s is not supported (Ethernet or raw IP)", opts->in,
			  pcap_datalink_val_to_name(run->linktype));
		goto free_run;
	}
	dead = pcap_open_dead(run->linktype, 65535);
	run->out = dead ? open_output(dead, opts->out) : NULL;
	if (!run->out)
		goto free_run;
	ret = run_capture(run, in, opts->in);
	pcap_dump_close(run->out);
	print_counts(run);
free_run:
	if (dead)
		pcap_close(dead);
	if (run)
		free(run->buf);
	free(run);
	pcap_close(in);
	return ret;
}
