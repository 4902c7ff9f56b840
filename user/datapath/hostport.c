// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * hostport.c - the TUN device of hostport.h. No packet information header. Without vnet
 * headers, no offloads: the kernel hands over complete IP packets with final checksums, no
 * GSO. With them (IFF_VNET_HDR) every packet in either direction has a virtio_net_hdr in
 * front: what we write may be a GSO packet (coalesce.h), and the device offers checksum and
 * TCP/UDP segmentation offload (TUNSETOFFLOAD), so what we read may be one too (segment.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hostport.h"
#include "lib/log.h"

static int open_queue(const char *name, bool vnet)
{
	struct ifreq ifr = { 0 };
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE | (vnet ? IFF_VNET_HDR : 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int link_up(const char *name, int mtu)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_mtu = mtu;
	if (ioctl(fd, SIOCSIFMTU, &ifr) < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		err = -errno;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (!err && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* Open /proc/sys/net/<conf>/<name>/<key> with flags; the path into path. */
static int open_conf(const char *conf, const char *name, const char *key, int flags,
		     char path[128])
{
	snprintf(path, 128, "/proc/sys/net/%s/%s/%s", conf, name, key);
	return open(path, flags | O_CLOEXEC);
}

/* Set /proc/sys/net/<conf>/<name>/<key> to value. */
static void set_conf(const char *conf, const char *name, const char *key, const char *value)
{
	char path[128];
	int fd = open_conf(conf, name, key, O_WRONLY, path);

	if (fd < 0 || write(fd, value, strlen(value)) != (ssize_t)strlen(value))
		log_warn("%s", path);
	if (fd >= 0)
		close(fd);
}

#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20	/* linux/if_tun.h of kernel 6.2 */
#define TUN_F_USO6 0x40
#endif

/* Checksum and segmentation offload toward us: TCP, and UDP where the kernel has it. */
static int offload(int fd)
{
	unsigned tcp = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;

	if (ioctl(fd, TUNSETOFFLOAD, tcp | TUN_F_USO4 | TUN_F_USO6) == 0 ||
	    ioctl(fd, TUNSETOFFLOAD, tcp) == 0)
		return 0;
	return -errno;
}

bool hostport_forwards(const struct hostport *h, int family)
{
	char path[128], value[4] = "";
	/* IPv4 asks the receiving interface (ip_forward sets them all), IPv6 the global one. */
	int fd = family == AF_INET ? open_conf("ipv4/conf", h->name, "forwarding", O_RDONLY, path)
				   : open_conf("ipv6/conf", "all", "forwarding", O_RDONLY, path);

	if (fd < 0)
		return false;
	if (read(fd, value, sizeof(value) - 1) < 0)
		value[0] = 0;
	close(fd);
	return value[0] == '1';
}

int hostport_open(struct hostport *h, const char *name, unsigned nqueues, bool vnet)
{
	int err;

	memset(h, 0, sizeof(*h));
	if (nqueues == 0 || nqueues > HOSTPORT_MAX_QUEUES || strlen(name) >= IF_NAMESIZE)
		return -EINVAL;
	if (if_nametoindex(name)) {
		log_warnx("host port %s exists already (another esper-xdp, or a leftover)", name);
		return -EEXIST;
	}
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->vnet = vnet;
	for (; h->nqueues < nqueues; h->nqueues++) {
		int fd = open_queue(name, vnet);

		if (fd < 0) {
			err = fd;
			goto fail;
		}
		h->fd[h->nqueues] = fd;
	}
	/* Without offloads the host's packets come whole and finished, as without vnet. */
	err = vnet ? offload(h->fd[0]) : 0;
	if (err)
		log_warnx("host port %s: no offloads (%s): the host's packets come one by one",
			  name, strerror(-err));
	/* No link-local address: the host port carries decrypted and to-be-encrypted traffic
	 * only, not the kernel's own router solicitations; IPv6 stays on for that traffic. */
	set_conf("ipv6/conf", name, "addr_gen_mode", "1");
	/* Decrypted packets arrive here with remote sources. */
	set_conf("ipv4/conf", name, "rp_filter", "0");
	err = link_up(name, HOSTPORT_MTU);
	if (err)
		goto fail;
	h->ifindex = (int)if_nametoindex(name);
	return 0;
fail:
	hostport_close(h);
	return err;
}

void hostport_close(struct hostport *h)
{
	for (unsigned i = 0; i < h->nqueues; i++)
		close(h->fd[i]);
	h->nqueues = 0;
}
