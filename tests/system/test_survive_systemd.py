"""The daemon under systemd: socket activation end to end (Debian's
systemd-socket-activate holds the socket as cni-dhcp.socket does, and starts the daemon
on the first connection with the socket passed as LISTEN_FDS), and the units in
deploy/systemd as shipped, as `systemd-analyze verify` reads them."""

import json
import shutil
from pathlib import Path

import pytest

from dhcp_fixtures import lease_active
from lab import run

pytestmark = pytest.mark.usefixtures("require_root")

UNITS = Path(__file__).resolve().parents[2] / "deploy" / "systemd"
INSTALLED_DHCP = "/opt/cni/bin/dhcp"


def tool(name):
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} not found: it comes with Debian's systemd package (scripts/install-deps.sh)",
                    pytrace=False)
    return path


def cmdline(pid):
    return Path(f"/proc/{pid}/cmdline").read_text().split("\0")


def test_socket_activation_first_add_gets_a_lease(lab, survive, dhcp_bin, pod):
    activate = tool("systemd-socket-activate")
    socket_path = survive.socket_path
    process = lab.start_process([activate, "-l", socket_path, dhcp_bin, "daemon", "--state-dir", survive.state_dir],
                                lab.node, name="socket-activate")
    process.wait_for_log(r"Listening on .*dhcp\.sock")
    # Only the socket exists; the daemon starts with the first connection.
    assert socket_path.is_socket()
    assert Path(cmdline(process.pid)[0]).name == "systemd-socket-activate"
    assert "serving on" not in process.log()

    server = lab.start_dnsmasq()
    conf = survive.conf("1.0.0")
    result = survive.add(conf, pod, "cnt-activated")
    cidr = result["ips"][0]["address"]
    assert pod.cidrs("eth0") == [cidr]
    assert lease_active(server, cidr.split("/")[0])

    # The same PID is now the daemon (exec'd in place), on the socket it was handed:
    # it neither bound its own nor replaced the "stale" file.
    assert cmdline(process.pid)[1:3] == ["daemon", "--state-dir"], cmdline(process.pid)
    log = process.log()
    assert "serving on the socket passed by systemd" in log, log
    assert "replacing the stale socket" not in log and f"serving on {socket_path}" not in log, log
    listed = survive.ipam("STATUS", survive.conf("1.1.0"), None, container_id=None, ifname=None)
    assert (listed.code, listed.stdout) == (0, ""), listed
    done = lab.node.exec([dhcp_bin, "list", "-socketpath", socket_path, "--json"])
    assert [(e["containerID"], e["state"]) for e in json.loads(done.stdout)] == [("cnt-activated", "BOUND")], \
        done.stdout
    assert list(survive.records()) == [f"cnt-activated/{conf['name']}/eth0"]

    # SIGTERM stops it; the socket is systemd's, left for the next activation.
    assert process.stop() == 0
    assert socket_path.is_socket()


def test_units_as_shipped_have_no_complaint_but_the_missing_binary():
    # (test_deploy_systemd.py verifies a copy pointing at the build, and broken copies.)
    done = run([tool("systemd-analyze"), "verify", "--man=no", UNITS / "cni-dhcp.socket",
                UNITS / "cni-dhcp.service"], check=False)
    ours = [line for line in (done.stdout + done.stderr).splitlines() if "cni-dhcp" in line]
    if Path(INSTALLED_DHCP).is_file():
        assert (done.returncode, ours) == (0, []), ours
    else:
        assert ours == [f"cni-dhcp.service: Command {INSTALLED_DHCP} is not executable: No such file or directory"], \
            ours
