// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * live.c - the live datapath's start-up and shutdown order, and its control thread.
 *
 * Start: load the XDP program (control/bpf_load.c), clear a stale attachment of a crashed
 * run, mirror the SAD/SPD into its maps from now on (control/bpf_sync.c: in batches from a
 * writer thread, sent whenever no further command is waiting on the input), create the host
 * port (datapath/hostport.c), open one set of AF_XDP sockets per queue (datapath/xsk.c) and
 * register them, mirror the host's addresses (control/localaddr.c), apply the commands of
 * --init FILE, attach the program, start the next-hop resolver and one worker per queue
 * (datapath/worker.c: the pipeline's live driver), then the control thread that reads
 * commands (control/cmd_exec.c) while traffic flows (EOF on the input leaves the datapath
 * running), the operator's control socket (control/ctl_sock.c), and the housekeeper. Every
 * 100 ms the housekeeper ticks the coarse clock (lib/clock.h), frees what the executor
 * unpublished (keys of deleted SAs are wiped when their SA is freed) even when no command
 * comes, enforces lifetimes (control/cmd_exec.c), drains the workers' event rings (acquire,
 * mapping: tables/event.h), queues the event lines for standard output's writer thread
 * (control/out.h: never inside a listing, never waiting for the reader) and, every
 * --metrics-interval, the metrics file
 * (control/metrics.c). SIGINT/SIGTERM: stop the workers, detach, remove the host port and
 * the control socket, return.
 */
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control/bpf_load.h"
#include "control/bpf_sync.h"
#include "control/ctl_sock.h"
#include "control/events.h"
#include "control/localaddr.h"
#include "control/metrics.h"
#include "control/out.h"
#include "control/session.h"
#include "datapath/hostport.h"
#include "datapath/nexthop.h"
#include "datapath/worker.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/rcu.h"
#include "lib/wipe.h"
#include "live.h"

#define HOUSEKEEPING_MS 100	/* deferred frees (rcu_reclaim) at least this often */
#define LIFETIME_SWEEP 8192	/* SAs with lifetimes checked per housekeeping round */

struct live {
	const struct live_opts *o;
	struct exec_env *env;
	struct bpf_load *bl;
	struct bpf_sync sync;
	struct hostport host;
	int ifindex[ESPER_MAX_IFACES];
	unsigned n_attached;
	struct localaddr *addrs;
	struct worker *w;
	unsigned n_workers, n_prepared, n_started;
	bool resolver;
	pthread_mutex_t exec_lock;	/* held while a command is applied or a map written */
	struct out out;			/* standard output's lines: listings, acks, events */
	struct ctl_sock *ctl;
	pthread_t control, housekeeper;
	bool housekeeping;
	bool metrics_failing;		/* the last metrics write failed (reported once) */
	_Atomic bool stopping;
};

/* --- stats ----------------------------------------------------------------------------- */

static const char *const xdp_names[ESPER_C_MAX] = {
#define XDP_NAME(name, text) [ESPER_C_##name] = #name,
	ESPER_XDP_COUNTERS(XDP_NAME)
#undef XDP_NAME
};

static const char *const xdp_help[ESPER_C_MAX] = {
#define XDP_HELP(name, text) [ESPER_C_##name] = "XDP verdicts, " text,
	ESPER_XDP_COUNTERS(XDP_HELP)
#undef XDP_HELP
};

/* A socket's drops: ours (TX ring full) and the kernel's (RX ring full: the worker fell
 * behind; fill ring empty: no frame to receive into; invalid descriptors). */
static void stats_port_of(struct stats_out *o, const struct xsk_port *p)
{
	struct xdp_statistics st;

	stats_port(o, p->ifname);
	stats_counter(o, "tx_ring_full", "frames dropped: the AF_XDP TX ring was full",
		      p->tx_dropped);
	if (xsk_port_kernel_stats(p, &st) < 0)
		return;
	stats_counter(o, "rx_dropped", "frames the kernel dropped (XDP_STATISTICS)",
		      st.rx_dropped);
	stats_counter(o, "rx_ring_full", "frames dropped: the RX ring was full (the worker fell "
		      "behind)", st.rx_ring_full);
	stats_counter(o, "fill_ring_empty", "times the fill ring was empty",
		      st.rx_fill_ring_empty_descs);
	stats_counter(o, "rx_invalid", "invalid RX descriptors", st.rx_invalid_descs);
	stats_counter(o, "tx_invalid", "invalid TX descriptors", st.tx_invalid_descs);
}

