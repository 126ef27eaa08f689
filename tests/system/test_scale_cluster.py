"""A simulated cluster: four nodes on one LAN segment (a bridge in the lan netns), one
dhcp daemon per node, one DHCP server for all of them outside the cluster, and 250 pods
per node attached with our macvlan + dhcp, three ADDs at a time on each node as each
node's runtime runs them, the nodes side by side.

Every pod's address and MAC go into the lan netns as permanent neighbour entries as
soon as its ADD returns (Lab.pin_neighbours): the kernel's neighbour table is shared by
every namespace of the machine and holds about 1,024 entries, and the lab leaves the
host's sysctls alone. dnsmasq needs them to answer renewals (it sends to the pod's
address through the kernel's ARP); Kea frames every reply to the client's MAC itself.

- dnsmasq (2-minute leases, its shortest): all 1,000 pods bound with distinct addresses,
  which the pods hold and the server's lease table and each node's `dhcp list` agree on;
  then one node's daemon killed (SIGKILL) and restarted takes its 250 leases back,
  BOUND on the same addresses, while the other daemons run on untouched.
- Kea (20-second leases, so that several renewals fit in the test): the same, then three
  lease times of renewals, during which one node's daemon is killed and restarted: every
  renewal that extends a lease comes by T2 (within the renewing series: T1 = 10 s, then
  4 s later and at T2 = 17.5 s), no pod ever lacks its address or sees its lifetime run
  out, the server's lease ends keep moving forward, no daemon logs a lease lost or
  expired; the restarted daemon's pods are renewed by it, the others' daemons keep
  their PIDs and their pods' renewals stay on time.

About 2.5 minutes on 2 cores.
"""

from __future__ import annotations

import calendar
import ipaddress
import re
import shutil
import signal
import threading
import time
from collections import defaultdict
from pathlib import Path

import pytest

from conftest import failed_so_far
from dhcp_fixtures import DhcpDaemon, dhcp_conf
from lab import Attachment, Lab, addresses_in, attach_many, run, wait_until
from macvlan_helpers import SANITIZER_MARKERS

pytestmark = pytest.mark.usefixtures("require_root")

NODES = 4
PODS_PER_NODE = 250
PER_NODE = 3              # ADDs at a time on each node
DNSMASQ_LEASE_S = 120     # dnsmasq's shortest lease
KEA_LEASE_S = 20          # T1 10 s, T2 17.5 s
WATCH_LEASES = 3          # lease times of renewals watched with Kea
ADD_TIMEOUT = "20s"       # ipam.timeout: a lost DISCOVER is retried within it
RESTART_BOUND_S = 10      # a restarted daemon has its 250 leases BOUND again within this
KILLED_NODE = 0

# "2026-12-02T08:55:26.817Z dhcp: <container>/<network>/<ifname>: renewed: ..."
EVENT = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z dhcp: (\S+): "
                   r"(bound|renewed|lost|expired|address-changed|failed|resumed in \S+)", re.M)


def log_events(text: str) -> list[tuple[float, str, str]]:
    """(Unix time, lease key, event) for each lease event a daemon logged."""
    found = []
    for m in EVENT.finditer(text):
        stamp, millis = m.group(1).split(".")
        when = calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%S")) + int(millis) / 1000
        found.append((when, m.group(2), m.group(3)))
    return found


