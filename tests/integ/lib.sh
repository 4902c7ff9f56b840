# lib.sh - the test topology (a gateway between two sites, each side) in network namespaces that the tests create and
# always delete (trap in run.sh), named with the shell's PID:
#
#   hostA ---------- gw1 [esper-xdp] ==== wire (bridge) ==== gw2 [esper-xdp] ---------- hostB
#   a0           g1l            g1w         w1  br0  w2        g2w          g2l          b0
#   198.51.100.10/24   .1      192.0.2.1                     192.0.2.2      203.0.113.1  .10/24
#   2001:db8:a::10/64  ::1     2001:db8:f::1               2001:db8:f::2   2001:db8:b::1 ::10
#
# The wire is a bridge in its own namespace, so a capture there sees exactly what travels
# between the gateways. Sourced by run.sh; needs root, iproute2, tcpdump, the daemon $ESPER.

ID=${ID:-$$}
NS_A=eA$ID
NS_G1=eG1$ID
NS_W=eW$ID
NS_G2=eG2$ID
NS_B=eB$ID
ESPER=${ESPER:-build/esper-xdp}
LOGDIR=${LOGDIR:-build/integ}

KEY_OUT=0x0102030405060708090a0b0c0d0e0f1011121314	# AES-128-GCM, gw1 -> gw2
KEY_BACK=0x2122232425262728292a2b2c2d2e2f3031323334	# AES-128-GCM, gw2 -> gw1
KEY_OUT6=0x4142434445464748494a4b4c4d4e4f5051525354	# a second pair (one key per outbound SA)
KEY_BACK6=0x6162636465666768696a6b6c6d6e6f7071727374

