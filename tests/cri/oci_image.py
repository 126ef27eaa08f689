"""OCI image layout tars built from local files, for a containerd with no registry.

    build_pause(workdir)                 the static pause binary from pause.c
    image_tar(path, name, files, ...)    an OCI image layout tar `ctr images import` takes

An image is one uncompressed layer (a tar of `files`), a config naming the
entrypoint, a manifest and index.json; the index names the image twice, by
`io.containerd.image.name` (what ctr import uses) and by
`org.opencontainers.image.ref.name`.
"""

from __future__ import annotations

import hashlib
import io
import json
import platform
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Mapping, Optional, Sequence, Union

HERE = Path(__file__).resolve().parent
LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar"
CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
INDEX_TYPE = "application/vnd.oci.image.index.v1+json"

# The image's platform: this machine's (GOARCH names).
ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())

# A file in the image: its bytes (or a host path to copy), and its mode; a str
# target makes a symlink instead.
Entry = Union[bytes, Path, str]


def build_pause(workdir: Path, cc: str = "gcc") -> Path:
    """Compiles pause.c into workdir/pause: static, stripped."""
    out = Path(workdir) / "pause"
    subprocess.run([cc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-O2", "-static", "-s",
                    "-o", str(out), str(HERE / "pause.c")], check=True, capture_output=True, text=True)
    return out


def _add(tar: tarfile.TarFile, name: str, entry: Entry, mode: int) -> None:
    info = tarfile.TarInfo(name)
    info.uid = info.gid = 0
    info.mtime = 0
    if isinstance(entry, str):
        info.type = tarfile.SYMTYPE
        info.linkname = entry
        info.mode = 0o777
        tar.addfile(info)
        return
    data = entry.read_bytes() if isinstance(entry, Path) else entry
    info.size = len(data)
    info.mode = mode
    tar.addfile(info, io.BytesIO(data))


def _layer(files: Mapping[str, Entry]) -> bytes:
    """A tar of `files` ("bin/sh": "busybox" is a symlink), with parent directories."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        dirs = sorted({str(Path(name).parents[i]) for name in files
                       for i in range(len(Path(name).parents) - 1)})
        for d in dirs:
            info = tarfile.TarInfo(d + "/")
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            info.mtime = 0
            tar.addfile(info)
        for name, entry in sorted(files.items()):
            _add(tar, name, entry, 0o755)
    return buffer.getvalue()


def _descriptor(media_type: str, data: bytes) -> dict:
    return {"mediaType": media_type, "digest": "sha256:" + hashlib.sha256(data).hexdigest(),
            "size": len(data)}


def image_tar(path: Path, name: str, files: Mapping[str, Entry], *,
              entrypoint: Sequence[str] = (), cmd: Sequence[str] = (),
              env: Optional[Sequence[str]] = None) -> Path:
    """Writes an OCI image layout tar of one layer holding `files` to `path`.
    `name` is the full reference, e.g. "localhost/cnt-pause:1"."""
    layer = _layer(files)
    layer_desc = _descriptor(LAYER_TYPE, layer)
    config = json.dumps({
        "architecture": ARCH, "os": "linux",
        "config": {"Entrypoint": list(entrypoint) or None, "Cmd": list(cmd) or None,
                   "Env": list(env or ["PATH=/bin"]), "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": [layer_desc["digest"]]},
    }, sort_keys=True).encode()
    config_desc = _descriptor(CONFIG_TYPE, config)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": MANIFEST_TYPE,
                           "config": config_desc, "layers": [layer_desc]}, sort_keys=True).encode()
    manifest_desc = _descriptor(MANIFEST_TYPE, manifest)
    manifest_desc["platform"] = {"architecture": ARCH, "os": "linux"}
    manifest_desc["annotations"] = {"io.containerd.image.name": name,
                                    "org.opencontainers.image.ref.name": name}
    index = json.dumps({"schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": [manifest_desc]},
                       sort_keys=True).encode()
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        _add(tar, "oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode(), 0o644)
        _add(tar, "index.json", index, 0o644)
        for blob in (layer, config, manifest):
            _add(tar, "blobs/sha256/" + hashlib.sha256(blob).hexdigest(), blob, 0o644)
    return Path(path)


def busybox_files(applets: Sequence[str] = ("sh", "ip", "cat", "sleep")) -> dict[str, Entry]:
    """A rootfs of Debian's busybox-static: /bin/busybox and one symlink per applet."""
    busybox = shutil.which("busybox")
    if busybox is None:
        raise FileNotFoundError("busybox not found (Debian package busybox-static)")
    files: dict[str, Entry] = {"bin/busybox": Path(busybox)}
    for applet in applets:
        files[f"bin/{applet}"] = "busybox"
    return files
