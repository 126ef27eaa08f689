"""Mid-upgrade a node may run our dhcp plugin against the reference plugins' daemon,
or the reference plugin against ours: both binaries are named dhcp. Each side then
says which is which and what to do, not "the answer is not JSON"."""

import pytest

from lab import run_plugin, wait_until

pytestmark = pytest.mark.usefixtures("require_root")


def ipam_conf(socket_path):
    return {"cniVersion": "0.4.0", "name": "mixed", "type": "dhcp",
            "ipam": {"type": "dhcp", "daemonSocketPath": str(socket_path)}}


def test_the_reference_plugin_calling_our_daemon_is_told_what_it_met(lab, dhcp_daemon, reference_plugins):
    pod = lab.add_pod()
    run = run_plugin(reference_plugins / "dhcp", "ADD", ipam_conf(dhcp_daemon.socket_path), netns=pod,
                     ifname="eth0", container_id="cnt-mixed", cni_path=reference_plugins, node=lab.node)
    assert run.code != 0, run
    # Go's net/rpc shows the status line our daemon answers its CONNECT with.
    assert "the dhcp daemon of cni-lan, which the reference plugins' dhcp plugin cannot call" in run.output["msg"], run
    assert "put cni-lan's dhcp plugin in the CNI bin directory" in run.output["msg"], run
    assert "spoke Go net/rpc" in dhcp_daemon.log(), dhcp_daemon.log()
    assert dhcp_daemon.alive() and dhcp_daemon.status()["ready"]


def test_our_plugin_calling_the_reference_daemon_is_told_what_it_met(lab, dhcp_bin, reference_plugins):
    socket_path = lab.workdir / "reference-dhcp.sock"
    lab.start_process([reference_plugins / "dhcp", "daemon", "-socketpath", socket_path], lab.node,
                      name="reference-daemon")
    wait_until(socket_path.exists, 10, "the reference daemon's socket")
    pod = lab.add_pod()
    conf = ipam_conf(socket_path)

    run = run_plugin(dhcp_bin, "ADD", conf, netns=pod, ifname="eth0", container_id="cnt-mixed",
                     cni_path=reference_plugins, node=lab.node)
    assert run.code == 1 and run.output["code"] == 105, run
    assert "answers HTTP (HTTP/1.1 400 Bad Request): it is the reference plugins' daemon" in run.output["msg"], run
    assert "run this plugin's own `dhcp daemon`" in run.output["details"], run

    # A DEL must not leave the pod in Terminating: it succeeds, and says whose lease stays.
    run = run_plugin(dhcp_bin, "DEL", conf, netns=pod, ifname="eth0", container_id="cnt-mixed",
                     cni_path=reference_plugins, node=lab.node)
    assert run.code == 0, run
    assert "reference plugins' daemon" in run.stderr and "keeps this lease until it ends" in run.stderr, run.stderr
