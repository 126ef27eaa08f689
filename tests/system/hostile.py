"""A hostile DHCP server for the system tests: a raw-socket responder that a test
scripts per scenario, to attack the dhcp daemon with replies no real server sends.

It runs as a subprocess inside the lab's lan netns (as lab.py runs dnsmasq), listens on
the lan interface with an AF_PACKET socket, and answers each DHCPDISCOVER and
DHCPREQUEST it hears with what the scenario says for that stage of the client's life:

    DISCOVER    a DHCPDISCOVER
    SELECTING   a DHCPREQUEST with a server identifier (after an OFFER)
    REBOOTING   a DHCPREQUEST with a requested address and no server identifier, ciaddr 0
    RENEWING    a DHCPREQUEST from ciaddr, unicast to the server
    REBINDING   a DHCPREQUEST from ciaddr, broadcast
    REQUEST     the fallback for every DHCPREQUEST stage the scenario does not name

For each stage a list of steps: the n-th message of that stage from one client
(chaddr) is answered by step n (the last step repeats). A step is a list of replies,
sent in order; a reply says

    yiaddr   "pool" (one address per client from the pool), "requested" (option 50,
             else ciaddr), "ciaddr", or a dotted quad (any lie)
    options  the whole options field after the magic cookie, raw bytes (hex in the
             scenario): malformed lengths and bad names are the point. Build it with
             options() / opt() below; nothing is added to it
    copies   how many times to send it (a flood); `variants` cycles through several
             options fields, `pace_s` spreads the copies over that many seconds
    xid      None: the client's (a reply must carry it to be taken seriously); or an int
    chaddr   None: the client's; or "aa:bb:..."
    file     raw bytes at the start of the BOOTP file field (for option 52)
    only_for / except_for
             sent only when the request asks (option 50, else ciaddr) for / not for
             that address

Replies go to the client's MAC (never a broadcast MAC: a macvlan master queues
broadcasts and drops floods), from the lan interface's MAC and the server's address
(`server_ip`) port 67; to ciaddr when the client has one (its renewal socket), else to
255.255.255.255, port 68. Checksums are right, so every reply reaches the client's
parser. A UDP socket on port 67 absorbs unicast requests (no ICMP port unreachable).

Everything it hears and sends is logged as JSON lines on stdout (the Process log):
    {"event": "recv", "stage": "RENEWING", "type": "REQUEST", "xid", "chaddr", "ciaddr",
     "requested", "server_id", "src", "dst", "t"}
    {"event": "sent", "stage", "step", "copies", "yiaddr", "xid", "chaddr", "t"}
    {"event": "flood-start" | "flood-end", "copies", "t"}
Only the standard library (no scapy): struct and sockets.

    server = HostileServer(lab, {"DISCOVER": [[offer(lab, "127.0.0.1")]],
                                 "REQUEST": [[ack(lab, "127.0.0.1")]]})
    ...
    server.received(stage="RENEWING", chaddr=mac)
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import socket
import struct
import sys
import time
from pathlib import Path
from typing import Any, Optional, Sequence

HERE = Path(__file__).resolve()

# RFC 2132 option codes used here.
OPT_PAD, OPT_MASK, OPT_ROUTER, OPT_DNS, OPT_DOMAIN = 0, 1, 3, 6, 15
OPT_REQUESTED, OPT_LEASE, OPT_TYPE, OPT_SERVER_ID, OPT_MESSAGE = 50, 51, 53, 54, 56
OPT_T1, OPT_T2, OPT_CLIENT_ID, OPT_SEARCH, OPT_CLASSLESS, OPT_END = 58, 59, 61, 119, 121, 255
DISCOVER, OFFER, REQUEST, DECLINE, ACK, NAK, RELEASE, INFORM = range(1, 9)
TYPE_NAMES = {1: "DISCOVER", 2: "OFFER", 3: "REQUEST", 4: "DECLINE", 5: "ACK", 6: "NAK", 7: "RELEASE",
              8: "INFORM"}
MAGIC_COOKIE = b"\x63\x82\x53\x63"
STAGES = ("DISCOVER", "SELECTING", "REBOOTING", "RENEWING", "REBINDING")


# --------------------------------------------------------------------------
# Building options (used by the tests; the responder sends the bytes as given)


def ip(*addresses: str) -> bytes:
    return b"".join(socket.inet_aton(a) for a in addresses)


def opt(code: int, value: bytes = b"", length: Optional[int] = None) -> bytes:
    """One option: code, length, value. `length` overrides the length octet (a lie)."""
    if length is None:
        if len(value) > 255:
            raise ValueError(f"option {code} is {len(value)} octets; split it or pass length=")
        length = len(value)
    return bytes([code, length]) + value


def dns_name(*labels_list: str) -> bytes:
    """RFC 1035 names for option 119: dns_name("lab.test", "example.test")."""
    out = b""
    for name in labels_list:
        for label in name.split("."):
            out += bytes([len(label)]) + label.encode()
        out += b"\0"
    return out


def options(msg_type: int, *, server_id: Optional[str] = None, lease: Optional[int] = 600,
            mask: Optional[str] = None, router: Optional[str] = None, dns: Sequence[str] = (),
            domain: Optional[bytes] = None, extra: bytes = b"", end: bool = True) -> bytes:
    """A well-formed options field (53 first, then 54, 51, 1, 3, 6, 15, `extra`, 255).
    None leaves an option out; `extra` is appended raw, before the end option."""
    out = opt(OPT_TYPE, bytes([msg_type]))
    if server_id:
        out += opt(OPT_SERVER_ID, ip(server_id))
    if lease is not None:
        out += opt(OPT_LEASE, struct.pack("!I", lease))
    if mask:
        out += opt(OPT_MASK, ip(mask))
    if router:
        out += opt(OPT_ROUTER, ip(router))
    if dns:
        out += opt(OPT_DNS, ip(*dns))
    if domain is not None:
        out += opt(OPT_DOMAIN, domain)
    out += extra
    if end:
        out += bytes([OPT_END])
    return out


def reply(yiaddr: str, opts: bytes, *, copies: int = 1, variants: Sequence[bytes] = (), pace_s: float = 0.0,
          xid: Optional[int] = None, chaddr: Optional[str] = None, file: bytes = b"",
          only_for: Optional[str] = None, except_for: Optional[str] = None, note: str = "") -> dict:
    """One scripted reply (see the module docstring); `file` fills the start of the
    BOOTP file field (options there count with option 52). `only_for` / `except_for`:
    sent only when the request asks for (option 50, else ciaddr) / does not ask for
    that address."""
    if len(file) > 128:
        raise ValueError("the file field holds 128 octets")
    return {"yiaddr": yiaddr, "options": opts.hex(), "copies": copies, "variants": [v.hex() for v in variants],
            "pace_s": pace_s, "xid": xid, "chaddr": chaddr, "file": file.hex(), "only_for": only_for,
            "except_for": except_for, "note": note}


def standard(lab: Any, msg_type: int, *, lease: Optional[int] = 600, server_id: Any = "default",
             dns: Sequence[str] = (), domain: Optional[bytes] = None, extra: bytes = b"",
             mask: Any = "default", end: bool = True) -> bytes:
    """The options of an honest reply on the lab's subnet: server id and router the lab's
    router, the subnet's mask; keyword arguments change or (None) drop them."""
    return options(msg_type,
                   server_id=lab.router if server_id == "default" else server_id,
                   lease=lease, mask=str(lab.network.netmask) if mask == "default" else mask,
                   router=lab.router, dns=dns, domain=domain, extra=extra, end=end)


