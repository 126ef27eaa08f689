"""Shared pieces of the macvlan system tests (test_macvlan_*.py).

Our macvlan binary runs exactly as a runtime runs it: inside the lab's node
netns (`ip netns exec`), CNI_NETNS pointing at a pod netns the lab made,
configuration on stdin, CNI_PATH holding the IPAM plugins (Debian's reference
host-local and static, or FakeIpam below). The fixtures at the end
(macvlan, host_local_dir, fake_ipam) are registered by conftest.py.
"""

from __future__ import annotations

import ipaddress
import json
import stat
from pathlib import Path
from typing import Any, Optional, Sequence

import pytest

from lab import Lab, Netns, PluginRun

ALL_VERSIONS = ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]
REFERENCE_VERSIONS = ALL_VERSIONS[:-1]  # Debian's host-local and static stop at 1.0.0
LEGACY_VERSIONS = {"0.1.0", "0.2.0"}    # results made of ip4/ip6 objects
CONTAINER_ID = "cnt-c0"

# ASan/UBSan print these on stderr (CNT_BUILD_DIR=build-san): any of them fails the test,
# whatever the exit code (a leak on an error path would otherwise go unnoticed).
SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer", "runtime error:")


# --------------------------------------------------------------------------
# Configurations


def macvlan_conf(lab: Lab, version: str = "1.0.0", ipam: Optional[dict] = None, **keys: Any) -> dict:
    """A macvlan network on the lab node's master; keys override or add (None removes)."""
    conf = {"cniVersion": version, "name": f"{lab.id}-net", "type": "macvlan",
            "master": lab.node.master}
    if ipam is not None:
        conf["ipam"] = ipam
    for key, value in keys.items():
        if value is None:
            conf.pop(key, None)
        else:
            conf[key] = value
    return conf


def host_local_ipam(lab: Lab, data_dir: Path, *, first: int = 50, last: int = 99,
                    routes: Sequence[dict] = ({"dst": "0.0.0.0/0"},),
                    resolv_conf: Optional[Path] = None, gateway: bool = True) -> dict:
    """Debian's host-local on the lab subnet, addresses .first to .last."""
    range_ = {"subnet": str(lab.network), "rangeStart": lab.address(first), "rangeEnd": lab.address(last)}
    if gateway:
        range_["gateway"] = lab.router
    ipam = {"type": "host-local", "ranges": [[range_]], "routes": list(routes), "dataDir": str(data_dir)}
    if resolv_conf:
        ipam["resolvConf"] = str(resolv_conf)
    return ipam


def static_ipam(addresses: Sequence[dict], routes: Sequence[dict] = (), dns: Optional[dict] = None) -> dict:
    ipam = {"type": "static", "addresses": list(addresses)}
    if routes:
        ipam["routes"] = list(routes)
    if dns:
        ipam["dns"] = dns
    return ipam


def reservations(data_dir: Path, network_name: str) -> dict[str, list[str]]:
    """host-local's allocations: address -> [container id, ifname]."""
    folder = Path(data_dir) / network_name
    if not folder.is_dir():
        return {}
    found = {}
    for path in folder.iterdir():
        try:
            ipaddress.ip_address(path.name)
        except ValueError:
            continue  # lock, last_reserved_ip.0
        found[path.name] = path.read_text().split()
    return found


# --------------------------------------------------------------------------
# Running the plugin


def assert_no_sanitizer_report(run: PluginRun) -> None:
    for marker in SANITIZER_MARKERS:
        assert marker not in run.stderr, f"sanitizer report from the plugin:\n{run.stderr}"


class Macvlan:
    """Our macvlan binary, run in the lab node for a pod as a runtime would."""

    def __init__(self, lab: Lab, binary: Path, cni_path: Any):
        self.lab, self.binary, self.cni_path = lab, binary, cni_path

    def __call__(self, command: str, conf: Any, pod: Optional[Netns] = None, *, ifname: str = "eth0",
                 container_id: Optional[str] = CONTAINER_ID, **kwargs: Any) -> PluginRun:
        kwargs.setdefault("cni_path", self.cni_path)
        kwargs.setdefault("netns", pod)
        run = self.lab.run_plugin(self.binary, command, conf, ifname=ifname, container_id=container_id,
                                  **kwargs)
        assert_no_sanitizer_report(run)
        return run

    def add(self, conf: Any, pod: Optional[Netns], **kwargs: Any) -> dict:
        """ADD that must succeed; returns the result."""
        run = self("ADD", conf, pod, **kwargs)
        assert run.code == 0 and isinstance(run.output, dict), run
        assert run.output.get("cniVersion") == conf["cniVersion"], run.output
        return run.output

    def ok(self, command: str, conf: Any, pod: Optional[Netns], **kwargs: Any) -> PluginRun:
        """A command that must succeed and print nothing (DEL, CHECK, STATUS, GC)."""
        run = self(command, conf, pod, **kwargs)
        assert (run.code, run.stdout) == (0, ""), run
        return run


def assert_cni_error(run: PluginRun, code: int, *fragments: str) -> dict:
    """Failed with CNI error `code`, printed as JSON on stdout, whose msg (or details)
    contains every fragment."""
    assert run.code != 0, f"expected error {code}, got exit 0 with {run.stdout!r}"
    error = run.output
    assert isinstance(error, dict) and {"cniVersion", "code", "msg"} <= error.keys(), run
    assert error["code"] == code, error
    text = error["msg"] + " " + error.get("details", "")
    for fragment in fragments:
        assert str(fragment) in text, (fragment, error)
    return error


