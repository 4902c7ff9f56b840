// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_esp_in.c - libFuzzer target for inbound ESP (user/datapath/esp_in.c), with esp_out.c
 * and lib/pkt.c on the way. A SAD made once (LLVMFuzzerInitialize) holds AES-128-GCM and
 * AES-256-GCM SAs with and without ESN (one with anti-replay off) and the four GOST
 * transforms of RFC 9227 with and without ESN (without gost-engine the target fails at
 * start). Byte 0 picks the mode:
 *
 *   0 raw IP, 1 raw Ethernet: the rest is a packet handled as pcap_mode.c does: pkt_parse
 *     (or pkt_parse_frame), fragments and non-ESP left alone, esp_spi -> sad_by_spi ->
 *     esp_in. The SA's replay window is reset first, so each input is judged alone. On
 *     success the result must lie inside the original IP packet and parse as IP, with the
 *     length its header claims.
 *   2 round trip: parameters (SA, mode, families, IPv4 options or IPv6 extension
 *     headers, protocol, TOS, TFC, sequence number and window position, GOST key-tree
 *     position, checksum flag, bytes to flip) and a payload; a plaintext packet is built
 *     (or, with one flag, taken raw from the input: what arrives from the wire), sealed
 *     with esp_out and opened the pcap_mode way. Unmodified, it must come back as exactly
 *     the original (as esp_out normalizes it: IPv4 header checksum, unfinished L4
 *     checksums); with any ESP byte changed, it must be refused. Not judged: transport
 *     mode with next header 4, 41 (read back as tunnel mode: an SA does not know its
 *     policies' mode) or 59 (a dummy packet, RFC 4303 2.6).
 *   3 sealed by a peer: an outer header and an ESP payload (trailer and all) from the
 *     input, sealed with the SA's key, as a broken or hostile peer holding it might send;
 *     esp_in must refuse a bad trailer or a dummy, give back a transport packet exactly,
 *     and whatever it gives back must lie inside the packet and parse as IP. This is how
 *     the code behind the ICV check gets fuzzed at all.
 *
 * Any broken promise abort()s. The seeds in corpus/fuzz_esp_in/ come from this file:
 *   FUZZ_ESP_IN_SEEDS=tests/fuzz/corpus/fuzz_esp_in build/fuzz/fuzz_esp_in -runs=0
 * writes valid ESP packets for every SA (raw IP and Ethernet), round-trip and sealed inputs;
 * regress-* there are the fuzzer's findings, kept by hand. fuzz_esp_in.dict: SPIs and the
 * like. Run by tests/fuzz/Makefile (make test-fuzz, make fuzz FUZZ=fuzz_esp_in).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "crypto/crypto_gost.h"
#include "datapath/esp.h"
#include "esper_wire.h"
#include "lib/log.h"
#include "../lib/pktbuild.h"

#define HEADROOM	256
#define MAX_IP		65535
#define BUF_SIZE	(HEADROOM + MAX_IP + 65536 + 512)	/* packet, TFC, trailer, ICV */
#define MAX_SAS		16
#define MAX_FLIPS	4

#define check(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_esp_in: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();					\
		}							\
	} while (0)

static struct sad *sad;
static struct sa *sas[MAX_SAS];
static unsigned nsas;
static uint8_t mem[BUF_SIZE];
static uint8_t orig[MAX_IP + 1], sealed[MAX_IP + 1];

/* --- the SAD --------------------------------------------------------------------------- */

