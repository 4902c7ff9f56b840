#!/bin/bash
# run.sh - integration tests of the live datapath in network namespaces (topology in
# lib.sh). Each case builds the topology, runs, and tears it down, whatever happens; it
# prints PASS or FAIL; the last line is "integ: N passed, N failed".
# Usage: tests/integ/run.sh [build/esper-xdp] [CASE...]    (as root)
cd "$(dirname "$0")/../.." || exit 1
ESPER=${1:-build/esper-xdp}
GW_OPTS=${GW_OPTS:-}
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

# --- transport mode between the gateways --------------------------------------------------
# Each gateway routes its peer's address into the host port (table 100), except for
# esper-xdp's own ESP, which carries the routing mark 1 (--fwmark 1) and takes the main table.

transport_routes() {	# ns peer4 peer6 self4 self6
	in_ns "$1" ip rule add not fwmark 1 lookup 100 pref 100
	in_ns "$1" ip -6 rule add not fwmark 1 lookup 100 pref 100
	in_ns "$1" ip route add "$2/32" dev esper0 table 100 src "$4"
	in_ns "$1" ip -6 route add "$3/128" dev esper0 table 100 src "$5"
}

case_transport() {
	for n in 1 2; do
		gw_cmd $n "add 192.0.2.1 192.0.2.2 esp 0x3001 -u 31 -E aes-gcm-16-esn $KEY_OUT ;"
		gw_cmd $n "add 192.0.2.2 192.0.2.1 esp 0x3002 -u 32 -E aes-gcm-16-esn $KEY_BACK ;"
		gw_cmd $n "add 2001:db8:f::1 2001:db8:f::2 esp 0x3003 -u 33 -E aes-gcm-16 $KEY_OUT6 ;"
		gw_cmd $n "add 2001:db8:f::2 2001:db8:f::1 esp 0x3004 -u 34 -E aes-gcm-16 $KEY_BACK6 ;"
	done
	# IPv4: everything; IPv6: TCP only, so neighbour discovery stays in the clear.
	gw_cmd 1 "spdadd 192.0.2.1 192.0.2.2 any -P out ipsec esp/transport//unique:31 ;"
	gw_cmd 1 "spdadd 192.0.2.2 192.0.2.1 any -P in ipsec esp/transport//unique:32 ;"
	gw_cmd 1 "spdadd 2001:db8:f::1 2001:db8:f::2 tcp -P out ipsec esp/transport//unique:33 ;"
	gw_cmd 1 "spdadd 2001:db8:f::2 2001:db8:f::1 tcp -P in ipsec esp/transport//unique:34 ;"
	gw_cmd 2 "spdadd 192.0.2.2 192.0.2.1 any -P out ipsec esp/transport//unique:32 ;"
	gw_cmd 2 "spdadd 192.0.2.1 192.0.2.2 any -P in ipsec esp/transport//unique:31 ;"
	gw_cmd 2 "spdadd 2001:db8:f::2 2001:db8:f::1 tcp -P out ipsec esp/transport//unique:34 ;"
	gw_cmd 2 "spdadd 2001:db8:f::1 2001:db8:f::2 tcp -P in ipsec esp/transport//unique:33 ;"
	transport_routes $NS_G1 192.0.2.2 2001:db8:f::2 192.0.2.1 2001:db8:f::1
	transport_routes $NS_G2 192.0.2.1 2001:db8:f::1 192.0.2.2 2001:db8:f::2
	ping_ok $NS_G1 192.0.2.2 5 || { echo "ping gw1 -> gw2 failed"; return 1; }
	transfer $NS_G1 $NS_G2 192.0.2.2 10 || return 1
	transfer $NS_G2 $NS_G1 2001:db8:f::1 10 || return 1
	[ "$(gw_stat 1 'sa spi=0x00003001' out_packets)" -gt 1000 ] || { echo "gw1 did not encrypt v4"; return 1; }
	[ "$(gw_stat 2 'sa spi=0x00003001' in_packets)" -gt 1000 ] || { echo "gw2 did not decrypt v4"; return 1; }
	[ "$(gw_stat 2 'sa spi=0x00003004' out_packets)" -gt 1000 ] || { echo "gw2 did not encrypt v6"; return 1; }
	[ "$(gw_stat 1 'sa spi=0x00003004' in_packets)" -gt 1000 ] || { echo "gw1 did not decrypt v6"; return 1; }
}

