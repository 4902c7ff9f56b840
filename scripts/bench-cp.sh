#!/bin/bash
# bench-cp.sh - the control plane at scale: N `add` and N `spdadd` (default 1,000,000 each)
# from a pipe into a live esper-xdp (XDP program attached, BPF maps written), then the first
# packet of some of those SAs, which are keyed lazily, on that packet. One network namespace
# made here and always removed. A benchmark, never a test: it exits 0 whatever the figures
# (root).
#
#   scapy --> cp1 ==veth== cp0 [XDP + esper-xdp -i cp0] --ESP--> cp1 --> scapy
#
# The stream (build/bench/cp-N.conf, made once): SA i has SPI 0x1000 + i, UniqueID i + 1, its
# own AES-128-GCM key, tunnel 2001:db8:f::1 -> 2001:db8:f::2; policy i protects
# 2001:db8:a::(i/65536):(i%65536)/128 -> 2001:db8:b::/64, out. All adds, then all spdadds
# (the worst case for the maps: every SA enters sa_in, then leaves it when its out policy
# comes); with --pairs each add is followed by its spdadd, as a keying daemon sends them
# (the SA's entry and removal then meet in one batch and cancel out).
#
# Baselines, same run, same stream:
#   cat    the stream through a pipe into /dev/null
#   parse  build/bench/bench_cp --parse: read and parse only
#   apply  build/bench/bench_cp --apply: parse and apply to the tables, no XDP
# Figures: esper-xdp's own count from the first command to the BPF maps holding the last
# (its "end of commands" line), as a multiple of the parse baseline; the resident memory the
# load added (VmRSS once loaded less VmRSS before the first command) per add+spdadd pair,
# and the peak; the entries of the maps spd and sa_in (N and 0: every SA is outbound).
# First packet: one plaintext packet for each of three SAs (the first, the middle, the last)
# sent into cp0 right after the load; each must come back as ESP with the SA's SPI and
# sequence number 1 that decrypts with the SA's key. Then, in process, what lazy keying
# adds to a first packet (bench_cp --first-packet).
#
# Usage: scripts/bench-cp.sh [-n N] [--pairs] [--keep]   (--keep: keep the stream file)
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

ESPER=${ESPER:-build/esper-xdp}
BIN=${BIN:-build/bench}
OUT=${OUT:-build/bench}
N=1000000
KEEP=0
ORDER=adds-first
while [ $# -gt 0 ]; do
	case $1 in
	-n) N=$2; shift ;;
	--pairs) ORDER=pairs ;;
	--keep) KEEP=1 ;;
	*) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
	esac
	shift
done

[ "$(id -u)" -eq 0 ] || { echo "bench-cp: needs root"; exit 0; }
for b in "$ESPER" "$BIN/bench_cp"; do
	[ -x "$b" ] || { echo "bench-cp: $b missing (make bench builds it)"; exit 1; }
done
mkdir -p "$OUT/cp"
LOG=$OUT/cp
CONF=$OUT/cp-$N-$ORDER.conf
NS=ecp$$
FIFO=$LOG/in.$$
PID=