class Cluster:
    """The lab's four nodes, each with its daemon slot (socket and state directory in the
    lab), and the pods attached to them."""

    def __init__(self, lab: Lab, dhcp_bin: Path, macvlan_bin: Path, cni_bin_dir: Path):
        self.lab, self.dhcp_bin, self.macvlan_bin, self.cni_bin_dir = lab, dhcp_bin, macvlan_bin, cni_bin_dir
        self.daemons: list[list[DhcpDaemon]] = [[] for _ in lab.nodes]  # every daemon each node ran
        self.attachments: list[Attachment] = []
        for i in range(len(lab.nodes)):
            self.start_daemon(i)

    def start_daemon(self, i: int) -> DhcpDaemon:
        daemon = DhcpDaemon(self.lab, self.dhcp_bin, self.lab.workdir / f"dhcp{i}.sock", netns=self.lab.nodes[i],
                            state_dir=self.lab.workdir / f"dhcp-state{i}")
        self.daemons[i].append(daemon)
        return daemon

    def daemon(self, i: int) -> DhcpDaemon:
        return self.daemons[i][-1]

    def conf(self, i: int) -> dict:
        conf = dhcp_conf(self.lab, self.daemon(i), "1.0.0", timeout=ADD_TIMEOUT)
        conf["master"] = self.lab.nodes[i].master
        return conf

    def attach_all(self) -> list[Attachment]:
        pods = self.lab.add_pods(len(self.lab.nodes) * PODS_PER_NODE)
        jobs = [(self.lab.nodes[n % len(self.lab.nodes)], self.conf(n % len(self.lab.nodes)), pod,
                 f"scale-n{n % len(self.lab.nodes)}-p{n // len(self.lab.nodes):03d}")
                for n, pod in enumerate(pods)]
        self.attachments = attach_many(self.lab, self.macvlan_bin, jobs, cni_path=self.cni_bin_dir,
                                       per_node=PER_NODE)
        return self.attachments

    def on_node(self, i: int) -> list[Attachment]:
        return [a for a in self.attachments if a.node is self.lab.nodes[i]]

    def events(self, i: int) -> list[tuple[float, str, str]]:
        """Lease events of every daemon node i ran, in order."""
        return [e for daemon in self.daemons[i] for e in log_events(daemon.log())]

    def stop(self) -> None:
        for runs in self.daemons:
            for daemon in runs:
                daemon.stop()

    def sanitizer_reports(self) -> list[str]:
        return [daemon.log() for runs in self.daemons for daemon in runs
                if any(marker in daemon.log() for marker in SANITIZER_MARKERS)]


@pytest.fixture
def cluster(require_root, dhcp_bin, macvlan_bin, cni_bin_dir, request):
    lab = Lab(nodes=NODES, prefixlen=21)
    the_cluster = None
    try:
        the_cluster = Cluster(lab, dhcp_bin, macvlan_bin, cni_bin_dir)
        yield the_cluster
    finally:
        if failed_so_far(request):
            print(lab.describe(pods=False))
        if the_cluster is not None:
            the_cluster.stop()  # SIGTERM: nothing is released
        lab.delete_pods()
        lab.close()
    assert not the_cluster.sanitizer_reports(), the_cluster.sanitizer_reports()[0]


def pool(lab: Lab) -> tuple[str, str]:
    return lab.address(256), lab.address(lab.network.num_addresses - 2)


def check_attached(cluster: Cluster, server) -> dict[str, str]:
    """Every pod bound, distinct addresses in the lab subnet, each held by its pod, the
    daemons' lists and the server's lease table in agreement. Returns netns -> cidr."""
    attachments = cluster.attachments
    failed = [a for a in attachments if not a.ok]
    assert not failed, f"{len(failed)} ADDs failed, first: {failed[0].run}"
    assert len(attachments) == NODES * PODS_PER_NODE
    cidrs = {a.pod.path: a.cidr for a in attachments}
    assert len(set(cidrs.values())) == len(attachments), "two pods got the same address"
    for cidr in cidrs.values():
        assert ipaddress.ip_interface(cidr).network == cluster.lab.network, cidr

    held = addresses_in([a.pod for a in attachments])
    wrong = [(path, held.get(path), cidr) for path, cidr in cidrs.items()
             if [f"{e['local']}/{e['prefixlen']}" for e in held.get(path, [])] != [cidr]]
    assert not wrong, f"{len(wrong)} pods do not hold their address, first: {wrong[0]}"

    for i in range(NODES):
        listed = cluster.daemon(i).list()
        mine = {a.container_id: a.cidr for a in cluster.on_node(i)}
        assert len(listed) == PODS_PER_NODE, (i, len(listed))
        assert {e["state"] for e in listed} == {"BOUND"}, (i, {e["state"] for e in listed})
        assert {e["containerID"]: e["address"] for e in listed} == mine, f"node {i}: dhcp list disagrees"

    leases = {lease.ip: lease for lease in server.leases()}
    by_ip = {a.ip: a for a in attachments}
    assert set(leases) >= set(by_ip), f"{len(set(by_ip) - set(leases))} addresses not in the server's lease table"
    for ip, a in by_ip.items():
        assert (leases[ip].mac or "").lower() == a.mac.lower(), (ip, leases[ip], a.mac)
    return cidrs


