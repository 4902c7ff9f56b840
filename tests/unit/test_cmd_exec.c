// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_cmd_exec.c - the command executor (control/cmd_exec.c) driven through the parser:
 * command text on fmemopen streams, a fresh SAD/SPD, and fake SA and SPD mirrors that record
 * what the BPF maps would hold (checked against the SAD/SPD after every stream: the SA map
 * holds exactly the SAs that may decrypt, the SPD map every policy's key and the shadow
 * keys). Covers: every invalid command of cmd_invalid_cases.h and a table of semantic
 * errors (exact LINE:COL and message) each leaving dump, spddump and the maps
 * byte-identical; mirror failures; dump -> fresh instance -> dump round trips (every
 * algorithm and key length, ESN, tfc, seq also after traffic between two peers, replay, both
 * families and modes, every protocol, ports, directions, the actions ipsec, discard and
 * none); exhausted SAs; the dump, spigrp and stats formats; delete, flush, spdflush,
 * replacement by spdadd/spdupdate, spddelete; unidirectional SAs (an SA named by an out
 * policy is outbound for good, one named by an in policy can't be named by an out one);
 * keys (no two outbound SAs with one key, a key re-added only from where it stopped); the
 * SPD order as seen through commands, failing closed for unreadable selectors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <sys/socket.h>

#include "control/cmd_exec.h"
#include "cmd_invalid_cases.h"
#include "esp_fixture.h"
#include "gost_impls.h"
#include "lib/rcu.h"

#define SRC "<test>"
#define AT(prefix) ((unsigned)sizeof(prefix))	/* the column just after prefix */

#define KA20 "0xa54dca182530bb1d6d132cded6237b2ed91e3f72"
#define KB20 "0x1fcb1971174494d6493c9d5c3460be31201e69fe"
#define KC20 "0xdaa0eee8b9997f5c7c2999fdafe593253cd654af"
#define KD20 "0x6b1f3e2d5a4c7b9e8d0f1a2b3c4d5e6f70819203"
#define KF20 "0x0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c"	/* used by no fixture */
#define KF36 "0x1f2e3d4c5b6a79889faebdccdbeaf9081f2e3d4c5b6a79889faebdccdbeaf9081f2e3d4c"
#define KE20 "0x3c9e2a7f1b5d8e0c4a6f2d9b7e1c3a5f8d0b2e4c"
#define KG20 "0x2b7e151628aed2a6abf7158809cf4f3c762e7160"	/* esp-udp fixtures */
#define KG36 "0x603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4deadbeef"
#define KA36 "0x4dfad71427a0aeb3fee9232f8af2211f9ee491c5b10becb5563bfc1e6f93427ecbc8fe29"
#define KB36 "0x55e5cd8e46dc8ed4b7c2764d2a5a4d767706f85d8690024ad6bda3401be9c8cbccc935f6"
#define KC36 "0xcd1f61226ae15338ae1a34004d33ba0d246ac04c81b1baf23e3bf9eef5f79f2b4934af87"
#define KA44 "0xf5520b69b94b0d982e85bb55b672a872637acd7466fcb60e0e8ff18463b0e4b2" \
	"ba29703474f064ac68f700f5"
#define KB44 "0xb02b3dc666f45bdeaa2ccaedcd2b5157410e4dee4af2b34f430a073447de636c" \
	"0e806c957ba684d6431fb5ea"
#define KC44 "0x3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b" \
	"3c4d5e6f708192a3b4c5d6e7"
#define KD44 "0x7a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9" \
	"0a1b2c3d4e5f607182939495"
#define KE44 "0x91a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f80" \
	"91a2b3c4d5e6f70819202122"
#define KD36 "0x5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081"

/* --- fake BPF maps: sa_in, spd, tuple_lists ----------------------------------------------- */

#define MAP_MAX 4096

enum fail_op { FAIL_NONE, FAIL_SET_SA, FAIL_DEL_SA, FAIL_SET_ENTRY, FAIL_SET_TUPLES, FAIL_SET_NATT };
enum map_op { OP_SET_SA, OP_DEL_SA, OP_SET_ENTRY, OP_DEL_ENTRY, OP_SET_TUPLES, OP_MAX };

struct fake_maps {
	uint32_t sa_spi[MAP_MAX], sa_uid[MAP_MAX];
	unsigned n_sa;
	struct esper_spd_key key[MAP_MAX];
	struct esper_spd_val val[MAP_MAX];
	unsigned n_spd;
	struct esper_tuple_list lists[2];
	enum fail_op fail_op;	/* fail the fail_nth-th call of this kind from now (-EIO) */
	unsigned fail_nth;
	unsigned failed;	/* failures injected */
	unsigned calls[OP_MAX];
	char natt[MAP_MAX][ADDR_STRLEN + 8];	/* natt_dests: "ADDR[PORT]" */
	unsigned n_natt;
};

static int inject(struct fake_maps *m, enum fail_op op)
{
	if (m->fail_op != op || !m->fail_nth || --m->fail_nth)
		return 0;
	m->failed++;
	return -EIO;
}

static int sa_find(const struct fake_maps *m, uint32_t spi)
{
	for (unsigned i = 0; i < m->n_sa; i++)
		if (m->sa_spi[i] == spi)
			return (int)i;
	return -1;
}

static int fake_set_sa(void *ctx, const struct sa *sa, const struct sa_path *path)
{
	struct fake_maps *m = ctx;
	uint32_t spi = sa->spi, uid = sa->uid;

	(void)path;
	m->calls[OP_SET_SA]++;
	assert_false(sa_is_outbound(sa));	/* only SAs that may decrypt */
	if (inject(m, FAIL_SET_SA))
		return -EIO;
	if (sa_find(m, spi) >= 0) {	/* update: the same SPI, another path */
		m->sa_uid[sa_find(m, spi)] = uid;
		return 0;
	}
	assert_true(m->n_sa < MAP_MAX);
	m->sa_spi[m->n_sa] = spi;
	m->sa_uid[m->n_sa++] = uid;
	return 0;
}

static int fake_del_sa(void *ctx, uint32_t spi)
{
	struct fake_maps *m = ctx;
	int i = sa_find(m, spi);

	m->calls[OP_DEL_SA]++;
	if (inject(m, FAIL_DEL_SA))
		return -EIO;
	if (i < 0)
		return -ENOENT;
	m->sa_spi[i] = m->sa_spi[--m->n_sa];
	m->sa_uid[i] = m->sa_uid[m->n_sa];
	return 0;
}

static int natt_find(const struct fake_maps *m, const char *dest)
{
	for (unsigned i = 0; i < m->n_natt; i++)
		if (!strcmp(m->natt[i], dest))
			return (int)i;
	return -1;
}

static int fake_set_natt_dest(void *ctx, const struct sa_path *path, bool used)
{
	struct fake_maps *m = ctx;
	char a[ADDR_STRLEN], dest[ADDR_STRLEN + 8];
	int i;

	snprintf(dest, sizeof(dest), "%s[%u]", addr_str(&path->dst, a), ntohs(path->dport));
	i = natt_find(m, dest);
	assert_int_equal(i >= 0, !used);	/* transitions only */
	if (used && inject(m, FAIL_SET_NATT))
		return -EIO;
	if (!used) {
		memmove(m->natt[i], m->natt[--m->n_natt], sizeof(m->natt[i]));
		return 0;
	}
	assert_true(m->n_natt < MAP_MAX);
	strcpy(m->natt[m->n_natt++], dest);
	return 0;
}

static int key_find(const struct fake_maps *m, const struct esper_spd_key *k)
{
	for (unsigned i = 0; i < m->n_spd; i++)
		if (!memcmp(&m->key[i], k, sizeof(*k)))
			return (int)i;
	return -1;
}

static int fake_set_entry(void *ctx, const struct esper_spd_key *k, const struct esper_spd_val *v)
{
	struct fake_maps *m = ctx;
	int i = key_find(m, k);

	m->calls[OP_SET_ENTRY]++;
	if (inject(m, FAIL_SET_ENTRY))
		return -EIO;
	if (i < 0) {
		assert_true(m->n_spd < MAP_MAX);
		i = (int)m->n_spd++;
		m->key[i] = *k;
	}
	m->val[i] = *v;
	return 0;
}

static int fake_del_entry(void *ctx, const struct esper_spd_key *k)
{
	struct fake_maps *m = ctx;
	int i = key_find(m, k);

	m->calls[OP_DEL_ENTRY]++;
	if (i < 0)
		return -ENOENT;
	m->key[i] = m->key[--m->n_spd];
	m->val[i] = m->val[m->n_spd];
	return 0;
}

static int fake_set_tuples(void *ctx, unsigned idx, const struct esper_tuple_list *l)
{
	struct fake_maps *m = ctx;

	m->calls[OP_SET_TUPLES]++;
	if (inject(m, FAIL_SET_TUPLES))
		return -EIO;
	assert_true(idx < 2);
	m->lists[idx] = *l;
	return 0;
}

/*
 * What the XDP program would act on for a packet: a policy id (0: none) and its direction;
 * *opaque: a shadow key was hit ahead of it (a packet without readable ports or protocol,
 * probed by its shadow key where a tuple needs them; esper_abi.h, "Failing closed").
 */
static uint32_t fake_lookup(const struct fake_maps *m, const struct pkt_info *pi, bool *out,
			    bool *opaque)
{
	const struct esper_tuple_list *l = &m->lists[pi->family == AF_INET6];

	*opaque = false;
	for (unsigned t = 0; t < l->count; t++) {
		struct esper_spd_key k;
		int i;

		if (!spd_packet_key(pi, &l->t[t], &k)) {
			if (spd_packet_opaque(pi) && !*opaque) {
				spd_shadow_key(pi, &l->t[t], &k);
				*opaque = key_find(m, &k) >= 0;
			}
			continue;
		}
		if ((i = key_find(m, &k)) < 0)
			continue;
		*out = m->val[i].out != ESPER_ACT_NONE;
		return *out ? m->val[i].out_id : m->val[i].in_id;
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The maps as text, sorted: equal strings mean equal maps. */
static char *maps_str(const struct fake_maps *m)
{
	char **lines = calloc(m->n_sa + m->n_spd + 2, sizeof(*lines)), *buf;
	unsigned n = 0;
	size_t len;
	FILE *f;

	for (unsigned i = 0; i < m->n_sa; i++)
		assert_true(asprintf(&lines[n++], "sa_in %08x uid %u\n", m->sa_spi[i],
				     m->sa_uid[i]) > 0);
	for (unsigned i = 0; i < m->n_spd; i++) {
		char hex[2 * sizeof(m->key[0]) + 1];

		for (size_t b = 0; b < sizeof(m->key[0]); b++)
			sprintf(hex + 2 * b, "%02x", ((const uint8_t *)&m->key[i])[b]);
		assert_true(asprintf(&lines[n++], "spd %s actions %u/%u out %u in %u\n", hex,
				     m->val[i].out, m->val[i].in, m->val[i].out_id,
				     m->val[i].in_id) > 0);
	}
	qsort(lines, n, sizeof(*lines), cmp_str);
	f = open_memstream(&buf, &len);
	for (unsigned i = 0; i < n; i++) {
		fputs(lines[i], f);
		free(lines[i]);
	}
	{
		char *dests[MAP_MAX];

		for (unsigned i = 0; i < m->n_natt; i++)
			dests[i] = (char *)m->natt[i];
		qsort(dests, m->n_natt, sizeof(dests[0]), cmp_str);
		for (unsigned i = 0; i < m->n_natt; i++)
			fprintf(f, "natt_dest %s\n", dests[i]);
	}
	for (unsigned fam = 0; fam < 2; fam++) {
		fprintf(f, "tuples[%u] %u:", fam, m->lists[fam].count);
		for (unsigned t = 0; t < m->lists[fam].count; t++)
			fprintf(f, " %u/%u/%u", m->lists[fam].t[t].src_plen,
				m->lists[fam].t[t].dst_plen, m->lists[fam].t[t].flags);
		fputc('\n', f);
	}
	fclose(f);
	free(lines);
	return buf;
}

/* --- an instance: SAD, SPD, maps ----------------------------------------------------------- */

struct fx {
	struct sad *sad;
	struct spd *spd;
	struct fake_maps *maps;
	struct sa_mirror sam;
	struct exec_env env;
	unsigned stats_extra_calls;
};

static void stats_extra(struct stats_out *out, void *arg)
{
	struct fx *f = arg;

	f->stats_extra_calls++;
	fprintf(out->f, "workers: none\n");
}

static struct fx *fx_new(void)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct spd_mirror sm = { fake_set_entry, fake_del_entry, fake_set_tuples, NULL };

	assert_non_null(f);
	f->sad = sad_new();
	f->spd = spd_new();
	f->maps = calloc(1, sizeof(*f->maps));
	assert_true(f->sad && f->spd && f->maps);
	sm.ctx = f->maps;
	spd_set_mirror(f->spd, &sm);
	f->sam = (struct sa_mirror){ fake_set_sa, fake_set_sa, fake_del_sa, fake_set_natt_dest,
				     f->maps };
	f->env = (struct exec_env){ .sad = f->sad, .spd = f->spd, .nthreads = 1,
				    .sa_mirror = &f->sam, .stats_extra = stats_extra,
				    .stats_arg = f };
	return f;
}

static void fx_free(struct fx *f)
{
	cmd_exec_fini(&f->env);
	spd_flush(f->spd);
	sad_flush(f->sad);
	rcu_barrier();
	spd_free(f->spd);
	sad_free(f->sad);
	free(f->maps);
	free(f);
}

/* The shadow keys sp leaves (0, 1 or 2): its key without ports, and without protocol. */
static unsigned shadows_of(const struct sp *sp, struct esper_spd_key k[2])
{
	unsigned n = 0;

	if (sp->action == SP_BYPASS)
		return 0;
	if (sp->key.flags & (ESPER_T_SPORT | ESPER_T_DPORT)) {
		k[n] = sp->key;
		k[n].flags |= ESPER_K_SHADOW;
		k[n].sport = k[n].dport = 0;
		n++;
	}
	if (sp->key.flags & ESPER_T_PROTO) {
		k[n] = sp->key;
		k[n].flags |= ESPER_K_SHADOW | ESPER_K_NOPROTO;
		k[n].proto = 0;
		k[n].sport = k[n].dport = 0;
		n++;
	}
	return n;
}

static bool leaves_shadow(const struct fx *f, const struct esper_spd_key *k)
{
	for (const struct sp *sp = spd_first(f->spd); sp; sp = spd_next(f->spd, sp)) {
		struct esper_spd_key sk[2];
		unsigned n = shadows_of(sp, sk);

		for (unsigned j = 0; j < n; j++)
			if (!memcmp(&sk[j], k, sizeof(*k)))
				return true;
	}
	return false;
}

/* The SAD, the SPD and the maps agree: every SA that may decrypt and every policy is
 * mirrored, with the shadow keys of the policies that need them, nothing else is; SAs are
 * unidirectional and know their inbound policies. */
static void check_mirror(const struct fx *f)
{
	const struct fake_maps *m = f->maps;
	unsigned may_decrypt = 0;

	for (const struct sa *sa = sad_first(f->sad); sa; sa = sad_next(f->sad, sa)) {
		const struct sa_sels *sels = atomic_load(&((struct sa *)sa)->in_sels);
		int i = sa_find(m, sa->spi);
		unsigned nsps = 0, n_in = 0;
		const struct sp *sp;

		/* only the SAs that may decrypt are in the XDP map (no out policy named them) */
		assert_int_equal(i >= 0, !sa_is_outbound(sa));
		if (i >= 0) {
			assert_int_equal(m->sa_uid[i], sa->uid);
			may_decrypt++;
		}
		assert_ptr_equal(sad_by_spi(f->sad, sa->spi), sa);
		assert_ptr_equal(sad_by_uid(f->sad, sa->uid), sa);
		list_for_each(sp, &sa->sps, sa_node) {
			assert_ptr_equal(sp->sa, sa);
			assert_int_equal(sp->action, SP_IPSEC);
			/* an out policy's SA is outbound; an outbound SA has no in policy */
			assert_int_equal(sp->dir == SP_DIR_OUT, sa_is_outbound(sa));
			n_in += sp->dir == SP_DIR_IN;
			nsps++;
		}
		assert_int_equal(nsps, sa->n_tunnel_sps + sa->n_transport_sps);
		assert_int_equal(n_in, sa->n_in_sps);
		/* its inbound selectors: its in policies', and after a rekey (its policy
		 * replaced by one naming another SA) still those it had */
		assert_true(sels ? sels->n >= n_in : n_in == 0);
	}
	assert_int_equal(m->n_sa, may_decrypt);
	for (const struct sp *sp = spd_first(f->spd); sp; sp = spd_next(f->spd, sp)) {
		int i = key_find(m, &sp->key);
		bool out = sp->dir == SP_DIR_OUT;
		struct esper_spd_key sk[2];
		unsigned n_shadows;

		assert_true(i >= 0);
		assert_int_equal(out ? m->val[i].out : m->val[i].in, ESPER_ACT_IPSEC + sp->action);
		assert_int_equal(out ? m->val[i].out_id : m->val[i].in_id, sp->id);
		assert_ptr_equal(spd_by_id(f->spd, sp->id), sp);
		if (sp->action == SP_IPSEC)
			assert_ptr_equal(sad_by_uid(f->sad, sp_params(sp).uid), sp->sa);
		else
			assert_null(sp->sa);
		n_shadows = shadows_of(sp, sk);
		for (unsigned j = 0; j < n_shadows; j++)	/* its shadow keys are there */
			assert_true(key_find(m, &sk[j]) >= 0);
	}
	for (unsigned i = 0; i < m->n_spd; i++) {
		const struct esper_spd_val *v = &m->val[i];
		const struct sp *sp;

		if (m->key[i].flags & ESPER_K_SHADOW) {	/* a shadow key: value all zero */
			assert_true(!v->out && !v->in && !v->out_id && !v->in_id);
			assert_true(leaves_shadow(f, &m->key[i]));	/* of a policy there */
			continue;
		}
		assert_false(m->key[i].flags & ESPER_K_NOPROTO);
		assert_true(v->out || v->in);
		if (v->out) {
			sp = spd_by_id(f->spd, v->out_id);
			assert_true(sp && sp->dir == SP_DIR_OUT);
			assert_memory_equal(&sp->key, &m->key[i], sizeof(sp->key));
		}
		if (v->in) {
			sp = spd_by_id(f->spd, v->in_id);
			assert_true(sp && sp->dir == SP_DIR_IN);
			assert_memory_equal(&sp->key, &m->key[i], sizeof(sp->key));
		}
	}
	for (unsigned fam = 0; fam < 2; fam++) {
		const struct esper_tuple_list *l = spd_tuples(f->spd, fam);

		assert_int_equal(m->lists[fam].count, l->count);
		assert_memory_equal(m->lists[fam].t, l->t, l->count * sizeof(l->t[0]));
		for (unsigned t = 0; t < l->count; t++) {
			bool used = false;

			if (t)
				assert_true(spd_tuple_cmp(&l->t[t - 1], &l->t[t]) < 0);
			for (unsigned i = 0; i < m->n_spd && !used; i++)
				used = m->key[i].family == (fam ? ESPER_AF_INET6 : ESPER_AF_INET) &&
				       m->key[i].src_plen == l->t[t].src_plen &&
				       m->key[i].dst_plen == l->t[t].dst_plen &&
				       m->key[i].flags == l->t[t].flags;
			assert_true(used);	/* no tuple left listed without a key */
		}
	}
}

/* Run every command of text; outputs and error lines into *out and *errs (NULL: dropped).
 * Returns the number of refused commands. */
static unsigned run(struct fx *f, const char *text, char **out, char **errs)
{
	FILE *in = fmemopen((void *)text, strlen(text), "r");
	char *obuf, *ebuf;
	size_t olen, elen;
	FILE *o = open_memstream(&obuf, &olen), *e = open_memstream(&ebuf, &elen);
	struct cmd_reader *r;
	struct cmd_error err;
	struct cmd c;
	unsigned refused = 0;
	int n;

	assert_true(in && o && e);
	r = cmd_reader_new(in, SRC);
	assert_non_null(r);
	f->env.out = o;
	while ((n = cmd_next(r, &c, &err)) != 0) {
		if (n > 0 && cmd_exec(&f->env, &c, &err) == 0)
			continue;
		cmd_error_print(e, cmd_reader_source(r), &err);
		refused++;
	}
	f->env.out = NULL;
	cmd_reader_free(r);
	fclose(in);
	fclose(o);
	fclose(e);
	check_mirror(f);
	if (out)
		*out = obuf;
	else
		free(obuf);
	if (errs)
		*errs = ebuf;
	else
		free(ebuf);
	return refused;
}

/* Run text, which must be accepted whole; returns its output. */
static char *apply(struct fx *f, const char *text)
{
	char *out, *errs;

	if (run(f, text, &out, &errs))
		fail_msg("refused:\n%s", errs);
	free(errs);
	return out;
}

static void apply_quiet(struct fx *f, const char *text)
{
	free(apply(f, text));
}

/* dump and spddump, as the commands print them. */
static char *dumps(struct fx *f)
{
	return apply(f, "dump ;\nspddump ;\n");
}

/* Everything observable: both listings and the maps. */
static char *snapshot(struct fx *f)
{
	char *d = dumps(f), *m = maps_str(f->maps), *s;

	assert_true(asprintf(&s, "%s%s", d, m) > 0);
	free(d);
	free(m);
	return s;
}

/* text without its '#' comment lines */
static char *strip_comments(const char *text)
{
	char *buf;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p + 1) : strlen(p);

		if (*p != '#')
			fwrite(p, 1, n, f);
		p += n;
	}
	fclose(f);
	return buf;
}

