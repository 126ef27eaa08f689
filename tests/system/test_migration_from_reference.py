"""Replacing the reference on a live node (docs/migration.md): pods created under the
reference plugins and daemon, then the reference daemon stopped and ours started on
the same socket, with our plugins in the bin dir. The reference's leases live only in
its memory, so ours has no record of them; a DEL of such a pod must still free the
lease at the server. Ours asks the server to confirm the pod's address (INIT-REBOOT
with the client identifier the reference used, the same as ours), learns the server
that holds it, and releases it. And the pods that stay must not go without renewals:
at start, ours adopts the leases it finds in the runtime's CNI result cache (libcni's,
/var/lib/cni/results; written here as libcni writes it) and renews them."""

import base64
import json

import pytest

from dhcp_fixtures import dhcp_conf, lease_active, lease_released
from lab import run_plugin, wait_until
from survive_fixtures import INFINITE_LIFETIME, valid_lft

pytestmark = pytest.mark.usefixtures("require_root")


def start_reference_daemon(lab, reference_plugins, socket_path):
    daemon = lab.start_process([reference_plugins / "dhcp", "daemon", "-socketpath", socket_path], lab.node,
                               name="reference-daemon")
    wait_until(socket_path.exists, 10, "the reference daemon's socket")
    return daemon


def test_pods_of_the_reference_daemon_are_released_by_ours(lab, reference_plugins, start_daemon, macvlan_bin,
                                                            cni_bin_dir):
    dnsmasq = lab.start_dnsmasq()
    socket_path = lab.workdir / "dhcp.sock"
    conf = dhcp_conf(lab, None, "0.4.0")
    conf["ipam"]["daemonSocketPath"] = str(socket_path)
    reference = start_reference_daemon(lab, reference_plugins, socket_path)
    pods = []
    for i in range(2):
        pod = lab.add_pod()
        add = run_plugin(reference_plugins / "macvlan", "ADD", conf, netns=pod, ifname="eth0",
                         container_id=f"cnt-ref{i}", cni_path=reference_plugins, node=lab.node)
        assert add.code == 0, add
        pods.append((pod, f"cnt-ref{i}", add.output))

    # The swap: the reference daemon goes (its leases stay at the server), ours comes.
    reference.stop()
    addresses = [result["ips"][0]["address"].split("/")[0] for _, _, result in pods]
    assert all(lease_active(dnsmasq, ip) for ip in addresses), dnsmasq.leases()
    ours = start_daemon(socket_path=socket_path, state_dir=lab.workdir / "dhcp-state")
    assert ours.list() == []

    # The first DEL carries prevResult (0.4.0); the second none, as a runtime that
    # lost its cache sends it: the address is read off the pod's interface.
    for (pod, cid, result), with_prev in zip(pods, (True, False)):
        del_conf = dict(conf, prevResult=result) if with_prev else conf
        run = run_plugin(macvlan_bin, "DEL", del_conf, netns=pod, ifname="eth0", container_id=cid,
                         cni_path=cni_bin_dir, node=lab.node)
        assert run.code == 0, run
        assert pod.link("eth0") is None
    for ip in addresses:
        assert f"asking for {ip} again, a lease this daemon has no record of" in ours.log(), ours.log()
        wait_until(lambda: lease_released(dnsmasq, ip), 10, f"dnsmasq to see {ip} released")
    assert ours.list() == []
    assert not any((lab.workdir / "dhcp-state").glob("*.json"))


def write_cni_cache(cache_dir, conf, container_id, pod, result):
    """One attachment in libcni's cache format (kind cniCacheV1), as containerd, CRI-O
    and podman's CNI backend write it after an ADD: the configuration list as Go
    encodes a []byte (base64)."""
    plugin = {k: v for k, v in conf.items() if k not in ("cniVersion", "name")}
    conflist = {"cniVersion": conf["cniVersion"], "name": conf["name"], "plugins": [plugin]}
    entry = {"kind": "cniCacheV1", "containerId": container_id,
             "config": base64.b64encode(json.dumps(conflist).encode()).decode(), "ifName": "eth0",
             "networkName": conf["name"], "netns": pod.path,
             "cniArgs": [["IgnoreUnknown", "1"], ["K8S_POD_NAMESPACE", "default"], ["K8S_POD_NAME", container_id]],
             "result": result}
    results = cache_dir / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / f"{conf['name']}-{container_id}-eth0").write_text(json.dumps(entry))


