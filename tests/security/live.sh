#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# live.sh - the security suite's live half: esper-xdp on the gateways of tests/integ/lib.sh
# (hostA - gw1 - wire - gw2 - hostB, in namespaces this script creates and always deletes)
# attacked from the wire and from the protected site.
#
#   reflection     gw1's own ESP, captured on the wire, sent back to gw1 as sent and with
#                  its outer addresses swapped: never decrypted, nothing leaves in clear
#   wan_spoof      a packet from a protected source (198.51.100.200) injected on gw1's WAN
#                  side: the reverse-path check drops it, it is never tunnelled
#   tfc_mtu        tfc:1500 on a 1500-byte path: small packets with and without DF get
#                  through, and the gateway survives
#   vlan_tags      packets behind 3 and 4 VLAN tags of VID 0 (which the kernel strips, every
#                  one): from the WAN with a protected site's source, never delivered to
#                  hostA; from hostA, never on the wire in clear (XDP drops them: DROP_TAGS)
#   key_wipe       a deleted SA's key is gone from the daemon's memory within 2 s, with no
#                  further command (read from /proc/PID/mem until it is: binary and
#                  hexadecimal)
#
# Usage: tests/security/live.sh [build/esper-xdp] [CASE...]    (as root)
# Prints PASS/FAIL per case and "security live: N passed, N failed".
cd "$(dirname "$0")/../.." || exit 1
ESPER=${1:-build/esper-xdp}
shift
LOGDIR=build/security
. tests/integ/lib.sh

[ "$(id -u)" -eq 0 ] || { echo "security live: needs root"; exit 1; }
trap 'topo_down' EXIT
trap 'exit 130' INT TERM

ping_ok() {	# ping_ok NS ADDR [COUNT] [PING OPTIONS...]
	ns=$1 dst=$2 n=${3:-3}
	shift 3 2>/dev/null || shift $#
	in_ns "$ns" ping -q -c "$n" -i 0.2 -W 2 "$@" "$dst" >/dev/null
}

mac_of() { in_ns "$1" cat "/sys/class/net/$2/address"; }

# send_from_wire IFACE: run the Python on stdin in the wire namespace, with scapy and
# tests/lib/esptest.py, the interface toward gw1 (w1) or gw2 (w2) and the MAC of that
# gateway's WAN port as argv.
send_from_wire() {
	in_ns $NS_W env PYTHONPATH=tests/lib /usr/bin/python3 - "$@"
}

gw_alive() { kill -0 "$(gw_pid "$1")" 2>/dev/null; }

# --- reflection ------------------------------------------------------------------------------

unknown_spi_seen() {	# N: gw1's XDP passed at least N packets of unknown SPIs
	[ "$(gw_stat 1 xdp PASS_UNKNOWN_SPI)" -ge "$1" ]
}

case_reflection() {
	tunnel_policies 1 4 4
	tunnel_policies 2 4 4
	capture_start "$LOGDIR/refl.pcap"
	ping_ok $NS_A 203.0.113.10 3 || { capture_stop; echo "no tunnel"; return 1; }
	capture_stop
	capture_start "$LOGDIR/refl-after.pcap"
	unknown0=$(gw_stat 1 xdp PASS_UNKNOWN_SPI)
	send_from_wire "$LOGDIR/refl.pcap" w1 "$(mac_of $NS_G1 g1w)" >"$LOGDIR/refl.sent" <<'PY' || return 1
import sys
from scapy.all import rdpcap, sendp, Ether, IP, conf
conf.verb = 0
esp = [p for p in rdpcap(sys.argv[1]) if IP in p and p[IP].proto == 50 and p[IP].src == "192.0.2.1"]
assert esp, "no ESP from gw1 captured"
for p in esp:
    ip = IP(bytes(p[IP]))
    sendp(Ether(dst=sys.argv[3]) / ip, iface=sys.argv[2])            # as sent
    ip.src, ip.dst = ip.dst, ip.src
    del ip.chksum
    sendp(Ether(dst=sys.argv[3]) / IP(bytes(ip)), iface=sys.argv[2])  # swapped
print("sent %d packets back to gw1, twice" % len(esp))
PY
	cat "$LOGDIR/refl.sent"
	sent=$(sed -n 's/^sent \([0-9]*\) .*/\1/p' "$LOGDIR/refl.sent")
	# gw1's XDP has seen them all: ESP for no SA of gw1 that decrypts (its own SPI)
	wait_for "gw1's XDP to pass $((2 * sent)) reflected packets" unknown_spi_seen \
		$((unknown0 + 2 * sent)) || return 1
	capture_stop
	in=$(gw_stat 1 'sa spi=0x00001001' in_packets)
	clear=$(tcpdump -nr "$LOGDIR/refl-after.pcap" 'ip and not esp and net 198.51.100.0/24' 2>/dev/null | wc -l)
	echo "gw1 decrypted $in of its own packets; $clear protected packets in clear on the wire"
	[ "$in" = 0 ] && [ "$clear" = 0 ]
}