/* errs is exactly one line "<test>:LINE:COL: error: ...MSG...". */
static bool error_is(const char *name, const char *errs, unsigned line, unsigned col,
		     const char *msg)
{
	char prefix[64];
	size_t plen = (size_t)snprintf(prefix, sizeof(prefix), SRC ":%u:%u: error: ", line, col);
	const char *nl = strchr(errs, '\n');

	if (!strncmp(errs, prefix, plen) && strstr(errs + plen, msg) && nl && !nl[1])
		return true;
	print_error("%s:\n  got      %s  expected %s...%s...\n", name, errs, prefix, msg);
	return false;
}

/* --- traffic between instances ------------------------------------------------------------ */

/* A policy of sa for its packets: a tunnel one if it has one. */
static struct sp *tunnel_sp(struct sa *sa)
{
	struct sp *sp;

	list_for_each(sp, &sa->sps, sa_node)
		if (sp->mode == SP_MODE_TUNNEL)
			return sp;
	return list_first(&sa->sps, struct sp, sa_node);
}

/* n packets from tx's SA spi, each received by rx's SA spi (NULL: none): outbound at the
 * sender, inbound at the receiver. */
static void traffic(struct fx *tx, struct fx *rx, uint32_t spi, unsigned n)
{
	struct sa *sa = sad_by_spi(tx->sad, spi);
	struct sp *sp = tunnel_sp(sa);
	uint8_t payload[100] = { 1, 2, 3 };

	assert_non_null(sp);
	assert_true(sa_is_outbound(sa) && sp->dir == SP_DIR_OUT);
	if (rx)
		assert_false(sa_is_outbound(sad_by_spi(rx->sad, spi)));
	for (unsigned i = 0; i < n; i++) {
		struct fx_buf fb;

		fx_packet(&fb, sp_params(sp).mode == SP_MODE_TUNNEL ? AF_INET : sa->family, 17,
			  payload, sizeof(payload));
		assert_int_equal(esp_out(sp, &fb.b, 0, 0, 0), 0);
		if (rx)
			assert_int_equal(fx_in(sad_by_spi(rx->sad, spi), &fb.b), 0);
	}
}

/* --- a rich configuration ------------------------------------------------------------------ */

/* Both families, tunnel (4in4, 6in6, 4in6, 6in4) and transport, every protocol, ports on
 * either side, -P in/out and none, the actions ipsec, discard and none, tfc:, seq: (32 and
 * 64 bits, with and without 0x), replay: (0, 32, 65536), SPI 0x100 and 0xffffffff, UniqueID
 * 4294967295, CRLF and ';'. SAs are unidirectional: 1, 3, 5, 6 and 7 outbound (each with a
 * key of its own), 2 and 4294967295 inbound. */
static const char rich_aes[] =
	"# a rich configuration\n"
	"add 192.0.2.1 192.0.2.2 esp 0x1001 -u 1 -E aes-gcm-16 " KA20 " ;\n"
	"add 192.0.2.2 192.0.2.1 esp 0x1002 -u 2 -E aes-gcm-16-esn " KA36
	" seq:0x100000000 replay:65536 ;\n"
	"add 2001:db8::1 2001:db8::2 esp 0x100 -u 3 -E aes-gcm-16 " KB36 " tfc:1400 replay:0 ;\r\n"
	"add 2001:db8::2 2001:db8::1 esp 0xffffffff -u 4294967295 -E aes-gcm-16-esn " KB20
	" replay:32 seq:0xfffffffffffffff0 ;\n"
	"add 192.0.2.1 192.0.2.3 esp 0x1005 -u 5 -E aes-gcm-16 " KC20 " tfc:1 seq:0xfffffff0 ;\n"
	"add 192.0.2.1 192.0.2.4 esp 0x1006 -u 6 -E aes-gcm-16-esn " KC36 " seq:fffffffe;\n"
	"add 2001:db8::1 2001:db8::2 esp 0x1007 -u 7 -E aes-gcm-16 " KD20 " ;\n"
	"spdadd 198.51.100.0/24 203.0.113.0/24 any -P out ipsec "
	"esp/tunnel/192.0.2.1-192.0.2.2/unique:1 ;\n"
	"spdadd 203.0.113.0/24 198.51.100.0/24 any -P in ipsec "
	"esp/tunnel/192.0.2.2-192.0.2.1/unique:2 ;\n"
	"spdadd 198.51.100.7 203.0.113.9[443] tcp ipsec esp/transport//unique:1 ;\n"
	"spdadd 198.51.100.0/25[53] 203.0.113.0/24 udp -P in ipsec esp/transport//unique:2 ;\n"
	"spdadd 198.51.100.0/24[1] 203.0.113.0/24[65535] udp -P out ipsec "
	"esp/transport//unique:1 ;\n"
	"spdadd 0.0.0.0/0 0.0.0.0/0 icmp -P out ipsec esp/tunnel/192.0.2.1-192.0.2.3/unique:5 ;\n"
	"spdadd 2001:db8:1::/48 2001:db8:2::/48 any ipsec "
	"esp/tunnel/2001:db8::1-2001:db8::2/unique:3 ;\n"
	"spdadd 2001:db8:2::/48 2001:db8:1::/48 icmp6 -P in ipsec "
	"esp/transport//unique:4294967295 ;\n"
	"spdadd 2001:db8:1::5 2001:db8:2::/64[22] tcp -P out ipsec "
	"esp/transport//unique:7 ;\n"
	"spdadd 10.1.0.0/16 10.2.0.0/16 any -P out ipsec "
	"esp/tunnel/2001:db8::1-2001:db8::2/unique:3 ;\n"
	"spdadd ::/0 ::/0 udp -P in ipsec esp/tunnel/192.0.2.2-192.0.2.1/unique:2 ;\n"
	"spdadd 198.51.100.0/24 203.0.113.0/24 any -P in ipsec "
	"esp/tunnel/192.0.2.2-192.0.2.1/unique:2 ;\n"
	"spdadd 2001:db8:3::/64 2001:db8:4::/64 any -P out ipsec "
	"esp/tunnel/192.0.2.1-192.0.2.4/unique:6 ;\n"
	"spdadd 198.51.100.0/24 192.0.2.0/24 any -P out discard ;\n"
	"spdadd 192.0.2.0/24 198.51.100.0/28[22] tcp -P in none ;\n"
	"spdadd 2001:db8:ff::/48[53] 2001:db8:1::/48 udp -P in discard;\n"
	"spdadd 2001:db8:1::/48 2001:db8:ff::/48 icmp6 none ;\n"
	"add 192.0.2.2 192.0.2.1 esp-udp 0x1008 -u 8 -E aes-gcm-16 " KG20 " ;\n"
	"add 2001:db8::1[4500] 2001:db8::9[31337] esp-udp 0x1009 -u 9 -E aes-gcm-16-esn " KG36
	" ;\n"
	"spdadd 203.0.113.0/24 10.9.0.0/16 any -P in ipsec esp/tunnel/192.0.2.2-192.0.2.1/unique:8 ;\n"
	"spdadd 2001:db8:19::/48 2001:db8:1a::/48 any -P out ipsec "
	"esp/tunnel/2001:db8::1-2001:db8::9/unique:9 ;\n";

/* Every GOST transform and key length: Kuznyechik (44) and Magma (36), with and without
 * MAC-only and ESN. 12 and 14 inbound, the others outbound. */
static const char rich_gost[] =
	"add 192.0.2.1 192.0.2.2 esp 0x2001 -u 11 -E gost " KA44 " ;\n"
	"add 192.0.2.2 192.0.2.1 esp 0x2002 -u 12 -E gost-esn " KC36 " seq:1234 replay:128 ;\n"
	"add 2001:db8::1 2001:db8::2 esp 0x2003 -u 13 -E gost-mac " KB44 " tfc:64 ;\n"
	"add 2001:db8::2 2001:db8::1 esp 0x2004 -u 14 -E gost-mac-esn " KB36
	" seq:0x00000001fffffff0 ;\n"
	"add 192.0.2.1 192.0.2.2 esp 0x2005 -u 15 -E gost " KA36 " ;\n"
	"add 2001:db8::1 2001:db8::2 esp 0x2006 -u 16 -E gost-mac " KD36 " ;\n"
	"add 192.0.2.1 192.0.2.2 esp 0x2007 -u 17 -E gost-esn " KD44 " ;\n"
	"add 2001:db8::1 2001:db8::2 esp 0x2008 -u 18 -E gost-mac-esn " KE44 " ;\n"
	"spdadd 198.51.101.0/24 203.0.114.0/24 any ipsec "
	"esp/tunnel/192.0.2.1-192.0.2.2/unique:11 ;\n"
	"spdadd 203.0.114.0/24 198.51.101.0/24 tcp -P in ipsec "
	"esp/tunnel/192.0.2.2-192.0.2.1/unique:12 ;\n"
	"spdadd 2001:db8:5::/48 2001:db8:6::/48 any ipsec "
	"esp/tunnel/2001:db8::1-2001:db8::2/unique:13 ;\n"
	"spdadd 2001:db8:6::/48[any] 2001:db8:5::/48[443] tcp -P in ipsec "
	"esp/transport//unique:14 ;\n"
	"spdadd 198.51.101.9 203.0.114.9 udp ipsec esp/transport//unique:15 ;\n"
	"spdadd 2001:db8:7::/48 2001:db8:8::/48 udp ipsec esp/transport//unique:16 ;\n"
	"spdadd 198.51.102.0/24 203.0.115.0/24 any ipsec "
	"esp/tunnel/192.0.2.1-192.0.2.2/unique:17 ;\n"
	"spdadd 2001:db8:9::/48 2001:db8:a::/48 any ipsec "
	"esp/tunnel/2001:db8::1-2001:db8::2/unique:18 ;\n";

/* The same configuration seen from the peer: every policy in the other direction, so
 * that the peer's inbound SAs are this side's outbound ones and the other way round (the
 * policies' selectors and tunnel endpoints are left as they are: nothing checks them
 * against the SAs' direction). */
static char *peer_of(const char *text)
{
	char *buf;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p + 1) : strlen(p);
		const char *out = memmem(p, n, " -P out ", 8), *in = memmem(p, n, " -P in ", 7);
		const char *act = memmem(p, n, " ipsec ", 7);

		act = act ? act : memmem(p, n, " discard", 8);
		act = act ? act : memmem(p, n, " none", 5);
		if (strncmp(p, "spdadd ", 7) && strncmp(p, "spdupdate ", 10)) {
			fwrite(p, 1, n, f);
		} else if (out) {
			fwrite(p, 1, (size_t)(out - p), f);
			fputs(" -P in ", f);
			fwrite(out + 8, 1, n - (size_t)(out + 8 - p), f);
		} else if (in) {
			fwrite(p, 1, (size_t)(in - p), f);
			fputs(" -P out ", f);
			fwrite(in + 7, 1, n - (size_t)(in + 7 - p), f);
		} else {	/* without -P: out */
			assert_non_null(act);
			fwrite(p, 1, (size_t)(act - p), f);
			fputs(" -P in", f);
			fwrite(act, 1, n - (size_t)(act - p), f);
		}
		p += n;
	}
	fclose(f);
	return buf;
}

static void apply_peer(struct fx *f, const char *text)
{
	char *peer = peer_of(text);

	apply_quiet(f, peer);
	free(peer);
}

static struct fx *fx_rich(void)
{
	struct fx *f = fx_new();

	apply_quiet(f, rich_aes);
	gost_needed();
	apply_quiet(f, rich_gost);
	return f;
}

/* fx_rich's peer: what fx_rich sends it receives, and the other way round. */
static struct fx *fx_rich_peer(void)
{
	struct fx *f = fx_new();

	apply_peer(f, rich_aes);
	gost_needed();
	apply_peer(f, rich_gost);
	return f;
}

/* --- invalid commands: refused by the parser, nothing changes ----------------------------- */

static bool ends_with_semicolon(const char *s)
{
	size_t n = strlen(s);

	while (n && strchr(" \t\r\n", s[n - 1]))
		n--;
	return n && s[n - 1] == ';';
}

