#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_gost_pcap.sh - the GOST transforms of RFC 9227 through the binary's pcap mode: for
# Kuznyechik and Magma, gost and gost-mac, ESN off and on, transport (v4, v6) and tunnel
# (4in4, 6in6, 4in6, 6in4) mode, one esper-xdp instance encrypts a small capture and a
# second one decrypts it; the result must equal the original capture byte for byte (every
# packet record, timestamps included). The encrypted capture is checked on the way: ESP
# with the SPI, consecutive sequence numbers (ESN runs cross 2^32), the IV as the key-tree
# counter i1|i2|i3|pnum, a function of the SN (2^24 packets per leaf for Kuznyechik, 2^11 for
# Magma), the payload encrypted for gost and in clear for gost-mac.
# A copy of one ESP packet is appended before decryption: it must be dropped as a replay.
# Both instances' `stats` lines must show the derivations the leaves need (3 for one leaf,
# more where an ESN run crosses a leaf boundary at 2^32). The two instances run different
# block cipher implementations (--gost engine, table, ct in turn: the sender one, the
# receiver the next), so that each implementation interoperates with the others.
#
# Usage: tests/interop/test_gost_pcap.sh build/esper-xdp
# Prints PASS/FAIL per case and "N passed, N failed"; exits non-zero on any failure.
# gost-engine is a dependency (scripts/setup-deps.sh installs libengine-gost-openssl): if the
# binary cannot load it, the suite fails at once, saying so. One case hides the engine
# (OPENSSL_ENGINES=/nonexistent): a GOST SA must then be refused with "GOST transforms are
# not available", and an AES-GCM SA of the same file still keyed.
# Needs /usr/bin/python3 with scapy (only to build the plaintext captures, with
# tests/lib/esptest.py, and to read and extend the encrypted ones).

set -u

ESPER=${1:-build/esper-xdp}
PY=/usr/bin/python3
NPKT=8

if [ ! -x "$ESPER" ]; then
	echo "usage: $0 path/to/esper-xdp" >&2
	exit 2
fi
if ! $PY -c 'import scapy' 2>/dev/null; then
	echo "$0: $PY with scapy (python3-scapy) is needed" >&2
	exit 2
fi

# the plaintext packets come from tests/lib/esptest.py
PYTHONPATH="$(cd "$(dirname "$0")/../lib" && pwd)${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONPATH
TMP=$(mktemp -d /tmp/test_gost_pcap.XXXXXX) || exit 2
trap 'rm -rf "$TMP"' EXIT

# --- python: build the plaintext captures; inspect and extend an encrypted one -------------
cat > "$TMP/pcaps.py" <<'PYEOF'
import struct
import sys


def build(outdir, npkt):
    from esptest import HOST, ether, icmp_echo, tcp, udp, wrpcap

    sizes = [0, 1, 3, 60, 200, 1000, 1400, 31]
    for fam in (4, 6):
        src, dst = HOST[fam]
        pkts = []
        for i in range(npkt):
            data = bytes((i * 13 + j) & 0xFF for j in range(sizes[i % len(sizes)]))
            if fam == 4:
                hdr = dict(ttl=63, id=0x100 + i, tos=0x2a if i % 3 == 0 else 0,
                           flags="DF" if i % 2 else 0)
            else:
                hdr = dict(ttl=63, tc=0x2a if i % 3 == 0 else 0, fl=0x12345 + i)
            if i % 3 == 0:
                pkts.append(icmp_echo(fam, src, dst, echo_id=7, echo_seq=i, data=data,
                                      **hdr))
            elif i % 3 == 1:
                pkts.append(udp(fam, src, dst, sport=1000 + i, dport=53, data=data, **hdr))
            else:
                pkts.append(tcp(fam, src, dst, sport=2000 + i, dport=80, seq=i, data=data,
                                **hdr))
        ts = 1700000000
        ether_pkts = [ether(p) for p in pkts]
        for k, p in enumerate(ether_pkts):
            p.time = ts + k * 0.001
        for k, p in enumerate(pkts):
            p.time = ts + k * 0.001
        wrpcap("%s/plain-v%d-ether.pcap" % (outdir, fam), ether_pkts, linktype=1)
        wrpcap("%s/plain-v%d-raw.pcap" % (outdir, fam), pkts, linktype=101)


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack("<I", data[:4])
    if magic != 0xA1B2C3D4:
        raise SystemExit("%s: not a little-endian microsecond pcap" % path)
    linktype, = struct.unpack("<I", data[20:24])
    recs, off = [], 24
    while off < len(data):
        caplen, = struct.unpack("<I", data[off + 8:off + 12])
        recs.append((data[off:off + 16], data[off + 16:off + 16 + caplen]))
        off += 16 + caplen
    return data[:24], linktype, recs


