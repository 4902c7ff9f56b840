#!/bin/bash
# bench-live.sh - esper-xdp measured live with xdp-bench, in namespaces made here and always
# removed (a benchmark, never a test: it exits 0 whatever the figures; root).
#
#   generator [ebG] g0 ---- gl  gw1 [ebW] esper-xdp  gw ---- s0 [ebS] sink: xdp-bench drop
#   build/bench/xsk_gen        198.51.100.254  192.0.2.1      192.0.2.2
#
# Encrypt rows: the generator sends plaintext IPv4 UDP (flows of tests/bench/bench_pkt.h)
# into gl; esper-xdp encrypts (tunnel 192.0.2.1 -> 192.0.2.2) and sends the ESP by AF_XDP
# out of gw to s0. Decrypt rows: the generator sends ESP made by the project's esp_out
# (SAs with replay:0 on the gateway, since the frames are sent again and again: the crypto
# work is the same); esper-xdp decrypts and writes the inner packets to its host port (TUN),
# and the kernel forwards them out of gw to s0 (route 203.0.113.0/24 via 192.0.2.3, s0's MAC;
# while esper-xdp decrypts, gw1 also owns 192.0.2.2, the tunnel's far end: inbound ESP must
# be addressed to the gateway, docs/security.md); the
# rows of kind "esper-ff" run esper-xdp with --fast-forward: the worker sends the inner
# packets out of gw by AF_XDP itself (docs/live.md). The
# figure is the receive rate of `xdp-bench drop s0` (xdp-tools 1.6.3 from build/sid, made by
# scripts/bench-tools.sh), the median of its per-second lines while the generator runs.
#
# Baselines in the same run, same generator, same frames, same queues and CPUs:
#   direct  xdp-bench drop on gl itself: the generator straight into an XDP drop (the
#           generator's own ceiling on this machine)
#   fwd     build/bench/xsk_fwd gl -> gw: AF_XDP forward without crypto (esper-xdp's xsk.c,
#           same rings and loop as a worker, a 5-instruction redirect-to-XSKMAP program)
#   raw and in-process rates of the crypto: build/bench/bench_esp_mt (also: one SA on two
#           threads, and the replay check of their merged output)
# Generator: xsk_gen --live (BPF_PROG_RUN live frames, ~4 Mpps, one flow) for the one-flow
# rows; its AF_XDP TX mode (~0.5 Mpps, every flow in turn) for 1000 SAs / 100k policies,
# compared with a one-flow row of the same mode. Then the control plane (1M add + 1M spdadd
# from a pipe, until the BPF maps are complete), a make-before-break rekey on two gateways
# under a fixed-rate load (sent == received), and several queues: one SA encrypted by one or
# two workers of one gateway and decrypted by one or two of another, the replay drops and
# the reorder at the receiver (run_queues). BENCHMARKS.md explains the figures.
#
# CPUs (2 vCPUs): with one worker, the generator runs on CPU 0 and the worker (or xsk_fwd)
# on CPU 1. veth runs the receiving side's XDP in the sender's context, so CPU 0 also runs
# the gateway's XDP program and the copy into the UMEM, and CPU 1 also runs the sink's XDP
# drop (and, for decrypt, the kernel's forwarding). With two workers everything runs on both.
#
# Usage: scripts/bench-live.sh [--full] [--quick] [--secs N] [--skip WHAT,...]
#   default  a subset (~27 min; ~17 with --skip spd,tcp): AES-128-GCM at 64/512/1420/IMIX with
#            1 and 2 workers, the other ciphers at 64 and 1420 B, 1000 SAs and 100k policies
#            at 64 B; then the four headline rows again in 3 alternating rounds (targets);
#            TCP through two gateways (tcp)
#   --full   the whole matrix: 2 directions x 4 ciphers x 4 sizes x 1,2 workers x
#            {1, 1000} SAs x {1, 100k} policies (~45 min)
#   --quick  AES-128-GCM 64 and 1420 B, one worker (a smoke run, ~9 min; WORKERS="1 2"
#            in the environment: one and two workers)
#   --scale  AES-128-GCM at 64 B, one worker, and the 1000 SAs / 100k policies rows
#            (~7 min; with --skip targets,mt,cp,rekey,queues,tcp,spd,plots)
#   --tcp    only TCP through two gateways and transport mode (scripts/bench-tcp.sh
#            --transport: iperf3 against kernel forwarding and --host-gso off, ~9 min)
#   --skip   any of: rows,targets,mt,cp,rekey,queues,tcp,spd,plots (scripts/bench.sh,
#            which runs bench_xdp_spd itself, passes --skip spd)
#   queues   ~5 min; QROUNDS=N rounds (1), QRATES="max 100000" (live frames as fast as they
#            go, or AF_XDP TX at that many pps), QWINDOWS="default 1024 65536" (gw2's SA)
#   --report only the plots and the summary, from the CSV files of an earlier run
# Output: build/bench/live.csv, build/bench/live-*.png, a table on stdout, logs in
# build/bench/live/.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
. scripts/bench-tools.sh

ESPER=${ESPER:-build/esper-xdp}
BIN=${BIN:-build/bench}
OUT=${OUT:-build/bench}
LOG=$OUT/live
CSV=$OUT/live.csv
SECS=5
MATRIX=default
SKIP=,

while [ $# -gt 0 ]; do
	case $1 in
	--full) MATRIX=full ;;
	--quick) MATRIX=quick ;;
	--scale) MATRIX=scale ;;
	--secs) SECS=$2; shift ;;
	--skip) SKIP=",$2,"; shift ;;
	--report) SKIP=,rows,targets,mt,spd,cp,rekey,queues,tcp, ;;
	--tcp) SKIP=,rows,targets,mt,spd,cp,rekey,queues,plots, ;;
	*) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
	esac
	shift
done
skip() { case $SKIP in *",$1,"*) return 0 ;; esac; return 1; }

[ "$(id -u)" -eq 0 ] || { echo "bench-live: needs root"; exit 0; }
for b in "$ESPER" "$BIN/xsk_gen" "$BIN/xsk_fwd" "$BIN/bench_esp_mt"; do
	[ -x "$b" ] || { echo "bench-live: $b missing (make bench builds it)"; exit 1; }
done
bt_ensure >/dev/null || { echo "bench-live: SKIP: xdp-tools 1.6.3 tree unavailable"; exit 0; }
mkdir -p "$LOG"

ID=$$
NS_G=ebG$ID NS_W=ebW$ID NS_S=ebS$ID NS_V=ebV$ID NS_B=ebB$ID
ALL_NS="$NS_G $NS_W $NS_S $NS_V $NS_B"

# --- clean-up: every process in our namespaces (all started here), then the namespaces ------