static void test_invalid_changes_nothing(void **state)
{
	struct fx *f = fx_rich();
	char *before = snapshot(f), *sad_dump = apply(f, "dump ;\n");
	unsigned failed = 0;

	(void)state;
	for (size_t i = 0; i < CMD_INVALID_CASES_N; i++) {
		const struct cmd_invalid_case *ic = &cmd_invalid_cases[i];
		bool more = ends_with_semicolon(ic->input);
		char *text, *out, *errs, *after;
		unsigned refused;

		/* A complete bad command is followed by a good one, which must still run. */
		assert_true(asprintf(&text, "%s%s", ic->input, more ? "\ndump ;\n" : "") > 0);
		refused = run(f, text, &out, &errs);
		after = snapshot(f);
		if (refused != 1 || !error_is(ic->input, errs, ic->line, ic->col, ic->msg) ||
		    strcmp(out, more ? sad_dump : "") || strcmp(before, after)) {
			print_error("case %zu (%.60s): refused %u, output or state changed\n", i,
				    ic->input, refused);
			failed++;
		}
		free(text);
		free(out);
		free(errs);
		free(after);
	}
	printf("%zu invalid commands refused, state unchanged\n", CMD_INVALID_CASES_N);
	if (failed)
		fail_msg("%u of %zu invalid cases failed", failed, CMD_INVALID_CASES_N);
	free(before);
	free(sad_dump);
	fx_free(f);
}

/* --- semantic errors: refused by the executor, nothing changes ---------------------------- */

/* Fill a family's tuple list up to ESPER_MAX_TUPLES with shapes (s, d, no proto), s-major
 * from 0/0, which never reaches /32 /32 (IPv4) or /128 /128 (IPv6); out policies with the
 * outbound SAs 1 (IPv4) and 7 (IPv6). */
static void fill_tuples(struct fx *f, unsigned fam)
{
	unsigned max = fam ? 128 : 32;

	for (unsigned s = 0; s <= max; s++) {
		for (unsigned d = 0; d <= max; d++) {
			char *cmd;

			if (spd_tuples(f->spd, fam)->count == ESPER_MAX_TUPLES)
				return;
			assert_true(asprintf(&cmd,
					     fam ? "spdadd ::/%u ::/%u any ipsec "
						   "esp/transport//unique:7 ;\n"
						 : "spdadd 0.0.0.0/%u 0.0.0.0/%u any ipsec "
						   "esp/transport//unique:1 ;\n",
					     s, d) > 0);
			apply_quiet(f, cmd);
			free(cmd);
		}
	}
}

static void fill4(struct fx *f)
{
	fill_tuples(f, 0);
}

static void fill6(struct fx *f)
{
	fill_tuples(f, 1);
}

struct sem_case {
	const char *name;
	void (*prep)(struct fx *f);	/* more state before the snapshot, or NULL */
	enum fail_op fail;		/* the mirror call that fails (its first call) */
	const char *input;
	unsigned line, col;
	const char *msg;
};

#define ADDX	"add 10.9.9.1 10.9.9.2 esp "
#define ADD6X	"add 2001:db8::9 2001:db8::a esp "
#define SPDX	"spdadd 10.9.0.0/16 10.8.0.0/16 any -P out ipsec "
#define SPD6X	"spdadd 2001:db8:f::/48 2001:db8:e::/48 any ipsec "
#define TUN6	"esp/tunnel/2001:db8::1-2001:db8::2/"
#define TUN4	"esp/tunnel/192.0.2.1-192.0.2.2/"
#define TOOMANY	"too many different selector shapes (prefix lengths, protocol, ports): " \
		"at most 64 per address family"
#define MAPFAIL	"cannot add the policy to the SPD and the XDP maps: Input/output error"

static void spdflush(struct fx *f)
{
	apply_quiet(f, "spdflush ;\n");
}

/* SA 33 with the key of the outbound SA 1: it may be added, not made outbound. */


/* The outbound SA 5 (key KC20) goes, having sent nothing: its key resumes at its seq:. */
static void delete_sa5(struct fx *f)
{
	apply_quiet(f, "delete 0.0.0.0 0.0.0.0 esp 0x1005 ;\n");
}

/* An outbound SA (key KE20) sends 2^64-1, its last number, and goes. */
static void delete_sa_exhausted(struct fx *f)
{
	apply_quiet(f, "add 192.0.2.1 192.0.2.2 esp 0x3007 -u 37 -E aes-gcm-16-esn " KE20
		       " seq:0xffffffffffffffff ;\n"
		       "spdadd 10.7.0.0/16 10.6.0.0/16 any -P out ipsec " TUN4 "unique:37 ;\n");
	traffic(f, NULL, 0x3007, 1);
	apply_quiet(f, "delete 0.0.0.0 0.0.0.0 esp 0x3007 ;\n");
}

/* SA 36, a key of its own, no policy: it may decrypt. */
static void add_fresh_sa(struct fx *f)
{
	apply_quiet(f, "add 10.9.9.1 10.9.9.2 esp 0x3006 -u 36 -E aes-gcm-16 " KE20 " ;\n");
}

static const struct sem_case sem_cases[] = {
	/* add: SPI and UniqueID are unique */
	{ "duplicate SPI", NULL, FAIL_NONE, ADDX "0x1001 -u 99 -E aes-gcm-16 " KA20 " ;", 1,
	  AT(ADDX), "SPI 0x1001 is already used by the SA with UniqueID 1" },
	{ "duplicate SPI, IPv6, leading zeros", NULL, FAIL_NONE,
	  ADD6X "0x00001002 -u 99 -E aes-gcm-16 " KA20 " ;", 1, AT(ADD6X),
	  "SPI 0x1002 is already used by the SA with UniqueID 2" },
	{ "duplicate SPI 0xFFFFFFFF", NULL, FAIL_NONE,
	  ADDX "0xFFFFFFFF -u 99 -E aes-gcm-16-esn " KA36 " seq:0x5 ;", 1, AT(ADDX),
	  "SPI 0xffffffff is already used by the SA with UniqueID 4294967295" },
	{ "duplicate SPI 0x100, on line 4", NULL, FAIL_NONE,
	  "# comment\n\nadd 10.9.9.1\n  10.9.9.2 esp 0x100 -u 99 -E aes-gcm-16 " KA20 " ;\n", 4,
	  AT("  10.9.9.2 esp "), "SPI 0x100 is already used by the SA with UniqueID 3" },
	{ "duplicate UniqueID", NULL, FAIL_NONE, ADDX "0x9999 -u 1 -E aes-gcm-16 " KA20 " ;", 1,
	  AT(ADDX "0x9999 -u "), "UniqueID 1 is already used by the SA with SPI 0x1001" },
	{ "duplicate UniqueID 4294967295", NULL, FAIL_NONE,
	  ADD6X "0x9999 -u 4294967295 -E aes-gcm-16 " KA36 " tfc:10 ;", 1,
	  AT(ADD6X "0x9999 -u "),
	  "UniqueID 4294967295 is already used by the SA with SPI 0xffffffff" },
	{ "duplicate UniqueID with options", NULL, FAIL_NONE,
	  ADDX "0x9999 -u 5 -E aes-gcm-16-esn " KA36 " seq:0x5 replay:64 ;", 1,
	  AT(ADDX "0x9999 -u "), "UniqueID 5 is already used by the SA with SPI 0x1005" },
	{ "duplicate SPI and UniqueID: the SPI first", NULL, FAIL_NONE,
	  ADDX "0x1001 -u 2 -E aes-gcm-16 " KA20 " ;", 1, AT(ADDX),
	  "SPI 0x1001 is already used by the SA with UniqueID 1" },
	/* spdadd: the UniqueID names an SA */
	{ "spdadd with an unknown UniqueID", NULL, FAIL_NONE,
	  SPDX "esp/transport//unique:77 ;", 1, AT(SPDX "esp/transport//"),
	  "no SA with UniqueID 77" },
	{ "spdupdate with an unknown UniqueID (before families)", NULL, FAIL_NONE,
	  "spdupdate 10.9.0.0/16 10.8.0.0/16 any ipsec " TUN6 "unique:78 ;", 1,
	  AT("spdupdate 10.9.0.0/16 10.8.0.0/16 any ipsec " TUN6), "no SA with UniqueID 78" },
	{ "spdadd with UniqueID 4294967294", NULL, FAIL_NONE,
	  SPD6X TUN6 "unique:4294967294 ;", 1, AT(SPD6X TUN6),
	  "no SA with UniqueID 4294967294" },
	/* tfc: needs tunnel mode */
	{ "tfc: SA in transport mode", NULL, FAIL_NONE, SPD6X "esp/transport//unique:3 ;", 1,
	  AT(SPD6X), "the SA with UniqueID 3 has tfc:1400, which transport mode cannot carry" },
	{ "tfc: SA in transport mode, inbound", NULL, FAIL_NONE,
	  "spdadd 10.9.0.1[80] 10.8.0.1 tcp -P in ipsec esp/transport//unique:5 ;", 1,
	  AT("spdadd 10.9.0.1[80] 10.8.0.1 tcp -P in ipsec "),
	  "the SA with UniqueID 5 has tfc:1, which transport mode cannot carry" },
	{ "tfc: SA replacing a transport policy", NULL, FAIL_NONE,
	  "spdupdate 198.51.100.7 203.0.113.9[443] tcp ipsec esp/transport//unique:5 ;", 1,
	  AT("spdupdate 198.51.100.7 203.0.113.9[443] tcp ipsec "),
	  "the SA with UniqueID 5 has tfc:1" },
	{ "tfc: SA in transport mode, icmp6", NULL, FAIL_NONE,
	  "spdadd 2001:db8:f::1 2001:db8:e::1 icmp6 -P in ipsec esp/transport//unique:3 ;", 1,
	  AT("spdadd 2001:db8:f::1 2001:db8:e::1 icmp6 -P in ipsec "),
	  "the SA with UniqueID 3 has tfc:1400" },
	/* families against the SA's */
	{ "tunnel IPv6 for an IPv4 SA", NULL, FAIL_NONE, SPDX TUN6 "unique:1 ;", 1,
	  AT(SPDX "esp/tunnel/"), "tunnel endpoints are IPv6 but the SA with UniqueID 1 is IPv4" },
	{ "tunnel IPv4 for an IPv6 SA", NULL, FAIL_NONE, SPD6X TUN4 "unique:3 ;", 1,
	  AT(SPD6X "esp/tunnel/"), "tunnel endpoints are IPv4 but the SA with UniqueID 3 is IPv6" },
	{ "tunnel IPv4 for an IPv6 SA, replacing", NULL, FAIL_NONE,
	  "spdadd ::/0 ::/0 udp -P in ipsec esp/tunnel/192.0.2.2-192.0.2.1/unique:4294967295 ;", 1,
	  AT("spdadd ::/0 ::/0 udp -P in ipsec esp/tunnel/"),
	  "tunnel endpoints are IPv4 but the SA with UniqueID 4294967295 is IPv6" },
	{ "transport IPv6 selectors for an IPv4 SA", NULL, FAIL_NONE,
	  SPD6X "esp/transport//unique:1 ;", 1, AT("spdadd "),
	  "transport mode: selectors are IPv6 but the SA with UniqueID 1 is IPv4" },
	{ "transport IPv4 selectors for an IPv6 SA", NULL, FAIL_NONE,
	  "spdadd 10.9.0.0/16 10.8.0.0/16 udp -P in ipsec esp/transport//unique:4294967295 ;", 1,
	  AT("spdadd "),
	  "transport mode: selectors are IPv4 but the SA with UniqueID 4294967295 is IPv6" },
	{ "transport IPv4 selectors for an IPv6 tfc: SA: the family first", NULL, FAIL_NONE,
	  "\n\n\tspdadd 10.9.0.0/16 10.8.0.0/16 any\n\tipsec esp/transport//unique:3 ;", 3,
	  AT("\tspdadd "),
	  "transport mode: selectors are IPv4 but the SA with UniqueID 3 is IPv6" },
	/* ESP in UDP: the port map; update */
	{ "add esp-udp: the port map refuses", NULL, FAIL_SET_NATT,
	  "add 192.0.2.1[4500] 192.0.2.9[4999] esp-udp 0x3001 -u 41 -E aes-gcm-16 " KF20 " ;", 1,
	  AT("add 192.0.2.1[4500] "), "cannot add UDP port 4999 to the XDP map" },
	{ "add esp-udp: the SA map refuses", NULL, FAIL_SET_SA,
	  "add 192.0.2.1[4500] 192.0.2.9[4999] esp-udp 0x3001 -u 41 -E aes-gcm-16 " KF20 " ;", 1,
	  AT("add 192.0.2.1[4500] 192.0.2.9[4999] esp-udp "),
	  "cannot add SPI 0x3001 to the XDP map" },
	{ "update an unknown SPI", NULL, FAIL_NONE, "update 192.0.2.1 192.0.2.2 esp 0x9999 ;", 1,
	  AT("update 192.0.2.1 192.0.2.2 esp "), "no SA with SPI 0x9999" },
	{ "update to the other family", NULL, FAIL_NONE,
	  "update 2001:db8::1 2001:db8::2 esp-udp 0x1008 ;", 1, AT("update "),
	  "the SA with SPI 0x1008 is IPv4: update keeps the address family" },
	{ "update: the SA map refuses", NULL, FAIL_SET_SA,
	  "update 192.0.2.66[4501] 192.0.2.1[4500] esp-udp 0x1008 ;", 1,
	  AT("update 192.0.2.66[4501] 192.0.2.1[4500] esp-udp "),
	  "cannot update SPI 0x1008 in the XDP map" },
	{ "update: the port map refuses", NULL, FAIL_SET_NATT,
	  "update 192.0.2.2[4500] 192.0.2.1[4600] esp-udp 0x1008 ;", 1,
	  AT("update 192.0.2.2[4500] "), "cannot add UDP port 4600 to the XDP map" },
	/* delete */
	{ "delete an unknown SPI", NULL, FAIL_NONE, "delete 192.0.2.1 192.0.2.2 esp 0x9999 ;", 1,
	  AT("delete 192.0.2.1 192.0.2.2 esp "), "no SA with SPI 0x9999" },
	{ "delete an unknown SPI, IPv6, line 3", NULL, FAIL_NONE,
	  "\n\n  delete 2001:db8::1 2001:db8::2 esp 0xfffffffe ;", 3,
	  AT("  delete 2001:db8::1 2001:db8::2 esp "), "no SA with SPI 0xfffffffe" },
	{ "delete 0x101", NULL, FAIL_NONE, "delete 2001:db8::1 192.0.2.2 esp 0x101 ;", 1,
	  AT("delete 2001:db8::1 192.0.2.2 esp "), "no SA with SPI 0x101" },
	/* the 65th selector shape of a family */
	{ "65th IPv4 tuple", fill4, FAIL_NONE,
	  "spdadd 192.0.2.77 192.0.2.78 any ipsec esp/transport//unique:1 ;", 1, AT("spdadd "),
	  TOOMANY },
	{ "65th IPv4 tuple by its ports", fill4, FAIL_NONE,
	  "spdadd 198.51.100.0/24 203.0.113.0/24[8080] tcp ipsec esp/transport//unique:1 ;", 1,
	  AT("spdadd "), TOOMANY },
	{ "65th IPv6 tuple", fill6, FAIL_NONE,
	  "spdadd 2001:db8::77 2001:db8::78 any ipsec esp/transport//unique:7 ;", 1,
	  AT("spdadd "), TOOMANY },
	{ "65th IPv6 tuple, spdupdate, tunnel", fill6, FAIL_NONE,
	  "spdupdate 2001:db8::/32 2001:db8::/127 icmp6 -P in ipsec " TUN6
	  "unique:4294967295 ;", 1, AT("spdupdate "), TOOMANY },
	{ "65th IPv4 tuple, a discard", fill4, FAIL_NONE,
	  "spdadd 192.0.2.77 192.0.2.78 any -P in discard ;", 1, AT("spdadd "), TOOMANY },
	/* SAs are unidirectional */
	{ "an out policy names an inbound SA", NULL, FAIL_NONE,
	  SPDX TUN4 "unique:2 ;", 1, AT(SPDX TUN4),
	  "the SA with UniqueID 2 is inbound (an in policy named it, it has decrypted, or a "
	  "peer has sent with its key): SAs are unidirectional, an out policy needs an SA of "
	  "its own" },
	{ "without -P (out), naming an inbound SA", NULL, FAIL_NONE,
	  SPD6X "esp/transport//unique:4294967295 ;", 1, AT(SPD6X "esp/transport//"),
	  "the SA with UniqueID 4294967295 is inbound (an in policy named it" },
	{ "spdupdate an in policy's key out, with its SA", NULL, FAIL_NONE,
	  "spdupdate 203.0.113.0/24 198.51.100.0/24 any -P out ipsec "
	  "esp/tunnel/192.0.2.2-192.0.2.1/unique:2 ;", 1,
	  AT("spdupdate 203.0.113.0/24 198.51.100.0/24 any -P out ipsec "
	     "esp/tunnel/192.0.2.2-192.0.2.1/"),
	  "the SA with UniqueID 2 is inbound" },
	{ "an in policy names an outbound SA", NULL, FAIL_NONE,
	  "spdadd 10.9.0.0/16 10.8.0.0/16 any -P in ipsec " TUN4 "unique:1 ;", 1,
	  AT("spdadd 10.9.0.0/16 10.8.0.0/16 any -P in ipsec " TUN4),
	  "the SA with UniqueID 1 is outbound (an out policy names it): SAs are "
	  "unidirectional, an in policy needs an SA of its own" },
	{ "an in policy names an outbound SA, replacing", NULL, FAIL_NONE,
	  "spdupdate 198.51.100.0/24 203.0.113.0/24 any -P in ipsec "
	  "esp/tunnel/192.0.2.1-192.0.2.2/unique:1 ;", 1,
	  AT("spdupdate 198.51.100.0/24 203.0.113.0/24 any -P in ipsec "
	     "esp/tunnel/192.0.2.1-192.0.2.2/"),
	  "the SA with UniqueID 1 is outbound" },
	{ "an in policy names an outbound SA without policies", spdflush, FAIL_NONE,
	  "spdadd 2001:db8:f::/48 2001:db8:e::/48 icmp6 -P in ipsec esp/transport//unique:7 ;",
	  1, AT("spdadd 2001:db8:f::/48 2001:db8:e::/48 icmp6 -P in ipsec esp/transport//"),
	  "the SA with UniqueID 7 is outbound" },
	/* keys: one SA per key, never from below where it stopped */
	{ "an SA with the key of another", NULL, FAIL_NONE,
	  "add 10.9.9.1 10.9.9.2 esp 0x3003 -u 33 -E aes-gcm-16 " KA20 " ;", 1,
	  AT("add 10.9.9.1 10.9.9.2 esp 0x3003 -u 33 -E aes-gcm-16 "),
	  "another SA has this key: two SAs with one key (one of them the peer's, or both "
	  "ours) would repeat its nonces" },
	{ "an SA with the key of another, ESN", NULL, FAIL_NONE,
	  "add 10.9.9.1 10.9.9.2 esp 0x3004 -u 34 -E aes-gcm-16-esn " KA20
	  " seq:0x100000000 ;", 1,
	  AT("add 10.9.9.1 10.9.9.2 esp 0x3004 -u 34 -E aes-gcm-16-esn "),
	  "another SA has this key" },
	{ "an inbound SA with the key of an outbound one", NULL, FAIL_NONE,
	  "add 10.9.9.2 10.9.9.1 esp 0x3005 -u 35 -E aes-gcm-16 " KA20 " ;", 1,
	  AT("add 10.9.9.2 10.9.9.1 esp 0x3005 -u 35 -E aes-gcm-16 "),
	  "another SA has this key" },
	{ "a key added again below where it stopped", delete_sa5, FAIL_NONE,
	  ADDX "0x3005 -u 35 -E aes-gcm-16 " KC20 " ;", 1, AT(ADDX "0x3005 -u 35 -E aes-gcm-16 "),
	  "this key has sent sequence numbers up to 0xffffffef already: give a new key, or "
	  "seq:0xfffffff0 or more" },
	{ "a key added again just below where it stopped", delete_sa5, FAIL_NONE,
	  ADDX "0x3005 -u 35 -E aes-gcm-16-esn " KC20 " seq:0xffffffef ;", 1,
	  AT(ADDX "0x3005 -u 35 -E aes-gcm-16-esn "),
	  "this key has sent sequence numbers up to 0xffffffef already" },
	{ "a key added again after its last number", delete_sa_exhausted, FAIL_NONE,
	  ADDX "0x3005 -u 35 -E aes-gcm-16-esn " KE20 " seq:0x1 ;", 1,
	  AT(ADDX "0x3005 -u 35 -E aes-gcm-16-esn "),
	  "this key has sent its last sequence number: give a new key" },
	/* the maps refuse: both sides stay as they were */
	{ "sa_in refuses an IPv4 SA", NULL, FAIL_SET_SA,
	  ADDX "0x3001 -u 31 -E aes-gcm-16 " KF20 " ;", 1, AT(ADDX),
	  "cannot add SPI 0x3001 to the XDP map: Input/output error" },
	{ "sa_in refuses an IPv6 ESN SA with options", NULL, FAIL_SET_SA,
	  ADD6X "0x3002 -u 32 -E aes-gcm-16-esn " KF36 " seq:0x10 tfc:100 ;", 1, AT(ADD6X),
	  "cannot add SPI 0x3002 to the XDP map" },
	{ "spd refuses a new key", NULL, FAIL_SET_ENTRY,
	  "spdadd 198.51.100.0/24 203.0.112.0/24 any ipsec " TUN4 "unique:1 ;", 1, 1, MAPFAIL },
	{ "spd refuses a replacement", NULL, FAIL_SET_ENTRY,
	  "spdupdate 198.51.100.0/24 203.0.113.0/24 any -P out ipsec "
	  "esp/tunnel/192.0.2.1-192.0.2.4/unique:6 ;", 1, 1, MAPFAIL },
	{ "spd refuses the other direction of a key", NULL, FAIL_SET_ENTRY,
	  "spdadd 203.0.113.0/24 198.51.100.0/24 any -P out ipsec " TUN4 "unique:1 ;", 1, 1,
	  MAPFAIL },
	{ "tuple_lists refuses a new IPv4 tuple", NULL, FAIL_SET_TUPLES,
	  "spdadd 192.0.2.77 192.0.2.78 any ipsec esp/transport//unique:1 ;", 1, 1, MAPFAIL },
	{ "tuple_lists refuses a new IPv6 tuple", NULL, FAIL_SET_TUPLES,
	  "\nspdadd 2001:db8::77 2001:db8::78 udp -P in ipsec esp/transport//unique:4294967295 ;",
	  2, 1, MAPFAIL },
	{ "spd refuses a shadow key", NULL, FAIL_SET_ENTRY,
	  "spdadd 198.51.100.0/24 203.0.112.0/24[80] tcp -P out discard ;", 1, 1, MAPFAIL },
	{ "tuple_lists refuses the tuple of a policy with shadow keys", NULL, FAIL_SET_TUPLES,
	  "spdadd 192.0.2.76/31 192.0.2.78[80] tcp -P in discard ;", 1, 1, MAPFAIL },
	{ "sa_in refuses to let an SA become outbound", add_fresh_sa, FAIL_DEL_SA,
	  SPDX "esp/tunnel/10.9.9.1-10.9.9.2/unique:36 ;", 1,
	  AT(SPDX "esp/tunnel/10.9.9.1-10.9.9.2/"),
	  "cannot remove SPI 0x3006 from the XDP map: Input/output error" },
};

