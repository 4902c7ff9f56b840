#!/bin/sh
# bench.sh - the benchmarks of `make bench`: the machine they ran on, then
#   build/bench/bench_esp      ESP encrypt/decrypt against the raw AES-GCM rate (in process)
#   build/bench/bench_gost     the RFC 9227 transforms against the raw block cipher
#   build/bench/bench_xdp_spd  XDP classification cost against the SPD size (root only)
#   build/bench/bench_nexthop  a burst of new destinations against a busy one (next hops)
#   build/tests/test_scale     the control plane with 1,000,000 SAs and policies against
#                              20,000 (cost per SA and policy; ~30 s, ~1 GB)
#   scripts/bench-cp.sh        1M add + 1M spdadd into a live esper-xdp against parse and
#                              apply baselines, memory per SA+SP, first packets (root only)
#   scripts/bench-live.sh      the live datapath against xdp-bench baselines (root only)
# A benchmark never fails on a timing: this script exits 0 unless a binary is missing.
# Extra arguments go to bench_esp (e.g. scripts/bench.sh -r 5).
BENCH=${BENCH:-build/bench}

echo "=== machine"
echo "date:   $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "cpu:    $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
	"$(nproc) online, flags: $(grep -o -w -E 'aes|avx2|avx512f|vaes|vpclmulqdq|sha_ni' \
	/proc/cpuinfo | sort -u | tr '\n' ' ')"
echo "kernel: $(uname -srm)"
echo "load:   $(cut -d' ' -f1-3 /proc/loadavg) (shared machine: figures are per-thread CPU" \
	"time, ratios from one run)"
echo "git:    $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet \
	2>/dev/null || echo ' + uncommitted changes')"

for b in bench_esp bench_gost; do
	if [ ! -x "$BENCH/$b" ]; then
		echo "bench.sh: $BENCH/$b missing (make bench builds it)" >&2
		exit 1
	fi
done

echo
echo "=== ESP in process: build/bench/bench_esp $*"
"$BENCH/bench_esp" "$@" || echo "bench_esp: exit status $? (not a failure of the bench run)"

echo
echo "=== GOST transforms: build/bench/bench_gost"
"$BENCH/bench_gost" || echo "bench_gost: exit status $? (not a failure of the bench run)"

echo
echo "=== control plane at scale: build/tests/test_scale, ESPER_SCALE=20000 then 1000000"
scale() {	# N: the test's "per SA and its policy" line, its output in build/bench-scale.N
	ESPER_SCALE=$1 build/tests/test_scale >"build/bench-scale.$1" 2>&1 ||
		echo "test_scale ESPER_SCALE=$1: failed (build/bench-scale.$1)" >&2
	grep -m1 '^  per SA and its policy:' "build/bench-scale.$1" | sed 's/^  //'
}
if [ -x build/tests/test_scale ]; then
	base=$(scale 20000)
	big=$(scale 1000000)
	echo "20,000:    $base"
	echo "1,000,000: $big"
	# "per SA and its policy: T us (C us CPU, bound B), M bytes (bound B)": T, C and M
	echo "$base" "$big" |
		sed 's/[^:]*: \([0-9.]*\) us (\([0-9.]*\) us CPU[^)]*), \([0-9.]*\) bytes ([^)]*)/\1 \2 \3 /g' |
		awk '{ printf "1,000,000 against 20,000, per SA and policy: time x%.2f, CPU time x%.2f, memory x%.2f\n", $4 / $1, $5 / $2, $6 / $3 }'
	grep -E '^  (add|spdadd|delete|flush)' build/bench-scale.1000000
else
	echo "bench.sh: build/tests/test_scale missing (make bench builds it)" >&2
fi

echo
echo "=== XDP SPD lookup: build/bench/bench_xdp_spd"
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (BPF_PROG_TEST_RUN)"
elif [ ! -x "$BENCH/bench_xdp_spd" ]; then
	echo "SKIP: $BENCH/bench_xdp_spd not built"
else
	"$BENCH/bench_xdp_spd" || echo "bench_xdp_spd: exit status $? (not a failure of the bench run)"
fi

echo
echo "=== next hops, a burst of new destinations: build/bench/bench_nexthop"
"$BENCH/bench_nexthop" || echo "bench_nexthop: exit status $? (not a failure of the bench run)"

echo
echo "=== control plane, live: scripts/bench-cp.sh"
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (namespaces, XDP)"
else
	scripts/bench-cp.sh || echo "bench-cp: exit status $? (not a failure of the bench run)"
fi

echo
echo "=== live datapath (xdp-bench): scripts/bench-live.sh --skip spd,cp"
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (namespaces, XDP)"
else
	scripts/bench-live.sh --skip spd,cp || echo "bench-live: exit status $? (not a failure of the bench run)"
fi
exit 0
