// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * worker.c - the per-queue loop of the live datapath, the AF_XDP and host-port driver of
 * the pipeline (pipeline.h): bursts from each AF_XDP socket (frames XDP redirected, with
 * its metadata) and from the host port (plaintext the host routed into it) go to
 * pipe_burst (a GSO packet from the host port first cut into its pieces, segment.h); the
 * pipeline's ports are implemented here: the wire is AF_XDP TX with a fresh Ethernet
 * header, the kernel a raw socket, the host the TUN queue (with vnet headers, runs of one
 * flow merged into GSO packets, coalesce.h, written when the bursts of a turn are done),
 * release the frame's return to the UMEM. Then answers from the next-hop resolver,
 * completions, fill rings, and a poll() when there was nothing to do. Called by live.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/types.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "esper_abi.h"
#include "esper_wire.h"
#include "lib/bytes.h"
#include "lib/log.h"
#include "lib/rcu.h"
#include "segment.h"
#include "worker.h"

#define IDLE_POLL_MS 100
#define NEXTHOP_TUNNELS 256	/* next-hop cache entries: tunnel endpoints */
#define NEXTHOP_HOSTS 4096	/* inner destinations forwarded by the worker */

/* Room in a host-port frame: headroom for the outer headers, the rest for the packet. */
#define HOST_OFF (XSK_HEADROOM)
#define HOST_ROOM (XSK_FRAME_SIZE - HOST_OFF - 128)
#define HOST_SPILL 65536	/* a GSO packet from the host port */

const char *const worker_counter_names[W_C_MAX] = {
#define WORKER_COUNTER_NAME(name, text) [W_C_##name] = #name,
	WORKER_COUNTERS(WORKER_COUNTER_NAME)
#undef WORKER_COUNTER_NAME
};

const char *const worker_counter_help[W_C_MAX] = {
#define WORKER_COUNTER_HELP(name, text) [W_C_##name] = text,
	WORKER_COUNTERS(WORKER_COUNTER_HELP)
#undef WORKER_COUNTER_HELP
};

