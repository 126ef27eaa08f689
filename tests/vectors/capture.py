#!/usr/bin/python3
"""Captures real DHCP server replies as test vectors for tests/unit/test_dhcp_vectors.c.

Run as root:  /usr/bin/python3 tests/vectors/capture.py [--out DIR] [--only SCENARIO,...]

Scenarios (see SCENARIOS below): dnsmasq, dhcpd, udhcpd (one server each, the same
options), dhcpd-split (a 302-octet option 121 that ISC dhcpd splits, RFC 3396) and
dhcpd-overload (the same with the client's option 57 at 576, so dhcpd overflows into the
file field, option 52). For each scenario the script builds a two-namespace lab:

    <id>s netns   veth end "<id>s0" with 192.0.2.1/24, the DHCP server
    <id>c netns   veth end "<id>c0", no address, MAC 02:00:00:c0:ff:ee: the client

and, from the client namespace (this script re-run there with "client"), sends over an
AF_PACKET socket bound to the veth, with a UDP socket bound to port 68 on the same device
(SO_BINDTODEVICE) so the kernel does not answer replies with port unreachable:

    DHCPDISCOVER  broadcast flag set                         -> DHCPOFFER (saved)
    DHCPREQUEST   SELECTING: same xid, 50 = offered, 54       -> DHCPACK   (saved)
    DHCPREQUEST   INIT-REBOOT for 10.99.0.5 (wrong network)   -> DHCPNAK   (saved; not for -split/-overload)

Files, per scenario NAME: NAME-discover.bin, NAME-offer.bin, NAME-request.bin, NAME-ack.bin,
NAME-reboot-request.bin, NAME-nak.bin (each one UDP payload: the BOOTP/DHCP message) and
NAME.json (MAC, xids, addresses, the server's command line, config and version).

SAFETY: all traffic stays inside the two namespaces, which get random names and are
deleted on every exit path; the veth pair is created inside the server namespace and
never exists in the host's. Servers are stopped by PID (their Popen object), never by name.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SERVER_IP = "192.0.2.1"
NETMASK = "255.255.255.0"
RANGE = ("192.0.2.100", "192.0.2.150")
ROUTER = "192.0.2.1"
DNS = ("192.0.2.53", "192.0.2.54")
DOMAIN = "example.test"
SEARCH = ("a.example", "b.example")
# RFC 3442 routes: a /24 via a second router, a /32 on the link, and the default route
# (RFC 3442 clients ignore option 3 when 121 is present, so the default goes in 121 too).
ROUTES = (("198.51.100.0", 24, "192.0.2.254"), ("203.0.113.7", 32, "0.0.0.0"), ("0.0.0.0", 0, "192.0.2.1"))
REBOOT_ADDRESS = "10.99.0.5"  # on no network of the server's: every server NAKs it
CLIENT_MAC = bytes.fromhex("020000c0ffee")
HOSTNAME = b"vector-client"
# Forty more /16 routes for the RFC 3396 scenarios: option 121 grows to 302 octets.
MANY_ROUTES = ROUTES + tuple((f"10.{i}.0.0", 16, "192.0.2.254") for i in range(40))
PARAMETER_REQUEST = bytes([1, 3, 6, 12, 15, 26, 28, 33, 42, 51, 54, 58, 59, 119, 121])

ETH_P_IP = 0x0800
SO_BINDTODEVICE = 25
REPLY_TIMEOUT = 15.0
RETRANSMIT_S = 1.0


# --------------------------------------------------------------------------
# DHCP messages


def dhcp_message(msg_type: int, xid: int, *, flags: int = 0x8000, ciaddr: str = "0.0.0.0",
                 options: list[tuple[int, bytes]]) -> bytes:
    header = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, xid, 1, flags, socket.inet_aton(ciaddr),
                         bytes(4), bytes(4), bytes(4), CLIENT_MAC, b"", b"")
    body = bytearray(struct.pack("!I", 0x63825363))
    body += bytes([53, 1, msg_type])
    for code, value in options:
        body += bytes([code, len(value)]) + value
    body += b"\xff"
    msg = header + bytes(body)
    return msg + bytes(max(0, 300 - len(msg)))


def common_options(max_size: int) -> list[tuple[int, bytes]]:
    return [(61, b"\x01" + CLIENT_MAC), (57, struct.pack("!H", max_size)), (12, HOSTNAME), (55, PARAMETER_REQUEST)]


def parse_options(msg: bytes) -> dict[int, bytes]:
    """First instance of each option in the options field (enough for the capture's own checks)."""
    out: dict[int, bytes] = {}
    i = 240
    while i < len(msg):
        code = msg[i]
        if code == 0:
            i += 1
            continue
        if code == 255 or i + 1 >= len(msg):
            break
        length = msg[i + 1]
        out.setdefault(code, msg[i + 2:i + 2 + length])
        i += 2 + length
    return out


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ip_udp_frame(payload: bytes) -> bytes:
    src, dst = bytes(4), b"\xff" * 4
    udp_len = 8 + len(payload)
    pseudo = src + dst + struct.pack("!BBH", 0, 17, udp_len)
    udp = struct.pack("!HHHH", 68, 67, udp_len, 0)
    udp_check = checksum(pseudo + udp + payload) or 0xFFFF
    udp = struct.pack("!HHHH", 68, 67, udp_len, udp_check)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, 0, 0, 64, 17, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return ip + udp + payload


def udp_payload(packet: bytes) -> bytes | None:
    """The UDP payload of an IPv4 datagram to port 68, or None."""
    if len(packet) < 28 or packet[0] >> 4 != 4 or packet[9] != 17:
        return None
    ihl = (packet[0] & 0xF) * 4
    dport, udp_len = struct.unpack("!2xH H", packet[ihl:ihl + 6])
    if dport != 68 or udp_len < 8 or ihl + udp_len > len(packet):
        return None
    return packet[ihl + 8:ihl + udp_len]


# --------------------------------------------------------------------------
# The client, run inside the client namespace (this script re-invoked with "client")


def exchange(raw: socket.socket, ifname: str, request: bytes, xid: int, want: set[int]) -> bytes:
    """Sends `request` every second until a BOOTREPLY with our xid and MAC of a type in `want` comes."""
    deadline = time.monotonic() + REPLY_TIMEOUT
    next_send = 0.0
    while time.monotonic() < deadline:
        now = time.monotonic()
        if now >= next_send:
            raw.sendto(ip_udp_frame(request), (ifname, ETH_P_IP, 0, 0, b"\xff" * 6))
            next_send = now + RETRANSMIT_S
        ready, _, _ = select.select([raw], [], [], max(0.0, min(next_send, deadline) - time.monotonic()))
        if not ready:
            continue
        payload = udp_payload(raw.recv(65535))
        if not payload or len(payload) < 240 or payload[0] != 2:
            continue
        if struct.unpack("!I", payload[4:8])[0] != xid or payload[28:34] != CLIENT_MAC:
            continue
        msg_type = parse_options(payload).get(53, b"\0")[0]
        if msg_type in want:
            return payload
    raise TimeoutError(f"no reply of type {sorted(want)} to xid {xid:#x} in {REPLY_TIMEOUT} s")


def run_client(ifname: str, out: Path, name: str, xid: int, max_size: int, nak: bool) -> None:
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
    raw.bind((ifname, ETH_P_IP))
    # Holds port 68 so that replies are not answered with ICMP port unreachable.
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    udp.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, ifname.encode())
    udp.bind(("0.0.0.0", 68))

    files = {}

    def save(kind: str, data: bytes) -> None:
        path = out / f"{name}-{kind}.bin"
        path.write_bytes(data)
        files[kind] = path.name

    discover = dhcp_message(1, xid, options=common_options(max_size))
    save("discover", discover)
    offer = exchange(raw, ifname, discover, xid, {2})
    save("offer", offer)
    offered = socket.inet_ntoa(offer[16:20])
    server_id = parse_options(offer)[54]
    # RFC 2131 4.3.2: SELECTING: same xid, ciaddr 0, 50 and 54.
    request = dhcp_message(3, xid, options=common_options(max_size) + [(50, offer[16:20]), (54, server_id)])
    save("request", request)
    ack = exchange(raw, ifname, request, xid, {5, 6})
    save("ack", ack)
    result = {"files": files, "offered": offered, "server_id": socket.inet_ntoa(server_id)}
    if nak:
        # INIT-REBOOT for an address on no network of the server's: a new xid, 50 and no 54.
        reboot_xid = xid ^ 0x00FF0000
        reboot = dhcp_message(3, reboot_xid,
                              options=common_options(max_size) + [(50, socket.inet_aton(REBOOT_ADDRESS))])
        save("reboot-request", reboot)
        save("nak", exchange(raw, ifname, reboot, reboot_xid, {5, 6}))
        result["reboot_xid"] = f"{reboot_xid:#010x}"
    json.dump(result, sys.stdout)