# --- GOST -------------------------------------------------------------------------------

KUZ_OUT=0x$(printf '%02x' $(seq 1 44) | tr -d '\n')
KUZ_BACK=0x$(printf '%02x' $(seq 101 144) | tr -d '\n')
MAGMA_OUT=0x$(printf '%02x' $(seq 51 86) | tr -d '\n')
MAGMA_BACK=0x$(printf '%02x' $(seq 151 186) | tr -d '\n')

gost_case() {	# alg key_out key_back inner outer
	tunnel_policies 1 "$4" "$5" "$1" "$2" "$3"
	tunnel_policies 2 "$4" "$5" "$1" "$2" "$3"
	gw_sync 1 && gw_sync 2 || return 1
	if grep -q "GOST transforms are not available" "$LOGDIR/gw1.err" "$LOGDIR/gw2.err"; then
		echo "gost-engine is not loadable: install libengine-gost-openssl (scripts/setup-deps.sh installs it)"
		return 1
	fi
	if [ "$4" = 4 ]; then dst=203.0.113.10; else dst=2001:db8:b::10; fi
	ping_ok $NS_A $dst 5 || { echo "ping $dst failed"; return 1; }
	transfer $NS_A $NS_B $dst 4 || return 1
	[ "$(gw_stat 2 'sa spi=0x00001001' in_packets)" -gt 500 ] || { echo "gw2 did not decrypt"; return 1; }
}

case_gost_kuznyechik() { gost_case gost-esn "$KUZ_OUT" "$KUZ_BACK" 4 4; }
case_gost_magma() { gost_case gost "$MAGMA_OUT" "$MAGMA_BACK" 6 4; }
case_gost_mac() { gost_case gost-mac-esn "$KUZ_OUT" "$KUZ_BACK" 4 6; }

# --- what travels on the wire -----------------------------------------------------------

case_wire_capture() {
	tunnel_policies 1 4 4
	tunnel_policies 2 4 4
	capture_start "$LOGDIR/wire.pcap"
	ping_ok $NS_A 203.0.113.10 3 || { echo "ping failed"; capture_stop; return 1; }
	transfer $NS_A $NS_B 203.0.113.10 1 || { capture_stop; return 1; }
	capture_stop
	clear=$(tcpdump -nr "$LOGDIR/wire.pcap" 'ip and not esp and (net 198.51.100.0/24 or net 203.0.113.0/24)' 2>/dev/null | wc -l)
	esp=$(tcpdump -nr "$LOGDIR/wire.pcap" 'esp' 2>/dev/null | wc -l)
	echo "on the wire: $esp ESP packets, $clear protected-site packets in the clear"
	[ "$clear" -eq 0 ] && [ "$esp" -gt 100 ] || return 1
	# tshark, an independent implementation, decrypts and authenticates it with the keys.
	tshark -r "$LOGDIR/wire.pcap" -o esp.enable_encryption_decode:TRUE \
		-o esp.enable_authentication_check:TRUE \
		-o "uat:esp_sa:\"IPv4\",\"192.0.2.1\",\"192.0.2.2\",\"0x00001001\",\"AES-GCM with 16 octet ICV [RFC4106]\",\"$KEY_OUT\",\"NULL\",\"\"" \
		-o "uat:esp_sa:\"IPv4\",\"192.0.2.2\",\"192.0.2.1\",\"0x00002001\",\"AES-GCM with 16 octet ICV [RFC4106]\",\"$KEY_BACK\",\"NULL\",\"\"" \
		-V >"$LOGDIR/wire.txt" 2>/dev/null
	good=$(grep -c 'ESP ICV: .*\[correct\]' "$LOGDIR/wire.txt")
	bad=$(grep -c 'ESP ICV: .*incorrect' "$LOGDIR/wire.txt")
	inner=$(tshark -r "$LOGDIR/wire.pcap" -o esp.enable_encryption_decode:TRUE \
		-o "uat:esp_sa:\"IPv4\",\"192.0.2.1\",\"192.0.2.2\",\"0x00001001\",\"AES-GCM with 16 octet ICV [RFC4106]\",\"$KEY_OUT\",\"NULL\",\"\"" \
		-Y 'ip.src == 198.51.100.10 && ip.dst == 203.0.113.10 && tcp.dstport == 5001' 2>/dev/null | wc -l)
	echo "tshark: $good ICVs correct, $bad incorrect; $inner decrypted TCP segments to port 5001"
	[ "$good" -gt 100 ] && [ "$bad" -eq 0 ] && [ "$inner" -gt 100 ]
}

