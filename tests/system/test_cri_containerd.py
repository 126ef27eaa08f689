"""containerd's CRI as kubelet drives it: our macvlan and dhcp under a real Kubernetes runtime.

What these tests prove, with Debian's containerd 1.6 and its CRI plugin, the calls
made as kubelet makes them (RunPodSandbox, PodSandboxStatus, CreateContainer,
StartContainer, ExecSync, StopPodSandbox, RemovePodSandbox) over gRPC:

- the seed's conflist (cniVersion 0.3.1, macvlan in bridge mode on the node's LAN
  interface, ipam dhcp): RunPodSandbox gets the address the LAN's dnsmasq leased to
  this sandbox (the server's lease, found by the client id naming the sandbox, holds
  it and the pod's MAC), PodSandboxStatus reports it, a container in the pod has it
  on eth0 with the server's router; StopPodSandbox releases it (the server's lease
  file drops it, the daemon holds no lease) and leaves no macvlan in the pod's
  namespace; RemovePodSandbox leaves nothing behind;
- the same with cniVersion 1.0.0, macvlan chained with the reference `tuning` (mtu,
  a sysctl, both seen in the container) and `portmap` (capabilities portMappings: the
  sandbox's port mapping reaches it as runtimeConfig, with our result as
  prevResult, and its DNAT rule is in the node's nat table while the pod runs and
  gone after StopPodSandbox);
- containerd deletes every attachment twice, at StopPodSandbox with the pod's netns
  and at RemovePodSandbox with an empty CNI_NETNS: every plugin of the chain
  succeeds both times, the server sees one DHCPRELEASE, and another pod on the
  same network keeps its lease, its address and its port mapping;
- a daemon that lost its record of a running pod adopts the pod's lease from the
  CNI result cache containerd wrote (libcni's format, for real), and releases it at
  StopPodSandbox.

How containerd runs (tests/cri/README.md has the details): a private instance per
test inside the lab's node network namespace, with its own root, state, socket
and config in the lab's work folder, in a mount namespace of its own (a "holder"
process makes it: tmpfs over /run and /var/lib, so the pods' netns files, the
shims' sockets, runc's state and libcni's cache never reach the host's). Our dhcp
daemon runs in the same namespaces, as the DaemonSet does on a node (it mounts
the host's /var/run/netns), on a socket in the lab's work folder that the
conflists name (ipam.daemonSocketPath). The CRI plugin's bin_dir holds our
macvlan and dhcp and the reference loopback, tuning and portmap, each behind
tests/cri/cni-recorder.sh, which records every call (environment, stdin, output,
exit status) and passes the real plugin's answer through unchanged. The pause
image is tests/cri/pause.c built static, the container image Debian's
busybox-static, both packed as OCI image layouts and imported with `ctr -n k8s.io
images import`; the CRI client is tests/cri/api.proto compiled with Debian's
python3-grpc-tools at test time.

Teardown, also after a failure: every sandbox is stopped and removed through the
CRI, containerd is stopped by PID, then the processes still in the pods' cgroup
parent and the shims of this instance (found by their -address) are killed by PID,
the cgroup folders removed, the holder stopped (its tmpfs mounts go with its mount
namespace), and the lab deletes its namespaces and folder.

The module skips (with the reason) only when containerd, runc, the grpc modules
or another tool it needs is not installed; a containerd that is there but fails
is a failure.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Optional, Sequence

import pytest

from dhcp_fixtures import dhcp_client_id, dhcp_conf, lease_active, lease_released, socket_accepts
from lab import Lab, Process, TempDir, process_running, run, wait_until
from macvlan_helpers import SANITIZER_MARKERS

REPO_ROOT = Path(__file__).resolve().parents[2]
CRI_DIR = REPO_ROOT / "tests" / "cri"
sys.path.insert(0, str(CRI_DIR))

import containerd_env  # noqa: E402
import cri_client  # noqa: E402
import oci_image  # noqa: E402

pytestmark = pytest.mark.usefixtures("require_root")

PAUSE_IMAGE = "localhost/cnt-pause:1"
BUSYBOX_IMAGE = "localhost/cnt-busybox:1"
NETWORK = "k8s-pod-network"          # the seed's network name
CONFLIST_NAME = "10-macvlan.conflist"  # the seed's file name
START_TIMEOUT = 30.0
TUNED_MTU = 1400
TUNED_SYSCTL = ("net.ipv4.conf.eth0.arp_notify", "1")  # 0 by default


# --------------------------------------------------------------------------
# What the machine needs


TOOLS = {
    "containerd": "containerd", "ctr": "containerd", "containerd-shim-runc-v2": "containerd",
    "runc": "runc", "nsenter": "util-linux", "unshare": "util-linux", "gcc": "gcc",
    "busybox": "busybox-static", "iptables": "iptables",
}


def missing_packages() -> list[str]:
    missing = sorted({package for tool, package in TOOLS.items() if not shutil.which(tool)})
    busybox = shutil.which("busybox")
    if busybox and "statically linked" not in run(["file", "-L", busybox], check=False).stdout:
        missing.append("busybox-static (the busybox found is dynamically linked)")
    return missing + cri_client.missing_modules()


@pytest.fixture(scope="module")
def cri_kit(require_root):
    """What every instance uses: the compiled CRI API and the two image tars."""
    missing = missing_packages()
    if missing:
        pytest.skip(f"containerd cannot run here: {', '.join(missing)} missing "
                    f"(scripts/install-deps.sh installs them)")
    folder = TempDir(prefix="cnt-cri-kit-")
    try:
        api_dir = folder.path / "api"
        api_dir.mkdir()
        api = cri_client.compile_api(api_dir)
        pause = oci_image.build_pause(folder.path)
        pause_tar = oci_image.image_tar(folder.path / "pause.tar", PAUSE_IMAGE, {"pause": pause},
                                       entrypoint=["/pause"])
        busybox_tar = oci_image.image_tar(
            folder.path / "busybox.tar", BUSYBOX_IMAGE,
            oci_image.busybox_files(("sh", "ip", "cat", "sleep", "ping")), cmd=["/bin/sh"])
        yield SimpleNamespace(api=api, images=[pause_tar, busybox_tar])
    finally:
        folder.delete()


# --------------------------------------------------------------------------
# The holder and the dhcp daemon in its namespaces


@pytest.fixture
def holder(lab: Lab, cri_kit):
    """The node's network namespace with a mount namespace of its own (containerd_env)."""
    process = Process(containerd_env.holder_argv(lab.node.path), lab.workdir / "holder.log",
                      name="cri-holder")
    lab.processes.append(process)
    process.wait_for_log("^holder ready$")
    yield process
    process.stop()


