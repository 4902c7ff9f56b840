/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * spd.h - the Security Policy Database (RFC 4301 4.4.1) as a tuple-space search, the same
 * structure the XDP program walks (include/esper_abi.h explains the keys, the order - most
 * specific first - and the shadow keys that make a lookup fail closed). The command executor
 * is the only writer; workers call spd_match lock-free. Every change is first mirrored
 * (struct spd_mirror: the BPF maps), then published here, so a failed mirror leaves both
 * sides unchanged.
 *
 * Policies have setkey's three actions: ipsec (protect with an SA), discard, none (bypass).
 * An ipsec policy names its SA by UniqueID. At the level unique:ID it exists only with its
 * SA (and goes with it); at the level require:ID it may exist before its SA, and outlives
 * it: until an SA with that UniqueID is added ("bound"), what it matches is dropped, and
 * the outbound ones raise an acquire event (tables/event.h).
 */
#ifndef ESPER_SPD_H
#define ESPER_SPD_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>

#include "esper_abi.h"
#include "lib/addr.h"
#include "lib/list.h"
#include "lib/pkt.h"

struct sa;

enum sp_dir { SP_DIR_OUT, SP_DIR_IN };
enum sp_mode { SP_MODE_TRANSPORT, SP_MODE_TUNNEL };
enum sp_action { SP_IPSEC, SP_DISCARD, SP_BYPASS };	/* setkey: ipsec, discard, none */

#define SP_PROTO_ANY	0	/* protocol numbers otherwise: 1 icmp, 6 tcp, 17 udp, 58 icmp6 */

/* Keys (policy keys and shadow keys) the SPD holds at most: the BPF map's size less room
 * for batched writes, which add keys before they delete others (control/bpf_sync.h). */
#define SPD_MAX_KEYS	(ESPER_MAX_SP - 8192)

/* A selector: IP/PLEN[PORT]. */
struct sp_sel {
	struct ip_addr addr;	/* host bits are zero */
	uint8_t plen;
	bool has_port;
	uint16_t port;		/* host order */
};

/* A policy as configured: what `spdadd` says. */
struct sp_params {
	struct sp_sel src, dst;	/* same family */
	uint8_t proto;		/* SP_PROTO_ANY or the protocol number */
	enum sp_dir dir;
	enum sp_action action;
	enum sp_mode mode;	/* ipsec only */
	struct ip_addr tsrc, tdst;	/* tunnel endpoints, same family; zero in transport mode */
	uint32_t uid;		/* the SA it names (ipsec only) */
	bool require;		/* level require:ID: it may exist without its SA */
};

/* A policy: a 136-byte slab object (spd.c). Its selectors are its key, which holds them
 * whole (the parser refuses host bits, so masking loses nothing); sp_params gives back
 * what `spdadd` said. */
struct sp {
	uint32_t id;			/* unique while published; mirrored into the BPF map */
	uint8_t dir, action, mode;	/* enum sp_dir, sp_action, sp_mode */
	/* ipsec: the SA it names (outlives the policy); NULL while a require:ID policy waits
	 * for it. Set once, from NULL, by spd_bind (a release store); never changed after:
	 * readers load it once with sp_sa() and may then use the plain field. */
	struct sa *sa;
	struct ip_addr tsrc, tdst;	/* tunnel endpoints */
	struct esper_spd_key key;	/* the tuple-space key of its selectors */
	_Atomic uint32_t acquire_at;	/* the datapath: the coarse time of its last acquire */
	uint32_t uid;			/* ipsec: the UniqueID it names (its SA's, or awaited) */
	bool require;			/* level require:ID: it may exist without its SA */

	/* Control plane only (sp_params gives back what spdadd said). */
	struct list sa_node;		/* the SA's policies; while unbound, its UniqueID's */
	struct list node;		/* insertion order, for spddump */
};

