"""DEL gives the lease back: a DHCPRELEASE goes on the wire from the leased address
to the server (dnsmasq ignores releases from 0.0.0.0, the reference's weakness), each
server frees the address in its lease database, and the next pod can have it."""

import time

import pytest

from dhcp_fixtures import dhcp_conf, lease_active, lease_released
from lab import wait_until
from macvlan_helpers import assert_only_lo, macvlan  # noqa: F401

pytestmark = pytest.mark.usefixtures("require_root")


@pytest.mark.parametrize("kind", ["dnsmasq", "dhcpd", "udhcpd"])
def test_release_frees_the_lease_in_the_server(lab, macvlan, dhcp_daemon, sniffer, kind):
    only = lab.address(150)
    server = getattr(lab, f"start_{kind}")(pool=(only, only))
    conf = dhcp_conf(lab, dhcp_daemon, "1.0.0")
    first, second = lab.add_pod(), lab.add_pod()

    result = macvlan.add(conf, first, container_id="cnt-first")
    assert result["ips"][0]["address"] == f"{only}/24"
    mac = first.link("eth0")["address"]
    assert lease_active(server, only), server.leases()

    macvlan.ok("DEL", conf, first, container_id="cnt-first")
    released_at = time.time()
    assert_only_lo(first)

    # On the wire: unicast from the leased address to the server's identifier.
    release = wait_until(lambda: sniffer.messages("RELEASE", chaddr=mac), 5, "the DHCPRELEASE on the wire")
    assert [(m["src"], m["dst"], m["ciaddr"], m["sport"], m["dport"]) for m in release] == \
        [(only, lab.router, only, 68, 67)], release
    assert release[0]["eth_dst"] != "ff:ff:ff:ff:ff:ff", release

    wait_until(lambda: lease_released(server, only), 5, f"{kind} to free {only}")
    if kind == "dnsmasq":
        assert server.leases() == []
        assert f"DHCPRELEASE({lab.lan_if}) {only} {mac}" in server.log()
    elif kind == "dhcpd":
        assert server.lease_for(ip=only).state == "free"
        assert f"DHCPRELEASE of {only} from {mac}" in server.log()

    # The only address of the pool is free again: another pod gets it. (udhcpd sets a
    # released lease to end "now" and counts it free only once its clock second has
    # passed: before that it ignores the DISCOVER. That timer is all we wait for.)
    if kind == "udhcpd":
        wait_until(lambda: time.time() >= int(released_at) + 1.05, 2, "udhcpd's clock to pass the release")
    result = macvlan.add(conf, second, container_id="cnt-second")
    assert result["ips"][0]["address"] == f"{only}/24"
    assert server.lease_for(ip=only).mac == second.link("eth0")["address"]
    macvlan.ok("DEL", conf, second, container_id="cnt-second")