#define SEM_CASES_N (sizeof(sem_cases) / sizeof(sem_cases[0]))

static void test_semantic_errors(void **state)
{
	unsigned failed = 0;

	(void)state;
	assert_true(SEM_CASES_N >= 25);
	for (size_t i = 0; i < SEM_CASES_N; i++) {
		const struct sem_case *sc = &sem_cases[i];
		struct fx *f = fx_rich();
		struct fake_maps *m = f->maps;
		char *before, *after, *out, *errs;
		unsigned refused;
		bool ok;

		if (sc->prep)
			sc->prep(f);
		before = snapshot(f);
		m->fail_op = sc->fail;
		m->fail_nth = 1;
		m->failed = 0;
		refused = run(f, sc->input, &out, &errs);
		m->fail_op = FAIL_NONE;
		after = snapshot(f);
		ok = refused == 1 && error_is(sc->name, errs, sc->line, sc->col, sc->msg) &&
		     !strcmp(before, after) && !*out;
		/* an injected failure did happen, and the same command passes once the map
		 * takes it */
		if (ok && sc->fail && strstr(sc->msg, "XDP map"))
			ok = m->failed == 1 && run(f, sc->input, NULL, NULL) == 0;
		if (!ok) {
			print_error("semantic case '%s': refused %u, injected %u; %s\n", sc->name,
				    refused, m->failed,
				    strcmp(before, after) ? "STATE CHANGED" : "state unchanged");
			failed++;
		}
		free(before);
		free(after);
		free(out);
		free(errs);
		fx_free(f);
	}
	printf("%zu semantic errors refused, state unchanged\n", SEM_CASES_N);
	if (failed)
		fail_msg("%u of %zu semantic cases failed", failed, SEM_CASES_N);
}

/* With gost-engine (a dependency) a GOST SA is keyed. Without it the command is refused
 * with "GOST transforms are not available": tests/interop/test_gost_pcap.sh checks that on
 * the binary with the engine hidden (a process that has loaded it keeps it). */
static void test_gost_availability(void **state)
{
	static const char add[] = ADDX "0x4001 -u 41 -E gost-mac " KC44 " ;";
	struct fx *f = fx_rich();
	char *errs = NULL;

	(void)state;
	assert_int_equal(run(f, add, NULL, &errs), 0);
	assert_non_null(sad_by_spi(f->sad, 0x4001));
	free(errs);
	fx_free(f);
}

/* cmd_exec_stream (main's loop) counts refusals and keeps going. */
static void test_exec_stream(void **state)
{
	static const char text[] =
		"add 192.0.2.1 192.0.2.2 esp 0x1001 -u 1 -E aes-gcm-16 " KA20 " ;\n"
		"add 192.0.2.1 192.0.2.2 esp 0x1001 -u 2 -E aes-gcm-16 " KA20 " ;\n"
		"bogus ;\n"
		"add 192.0.2.1 192.0.2.2 esp 0x1002 -u 2 -E aes-gcm-16 " KB20 " ;\n";
	struct fx *f = fx_new();
	FILE *in = fmemopen((void *)text, sizeof(text) - 1, "r");
	struct cmd_reader *r = cmd_reader_new(in, "<stream>");

	(void)state;
	fprintf(stderr, "(two error lines expected next)\n");
	assert_int_equal(cmd_exec_stream(&f->env, r), 2);
	assert_int_equal(sad_count(f->sad), 2);
	cmd_reader_free(r);
	fclose(in);
	check_mirror(f);
	fx_free(f);
}

/* --- dump round trips ---------------------------------------------------------------------- */

/* dump -> a fresh instance (with as many workers) -> dump: the same commands; and once
 * more: the same text, maps included (a fresh instance numbers its policies alike). */
static void check_round_trip(struct fx *a, bool same_ids)
{
	char *d1 = dumps(a), *d2, *d3, *s1, *s2, *m1, *m2, *m3;
	struct fx *b = fx_new(), *c = fx_new();

	b->env.nthreads = c->env.nthreads = a->env.nthreads;
	apply_quiet(b, d1);
	d2 = dumps(b);
	s1 = strip_comments(d1);
	s2 = strip_comments(d2);
	assert_string_equal(s1, s2);
	apply_quiet(c, d2);
	d3 = dumps(c);
	assert_string_equal(d2, d3);
	m1 = maps_str(a->maps);
	m2 = maps_str(b->maps);
	m3 = maps_str(c->maps);
	assert_string_equal(m2, m3);
	if (same_ids)
		assert_string_equal(m1, m2);
	assert_int_equal(sad_count(b->sad), sad_count(a->sad));
	assert_int_equal(spd_count(b->spd), spd_count(a->spd));
	free(d1);
	free(d2);
	free(d3);
	free(s1);
	free(s2);
	free(m1);
	free(m2);
	free(m3);
	fx_free(b);
	fx_free(c);
}

static void assert_has_line(const char *text, const char *line)
{
	if (!strstr(text, line))
		fail_msg("missing line\n  %s  in\n%s", line, text);
}

static void test_round_trip_rich(void **state)
{
	struct fx *f = fx_rich();
	char *d = dumps(f);

	(void)state;
	/* The dump says what was given, in canonical form. */
	assert_has_line(d, "\nadd 192.0.2.1 192.0.2.2 esp 0x1001 -u 1 -E aes-gcm-16 " KA20 " ;\n");
	assert_has_line(d, "\nadd 192.0.2.2 192.0.2.1 esp 0x1002 -u 2 -E aes-gcm-16-esn " KA36
			   " seq:0x0000000100000000 replay:65536 ;\n");
	assert_has_line(d, "\nadd 2001:db8::1 2001:db8::2 esp 0x100 -u 3 -E aes-gcm-16 " KB36
			   " tfc:1400 replay:0 ;\n");
	assert_has_line(d, "\nadd 2001:db8::2 2001:db8::1 esp 0xffffffff -u 4294967295 -E "
			   "aes-gcm-16-esn " KB20 " seq:0xfffffffffffffff0 replay:32 ;\n");
	assert_has_line(d, "\nadd 192.0.2.1 192.0.2.3 esp 0x1005 -u 5 -E aes-gcm-16 " KC20
			   " tfc:1 seq:0xfffffff0 ;\n");
	assert_has_line(d, "\nadd 192.0.2.2[4500] 192.0.2.1[4500] esp-udp 0x1008 -u 8 -E "
			   "aes-gcm-16 " KG20 " ;\n");
	assert_has_line(d, "\nadd 2001:db8::1[4500] 2001:db8::9[31337] esp-udp 0x1009 -u 9 -E "
			   "aes-gcm-16-esn " KG36 " ;\n");
	assert_has_line(d, "\nspdadd 198.51.100.7/32 203.0.113.9/32[443] tcp -P out ipsec "
			   "esp/transport//unique:1 ;\n");
	assert_has_line(d, "\nspdadd 2001:db8:1::5/128 2001:db8:2::/64[22] tcp -P out ipsec "
			   "esp/transport//unique:7 ;\n");
	assert_has_line(d, "\nspdadd ::/0 ::/0 udp -P in ipsec "
			   "esp/tunnel/192.0.2.2-192.0.2.1/unique:2 ;\n");
	assert_has_line(d, "\nspdadd 198.51.100.0/24 192.0.2.0/24 any -P out discard ;\n");
	assert_has_line(d, "\nspdadd 192.0.2.0/24 198.51.100.0/28[22] tcp -P in none ;\n");
	assert_has_line(d, "\nspdadd 2001:db8:ff::/48[53] 2001:db8:1::/48 udp -P in discard ;\n");
	assert_has_line(d, "\nspdadd 2001:db8:1::/48 2001:db8:ff::/48 icmp6 -P out none ;\n");
	/* each SA's direction, each policy's action */
	assert_has_line(d, "\n# SA UniqueID 1 SPI 0x00001001: AES-128-GCM, ESN off, "
			   "replay window 1024, tfc 0, outbound\n");
	assert_has_line(d, "\n# SA UniqueID 2 SPI 0x00001002: AES-256-GCM, ESN on, "
			   "replay window 65536, tfc 0, inbound\n");
	assert_has_line(d, "\n# SA UniqueID 4294967295 SPI 0xffffffff: AES-128-GCM, ESN on, "
			   "replay window 32, tfc 0, inbound\n");
	assert_has_line(d, "\n# SA UniqueID 7 SPI 0x00001007: AES-128-GCM, ESN off, "
			   "replay window 1024, tfc 0, outbound\n");
	assert_has_line(d, "\n# SP 1: out, ipsec, tunnel, SA UniqueID 1 (SPI 0x00001001)\n");
	assert_has_line(d, "\n# SP 2: in, ipsec, tunnel, SA UniqueID 2 (SPI 0x00001002)\n");
	assert_has_line(d, "\n# SP 3: out, ipsec, transport, SA UniqueID 1 (SPI 0x00001001)\n");
	assert_has_line(d, "\n# SP 14: out, discard\nspdadd 198.51.100.0/24 192.0.2.0/24 ");
	assert_has_line(d, "\n# SP 15: in, none\nspdadd 192.0.2.0/24 198.51.100.0/28[22] ");
	assert_has_line(d, "\nadd 192.0.2.2 192.0.2.1 esp 0x2002 -u 12 -E gost-esn " KC36
			   " seq:0x0000000000001234 replay:128 ;\n");
	assert_has_line(d, "# SA UniqueID 18 SPI 0x00002008: Kuznyechik-MGM");
	assert_has_line(d, ", inbound\n#   out 0 packets 0 bytes, in 0 packets 0 bytes, "
			   "replay drops 0, ICV failures 0\nadd 192.0.2.2 192.0.2.1 esp "
			   "0x2002 -u 12 ");
	free(d);
	check_round_trip(f, true);
	fx_free(f);
}

