# shellcheck shell=bash
# lib.sh - strongSwan's charon on the gateways of the integ topology (tests/integ/lib.sh,
# sourced here: namespaces, wire capture, esper-xdp's gw_start, transfer).
#
# One charon per gateway namespace, each with:
#   - its own mount namespace (`ip netns exec` makes one; /run is a private tmpfs there, so
#     the two daemons' charon.pid never meet and nothing is left in the host's /run);
#   - its own strongswan.conf (STRONGSWAN_CONF), loading only the plugins listed below;
#   - its own vici socket $SWAN_RUN/gwN/charon.vici, which swanctl reaches with --uri;
#   - its own log $LOGDIR/charon-gwN.log (chd 4: the CHILD_SA keys; knl 2).
# Processes are ended by PID (SWAN1_PID, SWAN2_PID), never by name.

ID=${ID:-$$}
LOGDIR=${LOGDIR:-build/strongswan}
. tests/integ/lib.sh

CHARON=${CHARON:-/usr/lib/ipsec/charon}
SWANCTL=${SWANCTL:-swanctl}
SWAN_PSK=${SWAN_PSK:-esper-xdp-strongswan-test-psk-0123456789}
# the unix socket paths must stay short (108 bytes): not under the work tree
SWAN_RUN=${SWAN_RUN:-/tmp/swan.$ID}

# Plugins, in order (the first kernel-ipsec interface registered wins: kernel-libipsec
# before kernel-netlink, which still provides routes, addresses and interfaces).
#   openssl: AES-GCM, SHA-2, the PRFs, ECDH (the IKE and ESP proposals below)
#   random, nonce: RNG and nonces; kdf: prf+ (5.9.8 asks the kdf interface for it)
#   kernel-libipsec: ESP in userspace, in UDP (needs /dev/net/tun and the libcharon receiver)
#   kernel-netlink, socket-default: routes/addresses and the UDP 500/4500 sockets
#   vici: swanctl's control socket
SWAN_PLUGINS=${SWAN_PLUGINS:-"openssl random nonce kdf kernel-libipsec kernel-netlink socket-default vici"}

swan_dir() { echo "$SWAN_RUN/gw$1"; }
swan_uri() { echo "unix://$(swan_dir "$1")/charon.vici"; }
swan_log() { echo "$LOGDIR/charon-gw$1.log"; }
swan_pid() { eval "echo \${SWAN${1}_PID:-}"; }

# swan_conf N MODE: write gateway N's strongswan.conf and swanctl.conf.
#   MODE libipsec: charon does IKE and, with kernel-libipsec, ESP (both directions).
#   MODE ikeonly:  charon does IKE; its kernel-libipsec SAs are never used (README.md):
#                  the routes it installs into table 220 are behind a routing rule that
#                  matches nothing, and whatever it would decrypt is blackholed.
swan_conf() {
	n=$1
	mode=$2
	d=$(swan_dir "$n")
	mkdir -p "$d" "$LOGDIR"
	if [ "$n" = 1 ]; then
		me=192.0.2.1 peer=192.0.2.2 lts=198.51.100.0/24 rts=203.0.113.0/24
	else
		me=192.0.2.2 peer=192.0.2.1 lts=203.0.113.0/24 rts=198.51.100.0/24
	fi
	rule=""
	[ "$mode" = ikeonly ] && rule="fwmark = 0x45e5"
	: >"$(swan_log "$n")"
	cat >"$d/strongswan.conf" <<EOF
charon {
	load_modular = no
	load = $SWAN_PLUGINS
	plugins {
		vici {
			socket = $(swan_uri "$n")
		}
		kernel-netlink {
			$rule
		}
	}
	install_virtual_ip = no
	delete_rekeyed_delay = ${SWAN_DELETE_REKEYED_DELAY:-2}
	retransmit_tries = 3
	retransmit_timeout = 1.0
	filelog {
		gw$n {
			path = $PWD/$(swan_log "$n")
			time_format = %s
			append = no
			flush_line = yes
			ike_name = yes
			default = 1
			chd = 4
			knl = 2
			cfg = 2
			ike = 2
		}
	}
	syslog {
		daemon {
			default = -1
		}
	}
}
swanctl {
	load = openssl random nonce
}
EOF
	cat >"$d/swanctl.conf" <<EOF
connections {
	site {
		version = 2
		local_addrs = $me
		remote_addrs = $peer
		encap = yes
		proposals = aes128gcm16-prfsha256-ecp256
		rekey_time = 0
		dpd_delay = 0
		local {
			auth = psk
			id = $me
		}
		remote {
			auth = psk
			id = $peer
		}
		children {
			net {
				mode = tunnel
				local_ts = $lts
				remote_ts = $rts
				esp_proposals = aes128gcm16-ecp256
				rekey_time = ${SWAN_REKEY_TIME:-0}
				start_action = none
			}
		}
	}
}
secrets {
	ike-gw {
		id-1 = 192.0.2.1
		id-2 = 192.0.2.2
		secret = "$SWAN_PSK"
	}
}
EOF
}