# --- replay and tampering -------------------------------------------------------------------

replay_tamper_seen() {
	[ "$(gw_stat 2 'sa spi=0x00001001' replay)" -gt "$before_replay" ] &&
		[ "$(gw_stat 2 'sa spi=0x00001001' icv_fail)" -gt "$before_icv" ]
}

case_replay_tamper() {
	tunnel_policies 1 4 4
	tunnel_policies 2 4 4
	capture_start "$LOGDIR/esp.pcap"
	ping_ok $NS_A 203.0.113.10 3 || { capture_stop; return 1; }
	capture_stop
	before_replay=$(gw_stat 2 'sa spi=0x00001001' replay)
	before_icv=$(gw_stat 2 'sa spi=0x00001001' icv_fail)
	# Send one captured ESP packet of gw1 again, and a copy with one ciphertext bit flipped.
	in_ns $NS_W /usr/bin/python3 - "$LOGDIR/esp.pcap" <<'PY' || return 1
import sys
from scapy.all import rdpcap, sendp, Ether, IP, conf
conf.verb = 0
esp = [p for p in rdpcap(sys.argv[1]) if IP in p and p[IP].proto == 50 and p[IP].src == "192.0.2.1"]
assert esp, "no ESP from gw1 captured"
pkt = esp[0]
sendp(pkt, iface="w2")
# A fresh sequence number (so no replay), which the ICV covers: authentication must fail.
raw = bytearray(bytes(pkt))
raw[14 + 20 + 4 + 2] ^= 0x40
sendp(Ether(bytes(raw)), iface="w2")
PY
	wait_for "gw2 to count the replay and the forgery" replay_tamper_seen
	r=$(gw_stat 2 'sa spi=0x00001001' replay)
	i=$(gw_stat 2 'sa spi=0x00001001' icv_fail)
	echo "replay drops $before_replay -> $r, ICV failures $before_icv -> $i"
	[ "$r" -eq $((before_replay + 1)) ] && [ "$i" -ge $((before_icv + 1)) ] || return 1
	ping_ok $NS_A 203.0.113.10 2	# and the tunnel still works
}

# --- traffic no policy covers ------------------------------------------------------------

case_unprotected_traffic() {
	tunnel_policies 1 4 4
	tunnel_policies 2 4 4
	ping_ok $NS_A 198.51.100.1 2 || { echo "hostA -> gw1 failed"; return 1; }
	ping_ok $NS_G1 192.0.2.2 2 || { echo "gw1 -> gw2 failed"; return 1; }
	ping_ok $NS_A 192.0.2.2 2 || { echo "hostA -> gw2 (not covered) failed"; return 1; }
	ping_ok $NS_A 2001:db8:b::10 2 || { echo "IPv6 (not covered) failed"; return 1; }
	transfer $NS_A $NS_B 2001:db8:b::10 2 || return 1
	[ "$(gw_stat 1 xdp PASS_NO_POLICY)" -gt 100 ] || { echo "XDP did not pass them"; return 1; }
	[ "$(gw_stat 1 'sa spi=0x00001001' out_packets)" -eq 0 ] || { echo "encrypted what it should not"; return 1; }
}

# --- deleting and adding an SA --------------------------------------------------------------

