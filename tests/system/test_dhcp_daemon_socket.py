"""The daemon's socket: who may call it (root only, or a --socket-group), a stale
socket file left by a killed daemon is replaced (the reference exits "address already
in use"), a second daemon does not steal a live one's socket, and SIGTERM cleans up
its files without releasing any lease (the pods keep their addresses)."""

import json
import os
import signal
import socket
import stat

import pytest

from dhcp_fixtures import dhcp_conf, lease_active, mode_of, socket_accepts, unprivileged
from lab import run
from macvlan_helpers import macvlan  # noqa: F401

pytestmark = pytest.mark.usefixtures("require_root")

NOBODY = 65534
GROUP = 4242  # a gid no account here has: only the processes we give it are members


@pytest.fixture
def open_dir(lab):
    """A directory everyone may enter, so that only the socket's own mode and the
    daemon's check decide. The lab's work directory (0700) becomes enterable, not listable."""
    lab.workdir.chmod(0o711)
    path = lab.workdir / "shared"
    path.mkdir()
    path.chmod(0o755)
    return path


def status_as(daemon, uid=NOBODY, gid=NOBODY, groups=()):
    """`dhcp status` as another user."""
    argv = unprivileged([daemon.binary, "status", "-socketpath", daemon.socket_path], uid, gid, groups)
    return run(argv, check=False)


def test_socket_is_root_only_and_its_directory_is_created_0700(lab, start_daemon):
    socket_path = lab.workdir / "run" / "cni" / "dhcp.sock"
    (lab.workdir / "run").mkdir()
    daemon = start_daemon(socket_path=socket_path)
    assert stat.S_ISSOCK(os.lstat(socket_path).st_mode)
    assert mode_of(socket_path) == 0o600
    assert os.lstat(socket_path).st_uid == 0
    assert mode_of(socket_path.parent) == 0o700
    status = daemon.status()
    assert status["ready"] is True and status["leases"] == 0
    # glibc's count of the heap in use (0 under ASan, whose allocator it cannot see).
    assert isinstance(status["heapBytes"], int) and status["heapBytes"] >= 0


def test_nobody_is_refused_by_the_socket_mode(lab, start_daemon, open_dir, dhcp_bin, pod):
    daemon = start_daemon(socket_path=open_dir / "dhcp.sock")
    done = status_as(daemon)
    assert done.returncode == 1, done
    assert f"cannot reach the dhcp daemon at {daemon.socket_path}: Permission denied" in done.stderr, done.stderr
    assert "root" in done.stderr and "--socket-group" in done.stderr, done.stderr

    # The IPAM plugin run as nobody: a CNI error naming the socket and the way out.
    conf = dhcp_conf(lab, daemon, "1.0.0")
    argv = unprivileged([dhcp_bin])
    env = {"CNI_COMMAND": "ADD", "CNI_CONTAINERID": "cnt-nobody", "CNI_NETNS": pod.path, "CNI_IFNAME": "eth0",
           "CNI_PATH": str(dhcp_bin.parent), "PATH": os.environ["PATH"]}
    done = run(argv, input=json.dumps(conf), env=env, check=False)
    assert done.returncode != 0
    error = json.loads(done.stdout)
    assert error["code"] == 105 and str(daemon.socket_path) in error["msg"], error
    assert "--socket-group" in error["details"], error
    assert daemon.status()["leases"] == 0


def test_nobody_is_refused_by_the_daemon_even_through_an_open_socket(start_daemon, open_dir):
    # Someone loosened the file mode: the daemon's own check (SO_PEERCRED) still says no.
    daemon = start_daemon(socket_path=open_dir / "dhcp.sock")
    daemon.socket_path.chmod(0o666)
    done = status_as(daemon)
    assert done.returncode == 1, done
    assert "permission denied: uid 65534 gid 65534 may not call the dhcp daemon" in done.stderr, done.stderr
    assert "--socket-group" in done.stderr
    assert "refused a call from uid 65534" in daemon.log()
    assert daemon.alive() and daemon.status()["ready"]


def test_socket_group_members_may_call(lab, start_daemon, open_dir):
    daemon = start_daemon("--socket-group", str(GROUP), socket_path=open_dir / "dhcp.sock")
    st = os.lstat(daemon.socket_path)
    assert (mode_of(daemon.socket_path), st.st_uid, st.st_gid) == (0o660, 0, GROUP)

    # A member by primary group, and one by a supplementary group (as `usermod -aG` makes).
    for gid, groups in ((GROUP, ()), (NOBODY, (GROUP,))):
        done = status_as(daemon, gid=gid, groups=groups)
        assert done.returncode == 0, (gid, groups, done)
        assert '"ready": true' in done.stdout, done.stdout
    # Not a member: the file mode stops it.
    done = status_as(daemon)
    assert done.returncode == 1 and "Permission denied" in done.stderr, done


