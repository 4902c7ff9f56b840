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
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/socket.h>

#include "cmd_exec.h"
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

static int check_add(struct exec_env *env, const struct cmd *c, struct cmd_error *err)
{
	const struct sa_params *a = &c->add;
	struct sa *other;
	uint64_t resume;
	int e;

	other = sad_by_spi(env->sad, a->spi);
	if (other)
		FAIL(err, c, CF_SPI, "SPI 0x%x is already used by the SA with UniqueID %u", a->spi,
		     other->uid);
	other = sad_by_uid(env->sad, a->uid);
	if (other)
		FAIL(err, c, CF_UID, "UniqueID %u is already used by the SA with SPI 0x%x", a->uid,
		     other->spi);
	if (a->alg != ESP_ALG_AES_GCM_16 && !crypto_gost_available())
		FAIL(err, c, CF_ALG,
		     "GOST transforms are not available: gost-engine (libengine-gost-openssl) "
		     "could not be loaded");
	e = sad_key_check(env->sad, a, &resume);
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
	return 0;
}

static int exec_add(struct exec_env *env, const struct cmd *c, struct cmd_error *err)
{
	const struct sa_mirror *m = env->sa_mirror;
	struct sa *sa;
	int e;

	if (check_add(env, c, err) < 0)
		return -1;
	sa = sa_new(&c->add, env->nthreads);
	if (!sa)
		FAIL(err, c, CF_ALG, "cannot key %s: %s", aead_cipher_name(c->add.cipher),
		     strerror(errno));
	if (sad_reserve(env->sad) < 0) {
		sa_free(sa);
		FAIL(err, c, CF_CMD, "out of memory");
	}
	if (m && (e = m->set_sa(m->ctx, sa)) < 0) {
		sa_free(sa);
		FAIL(err, c, CF_SPI, "cannot add SPI 0x%x to the XDP map: %s", c->add.spi,
		     strerror(-e));
	}
	e = sad_add(env->sad, sa);
	if (e < 0) {	/* cannot happen: checked and reserved above */
		if (m)
			m->del_sa(m->ctx, sa->spi);
		sa_free(sa);
		FAIL(err, c, CF_CMD, "cannot add the SA: %s", strerror(-e));
	}
	return 0;
}

static void remove_sa(struct exec_env *env, struct sa *sa)
{
	const struct sa_mirror *m = env->sa_mirror;

	spd_remove_sa(env->spd, sa);
	if (!sa_is_outbound(sa) && m && m->del_sa(m->ctx, sa->spi) < 0)
		log_warnx("could not remove SPI 0x%x from the XDP map", sa->spi);
	sad_remove(env->sad, sa);
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

/* --- spdadd ---------------------------------------------------------------------------- */

static int check_direction(const struct cmd *c, const struct sa *sa, struct cmd_error *err)
{
	const struct sp_params *s = &c->spd;
	bool inbound = (atomic_load(&((struct sa *)sa)->flags) & SA_INBOUND) ||
		       sa_counter(sa, SA_C_in_packets);

	if (s->dir == SP_DIR_OUT && !sa_is_outbound(sa) && inbound)
		FAIL(err, c, CF_POLICY_UID,
		     "the SA with UniqueID %u is inbound (an in policy named it, or it has "
		     "decrypted): SAs are unidirectional, an out policy needs an SA of its own",
		     s->uid);
	if (s->dir == SP_DIR_IN && sa_is_outbound(sa))
		FAIL(err, c, CF_POLICY_UID,
		     "the SA with UniqueID %u is outbound (an out policy names it): SAs are "
		     "unidirectional, an in policy needs an SA of its own",
		     s->uid);
	return 0;
}

static int check_ipsec(struct exec_env *env, const struct cmd *c, struct sa **sap,
		       struct cmd_error *err)
{
	const struct sp_params *s = &c->spd;
	struct sa *sa = sad_by_uid(env->sad, s->uid);
	uint8_t sa_family;

	if (!sa)
		FAIL(err, c, CF_POLICY_UID, "no SA with UniqueID %u", s->uid);
	sa_family = sa->src.family;
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
	if (sa_set_outbound(sa) < 0) {	/* it decrypted since check_direction: a race lost */
		if (m && m->set_sa(m->ctx, sa) < 0)
			log_warnx("SPI 0x%x: cannot put it back into the XDP map", sa->spi);
		FAIL(err, c, CF_POLICY_UID,
		     "the SA with UniqueID %u is inbound (it has decrypted): SAs are "
		     "unidirectional, an out policy needs an SA of its own",
		     sa->uid);
	}
	return 1;
}

/* The first out policy naming sa was refused after all: sa may decrypt again. */
static void undo_outbound(struct exec_env *env, struct sa *sa)
{
	const struct sa_mirror *m = env->sa_mirror;

	sa_unset_outbound(sa);
	if (m && m->set_sa(m->ctx, sa) < 0)
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

/* --- dispatch -------------------------------------------------------------------------- */

int cmd_exec(struct exec_env *env, const struct cmd *c, struct cmd_error *err)
{
	int ret = 0;

	switch (c->kind) {
	case CMD_FLUSH: exec_flush(env); break;
	case CMD_SPDFLUSH: spd_flush(env->spd); break;
	case CMD_DUMP: cmd_dump_sad(env->sad, env->out); break;
	case CMD_SPDDUMP: cmd_dump_spd(env->spd, env->out); break;
	case CMD_SPIGRP: cmd_dump_spigrp(env->sad, env->out); break;
	case CMD_SPDDELETE: break;	/* accepted for setkey compatibility */
	case CMD_DELETE: ret = exec_delete(env, c, err); break;
	case CMD_ADD: ret = exec_add(env, c, err); break;
	case CMD_SPDADD: ret = exec_spdadd(env, c, err); break;
	case CMD_STATS:
		cmd_dump_stats(env->sad, env->out);
		if (env->stats_extra)
			env->stats_extra(env->out, env->stats_arg);
		break;
	}
	if (c->kind == CMD_DUMP || c->kind == CMD_SPDDUMP || c->kind == CMD_SPIGRP ||
	    c->kind == CMD_STATS)
		fflush(env->out);
	rcu_reclaim();
	return ret;
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
