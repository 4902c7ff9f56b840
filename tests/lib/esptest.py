# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
esptest.py - the packet builders and the pcap-mode runner shared by the Python tests and
scripts (tests/interop, tests/security, tests/integ, tests/strongswan): plaintext packets
with their checksums filled in, scapy's ESP as an independent implementation, and esper-xdp
run over a capture with a command file, its counters parsed from stderr. Run the tests with
/usr/bin/python3 (Debian's scapy). A script elsewhere in tests/ imports it with

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
"""
import logging
import os
import re
import subprocess
import tempfile

from scapy.all import IP, IPv6, UDP, TCP, ICMP, ICMPv6EchoRequest, Ether, Raw, rdpcap, wrpcap, conf
from scapy.layers.ipsec import ESP, SecurityAssociation

conf.verb = 0
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)

MAC_A = "02:00:00:00:00:01"
MAC_B = "02:00:00:00:00:02"

# The test addresses (documentation prefixes): two sites and two gateways.
SITE = {4: ("198.51.100.0/24", "203.0.113.0/24"), 6: ("2001:db8:1::/48", "2001:db8:2::/48")}
HOST = {4: ("198.51.100.7", "203.0.113.9"), 6: ("2001:db8:1::7", "2001:db8:2::9")}
GW = {4: ("192.0.2.1", "192.0.2.2"), 6: ("2001:db8::1", "2001:db8::2")}
KEY_OUT = bytes(range(1, 21))          # AES-128-GCM, gw1 -> gw2
KEY_BACK = bytes(range(0x21, 0x35))    # AES-128-GCM, gw2 -> gw1


def filled(pkt):
    """pkt with its lengths and checksums computed, as it would travel."""
    return pkt.__class__(bytes(pkt))


def ip_of(family, src, dst, ttl=None, **kw):
    """An IPv4 or IPv6 header; ttl is the hop limit for IPv6; kw: scapy's fields."""
    if ttl is not None:
        kw["ttl" if family == 4 else "hlim"] = ttl
    return IP(src=src, dst=dst, **kw) if family == 4 else IPv6(src=src, dst=dst, **kw)


def _packet(family, src, dst, l4, size, data, ext, kw):
    """IP | ext (IPv6 extension headers) | l4 | data (or size bytes 0, 1, 2 ...), filled."""
    p = ip_of(family, src, dst, **kw)
    for h in ext:
        p = p / h
    payload = data if data is not None else bytes(i & 0xFF for i in range(size))
    return filled(p / l4 / Raw(payload))


def udp(family, src, dst, sport=4000, dport=5000, size=16, data=None, ext=(), **kw):
    return _packet(family, src, dst, UDP(sport=sport, dport=dport), size, data, ext, kw)


def tcp(family, src, dst, sport=4000, dport=443, size=16, data=None, ext=(), seq=0, **kw):
    return _packet(family, src, dst, TCP(sport=sport, dport=dport, flags="S", seq=seq), size,
                   data, ext, kw)


def icmp_echo(family, src, dst, echo_id=7, echo_seq=0, size=16, data=None, ext=(), **kw):
    """An ICMP or ICMPv6 echo request (kw may hold the IPv4 header's id)."""
    l4 = (ICMP(id=echo_id, seq=echo_seq) if family == 4
          else ICMPv6EchoRequest(id=echo_id, seq=echo_seq))
    return _packet(family, src, dst, l4, size, data, ext, kw)


def ether(pkt):
    return Ether(src=MAC_A, dst=MAC_B) / pkt


def scapy_sa(spi, key, tunnel=None, esn=False, nat_t=None):
    """scapy's ESP SA: AES-GCM-16 (key: 16 or 32 bytes and the 4-byte salt); tunnel =
    (family, src, dst) or None for transport; nat_t = (sport, dport): ESP in UDP (RFC 3948)."""
    hdr = ip_of(tunnel[0], tunnel[1], tunnel[2]) if tunnel else None
    nat = UDP(sport=nat_t[0], dport=nat_t[1]) if nat_t else None
    return SecurityAssociation(ESP, spi=spi, crypt_algo="AES-GCM", crypt_key=key,
                               tunnel_header=hdr, esn_en=esn, nat_t_header=nat)


def l3(frame):
    """The IP packet of a frame of an Ethernet or raw-IP capture."""
    if Ether in frame:
        return frame[Ether].payload
    raw = bytes(frame)
    return IP(raw) if raw[0] >> 4 == 4 else IPv6(raw)


class Run:
    """One esper-xdp pcap-mode run: out (frames written), err (stderr), counters."""

    def __init__(self, proc, out):
        self.rc = proc.returncode
        self.err = proc.stderr.decode(errors="replace")
        self.stdout = proc.stdout.decode(errors="replace")
        self.out = out
        self.counters = {}
        for line in self.err.splitlines():
            if line.startswith("pcap:"):
                for k, v in re.findall(r"(\w+)=(\d+)", line):
                    self.counters[k] = int(v)

    def refused(self):
        return [line for line in self.err.splitlines() if ": error: " in line]


def run_esper(esper, commands, frames, *opts, linktype=1, keep=None):
    """Run esper-xdp over frames with these commands; keep: a directory to leave files in."""
    tmp = keep or tempfile.mkdtemp(prefix="esptest.")
    pin, pout = os.path.join(tmp, "in.pcap"), os.path.join(tmp, "out.pcap")
    if os.path.exists(pout):
        os.unlink(pout)
    wrpcap(pin, frames, linktype=linktype)
    proc = subprocess.run([esper, "--pcap-in", pin, "--pcap-out", pout, *opts],
                          input=commands.encode(), capture_output=True, timeout=120)
    out = list(rdpcap(pout)) if os.path.exists(pout) and os.path.getsize(pout) > 24 else []
    run = Run(proc, out)
    run.path = pout
    if not keep:
        for f in (pin, pout):
            if os.path.exists(f):
                os.unlink(f)
        os.rmdir(tmp)
    return run


class Cases:
    """Runs named checks; prints PASS/FAIL each and the summary line."""

    def __init__(self, suite):
        self.suite = suite
        self.passed = self.failed = 0

    def run(self, name, fn):
        try:
            fn()
            self.passed += 1
            print("PASS %s" % name, flush=True)
        except Exception as e:  # report every case, fail at the end
            self.failed += 1
            print("FAIL %s: %s" % (name, e), flush=True)

    def finish(self):
        print("%s: %d passed, %d failed" % (self.suite, self.passed, self.failed))
        return 1 if self.failed else 0
