"""The dhcp daemon against callers and pods that try to hurt it: a netns path that is a
FIFO (one thread, so a hang in open() stops every pod on the node), members of
--socket-group reaching for what only root may do, descriptors run out by idle
connections, and pods whose namespace is gone or handed to another pod before their
DEL, alone or 200 at once. Each test is named after what it attacks and asserts the
fixed behaviour, and that the daemon still answers. (Attacks through the state
directory: test_hardening_daemon_state.py.)"""

from __future__ import annotations

import json
import os
import re
import resource
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Optional

import pytest

from dhcp_fixtures import dhcp_conf, lease_active, lease_released, unprivileged
from lab import create_veth, run, wait_until
from macvlan_helpers import macvlan  # noqa: F401
from survive_fixtures import INFINITE_LIFETIME, log_lines, valid_lft, wait_for

pytestmark = pytest.mark.usefixtures("require_root")

NOBODY = 65534
GROUP = 4242  # a gid no account has: only the callers we give it are members
SWEEP_S = 5   # the daemon looks for vanished pods this often

# One call over the daemon's socket, as docs/dhcp-rpc.md frames it: argv[1] is the
# socket, the request comes on stdin, the answer line goes to stdout. Run under
# setpriv as a --socket-group member (the test process itself is root).
RPC_SCRIPT = r"""
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(float(sys.argv[2]))
s.connect(sys.argv[1])
s.sendall(sys.stdin.buffer.read())
s.shutdown(socket.SHUT_WR)
answer = b""
while not answer.endswith(b"\n"):
    chunk = s.recv(65536)
    if not chunk:
        break
    answer += chunk
sys.stdout.write(answer.decode())
"""


def request_line(method: str, params: dict) -> bytes:
    return (json.dumps({"method": method, "params": params}) + "\n").encode()


