// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * spd.c - the SPD (RFC 4301 4.4.1) as a tuple-space search: one hash of entries keyed by
 * struct esper_spd_key (each entry holds at most one outbound and one inbound policy), and
 * per address family the ordered list of tuples in use, published whole (the same
 * struct esper_tuple_list the XDP program reads). spd_match probes the tuples in order;
 * its cost grows with the tuples in use, never with the number of policies.
 * Written by cmd_exec.c only (through spd_add/spd_remove*), read by workers and pcap mode.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/htab.h"
#include "lib/log.h"
#include "lib/rcu.h"
#include "sad.h"
#include "spd.h"

struct spd_entry {
	struct esper_spd_key key;
	struct sp *_Atomic slot[2];	/* [SP_DIR_OUT], [SP_DIR_IN] */
};

struct tuple_set {
	struct esper_tuple_list *_Atomic list;	/* published, replaced whole */
	uint32_t refs[ESPER_MAX_TUPLES];	/* entries per tuple, parallel to list->t */
};

struct spd {
	struct htab *entries;
	struct htab *by_id;
	struct tuple_set set[2];	/* IPv4, IPv6 */
	struct sp *head, *tail;
	size_t count;
	uint32_t next_id;
	struct spd_mirror mirror;
};

static inline unsigned family_idx(uint8_t family)
{
	return family == ESPER_AF_INET6;
}

static bool entry_eq(const void *obj, const void *key)
{
	return memcmp(&((const struct spd_entry *)obj)->key, key, sizeof(struct esper_spd_key)) == 0;
}

static bool id_eq(const void *obj, const void *key)
{
	return ((const struct sp *)obj)->id == *(const uint32_t *)key;
}

static inline uint64_t key_hash(const struct esper_spd_key *k)
{
	return hash_bytes(k, sizeof(*k));
}

static inline uint64_t id_hash(uint32_t id)
{
	return hash_bytes(&id, sizeof(id));
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
	spd->entries = htab_new(entry_eq);
	spd->by_id = htab_new(id_eq);
	spd->set[0].list = calloc(1, sizeof(struct esper_tuple_list));
	spd->set[1].list = calloc(1, sizeof(struct esper_tuple_list));
	spd->next_id = 1;
	spd->mirror = no_mirror;
	if (!spd->entries || !spd->by_id || !spd->set[0].list || !spd->set[1].list) {
		spd_free(spd);
		return NULL;
	}
	return spd;
}

static void free_entry(void *obj, void *arg)
{
	(void)arg;
	free(obj);
}

void spd_free(struct spd *spd)
{
	if (!spd)
		return;
	while (spd->head) {
		struct sp *sp = spd->head;

		spd->head = sp->next;
		sp_free(sp);
	}
	if (spd->entries)
		htab_foreach(spd->entries, free_entry, NULL);
	htab_free(spd->entries);
	htab_free(spd->by_id);
	free(spd->set[0].list);
	free(spd->set[1].list);
	free(spd);
}

void spd_set_mirror(struct spd *spd, const struct spd_mirror *m)
{
	spd->mirror = m ? *m : no_mirror;
}

/* --- policies and their keys ----------------------------------------------------------- */

static void key_of(const struct cmd_spdadd *c, struct esper_spd_key *k)
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

struct sp *sp_new(const struct cmd_spdadd *c, struct sa *sa)
{
	struct sp *sp = calloc(1, sizeof(*sp));

	if (!sp)
		return NULL;
	sp->conf = *c;
	sp->sa = sa;
	key_of(c, &sp->key);
	return sp;
}

void sp_free(struct sp *sp)
{
	free(sp);
}

static void sp_free_deferred(void *p)
{
	sp_free(p);
}

bool spd_packet_key(const struct pkt_info *pi, const struct esper_tuple *t,
		    struct esper_spd_key *k)
{
	unsigned alen = pi->family == AF_INET ? 4 : 16;

