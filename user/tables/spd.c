// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * spd.c - the SPD (RFC 4301 4.4.1) as a tuple-space search: one hash of entries keyed by
 * struct esper_spd_key (each entry holds at most one outbound and one inbound policy), the
 * shadow keys of the policies that need ports or a protocol (refcounted; see esper_abi.h,
 * "failing closed"), and per address family the ordered list of tuples in use, published
 * whole (the same struct esper_tuple_list the XDP program reads). spd_match probes the
 * tuples in order; its cost grows with the tuples in use, never with the number of policies.
 * Also owns what the policies tell their SAs: the inbound selectors (RFC 4301 5.2), and
 * the require:ID policies waiting for their SA, by UniqueID (bound in place when it comes).
 * Written by the command executor only (spd_add, spd_remove*, spd_bind, spd_unbind); read
 * by the datapath.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/htab.h"
#include "lib/log.h"
#include "lib/rcu.h"
#include "lib/slab.h"
#include "sad.h"
#include "spd.h"

struct spd_entry {
	struct esper_spd_key key;
	struct sp *_Atomic slot[2];	/* [SP_DIR_OUT], [SP_DIR_IN] */
};

struct shadow {
	struct esper_spd_key key;
	unsigned refs;			/* policies leaving this shadow */
};

/* The require:ID policies waiting for UniqueID uid. */
struct waiting {
	uint32_t uid;
	struct list sps;		/* struct sp, sa_node */
};

struct tuple_set {
	struct esper_tuple_list *_Atomic list;	/* published, replaced whole */
	uint32_t refs[ESPER_MAX_TUPLES];	/* entries per tuple, parallel to list->t */
};

struct spd {
	struct htab *entries;
	struct htab *shadows;
	struct htab *by_id;
	struct htab *waiting;		/* struct waiting by UniqueID */
	struct tuple_set set[2];	/* IPv4, IPv6 */
	struct list sps;		/* insertion order */
	size_t count;
	uint32_t next_id;
	bool ids_wrapped;		/* next_id has passed 2^32 - 1: ids may be in use */
	struct spd_mirror mirror;
};

/* Policies and entries of every SPD: two slabs (lib/slab.h). */
static struct slab sp_slab = SLAB_INIT(struct sp, 8);
static struct slab entry_slab = SLAB_INIT(struct spd_entry, 8);

static inline unsigned family_idx(uint8_t family)
{
	return family == ESPER_AF_INET6;
}

static bool key_eq(const void *obj, const void *key)
{
	return memcmp(obj, key, sizeof(struct esper_spd_key)) == 0;	/* the key comes first */
}

static bool id_eq(const void *obj, const void *key)
{
	return ((const struct sp *)obj)->id == *(const uint32_t *)key;
}

static bool uid_eq(const void *obj, const void *key)
{
	return ((const struct waiting *)obj)->uid == *(const uint32_t *)key;
}

/* by_id is hashed by the id itself: ids are ours, handed out in sequence (next_free_id),
 * so the low bits spread them over the buckets, and spd_by_id (what a worker calls for
 * XDP's policy id) needs neither a hash function nor an equality call (htab_find_key32). */
static inline uint64_t id_hash(uint32_t id)
{
	return id;
}

static inline uint64_t key_hash(const struct esper_spd_key *k)
{
	return hash_bytes(k, sizeof(*k));
}

static int no_set_entry(void *ctx, const struct esper_spd_key *k, const struct esper_spd_val *v)
{
	(void)ctx, (void)k, (void)v;
	return 0;
}

static int no_del_entry(void *ctx, const struct esper_spd_key *k)
{
	(void)ctx, (void)k;
	return 0;
}

static int no_set_tuples(void *ctx, unsigned idx, const struct esper_tuple_list *l)
{
	(void)ctx, (void)idx, (void)l;
	return 0;
}

static const struct spd_mirror no_mirror = { no_set_entry, no_del_entry, no_set_tuples, NULL };

struct spd *spd_new(void)
{
	struct spd *spd = calloc(1, sizeof(*spd));

	if (!spd)
		return NULL;
	list_init(&spd->sps);
	spd->entries = htab_new(key_eq);
	spd->shadows = htab_new(key_eq);
	spd->by_id = htab_new(id_eq);
	spd->waiting = htab_new(uid_eq);
	spd->set[0].list = calloc(1, sizeof(struct esper_tuple_list));
	spd->set[1].list = calloc(1, sizeof(struct esper_tuple_list));
	spd->next_id = 1;
	spd->mirror = no_mirror;
	if (!spd->entries || !spd->shadows || !spd->by_id || !spd->waiting ||
	    !spd->set[0].list || !spd->set[1].list) {
		spd_free(spd);
		return NULL;
	}
	return spd;
}

