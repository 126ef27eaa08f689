"""deploy/systemd: the unit files are what systemd accepts.

`systemd-analyze verify` on a copy whose ExecStart names the daemon in the build
directory (the units name /opt/cni/bin/dhcp, where cni-install puts it; verify
checks that the command is executable). systemd only warns about an unknown key or
a bad value and still exits 0: any message about our units fails the test, and
broken copies show that each kind of mistake is caught. How the daemon behaves
under these units is for the test_survive_* tests; this is the files only.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from deploy_helpers import DEPLOY_DIR
from lab import TempDir

UNIT_DIR = DEPLOY_DIR / "systemd"
UNITS = ("cni-dhcp.socket", "cni-dhcp.service")
INSTALLED_DAEMON = "/opt/cni/bin/dhcp"
VERIFY_TIMEOUT = 60.0


@pytest.fixture(scope="module")
def systemd_analyze():
    path = shutil.which("systemd-analyze")
    if not path:
        pytest.skip("systemd-analyze not found (package systemd)")
    return path


@pytest.fixture
def unit_copy(dhcp_bin: Path):
    """The units in a temporary directory, ExecStart pointing at our build."""
    folder = TempDir(prefix="cnt-units-")
    for name in UNITS:
        text = (UNIT_DIR / name).read_text()
        if name.endswith(".service"):
            assert f"ExecStart={INSTALLED_DAEMON} " in text, f"{name}: ExecStart no longer runs {INSTALLED_DAEMON}"
            text = text.replace(f"ExecStart={INSTALLED_DAEMON} ", f"ExecStart={dhcp_bin} ")
        (folder.path / name).write_text(text)
    yield folder.path
    folder.delete()


def verify(systemd_analyze: str, folder: Path) -> tuple[int, list[str]]:
    """Exit status and the lines about our units (systemd may say things about the
    machine's own units as it loads their dependencies)."""
    done = subprocess.run([systemd_analyze, "verify", "--man=no", *(folder / n for n in UNITS)],
                          capture_output=True, text=True, timeout=VERIFY_TIMEOUT, cwd=folder,
                          stdin=subprocess.DEVNULL)
    lines = (done.stdout + done.stderr).splitlines()
    ours = [line for line in lines if str(folder) in line or "cni-dhcp" in line]
    return done.returncode, ours


def test_units_verify(systemd_analyze, unit_copy):
    code, messages = verify(systemd_analyze, unit_copy)
    assert code == 0 and not messages, f"systemd-analyze verify (exit {code}):\n" + "\n".join(messages)


def test_units_match_the_daemon(unit_copy, dhcp_bin):
    """The socket systemd creates is the one the plugin calls by default, the service
    keeps its leases where StateDirectory= makes systemd create them, and the daemon
    takes the flags ExecStart gives it."""
    socket = (unit_copy / "cni-dhcp.socket").read_text()
    service = (unit_copy / "cni-dhcp.service").read_text()
    assert re.search(r"^ListenStream=/run/cni/dhcp\.sock$", socket, re.M)
    assert re.search(r"^StateDirectory=cni/dhcp$", service, re.M)
    exec_start = re.search(r"^ExecStart=(.*)$", service, re.M).group(1).split()
    assert exec_start[1:] == ["daemon", "--state-dir", "/var/lib/cni/dhcp"], exec_start
    help_text = subprocess.run([dhcp_bin, "daemon", "--help"], capture_output=True, text=True, timeout=10).stdout
    assert "--state-dir" in help_text and "/run/cni/dhcp.sock" in help_text, help_text


# (unit, text in it, replacement, what systemd must say)
BROKEN = {
    "misspelled-key": ("cni-dhcp.service", "RestartSec=1s", "RestartSecs=1s", r"Unknown key 'RestartSecs'"),
    "bad-signal": ("cni-dhcp.service", "KillSignal=SIGTERM", "KillSignal=SIGTERN", r"signal name"),
    "bad-address-family": ("cni-dhcp.service", "AF_NETLINK", "AF_NETLNK", r"address family.*AF_NETLNK"),
    "bad-protect-system": ("cni-dhcp.service", "ProtectSystem=full", "ProtectSystem=fulll", r"protect system"),
    "relative-socket-path": ("cni-dhcp.socket", "ListenStream=/run/cni/dhcp.sock", "ListenStream=run/cni/dhcp.sock",
                             r"(address value|no Listen setting)"),
    "missing-binary": ("cni-dhcp.service", "ExecStart=", "ExecStart=/nonexistent/cnt-dhcp ",
                       r"(not executable|No such file)"),
    "socket-misspelled": ("cni-dhcp.socket", "SocketMode=0600", "SocketMod=0600", r"Unknown key 'SocketMod'"),
    "bad-section": ("cni-dhcp.socket", "[Socket]", "[Sockets]", r"Unknown section 'Sockets'"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_units_are_reported(systemd_analyze, unit_copy, case):
    unit, old, new, expected = BROKEN[case]
    path = unit_copy / unit
    text = path.read_text()
    assert old in text, f"{case}: {old!r} is no longer in {UNIT_DIR / unit}: update the case"
    if case == "missing-binary":
        text = re.sub(r"^ExecStart=\S+ ", new, text, flags=re.M)
    else:
        text = text.replace(old, new, 1)
    path.write_text(text)
    code, messages = verify(systemd_analyze, unit_copy)
    assert code != 0 or messages, f"{case}: systemd-analyze verify found nothing"
    assert any(re.search(expected, m) for m in messages), f"{case}: no /{expected}/ in:\n" + "\n".join(messages)
