// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cmd_exec.c - the command executor: checks each command against the SAD and SPD
 * (duplicates, dangling UniqueIDs, families, TFC in transport mode, the direction of SAs,
 * keys that have sent already, capacity), then mirrors and applies it. Called by the
 * control thread (live) and by pcap mode, one command at a time, from one thread at a time.
 * Deleted objects are freed after an RCU grace period (lib/rcu.h).
 *
 * SAs are unidirectional (RFC 4301 4.1): an SA named by an outbound ipsec policy becomes
 * outbound for good (its SPI leaves the XDP map first, so that it never decrypts), and
 * cannot be named by an inbound one; an SA named by an inbound policy cannot be named by an
 * outbound one; an SA that has decrypted cannot become outbound. No two SAs share a key,
 * and no key sends a sequence number it has sent before (tables/key_history.h).
 *
 * require:ID policies (tables/spd.h) may come before their SA, which binds them when it is
 * added (it must suit them: family, mode, TFC, direction) and leaves them waiting again
 * when it goes. getspi reserves SPIs for the session that asked (spi_reserve.h, RFC 2367
 * 2.3.3). The housekeeping enforces lifetimes (lifetime.h, RFC 2367 2.3.4): soft limits are
 * reported once, hard ones delete the SA as `delete` does.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "cmd_exec.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/rcu.h"
#include "lib/wipe.h"

#define FAIL(err, c, field, ...)                                                                   \
	do {                                                                                       \
		cmd_error_set(err, (c)->at[field], __VA_ARGS__);                                   \
		return -1;                                                                         \
	} while (0)

static const char *family_name(uint8_t family)
{
	return family == AF_INET ? "IPv4" : "IPv6";
}

/* --- add / delete / flush -------------------------------------------------------------- */

/* An SPI getspi reserved is for the session that asked, until the reservation ends. */
static int check_reserved(struct exec_env *env, const struct exec_caller *who,
			  const struct cmd *c, struct cmd_error *err)
{
	uint64_t now = clock_ms(), until;
	unsigned owner;

	if (!env->spis || !spi_reserve_held(env->spis, c->add.spi, now, &owner, &until) ||
	    owner == who->session)
		return 0;
	FAIL(err, c, CF_SPI, "SPI 0x%x is reserved by getspi for another session (%" PRIu64
	     " s more)", c->add.spi, (until - now + 999) / 1000);
}

/* The require:ID policies waiting for this UniqueID must suit the SA (as spdadd checks);
 * received: a peer has sent with its key, so no out policy may take it. */
static int check_waiting(struct exec_env *env, const struct cmd *c, bool received,
			 struct cmd_error *err)
{
	const struct sa_params *a = &c->add;
	const struct list *w = spd_waiting(env->spd, a->uid);
	struct sp *sp;

	if (!w)
		return 0;
	list_for_each(sp, w, sa_node) {
		if (received && sp->dir == SP_DIR_OUT)
			FAIL(err, c, CF_KEY, "a peer has sent with this key: an SA with it never "
			     "sends (an out policy waits for it)");
		if (a->dir && (a->dir == SA_OUTBOUND) != (sp->dir == SP_DIR_OUT))
			FAIL(err, c, CF_SA_DIR, "the policy SP %u waiting for UniqueID %u is %s, "
			     "this SA dir:%s", sp->id, a->uid, sp->dir == SP_DIR_OUT ? "out" : "in",
			     a->dir == SA_OUTBOUND ? "out" : "in");
		if (sp->mode == SP_MODE_TUNNEL && sp->tsrc.family != a->src.family)
			FAIL(err, c, CF_SRC, "the policy SP %u waiting for UniqueID %u has %s "
			     "tunnel endpoints, this SA is %s", sp->id, a->uid,
			     family_name(sp->tsrc.family), family_name(a->src.family));
		if (sp->mode == SP_MODE_TRANSPORT && sp_params(sp).src.addr.family != a->src.family)
			FAIL(err, c, CF_SRC, "the policy SP %u waiting for UniqueID %u is transport "
			     "mode with %s selectors, this SA is %s", sp->id, a->uid,
			     family_name(sp_params(sp).src.addr.family), family_name(a->src.family));
		if (sp->mode == SP_MODE_TRANSPORT && a->tfc)
			FAIL(err, c, CF_TFC, "the policy SP %u waiting for UniqueID %u is transport "
			     "mode, which cannot carry tfc:%u", sp->id, a->uid, a->tfc);
	}
	return 0;
}