@pytest.fixture
def dhcp_bin(build_dir: Path, holder: Process, lab: Lab) -> Path:
    """Overrides conftest's: our dhcp entered into the holder's mount namespace, where
    the pods' netns files are (/var/run/netns/cni-*), so `dhcp_daemon` (and `dhcp list`)
    run as a DaemonSet that mounts the node's /var/run/netns does. nsenter execs: the
    daemon keeps the PID the lab knows."""
    wrapper = lab.workdir / "dhcp-in-holder"
    wrapper.write_text("#!/bin/sh\n"
                       f"exec nsenter --target={holder.pid} --mount -- {build_dir / 'dhcp'} \"$@\"\n")
    wrapper.chmod(0o755)
    return wrapper


# --------------------------------------------------------------------------
# The private containerd


@dataclass
class CniCall:
    """One plugin execution as cni-recorder.sh saw it."""

    plugin: str
    env: dict
    stdin: str
    stdout: str
    stderr: str
    rc: int

    @property
    def command(self) -> str:
        return self.env.get("CNI_COMMAND", "")

    @property
    def container_id(self) -> str:
        return self.env.get("CNI_CONTAINERID", "")

    @property
    def netns(self) -> Optional[str]:
        return self.env.get("CNI_NETNS")

    def conf(self) -> dict:
        return json.loads(self.stdin)

    def result(self) -> dict:
        return json.loads(self.stdout)

    def describe(self) -> str:
        return (f"{self.plugin} {self.command} netns={self.netns!r} exit {self.rc}\n"
                f"stdout: {self.stdout.strip()}\nstderr: {self.stderr.strip()}")