/* The peer's configuration: the same SAs, every direction the other way. */
static void test_round_trip_peer(void **state)
{
	struct fx *a = fx_rich(), *b = fx_rich_peer();
	char *da = dumps(a), *db = dumps(b), *la, *lb;

	(void)state;
	assert_has_line(db, "\n# SA UniqueID 1 SPI 0x00001001: AES-128-GCM, ESN off, "
			    "replay window 1024, tfc 0, inbound\n");
	assert_has_line(db, "\n# SA UniqueID 2 SPI 0x00001002: AES-256-GCM, ESN on, "
			    "replay window 65536, tfc 0, outbound\n");
	assert_has_line(db, "\nspdadd 198.51.100.0/24 192.0.2.0/24 any -P in discard ;\n");
	assert_has_line(db, "\nspdadd 2001:db8:1::/48 2001:db8:ff::/48 icmp6 -P in none ;\n");
	assert_has_line(db, "\n# SP 1: in, ipsec, tunnel, SA UniqueID 1 (SPI 0x00001001)\n");
	/* the SA listings differ in their comments (the direction) only */
	la = strip_comments(da);
	lb = strip_comments(db);
	assert_int_equal(strstr(la, "\nspdadd") - la, strstr(lb, "\nspdadd") - lb);
	assert_memory_equal(la, lb, (size_t)(strstr(la, "\nspdadd") - la));
	/* every SA is named by a policy: it may decrypt on exactly one side */
	assert_int_equal(a->maps->n_sa + b->maps->n_sa, sad_count(a->sad));
	free(da);
	free(db);
	free(la);
	free(lb);
	check_round_trip(b, true);
	fx_free(a);
	fx_free(b);
}

/* seq: after traffic both ways between two peers: the sender resumes at its next number,
 * the receiver past the highest number it accepted (the ESN high half inferred across
 * 2^32). */
static void test_round_trip_traffic(void **state)
{
	struct fx *a = fx_rich(), *b = fx_rich_peer();
	char *da, *db;
	static const char *const moved[] = {
		"\nadd 192.0.2.1 192.0.2.2 esp 0x1001 -u 1 -E aes-gcm-16 " KA20
		" seq:0x00000004 ;\n",
		"\nadd 192.0.2.2 192.0.2.1 esp 0x1002 -u 2 -E aes-gcm-16-esn " KA36
		" seq:0x0000000100000002 replay:65536 ;\n",
		"\nadd 192.0.2.1 192.0.2.4 esp 0x1006 -u 6 -E aes-gcm-16-esn " KC36
		" seq:0x0000000100000003 ;\n",
		"\nadd 2001:db8::1 2001:db8::2 esp 0x100 -u 3 -E aes-gcm-16 " KB36
		" tfc:1400 seq:0x00000006 replay:0 ;\n",
	};

	(void)state;
	traffic(a, b, 0x1001, 3);
	traffic(b, a, 0x1002, 2);
	traffic(a, b, 0x1006, 5);	/* 0xfffffffe .. 0x100000002 */
	traffic(a, b, 0x100, 5);
	traffic(a, b, 0x2001, 2);
	traffic(b, a, 0x2004, 0x20);	/* gost-mac-esn across 2^33 */
	da = dumps(a);
	db = dumps(b);
	for (size_t i = 0; i < sizeof(moved) / sizeof(moved[0]); i++) {
		assert_has_line(da, moved[i]);
		if (strstr(moved[i], "replay:0"))	/* no window: the receiver can't tell */
			continue;
		assert_has_line(db, moved[i]);
	}
	assert_has_line(da, " -u 11 -E gost " KA44 " seq:0x00000003 ;\n");
	assert_has_line(db, " -u 11 -E gost " KA44 " seq:0x00000003 ;\n");
	assert_has_line(da, " -u 14 -E gost-mac-esn " KB36 " seq:0x0000000200000010 ;\n");
	assert_has_line(db, " -u 14 -E gost-mac-esn " KB36 " seq:0x0000000200000010 ;\n");
	assert_has_line(da, "tfc 0, outbound\n#   out 3 packets ");
	assert_has_line(db, "tfc 0, inbound\n#   out 0 packets 0 bytes, in 3 packets ");
	assert_has_line(db, "tfc 0, outbound\n#   out 2 packets ");	/* SA 2 */
	free(da);
	free(db);
	check_round_trip(a, true);
	check_round_trip(b, true);
	fx_free(a);
	fx_free(b);
}

static uint32_t window_of(struct fx *f, uint32_t uid)
{
	const struct sa *sa = sad_by_uid(f->sad, uid);

	assert_non_null(sa);
	return sa->replay.window;
}

/* An add without replay: gets the window for the host's number of workers (1024 for one,
 * 8128 more for each further one); dump leaves it out, so the SA keeps following the host it
 * is restored on, and prints a window that was given, even 1024. */
static void test_default_window_follows_workers(void **state)
{
	static const char *const adds =
		"add 192.0.2.2 192.0.2.1 esp 0x1001 -u 1 -E aes-gcm-16 " KA20 " ;\n"
		"add 192.0.2.2 192.0.2.1 esp 0x1002 -u 2 -E aes-gcm-16 " KB20 " replay:1024 ;\n"
		"add 192.0.2.2 192.0.2.1 esp 0x1003 -u 3 -E aes-gcm-16-esn " KA36 " replay:8192 ;\n"
		"spdadd 203.0.113.0/24 198.51.100.0/24 any -P in ipsec "
		"esp/tunnel/192.0.2.2-192.0.2.1/unique:1 ;\n";
	static const struct {
		unsigned workers;
		uint32_t window;
	} hosts[] = { { 1, 1024 }, { 2, 8128 }, { 3, 16256 }, { 9, 65024 }, { 10, 65536 },
		      { 64, 65536 } };
	struct fx *one = fx_new();
	char *d, *d1;

	(void)state;
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		struct fx *f = fx_new();

		f->env.nthreads = hosts[i].workers;
		apply_quiet(f, adds);
		assert_int_equal(window_of(f, 1), hosts[i].window);
		assert_int_equal(window_of(f, 2), 1024);
		assert_int_equal(window_of(f, 3), 8192);
		d = dumps(f);
		assert_has_line(d, "\nadd 192.0.2.2 192.0.2.1 esp 0x1001 -u 1 -E aes-gcm-16 " KA20
				   " ;\n");
		assert_has_line(d, " -u 2 -E aes-gcm-16 " KB20 " replay:1024 ;\n");
		assert_has_line(d, " -u 3 -E aes-gcm-16-esn " KA36 " replay:8192 ;\n");
		free(d);
		check_round_trip(f, true);
		if (hosts[i].workers == 2) {	/* restored on a host with one worker */
			d1 = dumps(f);
			apply_quiet(one, d1);
			free(d1);
		}
		fx_free(f);
	}
	assert_int_equal(window_of(one, 1), 1024);
	assert_int_equal(window_of(one, 2), 1024);
	assert_int_equal(window_of(one, 3), 8192);
	fx_free(one);
}

/* Replacements and deletions renumber policies; the commands still round-trip. */
static void test_round_trip_after_changes(void **state)
{
	struct fx *f = fx_rich();

	(void)state;
	apply_quiet(f, "spdupdate 198.51.100.0/24 203.0.113.0/24 any ipsec "
		       "esp/tunnel/192.0.2.1-192.0.2.4/unique:6 ;\n"
		       "delete 0.0.0.0 0.0.0.0 esp 0x1002 ;\n"
		       "spdadd 198.51.100.7 203.0.113.9[443] tcp -P out ipsec "
		       "esp/tunnel/2001:db8::1-2001:db8::2/unique:7 ;\n"
		       "spdupdate 198.51.100.0/24 192.0.2.0/24 any -P out none ;\n"
		       "spdadd 203.0.113.0/24 198.51.100.0/24 any -P in discard ;\n"
		       "spdadd 192.0.2.0/24 198.51.100.0/28[22] tcp -P in discard ;\n");
	check_round_trip(f, false);
	fx_free(f);
}

/* An SA that has used its last sequence number is listed commented out, at the sender and
 * at the receiver. */
static void test_dump_exhausted(void **state)
{
	struct fx *tx = fx_new(), *rx = fx_new();
	static const char cfg[] =
		"add 192.0.2.1 192.0.2.2 esp 0x1001 -u 1 -E aes-gcm-16 " KA20 " seq:0xfffffffe ;\n"
		"add 192.0.2.1 192.0.2.2 esp 0x1002 -u 2 -E aes-gcm-16-esn " KB20
		" seq:0xffffffffffffffff ;\n"
		"spdadd 10.0.0.0/8 10.0.0.0/8 any ipsec esp/tunnel/192.0.2.1-192.0.2.2/unique:1 ;\n"
		"spdadd 11.0.0.0/8 11.0.0.0/8 any ipsec "
		"esp/tunnel/192.0.2.1-192.0.2.2/unique:2 ;\n";
	uint8_t payload[10] = { 0 };
	struct fx_buf fb;
	char *d;

	(void)state;
	apply_quiet(tx, cfg);
	apply_peer(rx, cfg);
	traffic(tx, rx, 0x1001, 2);	/* 0xfffffffe, 0xffffffff: the last */
	traffic(tx, rx, 0x1002, 1);	/* 2^64-1: the last */
	fx_packet(&fb, AF_INET, 17, payload, sizeof(payload));
	assert_int_equal(esp_out(tunnel_sp(sad_by_spi(tx->sad, 0x1001)), &fb.b, 0, 0, 0),
			 ESP_DROP(SA_C_seq_exhausted));
	for (int i = 0; i < 2; i++) {
		d = dumps(i ? rx : tx);
		assert_has_line(d, "\n# exhausted: add 192.0.2.1 192.0.2.2 esp 0x1001 -u 1 ");
		assert_has_line(d, "\n# exhausted: add 192.0.2.1 192.0.2.2 esp 0x1002 -u 2 ");
		free(d);
	}
	fx_free(tx);
	fx_free(rx);
}

/* The exact listings of a small configuration: an SA no policy names may decrypt
 * (inbound), like one an in policy names. */
static void test_dump_format(void **state)
{
	struct fx *f = fx_new();
	char *d;

	(void)state;
	apply_quiet(f, "add 192.0.2.1 192.0.2.2 esp 0x1001 -u 7 -E aes-gcm-16 " KA20 " ;\n"
		       "add 2001:db8::2 2001:db8::1 esp 0xabcd -u 8 -E aes-gcm-16-esn " KA36
		       " tfc:300 seq:0x1f replay:2048 ;\n"
		       "add 192.0.2.1 192.0.2.9 esp 0x900 -u 9 -E aes-gcm-16 " KB20 " ;\n"
		       "spdadd 198.51.100.0/24 203.0.113.0/24[80] tcp ipsec "
		       "esp/tunnel/2001:db8::2-2001:db8::1/unique:8 ;\n"
		       "spdadd 203.0.113.9 198.51.100.9 icmp -P in ipsec "
		       "esp/transport//unique:7 ;\n"
		       "spdadd 10.0.0.0/8 10.1.0.0/16 any -P out discard ;\n"
		       "spdadd 2001:db8::/32[53] 2001:db8:1::/48 udp -P in none ;\n"
		       "spdupdate 10.1.0.0/16 10.0.0.0/8 any discard ;\n");
	d = dumps(f);
	assert_string_equal(
		d,
		"# 3 SAs\n"
		"# SA UniqueID 7 SPI 0x00001001: AES-128-GCM, ESN off, replay window 1024, tfc 0, "
		"inbound\n"
		"#   out 0 packets 0 bytes, in 0 packets 0 bytes, replay drops 0, ICV failures 0\n"
		"add 192.0.2.1 192.0.2.2 esp 0x1001 -u 7 -E aes-gcm-16 " KA20 " ;\n"
		"# SA UniqueID 8 SPI 0x0000abcd: AES-256-GCM, ESN on, replay window 2048, tfc 300, "
		"outbound\n"
		"#   out 0 packets 0 bytes, in 0 packets 0 bytes, replay drops 0, ICV failures 0\n"
		"add 2001:db8::2 2001:db8::1 esp 0xabcd -u 8 -E aes-gcm-16-esn " KA36
		" tfc:300 seq:0x000000000000001f replay:2048 ;\n"
		"# SA UniqueID 9 SPI 0x00000900: AES-128-GCM, ESN off, replay window 1024, tfc 0, "
		"inbound\n"
		"#   out 0 packets 0 bytes, in 0 packets 0 bytes, replay drops 0, ICV failures 0\n"
		"add 192.0.2.1 192.0.2.9 esp 0x900 -u 9 -E aes-gcm-16 " KB20 " ;\n"
		"# 5 SPs\n"
		"# SP 1: out, ipsec, tunnel, SA UniqueID 8 (SPI 0x0000abcd)\n"
		"spdadd 198.51.100.0/24 203.0.113.0/24[80] tcp -P out ipsec "
		"esp/tunnel/2001:db8::2-2001:db8::1/unique:8 ;\n"
		"# SP 2: in, ipsec, transport, SA UniqueID 7 (SPI 0x00001001)\n"
		"spdadd 203.0.113.9/32 198.51.100.9/32 icmp -P in ipsec "
		"esp/transport//unique:7 ;\n"
		"# SP 3: out, discard\n"
		"spdadd 10.0.0.0/8 10.1.0.0/16 any -P out discard ;\n"
		"# SP 4: in, none\n"
		"spdadd 2001:db8::/32[53] 2001:db8:1::/48 udp -P in none ;\n"
		"# SP 5: out, discard\n"
		"spdadd 10.1.0.0/16 10.0.0.0/8 any -P out discard ;\n");
	free(d);
	fx_free(f);
}

/* --- spigrp, stats ------------------------------------------------------------------------- */

static void test_spigrp(void **state)
{
	struct fx *f = fx_new();
	char *out;

	(void)state;
	apply_quiet(f, "add 192.0.2.1 192.0.2.2 esp 0x1000 -u 1 -E aes-gcm-16 " KA20 " ;\n"
		       "add 2001:db8::1 2001:db8::2 esp 0x2000 -u 2 -E aes-gcm-16 " KB20 " ;\n"
		       "add 2001:db8::1 2001:db8::2 esp 0x3000 -u 3 -E aes-gcm-16 " KC20 " ;\n"
		       "add 192.0.2.1 192.0.2.9 esp 0xabcdef01 -u 4 -E aes-gcm-16 " KA36 " ;\n"
		       "add 192.0.2.1 192.0.2.2 esp 0x5000 -u 5 -E aes-gcm-16 " KB36 " ;\n"
		       "spdadd 10.0.0.0/8 10.1.0.0/16 any ipsec "
		       "esp/tunnel/192.0.2.1-192.0.2.2/unique:1 ;\n"
		       "spdadd 2001:db8:1::/48 2001:db8:2::/48 tcp ipsec "
		       "esp/transport//unique:2 ;\n"
		       "spdadd 10.0.0.0/8 10.3.0.0/16 any ipsec "
		       "esp/tunnel/2001:db8::1-2001:db8::2/unique:3 ;\n"
		       "spdadd 10.0.0.0/8 10.5.0.0/16 any ipsec "
		       "esp/tunnel/192.0.2.1-192.0.2.2/unique:5 ;\n"
		       "spdadd 192.0.2.1 192.0.2.2 udp ipsec esp/transport//unique:5 ;\n");
	out = apply(f, "spigrp ;\n");
	assert_string_equal(out, "tun.1000@192.0.2.2 esp.1000@192.0.2.2\n"
				 "esp:2000@2001:db8::2\n"
				 "tun:3000@2001:db8::2 esp:3000@2001:db8::2\n"
				 "esp.abcdef01@192.0.2.9\n"
				 "tun.5000@192.0.2.2 esp.5000@192.0.2.2\n"
				 "esp.5000@192.0.2.2\n");
	free(out);
	out = apply(f, "delete 192.0.2.1 192.0.2.2 esp 0x1000 ;\nspdflush ;\nspigrp ;\n");
	assert_string_equal(out, "esp:2000@2001:db8::2\n"
				 "esp:3000@2001:db8::2\n"
				 "esp.abcdef01@192.0.2.9\n"
				 "esp.5000@192.0.2.2\n");
	free(out);
	out = apply(f, "flush ;\nspigrp ;\n");
	assert_string_equal(out, "");
	free(out);
	fx_free(f);
}

static void test_stats(void **state)
{
	struct fx *f = fx_rich();
	char *out, *p;
	unsigned lines = 0;

	(void)state;
	traffic(f, NULL, 0x1001, 3);
	out = apply(f, "stats ;\n");
	for (const struct sa *sa = sad_first(f->sad); sa; sa = sad_next(f->sad, sa)) {
		char *want;

		assert_true(asprintf(&want, "sa spi=0x%08x uid=%u alg=%s out_packets=", sa->spi,
				     sa->uid, aead_cipher_name(sa->cipher)) > 0);
		assert_has_line(out, want);
		free(want);
	}
	for (p = out; (p = strstr(p, "sa spi=")); p++)
		lines++;
	assert_int_equal(lines, sad_count(f->sad));
	assert_has_line(out, "sa spi=0x00001001 uid=1 alg=AES-128-GCM out_packets=3 out_bytes=");
	for (int c = 0; c < SA_C_MAX; c++) {
		char *want;

		assert_true(asprintf(&want, " %s=", sa_counter_names[c]) > 0);
		assert_has_line(out, want);
		free(want);
	}
	assert_has_line(out, "\nworkers: none\n");	/* the workers' part follows */
	assert_int_equal(f->stats_extra_calls, 1);
	free(out);
	fx_free(f);
}

