#!/usr/bin/python3
"""Ours against the reference plugins (Debian's containernetworking-plugins, in
/usr/lib/cni), side by side on the same namespace labs and the same DHCP servers,
with the floor (what no implementation can beat on this machine) next to each
figure. As root:

    bench/run.py          the full suite, about 7 minutes: prints the table, writes
                          docs/benchmarks.md and its charts (docs/benchmarks/*.png)
    bench/run.py --quick  the same, smaller: about 3 minutes
    bench/run.py --ci     the CI's check, about a minute: a small run whose figures
                          must stay within bounds stated as ratios measured in the
                          same run; exit status 1 with a line naming each figure out
                          of bounds

Two labs, one after the other:
  1. dnsmasq (--no-ping, leases of an hour). ADD latency: sequential ADDs of each
     implementation interleaved with samples of the floor. Then fresh daemons and
     bursts of ADDs (100, 25 at a time), the two implementations alternating, each
     burst adding to the leases the daemon holds: the burst's wall time, and the
     daemons' memory at each lease count.
  2. ISC dhcpd (leases of 20 s: a renewal every 10 s). CPU per renewal at a few
     lease counts: both daemons and the floor's clients renewing in the same windows.
"""
import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402
from bench import REPO, REFERENCE, BenchLab, Floor, Implementation, labmod, median, quantile  # noqa: E402


@dataclass(frozen=True)
class Sizes:
    pods: int                 # sequential ADDs of ours, and floor samples
    ref_pods: int             # sequential ADDs of the reference (about 2 s each)
    leases: int               # ours grows to this many leases, a burst at a time
    ref_leases: int           # the reference, likewise (capped: it is slow)
    renewal_counts: tuple     # leases each daemon holds in the CPU windows
    renewal_clients: int = 20  # the floor's udhcpc clients renewing in the windows
    burst: int = 100
    concurrency: int = 25
    burst_floor_samples: int = 5  # floor samples before each round of bursts
    lease_seconds: int = 20   # phase 2: T1 at 10 s
    window: float = 20.0      # phase 2: seconds of each CPU window, two renewals of each lease


SIZES = {
    "full": Sizes(pods=200, ref_pods=30, leases=1000, ref_leases=300, renewal_counts=(50, 150, 300)),
    "quick": Sizes(pods=60, ref_pods=12, leases=500, ref_leases=200, renewal_counts=(50, 150)),
    "ci": Sizes(pods=40, ref_pods=6, leases=200, ref_leases=200, renewal_counts=()),
}

# The CI's bounds: (figure, comparison, bound), each a ratio measured in the same run
# (the heap, deterministic, in bytes). Measured on 2 cores, quiet and with other labs
# of thousands of namespaces busy on the machine (load average 6): our ADD 1.2 floors
# quiet, 4.2 busy (ours makes more rtnetlink calls than the floor, and they queue
# behind the other labs'); the reference's ADD 250 times ours quiet, 69 busy (it
# mostly waits); our bursts 1.3 floors quiet, 3.6 busy; the reference's RSS growth
# per lease 32-37 times ours; our heap 2.2 KiB per lease.
BOUNDS = {
    "add_floor": ("our ADD median, in floors", "<=", 6.0),
    "add_ref": ("reference ADD median / ours", ">=", 15.0),
    "burst_floor": ("our burst wall time, in floors", "<=", 6.0),
    "rss_ref": ("reference RSS growth per lease / ours", ">=", 10.0),
    "heap": ("our heap per lease, bytes", "<=", 4096),
}


QUIET = False  # the CI's check prints its verdicts only (and the table when one fails)


def log(message):
    if not QUIET:
        print(message, flush=True)


# --------------------------------------------------------------------------
# Phase 1: latency, bursts, memory (dnsmasq)


def timed_add(impl, pod, container_id, server_pid):
    """An ADD and its whole CPU: the plugins', the daemon's and the server's."""
    daemon, server = impl.cpu_ns(), bench.cpu_ns(server_pid)
    attachment = impl.add(pod, container_id)
    cpu = attachment.plugin_cpu_ns + impl.cpu_ns() - daemon + bench.cpu_ns(server_pid) - server
    return attachment, cpu