# --------------------------------------------------------------------------
# Kernel state


def non_lo_links(netns: Netns) -> list[str]:
    return [link["ifname"] for link in netns.links() if link["ifname"] != "lo"]


def assert_only_lo(netns: Netns) -> None:
    assert non_lo_links(netns) == [], netns.links()


def macvlan_mode(netns: Netns, ifname: str = "eth0") -> str:
    link = netns.link(ifname)
    assert link is not None, f"no {ifname} in {netns.name}"
    assert link["linkinfo"]["info_kind"] == "macvlan", link
    return link["linkinfo"]["info_data"]["mode"]


def master_of(netns: Netns, ifname: str = "eth0") -> Any:
    """The link's master: its ifindex (int) when it lives in another namespace, its
    name (str) when it is in `netns` too (that is how `ip -j` tells them apart)."""
    link = netns.link(ifname)
    assert link is not None, f"no {ifname} in {netns.name}"
    return link["link"] if "link" in link else link["link_index"]


def ping(netns: Netns, address: str, timeout: float = 2) -> bool:
    """One echo request; True if answered within `timeout` seconds."""
    family = "-6" if ":" in address else "-4"
    done = netns.exec(["ping", family, "-n", "-c", "1", "-W", str(timeout), address], check=False)
    return done.returncode == 0


def fast_dad(netns: Netns) -> None:
    """IPv6 duplicate address detection on links created in `netns` from now on starts
    at once instead of after a random delay of up to 1 s (one probe, 1 s, remains:
    addresses are tentative until then, so the plugin's wait is exercised all the same)."""
    netns.sysctl("net/ipv6/conf/default/router_solicitation_delay", 0)


def find_route(netns: Netns, dst: str, family: int = 4, table: Any = None) -> Optional[dict]:
    for route in netns.routes(family, table):
        if route["dst"] == dst:
            return route
    return None


# --------------------------------------------------------------------------
# A scriptable IPAM plugin


FAKE_IPAM_SCRIPT = r'''#!/usr/bin/python3 -I
# A scriptable IPAM plugin for the macvlan system tests: records each call in
# calls.jsonl and answers what behaviour.json says for the command.
import json, os, sys
HERE = {here!r}
command = os.environ.get("CNI_COMMAND", "")
raw = sys.stdin.read()
try:
    stdin = json.loads(raw)
except ValueError:
    stdin = raw
with open(os.path.join(HERE, "calls.jsonl"), "a") as log:
    env = {{k: v for k, v in os.environ.items() if k.startswith("CNI_")}}
    log.write(json.dumps({{"command": command, "stdin": stdin, "env": env}}) + "\n")
try:
    with open(os.path.join(HERE, "behaviour.json")) as f:
        behaviour = json.load(f).get(command, {{}})
except FileNotFoundError:
    behaviour = {{}}
if command == "VERSION":
    behaviour = {{"result": {{"cniVersion": "1.1.0", "supportedVersions":
        ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]}}}}
if "stdout" in behaviour:
    sys.stdout.write(behaviour["stdout"])
elif "result" in behaviour:
    json.dump(behaviour["result"], sys.stdout)
elif "error" in behaviour:
    json.dump(behaviour["error"], sys.stdout)
    sys.exit(behaviour.get("exit", 1))
sys.exit(behaviour.get("exit", 0))
'''


class FakeIpam:
    """An IPAM plugin whose answers a test sets: fake.answer("ADD", result={...}),
    fake.answer("DEL", error={"code": 11, "msg": "..."}), fake.answer("ADD", stdout="junk", exit=1).
    Every call is recorded: fake.calls() -> [{"command", "stdin", "env"}, ...].
    Its directory goes first in CNI_PATH (fake.cni_path)."""

    def __init__(self, directory: Path, cni_bin_dir: Path, name: str = "cnt-fake-ipam"):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.type = name
        self.path = self.dir / name
        self.path.write_text(FAKE_IPAM_SCRIPT.format(here=str(self.dir)))
        self.path.chmod(self.path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        self.cni_path = [self.dir, cni_bin_dir]
        self._behaviour: dict[str, dict] = {}

    def answer(self, command: str, **behaviour: Any) -> None:
        self._behaviour[command] = behaviour
        (self.dir / "behaviour.json").write_text(json.dumps(self._behaviour))

    def calls(self) -> list[dict]:
        try:
            lines = (self.dir / "calls.jsonl").read_text().splitlines()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in lines if line.strip()]

    def commands(self) -> list[str]:
        return [call["command"] for call in self.calls()]

    def ipam(self, **extra: Any) -> dict:
        return {"type": self.type, **extra}


# --------------------------------------------------------------------------
# Fixtures (conftest.py makes them available to every test module)


@pytest.fixture
def macvlan(lab: Lab, macvlan_bin: Path, cni_bin_dir: Path) -> Macvlan:
    return Macvlan(lab, macvlan_bin, cni_bin_dir)


@pytest.fixture
def host_local_dir(lab: Lab) -> Path:
    return lab.workdir / "host-local"


@pytest.fixture
def fake_ipam(lab: Lab, cni_bin_dir: Path) -> FakeIpam:
    return FakeIpam(lab.workdir / "fake-ipam", cni_bin_dir)
