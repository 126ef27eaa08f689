"""CHECK against the kernel after ADD: it passes on what ADD made and catches
each thing a pod can lose or have changed behind the runtime's back."""

import pytest

from macvlan_helpers import assert_cni_error, host_local_ipam, macvlan_conf

pytestmark = pytest.mark.usefixtures("require_root")


@pytest.fixture
def added(lab, macvlan, pod, host_local_dir):
    """ADD with host-local (default route + one route via .254); returns (conf with
    prevResult, the address in CIDR form)."""
    routes = [{"dst": "0.0.0.0/0"}, {"dst": "10.250.0.0/16", "gw": lab.address(254)}]
    conf = macvlan_conf(lab, "1.0.0", ipam=host_local_ipam(lab, host_local_dir, routes=routes))
    result = macvlan.add(conf, pod)
    return dict(conf, prevResult=result), result["ips"][0]["address"]


def check(macvlan, conf, pod, **kwargs):
    return macvlan("CHECK", conf, pod, **kwargs)


@pytest.mark.parametrize("version", ["0.4.0", "1.0.0"])
def test_check_passes_on_a_good_setup(lab, macvlan, pod, host_local_dir, version):
    routes = [{"dst": "0.0.0.0/0"}, {"dst": "10.250.0.0/16", "gw": lab.address(254)}]
    conf = macvlan_conf(lab, version, ipam=host_local_ipam(lab, host_local_dir, routes=routes), mode="vepa")
    result = macvlan.add(conf, pod)
    macvlan.ok("CHECK", dict(conf, prevResult=result), pod)


def test_check_passes_l2_only(lab, macvlan, pod):
    conf = macvlan_conf(lab, "1.0.0", mode="private")
    result = macvlan.add(conf, pod)
    macvlan.ok("CHECK", dict(conf, prevResult=result), pod)


def test_check_catches_a_removed_address(macvlan, pod, added):
    conf, cidr = added
    pod.ip("addr", "del", cidr, "dev", "eth0")
    assert_cni_error(check(macvlan, conf, pod), 103, f"address {cidr} is not on eth0")


def test_check_catches_a_removed_route(lab, macvlan, pod, added):
    conf, cidr = added
    pod.ip("route", "del", "10.250.0.0/16")
    assert_cni_error(check(macvlan, conf, pod), 103, "route 10.250.0.0/16", lab.address(254), "missing")


def test_check_catches_a_removed_default_route(lab, macvlan, pod, added):
    # A route without gw is checked through its family's gateway.
    conf, cidr = added
    pod.ip("route", "del", "default")
    assert_cni_error(check(macvlan, conf, pod), 103, "route 0.0.0.0/0", lab.router, "missing")


def test_check_catches_a_removed_prefix_route(lab, macvlan, pod, added):
    conf, cidr = added
    pod.ip("route", "del", str(lab.network), "dev", "eth0")
    assert_cni_error(check(macvlan, conf, pod), 103, "prefix route", cidr)


def test_check_catches_a_changed_mac(macvlan, pod, added):
    conf, cidr = added
    old = conf["prevResult"]["interfaces"][0]["mac"]
    pod.ip("link", "set", "eth0", "address", "02:63:6e:74:99:99")
    assert_cni_error(check(macvlan, conf, pod), 103, "02:63:6e:74:99:99", old)


def test_check_catches_a_mode_other_than_configured(macvlan, pod, added):
    conf, cidr = added
    assert_cni_error(check(macvlan, dict(conf, mode="private"), pod), 103, "mode bridge", "private")


def test_check_catches_a_mode_changed_on_the_link(macvlan, pod, added):
    conf, cidr = added
    pod.ip("link", "set", "eth0", "type", "macvlan", "mode", "vepa")
    assert_cni_error(check(macvlan, conf, pod), 103, "mode vepa", "bridge")


def test_check_catches_a_deleted_link(macvlan, pod, added):
    conf, cidr = added
    pod.ip("link", "del", "eth0")
    assert_cni_error(check(macvlan, conf, pod), 103, "eth0", "missing")


def test_check_catches_another_kind_of_link_under_the_name(lab, macvlan, pod, added):
    conf, cidr = added
    pod.ip("link", "del", "eth0")
    pod.ip("link", "add", "eth0", "type", "veth", "peer", "name", f"{lab.id}vp")
    assert_cni_error(check(macvlan, conf, pod), 103, "veth", "not a macvlan")


def test_check_needs_prev_result(macvlan, pod, added):
    conf, cidr = added
    conf = dict(conf)
    del conf["prevResult"]
    assert_cni_error(check(macvlan, conf, pod), 7, "prevResult")


@pytest.mark.parametrize("field, value", [("name", "net1"), ("sandbox", "/run/netns/elsewhere")])
def test_check_wants_our_interface_in_prev_result(macvlan, pod, added, field, value):
    conf, cidr = added
    prev = conf["prevResult"]
    other = dict(prev, interfaces=[dict(prev["interfaces"][0], **{field: value})])
    assert_cni_error(check(macvlan, dict(conf, prevResult=other), pod), 103, "prevResult lists no interface eth0")


def test_check_catches_a_missing_master(lab, macvlan, pod, added):
    conf, cidr = added
    run = check(macvlan, dict(conf, master=f"{lab.id}zz"), pod)
    assert_cni_error(run, 7, f"{lab.id}zz")


def test_check_is_passed_to_ipam(lab, macvlan, pod, added, host_local_dir):
    # host-local's CHECK looks for the reservation: take it away.
    conf, cidr = added
    address = cidr.split("/")[0]
    (host_local_dir / conf["name"] / address).unlink()
    run = check(macvlan, conf, pod)
    assert run.code != 0, run
    assert "IPAM plugin host-local" in run.output["msg"], run.output


def test_check_forwards_prev_result_to_ipam_1_1_0(lab, macvlan, pod, fake_ipam):
    fake_ipam.answer("ADD", result={"cniVersion": "1.1.0",
                                    "ips": [{"address": f"{lab.address(40)}/24", "gateway": lab.router}],
                                    "routes": [{"dst": "0.0.0.0/0", "priority": 20}]})
    conf = macvlan_conf(lab, "1.1.0", ipam=fake_ipam.ipam())
    result = macvlan.add(conf, pod, cni_path=fake_ipam.cni_path)
    checked = dict(conf, prevResult=result)
    macvlan.ok("CHECK", checked, pod, cni_path=fake_ipam.cni_path)
    assert fake_ipam.commands() == ["ADD", "CHECK"]
    assert fake_ipam.calls()[1]["stdin"] == checked

    fake_ipam.answer("CHECK", error={"cniVersion": "1.1.0", "code": 11, "msg": "lease lost"})
    assert_cni_error(check(macvlan, checked, pod, cni_path=fake_ipam.cni_path), 11, "lease lost")


def test_check_needs_spec_0_4_0(macvlan, pod, added):
    conf, cidr = added
    assert_cni_error(check(macvlan, dict(conf, cniVersion="0.3.1"), pod), 1, "CHECK")