@dataclass
class Pod:
    id: str
    name: str
    config: object  # the PodSandboxConfig it was run with


class HeldNetns:
    """A pod's network namespace kept open by a descriptor of this process, so it can
    be looked into after containerd has removed it."""

    def __init__(self, pid: int):
        self.fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)

    def links(self) -> list[str]:
        out = run(["nsenter", f"--net=/proc/{os.getpid()}/fd/{self.fd}", "ip", "-j", "link", "show"]).stdout
        return sorted(link["ifname"] for link in json.loads(out))

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class Containerd:
    """One private containerd in the holder's namespaces, with `conflist` as its only
    network, our plugins and the reference ones behind the recorder, both images
    imported. close() tears everything down (see the module's docstring)."""

    def __init__(self, lab: Lab, holder: Process, kit: SimpleNamespace, build_dir: Path,
                 reference_plugins: Path, conflist: dict):
        self.lab, self.holder = lab, holder
        self.paths = containerd_env.Paths(lab.workdir / "containerd").make()
        self.record_dir = self.paths.top / "cni-calls"
        self.record_dir.mkdir()
        self.cgroup_parent = f"/{lab.id}-pods"
        self.network = conflist["name"]
        self.client: Optional[cri_client.CriClient] = None
        self.held: list[HeldNetns] = []
        self._install_plugins(build_dir, reference_plugins)
        (self.paths.conf_dir / CONFLIST_NAME).write_text(json.dumps(conflist, indent=2))
        containerd_env.write_config(self.paths, PAUSE_IMAGE)
        env = dict(os.environ, CNT_CNI_RECORD_DIR=str(self.record_dir),
                   TMPDIR=str(self.paths.top / "tmp"))
        self.process = Process(containerd_env.join_argv(holder.pid, ["containerd", "--config",
                                                                     str(self.paths.config)]),
                               lab.workdir / "containerd.log", env=env, name="containerd")
        lab.processes.append(self.process)
        try:
            self._wait_ready(kit)
        except BaseException:
            self.close()
            raise

    def _install_plugins(self, build_dir: Path, reference_plugins: Path) -> None:
        real = self.paths.bin_dir / "real"
        real.mkdir()
        plugins = {"macvlan": build_dir / "macvlan", "dhcp": build_dir / "dhcp"}
        plugins.update({name: reference_plugins / name for name in ("loopback", "tuning", "portmap")})
        for name, binary in plugins.items():
            (real / name).symlink_to(binary)
            shutil.copy(CRI_DIR / "cni-recorder.sh", self.paths.bin_dir / name)
            (self.paths.bin_dir / name).chmod(0o755)

    def _wait_ready(self, kit: SimpleNamespace) -> None:
        def serving() -> bool:
            if not self.process.alive():
                raise RuntimeError(f"containerd exited with {self.process.returncode}; log:\n"
                                   f"{self.process.log()[-6000:]}")
            return socket_accepts(self.paths.socket)

        wait_until(serving, START_TIMEOUT, f"containerd to serve on {self.paths.socket}")
        self.client = cri_client.CriClient(self.paths.socket, kit.api)
        version = self.client.version()
        assert version.runtime_name == "containerd" and version.runtime_api_version == "v1", version
        for tar in kit.images:
            run(["ctr", "--address", self.paths.socket, "--namespace", "k8s.io", "images", "import",
                 "--snapshotter", containerd_env.SNAPSHOTTER, tar], timeout=START_TIMEOUT)
        for image in (PAUSE_IMAGE, BUSYBOX_IMAGE):  # the CRI learns of them from events
            wait_until(lambda: self.client.image_id(image), START_TIMEOUT, f"the CRI to list {image}")
        wait_until(self.client.network_ready, START_TIMEOUT,
                   f"containerd's CRI to load {CONFLIST_NAME} (NetworkReady)")

    # -- the CRI calls kubelet makes

    @property
    def pb(self):
        return self.client.pb

    def run_pod(self, name: str, port_mappings: Sequence[tuple[int, int]] = ()) -> Pod:
        """RunPodSandbox; port_mappings: (container port, host port) over TCP."""
        pb = self.pb
        config = pb.PodSandboxConfig(
            metadata=pb.PodSandboxMetadata(name=name, uid=f"{self.lab.id}-{name}", namespace="default"),
            hostname=name, log_directory=str(self.paths.logs / name),
            port_mappings=[pb.PortMapping(protocol=pb.TCP, container_port=c, host_port=h)
                           for c, h in port_mappings],
            linux=pb.LinuxPodSandboxConfig(cgroup_parent=self.cgroup_parent))
        sandbox_id = self.client.call("RunPodSandbox", config=config).pod_sandbox_id
        return Pod(sandbox_id, name, config)

    def status(self, pod: Pod):
        """PodSandboxStatus (verbose): (status, info) with info parsed from its JSON."""
        answer = self.client.call("PodSandboxStatus", pod_sandbox_id=pod.id, verbose=True)
        return answer.status, json.loads(answer.info.get("info", "{}"))

    def pod_ip(self, pod: Pod) -> str:
        status, _ = self.status(pod)
        assert status.state == self.pb.SANDBOX_READY, status
        return status.network.ip

    def start_container(self, pod: Pod, name: str = "app") -> str:
        pb = self.pb
        config = pb.ContainerConfig(metadata=pb.ContainerMetadata(name=name),
                                    image=pb.ImageSpec(image=BUSYBOX_IMAGE),
                                    command=["sleep", "600"], log_path=f"{name}.log")
        container_id = self.client.call("CreateContainer", pod_sandbox_id=pod.id, config=config,
                                        sandbox_config=pod.config).container_id
        self.client.call("StartContainer", container_id=container_id)
        return container_id

    def exec(self, container_id: str, *cmd: str) -> str:
        """ExecSync in the container; its stdout (exit status 0 asserted)."""
        answer = self.client.call("ExecSync", container_id=container_id, cmd=list(cmd), timeout=20)
        assert answer.exit_code == 0, (f"{' '.join(cmd)} exited {answer.exit_code} in the container: "
                                       f"{answer.stdout.decode()} {answer.stderr.decode()}")
        return answer.stdout.decode()

    def stop_pod(self, pod: Pod) -> None:
        self.client.call("StopPodSandbox", pod_sandbox_id=pod.id)

    def remove_pod(self, pod: Pod) -> None:
        self.client.call("RemovePodSandbox", pod_sandbox_id=pod.id)

    def pods(self) -> list[str]:
        return [item.id for item in self.client.call("ListPodSandbox").items]

    # -- what to look at

    def hold_netns(self, pod: Pod) -> HeldNetns:
        _, info = self.status(pod)
        held = HeldNetns(info["pid"])
        self.held.append(held)
        return held

    def cni_calls(self, container_id: Optional[str] = None, command: Optional[str] = None,
                  plugin: Optional[str] = None) -> list[CniCall]:
        """Finished plugin calls, oldest first, filtered."""
        calls = []
        for folder in sorted(self.record_dir.iterdir()):
            if not (folder / "rc").exists():
                continue  # still running
            lines = (folder / "env").read_text().splitlines()
            env = dict(line.split("=", 1) for line in lines if "=" in line)
            call = CniCall(plugin=folder.name.split("-", 2)[2], env=env,
                           stdin=(folder / "stdin").read_text(), stdout=(folder / "stdout").read_text(),
                           stderr=(folder / "stderr").read_text(), rc=int((folder / "rc").read_text()))
            if ((container_id is None or call.container_id == container_id)
                    and (command is None or call.command == command)
                    and (plugin is None or call.plugin == plugin)):
                calls.append(call)
        return calls

    def dnat_rules(self) -> list[str]:
        """The node's nat table rules that DNAT (portmap's)."""
        rules = self.lab.node.exec(["iptables", "-t", "nat", "-S"]).stdout.splitlines()
        return [rule for rule in rules if "-j DNAT" in rule]

    def log(self) -> str:
        return self.process.log()

    # -- teardown

    def _shim_pids(self) -> list[int]:
        """containerd-shim-runc-v2 processes of this instance (their -address is its socket)."""
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and self._is_our_shim(int(entry.name)):
                pids.append(int(entry.name))
        return pids

    def _is_our_shim(self, pid: int) -> bool:
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        return (bool(argv) and argv[0].endswith(b"containerd-shim-runc-v2")
                and str(self.paths.socket).encode() in argv)

    def _cgroup_dirs(self) -> list[Path]:
        """This instance's cgroup parent in every hierarchy (runc with cgroupfs)."""
        found = []
        for hierarchy in Path("/sys/fs/cgroup").iterdir():
            path = hierarchy / self.cgroup_parent.lstrip("/")
            if hierarchy.is_dir() and path.is_dir():
                found.append(path)
        return found

    def _cgroup_pids(self) -> set[int]:
        pids: set[int] = set()
        for top in self._cgroup_dirs():
            for procs in top.rglob("cgroup.procs"):
                try:
                    pids.update(int(p) for p in procs.read_text().split())
                except OSError:
                    pass
        return pids

    def close(self) -> None:
        """Removes every sandbox through the CRI (so that their DELs release the leases),
        stops containerd, then kills by PID whatever of this instance still runs and
        removes its cgroups. Every step is attempted; what could not be killed or
        removed is raised at the end. (A CRI that no longer answers, after a failure,
        is only printed: the PIDs are what counts.)"""
        errors: list[str] = []
        if self.client is not None and self.process.alive():
            try:
                for sandbox_id in self.pods():
                    self.client.call("StopPodSandbox", pod_sandbox_id=sandbox_id)
                    self.client.call("RemovePodSandbox", pod_sandbox_id=sandbox_id)
            except Exception as e:  # grpc.RpcError: clean up by PID below
                print(f"containerd teardown: removing the sandboxes through the CRI failed: {e}")
        shims = self._shim_pids()
        if self.client is not None:
            self.client.close()
        self.process.stop()
        # The pods' processes (pause and containers, in the cgroup parent given to every
        # sandbox), then the shims: a shim reaps its container's processes.
        for pids in (self._cgroup_pids, lambda: [p for p in shims if self._is_our_shim(p)]):
            for pid in pids():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                wait_until(lambda: not [p for p in pids() if process_running(p)], 10.0,
                           "the pods' processes and shims to end")
            except TimeoutError as e:
                errors.append(str(e))
        for top in self._cgroup_dirs():
            children = sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts))
            for folder in children + [top]:  # the deepest first
                try:
                    wait_until(lambda: self._rmdir(folder), 5.0, f"removing cgroup {folder}")
                except TimeoutError as e:
                    errors.append(str(e))
        for held in self.held:
            held.close()
        if errors:
            raise AssertionError("containerd teardown: " + "; ".join(errors))

    @staticmethod
    def _rmdir(folder: Path) -> bool:
        try:
            folder.rmdir()
        except FileNotFoundError:
            pass
        except OSError:  # EBUSY while the last task leaves
            return False
        return True


