"""A private containerd (Debian's 1.6) for the CRI tests: its configuration and the
mount namespace it runs in. Plain functions; tests/system/test_cri_containerd.py
starts the processes (lab.md, "containerd's CRI as a Kubernetes-style runtime").

    Paths(top)                       every file and folder of one instance, under top
    write_config(paths, ...)         config.toml: own root, state, socket, CNI dirs
    holder_argv(node_netns)          the process that makes and keeps the mount namespace
    join_argv(holder_pid, argv)      argv run in the holder's namespaces

Everything containerd, its shims and runc write lands in the test folder or in
tmpfs mounts that exist only in that mount namespace:

- root, state, the gRPC and ttrpc sockets, the opt plugin's folder and the temp
  folder are set in the configuration, in the test folder;
- /run gets a tmpfs: the pods' netns files (/var/run/netns/cni-*, a fixed path in
  containerd 1.6), the shims' sockets (/run/containerd/s/*) and runc's state;
- /var/lib gets a tmpfs: libcni's result cache (/var/lib/cni), without creating
  /var/lib/cni on the host, where it need not exist.

The namespace is entered with `nsenter --net` plus `unshare --mount`, not `ip netns
exec`: that one mounts a fresh /sys, which hides the cgroup mounts runc needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CRI = 'plugins."io.containerd.grpc.v1.cri"'
SNAPSHOTTER = "overlayfs"  # the CRI plugin's, and where `ctr images import` unpacks


@dataclass
class Paths:
    top: Path

    @property
    def root(self) -> Path:
        return self.top / "root"

    @property
    def state(self) -> Path:
        return self.top / "state"

    @property
    def socket(self) -> Path:
        return self.top / "containerd.sock"

    @property
    def config(self) -> Path:
        return self.top / "config.toml"

    @property
    def bin_dir(self) -> Path:
        """The CRI plugin's CNI bin_dir."""
        return self.top / "cni-bin"

    @property
    def conf_dir(self) -> Path:
        """The CRI plugin's CNI conf_dir."""
        return self.top / "cni-conf"

    @property
    def logs(self) -> Path:
        """The pods' log_directory."""
        return self.top / "pod-logs"

    def make(self) -> "Paths":
        for path in (self.root, self.state, self.bin_dir, self.conf_dir, self.logs,
                     self.top / "opt", self.top / "tmp"):
            path.mkdir(parents=True, exist_ok=True)
        return self

    def task_dirs(self) -> list[Path]:
        """The runc v2 shim's bundle folder of every task: init.pid, shim.pid, ..."""
        base = self.state / "io.containerd.runtime.v2.task"
        return sorted(base.glob("*/*")) if base.is_dir() else []


def write_config(paths: Paths, sandbox_image: str, *, log_level: str = "info") -> Path:
    """config.toml of one instance. The CRI plugin:

    - restrict_oom_score_adj: this machine withholds CAP_SYS_RESOURCE, and runc fails
      with "can't get final child's PID from pipe: EOF" without it;
    - runc with cgroupfs, the overlayfs snapshotter;
    - CNI from paths.bin_dir and the first conflist in paths.conf_dir;
    - the streaming server on 127.0.0.1 of the node namespace, any free port;
    - no AppArmor, no SELinux.
    io.containerd.runtime.v1.linux stays enabled: without it the CRI plugin fails to
    load ("unknown service runtime.v1.RuntimeService")."""
    text = f"""\
version = 2
root = "{paths.root}"
state = "{paths.state}"
temp = "{paths.top / 'tmp'}"
disabled_plugins = [
  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",
]

[grpc]
  address = "{paths.socket}"

[ttrpc]
  address = "{paths.socket}.ttrpc"

[debug]
  level = "{log_level}"

[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "{paths.top / 'opt'}"

  [{CRI}]
    sandbox_image = "{sandbox_image}"
    restrict_oom_score_adj = true
    disable_apparmor = true
    enable_selinux = false
    disable_tcp_service = true
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    enable_unprivileged_ports = false
    enable_unprivileged_icmp = false

    [{CRI}.containerd]
      snapshotter = "{SNAPSHOTTER}"
      default_runtime_name = "runc"

      [{CRI}.containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"

        [{CRI}.containerd.runtimes.runc.options]
          SystemdCgroup = false

    [{CRI}.cni]
      bin_dir = "{paths.bin_dir}"
      conf_dir = "{paths.conf_dir}"
      max_conf_num = 1
      conf_template = ""
"""
    paths.config.write_text(text)
    return paths.config


def holder_argv(node_netns: str) -> list[str]:
    """argv of the holder: a shell in the node's network namespace and a mount namespace
    of its own (a slave of the host's: nothing mounted in it leaks out) with tmpfs over
    /run and /var/lib. It prints "holder ready" and sleeps; containerd and the dhcp
    daemon join its namespaces with nsenter --target."""
    script = "\n".join([
        "set -e",
        "mount -t tmpfs -o mode=0755 cnt-cri-run /run",
        "mkdir -p /run/netns /run/containerd",
        "mount -t tmpfs -o mode=0755 cnt-cri-varlib /var/lib",
        "echo holder ready",
        "exec sleep 3600",
    ])
    return ["nsenter", f"--net={node_netns}", "--", "unshare", "--mount", "--propagation", "slave",
            "--", "sh", "-c", script]


def join_argv(holder_pid: int, argv: list[str]) -> list[str]:
    """argv run in the holder's network and mount namespaces (same PID: nsenter execs)."""
    return ["nsenter", f"--target={holder_pid}", "--mount", "--net", "--", *argv]

