#!/bin/bash
# bench-tcp.sh - TCP goodput (iperf3) through two esper-xdp gateways, in the topology of the
# integration tests (tests/integ/lib.sh: hostA - gw1 = bridge = gw2 - hostB, veth, namespaces
# made here and always removed), against plaintext kernel forwarding in the same topology
# and the same run. A benchmark, never a test: it exits 0 whatever the figures (root).
#
# Modes, each measured in both directions (a2b: hostA sends to hostB; b2a: hostB sends,
# iperf3 -R), in alternating rounds (every mode once per round):
#   kernel   no esper-xdp: the gateways forward plaintext (veth with GSO/GRO)
#   esper    esper-xdp on both gateways, default options (+ $TCP_EXTRA): AES-128-GCM tunnel
#   ff       the same with --fast-forward
# TCP_MODES chooses the modes (default "kernel esper ff"); a mode NAME=OPTIONS adds one
# (e.g. TCP_MODES="kernel esper nogro=--host-gro=off").
# The figure: iperf3's receiver goodput (Gbit/s) over SECS seconds, one stream; the ratio
# esper / kernel is taken per round, the median of the rounds reported.
#
# Usage: scripts/bench-tcp.sh [--secs N] [--rounds N] [--out DIR]
# Output: DIR/live-tcp.csv (every measurement), a table on stdout, logs in DIR/tcp/.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

SECS=5
ROUNDS=3
OUT=${OUT:-build/bench}
while [ $# -gt 0 ]; do
	case $1 in
	--secs) SECS=$2; shift ;;
	--rounds) ROUNDS=$2; shift ;;
	--out) OUT=$2; shift ;;
	*) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
	esac
	shift
done
[ "$(id -u)" -eq 0 ] || { echo "bench-tcp: needs root"; exit 0; }
command -v iperf3 >/dev/null || { echo "bench-tcp: iperf3 missing (scripts/setup-deps.sh)"; exit 1; }
ESPER=${ESPER:-build/esper-xdp}
[ -x "$ESPER" ] || { echo "bench-tcp: $ESPER missing (make)"; exit 1; }
LOGDIR=$OUT/tcp
CSV=$OUT/live-tcp.csv
ID=$$
. tests/integ/lib.sh
mkdir -p "$LOGDIR"
trap 'topo_down' EXIT
trap 'exit 130' INT TERM

# iperf3 DIR: one run from hostA to hostB's server (b2a: reversed); prints Gbit/s received.
iperf() {
	local rev= spid gbps
	[ "$1" = b2a ] && rev=-R
	ip netns exec $NS_B timeout $((SECS + 15)) iperf3 -s -1 -B 203.0.113.10 \
		>"$LOGDIR/server.log" 2>&1 &
	spid=$!
	wait_for "iperf3 server" sh -c "ip netns exec $NS_B ss -ltn | grep -q ':5201 '"
	ip netns exec $NS_A timeout $((SECS + 10)) iperf3 -c 203.0.113.10 $rev -t "$SECS" -J \
		>"$LOGDIR/client.json" 2>"$LOGDIR/client.err"
	wait $spid 2>/dev/null
	gbps=$(/usr/bin/python3 -c 'import json, sys
try:
    print("%.3f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e9))
except Exception:
    print("0")' "$LOGDIR/client.json")
	echo "$gbps"
}

# mode_opts MODE: esper-xdp's options for MODE, or "-" for no esper-xdp.
mode_opts() {
	case $1 in
	kernel) echo - ;;
	esper) echo "${TCP_EXTRA:-}" ;;
	ff) echo "--fast-forward ${TCP_EXTRA:-}" ;;
	off) echo "--host-gso off ${TCP_EXTRA:-}" ;;
	ff-off) echo "--fast-forward --host-gso off ${TCP_EXTRA:-}" ;;
	*=*) echo "${1#*=}" | tr , ' ' ;;
	esac
}

# one MODE ROUND: the topology, the gateways of MODE, both directions; CSV lines.
one() {
	local mode=$1 r=$2 opts dir g note
	opts=$(mode_opts "$mode")
	topo_up || { echo "bench-tcp: topology failed"; return 1; }
	if [ "$opts" != - ]; then
		# shellcheck disable=SC2086
		gw_start 1 $opts && gw_start 2 $opts || { echo "bench-tcp: $mode: gateways did not start"; topo_down; return 1; }
		tunnel_policies 1 4 4
		tunnel_policies 2 4 4
		gw_sync 1 && gw_sync 2
	fi
	in_ns $NS_A ping -q -c 2 -i 0.2 -W 2 203.0.113.10 >/dev/null 2>&1
	for dir in a2b b2a; do
		g=$(iperf $dir)
		note=
		if [ "$opts" != - ]; then
			note="gw1: $(gw_stat 1 worker to_host | sed 's/^/to_host=/') $(gw_stat 1 worker forwarded | sed 's/^/forwarded=/') gw2: $(gw_stat 2 worker to_host | sed 's/^/to_host=/') $(gw_stat 2 worker forwarded | sed 's/^/forwarded=/')"
		fi
		echo "${mode%%=*},$dir,$r,$g,$note" >>"$CSV"
		printf '%-8s %-3s round %s: %7s Gbit/s  %s\n' "${mode%%=*}" "$dir" "$r" "$g" "$note"
	done
	topo_down
}

MODES=${TCP_MODES:-kernel esper ff off ff-off}
echo "mode,dir,round,gbps,note" >"$CSV"
echo "bench-tcp: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(uname -r), $(nproc) CPUs, load" \
	"$(cut -d' ' -f1-3 /proc/loadavg), git $(git rev-parse --short HEAD 2>/dev/null)," \
	"iperf3 $SECS s x $ROUNDS rounds, modes: $MODES"
for r in $(seq 1 "$ROUNDS"); do
	for m in $MODES; do
		one "$m" "$r"
	done
done

# The summary: per mode and direction, the median Gbit/s and the median of the per-round
# ratios to the kernel's forwarding.
awk -F, 'NR > 1 { g[$1 "," $2 "," $3] = $4; seen[$1 "," $2] = 1; if ($3 > nr) nr = $3 }
function median(a, n,   i, j, t) {
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n ? a[int((n + 1) / 2)] : 0
}
END {
	for (k in seen) {
		split(k, kk, ",")
		n = 0; m = 0; list = ""; rl = ""
		for (r = 1; r <= nr; r++) {
			if (!((k "," r) in g)) continue
			v[++n] = g[k "," r]; list = list " " g[k "," r]
			b = g["kernel," kk[2] "," r]
			if (b > 0) { q[++m] = g[k "," r] / b; rl = rl sprintf(" %.3f", g[k "," r] / b) }
		}
		printf "tcp %-8s %s: median %.3f Gbit/s (rounds:%s); / kernel forwarding: median %.3f (rounds:%s)\n",
			kk[1], kk[2], median(v, n), list, median(q, m), rl
	}
}' "$CSV" | sort
exit 0