static void stats_worker(struct stats_out *o, const struct worker *w)
{
	stats_begin(o, "worker");
	stats_label_u(o, "id", w->id);
	stats_label_i(o, "cpu", w->cpu);
	for (int c = 0; c < W_C_MAX; c++)
		stats_counter(o, worker_counter_names[c], worker_counter_help[c],
			      atomic_load(&w->counters[c]));
	for (int c = 0; c < P_C_MAX; c++)
		stats_counter(o, pipe_counter_names[c], pipe_counter_help[c],
			      pipe_counter(&w->pipe, (enum pipe_counter)c));
	for (unsigned p = 0; p < w->xs.nports; p++)
		stats_port_of(o, &w->xs.port[p]);
	stats_end(o);
}

/* The live part of `stats` (after the SAs): workers, XDP, crypto. */
static void stats_live(struct stats_out *o, void *arg)
{
	struct live *l = arg;
	__u64 xdp[ESPER_C_MAX];

	for (unsigned i = 0; i < l->n_workers; i++)
		stats_worker(o, &l->w[i]);
	if (bpf_load_counters(l->bl, xdp) == 0) {
		stats_begin(o, "xdp");
		for (int c = 0; c < ESPER_C_MAX; c++)
			stats_counter(o, xdp_names[c], xdp_help[c], (uint64_t)xdp[c]);
		stats_end(o);
	}
	stats_begin(o, "crypto");
	stats_label(o, "backend", crypto_backend_name(), true);
	stats_label(o, "gost", crypto_gost_available() ? "yes" : "no", false);
	stats_label(o, "gost_impl", crypto_gost_impl_name(), true);
	stats_end(o);
}

/* --- the control thread ------------------------------------------------------------------ */

/* The executor's settle (cmd_exec.h), with the exec lock held: the map writes held back
 * go now (no further command is waiting), and with wait the maps hold them on return (an
 * acknowledgement is due). */
static void settle_maps(void *arg, bool wait)
{
	struct live *l = arg;

	if (wait)
		bpf_sync_wait(&l->sync);
	else
		bpf_sync_flush(&l->sync);
}

static void *control_main(void *arg)
{
	struct live *l = arg;
	FILE *in = l->o->cmd_file ? fopen(l->o->cmd_file, "r") : stdin;
	struct out_answer answer;
	struct session s = { .errors = stderr, .ack = l->o->ack, .deliver = out_answer_deliver,
			     .deliver_arg = &answer };
	struct timespec t1;

	if (!in) {
		log_warn("%s", l->o->cmd_file);
		return NULL;
	}
	if (out_answer_open(&answer, &l->out) < 0) {
		log_warn("standard output's answers");
		if (in != stdin)
			fclose(in);
		return NULL;
	}
	s.who.out = answer.m.f;
	s.r = cmd_reader_new(in, l->o->cmd_file ? l->o->cmd_file : "<stdin>");
	if (s.r)
		session_run(&s, l->env, &l->exec_lock);
	pthread_mutex_lock(&l->exec_lock);
	bpf_sync_wait(&l->sync);	/* the maps hold every command applied */
	pthread_mutex_unlock(&l->exec_lock);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	log_info("end of commands (%lu applied, %lu refused, %.3f s from the first to the maps "
		 "holding the last); the datapath keeps running until SIGINT/SIGTERM", s.applied,
		 s.refused, s.applied + s.refused ? (double)(t1.tv_sec - s.first.tv_sec) +
			 (double)(t1.tv_nsec - s.first.tv_nsec) / 1e9 : 0.0);
	cmd_reader_free(s.r);
	out_answer_close(&answer);
	if (in != stdin)
		fclose(in);
	return NULL;
}

/* --- the housekeeper ---------------------------------------------------------------------- */

/* Event lines of one round, written at once after the exec lock is released. */
struct lines {
	char *buf;
	size_t len, cap;
};

static void emit_line(void *arg, const char *line)
{
	struct lines *ls = arg;
	size_t n = strlen(line);

	if (ls->len + n + 1 > ls->cap) {
		size_t cap = (ls->len + n + 1) * 2;
		char *b = realloc(ls->buf, cap);

		if (!b) {
			log_warnx("no memory for an event line: lost");
			return;
		}
		ls->buf = b;
		ls->cap = cap;
	}
	memcpy(ls->buf + ls->len, line, n);
	ls->buf[ls->len + n] = '\n';
	ls->len += n + 1;
}

