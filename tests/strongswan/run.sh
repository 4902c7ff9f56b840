#!/bin/bash
# run.sh - strongSwan 5.9.8 (Debian 12) as the IKEv2 daemon and as the remote peer of
# esper-xdp. The topology of tests/integ, with charon on both gateways:
#
#   hostA ------------ gw1 ============= wire (bridge) ============= gw2 ------------ hostB
#   a0            g1l       g1w        w1    br0    w2         g2w       g2l           b0
#   198.51.100.10/24 .1   192.0.2.1                          192.0.2.2  203.0.113.1  .10/24
#                    charon (IKE, UDP 500/4500)             charon (IKE, UDP 500/4500)
#                    + esper-xdp (ESP)  [esper_peer]        + kernel-libipsec (ESP in UDP)
#                    or kernel-libipsec [libipsec]
#
# IKEv2 with a pre-shared key; one CHILD_SA "net", tunnel mode, 198.51.100.0/24 ===
# 203.0.113.0/24, ESP AES-128-GCM-16 always in UDP 4500 (encap = yes, RFC 3948), as
# kernel-libipsec only does ESP in UDP. The gateways have no route to the far site: only
# the tunnel carries site traffic. A capture on the wire bridge sees what travels between
# the gateways. README.md beside this file says what each case shows.
#
# Each case builds the topology, runs, and tears everything down (namespaces, charons,
# esper-xdp, followers, captures: by PID), whatever happens; it prints PASS or FAIL, and
# the last line is "strongswan: N passed, N failed".
# Usage: tests/strongswan/run.sh [CASE...]    (as root; ESPER=build/esper-xdp by default)
set -u
cd "$(dirname "$0")/../.." || exit 1
ESPER=${ESPER:-build/esper-xdp}
. tests/strongswan/lib.sh

[ "$(id -u)" -eq 0 ] || { echo "strongswan: needs root"; exit 1; }
[ -x "$CHARON" ] || { echo "strongswan: no $CHARON (scripts/setup-deps.sh installs it)"; exit 1; }
trap 'swan_down' EXIT
trap 'exit 130' INT TERM

# --- baseline: charon and kernel-libipsec on both gateways -------------------------------
# Proves the harness and the key extraction: the wire carries only IKE and ESP in UDP, and
# tshark authenticates every ESP packet with the keys swan2esper.py took from gw1's log
# (and those from gw2's log are the same), across two rekeyings, one from each side.

case_libipsec() {
	swan_start 1 libipsec && swan_start 2 libipsec || return 1
	follow_start 1 tshark "$LOGDIR/gw1.uat"
	follow_start 2 tshark "$LOGDIR/gw2.uat"
	follow_start 1 esper "$LOGDIR/gw1.cmds"
	capture_start "$LOGDIR/wire.pcap" || return 1
	swan_initiate 1 || return 1
	ping_ok $NS_A 203.0.113.10 5 || { echo "ping through the tunnel failed"; return 1; }
	size_sweep || return 1
	transfer $NS_A $NS_B 203.0.113.10 2 || return 1
	transfer $NS_B $NS_A 198.51.100.10 2 || return 1
	two_rekeys 2 1 1 1 || return 1
	capture_stop
	follow_stop
	echo "gw1's commands: $(grep -c '^add' "$LOGDIR/gw1.cmds") add, $(grep -c '^spdadd' "$LOGDIR/gw1.cmds") spdadd, $(grep -c '^delete' "$LOGDIR/gw1.cmds") delete"
	[ "$(grep -c '^add .* esp-udp ' "$LOGDIR/gw1.cmds")" -eq 6 ] || { cat "$LOGDIR/gw1.cmds"; return 1; }
	[ "$(sort "$LOGDIR/gw1.uat")" = "$(sort "$LOGDIR/gw2.uat")" ] ||
		{ echo "gw1 and gw2 logged different keys"; return 1; }
	wire_checks 2000
}

