"""When no lease can be had: an exhausted pool fails within the network's ipam.timeout
with a message that says what the wire saw and where (the reference's "no more
tries" says neither), and leaves no link and no lease behind. A daemon that is not
running fails ADD with how to start it, and does not block DEL."""

import time

import pytest

from dhcp_fixtures import dhcp_conf, socket_accepts
from macvlan_helpers import assert_cni_error, assert_only_lo, macvlan  # noqa: F401

pytestmark = pytest.mark.usefixtures("require_root")


def test_pool_exhausted_fails_within_the_timeout_and_leaves_nothing(lab, macvlan, dhcp_daemon):
    only = lab.address(150)
    server = lab.start_dnsmasq(pool=(only, only))
    conf = dhcp_conf(lab, dhcp_daemon, "1.0.0", timeout="3s")
    holder, late = lab.add_pod(), lab.add_pod()
    assert macvlan.add(conf, holder, container_id="cnt-holder")["ips"][0]["address"] == f"{only}/24"

    started = time.monotonic()
    run = macvlan("ADD", conf, late, container_id="cnt-late")
    elapsed = time.monotonic() - started

    error = assert_cni_error(run, 104, "DHCPOFFER", "DHCPDISCOVER", "eth0", late.path)
    assert 2.5 <= elapsed < 5, f"ADD failed after {elapsed:.1f} s with ipam.timeout 3s: {error}"
    # Where to look: the master and the client id the server saw.
    assert lab.node.master in error.get("details", ""), error
    assert "cnt-late/" in error.get("details", ""), error
    # A full pool is silent at dnsmasq: the error names it beside a missing server.
    assert "full pool" in error["details"] and "dhcp doctor" in error["details"], error
    # dnsmasq saw the DISCOVERs and had nothing to offer: the message told the truth.
    assert "no address available" in server.log()

    # Nothing left behind: no link in the pod, no entry in the daemon; the holder keeps its lease.
    assert_only_lo(late)
    held = dhcp_daemon.list()
    assert [(e["containerID"], e["state"], e["address"]) for e in held] == \
        [("cnt-holder", "BOUND", f"{only}/24")], held
    assert [lease.ip for lease in server.leases()] == [only]
    assert "cnt-late" in dhcp_daemon.log()  # the daemon logs the failure too

    # DEL of the failed attachment is fine (the runtime sends it after a failed ADD).
    macvlan.ok("DEL", conf, late, container_id="cnt-late")
    macvlan.ok("DEL", conf, holder, container_id="cnt-holder")


def test_daemon_unreachable(lab, macvlan, pod):
    lab.start_dnsmasq()
    socket_path = lab.workdir / "no-daemon" / "dhcp.sock"
    conf = dhcp_conf(lab, None, "1.0.0", daemonSocketPath=str(socket_path))

    run = macvlan("ADD", conf, pod)
    error = assert_cni_error(run, 105, str(socket_path), "dhcp daemon")
    # How to get one: the command and the config key.
    assert "dhcp daemon" in error["details"] and "daemonSocketPath" in error["details"], error
    assert_only_lo(pod)

    # DEL must not leave the pod stuck in Terminating: success, with a warning on stderr.
    run = macvlan.ok("DEL", conf, pod)
    assert "warning" in run.stderr and str(socket_path) in run.stderr, run.stderr


def test_daemon_unreachable_default_socket_is_named(lab, dhcp_bin, pod):
    # No daemonSocketPath: the message names the default path. Run as the IPAM plugin
    # directly, so nothing touches /run/cni: if a daemon happens to run on this host,
    # the test is skipped rather than asking it for a lease.
    if socket_accepts("/run/cni/dhcp.sock"):
        pytest.skip("a dhcp daemon serves /run/cni/dhcp.sock on this host")
    conf = dhcp_conf(lab, None, "1.0.0")
    run = lab.run_plugin(dhcp_bin, "ADD", conf, netns=pod, ifname="eth0", cni_path=[dhcp_bin.parent])
    assert_cni_error(run, 105, "/run/cni/dhcp.sock")