ns_kill() {
	local ns=$1 p
	ip netns list 2>/dev/null | grep -qw "$ns" || return 0
	for p in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$p" 2>/dev/null; done
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		[ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break
		sleep 0.3
	done
	for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
}

topo_down() {
	local ns
	exec 7>&- 8>&- 2>/dev/null
	for ns in $ALL_NS; do ns_kill "$ns"; done
	for ns in $ALL_NS; do ip netns del "$ns" 2>/dev/null; done
	GW_PID= GW2_PID=
	return 0
}
trap 'topo_down; bt_umount_all "$SID"' EXIT
trap 'exit 130' INT TERM

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
mac_of() { in_ns "$1" cat "/sys/class/net/$2/address"; }

veth() {	# veth NS1 IF1 NS2 IF2 [Q1 [Q2]]: two queues each way (so two workers get a queue
	# each) unless Q1 (IF1) and Q2 (IF2, default Q1) say otherwise
	local q1=${5:-2} q2=${6:-${5:-2}}
	ip link add "$2" netns "$1" numtxqueues "$q1" numrxqueues "$q1" type veth peer name "$4" \
		numtxqueues "$q2" numrxqueues "$q2" netns "$3"
	in_ns "$1" ip link set "$2" up
	in_ns "$3" ip link set "$4" up
}

ns_add() {
	scripts/ns-sweep.sh	# what runs killed before their trap left
	ip netns add "$1" || return 1
	in_ns "$1" ip link set lo up
	# No IPv6 chatter (router solicitations, DAD) into the counted links.
	in_ns "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

# The one-gateway topology of the rows.
topo_up() {
	ns_add $NS_G && ns_add $NS_W && ns_add $NS_S || return 1
	veth $NS_G g0 $NS_W gl
	veth $NS_W gw $NS_S s0
	in_ns $NS_W ip addr add 198.51.100.254/24 dev gl
	in_ns $NS_W ip addr add 192.0.2.1/24 dev gw
	in_ns $NS_S ip addr add 192.0.2.2/24 dev s0
	S0_MAC=$(mac_of $NS_S s0)
	GL_MAC=$(mac_of $NS_W gl)
	in_ns $NS_W ip neigh replace 192.0.2.2 lladdr "$S0_MAC" dev gw nud permanent
	in_ns $NS_W ip neigh replace 192.0.2.3 lladdr "$S0_MAC" dev gw nud permanent
	in_ns $NS_W ip route add 203.0.113.0/24 via 192.0.2.3 dev gw
	in_ns $NS_W sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0
}

# dec_addr add|del: the decrypting gateway owns the tunnel's far end 192.0.2.2 (the
# generator's ESP is addressed to it); the encrypting one must not (its ESP goes there).
dec_addr() { in_ns $NS_W ip addr "$1" 192.0.2.2/32 dev gl; }

wait_for() {	# wait_for SECS CMD...
	local t=$(($1 * 10))
	shift
	while [ $t -gt 0 ]; do
		"$@" 2>/dev/null && return 0
		sleep 0.1
		t=$((t - 1))
	done
	return 1
}

# --- configuration (the flows and SAs of tests/bench/bench_pkt.h) ----------------------------

key_of() {	# keying material: byte j = 0x11 + j (SA 0's of tests/bench/bench_pkt.h)
	local n i k=0x
	case $1 in aes128gcm) n=20 ;; aes256gcm|magma) n=36 ;; kuznyechik) n=44 ;; esac
	for ((i = 0; i < n; i++)); do k=$k$(printf '%02x' $((0x11 + i))); done
	echo "$k"
}
alg_of() { case $1 in aes*) echo aes-gcm-16 ;; *) echo gost ;; esac; }
cipher_name() {
	case $1 in aes128gcm) echo AES-128-GCM ;; aes256gcm) echo AES-256-GCM ;;
	kuznyechik) echo Kuznyechik-MGM ;; magma) echo Magma-MGM ;; esac
}

# conf DIR CIPHER NSA NPOL > file: the gateway's commands. Decrypt: SAs with replay:0. SA s's
# key is key_of's with its first 4 bytes 0x11121314 + s (bench_pkt.h: one key per SA).
conf() {
	local dir=$1 c=$2 nsa=$3 npol=$4 replay=
	[ "$dir" = dec ] && replay=" replay:0"
	awk -v nsa="$nsa" -v npol="$npol" -v alg="$(alg_of "$c")" -v key="$(key_of "$c")" \
		-v replay="$replay" -v dir="$([ "$dir" = enc ] && echo out || echo in)" 'BEGIN {
		for (s = 0; s < nsa; s++)
			printf "add 192.0.2.1 192.0.2.2 esp 0x%x -u %d -E %s 0x%08x%s%s ;\n",
				65536 + s, s + 1, alg, 286397204 + s, substr(key, 11), replay
		if (npol == 1) {
			printf "spdadd 198.51.100.0/24 203.0.113.0/24 any -P %s ipsec " \
				"esp/tunnel/192.0.2.1-192.0.2.2/unique:1 ;\n", dir
			exit
		}
		for (i = 0; i < npol; i++)
			printf "spdadd 198.51.100.%d/32 203.0.113.%d/32[%d] udp -P %s ipsec " \
				"esp/tunnel/192.0.2.1-192.0.2.2/unique:%d ;\n",
				1 + i % 250, 1 + int(i / 250) % 250, 10000 + int(i / 62500), dir,
				i % nsa + 1
	}'
}

# --- the gateway ---------------------------------------------------------------------------

# gw_start NS FD IFACES WORKERS CONFFILE LOGNAME [CPU]: esper-xdp with its commands from a
# FIFO held open on fd FD (7 or 8), the configuration applied before it returns. One worker
# runs on CPU (default 1), two on 0 and 1. Extra options in GW_EXTRA (--fast-forward).
gw_start() {
	local ns=$1 fd=$2 ifs=$3 q=$4 conf=$5 name=$6 fifo cpus=${7:-1}
	[ "$q" = 2 ] && cpus=0,1
	fifo=$LOG/$name.fifo.$ID
	rm -f "$fifo" && mkfifo "$fifo"
	# shellcheck disable=SC2086
	ip netns exec "$ns" sh -c 'mount -t bpf bpf /sys/fs/bpf 2>/dev/null; exec "$@"' sh \
		"$ESPER" $ifs -q "$q" --cpus $cpus ${GW_EXTRA:-} <"$fifo" >"$LOG/$name.out" 2>"$LOG/$name.err" &
	eval "exec $fd>\"$fifo\""
	rm -f "$fifo"
	wait_for 20 grep -q "running on" "$LOG/$name.err" || { echo "$name did not start:"; cat "$LOG/$name.err"; return 1; }
	cat "$conf" >&"$fd"
	gw_sync "$fd" "$name" 120
}

# gw_sync FD NAME SECS: stats, and wait for its last line: every command before it applied.
gw_sync() {
	local n
	n=$(grep -c '^crypto backend' "$LOG/$2.out" 2>/dev/null)
	echo "stats ;" >&"$1"
	wait_for "$3" sh -c "[ \$(grep -c '^crypto backend' $LOG/$2.out) -gt $n ]"
}