in_ns() {
	ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# Background jobs below call `ip netns exec` directly, never in_ns: $! must be the
# program's own PID (not a subshell's) so that kill reaches it.

addr() {
	in_ns "$1" ip link set "$2" up
	[ -n "${3:-}" ] && in_ns "$1" ip addr add "$3" dev "$2"
	[ -n "${4:-}" ] && in_ns "$1" ip -6 addr add "$4" dev "$2" nodad
	return 0
}

topo_up() {
	scripts/ns-sweep.sh	# what runs killed before their trap left
	for ns in $NS_A $NS_G1 $NS_W $NS_G2 $NS_B; do
		ip netns add "$ns" || return 1
		in_ns "$ns" ip link set lo up
	done
	q="numtxqueues ${QUEUES:-1} numrxqueues ${QUEUES:-1}"
	# shellcheck disable=SC2086
	{
		ip link add a0 netns $NS_A $q type veth peer name g1l netns $NS_G1 $q
		ip link add g1w netns $NS_G1 $q type veth peer name w1 netns $NS_W $q
		ip link add g2w netns $NS_G2 $q type veth peer name w2 netns $NS_W $q
		ip link add g2l netns $NS_G2 $q type veth peer name b0 netns $NS_B $q
	}
	in_ns $NS_W ip link add br0 type bridge
	in_ns $NS_W ip link set w1 master br0
	in_ns $NS_W ip link set w2 master br0
	addr $NS_W br0 && addr $NS_W w1 && addr $NS_W w2
	addr $NS_A a0 198.51.100.10/24 2001:db8:a::10/64
	addr $NS_G1 g1l 198.51.100.1/24 2001:db8:a::1/64
	addr $NS_G1 g1w 192.0.2.1/24 2001:db8:f::1/64
	addr $NS_G2 g2w 192.0.2.2/24 2001:db8:f::2/64
	addr $NS_G2 g2l 203.0.113.1/24 2001:db8:b::1/64
	addr $NS_B b0 203.0.113.10/24 2001:db8:b::10/64
	in_ns $NS_A ip route add default via 198.51.100.1
	in_ns $NS_A ip -6 route add default via 2001:db8:a::1
	in_ns $NS_B ip route add default via 203.0.113.1
	in_ns $NS_B ip -6 route add default via 2001:db8:b::1
	in_ns $NS_G1 ip route add 203.0.113.0/24 via 192.0.2.2
	in_ns $NS_G1 ip -6 route add 2001:db8:b::/64 via 2001:db8:f::2
	in_ns $NS_G2 ip route add 198.51.100.0/24 via 192.0.2.1
	in_ns $NS_G2 ip -6 route add 2001:db8:a::/64 via 2001:db8:f::1
	for ns in $NS_G1 $NS_G2; do
		in_ns $ns sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	done
	mkdir -p "$LOGDIR"
}

topo_down() {
	gw_stop 1 2>/dev/null
	gw_stop 2 2>/dev/null
	[ -n "${CAP_PID:-}" ] && kill "$CAP_PID" 2>/dev/null && wait "$CAP_PID" 2>/dev/null
	CAP_PID=""
	for ns in $NS_A $NS_G1 $NS_W $NS_G2 $NS_B; do
		ip netns del "$ns" 2>/dev/null
	done
	return 0
}

# --- the gateways ------------------------------------------------------------------------

gw_ns() { [ "$1" = 1 ] && echo $NS_G1 || echo $NS_G2; }
gw_ifaces() { [ "$1" = 1 ] && echo "-i g1l -i g1w" || echo "-i g2l -i g2w"; }

# gw_start N [OPTIONS]: esper-xdp on gateway N, its commands from a FIFO held open on fd 7
# (gw1) or 8 (gw2), so its input never ends; stdout and stderr into $LOGDIR/gwN.{out,err};
# its control socket $LOGDIR/gwN.ctl.$ID (gw_ctl N), unless OPTIONS give another.
gw_start() {
	n=$1
	shift
	fifo=$LOGDIR/gw$n.cmd.$ID
	rm -f "$fifo"
	mkfifo "$fifo"
	# shellcheck disable=SC2046
	ip netns exec "$(gw_ns $n)" sh -c 'mount -t bpf bpf /sys/fs/bpf 2>/dev/null; exec "$@"' sh \
		"$ESPER" $(gw_ifaces $n) --ctl-socket "$(gw_ctl_path $n)" "$@" <"$fifo" \
		>"$LOGDIR/gw$n.out" 2>"$LOGDIR/gw$n.err" &
	eval "GW${n}_PID=$!"
	if [ "$n" = 1 ]; then exec 7>"$fifo"; else exec 8>"$fifo"; fi
	rm -f "$fifo"
	wait_for "gw$n running" grep -q "running on" "$LOGDIR/gw$n.err"
}

gw_pid() { eval "echo \${GW${1}_PID:-}"; }

gw_ctl_path() { echo "$LOGDIR/gw$1.ctl.$ID"; }

# gw_ctl N COMMAND...: esper-xdp ctl on gateway N's control socket.
gw_ctl() {
	n=$1
	shift
	"$ESPER" ctl --socket "$(gw_ctl_path "$n")" "$@"
}

gw_stop() {
	pid=$(gw_pid "$1")
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	eval "GW${1}_PID="
	if [ "$1" = 1 ]; then exec 7>&-; else exec 8>&-; fi
}

# gw_cmd N TEXT: send commands to gateway N.
gw_cmd() {
	if [ "$1" = 1 ]; then printf '%s\n' "$2" >&7; else printf '%s\n' "$2" >&8; fi
}

# gw_sync N: wait until gateway N has applied every command sent to it so far (commands are
# applied in order, and the answer to a `stats` comes after them).
gw_sync() {
	local before

	before=$(grep -c '^crypto backend' "$LOGDIR/gw$1.out" 2>/dev/null)
	gw_cmd "$1" "stats ;"
	wait_for "stats of gw$1" sh -c "[ \$(grep -c '^crypto backend' $LOGDIR/gw$1.out) -gt $before ]"
}

# gw_stat N PREFIX FIELD: FIELD= of the line starting with PREFIX in a fresh `stats` of
# gateway N (empty if there is none: an SA that is gone).
gw_stat() {
	gw_sync "$1" || return 1
	awk '/^crypto backend/ { n++ } { print n + 0 " " $0 }' "$LOGDIR/gw$1.out" |
		awk -v last="$(grep -c '^crypto backend' "$LOGDIR/gw$1.out")" \
			'$1 == last - 1 { $1 = ""; print substr($0, 2) }' |
		grep "^$2" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$3=//p"
}

# --- helpers -----------------------------------------------------------------------------

# wait_for WHAT CMD...: retry CMD (a command or a shell function) for up to 10 s (WAIT_TRIES
# tenths of a second).
wait_for() {
	local what=$1 i

	shift
	for i in $(seq 1 "${WAIT_TRIES:-100}"); do
		"$@" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "timed out waiting for $what" >&2
	return 1
}

# listening NS PORT...: is every PORT a listening TCP socket in namespace NS?
listening() {
	local ns=$1 p

	shift
	for p in "$@"; do
		in_ns "$ns" ss -Hltn "sport = :$p" | grep -q . || return 1
	done
}

# The classic site-to-site tunnel between the gateways, both directions, AES-128-GCM.
# tunnel_policies N FAMILY_INNER FAMILY_OUTER [ALG KEY_OUT KEY_BACK]
tunnel_policies() {
	n=$1
	inner=$2
	outer=$3
	alg=${4:-aes-gcm-16}
	k1=${5:-$KEY_OUT}
	k2=${6:-$KEY_BACK}
	if [ "$outer" = 4 ]; then t1=192.0.2.1 t2=192.0.2.2; else t1=2001:db8:f::1 t2=2001:db8:f::2; fi
	if [ "$inner" = 4 ]; then a=198.51.100.0/24 b=203.0.113.0/24; else a=2001:db8:a::/64 b=2001:db8:b::/64; fi
	gw_cmd "$n" "add $t1 $t2 esp 0x1001 -u 1 -E $alg $k1 ;"
	gw_cmd "$n" "add $t2 $t1 esp 0x2001 -u 2 -E $alg $k2 ;"
	if [ "$n" = 1 ]; then
		gw_cmd 1 "spdadd $a $b any -P out ipsec esp/tunnel/$t1-$t2/unique:1 ;"
		gw_cmd 1 "spdadd $b $a any -P in ipsec esp/tunnel/$t2-$t1/unique:2 ;"
	else
		gw_cmd 2 "spdadd $b $a any -P out ipsec esp/tunnel/$t2-$t1/unique:2 ;"
		gw_cmd 2 "spdadd $a $b any -P in ipsec esp/tunnel/$t1-$t2/unique:1 ;"
	fi
}

# capture_start FILE: capture the wire (the bridge) until capture_stop.
capture_start() {
	rm -f "$1.log"
	CAP_FILE=$1
	ip netns exec $NS_W tcpdump -i br0 -U -n -w "$1" 2>"$1.log" &
	CAP_PID=$!
	wait_for "tcpdump" grep -q "listening on" "$1.log"
}

# capture_stop: once everything sent on the wire so far is in the capture file. The
# barrier is a marker: gw1 asks the wire for an address nobody has (ARP, a new address
# each time, 192.0.2.200-249); the bridge hands tcpdump its frames in order, so when the
# request is in the file, what went before it is too.
CAP_MARK=0
capture_stop() {
	local mark=192.0.2.$((200 + CAP_MARK % 50))

	[ -n "${CAP_PID:-}" ] || return 0
	CAP_MARK=$((CAP_MARK + 1))
	in_ns $NS_G1 ping -c 1 -W 0.1 "$mark" >/dev/null 2>&1
	wait_for "the capture's marker" sh -c \
		"tcpdump -nr '$CAP_FILE' 'arp and dst host $mark' 2>/dev/null | grep -q ."
	kill "$CAP_PID" 2>/dev/null
	wait "$CAP_PID" 2>/dev/null
	CAP_PID=""
}

# transfer FROM_NS TO_NS ADDR MB: send MB megabytes of random data over TCP; compare.
transfer() {
	src=$LOGDIR/xfer.in.$ID
	dst=$LOGDIR/xfer.out.$ID
	head -c "$(($4 * 1048576))" /dev/urandom >"$src"
	rm -f "$dst"
	case $3 in *:*) fam=-6 ;; *) fam=-4 ;; esac
	ip netns exec "$2" timeout 60 nc $fam -l -p 5001 >"$dst" &
	lpid=$!
	wait_for "the listener of $2" listening "$2" 5001
	in_ns "$1" timeout 60 nc $fam -N "$3" 5001 <"$src"
	wait $lpid
	a=$(sha256sum <"$src")
	b=$(sha256sum <"$dst")
	rm -f "$src" "$dst"
	[ "$a" = "$b" ] || { echo "transfer of $4 MB to $3: checksums differ" >&2; return 1; }
}