static void free_obj(void *obj, void *arg)
{
	(void)arg;
	free(obj);
}

static void entry_free(void *e)
{
	slab_free(&entry_slab, e);
}

static void free_entry(void *e, void *arg)
{
	(void)arg;
	entry_free(e);
}

void spd_free(struct spd *spd)
{
	struct sp *sp;

	if (!spd)
		return;
	list_for_each(sp, &spd->sps, node)
		sp_free(sp);
	if (spd->entries)
		htab_foreach(spd->entries, free_entry, NULL);
	if (spd->shadows)
		htab_foreach(spd->shadows, free_obj, NULL);
	if (spd->waiting)
		htab_foreach(spd->waiting, free_obj, NULL);
	htab_free(spd->entries);
	htab_free(spd->shadows);
	htab_free(spd->by_id);
	htab_free(spd->waiting);
	free(spd->set[0].list);
	free(spd->set[1].list);
	free(spd);
}

void spd_set_mirror(struct spd *spd, const struct spd_mirror *m)
{
	spd->mirror = m ? *m : no_mirror;
}

/* --- policies and their keys ----------------------------------------------------------- */

static void key_of(const struct sp_params *c, struct esper_spd_key *k)
{
	unsigned alen = c->src.addr.family == AF_INET ? 4 : 16;

	memset(k, 0, sizeof(*k));
	k->family = c->src.addr.family == AF_INET ? ESPER_AF_INET : ESPER_AF_INET6;
	k->src_plen = c->src.plen;
	k->dst_plen = c->dst.plen;
	if (c->proto != SP_PROTO_ANY) {
		k->flags |= ESPER_T_PROTO;
		k->proto = c->proto;
	}
	if (c->src.has_port) {
		k->flags |= ESPER_T_SPORT;
		k->sport = htons(c->src.port);
	}
	if (c->dst.has_port) {
		k->flags |= ESPER_T_DPORT;
		k->dport = htons(c->dst.port);
	}
	memcpy(k->src, c->src.addr.a, alen);
	memcpy(k->dst, c->dst.addr.a, alen);
	addr_mask(k->src, alen, k->src_plen);
	addr_mask(k->dst, alen, k->dst_plen);
}

struct sp *sp_new(const struct sp_params *c, struct sa *sa)
{
	struct sp *sp = slab_alloc(&sp_slab);

	if (!sp)
		return NULL;
	memset(sp, 0, sizeof(*sp));
	sp->dir = (uint8_t)c->dir;
	sp->action = (uint8_t)c->action;
	sp->mode = (uint8_t)c->mode;
	sp->tsrc = c->tsrc;
	sp->tdst = c->tdst;
	sp->sa = c->action == SP_IPSEC ? sa : NULL;
	sp->uid = c->action == SP_IPSEC ? c->uid : 0;
	sp->require = c->require;
	list_init(&sp->sa_node);
	list_init(&sp->node);
	key_of(c, &sp->key);
	return sp;
}

void sp_free(struct sp *sp)
{
	slab_free(&sp_slab, sp);
}

static struct sp_sel sel_of_key(uint8_t family, const uint8_t *a, uint8_t plen, bool has_port,
				__be16 port)
{
	struct sp_sel s = { .addr.family = family, .plen = plen, .has_port = has_port,
			    .port = ntohs(port) };

	memcpy(s.addr.a, a, 16);
	return s;
}

struct sp_params sp_params(const struct sp *sp)
{
	const struct esper_spd_key *k = &sp->key;
	uint8_t family = k->family == ESPER_AF_INET ? AF_INET : AF_INET6;
	struct sp_params c = {
		.src = sel_of_key(family, k->src, k->src_plen, k->flags & ESPER_T_SPORT, k->sport),
		.dst = sel_of_key(family, k->dst, k->dst_plen, k->flags & ESPER_T_DPORT, k->dport),
		.proto = k->flags & ESPER_T_PROTO ? k->proto : SP_PROTO_ANY,
		.dir = (enum sp_dir)sp->dir,
		.action = (enum sp_action)sp->action,
		.mode = (enum sp_mode)sp->mode,
		.tsrc = sp->tsrc,
		.tdst = sp->tdst,
		.uid = sp->uid,
		.require = sp->require,
	};

	return c;
}

static void sp_free_deferred(void *p)
{
	sp_free(p);
}