def offer(lab: Any, yiaddr: str = "pool", **kwargs: Any) -> dict:
    return reply(yiaddr, standard(lab, OFFER, **kwargs))


def ack(lab: Any, yiaddr: str = "requested", *, only_for: Optional[str] = None, except_for: Optional[str] = None,
        **kwargs: Any) -> dict:
    return reply(yiaddr, standard(lab, ACK, **kwargs), only_for=only_for, except_for=except_for)


def honest(lab: Any, lease: int = 600, **kwargs: Any) -> dict:
    """Rules of a plain server: an OFFER from the pool for every DISCOVER, an ACK of what
    is asked for every DHCPREQUEST."""
    return {"DISCOVER": [[offer(lab, lease=lease, **kwargs)]], "REQUEST": [[ack(lab, lease=lease, **kwargs)]]}


# --------------------------------------------------------------------------
# The responder (runs in the lan netns: python3 hostile.py serve IFNAME SCENARIO)


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def frame(eth_src: bytes, eth_dst: bytes, ip_src: str, ip_dst: str, payload: bytes,
          sport: int = 67, dport: int = 68) -> bytes:
    """Ethernet + IPv4 + UDP around `payload`, both checksums right."""
    src, dst = socket.inet_aton(ip_src), socket.inet_aton(ip_dst)
    udp_len = 8 + len(payload)
    pseudo = src + dst + struct.pack("!BBH", 0, 17, udp_len)
    udp_head = struct.pack("!HHHH", sport, dport, udp_len, 0)
    check = _checksum(pseudo + udp_head + payload) or 0xFFFF
    udp = struct.pack("!HHHH", sport, dport, udp_len, check) + payload
    head = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, src, dst)
    head = head[:10] + struct.pack("!H", _checksum(head)) + head[12:]
    return eth_dst + eth_src + b"\x08\x00" + head + udp