/* What the workers reported (acquire, mapping), oldest first per worker. */
static void drain_events(struct live *l, struct lines *ls)
{
	char line[EVENT_LINE_MAX];
	struct event ev;

	for (unsigned i = 0; i < l->n_workers; i++)
		while (l->w[i].pipe.events && ring_pop(l->w[i].pipe.events, &ev))
			if (event_format(&ev, line, sizeof(line)))
				emit_line(ls, line);
}

static void produce_metrics(struct stats_out *o, void *arg)
{
	struct live *l = arg;

	cmd_stats_sad(l->env->sad, o);
	stats_live(o, l);
}

static void write_metrics(struct live *l)
{
	int err = metrics_write(l->o->metrics_file, produce_metrics, l);

	if (err && !l->metrics_failing)
		log_warnx("%s: cannot write the metrics: %s", l->o->metrics_file, strerror(-err));
	else if (!err && l->metrics_failing)
		log_info("%s: metrics written again", l->o->metrics_file);
	l->metrics_failing = err != 0;
}

/* Every HOUSEKEEPING_MS: the coarse clock; under the exec lock deferred frees (so that a
 * deleted SA's keys are wiped soon even when no further command comes), lifetimes,
 * getspi reservations, the map writes still held back (control/bpf_sync.h), the metrics
 * file when due; then the event lines. */
static void *housekeeper_main(void *arg)
{
	struct live *l = arg;
	const struct timespec tick = { 0, HOUSEKEEPING_MS * 1000000L };
	unsigned per_metrics = l->o->metrics_interval * (1000 / HOUSEKEEPING_MS);
	unsigned ticks = per_metrics;	/* the first round writes them */
	struct lines ls = { 0 };

	while (!atomic_load(&l->stopping)) {
		nanosleep(&tick, NULL);
		clock_tick();
		pthread_mutex_lock(&l->exec_lock);
		cmd_exec_housekeep(l->env, clock_ms(), LIFETIME_SWEEP, emit_line, &ls);
		bpf_sync_flush(&l->sync);	/* map writes wait at most this long */
		if (l->o->metrics_file && ++ticks >= per_metrics) {
			ticks = 0;
			write_metrics(l);
		}
		pthread_mutex_unlock(&l->exec_lock);
		drain_events(l, &ls);
		out_queue_events(&l->out, ls.buf, ls.len);	/* never waits */
		ls.len = 0;
	}
	free(ls.buf);
	return NULL;
}

/* --- start-up -------------------------------------------------------------------------- */

static int parse_cpus(const char *list, int *cpus, unsigned max)
{
	unsigned n = 0;
	char *copy = strdup(list), *save = NULL;

	for (char *t = strtok_r(copy, ",", &save); t && n < max; t = strtok_r(NULL, ",", &save))
		cpus[n++] = atoi(t);
	free(copy);
	return (int)n;
}

#define FWD_IPV4 1u
#define FWD_IPV6 2u

/* The families whose decrypted packets the workers forward themselves (--fast-forward). */
static unsigned fast_forward_families(struct live *l)
{
	unsigned f = 0;

	if (!l->o->fast_forward)
		return 0;
	if (hostport_forwards(&l->host, AF_INET))
		f |= FWD_IPV4;
	if (hostport_forwards(&l->host, AF_INET6))
		f |= FWD_IPV6;
	log_info("fast forward: IPv4 %s, IPv6 %s (from the kernel's forwarding sysctls)",
		 f & FWD_IPV4 ? "on" : "off", f & FWD_IPV6 ? "on" : "off");
	return f;
}

static struct pipe_config pipe_config(struct live *l)
{
	unsigned fwd = fast_forward_families(l);

	return (struct pipe_config){ .unknown_spi_drop = l->o->unknown_spi_drop,
				     .strict_inbound = l->o->strict_inbound,
				     .fix_csum = l->o->fix_csum,
				     .forward_v4 = fwd & FWD_IPV4,
				     .forward_v6 = fwd & FWD_IPV6 };
}

/* Worker q's AF_XDP sockets, registered in the XDP maps. */
static int open_sockets(struct live *l, struct worker *w, unsigned q)
{
	const struct live_opts *o = l->o;
	int err = xsk_set_open(&w->xs, o->ifaces, o->n_ifaces, q, o->skb_mode);

	if (err) {
		log_warnx("AF_XDP sockets on queue %u: %s", q, strerror(-err));
		return err;
	}
	for (unsigned i = 0; i < w->xs.nports; i++) {
		struct xsk_port *p = &w->xs.port[i];

		err = bpf_sync_xsk(&l->sync, p->ifindex, q, q * o->n_ifaces + i,
				   xsk_socket__fd(p->xsk));
		if (err)
			return err;
		log_info("%s queue %u: AF_XDP %s mode, worker %u on CPU %d", p->ifname, q,
			 p->zerocopy ? "zero-copy" : "copy", q, w->cpu);
	}
	return 0;
}

