#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
scapy_peer.py - an independent ESP peer in place of gw2 (tests/integ/run.sh, scapy_peer):
decrypts the ESP echo requests gw1 sends (SPI 0x1001, tunnel 192.0.2.1 -> 192.0.2.2,
AES-128-GCM), checks them, and answers each with an echo reply encrypted with SPI 0x2001
(tunnel 192.0.2.2 -> 192.0.2.1). Bounded: COUNT requests or the timeout of the caller.

Usage: scapy_peer.py IFACE COUNT KEY_OUT KEY_BACK   (keys as 0x<key><salt>)
"""
import sys

from scapy.all import IP, ICMP, Raw, send, sniff, conf
from scapy.layers.ipsec import ESP, SecurityAssociation

conf.verb = 0
iface, count = sys.argv[1], int(sys.argv[2])
key_in = bytes.fromhex(sys.argv[3][2:])
key_out = bytes.fromhex(sys.argv[4][2:])
sa_in = SecurityAssociation(ESP, spi=0x1001, crypt_algo="AES-GCM", crypt_key=key_in,
                            tunnel_header=IP(src="192.0.2.1", dst="192.0.2.2"))
sa_out = SecurityAssociation(ESP, spi=0x2001, crypt_algo="AES-GCM", crypt_key=key_out,
                             tunnel_header=IP(src="192.0.2.2", dst="192.0.2.1"))
done = 0


def answer(pkt):
    global done
    if ESP not in pkt or pkt[ESP].spi != 0x1001:
        return
    inner = sa_in.decrypt(pkt[IP])
    assert inner.src == "198.51.100.10" and inner.dst == "203.0.113.10", inner.summary()
    assert ICMP in inner and inner[ICMP].type == 8, inner.summary()
    reply = IP(src=inner.dst, dst=inner.src) / ICMP(type=0, id=inner[ICMP].id,
                                                    seq=inner[ICMP].seq) / Raw(inner[Raw].load)
    send(sa_out.encrypt(IP(bytes(reply))))
    done += 1
    print("peer: request %d (seq %d) decrypted, reply sent" % (done, inner[ICMP].seq))


sniff(iface=iface, filter="esp and src host 192.0.2.1", prn=answer,
      stop_filter=lambda p: done >= count, timeout=15)
print("peer: %d requests decrypted, %d replies sent" % (done, done))
sys.exit(0 if done >= count else 1)
