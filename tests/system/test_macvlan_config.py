"""Configuration keys as the kernel sees them: the default master, mtu against
the master's, the MAC from three sources, CNI_ARGS, bcqueuelen, linkInContainer,
and keys of the wrong type. Every refused ADD leaves the pod as it was."""

import pytest

from lab import create_veth
from macvlan_helpers import (assert_cni_error, assert_only_lo, host_local_ipam, macvlan_conf, master_of,
                             ping, reservations)

pytestmark = pytest.mark.usefixtures("require_root")


# --- master


def test_default_master_is_the_default_route_interface(lab, macvlan):
    node = lab.node
    decoy = f"{lab.id}dc"
    create_veth(node, decoy, node, f"{lab.id}dp")  # a second candidate, up
    conf = macvlan_conf(lab, master=None)

    first = lab.add_pod()
    macvlan.add(conf, first)
    assert master_of(first) == node.link(node.master)["ifindex"]

    # Move the default route: the next ADD follows it.
    node.ip("route", "replace", "default", "dev", decoy)
    second = lab.add_pod()
    macvlan.add(conf, second, container_id="cnt-c1")
    assert master_of(second) == node.link(decoy)["ifindex"]


def test_no_master_and_no_default_route(lab, macvlan, pod):
    lab.node.ip("route", "del", "default")
    run = macvlan("ADD", macvlan_conf(lab, master=None), pod)
    assert_cni_error(run, 7, "no default route", '"master"')
    assert_only_lo(pod)


def test_missing_master_is_named(lab, macvlan, pod, host_local_dir):
    conf = macvlan_conf(lab, ipam=host_local_ipam(lab, host_local_dir), master=f"{lab.id}zz")
    run = macvlan("ADD", conf, pod)
    assert_cni_error(run, 7, f'"{lab.id}zz" not found')
    assert_only_lo(pod)
    assert reservations(host_local_dir, conf["name"]) == {}


# --- mtu


@pytest.fixture
def master_mtu(lab):
    """The master's MTU, made different from every default."""
    lab.node.ip("link", "set", lab.node.master, "mtu", "1450")
    return 1450


@pytest.mark.parametrize("mtu, expected", [(None, 1450), (0, 1450), (1400, 1400), (1450, 1450), (576, 576)])
def test_mtu_up_to_the_masters(lab, macvlan, pod, master_mtu, mtu, expected):
    conf = macvlan_conf(lab, "1.1.0", mtu=mtu)
    result = macvlan.add(conf, pod)
    assert pod.link("eth0")["mtu"] == expected
    assert result["interfaces"][0]["mtu"] == expected  # 1.1.0 reports it


def test_mtu_above_the_masters_names_both(lab, macvlan, pod, host_local_dir, master_mtu):
    conf = macvlan_conf(lab, ipam=host_local_ipam(lab, host_local_dir), mtu=1451)
    run = macvlan("ADD", conf, pod)
    assert_cni_error(run, 7, "1451", "1450", lab.node.master)
    assert_only_lo(pod)
    assert reservations(host_local_dir, conf["name"]) == {}


# --- MAC: runtimeConfig.mac > CNI_ARGS MAC > mac

CONFIG_MAC, ARGS_MAC, RUNTIME_MAC = "02:63:6e:74:00:01", "02:63:6e:74:00:02", "02:63:6e:74:00:03"


@pytest.mark.parametrize("config, args, runtime, expected", [
    (CONFIG_MAC, None, None, CONFIG_MAC),
    (None, ARGS_MAC, None, ARGS_MAC),
    (None, None, RUNTIME_MAC, RUNTIME_MAC),
    (CONFIG_MAC, ARGS_MAC, None, ARGS_MAC),
    (CONFIG_MAC, None, RUNTIME_MAC, RUNTIME_MAC),
    (CONFIG_MAC, ARGS_MAC, RUNTIME_MAC, RUNTIME_MAC),
])
def test_mac_precedence(lab, macvlan, pod, host_local_dir, config, args, runtime, expected):
    conf = macvlan_conf(lab, ipam=host_local_ipam(lab, host_local_dir), mac=config,
                        capabilities={"mac": True} if runtime else None,
                        runtimeConfig={"mac": runtime} if runtime else None)
    cni_args = f"IgnoreUnknown=1;K8S_POD_NAME=p;MAC={args}" if args else None
    result = macvlan.add(conf, pod, args=cni_args)
    assert pod.link("eth0")["address"] == expected
    assert result["interfaces"][0]["mac"] == expected
    macvlan.ok("CHECK", dict(conf, prevResult=result), pod, args=cni_args)


