// SPDX-License-Identifier: GPL-2.0
/* esper.bpf.c - placeholder until the classifier lands: passes everything. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "esper_abi.h"

SEC("xdp")
int esper_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
