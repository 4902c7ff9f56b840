#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
test_scapy.py - interoperability of esper-xdp's pcap mode with an independent ESP
implementation, scapy's (python3-scapy): scapy encrypts and esper-xdp decrypts, and
esper-xdp encrypts and scapy decrypts and compares, for transport and tunnel mode (4in4,
6in6, 4in6, 6in4, transport over v4 and v6), AES-128 and AES-256, ESN off and on (ESN
runs cross 2^32), on Ethernet and raw-IP captures; and ESP in UDP (RFC 3948, esp-udp) in
every mode: the UDP header checked (ports, length, checksum 0 over IPv4 and right over
IPv6), and a peer behind a NAT that changed its address and port: decrypted, reported
as a `mapping` event, the inner checksum of transport mode made anew (RFC 3948 3.1.2).

Usage: /usr/bin/python3 tests/interop/test_scapy.py build/esper-xdp
Prints PASS/FAIL per case and "N passed, N failed"; exits non-zero on any failure.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from esptest import ESP, GW, HOST, KEY_OUT, SITE, Cases, ether, l3, run_esper, scapy_sa, \
    tcp, udp  # noqa: E402
from scapy.all import IP, IPv6, UDP  # noqa: E402

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


NATT_PORTS = (4500, 4500)
NAT_PORT = 31337  # the peer's source port once a NAT has mapped it
NAT_ADDR = {4: "192.0.2.99", 6: "2001:db8::99"}  # ... and its source address


def case_sa(case, udp=True):
    """The case's SA in scapy; with udp, ESP in UDP when the case is NAT-T."""
    tun = (case["outer"], *OUTER[case["outer"]]) if case["mode"] == "tunnel" else None
    nat_t = NATT_PORTS if case["natt"] and udp else None
    return scapy_sa(case["spi"], KEYS[case["bits"]], tun, esn=case["esn"], nat_t=nat_t)


def commands(case, direction):
    """The SA and a policy for it, in the ESPER language."""
    fam = case["inner"]
    key = KEYS[case["bits"]].hex()
    alg = "aes-gcm-16-esn" if case["esn"] else "aes-gcm-16"
    # An SA carries ESP from its SRC to its DST: the tunnel endpoints, or in transport mode
    # the hosts themselves (esper-xdp decrypts only ESP with the SA's outer addresses).
    s, d = OUTER[case["outer"]] if case["mode"] == "tunnel" else INNER[fam]
    if case.get("behind_nat") and case["mode"] == "transport":
        s = NAT_ADDR[fam]  # the peer as the keying daemon sees it: its NAT's address
    seq = " seq:0x%016x" % ESN_START if case["esn"] else ""
    proto = "esp"
    if case["natt"]:
        s, d, proto = "%s[%d]" % (s, NATT_PORTS[0]), "%s[%d]" % (d, NATT_PORTS[1]), "esp-udp"
    lines = ["add %s %s %s 0x%x -u 7 -E %s 0x%s%s ;" % (s, d, proto, case["spi"], alg, key,
                                                          seq)]
    if case["mode"] == "tunnel":
        policy = "esp/tunnel/%s-%s/unique:7" % OUTER[case["outer"]]
    else:
        policy = "esp/transport//unique:7"
    sel_src, sel_dst = NETS[fam] if case["mode"] == "tunnel" else INNER[fam]
    if case.get("behind_nat") and case["mode"] == "transport":
        sel_src = NAT_ADDR[fam]  # as the keying daemon sees the peer behind its NAT
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
    case["stdout"], case["stderr"] = r.stdout, r.err
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
        enc = sa.encrypt(pkt)
        frames.append(frame(case, udp_fixed(enc) if case["natt"] else enc))
    # Traffic no policy covers passes unchanged.
    stray = udp(4, "192.0.2.50", "192.0.2.51", sport=9, dport=9, data=b"clear")
    frames.append(frame(case, stray))
    out = esper(case, "in", frames)
    assert len(out) == len(frames), "esper-xdp wrote %d of %d packets" % (len(out), len(frames))
    for got, want in zip(out[:-1], plain):
        got = bytes(l3(got))
        assert got == bytes(want), "decrypted packet differs:\n%r\n%r" % (got, bytes(want))
    assert bytes(out[-1]) == bytes(frames[-1]), "unprotected packet was changed"


