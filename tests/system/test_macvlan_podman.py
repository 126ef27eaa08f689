"""podman (4.3, CNI backend) as the runtime: it reads a conflist naming our
macvlan with Debian's host-local, calls our binary through libcni for ADD and
DEL, and the container sees the interface.

podman runs offline with all of its state in a test folder (lab.md):
containers.conf and storage.conf through CONTAINERS_CONF and
CONTAINERS_STORAGE_CONF, an image imported from a busybox-static rootfs.
(static_dir and volume_path stay at their defaults under graphroot: moved
elsewhere, the `podman container cleanup` that conmon runs when a container
exits looks in the default place, and `podman run` waits 20 s for it.)

It runs inside the lab's node netns, entered with `ip netns exec`, in a
"holder" process that `ip netns exec` starts: a shell that prepares the private
mount namespace `ip netns exec` gives it, then sleeps. Each podman command
joins the holder's network and mount namespaces (nsenter), so that all of them
see the same mounts. That namespace gets:

- the cgroup hierarchies again: `ip netns exec` mounts a fresh /sys, which
  hides them, and runc then fails with "no cgroup mount found in mountinfo";
- test-folder directories bind-mounted over /var/lib (libcni's cache in
  /var/lib/cni, podman's blob cache in /var/lib/containers) and /run/netns
  (podman's container netns files).

So nothing podman writes reaches the host's /var/lib or /run/netns, and all of
it goes with the folder and the holder, also after a failure. (Separate
`ip netns exec` calls would each get their own mount namespace: a netns file
podman mounts in one is invisible to the next, and `podman rm` could not tear
the network down.)
"""

import ipaddress
import json
import os
import shlex
import shutil
import signal

import pytest

from lab import TempDir, run
from macvlan_helpers import host_local_ipam, reservations
from podman_env import cgroup_mount_commands, write_config

pytestmark = pytest.mark.usefixtures("require_root")
IMAGE = "localhost/cnt-busybox"
PODMAN_TIMEOUT = 60.0


def missing_tools():
    needed = {"podman": "podman", "runc": "runc", "conmon": "conmon", "busybox": "busybox-static",
              "nsenter": "util-linux", "unshare": "util-linux"}
    missing = [pkg for tool, pkg in needed.items()
               if not shutil.which(tool) and not os.path.exists(f"/usr/libexec/podman/{tool}")]
    busybox = shutil.which("busybox")
    if busybox and "statically linked" not in run(["file", "-L", busybox], check=False).stdout:
        missing.append("busybox-static (the busybox found is dynamically linked)")
    return missing


class Podman:
    """podman's configuration and state, all under `root`."""

    def __init__(self, root, plugin_dir):
        self.root = root
        for sub in ("net.d", "var-lib", "netns"):
            (root / sub).mkdir()
        self.config_dir = root / "net.d"
        self.var_lib = root / "var-lib"     # what podman sees as /var/lib
        self.netns_dir = root / "netns"     # what podman sees as /run/netns
        self.env = write_config(root, plugin_dir, self.config_dir, events_logfile_path=f"{root}/events.log")
        self.holder_script = root / "holder.sh"
        self.holder_script.write_text("\n".join([
            "#!/bin/sh",
            "# The mount namespace podman runs in: see test_macvlan_podman.py.",
            "set -e",
            *cgroup_mount_commands(),
            f"mount --bind {shlex.quote(str(self.var_lib))} /var/lib",
            f"mount --bind {shlex.quote(str(self.netns_dir))} /run/netns",
            "echo holder ready",
            "exec sleep 3600",
            ""]))

    def import_image(self, tar):
        # Its own private mount namespace: its blob cache goes to the folder too.
        script = f"mount --bind {shlex.quote(str(self.var_lib))} /var/lib && exec podman \"$@\""
        run(["unshare", "--mount", "--propagation", "slave", "sh", "-c", script, "sh",
             "import", "--change", 'CMD ["/bin/sh"]', tar, IMAGE], env=self.env, timeout=PODMAN_TIMEOUT)

    def cni_cache(self):
        """libcni's cached results (one per attachment from ADD until DEL)."""
        results = self.var_lib / "cni" / "results"
        return sorted(p.name for p in results.iterdir()) if results.is_dir() else []


class NodePodman:
    """podman commands in the holder's namespaces (the lab node's netns)."""

    def __init__(self, podman, holder):
        self.podman, self.holder = podman, holder

    def __call__(self, *args, check=True):
        argv = ["nsenter", f"--target={self.holder.pid}", "--mount", "--net", "podman", *args]
        return run(argv, env=self.podman.env, check=check, timeout=PODMAN_TIMEOUT)


