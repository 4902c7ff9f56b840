// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bpf_load.c - loads bpf/esper.bpf.c through its skeleton and attaches it with libxdp.
 * Owns the skeleton, the libxdp program handle and the list of attached interfaces.
 * Called by live.c at start-up and shutdown; map fds go to bpf_sync.c, counters to stats.
 *
 * libxdp tries its multi-program dispatcher first. Here the dispatcher cannot load (no
 * bpffs outside a namespace, freplace answers EPERM) and libxdp falls back to attaching
 * our program alone; its warnings about that go to the debug log. The attachment is a
 * netlink one and outlives the process, hence bpf_load_clean_stale.
 */
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "bpf_load.h"
#include "esper.skel.h"
#include "lib/log.h"

struct bpf_load_if {
	int ifindex;
	enum xdp_attach_mode mode;
};

struct bpf_load {
	struct esper *skel;
	struct xdp_program *prog;	/* libxdp's handle on skel's program */
	struct bpf_load_if ifs[ESPER_MAX_IFACES];
	int nifs;
};

static bool libbpf_loud;	/* libbpf warnings at warn level (only while loading) */

static void vprint(bool warn, const char *fmt, va_list ap)
{
	char msg[1024];
	size_t n;

	if (!log_enabled(warn ? LOG_LVL_WARN : LOG_LVL_DEBUG))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	if (warn)
		log_warnx("%s", msg);
	else
		log_debug("%s", msg);
}

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	vprint(libbpf_loud && level == LIBBPF_WARN, fmt, ap);
	return 0;
}

static int print_libxdp(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	vprint(false, fmt, ap);
	return 0;
}

void bpf_load_log_init(void)
{
	libbpf_set_print(print_libbpf);
	libxdp_set_print(print_libxdp);
}

struct bpf_load *bpf_load_new(void)
{
	struct bpf_load *bl;
	int err;

	bl = calloc(1, sizeof(*bl));
	if (!bl)
		return NULL;
	libbpf_loud = true;
	bl->skel = esper__open_and_load();
	libbpf_loud = false;
	if (!bl->skel) {
		err = errno;
		log_warnx("loading the XDP program failed: %s", strerror(err));
		goto fail_skel;
	}
	bl->prog = xdp_program__from_bpf_obj(bl->skel->obj, "xdp");
	err = -libxdp_get_error(bl->prog);
	if (err) {
		log_warnx("libxdp cannot use the XDP program: %s", strerror(err));
		goto fail_prog;
	}
	return bl;

fail_prog:
	esper__destroy(bl->skel);
fail_skel:
	free(bl);
	errno = err;
	return NULL;
}

void bpf_load_free(struct bpf_load *bl)
{
	if (!bl)
		return;
	while (bl->nifs)
		bpf_load_detach(bl, bl->ifs[bl->nifs - 1].ifindex);
	xdp_program__close(bl->prog);
	esper__destroy(bl->skel);
	free(bl);
}

static const char *ifname(int ifindex, char *buf)
{
	if (!if_indextoname(ifindex, buf))
		snprintf(buf, IF_NAMESIZE, "#%d", ifindex);
	return buf;
}

static int find_if(const struct bpf_load *bl, int ifindex)
{
	for (int i = 0; i < bl->nifs; i++)
		if (bl->ifs[i].ifindex == ifindex)
			return i;
	return -1;
}

int bpf_load_attach(struct bpf_load *bl, int ifindex, enum bpf_load_mode mode)
{
	enum xdp_attach_mode xmode = mode == BPF_LOAD_SKB ? XDP_MODE_SKB : XDP_MODE_NATIVE;
	char name[IF_NAMESIZE];
	int err;

	if (find_if(bl, ifindex) >= 0)
		return -EALREADY;
	if (bl->nifs == ESPER_MAX_IFACES)
		return -ENOSPC;
	err = xdp_program__attach(bl->prog, ifindex, xmode, 0);
	if (err) {
		errno = -err;
		log_warn("attaching XDP (%s mode) to %s", mode == BPF_LOAD_SKB ? "skb" : "native",
			 ifname(ifindex, name));
		return err;
	}
	bl->ifs[bl->nifs++] = (struct bpf_load_if){ .ifindex = ifindex, .mode = xmode };
	log_debug("XDP attached to %s", ifname(ifindex, name));
	return 0;
}

