#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
scapy_peer.py - an independent ESP peer in place of gw2 (tests/integ/run.sh, scapy_peer):
decrypts the ESP echo requests gw1 sends (SPI 0x1001, tunnel 192.0.2.1 -> 192.0.2.2,
AES-128-GCM), checks them, and answers each with an echo reply encrypted with SPI 0x2001
(tunnel 192.0.2.2 -> 192.0.2.1). Bounded: COUNT requests or the timeout of the caller.

Usage: scapy_peer.py IFACE COUNT KEY_OUT KEY_BACK   (keys as 0x<key><salt>)
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from esptest import ESP, ICMP, IP, Raw, conf, filled, ip_of, scapy_sa  # noqa: E402
from scapy.all import send, sniff  # noqa: E402

conf.verb = 0
iface, count = sys.argv[1], int(sys.argv[2])
sa_in = scapy_sa(0x1001, bytes.fromhex(sys.argv[3][2:]), (4, "192.0.2.1", "192.0.2.2"))
sa_out = scapy_sa(0x2001, bytes.fromhex(sys.argv[4][2:]), (4, "192.0.2.2", "192.0.2.1"))
done = 0


def answer(pkt):
    global done
    if ESP not in pkt or pkt[ESP].spi != 0x1001:
        return
    inner = sa_in.decrypt(pkt[IP])
    assert inner.src == "198.51.100.10" and inner.dst == "203.0.113.10", inner.summary()
    assert ICMP in inner and inner[ICMP].type == 8, inner.summary()
    reply = filled(ip_of(4, inner.dst, inner.src) /
                   ICMP(type=0, id=inner[ICMP].id, seq=inner[ICMP].seq) / Raw(inner[Raw].load))
    send(sa_out.encrypt(reply))
    done += 1
    print("peer: request %d (seq %d) decrypted, reply sent" % (done, inner[ICMP].seq))


sniff(iface=iface, filter="esp and src host 192.0.2.1", prn=answer,
      stop_filter=lambda p: done >= count, timeout=15,
      started_callback=lambda: print("peer: listening on %s" % iface, flush=True))
print("peer: %d requests decrypted, %d replies sent" % (done, done))
sys.exit(0 if done >= count else 1)
