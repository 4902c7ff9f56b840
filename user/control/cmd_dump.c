// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cmd_dump.c - the listings on stdout: `dump` and `spddump` print every SA and SP as the
 * very commands that would create them (setkey-like, so a dump fed back as input restores
 * the state), each after '#' comment lines with its state and counters; `spigrp` prints SA
 * groups in the SAID notation of ipsec_spigrp(5); `stats` prints counters as key=value
 * (with the key-tree derivations of GOST SAs and the time of last use), or as JSON lines,
 * or in the Prometheus format (stats_out.h).
 * Called by cmd_exec.c only. Key material appears in `dump` (stdout), never in logs.
 */
#include <inttypes.h>
#include <sys/socket.h>

#include "cmd_exec.h"
#include "crypto/crypto_gost.h"
#include "lib/clock.h"
#include "lib/wipe.h"

static const char *alg_name(enum esp_alg alg)
{
	switch (alg) {
	case ESP_ALG_AES_GCM_16: return "aes-gcm-16";
	case ESP_ALG_GOST: return "gost";
	case ESP_ALG_GOST_MAC: return "gost-mac";
	}
	return "?";
}

static const char *proto_name(uint8_t proto)
{
	switch (proto) {
	case 1: return "icmp";
	case 6: return "tcp";
	case 17: return "udp";
	case 58: return "icmp6";
	}
	return "any";
}

/* Where the SA would resume: the next number to send, and past every number received. */
static bool sa_resume_seq(const struct sa *sa, uint64_t *seq)
{
	uint64_t next = atomic_load(&((struct sa *)sa)->seq_next);
	uint64_t top = replay_top(&sa->replay);

	/* next is 0 after 2^64-1 (ESN), seq_max + 1 after 2^32-1 (without ESN) */
	if (next == 0 || next > sa->seq_max || top >= sa->seq_max)
		return false;
	*seq = next > top + 1 ? next : top + 1;
	return true;
}

/* The lifetimes, as add's options: each limit that is set. */
static void print_lifetimes(const struct sa_params *c, FILE *out)
{
	const struct { const char *flag; uint64_t v; } l[] = {
		{ "-ls", c->soft.time_s }, { "-lh", c->hard.time_s },
		{ "-bs", c->soft.bytes },  { "-bh", c->hard.bytes },
		{ "-ps", c->soft.packets }, { "-ph", c->hard.packets },
	};

	for (size_t i = 0; i < sizeof(l) / sizeof(l[0]); i++)
		if (l[i].v)
			fprintf(out, " %s %" PRIu64, l[i].flag, l[i].v);
}

/* An SA with lifetimes: how far it has come (a comment line). */
static void print_lifetime_state(const struct sa *sa, FILE *out)
{
	if (!sa_lifetime_set(&sa->conf.soft) && !sa_lifetime_set(&sa->conf.hard))
		return;
	fprintf(out, "#   lifetimes: age %" PRIu64 " s, soft %s\n",
		(clock_ms() - sa->added_ms) / 1000,
		sa->soft_reported ? "expired (reported)" : "not reached");
}

/* SRC DST esp, or SRC[PORT] DST[PORT] esp-udp */
static void print_endpoints(const struct sa_params *c, FILE *out)
{
	char src[ADDR_STRLEN], dst[ADDR_STRLEN];

	if (c->encap)
		fprintf(out, "%s[%u] %s[%u] esp-udp", addr_str(&c->src, src), c->sport,
			addr_str(&c->dst, dst), c->dport);
	else
		fprintf(out, "%s %s esp", addr_str(&c->src, src), addr_str(&c->dst, dst));
}

/* The SA's direction when no policy of the listing says it (an out policy named it and is
 * gone, it decrypted with no in policy, a peer sent with its key): `dir:` keeps it across a
 * restart, so an SA that sent never decrypts and one whose key a peer sent with never sends.
 * NULL when its policies say it, or it has none. */
static const char *dir_unsaid(const struct sa *sa, const struct sa_params *p)
{
	unsigned named_out = sa->n_tunnel_sps + sa->n_transport_sps - sa->n_in_sps;

	if (p->dir == SA_OUTBOUND && !named_out)
		return "out";
	if (p->dir == SA_INBOUND && !sa->n_in_sps)
		return "in";
	return NULL;
}

