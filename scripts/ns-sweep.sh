#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# ns-sweep.sh - delete the network namespaces that esper-xdp's tests and benchmarks name
# after the PID of the shell that made them (tests/integ/lib.sh: eA, eG1, eW, eG2, eB;
# scripts/bench-live.sh: ebG, ebW, ebS, ebV, ebB; scripts/bench-cp.sh: ecp; tests/install:
# eI) when that shell is gone: a run killed with SIGKILL (or with its machine's session)
# never ran its cleanup trap. A namespace whose shell still runs, or with a process still in
# it, is left alone. Called by those scripts before they make their own; as root.
for ns in $(ip netns list 2>/dev/null | cut -d' ' -f1); do
	pid=
	for prefix in ebG ebW ebS ebV ebB ecp eG1 eG2 eA eW eB eI; do
		case $ns in "$prefix"*) pid=${ns#"$prefix"}; break ;; esac
	done
	case $pid in '' | *[!0-9]*) continue ;; esac
	kill -0 "$pid" 2>/dev/null && continue
	if [ -n "$(ip netns pids "$ns" 2>/dev/null)" ]; then
		echo "ns-sweep: $ns: its run is gone but processes remain in it; left alone" >&2
		continue
	fi
	ip netns del "$ns" 2>/dev/null && echo "ns-sweep: deleted $ns (left by run $pid)" >&2
done
exit 0
