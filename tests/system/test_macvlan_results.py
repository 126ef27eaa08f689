"""ADD results in every spec version, field by field, against what the kernel
really has: IPAM by Debian's reference host-local and static, L2 only, and a
scriptable IPAM plugin for spec 1.1.0 (the reference plugins stop at 1.0.0)."""

import ipaddress

import pytest

from macvlan_helpers import (LEGACY_VERSIONS, REFERENCE_VERSIONS, assert_cni_error, assert_only_lo, fast_dad,
                             find_route, host_local_ipam, macvlan_conf, reservations, static_ipam)

pytestmark = pytest.mark.usefixtures("require_root")

CONFIG_DNS = {"nameservers": ["10.53.0.1", "10.53.0.2"], "domain": "conf.test",
              "search": ["conf.test"], "options": ["rotate"]}


@pytest.fixture
def resolv_conf(lab):
    """What host-local reads into its result's dns: one nameserver shared with CONFIG_DNS."""
    path = lab.workdir / "resolv.conf"
    path.write_text("nameserver 10.53.0.2\nnameserver 10.53.0.3\ndomain ipam.test\n"
                    "search ipam.test lab.test\noptions ndots:2 rotate\n")
    return path


# Config dns first, IPAM's after it, no duplicates; the config's domain wins.
MERGED_DNS = {"nameservers": ["10.53.0.1", "10.53.0.2", "10.53.0.3"], "domain": "conf.test",
              "search": ["conf.test", "ipam.test", "lab.test"], "options": ["rotate", "ndots:2"]}


def lab_routes(lab):
    return [{"dst": "0.0.0.0/0"},
            {"dst": "10.250.0.0/16", "gw": lab.address(254)},
            {"dst": "10.251.0.0/16"}]  # no gw: through the gateway of its family


def assert_kernel_state(lab, pod, cidr, mac):
    """What ADD put in the pod: the address with its prefix route, the routes, link up,
    arp_notify; and the MAC in the result is the link's."""
    link = pod.link("eth0")
    assert link["linkinfo"]["info_kind"] == "macvlan"
    assert "UP" in link["flags"], link
    assert link["address"] == mac
    assert pod.cidrs("eth0") == [cidr]
    prefix = find_route(pod, str(lab.network))
    assert prefix and prefix["dev"] == "eth0" and prefix["scope"] == "link", pod.routes()
    assert find_route(pod, "default")["gateway"] == lab.router
    assert find_route(pod, "10.250.0.0/16")["gateway"] == lab.address(254)
    assert find_route(pod, "10.251.0.0/16")["gateway"] == lab.router
    assert pod.read_sysctl("net/ipv4/conf/eth0/arp_notify") == "1"


@pytest.mark.parametrize("version", REFERENCE_VERSIONS)
def test_host_local_result_in_each_version(lab, macvlan, pod, host_local_dir, resolv_conf, version):
    ipam = host_local_ipam(lab, host_local_dir, routes=lab_routes(lab), resolv_conf=resolv_conf)
    conf = macvlan_conf(lab, version, ipam=ipam, dns=CONFIG_DNS)
    result = macvlan.add(conf, pod)
    [(address, owner)] = reservations(host_local_dir, conf["name"]).items()
    assert owner == ["cnt-c0", "eth0"]
    cidr = f"{address}/24"
    mac = pod.link("eth0")["address"]

    if version in LEGACY_VERSIONS:
        assert result == {"cniVersion": version,
                          "ip4": {"ip": cidr, "gateway": lab.router, "routes": lab_routes(lab)},
                          "dns": MERGED_DNS}
    else:
        ip = {"interface": 0, "address": cidr, "gateway": lab.router}
        if version != "1.0.0":
            ip["version"] = "4"
        assert result == {"cniVersion": version,
                          "interfaces": [{"name": "eth0", "mac": mac, "sandbox": pod.path}],
                          "ips": [ip], "routes": lab_routes(lab), "dns": MERGED_DNS}
    assert_kernel_state(lab, pod, cidr, mac)


@pytest.mark.parametrize("ipam_type", ["host-local", "static"])
def test_reference_ipam_refuses_1_1_0_and_we_pass_its_error_on(lab, macvlan, pod, host_local_dir, ipam_type):
    if ipam_type == "host-local":
        ipam = host_local_ipam(lab, host_local_dir)
    else:
        ipam = static_ipam([{"address": f"{lab.address(7)}/24"}])
    run = macvlan("ADD", macvlan_conf(lab, "1.1.0", ipam=ipam), pod)
    error = assert_cni_error(run, 1, f"IPAM plugin {ipam_type}", "incompatible CNI versions")
    assert error["cniVersion"] == "1.1.0"
    assert '"1.1.0"' in error["details"], error  # its details: what it supports
    assert_only_lo(pod)
    assert reservations(host_local_dir, f"{lab.id}-net") == {}


