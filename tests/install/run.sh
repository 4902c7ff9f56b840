#!/bin/bash
# run.sh - what `make install` delivers, and esper-xdp run as a service. Cases:
#   files      make install DESTDIR=tmp PREFIX=/usr puts each file where docs/service.md says
#   version    the installed binary's --version / -V (scripts/version.sh) and --help
#   man        both pages render with every groff warning as an error (groff -ww, man -l)
#   options    esper-xdp(8) documents exactly the long options of --help
#   units      systemd-analyze verify on the installed units, nothing printed
#   examples   the example /etc files: the defaults name an interface, the commands pass --init
#   init       --init FILE in pcap mode: applied before -f; a refused command or a missing
#              file stops esper-xdp (status 1)
#   fifo       live, in a network namespace: standard input a FIFO held open for reading and
#              writing (as systemd's esper-xdp.socket does), --init (its SA in the XDP map
#              when the program is attached), writers that come and go (their commands in
#              the maps with no end of input: map writes are batched, docs/live.md)
#   init-live  live: a refused --init command stops the start, nothing stays attached
#   systemd    tests/install/systemd.sh: the units under systemd as PID 1 in a container
#   uninstall  make uninstall leaves no file behind
# Prints PASS/FAIL per case and "install: N passed, N failed". Needs root (fifo, init-live,
# systemd), pandoc, groff, man-db, systemd, systemd-container, bpftool; a missing one fails
# its case.
# Usage: tests/install/run.sh [CASE...]    (after make)
cd "$(dirname "$0")/../.." || exit 1
TMP=$(mktemp -d /tmp/esper-install.XXXXXX)
NS=eI$$
ESPER_PID=
STAGE=$TMP/stage
BIN=$STAGE/usr/sbin/esper-xdp
PCAP=tests/data/demo/plain.pcap
KEY1=0x0102030405060708090a0b0c0d0e0f1011121314
KEY2=0x2122232425262728292a2b2c2d2e2f3031323334
passed=0
failed=0

