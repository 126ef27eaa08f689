"""ipam.arpProbe: before a granted address goes on the pod, the daemon sends RFC 5227
ARP Probes for it from the pod's interface. A host that already has the address (a
static one inside the server's range, a firewalled host a server's ping check misses)
answers, and the daemon sends DHCPDECLINE and asks again after 10 s (RFC 2131 3.1.5),
so the pod never shares an address; once the address is taken, two ARP
Announcements (RFC 5227 2.3) refresh the neighbours' caches. The reference plugin
takes whatever it is given.

The host on the address is a macvlan on the same master (the pod's L2 segment); its
kernel answers the probes. An ARP sniffer on the server's side of the wire sees
what the pod sent."""

import json
import re
import threading
import time

import pytest

from dhcp_fixtures import dhcp_conf
from lab import Reservation, wait_until
from macvlan_helpers import assert_cni_error, assert_only_lo, macvlan  # noqa: F401

pytestmark = pytest.mark.usefixtures("require_root")

POD_MAC = "02:63:6e:74:a9:01"
SQUATTER_MAC = "02:63:6e:74:a9:99"
# RFC 2131 3.1.5: a client waits at least ten seconds after a DHCPDECLINE.
DECLINE_RESTART_S = 10


ARP_SNIFFER_SCRIPT = r"""
import json, socket, struct, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
s.bind((sys.argv[1], 0))
print("ready", flush=True)
while True:
    arp = s.recv(2048)[14:42]
    if len(arp) < 28:
        continue
    print(json.dumps({"t": time.monotonic(), "op": struct.unpack_from("!H", arp, 6)[0],
                      "sha": arp[8:14].hex(":"), "spa": socket.inet_ntoa(arp[14:18]),
                      "tpa": socket.inet_ntoa(arp[24:28])}), flush=True)
"""


class ArpSniffer:
    """The ARP packets on the lab's lan interface, with their CLOCK_MONOTONIC times."""

    def __init__(self, lab):
        self.process = lab.start_process(["/usr/bin/python3", "-u", "-c", ARP_SNIFFER_SCRIPT, lab.lan_if], lab.lan,
                                         name="arp-sniffer")
        self.process.wait_for_log("^ready$")

    def requests(self, sha, spa, tpa):
        found = [json.loads(line) for line in self.process.log().splitlines() if line.startswith("{")]
        return [p for p in found if (p["op"], p["sha"], p["spa"], p["tpa"]) == (1, sha, spa, tpa)]


def squat(lab, n):
    """A host on the pod's segment already using lab address n."""
    host = lab.add_pod()
    lab.add_macvlan(host, "eth0", mac=SQUATTER_MAC)
    host.add_address("eth0", f"{lab.address(n)}/24")
    return host


def probing_conf(lab, daemon, **ipam):
    conf = dhcp_conf(lab, daemon, "1.0.0", **{"arpProbe": "300ms", **ipam})
    conf["mac"] = POD_MAC
    return conf


def test_a_taken_address_is_declined_and_another_one_leased(lab, macvlan, pod, dhcp_daemon, sniffer):
    taken, free = lab.address(40), lab.address(41)
    squat(lab, 40)
    # The server reserves the taken address for the pod; its pool has one free address.
    server = lab.start_dnsmasq(pool=(free, free), reservations=[Reservation(ip=taken, mac=POD_MAC)])
    conf = probing_conf(lab, dhcp_daemon)

    started = time.monotonic()
    result = macvlan.add(conf, pod)
    elapsed = time.monotonic() - started

    assert result["ips"][0]["address"] == f"{free}/24", result
    assert pod.cidrs("eth0") == [f"{free}/24"]
    assert elapsed >= DECLINE_RESTART_S, elapsed
    # The wire: one DHCPDECLINE from the pod, and the server heard why.
    declines = sniffer.messages("DECLINE", chaddr=POD_MAC)
    assert len(declines) == 1 and declines[0]["ciaddr"] == "0.0.0.0", declines
    assert re.search(rf"DHCPDECLINE\(\S+\) {re.escape(taken)} {POD_MAC} in use by {SQUATTER_MAC}", server.log()), \
        server.log()
    # The daemon's log names the address, the holder and the interface.
    assert f"{taken} is in use by {SQUATTER_MAC} (it answered the ARP probe on eth0): declining it" in \
        dhcp_daemon.log(), dhcp_daemon.log()
    assert server.lease_for(ip=free).mac == POD_MAC
    macvlan.ok("DEL", conf, pod)


