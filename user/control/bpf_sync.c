// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bpf_sync.c - writes the XDP maps (include/esper_abi.h) for the control thread: SPD keys
 * and tuple lists as spd.c hands them over (entry before the tuple list that makes it
 * reachable), the SAs that may decrypt as cmd_exec.c adds, turns outbound and deletes them,
 * where esp-udp SAs that may decrypt go (natt_dests), the host's own addresses
 * (localaddr.c), the config, and the XSK slots. The SPD and SAD mirrors write through, or
 * in batches from a writer thread (bpf_sync.h: when, and in which order); natt_dests is
 * always written through (a place there with no SA yet, or an SA whose place is already
 * gone, only makes XDP hand such UDP to the SPD: never a decryption it should not make).
 * The hash maps are BPF_F_NO_PREALLOC, so an updated value is swapped whole: the XDP
 * program sees the old value or the new one, never a mix.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "bpf_sync.h"
#include "lib/log.h"

static int result(int err)
{
	return err ? -errno : 0;
}

/* --- batched mode ------------------------------------------------------------------------ */

static bool set_empty(const struct bpf_sync_set *t)
{
	return bpf_batch_empty(&t->spd) && bpf_batch_empty(&t->sa_in) && !t->tuples_set[0] &&
	       !t->tuples_set[1];
}

/* The writer's work: one generation, in the order of bpf_sync.h. */
static void send_set(struct bpf_sync *s, struct bpf_sync_set *t)
{
	unsigned long failed = bpf_batch_flush_deletes(&t->sa_in);

	failed += bpf_batch_flush_updates(&t->spd);
	for (__u32 i = 0; i < 2; i++) {
		if (t->tuples_set[i] &&
		    bpf_map_update_elem(s->fds.tuple_lists, &i, &t->tuples[i], BPF_ANY)) {
			log_warn("BPF map tuple_lists: update");
			failed++;
		}
		t->tuples_set[i] = false;
	}
	failed += bpf_batch_flush_deletes(&t->spd);
	failed += bpf_batch_flush_updates(&t->sa_in);
	bpf_batch_reset(&t->spd);
	bpf_batch_reset(&t->sa_in);
	if (failed)
		log_warnx("%lu BPF map writes failed: the XDP program lacks them until a later "
			  "command writes those keys", failed);
	s->failed += failed;
}