/* The SA of an ipsec policy, NULL while it waits for it (require:ID). */
static inline struct sa *sp_sa(const struct sp *sp)
{
	return __atomic_load_n(&sp->sa, __ATOMIC_ACQUIRE);
}

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

/* A policy, not yet in the SPD; sa: the SA it names (ipsec), else NULL. NULL with errno. */
struct sp *sp_new(const struct sp_params *c, struct sa *sa);
void sp_free(struct sp *sp);
/* What `spdadd` said (for spddump, tests). */
struct sp_params sp_params(const struct sp *sp);

/* The published policy with the same selectors and direction as sp, if any. */
struct sp *spd_find_same(const struct spd *spd, const struct sp *sp);

/* Would adding sp need a tuple beyond ESPER_MAX_TUPLES? */
bool spd_tuple_full(const struct spd *spd, const struct sp *sp);

/* Mirror, then publish sp; a published policy with the same selectors and direction is
 * replaced atomically (readers see the old or the new one) and freed after a grace period.
 * The inbound selectors of the SAs concerned follow (sa_set_in_sels), except that an SA
 * whose inbound policy is replaced by one naming another SA (a rekey) keeps accepting what
 * that policy allowed. On error nothing changed and sp is still the caller's. */
int spd_add(struct spd *spd, struct sp *sp);
void spd_remove(struct spd *spd, struct sp *sp);	/* unpublish and defer-free */
void spd_remove_sa(struct spd *spd, struct sa *sa);	/* every policy naming sa */
void spd_flush(struct spd *spd);

/* require:ID policies. spd_waiting: the unbound policies waiting for UniqueID uid (the list
 * links struct sp by sa_node; NULL if none). For an SA with such a UniqueID, not yet
 * published: spd_bind_prepare gives it what they say (their inbound selectors, its
 * direction); once it is in the SAD, spd_bind gives it to each, in place (no mirror change:
 * the policies keep their numbers). spd_unbind replaces sp, whose SA is going, by an
 * unbound copy (as spd_add does: 0 or -errno, nothing changed on error). */
const struct list *spd_waiting(const struct spd *spd, uint32_t uid);
void spd_bind_prepare(const struct spd *spd, struct sa *sa);
void spd_bind(struct spd *spd, struct sa *sa);
int spd_unbind(struct spd *spd, struct sp *sp);

/*
 * Lock-free for readers: the first policy in the documented order whose key matches the
 * packet (an outbound one before an inbound one on the same key), or NULL. *opaque is set
 * when the packet's selectors could not all be read (a non-first fragment, a TCP/UDP
 * header cut short, an IPv6 chain past the parser) and a policy that is not a bypass
 * might match it by what could be read, ahead of the one returned: the caller must then
 * protect it with that policy or drop it, never bypass it (RFC 4301 7).
 */
struct sp *spd_match(const struct spd *spd, const struct pkt_info *pi, bool *opaque);
struct sp *spd_by_id(const struct spd *spd, uint32_t id);

struct sp *spd_first(const struct spd *spd);		/* insertion order (control thread) */
struct sp *spd_next(const struct spd *spd, const struct sp *sp);
size_t spd_count(const struct spd *spd);
const struct esper_tuple_list *spd_tuples(const struct spd *spd, unsigned family_idx);

/* The tuple-space order of esper_abi.h: < 0 if a is probed before b. */
int spd_tuple_cmp(const struct esper_tuple *a, const struct esper_tuple *b);
/* The key of a packet for one tuple; false if the tuple needs what the packet lacks. */
bool spd_packet_key(const struct pkt_info *pi, const struct esper_tuple *t,
		    struct esper_spd_key *k);
/* Can't all of the packet's selectors be read (esper_abi.h, "opaque")? */
bool spd_packet_opaque(const struct pkt_info *pi);
/* The shadow key a tuple's policies leave for packets that lack what it needs. */
void spd_shadow_key(const struct pkt_info *pi, const struct esper_tuple *t,
		    struct esper_spd_key *k);

#endif
