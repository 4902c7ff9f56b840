// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * worker.c - the per-queue loop of the live datapath (DESIGN.md, packet flow):
 *   RX burst from each AF_XDP socket: inbound ESP -> SA by SPI -> esp_in -> host port;
 *     plaintext -> the policy XDP matched (metadata) -> esp_out -> AF_XDP TX on the egress
 *     interface with the next hop's MAC, or to the kernel (raw socket) while it resolves it;
 *   host port burst: host-originated plaintext -> SPD -> esp_out -> the same way out;
 *   then completions, fill rings, and a poll() when there was nothing to do.
 * Packets that outgrow the path get ICMP "packet too big" through the host port.
 * Never logs per packet: every outcome is a counter (worker.h, sad.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/types.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "esp.h"
#include "esper_abi.h"
#include "esper_wire.h"
#include "icmp.h"
#include "log.h"
#include "worker.h"

#define BURST 64
#define IDLE_POLL_MS 100

const char *const worker_counter_names[W_C_MAX] = {
#define WORKER_COUNTER_NAME(name, text) [W_C_##name] = #name,
	WORKER_COUNTERS(WORKER_COUNTER_NAME)
#undef WORKER_COUNTER_NAME
};

static inline void count(struct worker *w, enum worker_counter c)
{
	atomic_store_explicit(&w->counters[c],
			      atomic_load_explicit(&w->counters[c], memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

/* --- out to the host stack --------------------------------------------------------------- */

static void to_host(struct worker *w, const uint8_t *ip, uint32_t len)
{
	if (write(w->host_fd, ip, len) == (ssize_t)len)
		count(w, W_C_host_tx);
	else
		count(w, W_C_tx_error);
}

/* The largest packet that still fits mtu once encapsulated by sp (RFC 4303 2.4 padding). */
static uint32_t inner_mtu(const struct sp *sp, uint32_t mtu)
{
	uint32_t outer = sp->conf.mode == SP_MODE_TUNNEL ?
				 (sp->conf.tdst.family == AF_INET ? 20 : 40) : 0;
	uint32_t room = mtu - outer - ESP_HDR_LEN - ESP_IV_LEN - sp->sa->icv_len;

	return (room & ~3u) - 2;
}

static void too_big(struct worker *w, const struct sp *sp, const struct pbuf *b, uint32_t mtu)
{
	uint8_t msg[ICMP_TOO_BIG_MAX];
	struct pkt_info pi;
	size_t n;

	if (pkt_parse(b->head + b->off, b->len, &pi) < 0)
		return;
	n = icmp_too_big(b->head + b->off, &pi, inner_mtu(sp, mtu), msg);
	if (n) {
		to_host(w, msg, (uint32_t)n);
		count(w, W_C_icmp_too_big);
	}
}

/* --- out to the wire --------------------------------------------------------------------- */

static struct xsk_port *port_of(struct worker *w, int ifindex)
{
	for (unsigned i = 0; i < w->xs.nports; i++)
		if (w->xs.port[i].ifindex == ifindex)
			return &w->xs.port[i];
	return NULL;
}

static void to_kernel(struct worker *w, const uint8_t *ip, uint32_t len)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	int fd;

	if (ip[0] >> 4 == 4) {
		struct sockaddr_in *sin = (void *)&ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, ip + 16, 4);
		sl = sizeof(*sin);
		fd = w->raw[0];
	} else {
		struct sockaddr_in6 *sin6 = (void *)&ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, ip + 24, 16);
		sl = sizeof(*sin6);
		fd = w->raw[1];
	}
	if (sendto(fd, ip, len, 0, (struct sockaddr *)&ss, sl) == (ssize_t)len)
		count(w, W_C_kernel_tx);
	else
		count(w, W_C_tx_error);
}

/* Prepend the Ethernet header and queue the frame on the egress port. */
static bool to_port(struct worker *w, struct xsk_port *p, const struct nexthop *nh,
		    uint64_t base, struct pbuf *b)
{
	uint8_t *eth = b->head + b->off - ETH_HLEN_;
	uint16_t type = b->head[b->off] >> 4 == 4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6;

	memcpy(eth, nh->mac, 6);
	memcpy(eth + 6, p->mac, 6);
	eth[12] = (uint8_t)(type >> 8);
	eth[13] = (uint8_t)type;
	xsk_tx(&w->xs, p, base + b->off - ETH_HLEN_, b->len + ETH_HLEN_);
	count(w, W_C_xsk_tx);
	return true;
}

static bool send_esp(struct worker *w, struct sp *sp, uint64_t base, struct pbuf *b,
		     const struct pkt_info *pi);

/*
 * An IPv4 packet without DF that outgrows the path once encapsulated is fragmented before
 * encapsulation (RFC 4459 3, as RFC 4301 8.1 allows for the inner packet): each fragment,
 * in a frame of its own, is encrypted and sent like any packet. Options are copied into
 * every fragment.
 */
static void send_fragments(struct worker *w, struct sp *sp, const struct pbuf *b,
			   const struct pkt_info *pi, uint32_t mtu)
{
	const uint8_t *ip = b->head + b->off;
	uint32_t hl = pi->l4_off, len = pi->ip_len - hl, room = (inner_mtu(sp, mtu) - hl) & ~7u;
	uint16_t frag = ntohs(((const struct ipv4_hdr *)ip)->frag_off);

	if (inner_mtu(sp, mtu) <= hl + 8) {
		count(w, W_C_no_route);
		return;
	}
	for (uint32_t at = 0; at < len; at += room) {
		uint32_t n = len - at < room ? len - at : room;
		struct pkt_info fpi;
		struct ipv4_hdr *h;
		struct pbuf f;
		uint64_t fb;

		if (!xsk_alloc(&w->xs, &fb)) {
			count(w, W_C_no_frame);
			return;
		}
		f = (struct pbuf){ .head = xsk_frame(&w->xs, fb), .size = XSK_FRAME_SIZE,
				   .off = XSK_HEADROOM, .len = hl + n };
		memcpy(f.head + f.off, ip, hl);
		memcpy(f.head + f.off + hl, ip + hl + at, n);
		h = (struct ipv4_hdr *)(f.head + f.off);
		h->tot_len = htons((uint16_t)(hl + n));
		h->frag_off = htons((uint16_t)(((frag & IPV4_OFFSET) + at / 8) |
					       ((at + n < len || (frag & IPV4_MF)) ? IPV4_MF : 0)));
		csum_ipv4_header(f.head + f.off);
		pkt_parse(f.head + f.off, f.len, &fpi);
		count(w, W_C_fragmented);
		if (!send_esp(w, sp, fb, &f, &fpi))
			xsk_free(&w->xs, fb);
	}
}

static bool must_fragment(const struct pkt_info *pi, const uint8_t *ip)
{
	return pi->family == AF_INET && !(ntohs(((const struct ipv4_hdr *)ip)->frag_off) & IPV4_DF);
}

/* Encrypt the plaintext in b (frame at base) for sp and send it. True if the frame was
 * handed to a TX ring (the caller must not free it). */
static bool send_esp(struct worker *w, struct sp *sp, uint64_t base, struct pbuf *b,
		     const struct pkt_info *pi)
{
	const uint8_t *dst = sp->conf.mode == SP_MODE_TUNNEL ? sp->conf.tdst.a : pi->dst;
	int family = sp->conf.mode == SP_MODE_TUNNEL ? sp->conf.tdst.family : pi->family;
	struct xsk_port *p;
	struct nexthop nh;
	int err;

	if (nexthop_lookup(w->nh, family, dst, &nh) < 0) {
		count(w, W_C_no_route);
		return false;
	}
	err = esp_out(sp, b, w->id, nh.mtu, w->out_flags);
	if (err == ESP_DROP(SA_C_too_big)) {
		if (must_fragment(pi, b->head + b->off))
			send_fragments(w, sp, b, pi, nh.mtu);
		else
			too_big(w, sp, b, nh.mtu);
		return false;
	}
	if (err) {
		count(w, W_C_esp_drop);
		return false;
	}
	p = nh.resolved ? port_of(w, nh.ifindex) : NULL;
	if (p)
		return to_port(w, p, &nh, base, b);
	to_kernel(w, b->head + b->off, b->len);
	return false;
}

/* --- one packet ------------------------------------------------------------------------ */

static void handle_esp(struct worker *w, struct pbuf *b, const struct pkt_info *pi)
{
	struct sa *sa;
	uint32_t spi;

	count(w, W_C_rx_esp);
	if (!esp_spi(b->head + b->off, pi, &spi) || !(sa = sad_by_spi(w->sad, spi))) {
		count(w, W_C_no_sa);
		return;
	}
	if (esp_in(sa, b, pi, w->id) < 0) {
		count(w, W_C_esp_drop);
		return;
	}
	to_host(w, b->head + b->off, b->len);
}

/* The outbound policy for a plaintext packet: the one XDP matched if it still exists. */
static struct sp *policy_for(struct worker *w, const struct esper_meta *m,
			     const struct pkt_info *pi)
{
	struct sp *sp = NULL;

	if (m && m->magic == ESPER_META_MAGIC && m->kind == ESPER_META_PLAIN_OUT)
		sp = spd_by_id(w->spd, m->id);
	return sp ? sp : spd_match(w->spd, pi);
}

/* A packet at b (inside the frame at base). True if the frame went to a TX ring. */
static bool handle_ip(struct worker *w, uint64_t base, struct pbuf *b, const struct esper_meta *m)
{
	struct pkt_info pi;
	struct sp *sp;

	if (pkt_parse(b->head + b->off, b->len, &pi) < 0) {
		count(w, W_C_malformed);
		return false;
	}
	b->len = pi.ip_len;
	if (pi.proto == IPPROTO_ESP_) {	/* never plaintext; XDP passes fragments */
		if (pi.fragment)
			count(w, W_C_malformed);
		else
			handle_esp(w, b, &pi);
		return false;
	}
	count(w, W_C_rx_plain);
	sp = policy_for(w, m, &pi);
	if (!sp) {
		count(w, W_C_no_policy);
		return false;
	}
	if (sp->conf.dir != SP_DIR_OUT) {
		count(w, W_C_policy_drop);
		return false;
	}
	return send_esp(w, sp, base, b, &pi);
}

static void rx_frame(struct worker *w, uint64_t addr, uint32_t len)
{
	uint64_t base = xsk_frame_base(addr);
	uint8_t *data = xsk_frame(&w->xs, addr);
	struct esper_meta meta, *m = NULL;
	struct pbuf b = { .head = xsk_frame(&w->xs, base), .size = XSK_FRAME_SIZE };
	uint16_t l3_off, type;

	count(w, W_C_rx);
	if (addr - base >= sizeof(meta)) {
		/* Take the metadata and wipe it, so a reused frame never shows it again. */
		memcpy(&meta, data - sizeof(meta), sizeof(meta));
		memset(data - sizeof(meta), 0, sizeof(meta));
		if (meta.magic == ESPER_META_MAGIC)
			m = &meta;
	}
	if (pkt_l2_parse(data, len, &l3_off, &type) < 0 ||
	    (type != ETHERTYPE_IPV4 && type != ETHERTYPE_IPV6)) {
		count(w, W_C_malformed);
		xsk_free(&w->xs, addr);
		return;
	}
	b.off = (uint32_t)(addr - base) + l3_off;
	b.len = len - l3_off;
	if (!handle_ip(w, base, &b, m))
		xsk_free(&w->xs, addr);
}

/* --- bursts -------------------------------------------------------------------------- */

static unsigned rx_burst(struct worker *w, struct xsk_port *p)
{
	uint32_t idx, n = xsk_ring_cons__peek(&p->rx, BURST, &idx);

	for (uint32_t i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&p->rx, idx + i);

		rx_frame(w, d->addr, d->len);
	}
	xsk_ring_cons__release(&p->rx, n);
	return n;
}

