"""ADDs that fail, at each stage, leave nothing behind: no link in the pod (or
on the node), no host-local reservation, and IPAM DEL sent for what IPAM gave."""

import pytest

from macvlan_helpers import (assert_cni_error, assert_only_lo, fast_dad, host_local_ipam, macvlan_conf,
                             non_lo_links, reservations, static_ipam)

pytestmark = pytest.mark.usefixtures("require_root")


def test_exhausted_host_local_range(lab, macvlan, host_local_dir):
    conf = macvlan_conf(lab, ipam=host_local_ipam(lab, host_local_dir, first=50, last=50))
    first, second = lab.add_pod(), lab.add_pod()
    result = macvlan.add(conf, first, container_id="cnt-c0")
    assert result["ips"][0]["address"] == f"{lab.address(50)}/24"

    run = macvlan("ADD", conf, second, container_id="cnt-c1")
    assert_cni_error(run, 999, "IPAM plugin host-local", "no IP addresses available")
    assert_only_lo(second)
    assert reservations(host_local_dir, conf["name"]) == {lab.address(50): ["cnt-c0", "eth0"]}
    assert first.cidrs("eth0") == [f"{lab.address(50)}/24"]


def test_nonexistent_ipam_type(lab, macvlan, pod, cni_bin_dir):
    conf = macvlan_conf(lab, ipam={"type": "cnt-no-such-ipam"})
    run = macvlan("ADD", conf, pod)
    assert_cni_error(run, 102, '"cnt-no-such-ipam" not found', str(cni_bin_dir))
    assert_only_lo(pod)


def test_missing_netns_creates_nothing_on_the_node(lab, macvlan):
    before = non_lo_links(lab.node)
    run = macvlan("ADD", macvlan_conf(lab), None, netns="/run/netns/cnt-no-such-pod")
    assert_cni_error(run, 101, "/run/netns/cnt-no-such-pod")
    assert non_lo_links(lab.node) == before


@pytest.mark.parametrize("what", ["file", "mount-namespace"])
def test_netns_that_is_not_a_network_namespace(lab, macvlan, host_local_dir, what):
    path = lab.workdir / "not-a-netns" if what == "file" else "/proc/self/ns/mnt"
    if what == "file":
        path.write_text("")
    before = non_lo_links(lab.node)
    conf = macvlan_conf(lab, ipam=host_local_ipam(lab, host_local_dir))
    run = macvlan("ADD", conf, None, netns=path)
    assert_cni_error(run, 101, f"{path}: it is not a network namespace")
    assert non_lo_links(lab.node) == before
    assert reservations(host_local_dir, conf["name"]) == {}


def test_second_add_with_the_same_ifname_fails_and_leaves_the_first(lab, macvlan, pod, host_local_dir):
    conf = macvlan_conf(lab, ipam=host_local_ipam(lab, host_local_dir))
    result = macvlan.add(conf, pod, container_id="cnt-c0")
    before = (pod.link("eth0"), pod.addresses("eth0"), pod.routes())

    run = macvlan("ADD", conf, pod, container_id="cnt-c1")
    assert_cni_error(run, 7, "eth0 already exists", pod.path)
    assert (pod.link("eth0"), pod.addresses("eth0"), pod.routes()) == before
    assert non_lo_links(pod) == ["eth0"]
    assert pod.link("eth0")["address"] == result["interfaces"][0]["mac"]
    assert reservations(host_local_dir, conf["name"]) == {
        result["ips"][0]["address"].split("/")[0]: ["cnt-c0", "eth0"]}


@pytest.mark.parametrize("ifname", ["eth%d", "%d", "net%s"])
def test_ifname_with_percent_is_refused_and_leaves_nothing(lab, macvlan, pod, host_local_dir, ifname):
    # Attacks CNI_IFNAME=eth%d: the kernel names the link eth0, the reference answers
    # "eth%d", and DEL and CHECK, looking for eth%d, leave the link behind.
    node_links = non_lo_links(lab.node)
    conf = macvlan_conf(lab, ipam=host_local_ipam(lab, host_local_dir))
    run = macvlan("ADD", conf, pod, ifname=ifname)
    assert_cni_error(run, 4, f'invalid CNI_IFNAME "{ifname}"', "contains '%'")
    assert_only_lo(pod)
    assert non_lo_links(lab.node) == node_links
    assert reservations(host_local_dir, conf["name"]) == {}


def test_unreachable_gateway_in_static_routes(lab, macvlan, pod):
    ipam = static_ipam([{"address": f"{lab.address(7)}/24", "gateway": lab.router}],
                       routes=[{"dst": "0.0.0.0/0"}, {"dst": "10.250.0.0/16", "gw": "192.0.2.1"}])
    run = macvlan("ADD", macvlan_conf(lab, ipam=ipam), pod)
    error = assert_cni_error(run, 100, "10.250.0.0/16", "192.0.2.1", "Network is unreachable")
    assert "not inside any subnet" in error["details"], error
    assert_only_lo(pod)