static int open_workers(struct live *l)
{
	const struct live_opts *o = l->o;
	int cpus[64];
	int ncpus = o->cpus ? parse_cpus(o->cpus, cpus, 64) : 0;
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	struct pipe_config cfg = pipe_config(l);
	int err;

	l->n_workers = o->queues;
	l->w = calloc(l->n_workers, sizeof(*l->w));
	if (!l->w)
		return -ENOMEM;
	for (unsigned q = 0; q < l->n_workers; q++) {
		struct worker *w = &l->w[q];

		w->id = q;
		w->cpu = ncpus ? cpus[q % (unsigned)ncpus] : (int)(q % (unsigned)online);
		w->host_fd = l->host.fd[q];
		w->host_vnet = l->host.vnet;
		w->fwmark = o->fwmark;
		w->pipe = (struct pipe){ .sad = l->env->sad, .spd = l->env->spd, .cfg = cfg };
		w->pipe.events = ring_new(EVENT_RING_SIZE, sizeof(struct event));
		if (!w->pipe.events)
			return -ENOMEM;
		err = open_sockets(l, w, q);
		if (!err)
			err = worker_prepare(w);
		if (err)
			return err;
		l->n_prepared++;
	}
	return 0;
}

static int attach_all(struct live *l)
{
	const struct live_opts *o = l->o;
	enum bpf_load_mode mode = o->skb_mode ? BPF_LOAD_SKB : BPF_LOAD_NATIVE;

	for (unsigned i = 0; i < o->n_ifaces; i++) {
		int err = bpf_load_attach(l->bl, l->ifindex[i], mode);

		if (err) {
			log_warnx("%s: cannot attach the XDP program: %s", o->ifaces[i],
				  strerror(-err));
			return err;
		}
		l->n_attached++;
	}
	return 0;
}

/* The control socket: a default path in use (another esper-xdp) or out of reach is only
 * a warning; one given with --ctl-socket must work. */
static int start_ctl(struct live *l)
{
	const struct live_opts *o = l->o;

	if (!o->ctl_path)
		return 0;
	l->ctl = ctl_sock_start(o->ctl_path, o->ctl_allow_write, l->env, &l->exec_lock);
	if (l->ctl) {
		log_info("control socket %s (%s)", o->ctl_path,
			 o->ctl_allow_write ? "every command" : "read-only");
		return 0;
	}
	if (errno == EADDRINUSE)
		log_warnx("control socket %s: another process answers on it%s", o->ctl_path,
			  o->ctl_path_given ? "" : "; running without one");
	else
		log_warn("control socket %s%s", o->ctl_path,
			 o->ctl_path_given ? "" : " (running without one)");
	return o->ctl_path_given ? -EADDRINUSE : 0;
}

/* --init FILE, before the program is attached: the first packet meets the initial SAs and
 * policies. Every command must be accepted, or the start fails. */
static int apply_init(struct live *l)
{
	const char *file = l->o->init_file;
	int refused;

	if (!file)
		return 0;
	pthread_mutex_lock(&l->exec_lock);
	refused = cmd_exec_file(l->env, file);
	bpf_sync_wait(&l->sync);	/* in the maps before the program is attached */
	pthread_mutex_unlock(&l->exec_lock);
	if (refused < 0) {
		log_warnx("%s: %s", file, strerror(-refused));
		return refused;
	}
	if (refused > 0) {
		log_warnx("%s: %d command(s) refused: not starting", file, refused);
		return -EINVAL;
	}
	log_info("%s: initial commands applied", file);
	return 0;
}