# --- a spoofed source on the WAN side ----------------------------------------------------------

rpf_drops() {	# N: gw1's XDP dropped at least N packets in its reverse-path check
	[ "$(gw_stat 1 xdp DROP_RPF)" -ge "$1" ]
}

case_wan_spoof() {
	tunnel_policies 1 4 4
	tunnel_policies 2 4 4
	ping_ok $NS_A 203.0.113.10 2 || { echo "no tunnel"; return 1; }
	before=$(gw_stat 1 'sa spi=0x00001001' out_packets)
	rpf0=$(gw_stat 1 xdp DROP_RPF)
	send_from_wire w1 "$(mac_of $NS_G1 g1w)" <<'PY' || return 1
import sys
from esptest import Ether, udp
from scapy.all import sendp
for i in range(5):
    sendp(Ether(dst=sys.argv[2]) / udp(4, "198.51.100.200", "203.0.113.10", sport=4000 + i,
                                       dport=9999, data=b"spoofed"), iface=sys.argv[1])
PY
	wait_for "gw1's reverse-path check to drop 5 packets" rpf_drops $((rpf0 + 5)) || return 1
	after=$(gw_stat 1 'sa spi=0x00001001' out_packets)
	echo "gw1 encrypted $((after - before)) of 5 spoofed packets"
	[ "$after" = "$before" ] || return 1
	ping_ok $NS_A 203.0.113.10 2	# genuine traffic still flows
}

# --- more VLAN tags than XDP reads ---------------------------------------------------------------

tag_drops() {	# N: gw1's XDP dropped at least N packets for their VLAN tags
	[ "$(gw_stat 1 xdp DROP_TAGS)" -ge "$1" ]
}

# send_tagged NS IFACE MAC SRC DST: UDP SRC -> DST port 9999 behind 0 to 4 VLAN tags of VID 0,
# from IFACE in NS to MAC; the payload names the number of tags.
send_tagged() {
	in_ns "$1" env PYTHONPATH=tests/lib /usr/bin/python3 - "${@:2}" <<'PY'
import sys
from esptest import Ether, udp
from scapy.all import sendp, Dot1Q
iface, mac, src, dst = sys.argv[1:5]
for tags in range(5):
    e = Ether(dst=mac)
    for _ in range(tags):
        e = e / Dot1Q(vlan=0)
    sendp(e / udp(4, src, dst, sport=5000 + tags, dport=9999, data=b"tags%d" % tags),
          iface=iface, verbose=0)
PY
}

case_vlan_tags() {
	local drops0 seen clear
	tunnel_policies 1 4 4
	tunnel_policies 2 4 4
	ping_ok $NS_A 203.0.113.10 2 || { echo "no tunnel"; return 1; }
	ip netns exec $NS_A tcpdump -i a0 -U -n -w "$LOGDIR/vlan-a.pcap" 'udp port 9999' \
		2>"$LOGDIR/vlan-a.log" &
	local cap_a=$!
	wait_for "tcpdump on a0" grep -q "listening on" "$LOGDIR/vlan-a.log" || return 1
	capture_start "$LOGDIR/vlan-wire.pcap"
	drops0=$(gw_stat 1 xdp DROP_TAGS)
	# from the WAN, posing as the protected far site
	send_tagged $NS_W w1 "$(mac_of $NS_G1 g1w)" 203.0.113.10 198.51.100.10 || return 1
	# from the protected site, for the far site: an out ipsec policy covers it
	send_tagged $NS_A a0 "$(mac_of $NS_G1 g1l)" 198.51.100.10 203.0.113.10 || return 1
	wait_for "gw1's XDP to drop 4 tagged packets" tag_drops $((drops0 + 4))
	ping_ok $NS_A 203.0.113.10 1	# what went through has arrived
	capture_stop
	kill "$cap_a" 2>/dev/null
	wait "$cap_a" 2>/dev/null
	seen=$(tcpdump -nr "$LOGDIR/vlan-a.pcap" 'src host 203.0.113.10' 2>/dev/null | wc -l)
	clear=$(tcpdump -nr "$LOGDIR/vlan-wire.pcap" 'udp port 9999' 2>/dev/null | wc -l)
	echo "gw1 dropped $(($(gw_stat 1 xdp DROP_TAGS) - drops0)) tagged packets;" \
		"$seen from the WAN reached hostA, $clear went on the wire in clear"
	[ "$seen" = 0 ] && [ "$clear" = 0 ] && tag_drops $((drops0 + 4))
}

