"""The dhcp node daemon in the lab, for the dhcp system tests (test_dhcp_*.py).

Our real `dhcp daemon` runs inside the lab's node netns, as the DaemonSet runs it
on a node, with its socket in the lab's work directory; the plugin (ours, as the
IPAM of our macvlan) runs there too and talks to it over that socket. conftest.py
imports the fixtures from here, so every test module sees them.

    dhcp_daemon      a running daemon on <lab workdir>/dhcp.sock, stopped by PID
    start_daemon     a factory for daemons with other flags or paths
    sniffer          the DHCP messages on the lan side of the wire, decoded
    dhcp_conf()      a macvlan network whose IPAM is dhcp on a given daemon
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import time
from pathlib import Path
from typing import Any, Optional, Sequence

import pytest

from lab import SERVER_START_TIMEOUT, Lab, Netns, Process, run, wait_until
from macvlan_helpers import SANITIZER_MARKERS

ALL_VERSIONS = ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]
LEGACY_VERSIONS = {"0.1.0", "0.2.0"}  # results made of ip4/ip6 objects


def socket_accepts(path: Path) -> bool:
    """True when something listens on the unix socket at `path`.

    Unix socket paths live in the file system, not in a network namespace: the test
    process reaches the daemon in the node netns directly."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


_help_texts: dict[Path, str] = {}


def daemon_help(binary: Path) -> str:
    """`dhcp daemon --help` (cached per binary)."""
    binary = Path(binary)
    if binary not in _help_texts:
        _help_texts[binary] = run([binary, "daemon", "--help"]).stdout
    return _help_texts[binary]


def supports_state_dir(binary: Path) -> bool:
    """Daemons that keep leases on disk have --state-dir (default /var/lib/cni/dhcp)."""
    return "--state-dir" in daemon_help(binary)