# --- charon doing IKE only, gw2 doing ESP -------------------------------------------------
# gw1's charon in the configuration meant for esper-xdp's gateway (ikeonly: README.md)
# negotiates and rekeys, yet does no ESP: hostA's packets are not encrypted, gw2's ESP to
# gw1 is not delivered, charon's CHILD_SAs send nothing. What it leaves undone is
# what esper-xdp does in esper_peer; the keys for it are right: tshark authenticates
# gw2's ESP with the inbound keys swan2esper.py took from gw1's log.

case_ikeonly() {
	swan_start 1 ikeonly && swan_start 2 libipsec || return 1
	follow_start 1 tshark "$LOGDIR/gw1.uat"
	capture_start "$LOGDIR/wire.pcap" || return 1
	swan_initiate 1 || return 1
	in_ns $NS_G1 ip rule | grep -q 'fwmark 0x45e5 lookup 220' || { in_ns $NS_G1 ip rule; return 1; }
	if ping_ok $NS_A 203.0.113.10 3; then echo "gw1 encrypted hostA's pings"; return 1; fi
	if ping_ok $NS_B 198.51.100.10 3; then echo "gw1 delivered gw2's ESP"; return 1; fi
	swanctl_gw 2 --rekey --child net >/dev/null || { echo "rekey by gw2 failed"; return 1; }
	swanctl_gw 1 --rekey --child net >/dev/null || { echo "rekey by gw1 failed"; return 1; }
	# the follower reads charon's log and asks its vici socket: slow on a loaded machine
	WAIT_TRIES=300 wait_for "3 CHILD_SAs keyed (two rekeys)" \
		sh -c "[ \$(wc -l <$LOGDIR/gw1.uat) -ge 6 ]"
	if ping_ok $NS_B 198.51.100.10 3; then echo "gw1 delivered gw2's ESP"; return 1; fi
	if ping_ok $NS_B 198.51.100.1 2; then echo "gw1 answered through its charon"; return 1; fi
	swanctl_gw 1 --list-sas >"$LOGDIR/gw1.sas"
	cat "$LOGDIR/gw1.sas"
	grep -q 'INSTALLED, TUNNEL-in-UDP' "$LOGDIR/gw1.sas" || { echo "no CHILD_SA on gw1"; return 1; }
	# gw2's ESP reaches charon's socket here (esper-xdp is not there to take it first):
	# kernel-libipsec decrypts it (its in counters), for the blackhole; it sends nothing.
	grep -E '^ +out ' "$LOGDIR/gw1.sas" | grep -v ' 0 bytes, *0 packets' &&
		{ echo "gw1's charon sent ESP"; return 1; }
	[ "$(wc -l <"$LOGDIR/gw1.uat")" -eq 6 ] || { echo "not 3 CHILD_SAs keyed"; return 1; }
	capture_stop
	esp1=$(pcap_count "$LOGDIR/wire.pcap" 'src host 192.0.2.1 and udp port 4500 and udp[8:4] != 0')
	echo "ESP sent by gw1: $esp1"
	[ "$esp1" -eq 0 ] || return 1
	wire_checks 8
}

# keyed_start FD: gw1 keyed from its charon: swan2esper.py --follow writing esper-xdp
# commands to file descriptor FD (and $LOGDIR/gw1.cmds), another one the esp_sa rows for
# tshark; the capture starts, gw1 initiates, and its first outbound policy is written.
keyed_start() {
	follow_start 1 esper "$LOGDIR/gw1.cmds" "$1"
	follow_start 1 tshark "$LOGDIR/gw1.uat"
	capture_start "$LOGDIR/wire.pcap" || return 1
	swan_initiate 1 || return 1
	wait_for "gw1's outbound policy" grep -q -- '-P out' "$LOGDIR/gw1.cmds" ||
		{ cat "$LOGDIR/gw1.cmds" "$LOGDIR/gw1.cmds.err"; return 1; }
}