LEASE_S = 20  # dhcpd's: T1 at 10 s


def test_pods_of_the_reference_daemon_are_adopted_and_renewed(lab, reference_plugins, start_daemon, macvlan_bin,
                                                              cni_bin_dir):
    server = lab.start_dhcpd(lease_time=LEASE_S)
    socket_path = lab.workdir / "dhcp.sock"
    cache_dir = lab.workdir / "cni-cache"  # where the lab's daemons look
    conf = dhcp_conf(lab, None, "1.0.0")
    conf["ipam"]["daemonSocketPath"] = str(socket_path)
    reference = start_reference_daemon(lab, reference_plugins, socket_path)
    pods = {}
    for cid in ("cnt-adopt0", "cnt-adopt1", "cnt-other-daemon", "cnt-gone"):
        pod = lab.add_pod()
        add = run_plugin(reference_plugins / "macvlan", "ADD", conf, netns=pod, ifname="eth0", container_id=cid,
                         cni_path=reference_plugins, node=lab.node)
        assert add.code == 0, add
        pods[cid] = (pod, add.output["ips"][0]["address"])
        cached_conf = json.loads(json.dumps(conf))
        if cid == "cnt-other-daemon":  # another daemon's network: not ours to adopt
            cached_conf["ipam"]["daemonSocketPath"] = str(lab.workdir / "other.sock")
        write_cni_cache(cache_dir, cached_conf, cid, pod, add.output)
    pods.pop("cnt-gone")[0].delete()  # deleted without a DEL while no daemon ran

    reference.stop()
    ends_before = {cid: server.lease_for(ip=cidr.split("/")[0]).expires for cid, (_, cidr) in pods.items()}
    ours = start_daemon(socket_path=socket_path, state_dir=lab.workdir / "dhcp-state")
    assert "adopting 2 leases found in" in ours.log(), ours.log()
    assert sorted(e["containerID"] for e in ours.list()) == ["cnt-adopt0", "cnt-adopt1"]

    # Renewed by ours from now on: dhcpd moves each adopted lease's end forward, and the
    # pod's address (forever, as the reference set it) takes the lease's lifetime.
    def renewed() -> bool:
        leases = {lease.ip: lease for lease in server.leases()}
        return all(leases[pods[cid][1].split("/")[0]].expires > ends_before[cid] for cid in ("cnt-adopt0", "cnt-adopt1"))

    wait_until(renewed, LEASE_S + 5, "dhcpd to see the adopted leases renewed")
    for cid in ("cnt-adopt0", "cnt-adopt1"):
        pod, cidr = pods[cid]
        lifetime = valid_lft(pod, cidr)
        assert lifetime is not None and lifetime <= LEASE_S, (cid, lifetime)
    # The other daemon's pod was not touched: its address keeps the reference's forever.
    pod, cidr = pods["cnt-other-daemon"]
    assert valid_lft(pod, cidr) == INFINITE_LIFETIME

    # An adopted lease is ours like any other: a DEL releases it at the server.
    pod, cidr = pods["cnt-adopt0"]
    run = run_plugin(macvlan_bin, "DEL", conf, netns=pod, ifname="eth0", container_id="cnt-adopt0",
                     cni_path=cni_bin_dir, node=lab.node)
    assert run.code == 0, run
    wait_until(lambda: lease_released(server, cidr.split("/")[0]), 10, "dhcpd to see the adopted lease released")
    assert [e["containerID"] for e in ours.list()] == ["cnt-adopt1"]