bool spd_packet_opaque(const struct pkt_info *pi)
{
	return pi->proto == PKT_PROTO_UNKNOWN ||
	       ((pi->proto == 6 || pi->proto == 17) && !pi->has_ports);
}

/* Does tuple t need what the packet lacks: ports it has none of, a protocol it can't tell? */
static bool lacks(const struct pkt_info *pi, const struct esper_tuple *t)
{
	return ((t->flags & (ESPER_T_SPORT | ESPER_T_DPORT)) && !pi->has_ports) ||
	       ((t->flags & ESPER_T_PROTO) && pi->proto == PKT_PROTO_UNKNOWN);
}

static void mask_addrs(const struct pkt_info *pi, const struct esper_tuple *t,
		       struct esper_spd_key *k)
{
	unsigned alen = pi->family == AF_INET ? 4 : 16;

	k->family = pi->family == AF_INET ? ESPER_AF_INET : ESPER_AF_INET6;
	k->src_plen = t->src_plen;
	k->dst_plen = t->dst_plen;
	memcpy(k->src, pi->src, alen);
	memcpy(k->dst, pi->dst, alen);
	addr_mask(k->src, alen, t->src_plen);
	addr_mask(k->dst, alen, t->dst_plen);
}

bool spd_packet_key(const struct pkt_info *pi, const struct esper_tuple *t,
		    struct esper_spd_key *k)
{
	if (lacks(pi, t))
		return false;
	memset(k, 0, sizeof(*k));
	mask_addrs(pi, t, k);
	k->flags = t->flags;
	if (t->flags & ESPER_T_PROTO)
		k->proto = pi->proto;
	if (t->flags & ESPER_T_SPORT)
		k->sport = pi->sport;
	if (t->flags & ESPER_T_DPORT)
		k->dport = pi->dport;
	return true;
}

void spd_shadow_key(const struct pkt_info *pi, const struct esper_tuple *t,
		    struct esper_spd_key *k)
{
	memset(k, 0, sizeof(*k));
	mask_addrs(pi, t, k);
	k->flags = t->flags | ESPER_K_SHADOW;
	if ((t->flags & ESPER_T_PROTO) && pi->proto == PKT_PROTO_UNKNOWN)
		k->flags |= ESPER_K_NOPROTO;
	else if (t->flags & ESPER_T_PROTO)
		k->proto = pi->proto;
}

/* The shadow keys policy key k leaves (0, 1 or 2 of them): without its ports, and without
 * its protocol. */
static unsigned shadows_of(const struct esper_spd_key *k, struct esper_spd_key out[2])
{
	unsigned n = 0;

	if (k->flags & (ESPER_T_SPORT | ESPER_T_DPORT)) {
		out[n] = *k;
		out[n].flags |= ESPER_K_SHADOW;
		out[n].sport = out[n].dport = 0;
		n++;
	}
	if (k->flags & ESPER_T_PROTO) {
		out[n] = *k;
		out[n].flags |= ESPER_K_SHADOW | ESPER_K_NOPROTO;
		out[n].proto = 0;
		out[n].sport = out[n].dport = 0;
		n++;
	}
	return n;
}

static bool leaves_shadows(const struct sp *sp)
{
	return sp->action != SP_BYPASS;
}

/* --- tuples ---------------------------------------------------------------------------- */

static struct esper_tuple tuple_of(const struct esper_spd_key *k)
{
	return (struct esper_tuple){ .src_plen = k->src_plen, .dst_plen = k->dst_plen,
				     .flags = k->flags };
}

int spd_tuple_cmp(const struct esper_tuple *a, const struct esper_tuple *b)
{
	static const uint8_t flag_order[] = { ESPER_T_PROTO, ESPER_T_DPORT, ESPER_T_SPORT };
	int sa = a->src_plen + a->dst_plen, sb = b->src_plen + b->dst_plen;

	if (sa != sb)
		return sb - sa;
	if (a->dst_plen != b->dst_plen)
		return b->dst_plen - a->dst_plen;
	for (unsigned i = 0; i < sizeof(flag_order); i++)
		if ((a->flags ^ b->flags) & flag_order[i])
			return (b->flags & flag_order[i]) ? 1 : -1;
	return 0;
}

/* Index of t in the list, or -(insertion point) - 1. */
static int tuple_find(const struct esper_tuple_list *l, const struct esper_tuple *t)
{
	unsigned i = 0;

	for (; i < l->count; i++) {
		int c = spd_tuple_cmp(&l->t[i], t);

		if (c == 0)
			return (int)i;
		if (c > 0)
			break;
	}
	return -(int)i - 1;
}