gw_stop() {	# gw_stop NS FD
	exec 7>&- 2>/dev/null
	[ "$2" = 8 ] && exec 8>&-
	ns_kill "$1"
}

# The last stats lines of a gateway: field FIELD of the last line starting with PREFIX.
gw_field() { grep "^$2" "$LOG/$1.out" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$3=//p"; }

# --- one measurement -------------------------------------------------------------------------

# measure SINK_NS SINK_IF NAME GEN_ARGS...: sink for SECS+3 s, generator for SECS s (from 1.5 s on);
# sets RX (pps at the sink) and OFFERED (the generator's pps).
measure() {
	local sns=$1 sif=$2 name=$3 spid
	shift 3
	bt_bench_drop "$sns" "$sif" $((SECS + 3)) >"$LOG/$name.sink" 2>&1 &
	spid=$!
	sleep 1.5
	in_ns $NS_G "$BIN/xsk_gen" -i g0 -m "$GL_MAC" -d "$SECS" "$@" >"$LOG/$name.gen" 2>&1
	wait $spid
	RX=$(rx_rate "$LOG/$name.sink")
	RX_BEST=$(sed -n 's/^Summary[[:space:]]\+\([0-9,]\+\)[[:space:]]\+rx\/s.*/\1/p' "$LOG/$name.sink" |
		tr -d , | sort -n | tail -n 1)
	OFFERED=$(sed -n 's/.* pps=\([0-9]*\).*/\1/p' "$LOG/$name.gen")
	OFFERED=${OFFERED:-0}
}

# The sink's rate while the generator ran: the per-second lines of at least a tenth of the
# best, the first and last of them (partial seconds) left out, the median of the rest.
rx_rate() {
	sed -n 's/^Summary[[:space:]]\+\([0-9,]\+\)[[:space:]]\+rx\/s.*/\1/p' "$1" | tr -d , |
		awk '{ v[NR] = $1; if ($1 > m) m = $1 } END {
			for (i = 1; i <= NR; i++) if (v[i] >= m / 10) w[++n] = v[i]
			lo = n > 2 ? 2 : 1; hi = n > 2 ? n - 1 : n; k = 0
			for (i = lo; i <= hi; i++) x[++k] = w[i]
			for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++)
				if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t }
			print k ? x[int((k + 1) / 2)] : 0 }'
}

mean_size() { [ "$1" = imix ] && echo 347.67 || echo "$1"; }

# row KIND DIR CIPHER SIZE WORKERS NSA NPOL FLOWS NOTE: one CSV line from RX and OFFERED.
row() {
	local gbps
	gbps=$(awk -v p="$RX" -v s="$(mean_size "$4")" 'BEGIN { printf "%.3f", p * s * 8 / 1e9 }')
	echo "$1,$2,$3,$4,$5,$6,$7,$8,$(gen_mode "$8"),$OFFERED,$RX,$gbps,$9" >>"$CSV"
	printf '%-6s %-3s %-14s %5s %2s %5s %6s %4s %9s %9s %7s  %s\n' "$1" "$2" "$3" "$4" "$5" \
		"$6" "$7" "$(gen_mode "$8")" "$OFFERED" "$RX" "$gbps" "$9"
}

# The generator: BPF_PROG_RUN live frames (--live, ~4.6 Mpps here) for one flow; AF_XDP TX
# (~0.5-0.7 Mpps) where the frames must cycle over many flows (a live-frames call costs
# ~25 ms here, so it repeats one frame a million times), or when GENMODE=xsk.
gen_mode() { [ "$1" = 1 ] && [ "${GENMODE:-}" != xsk ] && echo live || echo xsk; }

gen_args() {	# gen_args DIR CIPHER SIZE WORKERS NSA FLOWS
	local a="-q $4 --cpus $([ "$4" = 2 ] && echo 0,1 || echo 0) -s $3 -f $6"
	[ "$1" = dec ] && a="$a --esp $2 --sas $5"
	[ "$(gen_mode "$6")" = live ] && a="$a --live"
	echo "$a"
}

# Baselines for (DIR, SIZE, WORKERS): the generator into a drop on gl, and xsk_fwd.
baselines() {
	local dir=$1 size=$2 q=$3 c=aes128gcm cpus=1 fpid
	# shellcheck disable=SC2046
	measure $NS_W gl "direct-$dir-$size-$q" $(gen_args "$dir" $c "$size" "$q" 1 1)
	row direct "$dir" - "$size" "$q" - - 1 "generator -> XDP drop on gl"
	[ "$q" = 2 ] && cpus=0,1
	ip netns exec $NS_W "$BIN/xsk_fwd" -i gl -o gw -m "$S0_MAC" -q "$q" --cpus $cpus \
		-d $((SECS + 8)) >"$LOG/fwd-$dir-$size-$q.out" 2>&1 &
	fpid=$!
	sleep 0.5
	# shellcheck disable=SC2046
	measure $NS_S s0 "fwd-$dir-$size-$q" $(gen_args "$dir" $c "$size" "$q" 1 1)
	kill -INT $fpid 2>/dev/null
	wait $fpid
	row fwd "$dir" - "$size" "$q" - - 1 "AF_XDP forward, no crypto"
}

# esper rows for one gateway configuration, every size in SIZES (KIND=esper-ff with
# GW_EXTRA=--fast-forward for the fast-forward decrypt rows).
esper_rows() {
	local dir=$1 c=$2 q=$3 nsa=$4 npol=$5 flows size note
	flows=$npol
	[ "$nsa" -gt "$flows" ] && flows=$nsa
	conf "$dir" "$c" "$nsa" "$npol" >"$LOG/conf"
	[ "$dir" = dec ] && dec_addr add
	gw_start $NS_W 7 "-i gl -i gw" "$q" "$LOG/conf" gw || { gw_stop $NS_W 7; [ "$dir" = dec ] && dec_addr del; return 1; }
	for size in $SIZES; do
		# GOST: the in-process reference on the worker's CPU, right before the live figure
		# (the load of this machine changes from minute to minute).
		case $c in kuznyechik|magma)
			[ "$q" = 1 ] && [ "$nsa$npol" = 11 ] &&
				"$BIN/bench_esp_mt" -c "$c" -s "$size" -t 1 --one --csv --cpus 1,0 2>/dev/null |
				tail -n 1 | awk -F, -v d="$dir" '{ print $1 "," $2 "," d "," (d == "enc" ? $4 : $5) }' \
				>>"$OUT/live-gost-ref.csv" ;;
		esac
		# shellcheck disable=SC2046
		measure $NS_S s0 "esper-$dir-$c-$size-$q-$nsa-$npol-$(gen_mode "$flows")" \
			$(gen_args "$dir" "$c" "$size" "$q" "$nsa" "$flows")
		gw_sync 7 gw 10
		note="worker: rx=$(gw_field gw worker rx) xsk_tx=$(gw_field gw worker xsk_tx) forwarded=$(gw_field gw worker forwarded) host_tx=$(gw_field gw worker host_tx) drops: esp=$(gw_field gw worker esp_drop) no_frame=$(gw_field gw worker no_frame) gl_rx_ring_full=$(gw_field gw worker gl_rx_ring_full)"
		row "${KIND:-esper}" "$dir" "$(cipher_name "$c")" "$size" "$q" "$nsa" "$npol" "$flows" "$note"
	done
	gw_stop $NS_W 7
	[ "$dir" = dec ] && dec_addr del
}