int bpf_load_detach(struct bpf_load *bl, int ifindex)
{
	char name[IF_NAMESIZE];
	int i = find_if(bl, ifindex);
	int err;

	if (i < 0)
		return -ENOENT;
	err = xdp_program__detach(bl->prog, ifindex, bl->ifs[i].mode, 0);
	if (err) {
		errno = -err;
		log_warn("detaching XDP from %s", ifname(ifindex, name));
	}
	bl->ifs[i] = bl->ifs[--bl->nifs];
	return err;
}

/* Is one of the programs on ifindex ours? Legacy (single program) or in a dispatcher. */
static bool stale_is_ours(const struct xdp_multiprog *mp)
{
	const struct xdp_program *p;

	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		return p && !strcmp(xdp_program__name(p), BPF_LOAD_PROG_NAME);
	}
	for (p = xdp_multiprog__next_prog(NULL, mp); p; p = xdp_multiprog__next_prog(p, mp))
		if (!strcmp(xdp_program__name(p), BPF_LOAD_PROG_NAME))
			return true;
	return false;
}

int bpf_load_clean_stale(int ifindex)
{
	char name[IF_NAMESIZE];
	struct xdp_multiprog *mp;
	int err;

	mp = xdp_multiprog__get_from_ifindex(ifindex);
	err = -libxdp_get_error(mp);
	if (err == -ENOENT || (!err && !mp))
		return 0;	/* nothing attached */
	if (err)
		return err;
	if (!stale_is_ours(mp)) {
		xdp_multiprog__close(mp);
		return 0;
	}
	log_info("removing a stale esper-xdp XDP program from %s (an earlier run did not exit "
		 "cleanly)", ifname(ifindex, name));
	err = xdp_multiprog__detach(mp);
	if (err) {
		errno = -err;
		log_warn("removing the stale XDP program from %s", ifname(ifindex, name));
	}
	xdp_multiprog__close(mp);
	return err;
}

void bpf_load_map_fds(const struct bpf_load *bl, struct bpf_load_fds *fds)
{
	fds->spd = bpf_map__fd(bl->skel->maps.spd);
	fds->tuple_lists = bpf_map__fd(bl->skel->maps.tuple_lists);
	fds->sa_in = bpf_map__fd(bl->skel->maps.sa_in);
	fds->xsk_slots = bpf_map__fd(bl->skel->maps.xsk_slots);
	fds->xsks = bpf_map__fd(bl->skel->maps.xsks);
	fds->config = bpf_map__fd(bl->skel->maps.config);
	fds->local_addrs = bpf_map__fd(bl->skel->maps.local_addrs);
	fds->natt_dests = bpf_map__fd(bl->skel->maps.natt_dests);
	fds->natt_ports = bpf_map__fd(bl->skel->maps.natt_ports);
	fds->counters = bpf_map__fd(bl->skel->maps.counters);
}

int bpf_load_prog_fd(const struct bpf_load *bl)
{
	return bpf_program__fd(bl->skel->progs.esper_xdp);
}

int bpf_load_counters(const struct bpf_load *bl, __u64 sum[ESPER_C_MAX])
{
	int fd = bpf_map__fd(bl->skel->maps.counters);
	int ncpu = libbpf_num_possible_cpus();
	__u64 *vals;
	int err = 0;

	if (ncpu < 0)
		return ncpu;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (__u32 i = 0; i < ESPER_C_MAX; i++) {
		sum[i] = 0;
		if (bpf_map_lookup_elem(fd, &i, vals)) {
			err = -errno;
			break;
		}
		for (int c = 0; c < ncpu; c++)
			sum[i] += vals[c];
	}
	free(vals);
	return err;
}
