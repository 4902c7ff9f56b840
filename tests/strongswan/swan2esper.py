#!/usr/bin/python3
"""swan2esper.py - esper-xdp's commands for the CHILD_SAs of a running strongSwan charon.

charon negotiates; esper-xdp does the ESP. This tool joins what each of them knows:

  - the keys, from charon's log (filelog with `chd = 4`; strongSwan 5.9.8 logs them in
    keymat_v2.c, derive_child_keys: "encryption initiator key => 20 bytes @ 0x..." followed
    by hexdump lines; for AES-GCM the 4-byte salt is the last 4 bytes of each key), and the
    SPIs they belong to ("CHILD_SA net{1} established with SPIs c8e3d9fd_i b5fa8df7_o ...");
  - the addresses, ports, traffic selectors and algorithm of each CHILD_SA, from charon's
    vici socket (the `list-sas` command, what `swanctl --list-sas --raw` prints).

and prints, for each CHILD_SA of the gateway, esper-xdp's commands (docs/commands.md):

  add LOCAL[LPORT] REMOTE[RPORT] esp-udp 0xSPI_OUT -u N -E aes-gcm-16 0xKEY_OUT ;
  add REMOTE[RPORT] LOCAL[LPORT] esp-udp 0xSPI_IN -u N+1 -E aes-gcm-16 0xKEY_IN ;
  spdadd RTS LTS any -P in ipsec esp/tunnel/REMOTE-LOCAL/unique:N+1 ;
  spdadd LTS RTS any -P out ipsec esp/tunnel/LOCAL-REMOTE/unique:N ;

(plain `esp` and no ports when the CHILD_SA is not UDP-encapsulated). With --follow it keeps
reading the log and polling vici: a new CHILD_SA (rekeying) gets its adds and its inbound
policy at once, its outbound policy (which replaces the old one) once charon has installed
its own outbound SA (the log says "CHILD_SA ... established" without "inbound", or
"outbound CHILD_SA ... established"), and a CHILD_SA that is no longer listed gets
`delete SRC DST esp 0xSPI ;` for both of its SAs.

Which key is which: the keys are derived in the order of RFC 7296 2.17, initiator's then
responder's, where "initiator" is the one that sent the request of the exchange creating
this CHILD_SA (IKE_AUTH or CREATE_CHILD_SA), not necessarily the IKE_SA's initiator. The
log line "parsed <EXCHANGE> response" on the same thread just before the keys means this
charon initiated it: inbound SA = responder's key, outbound = initiator's; "parsed
<EXCHANGE> request" means it responded: inbound = initiator's key, outbound = responder's.

--format tshark prints Wireshark's esp_sa table rows instead (for tshark -o uat:esp_sa:ROW).

Usage: swan2esper.py --log charon.log --vici /path/charon.vici [--follow] [--interval S]
                     [--recheck S] [--duration S] [--unique-base N] [--format esper|tshark]
                     [--also FILE]
"""
import argparse
import os
import re
import socket
import struct
import sys
import time

# --- vici: the packet and message encoding of src/libcharon/plugins/vici/README.md --------

CMD_REQUEST, CMD_RESPONSE, CMD_UNKNOWN = 0, 1, 2
EVENT_REGISTER, EVENT_UNREGISTER, EVENT_CONFIRM, EVENT_UNKNOWN, EVENT = 3, 4, 5, 6, 7
SECTION_START, SECTION_END, KEY_VALUE, LIST_START, LIST_ITEM, LIST_END = 1, 2, 3, 4, 5, 6