def udp_checksum_ok(ip6):
    """The UDP checksum of an IPv6 packet, as sent, is right (scapy computes it again)."""
    sent = ip6[UDP].chksum
    again = ip6.__class__(bytes(ip6))
    del again[UDP].chksum
    return sent != 0 and sent == again.__class__(bytes(again))[UDP].chksum


def strip_udp(enc):
    """ESP in UDP as sent (RFC 3948 2.1) -> the bare ESP packet scapy's SA decrypts;
    the UDP header is checked on the way. No IPv6 extension headers here."""
    udp = enc[UDP]
    assert (udp.sport, udp.dport) == NATT_PORTS, "UDP ports %d, %d" % (udp.sport, udp.dport)
    assert udp.len == len(udp), "UDP length %d, datagram %d" % (udp.len, len(udp))
    if enc.version == 4:
        assert udp.chksum == 0, "IPv4 UDP checksum %#x, want 0 (RFC 3948 2.1)" % udp.chksum
    else:
        assert udp_checksum_ok(enc), "IPv6 UDP checksum %#x is wrong" % udp.chksum
    raw = bytearray(bytes(enc))
    if enc.version == 4:
        hl = enc.ihl * 4
        raw[9] = 50
        raw[2:4] = (len(raw) - 8).to_bytes(2, "big")
        ip = IP(bytes(raw[:hl] + raw[hl + 8:]))
        del ip.chksum
        return IP(bytes(ip))
    raw[6] = 50
    raw[4:6] = (len(raw) - 48).to_bytes(2, "big")
    return IPv6(bytes(raw[:40] + raw[48:]))


def udp_fixed(pkt):
    """scapy 2.5 writes UDP length 8 in front of ESP (it freezes the header before the ESP
    is appended): the length the datagram has, as every real sender writes it."""
    raw = bytearray(bytes(pkt))
    hl = pkt.ihl * 4 if pkt.version == 4 else 40
    n = len(raw) - hl
    raw[hl + 4:hl + 6] = n.to_bytes(2, "big")
    return pkt.__class__(bytes(raw))


def esper_to_scapy(case):
    sa = case_sa(case, udp=False)
    plain = plaintexts(case["inner"], 4)
    out = esper(case, "out", [frame(case, p) for p in plain])
    assert len(out) == len(plain), "esper-xdp wrote %d of %d packets" % (len(out), len(plain))
    for f, want, seq in zip(out, plain, seqs(case, len(plain))):
        enc = l3(f)
        if case["natt"]:
            enc = strip_udp(enc)
        esp = enc[ESP]
        assert esp.spi == case["spi"], "SPI 0x%x" % esp.spi
        assert esp.seq == seq & 0xFFFFFFFF, "sequence number %#x, want %#x" % (esp.seq, seq)
        if case["mode"] == "tunnel":
            assert enc.src == OUTER[case["outer"]][0] and enc.dst == OUTER[case["outer"]][1]
        dec = sa.decrypt(enc, esn=seq >> 32) if case["esn"] else sa.decrypt(enc)
        assert bytes(dec) == bytes(want), "scapy's decryption differs:\n%r\n%r" % (
            bytes(dec), bytes(want))


def natted(pkt, addr, port):
    """pkt as a NAT in front of the peer forwards it: from addr and UDP port (transport
    mode: the inner checksum no longer fits the address)."""
    nat = pkt.copy()
    nat.src = addr
    nat[UDP].sport = port
    if nat.version == 4:
        nat.chksum = None
    return nat.__class__(bytes(nat))


