"""Thousands of macvlans in bridge mode on one master, and what `bcqueuelen` does there.

Measured on this lab's kernel (the numbers are in docs/macvlan.md):

- A broadcast a pod sends in bridge mode is first copied to every other bridge-mode
  macvlan of the master, all at once, into the CPU's backlog queue
  (net.core.netdev_max_backlog, 1,000 packets). Past about 1,000 ports the backlog is full
  before the frame itself goes out; on a veth master (the lab's) the veth then drops it
  too and the sender gets ENOBUFS: the daemon's DHCPDISCOVERs fail with "No buffer
  space available" (and again when it tries them again), none reaches the server, and
  the ADD fails with "no DHCPOFFER". A `bcqueuelen` of 4096 changes nothing there:
  that queue holds broadcasts arriving from the LAN, not the ones pods send. With 900
  ports the same ADD succeeds.
- A master that transmits from a ring of its own, as a physical NIC does (the lab's veth
  in NAPI mode: Lab(napi=True)), sends the frame anyway: 2,000 pods in bridge mode all get
  their leases, with the default `bcqueuelen`.
- `bcqueuelen` bounds the broadcasts that arrive from the LAN and wait to be copied to
  the master's macvlans: a burst of 2,500 broadcast frames reaches a pod only in part
  with the default 1,000, and whole once one ADD with `"bcqueuelen": 4096` has raised
  the master's queue (the master uses the largest any of its macvlans asks for).

About 1.5 minutes on 2 cores.
"""

from __future__ import annotations

import ipaddress
import re
import shutil
import time

import pytest

from conftest import failed_so_far
from dhcp_fixtures import DhcpDaemon, dhcp_conf
from lab import Lab, Netns, addresses_in, attach_many
from macvlan_helpers import SANITIZER_MARKERS

pytestmark = pytest.mark.usefixtures("require_root")

PODS = 2000
PARALLEL = 8             # ADDs at a time on the master's node
RAISED_BCQUEUELEN = 4096  # above the 2,000 ports and a burst's worth of broadcasts
BURST = 2500             # broadcast frames sent from the LAN at once
FAST_FAIL = "3s"         # ipam.timeout for ADDs expected to fail
BELOW = 900              # ports on a master below the backlog's 1,000
PAST_GROUP = 7           # the link group of the ports past BELOW


def used_bcqueuelen(netns: Netns, ifname: str) -> int:
    """The broadcast queue length the macvlan's master uses (the largest any asks for)."""
    return int(re.search(r"usedbcqueuelen (\d+)", netns.ip("-d", "link", "show", ifname)).group(1))


def rx_packets(netns: Netns, ifname: str) -> int:
    return netns.ip_json("-s", "link", "show", ifname)[0]["stats64"]["rx"]["packets"]


def rx_dropped(netns: Netns, ifname: str) -> int:
    return netns.ip_json("-s", "link", "show", ifname)[0]["stats64"]["rx"]["dropped"]


BURST_SCRIPT = r"""
import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
# Ethernet broadcast, ethertype 0x88b5 (IEEE local experimental): no host answers it.
frame = b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x09" + b"\x88\xb5" + bytes(100)
sent = 0
while sent < int(sys.argv[2]):
    try:
        s.send(frame)
        sent += 1
    except OSError:  # the veth's ring is full for a moment
        time.sleep(0.001)
print(sent)
"""


def broadcast_burst(lab: Lab, pods: list[Netns]) -> list[int]:
    """BURST broadcast frames from the LAN side at once; how many each of `pods` received
    (its eth0's packet count, so other traffic only adds)."""
    before = [rx_packets(pod, "eth0") for pod in pods]
    sent = int(lab.lan.exec(["/usr/bin/python3", "-c", BURST_SCRIPT, lab.lan_if, str(BURST)]).stdout)
    assert sent == BURST
    time.sleep(3)  # the master's worker copies each frame to every port
    return [rx_packets(pod, "eth0") - b for pod, b in zip(pods, before)]


def test_past_1000_bridge_ports_a_pods_broadcasts_fail_and_bcqueuelen_does_not_help(lab, macvlan, start_daemon):
    # At debug level the daemon logs every refused send, also those its retries cover.
    dhcp_daemon = start_daemon("--log-level", "debug")
    server = lab.start_dnsmasq()
    conf = dhcp_conf(lab, dhcp_daemon, "1.0.0", timeout=FAST_FAIL)
    conf["mode"] = "bridge"
    ports = lab.add_ports(BELOW - 2)  # with the pod: BELOW ports
    lab.add_ports(PODS - BELOW, group=PAST_GROUP)
    lan_dropped = rx_dropped(lab.lan, lab.lan_if)

    # Default bcqueuelen, 1,999 ports: the DISCOVERs never leave the node.
    failed = macvlan("ADD", conf, lab.add_pod(), container_id="cnt-past-backlog")
    assert failed.code != 0 and failed.output["code"] == 104, failed
    assert "no DHCPOFFER" in failed.output["msg"], failed.output
    # The bcqueuelen asked for by one more port raises the master's queue for all of them.
    lab.add_ports(1, bcqueuelen=RAISED_BCQUEUELEN)
    assert used_bcqueuelen(lab.node, ports[0]) == RAISED_BCQUEUELEN
    raised = macvlan("ADD", {**conf, "bcqueuelen": RAISED_BCQUEUELEN}, lab.add_pod(),
                     container_id="cnt-past-backlog-raised")
    assert raised.code != 0 and raised.output["code"] == 104, raised
    log = dhcp_daemon.log()
    for key in ("cnt-past-backlog/", "cnt-past-backlog-raised/"):
        refused = [line for line in log.splitlines()
                   if key in line and "sending DHCPDISCOVER" in line and "No buffer space available" in line]
        assert refused, f"{key}: no ENOBUFS in the daemon's log:\n{log[-3000:]}"
    assert "DHCPDISCOVER(" not in server.log(), "a DISCOVER reached the server"
    assert rx_dropped(lab.lan, lab.lan_if) > lan_dropped, "the veth did not count the drops"

    # Down to 900 ports: the same ADD succeeds.
    lab.delete_ports(PAST_GROUP)
    ok = macvlan.add(conf, lab.add_pod(), container_id="cnt-below-backlog")
    assert ok["ips"], ok