	if ((t->flags & (ESPER_T_SPORT | ESPER_T_DPORT)) && !pi->has_ports)
		return false;
	memset(k, 0, sizeof(*k));
	k->family = pi->family == AF_INET ? ESPER_AF_INET : ESPER_AF_INET6;
	k->src_plen = t->src_plen;
	k->dst_plen = t->dst_plen;
	k->flags = t->flags;
	if (t->flags & ESPER_T_PROTO)
		k->proto = pi->proto;
	if (t->flags & ESPER_T_SPORT)
		k->sport = pi->sport;
	if (t->flags & ESPER_T_DPORT)
		k->dport = pi->dport;
	memcpy(k->src, pi->src, alen);
	memcpy(k->dst, pi->dst, alen);
	addr_mask(k->src, alen, t->src_plen);
	addr_mask(k->dst, alen, t->dst_plen);
	return true;
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
		v.flags |= ESPER_SPD_OUT;
		v.out_id = s[SP_DIR_OUT]->id;
	}
	if (s[SP_DIR_IN]) {
		v.flags |= ESPER_SPD_IN;
		v.in_id = s[SP_DIR_IN]->id;
	}
	return v;
}

struct sp *spd_find_same(const struct spd *spd, const struct sp *sp)
{
	struct spd_entry *e = entry_find(spd, &sp->key);

	return e ? atomic_load(&e->slot[sp->conf.dir]) : NULL;
}

static uint32_t next_free_id(struct spd *spd)
{
	uint32_t id;

	do {
		id = spd->next_id++;
	} while (id == 0 || spd_by_id(spd, id));
	return id;
}

/* --- insertion-ordered list and the SA's list ------------------------------------------ */

static void list_link_after(struct spd *spd, struct sp *prev, struct sp *sp)
{
	sp->prev = prev;
	sp->next = prev ? prev->next : spd->head;
	if (sp->next)
		sp->next->prev = sp;
	else
		spd->tail = sp;
	if (prev)
		prev->next = sp;
	else
		spd->head = sp;
}

static void list_unlink(struct spd *spd, struct sp *sp)
{
	if (sp->prev)
		sp->prev->next = sp->next;
	else
		spd->head = sp->next;
	if (sp->next)
		sp->next->prev = sp->prev;
	else
		spd->tail = sp->prev;
}

static void sa_link(struct sp *sp)
{
	struct sa *sa = sp->sa;

	sp->sa_prev = NULL;
	sp->sa_next = sa->sps;
	if (sa->sps)
		sa->sps->sa_prev = sp;
	sa->sps = sp;
	if (sp->conf.mode == SP_MODE_TUNNEL)
		sa->n_tunnel_sps++;
	else
		sa->n_transport_sps++;
}

static void sa_unlink(struct sp *sp)
{
	struct sa *sa = sp->sa;

	if (sp->sa_prev)
		sp->sa_prev->sa_next = sp->sa_next;
	else
		sa->sps = sp->sa_next;
	if (sp->sa_next)
		sp->sa_next->sa_prev = sp->sa_prev;
	if (sp->conf.mode == SP_MODE_TUNNEL)
		sa->n_tunnel_sps--;
	else
		sa->n_transport_sps--;
}

/* --- add ------------------------------------------------------------------------------- */

struct add_plan {
	struct spd_entry *entry;	/* existing, or new (not yet published) */
	bool new_entry;
	struct esper_tuple_list *new_list;	/* NULL: the tuple exists already */
	unsigned tuple_pos;
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
	p->new_entry = true;
	p->entry = calloc(1, sizeof(*p->entry));
	if (!p->entry || htab_reserve(spd->entries, 1) < 0)
		goto nomem;
	p->entry->key = sp->key;
	pos = tuple_find(atomic_load(&s->list), &t);
	if (pos >= 0) {
		p->tuple_pos = (unsigned)pos;
		return 0;
	}
	p->tuple_pos = (unsigned)(-pos - 1);
	if (atomic_load(&s->list)->count >= ESPER_MAX_TUPLES) {
		free(p->entry);
		return -ENOSPC;
	}
	p->new_list = list_with(atomic_load(&s->list), p->tuple_pos, &t);
	if (!p->new_list)
		goto nomem;
	return 0;
nomem:
	free(p->entry);
	return -ENOMEM;
}

static void plan_abort(struct add_plan *p)
{
	if (p->new_entry)
		free(p->entry);
	free(p->new_list);
}

