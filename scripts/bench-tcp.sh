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
#   off, ff-off  esper and ff with --host-gso off: the host port as it was before its GSO
#            packets (one write per decrypted packet, no offloads from the kernel)
#   routed   esper-xdp on the gateways' WAN side only (-i g1w / -i g2w): each routes the far
#            site into its host port, so the LAN's traffic reaches it through the kernel
#            (GRO/GSO kept, read with TSO) instead of XDP; routed-off: --host-gso off;
#            with --routed
#   tp, tp-off   transport mode between the gateways themselves (tests/integ/run.sh,
#            case_transport): iperf3 from gw1 to gw2 (a2b) and back (b2a), the traffic the
#            host routes into its host port (read with TSO: segment.c), with --host-gso on/off;
#            its reference "kernel-gw" is plaintext between the gateways, no esper-xdp
# TCP_MODES chooses the modes (default "kernel esper ff"); a mode NAME=OPTIONS adds one
# (e.g. TCP_MODES="kernel esper nogro=--host-gro=off").
# The figure: iperf3's receiver goodput (Gbit/s) over SECS seconds, one stream; the ratio
# esper / kernel is taken per round, the median of the rounds reported.
#
# Usage: scripts/bench-tcp.sh [--secs N] [--rounds N] [--streams N] [--transport] [--routed]
#                             [--out DIR]
# Output: DIR/live-tcp.csv (every measurement), a table on stdout, logs in DIR/tcp/.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

SECS=5
ROUNDS=3
STREAMS=1
OUT=${OUT:-build/bench}
while [ $# -gt 0 ]; do
	case $1 in
	--secs) SECS=$2; shift ;;
	--rounds) ROUNDS=$2; shift ;;
	--out) OUT=$2; shift ;;
	--transport) TRANSPORT=1 ;;
	--routed) ROUTED=1 ;;
	--streams) STREAMS=$2; shift ;;
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

# iperf3 DIR [gw]: one run from hostA to hostB's server (b2a: reversed; gw: from gw1 to
# gw2); prints Gbit/s received.
iperf() {
	local rev= spid gbps cns=$NS_A sns=$NS_B addr=203.0.113.10
	[ "$1" = b2a ] && rev=-R
	[ "${2:-}" = gw ] && cns=$NS_G1 sns=$NS_G2 addr=192.0.2.2
	ip netns exec $sns timeout $((SECS + 15)) iperf3 -s -1 -B $addr \
		>"$LOGDIR/server.log" 2>&1 &
	spid=$!
	wait_for "iperf3 server" sh -c "ip netns exec $sns ss -ltn | grep -q ':5201 '"
	ip netns exec $cns timeout $((SECS + 10)) iperf3 -c $addr $rev -t "$SECS" -P "$STREAMS" -J \
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
	kernel-gw) echo - ;;
	tp) echo "--fwmark 1 ${TCP_EXTRA:-}" ;;
	tp-off) echo "--fwmark 1 --host-gso off ${TCP_EXTRA:-}" ;;
	off) echo "--host-gso off ${TCP_EXTRA:-}" ;;
	routed) echo "${TCP_EXTRA:-}" ;;
	routed-off) echo "--host-gso off ${TCP_EXTRA:-}" ;;
	ff-off) echo "--fast-forward --host-gso off ${TCP_EXTRA:-}" ;;
	*=*) echo "${1#*=}" | tr , ' ' ;;
	esac
}

# Transport mode between the gateways (as tests/integ/run.sh, case_transport): each routes
# the other's address into its host port, but for esper-xdp's own ESP (mark 1).
transport_policies() {
	local n ns peer self
	for n in 1 2; do
		gw_cmd $n "add 192.0.2.1 192.0.2.2 esp 0x3001 -u 31 -E aes-gcm-16 $KEY_OUT ;"
		gw_cmd $n "add 192.0.2.2 192.0.2.1 esp 0x3002 -u 32 -E aes-gcm-16 $KEY_BACK ;"
		ns=$(gw_ns $n)
		peer=192.0.2.$((3 - n)) self=192.0.2.$n
		in_ns "$ns" ip rule add not fwmark 1 lookup 100 pref 100
		in_ns "$ns" ip route add "$peer/32" dev esper0 table 100 src "$self"
	done
	gw_cmd 1 "spdadd 192.0.2.1 192.0.2.2 any -P out ipsec esp/transport//unique:31 ;"
	gw_cmd 1 "spdadd 192.0.2.2 192.0.2.1 any -P in ipsec esp/transport//unique:32 ;"
	gw_cmd 2 "spdadd 192.0.2.2 192.0.2.1 any -P out ipsec esp/transport//unique:32 ;"
	gw_cmd 2 "spdadd 192.0.2.1 192.0.2.2 any -P in ipsec esp/transport//unique:31 ;"
}