static void add_sa(enum aead_cipher c, bool esn, bool replay_off)
{
	static const enum esp_alg alg_of[AEAD_CIPHER_MAX] = {
		[AEAD_AES128_GCM] = ESP_ALG_AES_GCM_16, [AEAD_AES256_GCM] = ESP_ALG_AES_GCM_16,
		[AEAD_KUZNYECHIK_MGM] = ESP_ALG_GOST, [AEAD_MAGMA_MGM] = ESP_ALG_GOST,
		[AEAD_KUZNYECHIK_MGM_MAC] = ESP_ALG_GOST_MAC, [AEAD_MAGMA_MGM_MAC] = ESP_ALG_GOST_MAC,
	};
	struct sa_params add = { .spi = 0x1000 + nsas, .uid = 100 + nsas, .alg = alg_of[c],
				 .cipher = c, .esn = esn, .key_len = (uint8_t)aead_keymat_len(c),
				 .seq = 1, .replay = replay_off ? 0 : REPLAY_DEFAULT_WINDOW };
	struct sa *sa;

	for (unsigned i = 0; i < add.key_len; i++)
		add.key[i] = (uint8_t)(0x5b * i + 7 * nsas + 1);
	addr_parse("192.0.2.1", &add.src);
	addr_parse("192.0.2.2", &add.dst);
	check(nsas < MAX_SAS);
	sa = sa_new(&add, 1);
	check(sa && sad_add(sad, sa) == 0);
	sas[nsas++] = sa;
}

/* Every number up to top counts as seen (replay_init); 0: nothing seen yet. */
static void reset_replay(struct sa *sa, uint64_t top)
{
	uint32_t window = sa->replay.window;

	replay_fini(&sa->replay);
	replay_init(&sa->replay, window, top);
}

/* --- mode (a): raw packets as pcap mode handles them ----------------------------------- */

static void raw(const uint8_t *data, size_t size, bool ether)
{
	struct pbuf b = { .head = mem, .size = BUF_SIZE, .off = HEADROOM, .len = (uint32_t)size };
	uint32_t ip_off, ip_end, spi;
	struct pkt_info pi, out;
	uint16_t l3_off = 0;
	struct sa *sa;

	if (size > MAX_IP)
		return;
	memcpy(mem + HEADROOM, data, size);
	if (ether ? pkt_parse_frame(mem + HEADROOM, size, &l3_off, &pi) < 0
		  : pkt_parse(mem + HEADROOM, size, &pi) < 0)
		return;
	b.off += l3_off;
	b.len = pi.ip_len;	/* link-layer padding dropped */
	if (pi.proto != IPPROTO_ESP_ || pi.fragment)
		return;		/* plaintext, or a fragment for the kernel */
	if (!esp_spi(b.head + b.off, &pi, &spi) || !(sa = sad_by_spi(sad, spi)))
		return;
	reset_replay(sa, sa->conf.seq - 1);
	ip_off = b.off;
	ip_end = b.off + b.len;
	if (esp_in(sa, &b, &pi, 0) < 0)
		return;
	check(b.off >= ip_off && b.off <= ip_end && b.len <= ip_end - b.off);
	check(pkt_parse(b.head + b.off, b.len, &out) == 0);
	check(out.ip_len == b.len);
}

/* --- mode (b): round trips ------------------------------------------------------------- */

/* Reads parameters from the front of the input; zeros once it runs dry. */
struct rd {
	const uint8_t *p;
	size_t n;
};

static uint8_t in8(struct rd *r)
{
	if (!r->n)
		return 0;
	r->n--;
	return *r->p++;
}

static uint16_t in16(struct rd *r)
{
	return (uint16_t)(in8(r) << 8 | in8(r));
}

static uint32_t in32(struct rd *r)
{
	return (uint32_t)in16(r) << 16 | in16(r);
}

static uint64_t in64(struct rd *r)
{
	return (uint64_t)in32(r) << 32 | in32(r);
}

struct params {
	unsigned sa;
	bool tunnel, inner6, outer6, raw_plain, fix_csum, big;
	uint8_t opt;		/* IPv4 option words or IPv6 extension headers (count) */
	uint8_t proto, tos;
	uint16_t frag, tfc, len;
	uint64_t seq, ahead;
	uint8_t gost_i1;
	uint16_t gost_i2, gost_i3;
	uint32_t gost_pnum;
	unsigned nflips;
	struct {
		uint16_t at;
		uint8_t mask;
	} flips[MAX_FLIPS];
	uint8_t ext[8];
};