def bootp_reply(xid: int, flags: int, ciaddr: bytes, yiaddr: bytes, chaddr: bytes, opts: bytes,
                file: bytes = b"") -> bytes:
    header = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 2, 1, 6, 0, xid, 0, flags, ciaddr, yiaddr,
                         b"\0" * 4, b"\0" * 4, chaddr.ljust(16, b"\0"), b"", file)
    return header + MAGIC_COOKIE + opts


def parse_request(data: bytes) -> Optional[dict]:
    """A BOOTREQUEST in an Ethernet frame, or None."""
    if len(data) < 14 + 20 + 8 + 240 or data[12:14] != b"\x08\x00" or data[23] != 17:
        return None
    ihl = (data[14] & 0x0F) * 4
    udp = 14 + ihl
    sport, dport = struct.unpack_from("!HH", data, udp)
    if dport != 67:
        return None
    bootp = udp + 8
    if len(data) < bootp + 240 or data[bootp] != 1 or data[bootp + 236:bootp + 240] != MAGIC_COOKIE:
        return None
    xid, _secs, flags = struct.unpack_from("!IHH", data, bootp + 4)
    found: dict[int, bytes] = {}
    opts, i = data[bootp + 240:], 0
    while i < len(opts) and opts[i] != OPT_END:
        if opts[i] == OPT_PAD:
            i += 1
            continue
        if i + 1 >= len(opts):
            break
        code, length = opts[i], opts[i + 1]
        found.setdefault(code, opts[i + 2:i + 2 + length])
        i += 2 + length
    msg_type = found.get(OPT_TYPE, b"\0")[0] if found.get(OPT_TYPE) else 0
    ciaddr = socket.inet_ntoa(data[bootp + 12:bootp + 16])
    dst = socket.inet_ntoa(data[30:34])
    requested = socket.inet_ntoa(found[OPT_REQUESTED]) if len(found.get(OPT_REQUESTED, b"")) == 4 else None
    server_id = socket.inet_ntoa(found[OPT_SERVER_ID]) if len(found.get(OPT_SERVER_ID, b"")) == 4 else None
    if msg_type == DISCOVER:
        stage = "DISCOVER"
    elif msg_type != REQUEST:
        stage = TYPE_NAMES.get(msg_type, str(msg_type))
    elif server_id:
        stage = "SELECTING"
    elif ciaddr == "0.0.0.0":
        stage = "REBOOTING"
    elif dst == "255.255.255.255":
        stage = "REBINDING"
    else:
        stage = "RENEWING"
    return {"type": TYPE_NAMES.get(msg_type, str(msg_type)), "stage": stage, "xid": xid, "flags": flags,
            "chaddr": data[bootp + 28:bootp + 34].hex(":"), "ciaddr": ciaddr, "requested": requested,
            "server_id": server_id, "src": socket.inet_ntoa(data[26:30]), "dst": dst, "sport": sport,
            "eth_src": data[6:12].hex(":")}