static int check_add(struct exec_env *env, const struct exec_caller *who, const struct cmd *c,
		     struct key_digest *k, struct cmd_error *err)
{
	const struct sa_params *a = &c->add;
	struct sa *other;
	uint64_t resume;
	bool received;
	int e;

	other = sad_by_spi(env->sad, a->spi);
	if (other)
		FAIL(err, c, CF_SPI, "SPI 0x%x is already used by the SA with UniqueID %u", a->spi,
		     other->uid);
	other = sad_by_uid(env->sad, a->uid);
	if (other)
		FAIL(err, c, CF_UID, "UniqueID %u is already used by the SA with SPI 0x%x", a->uid,
		     other->spi);
	if (check_reserved(env, who, c, err) < 0)
		return -1;
	if (sad_count(env->sad) >= ESPER_MAX_SA)
		FAIL(err, c, CF_CMD, "the SAD is full: at most %u SAs", ESPER_MAX_SA);
	if (a->alg != ESP_ALG_AES_GCM_16 && !crypto_gost_available())
		FAIL(err, c, CF_ALG,
		     "GOST transforms are not available: gost-engine (libengine-gost-openssl) "
		     "could not be loaded");
	e = sad_key_check(env->sad, a, &resume, &received, k);
	if (e == -EEXIST)
		FAIL(err, c, CF_KEY, "another SA has this key: two SAs with one key (one of them "
		     "the peer's, or both ours) would repeat its nonces");
	if (e && resume == 0)
		FAIL(err, c, CF_KEY, "this key has sent its last sequence number: give a new key");
	if (e)
		FAIL(err, c, CF_KEY,
		     "this key has sent sequence numbers up to 0x%" PRIx64 " already: give a new "
		     "key, or seq:0x%" PRIx64 " or more",
		     resume - 1, resume);
	if (received && a->dir == SA_OUTBOUND)
		FAIL(err, c, CF_SA_DIR, "a peer has sent with this key: an SA with it never sends "
		     "(dir:out)");
	return check_waiting(env, c, received, err);
}

/* --- where this host takes ESP in UDP (RFC 3948): the XDP map natt_dests ----------------- */

/* Before an SA that may decrypt starts going to path (before the SAD knows): the place goes
 * into the XDP map, unless another SA goes there already. */
static int natt_use(struct exec_env *env, const struct sa_path *path)
{
	const struct sa_mirror *m = env->sa_mirror;

	if (!path->encap || !m ||
	    sad_natt_dest(env->sad, path->dst.family, path->dst.a, path->dport))
		return 0;
	return m->set_natt_dest(m->ctx, path, true);
}

/* After an SA that could decrypt stopped going to path (after the SAD knows): the place
 * leaves the XDP map, unless another SA still goes there. */
static void natt_release(struct exec_env *env, const struct sa_path *path)
{
	const struct sa_mirror *m = env->sa_mirror;
	char a[ADDR_STRLEN];

	if (!path->encap || !m ||
	    sad_natt_dest(env->sad, path->dst.family, path->dst.a, path->dport))
		return;
	if (m->set_natt_dest(m->ctx, path, false) < 0)
		log_warnx("could not remove %s[%u] from the XDP map", addr_str(&path->dst, a),
			  ntohs(path->dport));
}

/* An SA whose UniqueID require:ID policies wait for takes its direction and inbound
 * selectors from them before it is published, and is given to them once it is. */
static int exec_add(struct exec_env *env, const struct exec_caller *who, const struct cmd *c,
		    struct cmd_error *err)
{
	const struct sa_mirror *m = env->sa_mirror;
	struct key_digest k;
	struct sa *sa;
	int e;