# swanctl_gw N --COMMAND [ARGS...]: swanctl talking to gateway N's charon.
swanctl_gw() {
	n=$1
	cmd=$2
	shift 2
	STRONGSWAN_CONF=$(swan_dir "$n")/strongswan.conf timeout 20 \
		"$SWANCTL" "$cmd" --uri "$(swan_uri "$n")" "$@"
}

# swan_blackhole_tun NS: whatever kernel-libipsec decrypts comes out of its TUN device
# ipsec0: drop it, before any other routing rule (the local table's rule moves from
# preference 0 to 1, so that packets for the gateway itself are dropped too).
swan_blackhole_tun() {
	for f in -4 -6; do
		in_ns "$1" ip $f rule add pref 1 lookup local &&
			in_ns "$1" ip $f rule del pref 0 lookup local &&
			in_ns "$1" ip $f rule add pref 0 iif ipsec0 blackhole || return 1
	done
}

# swan_start N MODE: charon on gateway N, configured and loaded (not yet initiated).
swan_start() {
	n=$1
	swan_conf "$n" "$2"
	d=$(swan_dir "$n")
	STRONGSWAN_CONF=$d/strongswan.conf ip netns exec "$(gw_ns "$n")" \
		sh -c 'mount -t tmpfs -o mode=0755 tmpfs /run && exec "$0"' "$CHARON" \
		>"$d/charon.out" 2>&1 &
	eval "SWAN${n}_PID=$!"
	wait_for "charon on gw$n" test -S "$d/charon.vici" || return 1
	[ "$2" = ikeonly ] && swan_blackhole_tun "$(gw_ns "$n")"
	swanctl_gw "$n" --load-all --file "$d/swanctl.conf" >"$d/load.out" 2>&1 ||
		{ cat "$d/load.out"; return 1; }
}

swan_stop() {
	pid=$(swan_pid "$1")
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	for _ in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	eval "SWAN${1}_PID="
}

# swan_initiate N: gateway N initiates the IKE_SA and the CHILD_SA "net".
swan_initiate() {
	swanctl_gw "$1" --initiate --child net --timeout 15 >"$(swan_dir "$1")/initiate.out" 2>&1 ||
		{ tail -n 20 "$(swan_dir "$1")/initiate.out"; return 1; }
}

# swan_spis N: "SPI_IN SPI_OUT" of gateway N's installed CHILD_SA(s), one a line.
swan_spis() {
	swanctl_gw "$1" --list-sas --raw | grep -o 'net-[0-9]* {[^}]*}' | grep 'state=INSTALLED' |
		sed 's/.*spi-in=\([0-9a-f]*\) spi-out=\([0-9a-f]*\).*/\1 \2/'
}

# --- the topology ----------------------------------------------------------------------------

# swan_topo_up: the integ topology without the gateways' routes to the far site: traffic
# that no SA carries has no way through, so none can leak in the clear while an SA is
# missing (it gets "network unreachable" from its gateway instead).
swan_topo_up() {
	topo_up || return 1
	in_ns $NS_G1 ip route del 203.0.113.0/24
	in_ns $NS_G2 ip route del 198.51.100.0/24
}