class DhcpDaemon:
    """`dhcp daemon -socketpath PATH [flags]` started in a netns of the lab.

    socket_path  where it listens; log(): what it wrote (stdout and stderr)
    process      the lab's Process (known by PID only)
    """

    def __init__(self, lab: Lab, binary: Path, socket_path: Path, flags: Sequence[str] = (),
                 netns: Optional[Netns] = None, wait: bool = True, state_dir: Optional[Path] = None,
                 socketpath_flag: Optional[str] = None):
        """socketpath_flag: what -socketpath gets when it differs from where the socket
        ends up (-hostprefix); state_dir: --state-dir (default: in the lab's work directory)."""
        self.lab, self.binary, self.socket_path = lab, Path(binary), Path(socket_path)
        self.netns = netns or lab.node
        self.argv = [str(binary), "daemon", "-socketpath", socketpath_flag or str(socket_path)]
        # Lease records stay in the lab too, never in the host's /var/lib/cni/dhcp.
        self.state_dir = None
        if supports_state_dir(self.binary):
            self.state_dir = Path(state_dir or lab.workdir / "dhcp-state")
            self.argv += ["--state-dir", str(self.state_dir)]
        # Nor does it adopt pods from the host's CNI cache, only from the lab's.
        if "--cni-cache-dir" not in flags and "--cni-cache-dir" in daemon_help(self.binary):
            self.argv += ["--cni-cache-dir", str(lab.workdir / "cni-cache")]
        self.argv += list(flags)
        self.process: Process = lab.start_process(self.argv, self.netns, name="dhcp-daemon")
        if wait:
            self.wait_ready()

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.alive()

    def log(self) -> str:
        return self.process.log()

    def wait_ready(self, timeout: float = SERVER_START_TIMEOUT) -> None:
        """Polls until the socket accepts a connection; fails at once if the daemon exits."""
        def ready() -> bool:
            if not self.alive():
                raise RuntimeError(f"dhcp daemon exited with {self.process.returncode}; log:\n{self.log()}")
            return socket_accepts(self.socket_path)

        wait_until(ready, timeout, f"the dhcp daemon to accept connections on {self.socket_path}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 5.0) -> Optional[int]:
        """Stops it by PID (SIGTERM by default) and returns its exit status."""
        if sig != signal.SIGTERM and self.alive():
            self.process.send_signal(sig)
            self.process.wait(timeout)
        return self.process.stop(timeout)

    # -- asking it, as an operator on the node would

    def client(self, command: str, *args: str, check: bool = True):
        """`dhcp status|list -socketpath PATH ARGS...` in the daemon's netns."""
        return self.netns.exec([self.binary, command, "-socketpath", self.socket_path, *args], check=check)

    def list(self) -> list[dict]:
        """`dhcp list --json`: one dict per lease the daemon holds."""
        return json.loads(self.client("list", "--json").stdout)

    def status(self) -> dict:
        return json.loads(self.client("status").stdout)

    def lease(self, container_id: str, network: str, ifname: str = "eth0") -> Optional[dict]:
        """The daemon's entry for one attachment, None when it holds none."""
        for entry in self.list():
            if (entry["containerID"], entry["network"], entry["ifName"]) == (container_id, network, ifname):
                return entry
        return None


def dhcp_conf(lab: Lab, daemon: Optional[DhcpDaemon], version: str = "1.0.0", *,
              name: Optional[str] = None, **ipam: Any) -> dict:
    """A macvlan network on the lab node's master with dhcp as IPAM on `daemon`'s socket.
    Keyword arguments add ipam keys (None removes one)."""
    conf_ipam: dict[str, Any] = {"type": "dhcp"}
    if daemon is not None:
        conf_ipam["daemonSocketPath"] = str(daemon.socket_path)
    for key, value in ipam.items():
        if value is None:
            conf_ipam.pop(key, None)
        else:
            conf_ipam[key] = value
    return {"cniVersion": version, "name": name or f"{lab.id}-net", "type": "macvlan",
            "master": lab.node.master, "ipam": conf_ipam}


def dhcp_client_id(container_id: str, network: str, ifname: str = "eth0") -> str:
    """The plugin's default option 61, as the servers' lease readers show it."""
    return "00:" + f"{container_id}/{network}/{ifname}".encode().hex(":")


def unprivileged(argv: Sequence[Any], uid: int = 65534, gid: int = 65534,
                 groups: Sequence[int] = ()) -> list[str]:
    """`argv` run as uid/gid (nobody by default) with exactly `groups` as supplementary groups."""
    ids = ["--reuid", str(uid), "--regid", str(gid)]
    ids += ["--groups", ",".join(map(str, groups))] if groups else ["--clear-groups"]
    return ["setpriv", *ids, "--", *map(str, argv)]


def lease_released(server, ip):
    """The server no longer holds `ip` for anyone: dnsmasq drops the row, dhcpd marks the
    binding free (or released), udhcpd keeps the row with no time left (it remembers
    who had it) - or drops it."""
    lease = server.lease_for(ip=ip)
    if lease is None:
        return True
    if server.kind == "dhcpd":
        return lease.state in ("free", "released")
    if server.kind == "udhcpd":
        return lease.expires is not None and lease.expires <= time.time()
    return False


def lease_active(server, ip):
    lease = server.lease_for(ip=ip)
    return lease is not None and lease.state == "active" and (lease.expires is None or lease.expires > time.time())


def domain_search_option(kind: str, domains: Sequence[str]) -> list[str]:
    """Option 119 (domain search) in each server's own syntax, for its `extra`."""
    return {
        "dnsmasq": ["--dhcp-option=119," + ",".join(domains)],
        "dhcpd": ["option domain-search " + ", ".join(f'"{d}"' for d in domains) + ";"],
        "udhcpd": ["option search " + " ".join(domains)],
    }[kind]


def dnsmasq_transactions(server, mac: str) -> list[str]:
    """The xids dnsmasq logged for a client's messages (with --log-dhcp)."""
    found = re.findall(rf"^.*?: (\d+) DHCP[A-Z]+\([^)]*\) (?:\S+ )?{re.escape(mac)}\b", server.log(), re.M)
    return list(dict.fromkeys(found))


def dnsmasq_client_log(server, mac: str) -> str:
    """dnsmasq's log lines about one client's transactions (vendor class, host name, ...)."""
    xids = set(dnsmasq_transactions(server, mac))
    return "\n".join(line for line in server.log().splitlines()
                     if (m := re.search(r"\]: (\d+) ", line)) and m.group(1) in xids)


def dnsmasq_requested_options(server, mac: str) -> list[int]:
    """Option 55 of the client's first message, as dnsmasq logged it: its
    "requested options:" lines of one transaction, continued while they end in a comma."""
    xids = dnsmasq_transactions(server, mac)
    assert xids, f"dnsmasq logged nothing from {mac}"
    codes: list[int] = []
    for line in server.log().splitlines():
        m = re.search(rf": {xids[0]} requested options: (.*)$", line)
        if not m:
            continue
        codes += [int(code) for code in re.findall(r"(\d+):", m.group(1))]
        if not m.group(1).rstrip().endswith(","):
            break
    return codes


def mode_of(path: Path) -> int:
    return os.lstat(path).st_mode & 0o7777


# --------------------------------------------------------------------------
# Watching the wire


SNIFFER_SCRIPT = r"""
# Prints one JSON line per DHCP message (UDP 67/68) seen on an interface, both ways.
import json, socket, struct, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
s.bind((sys.argv[1], 0))
print("ready", flush=True)
while True:
    frame = s.recv(65535)
    if len(frame) < 14 + 20 + 8 + 240 or frame[12:14] != b"\x08\x00":
        continue
    ihl = (frame[14] & 0x0F) * 4
    if frame[23] != 17:
        continue
    udp = 14 + ihl
    sport, dport = struct.unpack_from("!HH", frame, udp)
    if {sport, dport} != {67, 68}:
        continue
    bootp = udp + 8
    op = frame[bootp]
    (xid,) = struct.unpack_from("!I", frame, bootp + 4)
    (flags,) = struct.unpack_from("!H", frame, bootp + 10)
    options, i, msg_type = frame[bootp + 240:], 0, None
    while i < len(options) and options[i] != 255:
        if options[i] == 0:
            i += 1
            continue
        if i + 1 >= len(options):
            break
        code, length = options[i], options[i + 1]
        if code == 53 and length >= 1:
            msg_type = options[i + 2]
        i += 2 + length
    print(json.dumps({
        "eth_dst": frame[0:6].hex(":"), "eth_src": frame[6:12].hex(":"),
        "src": socket.inet_ntoa(frame[26:30]), "dst": socket.inet_ntoa(frame[30:34]),
        "sport": sport, "dport": dport, "op": op, "xid": xid, "flags": flags,
        "ciaddr": socket.inet_ntoa(frame[bootp + 12:bootp + 16]),
        "yiaddr": socket.inet_ntoa(frame[bootp + 16:bootp + 20]),
        "chaddr": frame[bootp + 28:bootp + 34].hex(":"), "type": msg_type}), flush=True)
"""

MESSAGE_TYPES = {1: "DISCOVER", 2: "OFFER", 3: "REQUEST", 4: "DECLINE", 5: "ACK", 6: "NAK", 7: "RELEASE",
                 8: "INFORM"}


class Sniffer:
    """Records the DHCP messages on the lab's lan interface (the server's side of the
    wire): messages() -> [{"type": "REQUEST", "src", "dst", "eth_dst", "ciaddr", "flags", ...}]."""

    def __init__(self, lab: Lab):
        self.process = lab.start_process(["/usr/bin/python3", "-u", "-c", SNIFFER_SCRIPT, lab.lan_if], lab.lan,
                                         name="sniffer")
        self.process.wait_for_log("^ready$")

    def messages(self, type: Optional[str] = None, chaddr: Optional[str] = None) -> list[dict]:
        found = []
        for line in self.process.log().splitlines():
            if not line.startswith("{"):
                continue
            message = json.loads(line)
            message["type"] = MESSAGE_TYPES.get(message["type"], str(message["type"]))
            if (type is None or message["type"] == type) and (chaddr is None or message["chaddr"] == chaddr):
                found.append(message)
        return found


# --------------------------------------------------------------------------
# Fixtures


@pytest.fixture
def start_daemon(lab: Lab, dhcp_bin: Path):
    """Starts daemons: start_daemon(*flags, socket_path=..., **DhcpDaemon options). Each is
    stopped by PID at teardown (before the lab goes), and no daemon's log may hold a
    sanitizer report (CNT_BUILD_DIR=build-san: leaks and UB in the daemon)."""
    daemons: list[DhcpDaemon] = []

    def start(*flags: str, socket_path: Optional[Path] = None, **options: Any) -> DhcpDaemon:
        path = socket_path or lab.workdir / "dhcp.sock"
        daemon = DhcpDaemon(lab, dhcp_bin, path, flags, **options)
        daemons.append(daemon)
        return daemon

    yield start
    for daemon in reversed(daemons):
        daemon.stop()
    for daemon in daemons:
        for marker in SANITIZER_MARKERS:
            assert marker not in daemon.log(), f"sanitizer report from the daemon:\n{daemon.log()}"


@pytest.fixture
def dhcp_daemon(start_daemon) -> DhcpDaemon:
    """Our dhcp daemon in the lab's node netns on <lab workdir>/dhcp.sock."""
    return start_daemon()


@pytest.fixture
def sniffer(lab: Lab) -> Sniffer:
    """The DHCP messages on the lan side of the wire, recorded from now on."""
    return Sniffer(lab)
