"""hostReach: the node reaches its own macvlan pods, and they reach it.

The kernel passes no frame between a macvlan and its master's own stack: without the
key the lab's node (which holds the master) cannot ping or connect to its pods, nor
they to it. With "hostReach": true the plugin gives the node a bridge-mode macvlan of
its own on the master, the shim mvh-<master's ifindex>, carrying the node's address as
a /32, and a /32 route per pod address through it; the shim goes with the last route.
Every plugin runs in the lab's node netns, so the shim and its routes live there.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from lab import Lab, Netns, wait_until
from dhcp_fixtures import dhcp_conf
from macvlan_helpers import assert_cni_error, assert_only_lo, macvlan_conf, ping, static_ipam

pytestmark = pytest.mark.usefixtures("require_root")

LOCK_DIR = Path("/run/cni/macvlan-hostreach")
PORT = 8080
PODS = 20

# Accepts connections on PORT and greets each: run inside the namespace that is reached.
LISTENER = r"""
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen()
print("listening", flush=True)
while True:
    c, _ = s.accept()
    c.sendall(b"hello\n")
    c.close()
"""
CONNECT = r"""
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
print(c.recv(16).decode().strip())
"""


@pytest.fixture(autouse=True)
def lock_files_left_as_found(lab):
    """The plugins keep a lock file per master in LOCK_DIR, on the machine's /run (a DEL
    that removes the shim removes it; a lab deleted with its shim in place does not):
    the lab's own goes, and a run that found no directories leaves none."""
    absent = [path for path in (LOCK_DIR.parent, LOCK_DIR) if not path.exists()]
    yield
    lock_file(lab).unlink(missing_ok=True)
    for path in reversed(absent):
        try:
            path.rmdir()
        except OSError:  # gone, or another run's files are in it
            pass


def shim_name(lab: Lab) -> str:
    return f"mvh-{lab.node.link(lab.node.master)['ifindex']}"


def lock_file(lab: Lab) -> Path:
    return LOCK_DIR / f"{lab.node.master}.lock"


def host_routes(lab: Lab, dev: str) -> list[str]:
    """The node's IPv4 routes through `dev`, as their destinations."""
    return sorted(route["dst"] for route in lab.node.routes(4) if route.get("dev") == dev)


def ip_of(result: dict) -> str:
    return result["ips"][0]["address"].split("/")[0]


def static_conf(lab: Lab, host: int, **keys) -> dict:
    return macvlan_conf(lab, ipam=static_ipam([{"address": f"{lab.address(host)}/24"}]), **keys)


def tcp_reaches(lab: Lab, client: Netns, server: Netns, address: str) -> bool:
    """A TCP connection from `client` to a listener in `server` at `address` is greeted."""
    listener = lab.start_process(["/usr/bin/python3", "-c", LISTENER, str(PORT)], server, name="listener")
    try:
        listener.wait_for_log("listening")
        done = client.exec(["/usr/bin/python3", "-c", CONNECT, address, str(PORT)], check=False)
        return done.returncode == 0 and done.stdout.strip() == "hello"
    finally:
        listener.stop()


def assert_reach(lab: Lab, pod: Netns, pod_ip: str, expected: bool) -> None:
    node_ip = str(lab.node.address.ip)
    seen = {
        "node pings pod": ping(lab.node, pod_ip, timeout=1),
        "pod pings node": ping(pod, node_ip, timeout=1),
        "node connects to pod": tcp_reaches(lab, lab.node, pod, pod_ip),
        "pod connects to node": tcp_reaches(lab, pod, lab.node, node_ip),
    }
    assert seen == {what: expected for what in seen}, lab.describe()


def assert_no_shim(lab: Lab) -> None:
    assert lab.node.link(shim_name(lab)) is None, lab.node.links()
    assert not lock_file(lab).exists()