def kill_and_restart(cluster: Cluster, i: int) -> tuple[DhcpDaemon, float]:
    """SIGKILL node i's daemon, start it again on the same socket and state directory, and
    wait for all its leases to be BOUND again. Returns the new daemon and the seconds from
    its start to that."""
    old = cluster.daemon(i)
    old.process.send_signal(signal.SIGKILL)
    assert old.process.wait(5) == -signal.SIGKILL
    started = time.monotonic()
    daemon = cluster.start_daemon(i)

    def all_bound() -> bool:
        listed = daemon.list()
        return len(listed) == PODS_PER_NODE and all(e["state"] == "BOUND" for e in listed)

    wait_until(all_bound, RESTART_BOUND_S, f"node {i}'s restarted daemon to have its leases BOUND",
               interval=0.05, max_interval=0.2)
    took = time.monotonic() - started
    listed = {e["containerID"]: e["address"] for e in daemon.list()}
    assert listed == {a.container_id: a.cidr for a in cluster.on_node(i)}, "the restarted daemon moved leases"
    return daemon, took


def test_1000_pods_on_4_nodes_with_dnsmasq(cluster, capsys):
    lab = cluster.lab
    server = lab.start_dnsmasq(pool=pool(lab), lease_time=DNSMASQ_LEASE_S, extra=["--dhcp-lease-max=4000"])
    started = time.monotonic()
    cluster.attach_all()
    add_s = time.monotonic() - started
    cidrs = check_attached(cluster, server)

    others = {i: cluster.daemon(i).pid for i in range(NODES) if i != KILLED_NODE}
    _, took = kill_and_restart(cluster, KILLED_NODE)
    held = addresses_in([a.pod for a in cluster.attachments])
    moved = [p for p, cidr in cidrs.items() if [f"{e['local']}/{e['prefixlen']}" for e in held[p]] != [cidr]]
    assert not moved, f"{len(moved)} pods lost or changed their address across the restart"
    for i, pid in others.items():
        assert cluster.daemon(i).pid == pid and cluster.daemon(i).alive(), f"node {i}'s daemon was touched"
        assert [e for e in cluster.events(i) if e[2] not in ("bound", "renewed")] == [], \
            f"node {i}: {cluster.events(i)[:5]}"
    latencies = sorted(a.seconds for a in cluster.attachments)
    with capsys.disabled():
        print(f"\nscale cluster dnsmasq: {len(cluster.attachments)} ADDs in {add_s:.1f} s, "
              f"p50 {latencies[len(latencies) // 2] * 1000:.0f} ms, p95 {latencies[int(len(latencies) * .95)] * 1000:.0f} ms; "
              f"node {KILLED_NODE} restarted, {PODS_PER_NODE} BOUND in {took:.2f} s", flush=True)


class Watch(threading.Thread):
    """Every couple of seconds: each pod still holds its address with lifetime left, and
    the server's lease for it has not ended and never ends earlier than before."""

    def __init__(self, cluster: Cluster, server, cidrs: dict[str, str]):
        super().__init__(daemon=True)
        self.cluster, self.server, self.cidrs = cluster, server, cidrs
        self.problems: list[str] = []
        self.sweeps = 0
        self.min_valid = None
        self.ends: dict[str, int] = {}
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.wait(2.0):
            try:
                self.sweep()
            except Exception as e:  # noqa: BLE001 - reported, not lost
                self.problems.append(f"sweep failed: {type(e).__name__}: {e}")

    def sweep(self) -> None:
        held = addresses_in(list(self.cidrs))
        now = time.time()
        for path, cidr in self.cidrs.items():
            entries = [e for e in held.get(path, []) if f"{e['local']}/{e['prefixlen']}" == cidr]
            if not entries:
                self.problems.append(f"{path} lacks {cidr} at {now:.0f}")
            elif entries[0]["valid"] == 0:
                self.problems.append(f"{path}: the lifetime of {cidr} ran out")
            else:
                valid = entries[0]["valid"]
                self.min_valid = valid if self.min_valid is None else min(self.min_valid, valid)
        for lease in self.server.leases():
            if lease.expires is None:
                continue
            if lease.ip in self.ends and lease.expires < self.ends[lease.ip]:
                self.problems.append(f"the server's lease of {lease.ip} ends earlier than before")
            if lease.expires < now - 1:
                self.problems.append(f"the server's lease of {lease.ip} ended at {lease.expires}")
            self.ends[lease.ip] = max(lease.expires, self.ends.get(lease.ip, 0))
        self.sweeps += 1


def renewal_gaps(events: list[tuple[float, str, str]]) -> dict[str, list[float]]:
    """Seconds between each lease's successive bound/renewed events."""
    last: dict[str, float] = {}
    gaps: dict[str, list[float]] = defaultdict(list)
    for when, key, event in events:
        if event in ("bound", "renewed"):
            if key in last:
                gaps[key].append(when - last[key])
            last[key] = when
    return gaps