/* Room in a host-port frame: headroom for the outer headers, the rest for the packet. */
#define HOST_OFF (XSK_HEADROOM)
#define HOST_ROOM (XSK_FRAME_SIZE - HOST_OFF - 128)

static unsigned host_burst(struct worker *w)
{
	unsigned n = 0;

	for (; n < BURST; n++) {
		uint64_t base;
		struct pbuf b;
		ssize_t len;

		if (!xsk_alloc(&w->xs, &base)) {
			count(w, W_C_no_frame);
			break;
		}
		b = (struct pbuf){ .head = xsk_frame(&w->xs, base), .size = XSK_FRAME_SIZE,
				   .off = HOST_OFF };
		len = read(w->host_fd, b.head + b.off, HOST_ROOM);
		if (len <= 0) {
			xsk_free(&w->xs, base);
			break;
		}
		count(w, W_C_host_rx);
		b.len = (uint32_t)len;
		if (!handle_ip(w, base, &b, NULL))
			xsk_free(&w->xs, base);
	}
	return n;
}

static void idle(struct worker *w, struct rcu_reader *rcu)
{
	struct pollfd pfd[XSK_MAX_PORTS + 1];
	unsigned n = 0;

	for (unsigned i = 0; i < w->xs.nports; i++)
		pfd[n++] = (struct pollfd){ .fd = xsk_socket__fd(w->xs.port[i].xsk),
					    .events = POLLIN };
	pfd[n++] = (struct pollfd){ .fd = w->host_fd, .events = POLLIN };
	rcu_offline(rcu);
	poll(pfd, n, IDLE_POLL_MS);
	rcu_online(rcu);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct rcu_reader *rcu = rcu_register();

	if (!rcu) {
		log_warnx("worker %u: no RCU reader slot left", w->id);
		return NULL;
	}
	while (!atomic_load_explicit(&w->stop, memory_order_relaxed)) {
		unsigned work = 0;

		rcu_quiescent(rcu);
		for (unsigned i = 0; i < w->xs.nports; i++)
			work += rx_burst(w, &w->xs.port[i]);
		work += host_burst(w);
		for (unsigned i = 0; i < w->xs.nports; i++) {
			xsk_flush(&w->xs, &w->xs.port[i]);
			xsk_complete(&w->xs, &w->xs.port[i]);
			xsk_refill(&w->xs, &w->xs.port[i]);
		}
		if (!work)
			idle(w, rcu);
	}
	rcu_unregister(rcu);
	return NULL;
}