static struct tuple_set *set_of(struct spd *spd, const struct esper_spd_key *k)
{
	return &spd->set[family_idx(k->family)];
}

bool spd_tuple_full(const struct spd *spd, const struct sp *sp)
{
	const struct esper_tuple_list *l = spd_tuples(spd, family_idx(sp->key.family));
	struct esper_tuple t = tuple_of(&sp->key);

	return tuple_find(l, &t) < 0 && l->count >= ESPER_MAX_TUPLES;
}

/* A copy of the list with t inserted at pos. */
static struct esper_tuple_list *list_with(const struct esper_tuple_list *l, unsigned pos,
					  const struct esper_tuple *t)
{
	struct esper_tuple_list *n = malloc(sizeof(*n));

	if (!n)
		return NULL;
	*n = *l;
	memmove(&n->t[pos + 1], &n->t[pos], (l->count - pos) * sizeof(n->t[0]));
	n->t[pos] = *t;
	n->count++;
	return n;
}

static struct esper_tuple_list *list_without(const struct esper_tuple_list *l, unsigned pos)
{
	struct esper_tuple_list *n = malloc(sizeof(*n));

	if (!n)
		return NULL;
	*n = *l;
	memmove(&n->t[pos], &n->t[pos + 1], (l->count - pos - 1) * sizeof(n->t[0]));
	memset(&n->t[--n->count], 0, sizeof(n->t[0]));
	return n;
}

static void publish_list(struct tuple_set *s, struct esper_tuple_list *n)
{
	struct esper_tuple_list *old = atomic_load(&s->list);

	atomic_store_explicit(&s->list, n, memory_order_release);
	rcu_defer(free, old);
}

static void refs_insert(struct tuple_set *s, unsigned pos, unsigned count)
{
	memmove(&s->refs[pos + 1], &s->refs[pos], (count - pos) * sizeof(s->refs[0]));
	s->refs[pos] = 1;
}

static void refs_remove(struct tuple_set *s, unsigned pos, unsigned count)
{
	memmove(&s->refs[pos], &s->refs[pos + 1], (count - pos - 1) * sizeof(s->refs[0]));
}

/* --- shadow keys ----------------------------------------------------------------------- */

static struct shadow *shadow_find(const struct spd *spd, const struct esper_spd_key *k)
{
	return htab_find(spd->shadows, key_hash(k), k);
}

/* One more policy leaves the shadow key k: mirrored when it is the first. */
static int shadow_ref(struct spd *spd, const struct esper_spd_key *k)
{
	static const struct esper_spd_val zero;
	const struct spd_mirror *m = &spd->mirror;
	struct shadow *s = shadow_find(spd, k);
	int err;

	if (s) {
		s->refs++;
		return 0;
	}
	s = calloc(1, sizeof(*s));
	if (!s || htab_reserve(spd->shadows, 1) < 0) {
		free(s);
		return -ENOMEM;
	}
	err = m->set_entry(m->ctx, k, &zero);
	if (err) {
		free(s);
		return err;
	}
	s->key = *k;
	s->refs = 1;
	htab_insert(spd->shadows, key_hash(k), s);
	return 0;
}

static void shadow_unref(struct spd *spd, const struct esper_spd_key *k)
{
	const struct spd_mirror *m = &spd->mirror;
	struct shadow *s = shadow_find(spd, k);

	if (!s || --s->refs)
		return;
	if (m->del_entry(m->ctx, k) < 0)
		log_warnx("spd: could not delete a shadow key from the BPF map");
	htab_remove(spd->shadows, key_hash(k), k);
	rcu_defer(free, s);
}

/* The shadow keys of sp, before the policy itself becomes visible. */
static int shadows_add(struct spd *spd, const struct sp *sp)
{
	struct esper_spd_key sk[2];
	unsigned n = leaves_shadows(sp) ? shadows_of(&sp->key, sk) : 0;

	for (unsigned i = 0; i < n; i++) {
		int err = shadow_ref(spd, &sk[i]);

		if (err) {
			while (i--)
				shadow_unref(spd, &sk[i]);
			return err;
		}
	}
	return 0;
}

static void shadows_remove(struct spd *spd, const struct sp *sp)
{
	struct esper_spd_key sk[2];
	unsigned n = leaves_shadows(sp) ? shadows_of(&sp->key, sk) : 0;

	for (unsigned i = 0; i < n; i++)
		shadow_unref(spd, &sk[i]);
}

/* --- entries --------------------------------------------------------------------------- */

static struct spd_entry *entry_find(const struct spd *spd, const struct esper_spd_key *k)
{
	return htab_find(spd->entries, key_hash(k), k);
}