@pytest.mark.parametrize("version", ["0.2.0", "1.0.0"])
def test_static_two_families(lab, macvlan, pod, version):
    # IPv6 with a gateway and a route through it: ADD waits for DAD before the route.
    ipam = static_ipam(
        [{"address": f"{lab.address(7)}/24", "gateway": lab.router},
         {"address": "fd63:6e74::7/64", "gateway": "fd63:6e74::1"}],
        routes=[{"dst": "0.0.0.0/0"}, {"dst": "::/0"}, {"dst": "fd00:1::/48", "gw": "fd63:6e74::fe"}],
        dns={"nameservers": ["fd63:6e74::53"], "search": ["static.test"]})
    conf = macvlan_conf(lab, version, ipam=ipam)
    fast_dad(pod)
    result = macvlan.add(conf, pod)
    mac = pod.link("eth0")["address"]
    dns = {"nameservers": ["fd63:6e74::53"], "search": ["static.test"]}
    if version in LEGACY_VERSIONS:
        assert result == {
            "cniVersion": version,
            "ip4": {"ip": f"{lab.address(7)}/24", "gateway": lab.router, "routes": [{"dst": "0.0.0.0/0"}]},
            "ip6": {"ip": "fd63:6e74::7/64", "gateway": "fd63:6e74::1",
                    "routes": [{"dst": "::/0"}, {"dst": "fd00:1::/48", "gw": "fd63:6e74::fe"}]},
            "dns": dns}
    else:
        with_version = version != "1.0.0"
        assert result == {
            "cniVersion": version,
            "interfaces": [{"name": "eth0", "mac": mac, "sandbox": pod.path}],
            "ips": [dict({"version": "4"} if with_version else {}, interface=0,
                         address=f"{lab.address(7)}/24", gateway=lab.router),
                    dict({"version": "6"} if with_version else {}, interface=0,
                         address="fd63:6e74::7/64", gateway="fd63:6e74::1")],
            "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}, {"dst": "fd00:1::/48", "gw": "fd63:6e74::fe"}],
            "dns": dns}

    assert pod.cidrs("eth0") == [f"{lab.address(7)}/24"]
    v6 = [info for entry in pod.addresses("eth0") for info in entry["addr_info"]
          if info["family"] == "inet6" and info["scope"] == "global"]
    assert [(a["local"], a["prefixlen"]) for a in v6] == [("fd63:6e74::7", 64)]
    assert not v6[0].get("tentative"), v6  # DAD was over before the routes went in
    assert find_route(pod, "default", 6)["gateway"] == "fd63:6e74::1"
    assert find_route(pod, "fd00:1::/48", 6)["gateway"] == "fd63:6e74::fe"
    assert find_route(pod, "fd63:6e74::/64", 6)["dev"] == "eth0"
    assert find_route(pod, "default")["gateway"] == lab.router
    for key, value in [("net/ipv6/conf/eth0/disable_ipv6", "0"), ("net/ipv6/conf/lo/disable_ipv6", "0"),
                       ("net/ipv6/conf/eth0/keep_addr_on_down", "1"), ("net/ipv6/conf/eth0/ndisc_notify", "1"),
                       ("net/ipv4/conf/eth0/arp_notify", "1")]:
        assert pod.read_sysctl(key) == value, key


def test_ipv6_reaches_the_lan(lab, macvlan, pod):
    fast_dad(pod)
    lab.lan.add_address(lab.lan_if, "fd63:6e74::1/64", nodad=True)
    ipam = static_ipam([{"address": "fd63:6e74::7/64", "gateway": "fd63:6e74::1"}], routes=[{"dst": "::/0"}])
    macvlan.add(macvlan_conf(lab, ipam=ipam), pod)
    done = pod.exec(["ping", "-6", "-n", "-c", "1", "-W", "2", "fd63:6e74::1"], check=False)
    assert done.returncode == 0, done


@pytest.mark.parametrize("ipam", [None, {}], ids=["no-ipam", "empty-ipam"])
@pytest.mark.parametrize("version", ["0.3.0", "1.0.0", "1.1.0"])
def test_l2_only(lab, macvlan, pod, ipam, version):
    conf = macvlan_conf(lab, version, ipam=ipam, dns=CONFIG_DNS, mtu=1400)
    result = macvlan.add(conf, pod)
    link = pod.link("eth0")
    iface = {"name": "eth0", "mac": link["address"], "sandbox": pod.path}
    if version == "1.1.0":
        iface["mtu"] = 1400
    assert result == {"cniVersion": version, "interfaces": [iface], "dns": CONFIG_DNS}
    assert "UP" in link["flags"] and link["mtu"] == 1400
    assert pod.cidrs("eth0") == []
    assert pod.routes() == []