def latency_phase(lab, server, impls, floor, sizes):
    """Sequential ADDs: every round one of ours and one floor sample, and a reference
    ADD every pods/ref_pods rounds; the order within a round rotates."""
    pods = {impl.label: lab.new_pods(sizes.pods if impl.ours else sizes.ref_pods) for impl in impls}
    out = {impl.label: {"seconds": [], "cpu_ns": []} for impl in impls}
    out["floor"] = []
    ref_rounds = {int((k + 0.5) * sizes.pods / sizes.ref_pods) for k in range(sizes.ref_pods)}
    ours, ref = impls
    conf = ours.conf()
    for i in range(sizes.pods):
        steps = [ours, "floor"] + ([ref] if i in ref_rounds else [])
        steps = steps[i % len(steps):] + steps[:i % len(steps)]
        for step in steps:
            if step == "floor":
                out["floor"].append(floor.sample(conf))
                continue
            n = len(out[step.label]["seconds"])
            attachment, cpu = timed_add(step, pods[step.label][n], f"{step.label}-seq{n}", server.pid)
            lab.pin([attachment])
            out[step.label]["seconds"].append(attachment.seconds)
            out[step.label]["cpu_ns"].append(cpu)
        if (i + 1) % 50 == 0:
            log(f"  {i + 1} of {sizes.pods} rounds")
    out["container_id"] = f"{ours.label}-seq0"
    return out


def burst_floor(samples, sizes):
    """The least a burst can take: its ADDs at the floor's latency, `concurrency` at
    a time with nothing shared, or their CPU spread over the cores, the longer."""
    wall, cpu = floor_of(samples)
    return max(sizes.burst * sum(wall.values()) / sizes.concurrency,
               sizes.burst * sum(cpu.values()) / os.cpu_count()) / 1000


def memory_phase(lab, impls, floor, sizes):
    """Fresh daemons; rounds of bursts of ADDs alternating between the
    implementations until each holds its number of leases, a few floor samples
    before each round; the memory after each burst."""
    targets = {impl.label: sizes.leases if impl.ours else sizes.ref_leases for impl in impls}
    out = {}
    for impl in impls:
        impl.stop_daemon()
        impl.start_daemon()
        out[impl.label] = {"bursts": [], "memory": [{"leases": 0, "rss_kib": impl.rss_kib(),
                                                     "heap_bytes": impl.heap_bytes()}]}
    held = {impl.label: 0 for impl in impls}
    conf = impls[0].conf()
    round_ = 0
    while any(held[label] < targets[label] for label in held):
        floor_seconds = burst_floor([floor.sample(conf) for _ in range(sizes.burst_floor_samples)], sizes)
        order = impls if round_ % 2 == 0 else impls[::-1]
        for impl in order:
            if held[impl.label] >= targets[impl.label]:
                continue
            pods = lab.new_pods(sizes.burst)
            seconds, attachments = impl.burst(pods, sizes.concurrency, f"b{round_}-")
            lab.pin(attachments)
            held[impl.label] += len(pods)
            out[impl.label]["bursts"].append({"leases_before": held[impl.label] - len(pods), "seconds": seconds,
                                              "floor_seconds": floor_seconds})
            out[impl.label]["memory"].append({"leases": held[impl.label], "rss_kib": impl.rss_kib(),
                                              "heap_bytes": impl.heap_bytes()})
        round_ += 1
        log("  leases held: " + ", ".join(f"{label} {n}" for label, n in held.items()))
    return out