@pytest.fixture
def start_containerd(lab: Lab, holder: Process, dhcp_daemon, build_dir: Path, reference_plugins: Path,
                     cri_kit):
    """start_containerd(conflist) -> Containerd. Torn down before the dhcp daemon stops, so
    that the teardown's DELs still reach it; its log is printed when the test failed."""
    instances: list[Containerd] = []

    def start(conflist: dict) -> Containerd:
        instance = Containerd(lab, holder, cri_kit, build_dir, reference_plugins, conflist)
        instances.append(instance)
        return instance

    yield start
    failures = []
    for instance in reversed(instances):
        try:
            instance.close()
        except Exception as e:
            failures.append(e)
    for instance in instances:
        for call in instance.cni_calls():
            for marker in SANITIZER_MARKERS:
                assert marker not in call.stderr, f"sanitizer report from a plugin:\n{call.describe()}"
    if failures:
        raise failures[0]


# --------------------------------------------------------------------------
# The two conflists


def macvlan_plugin(lab: Lab, daemon) -> dict:
    """The seed's macvlan entry, on the lab node's LAN-facing interface and our daemon's socket."""
    conf = dhcp_conf(lab, daemon, name=NETWORK)
    return {"type": "macvlan", "name": "macvlannet", "master": conf["master"], "mode": "bridge",
            "ipam": conf["ipam"]}


