/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * hostport.h - the host port: a multi-queue TUN device that esper-xdp creates, one queue per
 * worker. Decrypted packets are written to it, so the kernel routes or delivers them;
 * host-originated plaintext that the user routes into it is read back by the workers and
 * encrypted like the rest. Created and removed by live.c; each queue fd is used by one
 * worker only. With vnet headers, every packet read or written has a virtio_net_hdr in
 * front: decrypted packets go in merged into GSO packets (coalesce.h), and what the host
 * sends may come out as one, or with its checksum left to us (segment.h).
 */
#ifndef ESPER_HOSTPORT_H
#define ESPER_HOSTPORT_H

#include <net/if.h>
#include <stdbool.h>

#define HOSTPORT_MAX_QUEUES 64
#define HOSTPORT_MTU 1400	/* leaves room for the largest ESP encapsulation in 1500 */

struct hostport {
	char name[IF_NAMESIZE];
	int ifindex;
	unsigned nqueues;
	bool vnet;			/* IFF_VNET_HDR: a virtio_net_hdr before every packet */
	int fd[HOSTPORT_MAX_QUEUES];	/* non-blocking */
};

/* Create TUN device `name` with nqueues queues (vnet: with virtio_net_hdr), MTU
 * HOSTPORT_MTU, no IPv6 autoconfiguration, rp_filter off (decrypted packets have remote
 * sources), and bring it up. */
int hostport_open(struct hostport *h, const char *name, unsigned nqueues, bool vnet);
/* Whether the kernel forwards family's packets that arrive on the host port (its
 * forwarding sysctl, read when asked): --fast-forward is off for a family the kernel
 * does not forward. */
bool hostport_forwards(const struct hostport *h, int family);
/* Close every queue: the device goes away with the last one. */
void hostport_close(struct hostport *h);

#endif