static void print_sa(const struct sa *sa, FILE *out)
{
	struct sa_params p = sa_params(sa);
	const char *dir = dir_unsaid(sa, &p);
	bool usable;
	uint64_t seq = 1;

	usable = sa_resume_seq(sa, &seq);
	fprintf(out, "# SA UniqueID %u SPI 0x%08x: %s, ESN %s, replay window %u, tfc %u, %s\n",
		sa->uid, sa->spi, aead_cipher_name(sa->cipher), sa->esn ? "on" : "off",
		sa->replay.window, sa->tfc, sa_is_outbound(sa) ? "outbound" : "inbound");
	fprintf(out, "#   out %" PRIu64 " packets %" PRIu64 " bytes, in %" PRIu64
		     " packets %" PRIu64 " bytes, replay drops %" PRIu64 ", ICV failures %" PRIu64
		     "\n",
		sa_counter(sa, SA_C_out_packets), sa_counter(sa, SA_C_out_bytes),
		sa_counter(sa, SA_C_in_packets), sa_counter(sa, SA_C_in_bytes),
		sa_counter(sa, SA_C_replay), sa_counter(sa, SA_C_icv_fail));
	print_lifetime_state(sa, out);
	fprintf(out, "%sadd ", usable ? "" : "# exhausted: ");
	print_endpoints(&p, out);
	fprintf(out, " 0x%x -u %u", sa->spi, sa->uid);
	print_lifetimes(&p, out);
	fprintf(out, " -E %s%s 0x", alg_name(sa->conf.alg), sa->esn ? "-esn" : "");
	for (unsigned i = 0; i < sa->conf.key_len; i++)
		fprintf(out, "%02x", sa->conf.key[i]);
	if (sa->tfc)
		fprintf(out, " tfc:%u", sa->tfc);
	if (seq != 1)
		fprintf(out, sa->esn ? " seq:0x%016" PRIx64 : " seq:0x%08" PRIx64, seq);
	if (p.replay != REPLAY_WINDOW_AUTO)	/* given: kept; else the host's default */
		fprintf(out, " replay:%u", sa->replay.window);
	if (dir)
		fprintf(out, " dir:%s", dir);
	fprintf(out, " ;\n");
	wipe(&p, sizeof(p));	/* it holds the key */
}

void cmd_dump_sad(const struct sad *sad, FILE *out)
{
	fprintf(out, "# %zu SAs\n", sad_count(sad));
	for (const struct sa *sa = sad_first(sad); sa; sa = sad_next(sad, sa))
		print_sa(sa, out);
}

static void print_sel(const struct sp_sel *s, FILE *out)
{
	char a[ADDR_STRLEN];

	fprintf(out, "%s/%u", addr_str(&s->addr, a), s->plen);
	if (s->has_port)
		fprintf(out, "[%u]", s->port);
}

static void print_ipsec(const struct sp_params *c, FILE *out)
{
	char ts[ADDR_STRLEN], td[ADDR_STRLEN];

	fprintf(out, "ipsec esp/");
	if (c->mode == SP_MODE_TUNNEL)
		fprintf(out, "tunnel/%s-%s", addr_str(&c->tsrc, ts), addr_str(&c->tdst, td));
	else
		fprintf(out, "transport/");
	fprintf(out, "/%s:%u", c->require ? "require" : "unique", c->uid);
}

static void print_sp(const struct sp *sp, FILE *out)
{
	static const char *const action[] = { "ipsec", "discard", "none" };
	const struct sp_params conf = sp_params(sp), *c = &conf;

	fprintf(out, "# SP %u: %s, %s", sp->id, c->dir == SP_DIR_OUT ? "out" : "in",
		action[c->action]);
	if (sp->sa)
		fprintf(out, ", %s, SA UniqueID %u (SPI 0x%08x)",
			c->mode == SP_MODE_TUNNEL ? "tunnel" : "transport", c->uid, sp->sa->spi);
	else if (c->action == SP_IPSEC)
		fprintf(out, ", %s, SA UniqueID %u (none yet: what it matches is dropped)",
			c->mode == SP_MODE_TUNNEL ? "tunnel" : "transport", c->uid);
	fprintf(out, "\nspdadd ");
	print_sel(&c->src, out);
	fputc(' ', out);
	print_sel(&c->dst, out);
	fprintf(out, " %s -P %s ", proto_name(c->proto), c->dir == SP_DIR_OUT ? "out" : "in");
	if (c->action == SP_IPSEC)
		print_ipsec(c, out);
	else
		fputs(action[c->action], out);
	fprintf(out, " ;\n");
}

