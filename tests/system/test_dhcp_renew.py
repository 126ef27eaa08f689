"""Renewal against ISC dhcpd with leases of a few seconds: after T1 the daemon renews
by unicast from the leased address (RFC 2131 4.4.5 RENEWING), dhcpd extends the lease
in its lease file each time, and the daemon keeps the lease BOUND with the pod's
address unchanged. The reference renews from 0.0.0.0 by broadcast."""

import time

import pytest

from dhcp_fixtures import dhcp_conf
from lab import wait_until
from macvlan_helpers import macvlan  # noqa: F401

pytestmark = pytest.mark.usefixtures("require_root")

LEASE_S = 8        # T1 = 4 s, T2 = 7 s
RENEWALS = 3       # at about 4, 8 and 12 s after the ADD


def test_renews_by_unicast_and_dhcpd_extends_the_lease(lab, macvlan, pod, dhcp_daemon, sniffer):
    server = lab.start_dhcpd(lease_time=LEASE_S)
    conf = dhcp_conf(lab, dhcp_daemon, "1.1.0")
    result = macvlan.add(conf, pod, container_id="cnt-renew")
    cidr = result["ips"][0]["address"]
    address = cidr.split("/")[0]
    mac = pod.link("eth0")["address"]
    entry = dhcp_daemon.lease("cnt-renew", conf["name"])
    assert entry["state"] == "BOUND" and entry["leaseSeconds"] == LEASE_S, entry
    assert entry["renewIn"] <= LEASE_S // 2, entry
    first_end = server.lease_for(ip=address).expires
    assert first_end is not None

    # Each renewal: a later end in dhcpd's lease file (whole seconds), then the daemon
    # BOUND again with a fresh lease and the same address. Bounded: T1 plus slack each.
    ends, renewed_at = [first_end], []
    for n in range(RENEWALS):
        wait_until(lambda: server.lease_for(ip=address).expires > ends[-1], LEASE_S / 2 + 3,
                   f"renewal {n + 1} in dhcpd's lease file", max_interval=0.2)
        ends.append(server.lease_for(ip=address).expires)
        renewed_at.append(time.monotonic())
        entry = wait_until(lambda: _bound_and_fresh(dhcp_daemon, conf["name"]), 2,
                           f"the daemon to be BOUND after renewal {n + 1}")
        assert entry["address"] == cidr, entry
    # Renewals come at T1 of each lease, not in a storm.
    gaps = [b - a for a, b in zip(renewed_at, renewed_at[1:])]
    assert all(gap > LEASE_S / 2 - 1.5 for gap in gaps), (gaps, ends)

    # On the wire: every renewal is a DHCPREQUEST unicast from the leased address to the
    # server (not 0.0.0.0, not broadcast) with ciaddr set, and dhcpd ACKs each one.
    requests = [m for m in sniffer.messages("REQUEST", chaddr=mac) if m["ciaddr"] == address]
    assert len(requests) >= RENEWALS, sniffer.messages(chaddr=mac)
    for request in requests:
        assert (request["src"], request["dst"], request["sport"], request["dport"]) == \
            (address, lab.router, 68, 67), request
        assert request["eth_dst"] != "ff:ff:ff:ff:ff:ff", request
    acks = [m for m in sniffer.messages("ACK", chaddr=mac) if m["ciaddr"] == address]
    assert len(acks) >= RENEWALS, acks

    # dhcpd saw them as renewals: a DHCPREQUEST for the address with no server
    # identifier ("for A from MAC", not "for A (server) from MAC" as in SELECTING).
    renew_lines = [line for line in server.log().splitlines()
                   if line.startswith(f"DHCPREQUEST for {address} from {mac}")]
    assert len(renew_lines) >= RENEWALS, server.log()

    # The pod kept its address all along; the only DISCOVER was the ADD's.
    assert pod.cidrs("eth0") == [cidr]
    assert len(sniffer.messages("DISCOVER", chaddr=mac)) == 1, sniffer.messages(chaddr=mac)

    macvlan.ok("DEL", conf, pod, container_id="cnt-renew")


def _bound_and_fresh(daemon, network):
    entry = daemon.lease("cnt-renew", network)
    if entry and entry["state"] == "BOUND" and entry["expiresIn"] > LEASE_S / 2:
        return entry
    return None


def test_a_renewal_needs_no_arp_from_the_pod(lab, macvlan, pod, dhcp_daemon, sniffer):
    """The kernel's neighbour table is one for every namespace of the machine (about a
    thousand entries here): ten thousand pods resolving the server for their renewals
    would overflow it and lose requests. A renewal's first DHCPREQUEST is framed
    straight to the MAC the server's DHCPACK came from, so the pod's namespace never
    asks for the server. (The LAN knows the pod's MAC here, so the server does not ask
    either, and nothing else would put the server in the pod's table.)"""
    server = lab.start_dhcpd(lease_time=LEASE_S)
    conf = dhcp_conf(lab, dhcp_daemon, "1.0.0")
    address = macvlan.add(conf, pod, container_id="cnt-noarp")["ips"][0]["address"].split("/")[0]
    mac = pod.link("eth0")["address"]
    lab.lan.ip("neigh", "replace", address, "lladdr", mac, "nud", "permanent", "dev", lab.lan_if)
    end = server.lease_for(ip=address).expires
    wait_until(lambda: server.lease_for(ip=address).expires > end, LEASE_S / 2 + 3, "the renewal")

    [request, *_] = [m for m in sniffer.messages("REQUEST", chaddr=mac) if m["ciaddr"] == address]
    server_mac = lab.lan.link(lab.lan_if)["address"]
    assert request["eth_dst"] == server_mac, request
    assert lab.router not in pod.ip("neigh", "show", check=False), pod.ip("neigh", "show")
    macvlan.ok("DEL", conf, pod, container_id="cnt-noarp")