cleanup() {
	[ -n "$ESPER_PID" ] && kill "$ESPER_PID" 2>/dev/null && wait "$ESPER_PID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need_root() { [ "$(id -u)" -eq 0 ] || { echo "needs root"; return 1; }; }

wait_for() {	# wait_for CMD...: up to 10 s
	for _ in $(seq 50); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

# --- the staged installation ---------------------------------------------------------------

FILES="usr/sbin/esper-xdp:755 usr/share/man/man8/esper-xdp.8:644
usr/share/man/man5/esper-xdp.conf.5:644 usr/lib/systemd/system/esper-xdp.service:644
usr/lib/systemd/system/esper-xdp.socket:644 usr/share/doc/esper-xdp/service.md:644
usr/share/doc/esper-xdp/examples/esper-xdp.default:644
usr/share/doc/esper-xdp/examples/esper-xdp.conf:644"

case_files() {
	[ -d "$STAGE" ] || { echo "make install failed"; return 1; }
	for f in $FILES; do
		path=${f%:*}
		mode=${f#*:}
		[ -f "$STAGE/$path" ] || { echo "missing /$path"; return 1; }
		[ "$(stat -c %a "$STAGE/$path")" = "$mode" ] || { echo "/$path is not $mode"; return 1; }
	done
	n=$(find "$STAGE" -type f | wc -l)
	[ "$n" -eq "$(echo "$FILES" | wc -w)" ] || { echo "$n files installed, expected others"; return 1; }
	grep -qx 'ExecStart=/usr/sbin/esper-xdp $ESPER_XDP_OPTS' \
		"$STAGE/usr/lib/systemd/system/esper-xdp.service" || { echo "ExecStart path"; return 1; }
}

case_version() {
	want="esper-xdp $(scripts/version.sh)"
	for opt in --version -V; do
		out=$("$BIN" $opt) || { echo "$opt: exit status $?"; return 1; }
		[ "$(echo "$out" | head -n 1)" = "$want" ] || { echo "$opt: '$out', not '$want'"; return 1; }
		echo "$out" | grep -q '^AES-GCM: ' || { echo "$opt: no AES-GCM line"; return 1; }
		echo "$out" | grep -q '^GOST: ' || { echo "$opt: no GOST line"; return 1; }
	done
	"$BIN" --help | grep -q -- '--version' || { echo "--help"; return 1; }
	"$BIN" --bogus >/dev/null 2>&1
	[ $? -eq 2 ] || { echo "a bad option is not status 2"; return 1; }
}

case_man() {
	command -v groff >/dev/null && command -v man >/dev/null || { echo "groff/man missing"; return 1; }
	for page in man8/esper-xdp.8 man5/esper-xdp.conf.5; do
		f=$STAGE/usr/share/man/$page
		w=$(groff -t -ww -z -man "$f" 2>&1)
		[ -z "$w" ] || { echo "groff -ww $page:"; echo "$w"; return 1; }
		w=$(MANWIDTH=80 man --warnings=all -l "$f" 2>&1 >/dev/null)
		[ -z "$w" ] || { echo "man -l $page:"; echo "$w"; return 1; }
		[ "$(MANWIDTH=80 man -l "$f" 2>/dev/null | wc -l)" -gt 100 ] || { echo "$page is short"; return 1; }
	done
}

long_opts() { grep -o -- '--[a-z][a-z-]*' | sort -u; }

case_options() {
	help=$("$BIN" --help | long_opts)
	man=$(MANWIDTH=200 man -l "$STAGE/usr/share/man/man8/esper-xdp.8" 2>/dev/null |
		sed -n '/^OPTIONS/,/^COMMANDS/p' | long_opts)
	[ -n "$help" ] && [ "$help" = "$man" ] && return 0
	echo "only in --help:" $(comm -23 <(echo "$help") <(echo "$man"))
	echo "only in esper-xdp(8):" $(comm -13 <(echo "$help") <(echo "$man"))
	return 1
}

case_units() {
	command -v systemd-analyze >/dev/null || { echo "systemd-analyze missing"; return 1; }
	# ExecStart must name an executable: point it at the staged one.
	mkdir -p "$TMP/units"
	sed "s|/usr/sbin/esper-xdp|$BIN|" "$STAGE/usr/lib/systemd/system/esper-xdp.service" \
		> "$TMP/units/esper-xdp.service"
	cp "$STAGE/usr/lib/systemd/system/esper-xdp.socket" "$TMP/units/"
	w=$(MANPATH=$STAGE/usr/share/man systemd-analyze verify "$TMP/units/esper-xdp.service" \
		"$TMP/units/esper-xdp.socket" 2>&1) || { echo "$w"; return 1; }
	[ -z "$w" ] || { echo "$w"; return 1; }
}

case_examples() {
	ex=$STAGE/usr/share/doc/esper-xdp/examples
	# shellcheck disable=SC1090
	opts=$(. "$ex/esper-xdp.default"; echo "$ESPER_XDP_OPTS")
	case "$opts" in *"-i "*"--init /etc/esper-xdp/esper-xdp.conf"*) ;; *) echo "defaults: '$opts'"; return 1;; esac
	"$BIN" --pcap-in $PCAP --pcap-out "$TMP/ex.pcap" --init "$ex/esper-xdp.conf" </dev/null \
		2>"$TMP/ex.err" || { cat "$TMP/ex.err"; return 1; }
	# Uncommented with real keys, the example's commands are accepted too.
	sed -e 's/^#\(add\|spdadd\)/\1/' -e "s/0xKEY_OUT/$KEY1/" -e "s/0xKEY_IN/$KEY2/" \
		"$ex/esper-xdp.conf" > "$TMP/ex.conf"
	out=$(echo 'spddump ;' | "$BIN" --pcap-in $PCAP --pcap-out "$TMP/ex.pcap" \
		--init "$TMP/ex.conf" 2>"$TMP/ex.err") || { cat "$TMP/ex.err"; return 1; }
	echo "$out" | grep -q '^# 2 SPs' || { echo "$out"; return 1; }
}

case_init() {
	cat > "$TMP/init.conf" <<-EOT
	add 192.0.2.1 192.0.2.2 esp 0x1001 -u 1 -E aes-gcm-16 $KEY1 ;
	EOT
	# -f names the SA --init added: --init came first.
	echo "spdadd 198.51.100.0/24 203.0.113.0/24 any -P out ipsec esp/tunnel/192.0.2.1-192.0.2.2/unique:1 ; spddump ;" \
		> "$TMP/after.conf"
	out=$("$BIN" --pcap-in $PCAP --pcap-out "$TMP/o.pcap" --init "$TMP/init.conf" \
		-f "$TMP/after.conf" 2>"$TMP/init.err") || { cat "$TMP/init.err"; return 1; }
	echo "$out" | grep -q '^# 1 SPs' || { echo "$out"; cat "$TMP/init.err"; return 1; }
	grep -q 'out_packets=5 ' "$TMP/init.err" || { echo "no packet encrypted"; return 1; }
	echo "bogus ;" >> "$TMP/init.conf"
	"$BIN" --pcap-in $PCAP --pcap-out "$TMP/o.pcap" --init "$TMP/init.conf" </dev/null \
		2>"$TMP/init.err"
	[ $? -eq 1 ] || { echo "a refused --init command is not status 1"; return 1; }
	grep -q 'init.conf:2:1: error: unknown command' "$TMP/init.err" || { cat "$TMP/init.err"; return 1; }
	"$BIN" --pcap-in $PCAP --pcap-out "$TMP/o.pcap" --init "$TMP/none.conf" </dev/null 2>/dev/null
	[ $? -eq 1 ] || { echo "a missing --init file is not status 1"; return 1; }
}

# --- live, in a namespace ------------------------------------------------------------------

ns_up() {
	scripts/ns-sweep.sh	# what runs killed before their trap left
	ip netns del "$NS" 2>/dev/null
	ip netns add "$NS" || return 1
	ip -n "$NS" link set lo up
	ip -n "$NS" link add v0 type veth peer name v1
	ip -n "$NS" link set v0 up
	ip -n "$NS" link set v1 up
	ip -n "$NS" addr add 192.0.2.1/24 dev v0
}

xdp_attached() { ip -n "$NS" link show v0 | grep -q xdp; }

# in_map NAME KEYBYTES...: esper-xdp's BPF map NAME holds the key (bytes as 0xNN words)
in_map() {
	local name=$1 f id
	shift
	command -v bpftool >/dev/null || { echo "bpftool missing"; return 1; }
	for f in /proc/"$ESPER_PID"/fdinfo/*; do
		id=$(sed -n 's/^map_id:[[:space:]]*//p' "$f" 2>/dev/null)
		[ -n "$id" ] && bpftool map show id "$id" 2>/dev/null | grep -q " name $name " &&
			{ bpftool map lookup id "$id" key "$@" >/dev/null 2>&1; return; }
	done
	return 1
}

not_in_map() { ! in_map "$@"; }

case_fifo() {
	need_root || return 1
	ns_up || return 1
	fifo=$TMP/commands
	mkfifo -m 0600 "$fifo"
	printf 'add 192.0.2.2 192.0.2.1 esp 0x1001 -u 1 -E aes-gcm-16 %s ;\n' $KEY1 > "$TMP/live-init.conf"
	# <> opens the FIFO for reading and writing, as systemd does: the input never ends.
	ip netns exec "$NS" "$BIN" -i v0 --init "$TMP/live-init.conf" <>"$fifo" \
		>"$TMP/out" 2>"$TMP/err" &
	ESPER_PID=$!
	wait_for grep -q "running on" "$TMP/err" || { cat "$TMP/err"; return 1; }
	xdp_attached || { echo "not attached"; return 1; }
	# --init is applied before the program is attached, so before "running on".
	init_line=$(grep -n 'initial commands applied' "$TMP/err" | cut -d: -f1)
	run_line=$(grep -n 'running on' "$TMP/err" | cut -d: -f1)
	[ -n "$init_line" ] && [ "$init_line" -lt "$run_line" ] || { echo "--init not applied first"; return 1; }
	# ... and in the XDP maps by then: the SPI of its SA (no policy names it) is in sa_in
	in_map sa_in 0x00 0x00 0x10 0x01 || { echo "--init SA not in sa_in at attach"; return 1; }
	# Writers come and go, each closing the FIFO.
	echo "add 192.0.2.1 192.0.2.2 esp 0x1002 -u 2 -E aes-gcm-16 $KEY2 ;" > "$fifo"
	echo "spdadd 198.51.100.0/24 203.0.113.0/24 any -P out ipsec esp/tunnel/192.0.2.1-192.0.2.2/unique:2 ;" > "$fifo"
	echo "stats ;" > "$fifo"
	wait_for grep -q '^sa spi=0x00001002' "$TMP/out" || { echo "FIFO command not applied"; cat "$TMP/err"; return 1; }
	grep -q '^sa spi=0x00001001' "$TMP/out" || { echo "--init SA missing"; return 1; }
	# the input did not end, yet the held-back map writes went: 0x1002 is outbound (its out
	# policy took it out of sa_in), 0x1001 still may decrypt
	in_map sa_in 0x00 0x00 0x10 0x01 || { echo "SA 0x1001 left sa_in"; return 1; }
	wait_for not_in_map sa_in 0x00 0x00 0x10 0x02 || { echo "outbound SA 0x1002 still in sa_in"; return 1; }
	sleep 0.5	# no writer now: esper-xdp must not have seen an end of input
	grep -q "end of commands" "$TMP/err" && { echo "end of input seen"; return 1; }
	echo "spddump ;" > "$fifo"
	wait_for grep -q 'unique:2 ;' "$TMP/out" || { echo "a later writer was not read"; return 1; }
	kill -TERM "$ESPER_PID"
	wait "$ESPER_PID"
	rc=$?
	ESPER_PID=
	[ $rc -eq 0 ] || { echo "SIGTERM: status $rc"; return 1; }
	xdp_attached && { echo "still attached after SIGTERM"; return 1; }
	ip netns del "$NS"
}

case_init_live() {
	need_root || return 1
	ns_up || return 1
	printf 'add 192.0.2.2 192.0.2.1 esp 0x1001 -u 1 -E aes-gcm-16 %s ;\nbogus ;\n' $KEY1 \
		> "$TMP/bad-init.conf"
	timeout 20 ip netns exec "$NS" "$BIN" -i v0 --init "$TMP/bad-init.conf" </dev/null \
		>/dev/null 2>"$TMP/err"
	rc=$?
	[ $rc -eq 1 ] || { echo "status $rc, not 1"; cat "$TMP/err"; return 1; }
	grep -q "1 command(s) refused: not starting" "$TMP/err" || { cat "$TMP/err"; return 1; }
	xdp_attached && { echo "left attached"; return 1; }
	ip -n "$NS" link show esper0 >/dev/null 2>&1 && { echo "host port left"; return 1; }
	ip netns del "$NS"
}

case_systemd() {
	need_root || return 1
	tests/install/systemd.sh
}

case_uninstall() {
	make --no-print-directory -s uninstall DESTDIR="$STAGE" PREFIX=/usr >/dev/null 2>&1 || return 1
	left=$(find "$STAGE" -type f -o -type l)
	[ -z "$left" ] || { echo "left behind: $left"; return 1; }
	[ ! -e "$STAGE/usr/share/doc/esper-xdp" ] || { echo "the doc directory is left"; return 1; }
}

make --no-print-directory -s install DESTDIR="$STAGE" PREFIX=/usr >"$TMP/install.log" 2>&1 ||
	{ cat "$TMP/install.log"; rm -rf "$STAGE"; }
CASES=${*:-files version man options units examples init fifo init-live systemd uninstall}
for c in $CASES; do
	if "case_${c//-/_}" > "$TMP/case.log" 2>&1; then
		echo "PASS $c"
		passed=$((passed + 1))
	else
		echo "FAIL $c"
		sed 's/^/    /' "$TMP/case.log"
		failed=$((failed + 1))
	fi
done
echo "install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