# --- the key extraction, following a charon --------------------------------------------------

FOLLOW_PIDS=""

# follow_start N FORMAT FILE [FD]: swan2esper.py --follow on gateway N's charon; what it
# prints goes to FILE, and also to file descriptor FD if given (esper-xdp's FIFO).
follow_start() {
	: >"$3"
	if [ -n "${4:-}" ]; then
		/usr/bin/python3 tests/strongswan/swan2esper.py --log "$(swan_log "$1")" \
			--vici "$(swan_uri "$1")" --follow --interval 0.02 --format "$2" --also "$3" \
			1>&"$4" 2>"$3.err" &
	else
		/usr/bin/python3 tests/strongswan/swan2esper.py --log "$(swan_log "$1")" \
			--vici "$(swan_uri "$1")" --follow --interval 0.02 --format "$2" --also "$3" \
			>/dev/null 2>"$3.err" &
	fi
	FOLLOW_PIDS="$FOLLOW_PIDS $!"
}

follow_stop() {
	for pid in $FOLLOW_PIDS; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	FOLLOW_PIDS=""
}

# --- checks -----------------------------------------------------------------------------------

# wire_check PCAP MIN_ESP: between the gateways only IKE (UDP 500, UDP 4500 with the
# non-ESP marker) and UDP-encapsulated ESP (UDP 4500, first 4 bytes the SPI, never 0):
# no ESP as IP protocol 50, no other IPv4, no packet of the sites in the clear. (IGMP,
# IPv6 ND and MLD of the interfaces themselves are not site traffic and not counted.)
pcap_count() { tcpdump -nr "$1" "$2" 2>/dev/null | wc -l; }

wire_check() {
	ike=$(pcap_count "$1" 'udp port 500 or (udp port 4500 and udp[8:4] = 0)')
	esp=$(pcap_count "$1" 'udp port 4500 and udp[8:4] != 0')
	esp50=$(pcap_count "$1" 'ip proto 50 or ip6 proto 50')
	other=$(pcap_count "$1" 'ip and not (udp port 500 or udp port 4500 or igmp)')
	other6=$(pcap_count "$1" 'ip6 and not (icmp6 or dst net ff00::/8)')
	clear=$(pcap_count "$1" 'net 198.51.100.0/24 or net 203.0.113.0/24')
	echo "on the wire: $ike IKE, $esp UDP-encapsulated ESP, $esp50 plain ESP, $other other IPv4 (not IGMP), $other6 other IPv6 (not ND/MLD), $clear site packets in the clear"
	[ "$esp" -ge "$2" ] && [ "$esp50" -eq 0 ] && [ "$other" -eq 0 ] && [ "$other6" -eq 0 ] &&
		[ "$clear" -eq 0 ] && [ "$ike" -ge 2 ]
}

# tshark_check PCAP UAT MIN: tshark decrypts the UDP-encapsulated ESP of PCAP with the
# esp_sa rows of UAT (swan2esper.py --format tshark): every ESP packet of the capture
# must be authenticated (ICV correct), at least MIN of them.
tshark_check() {
	opts=(-o esp.enable_encryption_decode:TRUE -o esp.enable_authentication_check:TRUE)
	while read -r row; do
		opts+=(-o "uat:esp_sa:$row")
	done <"$2"
	tshark -r "$1" "${opts[@]}" -Y esp -T fields -e frame.number -e esp.spi -e esp.icv_good \
		-e esp.sequence -e ip.flags.mf -e ip.frag_offset -e frame.len >"$1.icv" 2>/dev/null
	total=$(wc -l <"$1.icv")
	good=$(awk -F'\t' '$3 == "1" || $3 == "True"' "$1.icv" | wc -l)
	awk -F'\t' '$3 != "1" && $3 != "True"' "$1.icv" | head -n 5 |
		sed 's/^/    not a correct ICV: frame, SPI, ICV, seq, MF, offset, length: /'
	spis=$(cut -f2 "$1.icv" | sort -u | tr '\n' ' ')
	inner=$(tshark -r "$1" "${opts[@]}" -Y 'icmp.type == 8 && ip.src == 198.51.100.10' \
		2>/dev/null | wc -l)
	echo "tshark: $total ESP packets, $good with a correct ICV ($(wc -l <"$2") SAs keyed, SPIs seen: $spis); $inner echo requests decrypted"
	[ "$total" -ge "$3" ] && [ "$good" -eq "$total" ]
}

