"""Many ADDs and DELs at once on one master, as a node starting and stopping
pods does: each plugin process races the others for the master and host-local's
store; all succeed, and nothing is left afterwards."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from macvlan_helpers import assert_only_lo, host_local_ipam, macvlan_conf, ping, reservations

pytestmark = pytest.mark.usefixtures("require_root")
PODS = 20


def in_parallel(fn, items):
    """Runs fn(item) for every item at the same time; returns the results in order."""
    with ThreadPoolExecutor(max_workers=len(items)) as pool:
        return list(pool.map(fn, items))


def test_concurrent_adds_and_dels(lab, macvlan, host_local_dir):
    conf = macvlan_conf(lab, ipam=host_local_ipam(lab, host_local_dir, first=100, last=199))
    pods = [lab.add_pod() for _ in range(PODS)]
    ids = [f"cnt-c{i}" for i in range(PODS)]

    adds = in_parallel(lambda i: macvlan("ADD", conf, pods[i], container_id=ids[i]), range(PODS))
    for run in adds:
        assert run.code == 0, run
    addresses = [run.output["ips"][0]["address"] for run in adds]
    macs = [run.output["interfaces"][0]["mac"] for run in adds]
    assert len(set(addresses)) == PODS, addresses
    assert len(set(macs)) == PODS, macs
    for pod, address, mac in zip(pods, addresses, macs):
        assert pod.cidrs("eth0") == [address]
        assert pod.link("eth0")["address"] == mac
    held = reservations(host_local_dir, conf["name"])
    assert sorted(held) == sorted(a.split("/")[0] for a in addresses)
    assert sorted(owner for owner, _ in held.values()) == sorted(ids)
    # They are on one segment: the first reaches the last, the last the router.
    assert ping(pods[0], addresses[-1].split("/")[0])
    assert ping(pods[-1], lab.router)

    dels = in_parallel(lambda i: macvlan("DEL", dict(conf, prevResult=adds[i].output), pods[i],
                                         container_id=ids[i]), range(PODS))
    for run in dels:
        assert (run.code, run.stdout) == (0, ""), run
    for pod in pods:
        assert_only_lo(pod)
    assert reservations(host_local_dir, conf["name"]) == {}