def test_mac_in_capitals_with_dashes(lab, macvlan, pod):
    result = macvlan.add(macvlan_conf(lab, mac="02-63-6E-74-0A-0B"), pod)
    assert pod.link("eth0")["address"] == result["interfaces"][0]["mac"] == "02:63:6e:74:0a:0b"


@pytest.mark.parametrize("where", ["mac", "args", "runtimeConfig"])
@pytest.mark.parametrize("bad, complaint", [("02:63:6e:74:00", "not a MAC address"),
                                            ("01:00:5e:00:00:01", "multicast")])
def test_bad_mac_names_its_source(lab, macvlan, pod, where, bad, complaint):
    conf = macvlan_conf(lab)
    args = None
    if where == "mac":
        conf["mac"], source = bad, "mac"
    elif where == "args":
        args, source = f"MAC={bad}", "CNI_ARGS MAC"
    else:
        conf["runtimeConfig"], source = {"mac": bad}, "runtimeConfig.mac"
    run = macvlan("ADD", conf, pod, args=args)
    assert_cni_error(run, 7, f'{source} "{bad}"', complaint)
    assert_only_lo(pod)


def test_mac_taken_on_the_master_is_refused(lab, macvlan, pod, host_local_dir):
    taken = lab.node.link(lab.node.master)["address"]
    # The kernel creates the link and refuses only to bring it up: the error must say why.
    run = macvlan("ADD", macvlan_conf(lab, mac=taken), pod)
    error = assert_cni_error(run, 100, "Address already in use")
    assert f"MAC address {taken} is already used on the same master" in error["details"], error
    assert_only_lo(pod)
    # A MAC another pod's macvlan holds is just as taken (with IPAM: the address goes back).
    first = lab.add_pod()
    macvlan.add(macvlan_conf(lab, mac="02:63:6e:74:00:0a"), first)
    conf = macvlan_conf(lab, mac="02:63:6e:74:00:0a", ipam=host_local_ipam(lab, host_local_dir))
    run = macvlan("ADD", conf, pod, container_id="cnt-c1")
    error = assert_cni_error(run, 100, "Address already in use")
    assert "02:63:6e:74:00:0a is already used" in error["details"], error
    assert_only_lo(pod)
    assert reservations(host_local_dir, conf["name"]) == {}


# --- CNI_ARGS


def test_unknown_cni_args_key_needs_ignore_unknown(lab, macvlan, pod):
    run = macvlan("ADD", macvlan_conf(lab), pod, args="K8S_POD_NAME=web")
    assert_cni_error(run, 2, '"K8S_POD_NAME"')
    assert_only_lo(pod)


@pytest.mark.parametrize("ignore", ["1", "true"])
def test_kubernetes_cni_args_are_accepted(lab, macvlan, pod, ignore):
    args = (f"IgnoreUnknown={ignore};K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;"
            "K8S_POD_INFRA_CONTAINER_ID=cnt-c0;K8S_POD_UID=0c4e")
    macvlan.add(macvlan_conf(lab), pod, args=args)
    assert pod.link("eth0") is not None


def test_malformed_cni_args_pair(lab, macvlan, pod):
    run = macvlan("ADD", macvlan_conf(lab), pod, args="IgnoreUnknown=1;novalue")
    assert_cni_error(run, 4, '"novalue"')
    assert_only_lo(pod)


# --- types