def seed_conflist(lab: Lab, daemon) -> dict:
    """The seed's 10-macvlan.conflist: cniVersion 0.3.1, macvlan with dhcp."""
    return {"name": NETWORK, "cniVersion": "0.3.1", "plugins": [macvlan_plugin(lab, daemon)]}


def chained_conflist(lab: Lab, daemon) -> dict:
    """cniVersion 1.0.0: macvlan with dhcp, then the reference tuning and portmap."""
    key, value = TUNED_SYSCTL
    return {"name": NETWORK, "cniVersion": "1.0.0", "plugins": [
        macvlan_plugin(lab, daemon),
        {"type": "tuning", "mtu": TUNED_MTU, "sysctl": {key: value}},
        {"type": "portmap", "capabilities": {"portMappings": True}, "snat": True},
    ]}


CONFLISTS = {"0.3.1": seed_conflist, "1.0.0": chained_conflist}


# --------------------------------------------------------------------------
# Checks shared by the tests


def server_lease(server, pod: Pod):
    """The server's lease for the pod's eth0 on NETWORK, by the client id our daemon sends."""
    wanted = dhcp_client_id(pod.id, NETWORK)
    for lease in server.leases():
        if lease.client_id == wanted:
            return lease
    return None


def assert_pod_has_its_lease(lab: Lab, cri: Containerd, server, daemon, pod: Pod) -> str:
    """PodSandboxStatus reports the address the server leased to this sandbox, and the
    daemon holds that lease. Returns the address."""
    ip = cri.pod_ip(pod)
    assert ipaddress.IPv4Address(ip) in lab.network, ip
    lease = server_lease(server, pod)
    assert lease is not None, f"dnsmasq has no lease for sandbox {pod.id}: {server.leases()}"
    assert lease.ip == ip and lease_active(server, ip), (lease, ip)
    held = daemon.lease(pod.id, NETWORK)
    assert held is not None and held["state"] == "BOUND", daemon.list()
    assert held["address"] == f"{ip}/{lab.network.prefixlen}", held
    return ip