@pytest.fixture(scope="module")
def podman(cni_bin_dir, require_root):
    missing = missing_tools()
    if missing:
        pytest.skip(f"podman test needs {', '.join(missing)} (apt-get install them)")
    folder = TempDir(prefix="cnt-podman-")
    try:
        the_podman = Podman(folder.path, cni_bin_dir)
        rootfs = folder.path / "rootfs"
        (rootfs / "bin").mkdir(parents=True)
        shutil.copy(shutil.which("busybox"), rootfs / "bin" / "busybox")
        for applet in ("sh", "ip", "sleep", "cat", "ping"):
            (rootfs / "bin" / applet).symlink_to("busybox")
        tar = folder.path / "rootfs.tar"
        run(["tar", "-C", rootfs, "-cf", tar, "."])
        the_podman.import_image(tar)
        yield the_podman
    finally:
        folder.delete()


@pytest.fixture
def node_podman(lab, podman):
    holder = lab.start_process(["sh", podman.holder_script], lab.node, name="podman-holder")
    holder.wait_for_log("holder ready")
    the_podman = NodePodman(podman, holder)
    yield the_podman
    # Whatever happened: containers removed (podman runs their DEL), then the holder
    # stopped, which frees its mounts. The lab stops anything left in the node by PID.
    listed = the_podman("ps", "--all", "--format", "{{.ID}} {{.Pid}}", check=False).stdout.split("\n")
    the_podman("rm", "--all", "--force", "--time", "0", check=False)
    for line in listed:
        if len(line.split()) == 2 and int(line.split()[1]) > 0:
            try:
                os.kill(int(line.split()[1]), signal.SIGKILL)  # only if podman could not stop it
            except ProcessLookupError:
                pass
    holder.stop()


@pytest.fixture
def network(lab, podman, host_local_dir):
    """A conflist for podman: our macvlan on the node's master, host-local IPAM."""
    name = f"{lab.id}-net"
    conflist = {"cniVersion": "1.0.0", "name": name, "plugins": [{
        "type": "macvlan", "master": lab.node.master, "mode": "bridge",
        "ipam": host_local_ipam(lab, host_local_dir, first=100, last=109)}]}
    path = podman.config_dir / f"{name}.conflist"
    path.write_text(json.dumps(conflist))
    yield name
    path.unlink()


def in_range(lab, cidr):
    """In host-local's range .100-.109 of the lab subnet, with its prefix length."""
    iface = ipaddress.IPv4Interface(cidr)
    return iface.network == lab.network and lab.network[100] <= iface.ip <= lab.network[109]


def assert_all_released(podman, host_local_dir, name):
    assert reservations(host_local_dir, name) == {}
    assert podman.cni_cache() == []
    assert list(podman.netns_dir.iterdir()) == []


def test_podman_run_gets_the_address_and_del_releases_it(lab, podman, node_podman, network, host_local_dir):
    done = node_podman("run", "--rm", "--network", network, IMAGE, "ip", "-o", "-4", "addr", "show", "dev", "eth0")
    words = done.stdout.split()
    assert "inet" in words, done.stdout
    assert in_range(lab, words[words.index("inet") + 1]), done.stdout
    # --rm: the container is gone and podman ran our DEL: nothing is left anywhere.
    assert_all_released(podman, host_local_dir, network)


def test_podman_container_lifecycle(lab, podman, node_podman, network, host_local_dir):
    cid = node_podman("run", "--detach", "--network", network, IMAGE, "sleep", "600").stdout.strip()

    # host-local reserved one address for podman's container ID, eth0.
    [(address, owner)] = reservations(host_local_dir, network).items()
    assert owner == [cid, "eth0"]
    # libcni cached what our plugin printed; the container has exactly that.
    assert podman.cni_cache() == [f"{network}-{cid}-eth0"]
    cached = json.loads((podman.var_lib / "cni" / "results" / f"{network}-{cid}-eth0").read_text())
    result = cached["result"]
    assert result["cniVersion"] == "1.0.0"
    assert result["ips"] == [{"interface": 0, "address": f"{address}/24", "gateway": lab.router}]
    mac = node_podman("exec", cid, "cat", "/sys/class/net/eth0/address").stdout.strip()
    assert result["interfaces"][0]["name"] == "eth0" and result["interfaces"][0]["mac"] == mac
    shown = node_podman("exec", cid, "ip", "-o", "-4", "addr", "show", "dev", "eth0").stdout
    assert f"inet {address}/24" in shown, shown
    routes = node_podman("exec", cid, "ip", "route").stdout
    assert f"default via {lab.router} dev eth0" in routes, routes
    # It is on the LAN: the router answers.
    node_podman("exec", cid, "ping", "-c", "1", "-W", "2", lab.router)

    node_podman("rm", "--force", "--time", "0", cid)
    assert_all_released(podman, host_local_dir, network)
