# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
esptest.py - the packet builders and the pcap-mode runner shared by the Python tests
(tests/interop, tests/security, tests/integ): plaintext packets with their checksums filled
in, scapy's ESP as an independent implementation, and esper-xdp run over a capture with a
command file, its counters parsed from stderr. Run the tests with /usr/bin/python3 (Debian's
scapy).
"""
import logging
import os
import re
import subprocess
import tempfile

from scapy.all import IP, IPv6, UDP, TCP, Ether, Raw, rdpcap, wrpcap, conf
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


def ip_of(family, src, dst, **kw):
    return IP(src=src, dst=dst, **kw) if family == 4 else IPv6(src=src, dst=dst, **kw)


def udp(family, src, dst, sport=4000, dport=5000, size=16, **kw):
    return filled(ip_of(family, src, dst, **kw) / UDP(sport=sport, dport=dport) /
                  Raw(bytes(i & 0xFF for i in range(size))))


def tcp(family, src, dst, sport=4000, dport=443, size=16, **kw):
    return filled(ip_of(family, src, dst, **kw) / TCP(sport=sport, dport=dport, flags="S") /
                  Raw(bytes(i & 0xFF for i in range(size))))


def ether(pkt):
    return Ether(src=MAC_A, dst=MAC_B) / pkt


def scapy_sa(spi, key, tunnel=None, esn=False):
    """scapy's ESP SA: AES-GCM-16; tunnel = (family, src, dst) or None for transport."""
    hdr = ip_of(tunnel[0], tunnel[1], tunnel[2]) if tunnel else None
    return SecurityAssociation(ESP, spi=spi, crypt_algo="AES-GCM", crypt_key=key,
                               tunnel_header=hdr, esn_en=esn)


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
