"""The deployment image, built and run with podman as the DaemonSet runs it on a node.

The image is built once for the module, offline (`FROM scratch`, nothing to pull),
exactly as docs/deploy.md says: `podman build -f deploy/Containerfile -t
localhost/cni-lan:test <repository root>`. Then:

- the init container (the image's entrypoint, cni-install, with the manifest's
  arguments) against a fake host root: the plugins and the ConfigMap's conflist land
  there complete and executable;
  a second run changes nothing; a plugin that is executing while a new version is
  installed keeps running and no "text file busy" happens; --dry-run changes nothing.
- the daemon container with the DaemonSet's own command, host namespaces and
  mounts (read from the manifest), in the lab's node netns: a pod ADD through our
  plugins from the fake host's /opt/cni/bin gets a lease from dnsmasq through it,
  and the readiness probe's command succeeds in the container.

podman keeps all of its state in a test folder (CONTAINERS_CONF,
CONTAINERS_STORAGE_CONF; vfs, runc, cgroupfs, file events and locks). It runs in
"holder" processes that give it a private mount namespace: test-folder directories
are bind-mounted over /var/lib there, so podman's caches never reach the host's
/var/lib; the node holder also mounts the cgroup hierarchies again, which
`ip netns exec` hides behind a fresh /sys (runc needs them). Every podman command
joins a holder (nsenter), so a container's mounts stay visible to the commands that
remove it. Nothing here uses the machine's /opt/cni/bin, /etc/cni/net.d, /run/cni
or /var/lib/cni: each is a test directory mounted where the container expects it.
"""

from __future__ import annotations

import errno
import filecmp
import json
import os
import shlex
import shutil
import stat
from pathlib import Path
from typing import Optional

import pytest

from deploy_helpers import DEPLOY_DIR, MANIFEST_DIR, REPO_ROOT, configmap_conflist, ensure_node_project, \
    find_document, for_lab, load_manifests, plugin_config
from dhcp_fixtures import lease_active, lease_released, socket_accepts
from lab import Netns, Process, TempDir, run, unique_id, wait_until
from podman_env import cgroup_mount_commands, write_config

pytestmark = pytest.mark.usefixtures("require_root")

IMAGE = "localhost/cni-lan:test"
IMAGE_BIN = "/opt/cni-lan/bin"
IMAGE_FILES = ("macvlan", "dhcp", "cni-install")
PLUGINS = ("macvlan", "dhcp")
PODMAN_TIMEOUT = 120.0
READY_TIMEOUT = 20.0
METRICS_PORT = 9661  # the DaemonSet's --metrics-listen
CONTAINER_ID = "cnt-deploy-pod0"


def missing_tools() -> list[str]:
    needed = {"podman": "podman", "runc": "runc", "nsenter": "util-linux", "unshare": "util-linux"}
    missing = [f"{tool} ({pkg})" for tool, pkg in needed.items() if not shutil.which(tool)]
    if not (shutil.which("conmon") or os.path.exists("/usr/libexec/podman/conmon")):
        missing.append("conmon (podman)")
    return missing


class Podman:
    """podman's configuration and state, all under `root`, and the holders it runs in."""

    def __init__(self, root: Path):
        self.root = root
        for sub in ("volumes", "net.d", "cni-plugins", "var-lib", "logs"):
            (root / sub).mkdir()
        self.env = write_config(root, root / "cni-plugins", root / "net.d", volume_path=f"{root}/volumes")

    def holder_script(self, name: str, remount_cgroups: bool) -> Path:
        script = self.root / f"holder-{name}.sh"
        script.write_text("\n".join([
            "#!/bin/sh",
            "# The mount namespace podman runs in: see test_deploy_image.py.",
            "set -e",
            *(cgroup_mount_commands() if remount_cgroups else []),
            f"mount --bind {shlex.quote(str(self.root / 'var-lib'))} /var/lib",
            "echo holder ready",
            "exec sleep 3600",
            ""]))
        return script

    def start_holder(self, netns: Optional[Netns] = None) -> Process:
        """A holder in the host's network namespace (a private mount namespace from
        unshare), or in `netns` (the one `ip netns exec` makes)."""
        name = netns.name if netns else "host"
        log = self.root / "logs" / f"holder-{name}-{unique_id('')}.log"
        if netns is None:
            argv = ["unshare", "--mount", "--propagation", "slave", "sh", self.holder_script(name, False)]
        else:
            argv = ["sh", self.holder_script(name, True)]
        holder = Process(argv, log, netns=netns, name=f"podman-holder-{name}")
        try:
            holder.wait_for_log("^holder ready$")
        except BaseException:
            holder.stop()
            raise
        return holder

    def __call__(self, holder: Process, *args, check: bool = True, timeout: float = PODMAN_TIMEOUT):
        """`podman ARGS` in the holder's mount (and network) namespaces."""
        argv = ["nsenter", f"--target={holder.pid}", "--mount", "--net", "podman", *map(str, args)]
        return run(argv, env=self.env, check=check, timeout=timeout)


