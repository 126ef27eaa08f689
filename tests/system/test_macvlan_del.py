"""DEL is best effort and idempotent: it releases the IPAM allocation and
deletes the link, and succeeds when the netns, the link or the master is
already gone, when repeated, and without prevResult or with one that does not
parse. It deletes only a macvlan, and only the one prevResult describes."""

import pytest

from lab import CommandError
from macvlan_helpers import assert_cni_error, assert_only_lo, host_local_ipam, macvlan_conf, reservations

pytestmark = pytest.mark.usefixtures("require_root")


@pytest.fixture
def added(lab, macvlan, pod, host_local_dir):
    """ADD with host-local; returns (conf, result). One reservation is held."""
    conf = macvlan_conf(lab, "1.0.0", ipam=host_local_ipam(lab, host_local_dir))
    result = macvlan.add(conf, pod)
    assert len(reservations(host_local_dir, conf["name"])) == 1
    return conf, result


def released(host_local_dir, conf):
    return reservations(host_local_dir, conf["name"]) == {}


@pytest.mark.parametrize("version", ["0.2.0", "0.4.0", "1.0.0"])
@pytest.mark.parametrize("with_prev_result", [True, False], ids=["prevResult", "no-prevResult"])
def test_del_releases_and_deletes(lab, macvlan, pod, host_local_dir, version, with_prev_result):
    conf = macvlan_conf(lab, version, ipam=host_local_ipam(lab, host_local_dir))
    result = macvlan.add(conf, pod)
    assert len(reservations(host_local_dir, conf["name"])) == 1
    del_conf = dict(conf, prevResult=result) if with_prev_result else conf
    macvlan.ok("DEL", del_conf, pod)
    assert_only_lo(pod)
    assert released(host_local_dir, conf)


def test_del_twice(macvlan, pod, host_local_dir, added):
    conf, result = added
    for _ in range(2):
        macvlan.ok("DEL", dict(conf, prevResult=result), pod)
    assert_only_lo(pod)
    assert released(host_local_dir, conf)


def test_del_with_the_netns_gone(lab, macvlan, pod, host_local_dir, added):
    conf, result = added
    path = pod.path
    pod.delete()
    macvlan.ok("DEL", conf, None, netns=path)
    assert released(host_local_dir, conf)


def test_del_with_a_stale_netns_file(lab, macvlan, pod, host_local_dir, added):
    # The runtime unmounted the namespace but the file is still there (or CNI_NETNS names
    # something else): there is no namespace, so no link to delete, and DEL succeeds.
    conf, result = added
    stale = lab.workdir / "stale-netns"
    stale.write_text("")
    macvlan.ok("DEL", conf, None, netns=stale)
    assert released(host_local_dir, conf)


def test_del_without_cni_netns(macvlan, pod, host_local_dir, added):
    # libcni sends CNI_NETNS empty when the runtime no longer knows it; it is optional for DEL.
    conf, result = added
    macvlan.ok("DEL", conf, None, env_extra={"CNI_NETNS": ""})
    macvlan.ok("DEL", conf, None)
    assert released(host_local_dir, conf)


def test_del_with_the_link_gone(macvlan, pod, host_local_dir, added):
    conf, result = added
    pod.ip("link", "del", "eth0")
    macvlan.ok("DEL", conf, pod)
    assert released(host_local_dir, conf)


def test_del_with_the_master_gone(lab, macvlan, pod, host_local_dir, added):
    conf, result = added
    lab.node.ip("link", "del", lab.node.master)  # takes its macvlans with it
    assert_only_lo(pod)
    macvlan.ok("DEL", conf, pod)
    assert released(host_local_dir, conf)


def test_del_of_what_never_was(lab, macvlan, pod, host_local_dir):
    conf = macvlan_conf(lab, "1.0.0", ipam=host_local_ipam(lab, host_local_dir), master=f"{lab.id}zz")
    macvlan.ok("DEL", conf, pod)
    macvlan.ok("DEL", macvlan_conf(lab, "1.0.0"), pod)  # L2 only


def test_del_leaves_other_interfaces_alone(lab, macvlan, pod, host_local_dir):
    conf = macvlan_conf(lab, "1.0.0", ipam=host_local_ipam(lab, host_local_dir, routes=[]))
    macvlan.add(conf, pod, ifname="eth0")
    macvlan.add(conf, pod, ifname="net1")
    macvlan.ok("DEL", conf, pod, ifname="eth0")
    assert [link["ifname"] for link in pod.links()] == ["lo", "net1"]
    assert list(reservations(host_local_dir, conf["name"]).values()) == [["cnt-c0", "net1"]]


def test_link_is_deleted_even_when_ipam_del_fails(lab, macvlan, pod, fake_ipam):
    # The reference stops at the IPAM error and leaves the link: the pod hangs in Terminating.
    fake_ipam.answer("ADD", result={"cniVersion": "1.0.0", "ips": [{"address": f"{lab.address(40)}/24"}]})
    fake_ipam.answer("DEL", error={"cniVersion": "1.0.0", "code": 11, "msg": "daemon unreachable"})
    conf = macvlan_conf(lab, ipam=fake_ipam.ipam())
    macvlan.add(conf, pod, cni_path=fake_ipam.cni_path)
    run = macvlan("DEL", conf, pod, cni_path=fake_ipam.cni_path)
    assert_cni_error(run, 11, "daemon unreachable")
    assert_only_lo(pod)
    assert fake_ipam.commands() == ["ADD", "DEL"]