def nat_to_esper(case):
    """The peer is behind a NAT. Tunnel mode: its ESP in UDP comes from another address
    and port than the SA's, and is decrypted all the same (the inner packet is what the ICV
    vouches for) and reported once as a mapping event. Transport mode: the SA has the NAT's
    address (as the keying daemon saw it), the NAT changed the port: decrypted, reported,
    the inner TCP/UDP checksum made anew for the address (RFC 3948 3.1.2); the same from
    any other address is dropped (the outer source becomes the packet's, the ICV does not
    cover it)."""
    sa = case_sa(case)
    fam, transport = case["outer"], case["mode"] == "transport"
    plain = plaintexts(case["inner"], 4)
    frames = []
    for pkt, seq in zip(plain, seqs(case, len(plain))):
        sa.seq_num, sa.esn = seq & 0xFFFFFFFF, seq >> 32
        frames.append(frame(case, natted(udp_fixed(sa.encrypt(pkt)), NAT_ADDR[fam], NAT_PORT)))
    if transport:  # one more, sealed by the peer, from an address that is not the SA's
        sa.seq_num, sa.esn = (seqs(case, 5)[4] & 0xFFFFFFFF), seqs(case, 5)[4] >> 32
        spoofed = "192.0.2.66" if fam == 4 else "2001:db8::66"
        frames.append(frame(case, natted(udp_fixed(sa.encrypt(plain[0])), spoofed, NAT_PORT)))
    case = dict(case, behind_nat=True)
    out = esper(case, "in", frames)
    assert len(out) == len(plain), "esper-xdp wrote %d packets, want %d" % (len(out), len(plain))
    for got, want in zip(out, plain):
        got = l3(got)
        if transport:  # what the host gets: the NAT's address, checksums right
            want = want.copy()
            want.src = NAT_ADDR[want.version]
            del want.payload.chksum
            if want.version == 4:
                del want.chksum
            want = want.__class__(bytes(want))
        assert bytes(got) == bytes(want), "decrypted packet differs:\n%r\n%r" % (
            bytes(got), bytes(want))
    s = NAT_ADDR[fam] if transport else OUTER[fam][0]
    event = "mapping spi=0x%08x uid=7 old=%s[%d] new=%s[%d]" % (
        case["spi"], s, NATT_PORTS[0], NAT_ADDR[fam], NAT_PORT)
    events = [l for l in case["stdout"].splitlines() if l.startswith("mapping ")]
    assert events == [event], "events %r, want [%r]" % (events, event)
    if transport:
        assert "peer_address=1" in case["stderr"], "the spoofed packet was not counted"


def cases():
    spi = 0x1000
    for mode, inner, outer in [("transport", 4, 4), ("transport", 6, 6), ("tunnel", 4, 4),
                               ("tunnel", 6, 6), ("tunnel", 4, 6), ("tunnel", 6, 4)]:
        for bits, esn, natt in ((128, False, False), (128, True, False), (256, False, False),
                                (256, True, False), (128, False, True), (256, True, True)):
            spi += 1
            link = "raw" if spi % 5 == 0 else "ether"
            yield dict(mode=mode, inner=inner, outer=outer, bits=bits, esn=esn, spi=spi,
                       link=link, natt=natt)


def name_of(case, fn):
    mode = case["mode"] + (" %din%d" % (case["inner"], case["outer"]) if case["mode"] == "tunnel"
                           else " v%d" % case["inner"])
    return "%s: %s AES-%d%s%s (%s)" % (fn.__name__, mode, case["bits"],
                                       " ESN" if case["esn"] else "",
                                       " NAT-T" if case["natt"] else "", case["link"])


def main():
    t = Cases("interop")
    for case in cases():
        for fn in (scapy_to_esper, esper_to_scapy) + ((nat_to_esper,) if case["natt"] else ()):
            t.run(name_of(case, fn), lambda: fn(case))
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
