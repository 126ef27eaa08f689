"""Fixtures for the "dhcp survives" system tests (test_survive_*.py): the real daemon
killed with SIGKILL and started again on the same --state-dir, servers stopped and
swapped, pods deleted without a DEL, and the CNI commands that look at leases (CHECK,
GC, STATUS, DEL) while all that happens.

    survive           a Survive: one daemon slot (socket and state directory in the
                      lab), started, crashed and restarted by PID, plus our macvlan
                      with dhcp as its IPAM, run as a runtime runs it
    start_nak_only_dnsmasq
                      an authoritative dnsmasq that NAKs every address it is asked
                      for and offers none (a lease that stays lost)

conftest.py imports the fixtures from here; helpers are imported by the test modules.
"""

from __future__ import annotations

import json
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Optional

import pytest

from dhcp_fixtures import DhcpDaemon, dhcp_conf
from lab import DnsmasqServer, Lab, Netns, PluginRun, wait_until
from macvlan_helpers import Macvlan

# Lease records in --state-dir: one "<key with / as %2F>.json" each; ".*.tmp" are
# writes in progress.
RECORD_SUFFIX = ".json"
# "forever" as `ip -j addr` shows an infinite lifetime.
INFINITE_LIFETIME = 4294967295


class Survive:
    """One node's dhcp daemon that a test crashes and restarts, always on the same
    socket (<lab>/dhcp.sock) and state directory (<lab>/dhcp-state), as a systemd
    unit or a DaemonSet restarts it."""

    def __init__(self, lab: Lab, start_daemon, dhcp_bin: Path, macvlan_bin: Path, cni_bin_dir: Path):
        self.lab = lab
        self._start_daemon = start_daemon
        self.dhcp_bin = dhcp_bin
        self.socket_path = lab.workdir / "dhcp.sock"
        self.state_dir = lab.workdir / "dhcp-state"
        self.macvlan = Macvlan(lab, macvlan_bin, cni_bin_dir)
        self.cni_path = cni_bin_dir
        self.daemon: Optional[DhcpDaemon] = None
        self.daemons: list[DhcpDaemon] = []

    # -- the daemon

    def start(self, *flags: str) -> DhcpDaemon:
        """A daemon on the slot's socket and state directory (a restart when one ran before)."""
        self.daemon = self._start_daemon(*flags, socket_path=self.socket_path, state_dir=self.state_dir)
        self.daemons.append(self.daemon)
        return self.daemon

    def crash(self) -> None:
        """SIGKILL by PID: no cleanup of any kind runs, the socket file stays behind."""
        daemon = self.daemon
        assert daemon is not None and daemon.alive(), "no daemon running"
        daemon.process.send_signal(signal.SIGKILL)
        assert daemon.process.wait(5) == -signal.SIGKILL
        assert self.socket_path.is_socket(), "a killed daemon leaves its socket file"

    def restart(self, *flags: str) -> DhcpDaemon:
        return self.start(*flags)

    def records(self) -> dict[str, dict]:
        """The lease records on disk: key -> record."""
        found = {}
        if not self.state_dir.is_dir():
            return found
        for path in sorted(self.state_dir.iterdir()):
            if path.name.startswith(".") or not path.name.endswith(RECORD_SUFFIX):
                continue
            record = json.loads(path.read_text())
            found[record["key"]] = record
        return found

    def leftovers(self) -> list[str]:
        """Anything in the state directory that is not a record (temp files, .bad)."""
        if not self.state_dir.is_dir():
            return []
        return sorted(p.name for p in self.state_dir.iterdir()
                      if p.name.startswith(".") or not p.name.endswith(RECORD_SUFFIX))

    # -- the network and the runtime

    def conf(self, version: str = "1.0.0", *, name: Optional[str] = None, **ipam: Any) -> dict:
        """macvlan + dhcp on the slot's socket (usable while no daemon runs)."""
        conf = dhcp_conf(self.lab, None, version, name=name, **ipam)
        conf["ipam"]["daemonSocketPath"] = str(self.socket_path)
        return conf

    def cni(self, command: str, conf: Any, pod: Optional[Netns] = None, **kwargs: Any) -> PluginRun:
        """Our macvlan (with dhcp as IPAM) run in the node for `pod`."""
        return self.macvlan(command, conf, pod, **kwargs)

    def add(self, conf: dict, pod: Netns, container_id: str) -> dict:
        return self.macvlan.add(conf, pod, container_id=container_id)

    def add_many(self, conf: dict, count: int, prefix: str = "cnt-many", workers: int = 6) -> list[tuple]:
        """`count` pods, each ADDed (a few at a time, as a busy node would):
        [(pod, container_id, result), ...] in order."""
        pods = [self.lab.add_pod() for _ in range(count)]
        ids = [f"{prefix}{i:02d}" for i in range(count)]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(lambda pair: self.add(conf, pair[0], pair[1]), zip(pods, ids)))
        return list(zip(pods, ids, results))

    def ipam(self, command: str, conf: Any, pod: Optional[Netns] = None, *,
             container_id: Optional[str] = "cnt-c0", ifname: Optional[str] = "eth0", **kwargs: Any) -> PluginRun:
        """Our dhcp plugin alone, as the IPAM plugin macvlan runs (same stdin, same env)."""
        kwargs.setdefault("cni_path", self.cni_path)
        return self.lab.run_plugin(self.dhcp_bin, command, conf, netns=pod, container_id=container_id,
                                   ifname=ifname, **kwargs)


