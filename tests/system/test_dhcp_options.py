"""DHCP options between the servers, the result and the pod: classless static routes
(121, RFC 3442: when present the router option is not a route of its own), DNS (6, 15,
119), ipam.priority as route metric, the pod's host name (12) from K8S_POD_NAME, and
ipam.provide / ipam.request changing what the client sends (seen in the server's log
and lease file). The reference returns no DNS and asks for 121 only when told."""

import pytest

from dhcp_fixtures import (dhcp_conf, dnsmasq_client_log, dnsmasq_requested_options, domain_search_option,
                           lease_active)
from macvlan_helpers import find_route, macvlan  # noqa: F401

pytestmark = pytest.mark.usefixtures("require_root")

SEARCH = ["lab.test", "example.test"]
# What a runtime such as the kubelet passes in CNI_ARGS.
K8S_ARGS = {"IgnoreUnknown": "1", "K8S_POD_NAMESPACE": "prod", "K8S_POD_NAME": "web-0",
            "K8S_POD_INFRA_CONTAINER_ID": "cnt-infra", "K8S_POD_UID": "0d1e2f"}
# The client's default parameter request list.
DEFAULT_REQUEST = [1, 3, 6, 15, 119, 121]


def classless(lab):
    """121 without a default route: one route through a router, one on the link."""
    return [("10.250.0.0/16", lab.address(254)), ("10.251.0.0/16", "0.0.0.0")]


def routes_by_dst(pod):
    return {route["dst"]: route for route in pod.routes()}


@pytest.mark.parametrize("kind", ["dnsmasq", "dhcpd", "udhcpd"])
def test_classless_routes_and_dns_in_result_and_pod(lab, macvlan, pod, dhcp_daemon, kind):
    getattr(lab, f"start_{kind}")(classless_routes=classless(lab), dns_servers=[lab.address(53), lab.address(54)],
                                  domain="lab.test", extra=domain_search_option(kind, SEARCH))
    result = macvlan.add(dhcp_conf(lab, dhcp_daemon, "1.1.0"), pod)

    # Option 3 is in the ACK too (the gateway), but with 121 present it adds no route.
    assert result["ips"][0]["gateway"] == lab.router
    assert result["routes"] == [{"dst": "10.250.0.0/16", "gw": lab.address(254)},
                                {"dst": "10.251.0.0/16", "scope": 253}], result
    assert result["dns"] == {"nameservers": [lab.address(53), lab.address(54)], "domain": "lab.test",
                             "search": SEARCH}, result

    routes = routes_by_dst(pod)
    assert "default" not in routes, routes
    assert routes["10.250.0.0/16"]["gateway"] == lab.address(254)
    onlink = routes["10.251.0.0/16"]
    assert "gateway" not in onlink and onlink["dev"] == "eth0" and onlink["scope"] == "link", onlink


@pytest.mark.parametrize("version", ["0.2.0", "1.0.0"])
def test_on_link_route_before_1_1_0(lab, macvlan, pod, dhcp_daemon, version):
    # No scope before 1.1.0, and a route without "gw" goes through the default gateway:
    # the on-link route is written with gateway 0.0.0.0 (as the reference does).
    lab.start_dnsmasq(classless_routes=classless(lab))
    result = macvlan.add(dhcp_conf(lab, dhcp_daemon, version), pod)
    routes = [{"dst": "10.250.0.0/16", "gw": lab.address(254)}, {"dst": "10.251.0.0/16", "gw": "0.0.0.0"}]
    assert (result["ip4"]["routes"] if version == "0.2.0" else result["routes"]) == routes, result
    onlink = routes_by_dst(pod)["10.251.0.0/16"]
    assert "gateway" not in onlink and onlink["dev"] == "eth0", onlink


def test_a_classless_default_route_replaces_the_router_option(lab, macvlan, pod, dhcp_daemon):
    other = lab.address(2)
    lab.start_dnsmasq(classless_routes=[("10.250.0.0/16", lab.address(254)), ("0.0.0.0/0", other)])
    result = macvlan.add(dhcp_conf(lab, dhcp_daemon, "1.0.0"), pod)
    assert result["routes"] == [{"dst": "10.250.0.0/16", "gw": lab.address(254)},
                                {"dst": "0.0.0.0/0", "gw": other}], result
    defaults = [r for r in pod.routes() if r["dst"] == "default"]
    assert [r["gateway"] for r in defaults] == [other], defaults


def test_without_classless_routes_the_router_is_the_default_route(lab, macvlan, pod, dhcp_daemon):
    lab.start_dnsmasq()
    result = macvlan.add(dhcp_conf(lab, dhcp_daemon, "1.0.0"), pod)
    assert result["routes"] == [{"dst": "0.0.0.0/0", "gw": lab.router}]
    assert result["dns"] == {}, result  # the server gave none
    assert find_route(pod, "default")["gateway"] == lab.router