def assert_container_sees(lab: Lab, cri: Containerd, container_id: str, ip: str, mac: str) -> None:
    shown = cri.exec(container_id, "ip", "-o", "-4", "addr", "show", "dev", "eth0")
    assert f"inet {ip}/{lab.network.prefixlen}" in shown, shown
    assert cri.exec(container_id, "cat", "/sys/class/net/eth0/address").strip() == mac.lower()
    routes = cri.exec(container_id, "ip", "route")
    assert f"default via {lab.router} dev eth0" in routes, routes


def assert_released(lab: Lab, server, daemon, pod: Pod, ip: str) -> None:
    """What the server sees: the address is free again; and the daemon holds nothing for the pod."""
    wait_until(lambda: lease_released(server, ip), 10.0, f"dnsmasq to drop the lease of {ip}")
    assert daemon.lease(pod.id, NETWORK) is None, daemon.list()


def assert_deleted_twice(cri: Containerd, pod: Pod, netns: str, plugins: Sequence[str]) -> None:
    """Each plugin got DEL at StopPodSandbox (the pod's netns) and again at
    RemovePodSandbox (CNI_NETNS empty), and succeeded both times with no output."""
    for plugin in plugins:
        dels = cri.cni_calls(pod.id, "DEL", plugin)
        assert [call.netns for call in dels] == [netns, ""], "\n".join(c.describe() for c in dels)
        for call in dels:
            assert call.rc == 0 and call.stdout.strip() == "", call.describe()


# --------------------------------------------------------------------------
# The tests