# rekey_under_ping N MAXLOSS: gateway N's charon rekeys the CHILD_SA while hostA pings
# hostB (100 pings, 50 ms apart; the rekey once 20 are answered); at most MAXLOSS of them
# may be lost, and the SPIs of gw1's installed CHILD_SA must change.
rekey_under_ping() {
	before=$(swan_spis 1 | tail -n 1)
	ip netns exec $NS_A ping -c 100 -i 0.05 -W 2 203.0.113.10 >"$LOGDIR/rekey$1.ping" 2>&1 &
	pping=$!
	wait_for "20 pings answered" sh -c "[ \$(grep -c 'bytes from' $LOGDIR/rekey$1.ping) -ge 20 ]"
	swanctl_gw "$1" --rekey --child net >"$LOGDIR/rekey$1.out" 2>&1 ||
		{ cat "$LOGDIR/rekey$1.out"; kill $pping; wait $pping; return 1; }
	wait $pping
	after=$(swan_spis 1 | tail -n 1)
	sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$LOGDIR/rekey$1.ping")
	got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$LOGDIR/rekey$1.ping")
	lost=$((${sent:-0} - ${got:-0}))
	echo "rekey by gw$1 under ping: gw1's SPIs in/out $before -> $after; $lost of ${sent:-0} pings lost (at most $2 allowed)"
	[ -n "$after" ] && [ "$before" != "$after" ] && [ "${sent:-0}" -eq 100 ] && [ "$lost" -le "$2" ]
}

# two_rekeys N1 MAXLOSS1 N2 MAXLOSS2: gateway N1's charon rekeys under ping, then N2's;
# the follower's $LOGDIR/gw1.cmds then gets the deletes of the two replaced CHILD_SAs
# (after delete_rekeyed_delay), and the tunnel still works.
two_rekeys() {
	rekey_under_ping "$1" "$2" || return 1
	rekey_under_ping "$3" "$4" || return 1
	wait_for "deletes" sh -c "[ \$(grep -c '^delete' $LOGDIR/gw1.cmds) -ge 4 ]" ||
		{ cat "$LOGDIR/gw1.cmds"; return 1; }
	ping_ok $NS_A 203.0.113.10 2 || { echo "ping after the rekeyings failed"; return 1; }
}

# wire_checks MIN_ESP: stop the capture and the followers, then wire_check and
# tshark_check (with gw1's keys) of $LOGDIR/wire.pcap.
wire_checks() {
	capture_stop
	follow_stop
	wire_check "$LOGDIR/wire.pcap" "$1" && tshark_check "$LOGDIR/wire.pcap" "$LOGDIR/gw1.uat" "$1"
}

ping_ok() {	# ping_ok NS ADDR [COUNT]
	in_ns "$1" ping -q -c "${3:-3}" -i 0.2 -W 2 "$2" >/dev/null
}

# size_sweep: one ping of each size 0, 100, ..., 1400 from hostA to hostB, without DF (a
# gateway fragments what no longer fits once encapsulated: kernel-libipsec's TUN device
# has an MTU of 1400, esper-xdp fragments before encrypting).
size_sweep() {
	bad=""
	for size in $(seq 0 100 1400); do
		in_ns $NS_A ping -c 1 -W 2 -M dont -s "$size" 203.0.113.10 >/dev/null || bad="$bad $size"
	done
	[ -z "$bad" ] || { echo "pings of these sizes were lost:$bad"; return 1; }
	echo "ping sizes 0..1400 (step 100, no DF): all answered"
}

swan_down() {
	follow_stop
	exec 9>&-
	swan_stop 1 2>/dev/null
	swan_stop 2 2>/dev/null
	topo_down
	rm -rf "$SWAN_RUN"
}
