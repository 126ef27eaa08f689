"""Smoke tests of the lab itself: topology, the DHCP server helpers, running a
plugin, and that teardown (normal, after a failure, after a signal) leaves
nothing behind."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lab import (IFNAMSIZ_MAX, Lab, Reservation, netns_inode_of_pid, netns_list, pending_cleanups,
                 process_running, run, wait_until)

pytestmark = pytest.mark.usefixtures("require_root")  # every test builds namespaces
HERE = Path(__file__).resolve().parent
SERVERS = ["dnsmasq", "dhcpd", "udhcpd"]


def start_server(lab, kind, **options):
    return getattr(lab, f"start_{kind}")(**options)


def ping(netns, address):
    return netns.exec(["ping", "-c", "1", "-W", "2", address], check=False).returncode == 0


def root_netns_link_names():
    return [link["ifname"] for link in json.loads(run(["ip", "-j", "link", "show"]).stdout)]


def assert_lab_gone(names, pids, workdir, lab_id):
    assert not set(names) & set(netns_list()), netns_list()
    assert not [pid for pid in pids if process_running(pid)]
    assert not workdir.exists()
    assert not [name for name in root_netns_link_names() if lab_id in name]
    assert not [what for what in pending_cleanups() if lab_id in what]


# --- topology


def test_names_are_unique_and_fit_interface_names(lab):
    names = [lab.lan_if, lab.node.master, lab.node.lan_port]
    assert all(0 < len(name) <= IFNAMSIZ_MAX for name in names), names
    assert all(name.startswith(lab.id) for name in names + [ns.name for ns in lab.namespaces()])
    with Lab() as other:
        assert other.id != lab.id
        assert other.network != lab.network


def test_lan_and_node_reach_each_other(lab):
    assert lab.node.cidrs(lab.node.master) == [str(lab.node.address)]
    assert lab.lan.cidrs(lab.lan_if) == [f"{lab.router}/24"]
    assert ping(lab.node, lab.router)
    assert ping(lab.lan, str(lab.node.address.ip))
    default = [r for r in lab.node.routes() if r["dst"] == "default"]
    assert default and default[0]["gateway"] == lab.router and default[0]["dev"] == lab.node.master


def test_lab_is_sealed_off_from_the_host(lab):
    # Nothing of the lab in the host namespace, and no link leads out of it:
    # every link is loopback, the bridge, or a veth whose peer is in a lab netns.
    assert not [name for name in root_netns_link_names() if lab.id in name]
    assert [r for r in lab.lan.routes() if r["dst"] == "default"] == []
    lab_netns = {ns.name for ns in lab.namespaces()}
    for ns in lab.namespaces():
        assert ns.inode() != os.stat("/proc/self/ns/net").st_ino
        peer_netns = {entry["nsid"]: entry.get("name") for entry in ns.ip_json("netns", "list-id")}
        for link in ns.links():
            if link["ifname"] == "lo" or (lab.bridge and link["ifname"] == lab.lan_if):
                continue
            assert link["ifname"].startswith(lab.id)
            assert link["linkinfo"]["info_kind"] == "veth", link
            assert peer_netns.get(link.get("link_netnsid")) in lab_netns, (ns.name, link, peer_netns)


@pytest.mark.lab(nodes=2, hairpin=True)
def test_bridged_nodes_with_hairpin(lab):
    assert lab.bridge
    ports = {link["ifname"]: link for link in lab.lan.links() if link.get("master") == lab.lan_if}
    assert set(ports) == {node.lan_port for node in lab.nodes}
    for port in ports.values():
        assert port["linkinfo"]["info_slave_data"]["hairpin"] is True, port
    assert ping(lab.nodes[0], str(lab.nodes[1].address.ip))
    assert ping(lab.nodes[1], lab.router)


def test_pod_on_a_macvlan_reaches_the_router(lab):
    pod = lab.add_pod()
    lab.add_macvlan(pod, "eth0")
    pod.add_address("eth0", f"{lab.address(90)}/24")
    link = pod.link("eth0")
    assert link["linkinfo"]["info_kind"] == "macvlan"
    assert link["linkinfo"]["info_data"]["mode"] == "bridge"
    assert ping(pod, lab.router)


# --- the DHCP server helpers


@pytest.mark.parametrize("kind", SERVERS)
def test_dhcp_server_serves_a_lease_and_stops_cleanly(lab, kind):
    server = start_server(lab, kind, lease_time=600, dns_servers=[lab.address(53)], domain="lab.test",
                          classless_routes=[("10.250.0.0/16", lab.address(254))])
    assert server.listening()
    # It runs in the lan netns, not in the host's.
    assert netns_inode_of_pid(server.pid) == lab.lan.inode()

    pod = lab.add_pod()
    lab.add_macvlan(pod, "eth0")
    mac = pod.link("eth0")["address"]
    got = lab.dhcp_client_lease(pod, "eth0", hostname="pod1", client_id=b"\x00cnt-c1/net/eth0",
                                request_options=["staticroutes"])
    assert got["ip"] in {lab.address(n) for n in range(100, 200)}, got
    assert (got["router"], got["dns"], got["domain"]) == (lab.router, lab.address(53), "lab.test")
    assert got["staticroutes"] == f"10.250.0.0/16 {lab.address(254)}"
    assert got["lease"] == "600"

    lease = wait_until(lambda: server.lease_for(ip=got["ip"]), 5, f"{kind} to record the lease")
    assert lease.mac == mac
    assert lease.hostname == "pod1"
    assert abs(lease.expires - (time.time() + 600)) < 60, lease
    if kind != "udhcpd":  # busybox keeps no client identifier in its lease file
        assert lease.client_id == "00:" + b"cnt-c1/net/eth0".hex(":")

    pid = server.pid
    server.stop()
    assert not server.process.killed, f"{kind} needed SIGKILL"
    assert not process_running(pid)


@pytest.mark.parametrize("kind", SERVERS)
def test_dhcp_server_reservation_by_mac(lab, kind):
    mac = "02:63:6e:74:00:01"
    start_server(lab, kind, reservations=[Reservation(ip=lab.address(42), mac=mac)])
    pod = lab.add_pod()
    lab.add_macvlan(pod, "eth0", mac=mac)
    assert lab.dhcp_client_lease(pod, "eth0")["ip"] == lab.address(42)


@pytest.mark.parametrize("kind", ["dnsmasq", "dhcpd"])
def test_dhcp_server_reservation_by_client_id(lab, kind):
    client_id = b"\x00cnt-c2/net/eth0"  # the dhcp plugin's default identity
    start_server(lab, kind, reservations=[Reservation(ip=lab.address(43), client_id=client_id)])
    pod = lab.add_pod()
    lab.add_macvlan(pod, "eth0")
    assert lab.dhcp_client_lease(pod, "eth0", client_id=client_id)["ip"] == lab.address(43)


def test_dnsmasq_fixture(lab, dnsmasq):
    assert dnsmasq.listening()
    assert dnsmasq.interface == lab.lan_if
    assert dnsmasq.pool == (lab.address(100), lab.address(199))
    assert "--no-ping" in dnsmasq.process.argv
    assert dnsmasq.leases() == []


def test_dnsmasq_refuses_leases_it_would_silently_lengthen(lab):
    with pytest.raises(ValueError):
        lab.start_dnsmasq(lease_time=30)


# --- running a plugin


def test_run_plugin_sets_the_environment_like_a_runtime(lab):
    pod = lab.add_pod()
    probe = lab.workdir / "probe-plugin"
    # Echoes stdin on stdout and its netns and CNI_* variables on stderr.
    probe.write_text("#!/bin/sh\nreadlink /proc/self/ns/net >&2\nenv | grep ^CNI_ | sort >&2\ncat\n")
    probe.chmod(0o755)
    conf = {"cniVersion": "1.0.0", "name": "probe", "type": "probe"}

    run = lab.run_plugin(probe, "ADD", conf, netns=pod, ifname="eth0", container_id="cnt-c9",
                         cni_path=["/a", "/b"], args={"IgnoreUnknown": "1", "K8S_POD_NAME": "p"})
    assert run.code == 0, run
    assert run.output == conf
    netns_line, *variables = run.stderr.splitlines()
    assert netns_line == f"net:[{lab.node.inode()}]"
    assert variables == sorted([
        "CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAME=p", "CNI_COMMAND=ADD", "CNI_CONTAINERID=cnt-c9",
        "CNI_IFNAME=eth0", f"CNI_NETNS={pod.path}", "CNI_PATH=/a:/b",
    ])

    run = lab.run_plugin(probe, "DEL", conf, ifname="eth0", env_extra={"CNI_EXTRA": "x"})
    assert "CNI_NETNS" not in run.stderr and "CNI_EXTRA=x" in run.stderr


# --- teardown


def test_close_removes_namespaces_processes_and_files():
    lab = Lab(nodes=2)
    pods = [lab.add_pod(), lab.add_pod()]
    servers = [lab.start_dnsmasq(), lab.start_udhcpd()]
    sleeper = lab.start_process(["sleep", "600"], pods[0])
    names = [ns.name for ns in lab.namespaces()]
    pids = [s.pid for s in servers] + [sleeper.pid]
    assert set(names) <= set(netns_list())
    assert all(process_running(pid) for pid in pids)

    lab.close()
    assert_lab_gone(names, pids, lab.workdir, lab.id)


def test_close_runs_when_the_test_body_fails():
    with pytest.raises(RuntimeError, match="test body failed"):
        with Lab() as lab:
            server = lab.start_dhcpd()
            names, pids, workdir = [ns.name for ns in lab.namespaces()], [server.pid], lab.workdir
            raise RuntimeError("test body failed")
    assert_lab_gone(names, pids, workdir, lab.id)


def test_stop_escalates_to_sigkill(lab):
    stubborn = lab.start_process([sys.executable, "-c",
                                  "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                                  "print('ignoring TERM', flush=True); time.sleep(600)"], lab.node)
    stubborn.wait_for_log("ignoring TERM")
    assert stubborn.stop(timeout=0.2) == -signal.SIGKILL
    assert stubborn.killed


def test_processes_left_in_a_netns_are_stopped_when_it_is_deleted(lab):
    # Like a daemon a plugin started: not ours to wait for, but in our netns.
    pod = lab.add_pod()
    orphan = int(pod.exec(["sh", "-c", "sleep 600 >/dev/null 2>&1 & echo $!"]).stdout)
    assert process_running(orphan)
    pod.delete()
    wait_until(lambda: not process_running(orphan), 5, "the orphan to be gone")
    assert pod.name not in netns_list()


def default_signals() -> None:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


INTERRUPTED_RUN = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from lab import Lab, install_cleanup_handlers
install_cleanup_handlers()
lab = Lab()
pod = lab.add_pod()
server = lab.start_dnsmasq()
sleeper = lab.start_process(["sleep", "600"], pod)
print(json.dumps({"id": lab.id, "names": [ns.name for ns in lab.namespaces()],
                  "pids": [server.pid, sleeper.pid], "workdir": str(lab.workdir)}), flush=True)
time.sleep(600)
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name)
def test_interrupted_run_leaves_nothing_behind(require_root, sig):
    # With the signals at their defaults whatever this run inherited: under nohup, or
    # started in the background by a non-interactive shell, SIGHUP or SIGINT is ignored,
    # and a child that ignores it must not be mistaken for one that leaks.
    child = subprocess.Popen([sys.executable, "-c", INTERRUPTED_RUN, str(HERE)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True,
                             preexec_fn=default_signals)
    try:
        line = child.stdout.readline()  # printed once the lab is up
        assert line, f"the child failed to build its lab: {child.stderr.read()}"
        state = json.loads(line)
        assert set(state["names"]) <= set(netns_list())
        child.send_signal(sig)
        child.wait(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert_lab_gone(state["names"], state["pids"], Path(state["workdir"]), state["id"])