def test_1000_pods_on_4_nodes_with_kea_renewals_and_a_daemon_restart(cluster, capsys):
    if not shutil.which("kea-dhcp4"):
        pytest.fail("kea-dhcp4 not found: run scripts/install-deps.sh", pytrace=False)
    lab = cluster.lab
    server = lab.start_kea(pool=pool(lab), lease_time=KEA_LEASE_S)
    ntable_before = neighbour_table_stats()
    started = time.monotonic()
    cluster.attach_all()
    add_s = time.monotonic() - started
    cidrs = check_attached(cluster, server)
    watch_from = time.time()
    watch = Watch(cluster, server, cidrs)
    watch.start()

    # A lease time of renewals, node KILLED_NODE's daemon killed and restarted, two more.
    others = {i: cluster.daemon(i).pid for i in range(NODES) if i != KILLED_NODE}
    time.sleep(KEA_LEASE_S)
    killed_at = time.time()
    restarted, took = kill_and_restart(cluster, KILLED_NODE)
    time.sleep(max(0.0, watch_from + WATCH_LEASES * KEA_LEASE_S - time.time()))
    watch.halt.set()
    watch.join(30)
    watch_to = time.time()

    t1, t2 = KEA_LEASE_S / 2, KEA_LEASE_S * 0.875
    late, rebound, renewals, problems = [], [], 0, list(watch.problems)
    worst = 0.0
    for i in range(NODES):
        events = cluster.events(i)
        for when, key, event in events:
            if event in ("lost", "expired", "failed", "address-changed"):
                problems.append(f"node {i}: {key} {event}")
            if event == "bound" and when > watch_from:
                problems.append(f"node {i}: {key} acquired again at {when:.0f}")
        gaps = renewal_gaps(events)
        for key, series in gaps.items():
            renewals += len(series)
            for gap in series:
                worst = max(worst, gap - t1)
                # On time: within the renewing series (by T2), or the rebinding one that
                # follows it, before the lease ends.
                if gap >= KEA_LEASE_S:
                    late.append(f"node {i}: {key} renewed {gap:.1f} s after the last")
                elif gap > t2:
                    rebound.append(f"node {i}: {key} renewed {gap:.1f} s after the last")
        # Each lease extended before it ends, so at least this many times over the watch.
        keys = {a.container_id for a in cluster.on_node(i)}
        for key in keys:
            full = [k for k in gaps if k.startswith(key + "/")]
            assert full, f"node {i}: {key} was never renewed"
            assert len(gaps[full[0]]) >= int((watch_to - watch_from) / KEA_LEASE_S), (key, gaps[full[0]])
    # The restarted daemon renewed every one of its leases itself.
    renewed_by_new = {key for when, key, event in log_events(restarted.log()) if event == "renewed"}
    assert len(renewed_by_new) == PODS_PER_NODE, f"the restarted daemon renewed {len(renewed_by_new)} leases"
    for i, pid in others.items():
        assert cluster.daemon(i).pid == pid and cluster.daemon(i).alive(), f"node {i}'s daemon was touched"
    ntable_after = neighbour_table_stats()
    latencies = sorted(a.seconds for a in cluster.attachments)
    with capsys.disabled():
        print(f"\nscale cluster kea: {len(cluster.attachments)} ADDs in {add_s:.1f} s, "
              f"p50 {latencies[len(latencies) // 2] * 1000:.0f} ms, p95 {latencies[int(len(latencies) * .95)] * 1000:.0f} ms; "
              f"{renewals} renewals over {watch_to - watch_from:.0f} s, latest {worst:.2f} s after T1 "
              f"(T2 is T1 + {t2 - t1:.1f} s), {len(rebound)} by rebinding after T2; "
              f"node {KILLED_NODE} killed at +{killed_at - watch_from:.0f} s, "
              f"{PODS_PER_NODE} BOUND {took:.2f} s after its restart; {watch.sweeps} sweeps of every pod, "
              f"least lifetime left {watch.min_valid} s; neighbour table fulls "
              f"{ntable_after.get('table_fulls', 0) - ntable_before.get('table_fulls', 0)}", flush=True)
    assert not problems, f"{len(problems)} problems, first: {problems[:10]}"
    assert not late, f"{len(late)} leases extended only after they ended, first: {late[:10]}"
    assert watch.sweeps >= 10


def neighbour_table_stats() -> dict[str, int]:
    """The shared IPv4 neighbour table's counters (`ip -s ntable`, read only)."""
    text = run(["ip", "-s", "ntable", "show", "name", "arp_cache"]).stdout.split("\n\n")[0]
    return {key: int(value) for key, value in re.findall(r"\b(entries|table_fulls|forced_gc_runs) (\d+)", text)}
