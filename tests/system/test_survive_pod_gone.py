"""A pod whose network namespace is deleted without a DEL (a crashed runtime, a node
cleaned up by hand): the daemon hears of it from the kernel (inotify on the directory
of the namespace file; a scan looks at every lease within a minute for what no event
reports) and sends the DHCPRELEASE
through the node's master (the pod's interface went with its namespace), the server
frees the address, and the record and the `dhcp list` entry go. The reference keeps
renewing for the vanished pod until it is restarted."""

import pytest

from dhcp_fixtures import lease_active, lease_released
from survive_fixtures import log_lines, wait_for

pytestmark = pytest.mark.usefixtures("require_root")

NOTICE_S = 5  # an event: at once; slack for a loaded machine


def test_pod_netns_deleted_without_del_is_released(lab, survive, sniffer):
    server = lab.start_dnsmasq()
    daemon = survive.start("--log-level", "debug")
    conf = survive.conf("1.0.0")
    gone_pod, kept_pod = lab.add_pod(), lab.add_pod()
    gone = survive.add(conf, gone_pod, "cnt-vanish")["ips"][0]["address"].split("/")[0]
    kept_cidr = survive.add(conf, kept_pod, "cnt-stays")["ips"][0]["address"]
    kept = kept_cidr.split("/")[0]
    gone_mac = gone_pod.link("eth0")["address"]
    gone_key, kept_key = f"cnt-vanish/{conf['name']}/eth0", f"cnt-stays/{conf['name']}/eth0"
    assert set(survive.records()) == {gone_key, kept_key}
    wire_mark = len(sniffer.messages())

    gone_pod.delete()  # no DEL: the namespace and the macvlan in it just vanish

    # The kernel's event: the release is logged, reaches the server, and the record and
    # the list entry are gone.
    wait_for(lambda: log_lines(daemon.log(), gone_key, "released (its pod network namespace is gone)"),
             NOTICE_S, "the daemon to release the vanished pod's lease")
    log = daemon.log()
    event = log.find(f"namespace file {gone_pod.name} removed")
    assert 0 <= event < log.find(f"{gone_key}: released"), "released by the scan, not on the kernel's event"
    wait_for(lambda: lease_released(server, gone), 3, f"dnsmasq to drop the row of {gone}")
    assert f"DHCPRELEASE({lab.lan_if}) {gone} {gone_mac}" in server.log()
    release = [m for m in sniffer.messages()[wire_mark:] if m["type"] == "RELEASE"]
    # From the node's master (the pod's MAC is gone), still from the leased address to
    # the server, naming the pod's MAC in chaddr.
    assert [(m["chaddr"], m["ciaddr"], m["src"], m["dst"]) for m in release] == \
        [(gone_mac, gone, gone, lab.router)], release
    assert list(survive.records()) == [kept_key]
    assert [e["containerID"] for e in daemon.list()] == ["cnt-stays"]

    # The other pod is untouched.
    assert lease_active(server, kept)
    assert kept_pod.cidrs("eth0") == [kept_cidr]
    assert daemon.lease("cnt-stays", conf["name"])["state"] == "BOUND"


def test_pod_netns_deleted_while_the_daemon_was_down_is_released_at_start(lab, survive, pod, sniffer):
    server = lab.start_dnsmasq()
    survive.start()
    conf = survive.conf("1.0.0")
    address = survive.add(conf, pod, "cnt-went")["ips"][0]["address"].split("/")[0]
    key = f"cnt-went/{conf['name']}/eth0"
    survive.crash()
    pod.delete()

    daemon = survive.restart()
    assert log_lines(daemon.log(), key, "released (its pod went away while the daemon was down)"), daemon.log()
    assert daemon.list() == [] and survive.records() == {}
    wait_for(lambda: lease_released(server, address), 5, f"dnsmasq to drop the row of {address}")
    assert [m["ciaddr"] for m in sniffer.messages("RELEASE")] == [address]