def test_when_every_address_is_taken_the_add_fails_saying_so(lab, macvlan, pod, dhcp_daemon):
    taken = lab.address(40)
    squat(lab, 40)
    # Only the reservation: after the DHCPDECLINE the server has nothing to offer.
    lab.start_dnsmasq(reservations_only=True, reservations=[Reservation(ip=taken, mac=POD_MAC)])
    conf = probing_conf(lab, dhcp_daemon, timeout="3s")

    run = macvlan("ADD", conf, pod)

    error = assert_cni_error(run, 104, "1 DHCPACK declined", f"{taken}: in use by {SQUATTER_MAC}", "eth0")
    assert lab.node.master in error["details"], error
    assert_only_lo(pod)
    assert dhcp_daemon.list() == []


def test_a_free_address_is_probed_three_times_then_announced_twice(lab, macvlan, pod, dhcp_daemon, sniffer):
    lab.start_dnsmasq()
    arp = ArpSniffer(lab)
    conf = probing_conf(lab, dhcp_daemon, arpProbe="900ms")

    started = time.monotonic()
    result = macvlan.add(conf, pod)
    answered = time.monotonic()
    address = result["ips"][0]["address"].split("/")[0]

    # Nobody answered for the whole window; the lease is the pod's, nothing declined.
    assert answered - started >= 0.9, answered - started
    assert pod.cidrs("eth0") == [result["ips"][0]["address"]]
    assert sniffer.messages("DECLINE") == []
    # RFC 5227 2.1.1: three Probes (sender IP 0.0.0.0) spread over the window.
    probes = arp.requests(POD_MAC, "0.0.0.0", address)
    assert len(probes) == 3, probes
    assert 0.5 <= probes[2]["t"] - probes[0]["t"] < 0.9, probes
    # RFC 5227 2.3: two Announcements (sender and target IP the address), 2 s apart.
    announcements = wait_until(lambda: (lambda a: len(a) >= 2 and a)(arp.requests(POD_MAC, address, address)), 5,
                               "two ARP Announcements")
    assert announcements[0]["t"] >= probes[2]["t"] + 0.2, (probes, announcements)
    assert 1.8 <= announcements[1]["t"] - announcements[0]["t"] < 3, announcements
    macvlan.ok("DEL", conf, pod)


def test_del_while_probing_releases_the_grant_and_the_add_fails(lab, macvlan, pod, dhcp_daemon):
    server = lab.start_dnsmasq()
    conf = probing_conf(lab, dhcp_daemon, arpProbe="5s")
    adding = {}
    add = threading.Thread(target=lambda: adding.update(run=macvlan("ADD", conf, pod)))
    add.start()
    try:
        wait_until(lambda: [e for e in dhcp_daemon.list() if e["state"] == "GRANTED"], 5, "the grant to be probed")
        macvlan.ok("DEL", conf, pod)
    finally:
        add.join(10)
    assert_cni_error(adding["run"], 104, "released before a lease was bound")
    assert dhcp_daemon.list() == []
    # The grant went back to the server, and the daemon lives on.
    wait_until(lambda: server.leases() == [], 5, "the server to free the granted address")
    assert dhcp_daemon.status()
    assert_only_lo(pod)


@pytest.mark.parametrize("value, complaint", [
    ("1h", "from 100ms to 10s, not 3600s"),
    ("10ms", "from 100ms to 10s, not 0.01s"),
    ("0s", "positive duration"),
    ("soon", "positive duration"),
])
def test_bad_arp_probe_values_are_refused(lab, macvlan, pod, dhcp_daemon, value, complaint):
    lab.start_dnsmasq()
    run = macvlan("ADD", probing_conf(lab, dhcp_daemon, arpProbe=value), pod)
    assert_cni_error(run, 7, "ipam.arpProbe", complaint)
    assert_only_lo(pod)
    assert dhcp_daemon.list() == []