def test_node_and_pod_reach_each_other_only_with_host_reach(lab, macvlan):
    plain_pod, reach_pod = lab.add_pod(), lab.add_pod()
    plain = macvlan.add(static_conf(lab, 50), plain_pod, container_id="cnt-plain")
    # Without the key: no shim, and the master's host and the pod cannot talk.
    assert_no_shim(lab)
    assert_reach(lab, plain_pod, ip_of(plain), False)

    reach = macvlan.add(static_conf(lab, 51, hostReach=True), reach_pod, container_id="cnt-reach")
    shim = lab.node.link(shim_name(lab))
    assert shim is not None and shim["linkinfo"]["info_data"]["mode"] == "bridge", shim
    assert shim["link"] == lab.node.master and "UP" in shim["flags"], shim
    # It carries the node's address as a /32, the source the pods know the node by.
    assert lab.node.cidrs(shim_name(lab)) == [f"{lab.node.address.ip}/32"]
    assert host_routes(lab, shim_name(lab)) == [ip_of(reach)]
    assert lock_file(lab).exists()
    assert_reach(lab, reach_pod, ip_of(reach), True)
    # Only the pods that asked for it are routed: the other stays out of the node's reach.
    assert not ping(lab.node, ip_of(plain), timeout=1)


def test_lan_keeps_the_masters_mac_for_the_node(lab, macvlan, pod):
    """LAN broadcasts reach the shim too: it answers ARP for the node's address only to
    the pods routed through it, so the LAN keeps talking to the master."""
    macvlan.add(static_conf(lab, 52, hostReach=True), pod)
    lab.lan.ip("neigh", "flush", "dev", lab.lan_if)
    assert ping(lab.lan, str(lab.node.address.ip))
    neighbours = [n for n in lab.lan.ip_json("neigh", "show", "dev", lab.lan_if)
                  if n["dst"] == str(lab.node.address.ip)]
    master_mac = lab.node.link(lab.node.master)["address"]
    assert [n.get("lladdr") for n in neighbours] == [master_mac], neighbours


def test_del_removes_the_route_and_the_last_pod_the_shim(lab, macvlan):
    pods = [lab.add_pod() for _ in range(2)]
    confs = [static_conf(lab, 60 + i, hostReach=True) for i in range(2)]
    results = [macvlan.add(confs[i], pods[i], container_id=f"cnt-c{i}") for i in range(2)]
    shim = shim_name(lab)
    assert host_routes(lab, shim) == sorted(ip_of(r) for r in results)

    macvlan.ok("DEL", dict(confs[0], prevResult=results[0]), pods[0], container_id="cnt-c0")
    assert host_routes(lab, shim) == [ip_of(results[1])]
    assert ping(lab.node, ip_of(results[1]))

    macvlan.ok("DEL", dict(confs[1], prevResult=results[1]), pods[1], container_id="cnt-c1")
    assert_no_shim(lab)
    assert [r for r in lab.node.routes(4) if r["dst"] in (ip_of(results[0]), ip_of(results[1]))] == []
    # A second DEL, as runtimes retry, finds nothing to do and passes.
    macvlan.ok("DEL", dict(confs[1], prevResult=results[1]), pods[1], container_id="cnt-c1")


def test_del_after_the_pod_is_gone_uses_prev_result(lab, macvlan, pod):
    conf = static_conf(lab, 70, hostReach=True)
    result = macvlan.add(conf, pod)
    pod.delete()
    macvlan.ok("DEL", dict(conf, prevResult=result), pod)
    assert_no_shim(lab)
    assert lab.node.routes(4) and all(r["dst"] != ip_of(result) for r in lab.node.routes(4))


def test_del_without_prev_result_reads_the_pods_address(lab, macvlan, pod):
    conf = static_conf(lab, 71, hostReach=True)
    macvlan.add(conf, pod)
    macvlan.ok("DEL", conf, pod)
    assert_no_shim(lab)
    assert_only_lo(pod)


def test_check_verifies_the_route(lab, macvlan, pod):
    conf = static_conf(lab, 80, hostReach=True)
    result = macvlan.add(conf, pod)
    checked = dict(conf, prevResult=result)
    macvlan.ok("CHECK", checked, pod)

    lab.node.ip("route", "del", f"{ip_of(result)}/32", "dev", shim_name(lab))
    assert_cni_error(macvlan("CHECK", checked, pod), 103, f"route {ip_of(result)}/32", shim_name(lab),
                     "missing", f"ip route replace {ip_of(result)}/32 dev {shim_name(lab)}")
    lab.node.ip("route", "replace", f"{ip_of(result)}/32", "dev", shim_name(lab))
    macvlan.ok("CHECK", checked, pod)

    lab.node.ip("link", "set", shim_name(lab), "down")
    assert_cni_error(macvlan("CHECK", checked, pod), 103, shim_name(lab), "is down")
    lab.node.ip("link", "del", shim_name(lab))
    assert_cni_error(macvlan("CHECK", checked, pod), 103, shim_name(lab), "is missing")
    # The shim went by hand: DEL still passes, and takes the lock file along.
    macvlan.ok("DEL", checked, pod)
    assert_no_shim(lab)