def test_unreachable_gateway_releases_the_host_local_address(lab, macvlan, pod, host_local_dir):
    routes = [{"dst": "10.250.0.0/16", "gw": "192.0.2.1"}]
    conf = macvlan_conf(lab, ipam=host_local_ipam(lab, host_local_dir, first=50, last=50, routes=routes))
    run = macvlan("ADD", conf, pod)
    assert_cni_error(run, 100, "192.0.2.1")
    assert_only_lo(pod)
    assert reservations(host_local_dir, conf["name"]) == {}
    # The range's only address really is free again: the next ADD gets it.
    ok_conf = macvlan_conf(lab, ipam=host_local_ipam(lab, host_local_dir, first=50, last=50))
    assert macvlan.add(ok_conf, pod)["ips"][0]["address"] == f"{lab.address(50)}/24"


def test_duplicate_ipv6_address_fails_dad_and_is_released(lab, macvlan, pod, fake_ipam):
    # Another host on the LAN has the address: DAD fails, ADD says so and undoes itself.
    lab.lan.add_address(lab.lan_if, "fd63:6e74::7/64", nodad=True)
    fast_dad(pod)
    fake_ipam.answer("ADD", result={"cniVersion": "1.0.0",
                                    "ips": [{"address": "fd63:6e74::7/64", "gateway": "fd63:6e74::1"}],
                                    "routes": [{"dst": "::/0"}]})
    conf = macvlan_conf(lab, ipam=fake_ipam.ipam())
    run = macvlan("ADD", conf, pod, cni_path=fake_ipam.cni_path)
    assert_cni_error(run, 100, "fd63:6e74::7", "duplicate address detection")
    assert_only_lo(pod)
    assert fake_ipam.commands() == ["ADD", "DEL"]


def test_address_the_kernel_refuses_sends_ipam_del(lab, macvlan, pod, fake_ipam):
    # The same address twice: the second addr add fails with EEXIST.
    address = {"address": f"{lab.address(40)}/24", "gateway": lab.router}
    fake_ipam.answer("ADD", result={"cniVersion": "1.0.0", "ips": [address, address]})
    conf = macvlan_conf(lab, ipam=fake_ipam.ipam())
    run = macvlan("ADD", conf, pod, cni_path=fake_ipam.cni_path, container_id="cnt-c7")
    assert_cni_error(run, 100, f"adding address {lab.address(40)}/24", "File exists")
    assert_only_lo(pod)
    add, delete = fake_ipam.calls()
    assert (add["command"], delete["command"]) == ("ADD", "DEL")
    # The release is for the same attachment, with the same configuration.
    assert delete["stdin"] == add["stdin"] == conf
    for key in ("CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_PATH"):
        assert delete["env"][key] == add["env"][key], key
    assert delete["env"]["CNI_CONTAINERID"] == "cnt-c7"


@pytest.mark.parametrize("answer, complaint", [
    ({"result": {"cniVersion": "1.0.0"}}, "returned no IP address"),
    ({"result": {"cniVersion": "1.0.0", "ips": []}}, "returned no IP address"),
])
def test_ipam_without_addresses_is_released(lab, macvlan, pod, fake_ipam, answer, complaint):
    fake_ipam.answer("ADD", **answer)
    run = macvlan("ADD", macvlan_conf(lab, ipam=fake_ipam.ipam()), pod, cni_path=fake_ipam.cni_path)
    assert_cni_error(run, 102, fake_ipam.type, complaint)
    assert_only_lo(pod)
    assert fake_ipam.commands() == ["ADD", "DEL"]


@pytest.mark.parametrize("answer, code, complaint", [
    ({"error": {"cniVersion": "1.0.0", "code": 11, "msg": "try later", "details": "busy"}}, 11, "try later"),
    ({"exit": 3}, 102, "exited with status 3"),
    ({"stdout": "not json", "exit": 0}, 102, "not JSON"),
    ({"result": {"cniVersion": "1.0.0", "ips": [{"address": "10.1.2.3"}]}}, 6, '"10.1.2.3"'),
])
def test_failing_ipam_leaves_no_link(lab, macvlan, pod, fake_ipam, answer, code, complaint):
    fake_ipam.answer("ADD", **answer)
    run = macvlan("ADD", macvlan_conf(lab, ipam=fake_ipam.ipam()), pod, cni_path=fake_ipam.cni_path)
    assert_cni_error(run, code, fake_ipam.type, complaint)
    assert_only_lo(pod)


def test_failed_adds_do_not_disturb_a_working_pod(lab, macvlan, host_local_dir):
    conf = macvlan_conf(lab, ipam=host_local_ipam(lab, host_local_dir))
    good, bad = lab.add_pod(), lab.add_pod()
    result = macvlan.add(conf, good, container_id="cnt-c0")
    for broken in (dict(conf, mtu=9000), dict(conf, master=f"{lab.id}zz"),
                   dict(conf, ipam={"type": "cnt-no-such-ipam"})):
        assert macvlan("ADD", broken, bad, container_id="cnt-c1").code != 0
        assert_only_lo(bad)
    assert good.cidrs("eth0") == [result["ips"][0]["address"]]
    assert list(reservations(host_local_dir, conf["name"]).values()) == [["cnt-c0", "eth0"]]
