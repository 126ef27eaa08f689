"""macvlan + dhcp ADD and DEL in every spec version against the three real servers
(dnsmasq, ISC dhcpd, busybox udhcpd): our macvlan in the node netns delegates to our
dhcp plugin, which asks our daemon; the pod must end up with exactly what the
server gave (address, prefix, default route, resolvers), in the result and in the
kernel, and DEL must give it all back."""

import pytest

from dhcp_fixtures import (ALL_VERSIONS, LEGACY_VERSIONS, dhcp_client_id, dhcp_conf, domain_search_option, lease_active,
                           lease_released)
from lab import wait_until
from macvlan_helpers import assert_only_lo, find_route, macvlan  # noqa: F401

pytestmark = pytest.mark.usefixtures("require_root")

SERVERS = ["dnsmasq", "dhcpd", "udhcpd"]
CONTAINER_ID = "cnt-c0"
SEARCH = ["lab.test", "example.test"]


def start_server(lab, kind, **options):
    options.setdefault("dns_servers", [lab.address(53), lab.address(54)])
    options.setdefault("domain", "lab.test")
    options.setdefault("extra", domain_search_option(kind, SEARCH))
    return getattr(lab, f"start_{kind}")(**options)


@pytest.mark.parametrize("version", ALL_VERSIONS)
@pytest.mark.parametrize("kind", SERVERS)
def test_add_del(lab, macvlan, pod, dhcp_daemon, kind, version):
    server = start_server(lab, kind)
    conf = dhcp_conf(lab, dhcp_daemon, version)

    result = macvlan.add(conf, pod, container_id=CONTAINER_ID)
    link = pod.link("eth0")
    mac = link["address"]
    [cidr] = pod.cidrs("eth0")
    address = cidr.split("/")[0]
    assert cidr.endswith("/24") and address in {lab.address(n) for n in range(100, 200)}, cidr

    # The result, field by field.
    dns = {"nameservers": [lab.address(53), lab.address(54)], "domain": "lab.test", "search": SEARCH}
    routes = [{"dst": "0.0.0.0/0", "gw": lab.router}]
    if version in LEGACY_VERSIONS:
        assert result == {"cniVersion": version,
                          "ip4": {"ip": cidr, "gateway": lab.router, "routes": routes}, "dns": dns}
    else:
        interface = {"name": "eth0", "mac": mac, "sandbox": pod.path}
        if version == "1.1.0":
            interface["mtu"] = link["mtu"]
        ip = {"interface": 0, "address": cidr, "gateway": lab.router}
        if version not in ("1.0.0", "1.1.0"):  # 1.0.0 dropped ips[].version
            ip["version"] = "4"
        assert result == {"cniVersion": version, "interfaces": [interface], "ips": [ip], "routes": routes,
                          "dns": dns}

    # The pod's kernel state.
    assert link["linkinfo"]["info_kind"] == "macvlan" and "UP" in link["flags"], link
    assert find_route(pod, str(lab.network))["dev"] == "eth0"
    default = find_route(pod, "default")
    assert default and default["gateway"] == lab.router and default["dev"] == "eth0", pod.routes()

    # The daemon and the server agree on who holds the address.
    entry = dhcp_daemon.lease(CONTAINER_ID, conf["name"])
    assert entry and entry["state"] == "BOUND" and entry["address"] == cidr, dhcp_daemon.list()
    assert entry["server"] == lab.router and entry["netns"] == pod.path
    lease = server.lease_for(ip=address)
    assert lease is not None and lease.mac == mac, server.leases()
    assert lease_active(server, address), lease
    if kind != "udhcpd":  # busybox keeps no client identifier
        assert lease.client_id == dhcp_client_id(CONTAINER_ID, conf["name"])

    macvlan.ok("DEL", conf, pod, container_id=CONTAINER_ID)
    assert_only_lo(pod)
    assert dhcp_daemon.list() == []
    # dnsmasq and dhcpd rewrite their files as the RELEASE comes in; DEL does not wait for them.
    wait_until(lambda: lease_released(server, address), 5, f"{kind} to free {address}")

    # DEL is idempotent.
    macvlan.ok("DEL", conf, pod, container_id=CONTAINER_ID)


def test_misspelled_keys_are_reported_and_ignored(lab, macvlan, dhcp_daemon):
    """The reference ignores unknown keys; so do we, but say so on stderr, so that
    "timeouts" for "timeout" does not pass in silence."""
    lab.start_dnsmasq()
    pod = lab.add_pod()
    conf = dhcp_conf(lab, dhcp_daemon, "1.0.0", timeouts="30s")
    conf["mtus"] = 1400

    run = macvlan("ADD", conf, pod, container_id="cnt-typo")

    assert run.code == 0, run
    assert 'macvlan: warning: unknown key "mtus" ignored (did you mean "mtu"?)' in run.stderr, run.stderr
    assert 'dhcp: warning: unknown key "timeouts" in ipam ignored (did you mean "timeout"?)' in run.stderr, run.stderr
    macvlan.ok("DEL", conf, pod, container_id="cnt-typo")
