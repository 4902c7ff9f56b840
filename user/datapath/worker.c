// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * worker.c - the per-queue loop of the live datapath (DESIGN.md, packet flow):
 *   RX burst from each AF_XDP socket: inbound ESP -> SA by SPI -> esp_in -> host port (or,
 *     with --fast-forward, AF_XDP TX when the kernel routes the inner packet out of one of
 *     esper-xdp's interfaces);
 *     plaintext -> the policy XDP matched (metadata) -> esp_out -> AF_XDP TX on the egress
 *     interface with the next hop's MAC, or to the kernel (raw socket) while it resolves it;
 *   host port burst: host-originated plaintext -> SPD -> esp_out -> the same way out;
 *   then completions, fill rings, and a poll() when there was nothing to do.
 * A burst is sorted first (ESP with its SA, plaintext with its policy), then decrypted and
 * encrypted in one go each (esp_in_burst; egress.c for the way out).
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

#include "egress.h"
#include "esper_abi.h"
#include "esper_wire.h"
#include "lib/log.h"
#include "worker.h"

#define BURST 64
#define IDLE_POLL_MS 100
#define NEXTHOP_TUNNELS 256	/* next-hop cache entries: tunnel endpoints */
#define NEXTHOP_HOSTS 4096	/* inner destinations forwarded by the worker */

const char *const worker_counter_names[W_C_MAX] = {
#define WORKER_COUNTER_NAME(name, text) [W_C_##name] = #name,
	WORKER_COUNTERS(WORKER_COUNTER_NAME)
#undef WORKER_COUNTER_NAME
};

static inline void count(struct worker *w, enum worker_counter c)
{
	worker_count(w, c);
}

/* --- classification ------------------------------------------------------------------ */

/* What one burst holds, sorted: inbound ESP with its SA, plaintext with its policy. */
struct burst {
	struct sa *sa[BURST];
	struct pbuf in[BURST];
	struct pkt_info in_pi[BURST];
	uint64_t in_frame[BURST];
	unsigned nin;
	struct egress_pkt out[BURST];
	unsigned nout;
};

/* The outbound policy for a plaintext packet: the one XDP matched if it still exists. */
static struct sp *policy_for(struct worker *w, const struct esper_meta *m,
			     const struct pkt_info *pi)
{
	struct sp *sp = NULL;

	if (m && m->kind == ESPER_META_PLAIN_OUT)
		sp = spd_by_id(w->spd, m->id);
	return sp ? sp : spd_match(w->spd, pi);
}

static bool classify_esp(struct worker *w, struct burst *bu, uint64_t frame,
			 const struct pbuf *b, const struct pkt_info *pi)
{
	uint32_t spi;
	struct sa *sa;

	count(w, W_C_rx_esp);
	if (pi->fragment) {	/* XDP passes fragments to the kernel; not from here either */
		count(w, W_C_malformed);
		return false;
	}
	if (!esp_spi(b->head + b->off, pi, &spi) || !(sa = sad_by_spi(w->sad, spi))) {
		count(w, W_C_no_sa);
		return false;
	}
	bu->sa[bu->nin] = sa;
	bu->in[bu->nin] = *b;
	bu->in_pi[bu->nin] = *pi;
	bu->in_frame[bu->nin++] = frame;
	return true;
}

static bool classify_plain(struct worker *w, struct burst *bu, uint64_t frame,
			   const struct pbuf *b, const struct pkt_info *pi,
			   const struct esper_meta *m)
{
	struct sp *sp;

	count(w, W_C_rx_plain);
	sp = policy_for(w, m, pi);
	if (!sp) {
		count(w, W_C_no_policy);
		return false;
	}
	if (sp->conf.dir != SP_DIR_OUT) {
		count(w, W_C_policy_drop);
		return false;
	}
	bu->out[bu->nout++] = (struct egress_pkt){ .frame = frame, .b = *b, .pi = *pi, .sp = sp };
	return true;
}

/* Sort the IP packet at b (in the frame at frame) into the burst; false: drop it. */
static bool classify(struct worker *w, struct burst *bu, uint64_t frame, struct pbuf *b,
		     const struct pkt_info *pi, const struct esper_meta *m)
{
	b->len = pi->ip_len;
	if (pi->proto == IPPROTO_ESP_)	/* ESP is never plaintext */
		return classify_esp(w, bu, frame, b, pi);
	return classify_plain(w, bu, frame, b, pi, m);
}

/* Take the metadata in front of a received frame and wipe it, so that a reused frame
 * never shows it again. NULL if there was none. */
static const struct esper_meta *take_meta(struct worker *w, uint64_t addr, struct esper_meta *m)
{
	uint8_t *data = xsk_frame(&w->xs, addr);

	if (addr - xsk_frame_base(addr) < sizeof(*m))
		return NULL;
	memcpy(m, data - sizeof(*m), sizeof(*m));
	memset(data - sizeof(*m), 0, sizeof(*m));
	return m->magic == ESPER_META_MAGIC ? m : NULL;
}

static void rx_frame(struct worker *w, struct burst *bu, uint64_t addr, uint32_t len)
{
	uint64_t frame = xsk_frame_base(addr);
	struct esper_meta meta;
	const struct esper_meta *m = take_meta(w, addr, &meta);
	struct pbuf b = { .head = xsk_frame(&w->xs, frame), .size = XSK_FRAME_SIZE };
	struct pkt_info pi;
	uint16_t l3_off;

	count(w, W_C_rx);
	if (pkt_parse_frame(xsk_frame(&w->xs, addr), len, &l3_off, &pi) < 0) {
		count(w, W_C_malformed);
		xsk_free(&w->xs, frame);
		return;
	}
	b.off = (uint32_t)(addr - frame) + l3_off;
	if (!classify(w, bu, frame, &b, &pi, m))
		xsk_free(&w->xs, frame);
}

/* --- the burst's crypto --------------------------------------------------------------- */

static void decrypt(struct worker *w, struct burst *bu)
{
	struct pbuf *b[BURST];
	int res[BURST];

	for (unsigned i = 0; i < bu->nin; i++)
		b[i] = &bu->in[i];
	esp_in_burst(bu->sa, b, bu->in_pi, bu->nin, w->id, res);
	for (unsigned i = 0; i < bu->nin; i++) {
		if (res[i] == 0 && egress_decrypted(w, bu->in_frame[i], b[i]))
			continue;	/* its frame is queued for TX */
		if (res[i] != 0)
			count(w, W_C_esp_drop);
		xsk_free(&w->xs, bu->in_frame[i]);
	}
}

static void process(struct worker *w, struct burst *bu)
{
	if (bu->nin)
		decrypt(w, bu);
	if (bu->nout)
		egress_encrypt(w, bu->out, bu->nout);
	bu->nin = bu->nout = 0;
}

/* --- bursts from the AF_XDP sockets and the host port ------------------------------------ */

static unsigned rx_burst(struct worker *w, struct xsk_port *p, struct burst *bu)
{
	uint32_t idx, n = xsk_ring_cons__peek(&p->rx, BURST, &idx);

	/* The frames were written by the CPU that ran XDP: ask for their first lines (the
	 * metadata and the headers) all at once, before the first is read. */
	for (uint32_t i = 0; i < n; i++) {
		uint8_t *data = xsk_frame(&w->xs, xsk_ring_cons__rx_desc(&p->rx, idx + i)->addr);

		__builtin_prefetch(data - sizeof(struct esper_meta), 1);
		__builtin_prefetch(data, 1);
		__builtin_prefetch(data + 64, 1);
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&p->rx, idx + i);

		rx_frame(w, bu, d->addr, d->len);
	}
	xsk_ring_cons__release(&p->rx, n);
	process(w, bu);
	return n;
}

