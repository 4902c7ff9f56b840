#!/bin/bash
# demo-live.sh - esper-xdp live, in network namespaces made for the demo and removed after:
#
#   hostA --- gw1 [esper-xdp] ==== wire ==== gw2 [esper-xdp] --- hostB
#
# Two sites talk through an AES-GCM tunnel: ping, a 50 MB TCP transfer, a look at the wire
# (only ESP) and the gateways' counters. Run as root.
set -u
cd "$(dirname "$0")/.." || exit 1
ESPER=${ESPER:-build/esper-xdp}
. tests/integ/lib.sh
LOGDIR=build/demo-live
[ "$(id -u)" -eq 0 ] || { echo "demo-live.sh: needs root (sudo)"; exit 1; }
trap topo_down EXIT

step() { printf '\n== %s\n' "$*"; }

step "topology: hostA 198.51.100.10 -- gw1 -- wire 192.0.2.0/24 -- gw2 -- hostB 203.0.113.10"
topo_up || exit 1
gw_start 1 && gw_start 2 || { cat "$LOGDIR"/gw*.err; exit 1; }
sed 's/^/   gw1: /' "$LOGDIR/gw1.err"

step "policies (the ESPER language, on each gateway's standard input)"
tunnel_policies 1 4 4
tunnel_policies 2 4 4
gw_cmd 1 "spddump ;"
sleep 0.5
grep -v '^#' "$LOGDIR/gw1.out"

step "ping hostA -> hostB"
in_ns $NS_A ping -c 3 -i 0.2 203.0.113.10

step "50 MB over TCP, hostA -> hostB, with the wire captured"
capture_start "$LOGDIR/wire.pcap"
start=$(date +%s.%N)
transfer $NS_A $NS_B 203.0.113.10 50 && echo "checksums match"
end=$(date +%s.%N)
capture_stop
echo "$(awk "BEGIN { printf \"%.0f\", 50 * 8.388608 / ($end - $start) }") Mbit/s (veth, copy-mode AF_XDP, both gateways on this machine's 2 cores)"
echo "on the wire: $(tcpdump -nr "$LOGDIR/wire.pcap" esp 2>/dev/null | wc -l) ESP packets; in the clear between the sites: $(tcpdump -nr "$LOGDIR/wire.pcap" 'ip and not esp and net 198.51.100.0/24' 2>/dev/null | wc -l)"
tcpdump -nr "$LOGDIR/wire.pcap" esp 2>/dev/null | head -3

step "gw1's counters (the stats command)"
gw_cmd 1 "stats ;"
sleep 0.5
grep -E '^(sa|worker|xdp|crypto)' "$LOGDIR/gw1.out" | tr ' ' '\n' | grep -v '=0$' | tr '\n' ' ' | sed 's/ sa / \nsa /g; s/ worker /\nworker /; s/ xdp /\nxdp /; s/ crypto /\ncrypto /'
echo