def phase1(build, sizes):
    with BenchLab() as lab:
        server = lab.start_dnsmasq(pool=lab.pool(), lease_time=3600, extra=["--dhcp-lease-max=10000"])
        lab.reserve_neighbours()
        impls = [Implementation("ours", bench.our_bin_dir(lab, build), lab, ours=True),
                 Implementation("reference", REFERENCE, lab, ours=False)]
        try:
            for impl in impls:
                impl.start_daemon()
            floor = Floor(lab, server.pid)
            results = {"floor_idle_kib": floor.idle_daemon()}
            log(f"ADD latency: {sizes.pods} of ours, {sizes.ref_pods} of the reference, {sizes.pods} floor samples")
            results["latency"] = latency_phase(lab, server, impls, floor, sizes)
            results["netns_path"] = str(labmod.NETNS_RUN_DIR / f"{lab.id}-pod0")
            log(f"bursts of {sizes.burst}, {sizes.concurrency} at a time; memory up to {sizes.leases} leases "
                f"(the reference: {sizes.ref_leases})")
            results["memory"] = memory_phase(lab, impls, floor, sizes)
            return results
        finally:
            for impl in impls:
                impl.stop_daemon()
            lab.delete_pods()


# --------------------------------------------------------------------------
# Phase 2: CPU per renewal (ISC dhcpd, short leases)


ACK = re.compile(r"^DHCPACK on (\S+) to ", re.M)


def phase2(build, sizes):
    if not sizes.renewal_counts:
        return None
    with BenchLab() as lab:
        server = lab.start_dhcpd(pool=lab.pool(), lease_time=sizes.lease_seconds)
        lab.reserve_neighbours()
        impls = [Implementation("ours", bench.our_bin_dir(lab, build), lab, ours=True),
                 Implementation("reference", REFERENCE, lab, ours=False)]
        try:
            for impl in impls:
                impl.start_daemon()
            clients = renewal_clients(lab, sizes.renewal_clients)
            addresses = {impl.label: set() for impl in impls}
            addresses["floor"] = {ip for _, ip in clients}
            out = {impl.label: [] for impl in impls}
            out["floor"] = []
            held = 0
            for count in sizes.renewal_counts:
                for impl in impls:
                    pods = lab.new_pods(count - held)
                    _, attachments = impl.burst(pods, sizes.concurrency, f"r{count}-")
                    lab.pin(attachments)
                    lab.pin_router(pods)
                    addresses[impl.label] |= {a.ip for a in attachments}
                held = count
                time.sleep(2)  # what the ADDs leave behind settles first
                log(f"  {count} leases each, {len(clients)} floor clients: a {sizes.window:g} s window")
                start_cpu = {impl.label: impl.cpu_ns() for impl in impls}
                start_floor = sum(bench.cpu_ns(p.pid) for p, _ in clients)
                start_log = len(server.log())
                time.sleep(sizes.window)
                acks = ACK.findall(server.log()[start_log:])
                for impl in impls:
                    out[impl.label].append({"leases": count, "cpu_ns": impl.cpu_ns() - start_cpu[impl.label],
                                            "renewals": sum(ip in addresses[impl.label] for ip in acks)})
                out["floor"].append({"leases": count, "clients": len(clients),
                                     "cpu_ns": sum(bench.cpu_ns(p.pid) for p, _ in clients) - start_floor,
                                     "renewals": sum(ip in addresses["floor"] for ip in acks)})
            return {"lease_seconds": sizes.lease_seconds, "window": sizes.window, **out}
        finally:
            for impl in impls:
                impl.stop_daemon()
            lab.delete_pods()


def renewal_clients(lab, n):
    """n busybox udhcpc clients, each in a pod with a macvlan, holding a lease."""
    pods = lab.new_pods(n)
    clients = []
    for pod in pods:
        lab.add_macvlan(pod, "eth0", mode=bench.MODE)
    lab.pin_router(pods)
    for pod in pods:
        clients.append(bench.renewal_client(lab, pod, "eth0"))
    found = []
    for (process, address_file), pod in zip(clients, pods):
        labmod.wait_until(address_file.exists, 20, "a udhcpc client's lease")
        ip = address_file.read_text().strip()
        found.append((process, ip))
        lab.pin([bench.Attachment(0, 0, ip, pod.link("eth0")["address"])])
    return found


# --------------------------------------------------------------------------
# Figures