def l3_off(linktype):
    return 14 if linktype == 1 else 0


def inspect(plain, enc, replay_out, spi, mode, outer, mac, first_seq, dup, pnum_bits):
    """Check the encrypted capture against the plaintext one; write it with a replay."""
    _, lt, precs = read(plain)
    ghdr, elt, erecs = read(enc)
    spi, outer, mac, first_seq, dup = int(spi, 0), int(outer), mac == "1", int(first_seq, 0), int(dup)
    bits = int(pnum_bits)
    if elt != lt:
        raise SystemExit("link type changed: %d -> %d" % (lt, elt))
    if len(erecs) != len(precs):
        raise SystemExit("%d packets encrypted, %d expected" % (len(erecs), len(precs)))
    lo = l3_off(lt)
    for n, ((_, p), (_, e)) in enumerate(zip(precs, erecs)):
        pl3, el3 = p[lo:], e[lo:]
        if lo and e[:12] != p[:12]:
            raise SystemExit("packet %d: Ethernet addresses changed" % n)
        fam = el3[0] >> 4
        if fam == 4:
            proto, hl = el3[9], (el3[0] & 15) * 4
        elif fam == 6:
            proto, hl = el3[6], 40
        else:
            raise SystemExit("packet %d: not IP" % n)
        if proto != 50:
            raise SystemExit("packet %d: protocol %d, not ESP" % (n, proto))
        if mode == "tunnel" and fam != outer:
            raise SystemExit("packet %d: outer IPv%d, want IPv%d" % (n, fam, outer))
        esp = el3[hl:]
        got_spi, got_sn = struct.unpack(">II", esp[:8])
        if got_spi != spi:
            raise SystemExit("packet %d: SPI 0x%x, want 0x%x" % (n, got_spi, spi))
        if got_sn != (first_seq + n) & 0xFFFFFFFF:
            raise SystemExit("packet %d: SN 0x%x, want 0x%x" % (n, got_sn, (first_seq + n) & 0xFFFFFFFF))
        seq = first_seq + n
        want = (seq >> bits).to_bytes(5, "big") + (seq & ((1 << bits) - 1)).to_bytes(3, "big")
        if esp[8:16] != want:
            raise SystemExit("packet %d: IV %s, want %s (from SN %#x)" % (n, esp[8:16].hex(), want.hex(), seq))
        # what ESP protects: the inner packet (tunnel) or the L4 part (transport)
        if mode == "tunnel":
            prot = pl3
        else:
            prot = pl3[(pl3[0] & 15) * 4:] if pl3[0] >> 4 == 4 else pl3[40:]
        clear = esp[16:16 + len(prot)] == prot
        if mac and not clear:
            raise SystemExit("packet %d: gost-mac payload not in clear" % n)
        if not mac and clear:
            raise SystemExit("packet %d: gost payload in clear" % n)
    with open(replay_out, "wb") as f:
        f.write(ghdr)
        for h, d in erecs + [erecs[dup]]:
            f.write(h + d)
    # the key-tree derivations each end makes: one per new i1, (i1, i2) and leaf
    leaves = [(first_seq + n) >> bits for n in range(len(erecs))]
    print(len({x >> 32 for x in leaves}) + len({x >> 16 for x in leaves}) + len(set(leaves)))


if __name__ == "__main__":
    if sys.argv[1] == "build":
        build(sys.argv[2], int(sys.argv[3]))
    else:
        inspect(*sys.argv[2:])
PYEOF

if ! $PY "$TMP/pcaps.py" build "$TMP" "$NPKT"; then
	echo "FAIL: could not build the plaintext captures"
	echo "0 passed, 1 failed"
	exit 1
fi

# --- is GOST there at all? ---------------------------------------------------------------------
printf 'add 192.0.2.1 192.0.2.2 esp 0x100 -u 1 -E gost 0x%088d ;\n' 0 > "$TMP/probe.cmds"
"$ESPER" --pcap-in "$TMP/plain-v4-ether.pcap" --pcap-out "$TMP/probe.pcap" \
	-f "$TMP/probe.cmds" > /dev/null 2> "$TMP/probe.err"