static void read_params(struct rd *r, struct params *p)
{
	uint8_t f = in8(r);

	memset(p, 0, sizeof(*p));
	p->sa = in8(r) % nsas;
	p->tunnel = f & 1;
	p->inner6 = f & 2;
	p->outer6 = f & 4;
	p->raw_plain = (f & 0x18) == 0x18;	/* one input in four */
	p->fix_csum = f & 0x20;
	p->big = (f & 0xc0) == 0xc0;	/* with opt's top bit below: one input in eight */
	p->opt = in8(r);
	p->big = p->big && (p->opt & 0x80);
	p->proto = in8(r);
	p->tos = in8(r);
	p->frag = in16(r);
	p->tfc = in16(r);
	p->len = in16(r);
	p->seq = in64(r);
	p->ahead = in32(r);
	p->gost_i1 = in8(r);
	p->gost_i2 = in16(r);
	p->gost_i3 = in16(r);
	p->gost_pnum = in32(r) & 0xffffff;
	p->nflips = in8(r) % (MAX_FLIPS + 1);
	for (unsigned i = 0; i < p->nflips; i++) {
		p->flips[i].at = in16(r);
		p->flips[i].mask = in8(r);
	}
	for (unsigned i = 0; i < sizeof(p->ext); i++)
		p->ext[i] = in8(r);
}

/* Payload bytes: the rest of the input, repeated to len (a counter if there is none). */
static void fill(uint8_t *dst, size_t len, const struct rd *r)
{
	for (size_t i = 0; i < len; i++)
		dst[i] = r->n ? r->p[i % r->n] : (uint8_t)i;
}

/* The kind of IPv6 extension header i (0, 43, 60, 51 or 44) the parameters name. */
static uint8_t ext_kind(const struct params *p, unsigned i)
{
	static const uint8_t kinds[] = { 0, 43, 60, 51, 44 };

	return kinds[p->ext[i] % sizeof(kinds)];
}

/* The n IPv6 extension headers the parameters name (kinds and lengths) into h. */
static void ext_headers(const struct params *p, unsigned n, struct pb_pkt *h)
{
	h->next = (uint8_t)n;
	for (unsigned i = 0; i < n; i++) {
		h->ext[i] = ext_kind(p, i);
		/* AH: (h[1] + 2) * 4, 8-aligned; the others (h[1] + 1) * 8; 44: 8 */
		h->ext_len[i] = (uint8_t)(((p->ext[i] >> 3) % (h->ext[i] == 51 ? 4 : 3) + 1) * 8);
	}
}

/* The plaintext IP packet at ip; its length, 0 if it can't be built. */
static size_t build_plain(const struct params *p, const struct rd *payload, uint8_t *ip)
{
	static uint8_t data[MAX_IP];
	struct pb_pkt h = { .proto = p->proto, .raw = true, .tos = p->tos, .data = data,
			    .payload = p->big ? p->len : (uint32_t)payload->n, .frag = PB_FRAG_RAW };

	if (!p->tunnel && (h.proto == 4 || h.proto == 41 || h.proto == IPPROTO_NONE_))
		h.proto = 17;	/* transport: these next headers mean tunnel and dummy */
	if (!p->inner6) {
		h.family = pb_addr("198.51.100.7", h.src);
		pb_addr("203.0.113.9", h.dst);
		h.ip4_optlen = (uint8_t)(4 * (p->opt % 11));
		h.id = 0x4242;
		h.frag_raw = p->frag & (IPV4_DF | IPV4_MF | IPV4_OFFSET);
	} else {
		h.family = pb_addr("2001:db8:1::7", h.src);
		pb_addr("2001:db8:2::9", h.dst);
		ext_headers(p, p->opt % 4, &h);
		h.flow = 0x12345;
		h.frag_raw = p->frag & 0xfff9;	/* offset and M */
	}
	if (pb_l4_off(&h) + h.payload > MAX_IP)
		return 0;
	fill(data, h.payload, payload);
	return pb_ip(&h, ip);
}