@pytest.fixture
def survive(lab: Lab, start_daemon, dhcp_bin: Path, macvlan_bin: Path, cni_bin_dir: Path):
    """A crashable daemon slot in the lab; nothing started yet (survive.start()).
    Its daemons come from start_daemon, which stops them and looks for sanitizer
    reports at teardown."""
    return Survive(lab, start_daemon, dhcp_bin, macvlan_bin, cni_bin_dir)


# --------------------------------------------------------------------------
# Servers


def start_nak_only_dnsmasq(lab: Lab, **options: Any) -> DnsmasqServer:
    """An authoritative dnsmasq for the lab subnet that hands out no address (no pool,
    no reservation): every DHCPREQUEST for an address is NAKed, renewals included, and
    no DHCPDISCOVER gets an offer. A lease lost to it stays lost."""
    return lab.start_dnsmasq(reservations_only=True, extra=["--dhcp-authoritative"], **options)


# --------------------------------------------------------------------------
# The pod's kernel state


def address_info(pod: Netns, cidr: str, ifname: str = "eth0") -> Optional[dict]:
    """`ip -j addr` for one address of the pod ("a.b.c.d/len"), None when it is not there."""
    local, _, prefix = cidr.partition("/")
    for entry in pod.addresses(ifname) if pod.link(ifname) else []:
        for info in entry.get("addr_info", []):
            if info.get("family") == "inet" and info.get("local") == local and str(info.get("prefixlen")) == prefix:
                return info
    return None


def valid_lft(pod: Netns, cidr: str, ifname: str = "eth0") -> Optional[int]:
    info = address_info(pod, cidr, ifname)
    return None if info is None else info.get("valid_life_time")


def default_route(pod: Netns) -> Optional[dict]:
    for route in pod.routes(4):
        if route.get("dst") == "default":
            return route
    return None


def log_lines(text: str, *fragments: str) -> list[str]:
    """Lines of a log holding every fragment."""
    return [line for line in text.splitlines() if all(f in line for f in fragments)]


def wait_for(condition, timeout: float, what: str, interval: float = 0.05, max_interval: float = 0.25):
    """wait_until with a polling pace suited to `ip`, `dhcp list` and lease-file reads."""
    return wait_until(condition, timeout, what, interval=interval, max_interval=max_interval)