cleanup() {
	exec 9>&- 2>/dev/null
	[ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && sleep 1
	for p in $(ip netns pids "$NS" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
	ip netns del "$NS" 2>/dev/null
	rm -f "$FIFO"
	[ "$KEEP" = 1 ] || rm -f "$CONF"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ ! -s "$CONF" ]; then
	awk -v n="$N" -v pairs="$([ $ORDER = pairs ] && echo 1 || echo 0)" '
	function add(i) {
		printf "add 2001:db8:f::1 2001:db8:f::2 esp 0x%x -u %d -E aes-gcm-16 " \
			"0x%08x5d3c9a0e71b2c4f6e8a1b3d5%08x ;\n", 4096 + i, i + 1, i, i * 7
	}
	function spdadd(i) {
		printf "spdadd 2001:db8:a::%x:%x/128 2001:db8:b::/64 any -P out ipsec " \
			"esp/tunnel/2001:db8:f::1-2001:db8:f::2/unique:%d ;\n",
			int(i / 65536), i % 65536, i + 1
	}
	BEGIN {
		for (i = 0; i < n; i++) {
			add(i)
			if (pairs)
				spdadd(i)
		}
		for (i = 0; i < n && !pairs; i++)
			spdadd(i)
	}' >"$CONF"
fi

echo "date:   $(date -u '+%Y-%m-%d %H:%M:%S UTC'), git $(git rev-parse --short HEAD 2>/dev/null)"
echo "cpu:    $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) online," \
	"flags: $(grep -o -w -E 'aes|avx2|avx512f|vaes|vpclmulqdq|sha_ni' /proc/cpuinfo | sort -u |
	tr '\n' ' ')"
echo "load:   $(cut -d' ' -f1-3 /proc/loadavg) (shared machine: compare with the baselines)"
echo "stream: $CONF, $N add + $N spdadd ($ORDER), $(($(stat -c %s "$CONF") / 1048576)) MiB"

# --- baselines (through a pipe, as esper-xdp gets it) --------------------------------------
t0=$(date +%s.%N)
# shellcheck disable=SC2002
cat "$CONF" | cat >/dev/null
t_cat=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
cat "$CONF" | "$BIN/bench_cp" --parse | tee "$LOG/parse.txt"
cat "$CONF" | "$BIN/bench_cp" --apply | tee "$LOG/apply.txt"
t_parse=$(sed -n 's/.* refused, \([0-9.]*\) s wall.*/\1/p' "$LOG/parse.txt")
t_apply=$(sed -n 's/.* refused, \([0-9.]*\) s wall.*/\1/p' "$LOG/apply.txt")

# --- live ----------------------------------------------------------------------------------
in_ns() { ip netns exec $NS "$@"; }
scripts/ns-sweep.sh	# what runs killed before their trap left
ip netns add $NS || exit 0
in_ns ip link set lo up
ip link add cp0 netns $NS type veth peer name cp1 netns $NS
in_ns ip link set cp0 up
in_ns ip link set cp1 up
in_ns ip -6 addr add 2001:db8:f::1/64 dev cp0 nodad
in_ns ip -6 neigh replace 2001:db8:f::2 lladdr "$(in_ns cat /sys/class/net/cp1/address)" \
	dev cp0 nud permanent
in_ns sysctl -qw net.ipv6.conf.all.forwarding=1
mkfifo "$FIFO"
in_ns sh -c 'mount -t bpf bpf /sys/fs/bpf 2>/dev/null; exec "$@"' sh "$ESPER" -i cp0 -q 1 \
	--cpus 1 --rpf off <"$FIFO" >"$LOG/esper.out" 2>"$LOG/esper.err" &
exec 9>"$FIFO"
for _ in $(seq 1 200); do grep -q "running on" "$LOG/esper.err" && break; sleep 0.1; done
PID=$(ip netns pids $NS | head -n 1)
rss0=$(awk '/^VmRSS/ { print $2 }' /proc/"$PID"/status)
t_sent=$(date +%s.%N)
cat "$CONF" >&9
exec 9>&-	# end of input: esper-xdp logs "end of commands" once the maps hold them all
for _ in $(seq 1 3000); do grep -q "end of commands" "$LOG/esper.err" && break; sleep 0.1; done
t_seen=$(date +%s.%N)
rss1=$(awk '/^VmRSS/ { print $2 }' /proc/"$PID"/status)
hwm=$(awk '/^VmHWM/ { print $2 }' /proc/"$PID"/status)
end=$(grep "end of commands" "$LOG/esper.err")
t_live=$(echo "$end" | sed -n 's/.* refused, \([0-9.]*\) s from.*/\1/p')
refused=$(echo "$end" | sed -n 's/.* applied, \([0-9]*\) refused.*/\1/p')
if [ -z "$t_live" ]; then	# an esper-xdp that does not count (ESPER=older build): our clock
	t_live=$(awk -v a="$t_sent" -v b="$t_seen" 'BEGIN { printf "%.1f", b - a }')
	refused=$(grep -c ": error: " "$LOG/esper.err")
fi

map_entries() {	# map_entries NAME: entries of the map NAME that esper-xdp holds
	local f id
	for f in /proc/"$PID"/fdinfo/*; do
		id=$(sed -n 's/^map_id:[[:space:]]*//p' "$f" 2>/dev/null)
		[ -n "$id" ] || continue
		bpftool map show id "$id" 2>/dev/null | grep -q " name $1 " || continue
		"$BIN/bench_cp" --count-map "$id"
		return
	done
	echo "?"
}
spd=$(map_entries spd)
sa_in=$(map_entries sa_in)

# --- the first packet of three lazily keyed SAs ---------------------------------------------
first=$(in_ns /usr/bin/python3 - "$N" "$(in_ns cat /sys/class/net/cp0/address)" <<'EOF' 2>"$LOG/first.err" | tail -n 1
import sys
from scapy.all import Ether, IPv6, UDP, Raw, ESP, AsyncSniffer, sendp, conf
from scapy.layers.ipsec import SecurityAssociation
conf.verb = 0
n, mac0 = int(sys.argv[1]), sys.argv[2]
picks = sorted({0, n // 2, n - 1})
sniff = AsyncSniffer(iface="cp1", filter="ip6 proto 50", count=len(picks), timeout=5)
sniff.start()
import time; time.sleep(0.5)
for i in picks:
    src = "2001:db8:a::%x:%x" % (i >> 16, i & 0xffff)
    sendp(Ether(dst=mac0) / IPv6(src=src, dst="2001:db8:b::1") / UDP(sport=4000, dport=5000) /
          Raw(b"first packet %d" % i), iface="cp1")
got = sniff.join() or sniff.results
ok = 0
for p in got or []:
    esp = p[ESP]
    i = esp.spi - 0x1000
    key = bytes.fromhex("%08x5d3c9a0e71b2c4f6e8a1b3d5%08x" % (i, (i * 7) & 0xffffffff))
    sa = SecurityAssociation(ESP, spi=esp.spi, crypt_algo="AES-GCM", crypt_key=key,
                             tunnel_header=IPv6(src="2001:db8:f::1", dst="2001:db8:f::2"))
    inner = sa.decrypt(p[IPv6])
    if i in picks and esp.seq == 1 and bytes(inner[Raw].load) == b"first packet %d" % i:
        ok += 1
print("%d of %d" % (ok, len(picks)))
EOF
)

# --- summary -------------------------------------------------------------------------------
awk -v n="$N" -v t="$t_live" -v tp="$t_parse" -v ta="$t_apply" -v tc="$t_cat" \
	-v r0="$rss0" -v r1="$rss1" -v hwm="$hwm" -v spd="$spd" -v sa="$sa_in" \
	-v refused="${refused:-?}" -v first="$first" -v order="$ORDER" 'BEGIN {
	per = (r1 - r0) * 1024 / n
	printf "control plane: %d add + %d spdadd (%s) from a pipe, BPF maps included: %s s " \
		"(x%.1f the parse baseline %s s; apply without XDP %s s; cat %s s); " \
		"%.0f bytes per SA+SP resident (VmRSS %d -> %d MiB, peak %d MiB); " \
		"maps spd %s, sa_in %s; %s refused; target (1M) <= 10 s and <= 1024 bytes: %s\n",
		n, n, order, t, (tp > 0 ? t / tp : 0), tp, ta, tc, per, r0 / 1024, r1 / 1024, hwm / 1024,
		spd, sa, refused,
		(n < 1000000 ? "n/a (N < 1M)" : (t != "" && t <= 10 && per <= 1024 && spd == n && sa == 0 && refused == 0) ? "met" : "missed")
	printf "first packet: %s lazily keyed SAs sent their first packet (ESP sequence number 1, " \
		"decrypted with the SA key)\n", first
}' | tee "$OUT/cp.txt"
"$BIN/bench_cp" --first-packet | tee -a "$OUT/cp.txt"
exit 0