	if (check_add(env, who, c, &k, err) < 0)
		return -1;
	sa = sa_new(&c->add, env->nthreads);
	if (!sa)
		FAIL(err, c, CF_ALG, "cannot set up %s: %s", aead_cipher_name(c->add.cipher),
		     strerror(errno));
	if (sad_reserve(env->sad) < 0) {
		sa_free(sa);
		FAIL(err, c, CF_CMD, "out of memory");
	}
	spd_bind_prepare(env->spd, sa);
	if (!sa_is_outbound(sa) && (e = natt_use(env, sa_path(sa))) < 0) {
		sa_free(sa);
		FAIL(err, c, CF_DST, "cannot add UDP port %u to the XDP map: %s", c->add.dport,
		     strerror(-e));
	}
	if (m && !sa_is_outbound(sa) && (e = m->set_sa(m->ctx, sa, sa_path(sa))) < 0) {
		natt_release(env, sa_path(sa));
		sa_free(sa);
		FAIL(err, c, CF_SPI, "cannot add SPI 0x%x to the XDP map: %s", c->add.spi,
		     strerror(-e));
	}
	e = sad_add_checked(env->sad, sa, &k);
	if (e < 0) {	/* cannot happen: checked and reserved above */
		if (m && !sa_is_outbound(sa))
			m->del_sa(m->ctx, sa->spi);
		if (!sa_is_outbound(sa))
			natt_release(env, sa_path(sa));
		sa_free(sa);
		FAIL(err, c, CF_CMD, "cannot add the SA: %s", strerror(-e));
	}
	spd_bind(env->spd, sa);
	if (env->spis)
		spi_reserve_release(env->spis, sa->spi);
	return 0;
}

/* sa's policies go with it, except require:ID ones, which wait for the next SA with its
 * UniqueID (dropping what they match meanwhile). */
static void remove_policies(struct exec_env *env, struct sa *sa)
{
	struct sp *sp;

	list_for_each(sp, &sa->sps, sa_node) {
		if (sp->require && spd_unbind(env->spd, sp) == 0)
			continue;
		if (sp->require)
			log_warnx("SP %u: cannot keep it without its SA (out of memory?): removed",
				  sp->id);
		spd_remove(env->spd, sp);
	}
}

static void remove_sa(struct exec_env *env, struct sa *sa)
{
	const struct sa_mirror *m = env->sa_mirror;
	struct sa_path path = *sa_path(sa);
	bool decrypts = !sa_is_outbound(sa);

	remove_policies(env, sa);
	if (decrypts && m && m->del_sa(m->ctx, sa->spi) < 0)
		log_warnx("could not remove SPI 0x%x from the XDP map", sa->spi);
	sad_remove(env->sad, sa);
	if (decrypts)
		natt_release(env, &path);
}

static int exec_delete(struct exec_env *env, const struct cmd *c, struct cmd_error *err)
{
	struct sa *sa = sad_by_spi(env->sad, c->del.spi);

	if (!sa)
		FAIL(err, c, CF_SPI, "no SA with SPI 0x%x", c->del.spi);
	remove_sa(env, sa);
	return 0;
}

static void exec_flush(struct exec_env *env)
{
	struct sa *sa;

	while ((sa = sad_first(env->sad)))
		remove_sa(env, sa);
}

/* --- update: an SA moves (a new NAT mapping, MOBIKE) -------------------------------------- */

/* The path part of an SA's parameters (what sad_move reads), without the keys. */
static struct sa_params path_of(const struct sa_params *p)
{
	return (struct sa_params){ .src = p->src, .dst = p->dst, .encap = p->encap,
				   .sport = p->sport, .dport = p->dport };
}

/* The tunnel policies of sa whose endpoints are its path's (old), with the endpoints of to:
 * new policies, not yet published; NULL with *n 0 if there are none. -ENOMEM: none made. */
static int moved_policies(struct sa *sa, const struct sa_params *old, const struct sa_params *to,
			  struct sp ***out, unsigned *n)
{
	unsigned max = sa->n_tunnel_sps, k = 0;
	struct sp **sps = max ? calloc(max, sizeof(*sps)) : NULL;
	struct sp *sp;

	*out = NULL;
	*n = 0;
	if (max && !sps)
		return -ENOMEM;
	list_for_each(sp, &sa->sps, sa_node) {
		struct sp_params p = sp_params(sp);
		bool fwd = !memcmp(&p.tsrc, &old->src, sizeof(p.tsrc)) &&
			   !memcmp(&p.tdst, &old->dst, sizeof(p.tdst));

		if (p.mode != SP_MODE_TUNNEL || !fwd || k == max)
			continue;
		p.tsrc = to->src;
		p.tdst = to->dst;
		if (!(sps[k] = sp_new(&p, sa))) {
			while (k)
				sp_free(sps[--k]);
			free(sps);
			return -ENOMEM;
		}
		k++;
	}
	*out = sps;
	*n = k;
	return 0;
}