@pytest.mark.parametrize("version", ["0.1.0", "0.2.0"])
def test_l2_only_cannot_be_written_in_legacy_versions_and_leaves_nothing(lab, macvlan, pod, version):
    # A 0.1.0/0.2.0 result is made of IP addresses: an error, and no link behind it.
    run = macvlan("ADD", macvlan_conf(lab, version), pod)
    assert_cni_error(run, 1, version)
    assert_only_lo(pod)


def test_spec_1_1_0_route_attributes(lab, macvlan, pod, fake_ipam):
    routes = [
        {"dst": "10.252.0.0/16", "gw": lab.address(254), "priority": 300, "table": 100},
        {"dst": "10.253.0.0/16", "priority": 50, "mtu": 1300, "advmss": 1260},
        {"dst": "10.254.0.0/16", "scope": 253},  # on-link: no gateway for it
        {"dst": "10.255.0.0/16", "gw": lab.address(3), "scope": 0},
    ]
    fake_ipam.answer("ADD", result={
        "cniVersion": "1.1.0",
        "ips": [{"address": f"{lab.address(40)}/24", "gateway": lab.router}],
        "routes": routes, "dns": {"nameservers": ["10.53.0.9"]}})
    conf = macvlan_conf(lab, "1.1.0", ipam=fake_ipam.ipam(), dns={"search": ["conf.test"]})
    result = macvlan.add(conf, pod, cni_path=fake_ipam.cni_path)
    assert result == {
        "cniVersion": "1.1.0",
        "interfaces": [{"name": "eth0", "mac": pod.link("eth0")["address"], "mtu": 1500, "sandbox": pod.path}],
        "ips": [{"interface": 0, "address": f"{lab.address(40)}/24", "gateway": lab.router}],
        "routes": routes,
        "dns": {"nameservers": ["10.53.0.9"], "search": ["conf.test"]}}

    [in_100] = pod.routes(4, 100)
    assert (in_100["dst"], in_100["gateway"], in_100["metric"]) == ("10.252.0.0/16", lab.address(254), 300)
    assert find_route(pod, "10.252.0.0/16") is None  # not in main
    metric = find_route(pod, "10.253.0.0/16")
    assert (metric["gateway"], metric["metric"]) == (lab.router, 50)
    assert metric["metrics"] == [{"mtu": 1300, "advmss": 1260}], metric
    on_link = find_route(pod, "10.254.0.0/16")
    assert on_link["scope"] == "link" and "gateway" not in on_link, on_link
    universe = find_route(pod, "10.255.0.0/16")
    assert universe["gateway"] == lab.address(3) and "scope" not in universe, universe

    # The IPAM plugin got exactly what we were given.
    [add] = fake_ipam.calls()
    assert add["command"] == "ADD" and add["stdin"] == conf
    assert add["env"]["CNI_NETNS"] == pod.path and add["env"]["CNI_IFNAME"] == "eth0"
    macvlan.ok("CHECK", dict(conf, prevResult=result), pod, cni_path=fake_ipam.cni_path)


def test_interface_name_may_exist_on_the_node(lab, macvlan, pod, host_local_dir):
    # Created under a temporary name in the pod, then renamed there: the master's own
    # name is free inside the pod.
    name = lab.node.master
    conf = macvlan_conf(lab, ipam=host_local_ipam(lab, host_local_dir))
    result = macvlan.add(conf, pod, ifname=name)
    assert result["interfaces"][0]["name"] == name
    assert [link["ifname"] for link in pod.links()] == ["lo", name]
    assert lab.node.link(name)["linkinfo"]["info_kind"] == "veth"  # the master, unchanged
    macvlan.ok("DEL", conf, pod, ifname=name)
    assert_only_lo(pod)


def test_two_addresses_of_one_family(lab, macvlan, pod):
    ipam = static_ipam([{"address": f"{lab.address(7)}/24", "gateway": lab.router},
                        {"address": "10.99.0.7/16"}], routes=[{"dst": "0.0.0.0/0"}])
    result = macvlan.add(macvlan_conf(lab, "1.0.0", ipam=ipam), pod)
    assert [ip["address"] for ip in result["ips"]] == [f"{lab.address(7)}/24", "10.99.0.7/16"]
    assert all(ip["interface"] == 0 for ip in result["ips"])
    assert sorted(pod.cidrs("eth0")) == sorted([f"{lab.address(7)}/24", "10.99.0.7/16"])
    assert find_route(pod, "10.99.0.0/16")["dev"] == "eth0"
    assert ipaddress.ip_address(find_route(pod, "default")["gateway"]) == ipaddress.ip_address(lab.router)