@dataclass
class Row:
    key: str
    label: str
    unit: str
    ref: float = None
    ours: float = None
    floor: float = None
    higher_is_better: bool = False
    note: str = ""

    def ratio(self):
        """How many times better ours is than the reference."""
        if self.ref is None or not self.ours:
            return None
        return self.ours / self.ref if self.higher_is_better else self.ref / self.ours

    def floors(self):
        """Ours in floors: 1 is the floor, 2 twice its cost."""
        if self.floor is None or not self.ours or not self.floor:
            return None
        return self.floor / self.ours if self.higher_is_better else self.ours / self.floor


def floor_of(samples):
    """The floor of an ADD from samples: each part's median wall and CPU time, ms."""
    parts = [p for p in samples[0] if p != "total"]
    wall = {p: median([s[p][0] for s in samples]) / 1e6 for p in parts}
    cpu = {p: median([s[p][1] for s in samples]) / 1e6 for p in parts}
    return wall, cpu


def lease_facts_bytes(results):
    """What a lease must remember to be renewed and released: its key (container ID,
    network name, interface name), the pod's namespace path, address and prefix
    length, router, server, MAC and three times (T1, T2, expiry): their bytes."""
    key = len(results["latency"]["container_id"]) + len("bench") + len("eth0")
    return key + len(results["netns_path"]) + 4 + 1 + 4 + 4 + 6 + 3 * 4


def figures(results, sizes):
    lat = results["latency"]
    ours_s = [s * 1000 for s in lat["ours"]["seconds"]]
    ref_s = [s * 1000 for s in lat["reference"]["seconds"]]
    wall, cpu = floor_of(lat["floor"])
    floor_ms, floor_cpu_ms = sum(wall.values()), sum(cpu.values())
    n, nr = len(ours_s), len(ref_s)
    rows = [
        Row("add_median", f"ADD latency, median ({n} of ours, {nr} of the reference)", "ms",
            median(ref_s), median(ours_s), floor_ms),
        Row("add_p95", "ADD latency, p95", "ms", quantile(ref_s, 0.95), quantile(ours_s, 0.95)),
        Row("add_p99", "ADD latency, p99", "ms", quantile(ref_s, 0.99), quantile(ours_s, 0.99),
            note=f"of {nr} ADDs the reference's p99 is about its slowest"),
        Row("add_cpu", "CPU per ADD (plugins, daemon, server), median", "ms",
            median(lat["reference"]["cpu_ns"]) / 1e6, median(lat["ours"]["cpu_ns"]) / 1e6, floor_cpu_ms),
    ]

    mem = results["memory"]
    k, c = sizes.burst, sizes.concurrency
    common = min(len(mem["ours"]["bursts"]), len(mem["reference"]["bursts"]))
    ours_b = median([b["seconds"] for b in mem["ours"]["bursts"][:common]])
    ref_b = median([b["seconds"] for b in mem["reference"]["bursts"][:common]])
    floor_b = median([b["floor_seconds"] for b in mem["ours"]["bursts"][:common]])
    rows += [
        Row("burst", f"{k} ADDs, {c} at a time (median of {common} burst{'s' * (common > 1)})", "s",
            ref_b, ours_b, floor_b),
        Row("burst_rate", "burst throughput", "ADDs/s", k / ref_b, k / ours_b, k / floor_b,
            higher_is_better=True),
    ]

    def at(label, leases):
        return next(m for m in mem[label]["memory"] if m["leases"] == leases)

    facts = lease_facts_bytes(results)
    idle_floor = results["floor_idle_kib"]
    ours0, ref0 = at("ours", 0), at("reference", 0)
    top_ref = mem["reference"]["memory"][-1]["leases"]
    top = mem["ours"]["memory"][-1]["leases"]
    ours_r, ref_r = at("ours", top_ref), at("reference", top_ref)
    ours_t = at("ours", top)
    rows += [
        Row("rss_idle", "daemon RSS, idle", "MiB", ref0["rss_kib"] / 1024, ours0["rss_kib"] / 1024,
            idle_floor / 1024),
        Row("rss_ref", f"daemon RSS, {top_ref} leases", "MiB", ref_r["rss_kib"] / 1024, ours_r["rss_kib"] / 1024,
            (idle_floor * 1024 + top_ref * facts) / 2**20),
        Row("rss_lease_ref", f"RSS growth per lease, 0 to {top_ref} leases", "KiB",
            (ref_r["rss_kib"] - ref0["rss_kib"]) / top_ref, (ours_r["rss_kib"] - ours0["rss_kib"]) / top_ref,
            facts / 1024),
    ]
    if top > top_ref:
        rows += [
            Row("rss_top", f"daemon RSS, {top} leases", "MiB", None, ours_t["rss_kib"] / 1024,
                (idle_floor * 1024 + top * facts) / 2**20, note=f"the reference is measured to {top_ref} leases"),
            Row("rss_lease_top", f"RSS growth per lease, 0 to {top} leases", "KiB", None,
                (ours_t["rss_kib"] - ours0["rss_kib"]) / top, facts / 1024),
        ]
    rows.append(Row("heap", f"heap per lease, 0 to {top} leases", "B", None,
                    (ours_t["heap_bytes"] - ours0["heap_bytes"]) / top, facts,
                    note="our daemon's DHCP.Status reports its heap; the reference's reports nothing"))

    renew = results.get("renewal")
    if renew:
        for o, r, f in zip(renew["ours"], renew["reference"], renew["floor"]):
            rows.append(Row(f"renew_{o['leases']}", f"CPU per renewal, {o['leases']} leases", "µs",
                            per_renewal(r), per_renewal(o), per_renewal(f)))
    return rows