/* --- life cycle ------------------------------------------------------------------------ */

static int open_raw(int family, uint32_t mark)
{
	int on = 1, fd = socket(family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);

	if (fd >= 0 && family == AF_INET)
		setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &on, sizeof(on));
	if (fd >= 0 && mark && setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0)
		log_warn("worker: SO_MARK %u", mark);
	return fd;
}

static void *pinned_main(void *arg)
{
	struct worker *w = arg;

	if (w->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(w->cpu, &set);
		if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
			log_warnx("worker %u: cannot pin to CPU %d", w->id, w->cpu);
	}
	return worker_main(arg);
}

int worker_start(struct worker *w)
{
	int err;

	w->raw[0] = open_raw(AF_INET, w->fwmark);
	w->raw[1] = open_raw(AF_INET6, w->fwmark);
	w->nh = nexthop_cache_new(w->fwmark);
	if (w->raw[0] < 0 || w->raw[1] < 0 || !w->nh) {
		err = -errno;
		goto fail;
	}
	atomic_store(&w->stop, false);
	err = -pthread_create(&w->thread, NULL, pinned_main, w);
	if (!err)
		return 0;
fail:
	if (w->raw[0] >= 0)
		close(w->raw[0]);
	if (w->raw[1] >= 0)
		close(w->raw[1]);
	nexthop_cache_free(w->nh);
	w->nh = NULL;
	return err;
}

void worker_stop(struct worker *w)
{
	atomic_store(&w->stop, true);
	pthread_join(w->thread, NULL);
	close(w->raw[0]);
	close(w->raw[1]);
	nexthop_cache_free(w->nh);
	w->nh = NULL;
}