@pytest.fixture(scope="module")
def podman():
    missing = missing_tools()
    if missing:
        pytest.skip(f"the image tests need podman: missing {', '.join(missing)} (scripts/install-deps.sh)")
    folder = TempDir(prefix="cnt-deploy-podman-")
    try:
        yield Podman(folder.path)
    finally:
        folder.delete()


@pytest.fixture(scope="module")
def host_holder(podman):
    holder = podman.start_holder()
    yield holder
    # Whatever a test left: containers removed, then the holder (and its mounts) gone.
    podman(holder, "rm", "--all", "--force", "--time", "0", check=False)
    holder.stop()


class Image:
    """The built image: its name, every path in it, and `bin` a copy of its
    /opt/cni-lan/bin taken right after the build (what its containers run; the tests
    compare with it, so a rebuild of build/ meanwhile cannot confuse them)."""

    def __init__(self, name: str, files: list[str], bin: Path):
        self.name, self.files, self.bin = name, files, bin


@pytest.fixture(scope="module")
def image(podman, host_holder, build_dir):
    """localhost/cni-lan:test, built once per module from the repository root as
    docs/deploy.md says (from a copy of the three binaries when CNT_BUILD_DIR is
    another build directory)."""
    missing = [n for n in IMAGE_FILES if not (build_dir / n).is_file()]
    if missing:
        pytest.fail(f"{', '.join(missing)} not in {build_dir}: run `make`", pytrace=False)
    context = REPO_ROOT
    if build_dir.resolve() != (REPO_ROOT / "build").resolve():
        context = podman.root / "context"
        (context / "build").mkdir(parents=True)
        for name in IMAGE_FILES:
            shutil.copy2(build_dir / name, context / "build" / name)
    podman(host_holder, "build", "--pull=never", "-f", DEPLOY_DIR / "Containerfile", "-t", IMAGE, context)
    rootfs = Path(podman(host_holder, "image", "mount", IMAGE).stdout.strip())
    try:
        files = sorted(str(p.relative_to(rootfs)) for p in rootfs.rglob("*"))
        copy = podman.root / "image-bin"
        shutil.copytree(rootfs / IMAGE_BIN.lstrip("/"), copy, symlinks=True)
    finally:
        podman(host_holder, "image", "unmount", IMAGE, check=False)
    yield Image(IMAGE, files, copy)
    podman(host_holder, "rmi", "--force", IMAGE, check=False)


@pytest.fixture(scope="module")
def manifests():
    """The default manifest's documents: the DaemonSet this image runs in."""
    ensure_node_project()
    return load_manifests(MANIFEST_DIR / "cni-lan.yaml")


@pytest.fixture
def workdir():
    folder = TempDir(prefix="cnt-deploy-")
    yield folder.path
    folder.delete()


# ---------------------------------------------------------------- helpers