def per_renewal(window):
    return window["cpu_ns"] / window["renewals"] / 1000 if window["renewals"] else None


def number(value, unit):
    if value is None:
        return "—"
    if unit in ("B", "µs", "ADDs/s") or value >= 100:
        return f"{value:,.0f} {unit}"
    return f"{value:.2f} {unit}" if value < 10 else f"{value:.1f} {unit}"


def times(value):
    return "—" if value is None else (f"{value:.0f}x" if value >= 10 else f"{value:.1f}x")


TABLE_HEAD = ("figure", "reference", "ours", "ours better by", "floor", "ours in floors")


def table_cells(row):
    return (row.label, number(row.ref, row.unit), number(row.ours, row.unit), times(row.ratio()),
            number(row.floor, row.unit), times(row.floors()))


def print_table(rows):
    widths = [max(len(table_cells(r)[i]) for r in rows) for i in range(6)]
    widths = [max(w, len(h)) for w, h in zip(widths, TABLE_HEAD)]
    line = lambda cells: "  ".join(c.ljust(w) if i == 0 else c.rjust(w)  # noqa: E731
                                   for i, (c, w) in enumerate(zip(cells, widths)))
    print()
    print(line(TABLE_HEAD))
    for row in rows:
        print(line(table_cells(row)))


def print_floor(results):
    wall, cpu = floor_of(results["latency"]["floor"])
    print("\nfloor of an ADD, median of each part: "
          + ", ".join(f"{part} {ms:.2f} ms" for part, ms in wall.items())
          + f"; sum {sum(wall.values()):.2f} ms (CPU {sum(cpu.values()):.2f} ms)")


# --------------------------------------------------------------------------
# The CI's check


def ci_values(rows):
    by = {r.key: r for r in rows}
    return {
        "add_floor": by["add_median"].floors(),
        "add_ref": by["add_median"].ratio(),
        "burst_floor": by["burst"].floors(),
        "rss_ref": by["rss_lease_ref"].ratio(),
        "heap": by["heap"].ours,
    }


def bounds(rows):
    """[(figure, comparison, bound, this run's value, met)]"""
    out = []
    for key, value in ci_values(rows).items():
        what, op, bound = BOUNDS[key]
        out.append((what, op, bound, value, value <= bound if op == "<=" else value >= bound))
    return out


def check(rows):
    failed = 0
    for what, op, bound, value, ok in bounds(rows):
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {what}: {value:,.1f} (bound {op} {bound:,})")
    return failed


# --------------------------------------------------------------------------
# The run