case_delete_and_add() {
	tunnel_policies 1 4 4
	tunnel_policies 2 4 4
	ping_ok $NS_A 203.0.113.10 2 || return 1
	gw_cmd 2 "delete 192.0.2.1 192.0.2.2 esp 0x1001 ;"
	gw_sync 2
	if ping_ok $NS_A 203.0.113.10 2; then echo "traffic flowed without the SA"; return 1; fi
	[ "$(gw_stat 2 xdp PASS_UNKNOWN_SPI)" -ge 2 ] || { echo "gw2 did not see unknown SPIs"; return 1; }
	gw_cmd 2 "add 192.0.2.1 192.0.2.2 esp 0x1001 -u 1 -E aes-gcm-16 $KEY_OUT ;"
	gw_cmd 2 "spdadd 198.51.100.0/24 203.0.113.0/24 any -P in ipsec esp/tunnel/192.0.2.1-192.0.2.2/unique:1 ;"
	ping_ok $NS_A 203.0.113.10 3 || { echo "adding the SA back did not restore it"; return 1; }
	# Deleting the outbound SA on gw1 takes its policy too: hostA's packets then leave in
	# the clear and gw2 drops them, as its inbound policy says they must come protected.
	gw_cmd 1 "delete 192.0.2.1 192.0.2.2 esp 0x1001 ;"
	gw_sync 1
	if ping_ok $NS_A 203.0.113.10 2; then echo "traffic flowed without the SA"; return 1; fi
	[ "$(gw_stat 2 xdp DROP_IN_POLICY)" -ge 2 ] || { echo "gw2 did not drop the plaintext"; return 1; }
}

# --- make-before-break rekeying under load ---------------------------------------------------

rekey_load_running() {
	[ "$(gw_stat 1 'sa spi=0x00001001' out_packets)" -ge 300 ]
}

case_rekey_under_load() {
	tunnel_policies 1 4 4
	tunnel_policies 2 4 4
	ping_ok $NS_A 203.0.113.10 2 || return 1
	ip netns exec $NS_A ping -q -c 2000 -i 0.002 -W 2 203.0.113.10 >"$LOGDIR/rekey.ping" 2>&1 &
	pping=$!
	wait_for "the load (300 pings through the old SA)" rekey_load_running
	for n in 1 2; do
		gw_cmd $n "add 192.0.2.1 192.0.2.2 esp 0x1101 -u 11 -E aes-gcm-16 0x$(printf '%040x' 11) ;"
		gw_cmd $n "add 192.0.2.2 192.0.2.1 esp 0x2101 -u 12 -E aes-gcm-16 0x$(printf '%040x' 12) ;"
		gw_sync $n
	done
	gw_cmd 1 "spdupdate 198.51.100.0/24 203.0.113.0/24 any -P out ipsec esp/tunnel/192.0.2.1-192.0.2.2/unique:11 ;"
	gw_cmd 2 "spdupdate 203.0.113.0/24 198.51.100.0/24 any -P out ipsec esp/tunnel/192.0.2.2-192.0.2.1/unique:12 ;"
	gw_cmd 1 "spdadd 203.0.113.0/24 198.51.100.0/24 any -P in ipsec esp/tunnel/192.0.2.2-192.0.2.1/unique:12 ;"
	gw_cmd 2 "spdadd 198.51.100.0/24 203.0.113.0/24 any -P in ipsec esp/tunnel/192.0.2.1-192.0.2.2/unique:11 ;"
	gw_sync 1 && gw_sync 2
	for n in 1 2; do
		gw_cmd $n "delete 192.0.2.1 192.0.2.2 esp 0x1001 ;"
		gw_cmd $n "delete 192.0.2.2 192.0.2.1 esp 0x2001 ;"
	done
	wait $pping
	cat "$LOGDIR/rekey.ping"
	grep -q ' 0% packet loss' "$LOGDIR/rekey.ping" || { echo "packets were lost"; return 1; }
	[ "$(gw_stat 2 'sa spi=0x00001101' in_packets)" -gt 100 ] || { echo "the new SA carried nothing"; return 1; }
	old=$(gw_stat 1 'sa spi=0x00001001' out_packets)
	[ -z "$old" ] || { echo "the old SA is still there"; return 1; }
}