/* The BPF value of an entry whose slot dir holds sp (NULL: empty). */
static struct esper_spd_val value_with(const struct spd_entry *e, enum sp_dir dir,
				       const struct sp *sp)
{
	struct esper_spd_val v = { 0 };
	const struct sp *s[2] = { NULL, NULL };

	if (e) {
		s[0] = atomic_load(&e->slot[0]);
		s[1] = atomic_load(&e->slot[1]);
	}
	s[dir] = sp;
	if (s[SP_DIR_OUT]) {
		v.out = (uint8_t)(ESPER_ACT_IPSEC + s[SP_DIR_OUT]->action);
		v.out_id = s[SP_DIR_OUT]->id;
	}
	if (s[SP_DIR_IN]) {
		v.in = (uint8_t)(ESPER_ACT_IPSEC + s[SP_DIR_IN]->action);
		v.in_id = s[SP_DIR_IN]->id;
	}
	return v;
}

struct sp *spd_find_same(const struct spd *spd, const struct sp *sp)
{
	struct spd_entry *e = entry_find(spd, &sp->key);

	return e ? atomic_load(&e->slot[sp->dir]) : NULL;
}

/* Ids count up from 1; until they wrap, none can be in use (no lookup). */
static uint32_t next_free_id(struct spd *spd)
{
	uint32_t id;

	do {
		id = spd->next_id++;
		if (id == 0)
			spd->ids_wrapped = true;
	} while (id == 0 || (spd->ids_wrapped && spd_by_id(spd, id)));
	return id;
}

/* --- what the policies tell their SAs ---------------------------------------------------- */

static struct sa_sel sel_of(const struct sp *sp)
{
	struct sa_sel s = {
		.family = sp->key.family == ESPER_AF_INET ? AF_INET : AF_INET6,
		.proto = sp->key.flags & ESPER_T_PROTO ? sp->key.proto : SP_PROTO_ANY,
		.src_plen = sp->key.src_plen,
		.dst_plen = sp->key.dst_plen,
		.tunnel = sp->mode == SP_MODE_TUNNEL,
		.sport = sp->key.sport,
		.dport = sp->key.dport,
	};

	memcpy(s.src, sp->key.src, 16);
	memcpy(s.dst, sp->key.dst, 16);
	return s;
}

static bool names_inbound(const struct sp *sp)
{
	return sp->dir == SP_DIR_IN && sp->action == SP_IPSEC;
}

/* The selectors of the inbound ipsec policies of list l (struct sp, sa_node), at most n;
 * NULL if there is none, or no memory (reported). */
static struct sa_sels *sels_of(const struct list *l, unsigned n, uint32_t spi, bool *nomem)
{
	struct sa_sels *sels;
	struct sp *sp;

	*nomem = false;
	if (!n)
		return NULL;
	sels = malloc(sizeof(*sels) + n * sizeof(sels->sel[0]));
	if (!sels) {
		log_warnx("spd: no memory for the inbound selectors of SA 0x%x", spi);
		*nomem = true;
		return NULL;
	}
	sels->n = 0;
	list_for_each(sp, l, sa_node)
		if (names_inbound(sp) && sels->n < n)
			sels->sel[sels->n++] = sel_of(sp);
	return sels;
}

/* Publish the selectors of the inbound ipsec policies naming sa (RFC 4301 5.2). */
static void sa_in_sels_update(struct sa *sa)
{
	bool nomem;
	struct sa_sels *sels = sels_of(&sa->sps, sa->n_in_sps, sa->spi, &nomem);

	if (!nomem)	/* else keep the old set; a policy removed from it may still be accepted */
		sa_set_in_sels(sa, sels);
}

/* --- require:ID policies waiting for their SA -------------------------------------------- */

static struct waiting *waiting_find(const struct spd *spd, uint32_t uid)
{
	return htab_find(spd->waiting, hash_u32(uid), &uid);
}

/* Room for sp's group, before anything is published (so waiting_link can't fail). */
static int waiting_reserve(struct spd *spd, const struct sp *sp, struct waiting **w)
{
	*w = NULL;
	if (sp->action != SP_IPSEC || sp->sa || waiting_find(spd, sp->uid))
		return 0;
	*w = calloc(1, sizeof(**w));
	if (!*w || htab_reserve(spd->waiting, 1) < 0) {
		free(*w);
		*w = NULL;
		return -ENOMEM;
	}
	(*w)->uid = sp->uid;
	list_init(&(*w)->sps);
	return 0;
}

