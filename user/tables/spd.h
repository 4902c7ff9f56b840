/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * spd.h - the Security Policy Database (RFC 4301 4.4.1) as a tuple-space search, the same
 * structure the XDP program walks (include/esper_abi.h explains the keys and the order:
 * most specific first). The command executor is the only writer; workers call spd_match
 * lock-free. Every change is first mirrored (struct spd_mirror: the BPF maps), then
 * published here, so a failed mirror leaves both sides unchanged.
 */
#ifndef ESPER_SPD_H
#define ESPER_SPD_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>

#include "esper_abi.h"
#include "control/cmd.h"
#include "lib/pkt.h"

struct sa;

struct sp {
	uint32_t id;			/* unique while published; mirrored into the BPF map */
	struct cmd_spdadd conf;		/* selectors, direction, mode, tunnel, UniqueID */
	struct esper_spd_key key;	/* the tuple-space key of its selectors */
	struct sa *sa;			/* the SA named by conf.uid; outlives the policy */
	/* Control plane only. */
	struct sp *sa_next, *sa_prev;	/* the SA's policies */
	struct sp *prev, *next;		/* insertion order, for spddump */
};

/* Where the SPD mirrors itself (the BPF maps); every callback returns 0 or -errno. */
struct spd_mirror {
	int (*set_entry)(void *ctx, const struct esper_spd_key *k, const struct esper_spd_val *v);
	int (*del_entry)(void *ctx, const struct esper_spd_key *k);
	int (*set_tuples)(void *ctx, unsigned family_idx, const struct esper_tuple_list *l);
	void *ctx;
};

struct spd;

struct spd *spd_new(void);
void spd_free(struct spd *spd);		/* frees every policy now: no reader may be running */
void spd_set_mirror(struct spd *spd, const struct spd_mirror *m);

/* A policy from an spdadd command for SA sa, not yet in the SPD. NULL with errno set. */
struct sp *sp_new(const struct cmd_spdadd *c, struct sa *sa);
void sp_free(struct sp *sp);

/* The published policy with the same selectors and direction as sp, if any. */
struct sp *spd_find_same(const struct spd *spd, const struct sp *sp);

/* Would adding sp need a tuple beyond ESPER_MAX_TUPLES? */
bool spd_tuple_full(const struct spd *spd, const struct sp *sp);

/* Mirror, then publish sp; a published policy with the same selectors and direction is
 * replaced atomically (readers see the old or the new one) and freed after a grace period.
 * On error nothing changed and sp is still the caller's. */
int spd_add(struct spd *spd, struct sp *sp);
void spd_remove(struct spd *spd, struct sp *sp);	/* unpublish and defer-free */
void spd_remove_sa(struct spd *spd, struct sa *sa);	/* every policy naming sa */
void spd_flush(struct spd *spd);

/* Lock-free for readers: the first policy in the documented order matching the packet. */
struct sp *spd_match(const struct spd *spd, const struct pkt_info *pi);
struct sp *spd_by_id(const struct spd *spd, uint32_t id);

struct sp *spd_first(const struct spd *spd);		/* insertion order (control thread) */
size_t spd_count(const struct spd *spd);
const struct esper_tuple_list *spd_tuples(const struct spd *spd, unsigned family_idx);

/* The tuple-space order of esper_abi.h: < 0 if a is probed before b. */
int spd_tuple_cmp(const struct esper_tuple *a, const struct esper_tuple *b);
/* The key of a packet for one tuple; false if the tuple can't match it (ports missing). */
bool spd_packet_key(const struct pkt_info *pi, const struct esper_tuple *t,
		    struct esper_spd_key *k);

#endif