/* The SA's own path and, if it may decrypt, its XDP entries; on failure nothing changed. */
static int move_sa(struct exec_env *env, const struct cmd *c, struct sa *sa,
		   const struct sa_params *to, struct cmd_error *err)
{
	const struct sa_mirror *m = env->sa_mirror;
	struct sa_path *path = sa_path_new(to), old;
	bool decrypts = !sa_is_outbound(sa);
	int e;

	if (!path || sad_reserve(env->sad) < 0) {
		free(path);
		FAIL(err, c, CF_CMD, "out of memory");
	}
	if (decrypts && (e = natt_use(env, path)) < 0) {
		free(path);
		FAIL(err, c, CF_DST, "cannot add UDP port %u to the XDP map: %s", to->dport,
		     strerror(-e));
	}
	if (decrypts && m && (e = m->move_sa(m->ctx, sa, path)) < 0) {
		natt_release(env, path);
		free(path);
		FAIL(err, c, CF_SPI, "cannot update SPI 0x%x in the XDP map: %s", sa->spi,
		     strerror(-e));
	}
	old = *sa_path(sa);
	sad_move(env->sad, sa, path);
	if (decrypts)
		natt_release(env, &old);
	return 0;
}

static int exec_update(struct exec_env *env, const struct cmd *c, struct cmd_error *err)
{
	const struct sa_params *u = &c->add;
	struct sa *sa = sad_by_spi(env->sad, u->spi);
	struct sa_params to, old;
	struct sp **sps;
	unsigned n, failed = 0;

	if (!sa)
		FAIL(err, c, CF_SPI, "no SA with SPI 0x%x", u->spi);
	if (u->dst.family != sa->family)
		FAIL(err, c, CF_SRC, "the SA with SPI 0x%x is %s: update keeps the address family",
		     u->spi, family_name(sa->family));
	to = path_of(u);
	old = (struct sa_params){ .src = sa_path(sa)->src, .dst = sa_path(sa)->dst };
	if (moved_policies(sa, &old, &to, &sps, &n) < 0)
		FAIL(err, c, CF_CMD, "out of memory");
	if (move_sa(env, c, sa, &to, err) < 0) {
		while (n)
			sp_free(sps[--n]);
		free(sps);
		return -1;
	}
	for (unsigned i = 0; i < n; i++)
		if (spd_add(env->spd, sps[i]) < 0) {	/* the XDP maps refused: ENOMEM */
			sp_free(sps[i]);
			failed++;
		}
	free(sps);
	if (failed)
		FAIL(err, c, CF_CMD, "the SA moved, but %u of its tunnel policies could not "
		     "follow (XDP maps full?): give them again with spdadd", failed);
	return 0;
}

/* --- spdadd ---------------------------------------------------------------------------- */

static int check_direction(const struct cmd *c, const struct sa *sa, struct cmd_error *err)
{
	const struct sp_params *s = &c->spd;
	bool inbound = (atomic_load(&((struct sa *)sa)->flags) & SA_INBOUND) ||
		       sa_counter(sa, SA_C_in_packets);

	if (s->dir == SP_DIR_OUT && !sa_is_outbound(sa) && inbound)
		FAIL(err, c, CF_POLICY_UID,
		     "the SA with UniqueID %u is inbound (an in policy named it, it has "
		     "decrypted, or a peer has sent with its key): SAs are unidirectional, an "
		     "out policy needs an SA of its own",
		     s->uid);
	if (s->dir == SP_DIR_IN && sa_is_outbound(sa))
		FAIL(err, c, CF_POLICY_UID,
		     "the SA with UniqueID %u is outbound (an out policy names it): SAs are "
		     "unidirectional, an in policy needs an SA of its own",
		     s->uid);
	return 0;
}