class Responder:
    def __init__(self, ifname: str, scenario: dict):
        self.scenario = scenario
        self.server_ip = scenario["server_ip"]
        first, last = (int(ipaddress.IPv4Address(a)) for a in scenario["pool"])
        self.free = [str(ipaddress.IPv4Address(n)) for n in range(first, last + 1)]
        self.assigned: dict[str, str] = {}
        self.counts: dict[tuple[str, str], int] = {}
        self.packet = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        self.packet.bind((ifname, 0))
        self.packet.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.mac = self.packet.getsockname()[4]
        # Unicast requests (renewals, releases) for the server's address land here
        # instead of drawing an ICMP port unreachable; the packet socket reads them.
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.udp.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
        self.udp.bind(("0.0.0.0", 67))
        self.udp.setblocking(False)

    def log(self, event: str, **fields: Any) -> None:
        print(json.dumps({"event": event, "t": round(time.monotonic(), 4), **fields}), flush=True)

    def pool_address(self, chaddr: str) -> str:
        if chaddr not in self.assigned:
            self.assigned[chaddr] = self.free.pop(0) if self.free else "0.0.0.0"
        return self.assigned[chaddr]

    def steps_for(self, stage: str) -> Optional[list]:
        rules = self.scenario["rules"]
        if stage in rules:
            return rules[stage]
        if stage in ("SELECTING", "REBOOTING", "RENEWING", "REBINDING"):
            return rules.get("REQUEST")
        return None

    def answer(self, request: dict) -> None:
        steps = self.steps_for(request["stage"])
        if not steps:
            return
        key = (request["chaddr"], request["stage"])
        n = self.counts.get(key, 0)
        self.counts[key] = n + 1
        step = steps[min(n, len(steps) - 1)]
        for r in step:
            self.send(request, r, n)

    def yiaddr_of(self, request: dict, spec: dict) -> str:
        want = spec["yiaddr"]
        if want == "pool":
            return self.pool_address(request["chaddr"])
        if want == "requested":
            return request["requested"] or request["ciaddr"]
        if want == "ciaddr":
            return request["ciaddr"]
        return want

    def send(self, request: dict, spec: dict, step: int) -> None:
        asked = request["requested"] or request["ciaddr"]
        if spec.get("only_for") and asked != spec["only_for"]:
            return
        if spec.get("except_for") and asked == spec["except_for"]:
            return
        yiaddr = self.yiaddr_of(request, spec)
        xid = request["xid"] if spec.get("xid") is None else spec["xid"]
        chaddr_text = spec.get("chaddr") or request["chaddr"]
        chaddr = bytes.fromhex(chaddr_text.replace(":", ""))
        ciaddr = request["ciaddr"] if request["stage"] in ("RENEWING", "REBINDING") else "0.0.0.0"
        dst_ip = request["ciaddr"] if request["ciaddr"] != "0.0.0.0" else "255.255.255.255"
        eth_dst = bytes.fromhex(request["chaddr"].replace(":", ""))
        variants = [bytes.fromhex(v) for v in spec.get("variants") or []] or [bytes.fromhex(spec["options"])]
        frames = [frame(self.mac, eth_dst, self.server_ip, dst_ip,
                        bootp_reply(xid, request["flags"], socket.inet_aton(ciaddr), socket.inet_aton(yiaddr),
                                    chaddr, v, bytes.fromhex(spec.get("file") or "")))
                  for v in variants]
        copies = int(spec.get("copies", 1))
        if copies > 1:
            self.log("flood-start", copies=copies, stage=request["stage"], note=spec.get("note", ""))
        sent = self.flood(frames, copies, float(spec.get("pace_s") or 0.0))
        if copies > 1:
            self.log("flood-end", copies=sent)
        self.log("sent", stage=request["stage"], step=step, copies=sent, yiaddr=yiaddr, xid=xid,
                 chaddr=chaddr_text, note=spec.get("note", ""))

    def flood(self, frames: list, copies: int, pace_s: float) -> int:
        sent = 0
        start = time.monotonic()
        burst = 100
        while sent < copies:
            data = frames[sent % len(frames)]
            try:
                self.packet.send(data)
            except BlockingIOError:
                continue
            except OSError as e:  # ENOBUFS: the link's queue is full; try again
                if e.errno != 105:
                    raise
                time.sleep(0.001)
                continue
            sent += 1
            if pace_s and sent % burst == 0:
                due = start + pace_s * sent / copies
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)  # rate shaping of the flood, not synchronisation
        return sent

    def run(self) -> None:
        print("ready", flush=True)
        import selectors
        sel = selectors.DefaultSelector()
        sel.register(self.packet, selectors.EVENT_READ)
        sel.register(self.udp, selectors.EVENT_READ)
        while True:
            for key, _ in sel.select():
                if key.fileobj is self.udp:
                    try:
                        while True:
                            self.udp.recv(2048)
                    except BlockingIOError:
                        pass
                    continue
                data, address = self.packet.recvfrom(65535)
                if address[2] == socket.PACKET_OUTGOING:
                    continue
                request = parse_request(data)
                if request is None:
                    continue
                self.log("recv", **request)
                self.answer(request)


def serve(ifname: str, scenario_path: str) -> None:
    scenario = json.loads(Path(scenario_path).read_text())
    Responder(ifname, scenario).run()


# --------------------------------------------------------------------------
# The harness, from the test's side