# --- TFC padding on a 1500-byte path ------------------------------------------------------------

case_tfc_mtu() {
	gw_cmd 1 "add 192.0.2.1 192.0.2.2 esp 0x1001 -u 1 -E aes-gcm-16 $KEY_OUT tfc:1500 ;"
	gw_cmd 1 "add 192.0.2.2 192.0.2.1 esp 0x2001 -u 2 -E aes-gcm-16 $KEY_BACK ;"
	gw_cmd 1 "spdadd 198.51.100.0/24 203.0.113.0/24 any -P out ipsec esp/tunnel/192.0.2.1-192.0.2.2/unique:1 ;"
	gw_cmd 1 "spdadd 203.0.113.0/24 198.51.100.0/24 any -P in ipsec esp/tunnel/192.0.2.2-192.0.2.1/unique:2 ;"
	tunnel_policies 2 4 4
	ping_ok $NS_A 203.0.113.10 3 -M dont -s 16 || echo "small packets without DF: no answer"
	gw_alive 1 || { echo "gw1 died on a 16-byte packet without DF"; return 1; }
	ping_ok $NS_A 203.0.113.10 3 -M dont -s 16 || { echo "no answer without DF"; return 1; }
	ping_ok $NS_A 203.0.113.10 3 -M do -s 100 || { echo "no answer with DF"; return 1; }
	gw_alive 1 || { echo "gw1 died"; return 1; }
}

# --- keys of deleted SAs ------------------------------------------------------------------------

WIPE_KEY=8c3e5f17a9b24d6071e8c5d39a0f2b4e61d7c893

case_key_wipe() {
	gw_cmd 1 "add 192.0.2.1 192.0.2.2 esp 0x7777 -u 77 -E aes-gcm-16 0x$WIPE_KEY ;"
	gw_cmd 1 "spdadd 198.51.100.0/24 203.0.113.0/24 any -P out ipsec esp/tunnel/192.0.2.1-192.0.2.2/unique:77 ;"
	[ "$(gw_stat 1 'sa spi=0x00007777' out_packets)" = 0 ] || { echo "no SA"; return 1; }
	gw_cmd 1 "delete 192.0.2.1 192.0.2.2 esp 0x7777 ;"
	# the daemon's memory, read again and again (no command in between) until no copy of
	# the key is left, for at most 2 s after the delete
	/usr/bin/python3 - "$(gw_pid 1)" "$WIPE_KEY" <<'PY'
import re, sys, time
pid, key = sys.argv[1], sys.argv[2]
deadline = time.monotonic() + 2
needles = {"binary key": bytes.fromhex(key), "hex key": key.encode(),
           "HEX key": key.upper().encode()}


def copies():
    found = []
    with open("/proc/%s/maps" % pid) as maps, open("/proc/%s/mem" % pid, "rb", 0) as mem:
        for line in maps:
            m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+)", line)
            if not m or m.group(3)[0] != "r" or "[vvar]" in line or "[vsyscall]" in line:
                continue
            lo, hi = int(m.group(1), 16), int(m.group(2), 16)
            try:
                mem.seek(lo)
                data = mem.read(hi - lo)
            except OSError:
                continue
            for what, n in needles.items():
                at = data.find(n)
                if at >= 0:
                    found.append("%s at %#x (%s)" % (what, lo + at, line.split()[-1]))
    return found


scans = 0
while True:
    found = copies()
    scans += 1
    if not found or time.monotonic() > deadline:
        break
    time.sleep(0.1)
print("\n".join(found) if found else
      "no copy of the key in the daemon's memory (scan %d, %.1f s before the deadline)"
      % (scans, deadline - time.monotonic()))
sys.exit(1 if found else 0)
PY
}

# --- running the cases ---------------------------------------------------------------------------

ALL_CASES="reflection wan_spoof vlan_tags tfc_mtu key_wipe"

run_case() {
	name=$1
	topo_up || { echo "FAIL $name: topology"; return 1; }
	if gw_start 1 && gw_start 2 && "case_$name" >"$LOGDIR/$name.log" 2>&1; then
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
echo "security live: $passed passed, $failed failed"
[ $failed -eq 0 ]