/* A require:ID policy before its SA: the policies waiting for one SA go one way. */
static int check_unbound(struct exec_env *env, const struct cmd *c, struct cmd_error *err)
{
	const struct sp_params *s = &c->spd;
	const struct list *w = spd_waiting(env->spd, s->uid);
	struct sp *sp;

	if (!w)
		return 0;
	list_for_each(sp, w, sa_node)
		if (sp->dir != s->dir)
			FAIL(err, c, CF_POLICY_UID,
			     "UniqueID %u is named by an %s policy already (SP %u): SAs are "
			     "unidirectional, an %s policy needs an SA of its own", s->uid,
			     sp->dir == SP_DIR_OUT ? "out" : "in", sp->id,
			     s->dir == SP_DIR_OUT ? "out" : "in");
	return 0;
}

static int check_ipsec(struct exec_env *env, const struct cmd *c, struct sa **sap,
		       struct cmd_error *err)
{
	const struct sp_params *s = &c->spd;
	struct sa *sa = sad_by_uid(env->sad, s->uid);
	uint8_t sa_family;

	if (!sa && s->require)
		return check_unbound(env, c, err);
	if (!sa)
		FAIL(err, c, CF_POLICY_UID, "no SA with UniqueID %u", s->uid);
	sa_family = sa->family;
	if (s->mode == SP_MODE_TUNNEL && s->tsrc.family != sa_family)
		FAIL(err, c, CF_TUNNEL, "tunnel endpoints are %s but the SA with UniqueID %u is %s",
		     family_name(s->tsrc.family), s->uid, family_name(sa_family));
	if (s->mode == SP_MODE_TRANSPORT && s->src.addr.family != sa_family)
		FAIL(err, c, CF_SRC,
		     "transport mode: selectors are %s but the SA with UniqueID %u is %s",
		     family_name(s->src.addr.family), s->uid, family_name(sa_family));
	if (s->mode == SP_MODE_TRANSPORT && sa->tfc)
		FAIL(err, c, CF_POLICY,
		     "the SA with UniqueID %u has tfc:%u, which transport mode cannot carry", s->uid,
		     sa->tfc);
	if (check_direction(c, sa, err) < 0)
		return -1;
	*sap = sa;
	return 0;
}

/* An out policy names sa: from now on it only sends. Its SPI leaves the XDP map before the
 * policy is published. Returns whether it was made outbound now (to undo on failure). */
static int make_outbound(struct exec_env *env, const struct cmd *c, struct sa *sa,
			 struct cmd_error *err)
{
	const struct sa_mirror *m = env->sa_mirror;
	int e;

	if (sa_is_outbound(sa))
		return 0;
	if (m && (e = m->del_sa(m->ctx, sa->spi)) < 0)
		FAIL(err, c, CF_POLICY_UID, "cannot remove SPI 0x%x from the XDP map: %s",
		     sa->spi, strerror(-e));
	if (sad_set_outbound(env->sad, sa) < 0) {	/* it decrypted since check_direction */
		if (m && m->set_sa(m->ctx, sa, sa_path(sa)) < 0)
			log_warnx("SPI 0x%x: cannot put it back into the XDP map", sa->spi);
		FAIL(err, c, CF_POLICY_UID,
		     "the SA with UniqueID %u is inbound (it has decrypted): SAs are "
		     "unidirectional, an out policy needs an SA of its own",
		     sa->uid);
	}
	natt_release(env, sa_path(sa));
	return 1;
}

/* The first out policy naming sa was refused after all: sa may decrypt again (exec_spdadd
 * reserved the room). */
static void undo_outbound(struct exec_env *env, struct sa *sa)
{
	const struct sa_mirror *m = env->sa_mirror;

	if (natt_use(env, sa_path(sa)) < 0)
		log_warnx("SPI 0x%x: cannot put its UDP port back into the XDP map", sa->spi);
	sad_unset_outbound(env->sad, sa);
	if (m && m->set_sa(m->ctx, sa, sa_path(sa)) < 0)
		log_warnx("SPI 0x%x: cannot put it back into the XDP map", sa->spi);
}