# --------------------------------------------------------------------------
# Servers


def dnsmasq_server(tmp: Path, ifname: str, routes_: tuple = ROUTES) -> tuple[list[str], str]:
    routes = ",".join(f"{dst}/{length},{gw}" for dst, length, gw in routes_)
    argv = ["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--port=0", f"--interface={ifname}",
            "--bind-interfaces", f"--dhcp-range={RANGE[0]},{RANGE[1]},{NETMASK},2m",
            f"--dhcp-leasefile={tmp / 'dnsmasq.leases'}", "--pid-file=", "--no-ping", "--dhcp-authoritative",
            "--log-dhcp", "--log-facility=-", f"--dhcp-option=3,{ROUTER}", f"--dhcp-option=6,{','.join(DNS)}",
            f"--dhcp-option=15,{DOMAIN}", f"--dhcp-option=option:domain-search,{','.join(SEARCH)}",
            f"--dhcp-option=121,{routes}"]
    return argv, ""


def dhcpd_server(tmp: Path, ifname: str, routes: tuple = ROUTES) -> tuple[list[str], str]:
    def octets(addr: str) -> list[int]:
        return list(socket.inet_aton(addr))

    route_bytes: list[int] = []
    for dst, length, gw in routes:
        route_bytes += [length] + octets(dst)[:(length + 7) // 8] + octets(gw)
    conf = f"""authoritative;
ddns-update-style none;
ping-check false;
default-lease-time 300;
max-lease-time 300;
option classless-routes code 121 = array of unsigned integer 8;
subnet 192.0.2.0 netmask {NETMASK} {{
	range {RANGE[0]} {RANGE[1]};
	option routers {ROUTER};
	option domain-name-servers {", ".join(DNS)};
	option domain-name "{DOMAIN}";
	option domain-search {", ".join(f'"{s}"' for s in SEARCH)};
	option classless-routes {", ".join(str(b) for b in route_bytes)};
}}
"""
    (tmp / "dhcpd.conf").write_text(conf)
    (tmp / "dhcpd.leases").write_text("")
    argv = ["dhcpd", "-f", "-4", "-d", "-cf", str(tmp / "dhcpd.conf"), "-lf", str(tmp / "dhcpd.leases"),
            "-pf", str(tmp / "dhcpd.pid"), ifname]
    return argv, conf


def udhcpd_server(tmp: Path, ifname: str, routes_: tuple = ROUTES) -> tuple[list[str], str]:
    routes = ", ".join(f"{dst}/{length} {gw}" for dst, length, gw in routes_)
    conf = f"""start {RANGE[0]}
end {RANGE[1]}
interface {ifname}
max_leases 50
lease_file {tmp / 'udhcpd.leases'}
pidfile {tmp / 'udhcpd.pid'}
option subnet {NETMASK}
option router {ROUTER}
option dns {" ".join(DNS)}
option domain {DOMAIN}
option search {" ".join(SEARCH)}
option staticroutes {routes}
option lease 180
"""
    (tmp / "udhcpd.conf").write_text(conf)
    argv = ["udhcpd", "-f", str(tmp / "udhcpd.conf")]
    return argv, conf


SERVERS = {"dnsmasq": dnsmasq_server, "dhcpd": dhcpd_server, "udhcpd": udhcpd_server}

# name: (server, routes, client's option 57, also ask for a NAK, xid). Fixed xids so a
# re-capture differs only where the servers do.
SCENARIOS = {
    "dnsmasq": ("dnsmasq", ROUTES, 1500, True, 0x1D0C0001),
    "dhcpd": ("dhcpd", ROUTES, 1500, True, 0x1D0C0002),
    "udhcpd": ("udhcpd", ROUTES, 1500, True, 0x1D0C0003),
    # A 302-octet option 121: ISC dhcpd splits it into two instances (RFC 3396).
    "dhcpd-split": ("dhcpd", MANY_ROUTES, 1500, False, 0x1D0C0004),
    # The same with option 57 at 576: the options overflow into file and sname (option 52).
    "dhcpd-overload": ("dhcpd", MANY_ROUTES, 576, False, 0x1D0C0005),
}


def server_version(name: str) -> str:
    cmd = {"dnsmasq": ["dnsmasq", "--version"], "dhcpd": ["dpkg-query", "-W", "isc-dhcp-server"],
           "udhcpd": ["dpkg-query", "-W", "udhcpd"]}[name]
    try:
        text = subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return text.splitlines()[0].strip() if text else "?"


# --------------------------------------------------------------------------
# The lab


def sh(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True, timeout=20)


class Lab:
    def __init__(self) -> None:
        self.id = "dv" + secrets.token_hex(3)
        self.server_ns, self.client_ns = self.id + "s", self.id + "c"
        self.server_if, self.client_if = self.id + "s0", self.id + "c0"
        self.created: list[str] = []

    def __enter__(self) -> "Lab":
        try:
            for ns in (self.server_ns, self.client_ns):
                sh("ip", "netns", "add", ns)
                self.created.append(ns)
            # Created inside the server namespace, the peer moved straight to the client's.
            sh("ip", "-n", self.server_ns, "link", "add", self.server_if, "type", "veth", "peer", "name",
               self.client_if, "netns", self.client_ns)
            sh("ip", "-n", self.server_ns, "addr", "add", f"{SERVER_IP}/24", "dev", self.server_if)
            sh("ip", "-n", self.client_ns, "link", "set", self.client_if, "address", CLIENT_MAC.hex(":"))
            for ns, ifname in ((self.server_ns, self.server_if), (self.client_ns, self.client_if)):
                sh("ip", "-n", ns, "link", "set", "lo", "up")
                sh("ip", "-n", ns, "link", "set", ifname, "up")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for ns in reversed(self.created):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=20)
        self.created.clear()


