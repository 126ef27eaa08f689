"""The CNI commands that ask the daemon about leases, while leases are lost and the
daemon is down: CHECK (DHCP.Check: passes on a good lease, fails on a lost or released
one and on a prevResult naming another address, never creates a lease), GC (releases
this network's leases not in cni.dev/valid-attachments, nothing else), STATUS (code 50
when the daemon cannot be reached: no socket, or the stale socket of a killed daemon),
and DEL with the daemon unreachable (succeeds with a warning). The reference's CHECK
calls Allocate and may acquire a new lease; it has no STATUS or GC."""

import time

import pytest

from dhcp_fixtures import lease_active, lease_released
from macvlan_helpers import assert_cni_error
from survive_fixtures import log_lines, start_nak_only_dnsmasq, wait_for

pytestmark = pytest.mark.usefixtures("require_root")

LEASE_S = 8  # dhcpd, for the lost lease: T1 4 s
# STATUS and GC are about the network, not a container: libcni sets none of these.
NO_CONTAINER = dict(container_id=None, ifname=None)


def with_prev(conf, result):
    return {**conf, "prevResult": result}


def other_address(cidr):
    """The same prefix, another host in it."""
    address, _, prefix = cidr.partition("/")
    head, _, last = address.rpartition(".")
    return f"{head}.{int(last) % 250 + 2}/{prefix}"


# --------------------------------------------------------------------------
# CHECK


def test_check_passes_on_a_good_lease_and_names_both_addresses_on_a_mismatch(lab, survive, pod):
    lab.start_dnsmasq()
    survive.start()
    conf = survive.conf("1.0.0")
    result = survive.add(conf, pod, "cnt-check")
    cidr = result["ips"][0]["address"]

    # The whole chain (macvlan checks its link, then asks IPAM) and the IPAM alone.
    survive.macvlan.ok("CHECK", with_prev(conf, result), pod, container_id="cnt-check")
    run = survive.ipam("CHECK", with_prev(conf, result), pod, container_id="cnt-check")
    assert (run.code, run.stdout) == (0, ""), run

    # prevResult says another address than the lease: an error naming both.
    wrong = other_address(cidr)
    stale = {**result, "ips": [{**result["ips"][0], "address": wrong}]}
    run = survive.ipam("CHECK", with_prev(conf, stale), pod, container_id="cnt-check")
    assert_cni_error(run, 103, cidr, wrong)


def test_check_fails_while_a_lost_lease_is_being_reacquired(lab, survive, pod):
    first = lab.start_dhcpd(lease_time=LEASE_S)
    daemon = survive.start()
    conf = survive.conf("1.0.0")
    result = survive.add(conf, pod, "cnt-lost")
    added_at = time.monotonic()
    cidr = result["ips"][0]["address"]
    survive.macvlan.ok("CHECK", with_prev(conf, result), pod, container_id="cnt-lost")
    first.stop()
    # The new server NAKs the renewal at T1 and has nothing to offer: the daemon goes
    # back to DHCPDISCOVER and keeps trying.
    start_nak_only_dnsmasq(lab)
    wait_for(lambda: log_lines(daemon.log(), "cnt-lost", "lost: DHCPNAK"), LEASE_S, "the renewal to be NAKed")
    # Its INIT-REBOOT for the same address NAKed too, it is back to DHCPDISCOVER.
    wait_for(lambda: _selecting(daemon, conf), 5, "the daemon to be looking for a new lease")

    # RFC 2131 4.4.5 (state diagram: DHCPNAK / "Halt network"): the refused address is
    # off the pod at once, not when its lease would have ended.
    assert pod.cidrs("eth0") == [], pod.addresses("eth0")
    assert log_lines(daemon.log(), "cnt-lost", f"removed {cidr} from eth0"), daemon.log()
    assert time.monotonic() - added_at < LEASE_S

    run = survive.ipam("CHECK", with_prev(conf, result), pod, container_id="cnt-lost")
    assert_cni_error(run, 103, "cnt-lost", "no valid lease: the client is in SELECTING")
    # Through macvlan too: the runtime learns the pod's network is not as ADD left it.
    assert_cni_error(survive.cni("CHECK", with_prev(conf, result), pod, container_id="cnt-lost"), 103)


def test_check_after_del_and_for_an_unknown_attachment_fails_and_creates_nothing(lab, survive, pod, sniffer):
    server = lab.start_dnsmasq()
    daemon = survive.start()
    conf = survive.conf("1.0.0")
    result = survive.add(conf, pod, "cnt-was")
    address = result["ips"][0]["address"].split("/")[0]
    mac = pod.link("eth0")["address"]
    survive.macvlan.ok("DEL", conf, pod, container_id="cnt-was")
    assert daemon.list() == []

    run = survive.ipam("CHECK", with_prev(conf, result), pod, container_id="cnt-was")
    assert_cni_error(run, 103, "holds no lease")
    wait_for(lambda: sniffer.messages("RELEASE", chaddr=mac), 5, "the DEL's DHCPRELEASE in the sniffer's log")
    wire_mark = len(sniffer.messages())

    # An attachment the daemon never saw, in a pod that has the interface: CHECK must
    # not acquire anything (the reference's CHECK calls Allocate).
    other = lab.add_pod()
    lab.add_macvlan(other, "eth0")
    fake = {"cniVersion": "1.0.0", "ips": [{"address": f"{lab.address(150)}/24", "gateway": lab.router}]}
    run = survive.ipam("CHECK", with_prev(conf, fake), other, container_id="cnt-never")
    assert_cni_error(run, 103, "holds no lease")
    assert daemon.list() == [] and daemon.status()["leases"] == 0
    assert survive.records() == {}
    assert sniffer.messages()[wire_mark:] == []
    assert lease_released(server, address) and server.leases() == []