static int exec_spdadd(struct exec_env *env, const struct cmd *c, struct cmd_error *err)
{
	struct sa *sa = NULL;
	struct sp *sp;
	int e, made = 0;

	if (c->spd.action == SP_IPSEC && check_ipsec(env, c, &sa, err) < 0)
		return -1;
	sp = sp_new(&c->spd, sa);
	if (!sp)
		FAIL(err, c, CF_CMD, "out of memory");
	if (spd_tuple_full(env->spd, sp)) {
		sp_free(sp);
		FAIL(err, c, CF_SRC,
		     "too many different selector shapes (prefix lengths, protocol, ports): "
		     "at most %u per address family",
		     ESPER_MAX_TUPLES);
	}
	if (sa && c->spd.dir == SP_DIR_OUT && sad_reserve(env->sad) < 0) {	/* for undo */
		sp_free(sp);
		FAIL(err, c, CF_CMD, "out of memory");
	}
	if (sa && c->spd.dir == SP_DIR_OUT && (made = make_outbound(env, c, sa, err)) < 0) {
		sp_free(sp);
		return -1;
	}
	e = spd_add(env->spd, sp);
	if (e < 0) {
		sp_free(sp);
		if (made)
			undo_outbound(env, sa);
		FAIL(err, c, CF_CMD, "cannot add the policy to the SPD and the XDP maps: %s",
		     strerror(-e));
	}
	return 0;
}

/* --- getspi ----------------------------------------------------------------------------- */

static bool spi_free(struct exec_env *env, uint32_t spi, uint64_t now)
{
	return !sad_by_spi(env->sad, spi) &&
	       !spi_reserve_held(env->spis, spi, now, NULL, NULL);
}

/* A free SPI of [min, max]: from a random place on, the first one free. */
static int pick_spi(struct exec_env *env, const struct cmd_getspi *g, uint64_t now,
		    uint32_t *spi)
{
	uint64_t span = (uint64_t)g->max - g->min + 1, start = 0;
	uint64_t tries = span < (1u << 22) ? span : (1u << 22);	/* beyond every SA and hold */

	if (getrandom(&start, sizeof(start), 0) != sizeof(start))
		start = now * 0x9e3779b97f4a7c15ULL;
	start %= span;
	for (uint64_t i = 0; i < tries; i++) {
		uint32_t cand = (uint32_t)(g->min + (start + i) % span);

		if (spi_free(env, cand, now)) {
			*spi = cand;
			return 0;
		}
	}
	return -ENOSPC;
}

/* getspi: reserve an unused SPI for this session and print it (RFC 2367 2.3.3). */
static int exec_getspi(struct exec_env *env, const struct exec_caller *who,
		       const struct cmd *c, struct cmd_error *err)
{
	const struct cmd_getspi *g = &c->getspi;
	unsigned hold = env->getspi_hold_s ? env->getspi_hold_s : GETSPI_HOLD_DEFAULT;
	uint64_t now = clock_ms();
	char src[ADDR_STRLEN], dst[ADDR_STRLEN];
	uint32_t spi;
	int e;

	if (!env->spis && !(env->spis = spi_reserve_new()))
		FAIL(err, c, CF_CMD, "out of memory");
	spi_reserve_expire(env->spis, now);
	if (pick_spi(env, g, now, &spi) < 0)
		FAIL(err, c, g->min == 0x100 && g->max == UINT32_MAX ? CF_CMD : CF_RANGE,
		     "no free SPI in 0x%x-0x%x", g->min, g->max);
	e = spi_reserve_take(env->spis, spi, who->session, now + (uint64_t)hold * 1000, now);
	if (e == -ENOSPC)
		FAIL(err, c, CF_CMD, "too many SPIs reserved (%u): add SAs with them, or wait "
		     "%u s", SPI_RESERVE_MAX, hold);
	if (e)
		FAIL(err, c, CF_CMD, "cannot reserve an SPI: %s", strerror(-e));
	fprintf(who->out, "getspi spi=0x%08x src=%s dst=%s hold=%u\n", spi,
		addr_str(&g->src, src), addr_str(&g->dst, dst), hold);
	return 0;
}

/* --- housekeeping: lifetimes, reservations ------------------------------------------------ */

static unsigned expire_one(struct exec_env *env, struct sa *sa, uint64_t now,
			   event_emit_fn emit, void *arg)
{
	struct lifetime_use u = lifetime_use_of(sa, now);
	char line[EVENT_LINE_MAX];
	const char *by;
	struct sa_params limits = { .soft = sa->conf.soft, .hard = sa->conf.hard };
	enum lifetime_verdict v = lifetime_check(&limits, &u, sa->soft_reported, &by);

	if (v == LIFETIME_OK)
		return 0;
	event_format_expire(v == LIFETIME_HARD, sa, by, &u, line, sizeof(line));
	if (v == LIFETIME_SOFT)
		sa->soft_reported = true;
	else
		remove_sa(env, sa);
	emit(arg, line);
	return 1;
}