static void waiting_link(struct spd *spd, struct sp *sp, struct waiting *fresh)
{
	struct waiting *w = waiting_find(spd, sp->uid);

	if (!w) {
		w = fresh;
		htab_insert(spd->waiting, hash_u32(w->uid), w);
	} else {
		free(fresh);
	}
	list_add_tail(&w->sps, &sp->sa_node);
}

static void waiting_drop(struct spd *spd, struct waiting *w)
{
	htab_remove(spd->waiting, hash_u32(w->uid), &w->uid);
	rcu_defer(free, w);
}

static void waiting_unlink(struct spd *spd, struct sp *sp)
{
	struct waiting *w = waiting_find(spd, sp->uid);

	list_del(&sp->sa_node);
	if (w && list_empty(&w->sps))
		waiting_drop(spd, w);
}

const struct list *spd_waiting(const struct spd *spd, uint32_t uid)
{
	struct waiting *w = waiting_find(spd, uid);

	return w ? &w->sps : NULL;
}

/* --- policies and their SAs ------------------------------------------------------------ */

/* sels: publish the SA's inbound selectors anew (else the caller does, once for several). */
static void sa_link(struct sp *sp, bool sels)
{
	struct sa *sa = sp->sa;

	if (!sa)
		return;
	list_add_tail(&sa->sps, &sp->sa_node);
	if (sp->mode == SP_MODE_TUNNEL)
		sa->n_tunnel_sps++;
	else
		sa->n_transport_sps++;
	if (names_inbound(sp)) {
		atomic_fetch_or_explicit(&sa->flags, SA_INBOUND, memory_order_release);
		sa->n_in_sps++;
		if (sels)
			sa_in_sels_update(sa);
	}
}

/* keep_sels: the policy is replaced by one naming another SA (a rekey): its SA keeps
 * accepting what the policy allowed, not anything, while the peer still sends on it. */
static void sa_unlink(struct spd *spd, struct sp *sp, bool keep_sels)
{
	struct sa *sa = sp->sa;

	if (!sa) {
		if (sp->action == SP_IPSEC)
			waiting_unlink(spd, sp);
		return;
	}
	list_del(&sp->sa_node);
	if (sp->mode == SP_MODE_TUNNEL)
		sa->n_tunnel_sps--;
	else
		sa->n_transport_sps--;
	if (names_inbound(sp)) {
		sa->n_in_sps--;
		if (!keep_sels)
			sa_in_sels_update(sa);
	}
}

/* --- add ------------------------------------------------------------------------------- */

struct add_plan {
	struct spd_entry *entry;	/* existing, or new (not yet published) */
	bool new_entry;
	struct esper_tuple_list *new_list;	/* NULL: the tuple exists already */
	unsigned tuple_pos;
	struct waiting *wait;		/* an unbound policy's new group, if it needs one */
};

static int plan_add(struct spd *spd, const struct sp *sp, struct add_plan *p)
{
	struct tuple_set *s = set_of(spd, &sp->key);
	struct esper_tuple t = tuple_of(&sp->key);
	int pos;

	memset(p, 0, sizeof(*p));
	p->entry = entry_find(spd, &sp->key);
	if (p->entry)
		return 0;
	/* the key and its two shadow keys at most */
	if (htab_count(spd->entries) + htab_count(spd->shadows) + 3 > SPD_MAX_KEYS)
		return -ENOSPC;
	p->new_entry = true;
	p->entry = slab_alloc(&entry_slab);
	if (!p->entry || htab_reserve(spd->entries, 1) < 0)
		goto nomem;
	memset(p->entry, 0, sizeof(*p->entry));
	p->entry->key = sp->key;
	pos = tuple_find(atomic_load(&s->list), &t);
	if (pos >= 0) {
		p->tuple_pos = (unsigned)pos;
		return 0;
	}
	p->tuple_pos = (unsigned)(-pos - 1);
	if (atomic_load(&s->list)->count >= ESPER_MAX_TUPLES) {
		entry_free(p->entry);
		return -ENOSPC;
	}
	p->new_list = list_with(atomic_load(&s->list), p->tuple_pos, &t);
	if (!p->new_list)
		goto nomem;
	return 0;
nomem:
	entry_free(p->entry);
	return -ENOMEM;
}

static void plan_abort(struct add_plan *p)
{
	if (p->new_entry)
		entry_free(p->entry);
	free(p->new_list);
	free(p->wait);
}

/* Write the plan to the mirror: the shadows and the entry first, then the tuple list that
 * makes them live. */