/* The policy esp_out needs: mode and tunnel endpoints. */
static void make_sp(const struct params *p, struct sa *sa, struct sp *sp)
{
	memset(sp, 0, sizeof(*sp));
	sp->sa = sa;
	sp->action = SP_IPSEC;
	sp->mode = p->tunnel ? SP_MODE_TUNNEL : SP_MODE_TRANSPORT;
	if (p->tunnel) {
		addr_parse(p->outer6 ? "2001:db8::1" : "192.0.2.1", &sp->tsrc);
		addr_parse(p->outer6 ? "2001:db8::2" : "192.0.2.2", &sp->tdst);
	}
}

/* What esp_out makes of the plaintext before sealing it (esp_out_seq_iv). */
static void normalize(uint8_t *ip, size_t len, bool fix_csum)
{
	struct pkt_info pi;

	if (pkt_parse(ip, len, &pi) < 0)
		return;
	if ((fix_csum && !pi.fragment) || csum_l4_unfinished(ip, &pi))
		csum_l4(ip, &pi);
	if (pi.family == AF_INET)
		csum_ipv4_header(ip);
}

/* Sequence number and window: the packet lies `ahead` numbers beyond the highest one seen
 * (within what ESN inference can tell, RFC 4303 A2), nothing seen of it yet. */
static void position(const struct params *p, struct sa *sa)
{
	uint64_t seq = p->seq, ahead = p->ahead & 0x7fffffff;

	if (!sa->esn)
		seq &= 0xffffffff;
	if (seq == 0)
		seq = 1;
	if (ahead > seq - 1)
		ahead = seq - 1;
	atomic_store(&sa->seq_next, seq);
	reset_replay(sa, seq - 1 - ahead);
	if (sa->cipher >= AEAD_KUZNYECHIK_MGM)
		crypto_gost_set_iv(&sa->aead, seq, p->gost_i1, p->gost_i2, p->gost_i3,
				   p->gost_pnum & ((1u << crypto_gost_pnum_bits(&sa->aead)) - 1));
}

/* Open b as pcap mode would: parse, SPI, SA, esp_in. 0 if it came out. */
static int open_as_receiver(struct pbuf *b)
{
	struct pkt_info pi;
	uint32_t spi;
	struct sa *sa;

	if (pkt_parse(b->head + b->off, b->len, &pi) < 0 || pi.proto != IPPROTO_ESP_ ||
	    pi.fragment || !esp_spi(b->head + b->off, &pi, &spi) || !(sa = sad_by_spi(sad, spi)))
		return -1;
	b->len = pi.ip_len;
	return esp_in(sa, b, &pi, 0);
}

