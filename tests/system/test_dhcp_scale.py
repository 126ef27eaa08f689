"""Many pods at once: 100 ADDs, 25 running at a time (as a node starting a burst of
pods does), each pod gets its own address from dnsmasq and the daemon holds 100
leases; then 100 DELs, 25 at a time, release every one of them (dnsmasq's lease file
ends up empty) and the daemon holds none."""

import ipaddress
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from dhcp_fixtures import dhcp_conf
from lab import wait_until
from macvlan_helpers import assert_no_sanitizer_report

pytestmark = pytest.mark.usefixtures("require_root")

PODS = 100
PARALLEL = 25


def test_100_pods_25_at_a_time(lab, macvlan_bin, cni_bin_dir, dhcp_daemon):
    server = lab.start_dnsmasq(pool=(lab.address(20), lab.address(250)), extra=["--dhcp-lease-max=1000"])
    conf = dhcp_conf(lab, dhcp_daemon, "1.0.0")
    pods = [lab.add_pod() for _ in range(PODS)]

    def call(command, i):
        run = lab.run_plugin(macvlan_bin, command, conf, netns=pods[i], ifname="eth0",
                             container_id=f"cnt-burst-{i}", cni_path=cni_bin_dir, timeout=60)
        assert_no_sanitizer_report(run)
        return run

    started = time.monotonic()
    with ThreadPoolExecutor(PARALLEL) as pool:
        adds = list(pool.map(lambda i: call("ADD", i), range(PODS)))
    add_seconds = time.monotonic() - started
    failed = [(i, run.stdout, run.stderr) for i, run in enumerate(adds) if run.code != 0]
    assert not failed, f"{len(failed)} ADDs failed, first: {failed[0]}"

    addresses = [run.output["ips"][0]["address"] for run in adds]
    assert len(set(addresses)) == PODS, "two pods got the same address"
    for i, cidr in enumerate(addresses):
        assert ipaddress.ip_interface(cidr).network == lab.network, cidr
        assert pods[i].cidrs("eth0") == [cidr], (i, pods[i].addresses("eth0"))

    held = dhcp_daemon.list()
    assert len(held) == PODS and {entry["state"] for entry in held} == {"BOUND"}
    assert sorted(entry["address"] for entry in held) == sorted(addresses)
    assert dhcp_daemon.status()["leases"] == PODS
    leases = server.leases()
    assert sorted(f"{lease.ip}/24" for lease in leases) == sorted(addresses)
    assert len({lease.mac for lease in leases}) == PODS

    started = time.monotonic()
    with ThreadPoolExecutor(PARALLEL) as pool:
        dels = list(pool.map(lambda i: call("DEL", i), range(PODS)))
    del_seconds = time.monotonic() - started
    failed = [(i, run.stdout, run.stderr) for i, run in enumerate(dels) if (run.code, run.stdout) != (0, "")]
    assert not failed, f"{len(failed)} DELs failed, first: {failed[0]}"

    assert dhcp_daemon.list() == []
    wait_until(lambda: server.leases() == [], 10, "dnsmasq to release every lease")
    # dnsmasq's log lags behind its lease file.
    wait_until(lambda: server.log().count("DHCPRELEASE(") >= PODS, 5, "dnsmasq to log every DHCPRELEASE")
    assert server.log().count("DHCPRELEASE(") == PODS
    assert server.leases() == []
    for pod in pods:
        assert [link["ifname"] for link in pod.links()] == ["lo"]
    # Generous bounds: they catch serialisation (25 parallel calls waiting on one another
    # for seconds), not a slow machine.
    assert add_seconds < 30 and del_seconds < 20, (add_seconds, del_seconds)