if grep -q "GOST transforms are not available" "$TMP/probe.err"; then
	echo "*****************************************************************"
	echo "*** test_gost_pcap: FAILED: $ESPER cannot load gost-engine:"
	echo "*** install libengine-gost-openssl (scripts/setup-deps.sh installs it)"
	echo "*****************************************************************"
	echo "gost pcap: 0 passed, 1 failed"
	exit 1
fi

# --- the block cipher implementations: ct only where the CPU has it -----------------------------
impls=(engine table ct)
if ! "$ESPER" --gost ct --pcap-in "$TMP/plain-v4-ether.pcap" --pcap-out "$TMP/probe.pcap" \
	-f "$TMP/probe.cmds" > /dev/null 2>&1; then
	echo "note: --gost ct is not available on this CPU (no AVX2); engine and table only"
	impls=(engine table)
fi

# --- one case ------------------------------------------------------------------------------------
passed=0
failed=0

# key LEN SEED: LEN bytes of keying material as hex
key() {
	local i out=""

	for ((i = 0; i < $1; i++)); do
		out+=$(printf '%02x' $(((i * 29 + $2 * 7 + 3) & 255)))
	done
	echo "$out"
}

# field NAME FILE: the value of NAME= on the last line of FILE that has it
field() {
	grep -o " $1=[0-9]*" "$2" | tail -1 | cut -d= -f2
}

# run_case NAME CIPHER(kuz|magma) ALG(gost|gost-mac) ESN(0|1) MODE INNER OUTER LINK SPI
#          ENC_IMPL DEC_IMPL
run_case() {
	local name=$1 cipher=$2 alg=$3 esn=$4 mode=$5 inner=$6 outer=$7 link=$8 spi=$9
	local enc_impl=${10} dec_impl=${11}
	local d="$TMP/$spi" keylen=44 seq="" first=1 e alg_name=$alg
	local plain="$TMP/plain-v$inner-$link.pcap" sa_src sa_dst pol sel_src sel_dst bits=24 derive

	mkdir -p "$d"
	[ "$cipher" = magma ] && keylen=36 && bits=11	# IV = f(SN): packets per leaf 2^bits
	if [ "$esn" = 1 ]; then
		alg_name=$alg-esn
		first=0xfffffffc # the run crosses 2^32
		seq=" seq:0x00000000fffffffc"
	fi
	if [ "$mode" = tunnel ]; then
		if [ "$outer" = 4 ]; then sa_src=192.0.2.1; sa_dst=192.0.2.2
		else sa_src=2001:db8::1; sa_dst=2001:db8::2; fi
		pol="esp/tunnel/$sa_src-$sa_dst/unique:1"
		if [ "$inner" = 4 ]; then sel_src=198.51.100.0/24; sel_dst=203.0.113.0/24
		else sel_src=2001:db8:1::/48; sel_dst=2001:db8:2::/48; fi
	else
		if [ "$inner" = 4 ]; then sa_src=198.51.100.7; sa_dst=203.0.113.9
		else sa_src=2001:db8:1::7; sa_dst=2001:db8:2::9; fi
		pol="esp/transport//unique:1"
		sel_src=$sa_src
		sel_dst=$sa_dst
	fi
	local add keymat

	keymat=$(key $keylen $((spi)))
	add="add $sa_src $sa_dst esp $spi -u 1 -E $alg_name 0x$keymat$seq ;"
	printf '%s\nspdadd %s %s any -P out ipsec %s ;\n' "$add" "$sel_src" "$sel_dst" "$pol" \
		> "$d/enc.cmds"
	printf '%s\n' "$add" > "$d/dec.cmds"

	e=$( {
		"$ESPER" --gost "$enc_impl" --pcap-in "$plain" --pcap-out "$d/enc.pcap" -f "$d/enc.cmds" \
			> "$d/enc.out" 2> "$d/enc.err" || { echo "encrypting instance failed"; exit; }
		grep -q ": error: " "$d/enc.err" && { echo "a command was refused: $(grep ': error: ' "$d/enc.err")"; exit; }
		[ "$(field to_wire "$d/enc.err")" = "$NPKT" ] ||
			{ echo "to_wire=$(field to_wire "$d/enc.err"), want $NPKT"; exit; }
		derive=$($PY "$TMP/pcaps.py" inspect "$plain" "$d/enc.pcap" "$d/enc+replay.pcap" \
			"$spi" "$mode" "$outer" "$([ "$alg" = gost-mac ] && echo 1 || echo 0)" \
			"$first" 2 "$bits" 2>&1) || { echo "${derive:-the check of the encrypted capture failed}"; exit; }
		[ "$(field derivations "$d/enc.err")" = "$derive" ] ||
			{ echo "sender: derivations=$(field derivations "$d/enc.err"), want $derive"; exit; }
		"$ESPER" --gost "$dec_impl" --pcap-in "$d/enc+replay.pcap" --pcap-out "$d/dec.pcap" \
			-f "$d/dec.cmds" \
			> "$d/dec.out" 2> "$d/dec.err" || { echo "decrypting instance failed"; exit; }
		[ "$(field to_host "$d/dec.err")" = "$NPKT" ] ||
			{ echo "to_host=$(field to_host "$d/dec.err"), want $NPKT"; exit; }
		if [ "$(field esp_drop "$d/dec.err")" != 1 ] || [ "$(field replay "$d/dec.err")" != 1 ]; then
			echo "the replayed packet was not dropped as a replay"
			exit
		fi
		[ "$(field icv_fail "$d/dec.err")" = 0 ] || { echo "ICV failures"; exit; }
		[ "$(field derivations "$d/dec.err")" = "$derive" ] ||
			{ echo "receiver: derivations=$(field derivations "$d/dec.err"), want $derive"; exit; }
		# every packet record (header with timestamps, and data) byte for byte
		cmp -s -i 24:24 "$plain" "$d/dec.pcap" ||
			{ echo "decrypted capture differs from the original: $(cmp -i 24:24 "$plain" "$d/dec.pcap" 2>&1 | head -1)"; exit; }
	} )
	if [ -z "$e" ]; then
		passed=$((passed + 1))
		echo "PASS $name"
	else
		failed=$((failed + 1))
		echo "FAIL $name: $e"
	fi
}