static void round_trip(const uint8_t *data, size_t size)
{
	struct rd r = { data, size };
	struct pbuf b = { .head = mem, .size = BUF_SIZE, .off = HEADROOM };
	struct pkt_info pi;
	struct params p;
	struct sp sp;
	struct sa *sa;
	size_t len, esp_off, esp_len;
	bool modified;
	uint8_t nh;

	read_params(&r, &p);
	sa = sas[p.sa];
	if (p.raw_plain) {	/* whatever arrives: pkt_parse decides */
		len = r.n;
		if (len > MAX_IP)
			return;
		memcpy(mem + HEADROOM, r.p, len);
	} else {
		len = build_plain(&p, &r, mem + HEADROOM);
	}
	if (pkt_parse(mem + HEADROOM, len, &pi) < 0)
		return;
	len = pi.ip_len;
	/* In transport mode a next header of 4 or 41 reads as tunnel mode, 59 as a dummy
	 * packet (RFC 4303 2.6): the SA doesn't know the mode. The walk over IPv6 extension
	 * headers may find them in the payload. */
	nh = mem[HEADROOM + pi.nh_off];
	if (!p.tunnel && (nh == 4 || nh == 41 || nh == IPPROTO_NONE_))
		return;
	b.len = (uint32_t)len;
	memcpy(orig, mem + HEADROOM, len);
	normalize(orig, len, p.fix_csum);
	make_sp(&p, sa, &sp);
	sa->tfc = p.tfc;	/* the harness's liberty: an SA's TFC is fixed once published */
	position(&p, sa);
	if (esp_out(&sp, &b, 0, 0, p.fix_csum ? ESP_OUT_FIX_CSUM : 0) < 0)
		return;

	/* What went out is one sound ESP packet of the SA. */
	check(b.off + b.len <= BUF_SIZE && b.len <= MAX_IP);
	check(pkt_parse(b.head + b.off, b.len, &pi) == 0);
	check(pi.ip_len == b.len && pi.proto == IPPROTO_ESP_ && !pi.fragment);
	esp_off = pi.l4_off;
	esp_len = b.len - esp_off;
	check(esp_len >= ESP_HDR_LEN + ESP_IV_LEN + 2 + sa->icv_len);
	check(!memcmp(b.head + b.off + esp_off, sa->spi_be, 4));

	memcpy(sealed, b.head + b.off, b.len);
	for (unsigned i = 0; i < p.nflips; i++)
		b.head[b.off + esp_off + p.flips[i].at % esp_len] ^= p.flips[i].mask;
	modified = memcmp(sealed, b.head + b.off, b.len) != 0;

	if (open_as_receiver(&b) < 0) {
		check(modified);
		return;
	}
	check(!modified);
	check(b.len == len);
	check(!memcmp(b.head + b.off, orig, len));
}

/* --- mode (c): a peer that holds the key and seals anything ----------------------------- */

/* Is the ESP payload's trailer sound (RFC 4303 2.4: padding 1, 2, 3 ...)? Its next header
 * and the length of the data before the padding. */
static bool trailer_ok(const uint8_t *pl, size_t n, uint8_t *nh, size_t *data_len)
{
	size_t pad;

	if (n < 2 || (pad = pl[n - 2]) + 2 > n)
		return false;
	for (size_t i = 0; i < pad; i++)
		if (pl[n - 2 - pad + i] != i + 1)
			return false;
	*nh = pl[n - 1];
	*data_len = n - 2 - pad;
	return true;
}

/*
 * An outer header of either family (IPv4 options, IPv6 extension headers), then ESP with
 * the SA's SPI, an input-chosen IV and ESP payload (the rest of the input, trailer and all)
 * sealed with the SA's key: what esp_in finds once the ICV verified, whatever a broken or
 * hostile peer put there. Opened the pcap_mode way: a bad trailer or a dummy must be
 * refused, a transport packet must come back as the outer header with the payload data,
 * and whatever comes out must lie inside the packet and parse as IP.
 */
