"""macvlan modes with real traffic: pods made by our plugin on one master ping
each other (bridge), cannot (private), can only through a hairpinning switch
port (vepa), and passthru gives one pod the whole master."""

import pytest

from macvlan_helpers import (assert_cni_error, assert_only_lo, host_local_ipam, macvlan_conf, macvlan_mode,
                             ping, reservations)

pytestmark = pytest.mark.usefixtures("require_root")


def two_pods(lab, macvlan, data_dir, mode):
    """Two pods on the node's master in `mode`, addresses from host-local."""
    conf = macvlan_conf(lab, ipam=host_local_ipam(lab, data_dir), mode=mode)
    pods, addresses = [], []
    for i in range(2):
        pod = lab.add_pod()
        result = macvlan.add(conf, pod, container_id=f"cnt-c{i}")
        address = result["ips"][0]["address"].split("/")[0]
        assert pod.cidrs("eth0") == [result["ips"][0]["address"]]
        pods.append(pod)
        addresses.append(address)
    return conf, pods, addresses


def test_bridge_pods_reach_each_other_and_the_lan(lab, macvlan, host_local_dir):
    conf, (a, b), (addr_a, addr_b) = two_pods(lab, macvlan, host_local_dir, "bridge")
    assert macvlan_mode(a) == macvlan_mode(b) == "bridge"
    assert ping(a, addr_b)
    assert ping(b, addr_a)
    assert ping(a, lab.router)


@pytest.mark.parametrize("mode", ["", None])
def test_mode_defaults_to_bridge(lab, macvlan, pod, mode):
    conf = macvlan_conf(lab, mode=mode) if mode is not None else macvlan_conf(lab)
    macvlan.add(conf, pod)
    assert macvlan_mode(pod) == "bridge"


def test_private_pods_cannot_reach_each_other(lab, macvlan, host_local_dir):
    conf, (a, b), (addr_a, addr_b) = two_pods(lab, macvlan, host_local_dir, "private")
    assert macvlan_mode(a) == macvlan_mode(b) == "private"
    # The LAN is reachable, so the silence between the pods is the mode's doing.
    assert ping(a, lab.router)
    assert ping(b, lab.router)
    assert not ping(a, addr_b, timeout=0.5)


@pytest.mark.parametrize("hairpin", [
    pytest.param(True, marks=pytest.mark.lab(hairpin=True), id="hairpin-on"),
    pytest.param(False, marks=pytest.mark.lab(bridge=True), id="hairpin-off"),
])
def test_vepa_pods_meet_only_through_a_hairpinning_switch(lab, macvlan, host_local_dir, hairpin):
    conf, (a, b), (addr_a, addr_b) = two_pods(lab, macvlan, host_local_dir, "vepa")
    assert macvlan_mode(a) == macvlan_mode(b) == "vepa"
    assert ping(a, lab.router)
    if hairpin:
        assert ping(a, addr_b)
        assert ping(b, addr_a)
    else:
        assert not ping(a, addr_b, timeout=0.5)


@pytest.mark.parametrize("spelling", ["passthru", "passthrough"])
def test_passthru_takes_the_master_and_a_second_fails_cleanly(lab, macvlan, host_local_dir, spelling):
    conf = macvlan_conf(lab, ipam=host_local_ipam(lab, host_local_dir), mode=spelling)
    first, second = lab.add_pod(), lab.add_pod()
    result = macvlan.add(conf, first, container_id="cnt-c0")
    assert macvlan_mode(first) == "passthru"
    # The passthru link takes over the master: it carries the master's MAC.
    master_mac = lab.node.link(lab.node.master)["address"]
    assert first.link("eth0")["address"] == master_mac == result["interfaces"][0]["mac"]
    assert ping(first, lab.router)
    macvlan.ok("CHECK", dict(conf, prevResult=result), first, container_id="cnt-c0")

    run = macvlan("ADD", conf, second, container_id="cnt-c1")
    error = assert_cni_error(run, 100, "passthru", lab.node.master)
    assert "passthru" in error.get("details", ""), error
    assert_only_lo(second)
    assert list(reservations(host_local_dir, conf["name"]).values()) == [["cnt-c0", "eth0"]]
    # The first one is untouched.
    assert ping(first, lab.router)


def test_passthru_refused_while_the_master_has_bridge_macvlans(lab, macvlan, host_local_dir):
    ipam = host_local_ipam(lab, host_local_dir)
    bridged, passthru = lab.add_pod(), lab.add_pod()
    macvlan.add(macvlan_conf(lab, ipam=ipam), bridged, container_id="cnt-c0")
    run = macvlan("ADD", macvlan_conf(lab, ipam=ipam, mode="passthru"), passthru, container_id="cnt-c1")
    assert_cni_error(run, 100, "passthru")
    assert_only_lo(passthru)
    assert list(reservations(host_local_dir, f"{lab.id}-net").values()) == [["cnt-c0", "eth0"]]


def test_unknown_mode_is_a_config_error(lab, macvlan, pod):
    run = macvlan("ADD", macvlan_conf(lab, mode="source"), pod)
    assert_cni_error(run, 7, '"source"')
    assert_only_lo(pod)
