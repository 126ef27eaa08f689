"""`"podMac": true`: the macvlan's MAC derived from the pod's namespace and name, the
network and the interface, so that a pod created again (a new container ID, maybe on
another node) has the same MAC, and a DHCP server can reserve its address by MAC."""

from __future__ import annotations

import pytest

from dhcp_fixtures import dhcp_conf
from lab import Reservation
from macvlan_helpers import assert_cni_error, assert_only_lo, macvlan, macvlan_conf, static_ipam  # noqa: F401

pytestmark = pytest.mark.usefixtures("require_root")


def k8s(name: str, namespace: str = "shop") -> dict:
    return {"IgnoreUnknown": "1", "K8S_POD_NAMESPACE": namespace, "K8S_POD_NAME": name}


def static_conf(lab, host: int, **keys) -> dict:
    return macvlan_conf(lab, ipam=static_ipam([{"address": f"{lab.address(host)}/24"}]), podMac=True, **keys)


def mac_of(result: dict) -> str:
    [iface] = [i for i in result["interfaces"] if i.get("sandbox")]
    return iface["mac"]


def test_the_same_pod_gets_the_same_mac_back(lab, macvlan):
    conf = static_conf(lab, 20)
    first_pod, again_pod = lab.add_pod(), lab.add_pod()
    first = macvlan.add(conf, first_pod, container_id="cnt-first", args=k8s("web-0"))
    mac = mac_of(first)
    assert first_pod.link("eth0")["address"] == mac
    assert int(mac.split(":")[0], 16) & 0x03 == 0x02, mac  # locally administered, unicast
    macvlan.ok("DEL", dict(conf, prevResult=first), first_pod, container_id="cnt-first", args=k8s("web-0"))
    again = macvlan.add(conf, again_pod, container_id="cnt-again", args=k8s("web-0"))
    assert mac_of(again) == mac and again_pod.link("eth0")["address"] == mac


def test_other_pods_networks_and_interfaces_get_other_macs(lab, macvlan):
    conf = static_conf(lab, 20)
    macs = {mac_of(macvlan.add(conf, lab.add_pod(), container_id="cnt-a", args=k8s("web-0"))),
            mac_of(macvlan.add(conf, lab.add_pod(), container_id="cnt-b", args=k8s("web-1"))),
            mac_of(macvlan.add(conf, lab.add_pod(), container_id="cnt-c", args=k8s("web-0", "other"))),
            mac_of(macvlan.add(conf, lab.add_pod(), container_id="cnt-d", args=k8s("web-0"), ifname="net1"))}
    assert len(macs) == 4, macs


def test_a_mac_given_outright_wins(lab, macvlan, pod):
    conf = static_conf(lab, 20, mac="02:00:00:aa:bb:cc")
    assert mac_of(macvlan.add(conf, pod, args=k8s("web-0"))) == "02:00:00:aa:bb:cc"


def test_the_pods_names_need_no_ignore_unknown_with_pod_mac(lab, macvlan, pod):
    """Without podMac, K8S_POD_* need IgnoreUnknown as the reference wants
    (test_macvlan_config.py); with it they are keys the plugin reads. (L2 only: the
    reference's static IPAM would refuse them itself.)"""
    args = "K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-0"
    result = macvlan.add(macvlan_conf(lab, podMac=True), pod, args=args)
    assert mac_of(result) == derived_mac(f"shop/web-0/{lab.id}-net/eth0")


def test_without_the_pods_names_add_fails_and_del_passes(lab, macvlan, pod):
    conf = static_conf(lab, 20)
    run = macvlan("ADD", conf, pod)
    error = assert_cni_error(run, 7, "podMac", "K8S_POD_NAMESPACE", "K8S_POD_NAME")
    assert "podman" in error["details"], error
    assert_only_lo(pod)
    macvlan.ok("DEL", conf, pod)  # DEL needs no MAC


def test_a_reservation_by_mac_is_honoured(lab, macvlan, dhcp_daemon):
    """The MAC is known before the pod exists (computed as the docs say), so the server
    can hold an address for it: the pod gets it at its first ADD and after a re-creation."""
    conf = dict(dhcp_conf(lab, dhcp_daemon), podMac=True)
    reserved = lab.address(42)
    mac = derived_mac(f"shop/db-0/{conf['name']}/eth0")
    lab.start_dnsmasq(pool=(lab.address(100), lab.address(110)), reservations=[Reservation(ip=reserved, mac=mac)])
    for container in ("cnt-db-1", "cnt-db-2"):
        pod = lab.add_pod()
        result = macvlan.add(conf, pod, container_id=container, args=k8s("db-0"))
        assert mac_of(result) == mac and result["ips"][0]["address"] == f"{reserved}/24", result
        macvlan.ok("DEL", dict(conf, prevResult=result), pod, container_id=container, args=k8s("db-0"))


def derived_mac(text: str) -> str:
    """The derivation as docs/macvlan.md gives it to operators: FNV-1a (64 bits) of
    "<namespace>/<name>/<network>/<ifname>", its low 48 bits, the first octet made
    locally administered and unicast."""
    value = 0xcbf29ce484222325
    for byte in text.encode():
        value = ((value ^ byte) * 0x100000001b3) % 2**64
    octets = list((value % 2**48).to_bytes(6, "big"))
    octets[0] = (octets[0] & ~0x01) | 0x02
    return ":".join(f"{o:02x}" for o in octets)