class Vici:
    def __init__(self, path, timeout=10.0):
        if path.startswith("unix://"):
            path = path[len("unix://"):]
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)

    def close(self):
        self.sock.close()

    def _send(self, ptype, name=None, body=b""):
        data = bytes([ptype])
        if name is not None:
            data += bytes([len(name)]) + name.encode()
        data += body
        self.sock.sendall(struct.pack("!I", len(data)) + data)

    def _recvn(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("vici socket closed")
            buf += chunk
        return buf

    def _recv(self):
        (length,) = struct.unpack("!I", self._recvn(4))
        data = self._recvn(length)
        ptype = data[0]
        pos = 1
        name = None
        if ptype in (CMD_REQUEST, EVENT_REGISTER, EVENT_UNREGISTER, EVENT):
            nlen = data[1]
            name = data[2:2 + nlen].decode()
            pos = 2 + nlen
        return ptype, name, data[pos:]

    @staticmethod
    def parse(body):
        """A message as nested dicts; lists as Python lists; values as str."""
        root = {}
        stack = [root]
        lst = None
        pos = 0
        while pos < len(body):
            t = body[pos]
            pos += 1
            if t in (SECTION_START, KEY_VALUE, LIST_START):
                nlen = body[pos]
                name = body[pos + 1:pos + 1 + nlen].decode()
                pos += 1 + nlen
            if t in (KEY_VALUE, LIST_ITEM):
                (vlen,) = struct.unpack("!H", body[pos:pos + 2])
                value = body[pos + 2:pos + 2 + vlen].decode(errors="replace")
                pos += 2 + vlen
            if t == SECTION_START:
                sec = {}
                stack[-1][name] = sec
                stack.append(sec)
            elif t == SECTION_END:
                stack.pop()
            elif t == KEY_VALUE:
                stack[-1][name] = value
            elif t == LIST_START:
                lst = stack[-1][name] = []
            elif t == LIST_ITEM:
                lst.append(value)
            elif t == LIST_END:
                lst = None
            else:
                raise ValueError("bad vici element type %d" % t)
        return root

    def streamed(self, command, event):
        """Run a streaming command (list-sas): the events it raised, then its response."""
        self._send(EVENT_REGISTER, event)
        ptype, _, _ = self._recv()
        if ptype != EVENT_CONFIRM:
            raise RuntimeError("vici: cannot register for %s" % event)
        self._send(CMD_REQUEST, command)
        events = []
        while True:
            ptype, name, body = self._recv()
            if ptype == EVENT and name == event:
                events.append(self.parse(body))
            elif ptype == CMD_RESPONSE:
                break
            elif ptype == CMD_UNKNOWN:
                raise RuntimeError("vici: unknown command %s" % command)
        self._send(EVENT_UNREGISTER, event)
        while self._recv()[0] not in (EVENT_CONFIRM, EVENT_UNKNOWN):
            pass
        return events


def list_children(vici_path):
    """{spi_in: CHILD_SA facts} for every CHILD_SA with SPIs, from vici list-sas."""
    v = Vici(vici_path)
    try:
        events = v.streamed("list-sas", "list-sa")
    finally:
        v.close()
    children = {}
    for ev in events:
        for ike_name, ike in ev.items():
            for child in ike.get("child-sas", {}).values():
                if "spi-in" not in child:
                    continue
                children[int(child["spi-in"], 16)] = {
                    "ike": ike_name,
                    "name": child.get("name", "?"),
                    "uniqueid": child.get("uniqueid", "?"),
                    "state": child.get("state", "?"),
                    "mode": child.get("mode", "TUNNEL"),
                    "protocol": child.get("protocol", "ESP"),
                    "encap": child.get("encap") == "yes",
                    "spi_in": int(child["spi-in"], 16),
                    "spi_out": int(child["spi-out"], 16),
                    "encr_alg": child.get("encr-alg", ""),
                    "encr_keysize": int(child.get("encr-keysize", "0")),
                    "integ_alg": child.get("integ-alg"),
                    "esn": child.get("esn") == "1",
                    "local_ts": child.get("local-ts", []),
                    "remote_ts": child.get("remote-ts", []),
                    "local": ike["local-host"],
                    "remote": ike["remote-host"],
                    "lport": ike.get("local-port", "500"),
                    "rport": ike.get("remote-port", "500"),
                }
    return children


# --- charon's log ---------------------------------------------------------------------------

# "[TIME ]NN[GRP] [<ike|n> ]message": filelog, with or without time_format, log_level, ike_name
LINE = re.compile(r"^(?:.*? )?(\d+)\[([A-Z]+)\d?\](?: <[^>]*>)? (.*)$")
PARSED = re.compile(r"^parsed (\S+) (request|response) ")
KEY = re.compile(r"^encryption (initiator|responder) key => (\d+) bytes")
HEX = re.compile(r"^\s*\d+: ((?:[0-9A-F]{2} )*[0-9A-F]{2})")
ESTABLISHED = re.compile(
    r"^(inbound |outbound )?CHILD_SA (\S+)\{(\d+)\} established with SPIs "
    r"([0-9a-f]{8})_i ([0-9a-f]{8})_o")


class KeyLog:
    """Follows a charon log: {spi_in: {"key_in", "key_out", "spi_out", "out_ready"}}."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.partial = ""
        self.threads = {}  # thread -> {"role", "keys": {role: bytes}, "collect": [role, n]}
        self.sas = {}
        self.events = 0  # CHILD_SA lines seen: vici is asked again when this grows

    def poll(self):
        try:
            with open(self.path, "r", errors="replace") as f:
                f.seek(self.offset)
                data = f.read()
                self.offset = f.tell()
        except FileNotFoundError:
            return
        data = self.partial + data
        lines = data.split("\n")
        self.partial = lines.pop()  # an unfinished last line waits for the next poll
        for line in lines:
            self.line(line)

    def line(self, line):
        m = LINE.match(line)
        if not m:
            return
        thread, msg = m.group(1), m.group(3)
        if "CHILD_SA" in msg:
            self.events += 1
        st = self.threads.setdefault(thread, {"role": None, "keys": {}, "collect": None})
        if st["collect"]:
            h = HEX.match(msg)
            if h:
                who, want = st["collect"]
                st["keys"][who] += bytes.fromhex(h.group(1).replace(" ", ""))
                if len(st["keys"][who]) >= want:
                    st["collect"] = None
                return
            st["collect"] = None
        p = PARSED.match(msg)
        if p:
            st["role"] = "initiator" if p.group(2) == "response" else "responder"
            st["keys"] = {}
            return
        k = KEY.match(msg)
        if k:
            st["keys"][k.group(1)] = b""
            st["collect"] = [k.group(1), int(k.group(2))]
            return
        e = ESTABLISHED.match(msg)
        if not e:
            return
        prefix = (e.group(1) or "").strip()
        spi_in, spi_out = int(e.group(4), 16), int(e.group(5), 16)
        if prefix == "outbound":
            if spi_in in self.sas:
                self.sas[spi_in]["out_ready"] = True
            return
        keys = st["keys"]
        if st["role"] is None or "initiator" not in keys or "responder" not in keys:
            print("swan2esper: no keys logged for CHILD_SA %s{%s} (SPIs %08x_i %08x_o): is "
                  "chd = 4 on, and was the log read from the start?"
                  % (e.group(2), e.group(3), spi_in, spi_out), file=sys.stderr)
            return
        # what this side sends is protected with the key of its own role in the exchange;
        # what it receives, with the key of the other side's role
        mine = st["role"]
        theirs = "responder" if mine == "initiator" else "initiator"
        self.sas[spi_in] = {
            "spi_out": spi_out,
            "key_in": keys[theirs],
            "key_out": keys[mine],
            "out_ready": prefix != "inbound",
            "role": st["role"],
        }
        st["keys"] = {}


# --- esper-xdp's commands ---------------------------------------------------------------------

TS = re.compile(r"^([0-9a-fA-F.:]+)/(\d+)(?:\[([^\]/]*)(?:/(\d+))?\])?$")
PROTOS = {"": "any", "tcp": "tcp", "udp": "udp", "icmp": "icmp", "ipv6-icmp": "icmp6",
          "icmp6": "icmp6", "6": "tcp", "17": "udp", "1": "icmp", "58": "icmp6"}


def selector(ts):
    """'198.51.100.0/24[tcp/80]' -> ('198.51.100.0/24[80]', 'tcp')"""
    m = TS.match(ts)
    if not m or (m.group(3) or "") not in PROTOS:
        raise ValueError("traffic selector %s has no esper-xdp form" % ts)
    proto = PROTOS[m.group(3) or ""]
    port = m.group(4)
    return "%s/%s%s" % (m.group(1), m.group(2), "[%s]" % port if port else ""), proto


def algorithm(c, keylen):
    if c["encr_alg"] != "AES_GCM_16" or c["integ_alg"]:
        raise ValueError("%s%s is not an esper-xdp algorithm (AES_GCM_16 only)"
                         % (c["encr_alg"], "/" + c["integ_alg"] if c["integ_alg"] else ""))
    if keylen not in (20, 36):
        raise ValueError("AES-GCM key material of %d bytes" % keylen)
    return "aes-gcm-16-esn" if c["esn"] else "aes-gcm-16"


def endpoint(addr, port, encap):
    return "%s[%s]" % (addr, port) if encap else addr


class Emitter:
    def __init__(self, out, unique_base, fmt, also=None):
        self.out = out
        self.also = also
        self.next_id = unique_base
        self.fmt = fmt
        self.done = {}  # spi_in -> {"child", "in_id", "out_id", "out_done"}
        self.bad = set()

    def emit(self, text):
        self.out.write(text + "\n")
        if self.also:
            self.also.write(text + "\n")

    def add(self, c, k):
        """The two adds and the inbound policies of a new CHILD_SA."""
        alg = algorithm(c, len(k["key_in"]))
        enc = c["encap"]
        loc = endpoint(c["local"], c["lport"], enc)
        rem = endpoint(c["remote"], c["rport"], enc)
        proto = "esp-udp" if enc else "esp"
        pairs = [(selector(lt), selector(rt)) for lt in c["local_ts"] for rt in c["remote_ts"]]
        out_id, in_id = self.next_id, self.next_id + 1
        self.next_id += 2
        self.emit("# %s %s{%s}: %s, %s of its exchange, SPIs 0x%08x in, 0x%08x out"
                  % (c["ike"], c["name"], c["uniqueid"], c["state"], k["role"],
                     c["spi_in"], c["spi_out"]))
        self.emit("add %s %s %s 0x%08x -u %d -E %s 0x%s ;"
                  % (loc, rem, proto, c["spi_out"], out_id, alg, k["key_out"].hex()))
        self.emit("add %s %s %s 0x%08x -u %d -E %s 0x%s ;"
                  % (rem, loc, proto, c["spi_in"], in_id, alg, k["key_in"].hex()))
        pol = self.policies(c, pairs, "in", in_id)
        for line in pol:
            self.emit(line)
        self.done[c["spi_in"]] = {"child": c, "in_id": in_id, "out_id": out_id,
                                  "out_done": False, "pairs": pairs}

    @staticmethod
    def policies(c, pairs, direction, uid):
        if c["mode"] == "TUNNEL":
            if direction == "out":
                mode = "tunnel/%s-%s" % (c["local"], c["remote"])
            else:
                mode = "tunnel/%s-%s" % (c["remote"], c["local"])
        elif c["mode"] == "TRANSPORT":
            mode = "transport/"
        else:
            raise ValueError("mode %s has no esper-xdp form" % c["mode"])
        lines = []
        for (lsel, lp), (rsel, rp) in pairs:
            proto = lp if lp != "any" else rp
            if lp != "any" and rp != "any" and lp != rp:
                continue  # no packet matches both
            src, dst = (lsel, rsel) if direction == "out" else (rsel, lsel)
            lines.append("spdadd %s %s %s -P %s ipsec esp/%s/unique:%d ;"
                         % (src, dst, proto, direction, mode, uid))
        return lines

    def out_policies(self, spi_in):
        d = self.done[spi_in]
        for line in self.policies(d["child"], d["pairs"], "out", d["out_id"]):
            self.emit(line)
        d["out_done"] = True

    def delete(self, spi_in):
        c = self.done.pop(spi_in)["child"]
        self.emit("# %s %s{%s} is gone" % (c["ike"], c["name"], c["uniqueid"]))
        self.emit("delete %s %s esp 0x%08x ;" % (c["local"], c["remote"], c["spi_out"]))
        self.emit("delete %s %s esp 0x%08x ;" % (c["remote"], c["local"], c["spi_in"]))

    def step(self, children, keylog):
        """One round: adds for new CHILD_SAs, outbound policies when ready, deletes."""
        for spi_in, c in sorted(children.items(), key=lambda kv: int(kv[1]["uniqueid"])):
            k = keylog.sas.get(spi_in)
            if k is None or spi_in in self.bad:
                continue
            if spi_in not in self.done:
                if c["state"] not in ("INSTALLED", "REKEYING"):
                    continue  # being replaced already: its successor is what matters
                if self.fmt == "tshark":
                    self.tshark(c, k)
                    self.done[spi_in] = {"child": c, "out_done": True}
                    continue
                try:
                    self.add(c, k)
                except ValueError as err:
                    print("swan2esper: CHILD_SA %s{%s}: %s" % (c["name"], c["uniqueid"], err),
                          file=sys.stderr)
                    self.bad.add(spi_in)
                    continue
            if not self.done[spi_in]["out_done"] and k["out_ready"]:
                self.out_policies(spi_in)
        if self.fmt == "esper":
            for spi_in in [s for s in self.done if s not in children]:
                self.delete(spi_in)
        self.out.flush()
        if self.also:
            self.also.flush()

    def tshark(self, c, k):
        fam = "IPv6" if ":" in c["local"] else "IPv4"
        alg = "AES-GCM with 16 octet ICV [RFC4106]"
        for src, dst, spi, key in ((c["local"], c["remote"], c["spi_out"], k["key_out"]),
                                   (c["remote"], c["local"], c["spi_in"], k["key_in"])):
            self.emit('"%s","%s","%s","0x%08x","%s","0x%s","NULL",""'
                      % (fam, src, dst, spi, alg, key.hex()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--log", required=True, help="charon's log file (filelog, chd = 4)")
    ap.add_argument("--vici", required=True, help="charon's vici socket (unix:// or a path)")
    ap.add_argument("--follow", action="store_true", help="keep following charon")
    ap.add_argument("--interval", type=float, default=0.05,
                    help="with --follow: how often the log is read, seconds (vici is asked "
                         "when the log shows a CHILD_SA event, and every --recheck seconds)")
    ap.add_argument("--recheck", type=float, default=1.0,
                    help="with --follow: ask vici at least this often, seconds")
    ap.add_argument("--duration", type=float, default=0,
                    help="with --follow: stop after this many seconds (0: when killed)")
    ap.add_argument("--unique-base", type=int, default=1, help="first UniqueID to use")
    ap.add_argument("--format", choices=("esper", "tshark"), default="esper")
    ap.add_argument("--also", help="append every line printed to this file too")
    args = ap.parse_args()

    keylog = KeyLog(args.log)
    also = open(args.also, "a") if args.also else None
    em = Emitter(sys.stdout, args.unique_base, args.format, also)
    start = time.monotonic()
    asked_at, asked_events = None, -1
    try:
        while True:
            keylog.poll()
            now = time.monotonic()
            if keylog.events != asked_events or asked_at is None \
                    or now - asked_at >= args.recheck:
                try:
                    children = list_children(args.vici)
                    asked_at, asked_events = now, keylog.events
                    em.step(children, keylog)
                except (OSError, ConnectionError, RuntimeError) as err:
                    if not args.follow:
                        print("swan2esper: vici %s: %s" % (args.vici, err), file=sys.stderr)
                        return 1
                    # charon (re)starting: ask again next time
            if not args.follow:
                return 0
            if args.duration and now - start >= args.duration:
                return 0
            time.sleep(args.interval)
    except BrokenPipeError:
        # the reader (esper-xdp) is gone
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
