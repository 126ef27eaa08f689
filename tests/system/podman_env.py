"""podman 4.3 offline, with all of its state in a test folder (lab.md): what the
podman-driven tests (test_macvlan_podman.py, test_deploy_image.py) share.

    write_config(root, plugin_dir, config_dir, **engine)  containers.conf + storage.conf
                                                          under root; returns the env
    cgroup_mount_commands()                               shell lines that mount the cgroup
                                                          hierarchies again (see below)

static_dir keeps its default under graphroot: moved elsewhere, the `podman container
cleanup` that conmon runs when a container exits looks in the default place, finds
nothing, and every exit waits out a 20 s timeout.

`ip netns exec` mounts a fresh /sys, which hides the cgroup mounts, and runc then fails
with "no cgroup mount found in mountinfo": a process that hosts podman there mounts them
again with cgroup_mount_commands().
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path


def write_config(root: Path, plugin_dir: Path, config_dir: Path, **engine: str) -> dict[str, str]:
    """Writes root/containers.conf and root/storage.conf (state in root/storage, root/run,
    root/tmp, root/img-tmp) and returns the environment that points podman at them.
    `engine`: more [engine] settings, e.g. events_logfile_path."""
    for sub in ("storage", "run", "tmp", "img-tmp"):
        (root / sub).mkdir(exist_ok=True)
    extra = "".join(f'{key} = "{value}"\n' for key, value in engine.items())
    (root / "containers.conf").write_text(f"""\
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]

[network]
network_backend = "cni"
cni_plugin_dirs = ["{plugin_dir}"]
network_config_dir = "{config_dir}"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "{root}/tmp"
image_copy_tmp_dir = "{root}/img-tmp"
lock_type = "file"
{extra}""")
    (root / "storage.conf").write_text(f"""\
[storage]
driver = "vfs"
graphroot = "{root}/storage"
runroot = "{root}/run"
""")
    env = dict(os.environ, CONTAINERS_CONF=str(root / "containers.conf"),
               CONTAINERS_STORAGE_CONF=str(root / "storage.conf"), TMPDIR=str(root / "img-tmp"))
    env.pop("CONTAINER_HOST", None)
    return env


def cgroup_mount_commands() -> list[str]:
    """Shell commands that mount the cgroup hierarchies under /sys/fs/cgroup as this
    process sees them (v1, hybrid or v2 alike)."""
    commands = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            mount_point = fields[4]
            fs_type, source, super_options = fields[fields.index("-") + 1:][:3]
            if mount_point == "/sys/fs/cgroup" or mount_point.startswith("/sys/fs/cgroup/"):
                commands.append(f"mkdir -p {shlex.quote(mount_point)}")
                commands.append(f"mount -t {shlex.quote(fs_type)} -o {shlex.quote(super_options)} "
                                f"{shlex.quote(source)} {shlex.quote(mount_point)}")
    return commands