# --- the rows ------------------------------------------------------------------------------

run_rows() {
	local dir q c nsa npol
	echo "kind,dir,cipher,size,workers,sas,policies,flows,gen,offered_pps,rx_pps,rx_gbps,note" >"$CSV"
	echo "cipher,size,dir,inprocess_pps" >"$OUT/live-gost-ref.csv"
	printf '%-6s %-3s %-14s %5s %2s %5s %6s %4s %9s %9s %7s  %s\n' kind dir cipher size w sas \
		pols gen offered rx_pps Gbit/s note
	topo_up || { echo "bench-live: topology failed"; return 1; }
	case $MATRIX in
	quick) SIZES="64 1420" WORKERS=${WORKERS:-1} CIPHERS=aes128gcm SCALE=0 ;;
	scale) SIZES=64 WORKERS=1 CIPHERS= SCALE=1 ;;
	default) SIZES="64 512 1420 imix" WORKERS="1 2" CIPHERS="aes256gcm kuznyechik magma" SCALE=1 ;;
	full) SIZES="64 512 1420 imix" WORKERS="1 2" CIPHERS="aes256gcm kuznyechik magma" SCALE=2 ;;
	esac
	for dir in enc dec; do
		for q in $WORKERS; do
			for size in $SIZES; do baselines "$dir" "$size" "$q"; done
			esper_rows "$dir" aes128gcm "$q" 1 1
			[ "$dir" = dec ] && GW_EXTRA=--fast-forward KIND=esper-ff esper_rows dec aes128gcm "$q" 1 1
		done
	done
	# Other ciphers: one worker (default: 64 and 1420 B only).
	[ "$MATRIX" = default ] && SIZES="64 1420"
	[ "$MATRIX" = quick ] || for dir in enc dec; do
		for c in $CIPHERS; do
			for q in $WORKERS; do
				[ "$MATRIX" = default ] && [ "$q" = 2 ] && continue
				esper_rows "$dir" "$c" "$q" 1 1
				[ "$dir" = dec ] && GW_EXTRA=--fast-forward KIND=esper-ff esper_rows dec "$c" "$q" 1 1
			done
		done
	done
	# Many SAs and policies (default: AES-128-GCM, 64 B, one worker).
	# The many-flow rows use the AF_XDP generator: their reference (1 SA, 1 policy) too.
	if [ "$SCALE" = 1 ]; then
		SIZES=64
		GENMODE=xsk esper_rows enc aes128gcm 1 1 1
		GENMODE=xsk esper_rows dec aes128gcm 1 1 1
		esper_rows enc aes128gcm 1 1000 1000
		esper_rows enc aes128gcm 1 1 100000
		esper_rows enc aes128gcm 1 1000 100000
		esper_rows dec aes128gcm 1 1000 1
		GW_EXTRA=--fast-forward KIND=esper-ff esper_rows dec aes128gcm 1 1000 1
	elif [ "$SCALE" = 2 ]; then
		for dir in enc dec; do
			for c in aes128gcm $CIPHERS; do
				for q in $WORKERS; do
					GENMODE=xsk esper_rows "$dir" "$c" "$q" 1 1
					esper_rows "$dir" "$c" "$q" 1000 1000
					esper_rows "$dir" "$c" "$q" 1 100000
					esper_rows "$dir" "$c" "$q" 1000 100000
				done
			done
		done
	fi
	topo_down
}

# --- the headline ratios: esper-xdp and the forward baseline in alternating rounds ---------
#
# This machine is shared and its load changes within seconds (the per-second lines of one
# row can vary 2x), so the four target rows (AES-128-GCM, 64 and 1420 B, one worker, both
# directions; decrypt through the host port and with --fast-forward, "dec-ff") are measured
# ROUNDS times, the forwarder and esper-xdp one after the other in each round; the ratio
# reported is the median of the per-round ratios. TARGET_DIRS, TARGET_SIZES and
# DEC_VARIANTS (default "dec dec-ff"; also dec-off, dec-ff-off: --host-gso off) narrow or
# widen them.

# The options of a decrypt variant of the rounds: dec (defaults), dec-ff (--fast-forward),
# and with -off the host port without its GSO packets (--host-gso off).
variant_opts() {
	case $1 in
	dec-ff) echo --fast-forward ;;
	dec-off) echo --host-gso off ;;
	dec-ff-off) echo --fast-forward --host-gso off ;;
	esac
}

run_targets() {
	local dir size r e f fb pid
	: >"$OUT/live-targets.csv"
	echo "dir,size,round,fwd_pps,esper_pps,ratio,fwd_best,esper_best" >"$OUT/live-targets.csv"
	topo_up || return 1
	for dir in ${TARGET_DIRS:-enc dec}; do
		conf "$dir" aes128gcm 1 1 >"$LOG/conf-t"
		for size in ${TARGET_SIZES:-64 1420}; do
			for r in $(seq 1 "${ROUNDS:-3}"); do
				ip netns exec $NS_W "$BIN/xsk_fwd" -i gl -o gw -m "$S0_MAC" -q 1 --cpus 1 \
					-d $((SECS + 8)) >"$LOG/t-fwd.out" 2>&1 &
				pid=$!
				sleep 0.5
				# shellcheck disable=SC2046
				measure $NS_S s0 "t-fwd-$dir-$size-$r" $(gen_args "$dir" aes128gcm "$size" 1 1 1)
				f=$RX fb=$RX_BEST
				kill -INT $pid 2>/dev/null
				wait $pid
				[ "$dir" = dec ] && dec_addr add
				for v in $([ "$dir" = dec ] && echo "${DEC_VARIANTS:-dec dec-ff}" || echo "$dir"); do
					GW_EXTRA=$(variant_opts "$v") \
						gw_start $NS_W 7 "-i gl -i gw" 1 "$LOG/conf-t" gw || { gw_stop $NS_W 7; continue; }
					# shellcheck disable=SC2046
					measure $NS_S s0 "t-esper-$v-$size-$r" $(gen_args "$dir" aes128gcm "$size" 1 1 1)
					gw_stop $NS_W 7
					echo "$v,$size,$r,$f,$RX,$(ratio "$RX" "$f"),$fb,$RX_BEST" >>"$OUT/live-targets.csv"
					printf '%-6s %5s round %s: forward %8s pps, esper %8s pps, ratio %s\n' \
						"$v" "$size" "$r" "$f" "$RX" "$(ratio "$RX" "$f")"
				done
				[ "$dir" = dec ] && dec_addr del
			done
		done
	done
	topo_down
}

