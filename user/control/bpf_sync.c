// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bpf_sync.c - writes the XDP maps (include/esper_abi.h) for the control thread: SPD keys
 * and tuple lists as spd.c hands them over (entry before the tuple list that makes it
 * reachable), the SAs that may decrypt as cmd_exec.c adds, turns outbound and deletes them,
 * where esp-udp SAs that may decrypt go, the host's own addresses (localaddr.c), the config, and
 * the XSK slots.
 * The hash maps are BPF_F_NO_PREALLOC, so an updated value is swapped whole: the XDP
 * program sees the old value or the new one, never a mix.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "bpf_sync.h"

static int result(int err)
{
	return err ? -errno : 0;
}

static int set_entry(void *ctx, const struct esper_spd_key *k, const struct esper_spd_val *v)
{
	struct bpf_sync *s = ctx;

	return result(bpf_map_update_elem(s->fds.spd, k, v, BPF_ANY));
}

static int del_entry(void *ctx, const struct esper_spd_key *k)
{
	struct bpf_sync *s = ctx;

	return result(bpf_map_delete_elem(s->fds.spd, k));
}

static int set_tuples(void *ctx, unsigned family_idx, const struct esper_tuple_list *l)
{
	struct bpf_sync *s = ctx;
	__u32 key = family_idx;

	return result(bpf_map_update_elem(s->fds.tuple_lists, &key, l, BPF_ANY));
}

static int set_sa(void *ctx, const struct sa *sa, const struct sa_path *path)
{
	struct bpf_sync *s = ctx;
	struct esper_sa_in_val v = { .uid = sa->uid, .encap = path->encap, .dport = path->dport };
	__be32 key = htonl(sa->spi);

	v.family = sa->family == AF_INET ? ESPER_AF_INET : ESPER_AF_INET6;
	memcpy(v.src, path->src.a, sizeof(v.src));
	memcpy(v.dst, path->dst.a, sizeof(v.dst));
	return result(bpf_map_update_elem(s->fds.sa_in, &key, &v, BPF_ANY));
}

static int del_sa(void *ctx, uint32_t spi)
{
	struct bpf_sync *s = ctx;
	__be32 key = htonl(spi);

	return result(bpf_map_delete_elem(s->fds.sa_in, &key));
}

static int set_natt_dest(void *ctx, const struct sa_path *path, bool used)
{
	struct bpf_sync *s = ctx;
	struct esper_natt_key key = { .port = path->dport };
	__u8 one = 1;

	key.family = path->dst.family == AF_INET ? ESPER_AF_INET : ESPER_AF_INET6;
	memcpy(key.addr, path->dst.a, sizeof(key.addr));
	if (used)
		return result(bpf_map_update_elem(s->fds.natt_dests, &key, &one, BPF_ANY));
	return result(bpf_map_delete_elem(s->fds.natt_dests, &key));
}

void bpf_sync_init(struct bpf_sync *s, const struct bpf_load_fds *fds)
{
	s->fds = *fds;
	s->spd = (struct spd_mirror){ set_entry, del_entry, set_tuples, s };
	s->sa = (struct sa_mirror){ set_sa, del_sa, set_natt_dest, s };
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