# Without gost-engine: the GOST SA refused, at its algorithm, the AES-GCM SA keyed.
no_engine_case() {
	local d="$TMP/no-engine" e

	mkdir -p "$d"
	{
		printf 'add 192.0.2.1 192.0.2.2 esp 0x100 -u 1 -E gost 0x%s ;\n' "$(key 44 1)"
		printf 'add 192.0.2.1 192.0.2.2 esp 0x101 -u 2 -E aes-gcm-16 0x%s ;\n' "$(key 20 2)"
	} > "$d/cmds"
	e=$( {
		OPENSSL_ENGINES=/nonexistent "$ESPER" --pcap-in "$TMP/plain-v4-ether.pcap" \
			--pcap-out "$d/out.pcap" -f "$d/cmds" > "$d/out" 2> "$d/err" ||
			{ echo "esper-xdp failed"; exit; }
		grep -q "^$d/cmds:1:[0-9]*: error: GOST transforms are not available" "$d/err" ||
			{ echo "the GOST SA was not refused: $(head -3 "$d/err")"; exit; }
		[ "$(grep -c ': error: ' "$d/err")" = 1 ] || { echo "more than one refusal"; exit; }
		grep -q "^sa spi=0x00000101 " "$d/err" || { echo "the AES-GCM SA is missing"; exit; }
		grep -q "^sa spi=0x00000100 " "$d/err" && { echo "the GOST SA was keyed"; exit; }
	} )
	if [ -z "$e" ]; then
		passed=$((passed + 1))
		echo "PASS without gost-engine: GOST SA refused, AES-GCM SA keyed"
	else
		failed=$((failed + 1))
		echo "FAIL without gost-engine: $e"
	fi
}

no_engine_case
spi=0x2000
n=0
for cipher in kuz magma; do
	for alg in gost gost-mac; do
		for esn in 0 1; do
			for m in "transport 4 4 ether" "transport 6 6 raw" "tunnel 4 4 ether" \
				 "tunnel 6 6 ether" "tunnel 4 6 raw" "tunnel 6 4 ether"; do
				# shellcheck disable=SC2086 # split into mode, inner, outer, link
				set -- $m
				spi=$(printf '0x%x' $((spi + 1)))
				label="$1"
				[ "$1" = tunnel ] && label="tunnel ${2}in$3" || label="transport v$2"
				cname=$([ "$cipher" = kuz ] && echo Kuznyechik || echo Magma)
				enc=${impls[$((n % ${#impls[@]}))]}
				dec=${impls[$(((n + 1) % ${#impls[@]}))]}
				n=$((n + 1))
				run_case "$cname $alg$([ "$esn" = 1 ] && echo -esn) $label ($4) [$enc->$dec]" \
					"$cipher" "$alg" "$esn" "$1" "$2" "$3" "$4" "$spi" "$enc" "$dec"
			done
		done
	done
done

echo "gost pcap: $passed passed, $failed failed"
[ "$failed" = 0 ]