def test_add_adopts_a_route_left_by_a_pod_deleted_without_del(lab, macvlan):
    first, second = lab.add_pod(), lab.add_pod()
    conf = static_conf(lab, 81, hostReach=True)
    macvlan.add(conf, first, container_id="cnt-first")
    first.delete()  # no DEL: its route stays
    result = macvlan.add(conf, second, container_id="cnt-second")
    assert host_routes(lab, shim_name(lab)) == [ip_of(result)]
    assert ping(lab.node, ip_of(result))
    macvlan.ok("DEL", dict(conf, prevResult=result), second, container_id="cnt-second")
    assert_no_shim(lab)


def test_a_route_through_another_link_is_not_taken(lab, macvlan, pod):
    lab.node.ip("route", "add", f"{lab.address(82)}/32", "dev", lab.node.master)
    run = macvlan("ADD", static_conf(lab, 82, hostReach=True), pod)
    assert_cni_error(run, 100, f"route {lab.address(82)}/32", "File exists", "already routes")
    # Nothing of the failed ADD is left: no link in the pod, no shim, the other route kept.
    assert_only_lo(pod)
    assert_no_shim(lab)
    assert host_routes(lab, lab.node.master).count(lab.address(82)) == 1


@pytest.mark.parametrize("mode, why", [
    ("private", "cannot talk to each other, the node's shim included"),
    ("vepa", "hairpin"),
    ("passthru", "whole master to one macvlan"),
])
def test_modes_other_than_bridge_are_refused(lab, macvlan, pod, mode, why):
    run = macvlan("ADD", static_conf(lab, 90, hostReach=True, mode=mode), pod)
    assert_cni_error(run, 7, "hostReach needs mode bridge", f"mode is {mode}", why)
    assert_only_lo(pod)
    assert_no_shim(lab)


def test_link_in_container_is_refused(lab, macvlan, pod):
    run = macvlan("ADD", static_conf(lab, 91, hostReach=True, linkInContainer=True), pod)
    assert_cni_error(run, 7, "hostReach cannot be used with linkInContainer")


def test_the_key_must_be_a_boolean(lab, macvlan, pod):
    assert_cni_error(macvlan("ADD", static_conf(lab, 92, hostReach="yes"), pod), 7, "hostReach")


def in_parallel(fn, items):
    with ThreadPoolExecutor(max_workers=len(items)) as pool:
        return list(pool.map(fn, items))