@pytest.mark.parametrize("version", ["1.1.0", "1.0.0", "0.3.1"])
def test_priority_sets_route_metrics(lab, macvlan, pod, dhcp_daemon, version):
    """Whatever the cniVersion: a result before 1.1.0 cannot carry a route's priority,
    but the routes on the pod take it all the same, and no route is doubled (the
    daemon keeps the pod's routes with the lease's metric)."""
    lab.start_dnsmasq(classless_routes=[*classless(lab), ("0.0.0.0/0", lab.router)])
    result = macvlan.add(dhcp_conf(lab, dhcp_daemon, version, priority=50), pod)
    want = [50, 50, 50] if version == "1.1.0" else [None, None, None]
    assert [r.get("priority") for r in result["routes"]] == want, result
    routes = routes_by_dst(pod)
    assert len(pod.routes(4)) == len(routes), pod.routes(4)
    for dst in ("10.250.0.0/16", "10.251.0.0/16", "default"):
        assert routes[dst].get("metric") == 50, routes[dst]
    # The subnet route the kernel made for the address is not ours to change.
    assert routes[str(lab.network)].get("metric", 0) == 0


@pytest.mark.parametrize("kind", ["dnsmasq", "dhcpd"])
def test_host_name_from_k8s_pod_name(lab, macvlan, dhcp_daemon, kind):
    server = getattr(lab, f"start_{kind}")()
    named, anonymous = lab.add_pod(), lab.add_pod()
    conf = dhcp_conf(lab, dhcp_daemon, "1.0.0")
    named_ip = macvlan.add(conf, named, container_id="cnt-named", args=K8S_ARGS)["ips"][0]["address"]
    anonymous_ip = macvlan.add(conf, anonymous, container_id="cnt-anon")["ips"][0]["address"]

    assert server.lease_for(ip=named_ip.split("/")[0]).hostname == "web-0", server.leases()
    assert server.lease_for(ip=anonymous_ip.split("/")[0]).hostname is None, server.leases()
    if kind == "dnsmasq":
        assert "client provides name: web-0" in dnsmasq_client_log(server, named.link("eth0")["address"])


def test_provide_from_arg_and_value(lab, macvlan, pod, dhcp_daemon):
    server = lab.start_dnsmasq()
    conf = dhcp_conf(lab, dhcp_daemon, "1.0.0", provide=[
        {"option": "host-name", "fromArg": "K8S_POD_NAMESPACE"},        # replaces K8S_POD_NAME
        {"option": "vendor-class-identifier", "fromArg": "CNT_VENDOR"},
        {"option": 77, "fromArg": "CNT_NOT_PASSED"},                       # not in CNI_ARGS: not sent
    ])
    result = macvlan.add(conf, pod, args={**K8S_ARGS, "CNT_VENDOR": "cnt-vendor-blue"})
    address = result["ips"][0]["address"].split("/")[0]

    log = dnsmasq_client_log(server, pod.link("eth0")["address"])
    assert "vendor class: cnt-vendor-blue" in log, log
    assert "client provides name: prod" in log and "web-0" not in log, log
    assert "user class" not in log, log
    assert server.lease_for(ip=address).hostname == "prod"


def test_provide_value_without_args(lab, macvlan, pod, dhcp_daemon):
    server = lab.start_dnsmasq()
    conf = dhcp_conf(lab, dhcp_daemon, "1.0.0", provide=[{"option": "host-name", "value": "cnt-fixed-name"}])
    result = macvlan.add(conf, pod, args=K8S_ARGS)
    assert server.lease_for(ip=result["ips"][0]["address"].split("/")[0]).hostname == "cnt-fixed-name"


def test_request_adds_to_the_default_list(lab, macvlan, pod, dhcp_daemon):
    server = lab.start_dnsmasq(extra=[f"--dhcp-option=42,{lab.address(123)}"])
    conf = dhcp_conf(lab, dhcp_daemon, "1.0.0", request=[{"option": "ntp-servers"}, {"option": 26}])
    macvlan.add(conf, pod)
    assert dnsmasq_requested_options(server, pod.link("eth0")["address"]) == DEFAULT_REQUEST + [42, 26]


def test_request_skip_default(lab, macvlan, pod, dhcp_daemon):
    # Only what the network asks for: dnsmasq then leaves out DNS it would have sent.
    server = lab.start_dnsmasq(dns_servers=[lab.address(53)], domain="lab.test")
    conf = dhcp_conf(lab, dhcp_daemon, "1.0.0",
                     request=[{"option": "subnet-mask", "skipDefault": True}, {"option": "routers"}])
    result = macvlan.add(conf, pod)
    assert dnsmasq_requested_options(server, pod.link("eth0")["address"]) == [1, 3]
    assert result["dns"] == {}, result
    assert result["routes"] == [{"dst": "0.0.0.0/0", "gw": lab.router}]
    assert lease_active(server, result["ips"][0]["address"].split("/")[0])
