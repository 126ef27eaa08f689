"""The daemon as the seed's own DaemonSet runs it: `/opt/cni/bin/dhcp daemon` from the
host's bin dir, hostNetwork and hostPID, privileged, and nothing shared with the host
but /run/cni (for the socket) and /opt/cni/bin. No state volume, no /var/run/netns.

Its container is removed and started again (a container restart keeps nothing of the
old root file system), and every pod must keep its address: the daemon keeps its lease
records beside the socket, in /run/cni/dhcp-leases on the host, when its state
directory is not mounted from the host, and the new container resumes and renews
them. With the reference, a pod keeps its address but the lease lapses at the server;
with a daemon that forgot its leases, the pod's address (whose lifetime is the lease's)
would be gone when the lease ends.

hostPID is emulated: the machine's own PID 1 is not ours to look into here, so the
container shares a PID namespace whose PID 1 stays in the node's mount namespace, as
a host's init does. The pods' namespaces are named /var/run/netns/..., as containerd
and CRI-O name them, and on the host /var/run is a link to /run: the daemon must
resolve that link in the host's view, not in its own.

The podman set-up (holders, test-local storage, the image) is test_deploy_image.py's.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from deploy_helpers import for_lab, plugin_config
from lab import Process, wait_until
from survive_fixtures import log_lines, valid_lft
from test_deploy_image import IMAGE, FakeHost, host_holder, image, manifests, node_holder, podman, workdir  # noqa: F401

pytestmark = pytest.mark.usefixtures("require_root")

LEASE_S = 20  # dhcpd's: T1 at 10 s, the end at 20 s
READY_TIMEOUT = 20.0

SEED_CONFLIST = {
    "cniVersion": "0.3.1",
    "name": "dhcp-net",
    "plugins": [{"type": "macvlan", "master": "ens9", "mode": "bridge", "ipam": {"type": "dhcp"}}],
}


@pytest.fixture
def host_pid_namespace(node_holder, workdir):
    """A PID namespace whose PID 1 (a sleep) lives in the node holder's mount
    namespace: the host's PID namespace, as a hostPID container sees it."""
    init = Process(["nsenter", f"--target={node_holder.pid}", "--mount", "--net",
                    "unshare", "--pid", "--fork", "--kill-child", "sleep", "infinity"],
                   workdir / "host-init.log", name="host-init")
    children = Path(f"/proc/{init.pid}/task/{init.pid}/children")
    wait_until(lambda: children.read_text().strip() != "", 5, "the PID namespace's init to start")
    yield f"/proc/{init.pid}/ns/pid_for_children"
    init.stop()


def seed_daemon_args(host: FakeHost, name: str, pid_namespace: str) -> list[str]:
    """The seed's dhcp-node container: its namespaces, privileges, command and its two
    hostPath mounts, nothing else."""
    return ["run", "--detach", "--name", name, "--network", "host", "--pid", f"ns:{pid_namespace}", "--privileged",
            "-v", f"{host.run_cni}:/run/cni", "-v", f"{host.bin_dir}:/opt/cni/bin",
            "--entrypoint", json.dumps(["/opt/cni/bin/dhcp", "daemon"]), IMAGE]


class SeedDaemon:
    def __init__(self, podman, holder, host: FakeHost, name: str, pid_namespace: str):
        self.podman, self.holder, self.host, self.name = podman, holder, host, name
        self.pid_namespace = pid_namespace

    def start(self) -> None:
        self.podman(self.holder, *seed_daemon_args(self.host, self.name, self.pid_namespace))
        wait_until(self.ready, READY_TIMEOUT, "the seed's daemon container to answer `dhcp status`")

    def ready(self) -> bool:
        state = json.loads(self.podman(self.holder, "container", "inspect", self.name).stdout)[0]["State"]
        if not state["Running"]:
            raise AssertionError(f"the daemon container stopped ({state['ExitCode']}):\n{self.logs()}")
        status = self.podman(self.holder, "exec", self.name, "/opt/cni/bin/dhcp", "status", check=False)
        return status.returncode == 0

    def logs(self) -> str:
        done = self.podman(self.holder, "logs", self.name, check=False)
        return done.stdout + done.stderr

    def remove(self) -> None:
        """What a container restart does to the old one: gone, with its root file system."""
        self.podman(self.holder, "rm", "--force", "--time", "10", self.name)

    def list(self) -> list[dict]:
        done = self.podman(self.holder, "exec", self.name, "/opt/cni/bin/dhcp", "list", "--json")
        return json.loads(done.stdout)


def test_seed_daemonset_restart_keeps_every_pod_address(lab, podman, host_holder, node_holder, image, workdir,
                                                        host_pid_namespace):
    server = lab.start_dhcpd(lease_time=LEASE_S)
    host = FakeHost(workdir / "host")
    shutil.rmtree(host.state)  # the seed's node has no such volume
    for plugin in ("macvlan", "dhcp"):
        shutil.copy2(image.bin / plugin, host.bin_dir / plugin)
    daemon = SeedDaemon(podman, node_holder, host, f"{lab.id}-dhcp-node", host_pid_namespace)
    daemon.start()
    logs = daemon.logs()
    assert log_lines(logs, "not mounted from the host, so leases are kept beside the socket"), logs

    socket_path = host.run_cni / "dhcp.sock"
    conf = for_lab(json.loads(json.dumps(SEED_CONFLIST)), lab.node.master, socket_path)
    pods = []
    for i in range(3):
        pod = lab.add_pod()
        cid = f"cnt-seed-pod{i}"
        # CNI_NETNS as containerd and CRI-O pass it: a path the seed's container does
        # not mount, reached through the host's root (/proc/1/root, hostPID).
        add = lab.run_plugin(host.bin_dir / "macvlan", "ADD", plugin_config(conf), netns=f"/var/run/netns/{pod.name}",
                             ifname="eth0", container_id=cid, cni_path=host.bin_dir)
        assert add.code == 0, f"ADD failed: {add.stdout}{add.stderr}\ndaemon log:\n{daemon.logs()}"
        pods.append((pod, cid, add.output["ips"][0]["address"]))
    records = sorted(p.name for p in (host.run_cni / "dhcp-leases").iterdir())
    assert len(records) == 3, records
    ends_before = {cidr: server.lease_for(ip=cidr.split("/")[0]).expires for _, _, cidr in pods}

    daemon.remove()
    removed_at = time.monotonic()
    daemon.start()
    assert {e["containerID"] for e in daemon.list()} == {cid for _, cid, _ in pods}
    assert len(log_lines(daemon.logs(), ": resumed in ")) == 3, daemon.logs()

    # The new container renews every lease: dhcpd moves each end forward.
    def renewed() -> bool:
        leases = {lease.ip: lease for lease in server.leases()}
        return all(leases[cidr.split("/")[0]].expires > end for cidr, end in ends_before.items())

    wait_until(renewed, LEASE_S + 5, "dhcpd to see every lease renewed by the restarted daemon")
    # Past the end the leases had when the old container went: every pod still holds
    # its address, with a lifetime the renewal gave it.
    time.sleep(max(0.0, LEASE_S + 2 - (time.monotonic() - removed_at)))
    for pod, cid, cidr in pods:
        lifetime = valid_lft(pod, cidr)
        assert lifetime is not None and lifetime > 0, (cid, cidr, pod.cidrs("eth0"))