def stop(proc: subprocess.Popen) -> str:
    """Stops a server by its PID and returns what it logged."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    return proc.stdout.read().decode(errors="replace") if proc.stdout else ""


def capture(name: str, out: Path) -> None:
    server, routes, max_size, nak, xid = SCENARIOS[name]
    with Lab() as lab, tempfile.TemporaryDirectory(prefix="dhcp-vectors-") as tmpdir:
        tmp = Path(tmpdir)
        argv, conf = SERVERS[server](tmp, lab.server_if, routes)
        proc = subprocess.Popen(["ip", "netns", "exec", lab.server_ns] + argv, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        log = ""
        try:
            time.sleep(1.0)  # let the server bind; the client retransmits anyway
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}: {stop(proc)}")
            client = subprocess.run(["ip", "netns", "exec", lab.client_ns, sys.executable, os.path.abspath(__file__),
                                     "client", lab.client_if, str(out), name, str(xid), str(max_size),
                                     "nak" if nak else "-"],
                                    capture_output=True, text=True, timeout=3 * REPLY_TIMEOUT + 10)
            log = stop(proc)
            if client.returncode != 0:
                raise RuntimeError(f"client for {name} failed: {client.stderr}\nserver log:\n{log}")
            result = json.loads(client.stdout)
        finally:
            log = log or stop(proc)
        # Interface names are random per run: write the generic "IF" into the record.
        argv_record = [a.replace(lab.server_if, "IF").replace(str(tmp), "TMP") for a in argv]
        sidecar = {
            "scenario": name,
            "server": server,
            "version": server_version(server),
            "argv": argv_record,
            "config": conf.replace(lab.server_if, "IF").replace(str(tmp), "TMP"),
            "server_address": f"{SERVER_IP}/24",
            "client_mac": CLIENT_MAC.hex(":"),
            "xid": f"{xid:#010x}",
            "client_max_message_size": max_size,
            "routes": [f"{dst}/{length} via {gw}" for dst, length, gw in routes],
            **({"reboot_address": REBOOT_ADDRESS} if nak else {}),
            "broadcast_flag": True,
            **result,
        }
        (out / f"{name}.json").write_text(json.dumps(sidecar, indent=2) + "\n")
        print(f"{name}: offered {result['offered']} by {result['server_id']}; files {sorted(result['files'].values())}")


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "client":
        ifname, out, name = sys.argv[2], Path(sys.argv[3]), sys.argv[4]
        run_client(ifname, out, name, int(sys.argv[5]), int(sys.argv[6]), sys.argv[7] == "nak")
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    parser.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated: " + ", ".join(SCENARIOS))
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("capture.py: needs root (network namespaces)", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.only.split(","):
        if name not in SCENARIOS:
            parser.error(f"unknown scenario {name}")
        server = SCENARIOS[name][0]
        if not shutil.which(server, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin"):
            parser.error(f"{server} is not installed")
        capture(name, args.out.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