# --- an independent peer: scapy instead of gw2 ------------------------------------------------
# hostA pings hostB: gw1 encrypts, the scapy peer on gw2's wire port decrypts the request,
# checks it, answers with an encrypted reply that gw1 must decrypt for hostA: the ping
# succeeds only if both directions interoperate.

case_scapy_peer() {
	gw_stop 2
	tunnel_policies 1 4 4
	in_ns $NS_G2 sysctl -qw net.ipv4.ip_forward=0
	ip netns exec $NS_G2 timeout 20 /usr/bin/python3 tests/integ/scapy_peer.py g2w 3 "$KEY_OUT" \
		"$KEY_BACK" >"$LOGDIR/peer.log" 2>&1 &
	ppeer=$!
	wait_for "the scapy peer" grep -q "^peer: listening" "$LOGDIR/peer.log" ||
		{ cat "$LOGDIR/peer.log"; return 1; }
	in_ns $NS_A ping -c 3 -i 0.5 -W 3 203.0.113.10 || { cat "$LOGDIR/peer.log"; return 1; }
	wait $ppeer || { cat "$LOGDIR/peer.log"; return 1; }
	cat "$LOGDIR/peer.log"
}

# --- crash and restart ------------------------------------------------------------------------

case_restart_after_kill() {
	tunnel_policies 1 4 4
	tunnel_policies 2 4 4
	ping_ok $NS_A 203.0.113.10 2 || return 1
	kill -9 "$(gw_pid 1)"
	wait "$(gw_pid 1)" 2>/dev/null
	GW1_PID=""
	exec 7>&-
	in_ns $NS_G1 ip link show g1l | grep -q xdp || { echo "no stale XDP program to clean?"; return 1; }
	gw_start 1 || return 1
	grep -q -i 'stale' "$LOGDIR/gw1.err" || { echo "no stale attachment was cleaned"; return 1; }
	tunnel_policies 1 4 4
	ping_ok $NS_A 203.0.113.10 3 || { echo "no traffic after the restart"; return 1; }
	gw_stop 1
	in_ns $NS_G1 ip link show g1l | grep -q xdp && { echo "XDP still attached after SIGTERM"; return 1; }
	in_ns $NS_G1 ip link show esper0 >/dev/null 2>&1 && { echo "host port still there after SIGTERM"; return 1; }
	return 0
}

# --- path MTU ------------------------------------------------------------------------------

case_packet_too_big() {
	tunnel_policies 1 4 4
	tunnel_policies 2 4 4
	# Without DF the gateway fragments before encapsulating: the big packets get through.
	# (First, before the sender has learnt a smaller path MTU and fragments by itself.)
	in_ns $NS_A ping -c 4 -i 0.3 -M dont -s 1472 -W 2 203.0.113.10 >"$LOGDIR/frag.txt" 2>&1
	cat "$LOGDIR/frag.txt"
	grep -q -E ' [1-4] received' "$LOGDIR/frag.txt" || { echo "no big packet without DF got through"; return 1; }
	[ "$(gw_stat 1 worker fragmented)" -ge 2 ] || { echo "gw1 fragmented nothing"; return 1; }
	# With DF the sender is told the path MTU (ICMP fragmentation needed).
	in_ns $NS_A ping -c 1 -M do -s 1472 -W 2 203.0.113.10 >"$LOGDIR/ptb.txt" 2>&1
	cat "$LOGDIR/ptb.txt"
	in_ns $NS_A ping -c 1 -M do -s 1472 -W 2 203.0.113.10 >>"$LOGDIR/ptb.txt" 2>&1
	grep -q -i 'mtu' "$LOGDIR/ptb.txt" || in_ns $NS_A ip route get 203.0.113.10 | grep -q mtu || {
		echo "no packet-too-big reached the sender"; return 1; }
	[ "$(gw_stat 1 worker icmp_too_big)" -ge 1 ] || { echo "gw1 sent no ICMP"; return 1; }
	ping_ok $NS_A 203.0.113.10 2	# smaller packets go through
}

