"""Soak: 50 pods' worth of random interleavings of ADD, DEL and CHECK (our macvlan with
dhcp as IPAM, against dnsmasq), with the daemon killed by SIGKILL and restarted on the
same --state-dir, and dnsmasq restarted, while the commands run (a few at a time, as
a busy node runs them; never two at once for one pod, as runtimes serialise a pod).

Every command must end as the spec says: ADD with a result or a CNI error (JSON on
stdout with code and msg), never a crash, a hang or empty output; DEL always with
success; CHECK with success or a CNI error. At the end: no macvlan link left in any
namespace, no lease in `dhcp list` without a live pod, no record in the state
directory without a lease, and the daemon's file descriptors and RSS back within a
small bound of what they were after the warm-up.

A fifth of the pods live long (CHECKed, seldom deleted), so their leases are renewed
(T1 at 60 s) through the kills and the restarts too.

Bounded (about 3 minutes on 2 cores). The random seed is printed first, and
CNT_SOAK_SEED=<seed> replays the same choices (thread timing may still differ):
    CNT_BUILD_DIR=$PWD/build /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/system/test_soak.py
Other knobs: CNT_SOAK_SECONDS (length of the random phase, default 140), CNT_SOAK_OPS
(a cap on its operations, default none).
"""

from __future__ import annotations

import collections
import os
import random
import re
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

import pytest

from hostile import timed_status
from lab import PluginTimeout, wait_until
from macvlan_helpers import SANITIZER_MARKERS

pytestmark = pytest.mark.usefixtures("require_root")

PODS = 50
WORKERS = 4
DEFAULT_SEED = 20251202
OPS = int(os.environ.get("CNT_SOAK_OPS", "0")) or 10**9
RANDOM_PHASE_S = float(os.environ.get("CNT_SOAK_SECONDS", "140"))
LONG_LIVED = PODS // 5  # pods 0..9: CHECKed and seldom deleted
# The last part of the random phase runs without daemon kills, so the daemon measured
# at the end has done real work since its start.
QUIET_TAIL = 0.3
KILL_EVERY_S = 3.0     # mean time between SIGKILLs of the daemon
DOWN_OPS = (0, 6)      # it stays down while this many more operations start
DNSMASQ_EVERY_S = 4.0  # mean time between dnsmasq restarts
ADD_TIMEOUT = "5s"     # ipam.timeout: an ADD without a server fails within this
HANG_S = 40            # a plugin still running after this has hung
LEASE_S = 120          # dnsmasq's minimum: T1 at 60 s, so renewals happen too
FD_SLACK = 2
RSS_SLACK_KB = 1536


def soak_seed() -> int:
    return int(os.environ.get("CNT_SOAK_SEED", DEFAULT_SEED))


def daemon_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def sanitized(pid: int) -> bool:
    """ASan keeps freed memory in quarantine (hundreds of MiB): RSS says nothing there;
    LeakSanitizer's report at the daemon's exit does the job (start_daemon looks)."""
    return "libasan" in Path(f"/proc/{pid}/maps").read_text()