/* Only the worker itself writes its counters: no atomic read-modify-write needed. */
static void count(struct worker *w, enum worker_counter c)
{
	atomic_store_explicit(&w->counters[c],
			      atomic_load_explicit(&w->counters[c], memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

static struct xsk_port *port_of(struct worker *w, int ifindex)
{
	for (unsigned i = 0; i < w->xs.nports; i++)
		if (w->xs.port[i].ifindex == ifindex)
			return &w->xs.port[i];
	return NULL;
}

/* --- the pipeline's ports ------------------------------------------------------------------ */

static void host_flush(struct worker *w);

/* With fast forward a flow's packets take both ways out (runs to the host port, the rest
 * by AF_XDP): each way empties the other's queue before it sends, so they keep their order. */
static bool forwarding(const struct worker *w)
{
	return w->host_vnet && (w->pipe.cfg.forward_v4 || w->pipe.cfg.forward_v6);
}

static void port_wire(void *drv, struct pipe_pkt *p, const struct nexthop *nh)
{
	struct worker *w = drv;
	struct xsk_port *port = port_of(w, nh->ifindex);
	uint8_t *eth = p->b.head + p->b.off - ETH_HLEN_;
	uint16_t type = p->b.head[p->b.off] >> 4 == 4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6;

	if (!port || p->b.off < ETH_HLEN_) {	/* route() vouched for both */
		pipe_count(&w->pipe, P_C_tx_error);
		xsk_free(&w->xs, p->handle);
		return;
	}
	if (w->gso && w->gso->n && forwarding(w))
		host_flush(w);
	memcpy(eth, nh->mac, 6);
	memcpy(eth + 6, port->mac, 6);
	wr16(eth + 12, type);
	xsk_tx(&w->xs, port, p->handle + p->b.off - ETH_HLEN_, p->b.len + ETH_HLEN_);
}

static bool port_kernel(void *drv, const uint8_t *ip, uint32_t len)
{
	struct worker *w = drv;
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
	return sendto(fd, ip, len, 0, (struct sockaddr *)&ss, sl) == (ssize_t)len;
}

/* A run of merged packets, written to the host port; a refused one counts as tx_error for
 * each packet in it (they were counted to_host when they joined it). With fast forward,
 * what was queued for AF_XDP goes first (forwarding()). */
static void host_write_run(void *arg, const uint8_t *buf, uint32_t len, unsigned segs)
{
	struct worker *w = arg;

	if (forwarding(w))
		for (unsigned i = 0; i < w->xs.nports; i++)
			xsk_drain(&w->xs, &w->xs.port[i]);
	if (write(w->host_fd, buf, len) != (ssize_t)len)
		for (unsigned i = 0; i < segs; i++)
			pipe_count(&w->pipe, P_C_tx_error);
	else if (segs > 1)
		count(w, W_C_host_gso);
}

static void host_flush(struct worker *w)
{
	coalesce_flush(w->gso, host_write_run, w);
}

/* With vnet headers: into a run (coalesce.h) if it may, else written alone after what it
 * must not overtake. */
static bool port_host(void *drv, const uint8_t *ip, uint32_t len)
{
	struct worker *w = drv;
	struct iovec iov[2] = { { (void *)coalesce_plain_vnet, COALESCE_VNET_LEN },
				{ (void *)ip, len } };
	struct pkt_info pi;

	if (!w->host_vnet)
		return write(w->host_fd, ip, len) == (ssize_t)len;
	if (pkt_parse(ip, len, &pi) == 0 && pi.ip_len == len) {
		if (coalesce_put(w->gso, ip, &pi, host_write_run, w))
			return true;
	} else {
		host_flush(w);
	}
	return writev(w->host_fd, iov, 2) == (ssize_t)(COALESCE_VNET_LEN + len);
}

static void port_release(void *drv, struct pipe_pkt *p)
{
	struct worker *w = drv;

	xsk_free(&w->xs, p->handle);
}

static bool port_alloc(void *drv, struct pipe_pkt *p)
{
	struct worker *w = drv;

	if (!xsk_alloc(&w->xs, &p->handle))
		return false;
	p->b = (struct pbuf){ .head = xsk_frame(&w->xs, p->handle), .size = XSK_FRAME_SIZE,
			      .off = XSK_HEADROOM };
	return true;
}

/* Outer next hops out of an interface that is not ours go through the kernel (resolved
 * false); inner ones are only ours to forward when they leave by one of our ports. */
static int port_route(void *drv, int family, const uint8_t *dst, bool inner, struct nexthop *nh)
{
	struct worker *w = drv;
	struct nexthop_cache *c = inner ? w->nh_fwd : w->nh;
	int err;

	if (!c)
		return -EXDEV;
	err = nexthop_lookup(c, family, dst, nh);
	if (err)
		return err;
	if (!port_of(w, nh->ifindex)) {
		if (inner)
			return -EXDEV;
		nh->resolved = false;
	}
	return 0;
}

static bool port_merges(void *drv, const struct pipe_pkt *a, const struct pipe_pkt *b)
{
	struct worker *w = drv;
	struct pkt_info pa, pb;
	const uint8_t *ia = a->b.head + a->b.off, *ib = b->b.head + b->b.off;

	return w->host_vnet && pkt_parse(ia, a->b.len, &pa) == 0 && pa.ip_len == a->b.len &&
	       pkt_parse(ib, b->b.len, &pb) == 0 && pb.ip_len == b->b.len &&
	       coalesce_pair(ia, &pa, ib, &pb);
}

static const struct pipe_ports ports = {
	.wire = port_wire,
	.kernel = port_kernel,
	.host = port_host,
	.pass = port_release,	/* XDP passes what may pass; nothing comes here to pass */
	.release = port_release,
	.alloc = port_alloc,
	.route = port_route,
	.merges = port_merges,
};

/* --- bursts from the AF_XDP sockets and the host port ------------------------------------ */

/* XDP's policy id for plaintext, from the metadata in front of a received frame; 0 if none.
 * Read only where xsk_refill zeroed it before the kernel had the frame: what is there now,
 * XDP wrote (a driver without room for metadata leaves the zeros). */
static uint32_t take_hint(struct worker *w, uint64_t addr)
{
	struct esper_meta m;

	if (addr - xsk_frame_base(addr) != XSK_RX_DATA)
		return 0;
	memcpy(&m, (uint8_t *)xsk_frame(&w->xs, addr) - sizeof(m), sizeof(m));
	return m.magic == ESPER_META_MAGIC && m.kind == ESPER_META_PLAIN_OUT ? m.id : 0;
}

/* A frame XDP redirected, as a packet of the burst; false: it was freed. */
static bool rx_frame(struct worker *w, const struct xdp_desc *d, struct pipe_pkt *p)
{
	uint64_t frame = xsk_frame_base(d->addr);
	uint16_t l3_off;

	count(w, W_C_rx);
	p->handle = frame;
	p->hint = take_hint(w, d->addr);
	p->from = PIPE_FROM_WIRE;
	if (pkt_parse_frame(xsk_frame(&w->xs, d->addr), d->len, &l3_off, &p->pi) < 0) {
		pipe_count(&w->pipe, P_C_malformed);	/* XDP passes these: cannot happen */
		xsk_free(&w->xs, frame);
		return false;
	}
	p->b = (struct pbuf){ .head = xsk_frame(&w->xs, frame), .size = XSK_FRAME_SIZE,
			      .off = (uint32_t)(d->addr - frame) + l3_off,
			      .len = d->len - l3_off };
	return true;
}

static unsigned rx_burst(struct worker *w, struct xsk_port *port)
{
	struct pipe_pkt pkts[PIPE_BURST];
	uint32_t idx, n = xsk_ring_cons__peek(&port->rx, PIPE_BURST, &idx), k = 0;

	/* The frames were written by the CPU that ran XDP: ask for their first lines (the
	 * metadata and the headers) all at once, before the first is read. */
	for (uint32_t i = 0; i < n; i++) {
		uint8_t *data = xsk_frame(&w->xs, xsk_ring_cons__rx_desc(&port->rx, idx + i)->addr);

		__builtin_prefetch(data - sizeof(struct esper_meta), 1);
		__builtin_prefetch(data, 1);
		__builtin_prefetch(data + 64, 1);
	}
	for (uint32_t i = 0; i < n; i++)
		k += rx_frame(w, xsk_ring_cons__rx_desc(&port->rx, idx + i), &pkts[k]);
	xsk_ring_cons__release(&port->rx, n);
	if (k)
		pipe_burst(&w->pipe, pkts, k);
	return n;
}

/* Packets read from the host port, gathered into bursts for the pipeline. */
struct host_batch {
	struct pipe_pkt pkts[PIPE_BURST];
	unsigned n;
};

static void host_emit(struct worker *w, struct host_batch *hb, struct pipe_pkt *p)
{
	if (pkt_parse(p->b.head + p->b.off, p->b.len, &p->pi) < 0) {
		pipe_count(&w->pipe, P_C_malformed);
		xsk_free(&w->xs, p->handle);
		return;
	}
	p->hint = 0;
	p->from = PIPE_FROM_HOST;
	hb->pkts[hb->n++] = *p;
	if (hb->n == PIPE_BURST) {
		pipe_burst(&w->pipe, hb->pkts, hb->n);
		hb->n = 0;
	}
}

/* A GSO packet the host sent: its pieces, each in a frame of its own. */
static void host_pieces(struct worker *w, struct host_batch *hb, const struct segment_src *s)
{
	for (unsigned i = 0; i < s->count; i++) {
		struct pipe_pkt p;

		if (s->hlen + s->gso_size > HOST_ROOM) {
			pipe_count(&w->pipe, P_C_malformed);	/* pieces above the MTU */
			return;
		}
		if (!port_alloc(w, &p)) {
			pipe_count(&w->pipe, P_C_no_frame);
			return;
		}
		p.b.off = HOST_OFF;
		p.b.len = segment_piece(s, i, p.b.head + p.b.off);
		host_emit(w, hb, &p);
	}
}

/* What the virtio_net_hdr of a packet read from the host port says: a GSO packet is cut
 * (its frame freed), a checksum left to us is finished; false if refused (fail closed). */
static bool host_vnet_packet(struct worker *w, struct host_batch *hb, struct pipe_pkt *p,
			     uint32_t len)
{
	const uint8_t *vh = p->b.head + p->b.off - SEGMENT_VNET_LEN;
	const uint8_t *ip = len > HOST_ROOM ? w->spill : p->b.head + p->b.off;
	struct segment_src s;

	if (len > HOST_ROOM)	/* the rest went to the spill buffer, behind its head */
		memcpy(w->spill, p->b.head + p->b.off, HOST_ROOM);
	if (segment_check(vh, ip, len, &s) < 0 || (!s.gso_type && len > HOST_ROOM)) {
		pipe_count(&w->pipe, P_C_malformed);
		return false;
	}
	if (s.gso_type) {
		host_pieces(w, hb, &s);
		return false;
	}
	segment_csum(&s, p->b.head + p->b.off);
	p->b.len = len;
	return true;
}

/* One read from the host port into hb; false when there was nothing (or no frame). */
static bool host_read(struct worker *w, struct host_batch *hb)
{
	uint32_t vnet = w->host_vnet ? SEGMENT_VNET_LEN : 0;
	struct pipe_pkt p;
	struct iovec iov[2];
	ssize_t len;

	if (!port_alloc(w, &p)) {
		pipe_count(&w->pipe, P_C_no_frame);
		return false;
	}
	p.b.off = HOST_OFF;
	iov[0] = (struct iovec){ p.b.head + p.b.off - vnet, HOST_ROOM + vnet };
	iov[1] = (struct iovec){ w->spill + HOST_ROOM, vnet ? HOST_SPILL - HOST_ROOM : 0 };
	len = readv(w->host_fd, iov, vnet ? 2 : 1) - (ssize_t)vnet;
	if (len <= 0) {
		xsk_free(&w->xs, p.handle);
		return len > -(ssize_t)vnet;	/* a bare header: something was read */
	}
	count(w, W_C_host_rx);
	p.b.len = (uint32_t)len;
	if (vnet && !host_vnet_packet(w, hb, &p, (uint32_t)len)) {
		xsk_free(&w->xs, p.handle);
		return true;
	}
	host_emit(w, hb, &p);
	return true;
}

static unsigned host_burst(struct worker *w)
{
	struct host_batch hb;
	unsigned n = 0;

	hb.n = 0;
	while (n < PIPE_BURST && host_read(w, &hb))
		n++;
	if (hb.n)
		pipe_burst(&w->pipe, hb.pkts, hb.n);
	return n;
}

static void idle(struct worker *w, struct rcu_reader *rcu)
{
	struct pollfd pfd[ESPER_MAX_IFACES + 1];
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
		nexthop_poll(w->nh);
		if (w->nh_fwd)
			nexthop_poll(w->nh_fwd);
		for (unsigned i = 0; i < w->xs.nports; i++)
			work += rx_burst(w, &w->xs.port[i]);
		work += host_burst(w);
		if (w->host_vnet)
			host_flush(w);
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

void worker_release(struct worker *w)
{
	for (int i = 0; i < 2; i++) {
		if (w->raw[i] >= 0)
			close(w->raw[i]);
		w->raw[i] = -1;
	}
	nexthop_cache_free(w->nh);
	nexthop_cache_free(w->nh_fwd);
	w->nh = w->nh_fwd = NULL;
	free(w->gso);
	free(w->spill);
	w->gso = NULL;
	w->spill = NULL;
}

int worker_prepare(struct worker *w)
{
	bool fwd = w->pipe.cfg.forward_v4 || w->pipe.cfg.forward_v6;

	w->raw[0] = open_raw(AF_INET, w->fwmark);
	w->raw[1] = open_raw(AF_INET6, w->fwmark);
	w->nh = nexthop_cache_new(w->fwmark, NEXTHOP_TUNNELS);
	w->nh_fwd = fwd ? nexthop_cache_new(0, NEXTHOP_HOSTS) : NULL;
	w->gso = w->host_vnet ? malloc(sizeof(*w->gso)) : NULL;
	if (w->gso)
		coalesce_set_init(w->gso);
	w->spill = w->host_vnet ? malloc(HOST_SPILL) : NULL;
	if (w->raw[0] < 0 || w->raw[1] < 0 || !w->nh || (fwd && !w->nh_fwd) ||
	    (w->host_vnet && (!w->gso || !w->spill))) {
		int err = -errno;

		worker_release(w);
		return err;
	}
	w->pipe.ports = &ports;
	w->pipe.drv = w;
	w->pipe.thread = w->id;
	return 0;
}

int worker_start(struct worker *w)
{
	atomic_store(&w->stop, false);
	return -pthread_create(&w->thread, NULL, pinned_main, w);
}

void worker_stop(struct worker *w)
{
	atomic_store(&w->stop, true);
	pthread_join(w->thread, NULL);
}