unsigned cmd_exec_housekeep(struct exec_env *env, uint64_t now_ms, unsigned max,
			    event_emit_fn emit, void *arg)
{
	size_t n = sad_timed_count(env->sad);
	unsigned events = 0;

	if (n > max)
		n = max;
	for (size_t i = 0; i < n; i++) {
		struct sa *sa = sad_timed_next(env->sad);

		if (!sa)
			break;
		events += expire_one(env, sa, now_ms, emit, arg);
	}
	if (env->spis)
		spi_reserve_expire(env->spis, now_ms);
	rcu_reclaim();
	return events;
}

void cmd_exec_fini(struct exec_env *env)
{
	spi_reserve_free(env->spis);
	env->spis = NULL;
}

/* --- dispatch -------------------------------------------------------------------------- */

bool cmd_is_read_only(enum cmd_kind kind)
{
	return kind == CMD_DUMP || kind == CMD_SPDDUMP || kind == CMD_SPIGRP ||
	       kind == CMD_STATS;
}

static void exec_stats(struct exec_env *env, FILE *out, enum stats_format fmt)
{
	struct stats_out o;

	stats_out_init(&o, out, fmt);
	cmd_stats_sad(env->sad, &o);
	if (env->stats_extra)
		env->stats_extra(&o, env->stats_arg);
	stats_out_finish(&o);
}

int cmd_exec_as(struct exec_env *env, const struct exec_caller *who, const struct cmd *c,
		struct cmd_error *err)
{
	int ret = 0;

	if (who->read_only && !cmd_is_read_only(c->kind))
		FAIL(err, c, CF_CMD, "this session is read-only: dump, spddump, spigrp and stats "
		     "only (the control socket allows more with --ctl-allow-write)");
	switch (c->kind) {
	case CMD_FLUSH: exec_flush(env); break;
	case CMD_SPDFLUSH: spd_flush(env->spd); break;
	case CMD_DUMP: cmd_dump_sad(env->sad, who->out); break;
	case CMD_SPDDUMP: cmd_dump_spd(env->spd, who->out); break;
	case CMD_SPIGRP: cmd_dump_spigrp(env->sad, who->out); break;
	case CMD_SPDDELETE: break;	/* accepted for setkey compatibility */
	case CMD_DELETE: ret = exec_delete(env, c, err); break;
	case CMD_ADD: ret = exec_add(env, who, c, err); break;
	case CMD_UPDATE: ret = exec_update(env, c, err); break;
	case CMD_SPDADD: ret = exec_spdadd(env, c, err); break;
	case CMD_STATS: exec_stats(env, who->out, c->stats); break;
	case CMD_GETSPI: ret = exec_getspi(env, who, c, err); break;
	}
	if (cmd_is_read_only(c->kind) || c->kind == CMD_GETSPI)
		fflush(who->out);
	rcu_reclaim();
	return ret;
}

int cmd_exec(struct exec_env *env, const struct cmd *c, struct cmd_error *err)
{
	struct exec_caller who = { .out = env->out };

	return cmd_exec_as(env, &who, c, err);
}

unsigned cmd_exec_stream(struct exec_env *env, struct cmd_reader *r)
{
	struct cmd_error err;
	struct cmd c;
	unsigned refused = 0;
	int n;

	while ((n = cmd_next(r, &c, &err)) != 0) {
		if (n > 0 && cmd_exec(env, &c, &err) == 0) {
			wipe(&c, sizeof(c));	/* it held key material */
			continue;
		}
		cmd_error_print(stderr, cmd_reader_source(r), &err);
		refused++;
	}
	wipe(&c, sizeof(c));
	return refused;
}

int cmd_exec_file(struct exec_env *env, const char *path)
{
	FILE *f = fopen(path, "r");
	struct cmd_reader *r;
	int refused;

	if (!f)
		return -errno;
	r = cmd_reader_new(f, path);
	if (!r) {
		fclose(f);
		return -ENOMEM;
	}
	refused = (int)cmd_exec_stream(env, r);
	cmd_reader_free(r);
	fclose(f);
	return refused;
}
