"""ipam.identity "pod": the DHCP client identifier made of the Kubernetes pod's
namespace and name (type 0, then "<namespace>/<name>/<network>/<ifname>"), so that a
pod created again under its name, with a new container ID and a new macvlan MAC, is
the same client to the server and gets the same address; a DEL sends no DHCPRELEASE
for it. Against dnsmasq and Kea: the same address again, two pods two addresses, a
reservation by client identifier (ISC dhcpd too), the overlap rule (a new pod before
the old one's DEL: refused while the old namespace exists, taken over once it is gone,
and the old DEL then releases nothing), and the clear error without K8S_POD_* in
CNI_ARGS (podman, plain CNI)."""

import json
import time

import pytest

from dhcp_fixtures import dhcp_conf, lease_active
from lab import Reservation, run
from macvlan_helpers import assert_cni_error, assert_only_lo, macvlan  # noqa: F401

pytestmark = pytest.mark.usefixtures("require_root")

SERVERS = ["dnsmasq", "kea"]
NAMESPACE = "shop"


def pod_args(name, namespace=NAMESPACE, container_id="cnt-infra"):
    """CNI_ARGS as kubelet passes them through containerd."""
    return {"IgnoreUnknown": "1", "K8S_POD_NAMESPACE": namespace, "K8S_POD_NAME": name,
            "K8S_POD_INFRA_CONTAINER_ID": container_id, "K8S_POD_UID": "0d1e2f"}


def pod_client_id(conf, name, namespace=NAMESPACE, ifname="eth0") -> bytes:
    """Option 61 as docs/dhcp.md documents it for "identity": "pod"."""
    return b"\x00" + f"{namespace}/{name}/{conf['name']}/{ifname}".encode()


def hex_colon(data: bytes) -> str:
    return data.hex(":")


def identity_conf(lab, daemon):
    return dhcp_conf(lab, daemon, "1.0.0", identity="pod")


def address_of(pod):
    [cidr] = pod.cidrs("eth0")
    return cidr.split("/")[0]


def add(macvlan, conf, pod, container_id, name):
    macvlan.add(conf, pod, container_id=container_id, args=pod_args(name, container_id=container_id))
    return address_of(pod)


def server_client_id(server, ip):
    lease = server.lease_for(ip=ip)
    assert lease is not None, f"{server.kind} holds no lease for {ip}: {server.leases()}"
    return (lease.client_id or "").lower()


@pytest.mark.parametrize("kind", SERVERS)
def test_a_pod_created_again_under_its_name_gets_its_address(lab, macvlan, dhcp_daemon, sniffer, kind):
    server = getattr(lab, f"start_{kind}")()
    conf = identity_conf(lab, dhcp_daemon)
    first, second = lab.add_pod(), lab.add_pod()

    ip = add(macvlan, conf, first, "cnt-web0-a", "web-0")
    old_mac = first.link("eth0")["address"]
    assert server_client_id(server, ip) == hex_colon(pod_client_id(conf, "web-0"))
    # The record keeps the identifier's octets and says it is a pod's.
    [record] = [json.loads(p.read_text()) for p in dhcp_daemon.state_dir.iterdir() if p.suffix == ".json"]
    assert record["identity"] == "pod"
    assert bytes.fromhex(record["client"]["clientId"]) == pod_client_id(conf, "web-0")

    macvlan.ok("DEL", conf, first, container_id="cnt-web0-a", args=pod_args("web-0"))
    first.delete()
    # No DHCPRELEASE: the server still binds the address to the pod's identifier.
    assert sniffer.messages("RELEASE") == []
    assert lease_active(server, ip), server.leases()
    assert dhcp_daemon.list() == []

    # The StatefulSet's web-0 again: a new sandbox, container ID and MAC.
    again = add(macvlan, conf, second, "cnt-web0-b", "web-0")
    assert second.link("eth0")["address"] != old_mac
    assert again == ip
    assert server_client_id(server, ip) == hex_colon(pod_client_id(conf, "web-0"))
    [entry] = dhcp_daemon.list()
    assert (entry["containerID"], entry["podNamespace"], entry["podName"]) == ("cnt-web0-b", NAMESPACE, "web-0")


@pytest.mark.parametrize("kind", SERVERS)
def test_two_pods_get_two_addresses(lab, macvlan, dhcp_daemon, kind):
    server = getattr(lab, f"start_{kind}")()
    conf = identity_conf(lab, dhcp_daemon)
    web0, web1 = lab.add_pod(), lab.add_pod()

    ip0 = add(macvlan, conf, web0, "cnt-web0", "web-0")
    ip1 = add(macvlan, conf, web1, "cnt-web1", "web-1")
    assert ip0 != ip1
    assert server_client_id(server, ip0) == hex_colon(pod_client_id(conf, "web-0"))
    assert server_client_id(server, ip1) == hex_colon(pod_client_id(conf, "web-1"))