/* --- delete, flush, spdflush, replacement, spddelete -------------------------------------- */

static void test_delete(void **state)
{
	struct fx *f = fx_new();
	struct fake_maps *m = f->maps;
	unsigned calls[OP_MAX];
	char *out, *errs;

	(void)state;
	apply_quiet(f, "add 192.0.2.1 192.0.2.2 esp 0x1001 -u 1 -E aes-gcm-16 " KA20 " ;\n"
		       "add 192.0.2.2 192.0.2.1 esp 0x1002 -u 2 -E aes-gcm-16 " KB20 " ;\n"
		       "add 2001:db8::1 2001:db8::2 esp 0x1003 -u 3 -E aes-gcm-16 " KC20 " ;\n"
		       "spdadd 198.51.100.0/24 203.0.113.0/24 any -P out ipsec "
		       "esp/tunnel/192.0.2.1-192.0.2.2/unique:1 ;\n"
		       "spdadd 198.51.100.0/24 203.0.113.0/24 any -P in ipsec "
		       "esp/tunnel/192.0.2.2-192.0.2.1/unique:2 ;\n"
		       "spdadd 198.51.100.7 203.0.113.9[443] tcp ipsec esp/transport//unique:1 ;\n"
		       "spdadd 10.0.0.0/8 11.0.0.0/8 any ipsec esp/transport//unique:1 ;\n"
		       "spdadd 2001:db8:1::/48 2001:db8:2::/48 any ipsec "
		       "esp/tunnel/192.0.2.1-192.0.2.2/unique:1 ;\n"
		       "spdadd 2001:db8:1::/48 2001:db8:2::/48 any -P in ipsec "
		       "esp/transport//unique:3 ;\n");
	assert_int_equal(spd_count(f->spd), 6);
	/* four keys, and the two shadow keys of the tcp policy with a port */
	assert_int_equal(m->n_spd, 6);
	assert_int_equal(m->lists[0].count, 3);
	assert_int_equal(m->n_sa, 2);	/* SA 1 is outbound: not in the map */
	memcpy(calls, m->calls, sizeof(calls));
	/* SRC and DST are not used for the lookup: any addresses, any family */
	apply_quiet(f, "delete 2001:db8::ff 2001:db8::fe esp 0x1001 ;\n");
	assert_null(sad_by_spi(f->sad, 0x1001));
	assert_null(sad_by_uid(f->sad, 1));
	assert_int_equal(sad_count(f->sad), 2);
	assert_int_equal(spd_count(f->spd), 2);
	assert_int_equal(sa_find(m, 0x1001), -1);
	assert_int_equal(m->calls[OP_DEL_SA], calls[OP_DEL_SA]);	/* it wasn't there */
	assert_int_equal(m->n_sa, 2);
	assert_int_equal(m->n_spd, 2);	/* the shared keys keep their inbound halves */
	for (unsigned i = 0; i < m->n_spd; i++)
		assert_true(!m->val[i].out && m->val[i].in == ESPER_ACT_IPSEC);
	assert_int_equal(m->lists[0].count, 1);	/* /32 /32 tcp and /8 /8 unlisted */
	assert_int_equal(m->lists[1].count, 1);
	out = apply(f, "spddump ;\n");
	assert_string_equal(out, "# 2 SPs\n"
				 "# SP 2: in, ipsec, tunnel, SA UniqueID 2 (SPI 0x00001002)\n"
				 "spdadd 198.51.100.0/24 203.0.113.0/24 any -P in ipsec "
				 "esp/tunnel/192.0.2.2-192.0.2.1/unique:2 ;\n"
				 "# SP 6: in, ipsec, transport, SA UniqueID 3 (SPI 0x00001003)\n"
				 "spdadd 2001:db8:1::/48 2001:db8:2::/48 any -P in ipsec "
				 "esp/transport//unique:3 ;\n");
	free(out);
	/* gone: a second delete is refused, and the UniqueID is free again */
	assert_int_equal(run(f, "delete 192.0.2.1 192.0.2.2 esp 0x1001 ;", NULL, &errs), 1);
	assert_true(error_is("delete twice", errs, 1, AT("delete 192.0.2.1 192.0.2.2 esp "),
			     "no SA with SPI 0x1001"));
	free(errs);
	apply_quiet(f, "add 192.0.2.1 192.0.2.2 esp 0x1004 -u 1 -E aes-gcm-16 " KA20 " ;\n");
	/* an inbound SA leaves the map with its last policy */
	memcpy(calls, m->calls, sizeof(calls));
	apply_quiet(f, "delete 192.0.2.1 192.0.2.2 esp 0x1003 ;\n");
	assert_int_equal(m->calls[OP_DEL_SA], calls[OP_DEL_SA] + 1);
	assert_int_equal(sa_find(m, 0x1003), -1);
	assert_int_equal(spd_count(f->spd), 1);
	assert_int_equal(m->lists[1].count, 0);
	fx_free(f);
}

static void test_flush(void **state)
{
	struct fx *f = fx_rich();
	struct fake_maps *m = f->maps;
	char *out, *first = dumps(f), *again, *s1, *s2;

	(void)state;
	/* the SAs go with their policies; the policies that name no SA stay */
	out = apply(f, "flush ;\ndump ;\nspddump ;\n");
	assert_string_equal(out, "# 0 SAs\n# 4 SPs\n"
				 "# SP 14: out, discard\n"
				 "spdadd 198.51.100.0/24 192.0.2.0/24 any -P out discard ;\n"
				 "# SP 15: in, none\n"
				 "spdadd 192.0.2.0/24 198.51.100.0/28[22] tcp -P in none ;\n"
				 "# SP 16: in, discard\n"
				 "spdadd 2001:db8:ff::/48[53] 2001:db8:1::/48 udp -P in discard ;\n"
				 "# SP 17: out, none\n"
				 "spdadd 2001:db8:1::/48 2001:db8:ff::/48 icmp6 -P out none ;\n");
	free(out);
	assert_int_equal(sad_count(f->sad), 0);
	assert_int_equal(spd_count(f->spd), 4);
	assert_int_equal(m->n_sa, 0);
	assert_int_equal(m->n_spd, 6);	/* and the udp discard's two shadow keys */
	assert_int_equal(m->lists[0].count, 2);
	assert_int_equal(m->lists[1].count, 2);
	assert_int_equal(m->calls[OP_DEL_SA], m->calls[OP_SET_SA]);
	apply_quiet(f, "spdflush ;\n");
	assert_int_equal(spd_count(f->spd), 0);
	assert_int_equal(m->n_spd, 0);
	assert_int_equal(m->lists[0].count, 0);
	assert_int_equal(m->lists[1].count, 0);
	/* everything can be added again, and comes back the same */
	apply_quiet(f, rich_aes);
	apply_quiet(f, rich_gost);
	again = dumps(f);
	s1 = strip_comments(first);
	s2 = strip_comments(again);
	assert_string_equal(s1, s2);	/* the policies are numbered anew */
	free(first);
	free(again);
	free(s1);
	free(s2);
	apply_quiet(f, "flush ;\nflush ;\n");	/* flushing nothing is fine */
	fx_free(f);
}

static void test_spdflush(void **state)
{
	struct fx *f = fx_rich();
	struct fake_maps *m = f->maps;
	char *sas = apply(f, "dump ;\n"), *sas2, *out;
	unsigned n_sa = m->n_sa;

	(void)state;
	out = apply(f, "spdflush ;\nspddump ;\n");
	assert_string_equal(out, "# 0 SPs\n");
	free(out);
	sas2 = apply(f, "dump ;\n");
	/* the SAs stay, their directions now said by the SAs themselves (dir:) */
	assert_has_line(sas2, "\nadd 192.0.2.1 192.0.2.2 esp 0x1001 -u 1 -E aes-gcm-16 " KA20
			" dir:out ;\n");
	assert_has_line(sas2, "\nadd 192.0.2.2 192.0.2.1 esp 0x1002 -u 2 -E aes-gcm-16-esn " KA36
			" seq:0x0000000100000000 replay:65536 dir:in ;\n");
	for (char *d; (d = strstr(sas2, " dir:"));)	/* and nothing else changed */
		memmove(d, d + (d[5] == 'o' ? 8 : 7), strlen(d + (d[5] == 'o' ? 8 : 7)) + 1);
	assert_string_equal(sas, sas2);
	assert_int_equal(m->n_sa, n_sa);
	assert_int_equal(m->n_spd, 0);
	assert_int_equal(m->lists[0].count, 0);
	assert_int_equal(m->lists[1].count, 0);
	for (const struct sa *sa = sad_first(f->sad); sa; sa = sad_next(f->sad, sa))
		assert_true(list_empty(&sa->sps) && !sa->n_tunnel_sps && !sa->n_transport_sps);
	free(sas);
	free(sas2);
	apply_quiet(f, "spdflush ;\n");
	fx_free(f);
}

/* A packet's selectors, for spd_match and the fake maps. */
struct pkt {
	uint8_t src[16], dst[16];
	struct pkt_info pi;
};

static const struct pkt_info *pkt(struct pkt *p, const char *src, const char *dst,
				  uint8_t proto, int sport, int dport)
{
	struct ip_addr a;

	memset(p, 0, sizeof(*p));
	assert_int_equal(addr_parse(src, &a), 0);
	memcpy(p->src, a.a, 16);
	p->pi.family = a.family;
	assert_int_equal(addr_parse(dst, &a), 0);
	memcpy(p->dst, a.a, 16);
	p->pi.src = p->src;
	p->pi.dst = p->dst;
	p->pi.proto = proto;
	p->pi.has_ports = sport >= 0;
	p->pi.sport = htons((uint16_t)(sport >= 0 ? sport : 0));
	p->pi.dport = htons((uint16_t)(dport >= 0 ? dport : 0));
	return &p->pi;
}

/* The policy a packet matches (NULL: none) and whether it is opaque (a policy that is not
 * a bypass might match it ahead, by what can be read of it); XDP's maps must agree. */
static const struct sp *match_sp(struct fx *f, const char *src, const char *dst,
				 uint8_t proto, int sport, int dport, bool *opaque)
{
	struct pkt p;
	const struct pkt_info *pi = pkt(&p, src, dst, proto, sport, dport);
	bool map_opaque, out = false;
	const struct sp *sp = spd_match(f->spd, pi, opaque);
	uint32_t id = fake_lookup(f->maps, pi, &out, &map_opaque);

	assert_int_equal(id, sp ? sp->id : 0);
	assert_int_equal(map_opaque, *opaque);
	if (sp)
		assert_int_equal(out, sp->dir == SP_DIR_OUT);
	return sp;
}

/* The UniqueID of the policy a packet matches (0: none, or no SA: discard, none), which
 * must be opaque or not as want_opaque says. */
static uint32_t match_uid_op(struct fx *f, const char *src, const char *dst, uint8_t proto,
			     int sport, int dport, bool want_opaque)
{
	bool opaque;
	const struct sp *sp = match_sp(f, src, dst, proto, sport, dport, &opaque);

	assert_int_equal(opaque, want_opaque);
	return sp ? sp_params(sp).uid : 0;
}

static uint32_t match_uid(struct fx *f, const char *src, const char *dst, uint8_t proto,
			  int sport, int dport)
{
	return match_uid_op(f, src, dst, proto, sport, dport, false);
}

static void test_replace(void **state)
{
	struct fx *f = fx_new();
	struct fake_maps *m = f->maps;
	unsigned calls[OP_MAX];
	struct sa *sa1, *sa2, *sa4;
	bool opaque;
	char *out;

	(void)state;
	apply_quiet(f, "add 192.0.2.1 192.0.2.2 esp 0x1001 -u 1 -E aes-gcm-16 " KA20 " ;\n"
		       "add 192.0.2.1 192.0.2.2 esp 0x1002 -u 2 -E aes-gcm-16 " KB20 " ;\n"
		       "add 192.0.2.2 192.0.2.1 esp 0x1003 -u 3 -E aes-gcm-16 " KC20 " ;\n"
		       "add 192.0.2.1 192.0.2.2 esp 0x1004 -u 4 -E aes-gcm-16 " KD20 " ;\n"
		       "spdadd 198.51.100.0/24 203.0.113.0/24 any -P out ipsec "
		       "esp/tunnel/192.0.2.1-192.0.2.2/unique:1 ;\n"
		       "spdadd 198.51.100.0/24 203.0.113.0/24 any -P in ipsec "
		       "esp/tunnel/192.0.2.2-192.0.2.1/unique:3 ;\n"
		       "spdadd 10.0.0.0/8 10.0.0.0/8 any ipsec "
		       "esp/tunnel/192.0.2.1-192.0.2.2/unique:1 ;\n");
	sa1 = sad_by_uid(f->sad, 1);
	sa2 = sad_by_uid(f->sad, 2);
	sa4 = sad_by_uid(f->sad, 4);
	assert_int_equal(match_uid(f, "198.51.100.1", "203.0.113.1", 17, 1, 2), 1);
	/* no -P means out: it replaces SP 1 in one map write, in SP 1's place; SA 2 leaves
	 * the SA map as it becomes outbound */
	memcpy(calls, m->calls, sizeof(calls));
	apply_quiet(f, "spdadd 198.51.100.0/24 203.0.113.0/24 any ipsec "
		       "esp/transport//unique:2 ;\n");
	assert_int_equal(m->calls[OP_SET_ENTRY], calls[OP_SET_ENTRY] + 1);
	assert_int_equal(m->calls[OP_DEL_ENTRY], calls[OP_DEL_ENTRY]);
	assert_int_equal(m->calls[OP_SET_TUPLES], calls[OP_SET_TUPLES]);
	assert_int_equal(m->calls[OP_DEL_SA], calls[OP_DEL_SA] + 1);
	assert_true(sa_is_outbound(sa2));
	assert_int_equal(spd_count(f->spd), 3);
	assert_null(spd_by_id(f->spd, 1));
	assert_non_null(spd_by_id(f->spd, 4));
	assert_int_equal(spd_first(f->spd)->id, 4);
	assert_int_equal(match_uid(f, "198.51.100.1", "203.0.113.1", 17, 1, 2), 2);
	assert_int_equal(sa1->n_tunnel_sps, 1);
	assert_int_equal(sa2->n_transport_sps, 1);
	assert_int_equal(m->n_spd, 2);
	/* spdupdate likewise; the same selectors however written ([any], /32) */
	apply_quiet(f, "spdupdate 198.51.100.0/24[any] 203.0.113.0/24 any -P out ipsec "
		       "esp/tunnel/192.0.2.1-192.0.2.2/unique:4 ;\n"
		       "spdadd 192.0.2.5 192.0.2.6 udp ipsec esp/transport//unique:1 ;\n"
		       "spdupdate 192.0.2.5/32 192.0.2.6/32[any] udp -P out ipsec "
		       "esp/transport//unique:2 ;\n");
	assert_int_equal(spd_count(f->spd), 4);
	assert_int_equal(sa2->n_transport_sps, 1);
	assert_int_equal(match_uid(f, "198.51.100.1", "203.0.113.1", 17, 1, 2), 4);
	assert_int_equal(match_uid(f, "192.0.2.5", "192.0.2.6", 17, 1, 2), 2);
	/* another protocol, or the other direction, is another policy */
	apply_quiet(f, "spdadd 198.51.100.0/24 203.0.113.0/24 tcp ipsec "
		       "esp/transport//unique:1 ;\n"
		       "spdadd 192.0.2.5 192.0.2.6 udp -P in ipsec esp/transport//unique:3 ;\n");
	assert_int_equal(spd_count(f->spd), 6);
	out = apply(f, "spddump ;\n");
	assert_string_equal(
		out,
		"# 6 SPs\n"
		"# SP 5: out, ipsec, tunnel, SA UniqueID 4 (SPI 0x00001004)\n"
		"spdadd 198.51.100.0/24 203.0.113.0/24 any -P out ipsec "
		"esp/tunnel/192.0.2.1-192.0.2.2/unique:4 ;\n"
		"# SP 2: in, ipsec, tunnel, SA UniqueID 3 (SPI 0x00001003)\n"
		"spdadd 198.51.100.0/24 203.0.113.0/24 any -P in ipsec "
		"esp/tunnel/192.0.2.2-192.0.2.1/unique:3 ;\n"
		"# SP 3: out, ipsec, tunnel, SA UniqueID 1 (SPI 0x00001001)\n"
		"spdadd 10.0.0.0/8 10.0.0.0/8 any -P out ipsec "
		"esp/tunnel/192.0.2.1-192.0.2.2/unique:1 ;\n"
		"# SP 7: out, ipsec, transport, SA UniqueID 2 (SPI 0x00001002)\n"
		"spdadd 192.0.2.5/32 192.0.2.6/32 udp -P out ipsec esp/transport//unique:2 ;\n"
		"# SP 8: out, ipsec, transport, SA UniqueID 1 (SPI 0x00001001)\n"
		"spdadd 198.51.100.0/24 203.0.113.0/24 tcp -P out ipsec "
		"esp/transport//unique:1 ;\n"
		"# SP 9: in, ipsec, transport, SA UniqueID 3 (SPI 0x00001003)\n"
		"spdadd 192.0.2.5/32 192.0.2.6/32 udp -P in ipsec esp/transport//unique:3 ;\n");
	free(out);
	/* replaced by a discard or a bypass, a policy leaves its SA; outbound stays outbound */
	memcpy(calls, m->calls, sizeof(calls));
	apply_quiet(f, "spdupdate 198.51.100.0/24 203.0.113.0/24 any -P out discard ;\n"
		       "spdadd 192.0.2.5 192.0.2.6 udp -P in none ;\n");
	assert_int_equal(m->calls[OP_SET_ENTRY], calls[OP_SET_ENTRY] + 2);
	assert_int_equal(m->calls[OP_DEL_ENTRY], calls[OP_DEL_ENTRY]);
	assert_int_equal(m->calls[OP_SET_SA] + m->calls[OP_DEL_SA],
			 calls[OP_SET_SA] + calls[OP_DEL_SA]);
	assert_true(list_empty(&sa4->sps));
	assert_true(sa_is_outbound(sa4));
	assert_int_equal(sad_by_uid(f->sad, 3)->n_in_sps, 1);
	assert_int_equal(spd_count(f->spd), 6);
	assert_int_equal(match_uid(f, "198.51.100.1", "203.0.113.1", 17, 1, 2), 0);
	assert_int_equal(match_sp(f, "198.51.100.1", "203.0.113.1", 17, 1, 2, &opaque)->action,
			 SP_DISCARD);
	assert_false(opaque);
	out = apply(f, "spddump ;\n");
	assert_has_line(out, "# 6 SPs\n# SP 10: out, discard\n"
			     "spdadd 198.51.100.0/24 203.0.113.0/24 any -P out discard ;\n"
			     "# SP 2: in, ipsec, tunnel,");
	assert_has_line(out, "\n# SP 11: in, none\n"
			     "spdadd 192.0.2.5/32 192.0.2.6/32 udp -P in none ;\n");
	free(out);
	/* and back to ipsec, with another SA of the right direction */
	apply_quiet(f, "spdupdate 198.51.100.0/24 203.0.113.0/24 any -P out ipsec "
		       "esp/tunnel/192.0.2.1-192.0.2.2/unique:4 ;\n");
	assert_int_equal(match_uid(f, "198.51.100.1", "203.0.113.1", 17, 1, 2), 4);
	fx_free(f);
}