def test_socket_group_by_name(start_daemon, open_dir):
    # Looked up in /etc/group. (The static binary once crashed in the host's NSS modules
    # on names /etc/group lacks: see test_bad_flags_exit_2.)
    daemon = start_daemon("--socket-group=nogroup", socket_path=open_dir / "dhcp.sock")
    assert os.lstat(daemon.socket_path).st_gid == NOBODY
    assert status_as(daemon).returncode == 0


def test_socket_group_members_reach_a_socket_in_a_directory_the_daemon_created(start_daemon, open_dir):
    daemon = start_daemon("--socket-group", str(GROUP), socket_path=open_dir / "cni" / "dhcp.sock")
    # Members must be able to enter it; nobody else may.
    st = os.lstat(daemon.socket_path.parent)
    assert (mode_of(daemon.socket_path.parent), st.st_gid) == (0o750, GROUP)
    assert status_as(daemon, gid=GROUP).returncode == 0
    assert status_as(daemon).returncode == 1


def test_a_stale_socket_is_replaced(lab, start_daemon):
    path = lab.workdir / "dhcp.sock"
    # What a killed daemon leaves: a socket file nobody listens on.
    leftover = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    leftover.bind(str(path))
    leftover.close()
    assert stat.S_ISSOCK(os.lstat(path).st_mode) and not socket_accepts(path)

    daemon = start_daemon(socket_path=path)
    assert f"replacing the stale socket {path}" in daemon.log()
    assert daemon.status()["ready"]


def test_a_file_that_is_not_a_socket_is_not_touched(lab, start_daemon):
    path = lab.workdir / "dhcp.sock"
    path.write_text("precious\n")
    daemon = start_daemon(socket_path=path, wait=False)
    assert daemon.process.wait(5) != 0
    assert "is not a socket" in daemon.log()
    assert path.read_text() == "precious\n"


def test_a_socket_whose_directory_cannot_be_made_says_so(lab, start_daemon):
    """Only the socket's own directory is made: a missing parent (a wrong -socketpath or
    -hostprefix) is an exit 1 that says what is missing, not a silent one."""
    path = lab.workdir / "no" / "such" / "dhcp.sock"
    daemon = start_daemon(socket_path=path, wait=False)
    assert daemon.process.wait(5) == 1
    assert f"cannot make the directory of the socket {path}: No such file or directory" in daemon.log(), \
        daemon.log()


def test_a_second_daemon_on_the_socket_leaves_the_first_alone(lab, start_daemon, dhcp_bin):
    first = start_daemon()
    inode = os.lstat(first.socket_path).st_ino
    second = start_daemon(wait=False, state_dir=lab.workdir / "second-state")
    assert second.process.wait(5) != 0
    assert f"another dhcp daemon is serving on {first.socket_path}" in second.log(), second.log()
    # The first still serves, on the very same socket file.
    assert first.alive() and first.status()["ready"]
    assert os.lstat(first.socket_path).st_ino == inode


def test_a_second_daemon_on_the_state_directory_is_refused_before_it_listens(lab, start_daemon):
    first = start_daemon()
    other_socket = lab.workdir / "second.sock"
    second = start_daemon(socket_path=other_socket, wait=False)
    assert second.process.wait(5) == 1
    assert f"another dhcp daemon keeps its leases in {first.state_dir}" in second.log(), second.log()
    assert "--state-dir" in second.log()
    assert not other_socket.exists()
    assert first.alive() and first.status()["ready"]
    # Once the first is gone, the directory is free.
    first.stop()
    start_daemon(socket_path=other_socket).status()


def test_sigterm_removes_socket_and_pidfile_and_keeps_the_leases(lab, macvlan, start_daemon):
    server = lab.start_dnsmasq()
    pidfile = lab.workdir / "dhcp.pid"
    daemon = start_daemon("-pidfile", str(pidfile))
    assert pidfile.read_text().strip() == str(daemon.pid)
    conf = dhcp_conf(lab, daemon, "1.0.0")
    pods = [lab.add_pod(), lab.add_pod()]
    addresses = []
    for i, pod in enumerate(pods):
        result = macvlan.add(conf, pod, container_id=f"cnt-keep{i}")
        addresses.append(result["ips"][0]["address"].split("/")[0])
    assert daemon.status()["leases"] == 2

    assert daemon.stop(signal.SIGTERM) == 0
    assert not daemon.socket_path.exists()
    assert not pidfile.exists()
    assert "shutting down" in daemon.log()
    assert "released" not in daemon.log()
    # No DHCPRELEASE went out: dnsmasq still has both leases, the pods their addresses.
    assert "DHCPRELEASE" not in server.log()
    for pod, address in zip(pods, addresses):
        assert lease_active(server, address), server.leases()
        assert pod.cidrs("eth0") == [f"{address}/24"]