static int mirror_add(struct spd *spd, const struct sp *sp, const struct add_plan *p)
{
	const struct spd_mirror *m = &spd->mirror;
	struct spd_entry *old = p->new_entry ? NULL : p->entry;
	struct esper_spd_val v = value_with(old, sp->dir, sp);
	int err = shadows_add(spd, sp);

	if (err)
		return err;
	err = m->set_entry(m->ctx, &sp->key, &v);
	if (!err && p->new_list) {
		err = m->set_tuples(m->ctx, family_idx(sp->key.family), p->new_list);
		if (err)
			m->del_entry(m->ctx, &sp->key);
	}
	if (err)
		shadows_remove(spd, sp);
	return err;
}

static void publish_entry(struct spd *spd, const struct sp *sp, const struct add_plan *p)
{
	struct tuple_set *s = set_of(spd, &sp->key);

	htab_insert(spd->entries, key_hash(&sp->key), p->entry);
	if (p->new_list) {
		refs_insert(s, p->tuple_pos, atomic_load(&s->list)->count);
		publish_list(s, p->new_list);
	} else {
		s->refs[p->tuple_pos]++;
	}
}

/* A policy going (replaced by new, else NULL): out of every list, its shadows released,
 * freed after a grace period. */
static void retire(struct spd *spd, struct sp *old, const struct sp *new)
{
	htab_remove(spd->by_id, id_hash(old->id), &old->id);
	list_del(&old->node);
	sa_unlink(spd, old, new && new->sa != old->sa);
	shadows_remove(spd, old);
	rcu_defer(sp_free_deferred, old);
}

static void publish_add(struct spd *spd, struct sp *sp, const struct add_plan *p)
{
	struct sp *old = atomic_load(&p->entry->slot[sp->dir]);

	atomic_store_explicit(&p->entry->slot[sp->dir], sp, memory_order_release);
	if (p->new_entry)
		publish_entry(spd, sp, p);
	htab_insert(spd->by_id, id_hash(sp->id), sp);
	if (sp->action == SP_IPSEC && !sp->sa)
		waiting_link(spd, sp, p->wait);
	sa_link(sp, true);
	if (old) {
		list_insert_after(&old->node, &sp->node);
		retire(spd, old, sp);
	} else {
		list_add_tail(&spd->sps, &sp->node);
		spd->count++;
	}
}

int spd_add(struct spd *spd, struct sp *sp)
{
	struct add_plan p;
	int err;

	err = plan_add(spd, sp, &p);
	if (err)
		return err;
	if (htab_reserve(spd->by_id, 1) < 0 || waiting_reserve(spd, sp, &p.wait) < 0) {
		plan_abort(&p);
		return -ENOMEM;
	}
	sp->id = next_free_id(spd);
	err = mirror_add(spd, sp, &p);
	if (err) {
		plan_abort(&p);
		return err;
	}
	publish_add(spd, sp, &p);
	return 0;
}

/* --- remove ---------------------------------------------------------------------------- */

/* The entry loses its last policy: unlist the tuple if it empties, then drop the key. */
static void remove_entry(struct spd *spd, struct spd_entry *e)
{
	const struct spd_mirror *m = &spd->mirror;
	struct tuple_set *s = set_of(spd, &e->key);
	struct esper_tuple t = tuple_of(&e->key);
	struct esper_tuple_list *l = atomic_load(&s->list);
	int pos = tuple_find(l, &t);

	if (pos >= 0 && s->refs[pos] == 1) {
		struct esper_tuple_list *n = list_without(l, (unsigned)pos);

		if (n && m->set_tuples(m->ctx, family_idx(e->key.family), n) == 0) {
			refs_remove(s, (unsigned)pos, l->count);
			publish_list(s, n);
		} else {
			free(n);	/* keep the tuple listed: harmless, lookups miss */
			s->refs[pos]--;
			log_warnx("spd: could not unlist a tuple; it stays until the next change");
		}
	} else if (pos >= 0) {
		s->refs[pos]--;
	}
	if (m->del_entry(m->ctx, &e->key) < 0)
		log_warnx("spd: could not delete a policy key from the BPF map");
	htab_remove(spd->entries, key_hash(&e->key), &e->key);
	rcu_defer(entry_free, e);
}

void spd_remove(struct spd *spd, struct sp *sp)
{
	const struct spd_mirror *m = &spd->mirror;
	struct spd_entry *e = entry_find(spd, &sp->key);
	enum sp_dir other = sp->dir == SP_DIR_OUT ? SP_DIR_IN : SP_DIR_OUT;

	if (e && atomic_load(&e->slot[sp->dir]) == sp) {
		if (atomic_load(&e->slot[other])) {
			struct esper_spd_val v = value_with(e, sp->dir, NULL);

			if (m->set_entry(m->ctx, &e->key, &v) < 0)
				log_warnx("spd: could not update a policy key in the BPF map");
			atomic_store_explicit(&e->slot[sp->dir], NULL, memory_order_release);
		} else {
			remove_entry(spd, e);
		}
	}
	spd->count--;
	retire(spd, sp, NULL);
}

