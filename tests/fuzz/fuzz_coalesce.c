// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_coalesce.c - libFuzzer target for the host port's GSO paths: coalesce.c, which merges
 * decrypted packets (whatever a peer holding an SA chose to encrypt) into GSO packets for
 * the host port, and segment.c, which cuts what the host writes into the port. Byte 0 of
 * the input picks:
 *
 *   bit 0 clear: merging. The rest is a list of packets, each a 2-byte length, a flag byte
 *     and that many bytes; flags: 1 its L4 and IPv4 header checksums made right (so that
 *     runs can form: the fuzzer does not guess checksums), then 2 its IPv4 header checksum
 *     or 4 its L4 checksum made wrong (a peer's broken packet among good ones). The packets
 *     pkt_parse takes go into a coalesce_set in turn, as the worker puts them, and the set
 *     is flushed at the end. Every write must cut (segment_check,
 *     segment_piece, as the kernel would) into packets that parse; together with the
 *     packets written alone they must be exactly the packets put in, byte for byte, but for
 *     what GSO makes anew: the IPv4 ID and header checksum of packets with DF (atomic
 *     datagrams leave with IDs going up by one). Nothing lost, nothing added, nothing
 *     changed.
 *   bit 0 set: cutting. The next 10 bytes are a virtio_net_hdr, the rest the IP packet the
 *     host wrote: segment_check refuses it, or every piece, written into a buffer of exactly
 *     the room segment.h promises, parses as IP of the length written.
 *
 * Any broken promise abort()s. Seeds: corpus/fuzz_coalesce/ (a TCP run, a UDP run, a GSO
 * packet). Run by tests/fuzz/Makefile (make test-fuzz, make fuzz FUZZ=fuzz_coalesce).
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "datapath/coalesce.h"
#include "datapath/segment.h"
#include "lib/bytes.h"
#include "lib/pkt.h"

#define MAX_PKTS	32
#define PKT_ROOM	65536

#define check(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_coalesce: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();					\
		}							\
	} while (0)

struct pkt {
	uint32_t len;
	uint8_t b[PKT_ROOM];
};

static struct pkt in[MAX_PKTS], out[MAX_PKTS];
static unsigned nin, nout;
static struct coalesce_set set;

/* What GSO may make anew is left out of the comparison: an IPv4 packet with DF gets the
 * IDs of the run, and with them its header checksum. */
static void normalize(struct pkt *p)
{
	if (p->len >= 20 && p->b[0] >> 4 == 4 && (p->b[6] & 0x40)) {
		memset(p->b + 4, 0, 2);
		memset(p->b + 10, 0, 2);
	}
}

static struct pkt *next_out(void)
{
	check(nout < MAX_PKTS);	/* never more packets out than in */
	return &out[nout++];
}

/* A write to the host port: a virtio_net_hdr and a packet, cut as the kernel would. */
static void emit(void *arg, const uint8_t *w, uint32_t n, unsigned segs)
{
	struct segment_src src;
	uint32_t len;

	(void)arg;
	check(n > COALESCE_VNET_LEN);
	len = n - COALESCE_VNET_LEN;
	check(segment_check(w, w + COALESCE_VNET_LEN, len, &src) == 0);
	if (!src.gso_type) {
		struct pkt *p = next_out();

		check(segs == 1);
		memcpy(p->b, w + COALESCE_VNET_LEN, len);
		segment_csum(&src, p->b);
		p->len = len;
		return;
	}
	check(src.count == segs && segs > 1);
	for (unsigned i = 0; i < src.count; i++) {
		struct pkt *p = next_out();

		check((uint32_t)src.hlen + src.gso_size <= PKT_ROOM);
		p->len = segment_piece(&src, i, p->b);
		check(p->len <= (uint32_t)src.hlen + src.gso_size);
	}
}

#define FIX_CSUMS	1
#define SPOIL_IP_CSUM	2
#define SPOIL_L4_CSUM	4

/* Checksums made right where they can be, so that the packets may merge; then, as flags
 * say, one of them made wrong. */
static void set_checksums(uint8_t *ip, const struct pkt_info *pi, uint8_t flags)
{
	if (flags & FIX_CSUMS) {
		if (pi->family == AF_INET)
			csum_ipv4_header(ip);
		if (!pi->fragment && pi->has_ports)
			(void)csum_l4(ip, pi);
	}
	if ((flags & SPOIL_IP_CSUM) && pi->family == AF_INET)
		ip[10] ^= 0x01;
	if ((flags & SPOIL_L4_CSUM) && !pi->fragment && pi->has_ports &&
	    pi->l4_off + (pi->proto == IPPROTO_TCP ? 18u : 8u) <= pi->ip_len)
		ip[pi->l4_off + (pi->proto == IPPROTO_TCP ? 16 : 6)] ^= 0x01;
}

static int cmp_pkt(const void *a, const void *b)
{
	const struct pkt *x = a, *y = b;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->b, y->b, x->len);
}

static void merging(const uint8_t *data, size_t size)
{
	struct pkt_info pi;

	nin = nout = 0;
	coalesce_set_init(&set);
	while (size >= 3 && nin < MAX_PKTS) {
		size_t len = rd16(data);
		uint8_t flags = data[2];
		struct pkt *p = &in[nin];

		data += 3, size -= 3;
		if (len > size)
			len = size;
		memcpy(p->b, data, len);
		data += len, size -= len;
		if (pkt_parse(p->b, len, &pi))
			continue;
		set_checksums(p->b, &pi, flags);
		p->len = pi.ip_len;
		nin++;
		if (!coalesce_put(&set, p->b, &pi, emit, NULL)) {
			struct pkt *o = next_out();

			memcpy(o->b, p->b, p->len);
			o->len = p->len;
		}
	}
	coalesce_flush(&set, emit, NULL);
	check(nout == nin);
	for (unsigned i = 0; i < nin; i++) {
		check(pkt_parse(out[i].b, out[i].len, &pi) == 0 && pi.ip_len == out[i].len);
		normalize(&in[i]);
		normalize(&out[i]);
	}
	qsort(in, nin, sizeof(in[0]), cmp_pkt);
	qsort(out, nout, sizeof(out[0]), cmp_pkt);
	for (unsigned i = 0; i < nin; i++)
		check(!cmp_pkt(&in[i], &out[i]));
}

static void cutting(const uint8_t *data, size_t size)
{
	struct segment_src src;
	uint8_t *ip, *piece;

	if (size < SEGMENT_VNET_LEN)
		return;
	/* the packet in a buffer of its own size, so that a read past it is seen */
	ip = malloc(size - SEGMENT_VNET_LEN + 1);
	check(ip);
	memcpy(ip, data + SEGMENT_VNET_LEN, size - SEGMENT_VNET_LEN);
	if (segment_check(data, ip, (uint32_t)(size - SEGMENT_VNET_LEN), &src) == 0) {
		if (!src.gso_type) {
			segment_csum(&src, ip);
		} else {
			for (unsigned i = 0; i < src.count; i++) {
				struct pkt_info pi;
				uint32_t len;

				piece = malloc((size_t)src.hlen + src.gso_size);
				check(piece);
				len = segment_piece(&src, i, piece);
				check(len <= (uint32_t)src.hlen + src.gso_size);
				check(pkt_parse(piece, len, &pi) == 0 && pi.ip_len == len);
				free(piece);
			}
		}
	}
	free(ip);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	if (data[0] & 1)
		cutting(data + 1, size - 1);
	else
		merging(data + 1, size - 1);
	return 0;
}