def rpc(socket_path: Path, method: str, params: dict, timeout: float = 10.0) -> dict:
    """One call as root: the daemon's answer ({"result": ...} or {"error": ...})."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(str(socket_path))
        s.sendall(request_line(method, params))
        s.shutdown(socket.SHUT_WR)
        answer = b""
        try:
            while not answer.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                answer += chunk
        except socket.timeout:
            raise AssertionError(f"the daemon did not answer {method} in {timeout:g} s") from None
    assert answer, f"the daemon hung up on {method} without an answer"
    return json.loads(answer)


def rpc_as_member(socket_path: Path, method: str, params: dict, timeout: float = 10.0) -> dict:
    """One call as uid nobody whose only supplementary group is the --socket-group."""
    argv = unprivileged(["/usr/bin/python3", "-I", "-c", RPC_SCRIPT, socket_path, timeout],
                        NOBODY, NOBODY, (GROUP,))
    done = run(argv, input=request_line(method, params).decode(), timeout=timeout + 10)
    return json.loads(done.stdout)


def attachment(conf: dict, container_id: str, netns: Optional[str], ifname: str = "eth0") -> dict:
    """DHCP.Allocate/Release params, as the plugin sends them."""
    params: dict[str, Any] = {"containerID": container_id, "ifName": ifname, "config": conf}
    if netns is not None:
        params["netns"] = netns
    return params


def address_of(result: dict) -> str:
    return result["ips"][0]["address"].split("/")[0]


def is_up(netns, ifname: str) -> bool:
    return "UP" in netns.link(ifname)["flags"]


def wait_for_address_tied(pod, cidr: str) -> None:
    """The daemon has tied the address's lifetime to the lease (its first sync after
    ADD ran): nothing it does later for the ADD races what the test does next."""
    wait_for(lambda: valid_lft(pod, cidr) not in (None, INFINITE_LIFETIME), 5,
             f"the lifetime of {cidr} to follow the lease")


# --------------------------------------------------------------------------
# 1. A netns path that is a FIFO


def test_allocate_with_a_fifo_as_netns_fails_at_once_and_the_daemon_keeps_serving(lab, dnsmasq, dhcp_daemon,
                                                                                   macvlan):
    fifo = lab.workdir / "not-a-netns"
    os.mkfifo(fifo, 0o600)
    conf = dhcp_conf(lab, dhcp_daemon, "1.0.0")
    try:
        started = time.monotonic()
        answer = rpc(dhcp_daemon.socket_path, "DHCP.Allocate", attachment(conf, "cnt-fifo", str(fifo)), timeout=5)
        took = time.monotonic() - started
    finally:
        # The daemon of a build without the fix sits in open() of the FIFO: a writer
        # lets it go, so that the test ends with an assertion instead of a kill.
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass  # ENXIO: no reader waits, nothing hangs
    assert "error" in answer, answer
    assert f"{fifo}: it is not a network namespace" in answer["error"]["msg"], answer
    assert took < 2, f"the refusal took {took:.1f} s"
    assert dhcp_daemon.lease("cnt-fifo", conf["name"]) is None

    # The one thread is free: other calls are answered, a real pod gets its lease.
    assert dhcp_daemon.status()["ready"] is True
    pod = lab.add_pod()
    result = macvlan.add(conf, pod, container_id="cnt-after-fifo")
    assert lease_active(dnsmasq, address_of(result))
    assert [e["containerID"] for e in dhcp_daemon.list()] == ["cnt-after-fifo"]


# --------------------------------------------------------------------------
# 3. What a member of --socket-group may not do


@pytest.fixture
def group_daemon(lab, start_daemon):
    """A daemon with --socket-group GROUP whose socket a member can reach (the lab's
    work directory, 0700, becomes enterable; the socket's own mode and the daemon's
    check decide)."""
    lab.workdir.chmod(0o711)
    shared = lab.workdir / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    return start_daemon("--socket-group", str(GROUP), socket_path=shared / "dhcp.sock")


def assert_permission_denied(answer: dict, *fragments: str) -> None:
    assert "error" in answer, f"a member was allowed: {answer}"
    error = answer["error"]
    assert error["code"] == 105 and error["msg"].startswith("permission denied"), error
    for fragment in fragments:
        assert fragment in error["msg"], (fragment, error)


def test_socket_group_member_cannot_release_another_pods_lease(lab, dnsmasq, group_daemon, macvlan):
    daemon = group_daemon
    conf = dhcp_conf(lab, daemon, "1.0.0")
    victim, other, third = lab.add_pod(), lab.add_pod(), lab.add_pod()
    victim_cidr = macvlan.add(conf, victim, container_id="cnt-victim")["ips"][0]["address"]
    victim_ip = victim_cidr.split("/")[0]
    other_ip = address_of(macvlan.add(conf, other, container_id="cnt-other"))

    # By the victim's key, naming another pod's namespace, or none: refused.
    for netns in (other.path, None):
        answer = rpc_as_member(daemon.socket_path, "DHCP.Release", attachment(conf, "cnt-victim", netns))
        assert_permission_denied(answer, f"cnt-victim/{conf['name']}/eth0", victim.path)
    assert daemon.lease("cnt-victim", conf["name"])["state"] == "BOUND"
    assert victim.cidrs("eth0") == [victim_cidr]
    # The release never left: dnsmasq still holds the lease, and logged no release.
    assert lease_active(dnsmasq, victim_ip)
    assert "DHCPRELEASE" not in dnsmasq.log()

    # With the lease's own namespace (a runtime's DEL, run by a member): it goes.
    answer = rpc_as_member(daemon.socket_path, "DHCP.Release", attachment(conf, "cnt-victim", victim.path))
    assert answer == {"result": {}}, answer
    wait_for(lambda: lease_released(dnsmasq, victim_ip), 5, f"dnsmasq to free {victim_ip}")
    assert daemon.lease("cnt-victim", conf["name"]) is None

    # Root may release any lease by its key, whatever namespace it names.
    assert rpc(daemon.socket_path, "DHCP.Release", attachment(conf, "cnt-other", third.path)) == {"result": {}}
    wait_for(lambda: lease_released(dnsmasq, other_ip), 5, f"dnsmasq to free {other_ip}")
    assert daemon.list() == [] and daemon.status()["ready"] is True


@pytest.mark.lab(bridge=True)
def test_socket_group_member_cannot_allocate_for_a_link_that_is_not_a_macvlan(lab, dnsmasq, group_daemon):
    daemon = group_daemon
    conf = dhcp_conf(lab, daemon, "1.0.0", timeout="10s")
    # A veth whose other end is a port of the LAN bridge: a link that could get a lease,
    # but no pod's macvlan. Down, as a member would find the node's links.
    pod = lab.add_pod()
    create_veth(lab.lan, f"{lab.id}v", pod, "eth0", up=False)
    lab.lan.add_to_bridge(f"{lab.id}v", lab.lan_if)
    lab.lan.set_up(f"{lab.id}v")
    assert not is_up(pod, "eth0")

    answer = rpc_as_member(daemon.socket_path, "DHCP.Allocate", attachment(conf, "cnt-veth", pod.path))
    assert_permission_denied(answer, "veth", "not a macvlan", pod.path)
    assert not is_up(pod, "eth0"), pod.link("eth0")
    assert daemon.list() == [] and dnsmasq.leases() == []

    # A macvlan is a member's to lease for (the control: members are not refused all).
    macvlan_pod = lab.add_pod()
    lab.add_macvlan(macvlan_pod, "eth0", up=False)
    answer = rpc_as_member(daemon.socket_path, "DHCP.Allocate", attachment(conf, "cnt-member", macvlan_pod.path),
                           timeout=20)
    assert "result" in answer, answer
    # Root may lease for any link: the veth comes up and gets its lease over the bridge.
    answer = rpc(daemon.socket_path, "DHCP.Allocate", attachment(conf, "cnt-veth", pod.path), timeout=20)
    assert "result" in answer, answer
    assert is_up(pod, "eth0")
    assert lease_active(dnsmasq, address_of(answer["result"]))
    assert {e["containerID"] for e in daemon.list()} == {"cnt-veth", "cnt-member"}


def test_socket_group_member_cannot_call_gc(lab, dnsmasq, group_daemon, macvlan):
    daemon = group_daemon
    conf = dhcp_conf(lab, daemon, "1.0.0")
    pod = lab.add_pod()
    address = address_of(macvlan.add(conf, pod, container_id="cnt-gc"))
    gc = {"network": conf["name"], "validAttachments": []}

    assert_permission_denied(rpc_as_member(daemon.socket_path, "DHCP.GC", gc), "DHCP.GC")
    assert daemon.lease("cnt-gc", conf["name"])["state"] == "BOUND"
    assert lease_active(dnsmasq, address) and "DHCPRELEASE" not in dnsmasq.log()

    assert rpc(daemon.socket_path, "DHCP.GC", gc) == {"result": {"released": 1}}
    wait_for(lambda: lease_released(dnsmasq, address), 5, f"dnsmasq to free {address}")
    assert daemon.list() == [] and daemon.status()["ready"] is True


# --------------------------------------------------------------------------
# 4. Descriptors run out


IDLE_CONNECTIONS = 1100
FD_LIMIT = 1024
STALL_S = 10  # how long the daemon lets a caller stall before hanging up


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def hung_up(conn: socket.socket) -> bool:
    """The daemon closed its end (EOF); False while the connection is open and silent."""
    try:
        return conn.recv(1, socket.MSG_DONTWAIT | socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def test_idle_connections_exhausting_descriptors_neither_spin_nor_starve_the_daemon(lab, dnsmasq, dhcp_daemon,
                                                                                     macvlan):
    daemon = dhcp_daemon
    run(["prlimit", "--pid", str(daemon.pid), f"--nofile={FD_LIMIT}:{FD_LIMIT}"])
    limits = Path(f"/proc/{daemon.pid}/limits").read_text()
    assert [line.split()[3:5] for line in limits.splitlines() if line.startswith("Max open files")] == \
        [[str(FD_LIMIT), str(FD_LIMIT)]], limits
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = IDLE_CONNECTIONS + 200
    if soft < needed:
        if hard < needed:
            pytest.fail(f"the test needs {needed} descriptors; its hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    idle: list[socket.socket] = []
    honest: Optional[socket.socket] = None
    try:
        flood_at = time.monotonic()
        for _ in range(IDLE_CONNECTIONS):
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            idle.append(conn)
            conn.settimeout(5)
            conn.connect(str(daemon.socket_path))  # and nothing sent
            conn.setblocking(False)
        # The daemon has taken all the connections its descriptors allow.
        wait_until(lambda: len(os.listdir(f"/proc/{daemon.pid}/fd")) >= FD_LIMIT, 10,
                   f"the daemon to hold {FD_LIMIT} descriptors")

        # An honest caller queues behind the flood.
        honest = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        honest.settimeout(5)
        honest.connect(str(daemon.socket_path))
        honest.sendall(request_line("DHCP.Status", {}))
        honest.shutdown(socket.SHUT_WR)

        # Out of descriptors, the daemon rests instead of spinning on the listener.
        # (A measurement window, not a wait for an event.)
        cpu_before = cpu_seconds(daemon.pid)
        time.sleep(3)
        burnt = cpu_seconds(daemon.pid) - cpu_before
        assert burnt < 0.3, f"the daemon used {burnt:.2f} s of CPU in 3 s with its descriptors gone"
        assert log_lines(daemon.log(), "cannot accept calls: Too many open files", "resting"), daemon.log()
        # A caller is let stall for a while: nobody was cut off yet.
        assert not any(hung_up(conn) for conn in idle)

        # Idle callers are hung up once they have stalled too long; that frees the
        # descriptors the honest caller, queued behind the flood, is answered with.
        honest.settimeout(STALL_S + 10 - (time.monotonic() - flood_at))
        answer = b""
        try:
            while not answer.endswith(b"\n"):
                chunk = honest.recv(4096)
                if not chunk:
                    break
                answer += chunk
        except socket.timeout:
            pass
        answered_after = time.monotonic() - flood_at
        assert answer, f"no answer to DHCP.Status {answered_after:.1f} s into the flood; log:\n{daemon.log()[-2000:]}"
        assert json.loads(answer)["result"]["ready"] is True, answer
        wait_until(lambda: all(hung_up(conn) for conn in idle), 2 * STALL_S + 10 - (time.monotonic() - flood_at),
                   "the daemon to hang up on every idle connection", interval=0.1, max_interval=0.5)
    finally:
        for conn in idle:
            conn.close()
        if honest is not None:
            honest.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    log = daemon.log()
    rests = log_lines(log, "cannot accept calls")
    assert rests and len(rests) < 60, f"{len(rests)} lines about accepting"
    assert daemon.alive() and daemon.status()["ready"] is True
    conf = dhcp_conf(lab, daemon, "1.0.0")
    pod = lab.add_pod()
    assert lease_active(dnsmasq, address_of(macvlan.add(conf, pod, container_id="cnt-after-flood")))


# --------------------------------------------------------------------------
# 5. DEL after the pod's namespace is gone


def test_del_after_the_pods_netns_is_gone_releases_through_the_master(lab, dnsmasq, dhcp_daemon, sniffer,
                                                                      macvlan_bin, cni_bin_dir):
    daemon = dhcp_daemon
    conf = dhcp_conf(lab, daemon, "1.0.0")
    # The pod's namespace is named by a /proc/PID/ns/net path, as some runtimes name it:
    # no file system event reports it gone, so the daemon's scan (once a second here)
    # may notice it between its end and the DEL only rarely. Such a round tells nothing
    # about the DEL and is played again with another pod.
    for attempt in range(3):
        container_id = f"cnt-nsgone{attempt}"
        key = f"{container_id}/{conf['name']}/eth0"
        pod = lab.add_pod()
        holder = lab.start_process(["sleep", "infinity"], pod, name="netns-holder")
        netns = f"/proc/{holder.pid}/ns/net"
        add = lab.run_plugin(macvlan_bin, "ADD", conf, netns=netns, ifname="eth0", container_id=container_id,
                             cni_path=cni_bin_dir)
        assert add.code == 0, add
        cidr = add.output["ips"][0]["address"]
        address = cidr.split("/")[0]
        mac = pod.link("eth0")["address"]
        wait_for_address_tied(pod, cidr)

        holder.stop()
        pod.delete()  # the namespace ends with its last holder, and nothing else
        assert not Path(netns).exists()
        delete = lab.run_plugin(macvlan_bin, "DEL", conf, netns=netns, ifname="eth0", container_id=container_id,
                                cni_path=cni_bin_dir)
        assert delete.code == 0, delete
        if not log_lines(daemon.log(), key, "released (its pod network namespace is gone)"):
            break
    else:
        pytest.fail("the scan beat the DEL three times running")

    wait_for(lambda: lease_released(dnsmasq, address), 5, f"dnsmasq to free {address}")
    assert log_lines(daemon.log(), key, "released (DEL)"), daemon.log()
    assert log_lines(daemon.log(), key, "the pod's interface is gone", f"releasing through {lab.node.master}"), \
        daemon.log()
    assert f"DHCPRELEASE({lab.lan_if}) {address} {mac}" in dnsmasq.log()
    release = wait_for(lambda: sniffer.messages("RELEASE", chaddr=mac), 5, "the DHCPRELEASE in the sniffer's log")
    assert [(m["ciaddr"], m["src"], m["dst"]) for m in release] == [(address, address, lab.router)], release
    assert daemon.lease(container_id, conf["name"]) is None and daemon.status()["ready"] is True


# --------------------------------------------------------------------------
# 6. Many DELs at once


# 200 pods: their 200 ADDs take a few seconds here (2 cores), well under a minute.
MANY_PODS = 200
DEL_WORKERS = 50


def count_datagrams_from(netns, addresses) -> None:
    """Counts, in `netns`, the UDP datagrams to port 67 from each address: what reached
    the server's host, before any socket buffer of the server's can drop it."""
    rules = [f"-A INPUT -s {ip}/32 -p udp -m udp --dport 67" for ip in sorted(addresses)]
    netns.exec(["iptables-restore", "--noflush"], input="*filter\n" + "\n".join(rules) + "\nCOMMIT\n")


def datagrams_from(netns) -> dict[str, int]:
    counts = {}
    for line in netns.exec(["iptables-save", "-c", "-t", "filter"]).stdout.splitlines():
        m = re.match(r"\[(\d+):\d+\] -A INPUT -s ([\d.]+)/32 -p udp -m udp --dport 67$", line)
        if m:
            counts[m.group(2)] = int(m.group(1))
    return counts


def udp_receive_buffer_errors(netns) -> int:
    header, values = [line.split() for line in netns.exec(["cat", "/proc/net/snmp"]).stdout.splitlines()
                      if line.startswith("Udp:")]
    return int(values[header.index("RcvbufErrors")])


def test_two_hundred_concurrent_dels_lose_no_release(lab, dhcp_daemon, macvlan):
    daemon = dhcp_daemon
    dnsmasq = lab.start_dnsmasq(pool=(lab.address(20), lab.address(250)), extra=["--dhcp-lease-max=1000"])
    conf = dhcp_conf(lab, daemon, "1.0.0")
    pods = [lab.add_pod() for _ in range(MANY_PODS)]
    ids = [f"cnt-many{i:03d}" for i in range(MANY_PODS)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda i: macvlan.add(conf, pods[i], container_id=ids[i]), range(MANY_PODS)))
    addresses = {address_of(result) for result in results}
    assert len(addresses) == MANY_PODS
    assert {lease.ip for lease in dnsmasq.leases()} == addresses
    count_datagrams_from(lab.lan, addresses)
    dropped_before = udp_receive_buffer_errors(lab.lan)
    # The router's side of a real LAN answers ARP in a fraction of a millisecond, a
    # veth in this lab at once. A router busy with 50 ARP requests at once answers
    # some later: its replies leave at 1 kB/s (42 ms each) from now on. A DHCPRELEASE
    # unicast still waiting for ARP would die with the pod's interface, which the
    # plugin deletes right after the DEL is answered.
    lab.lan.exec(["tc", "qdisc", "add", "dev", lab.lan_if, "root", "tbf", "rate", "8kbit", "burst", "128",
                  "latency", "10s"])

    with ThreadPoolExecutor(max_workers=DEL_WORKERS) as pool:
        dels = list(pool.map(lambda i: macvlan("DEL", conf, pods[i], container_id=ids[i]), range(MANY_PODS)))
    failed = [(ids[i], d.code, d.stdout, d.stderr) for i, d in enumerate(dels) if (d.code, d.stdout) != (0, "")]
    assert not failed, f"{len(failed)} DELs failed, first: {failed[0]}"
    assert daemon.list() == []

    # Every release reached the server's host: none died with its interface.
    def not_arrived():
        return sorted(ip for ip, n in datagrams_from(lab.lan).items() if n == 0)

    try:
        wait_for(lambda: not not_arrived(), 10, "a DHCPRELEASE from each of the 200 addresses")
    except TimeoutError:
        lost = not_arrived()
        pytest.fail(f"{len(lost)} of {MANY_PODS} DHCPRELEASEs never reached the server: {lost}")
    assert not log_lines(daemon.log(), "sending DHCPRELEASE", "failed"), daemon.log()

    # And dnsmasq freed every lease, but for any release its own socket could not take
    # in (a loaded machine: dnsmasq logs each message and rewrites its lease file).
    def left():
        return {lease.ip for lease in dnsmasq.leases()} & addresses

    try:
        wait_for(lambda: not left(), 10, "dnsmasq to free all 200 leases")
    except TimeoutError:
        dropped = udp_receive_buffer_errors(lab.lan) - dropped_before
        assert len(left()) <= dropped, f"dnsmasq kept {sorted(left())} and dropped only {dropped} datagrams"
    assert daemon.status()["ready"] is True


# --------------------------------------------------------------------------
# 7. A netns path handed to another pod


def test_netns_path_reused_by_a_new_pod_releases_the_old_lease_and_leaves_the_newcomer_alone(
        lab, dnsmasq, dhcp_daemon, macvlan, sniffer):
    daemon = dhcp_daemon
    conf = dhcp_conf(lab, daemon, "1.0.0")
    old = lab.add_pod()
    cidr = macvlan.add(conf, old, container_id="cnt-old")["ips"][0]["address"]
    address = cidr.split("/")[0]
    old_mac = old.link("eth0")["address"]
    key = f"cnt-old/{conf['name']}/eth0"
    wait_for_address_tied(old, cidr)
    old_inode = old.inode()

    # The old pod goes without a DEL; a new one gets a namespace at the very same path,
    # with an eth0 of its own (another MAC), down as a runtime creates it.
    old.delete()
    new = type(old)(old.name)
    lab.pods.append(new)
    assert new.path == old.path and new.inode() != old_inode
    lab.add_macvlan(new, "eth0", up=False)
    new_mac = new.link("eth0")["address"]
    assert new_mac != old_mac

    def released_and_newcomer_untouched():
        link = new.link("eth0")
        assert link["address"] == new_mac and "UP" not in link["flags"], link
        assert new.cidrs("eth0") == [], f"the old pod's lease went to the newcomer: {new.addresses('eth0')}"
        return lease_released(dnsmasq, address)

    wait_for(released_and_newcomer_untouched, 2 * SWEEP_S, f"the daemon to release {address} of the old pod")
    # The daemon logs the release once the DHCPRELEASE is out: dnsmasq may be quicker.
    wait_for(lambda: log_lines(daemon.log(), key, "released (its pod network namespace is gone)"), 5,
             "the daemon to log the release")
    assert f"DHCPRELEASE({lab.lan_if}) {address} {old_mac}" in dnsmasq.log()
    # Through the master: from the leased address, naming the old pod's MAC.
    release = wait_for(lambda: sniffer.messages("RELEASE"), 5, "the DHCPRELEASE in the sniffer's log")
    assert [(m["chaddr"], m["ciaddr"], m["src"]) for m in release] == [(old_mac, address, address)], release
    assert [m for m in sniffer.messages() if m["chaddr"] == new_mac] == []
    assert daemon.list() == [] and daemon.status()["ready"] is True
    assert new.cidrs("eth0") == [] and not is_up(new, "eth0")