void spd_remove_sa(struct spd *spd, struct sa *sa)
{
	struct sp *sp;

	list_for_each(sp, &sa->sps, sa_node)
		spd_remove(spd, sp);
}

void spd_flush(struct spd *spd)
{
	struct sp *sp;

	list_for_each(sp, &spd->sps, node)
		spd_remove(spd, sp);
}

/* --- binding require:ID policies --------------------------------------------------------- */

void spd_bind_prepare(const struct spd *spd, struct sa *sa)
{
	struct waiting *w = waiting_find(spd, sa->uid);
	unsigned n_in = 0, n_out = 0;
	bool nomem;
	struct sp *sp;

	if (!w)
		return;
	list_for_each(sp, &w->sps, sa_node) {
		n_in += names_inbound(sp);
		n_out += sp->dir == SP_DIR_OUT;
	}
	if (n_in) {
		atomic_fetch_or_explicit(&sa->flags, SA_INBOUND, memory_order_release);
		sa_set_in_sels(sa, sels_of(&w->sps, n_in, sa->spi, &nomem));
	}
	if (n_out)
		atomic_fetch_or_explicit(&sa->flags, SA_OUTBOUND, memory_order_release);
}

void spd_bind(struct spd *spd, struct sa *sa)
{
	struct waiting *w = waiting_find(spd, sa->uid);
	struct sp *sp;

	if (!w)
		return;
	list_for_each(sp, &w->sps, sa_node) {
		list_del(&sp->sa_node);
		__atomic_store_n(&sp->sa, sa, __ATOMIC_RELEASE);
		sa_link(sp, false);
	}
	if (sa->n_in_sps)
		sa_in_sels_update(sa);
	waiting_drop(spd, w);
}

int spd_unbind(struct spd *spd, struct sp *sp)
{
	struct sp_params c = sp_params(sp);
	struct sp *copy = sp_new(&c, NULL);
	int err;

	if (!copy)
		return -ENOMEM;
	err = spd_add(spd, copy);	/* the same selectors and direction: replaces sp */
	if (err)
		sp_free(copy);
	return err;
}

/* --- lookups --------------------------------------------------------------------------- */

static struct sp *entry_policy(const struct spd_entry *e)
{
	struct sp *sp = atomic_load_explicit(&((struct spd_entry *)e)->slot[SP_DIR_OUT],
					     memory_order_acquire);

	return sp ? sp : atomic_load_explicit(&((struct spd_entry *)e)->slot[SP_DIR_IN],
					      memory_order_acquire);
}

struct sp *spd_match(const struct spd *spd, const struct pkt_info *pi, bool *opaque)
{
	const struct tuple_set *s = &spd->set[pi->family == AF_INET6];
	const struct esper_tuple_list *l =
		atomic_load_explicit(&((struct tuple_set *)s)->list, memory_order_acquire);
	bool can_lack = spd_packet_opaque(pi);
	struct esper_spd_key k;

	*opaque = false;
	for (unsigned i = 0; i < l->count; i++) {
		struct spd_entry *e;
		struct sp *sp;

		if (!spd_packet_key(pi, &l->t[i], &k)) {
			if (can_lack && !*opaque) {
				spd_shadow_key(pi, &l->t[i], &k);
				*opaque = shadow_find(spd, &k) != NULL;
			}
			continue;
		}
		e = entry_find(spd, &k);
		if (e && (sp = entry_policy(e)))
			return sp;
	}
	return NULL;
}

struct sp *spd_by_id(const struct spd *spd, uint32_t id)
{
	return htab_find_key32(spd->by_id, id, offsetof(struct sp, id));
}

struct sp *spd_first(const struct spd *spd)
{
	return list_first(&spd->sps, struct sp, node);
}

struct sp *spd_next(const struct spd *spd, const struct sp *sp)
{
	return sp->node.next == &spd->sps ? NULL : list_entry(sp->node.next, struct sp, node);
}

size_t spd_count(const struct spd *spd)
{
	return spd->count;
}

const struct esper_tuple_list *spd_tuples(const struct spd *spd, unsigned family_idx)
{
	return atomic_load(&((struct spd *)spd)->set[family_idx].list);
}
