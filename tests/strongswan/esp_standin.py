#!/usr/bin/python3
"""esp_standin.py - a stand-in for esper-xdp on gw1 (tests/strongswan/run.sh, case standin),
until esper-xdp does NAT traversal: a scapy gateway doing ESP in UDP (RFC 3948) that is
keyed, like esper-xdp will be, by esper-xdp commands on standard input (the subset that
swan2esper.py prints for a tunnel-mode AES-GCM-16 CHILD_SA: add ... esp-udp, spdadd
tunnel in/out, which replaces, delete).

It sniffs plaintext arriving on LAN that an outbound policy covers, encrypts it and sends
it in UDP; it sniffs UDP 4500 arriving on WAN whose first 4 bytes are not zero (ESP, RFC
3948 2.2), decrypts it with the SA of its SPI and sends the inner packet on. (It cannot take the packets away from the kernel as XDP does: the caller
makes the kernel drop them, and the ESP also reaches charon, whose output is blackholed.)
Bounded by DURATION seconds; prints what it applied and, at the end, its counters.

Usage: esp_standin.py LAN WAN DURATION < commands
"""
import ipaddress
import os
import re
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from esptest import ESP, IP, UDP, conf, scapy_sa  # noqa: E402
from scapy.all import send, sniff  # noqa: E402

conf.verb = 0
lan, wan, duration = sys.argv[1], sys.argv[2], float(sys.argv[3])

ADD = re.compile(r"^add (\S+?)\[(\d+)\] (\S+?)\[(\d+)\] esp-udp 0x([0-9a-f]+) -u (\d+) "
                 r"-E aes-gcm-16 0x([0-9a-f]{40})$")
SPD = re.compile(r"^spdadd (\S+) (\S+) any -P (in|out) ipsec esp/tunnel/(\S+)-(\S+)/unique:(\d+)$")
DEL = re.compile(r"^delete (\S+) (\S+) esp 0x([0-9a-f]+)$")

lock = threading.Lock()
sas = {}  # UniqueID -> {"spi", "sa", "enc", "dec", "bad"}
policies = {}  # (direction, src net, dst net) -> (UniqueID, tunnel src, tunnel dst)
errors = []


def apply(cmd):
    m = ADD.match(cmd)
    if m:
        src, sport, dst, dport, spi, uid, key = m.groups()
        sa = scapy_sa(int(spi, 16), bytes.fromhex(key), (4, src, dst),
                      nat_t=(int(sport), int(dport)))
        sas[int(uid)] = {"spi": int(spi, 16), "sa": sa, "enc": 0, "dec": 0, "bad": 0}
        return
    m = SPD.match(cmd)
    if m:
        s, d, direction, ts, td, uid = m.groups()
        if int(uid) not in sas:
            raise ValueError("no SA with UniqueID %s" % uid)
        policies[(direction, ipaddress.ip_network(s), ipaddress.ip_network(d))] = \
            (int(uid), ts, td)
        return
    m = DEL.match(cmd)
    if m:
        spi = int(m.group(3), 16)
        for uid in [u for u, e in sas.items() if e["spi"] == spi]:
            print("standin: SA 0x%08x: %d encrypted, %d decrypted, %d failed"
                  % (spi, sas[uid]["enc"], sas[uid]["dec"], sas[uid]["bad"]), flush=True)
            del sas[uid]
            for k in [k for k, v in policies.items() if v[0] == uid]:
                del policies[k]
        return
    raise ValueError("not a command this stand-in knows")


def read_commands():
    buf = ""
    for line in sys.stdin:
        line = line.split("#", 1)[0]
        buf += " " + line
        while ";" in buf:
            cmd, buf = buf.split(";", 1)
            cmd = " ".join(cmd.split())
            if not cmd:
                continue
            with lock:
                try:
                    apply(cmd)
                    print("standin: applied: %s ;" % cmd, flush=True)
                except ValueError as err:
                    errors.append(cmd)
                    print("standin: error: %s: %s" % (cmd, err), flush=True)


def policy(direction, inner):
    s, d = ipaddress.ip_address(inner.src), ipaddress.ip_address(inner.dst)
    for (pdir, ps, pd), v in policies.items():
        if pdir == direction and s in ps and d in pd:
            return v
    return None


def packet(pkt):
    if IP not in pkt:
        return
    with lock:
        if pkt.sniffed_on == lan:
            pol = policy("out", pkt[IP])
            if not pol or pol[0] not in sas:
                return
            e = sas[pol[0]]
            out = e["sa"].encrypt(IP(bytes(pkt[IP])))
            # scapy 2.5 computes the UDP length of nat_t_header before the ESP is
            # appended (8): set it
            out[UDP].len = len(out[UDP])
            e["enc"] += 1
        else:
            if ESP not in pkt:
                return
            spi = pkt[ESP].spi
            e = next((e for e in sas.values() if e["spi"] == spi), None)
            if e is None:
                return  # unknown SPI: left to the kernel (charon), as esper-xdp does
            try:
                out = e["sa"].decrypt(IP(bytes(pkt[IP])))
            except Exception as err:  # authentication failed
                e["bad"] += 1
                print("standin: SA 0x%08x: %r" % (spi, err), flush=True)
                return
            # as esper-xdp: inbound ESP is matched by SPI alone, no policy is consulted
            # after decryption (the old SA still delivers after the inbound policy has
            # moved to its successor, during a rekeying)
            e["dec"] += 1
    send(out)


threading.Thread(target=read_commands, daemon=True).start()
sniff(iface=[lan, wan], prn=packet, store=False, timeout=duration,
      started_callback=lambda: print("standin: sniffing on %s and %s" % (lan, wan), flush=True),
      filter="inbound and ((udp dst port 4500 and udp[8:4] != 0) or "
             "(ip and not udp port 500 and not udp port 4500))")
with lock:
    for e in sas.values():
        print("standin: SA 0x%08x: %d encrypted, %d decrypted, %d failed"
              % (e["spi"], e["enc"], e["dec"], e["bad"]), flush=True)
    print("standin: %d commands refused" % len(errors), flush=True)
