#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
test_pcap.py - the security suite's offline half: esper-xdp as an RFC 4301 security gateway,
driven through its pcap mode with packets an attacker would send (scapy builds them; scapy's
ESP encrypts the forged ones with the right keys, as a peer that went astray would).

  reflection         gw1's own ESP sent back to it, as sent or with the outer addresses
                     swapped, is never decrypted (SAs are unidirectional, RFC 4301 4.1)
  outer addresses    ESP for a known SPI whose outer source or destination is not the SA's
  inbound policy     an SA named by an `in` policy delivers only inner packets that match
                     one of its in policies (RFC 4301 5.2 step 4); ESPER's rule stays for
                     an SA without one; --strict-inbound makes the check mandatory
  fail closed        non-first fragments and IPv6 chains too long to read under port
                     policies, protocol 50 from the protected side: never in clear
  actions            -P out|in discard and none (setkey's other actions)
  VLAN tags          behind more than two tags (the kernel strips VID 0 tags, every one):
                     dropped, never passed in clear
  egress             --mtu: TFC padding never outgrows the path, packet too big below 1280
  files              --pcap-out (decrypted traffic) is created 0600

Usage: /usr/bin/python3 tests/security/test_pcap.py build/esper-xdp
"""
import os
import stat
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from esptest import (ESP, GW, HOST, IP, KEY_BACK, KEY_OUT, MAC_A, MAC_B, SITE, Cases, Raw,  # noqa
                     ether, filled, l3, run_esper, scapy_sa, tcp, udp)
from scapy.all import (ICMP, Dot1Q, Ether, IPv6ExtHdrDestOpt, fragment, fragment6,  # noqa
                       IPv6ExtHdrFragment)
from scapy.layers.inet6 import ICMPv6PacketTooBig  # noqa

ESPER = sys.argv[1] if len(sys.argv) > 1 else "build/esper-xdp"

SA_LINES = ("add 192.0.2.1 192.0.2.2 esp 0x1001 -u 1 -E aes-gcm-16 0x%s ;\n"
            "add 192.0.2.2 192.0.2.1 esp 0x2001 -u 2 -E aes-gcm-16 0x%s ;\n"
            % (KEY_OUT.hex(), KEY_BACK.hex()))
TUNNEL_OUT = "esp/tunnel/192.0.2.1-192.0.2.2/unique:1"
TUNNEL_IN = "esp/tunnel/192.0.2.2-192.0.2.1/unique:2"
POLICY_OUT = "spdadd 198.51.100.0/24 203.0.113.0/24 any -P out ipsec %s ;\n" % TUNNEL_OUT
POLICY_IN = "spdadd 203.0.113.0/24 198.51.100.0/24 any -P in ipsec %s ;\n" % TUNNEL_IN
GW1 = SA_LINES + POLICY_OUT + POLICY_IN


def esper(commands, frames, *opts):
    r = run_esper(ESPER, commands, frames, *opts)
    assert r.rc == 0, "esper-xdp exited %d: %s" % (r.rc, r.err[-500:])
    assert not r.refused(), "commands refused: %s" % r.refused()
    return r


def clear_ip(run, match):
    """The output packets that are not ESP and satisfy match(ip)."""
    found = []
    for f in run.out:
        p = l3(f)
        nh = p.proto if IP in p else p.nh
        if nh != 50 and match(p):
            found.append(p)
    return found


def from_host(p, src):
    return p.src == src


# --- reflection -------------------------------------------------------------------------

def plain_to_far_site(n=6):
    return [ether(udp(4, HOST[4][0], HOST[4][1], sport=4000 + i)) for i in range(n)]


def gw1_output():
    r = esper(GW1, plain_to_far_site())
    assert r.counters.get("to_wire") == 6, "gw1 encrypted %s" % r.counters
    return r.out


def reflection_as_sent():
    r = esper(GW1, gw1_output())
    assert r.counters.get("to_host", 0) == 0, "gw1 decrypted its own ESP: %s" % r.counters
    assert not clear_ip(r, lambda p: p.src == HOST[4][0]), "inner packets came out in clear"


def swapped(frame):
    p = l3(frame)
    p = IP(bytes(p))
    p.src, p.dst = p.dst, p.src
    del p.chksum
    return ether(filled(p))


def reflection_swapped():
    r = esper(GW1, [swapped(f) for f in gw1_output()])
    assert r.counters.get("to_host", 0) == 0, "gw1 decrypted its own ESP: %s" % r.counters
    assert not clear_ip(r, lambda p: p.src == HOST[4][0]), "inner packets came out in clear"


def outer_addresses():
    frames = []
    for src, dst in (("192.0.2.2", "192.0.2.99"), ("192.0.2.98", "192.0.2.1")):
        sa = scapy_sa(0x2001, KEY_BACK, (4, src, dst))
        frames.append(ether(sa.encrypt(udp(4, HOST[4][1], HOST[4][0]))))
    r = esper(GW1, frames)
    assert r.counters.get("to_host", 0) == 0, "decrypted with wrong outer addresses: %s" % (
        r.counters)


# --- the inbound policy check (RFC 4301 5.2) ----------------------------------------------

GOOD = ("203.0.113.9", "198.51.100.7")
BAD = [("192.0.2.66", "198.51.100.7"),      # source outside the policy
       ("203.0.113.9", "192.0.2.1"),        # to the gateway itself
       ("192.0.2.200", "192.0.2.201")]      # nothing to do with the policy


def forged_inbound():
    sa = scapy_sa(0x2001, KEY_BACK, (4, "192.0.2.2", "192.0.2.1"))
    frames = [ether(sa.encrypt(udp(4, s, d))) for s, d in [GOOD] + BAD]
    # transport mode under an SA whose policy is tunnel mode
    tsa = scapy_sa(0x2001, KEY_BACK)
    tsa.seq_num = 100
    frames.append(ether(tsa.encrypt(udp(4, "192.0.2.2", "192.0.2.1"))))
    return frames


def delivered(run):
    return sorted((l3(f).src, l3(f).dst) for f in run.out if l3(f).proto != 50)


def inbound_policy():
    r = esper(GW1, forged_inbound())
    assert delivered(r) == [GOOD], "delivered %s, want only %s" % (delivered(r), [GOOD])


def esper_rule_without_in_policy():
    r = esper(SA_LINES + POLICY_OUT, forged_inbound())
    want = sorted([GOOD] + BAD + [("192.0.2.2", "192.0.2.1")])
    assert delivered(r) == want, "delivered %s, want %s" % (delivered(r), want)


def strict_inbound():
    r = esper(SA_LINES + POLICY_OUT, forged_inbound(), "--strict-inbound")
    assert delivered(r) == [], "delivered %s without an inbound policy" % delivered(r)


def unreadable_inbound():
    """Through SA 0x2001 under an inbound policy for UDP to port 5000: what may come (a
    datagram to 5000, and a non-first fragment: its first fragment carries the ports and
    is checked, docs/security.md) and what may not (another port, another protocol, IP
    protocol 255, a UDP header cut short)."""
    sa = scapy_sa(0x2001, KEY_BACK, (4, "192.0.2.2", "192.0.2.1"))
    src, dst = GOOD
    whole = udp(4, src, dst, dport=5000, size=3000, id=0x4444)
    first, later = fragment(whole, fragsize=1000)[:2]
    may = [udp(4, src, dst, dport=5000), later]
    may_not = [udp(4, src, dst, dport=22),
               tcp(4, src, dst, dport=5000),
               filled(IP(src=src, dst=dst, proto=255) / Raw(bytes(range(40)))),
               filled(IP(src=src, dst=dst, proto=17) / Raw(b"\x0f\xa0"))]
    return [ether(sa.encrypt(p)) for p in may + may_not], len(may)


def inbound_policy_unreadable():
    cmds = (SA_LINES + POLICY_OUT + "spdadd 203.0.113.0/24 198.51.100.0/24[5000] udp "
            "-P in ipsec %s ;\n" % TUNNEL_IN)
    frames, n_may = unreadable_inbound()
    r = esper(cmds, frames)
    out = [l3(f) for f in r.out if l3(f).proto != 50]
    got = sorted((p.proto, p.frag) for p in out)
    assert got == [(17, 0), (17, 125)], "delivered %s, want the datagram to 5000 and the " \
        "non-first fragment (of %d frames, %d allowed)" % (
            [p.summary() for p in out], len(frames), n_may)


# --- fail closed: selectors that cannot be read ------------------------------------------

def udp_fragments():
    p = udp(4, HOST[4][0], HOST[4][1], dport=5000, size=3000, id=0x4242)
    v6 = udp(6, HOST[6][0], HOST[6][1], dport=5000, data=bytes(3000),
             ext=[IPv6ExtHdrFragment(id=0x4343)])
    frags6 = fragment6(v6, 1000)
    return [ether(f) for f in fragment(p, fragsize=1000)] + [ether(f) for f in frags6]


def fragments_under_port_policy():
    cmds = (SA_LINES + "add 2001:db8::1 2001:db8::2 esp 0x1003 -u 3 -E aes-gcm-16 0x%s ;\n"
            % bytes(range(0x41, 0x55)).hex() +
            "spdadd 198.51.100.0/24 203.0.113.0/24[5000] udp -P out ipsec %s ;\n" % TUNNEL_OUT +
            "spdadd 2001:db8:1::/48 2001:db8:2::/48[5000] udp -P out ipsec "
            "esp/tunnel/2001:db8::1-2001:db8::2/unique:3 ;\n")
    frames = udp_fragments()
    r = esper(cmds, frames)
    leaked = clear_ip(r, lambda p: p.src in (HOST[4][0], HOST[6][0]))
    assert not leaked, "%d of %d fragments left in clear: %s" % (
        len(leaked), len(frames), [x.summary() for x in leaked])


def with_dest_opts(n):
    return ether(tcp(6, HOST[6][0], HOST[6][1], dport=443, data=b"x" * 20,
                     ext=[IPv6ExtHdrDestOpt() for _ in range(n)]))


def long_ipv6_chain_under_port_policy():
    cmds = (SA_LINES + "spdadd 2001:db8:1::/48 2001:db8:2::/48[443] tcp -P out ipsec %s ;\n"
            % TUNNEL_OUT)
    r = esper(cmds, [with_dest_opts(9), with_dest_opts(3)])
    leaked = clear_ip(r, lambda p: p.src == HOST[6][0])
    assert not leaked, "left in clear: %s" % [x.summary() for x in leaked]
    assert r.counters.get("to_wire", 0) >= 1, "the readable one was not encrypted"


def esp_from_protected_side():
    fake = filled(IP(src=HOST[4][0], dst=HOST[4][1], proto=50) /
                  Raw(bytes.fromhex("dead0001") + bytes(40)))
    for opts in ((), ("--unknown-spi", "drop")):
        r = esper(GW1, [ether(fake)], *opts)
        leaked = clear_ip(r, lambda p: True)
        assert not leaked and not [f for f in r.out if l3(f).src == HOST[4][0]], (
            "protocol 50 from the protected side left in clear (%s)" % " ".join(opts))


# --- setkey's other actions ------------------------------------------------------------------

def discard_and_none():
    cmds = (SA_LINES + POLICY_OUT +
            "spdadd 198.51.100.8 203.0.113.0/24 any -P out discard ;\n"
            "spdadd 198.51.100.9 203.0.113.0/24 any -P out none ;\n"
            "spdadd 203.0.113.0/24 198.51.100.0/24 any -P in discard ;\n"
            "spdadd 203.0.113.5 198.51.100.0/24 any -P in none ;\n")
    frames = [ether(udp(4, s, d)) for s, d in (
        ("198.51.100.7", "203.0.113.9"), ("198.51.100.8", "203.0.113.9"),
        ("198.51.100.9", "203.0.113.9"), ("203.0.113.6", "198.51.100.7"),
        ("203.0.113.5", "198.51.100.7"))]
    r = esper(cmds, frames)
    clear = sorted(p.src for p in clear_ip(r, lambda p: True))
    esp = [f for f in r.out if l3(f).proto == 50]
    assert clear == ["198.51.100.9", "203.0.113.5"], "passed in clear: %s" % clear
    assert len(esp) == 1 and l3(esp[0])[ESP].spi == 0x1001, "encrypted: %d" % len(esp)


# --- more VLAN tags than XDP reads --------------------------------------------------------------

def vlan_tags():
    frames = []
    for tags in (2, 3, 4):
        e = Ether(src=MAC_A, dst=MAC_B)
        for _ in range(tags):
            e = e / Dot1Q(vlan=0)
        frames.append(e / udp(4, HOST[4][0], HOST[4][1], sport=5000 + tags,
                              data=b"tags%d" % tags))
    r = esper(GW1, frames)
    leaked = [f for f in r.out if b"tags" in bytes(f)]
    assert not leaked, "%d tagged packets passed in clear" % len(leaked)
    assert r.counters.get("tags") == 2, "dropped for their tags: %s" % r.counters
    assert r.counters.get("to_wire") == 1, "two tags: encrypted? %s" % r.counters


# --- egress: the path MTU -------------------------------------------------------------------

def tfc_within_mtu():
    cmds = ("add 192.0.2.1 192.0.2.2 esp 0x1001 -u 1 -E aes-gcm-16 0x%s tfc:1500 ;\n"
            % KEY_OUT.hex() + POLICY_OUT)
    frames = [ether(udp(4, HOST[4][0], HOST[4][1], size=16, flags=0)),
              ether(udp(4, HOST[4][0], HOST[4][1], size=100, flags="DF"))]
    r = esper(cmds, frames, "--mtu", "1500")
    esp = [l3(f) for f in r.out if l3(f).proto == 50]
    assert len(esp) == 2, "encrypted %d of 2 (%s)" % (len(esp), r.counters)
    assert all(len(p) <= 1500 for p in esp), "ESP beyond the MTU: %s" % [len(p) for p in esp]
    assert not [f for f in r.out if ICMP in l3(f)], "packet too big for a small packet"


def too_big_v4():
    frames = [ether(udp(4, HOST[4][0], HOST[4][1], size=1372, flags="DF")),
              ether(udp(4, HOST[4][0], HOST[4][1], size=1372, flags=0, id=7))]
    r = esper(GW1, frames, "--mtu", "1400")
    icmp = [l3(f) for f in r.out if ICMP in l3(f)]
    esp = [l3(f) for f in r.out if l3(f).proto == 50]
    assert len(icmp) == 1 and icmp[0][ICMP].type == 3 and icmp[0][ICMP].code == 4, (
        "no fragmentation-needed: %s" % [x.summary() for x in r.out])
    assert icmp[0][ICMP].nexthopmtu == 1346, "told MTU %d" % icmp[0][ICMP].nexthopmtu
    assert len(esp) == 2 and all(len(p) <= 1400 for p in esp), (
        "the packet without DF: %s" % [len(p) for p in esp])


def too_big_v6_below_1280():
    cmds = (SA_LINES + "spdadd 2001:db8:1::/48 2001:db8:2::/48 any -P out ipsec %s ;\n"
            % TUNNEL_OUT)
    big = ether(udp(6, HOST[6][0], HOST[6][1], size=1280 - 48))
    r = esper(cmds, [big], "--mtu", "1300")
    esp = [l3(f) for f in r.out if IP in l3(f) and l3(f).proto == 50]
    ptb = [l3(f) for f in r.out if ICMPv6PacketTooBig in l3(f)]
    assert not esp, "sent ESP of %d bytes on a 1300-byte path" % len(esp[0])
    assert not [p for p in ptb if p[ICMPv6PacketTooBig].mtu >= 1280], (
        "told the sender an MTU that does not fit: %s" % [p.summary() for p in ptb])
    assert r.counters.get("too_small") == 1, "not counted: %s" % r.counters


# --- files ---------------------------------------------------------------------------------

def pcap_out_private():
    old = os.umask(0o022)
    try:
        tmp = os.path.join("build", "security-pcap")
        os.makedirs(tmp, exist_ok=True)
        r = run_esper(ESPER, GW1, plain_to_far_site(1), keep=tmp)
        mode = stat.S_IMODE(os.stat(r.path).st_mode)
    finally:
        os.umask(old)
    assert mode == 0o600, "--pcap-out created %o" % mode


def main():
    t = Cases("security pcap")
    for name, fn in [
            ("reflection: gw1's ESP as sent", reflection_as_sent),
            ("reflection: gw1's ESP, outer addresses swapped", reflection_swapped),
            ("known SPI, wrong outer addresses", outer_addresses),
            ("inbound policy: forged inner packets dropped", inbound_policy),
            ("no inbound policy: ESPER delivers", esper_rule_without_in_policy),
            ("--strict-inbound: no policy, nothing delivered", strict_inbound),
            ("inbound port policy: protocol 255, a cut UDP header, other ports dropped",
             inbound_policy_unreadable),
            ("non-first fragments under a port policy", fragments_under_port_policy),
            ("IPv6 chain past the parser under a port policy",
             long_ipv6_chain_under_port_policy),
            ("protocol 50 from the protected side", esp_from_protected_side),
            ("-P out/in discard and none", discard_and_none),
            ("more than two VLAN tags: dropped", vlan_tags),
            ("TFC padding within the MTU", tfc_within_mtu),
            ("IPv4 too big: ICMP with DF, fragments without", too_big_v4),
            ("IPv6 inner MTU below 1280", too_big_v6_below_1280),
            ("--pcap-out is 0600", pcap_out_private)]:
        t.run(name, fn)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