class HostileServer:
    """The responder running in `lab`'s lan netns on its lan interface, stopped by PID
    with the lab (it is one of the lab's processes).

    rules: {stage: [step, ...]} (see the module docstring); pool: (first, last)."""

    def __init__(self, lab: Any, rules: dict, *, pool: Optional[tuple[str, str]] = None,
                 server_ip: Optional[str] = None, name: str = "hostile"):
        self.lab = lab
        self.rules = rules
        self.server_ip = server_ip or lab.router
        self.pool = pool or (lab.address(100), lab.address(199))
        for stage in rules:
            if stage not in STAGES + ("REQUEST",):
                raise ValueError(f"unknown stage {stage!r}")
        scenario = {"server_ip": self.server_ip, "pool": list(self.pool), "rules": rules}
        self.scenario_path = lab.workdir / f"{name}-{os.getpid()}-{id(self):x}.json"
        self.scenario_path.write_text(json.dumps(scenario))
        self.process = lab.start_process(["/usr/bin/python3", "-u", str(HERE), "serve", lab.lan_if,
                                          str(self.scenario_path)], lab.lan, name=name)
        self.process.wait_for_log("^ready$")

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        self.process.stop()

    def events(self, event: Optional[str] = None) -> list[dict]:
        found = []
        for line in self.process.log().splitlines():
            if not line.startswith("{"):
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:  # a line being written
                continue
            if event is None or entry["event"] == event:
                found.append(entry)
        return found

    def received(self, *, stage: Optional[str] = None, type: Optional[str] = None,
                 chaddr: Optional[str] = None) -> list[dict]:
        """The BOOTREQUESTs it heard, oldest first."""
        return [e for e in self.events("recv")
                if (stage is None or e["stage"] == stage) and (type is None or e["type"] == type)
                and (chaddr is None or e["chaddr"] == chaddr)]

    def sent(self, *, stage: Optional[str] = None) -> list[dict]:
        return [e for e in self.events("sent") if stage is None or e["stage"] == stage]

    def log(self) -> str:
        return self.process.log()


# --------------------------------------------------------------------------
# Watching a pod's addresses, and the daemon's socket


class AddressMonitor:
    """`ip -o monitor address` inside a netns, from before a test acts: every IPv4
    address ever added there, however briefly it stayed (polling could miss it)."""

    def __init__(self, lab: Any, netns: Any):
        self.netns = netns
        self.marks = 0
        self.process = lab.start_process(["ip", "-o", "-4", "monitor", "address"], netns, name="addr-monitor")
        self.sync()

    def sync(self) -> None:
        """Returns once the monitor has logged everything that happened before the call.

        A mark address goes on `lo` (never mixed up with the pod's interfaces) and off
        again until the monitor logs it: netlink events come in order, so whatever came
        before the mark is in the log too. Also how the start waits for the monitor to
        listen (events before its subscription are lost, hence the repeats)."""
        from lab import wait_until  # local: this module also runs standalone in the netns
        self.marks += 1
        mark = f"127.0.{self.marks // 250}.{self.marks % 250 + 2}/8"

        def logged() -> bool:
            if not self.process.alive():
                raise RuntimeError(f"ip monitor exited: {self.process.log()}")
            if f" {mark} " in self.process.log():
                return True
            self.netns.ip("addr", "replace", mark, "dev", "lo")
            self.netns.ip("addr", "del", mark, "dev", "lo")
            return False

        wait_until(logged, 10, f"ip monitor in {self.netns.name} to log {mark}", max_interval=0.05)

    def added(self, ifname: str = "eth0") -> list[str]:
        """Addresses ("a.b.c.d/len") added on `ifname` until now, in order, duplicates
        dropped."""
        self.sync()
        seen: list[str] = []
        for line in self.process.log().splitlines():
            if line.startswith("Deleted"):
                continue
            m = re.search(rf"^\d+:\s+{re.escape(ifname)}\s+inet\s+(\S+)", line)
            if m and m.group(1) not in seen:
                seen.append(m.group(1))
        return seen

    def stop(self) -> None:
        self.process.stop()


def rpc(socket_path: Any, method: str, params: Optional[dict] = None, timeout: float = 5.0) -> dict:
    """One call on the daemon's socket (docs/dhcp-rpc.md): the answer object."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(str(socket_path))
        s.sendall(json.dumps({"method": method, "params": params or {}}).encode() + b"\n")
        s.shutdown(socket.SHUT_WR)
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return json.loads(data)


def timed_status(socket_path: Any, timeout: float = 1.0) -> tuple[float, dict]:
    """DHCP.Status and how long the answer took (seconds); raises socket.timeout past
    `timeout`."""
    started = time.monotonic()
    answer = rpc(socket_path, "DHCP.Status", timeout=timeout)
    return time.monotonic() - started, answer


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3])
    else:
        sys.exit(f"usage: {sys.argv[0]} serve IFNAME SCENARIO.json")