class FakeHost:
    """The node's directories the DaemonSet mounts, in a test folder."""

    def __init__(self, root: Path):
        self.root = root
        self.bin_dir = root / "opt" / "cni" / "bin"
        self.conf_dir = root / "etc" / "cni" / "net.d"
        self.run_cni = root / "run" / "cni"
        self.state = root / "var" / "lib" / "cni" / "dhcp"
        # hostPath type DirectoryOrCreate: the kubelet creates them before the pod starts.
        for d in (self.bin_dir, self.conf_dir, self.run_cni, self.state):
            d.mkdir(parents=True)

    def snapshot(self) -> dict[str, tuple]:
        """Every file under the fake root: (inode, mtime_ns, ctime_ns, mode, size)."""
        found = {}
        for path in sorted(self.root.rglob("*")):
            st = path.lstat()
            found[str(path.relative_to(self.root))] = (st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_mode,
                                                       st.st_size)
        return found


def configmap_volume(folder: Path, key: str, text: str) -> Path:
    """A directory laid out as the kubelet lays out a configMap volume: the key is a
    symlink through ..data to a timestamped directory."""
    folder.mkdir(parents=True)
    stamped = folder / "..2025_01_01_00_00_00.000000001"
    stamped.mkdir()
    (stamped / key).write_text(text)
    (folder / "..data").symlink_to(stamped.name)
    (folder / key).symlink_to(f"..data/{key}")
    return folder


def init_container(manifests) -> dict:
    daemonset = find_document(manifests, "DaemonSet")
    [install] = daemonset["spec"]["template"]["spec"]["initContainers"]
    return install


def daemon_container(manifests) -> dict:
    daemonset = find_document(manifests, "DaemonSet")
    [daemon] = daemonset["spec"]["template"]["spec"]["containers"]
    return daemon


def init_args(manifests) -> list[str]:
    """The init container's arguments to the image's entrypoint (cni-install)."""
    return init_container(manifests)["args"]


def run_installer(podman, holder, host: FakeHost, config_dir: Path, *args, extra_mounts=(), check=True):
    """The init container as the DaemonSet mounts it, running the image's entrypoint
    with `args` (init_args(): the manifest's)."""
    mounts = [f"{host.bin_dir}:/host/opt/cni/bin", f"{host.conf_dir}:/host/etc/cni/net.d",
              f"{config_dir}:/etc/cni-lan:ro", *extra_mounts]
    argv = ["run", "--rm", "--network", "none"]
    for m in mounts:
        argv += ["-v", m]
    return podman(holder, *argv, IMAGE, *args, check=check)


def output_lines(done) -> list[str]:
    return [line for line in done.stdout.splitlines() if line.strip()]


# ---------------------------------------------------------------- the image


def test_image_holds_the_static_binaries_and_nothing_else(podman, host_holder, image, build_dir, manifests):
    inspected = json.loads(podman(host_holder, "image", "inspect", image.name).stdout)[0]
    config = inspected["Config"]
    assert config["Entrypoint"] == [f"{IMAGE_BIN}/cni-install"]
    # The manifest's init container runs the image's entrypoint (with its own arguments,
    # which say the network is the node's primary one), and its daemon container a
    # binary that is in the image.
    install = init_container(manifests)
    assert "command" not in install and "--primary" in install["args"] and install["args"] == config["Cmd"]
    assert daemon_container(manifests)["command"][0] == f"{IMAGE_BIN}/dhcp"

    assert image.files == ["opt", "opt/cni-lan", "opt/cni-lan/bin"] + sorted(f"opt/cni-lan/bin/{n}"
                                                                              for n in IMAGE_FILES), image.files
    for name in IMAGE_FILES:
        inside = image.bin / name
        assert filecmp.cmp(inside, build_dir / name, shallow=False), f"{name} differs from {build_dir}"
        assert inside.stat().st_mode & 0o111, f"{name} is not executable in the image"
        kind = run(["file", "-b", inside]).stdout
        assert "statically linked" in kind or "static-pie" in kind, f"{name}: {kind}"


# ---------------------------------------------------------------- the init container