/* Write the plan to the mirror: the entry first, then the tuple list that makes it live. */
static int mirror_add(struct spd *spd, const struct sp *sp, const struct add_plan *p)
{
	const struct spd_mirror *m = &spd->mirror;
	struct spd_entry *old = p->new_entry ? NULL : p->entry;
	struct esper_spd_val v = value_with(old, sp->conf.dir, sp);
	int err;

	err = m->set_entry(m->ctx, &sp->key, &v);
	if (err)
		return err;
	if (!p->new_list)
		return 0;
	err = m->set_tuples(m->ctx, family_idx(sp->key.family), p->new_list);
	if (err)
		m->del_entry(m->ctx, &sp->key);
	return err;
}

static void publish_add(struct spd *spd, struct sp *sp, const struct add_plan *p)
{
	struct tuple_set *s = set_of(spd, &sp->key);
	struct sp *old = atomic_load(&p->entry->slot[sp->conf.dir]);

	atomic_store_explicit(&p->entry->slot[sp->conf.dir], sp, memory_order_release);
	if (p->new_entry) {
		htab_insert(spd->entries, key_hash(&sp->key), p->entry);
		if (p->new_list) {
			refs_insert(s, p->tuple_pos, atomic_load(&s->list)->count);
			publish_list(s, p->new_list);
		} else {
			s->refs[p->tuple_pos]++;
		}
	}
	htab_insert(spd->by_id, id_hash(sp->id), sp);
	sa_link(sp);
	if (old) {
		list_link_after(spd, old, sp);
		list_unlink(spd, old);
		htab_remove(spd->by_id, id_hash(old->id), &old->id);
		sa_unlink(old);
		rcu_defer(sp_free_deferred, old);
	} else {
		list_link_after(spd, spd->tail, sp);
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
	if (htab_reserve(spd->by_id, 1) < 0) {
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
	rcu_defer(free, e);
}

void spd_remove(struct spd *spd, struct sp *sp)
{
	const struct spd_mirror *m = &spd->mirror;
	struct spd_entry *e = entry_find(spd, &sp->key);
	enum sp_dir other = sp->conf.dir == SP_DIR_OUT ? SP_DIR_IN : SP_DIR_OUT;

	if (e && atomic_load(&e->slot[sp->conf.dir]) == sp) {
		if (atomic_load(&e->slot[other])) {
			struct esper_spd_val v = value_with(e, sp->conf.dir, NULL);

			if (m->set_entry(m->ctx, &e->key, &v) < 0)
				log_warnx("spd: could not update a policy key in the BPF map");
			atomic_store_explicit(&e->slot[sp->conf.dir], NULL, memory_order_release);
		} else {
			remove_entry(spd, e);
		}
	}
	htab_remove(spd->by_id, id_hash(sp->id), &sp->id);
	list_unlink(spd, sp);
	sa_unlink(sp);
	spd->count--;
	rcu_defer(sp_free_deferred, sp);
}

void spd_remove_sa(struct spd *spd, struct sa *sa)
{
	while (sa->sps)
		spd_remove(spd, sa->sps);
}

void spd_flush(struct spd *spd)
{
	while (spd->head)
		spd_remove(spd, spd->head);
}

/* --- lookups --------------------------------------------------------------------------- */

struct sp *spd_match(const struct spd *spd, const struct pkt_info *pi)
{
	const struct tuple_set *s = &spd->set[pi->family == AF_INET6];
	const struct esper_tuple_list *l =
		atomic_load_explicit(&((struct tuple_set *)s)->list, memory_order_acquire);
	struct esper_spd_key k;

	for (unsigned i = 0; i < l->count; i++) {
		struct spd_entry *e;
		struct sp *sp;

		if (!spd_packet_key(pi, &l->t[i], &k))
			continue;
		e = entry_find(spd, &k);
		if (!e)
			continue;
		sp = atomic_load_explicit(&e->slot[SP_DIR_OUT], memory_order_acquire);
		if (!sp)
			sp = atomic_load_explicit(&e->slot[SP_DIR_IN], memory_order_acquire);
		if (sp)
			return sp;
	}
	return NULL;
}

struct sp *spd_by_id(const struct spd *spd, uint32_t id)
{
	return htab_find(spd->by_id, id_hash(id), &id);
}

struct sp *spd_first(const struct spd *spd)
{
	return spd->head;
}

size_t spd_count(const struct spd *spd)
{
	return spd->count;
}

const struct esper_tuple_list *spd_tuples(const struct spd *spd, unsigned family_idx)
{
	return atomic_load(&((struct spd *)spd)->set[family_idx].list);
}