def daemon_rss_kb(pid: int) -> int:
    m = re.search(r"^VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
    return int(m.group(1))


class Pod:
    def __init__(self, index: int, netns):
        self.index = index
        self.netns = netns
        self.generation = 0
        self.container_id = self.next_id()
        self.result = None  # the last successful ADD's result while attached

    def next_id(self) -> str:
        self.generation += 1
        return f"soak{self.index:02d}g{self.generation}"


class Soak:
    def __init__(self, lab, survive, rng: random.Random, seed: int):
        self.lab, self.survive, self.rng, self.seed = lab, survive, rng, seed
        self.conf = survive.conf("1.0.0", timeout=ADD_TIMEOUT)
        self.network = self.conf["name"]
        self.pods = [Pod(i, lab.add_pod()) for i in range(PODS)]
        self.busy: set[int] = set()
        self.lock = threading.Lock()
        self.outcomes = collections.Counter()  # (command, "ok" or code)
        self.violations: list[str] = []
        self.ops = 0
        self.kills = 0
        self.dnsmasq_restarts = 0
        self.server = None

    # -- the runtime

    def run(self, command: str, pod: Pod, conf: dict):
        """One plugin run; a hang, a crash or a sanitizer report is a violation."""
        try:
            return self.survive.cni(command, conf, pod.netns, container_id=pod.container_id, timeout=HANG_S)
        except PluginTimeout as e:
            self.violate(f"{command} {pod.container_id} hung: {e}")
        except AssertionError as e:  # Macvlan's sanitizer check
            self.violate(f"{command} {pod.container_id}: {e}")
        return None

    def violate(self, what: str) -> None:
        with self.lock:
            self.violations.append(what)

    def count(self, command: str, outcome) -> None:
        with self.lock:
            self.outcomes[(command, outcome)] += 1

    def judge(self, command: str, pod: Pod, run) -> bool:
        """Counts the run's outcome; True when it succeeded. Anything that is neither a
        success nor a CNI error is a violation."""
        if run is None:
            self.count(command, "hang")
            return False
        if run.code < 0:
            self.count(command, f"signal {-run.code}")
            self.violate(f"{command} {pod.container_id} died of signal {-run.code}: {run}")
            return False
        if run.code == 0:
            if command == "ADD":
                good = isinstance(run.output, dict) and run.output.get("ips")
            else:
                good = run.stdout == ""
            if not good:
                self.violate(f"{command} {pod.container_id} exited 0 with {run.stdout!r}")
            self.count(command, "ok")
            return bool(good)
        error = run.output
        if not (isinstance(error, dict) and isinstance(error.get("code"), int) and error.get("msg")):
            self.count(command, "no CNI error")
            self.violate(f"{command} {pod.container_id} failed without a CNI error on stdout "
                         f"(exit {run.code}, stdout {run.stdout!r}, stderr {run.stderr[-500:]!r})")
            return False
        self.count(command, error["code"])
        return False

    def with_prev(self, pod: Pod) -> dict:
        return {**self.conf, "prevResult": pod.result} if pod.result else dict(self.conf)

    def op_add(self, pod: Pod) -> None:
        pod.container_id = pod.next_id()
        run = self.run("ADD", pod, self.conf)
        if self.judge("ADD", pod, run):
            pod.result = run.output
            return
        # What a runtime does after a failed ADD: DEL, so nothing stays half set up.
        self.op_del(pod, after_failed_add=True)

    def op_del(self, pod: Pod, after_failed_add: bool = False) -> None:
        run = self.run("DEL", pod, self.with_prev(pod))
        command = "DEL after failed ADD" if after_failed_add else "DEL"
        if not self.judge(command, pod, run) and run is not None:
            self.violate(f"{command} {pod.container_id} failed: {run}")
        pod.result = None

    def op_check(self, pod: Pod) -> None:
        self.judge("CHECK", pod, self.run("CHECK", pod, self.with_prev(pod)))

    def operate(self, pod: Pod, choice: float) -> None:
        try:
            if pod.result is None:
                if choice < 0.9:
                    self.op_add(pod)
                else:
                    self.op_del(pod)  # DEL of nothing: idempotent
            elif choice < (0.98 if pod.index < LONG_LIVED else 0.4):
                self.op_check(pod)
            else:
                self.op_del(pod)
        except Exception as e:  # the harness itself must not hide a problem
            self.violate(f"operation on {pod.container_id} raised {type(e).__name__}: {e}")
        finally:
            with self.lock:
                self.busy.discard(pod.index)

    # -- chaos

    def kill_daemon(self) -> None:
        self.survive.crash()
        self.kills += 1

    def restart_daemon(self) -> None:
        self.survive.restart()

    def restart_dnsmasq(self) -> None:
        self.server.stop()
        self.server.start()
        self.dnsmasq_restarts += 1

    # -- the state of the node

    def leaked_links(self) -> list[str]:
        """Links that should not be there: in a pod anything but lo (and eth0 while it is
        attached), in the node anything but lo and the master, in the lan anything but lo
        and its end of the wire."""
        found = []
        for pod in self.pods:
            allowed = {"lo"} | ({"eth0"} if pod.result else set())
            found += [f"{pod.netns.name}: {link['ifname']}" for link in pod.netns.links()
                      if link["ifname"] not in allowed]
        node, lan = self.lab.node, self.lab.lan
        found += [f"{node.name}: {link['ifname']}" for link in node.links()
                  if link["ifname"] not in {"lo", node.master}]
        found += [f"{lan.name}: {link['ifname']}" for link in lan.links()
                  if link["ifname"] not in {"lo", self.lab.lan_if}]
        return found

    def inconsistencies(self) -> list[str]:
        """What `dhcp list`, the records and the pods disagree on (empty: all agree)."""
        problems = []
        leases = {(e["containerID"], e["ifName"]): e for e in self.survive.daemon.list()}
        live = {pod.container_id: pod for pod in self.pods if pod.result}
        for (cid, _), entry in leases.items():
            if cid not in live:
                problems.append(f"lease without a live pod: {cid} {entry.get('address')} {entry['state']}")
        for cid, pod in live.items():
            entry = leases.get((cid, "eth0"))
            cidr = pod.result["ips"][0]["address"]
            if entry is None:
                problems.append(f"live pod {cid} ({cidr}) has no lease")
            elif entry["address"] != cidr:
                problems.append(f"live pod {cid}: lease {entry['address']}, ADD gave {cidr}")
            on_pod = pod.netns.cidrs("eth0") if pod.netns.link("eth0") else None
            if on_pod != [cidr]:
                problems.append(f"live pod {cid}: eth0 has {on_pod if on_pod is not None else 'no link'}, "
                                f"ADD gave {cidr}")
        keys = {f"{cid}/{e['network']}/{ifname}" for (cid, ifname), e in leases.items()}
        for key in self.survive.records():
            if key not in keys:
                problems.append(f"record without a lease: {key}")
        leftovers = self.survive.leftovers()
        if leftovers:
            problems.append(f"leftovers in the state directory: {leftovers}")
        return problems

    def summary(self, elapsed: float) -> str:
        by_command = collections.defaultdict(dict)
        for (command, outcome), n in sorted(self.outcomes.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
            by_command[command][str(outcome)] = n
        failures = collections.Counter()
        for (command, outcome), n in self.outcomes.items():
            if outcome != "ok":
                failures[str(outcome)] += n
        return (f"soak seed={self.seed} ops={self.ops} kills={self.kills} dnsmasq-restarts={self.dnsmasq_restarts} "
                f"elapsed={elapsed:.0f}s outcomes={dict(by_command)} failures-by-code={dict(failures)} "
                f"violations={len(self.violations)}")


def test_soak_add_del_check_with_daemon_kills_and_dnsmasq_restarts(lab, survive, capsys):
    seed = soak_seed()
    with capsys.disabled():
        print(f"\nsoak: seed {seed} (replay: CNT_SOAK_SEED={seed})", flush=True)
    rng = random.Random(seed)
    started = time.monotonic()
    soak = Soak(lab, survive, rng, seed)
    soak.server = lab.start_dnsmasq(pool=(lab.address(20), lab.address(250)), lease_time=LEASE_S)
    daemon = survive.start()

    # Warm-up: every pod once through ADD and DEL, then the idle daemon is measured.
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        list(pool.map(soak.op_add, soak.pods))
        list(pool.map(soak.op_del, soak.pods))
    assert not soak.violations, soak.violations
    assert soak.outcomes[("ADD", "ok")] == PODS, soak.outcomes
    wait_until(lambda: daemon.list() == [], 10, "the warm-up's leases to go")
    base_fds, base_rss = daemon_fds(daemon.pid), daemon_rss_kb(daemon.pid)
    base_heap = timed_status(daemon.socket_path)[1]["result"].get("heapBytes")

    # The random phase: operations on idle pods, WORKERS at a time, chaos in between.
    phase_start = time.monotonic()
    deadline = phase_start + RANDOM_PHASE_S
    quiet_from = deadline - RANDOM_PHASE_S * QUIET_TAIL
    next_kill = phase_start + rng.expovariate(1 / KILL_EVERY_S)
    next_dnsmasq = phase_start + rng.expovariate(1 / DNSMASQ_EVERY_S)
    down_for = None  # operations left to start while the daemon is down
    in_flight = set()
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        while soak.ops < OPS and time.monotonic() < deadline:
            with soak.lock:
                idle = [p for p in soak.pods if p.index not in soak.busy]
            if len(in_flight) >= WORKERS or not idle:
                done, in_flight = wait(in_flight, timeout=HANG_S + 10, return_when=FIRST_COMPLETED)
                assert done, "no operation finished within the hang bound"
                continue
            pod = rng.choice(idle)
            with soak.lock:
                soak.busy.add(pod.index)
            in_flight.add(pool.submit(soak.operate, pod, rng.random()))
            soak.ops += 1
            now = time.monotonic()
            if down_for is not None:
                down_for -= 1
                if down_for <= 0:
                    soak.restart_daemon()
                    down_for = None
            elif now >= next_kill and now < quiet_from:
                next_kill = now + rng.expovariate(1 / KILL_EVERY_S)
                soak.kill_daemon()
                down_for = rng.randint(*DOWN_OPS)
                if down_for == 0:
                    soak.restart_daemon()
                    down_for = None
            if now >= next_dnsmasq:
                next_dnsmasq = now + rng.expovariate(1 / DNSMASQ_EVERY_S)
                soak.restart_dnsmasq()
        wait(in_flight, timeout=HANG_S + 10)
    if down_for is not None:
        soak.restart_daemon()
    daemon = survive.daemon
    random_phase = time.monotonic() - started

    # The node settles: leases whose pods went while the daemon was down, or whose ADD
    # failed after the lease was bound, are released within seconds.
    try:
        wait_until(lambda: not soak.inconsistencies(), 20, "dhcp list, records and pods to agree",
                   interval=0.2, max_interval=1.0)
    except TimeoutError:
        pass
    problems = soak.inconsistencies()
    leaked = soak.leaked_links()

    # The runtime tears every pod down; then nothing may be left anywhere.
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        list(pool.map(soak.op_del, [p for p in soak.pods if p.result]))
    leaked_after = soak.leaked_links()
    leases_after = daemon.list()
    records_after = survive.records()
    fds, rss = daemon_fds(daemon.pid), daemon_rss_kb(daemon.pid)
    heap = timed_status(daemon.socket_path)[1]["result"].get("heapBytes")
    elapsed = time.monotonic() - started
    line = soak.summary(elapsed)
    with capsys.disabled():
        print(f"soak: {line}", flush=True)
        print(f"soak: daemon pid {daemon.pid} fds {base_fds}->{fds} rss {base_rss}->{rss} kB"
              f"{' (ASan: not checked)' if sanitized(daemon.pid) else ''} heap {base_heap}->{heap} B; "
              f"random phase {random_phase:.0f} s", flush=True)

    replay = f"(replay: CNT_SOAK_SEED={seed})"
    assert not soak.violations, f"{len(soak.violations)} commands ended badly {replay}:\n" + \
        "\n".join(soak.violations[:20])
    assert not problems, f"after the random phase {replay}:\n" + "\n".join(problems[:30])
    assert not leaked, f"links left behind {replay}: {leaked}"
    assert not leaked_after and leases_after == [] and records_after == {}, \
        f"after DEL of every pod {replay}: links {leaked_after}, leases {leases_after}, records {list(records_after)}"
    assert survive.leftovers() == [], survive.leftovers()
    assert daemon.alive()
    assert fds <= base_fds + FD_SLACK, f"the daemon holds {fds} fds, {base_fds} after the warm-up {replay}"
    if not sanitized(daemon.pid):
        assert rss <= base_rss + RSS_SLACK_KB, \
            f"the daemon's RSS is {rss} kB, {base_rss} kB after the warm-up {replay}"
    for d in survive.daemons:
        for marker in SANITIZER_MARKERS:
            assert marker not in d.log(), f"sanitizer report from daemon {d.pid} {replay}"
    assert soak.outcomes[("ADD", "ok")] > PODS, f"too few ADDs succeeded to mean anything: {line}"
    assert elapsed < 240, f"the soak took {elapsed:.0f} s"
