#!/bin/sh
# demo.sh - esper-xdp in pcap mode on the shipped sample: gw1 encrypts a capture of site
# traffic into ESP, an independent decoder (tshark, given the keys) reads the ESP, and gw2
# decrypts it back; the result must equal the original. Then, as root, the live datapath
# between two gateways in network namespaces (scripts/demo-live.sh).
set -eu
cd "$(dirname "$0")/.."
BIN=${BIN:-build/esper-xdp}
DATA=tests/data/demo
OUT=build/demo
[ -x "$BIN" ] || make
mkdir -p "$OUT"

step() { printf '\n== %s\n' "$*"; }

step "the sample: tests/data/demo/plain.pcap"
tcpdump -nr "$DATA/plain.pcap" 2>/dev/null

step "gw1 encrypts it (policies: $DATA/gw1.conf)"
"$BIN" --pcap-in "$DATA/plain.pcap" --pcap-out "$OUT/esp.pcap" -f "$DATA/gw1.conf" 2>"$OUT/gw1.log"
tcpdump -nr "$OUT/esp.pcap" 2>/dev/null
grep '^pcap:' "$OUT/gw1.log"

step "tshark decodes the ESP with the SA keys (an independent implementation)"
tshark -r "$OUT/esp.pcap" -o esp.enable_encryption_decode:TRUE \
	-o 'uat:esp_sa:"IPv4","192.0.2.1","192.0.2.2","0x00001001","AES-GCM with 16 octet ICV [RFC4106]","0x0102030405060708090a0b0c0d0e0f1011121314","NULL",""' \
	-o 'uat:esp_sa:"IPv6","2001:db8::1","2001:db8::2","0x00001003","AES-GCM with 16 octet ICV [RFC4106]","0x4142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f6061626364","NULL",""' \
	2>/dev/null

step "gw2 decrypts it (policies: $DATA/gw2.conf)"
"$BIN" --pcap-in "$OUT/esp.pcap" --pcap-out "$OUT/back.pcap" -f "$DATA/gw2.conf" 2>"$OUT/gw2.log"
tcpdump -nr "$OUT/back.pcap" 2>/dev/null
grep '^pcap:' "$OUT/gw2.log"

step "round trip"
if cmp -s "$OUT/back.pcap" "$DATA/plain.pcap" ||
	[ "$(tcpdump -xxnr "$OUT/back.pcap" 2>/dev/null | grep -v '^[0-9]')" = \
	  "$(tcpdump -xxnr "$DATA/plain.pcap" 2>/dev/null | grep -v '^[0-9]')" ]; then
	echo "OK: every packet came back byte for byte"
else
	echo "MISMATCH: see $OUT/" >&2
	exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
	step "the live datapath"
	scripts/demo-live.sh
else
	echo "(run as root for the live part: sudo scripts/demo.sh)"
fi
