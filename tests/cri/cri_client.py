"""A CRI client for the tests: api.proto compiled at test time, spoken over a unix socket.

    compile_api(outdir)          api_pb2 and api_pb2_grpc generated into outdir, imported
    CriClient(socket, api)       RuntimeService and ImageService stubs, each call with a deadline

Debian's python3-grpc-tools compiles tests/cri/api.proto (the CRI v1 subset the tests
use); nothing generated is kept in the repository.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

HERE = Path(__file__).resolve().parent
PROTO = HERE / "api.proto"
CALL_TIMEOUT = 60.0  # a RunPodSandbox that acquires a lease stays far below this


def missing_modules() -> list[str]:
    """Debian packages whose Python modules are missing for this interpreter."""
    missing = []
    for module, package in (("grpc", "python3-grpcio"), ("grpc_tools", "python3-grpc-tools"),
                            ("google.protobuf", "python3-protobuf")):
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(package)
    return missing


def compile_api(outdir: Path) -> SimpleNamespace:
    """Generates the CRI messages and stubs into outdir and imports them:
    returns pb (messages) and grpc (stubs)."""
    outdir = Path(outdir)
    done = subprocess.run([sys.executable, "-m", "grpc_tools.protoc", f"-I{HERE}",
                           f"--python_out={outdir}", f"--grpc_python_out={outdir}", str(PROTO)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"protoc failed on {PROTO}:\n{done.stderr}")
    # The generated stubs import "api_pb2" by name.
    sys.path.insert(0, str(outdir))
    try:
        for name in ("api_pb2", "api_pb2_grpc"):
            sys.modules.pop(name, None)
        pb: ModuleType = importlib.import_module("api_pb2")
        stubs: ModuleType = importlib.import_module("api_pb2_grpc")
    finally:
        sys.path.remove(str(outdir))
    return SimpleNamespace(pb=pb, grpc=stubs)


class CriClient:
    """runtime.v1 over unix:SOCKET, as kubelet talks to its runtime.

    client.runtime.RunPodSandbox(req) and so on, or the shorthands below; pb is the
    messages module (client.pb.PodSandboxConfig(...))."""

    def __init__(self, socket_path: Path, api: SimpleNamespace):
        import grpc

        self.pb = api.pb
        self.channel = grpc.insecure_channel(f"unix://{socket_path}")
        self.runtime = api.grpc.RuntimeServiceStub(self.channel)
        self.images = api.grpc.ImageServiceStub(self.channel)

    def close(self) -> None:
        self.channel.close()

    def call(self, method: str, deadline: float = CALL_TIMEOUT, **fields: Any) -> Any:
        """runtime.<method>(<method>Request(**fields)), waiting at most `deadline` seconds
        (gRPC's timeout: some requests have a field named timeout)."""
        request = getattr(self.pb, f"{method}Request")(**fields)
        return getattr(self.runtime, method)(request, timeout=deadline)

    def version(self) -> Any:
        return self.call("Version", version="v1")

    def image_id(self, name: str) -> str:
        """The image's ID as the CRI knows it; "" when it does not know it."""
        request = self.pb.ImageStatusRequest(image=self.pb.ImageSpec(image=name))
        return self.images.ImageStatus(request, timeout=CALL_TIMEOUT).image.id

    def network_ready(self) -> bool:
        conditions = self.call("Status").status.conditions
        return any(c.type == "NetworkReady" and c.status for c in conditions)