static void sealed_by_peer(const uint8_t *data, size_t size)
{
	struct rd r = { data, size };
	struct pbuf b = { .head = mem, .size = BUF_SIZE, .off = HEADROOM };
	uint8_t *ip = mem + HEADROOM, *esp, iv[ESP_IV_LEN], aad[12], nh = 0;
	struct params p = { 0 };
	struct pb_pkt h = { .proto = IPPROTO_ESP_, .raw = true };
	struct aead_req req;
	uint8_t f = in8(&r);
	size_t hl, n, total, data_len = 0;
	uint32_t ip_off, ip_end;
	struct pkt_info out;
	bool sound;
	struct sa *sa;
	int rc;

	sa = sas[in8(&r) % nsas];
	p.opt = in8(&r);
	h.tos = in8(&r);
	p.seq = in64(&r);
	p.ahead = in32(&r);
	for (unsigned i = 0; i < sizeof(iv); i++)
		iv[i] = in8(&r);
	for (unsigned i = 0; i < sizeof(p.ext); i++)
		p.ext[i] = (uint8_t)(in8(&r) % 4);	/* 0, 43, 60, 51: no fragment header */
	n = r.n;
	if (f & 1) {		/* IPv6, up to 3 extension headers */
		h.family = pb_addr("2001:db8::1", h.src);
		pb_addr("2001:db8::2", h.dst);
		ext_headers(&p, p.opt % 4, &h);
	} else {		/* IPv4 with NOP options */
		h.family = pb_addr("192.0.2.1", h.src);
		pb_addr("192.0.2.2", h.dst);
		h.ip4_optlen = (uint8_t)(4 * (p.opt % 11));
	}
	hl = pb_l4_off(&h);
	total = hl + ESP_HDR_LEN + ESP_IV_LEN + n + sa->icv_len;
	if (total > MAX_IP)
		return;
	h.payload = (uint32_t)(total - hl);	/* ESP, all of it written below */
	pb_ip(&h, ip);
	position(&p, sa);	/* the window; the sequence number as position made it */
	p.seq = atomic_load(&sa->seq_next);
	esp = ip + hl;
	memcpy(esp + ESP_HDR_LEN, iv, sizeof(iv));
	memcpy(esp + ESP_HDR_LEN + ESP_IV_LEN, r.p, n);
	req = (struct aead_req){ .aad = aad, .aad_len = esp_aad(sa, p.seq, aad),
				 .iv = esp + ESP_HDR_LEN, .data = esp + ESP_HDR_LEN + ESP_IV_LEN,
				 .len = n, .icv = esp + ESP_HDR_LEN + ESP_IV_LEN + n };
	memcpy(esp, aad, 4);
	memcpy(esp + 4, aad + req.aad_len - 4, 4);
	if (aead_seal(&sa->aead, 0, &req) < 0)
		return;
	sound = trailer_ok(r.p, n, &nh, &data_len);
	/* the transport result, as in_transport makes it: the outer header naming nh */
	h.proto = nh;
	h.data = r.p;
	h.payload = (uint32_t)data_len;
	pb_ip(&h, orig);

	b.len = (uint32_t)total;
	ip_off = b.off;
	ip_end = b.off + b.len;
	rc = open_as_receiver(&b);
	if (!sound || nh == IPPROTO_NONE_) {
		check(rc != 0);
		return;
	}
	if (nh != 4 && nh != 41) {	/* transport */
		check(rc == 0);
		check(b.len == hl + data_len && !memcmp(b.head + b.off, orig, b.len));
	}
	if (rc)
		return;
	check(b.off >= ip_off && b.off <= ip_end && b.len <= ip_end - b.off);
	check(pkt_parse(b.head + b.off, b.len, &out) == 0);
	check(out.ip_len == b.len);
}

/* --- seeds ----------------------------------------------------------------------------- */

static void write_file(const char *dir, const char *name, const uint8_t *p, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	check(f && fwrite(p, 1, n, f) == n && fclose(f) == 0);
}

/* A round-trip input for SA i: flags, then the fields of struct params, then payload. */
static size_t seed_params(uint8_t *s, unsigned i, uint8_t flags, uint8_t opt, uint8_t proto,
			  uint16_t tfc, uint64_t seq, uint8_t nflips)
{
	static const uint8_t ext[8] = { 0, 11, 17, 3, 25, 6, 12, 28 };
	size_t n = 0;

	s[n++] = 2;			/* mode: round trip */
	s[n++] = flags;
	s[n++] = (uint8_t)i;
	s[n++] = opt;
	s[n++] = proto;
	s[n++] = 0x02;			/* tos: ECT(0) */
	s[n++] = 0x40, s[n++] = 0;	/* frag: DF */
	s[n++] = (uint8_t)(tfc >> 8), s[n++] = (uint8_t)tfc;
	s[n++] = 0, s[n++] = 0;		/* len (big inputs only) */
	for (int b = 7; b >= 0; b--)
		s[n++] = (uint8_t)(seq >> (8 * b));
	s[n++] = 0, s[n++] = 0, s[n++] = 0, s[n++] = 5;	/* ahead */
	s[n++] = 0, s[n++] = 0, s[n++] = 1, s[n++] = 0, s[n++] = 2;	/* GOST i1 i2 i3 */
	s[n++] = 0, s[n++] = 0, s[n++] = 0, s[n++] = 3;	/* GOST pnum */
	s[n++] = nflips;
	for (unsigned k = 0; k < nflips; k++)
		s[n++] = 0, s[n++] = (uint8_t)(9 + k), s[n++] = 0x80;
	for (int k = 0; k < 8; k++)	/* extension headers: 0, 43, 60, 51 of several lengths */
		s[n++] = ext[k];
	for (int k = 0; k < 40; k++)
		s[n++] = (uint8_t)(0x30 + k);	/* payload */
	return n;
}