def test_seed_conflist_pod_gets_the_lease_and_stop_releases_it(lab, dnsmasq, dhcp_daemon, start_containerd):
    cri = start_containerd(seed_conflist(lab, dhcp_daemon))
    pod = cri.run_pod("web")

    ip = assert_pod_has_its_lease(lab, cri, dnsmasq, dhcp_daemon, pod)
    [add] = cri.cni_calls(pod.id, "ADD", "macvlan")
    assert add.rc == 0 and add.conf()["cniVersion"] == "0.3.1", add.describe()
    assert add.result()["cniVersion"] == "0.3.1", add.describe()
    assert add.result()["ips"][0]["address"] == f"{ip}/{lab.network.prefixlen}", add.describe()
    assert f"K8S_POD_NAME={pod.name}" in add.env["CNI_ARGS"].split(";"), add.env

    container = cri.start_container(pod)
    assert_container_sees(lab, cri, container, ip, server_lease(dnsmasq, pod).mac)

    netns = cri.hold_netns(pod)
    assert "eth0" in netns.links()
    cri.stop_pod(pod)
    assert_released(lab, dnsmasq, dhcp_daemon, pod, ip)
    assert netns.links() == ["lo"], "the pod's macvlan outlived StopPodSandbox"

    cri.remove_pod(pod)
    assert cri.pods() == []
    assert_deleted_twice(cri, pod, add.netns, ["loopback", "macvlan", "dhcp"])
    assert lease_released(dnsmasq, ip) and dhcp_daemon.list() == []


def test_chained_1_0_0_with_tuning_and_portmap(lab, dnsmasq, dhcp_daemon, start_containerd):
    cri = start_containerd(chained_conflist(lab, dhcp_daemon))
    pod = cri.run_pod("web", port_mappings=[(80, 8080)])

    ip = assert_pod_has_its_lease(lab, cri, dnsmasq, dhcp_daemon, pod)
    [macvlan] = cri.cni_calls(pod.id, "ADD", "macvlan")
    assert macvlan.result()["cniVersion"] == "1.0.0", macvlan.describe()
    # The chain got our result, and portmap the sandbox's port mapping.
    for plugin in ("tuning", "portmap"):
        [add] = cri.cni_calls(pod.id, "ADD", plugin)
        assert add.rc == 0, add.describe()
        assert add.conf()["prevResult"]["ips"][0]["address"] == f"{ip}/{lab.network.prefixlen}", add.stdin
    # containerd 1.6 spells the keys as Go does (HostPort, ...); portmap takes either.
    [portmap] = cri.cni_calls(pod.id, "ADD", "portmap")
    mappings = [{key.lower(): value for key, value in m.items()}
                for m in portmap.conf()["runtimeConfig"]["portMappings"]]
    assert [(m["hostport"], m["containerport"], m["protocol"]) for m in mappings] == [(8080, 80, "tcp")], \
        portmap.stdin

    dnat = [rule for rule in cri.dnat_rules() if "--dport 8080" in rule]
    assert len(dnat) == 1 and f"--to-destination {ip}:80" in dnat[0], cri.dnat_rules()

    container = cri.start_container(pod)
    assert_container_sees(lab, cri, container, ip, server_lease(dnsmasq, pod).mac)
    assert cri.exec(container, "cat", "/sys/class/net/eth0/mtu").strip() == str(TUNED_MTU)
    key, value = TUNED_SYSCTL
    assert cri.exec(container, "cat", "/proc/sys/" + key.replace(".", "/")).strip() == value

    netns = cri.hold_netns(pod)
    cri.stop_pod(pod)
    assert_released(lab, dnsmasq, dhcp_daemon, pod, ip)
    assert cri.dnat_rules() == []
    assert netns.links() == ["lo"], "the pod's macvlan outlived StopPodSandbox"

    cri.remove_pod(pod)
    assert cri.pods() == []
    assert_deleted_twice(cri, pod, macvlan.netns, ["loopback", "portmap", "tuning", "macvlan", "dhcp"])