/* Room in a host-port frame: headroom for the outer headers, the rest for the packet. */
#define HOST_OFF (XSK_HEADROOM)
#define HOST_ROOM (XSK_FRAME_SIZE - HOST_OFF - 128)

/* One packet from the host port into a frame; false when there is none (or no frame). */
static bool host_read(struct worker *w, struct burst *bu)
{
	struct pkt_info pi;
	struct pbuf b;
	uint64_t frame;
	ssize_t len;

	if (!xsk_alloc(&w->xs, &frame)) {
		count(w, W_C_no_frame);
		return false;
	}
	b = (struct pbuf){ .head = xsk_frame(&w->xs, frame), .size = XSK_FRAME_SIZE,
			   .off = HOST_OFF };
	len = read(w->host_fd, b.head + b.off, HOST_ROOM);
	if (len <= 0) {
		xsk_free(&w->xs, frame);
		return false;
	}
	count(w, W_C_host_rx);
	b.len = (uint32_t)len;
	if (pkt_parse(b.head + b.off, b.len, &pi) < 0) {
		count(w, W_C_malformed);
		xsk_free(&w->xs, frame);
	} else if (!classify(w, bu, frame, &b, &pi, NULL)) {
		xsk_free(&w->xs, frame);
	}
	return true;
}

static unsigned host_burst(struct worker *w, struct burst *bu)
{
	unsigned n = 0;

	while (n < BURST && host_read(w, bu))
		n++;
	process(w, bu);
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
	static __thread struct burst bu;

	if (!rcu) {
		log_warnx("worker %u: no RCU reader slot left", w->id);
		return NULL;
	}
	while (!atomic_load_explicit(&w->stop, memory_order_relaxed)) {
		unsigned work = 0;

		rcu_quiescent(rcu);
		for (unsigned i = 0; i < w->xs.nports; i++)
			work += rx_burst(w, &w->xs.port[i], &bu);
		work += host_burst(w, &bu);
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
	w->nh = nexthop_cache_new(w->fwmark, NEXTHOP_TUNNELS);
	w->nh_fwd = w->fast_forward ? nexthop_cache_new(0, NEXTHOP_HOSTS) : NULL;
	if (w->raw[0] < 0 || w->raw[1] < 0 || !w->nh || (w->fast_forward && !w->nh_fwd)) {
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
	nexthop_cache_free(w->nh_fwd);
	w->nh = w->nh_fwd = NULL;
	return err;
}

void worker_stop(struct worker *w)
{
	atomic_store(&w->stop, true);
	pthread_join(w->thread, NULL);
	close(w->raw[0]);
	close(w->raw[1]);
	nexthop_cache_free(w->nh);
	nexthop_cache_free(w->nh_fwd);
	w->nh = w->nh_fwd = NULL;
}