def test_2000_bridge_pods_on_a_master_with_its_own_transmit_ring(require_root, macvlan_bin, cni_bin_dir,
                                                                 start_daemon_in, capsys):
    lab, daemon = start_daemon_in
    server = lab.start_dnsmasq(pool=(lab.address(256), lab.address(lab.network.num_addresses - 2)),
                               lease_time=3600, extra=["--dhcp-lease-max=4000"])
    conf = dhcp_conf(lab, daemon, "1.0.0")
    conf["mode"] = "bridge"
    pods = lab.add_pods(PODS)
    started = time.monotonic()
    attachments = attach_many(lab, macvlan_bin, [(lab.node, conf, pod, f"cnt-bridge-{i:04d}")
                                                 for i, pod in enumerate(pods)],
                              cni_path=cni_bin_dir, per_node=PARALLEL)
    add_s = time.monotonic() - started
    failed = [a for a in attachments if not a.ok]
    assert not failed, f"{len(failed)} ADDs failed, first: {failed[0].run}"
    cidrs = {a.pod.path: a.cidr for a in attachments}
    assert len(set(cidrs.values())) == PODS, "two pods got the same address"
    for cidr in cidrs.values():
        assert ipaddress.ip_interface(cidr).network == lab.network, cidr
    held = addresses_in(pods)
    wrong = [p for p, cidr in cidrs.items() if [f"{e['local']}/{e['prefixlen']}" for e in held[p]] != [cidr]]
    assert not wrong, f"{len(wrong)} pods do not hold their address"
    listed = daemon.list()
    assert len(listed) == PODS and {e["state"] for e in listed} == {"BOUND"}
    assert len(server.leases()) == PODS
    assert used_bcqueuelen(pods[0], "eth0") == 1000, "the default queue was not in use"

    # bcqueuelen's own job: broadcasts arriving from the LAN in a burst.
    sample = [pods[0], pods[PODS // 2], pods[-1]]
    short = broadcast_burst(lab, sample)
    assert all(n < BURST * 0.8 for n in short), f"a burst of {BURST} reached the pods whole: {short}"
    extra = lab.add_pod()
    raised = attach_many(lab, macvlan_bin, [(lab.node, {**conf, "bcqueuelen": RAISED_BCQUEUELEN}, extra,
                                             "cnt-bridge-raise")], cni_path=cni_bin_dir)[0]
    assert raised.ok, raised.run
    assert used_bcqueuelen(pods[0], "eth0") == RAISED_BCQUEUELEN
    whole = broadcast_burst(lab, sample)
    assert all(n >= BURST for n in whole), f"a burst of {BURST} with bcqueuelen {RAISED_BCQUEUELEN}: {whole}"
    latencies = sorted(a.seconds for a in attachments)
    with capsys.disabled():
        print(f"\nscale bridge: {PODS} pods in bridge mode bound in {add_s:.1f} s "
              f"(p50 {latencies[PODS // 2] * 1000:.0f} ms, p95 {latencies[int(PODS * .95)] * 1000:.0f} ms); "
              f"a burst of {BURST} broadcasts reached {short} of 3 pods with bcqueuelen 1000, "
              f"{whole} with {RAISED_BCQUEUELEN}", flush=True)


@pytest.fixture
def start_daemon_in(require_root, dhcp_bin, request):
    """A lab of one node whose veth receives through NAPI rings (Lab(napi=True)) in a /20,
    and a daemon in it; pods deleted at once at the end, after the daemon stopped (so
    nothing is released)."""
    if not shutil.which("ethtool"):
        pytest.fail("ethtool not found: run scripts/install-deps.sh", pytrace=False)
    lab = Lab(napi=True, prefixlen=20)
    daemon = None
    try:
        daemon = DhcpDaemon(lab, dhcp_bin, lab.workdir / "dhcp.sock")
        yield lab, daemon
    finally:
        if failed_so_far(request):
            print(lab.describe(pods=False))
        if daemon is not None:
            daemon.stop()
        lab.delete_pods()
        lab.close()
    for marker in SANITIZER_MARKERS:
        assert marker not in daemon.log(), f"sanitizer report from the daemon:\n{daemon.log()}"