def test_init_container_installs_once_and_then_leaves_files_alone(podman, host_holder, image, manifests, workdir):
    key, conflist = configmap_conflist(manifests)
    host = FakeHost(workdir / "host")
    config_dir = configmap_volume(workdir / "configmap", key, conflist)

    first = run_installer(podman, host_holder, host, config_dir, *init_args(manifests))
    print(first.stdout, first.stderr)
    assert output_lines(first) == [
        f"installed /host/opt/cni/bin/macvlan ({(image.bin / 'macvlan').stat().st_size} bytes)",
        f"installed /host/opt/cni/bin/dhcp ({(image.bin / 'dhcp').stat().st_size} bytes)",
        f"installed /host/etc/cni/net.d/{key} ({len(conflist.encode())} bytes)",
    ], first.stdout
    for name in PLUGINS:
        installed = host.bin_dir / name
        assert filecmp.cmp(installed, image.bin / name, shallow=False), f"{name} differs from the image's"
        assert stat.S_IMODE(installed.stat().st_mode) == 0o755, oct(installed.stat().st_mode)
        version = run([installed], env={"CNI_COMMAND": "VERSION"}, input='{"cniVersion":"1.0.0"}')
        assert "1.0.0" in json.loads(version.stdout)["supportedVersions"], version.stdout
    installed_conf = host.conf_dir / key
    assert installed_conf.read_text() == conflist and not installed_conf.is_symlink()
    assert stat.S_IMODE(installed_conf.stat().st_mode) == 0o644
    # Nothing else: no temporary files left, nothing in the bin dir but the plugins.
    assert sorted(p.name for p in host.bin_dir.iterdir()) == sorted(PLUGINS)
    assert [p.name for p in host.conf_dir.iterdir()] == [key]

    before = host.snapshot()
    second = run_installer(podman, host_holder, host, config_dir, *init_args(manifests))
    assert output_lines(second) == ["unchanged /host/opt/cni/bin/macvlan", "unchanged /host/opt/cni/bin/dhcp",
                                    f"unchanged /host/etc/cni/net.d/{key}"], second.stdout
    assert host.snapshot() == before, "the second run touched files (inode, mtime, ctime or mode changed)"


def test_init_container_dry_run_changes_nothing(podman, host_holder, image, manifests, workdir):
    key, conflist = configmap_conflist(manifests)
    host = FakeHost(workdir / "host")
    shutil.rmtree(host.root / "opt")  # the bin dir does not even exist yet
    config_dir = configmap_volume(workdir / "configmap", key, conflist)
    before = host.snapshot()

    done = podman(host_holder, "run", "--rm", "--network", "none", "-v", f"{host.root}:/host",
                  "-v", f"{config_dir}:/etc/cni-lan:ro", image.name, "--dry-run", "--conf-source", f"/etc/cni-lan/{key}",
                  "--primary")
    assert output_lines(done) == [
        f"would install /host/opt/cni/bin/macvlan from {IMAGE_BIN}/macvlan",
        f"would install /host/opt/cni/bin/dhcp from {IMAGE_BIN}/dhcp",
        f"would install /host/etc/cni/net.d/{key} from /etc/cni-lan/{key}",
    ], done.stdout
    assert host.snapshot() == before and not (host.root / "opt").exists()