# --- two queues, two workers ------------------------------------------------------------------
# The veth pairs have two queues (QUEUES=2 below); parallel flows spread over both (by flow
# hash: 12 flows, so that all of them landing on one queue is a 1-in-2048 event), and both
# workers of each gateway carry traffic.

case_two_queues() {
	tunnel_policies 1 4 4
	tunnel_policies 2 4 4
	ping_ok $NS_A 203.0.113.10 2 || return 1
	pids=""
	for port in $(seq 5001 5012); do
		ip netns exec $NS_B timeout 60 nc -4 -l -p $port >/dev/null &
		pids="$pids $!"
	done
	# shellcheck disable=SC2046
	wait_for "12 listeners" listening $NS_B $(seq 5001 5012) || return 1
	for port in $(seq 5001 5012); do
		head -c 2000000 /dev/urandom >"$LOGDIR/q.$port"
		ip netns exec $NS_A timeout 60 nc -4 -N 203.0.113.10 $port <"$LOGDIR/q.$port" &
		pids="$pids $!"
	done
	# shellcheck disable=SC2086
	wait $pids
	rm -f "$LOGDIR"/q.*
	for n in 1 2; do
		gw_sync $n
	done
	for n in 1 2; do
		grep '^worker' "$LOGDIR/gw$n.out" | tail -n 2
		busy=$(grep '^worker' "$LOGDIR/gw$n.out" | tail -n 2 | grep -c -v ' rx=0 ')
		[ "$busy" -eq 2 ] || { echo "gw$n: not both workers carried traffic"; return 1; }
	done
}

# --- generic XDP ---------------------------------------------------------------------------

# Generic XDP sees what the stack sees: a sender's TSO/GSO super-packets, which no AF_XDP
# frame holds and no ESP packet should carry. With skb mode the senders toward the gateway
# segment themselves (docs/live.md).
case_skb_mode() {
	grep -q "AF_XDP copy mode" "$LOGDIR/gw1.err" || return 1
	in_ns $NS_A ethtool -K a0 tso off gso off >/dev/null
	in_ns $NS_B ethtool -K b0 tso off gso off >/dev/null
	tunnel_policies 1 4 4
	tunnel_policies 2 4 4
	ping_ok $NS_A 203.0.113.10 3 || return 1
	transfer $NS_A $NS_B 203.0.113.10 10 || return 1
	in_ns $NS_G1 ip link show g1l | grep -q xdpgeneric || { echo "not attached in skb mode"; return 1; }
}

# --- fast forward ------------------------------------------------------------------------
# With --fast-forward the gateways send decrypted packets for the far host straight out of
# g1l/g2l by AF_XDP; packets for the gateway itself still reach it through the host port
# (and gw2 routes its answers into the host port, to be encrypted). These cases run with
# --host-gso off, so that every decrypted TCP segment is fast-forwarded; fast_forward_gso
# has both: runs of a flow go to the host port merged, the rest by AF_XDP.

fast_forward_case() {	# family
	tunnel_policies 1 "$1" "$1"
	tunnel_policies 2 "$1" "$1"
	if [ "$1" = 4 ]; then far=203.0.113.10 own=203.0.113.1; else far=2001:db8:b::10 own=2001:db8:b::1; fi
	grep -q "fast forward: IPv4 on, IPv6 on" "$LOGDIR/gw2.err" || { echo "fast forward off"; return 1; }
	ping_ok $NS_A $far 5 || { echo "ping $far failed"; return 1; }
	transfer $NS_A $NS_B $far 20 || return 1
	for n in 1 2; do
		fwd=$(gw_stat $n worker forwarded)
		echo "gw$n forwarded=$fwd host_tx=$(gw_stat $n worker host_tx)"
		[ "$fwd" -gt 1000 ] || { echo "gw$n forwarded only $fwd packets"; return 1; }
	done
	# One hop less per gateway on the way back (gw2's encryption leaves the inner TTL alone,
	# gw1's forwarding decrements it), exactly what the kernel's forwarding gives.
	ttl=$(in_ns $NS_A ping -c 1 -W 2 $far | sed -n 's/.*\(ttl\|hlim\)=\([0-9]*\).*/\2/p')
	[ "$ttl" = 63 ] || { echo "reply TTL/hop limit '$ttl', expected 63"; return 1; }
	if [ "$1" = 4 ]; then
		in_ns $NS_G2 ip route replace 198.51.100.0/24 dev esper0 src $own
	else
		in_ns $NS_G2 ip -6 route replace 2001:db8:a::/64 dev esper0 src $own
	fi
	ping_ok $NS_A $own 3 || { echo "ping of gw2's own $own failed"; return 1; }
	# A TTL / hop limit that expires at gw2 is the kernel's: "time exceeded" comes back.
	in_ns $NS_A ping -c 1 -W 2 -t 1 $far | grep -qi "exceeded" ||
		{ echo "no time exceeded from gw2 for TTL 1"; return 1; }
}