@pytest.mark.parametrize("version", CONFLISTS)
def test_containerd_deletes_twice_and_the_second_del_is_harmless(lab, dnsmasq, dhcp_daemon, sniffer,
                                                                 start_containerd, version):
    cri = start_containerd(CONFLISTS[version](lab, dhcp_daemon))
    chained = version == "1.0.0"
    gone = cri.run_pod("gone", port_mappings=[(80, 8080)])
    stays = cri.run_pod("stays", port_mappings=[(80, 8081)])
    gone_ip = assert_pod_has_its_lease(lab, cri, dnsmasq, dhcp_daemon, gone)
    stays_ip = assert_pod_has_its_lease(lab, cri, dnsmasq, dhcp_daemon, stays)
    container = cri.start_container(stays)
    [add] = cri.cni_calls(gone.id, "ADD", "macvlan")

    cri.stop_pod(gone)
    assert_released(lab, dnsmasq, dhcp_daemon, gone, gone_ip)
    cri.remove_pod(gone)
    plugins = ["loopback", "macvlan", "dhcp"] + (["tuning", "portmap"] if chained else [])
    assert_deleted_twice(cri, gone, add.netns, plugins)
    assert cri.pods() == [stays.id]

    # The other pod kept everything: its lease at the server and in the daemon, its
    # address (the LAN answers it), its port mapping.
    assert assert_pod_has_its_lease(lab, cri, dnsmasq, dhcp_daemon, stays) == stays_ip
    assert_container_sees(lab, cri, container, stays_ip, server_lease(dnsmasq, stays).mac)
    cri.exec(container, "ping", "-c", "1", "-W", "2", lab.router)
    if chained:
        dnat = cri.dnat_rules()
        assert len(dnat) == 1, dnat
        assert "--dport 8081" in dnat[0] and f"--to-destination {stays_ip}:80" in dnat[0], dnat
    assert dhcp_daemon.log().count(f"{gone.id}/{NETWORK}/eth0: released") == 1, dhcp_daemon.log()

    # The wire: one DHCPRELEASE for the removed pod. The other pod's, sent after it,
    # shows the sniffer has seen everything the first removal sent.
    cri.stop_pod(stays)
    cri.remove_pod(stays)
    assert_released(lab, dnsmasq, dhcp_daemon, stays, stays_ip)
    wait_until(lambda: [m for m in sniffer.messages("RELEASE") if m["ciaddr"] == stays_ip],
               10.0, "the second pod's DHCPRELEASE on the wire")
    releases = [m["ciaddr"] for m in sniffer.messages("RELEASE")]
    assert releases == [gone_ip, stays_ip], sniffer.messages()
    assert cri.dnat_rules() == [] and dhcp_daemon.list() == []


def test_a_lease_without_a_record_is_adopted_from_containerds_cache(lab, dnsmasq, dhcp_daemon, start_daemon,
                                                                    start_containerd):
    """A daemon that finds no record of a running pod (the reference daemon's pods
    after an upgrade, or records lost) adopts its lease from the CNI result cache
    containerd itself wrote (libcni's, /var/lib/cni/results in its mount namespace):
    the cache's real format, not one a test wrote."""
    cri = start_containerd(seed_conflist(lab, dhcp_daemon))
    pod = cri.run_pod("web")
    ip = assert_pod_has_its_lease(lab, cri, dnsmasq, dhcp_daemon, pod)

    dhcp_daemon.process.send_signal(signal.SIGKILL)
    assert dhcp_daemon.process.wait(5) == -signal.SIGKILL
    for record in dhcp_daemon.state_dir.glob("*.json"):
        record.unlink()
    daemon = start_daemon("--cni-cache-dir", "/var/lib/cni", socket_path=dhcp_daemon.socket_path,
                          state_dir=dhcp_daemon.state_dir)
    assert "adopting 1 leases found in /var/lib/cni/results" in daemon.log(), daemon.log()
    wait_until(lambda: (daemon.lease(pod.id, NETWORK) or {}).get("state") == "BOUND", 10.0,
               "the adopted lease to be confirmed by the server")
    assert daemon.lease(pod.id, NETWORK)["address"] == f"{ip}/{lab.network.prefixlen}"

    cri.stop_pod(pod)
    assert_released(lab, dnsmasq, daemon, pod, ip)
    cri.remove_pod(pod)