# --- esper-xdp keyed by charon, strongSwan as the peer --------------------------------------
# gw1: charon (ikeonly) for IKE, esper-xdp for ESP (in UDP: esp-udp SAs, RFC 3948), keyed
# from that charon through swan2esper.py --follow on esper-xdp's standard input. gw2: charon
# with kernel-libipsec.

case_esper_peer() {
	[ -x "$ESPER" ] || { echo "no $ESPER: build it first (make)"; return 1; }
	swan_start 1 ikeonly && swan_start 2 libipsec || return 1
	gw_start 1 || { echo "esper-xdp did not start"; return 1; }
	keyed_start 7 || return 1
	gw_sync 1 || return 1	# what the follower wrote so far is applied
	if grep -q ': error: ' "$LOGDIR/gw1.err"; then
		echo "esper-xdp refused the commands for charon's CHILD_SA (ESP in UDP, RFC 3948):"
		grep ': error: ' "$LOGDIR/gw1.err" | head -n 4
		return 1
	fi
	ping_ok $NS_A 203.0.113.10 5 || { echo "ping hostA -> hostB failed"; return 1; }
	size_sweep || return 1
	transfer $NS_A $NS_B 203.0.113.10 4 || return 1
	transfer $NS_B $NS_A 198.51.100.10 4 || return 1
	read -r spi_in spi_out <<<"$(swan_spis 1 | tail -n 1)"
	out=$(gw_stat 1 "sa spi=0x$spi_out" out_packets)
	in=$(gw_stat 1 "sa spi=0x$spi_in" in_packets)
	echo "esper-xdp on gw1: SA 0x$spi_out out_packets=$out, SA 0x$spi_in in_packets=$in"
	[ "${out:-0}" -gt 1000 ] && [ "${in:-0}" -gt 1000 ] || { echo "esper-xdp did not do the ESP"; return 1; }
	swanctl_gw 1 --list-sas | grep -E '^ +(in|out) ' | grep -v ' 0 bytes, *0 packets' &&
		{ echo "gw1's charon (kernel-libipsec) carried traffic"; return 1; }
	# Either side rekeys: gw2 may send on its new SA as soon as the exchange is done, while
	# swan2esper.py is still reading the new keys from gw1's log (a window of ~20-50 ms, in
	# which a ping every 50 ms loses one or two): the keying's lag, not esper-xdp's.
	two_rekeys 1 2 2 2 || return 1
	grep ': error: ' "$LOGDIR/gw1.err" && { echo "esper-xdp refused commands"; return 1; }
	wire_checks 4000
}

# --- running the cases -----------------------------------------------------------------------

ALL_CASES="libipsec ikeonly esper_peer"

run_case() {
	name=$1
	declare -F "case_$name" >/dev/null || { echo "FAIL $name: no such case (cases: $ALL_CASES)"; return 1; }
	swan_topo_up || { echo "FAIL $name: topology"; swan_down; return 1; }
	if "case_$name" >"$LOGDIR/$name.log" 2>&1; then rc=0; else rc=1; fi
	swan_down
	if [ $rc -eq 0 ]; then
		echo "PASS $name"
		grep -E '^(on the wire|tshark|rekey|ESP sent|esper-xdp on)' "$LOGDIR/$name.log" | sed 's/^/    /'
	else
		echo "FAIL $name"
		sed 's/^/    /' "$LOGDIR/$name.log" | tail -n 20
		for n in 1 2; do
			[ -s "$(swan_log $n)" ] || continue
			echo "    --- charon gw$n: $(swan_log $n) (last lines)"
			grep -v -E '\[(CHD|KNL|CFG|NET|ENC|JOB)\]' "$(swan_log $n)" | tail -n 6 | sed 's/^/    /'
		done
	fi
	return $rc
}

passed=0
failed=0
[ $# -gt 0 ] || set -- $ALL_CASES
for c in "$@"; do
	if run_case "$c"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
echo "strongswan: $passed passed, $failed failed"
[ $failed -eq 0 ]