@pytest.mark.parametrize("kind", [*SERVERS, "dhcpd"])
def test_a_reservation_by_client_id_is_honoured(lab, macvlan, dhcp_daemon, kind):
    conf = identity_conf(lab, dhcp_daemon)
    reserved = lab.address(50)  # outside the pool (.100-.199): only the reservation gives it
    getattr(lab, f"start_{kind}")(reservations=[Reservation(ip=reserved, client_id=pod_client_id(conf, "db-0"))])
    first, second, other = lab.add_pod(), lab.add_pod(), lab.add_pod()

    assert add(macvlan, conf, first, "cnt-db0-a", "db-0") == reserved
    # Another pod does not get it, and the same pod's next container does.
    assert add(macvlan, conf, other, "cnt-db1", "db-1") != reserved
    macvlan.ok("DEL", conf, first, container_id="cnt-db0-a", args=pod_args("db-0"))
    assert add(macvlan, conf, second, "cnt-db0-b", "db-0") == reserved


@pytest.mark.parametrize("kind", SERVERS)
def test_a_new_pod_while_the_old_one_lives_is_refused_until_its_del(lab, macvlan, dhcp_daemon, sniffer, kind):
    server = getattr(lab, f"start_{kind}")()
    conf = identity_conf(lab, dhcp_daemon)
    old, new = lab.add_pod(), lab.add_pod()
    ip = add(macvlan, conf, old, "cnt-old", "web-0")

    run = macvlan("ADD", conf, new, container_id="cnt-new", args=pod_args("web-0"))
    assert_cni_error(run, 11, f"cnt-new/{conf['name']}/eth0: the DHCP client identifier is in use by "
                              f"cnt-old/{conf['name']}/eth0, whose pod in {old.path} still exists",
                     "two live pods cannot share one identity")
    assert_only_lo(new)  # macvlan took its link back
    # The old pod is untouched.
    assert address_of(old) == ip
    assert [e["containerID"] for e in dhcp_daemon.list()] == ["cnt-old"]

    # The old pod's DEL comes; the runtime's retry then succeeds, with the address.
    macvlan.ok("DEL", conf, old, container_id="cnt-old", args=pod_args("web-0"))
    assert add(macvlan, conf, new, "cnt-new", "web-0") == ip
    assert sniffer.messages("RELEASE") == []
    assert lease_active(server, ip)


@pytest.mark.parametrize("kind", SERVERS)
def test_a_new_pod_takes_over_when_the_old_namespace_is_gone(lab, macvlan, dhcp_daemon, sniffer, kind):
    server = getattr(lab, f"start_{kind}")()
    conf = identity_conf(lab, dhcp_daemon)
    old, new = lab.add_pod(), lab.add_pod()
    old_path = old.path
    ip = add(macvlan, conf, old, "cnt-old", "web-0")

    # The old sandbox's namespace goes, its DEL not yet come. Unmounted rather than
    # deleted, so that no file system event makes the daemon look at once: the ADD
    # below, within milliseconds, finds the old lease still held (its scan looks at
    # each lease about once a second).
    run(["umount", old_path])
    assert add(macvlan, conf, new, "cnt-new", "web-0") == ip
    log = dhcp_daemon.log()
    assert ("handed-over" in log and f"cnt-new/{conf['name']}/eth0 takes over its client identifier" in log) or \
        "its pod network namespace is gone" in log, log  # the scan, seldom, came first: the same outcome
    old.delete()

    # The old pod's DEL, late, with its namespace gone: nothing to release.
    macvlan.ok("DEL", conf, old_path, container_id="cnt-old", args=pod_args("web-0"))
    time.sleep(1.5)  # the daemon's scan has looked at every lease since
    [entry] = dhcp_daemon.list()
    assert (entry["containerID"], entry["address"].split("/")[0], entry["state"]) == ("cnt-new", ip, "BOUND")
    assert address_of(new) == ip
    assert sniffer.messages("RELEASE") == []
    assert lease_active(server, ip), server.leases()
    assert server_client_id(server, ip) == hex_colon(pod_client_id(conf, "web-0"))


@pytest.mark.parametrize("args, missing", [
    (None, "K8S_POD_NAMESPACE and K8S_POD_NAME"),
    ({"IgnoreUnknown": "1", "K8S_POD_NAME": "web-0"}, "K8S_POD_NAMESPACE"),
    ({"IgnoreUnknown": "1", "K8S_POD_NAMESPACE": NAMESPACE}, "K8S_POD_NAME"),
])
def test_without_the_pods_names_the_add_fails_clearly(lab, macvlan, pod, dhcp_daemon, sniffer, args, missing):
    lab.start_dnsmasq()
    conf = identity_conf(lab, dhcp_daemon)

    run = macvlan("ADD", conf, pod, container_id="cnt-podman", args=args)
    assert_cni_error(run, 7, f'IPAM plugin dhcp: ipam.identity "pod" needs K8S_POD_NAMESPACE and K8S_POD_NAME in '
                             f"CNI_ARGS; the runtime passed no {missing}",
                     "kubelet does, through containerd or CRI-O", '"identity": "container"')
    assert_only_lo(pod)
    assert sniffer.messages("DISCOVER") == []
    assert dhcp_daemon.list() == []
    # A DEL never needs them.
    macvlan.ok("DEL", conf, pod, container_id="cnt-podman", args=args)
