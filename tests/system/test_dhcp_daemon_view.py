"""The seed's DaemonSet runs the daemon with hostPID and no mount of the host's
/var/run/netns, where containerd and CRI-O put the pods' namespaces: the daemon
then looks at the host's view through /proc/1/root. A daemon that cannot see them at
all is told so in those words, not blamed on CNI_NETNS. Here the daemon runs in a
mount namespace of its own whose /run/netns is an empty tmpfs, as in such a
container."""

import ipaddress

import pytest

from dhcp_fixtures import DhcpDaemon, dhcp_conf
from macvlan_helpers import macvlan  # noqa: F401

pytestmark = pytest.mark.usefixtures("require_root")


def script(path, text):
    path.write_text("#!/bin/sh\n" + text + "\n")
    path.chmod(0o755)
    return path


def blind_daemon(lab, dhcp_bin, *, host_pids):
    """Our daemon in a PID namespace of its own and a mount namespace whose /run/netns
    shows nothing. With host_pids, PID 1 of that PID namespace stays in the node's
    mount namespace, as the host's init does for a DaemonSet with hostPID (the
    machine's own PID 1 is not ours to look into here); without, PID 1 is the daemon,
    as in a pod without hostPID."""
    blind = script(lab.workdir / "blind", f'mount -t tmpfs blind /run/netns && mount -t proc proc /proc && '
                                          f'exec {dhcp_bin} "$@"')
    if host_pids:
        init = script(lab.workdir / "init", f'unshare -m --propagation private {blind} "$@"')
        wrapper = script(lab.workdir / "dhcp-hostpid", f'exec unshare -p -f --kill-child {init} "$@"')
    else:
        wrapper = script(lab.workdir / "dhcp-ownpid",
                         f'exec unshare -p -f --kill-child -m --propagation private {blind} "$@"')
    return DhcpDaemon(lab, wrapper, lab.workdir / "dhcp.sock", state_dir=lab.workdir / "dhcp-state")


def test_a_daemon_with_host_pids_sees_the_pods_through_proc_1_root(lab, macvlan, dhcp_bin):
    lab.start_dnsmasq()
    daemon = blind_daemon(lab, dhcp_bin, host_pids=True)
    pod = lab.add_pod()
    conf = dhcp_conf(lab, daemon, "1.0.0")

    result = macvlan.add(conf, pod, container_id="cnt-hostpid")

    assert ipaddress.ip_interface(result["ips"][0]["address"]).ip in lab.network, result
    entry = daemon.lease("cnt-hostpid", conf["name"])
    assert entry["state"] == "BOUND" and entry["netns"] == f"/proc/1/root{pod.path}", entry
    macvlan.ok("DEL", conf, pod, container_id="cnt-hostpid")
    assert daemon.list() == []


def test_a_daemon_that_cannot_see_the_pods_says_so(lab, macvlan, dhcp_bin):
    lab.start_dnsmasq()
    daemon = blind_daemon(lab, dhcp_bin, host_pids=False)
    pod = lab.add_pod()
    conf = dhcp_conf(lab, daemon, "1.0.0")

    run = macvlan("ADD", conf, pod, container_id="cnt-blind")

    assert run.code == 1 and run.output["code"] == 101, run
    assert f"the dhcp daemon cannot see the pod's network namespace {pod.path}, which the plugin sees" \
        in run.output["msg"], run
    assert "hostPID" in run.output["details"] and "HostToContainer" in run.output["details"], run
    assert pod.link("eth0") is None  # macvlan leaves nothing behind a failed IPAM