static void *writer_main(void *arg)
{
	struct bpf_sync *s = arg;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (!s->busy && !s->stopping)
			pthread_cond_wait(&s->cond, &s->lock);
		if (!s->busy)
			break;
		pthread_mutex_unlock(&s->lock);
		send_set(s, s->sending);
		pthread_mutex_lock(&s->lock);
		s->busy = false;
		pthread_cond_broadcast(&s->cond);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

void bpf_sync_flush(struct bpf_sync *s)
{
	struct bpf_sync_set *t;

	if (!s->batched || set_empty(s->filling))
		return;
	pthread_mutex_lock(&s->lock);
	while (s->busy)
		pthread_cond_wait(&s->cond, &s->lock);
	t = s->sending;
	s->sending = s->filling;
	s->filling = t;
	s->busy = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

void bpf_sync_wait(struct bpf_sync *s)
{
	if (!s->batched)
		return;
	bpf_sync_flush(s);
	pthread_mutex_lock(&s->lock);
	while (s->busy)
		pthread_cond_wait(&s->cond, &s->lock);
	pthread_mutex_unlock(&s->lock);
}

static void sets_fini(struct bpf_sync *s)
{
	for (int i = 0; i < 2; i++) {
		bpf_batch_fini(&s->set[i].spd);
		bpf_batch_fini(&s->set[i].sa_in);
	}
}

int bpf_sync_batch_start(struct bpf_sync *s)
{
	int err = 0;

	for (int i = 0; i < 2 && !err; i++) {
		memset(&s->set[i], 0, sizeof(s->set[i]));
		err = bpf_batch_init(&s->set[i].spd, s->fds.spd, sizeof(struct esper_spd_key),
				     sizeof(struct esper_spd_val));
		if (!err)
			err = bpf_batch_init(&s->set[i].sa_in, s->fds.sa_in, sizeof(__be32),
					     sizeof(struct esper_sa_in_val));
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->filling = &s->set[0];
	s->sending = &s->set[1];
	s->busy = s->stopping = false;
	if (!err)
		err = -pthread_create(&s->writer, NULL, writer_main, s);
	if (err) {
		sets_fini(s);
		return err;
	}
	s->batched = true;
	return 0;
}

void bpf_sync_batch_stop(struct bpf_sync *s)
{
	if (!s->batched)
		return;
	bpf_sync_wait(s);
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->writer, NULL);
	s->batched = false;
	sets_fini(s);
}

/* A write into the generation being filled; a full batch goes first. fresh: see
 * bpf_batch_put. */
static void put(struct bpf_sync *s, struct bpf_batch *(*which)(struct bpf_sync_set *),
		const void *key, const void *value, bool fresh)
{
	if (bpf_batch_full(which(s->filling)))
		bpf_sync_flush(s);
	bpf_batch_put(which(s->filling), key, value, fresh);
}

static struct bpf_batch *spd_batch(struct bpf_sync_set *t)
{
	return &t->spd;
}

static struct bpf_batch *sa_in_batch(struct bpf_sync_set *t)
{
	return &t->sa_in;
}

/* --- the mirrors ------------------------------------------------------------------------- */

static int set_entry(void *ctx, const struct esper_spd_key *k, const struct esper_spd_val *v)
{
	struct bpf_sync *s = ctx;

	if (s->batched) {
		put(s, spd_batch, k, v, false);
		return 0;
	}
	return result(bpf_map_update_elem(s->fds.spd, k, v, BPF_ANY));
}

static int del_entry(void *ctx, const struct esper_spd_key *k)
{
	struct bpf_sync *s = ctx;

	if (s->batched) {
		put(s, spd_batch, k, NULL, false);
		return 0;
	}
	return result(bpf_map_delete_elem(s->fds.spd, k));
}

static int set_tuples(void *ctx, unsigned family_idx, const struct esper_tuple_list *l)
{
	struct bpf_sync *s = ctx;
	__u32 key = family_idx;

	if (s->batched) {
		s->filling->tuples[family_idx] = *l;
		s->filling->tuples_set[family_idx] = true;
		return 0;
	}
	return result(bpf_map_update_elem(s->fds.tuple_lists, &key, l, BPF_ANY));
}

/* sa's entry in sa_in, on path; fresh: the map does not hold its SPI now (a new SA). */
static int put_sa(struct bpf_sync *s, const struct sa *sa, const struct sa_path *path,
		  bool fresh)
{
	struct esper_sa_in_val v = { .uid = sa->uid, .encap = path->encap, .dport = path->dport };
	__be32 key = htonl(sa->spi);

	v.family = sa->family == AF_INET ? ESPER_AF_INET : ESPER_AF_INET6;
	memcpy(v.src, path->src.a, sizeof(v.src));
	memcpy(v.dst, path->dst.a, sizeof(v.dst));
	if (s->batched) {
		put(s, sa_in_batch, &key, &v, fresh);
		return 0;
	}
	return result(bpf_map_update_elem(s->fds.sa_in, &key, &v, BPF_ANY));
}

/* A new SA, or one back after its removal in this batch: sa_in holds no SPI of an SA being
 * put there (cmd_exec.c). */
static int set_sa(void *ctx, const struct sa *sa, const struct sa_path *path)
{
	return put_sa(ctx, sa, path, true);
}

/* An SA of sa_in moved (update): its entry is there, and its delete must be sent. */
static int move_sa(void *ctx, const struct sa *sa, const struct sa_path *path)
{
	return put_sa(ctx, sa, path, false);
}

static int del_sa(void *ctx, uint32_t spi)
{
	struct bpf_sync *s = ctx;
	__be32 key = htonl(spi);

	if (s->batched) {
		put(s, sa_in_batch, &key, NULL, false);
		return 0;
	}
	return result(bpf_map_delete_elem(s->fds.sa_in, &key));
}

/* Is port (network order) still the port of a place in natt_dests? A gateway takes ESP in
 * UDP at a handful of places (its addresses, port 4500): the walk is short. */
static bool natt_port_used(const struct bpf_sync *s, __be16 port)
{
	struct esper_natt_key key, next;
	const void *prev = NULL;

	while (!bpf_map_get_next_key(s->fds.natt_dests, prev, &next)) {
		if (next.port == port)
			return true;
		key = next;
		prev = &key;
	}
	return false;
}

/* natt_ports' bit for port (network order), set or cleared. */
static int set_natt_port(const struct bpf_sync *s, __be16 port, bool on)
{
	__u32 p = ntohs(port), word = p / 64;
	__u64 bits;

	if (bpf_map_lookup_elem(s->fds.natt_ports, &word, &bits))
		return -errno;
	bits = on ? bits | 1ull << (p % 64) : bits & ~(1ull << (p % 64));
	return result(bpf_map_update_elem(s->fds.natt_ports, &word, &bits, BPF_ANY));
}

/* A place in natt_dests and its port's bit in natt_ports: the bit is set before a place
 * goes in and cleared after the port's last place went. */
static int set_natt_dest(void *ctx, const struct sa_path *path, bool used)
{
	struct bpf_sync *s = ctx;
	struct esper_natt_key key = { .port = path->dport };
	__u8 one = 1;
	int err;

	key.family = path->dst.family == AF_INET ? ESPER_AF_INET : ESPER_AF_INET6;
	memcpy(key.addr, path->dst.a, sizeof(key.addr));
	if (used) {
		err = set_natt_port(s, key.port, true);
		return err ?: result(bpf_map_update_elem(s->fds.natt_dests, &key, &one, BPF_ANY));
	}
	err = result(bpf_map_delete_elem(s->fds.natt_dests, &key));
	if (!err && !natt_port_used(s, key.port))
		err = set_natt_port(s, key.port, false);
	return err;
}

void bpf_sync_init(struct bpf_sync *s, const struct bpf_load_fds *fds)
{
	memset(s, 0, sizeof(*s));
	s->fds = *fds;
	s->spd = (struct spd_mirror){ set_entry, del_entry, set_tuples, s };
	s->sa = (struct sa_mirror){ set_sa, move_sa, del_sa, set_natt_dest, s };
}

int bpf_sync_config(struct bpf_sync *s, const struct esper_config *cfg)
{
	__u32 key = 0;

	return result(bpf_map_update_elem(s->fds.config, &key, cfg, BPF_ANY));
}

int bpf_sync_xsk(struct bpf_sync *s, int ifindex, unsigned queue, unsigned slot, int xsk_fd)
{
	struct esper_xsk_key key = { .ifindex = (__u32)ifindex, .queue = queue };
	__u32 slot32 = slot;
	int err;

	err = result(bpf_map_update_elem(s->fds.xsks, &slot32, &xsk_fd, BPF_ANY));
	if (err)
		return err;
	return result(bpf_map_update_elem(s->fds.xsk_slots, &key, &slot32, BPF_ANY));
}

int bpf_sync_local_addr(struct bpf_sync *s, const struct ip_addr *a, bool present)
{
	struct esper_addr_key key = { .family = a->family == AF_INET ? ESPER_AF_INET
								      : ESPER_AF_INET6 };
	__u8 one = 1;

	memcpy(key.addr, a->a, sizeof(key.addr));
	if (present)
		return result(bpf_map_update_elem(s->fds.local_addrs, &key, &one, BPF_ANY));
	return result(bpf_map_delete_elem(s->fds.local_addrs, &key));
}
