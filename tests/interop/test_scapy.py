#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
test_scapy.py - interoperability of esper-xdp's pcap mode with an independent ESP
implementation, scapy's (python3-scapy): scapy encrypts and esper-xdp decrypts, and
esper-xdp encrypts and scapy decrypts and compares, for transport and tunnel mode (4in4,
6in6, 4in6, 6in4, transport over v4 and v6), AES-128 and AES-256, ESN off and on (ESN
runs cross 2^32), on Ethernet and raw-IP captures.

Usage: /usr/bin/python3 tests/interop/test_scapy.py build/esper-xdp
Prints PASS/FAIL per case and "N passed, N failed"; exits non-zero on any failure.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from esptest import ESP, GW, HOST, KEY_OUT, SITE, Cases, ether, l3, run_esper, scapy_sa, \
    tcp, udp  # noqa: E402

ESPER = sys.argv[1] if len(sys.argv) > 1 else "build/esper-xdp"

INNER, OUTER, NETS = HOST, GW, SITE
KEYS = {128: KEY_OUT, 256: bytes(range(0x40, 0x64))}

# ESN runs start two packets before 2^32, so they cross it.
ESN_START = 0xFFFFFFFE


def plaintexts(family, count):
    src, dst = INNER[family]
    pkts = []
    for i in range(count):
        payload = bytes((i * 7 + j) & 0xFF for j in range(17 + 97 * i))
        if i % 2:
            pkts.append(udp(family, src, dst, sport=1000 + i, dport=53, data=payload, ttl=63))
        else:
            pkts.append(tcp(family, src, dst, sport=2000 + i, dport=80, data=payload, ttl=63))
    return pkts


def case_sa(case):
    tun = (case["outer"], *OUTER[case["outer"]]) if case["mode"] == "tunnel" else None
    return scapy_sa(case["spi"], KEYS[case["bits"]], tun, esn=case["esn"])


def commands(case, direction):
    """The SA and a policy for it, in the ESPER language."""
    fam = case["inner"]
    key = KEYS[case["bits"]].hex()
    alg = "aes-gcm-16-esn" if case["esn"] else "aes-gcm-16"
    # An SA carries ESP from its SRC to its DST: the tunnel endpoints, or in transport mode
    # the hosts themselves (esper-xdp decrypts only ESP with the SA's outer addresses).
    s, d = OUTER[case["outer"]] if case["mode"] == "tunnel" else INNER[fam]
    seq = " seq:0x%016x" % ESN_START if case["esn"] else ""
    lines = ["add %s %s esp 0x%x -u 7 -E %s 0x%s%s ;" % (s, d, case["spi"], alg, key, seq)]
    if case["mode"] == "tunnel":
        policy = "esp/tunnel/%s-%s/unique:7" % OUTER[case["outer"]]
    else:
        policy = "esp/transport//unique:7"
    sel_src, sel_dst = NETS[fam] if case["mode"] == "tunnel" else INNER[fam]
    lines.append("spdadd %s %s any -P %s ipsec %s ;" % (sel_src, sel_dst, direction, policy))
    return "\n".join(lines) + "\n"


def esper(case, direction, frames):
    # Raw-IP captures say so (LINKTYPE_RAW), whatever the families inside.
    r = run_esper(ESPER, commands(case, direction), frames,
                  linktype=101 if case["link"] == "raw" else 1)
    if r.rc != 0:
        raise AssertionError("esper-xdp failed: %s" % r.err)
    if r.refused():
        raise AssertionError("esper-xdp refused a command: %s" % r.err)
    return r.out


def frame(case, pkt):
    return pkt if case["link"] == "raw" else ether(pkt)


def seqs(case, n):
    start = ESN_START if case["esn"] else 1
    return [start + i for i in range(n)]


def scapy_to_esper(case):
    sa = case_sa(case)
    plain = plaintexts(case["inner"], 4)
    frames = []
    for pkt, seq in zip(plain, seqs(case, len(plain))):
        sa.seq_num, sa.esn = seq & 0xFFFFFFFF, seq >> 32
        frames.append(frame(case, sa.encrypt(pkt)))
    # Traffic no policy covers passes unchanged.
    stray = udp(4, "192.0.2.50", "192.0.2.51", sport=9, dport=9, data=b"clear")
    frames.append(frame(case, stray))
    out = esper(case, "in", frames)
    assert len(out) == len(frames), "esper-xdp wrote %d of %d packets" % (len(out), len(frames))
    for got, want in zip(out[:-1], plain):
        got = bytes(l3(got))
        assert got == bytes(want), "decrypted packet differs:\n%r\n%r" % (got, bytes(want))
    assert bytes(out[-1]) == bytes(frames[-1]), "unprotected packet was changed"


def esper_to_scapy(case):
    sa = case_sa(case)
    plain = plaintexts(case["inner"], 4)
    out = esper(case, "out", [frame(case, p) for p in plain])
    assert len(out) == len(plain), "esper-xdp wrote %d of %d packets" % (len(out), len(plain))
    for f, want, seq in zip(out, plain, seqs(case, len(plain))):
        enc = l3(f)
        esp = enc[ESP]
        assert esp.spi == case["spi"], "SPI 0x%x" % esp.spi
        assert esp.seq == seq & 0xFFFFFFFF, "sequence number %#x, want %#x" % (esp.seq, seq)
        if case["mode"] == "tunnel":
            assert enc.src == OUTER[case["outer"]][0] and enc.dst == OUTER[case["outer"]][1]
        dec = sa.decrypt(enc, esn=seq >> 32) if case["esn"] else sa.decrypt(enc)
        assert bytes(dec) == bytes(want), "scapy's decryption differs:\n%r\n%r" % (
            bytes(dec), bytes(want))


def cases():
    spi = 0x1000
    for mode, inner, outer in [("transport", 4, 4), ("transport", 6, 6), ("tunnel", 4, 4),
                               ("tunnel", 6, 6), ("tunnel", 4, 6), ("tunnel", 6, 4)]:
        for bits in (128, 256):
            for esn in (False, True):
                spi += 1
                link = "raw" if spi % 5 == 0 else "ether"
                yield dict(mode=mode, inner=inner, outer=outer, bits=bits, esn=esn, spi=spi,
                           link=link)


def name_of(case, fn):
    mode = case["mode"] + (" %din%d" % (case["inner"], case["outer"]) if case["mode"] == "tunnel"
                           else " v%d" % case["inner"])
    return "%s: %s AES-%d%s (%s)" % (fn.__name__, mode, case["bits"],
                                     " ESN" if case["esn"] else "", case["link"])


def main():
    t = Cases("interop")
    for case in cases():
        for fn in (scapy_to_esper, esper_to_scapy):
            t.run(name_of(case, fn), lambda: fn(case))
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