/* A mode (c) input: SA i, outer family (f bit 0), options, then the ESP payload pl. */
static size_t seed_sealed(uint8_t *s, unsigned i, uint8_t f, uint8_t opt, const uint8_t *pl,
			  size_t len)
{
	static const uint8_t head[] = {
		0, 0, 0, 0, 0, 0, 0, 0x2a,	/* seq */
		0, 0, 0, 3,			/* ahead */
		0, 0, 1, 0, 2, 0, 0, 4,		/* IV */
		0, 1, 2, 3, 0, 1, 2, 3,		/* extension headers */
	};
	size_t n = 0;

	s[n++] = 3;
	s[n++] = f;
	s[n++] = (uint8_t)i;
	s[n++] = opt;
	s[n++] = 0x01;			/* outer ECT(1) */
	memcpy(s + n, head, sizeof(head));
	n += sizeof(head);
	memcpy(s + n, pl, len);
	return n + len;
}

/* Valid ESP packets of every SA, raw IP for one mode and Ethernet for another (all modes
 * and families over the SAs), a round-trip input per SA, round trips with raw plaintext,
 * flips, ESN across 2^32 and TFC, and inputs of mode 3. */
static void write_seeds(const char *dir)
{
	static const uint8_t flag_sets[] = { 0x00, 0x02, 0x01, 0x07, 0x03, 0x05, 0x22 };
	static uint8_t s[4096];
	char name[64];

	for (unsigned i = 0; i < nsas; i++) {
		size_t n = seed_params(s, i, flag_sets[i % 7], (uint8_t)(i + 1), 17, 0, 1, 0);

		snprintf(name, sizeof(name), "rt-sa%u", i);
		write_file(dir, name, s, n);
		for (unsigned ether = 0; ether < 2; ether++) {
			struct pbuf b = { .head = mem, .size = BUF_SIZE, .off = HEADROOM };
			unsigned k = (i + 3 * ether) % 7;
			struct params p;
			struct sp sp;
			struct rd r;

			n = seed_params(s, i, flag_sets[k], (uint8_t)(k + 1), 17, 0, 1 + k, 0);
			r = (struct rd){ s + 1, n - 1 };
			read_params(&r, &p);
			b.len = (uint32_t)build_plain(&p, &r, mem + HEADROOM);
			make_sp(&p, sas[i], &sp);
			sas[i]->tfc = k == 5 ? 200 : 0;
			position(&p, sas[i]);
			check(esp_out(&sp, &b, 0, 0, 0) == 0);
			s[0] = (uint8_t)ether;
			n = 1;
			if (ether) {	/* MACs, a VLAN tag on every other SA, the ethertype */
				memcpy(s + n, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01", 12);
				n += 12;
				if (i & 1) {
					memcpy(s + n, "\x81\x00\x00\x64", 4);
					n += 4;
				}
				s[n++] = b.head[b.off] >> 4 == 4 ? 0x08 : 0x86;
				s[n++] = b.head[b.off] >> 4 == 4 ? 0x00 : 0xdd;
			}
			memcpy(s + n, b.head + b.off, b.len);
			snprintf(name, sizeof(name), "%s-sa%u", ether ? "eth" : "ip", i);
			write_file(dir, name, s, n + b.len);
		}
	}
	/* plaintext as it came from the wire: an IPv6 packet with two extension headers */
	{
		struct params p = { .inner6 = true, .opt = 2, .proto = 6,
				    .ext = { 0, 11, 17, 3, 25, 6, 12, 28 } };
		struct rd r = { (const uint8_t *)"0123456789abcdefghij", 20 };
		size_t n = seed_params(s, 4, 0x18, 0, 0, 0, 1, 0) - 40;

		n += build_plain(&p, &r, s + n);
		write_file(dir, "rt-raw-plain", s, n);
	}
	/* sealed by a peer: transport UDP, tunnel 4in4 with TFC, bad padding, a dummy */
	{
		static const uint8_t udp[] = { 0x13, 0x88, 0x00, 0x35, 0, 12, 0, 0, 'h', 'e', 'y',
					       '!', 1, 2, 2, 17 };
		static const uint8_t inner[] = {
			0x45, 0x02, 0, 28, 0, 1, 0x40, 0, 64, 17, 0, 0, 198, 51, 100, 7, 203, 0,
			113, 9, 0x13, 0x88, 0, 53, 0, 8, 0, 0, /* TFC */ 0, 0, 0, 0, 1, 2, 2, 4,
		};
		static const uint8_t bad_pad[] = { 'a', 'b', 1, 3, 2, 6 };
		static const uint8_t dummy[] = { 0, 0, 0, 0, 1, 2, 2, 59 };

		write_file(dir, "sealed-udp-v4", s, seed_sealed(s, 0, 0, 1, udp, sizeof(udp)));
		write_file(dir, "sealed-udp-v6", s, seed_sealed(s, 5, 1, 3, udp, sizeof(udp)));
		write_file(dir, "sealed-tunnel", s, seed_sealed(s, 2, 1, 0, inner, sizeof(inner)));
		write_file(dir, "sealed-bad-pad", s,
			   seed_sealed(s, 3, 0, 0, bad_pad, sizeof(bad_pad)));
		write_file(dir, "sealed-dummy", s, seed_sealed(s, 1, 0, 0, dummy, sizeof(dummy)));
	}
	write_file(dir, "rt-flip", s, seed_params(s, 0, 0x01, 0, 6, 0, 77, 2));
	write_file(dir, "rt-esn-wrap", s, seed_params(s, 2, 0x07, 2, 6, 0, 0x100000001ULL, 0));
	write_file(dir, "rt-tfc", s, seed_params(s, 2, 0x05, 0, 1, 1000, 9, 0));
}

/* --- libFuzzer ------------------------------------------------------------------------- */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *seeds = getenv("FUZZ_ESP_IN_SEEDS");

	(void)argc, (void)argv;
	log_init("fuzz_esp_in", LOG_LVL_WARN);
	check(crypto_init(CRYPTO_AUTO) == 0);
	sad = sad_new();
	check(sad);
	for (int esn = 0; esn < 2; esn++) {
		add_sa(AEAD_AES128_GCM, esn, false);
		add_sa(AEAD_AES256_GCM, esn, false);
	}
	add_sa(AEAD_AES128_GCM, false, true);	/* anti-replay off */
	if (!crypto_gost_available()) {
		fprintf(stderr, "fuzz_esp_in: FAILED: gost-engine is not loadable: install "
				"libengine-gost-openssl (scripts/setup-deps.sh installs it)\n");
		exit(1);
	}
	for (int esn = 0; esn < 2; esn++)
		for (int c = AEAD_KUZNYECHIK_MGM; c <= AEAD_MAGMA_MGM_MAC; c++)
			add_sa((enum aead_cipher)c, esn, false);
	if (seeds) {
		write_seeds(seeds);
		fprintf(stderr, "fuzz_esp_in: seeds for %u SAs written to %s\n", nsas, seeds);
		exit(0);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0:
		raw(data + 1, size - 1, false);
		break;
	case 1:
		raw(data + 1, size - 1, true);
		break;
	case 2:
		round_trip(data + 1, size - 1);
		break;
	default:
		sealed_by_peer(data + 1, size - 1);
		break;
	}
	return 0;
}