# --- in process: raw cipher, ESP rates, one SA on two threads, replay ------------------------

run_mt() {
	local c sizes first=1
	: >"$OUT/live-mt.csv"
	for c in aes128gcm aes256gcm kuznyechik magma; do
		sizes=64,1420
		[ "$c" = aes128gcm ] && sizes=64,512,1420,imix
		[ "$MATRIX" = full ] && sizes=64,512,1420,imix
		[ "$MATRIX" = quick ] && [ "$c" != aes128gcm ] && continue
		"$BIN/bench_esp_mt" -c "$c" -s "$sizes" -t 0.5 --csv >"$LOG/mt-$c.csv" 2>"$LOG/mt-$c.err" ||
			{ echo "bench_esp_mt -c $c: failed: $(tail -n 1 "$LOG/mt-$c.err")"; continue; }
		if [ $first = 1 ]; then cat "$LOG/mt-$c.csv"; else tail -n +2 "$LOG/mt-$c.csv"; fi >>"$OUT/live-mt.csv"
		first=0
	done
	awk -F, 'NR == 1 { next } { printf "%-14s %5s raw %6.2f enc %6.2f dec %6.2f Mpps | one SA, 2 threads: per packet x%.2f, burst x%.2f; two SAs (control) x%.2f | replay drops %s of %s, window needed %s\n",
		$1, $2, $3 / 1e6, $4 / 1e6, $5 / 1e6, $8, $12, $16, $13, $14, $15 }' "$OUT/live-mt.csv"
}

# --- control plane: 1M add + 1M spdadd from a pipe ------------------------------------------
#
# scripts/bench-cp.sh: the load into a live esper-xdp (BPF maps included) against its
# baselines (cat, parse, apply without XDP) from the same stream, memory per SA+SP, and the
# first packet of lazily keyed SAs. CP_N sets the number of SAs (default 1,000,000).

run_cp() {
	OUT=$OUT scripts/bench-cp.sh -n "${CP_N:-1000000}" | tee "$LOG/cp.txt"
	grep "^control plane" "$LOG/cp.txt" >"$OUT/live-cp.txt"
}

# --- rekey under load: two gateways, make-before-break -------------------------------------
#
#   gen [ebG] g0 -- gl gw1 [ebW] gw ---- vw gw2 [ebV] vl -- s0 [ebS] sink
#                198.51.100.254   192.0.2.1  192.0.2.2  192.0.2.129   192.0.2.130
# gw1 encrypts 198.51.100.0/24 -> 203.0.113.0/24 for gw2, which decrypts and forwards to the
# sink (route 203.0.113.0/24 via 192.0.2.130). A known count at a fixed rate goes through while
# both gateways switch from SPI 0x20001 to 0x20002: gw2 adds the new SA first, then gw1 adds it
# and replaces its policy (atomic), and only then both delete the old one. CPUs: gw1's worker
# on 1, gw2's on 0 with the (rate-limited, mostly sleeping) generator.

# chain_addrs: the addresses, static neighbours, routes and sysctls of the chain generator
# (g0) - gl gw1 gw - vw gw2 vl - (s0) sink that run_rekey and run_queues build; sets GL_MAC.
chain_addrs() {
	in_ns $NS_W ip addr add 198.51.100.254/24 dev gl
	in_ns $NS_W ip addr add 192.0.2.1/25 dev gw
	in_ns $NS_V ip addr add 192.0.2.2/25 dev vw
	in_ns $NS_V ip addr add 192.0.2.129/25 dev vl
	in_ns $NS_S ip addr add 192.0.2.130/25 dev s0
	GL_MAC=$(mac_of $NS_W gl)
	in_ns $NS_W ip neigh replace 192.0.2.2 lladdr "$(mac_of $NS_V vw)" dev gw nud permanent
	in_ns $NS_V ip neigh replace 192.0.2.130 lladdr "$(mac_of $NS_S s0)" dev vl nud permanent
	in_ns $NS_V ip route add 203.0.113.0/24 via 192.0.2.130 dev vl
	for ns in $NS_W $NS_V; do
		in_ns $ns sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
			net.ipv4.conf.default.rp_filter=0
	done
}

run_rekey() {
	local n=${REKEY_N:-300000} rate=${REKEY_RATE:-20000} key k2 spid got sent secs what
	what="through a make-before-break rekey (0x20001 -> 0x20002) on both gateways"
	[ -n "${REKEY_NONE:-}" ] && what="control run, no rekey"
	key=$(key_of aes128gcm)
	k2=0x$(printf '%02x' $(seq 101 120) | tr -d '\n')
	secs=$((n / rate + 12))
	ns_add $NS_G && ns_add $NS_W && ns_add $NS_V && ns_add $NS_S || return 1
	veth $NS_G g0 $NS_W gl
	veth $NS_W gw $NS_V vw
	veth $NS_V vl $NS_S s0
	chain_addrs
	{
		echo "add 192.0.2.1 192.0.2.2 esp 0x20001 -u 1 -E aes-gcm-16 $key ;"
		echo "spdadd 198.51.100.0/24 203.0.113.0/24 any -P out ipsec esp/tunnel/192.0.2.1-192.0.2.2/unique:1 ;"
	} >"$LOG/rk1.conf"
	echo "add 192.0.2.1 192.0.2.2 esp 0x20001 -u 1 -E aes-gcm-16 $key ;" >"$LOG/rk2.conf"
	gw_start $NS_W 7 "-i gl -i gw" 1 "$LOG/rk1.conf" rk1 || return 1
	gw_start $NS_V 8 "-i vw -i vl" 1 "$LOG/rk2.conf" rk2 0 || return 1
	bt_bench_drop $NS_S s0 "$secs" >"$LOG/rekey.sink" 2>&1 &
	spid=$!
	sleep 1.5
	in_ns $NS_G "$BIN/xsk_gen" -i g0 -m "$GL_MAC" -q 1 --cpus 0 -s 512 -n "$n" -r "$rate" \
		-d $((n / rate + 5)) >"$LOG/rekey.gen" 2>&1 &
	sleep $((n / rate / 3))
	# Make before break: the receiver first, then the sender's new SA and policy.
	if [ -z "${REKEY_NONE:-}" ]; then
		echo "add 192.0.2.1 192.0.2.2 esp 0x20002 -u 2 -E aes-gcm-16 $k2 ;" >&8
		gw_sync 8 rk2 10
		echo "add 192.0.2.1 192.0.2.2 esp 0x20002 -u 2 -E aes-gcm-16 $k2 ;" >&7
		echo "spdadd 198.51.100.0/24 203.0.113.0/24 any -P out ipsec esp/tunnel/192.0.2.1-192.0.2.2/unique:2 ;" >&7
	fi
	gw_sync 7 rk1 10
	sleep 1
	gw_sync 8 rk2 10
	RK_OLD_IN=$(gw_field rk2 "sa spi=0x00020001" in_packets)
	if [ -z "${REKEY_NONE:-}" ]; then
		echo "delete 192.0.2.1 192.0.2.2 esp 0x20001 ;" >&7
		echo "delete 192.0.2.1 192.0.2.2 esp 0x20001 ;" >&8
	fi
	wait_for $((n / rate + 10)) sh -c "grep -q pps= $LOG/rekey.gen"
	sleep 2
	gw_sync 7 rk1 10
	gw_sync 8 rk2 10
	kill -INT $(ip netns pids $NS_S) 2>/dev/null
	wait $spid
	sent=$(sed -n 's/.*completed=\([0-9]*\).*/\1/p' "$LOG/rekey.gen")
	got=$(sed -n 's/.*Packets received[^0-9]*\([0-9,]*\).*/\1/p' "$LOG/rekey.sink" | tr -d , | tail -n 1)
	local verdict=missed detail=
	[ "${sent:-0}" -gt 0 ] && [ "${sent:-0}" = "${got:-}" ] && verdict=met
	[ -z "${REKEY_NONE:-}" ] && detail="; gw1 encrypted $(gw_field rk1 "sa spi=0x00020002" out_packets) with the new SA, gw2 decrypted $RK_OLD_IN with the old and $(gw_field rk2 "sa spi=0x00020002" in_packets) with the new, replay drops $(gw_field rk2 "sa spi=0x00020002" replay)"
	echo "rekey under load: $n packets of 512 B at $rate pps, $what: sent ${sent:-?}," \
		"received at the sink ${got:-?}, lost $(( ${sent:-0} - ${got:-0} ))$detail;" \
		"gw2 XDP redirected $(gw_field rk2 xdp REDIRECT_ESP_IN), its worker received" \
		"$(gw_field rk2 worker rx) (a difference would be its AF_XDP RX ring overflowing);" \
		"target 0 lost: $verdict" | tee -a "$OUT/live-rekey.txt"
	topo_down
}