def machine():
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.machine())

    def package(name):
        done = subprocess.run(["dpkg-query", "-W", "-f=${Version}", name], capture_output=True, text=True)
        return done.stdout.strip() or "?"

    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "kernel": platform.release(),
        "debian": Path("/etc/debian_version").read_text().strip(),
        "reference": package("containernetworking-plugins"),
        "dnsmasq": package("dnsmasq-base"),
        "dhcpd": package("isc-dhcp-server"),
        "busybox": package("busybox-static"),
        "load": os.getloadavg(),
        "netdev_max_backlog": int(Path("/proc/sys/net/core/netdev_max_backlog").read_text()),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_const", const="quick", dest="mode", help="a smaller run")
    mode.add_argument("--ci", action="store_const", const="ci", dest="mode",
                      help="the CI's check: a small run, bounds as ratios, exit 1 when one is not met")
    parser.set_defaults(mode="full")
    parser.add_argument("--build", default=str(REPO / "build"), help="our build directory (default build/)")
    parser.add_argument("--pods", type=int, help="sequential ADDs of ours (and floor samples)")
    parser.add_argument("--ref-pods", type=int, help="sequential ADDs of the reference")
    parser.add_argument("--leases", type=int, help="leases our daemon grows to (a multiple of 100)")
    parser.add_argument("--ref-leases", type=int, help="leases the reference's daemon grows to")
    parser.add_argument("--renewal-counts", help="lease counts of the CPU windows, e.g. 50,150; 0 for none")
    parser.add_argument("--no-docs", action="store_true", help="print the table only")
    parser.add_argument("--json", help="also write the measurements to this file")
    parser.add_argument("--from-json", help="no run: the table and documents from measurements saved by --json")
    opts = parser.parse_args()

    global QUIET
    QUIET = opts.mode == "ci"
    sizes = SIZES[opts.mode]
    for name in ("pods", "ref_pods", "leases", "ref_leases"):
        if getattr(opts, name):
            sizes = replace(sizes, **{name: getattr(opts, name)})
    if opts.renewal_counts:
        sizes = replace(sizes, renewal_counts=tuple(int(n) for n in opts.renewal_counts.split(",") if int(n)))

    if opts.from_json:
        results = json.loads(Path(opts.from_json).read_text())
        sizes = Sizes(**{**results["sizes"], "renewal_counts": tuple(results["sizes"]["renewal_counts"])})
    else:
        if os.geteuid() != 0:
            sys.exit("bench/run.py needs root (network namespaces)")
        build = Path(opts.build).resolve()
        for plugin in ("macvlan", "dhcp"):
            if not (build / plugin).is_file():
                sys.exit(f"no {build / plugin}: build it first (make BUILD={opts.build})")
        started = time.monotonic()
        results = {"mode": opts.mode, "sizes": sizes.__dict__,
                   "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                   "machine": machine(),
                   "ours_version": labmod.run([build / "dhcp", "--version"]).stdout.strip()}
        results.update(phase1(build, sizes))
        renewal = phase2(build, sizes)
        if renewal:
            results["renewal"] = renewal
        results["seconds"] = time.monotonic() - started
        results["machine"]["load_after"] = os.getloadavg()
    if opts.json:
        Path(opts.json).write_text(json.dumps(results, indent=1))

    rows = figures(results, sizes)
    if results["mode"] == "ci":
        failed = check(rows)
        if failed:
            print_table(rows)
            print_floor(results)
        print(f"bench: {len(BOUNDS) - failed} of {len(BOUNDS)} bounds met, {results['seconds']:.0f} s")
        sys.exit(1 if failed else 0)
    print_table(rows)
    print_floor(results)
    print(f"\n{results['mode']} run: {results['seconds']:.0f} s")
    if not opts.no_docs:
        import report
        written = report.write(results, rows, [TABLE_HEAD] + [table_cells(r) for r in rows],
                               floor_of(results["latency"]["floor"]), bounds(rows), lease_facts_bytes(results), SIZES["ci"])
        print("wrote " + ", ".join(str(p.relative_to(REPO)) for p in written))


if __name__ == "__main__":
    main()
