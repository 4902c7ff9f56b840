#!/bin/bash
# run.sh - integration tests of the live datapath in network namespaces (topology in
# lib.sh). Each case builds the topology, runs, and tears it down, whatever happens; it
# prints PASS or FAIL; the last line is "integ: N passed, N failed".
# Usage: tests/integ/run.sh [build/esper-xdp] [CASE...]    (as root)
cd "$(dirname "$0")/../.." || exit 1
ESPER=${1:-build/esper-xdp}
shift
. tests/integ/lib.sh

[ "$(id -u)" -eq 0 ] || { echo "integ: needs root"; exit 1; }
trap 'topo_down' EXIT
trap 'exit 130' INT TERM

ping_ok() {	# ping_ok NS ADDR [COUNT]
	in_ns "$1" ping -q -c "${3:-3}" -i 0.2 -W 2 "$2" >/dev/null
}

# --- tunnel mode, every family combination, AES-GCM ---------------------------------------

tunnel_case() {	# inner outer
	tunnel_policies 1 "$1" "$2"
	tunnel_policies 2 "$1" "$2"
	if [ "$1" = 4 ]; then dst=203.0.113.10; else dst=2001:db8:b::10; fi
	ping_ok $NS_A $dst 5 || { echo "ping $dst failed"; return 1; }
	transfer $NS_A $NS_B $dst 20 || return 1
	[ "$(gw_stat 1 'sa spi=0x00001001' out_packets)" -gt 1000 ] || { echo "gw1 did not encrypt"; return 1; }
	[ "$(gw_stat 2 'sa spi=0x00001001' in_packets)" -gt 1000 ] || { echo "gw2 did not decrypt"; return 1; }
}

case_tunnel_4in4() { tunnel_case 4 4; }
case_tunnel_6in6() { tunnel_case 6 6; }
case_tunnel_4in6() { tunnel_case 4 6; }
case_tunnel_6in4() { tunnel_case 6 4; }

# --- running the cases ---------------------------------------------------------------------

ALL_CASES="tunnel_4in4 tunnel_6in6 tunnel_4in6 tunnel_6in4"

run_case() {
	name=$1
	topo_up || { echo "FAIL $name: topology"; return 1; }
	if gw_start 1 $GW_OPTS && gw_start 2 $GW_OPTS && "case_$name" >"$LOGDIR/$name.log" 2>&1; then
		rc=0
	else
		rc=1
	fi
	topo_down
	if [ $rc -eq 0 ]; then
		echo "PASS $name"
	else
		echo "FAIL $name"
		sed 's/^/    /' "$LOGDIR/$name.log" | tail -n 20
		for n in 1 2; do
			echo "    --- gw$n stderr"
			sed 's/^/    /' "$LOGDIR/gw$n.err" | tail -n 10
		done
	fi
	return $rc
}

passed=0
failed=0
for c in ${*:-$ALL_CASES}; do
	if run_case "$c"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
echo "integ: $passed passed, $failed failed"
[ $failed -eq 0 ]