# --- several queues: one SA encrypted by two workers, decrypted with the default window ----
#
#   gen [ebG] g0 -- gl gw1 [ebW] gw -- w1 br0 [ebB] w2 -- vw gw2 [ebV] vl -- s0 [ebS] sink
#                198.51.100.254   192.0.2.1                 192.0.2.2  192.0.2.129  192.0.2.130
# One SA, one policy. The generator sends from Q1 threads, one per CPU, so the plaintext
# arrives on Q1 queues of gl (veth: the queue numbered like the sending CPU) and gw1's Q1
# workers all encrypt for the one SA. The wire is a bridge (what a switch does: FIFO, no
# reordering of its own); gw2 decrypts with Q2 workers (--fast-forward, so that the host
# port is not the bottleneck) and the SA's window at its default or WINDOW. The bridge picks
# w2's transmit queue (so gw2's receive queue) itself: by flow hash on a NIC one SA's ESP
# would arrive on one queue; here the queue the frame came in on is kept, so with Q2=2 both
# of gw2's workers update the one window. gw2's stats give the replay drops and reorder_max
# (the largest distance below the window's top of an accepted packet: window needed - 1).
# CSV: build/bench/live-queues.csv.

# queues_topo Q1 Q2: the namespaces and links (gl and gw with Q1 queues, vw with Q2).
queues_topo() {
	local q1=$1 q2=$2 ns
	ns_add $NS_G && ns_add $NS_W && ns_add $NS_B && ns_add $NS_V && ns_add $NS_S || return 1
	veth $NS_G g0 $NS_W gl "$q1"
	veth $NS_W gw $NS_B w1 "$q1"
	veth $NS_B w2 $NS_V vw "$q2"
	veth $NS_V vl $NS_S s0 "$q2"
	in_ns $NS_B ip link add br0 type bridge
	in_ns $NS_B ip link set w1 master br0
	in_ns $NS_B ip link set w2 master br0
	in_ns $NS_B ip link set br0 up
	chain_addrs
	in_ns $NS_W ip route add 203.0.113.0/24 via 192.0.2.2 dev gw
}

# workers_field NAME FIELD: FIELD of every worker line of gateway NAME's last stats, joined
# by "/" (worker 0 first).
workers_field() {
	awk '/^worker / { if (!w) n = 0; w = 1
			for (i = 1; i <= NF; i++) if (index($i, f "=") == 1) v[n++] = substr($i, length(f) + 2)
			next }
		{ w = 0 }
		END { for (i = 0; i < n; i++) printf "%s%s", (i ? "/" : ""), v[i]; print "" }' \
		f="$2" "$LOG/$1.out"
}

# queues_one Q1 Q2 WINDOW RATE ROUND: one measurement; a line of live-queues.csv.
queues_one() {
	local q1=$1 q2=$2 win=$3 rate=$4 r=$5 key spid gen replay= name gcpus=0
	key=$(key_of aes128gcm)
	[ "$win" = default ] || replay=" replay:$win"
	[ "$q1" = 2 ] && gcpus=0,1
	name=q-$q1-$q2-$win-$rate-$r
	queues_topo "$q1" "$q2" || { topo_down; return 1; }
	{
		echo "add 192.0.2.1 192.0.2.2 esp 0x30001 -u 1 -E aes-gcm-16 $key ;"
		echo "spdadd 198.51.100.0/24 203.0.113.0/24 any -P out ipsec esp/tunnel/192.0.2.1-192.0.2.2/unique:1 ;"
	} >"$LOG/q1.conf"
	{
		echo "add 192.0.2.1 192.0.2.2 esp 0x30001 -u 1 -E aes-gcm-16 $key$replay ;"
		echo "spdadd 198.51.100.0/24 203.0.113.0/24 any -P in ipsec esp/tunnel/192.0.2.1-192.0.2.2/unique:1 ;"
	} >"$LOG/q2.conf"
	gw_start $NS_W 7 "-i gl -i gw" "$q1" "$LOG/q1.conf" qgw1 1 || { topo_down; return 1; }
	GW_EXTRA=--fast-forward gw_start $NS_V 8 "-i vw -i vl" "$q2" "$LOG/q2.conf" qgw2 0 ||
		{ topo_down; return 1; }
	# "max": live frames, as fast as they go; a rate: AF_XDP TX, paced (live frames come
	# in calls of ~25 ms, bursts that would overrun gw1's rings at any rate)
	gen="-q $q1 --cpus $gcpus -s ${QSIZE:-64} -f 12"
	if [ "$rate" = max ]; then gen="$gen --live"; else gen="$gen -r $rate"; fi
	bt_bench_drop $NS_S s0 $((SECS + 3)) >"$LOG/$name.sink" 2>&1 &
	spid=$!
	sleep 1.5
	# shellcheck disable=SC2086
	in_ns $NS_G "$BIN/xsk_gen" -i g0 -m "$GL_MAC" -d "$SECS" $gen >"$LOG/$name.gen" 2>&1
	wait $spid
	gw_sync 7 qgw1 10
	gw_sync 8 qgw2 10
	echo "$q1,$q2,$win,$rate,$r,$(sed -n 's/.* pps=\([0-9]*\).*/\1/p' "$LOG/$name.gen"),$(rx_rate "$LOG/$name.sink"),$(gw_field qgw1 "sa spi=0x00030001" out_packets),$(gw_field qgw2 "sa spi=0x00030001" in_packets),$(gw_field qgw2 "sa spi=0x00030001" replay),$(gw_field qgw2 "sa spi=0x00030001" reorder_max),$(workers_field qgw1 rx),$(workers_field qgw2 rx),$(gw_field qgw2 xdp DROP_NO_XSK)" |
		tee -a "$OUT/live-queues.csv"
	topo_down
}