# one MODE ROUND: the topology, the gateways of MODE, both directions; CSV lines.
one() {
	local mode=$1 r=$2 opts dir g note gw=
	opts=$(mode_opts "$mode")
	case $mode in kernel-gw|tp|tp-off) gw=gw ;; esac
	topo_up || { echo "bench-tcp: topology failed"; return 1; }
	if [ "${mode%-off}" = routed ]; then
		gw_ifaces() { [ "$1" = 1 ] && echo "-i g1w" || echo "-i g2w"; }
	else
		gw_ifaces() { [ "$1" = 1 ] && echo "-i g1l -i g1w" || echo "-i g2l -i g2w"; }
	fi
	if [ "$opts" != - ]; then
		# shellcheck disable=SC2086
		gw_start 1 $opts && gw_start 2 $opts || { echo "bench-tcp: $mode: gateways did not start"; topo_down; return 1; }
		if [ -n "$gw" ]; then
			transport_policies
		else
			tunnel_policies 1 4 4
			tunnel_policies 2 4 4
		fi
		gw_sync 1 && gw_sync 2
	fi
	if [ "${mode%-off}" = routed ]; then
		in_ns $NS_G1 ip route replace 203.0.113.0/24 dev esper0
		in_ns $NS_G2 ip route replace 198.51.100.0/24 dev esper0
	fi
	if [ -n "$gw" ]; then
		in_ns $NS_G1 ping -q -c 2 -i 0.2 -W 2 192.0.2.2 >/dev/null 2>&1
	else
		in_ns $NS_A ping -q -c 2 -i 0.2 -W 2 203.0.113.10 >/dev/null 2>&1
	fi
	for dir in a2b b2a; do
		g=$(iperf $dir $gw)
		note=
		if [ "$opts" != - ]; then
			note="gw1: $(for f in host_rx to_host host_gso forwarded; do printf '%s=%s ' $f "$(gw_stat 1 worker $f)"; done)gw2: $(for f in host_rx to_host host_gso forwarded; do printf '%s=%s ' $f "$(gw_stat 2 worker $f)"; done)"
		fi
		echo "${mode%%=*},$dir,$r,$g,$note" >>"$CSV"
		printf '%-8s %-3s round %s: %7s Gbit/s  %s\n' "${mode%%=*}" "$dir" "$r" "$g" "$note"
	done
	topo_down
}

MODES=${TCP_MODES:-kernel esper ff off ff-off${ROUTED:+ routed routed-off}${TRANSPORT:+ kernel-gw tp tp-off}}
echo "mode,dir,round,gbps,note" >"$CSV"
echo "bench-tcp: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(uname -r), $(nproc) CPUs, load" \
	"$(cut -d' ' -f1-3 /proc/loadavg), git $(git rev-parse --short HEAD 2>/dev/null)," \
	"iperf3 $SECS s x $ROUNDS rounds, $STREAMS stream(s), modes: $MODES"
for r in $(seq 1 "$ROUNDS"); do
	for m in $MODES; do
		one "$m" "$r"
	done
done

# The summary: per mode and direction, the median Gbit/s and the median of the per-round
# ratios to the kernel's forwarding.
awk -F, 'BEGIN { off["esper"] = "off"; off["ff"] = "ff-off"; off["tp"] = "tp-off"; off["routed"] = "routed-off" }
NR > 1 { g[$1 "," $2 "," $3] = $4; seen[$1 "," $2] = 1; if ($3 > nr) nr = $3 }
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
			base = kk[1] ~ /^(tp|tp-off|kernel-gw)$/ ? "kernel-gw" : "kernel"
			b = g[base "," kk[2] "," r]
			if (b > 0) { q[++m] = g[k "," r] / b; rl = rl sprintf(" %.3f", g[k "," r] / b) }
			o = g[off[kk[1]] "," kk[2] "," r]
			if (o > 0) { x[++mo] = g[k "," r] / o; ol = ol sprintf(" %.2f", g[k "," r] / o) }
		}
		printf "tcp %-9s %s: median %.3f Gbit/s (rounds:%s); / %s: median %.3f (rounds:%s)%s\n",
			kk[1], kk[2], median(v, n), list, base == "kernel" ? "kernel forwarding" : "kernel, plaintext",
			median(q, m), rl, mo ? sprintf("; / --host-gso off: median %.2f (rounds:%s)", median(x, mo), ol) : ""
		mo = 0; ol = ""
	}
}' "$CSV" | sort
exit 0