def _selecting(daemon, conf):
    entry = daemon.lease("cnt-lost", conf["name"])
    return entry if entry and entry["state"] == "SELECTING" else None


# --------------------------------------------------------------------------
# GC


def test_gc_releases_what_the_runtime_no_longer_lists(lab, survive):
    server = lab.start_dnsmasq()
    daemon = survive.start()
    net_a = survive.conf("1.1.0", name=f"{lab.id}-a")
    net_b = survive.conf("1.1.0", name=f"{lab.id}-b")
    attachments = {  # container id -> (network, pod)
        "cnt-a-keep": (net_a, lab.add_pod()),
        "cnt-a-drop": (net_a, lab.add_pod()),
        "cnt-b-other": (net_b, lab.add_pod()),
    }
    addresses = {}
    for cid, (conf, pod) in attachments.items():
        addresses[cid] = survive.add(conf, pod, cid)["ips"][0]["address"].split("/")[0]
    assert len(survive.records()) == 3

    # GC of network a: only cnt-a-keep is still in use. (cnt-b-other is network b's,
    # and b's GC is another call: it must not be touched.)
    gc_conf = {**net_a, "cni.dev/valid-attachments": [{"containerID": "cnt-a-keep", "ifname": "eth0"}]}
    survive.macvlan.ok("GC", gc_conf, None, **NO_CONTAINER)

    wait_for(lambda: lease_released(server, addresses["cnt-a-drop"]), 5, "dnsmasq to free the dropped lease")
    assert log_lines(daemon.log(), f"cnt-a-drop/{net_a['name']}/eth0", "released (GC"), daemon.log()
    held = {(e["containerID"], e["network"]) for e in daemon.list()}
    assert held == {("cnt-a-keep", net_a["name"]), ("cnt-b-other", net_b["name"])}, held
    assert set(survive.records()) == {f"cnt-a-keep/{net_a['name']}/eth0", f"cnt-b-other/{net_b['name']}/eth0"}
    assert lease_active(server, addresses["cnt-a-keep"]) and lease_active(server, addresses["cnt-b-other"])

    # Network b's own GC, listing its attachment: nothing more goes.
    gc_b = {**net_b, "cni.dev/valid-attachments": [{"containerID": "cnt-b-other", "ifname": "eth0"}]}
    survive.macvlan.ok("GC", gc_b, None, **NO_CONTAINER)
    assert len(daemon.list()) == 2 and len(server.leases()) == 2


# --------------------------------------------------------------------------
# STATUS and DEL with the daemon unreachable


def status(survive, conf):
    """STATUS through macvlan and through the dhcp plugin alone: both must agree."""
    chain = survive.cni("STATUS", conf, None, **NO_CONTAINER)
    alone = survive.ipam("STATUS", conf, None, **NO_CONTAINER)
    assert chain.code == alone.code, (chain, alone)
    if alone.output is not None:  # macvlan passes the IPAM's error on, its message prefixed
        assert chain.output["code"] == alone.output["code"], (chain, alone)
        assert chain.output["msg"].endswith(alone.output["msg"]), (chain, alone)
    return alone


def test_status_follows_the_daemon(lab, survive):
    conf = survive.conf("1.1.0")

    # No daemon ever started: no socket file.
    assert not survive.socket_path.exists()
    assert_cni_error(status(survive, conf), 50, str(survive.socket_path))

    survive.start()
    run = status(survive, conf)
    assert (run.code, run.stdout) == (0, ""), run

    # Killed: the socket file stays, nobody listens.
    survive.crash()
    assert_cni_error(status(survive, conf), 50, str(survive.socket_path))

    survive.restart()
    run = status(survive, conf)
    assert (run.code, run.stdout) == (0, ""), run


def test_del_with_no_daemon_succeeds_with_a_warning(lab, survive, pod):
    lab.start_dnsmasq()
    survive.start()
    conf = survive.conf("1.0.0")
    result = survive.add(conf, pod, "cnt-del")
    survive.crash()

    # The IPAM alone, as macvlan runs it: exit 0, nothing on stdout, a warning naming
    # the socket on stderr. Twice: DEL is idempotent.
    for _ in range(2):
        run = survive.ipam("DEL", with_prev(conf, result), pod, container_id="cnt-del")
        assert (run.code, run.stdout) == (0, ""), run
        assert "dhcp: warning:" in run.stderr and str(survive.socket_path) in run.stderr, run.stderr
    # And the whole chain: the link goes.
    run = survive.macvlan.ok("DEL", with_prev(conf, result), pod, container_id="cnt-del")
    assert "dhcp: warning:" in run.stderr, run.stderr
    assert pod.link("eth0") is None
