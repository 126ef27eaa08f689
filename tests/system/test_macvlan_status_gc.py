"""STATUS and GC (spec 1.1.0): STATUS looks at the master, then asks IPAM; GC
has no links to collect and forwards to IPAM. Debian's host-local and static
stop at 1.0.0, so the scriptable IPAM plugin plays a 1.1.0 one."""

import pytest

from macvlan_helpers import assert_cni_error, host_local_ipam, macvlan_conf, reservations

pytestmark = pytest.mark.usefixtures("require_root")

# STATUS and GC are about the network, not a container: libcni sets none of these.
NO_CONTAINER = dict(container_id=None, ifname=None)


def status(macvlan, conf, **kwargs):
    return macvlan("STATUS", conf, None, **NO_CONTAINER, **kwargs)


def gc(macvlan, conf, **kwargs):
    return macvlan("GC", conf, None, **NO_CONTAINER, **kwargs)


# --- STATUS


@pytest.mark.parametrize("ipam", [None, {}])
def test_status_ready_when_the_master_is_up(lab, macvlan, ipam):
    run = status(macvlan, macvlan_conf(lab, "1.1.0", ipam=ipam))
    assert (run.code, run.stdout) == (0, ""), run


def test_status_finds_the_default_master(lab, macvlan):
    run = status(macvlan, macvlan_conf(lab, "1.1.0", master=None))
    assert (run.code, run.stdout) == (0, ""), run
    lab.node.ip("route", "del", "default")
    assert_cni_error(status(macvlan, macvlan_conf(lab, "1.1.0", master=None)), 50, "no default route")


def test_status_50_when_the_master_is_down(lab, macvlan):
    lab.node.ip("link", "set", lab.node.master, "down")
    assert_cni_error(status(macvlan, macvlan_conf(lab, "1.1.0")), 50, lab.node.master, "down")
    lab.node.set_up(lab.node.master)
    assert status(macvlan, macvlan_conf(lab, "1.1.0")).code == 0


def test_status_50_when_the_master_is_missing(lab, macvlan):
    conf = macvlan_conf(lab, "1.1.0", master=f"{lab.id}zz")
    assert_cni_error(status(macvlan, conf), 50, f"{lab.id}zz", "not found")


def test_status_asks_ipam_only_when_the_master_is_fine(lab, macvlan, fake_ipam):
    conf = macvlan_conf(lab, "1.1.0", ipam=fake_ipam.ipam())
    run = status(macvlan, conf, cni_path=fake_ipam.cni_path)
    assert (run.code, run.stdout) == (0, ""), run
    [call] = fake_ipam.calls()
    assert call["command"] == "STATUS" and call["stdin"] == conf

    fake_ipam.answer("STATUS", error={"cniVersion": "1.1.0", "code": 51, "msg": "pool exhausted"})
    assert_cni_error(status(macvlan, conf, cni_path=fake_ipam.cni_path), 51, "pool exhausted")

    lab.node.ip("link", "set", lab.node.master, "down")
    assert_cni_error(status(macvlan, conf, cni_path=fake_ipam.cni_path), 50, "down")
    assert fake_ipam.commands() == ["STATUS", "STATUS"]  # not asked with the master down


def host_local_says(lab, command, conf, reference_plugins):
    """host-local's own answer to `command`, run as we run it (no container variables)."""
    run = lab.run_plugin(reference_plugins / "host-local", command, conf, cni_path=reference_plugins,
                         **NO_CONTAINER)
    assert run.code != 0 and isinstance(run.output, dict), run
    return run.output


def test_status_with_host_local_passes_on_its_answer(lab, macvlan, host_local_dir, reference_plugins):
    # Debian's host-local (1.1.1) predates STATUS: it fails, and the operator sees its words.
    conf = macvlan_conf(lab, "1.1.0", ipam=host_local_ipam(lab, host_local_dir))
    direct = host_local_says(lab, "STATUS", conf, reference_plugins)
    assert_cni_error(status(macvlan, conf), direct["code"], f"IPAM plugin host-local: {direct['msg']}")


@pytest.mark.parametrize("command", ["STATUS", "GC"])
def test_status_and_gc_need_spec_1_1_0(lab, macvlan, command):
    run = macvlan(command, macvlan_conf(lab, "1.0.0"), None, **NO_CONTAINER)
    assert_cni_error(run, 1, command, "1.1.0")


# --- GC


def gc_conf(lab, ipam, valid):
    return macvlan_conf(lab, "1.1.0", ipam=ipam, **{
        "cni.dev/valid-attachments": valid,
        "cni.dev/attachments": valid,  # libcni sends the older key too
    })


def test_gc_without_ipam_has_nothing_to_do(lab, macvlan, pod):
    macvlan.add(macvlan_conf(lab, "1.1.0"), pod)
    run = gc(macvlan, gc_conf(lab, None, []))
    assert (run.code, run.stdout) == (0, ""), run
    assert pod.link("eth0") is not None  # links die with their containers, not by GC


def test_gc_is_forwarded_to_ipam_as_received(lab, macvlan, fake_ipam):
    valid = [{"containerID": "cnt-c0", "ifname": "eth0"}, {"containerID": "cnt-c1", "ifname": "net1"}]
    conf = gc_conf(lab, fake_ipam.ipam(), valid)
    run = gc(macvlan, conf, cni_path=fake_ipam.cni_path)
    assert (run.code, run.stdout) == (0, ""), run
    [call] = fake_ipam.calls()
    assert call["command"] == "GC" and call["stdin"] == conf
    assert "CNI_NETNS" not in call["env"] and "CNI_CONTAINERID" not in call["env"], call["env"]

    fake_ipam.answer("GC", error={"cniVersion": "1.1.0", "code": 5, "msg": "store unreadable"})
    assert_cni_error(gc(macvlan, conf, cni_path=fake_ipam.cni_path), 5, "store unreadable")


def test_gc_with_host_local_passes_on_its_answer(lab, macvlan, pod, host_local_dir, reference_plugins):
    # Debian's host-local (1.1.1) has no GC: it fails, its words reach the operator, and
    # nothing is released behind anyone's back.
    add_conf = macvlan_conf(lab, "1.0.0", ipam=host_local_ipam(lab, host_local_dir))
    macvlan.add(add_conf, pod)
    before = reservations(host_local_dir, add_conf["name"])
    conf = gc_conf(lab, host_local_ipam(lab, host_local_dir), [])
    direct = host_local_says(lab, "GC", conf, reference_plugins)
    assert_cni_error(gc(macvlan, conf), direct["code"], f"IPAM plugin host-local: {direct['msg']}")
    assert reservations(host_local_dir, add_conf["name"]) == before != {}