# Rates: "max" (live frames as fast as they go: every CPU busy, gw1 overrun) and a fixed
# rate (AF_XDP TX, paced). Windows of gw2's SA: "default" (none given: the default for gw2's
# number of workers), 1024 (the default of one worker) and 65536 (large enough to see the
# reorder the traffic needed: reorder_max). One sending worker reorders nothing: only the
# default window then, for the rate.
run_queues() {
	local r q1 q2 win rate
	echo "tx_workers,rx_workers,window,rate,round,offered_pps,sink_pps,gw1_out,gw2_in,replay_drops,reorder_max,gw1_rx_per_worker,gw2_rx_per_worker,gw2_drop_no_xsk" \
		>"$OUT/live-queues.csv"
	cat "$OUT/live-queues.csv"
	for r in $(seq 1 "${QROUNDS:-1}"); do
		for rate in ${QRATES:-max 100000}; do
			for q1 in 1 2; do
				for q2 in 1 2; do
					for win in ${QWINDOWS:-default 1024 65536}; do
						[ "$q1" = 1 ] && [ "$win" != default ] && continue
						queues_one "$q1" "$q2" "$win" "$rate" "$r"
					done
				done
			done
		done
	done
}

# The summary of live-queues.csv: per configuration the sink's rate (median of the rounds)
# and, over all rounds, the replay drops and the largest reorder.
queues_summary() {
	[ -s "$OUT/live-queues.csv" ] || return 0
	awk -F, 'NR > 1 { k = $4 " " $1 " " $2 " " $3; if (!(k in n)) o[++m] = k
		n[k]++; pps[k] = pps[k] " " $7; d[k] += $10; in_[k] += $9; if ($11 > x[k]) x[k] = $11 }
		END { for (i = 1; i <= m; i++) { k = o[i]; c = split(pps[k], v, " ")
			for (a = 1; a <= c; a++) for (b = a + 1; b <= c; b++) if (v[b] < v[a]) { t = v[a]; v[a] = v[b]; v[b] = t }
			split(k, f, " ")
			printf "several queues, rate %s: gw1 -q %s, gw2 -q %s, window %s: sink %s pps (median of %d), replay drops %d of %d, reorder_max %d\n",
				f[1], f[2], f[3], f[4], v[int((c + 1) / 2)], c, d[k], in_[k], x[k] } }' \
		"$OUT/live-queues.csv"
}

# --- SPD lookup in XDP (BPF_PROG_TEST_RUN; scripts/bench.sh runs it too) --------------------

run_spd() {
	[ -x "$BIN/bench_xdp_spd" ] || { echo "SKIP: $BIN/bench_xdp_spd not built"; return; }
	"$BIN/bench_xdp_spd" 2>&1 | tee "$OUT/live-spd.txt"
}

# --- plots and the summary ----------------------------------------------------------------

# rate KIND DIR CIPHER SIZE WORKERS [SAS POLS GEN]: rx_pps of that row of live.csv (last one).
rate() {
	awk -F, -v k="$1" -v d="$2" -v c="$3" -v s="$4" -v w="$5" -v sa="${6:-}" -v po="${7:-}" \
		-v g="${8:-}" '$1 == k && $2 == d && $3 == c && $4 == s && $5 == w &&
		(sa == "" || $6 == sa) && (po == "" || $7 == po) && (g == "" || $9 == g) { r = $11 }
		END { print r + 0 }' "$CSV"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r != "-" && r + 0 >= t) ? "met" : "MISSED" }'; }

plots() {
	local dir w s what col f c sp ff
	command -v gnuplot >/dev/null || { echo "plots: gnuplot missing"; return; }
	[ -s "$CSV" ] || return
	# Data files: one line per size (pps by size) and per worker count.
	for dir in enc dec; do
		for w in 1 2; do
			f=$LOG/plot-$dir-$w.dat
			echo "# size direct fwd esper direct_gbps fwd_gbps esper_gbps esper_ff esper_ff_gbps" >"$f"
			for s in 64 512 1420 imix; do
				printf '%s' "$s" >>"$f"
				for what in direct fwd esper; do
					c=- sp=
					[ $what = esper ] && c=AES-128-GCM sp=1
					printf ' %s' "$(rate $what $dir $c $s $w "$sp" "$sp" live)" >>"$f"
				done
				for what in direct fwd esper; do
					c=- sp=
					[ $what = esper ] && c=AES-128-GCM sp=1
					printf ' %s' "$(awk -v p="$(rate $what $dir $c $s $w "$sp" "$sp" live)" \
						-v m="$(mean_size $s)" 'BEGIN { printf "%.3f", p * m * 8 / 1e9 }')" >>"$f"
				done
				ff=$(rate esper-ff $dir AES-128-GCM $s $w 1 1 live)
				printf ' %s %s\n' "$ff" "$(awk -v p="$ff" -v m="$(mean_size $s)" \
					'BEGIN { printf "%.3f", p * m * 8 / 1e9 }')" >>"$f"
			done
		done
	done
	for col in pps gbps; do
		gnuplot <<-EOF 2>"$LOG/gnuplot.err"
		set terminal pngcairo size 1100,800 font ",10" noenhanced
		set output "$OUT/live-$col-size.png"
		set multiplot layout 2,2 title "esper-xdp live (veth, copy-mode AF_XDP, 2 vCPUs): $([ $col = pps ] && echo "packets/s at the sink" || echo "Gbit/s of inner IP packets at the sink") by packet size"
		set style data histograms
		set style histogram clustered gap 1
		set style fill solid 0.8 border -1
		set key top right
		set grid ytics
		set logscale y
		$([ $col = pps ] && echo 'set ylabel "pps (log)"' || echo 'set ylabel "Gbit/s (log)"')
		set xlabel "IP packet size (bytes)"
		$(for dir in enc dec; do for w in 1 2; do
			off=0; [ $col = gbps ] && off=3
			echo "set title \"$([ $dir = enc ] && echo encrypt || echo decrypt), AES-128-GCM, $w worker(s)\""
			echo "plot '$LOG/plot-$dir-$w.dat' using $((2 + off)):xtic(1) title 'generator -> XDP drop', '' using $((3 + off)) title 'AF_XDP forward (no crypto)', '' using $((4 + off)) title 'esper-xdp'$([ $dir = dec ] && echo ", '' using $((8 + off / 3)) title 'esper-xdp --fast-forward'")"
		done; done)
		unset multiplot
		EOF
	done
	# Worker count: esper and forward at 64 and 1420 B.
	f=$LOG/plot-workers.dat
	echo "# case fwd1 esper1 fwd2 esper2" >"$f"
	for dir in enc dec; do
		for s in 64 1420; do
			echo "$dir-$s $(rate fwd $dir - $s 1) $(rate esper $dir AES-128-GCM $s 1 1 1 live) $(rate fwd $dir - $s 2) $(rate esper $dir AES-128-GCM $s 2 1 1 live)" >>"$f"
		done
	done
	gnuplot <<-EOF 2>>"$LOG/gnuplot.err"
	set terminal pngcairo size 900,500 font ",10" noenhanced
	set output "$OUT/live-workers.png"
	set title "esper-xdp live, AES-128-GCM: packets/s by worker count (2 vCPUs shared with generator and sink)"
	set style data histograms
	set style histogram clustered gap 1
	set style fill solid 0.8 border -1
	set grid ytics
	set ylabel "pps at the sink"
	set yrange [0:*]
	set key top right
	plot '$f' using 2:xtic(1) title 'forward, 1 worker', '' using 3 title 'esper, 1 worker', '' using 4 title 'forward, 2 workers', '' using 5 title 'esper, 2 workers'
	EOF
	ls "$OUT"/live-*.png 2>/dev/null | sed 's/^/plot: /'
}