case_fast_forward_4in4() { fast_forward_case 4; }
case_fast_forward_6in6() { fast_forward_case 6; }

case_fast_forward_gso() {
	tunnel_policies 1 4 4
	tunnel_policies 2 4 4
	ping_ok $NS_A 203.0.113.10 3 || return 1
	transfer $NS_A $NS_B 203.0.113.10 20 || return 1
	transfer $NS_B $NS_A 198.51.100.10 20 || return 1
	for n in 1 2; do
		fwd=$(gw_stat $n worker forwarded)
		gso=$(gw_stat $n worker host_gso)
		echo "gw$n forwarded=$fwd host_gso=$gso to_host=$(gw_stat $n worker to_host)"
		[ "$fwd" -gt 100 ] && [ "$gso" -gt 50 ] || { echo "gw$n did not use both ways"; return 1; }
	done
	ttl=$(in_ns $NS_A ping -c 1 -W 2 203.0.113.10 | sed -n 's/.*ttl=\([0-9]*\).*/\1/p')
	[ "$ttl" = 63 ] || { echo "reply TTL '$ttl', expected 63"; return 1; }
}

# --- the host port's GSO packets ---------------------------------------------------------------
# Decrypted TCP segments (and UDP datagrams of one size) of one flow reach the host port
# merged into GSO packets (datapath/coalesce.c); the kernel forwards each as one and cuts
# it back into the packets it was made of. The data must arrive intact, both ways and in
# both families, and the merging must have happened (counter host_gso).

# udp_burst FROM_NS TO_NS ADDR COUNT SIZE: COUNT datagrams of SIZE bytes as fast as the
# sender goes; each carries its number and a pattern made from it. The receiver fails on a
# corrupt or repeated datagram and on fewer than 90 % of them (UDP may lose some).
udp_burst() {
	ip netns exec "$2" timeout 20 /usr/bin/python3 - "$3" "$4" "$5" >"$LOGDIR/udp.rx" 2>&1 <<'PY' &
import socket, sys
addr, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 24)
s.bind((addr, 5002))
s.settimeout(3)
seen = set()
try:
    while len(seen) < count:
        d = s.recv(65536)
        n = int.from_bytes(d[:4], "big")
        want = n.to_bytes(4, "big") + bytes((n + i) & 255 for i in range(size - 4))
        assert d == want, "datagram %d corrupt (%d bytes)" % (n, len(d))
        assert n not in seen, "datagram %d twice" % n
        seen.add(n)
except socket.timeout:
    pass
print("received %d of %d" % (len(seen), count))
sys.exit(0 if len(seen) >= count * 9 // 10 else 1)
PY
	rpid=$!
	wait_for "UDP receiver" sh -c "ip netns exec $2 ss -uln | grep -q ':5002 '" || return 1
	in_ns "$1" timeout 20 /usr/bin/python3 - "$3" "$4" "$5" <<'PY' || return 1
import socket, sys, time
addr, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
msgs = [n.to_bytes(4, "big") + bytes((n + i) & 255 for i in range(size - 4)) for n in range(count)]
for n, m in enumerate(msgs):
    s.sendto(m, (addr, 5002))
    if n % 200 == 199:
        time.sleep(0.01)	# bursts, so that runs form, but not beyond the receiver's buffer
PY
	wait $rpid
	rc=$?
	cat "$LOGDIR/udp.rx"
	return $rc
}

