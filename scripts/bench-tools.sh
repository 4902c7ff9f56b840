#!/bin/bash
# bench-tools.sh - xdp-bench and xdp-trafficgen 1.6.3 for the live benchmarks.
#
# Debian 12's xdp-tools (1.3.1) fails on kernels >= 6.16 (its objects still reference the
# removed tracepoint xdp_redirect_map_err), and 1.6.3 needs a newer glibc, so the tools run
# from a minimal Debian unstable tree made once by debootstrap (about a minute, ~230 MB) and
# reused:
#
#   scripts/bench-tools.sh            create $SID (default build/sid) if missing, check it
#   scripts/bench-tools.sh --check    only check that xdp-bench runs from it
#   . scripts/bench-tools.sh          (from bash) the functions below, nothing run
#
# Functions (every run bounded in time; every mount undone, even on failure):
#   bt_ensure                         create/check the tree
#   bt_run NS SECS CMD...             run CMD (a program of the tree, e.g. xdp-bench) in
#                                     network namespace NS, chrooted into the tree, killed
#                                     after SECS seconds (SIGINT, then SIGKILL 3 s later)
#   bt_bench_drop NS IFACE SECS [OPTS]  xdp-bench drop IFACE -i 1 for SECS s; prints its
#                                     output (one summary line per second)
#   bt_rx_rate FILE                   the median receive rate (pps) of those summary lines,
#                                     skipping the first (warm-up) and the last (partial)
#   bt_trafficgen_udp NS IFACE SECS OPTS...  xdp-trafficgen udp IFACE OPTS for SECS s
#
# Needs root, debootstrap, and the Debian mirror of /etc/apt/sources.list.d/debian.sources.
SID=${SID:-build/sid}

bt_mirror() {
	local m
	m=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null |
		grep -v security | head -n 1)
	[ -n "$m" ] || m=$(sed -n 's/^deb[[:space:]]\+\(http[^ ]*\)[[:space:]].*/\1/p' \
		/etc/apt/sources.list 2>/dev/null | grep -v security | head -n 1)
	echo "${m:-http://deb.debian.org/debian}"
}

# The tree is complete when debootstrap finished (it writes this marker last, below).
bt_have() { [ -x "$SID/usr/sbin/xdp-bench" ] && [ -f "$SID/.esper-bench-ok" ]; }

bt_create() {
	local mirror tmp
	mirror=$(bt_mirror)
	command -v debootstrap >/dev/null || { echo "bench-tools: debootstrap missing (apt-get install debootstrap)" >&2; return 1; }
	tmp=$SID.tmp.$$
	rm -rf "$tmp"
	mkdir -p "$(dirname "$SID")"
	echo "bench-tools: debootstrap --variant=minbase --include=xdp-tools sid $tmp $mirror" >&2
	if ! timeout 900 debootstrap --variant=minbase --include=xdp-tools sid "$tmp" "$mirror" \
		>"$SID.debootstrap.log" 2>&1; then
		echo "bench-tools: debootstrap failed, see $SID.debootstrap.log" >&2
		bt_umount_all "$tmp"
		rm -rf "$tmp"
		return 1
	fi
	rm -rf "$SID"
	mv "$tmp" "$SID"
	mkdir -p "$SID/sys" "$SID/proc" "$SID/dev"
	touch "$SID/.esper-bench-ok"
}

# Undo whatever mounts a run left under a tree (deepest first).
bt_umount_all() {
	local root
	root=$(readlink -f "$1")
	awk -v r="$root/" 'index($2, r) == 1 { print $2 }' /proc/self/mounts | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null; done
	return 0
}

# bt_run NS SECS CMD...: in its own mount namespace (ip netns exec gives one), so the
# mounts vanish with the process; SIGINT at SECS s makes xdp-bench print its summary and
# detach its program.
bt_run() {
	local ns=$1 secs=$2 root
	shift 2
	root=$(readlink -f "$SID")
	ip netns exec "$ns" timeout -s INT -k 3 "$secs" sh -c '
		root=$1; shift
		mount --make-rslave / 2>/dev/null
		mount --rbind /sys "$root/sys" &&
		{ mount -t bpf bpf "$root/sys/fs/bpf" 2>/dev/null; true; } &&
		mount -t proc proc "$root/proc" &&
		mount --rbind /dev "$root/dev" &&
		exec chroot "$root" "$@"' sh "$root" "$@"
}

bt_bench_drop() {
	local ns=$1 ifc=$2 secs=$3
	shift 3
	bt_run "$ns" "$secs" xdp-bench drop "$ifc" -i 1 "$@" 2>&1
}

bt_trafficgen_udp() {
	local ns=$1 ifc=$2 secs=$3
	shift 3
	bt_run "$ns" "$secs" xdp-trafficgen udp "$ifc" "$@" 2>&1
}

# xdp-bench drop prints a summary line per interval: "Summary  23,712,345 rx/s  0 err,drop/s".
bt_rx_rate() {
	sed -n 's/^Summary[[:space:]]\+\([0-9,]\+\)[[:space:]]\+rx\/s.*/\1/p' "$1" | tr -d , |
		awk '{ v[NR] = $1 } END {
			if (NR == 0) { print 0; exit }
			lo = NR > 2 ? 2 : 1; hi = NR > 2 ? NR - 1 : NR; n = 0
			for (i = lo; i <= hi; i++) w[++n] = v[i]
			for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
				if (w[j] < w[i]) { t = w[i]; w[i] = w[j]; w[j] = t }
			print w[int((n + 1) / 2)] }'
}

bt_check() {
	local out
	out=$(chroot "$SID" xdp-bench help 2>&1 | head -n 5)
	case $out in
	*"drop"*|*Usage*|*usage*) ;;
	*) echo "bench-tools: xdp-bench does not run from $SID: $out" >&2; return 1 ;;
	esac
	echo "bench-tools: $(chroot "$SID" sh -c 'dpkg-query -W -f "xdp-tools \${Version}\n" xdp-tools') in $SID"
}

bt_ensure() {
	[ "$(id -u)" -eq 0 ] || { echo "bench-tools: needs root" >&2; return 1; }
	bt_have || bt_create || return 1
	bt_check
}

# Run as a script (not sourced): create or check.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	cd "$(dirname "$0")/.." || exit 1
	case ${1:-} in
	--check) bt_have && bt_check ;;
	"") bt_ensure ;;
	*) sed -n '2,/^SID=/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
	esac
fi