summary() {
	local dir s e f r c x mt k kd
	echo "--- targets (ratios from this run)"
	if [ -s "$OUT/live-targets.csv" ]; then
		awk -F, 'NR > 1 { k = $1 " " $2; r[k] = r[k] " " $6; n[k]++ }
		END { for (k in r) {
			m = split(r[k], v, " "); for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++)
				if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
			med = v[int((m + 1) / 2)]
			split(k, kk, " ")
			printf "live %s AES-128-GCM %s B, 1 worker: esper / AF_XDP forward, median of %d alternating rounds %.2f (rounds: %s) (target >= 0.80: %s)\n",
				kk[1], kk[2], m, med, r[k], (med >= 0.8 ? "met" : "MISSED") } }' "$OUT/live-targets.csv" | sort
	fi
	for dir in enc dec; do
		for s in 64 1420; do
			e=$(rate esper $dir AES-128-GCM $s 1 1 1 live)
			f=$(rate fwd $dir - $s 1)
			r=$(ratio "$e" "$f")
			echo "live $dir AES-128-GCM $s B, 1 worker, matrix row (one measurement each): esper $e pps / AF_XDP forward $f pps = $r"
			[ $dir = dec ] || continue
			e=$(rate esper-ff $dir AES-128-GCM $s 1 1 1 live)
			echo "live dec --fast-forward AES-128-GCM $s B, 1 worker, matrix row: esper $e pps / AF_XDP forward $f pps = $(ratio "$e" "$f")"
		done
	done
	mt=$OUT/live-mt.csv
	if [ -s "$mt" ]; then
		awk -F, '$1 == "AES-128-GCM" { printf "in process, AES-128-GCM %s B, one SA on 2 threads: x%.2f per packet (esp_out), x%.2f per burst (esp_out_burst, what workers call) (target >= 1.8: %s); control, two threads on two SAs: x%.2f; replay drops %s of %s merged packets, window needed %s (target 0 drops: %s)\n",
			$2, $8, $12, ($12 >= 1.8 ? "met" : "MISSED"), $16, $13, $14, $15, ($13 == 0 ? "met" : "MISSED") }' "$mt"
		for c in Kuznyechik-MGM Magma-MGM; do
			for kd in esper:enc esper:dec esper-ff:dec; do
				k=${kd%:*} dir=${kd#*:}
				for s in 64 1420; do
					e=$(rate $k $dir $c $s 1 1 1 live)
					x=$(awk -F, -v c="$c" -v s="$s" -v d="$dir" '$1 == c && $2 == s && $3 == d { print $4 }' "$OUT/live-gost-ref.csv" 2>/dev/null)
					[ -n "$x" ] || x=$(awk -F, -v c="$c" -v s="$s" -v d="$dir" '$1 == c && $2 == s { print (d == "enc" ? $4 : $5) }' "$mt")
					[ -n "$x" ] || continue
					r=$(ratio "$e" "$x")
					echo "live $dir$([ $k = esper-ff ] && echo " --fast-forward") $c $s B, 1 worker: $e pps / in-process $(printf '%.0f' "$x") pps = $r (target >= 0.80: $(verdict "$r" 0.8))"
				done
			done
		done
	fi
	[ -s "$OUT/live-spd.txt" ] && grep '^ratio' "$OUT/live-spd.txt" | sed 's/^/SPD in XDP: /'
	[ -s "$OUT/live-cp.txt" ] && cat "$OUT/live-cp.txt"
	[ -s "$OUT/live-rekey.txt" ] && cat "$OUT/live-rekey.txt"
	queues_summary
	return 0
}

# --- main ----------------------------------------------------------------------------------
[ -n "${BENCH_LIVE_LIB:-}" ] && return 0	# sourced for its functions (debugging)
echo "=== live datapath (xdp-bench): $MATRIX matrix, $SECS s per figure"
echo "machine: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) vCPUs;" \
	"$(uname -sr); $(date -u '+%Y-%m-%d %H:%M UTC'); load $(cut -d' ' -f1-3 /proc/loadavg);" \
	"xdp-tools $(chroot "$SID" dpkg-query -W -f '${Version}' xdp-tools 2>/dev/null) from $SID"
skip rows || run_rows
echo
echo "=== headline ratios: AF_XDP forward and esper-xdp in alternating rounds"
skip targets || run_targets
echo
echo "=== in process: raw cipher, ESP on one thread, one SA on two threads (build/bench/bench_esp_mt)"
skip mt || run_mt
echo
echo "=== control plane"
skip cp || run_cp
echo
echo "=== rekey under load"
if ! skip rekey; then
	: >"$OUT/live-rekey.txt"
	REKEY_NONE=1 run_rekey
	run_rekey
fi
echo
echo "=== several queues: one SA over two workers, replay at the receiver"
skip queues || run_queues
echo
echo "=== TCP through two gateways (scripts/bench-tcp.sh --transport)"
skip tcp || OUT=$OUT scripts/bench-tcp.sh --transport --secs "$SECS"
echo
echo "=== SPD lookup in XDP (build/bench/bench_xdp_spd)"
skip spd || run_spd
echo
echo "=== plots"
skip plots || plots
echo
echo "=== summary"
summary
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg) (other work on this shared machine competes for the same 2 vCPUs)"
exit 0