#define OUT_X "spdadd 198.51.100.0/25 203.0.113.0/24 any -P out ipsec " \
	"esp/tunnel/192.0.2.2-192.0.2.1/"
#define IN_Y "spdadd 203.0.113.0/25 198.51.100.0/24 any -P in ipsec " \
	"esp/tunnel/192.0.2.1-192.0.2.2/"

/* The direction an SA takes from the policies naming it, as the maps and dump show it. */
static void test_directions(void **state)
{
	struct fx *f = fx_new();
	struct fake_maps *m = f->maps;
	struct sa *x, *y;
	char *before, *after, *errs, *d;

	(void)state;
	apply_quiet(f, "add 192.0.2.2 192.0.2.1 esp 0x1001 -u 1 -E aes-gcm-16 " KA20 " ;\n"
		       "add 192.0.2.1 192.0.2.2 esp 0x1002 -u 2 -E aes-gcm-16 " KB20 " ;\n");
	x = sad_by_uid(f->sad, 1);
	y = sad_by_uid(f->sad, 2);
	/* added: both may decrypt */
	assert_int_equal(m->n_sa, 2);
	assert_false(sa_is_outbound(x) || sa_is_outbound(y));
	/* an in policy: X stays in the SA map, with the policy's selectors */
	apply_quiet(f, "spdadd 203.0.113.0/24 198.51.100.0/24 any -P in ipsec "
		       "esp/tunnel/192.0.2.2-192.0.2.1/unique:1 ;\n");
	assert_true(sa_find(m, 0x1001) >= 0);
	assert_false(sa_is_outbound(x));
	assert_int_equal(atomic_load(&x->in_sels)->n, 1);
	/* an out policy: Y leaves it */
	apply_quiet(f, "spdadd 198.51.100.0/24 203.0.113.0/24 any -P out ipsec "
		       "esp/tunnel/192.0.2.1-192.0.2.2/unique:2 ;\n");
	assert_int_equal(sa_find(m, 0x1002), -1);
	assert_true(sa_is_outbound(y));
	assert_null(atomic_load(&y->in_sels));
	d = apply(f, "dump ;\n");
	assert_has_line(d, "tfc 0, inbound\n#   out 0 packets 0 bytes, in 0 packets 0 bytes, "
			   "replay drops 0, ICV failures 0\nadd 192.0.2.2 192.0.2.1 esp 0x1001 ");
	assert_has_line(d, "tfc 0, outbound\n#   out 0 packets 0 bytes, in 0 packets 0 bytes, "
			   "replay drops 0, ICV failures 0\nadd 192.0.2.1 192.0.2.2 esp 0x1002 ");
	free(d);
	/* neither can be named the other way: refused, nothing changes */
	before = snapshot(f);
	assert_int_equal(run(f, OUT_X "unique:1 ;", NULL, &errs), 1);
	assert_true(error_is("out names X", errs, 1, AT(OUT_X),
			     "the SA with UniqueID 1 is inbound"));
	free(errs);
	assert_int_equal(run(f, IN_Y "unique:2 ;", NULL, &errs), 1);
	assert_true(error_is("in names Y", errs, 1, AT(IN_Y),
			     "the SA with UniqueID 2 is outbound"));
	free(errs);
	after = snapshot(f);
	assert_string_equal(before, after);
	free(after);
	/* discard and none name no SA: allowed in either direction, nothing changes for them */
	apply_quiet(f, "spdadd 198.51.100.0/25 203.0.113.0/24 any -P out discard ;\n"
		       "spdadd 203.0.113.0/25 198.51.100.0/24 any -P in none ;\n");
	assert_int_equal(m->n_sa, 1);
	assert_int_equal(x->n_in_sps + x->n_tunnel_sps + y->n_tunnel_sps, 3);
	/* outbound for good: without its policy Y still never decrypts */
	apply_quiet(f, "spdflush ;\n");
	assert_true(sa_is_outbound(y));
	assert_int_equal(sa_find(m, 0x1002), -1);
	assert_null(atomic_load(&x->in_sels));
	assert_int_equal(run(f, IN_Y "unique:2 ;", NULL, &errs), 1);
	assert_true(error_is("in names Y later", errs, 1, AT(IN_Y),
			     "the SA with UniqueID 2 is outbound"));
	free(errs);
	d = apply(f, "dump ;\n");
	assert_has_line(d, "tfc 0, outbound\n#   out 0 packets 0 bytes, in 0 packets 0 bytes, "
			   "replay drops 0, ICV failures 0\nadd 192.0.2.1 192.0.2.2 esp 0x1002 ");
	free(d);
	free(before);
	fx_free(f);
}

#define OUT_2 "spdadd 10.3.0.0/16 10.4.0.0/16 any -P out ipsec esp/tunnel/192.0.2.1-192.0.2.3/"
#define ADD_3 "add 192.0.2.1 192.0.2.2 esp 0x1003 -u 3 -E "

/* No two outbound SAs share a key; a key comes back only from where its last outbound SA
 * stopped, whatever its ESN setting; one that sent its last number never comes back. */
static void test_keys(void **state)
{
	struct fx *f = fx_new();
	char *before, *after, *errs;

	(void)state;
	apply_quiet(f, "add 192.0.2.1 192.0.2.2 esp 0x1001 -u 1 -E aes-gcm-16 " KA20 " ;\n"
		       "spdadd 10.1.0.0/16 10.2.0.0/16 any -P out ipsec "
		       "esp/tunnel/192.0.2.1-192.0.2.2/unique:1 ;\n");
	traffic(f, NULL, 0x1001, 5);	/* 1..5 */
	/* no second SA with the key, even from above where SA 1 is */
	before = snapshot(f);
	assert_int_equal(run(f, "add 192.0.2.1 192.0.2.3 esp 0x1002 -u 2 -E aes-gcm-16 " KA20
			     " seq:0x100 ;", NULL, &errs), 1);
	assert_true(error_is("shared key", errs, 1,
			     AT("add 192.0.2.1 192.0.2.3 esp 0x1002 -u 2 -E aes-gcm-16 "),
			     "another SA has this key"));
	free(errs);
	after = snapshot(f);
	assert_string_equal(before, after);
	free(before);
	free(after);
	/* SA 1 goes, having sent 1..5: its key resumes at 6 */
	apply_quiet(f, "delete 0.0.0.0 0.0.0.0 esp 0x1001 ;\n");
	before = snapshot(f);
	assert_int_equal(run(f, ADD_3 "aes-gcm-16 " KA20 " ;", NULL, &errs), 1);
	assert_true(error_is("below", errs, 1, AT(ADD_3 "aes-gcm-16 "),
			     "this key has sent sequence numbers up to 0x5 already: give a new "
			     "key, or seq:0x6 or more"));
	free(errs);
	assert_int_equal(run(f, ADD_3 "aes-gcm-16 " KA20 " seq:5 ;", NULL, &errs), 1);
	assert_true(error_is("just below", errs, 1, AT(ADD_3 "aes-gcm-16 "), "up to 0x5 already"));
	free(errs);
	assert_int_equal(run(f, ADD_3 "aes-gcm-16-esn " KA20 " ;", NULL, &errs), 1);
	assert_true(error_is("below, ESN", errs, 1, AT(ADD_3 "aes-gcm-16-esn "),
			     "up to 0x5 already"));
	free(errs);
	after = snapshot(f);
	assert_string_equal(before, after);
	free(before);
	free(after);
	/* at its resume point: accepted, and it may send again */
	apply_quiet(f, "add 192.0.2.1 192.0.2.2 esp 0x1003 -u 3 -E aes-gcm-16 " KA20
		       " seq:6 ;\n"
		       "spdadd 10.1.0.0/16 10.2.0.0/16 any -P out ipsec "
		       "esp/tunnel/192.0.2.1-192.0.2.2/unique:3 ;\n");
	traffic(f, NULL, 0x1003, 2);	/* 6, 7 */
	apply_quiet(f, "delete 0.0.0.0 0.0.0.0 esp 0x1003 ;\n"
		       "add 192.0.2.1 192.0.2.2 esp 0x1004 -u 4 -E aes-gcm-16-esn " KA20
		       " seq:0x100000000 ;\n");
	/* a key whose last SA sent 2^32-1 (without ESN: its last number) is spent */
	apply_quiet(f, "add 192.0.2.1 192.0.2.2 esp 0x1005 -u 5 -E aes-gcm-16 " KB20
		       " seq:0xffffffff ;\n"
		       "spdadd 10.5.0.0/16 10.6.0.0/16 any -P out ipsec "
		       "esp/tunnel/192.0.2.1-192.0.2.2/unique:5 ;\n");
	traffic(f, NULL, 0x1005, 1);
	apply_quiet(f, "delete 0.0.0.0 0.0.0.0 esp 0x1005 ;\n");
	assert_int_equal(run(f, ADD_3 "aes-gcm-16 " KB20 " seq:0xffffffff ;", NULL, &errs), 1);
	assert_true(error_is("spent", errs, 1, AT(ADD_3 "aes-gcm-16 "),
			     "this key has sent its last sequence number: give a new key"));
	free(errs);
	/* inbound SAs send nothing: their keys come back from anywhere once they are gone */
	apply_quiet(f, "add 192.0.2.2 192.0.2.1 esp 0x1007 -u 7 -E aes-gcm-16 " KC20 " ;\n"
		       "spdadd 10.2.0.0/16 10.1.0.0/16 any -P in ipsec "
		       "esp/tunnel/192.0.2.2-192.0.2.1/unique:7 ;\n"
		       "delete 0.0.0.0 0.0.0.0 esp 0x1007 ;\n"
		       "add 192.0.2.2 192.0.2.1 esp 0x1007 -u 7 -E aes-gcm-16 " KC20 " ;\n");
	fx_free(f);
}

/*
 * Two SAs never share a key (RFC 4106 8.1): SA 2 with SA 1's key is refused while SA 1 is
 * there, whatever its direction would be, so that no SA can later send the numbers another
 * sent; once SA 1 is gone, the key comes back only from where SA 1 stopped.
 */
static void test_key_released_while_named(void **state)
{
	struct fx *f = fx_new();
	char *errs;

	(void)state;
	apply_quiet(f, "add 192.0.2.1 192.0.2.2 esp 0x1001 -u 1 -E aes-gcm-16 " KA20 " ;\n"
		       "spdadd 10.1.0.0/16 10.2.0.0/16 any -P out ipsec "
		       "esp/tunnel/192.0.2.1-192.0.2.2/unique:1 ;\n");
	assert_int_equal(run(f, "add 192.0.2.1 192.0.2.2 esp 0x1002 -u 2 -E aes-gcm-16 " KA20
			     " ;", NULL, &errs), 1);
	assert_true(error_is("while SA 1 lives", errs, 1,
			     AT("add 192.0.2.1 192.0.2.2 esp 0x1002 -u 2 -E aes-gcm-16 "),
			     "another SA has this key"));
	free(errs);
	traffic(f, NULL, 0x1001, 3);	/* 1..3 */
	apply_quiet(f, "delete 0.0.0.0 0.0.0.0 esp 0x1001 ;\n");
	assert_int_equal(run(f, "add 192.0.2.1 192.0.2.2 esp 0x1002 -u 2 -E aes-gcm-16 " KA20
			     " ;", NULL, &errs), 1);
	assert_true(error_is("after SA 1", errs, 1,
			     AT("add 192.0.2.1 192.0.2.2 esp 0x1002 -u 2 -E aes-gcm-16 "),
			     "this key has sent sequence numbers up to 0x3 already"));
	free(errs);
	apply_quiet(f, "add 192.0.2.1 192.0.2.2 esp 0x1002 -u 2 -E aes-gcm-16 " KA20
		       " seq:4 ;\n");
	fx_free(f);
}

/*
 * A refused command changes nothing (cmd_exec.h), also when the SPD mirror refuses the
 * first out policy of an SA: the SA must not stay outbound (out of the SA map, its key
 * taken) for a policy that was never added.
 */
static void test_first_out_policy_refused(void **state)
{
	struct fx *f = fx_rich();
	char *before, *after, *errs, why[512];
	struct sa *sa;
	unsigned refused;
	bool ok;

	(void)state;
	add_fresh_sa(f);
	sa = sad_by_uid(f->sad, 36);
	before = snapshot(f);
	f->maps->fail_op = FAIL_SET_ENTRY;
	f->maps->fail_nth = 1;
	refused = run(f, SPDX "esp/tunnel/10.9.9.1-10.9.9.2/unique:36 ;", NULL, &errs);
	f->maps->fail_op = FAIL_NONE;
	after = snapshot(f);
	ok = refused == 1 && error_is("first out policy", errs, 1, 1, MAPFAIL) &&
	     !strcmp(before, after) && !sa_is_outbound(sa);
	snprintf(why, sizeof(why), "refused %u, the SA %s, %s", refused,
		 sa_is_outbound(sa) ? "made outbound" : "not outbound",
		 strcmp(before, after) ? "state changed" : "state unchanged");
	free(errs);
	free(before);
	free(after);
	/* once the map takes it, the same command passes */
	ok = ok && run(f, SPDX "esp/tunnel/10.9.9.1-10.9.9.2/unique:36 ;", NULL, NULL) == 0;
	fx_free(f);
	if (!ok)
		fail_msg("%s", why);
}

/* require:ID policies and the maps: before, with and after their SA, the maps hold their
 * keys (XDP sends their traffic to the workers, which drop it without the SA). */