static int start(struct live *l)
{
	const struct live_opts *o = l->o;
	struct bpf_load_fds fds;
	struct esper_config cfg = { .flags = ESPER_CFG_LOCAL |
					     (o->unknown_spi_drop ? ESPER_CFG_UNKNOWN_SPI_DROP : 0) |
					     (o->no_rpf ? 0 : ESPER_CFG_RPF) };
	int err;

	for (unsigned i = 0; i < o->n_ifaces; i++) {
		l->ifindex[i] = (int)if_nametoindex(o->ifaces[i]);
		if (!l->ifindex[i]) {
			log_warn("%s", o->ifaces[i]);
			return -ENODEV;
		}
		if (bpf_load_clean_stale(l->ifindex[i]) < 0)
			log_warnx("%s: could not remove a stale XDP program", o->ifaces[i]);
	}
	bpf_load_log_init();
	l->bl = bpf_load_new();
	if (!l->bl) {
		log_warn("cannot load the XDP program");
		return -errno;
	}
	bpf_load_map_fds(l->bl, &fds);
	bpf_sync_init(&l->sync, &fds);
	err = bpf_sync_config(&l->sync, &cfg);
	if (err)
		return err;
	err = bpf_sync_batch_start(&l->sync);
	if (err)
		log_warnx("BPF map writes go one by one: %s", strerror(-err));
	else
		l->env->settle = settle_maps, l->env->settle_arg = l;
	spd_set_mirror(l->env->spd, &l->sync.spd);
	l->env->sa_mirror = &l->sync.sa;
	l->env->nthreads = o->queues;
	l->env->stats_extra = stats_live;
	l->env->stats_arg = l;
	err = hostport_open(&l->host, o->tun_name, o->queues, !o->no_host_gso);
	if (err) {
		log_warnx("host port %s: %s", o->tun_name, strerror(-err));
		return err;
	}
	err = open_workers(l);
	if (err)
		return err;
	l->addrs = localaddr_start(&l->sync, &l->exec_lock);
	if (!l->addrs) {
		log_warn("cannot follow the host's addresses");
		return -errno;
	}
	err = apply_init(l);
	if (!err)
		err = attach_all(l);
	if (err)
		return err;
	err = nexthop_resolver_start();
	if (err)
		return err;
	l->resolver = true;
	for (; l->n_started < l->n_workers; l->n_started++) {
		err = worker_start(&l->w[l->n_started]);
		if (err)
			return err;
	}
	err = out_start_writer(&l->out);
	if (err)
		return err;
	l->housekeeping = pthread_create(&l->housekeeper, NULL, housekeeper_main, l) == 0;
	err = start_ctl(l);
	if (err)
		return err;
	log_info("running on %u interface(s), %u worker(s), host port %s, crypto %s",
		 o->n_ifaces, l->n_workers, o->tun_name, crypto_backend_name());
	return 0;
}

/* --- shutdown -------------------------------------------------------------------------- */

static void stop(struct live *l)
{
	atomic_store(&l->stopping, true);
	if (l->housekeeping)
		pthread_join(l->housekeeper, NULL);
	out_stop_writer(&l->out);	/* the housekeeper's last events are written */
	ctl_sock_stop(l->ctl);		/* its clients take the lock: before we keep it */
	localaddr_stop(l->addrs);	/* it takes the lock: before we keep it */
	/* Keep the control thread out for good: main() frees the tables after us. */
	pthread_mutex_lock(&l->exec_lock);
	bpf_sync_batch_stop(&l->sync);	/* before the maps go */
	for (unsigned i = 0; i < l->n_started; i++)
		worker_stop(&l->w[i]);
	if (l->resolver)
		nexthop_resolver_stop();
	for (unsigned i = 0; i < l->n_prepared; i++)
		worker_release(&l->w[i]);
	bpf_load_free(l->bl);	/* detaches from every interface */
	for (unsigned i = 0; l->w && i < l->n_workers; i++) {
		xsk_set_close(&l->w[i].xs);
		ring_free(l->w[i].pipe.events);
	}
	hostport_close(&l->host);
	spd_set_mirror(l->env->spd, NULL);
	l->env->sa_mirror = NULL;
	l->env->stats_extra = NULL;
	l->env->settle = NULL;
	free(l->w);
}

int live_run(const struct live_opts *o, struct exec_env *env)
{
	struct live l = { .o = o, .env = env, .exec_lock = PTHREAD_MUTEX_INITIALIZER };

	out_init(&l.out, env->out ? env->out : stdout);
	clock_tick();
	sigset_t sigs;
	int sig = 0, ret = 0;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);	/* every thread inherits it */
	signal(SIGPIPE, SIG_IGN);
	if (start(&l) < 0) {
		ret = 1;
		goto out;
	}
	if (pthread_create(&l.control, NULL, control_main, &l) == 0)
		pthread_detach(l.control);
	sigwait(&sigs, &sig);
	log_info("%s: stopping", strsignal(sig));
out:
	stop(&l);
	return ret;
}