@pytest.mark.parametrize("key, value, complaint", [
    ("master", 5, "master must be a string"),
    ("mode", True, "mode must be a string"),
    ("mtu", "1500", "mtu must be an integer"),
    ("mtu", 1.5, "mtu must be an integer"),
    ("mtu", -1, "mtu -1"),
    ("mac", 5, "mac must be a string"),
    ("linkInContainer", "yes", "linkInContainer must be true or false"),
    ("bcqueuelen", "x", "bcqueuelen must be an integer"),
    ("bcqueuelen", -1, "bcqueuelen -1"),
    ("runtimeConfig", {"mac": 5}, "runtimeConfig.mac must be a string"),
    ("dns", "x", "dns must be an object"),
    ("ipam", "host-local", "ipam must be an object"),
])
def test_wrong_type_is_error_7_naming_the_key(lab, macvlan, pod, key, value, complaint):
    run = macvlan("ADD", macvlan_conf(lab, **{key: value}), pod)
    assert_cni_error(run, 7, complaint)
    assert_only_lo(pod)


def test_unknown_keys_are_ignored(lab, macvlan, pod):
    macvlan.add(macvlan_conf(lab, someFutureKey={"x": 1}, capabilities={"mac": True}), pod)
    assert pod.link("eth0") is not None


# --- bcqueuelen


@pytest.mark.parametrize("bcqueuelen", [None, 50, 5000])
def test_bcqueuelen(lab, macvlan, pod, bcqueuelen):
    macvlan.add(macvlan_conf(lab, bcqueuelen=bcqueuelen), pod)
    data = pod.link("eth0")["linkinfo"]["info_data"]
    assert data["bcqueuelen"] == (bcqueuelen or 1000), data  # 1000: the kernel's default


# --- linkInContainer


@pytest.fixture
def pod_uplink(lab, pod):
    """The pod's own leg on the LAN: a veth from the lan bridge into the pod."""
    name = f"{lab.id}up"
    create_veth(lab.lan, f"{lab.id}ul", pod, name)
    lab.lan.add_to_bridge(f"{lab.id}ul", lab.lan_if)
    return name


@pytest.mark.lab(bridge=True)
@pytest.mark.parametrize("named", [True, False], ids=["named-master", "default-route-master"])
def test_link_in_container(lab, macvlan, pod, pod_uplink, host_local_dir, named):
    if not named:
        pod.ip("route", "add", "default", "dev", pod_uplink)
    conf = macvlan_conf(lab, ipam=host_local_ipam(lab, host_local_dir, routes=[]), linkInContainer=True,
                        master=pod_uplink if named else None)
    assert lab.node.link(pod_uplink) is None  # the node has no such interface
    result = macvlan.add(conf, pod)
    assert master_of(pod) == pod_uplink  # a name: the master is in the same namespace
    assert ping(pod, lab.router)
    macvlan.ok("CHECK", dict(conf, prevResult=result), pod)
    macvlan.ok("STATUS", dict(conf, cniVersion="1.1.0", ipam={}), None, container_id=None, ifname=None)
    macvlan.ok("DEL", conf, pod)
    assert [link["ifname"] for link in pod.links()] == ["lo", pod_uplink]
    assert reservations(host_local_dir, conf["name"]) == {}


@pytest.mark.lab(bridge=True)
def test_del_naming_the_uplink_leaves_it(lab, macvlan, pod, pod_uplink, host_local_dir):
    # Attacks DEL trusting CNI_IFNAME: with linkInContainer the master is in the pod, and
    # the reference deletes it when CNI_IFNAME names it, cutting the pod off the LAN.
    conf = macvlan_conf(lab, ipam=host_local_ipam(lab, host_local_dir, routes=[]), linkInContainer=True,
                        master=pod_uplink)
    macvlan.add(conf, pod)
    run = macvlan.ok("DEL", conf, pod, ifname=pod_uplink)
    assert sorted(link["ifname"] for link in pod.links()) == sorted(["lo", pod_uplink, "eth0"])
    assert ping(pod, lab.router)
    assert f"leaves {pod_uplink} in {pod.path} alone: it is a veth link" in run.stderr, run.stderr
    macvlan.ok("DEL", conf, pod)
    assert [link["ifname"] for link in pod.links()] == ["lo", pod_uplink]


def test_link_in_container_without_that_master(lab, macvlan, pod):
    # The node's master is not in the pod: looked up in the pod, it is missing.
    run = macvlan("ADD", macvlan_conf(lab, linkInContainer=True), pod)
    assert_cni_error(run, 7, lab.node.master, "container")
    assert_only_lo(pod)