def test_link_is_deleted_even_when_the_ipam_plugin_is_missing(lab, macvlan, pod, host_local_dir, added):
    conf, result = added
    run = macvlan("DEL", dict(conf, ipam={"type": "cnt-no-such-ipam"}), pod)
    assert_cni_error(run, 102, "cnt-no-such-ipam")
    assert_only_lo(pod)


def test_del_with_link_in_container_and_the_pod_gone(lab, macvlan, pod, host_local_dir):
    conf = macvlan_conf(lab, "1.0.0", ipam=host_local_ipam(lab, host_local_dir), linkInContainer=True,
                        master="cntnone0")
    path = pod.path
    pod.delete()
    macvlan.ok("DEL", conf, None, netns=path)


# --- a prevResult that does not parse (a damaged runtime cache)


@pytest.mark.parametrize("prev_result, complaint", [
    ({"cniVersion": "1.0.0", "ips": [{"address": "junk"}]}, 'ips[0].address "junk"'),
    ({"cniVersion": "1.0.0", "interfaces": 5}, "interfaces"),
    ({"cniVersion": "9.9.9"}, "9.9.9"),
    ("garbage", "prevResult must be an object"),
], ids=["bad-address", "bad-interfaces", "unknown-version", "not-an-object"])
def test_del_goes_on_without_a_malformed_prev_result(macvlan, pod, host_local_dir, added, prev_result, complaint):
    # Attacks DEL failing on a damaged cached result: every retry would fail the same
    # way and the pod could never be deleted. The link goes, IPAM DEL runs, a warning says why.
    conf, result = added
    run = macvlan.ok("DEL", dict(conf, prevResult=prev_result), pod)
    assert "goes on without prevResult" in run.stderr and complaint in run.stderr, run.stderr
    assert_only_lo(pod)
    assert released(host_local_dir, conf)


def test_add_and_check_still_refuse_a_malformed_prev_result(lab, macvlan, pod, host_local_dir, added):
    conf, result = added
    bad = dict(conf, prevResult={"cniVersion": "1.0.0", "ips": [{"address": "junk"}]})
    assert_cni_error(macvlan("CHECK", bad, pod), 6, "prevResult", "junk")
    assert_cni_error(macvlan("ADD", bad, pod, ifname="net1"), 6, "prevResult", "junk")
    assert [link["ifname"] for link in pod.links()] == ["lo", "eth0"]
    assert len(reservations(host_local_dir, conf["name"])) == 1


# --- only our macvlan is deleted


def add_link(lab, pod, kind):
    """eth0 of `kind` in the pod; skips when the kernel cannot make one."""
    peer = ("peer", "name", f"{lab.id}vp") if kind == "veth" else ()
    try:
        pod.ip("link", "add", "eth0", "type", kind, *peer)
    except CommandError as e:
        if "Unknown device type" not in e.stderr:
            raise
        pytest.skip(f"this kernel has no {kind} links")


@pytest.mark.parametrize("kind", ["veth", "dummy", "bridge"])
def test_del_leaves_a_link_of_another_kind(lab, macvlan, pod, host_local_dir, kind):
    # Attacks DEL trusting CNI_IFNAME: the reference deletes whatever link has the name.
    add_link(lab, pod, kind)
    conf = macvlan_conf(lab, "1.0.0", ipam=host_local_ipam(lab, host_local_dir))
    run = macvlan.ok("DEL", conf, pod)
    assert pod.link("eth0")["linkinfo"]["info_kind"] == kind
    assert f"leaves eth0 in {pod.path} alone: it is a {kind} link, not a macvlan" in run.stderr, run.stderr


def test_del_leaves_a_link_without_a_kind(lab, macvlan, pod, host_local_dir):
    # lo stands for a physical device. The kernel refuses to delete lo: a DEL that tried
    # would fail at every retry.
    run = macvlan.ok("DEL", macvlan_conf(lab, "1.0.0", ipam=host_local_ipam(lab, host_local_dir)), pod, ifname="lo")
    assert "it is a plain link, not a macvlan" in run.stderr, run.stderr


def test_del_leaves_a_macvlan_with_another_mac_than_prev_result(macvlan, pod, host_local_dir, added):
    # Attacks DEL of a macvlan that took the name after ours went: prevResult gives our MAC.
    conf, result = added
    mac = pod.link("eth0")["address"]
    other = dict(result, interfaces=[dict(result["interfaces"][0], mac="02:63:6e:74:99:99")])
    run = macvlan.ok("DEL", dict(conf, prevResult=other), pod)
    assert pod.link("eth0")["address"] == mac
    assert f"its MAC is {mac} and prevResult says 02:63:6e:74:99:99" in run.stderr, run.stderr
    assert released(host_local_dir, conf)  # the attachment's IPAM allocation goes all the same


def test_del_deletes_our_macvlan_whatever_the_case_of_the_mac(macvlan, pod, host_local_dir, added):
    conf, result = added
    upper = dict(result, interfaces=[dict(result["interfaces"][0], mac=result["interfaces"][0]["mac"].upper())])
    macvlan.ok("DEL", dict(conf, prevResult=upper), pod)
    assert_only_lo(pod)
    assert released(host_local_dir, conf)