static void test_require_mirror(void **state)
{
	struct fx *f = fx_new();
	char *out;

	(void)state;
	apply_quiet(f, "spdadd 198.51.100.0/24 203.0.113.0/24 any -P out ipsec "
		       "esp/tunnel/192.0.2.1-192.0.2.2/require:1 ;\n"
		       "spdadd 203.0.113.0/24 198.51.100.0/24 tcp -P in ipsec "
		       "esp/tunnel/192.0.2.2-192.0.2.1/require:2 ;\n");
	assert_int_equal(f->maps->n_sa, 0);
	apply_quiet(f, "add 192.0.2.1 192.0.2.2 esp 0x1001 -u 1 -E aes-gcm-16 " KA20 " ;\n"
		       "add 192.0.2.2 192.0.2.1 esp 0x2001 -u 2 -E aes-gcm-16 " KB20 " ;\n");
	assert_int_equal(f->maps->n_sa, 1);	/* the outbound one never decrypts */
	assert_true(sa_is_outbound(sad_by_spi(f->sad, 0x1001)));
	apply_quiet(f, "delete 192.0.2.1 192.0.2.2 esp 0x1001 ;\n"
		       "delete 192.0.2.2 192.0.2.1 esp 0x2001 ;\n");
	assert_int_equal(f->maps->n_sa, 0);
	out = apply(f, "spddump ;\n");
	assert_non_null(strstr(out, "# 2 SPs\n"));
	free(out);
	apply_quiet(f, "add 192.0.2.2 192.0.2.1 esp 0x2002 -u 2 -E aes-gcm-16 " KC20 " ;\n"
		       "spdflush ;\n");
	fx_free(f);
}

static void test_spddelete_ignored(void **state)
{
	struct fx *f = fx_rich();
	char *before = snapshot(f), *after, *out;

	(void)state;
	out = apply(f, "spddelete 198.51.100.0/24 203.0.113.0/24 any -P out ;\n"
		       "spddelete 0x1001 whatever -P in ipsec esp/tunnel// ;\n"
		       "spddelete ;\n");
	assert_string_equal(out, "");
	after = snapshot(f);
	assert_string_equal(before, after);
	free(out);
	free(before);
	free(after);
	fx_free(f);
}

/* --- the SPD order through commands -------------------------------------------------------- */

static const char order_policies[][120] = {
	"0.0.0.0/0 0.0.0.0/0 any -P out ipsec esp/transport//unique:1",
	"198.51.100.0/24 203.0.113.0/24 any ipsec esp/transport//unique:2",
	"198.51.100.7 203.0.113.0/24 any -P in ipsec esp/transport//unique:3",
	"198.51.100.0/24 203.0.113.9 any ipsec esp/transport//unique:4",
	"198.51.100.0/24 203.0.113.0/24 tcp ipsec esp/transport//unique:5",
	"198.51.100.0/24 203.0.113.0/24[80] tcp -P in ipsec esp/transport//unique:6",
	"198.51.100.0/24[1234] 203.0.113.0/24 tcp ipsec esp/transport//unique:7",
	"198.51.100.0/24 203.0.113.0/24 udp -P in ipsec esp/transport//unique:8",
	"198.51.100.0/24 203.0.113.0/24 udp -P out ipsec esp/transport//unique:9",
	"198.51.100.9 203.0.113.9 any ipsec esp/transport//unique:10",
	"2001:db8::/32 2001:db8::/32 any ipsec esp/transport//unique:11",
	"2001:db8::/32 2001:db8:1::/48 icmp6 -P in ipsec esp/transport//unique:12",
};

#define ORDER_N (sizeof(order_policies) / sizeof(order_policies[0]))

static struct fx *order_fx(bool reverse)
{
	struct fx *f = fx_new();
	char *cmd;

	for (unsigned i = 1; i <= ORDER_N; i++) {	/* SA i: a key of its own */
		assert_true(asprintf(&cmd, "add %s esp 0x%x -u %u -E aes-gcm-16 "
				     "0xa54dca182530bb1d6d132cded6237b2ed91e%04x ;\n",
				     i <= 10 ? "192.0.2.1 192.0.2.2" : "2001:db8::1 2001:db8::2",
				     0x1000 + i, i, i) > 0);
		apply_quiet(f, cmd);
		free(cmd);
	}
	for (unsigned i = 0; i < ORDER_N; i++) {
		assert_true(asprintf(&cmd, "spdadd %s ;\n",
				     order_policies[reverse ? ORDER_N - 1 - i : i]) > 0);
		apply_quiet(f, cmd);
		free(cmd);
	}
	return f;
}

static void test_order(void **state)
{
	(void)state;
	/* the order of the spdadd commands doesn't matter */
	for (int reverse = 0; reverse < 2; reverse++) {
		struct fx *f = order_fx(reverse);

		/* 1. longer src_plen + dst_plen first */
		assert_int_equal(match_uid(f, "192.0.2.1", "192.0.2.2", 17, 1, 2), 1);
		assert_int_equal(match_uid(f, "198.51.100.1", "203.0.113.1", 1, -1, -1), 2);
		assert_int_equal(match_uid(f, "198.51.100.7", "203.0.113.8", 1, -1, -1), 3);
		assert_int_equal(match_uid(f, "198.51.100.9", "203.0.113.9", 6, 1234, 80), 10);
		/* 2. equal sums (56): the longer destination first */
		assert_int_equal(match_uid(f, "198.51.100.7", "203.0.113.9", 1, -1, -1), 4);
		/* 3. protocol given first */
		assert_int_equal(match_uid(f, "198.51.100.1", "203.0.113.1", 6, 1111, 22), 5);
		/* without ports: 5, but 6 and 7, probed first, might match: opaque */
		assert_int_equal(match_uid_op(f, "198.51.100.1", "203.0.113.1", 6, -1, -1, true),
				 5);
		/* udp without ports: the same for 8 and 9, which need no port */
		assert_int_equal(match_uid(f, "198.51.100.1", "203.0.113.1", 17, -1, -1), 9);
		/* 4. destination port given first; 5. then source port */
		assert_int_equal(match_uid(f, "198.51.100.1", "203.0.113.1", 6, 1111, 80), 6);
		assert_int_equal(match_uid(f, "198.51.100.1", "203.0.113.1", 6, 1234, 80), 6);
		assert_int_equal(match_uid(f, "198.51.100.1", "203.0.113.1", 6, 1234, 22), 7);
		/* the same key in and out: out wins */
		assert_int_equal(match_uid(f, "198.51.100.1", "203.0.113.1", 17, 5, 6), 9);
		/* IPv6 is searched on its own */
		assert_int_equal(match_uid(f, "2001:db8::1", "2001:db8:1::1", 58, -1, -1), 12);
		assert_int_equal(match_uid(f, "2001:db8::1", "2001:db8:2::1", 58, -1, -1), 11);
		assert_int_equal(match_uid(f, "2001:db9::1", "2001:db8:2::1", 58, -1, -1), 0);
		/* remove the out half: the in policy of the key answers */
		apply_quiet(f, "delete 0.0.0.0 0.0.0.0 esp 0x1009 ;\n");
		assert_int_equal(match_uid(f, "198.51.100.1", "203.0.113.1", 17, 5, 6), 8);
		apply_quiet(f, "delete 0.0.0.0 0.0.0.0 esp 0x1008 ;\n");
		assert_int_equal(match_uid(f, "198.51.100.1", "203.0.113.1", 17, 5, 6), 2);
		apply_quiet(f, "delete 0.0.0.0 0.0.0.0 esp 0x1002 ;\n");
		assert_int_equal(match_uid(f, "198.51.100.1", "203.0.113.1", 17, 5, 6), 1);
		apply_quiet(f, "spdflush ;\n");
		assert_int_equal(match_uid(f, "198.51.100.1", "203.0.113.1", 17, 5, 6), 0);
		fx_free(f);
	}
}

/* With 64 IPv4 tuples, known shapes and the other family still take policies. */
static void test_tuple_limit(void **state)
{
	struct fx *f = fx_rich();

	(void)state;
	fill4(f);
	assert_int_equal(spd_tuples(f->spd, 0)->count, ESPER_MAX_TUPLES);
	apply_quiet(f, "spdadd 198.51.100.0/24 203.0.112.0/24 any ipsec "
		       "esp/tunnel/192.0.2.1-192.0.2.2/unique:1 ;\n"
		       "spdadd 2001:db8::77 2001:db8::78 any ipsec "
		       "esp/transport//unique:7 ;\n");
	assert_int_equal(run(f, "spdadd 192.0.2.77 192.0.2.78 any ipsec "
				"esp/transport//unique:1 ;\n", NULL, NULL), 1);
	/* freeing a shape makes room */
	apply_quiet(f, "delete 0.0.0.0 0.0.0.0 esp 0x1005 ;\n");	/* its icmp 0/0 policy */
	apply_quiet(f, "spdadd 192.0.2.77 192.0.2.78 any ipsec esp/transport//unique:1 ;\n");
	assert_int_equal(spd_tuples(f->spd, 0)->count, ESPER_MAX_TUPLES);
	fx_free(f);
}

static int group_setup(void **state)
{
	(void)state;
	return crypto_init(CRYPTO_AUTO) < 0 ? -1 : 0;
}

/* A rekey moves an inbound policy to the new SA (spdupdate with the same selectors): the
 * old SA, which the peer may still send on for a while, keeps accepting only what the
 * policy allowed (neither nothing nor everything), until it is deleted. */
static void test_rekey_keeps_inbound_selectors(void **state)
{
	struct fx *f = fx_new();
	const struct sa_sels *old, *new;

	(void)state;
	apply_quiet(f, "add 192.0.2.2 192.0.2.1 esp 0x2001 -u 1 -E aes-gcm-16 " KA20 " ;\n"
		       "add 192.0.2.2 192.0.2.1 esp 0x2002 -u 2 -E aes-gcm-16 " KB20 " ;\n"
		       "spdadd 203.0.113.0/24 198.51.100.0/24 any -P in ipsec "
		       "esp/tunnel/192.0.2.2-192.0.2.1/unique:1 ;\n"
		       "spdupdate 203.0.113.0/24 198.51.100.0/24 any -P in ipsec "
		       "esp/tunnel/192.0.2.2-192.0.2.1/unique:2 ;\n");
	old = atomic_load(&sad_by_uid(f->sad, 1)->in_sels);
	new = atomic_load(&sad_by_uid(f->sad, 2)->in_sels);
	assert_non_null(old);
	assert_non_null(new);
	assert_int_equal(old->n, 1);
	assert_int_equal(new->n, 1);
	assert_memory_equal(&old->sel[0], &new->sel[0], sizeof(old->sel[0]));
	assert_int_equal(sad_by_uid(f->sad, 1)->n_in_sps, 0);
	fx_free(f);
}

/* --- update: an SA moves (NAT, MOBIKE) ------------------------------------------------------ */

/* The outer destination and UDP destination port (0: bare ESP) of the next packet tx's
 * SA spi sends by its policy for 10.31.0.0/16. */
static void next_outer(struct fx *tx, uint32_t spi, char dst[ADDR_STRLEN], unsigned *dport)
{
	struct sa *sa = sad_by_spi(tx->sad, spi);
	uint8_t payload[20] = { 0 };
	struct ip_addr a = { .family = AF_INET };
	struct sp *sp, *by = NULL;
	struct fx_buf fb;
	const uint8_t *ip;

	list_for_each(sp, &sa->sps, sa_node)
		if (sp_params(sp).src.addr.a[1] == 31)
			by = sp;
	assert_non_null(by);
	fx_packet(&fb, AF_INET, 17, payload, sizeof(payload));
	assert_int_equal(esp_out(by, &fb.b, 0, 0, 0), 0);
	ip = fb.b.head + fb.b.off;
	memcpy(a.a, ip + 16, 4);
	addr_str(&a, dst);
	*dport = ip[9] == 17 ? (unsigned)(ip[22] << 8 | ip[23]) : 0;
	assert_true(ip[9] == 17 || ip[9] == 50);
}

/* An SA moves with its sequence numbers and its anti-replay window (the receiver still
 * refuses what it has seen, and takes what follows); its tunnel policies with the old
 * endpoints follow it, the others stay; the XDP map and the NAT-T destinations follow. */
static void test_update(void **state)
{
	static const char tx_conf[] =
		"add 192.0.2.1[4500] 198.51.100.1[4500] esp-udp 0x3001 -u 31 -E aes-gcm-16 " KF20
		" ;\n"
		"spdadd 10.31.0.0/16 10.32.0.0/16 any -P out ipsec "
		"esp/tunnel/192.0.2.1-198.51.100.1/unique:31 ;\n"
		"spdadd 10.33.0.0/16 10.34.0.0/16 any -P out ipsec "
		"esp/tunnel/192.0.2.1-198.51.100.2/unique:31 ;\n";
	static const char rx_conf[] =
		"add 192.0.2.1[4500] 198.51.100.1[4500] esp-udp 0x3001 -u 31 -E aes-gcm-16 " KF20
		" ;\n"
		"spdadd 10.31.0.0/16 10.32.0.0/16 any -P in ipsec "
		"esp/tunnel/192.0.2.1-198.51.100.1/unique:31 ;\n";
	static const char moved[] = "update 192.0.2.1[4500] 198.51.100.77[31337] esp-udp 0x3001 ;\n";
	struct fx *tx = fx_new(), *rx = fx_new();
	char dst[ADDR_STRLEN], *d;
	unsigned dport;

	(void)state;
	apply_quiet(tx, tx_conf);
	apply_quiet(rx, rx_conf);
	/* only an SA that may decrypt makes a place to take ESP in UDP at */
	assert_int_equal(tx->maps->n_natt, 0);
	assert_int_equal(rx->maps->n_natt, 1);
	assert_int_equal(natt_find(rx->maps, "198.51.100.1[4500]"), 0);
	traffic(tx, rx, 0x3001, 3);
	next_outer(tx, 0x3001, dst, &dport);	/* number 4, never received */
	assert_string_equal(dst, "198.51.100.1");
	assert_int_equal(dport, 4500);

	apply_quiet(tx, moved);
	apply_quiet(rx, moved);
	assert_int_equal(atomic_load(&sad_by_spi(tx->sad, 0x3001)->seq_next), 5);
	assert_int_equal(tx->maps->n_natt, 0);
	assert_int_equal(rx->maps->n_natt, 1);
	assert_int_equal(natt_find(rx->maps, "198.51.100.77[31337]"), 0);
	assert_int_equal(rx->maps->n_sa, 1);
	d = dumps(tx);
	assert_has_line(d, "\nadd 192.0.2.1[4500] 198.51.100.77[31337] esp-udp 0x3001 -u 31 -E "
			   "aes-gcm-16 " KF20 " seq:0x00000005 ;\n");
	assert_has_line(d, "\nspdadd 10.31.0.0/16 10.32.0.0/16 any -P out ipsec "
			   "esp/tunnel/192.0.2.1-198.51.100.77/unique:31 ;\n");
	assert_has_line(d, "\nspdadd 10.33.0.0/16 10.34.0.0/16 any -P out ipsec "
			   "esp/tunnel/192.0.2.1-198.51.100.2/unique:31 ;\n");
	free(d);
	next_outer(tx, 0x3001, dst, &dport);	/* number 5: the receiver takes 6 on */
	assert_string_equal(dst, "198.51.100.77");
	assert_int_equal(dport, 31337);
	traffic(tx, rx, 0x3001, 2);		/* fails if either side lost its state */

	/* the NAT is gone: bare ESP again */
	apply_quiet(tx, "update 192.0.2.1 198.51.100.77 esp 0x3001 ;\n");
	apply_quiet(rx, "update 192.0.2.1 198.51.100.77 esp 0x3001 ;\n");
	assert_int_equal(tx->maps->n_natt + rx->maps->n_natt, 0);
	next_outer(tx, 0x3001, dst, &dport);
	assert_int_equal(dport, 0);
	traffic(tx, rx, 0x3001, 2);
	assert_int_equal(sa_counter(sad_by_spi(rx->sad, 0x3001), SA_C_in_packets), 7);
	assert_int_equal(sa_counter(sad_by_spi(rx->sad, 0x3001), SA_C_replay), 0);
	check_round_trip(tx, false);	/* the moved policy has a new id */
	fx_free(tx);
	fx_free(rx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_invalid_changes_nothing),
		cmocka_unit_test(test_semantic_errors),
		cmocka_unit_test(test_gost_availability),
		cmocka_unit_test(test_exec_stream),
		cmocka_unit_test(test_round_trip_rich),
		cmocka_unit_test(test_round_trip_peer),
		cmocka_unit_test(test_round_trip_traffic),
		cmocka_unit_test(test_round_trip_after_changes),
		cmocka_unit_test(test_default_window_follows_workers),
		cmocka_unit_test(test_dump_exhausted),
		cmocka_unit_test(test_dump_format),
		cmocka_unit_test(test_spigrp),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_delete),
		cmocka_unit_test(test_flush),
		cmocka_unit_test(test_spdflush),
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_directions),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_key_released_while_named),
		cmocka_unit_test(test_first_out_policy_refused),
		cmocka_unit_test(test_rekey_keeps_inbound_selectors),
		cmocka_unit_test(test_spddelete_ignored),
		cmocka_unit_test(test_require_mirror),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_tuple_limit),
		cmocka_unit_test(test_update),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
