"""Fixtures for the system tests.

Run as root with Debian's pytest:  /usr/bin/python3 -m pytest tests/system

Environment:
  CNT_BUILD_DIR  directory with macvlan, dhcp and tests/ipam-shim; absolute or
                 relative to the repository root (default: build)
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lab import Lab, TempDir, install_cleanup_handlers

# The dhcp daemon fixtures (dhcp_daemon, start_daemon, sniffer) for the test_dhcp_*.py modules.
from dhcp_fixtures import dhcp_daemon, sniffer, start_daemon  # noqa: E402,F401
from survive_fixtures import survive  # noqa: E402,F401
# The macvlan fixtures (macvlan, host_local_dir, fake_ipam) for the test_macvlan_*.py modules.
from macvlan_helpers import fake_ipam, host_local_dir, macvlan  # noqa: E402,F401

REPO_ROOT = Path(__file__).resolve().parents[2]
REFERENCE_PLUGINS = Path("/usr/lib/cni")
OUR_BINARIES = ("macvlan", "dhcp", "tests/ipam-shim")
# The daemon's default --state-dir: the node's own, never a lab's.
NODE_STATE_DIR = Path("/var/lib/cni/dhcp")


def pytest_configure(config: pytest.Config) -> None:
    # An interrupted run (Ctrl-C, SIGTERM, SIGHUP) still removes its namespaces
    # and stops its servers.
    install_cleanup_handlers()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    # Lets fixtures see in their teardown whether the test failed.
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


def failed_so_far(request: pytest.FixtureRequest) -> bool:
    """In a fixture's teardown: the test's setup or call failed (pytest_runtest_makereport)."""
    reports = [getattr(request.node, f"report_{when}", None) for when in ("setup", "call")]
    return any(r is not None and r.failed for r in reports)


@pytest.fixture(scope="session")
def require_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("system tests need root: they create network namespaces "
                    "(run: sudo /usr/bin/python3 -m pytest tests/system)")


@pytest.fixture(scope="session")
def build_dir() -> Path:
    """Where our binaries are: $CNT_BUILD_DIR or <repo>/build."""
    path = Path(os.environ.get("CNT_BUILD_DIR", "build"))
    if not path.is_absolute():
        path = REPO_ROOT / path
    missing = [name for name in OUR_BINARIES if not (path / name).is_file()]
    if missing:
        pytest.fail(f"{', '.join(missing)} not found in {path}: run `make` in {REPO_ROOT} "
                    f"(or point CNT_BUILD_DIR at a build directory)", pytrace=False)
    return path


@pytest.fixture(scope="session")
def macvlan_bin(build_dir: Path) -> Path:
    return build_dir / "macvlan"


@pytest.fixture(scope="session")
def dhcp_bin(build_dir: Path) -> Path:
    return build_dir / "dhcp"


@pytest.fixture(scope="session")
def ipam_shim_bin(build_dir: Path) -> Path:
    return build_dir / "tests" / "ipam-shim"


@pytest.fixture(scope="session")
def reference_plugins() -> Path:
    """Debian's Go reference plugins (containernetworking-plugins)."""
    if not (REFERENCE_PLUGINS / "host-local").is_file():
        pytest.fail(f"reference plugins missing in {REFERENCE_PLUGINS}: run scripts/install-deps.sh",
                    pytrace=False)
    return REFERENCE_PLUGINS


@pytest.fixture(scope="session")
def cni_bin_dir(build_dir: Path, reference_plugins: Path):
    """One CNI_PATH directory: our macvlan, dhcp and ipam-shim plus the reference
    host-local and static. Symlinks, so a rebuild is picked up."""
    tmp = TempDir(prefix="cnt-bin-")
    links = {
        "macvlan": build_dir / "macvlan",
        "dhcp": build_dir / "dhcp",
        "ipam-shim": build_dir / "tests" / "ipam-shim",
        "host-local": reference_plugins / "host-local",
        "static": reference_plugins / "static",
    }
    for name, target in links.items():
        (tmp.path / name).symlink_to(target)
    yield tmp.path
    tmp.delete()


@pytest.fixture
def lab(require_root, request: pytest.FixtureRequest):
    """The standard lab (lan + one node); @pytest.mark.lab(...) passes Lab options.
    Torn down after the test; on failure its state and server logs are printed. A test
    that made the node's own dhcp state directory fails (and the directory goes)."""
    marker = request.node.get_closest_marker("lab")
    absent_before = [path for path in (NODE_STATE_DIR, NODE_STATE_DIR.parent) if not path.exists()]
    the_lab = Lab(**(marker.kwargs if marker else {}))
    yield the_lab
    if failed_so_far(request):
        print(the_lab.describe())
    the_lab.close()
    if NODE_STATE_DIR in absent_before and NODE_STATE_DIR.exists():
        for path in absent_before:
            if not any(path.iterdir()):
                path.rmdir()
        pytest.fail(f"the test made {NODE_STATE_DIR}: a daemon in a lab needs --state-dir in the lab's workdir")


@pytest.fixture
def pod(lab: Lab):
    """A fresh pod netns in the lab (for CNI_NETNS)."""
    return lab.add_pod()


@pytest.fixture
def dnsmasq(lab: Lab):
    """dnsmasq serving the lab's LAN with the defaults (pool .100-.199, router .1)."""
    return lab.start_dnsmasq()