void cmd_dump_spd(const struct spd *spd, FILE *out)
{
	fprintf(out, "# %zu SPs\n", spd_count(spd));
	for (const struct sp *sp = spd_first(spd); sp; sp = spd_next(spd, sp))
		print_sp(sp, out);
}

/* ipsec_spigrp(5): <proto><af><spi>@<dst>, '.' for IPv4 and ':' for IPv6. */
static void print_said(const char *proto, uint32_t spi, const struct ip_addr *dst, FILE *out)
{
	char d[ADDR_STRLEN];

	fprintf(out, "%s%c%x@%s", proto, dst->family == AF_INET ? '.' : ':', spi,
		addr_str(dst, d));
}

void cmd_dump_spigrp(const struct sad *sad, FILE *out)
{
	for (const struct sa *sa = sad_first(sad); sa; sa = sad_next(sad, sa)) {
		const struct sp *tun = NULL, *sp;

		list_for_each(sp, &sa->sps, sa_node)	/* the most recently added one */
			if (sp->mode == SP_MODE_TUNNEL)
				tun = sp;
		if (tun) {
			print_said("tun", sa->spi, &tun->tdst, out);
			fputc(' ', out);
			print_said("esp", sa->spi, &tun->tdst, out);
			fputc('\n', out);
		}
		if (!tun || sa->n_transport_sps) {
			print_said("esp", sa->spi, &sa_path(sa)->dst, out);
			fputc('\n', out);
		}
	}
}

/* When sa was last used (Unix time, 0: never), its age, and how long it has been idle (its
 * age if it was never used), in seconds. */
static void stats_use(struct stats_out *o, const struct sa *sa, uint64_t now_ms)
{
	uint32_t last = atomic_load_explicit(&((struct sa *)sa)->last_use, memory_order_relaxed);
	uint64_t age = now_ms > sa->added_ms ? (now_ms - sa->added_ms) / 1000 : 0;
	uint32_t now = clock_coarse_of_ms(now_ms);
	uint64_t idle = last && now > last ? now - last : last ? 0 : age;

	stats_gauge(o, "last_use", "timestamp_seconds",
		    "when a packet last went through the SA (Unix time; 0: never)",
		    last ? clock_unix_of(last) : 0);
	stats_gauge(o, "age", "seconds", "seconds since the SA was added", (int64_t)age);
	stats_gauge(o, "idle", "seconds", "seconds without a packet (the age if none yet)",
		    (int64_t)(idle < age ? idle : age));
}

void cmd_stats_sad(const struct sad *sad, struct stats_out *o)
{
	uint64_t now = clock_ms();

	for (const struct sa *sa = sad_first(sad); sa; sa = sad_next(sad, sa)) {
		stats_begin(o, "sa");
		stats_label_hex(o, "spi", sa->spi);
		stats_label_u(o, "uid", sa->uid);
		stats_label(o, "alg", aead_cipher_name(sa->cipher), false);
		for (int c = 0; c < SA_C_MAX; c++)
			stats_counter(o, sa_counter_names[c], sa_counter_help[c],
				      sa_counter(sa, (enum sa_counter)c));
		/* RFC 9227 key-tree KDF calls (forged IVs force them, section 5) */
		if (sa->conf.alg == ESP_ALG_GOST || sa->conf.alg == ESP_ALG_GOST_MAC)
			stats_counter(o, "derivations", "GOST key-tree derivations (RFC 9227)",
				      crypto_gost_derivations(&sa->aead));
		stats_gauge(o, "reorder_max", "packets",
			    "largest distance below the replay window's top of a packet accepted "
			    "out of order (the window the traffic needed, minus one)",
			    replay_reorder_max(&sa->replay));
		stats_use(o, sa, now);
		stats_end(o);
	}
	if (atomic_load(&sa_counters_lost)) {	/* no memory for an SA's rare counters */
		stats_begin(o, "sa_counters");
		stats_counter(o, "lost", "SA counts lost: no memory for an SA's rare counters",
			      atomic_load(&sa_counters_lost));
		stats_end(o);
	}
}

void cmd_dump_stats(const struct sad *sad, FILE *out)
{
	struct stats_out o;

	stats_out_init(&o, out, STATS_TEXT);
	cmd_stats_sad(sad, &o);
	stats_out_finish(&o);
}