def test_concurrent_adds_and_dels_keep_one_shim_and_the_right_routes(lab, macvlan):
    shim = shim_name(lab)
    pods = lab.add_pods(2 * PODS)
    confs = [static_conf(lab, 100 + i, hostReach=True) for i in range(2 * PODS)]
    results: dict[int, dict] = {}

    def add(i: int) -> None:
        results[i] = macvlan.add(confs[i], pods[i], container_id=f"cnt-c{i}")

    def delete(i: int) -> None:
        macvlan.ok("DEL", dict(confs[i], prevResult=results[i]), pods[i], container_id=f"cnt-c{i}")

    def expect(indices) -> None:
        assert host_routes(lab, shim) == sorted(lab.address(100 + i) for i in indices)
        assert [link["ifname"] for link in lab.node.links() if link["ifname"].startswith("mvh-")] == [shim]

    # The first PODS at once: one shim is made, whoever comes first.
    in_parallel(add, range(PODS))
    expect(range(PODS))
    # Half of them go while as many others come.
    in_parallel(lambda job: job[0](job[1]),
                [(delete, i) for i in range(PODS // 2)] + [(add, i) for i in range(PODS, PODS + PODS // 2)])
    expect(range(PODS // 2, PODS + PODS // 2))
    for i in (PODS // 2, PODS + PODS // 2 - 1):
        assert ping(lab.node, lab.address(100 + i)) and ping(pods[i], str(lab.node.address.ip))
    # All the rest at once: the last one takes the shim.
    in_parallel(delete, range(PODS // 2, PODS + PODS // 2))
    assert_no_shim(lab)

    # Each pod comes and goes while the others do the same: the shim is made and removed
    # again and again, and an ADD that succeeded has its route until its own DEL.
    def add_check_delete(i: int) -> None:
        add(i)
        assert lab.address(100 + i) in host_routes(lab, shim), i
        delete(i)

    in_parallel(add_check_delete, range(PODS, 2 * PODS))
    assert_no_shim(lab)
    assert [r for r in lab.node.routes(4) if r.get("dev", "").startswith("mvh-")] == []


def test_with_dhcp(lab, macvlan, dnsmasq, dhcp_daemon, pod):
    conf = dict(dhcp_conf(lab, dhcp_daemon), hostReach=True)
    result = macvlan.add(conf, pod)
    pod_ip = ip_of(result)
    assert host_routes(lab, shim_name(lab)) == [pod_ip]
    assert_reach(lab, pod, pod_ip, True)
    macvlan.ok("CHECK", dict(conf, prevResult=result), pod)
    macvlan.ok("DEL", dict(conf, prevResult=result), pod)
    assert_no_shim(lab)
    assert_only_lo(pod)


def test_with_dhcp_a_daemon_restart_keeps_the_route(lab, macvlan, dnsmasq, start_daemon, pod):
    daemon = start_daemon()
    conf = dict(dhcp_conf(lab, daemon), hostReach=True)
    pod_ip = ip_of(macvlan.add(conf, pod))
    daemon.stop()
    start_daemon()
    assert host_routes(lab, shim_name(lab)) == [pod_ip]
    assert ping(lab.node, pod_ip, timeout=1)


def test_the_route_follows_a_lease_moved_to_another_address(lab, macvlan, start_daemon, pod):
    """The server is swapped for one with another pool that NAKs the old lease at the
    renewal (T1 = 4 s): the daemon moves the pod, and the node's route with it."""
    old_server = lab.start_dhcpd(lease_time=8)
    daemon = start_daemon()
    conf = dict(dhcp_conf(lab, daemon), hostReach=True)
    result = macvlan.add(conf, pod)
    old_ip = ip_of(result)
    assert host_routes(lab, shim_name(lab)) == [old_ip]
    old_server.stop()
    new_pool = (lab.address(200), lab.address(209))
    lab.start_dnsmasq(pool=new_pool, extra=["--dhcp-authoritative"])

    def moved():
        cidrs = pod.cidrs("eth0")
        return len(cidrs) == 1 and cidrs[0].split("/")[0] != old_ip and cidrs[0].split("/")[0]

    new_ip = wait_until(moved, 15, "the pod to move to the new server's address")
    wait_until(lambda: host_routes(lab, shim_name(lab)) == [new_ip], 3, "the route to follow the pod")
    assert f"the node's hostReach route to the pod moved from {old_ip} to {new_ip}" in daemon.log(), daemon.log()
    assert ping(lab.node, new_ip, timeout=1) and tcp_reaches(lab, lab.node, pod, new_ip)
    # DEL with the runtime's stale prevResult still removes the route and the shim.
    macvlan.ok("DEL", dict(conf, prevResult=result), pod)
    assert_no_shim(lab)


def test_a_link_of_the_shims_name_is_left_alone(lab, macvlan, pod):
    lab.node.ip("link", "add", shim_name(lab), "type", "bridge")
    run = macvlan("ADD", static_conf(lab, 93, hostReach=True), pod)
    assert_cni_error(run, 7, f"{shim_name(lab)} in the node's namespace is not the shim of master",
                     "it is a bridge link", "rename or delete")
    assert_only_lo(pod)
    assert lab.node.link(shim_name(lab))["linkinfo"]["info_kind"] == "bridge"


def test_a_pod_off_the_nodes_subnet_needs_a_route_to_the_node(lab, macvlan):
    """The node speaks to its pods from its address on the master: a pod on another
    subnet answers through its gateway, off the segment, unless a route sends the
    node's address out of its interface on-link ("gw": "0.0.0.0")."""
    node_ip = str(lab.node.address.ip)
    without, with_route = lab.add_pod(), lab.add_pod()
    conf = macvlan_conf(lab, hostReach=True, ipam=static_ipam([{"address": "192.168.77.5/24"}]))
    macvlan.add(conf, without, container_id="cnt-without")
    assert not ping(lab.node, "192.168.77.5", timeout=1)

    routed = macvlan_conf(lab, hostReach=True, ipam=static_ipam(
        [{"address": "192.168.77.6/24"}], routes=[{"dst": f"{node_ip}/32", "gw": "0.0.0.0"}]))
    macvlan.add(routed, with_route, container_id="cnt-with")
    assert ping(lab.node, "192.168.77.6") and ping(with_route, node_ip)