case_host_gso() {
	tunnel_policies 1 4 4
	tunnel_policies 2 4 4
	# IPv6 inside the same IPv4 tunnel, on a second pair of SAs
	a=2001:db8:a::/64 b=2001:db8:b::/64 t=esp/tunnel/192.0.2.1-192.0.2.2 r=esp/tunnel/192.0.2.2-192.0.2.1
	for n in 1 2; do
		gw_cmd $n "add 192.0.2.1 192.0.2.2 esp 0x1601 -u 61 -E aes-gcm-16 $KEY_OUT6 ;"
		gw_cmd $n "add 192.0.2.2 192.0.2.1 esp 0x2601 -u 62 -E aes-gcm-16 $KEY_BACK6 ;"
	done
	gw_cmd 1 "spdadd $a $b any -P out ipsec $t/unique:61 ;"
	gw_cmd 1 "spdadd $b $a any -P in ipsec $r/unique:62 ;"
	gw_cmd 2 "spdadd $b $a any -P out ipsec $r/unique:62 ;"
	gw_cmd 2 "spdadd $a $b any -P in ipsec $t/unique:61 ;"
	ping_ok $NS_A 203.0.113.10 3 || return 1
	transfer $NS_A $NS_B 203.0.113.10 20 || return 1
	transfer $NS_B $NS_A 2001:db8:a::10 20 || return 1
	g2=$(gw_stat 2 worker host_gso)
	g1=$(gw_stat 1 worker host_gso)
	echo "TCP: GSO packets written: gw2 $g2, gw1 $g1"
	[ "$g2" -gt 50 ] && [ "$g1" -gt 50 ] || { echo "too few merged packets"; return 1; }
	udp_burst $NS_A $NS_B 203.0.113.10 4000 1200 || return 1
	udp_burst $NS_B $NS_A 2001:db8:a::10 4000 1000 || return 1
	echo "after UDP: gw2 $(gw_stat 2 worker host_gso), gw1 $(gw_stat 1 worker host_gso)"
	[ "$(gw_stat 2 worker host_gso)" -gt "$g2" ] && [ "$(gw_stat 1 worker host_gso)" -gt "$g1" ] ||
		{ echo "no UDP datagrams were merged"; return 1; }
}

# The host port without vnet headers: one write per packet, nothing merged.
case_host_gso_off() {
	tunnel_policies 1 4 4
	tunnel_policies 2 4 4
	transfer $NS_A $NS_B 203.0.113.10 10 || return 1
	udp_burst $NS_A $NS_B 203.0.113.10 2000 1200 || return 1
	[ "$(gw_stat 2 worker host_gso)" -eq 0 ] || { echo "merged with --host-gso off"; return 1; }
	[ "$(gw_stat 2 worker to_host)" -gt 5000 ] || { echo "gw2 delivered too little"; return 1; }
}

# --- running the cases ---------------------------------------------------------------------

ALL_CASES="tunnel_4in4 tunnel_6in6 tunnel_4in6 tunnel_6in4 transport gost_kuznyechik gost_magma
	gost_mac wire_capture replay_tamper unprotected_traffic delete_and_add rekey_under_load
	scapy_peer restart_after_kill packet_too_big two_queues skb_mode fast_forward_4in4
	fast_forward_6in6 fast_forward_gso host_gso host_gso_off"

run_case() {
	name=$1
	opts=$GW_OPTS
	QUEUES=1
	[ "$name" = transport ] && opts="$opts --fwmark 1"
	[ "$name" = two_queues ] && QUEUES=2 && opts="$opts -q 2"
	[ "$name" = skb_mode ] && opts="$opts -m skb"
	[ "$name" = host_gso_off ] && opts="$opts --host-gso off"
	case $name in fast_forward_*) opts="$opts --fast-forward" ;; esac
	case $name in fast_forward_[46]in[46]) opts="$opts --host-gso off" ;; esac
	topo_up || { echo "FAIL $name: topology"; return 1; }
	# shellcheck disable=SC2086
	if gw_start 1 $opts && gw_start 2 $opts && "case_$name" >"$LOGDIR/$name.log" 2>&1; then
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