def test_init_container_recovers_from_a_killed_install(podman, host_holder, image, manifests, workdir):
    """An install killed halfway (OOM, node reboot) leaves its temporary files behind;
    in a container the installer is PID 1 every time. The next run must still install."""
    key, conflist = configmap_conflist(manifests)
    host = FakeHost(workdir / "host")
    config_dir = configmap_volume(workdir / "configmap", key, conflist)
    leftovers = [host.bin_dir / ".macvlan.1.tmp", host.bin_dir / ".dhcp.1.tmp", host.conf_dir / f".{key}.1.tmp"]
    for path in leftovers:
        path.write_bytes(b"\x7fELF half a file")

    done = run_installer(podman, host_holder, host, config_dir, *init_args(manifests), check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    for name in PLUGINS:
        assert filecmp.cmp(host.bin_dir / name, image.bin / name, shallow=False), name
    assert (host.conf_dir / key).read_text() == conflist


def test_init_container_restores_a_lost_execute_bit(podman, host_holder, image, manifests, workdir):
    """Same bytes but not executable is not "unchanged": the runtime could not run it."""
    key, conflist = configmap_conflist(manifests)
    host = FakeHost(workdir / "host")
    config_dir = configmap_volume(workdir / "configmap", key, conflist)
    run_installer(podman, host_holder, host, config_dir, *init_args(manifests))
    (host.bin_dir / "dhcp").chmod(0o644)
    (host.conf_dir / key).chmod(0o600)
    unchanged = host.bin_dir / "macvlan"
    before = unchanged.stat()

    done = run_installer(podman, host_holder, host, config_dir, *init_args(manifests))
    assert output_lines(done) == [
        "unchanged /host/opt/cni/bin/macvlan",
        f"installed /host/opt/cni/bin/dhcp ({(image.bin / 'dhcp').stat().st_size} bytes)",
        f"installed /host/etc/cni/net.d/{key} ({len(conflist.encode())} bytes)"], done.stdout
    assert stat.S_IMODE((host.bin_dir / "dhcp").stat().st_mode) == 0o755
    assert stat.S_IMODE((host.conf_dir / key).stat().st_mode) == 0o644
    assert (unchanged.stat().st_ino, unchanged.stat().st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


@pytest.fixture
def busy_netns():
    """A throwaway netns for a plugin binary that keeps running during an install."""
    netns = Netns(unique_id() + "-busy")
    yield netns
    netns.delete()


def test_init_container_replaces_a_running_plugin(podman, host_holder, image, manifests, workdir, busy_netns):
    key, conflist = configmap_conflist(manifests)
    host = FakeHost(workdir / "host")
    config_dir = configmap_volume(workdir / "configmap", key, conflist)
    run_installer(podman, host_holder, host, config_dir, *init_args(manifests))
    target = host.bin_dir / "dhcp"
    old_inode = target.stat().st_ino

    # The installed dhcp binary runs (as a daemon in a throwaway netns) ...
    socket_path = workdir / "busy" / "dhcp.sock"
    socket_path.parent.mkdir()
    daemon = busy_netns.start([target, "daemon", "-socketpath", socket_path, "--state-dir", workdir / "busy" / "state"],
                              workdir / "busy" / "daemon.log", name="busy-dhcp")
    try:
        wait_until(lambda: socket_accepts(socket_path) or not daemon.alive(), READY_TIMEOUT,
                   "the installed dhcp daemon to listen")
        assert daemon.alive(), daemon.log()
        assert os.readlink(f"/proc/{daemon.pid}/exe") == str(target)
        # ... so writing into it in place fails: what the installer must avoid.
        with pytest.raises(OSError) as busy:
            open(target, "r+b").close()
        assert busy.value.errno == errno.ETXTBSY

        # A new version of the plugins: dhcp changed (trailing bytes keep it a valid
        # executable), macvlan the same. The installer takes them from a mounted dir.
        new_bin = workdir / "new-bin"
        new_bin.mkdir()
        shutil.copy2(image.bin / "macvlan", new_bin / "macvlan")
        (new_bin / "dhcp").write_bytes((image.bin / "dhcp").read_bytes() + b"\0cnt: a new version\n")
        (new_bin / "dhcp").chmod(0o755)
        args = ["--bin-source", "/new-bin", "--conf-source", f"/etc/cni-lan/{key}", "--primary"]
        mounts = [f"{new_bin}:/new-bin:ro"]

        # --dry-run first: says what would change, changes nothing.
        before = host.snapshot()
        dry = run_installer(podman, host_holder, host, config_dir, "--dry-run", *args, extra_mounts=mounts)
        assert output_lines(dry) == ["unchanged /host/opt/cni/bin/macvlan",
                                     "would install /host/opt/cni/bin/dhcp from /new-bin/dhcp",
                                     f"unchanged /host/etc/cni/net.d/{key}"], dry.stdout
        assert host.snapshot() == before

        done = run_installer(podman, host_holder, host, config_dir, *args, extra_mounts=mounts, check=False)
        print(done.stdout, done.stderr)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "busy" not in (done.stdout + done.stderr).lower()
        assert output_lines(done) == [
            "unchanged /host/opt/cni/bin/macvlan",
            f"installed /host/opt/cni/bin/dhcp ({(new_bin / 'dhcp').stat().st_size} bytes)",
            f"unchanged /host/etc/cni/net.d/{key}"], done.stdout

        # The new file is complete, executable, a new inode; nothing half-written is left.
        assert filecmp.cmp(target, new_bin / "dhcp", shallow=False)
        assert target.stat().st_ino != old_inode and stat.S_IMODE(target.stat().st_mode) == 0o755
        assert sorted(p.name for p in host.bin_dir.iterdir()) == sorted(PLUGINS)
        # The running daemon is unaffected: the same process, still the old file's
        # bytes (an unlinked inode), still answering; the new file runs too.
        assert daemon.alive(), daemon.log()
        assert os.readlink(f"/proc/{daemon.pid}/exe") == f"{target} (deleted)"
        with open(f"/proc/{daemon.pid}/exe", "rb") as running:
            assert running.read() == (image.bin / "dhcp").read_bytes()
        status = busy_netns.exec([target, "status", "-socketpath", socket_path])
        assert json.loads(status.stdout) is not None
    finally:
        daemon.stop()


# ---------------------------------------------------------------- the daemon container


def daemon_run_args(manifests, host: FakeHost, name: str) -> list[str]:
    """`podman run` arguments for the DaemonSet's daemon container, from the manifest:
    its host namespaces, privileges, command and every volume mount, each hostPath
    mapped to the fake host (the netns directory to the real one: the lab's netns
    are there)."""
    daemonset = find_document(manifests, "DaemonSet")
    pod = daemonset["spec"]["template"]["spec"]
    container = daemon_container(manifests)
    host_paths = {"/opt/cni/bin": host.bin_dir, "/etc/cni/net.d": host.conf_dir, "/run/cni": host.run_cni,
                  "/var/lib/cni/dhcp": host.state, "/var/run/netns": Path("/var/run/netns")}
    volumes = {v["name"]: v for v in pod["volumes"]}
    args = ["run", "--detach", "--name", name]
    assert pod.get("hostNetwork") is True and pod.get("hostPID") is True
    args += ["--network", "host", "--pid", "host"]
    if container.get("securityContext", {}).get("privileged"):
        args.append("--privileged")
    propagation = {"HostToContainer": "rslave", "Bidirectional": "rshared", "None": "rprivate"}
    for mount in container["volumeMounts"]:
        volume = volumes[mount["name"]]
        assert "hostPath" in volume, f"volume {mount['name']}: only hostPath volumes are mapped here"
        source = host_paths[volume["hostPath"]["path"]]
        options = ["ro"] if mount.get("readOnly") else []
        if "mountPropagation" in mount:
            options.append(propagation[mount["mountPropagation"]])
        args += ["-v", f"{source}:{mount['mountPath']}" + (":" + ",".join(options) if options else "")]
    # Kubernetes' command replaces the image's entrypoint and, without args, its CMD.
    args += ["--entrypoint", json.dumps(container["command"]), IMAGE, *container.get("args", [])]
    return args


@pytest.fixture
def node_holder(lab, podman, image):
    holder = podman.start_holder(lab.node)
    yield holder
    # Whatever happened: the container removed by podman, then by PID if it still runs;
    # the holder stopped. The lab stops anything left in the node netns by PID.
    listed = podman(holder, "ps", "--all", "--format", "{{.ID}} {{.Pid}}", check=False).stdout.splitlines()
    podman(holder, "rm", "--all", "--force", "--time", "0", check=False)
    for line in listed:
        fields = line.split()
        if len(fields) == 2 and fields[1].isdigit() and int(fields[1]) > 0:
            try:
                os.kill(int(fields[1]), 9)  # only if podman could not stop it
            except ProcessLookupError:
                pass
    holder.stop()


def test_daemon_container_leases_for_a_pod(lab, dnsmasq, podman, host_holder, node_holder, image, manifests, workdir):
    key, conflist = configmap_conflist(manifests)
    host = FakeHost(workdir / "host")
    config_dir = configmap_volume(workdir / "configmap", key, conflist)
    run_installer(podman, host_holder, host, config_dir, *init_args(manifests))  # the init container first

    name = f"{lab.id}-dhcp-daemon"
    podman(node_holder, *daemon_run_args(manifests, host, name))
    inspected = json.loads(podman(node_holder, "container", "inspect", name).stdout)[0]
    assert inspected["Path"] == f"{IMAGE_BIN}/dhcp", inspected["Path"]
    assert inspected["Args"] == ["daemon", "--metrics-listen", f"0.0.0.0:{METRICS_PORT}"], inspected["Args"]
    daemon_pid = inspected["State"]["Pid"]
    # hostNetwork on this node: the daemon is in the lab node's netns.
    assert os.stat(f"/proc/{daemon_pid}/ns/net").st_ino == lab.node.inode()

    def logs() -> str:
        done = podman(node_holder, "logs", name, check=False)
        return done.stdout + done.stderr

    # The readiness probe, as the kubelet runs it: until it succeeds.
    probe = daemon_container(manifests)["readinessProbe"]["exec"]["command"]

    def ready() -> bool:
        state = json.loads(podman(node_holder, "container", "inspect", name).stdout)[0]["State"]
        if not state["Running"]:
            raise AssertionError(f"the daemon container stopped ({state['ExitCode']}):\n{logs()}")
        return podman(node_holder, "exec", name, *probe, check=False).returncode == 0

    wait_until(ready, READY_TIMEOUT, "the readiness probe to succeed")
    socket_path = host.run_cni / "dhcp.sock"
    assert socket_accepts(socket_path), f"no daemon on the host's side of /run/cni: {list(host.run_cni.iterdir())}"

    # A pod created after the daemon started: its netns reaches the container through
    # the HostToContainer mount. CNI_NETNS as Kubernetes runtimes pass it.
    pod = lab.add_pod()
    netns_path = f"/var/run/netns/{pod.name}"
    conf = for_lab(json.loads((host.conf_dir / key).read_text()), lab.node.master, socket_path)
    add = lab.run_plugin(host.bin_dir / "macvlan", "ADD", plugin_config(conf), netns=netns_path, ifname="eth0",
                         container_id=CONTAINER_ID, cni_path=host.bin_dir)
    assert add.code == 0, f"ADD failed: {add.stdout}{add.stderr}\ndaemon log:\n{logs()}"
    [ip] = add.output["ips"]
    address = ip["address"].split("/")[0]
    assert address in {lab.address(n) for n in range(100, 200)} and ip["gateway"] == lab.router, ip
    assert pod.cidrs("eth0") == [ip["address"]]
    assert lease_active(dnsmasq, address), dnsmasq.leases()

    # The probe's command sees it; the lease is kept on the host (the state volume).
    status = podman(node_holder, "exec", name, *probe)
    assert status.returncode == 0
    listed = json.loads(podman(node_holder, "exec", name, f"{IMAGE_BIN}/dhcp", "list", "--json").stdout)
    assert [(e["containerID"], e["network"], e["ifName"]) for e in listed] == [(CONTAINER_ID, conf["name"], "eth0")]
    assert any(host.state.iterdir()), "no lease record in the state volume"
    # The metrics port the manifest declares and annotates, on the node's network.
    pod_spec = find_document(manifests, "DaemonSet")["spec"]["template"]
    assert pod_spec["metadata"]["annotations"]["prometheus.io/port"] == str(METRICS_PORT)
    assert daemon_container(manifests)["ports"] == [{"name": "metrics", "containerPort": METRICS_PORT,
                                                     "protocol": "TCP"}]
    scraped = lab.node.exec(["python3", "-c", "import urllib.request; print(urllib.request.urlopen("
                             f"'http://127.0.0.1:{METRICS_PORT}/metrics', timeout=5).read().decode())"]).stdout
    assert 'cni_dhcp_leases{state="BOUND"} 1' in scraped, scraped

    delete = lab.run_plugin(host.bin_dir / "macvlan", "DEL", plugin_config(conf, prev_result=add.output),
                            netns=netns_path, ifname="eth0", container_id=CONTAINER_ID, cni_path=host.bin_dir)
    assert delete.code == 0, f"DEL failed: {delete.stdout}{delete.stderr}\ndaemon log:\n{logs()}"
    assert pod.link("eth0") is None
    wait_until(lambda: lease_released(dnsmasq, address), 10, f"dnsmasq to see {address} released")

    podman(node_holder, "rm", "--force", "--time", "10", name)
    wait_until(lambda: not os.path.exists(f"/proc/{daemon_pid}"), 10, "the daemon to be gone")
