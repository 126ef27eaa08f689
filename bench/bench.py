#!/usr/bin/python3
"""Side-by-side benchmark: our macvlan + dhcp against Debian's reference plugins
(/usr/lib/cni), on the same namespace lab and the same dnsmasq (--no-ping).

Measures, for each implementation:
  - ADD latency (macvlan + dhcp IPAM, as a runtime runs it) over N pods, one at a time:
    median and p95;
  - wall time of 100 ADDs, 25 at a time;
  - the daemon's resident memory idle and holding 100 leases, and what one lease
    costs: the growth of its resident memory over those 100 leases, and for ours
    the growth of its heap (DHCP.Status reports the bytes in use).
Prints a table with ratios (reference / ours). Run as root: bench/bench.py [--pods N]
"""
import argparse
import concurrent.futures
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "system"))
import lab as labmod  # noqa: E402

REFERENCE = Path("/usr/lib/cni")


class Implementation:
    def __init__(self, name, bin_dir, lab):
        self.name = name
        self.bin_dir = Path(bin_dir)
        self.lab = lab
        self.socket = lab.workdir / f"{name}-dhcp.sock"
        self.daemon = None

    def start_daemon(self):
        argv = [self.bin_dir / "dhcp", "daemon", "-socketpath", self.socket]
        if self.name == "ours":
            # Lease records in the lab, never in the host's /var/lib/cni/dhcp.
            argv += ["--state-dir", self.lab.workdir / "ours-state"]
        self.daemon = self.lab.start_process(argv, self.lab.node, name=f"{self.name}-daemon")
        labmod.wait_until(self.socket.exists, 10, f"{self.name} daemon socket")

    def conf(self):
        return {
            "cniVersion": "0.4.0",
            "name": "bench",
            "type": "macvlan",
            "master": self.lab.node.master,
            "ipam": {"type": "dhcp", "daemonSocketPath": str(self.socket)},
        }

    def run(self, command, pod, container_id):
        return labmod.run_plugin(self.bin_dir / "macvlan", command, self.conf(), netns=pod, ifname="eth0",
                                 container_id=container_id, cni_path=self.bin_dir, node=self.lab.node,
                                 args="IgnoreUnknown=1", timeout=120)

    def add(self, pod, container_id):
        start = time.monotonic()
        code, out, err = self.run("ADD", pod, container_id)
        elapsed = time.monotonic() - start
        if code != 0:
            raise RuntimeError(f"{self.name} ADD failed: {out} {err}")
        return elapsed

    def heap_bytes(self):
        """The daemon's heap in use (ours only: DHCP.Status reports it)."""
        if self.name != "ours":
            return None
        done = labmod.run([self.bin_dir / "dhcp", "status", "-socketpath", self.socket, "--json"])
        return json.loads(done.stdout).get("heapBytes")

    def rss_kib(self):
        for line in Path(f"/proc/{self.daemon.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0


def our_bin_dir(lab, build, name="ours"):
    d = lab.workdir / name
    d.mkdir()
    for name in ("macvlan", "dhcp"):
        (d / name).symlink_to(build / name)
    return d


def measure(impl, pods_sequential, pods_parallel):
    impl.start_daemon()
    result = {"rss_idle_kib": impl.rss_kib()}
    heap_idle = impl.heap_bytes()
    latencies = [impl.add(pod, f"{impl.name}-seq{i}") for i, pod in enumerate(pods_sequential)]
    result["add_median_ms"] = statistics.median(latencies) * 1000
    result["add_p95_ms"] = statistics.quantiles(latencies, n=20)[18] * 1000
    for i, pod in enumerate(pods_sequential):
        impl.run("DEL", pod, f"{impl.name}-seq{i}")

    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=25) as pool:
        list(pool.map(lambda ip: impl.add(ip[1], f"{impl.name}-par{ip[0]}"), enumerate(pods_parallel)))
    result["parallel_100_s"] = time.monotonic() - start
    result["rss_100_leases_kib"] = impl.rss_kib()
    result["rss_per_lease_bytes"] = (result["rss_100_leases_kib"] - result["rss_idle_kib"]) * 1024 / len(pods_parallel)
    heap_100 = impl.heap_bytes()
    if heap_idle is not None and heap_100 is not None:
        result["heap_per_lease_bytes"] = (heap_100 - heap_idle) / len(pods_parallel)
    with concurrent.futures.ThreadPoolExecutor(max_workers=25) as pool:
        list(pool.map(lambda ip: impl.run("DEL", ip[1], f"{impl.name}-par{ip[0]}"), enumerate(pods_parallel)))
    impl.daemon.stop()
    return result


def fresh_pods(lab, n):
    return [lab.add_pod() for _ in range(n)]


def print_table(ours, ref, pods):
    rows = [
        (f"ADD latency median ({pods} pods)", "add_median_ms", "ms"),
        (f"ADD latency p95 ({pods} pods)", "add_p95_ms", "ms"),
        ("100 ADDs, 25 at a time", "parallel_100_s", "s"),
        ("daemon RSS idle", "rss_idle_kib", "KiB"),
        ("daemon RSS, 100 leases", "rss_100_leases_kib", "KiB"),
        ("daemon RSS growth per lease", "rss_per_lease_bytes", "B"),
    ]
    print(f"\n{'metric':34} {'reference':>14} {'ours':>14} {'ratio ref/ours':>15}")
    for label, key, unit in rows:
        r, o = ref[key], ours[key]
        print(f"{label:34} {r:>11.1f} {unit:<3}{o:>10.1f} {unit:<3} {r / o if o else float('inf'):>14.1f}x")
    if "heap_per_lease_bytes" in ours:
        print(f"{'our daemon heap per lease':34} {'':>14} {ours['heap_per_lease_bytes']:>10.0f} B")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pods", type=int, default=30, help="pods for the latency measurement (default 30)")
    parser.add_argument("--build", default=str(REPO / "build"), help="our build directory")
    parser.add_argument("--json", help="also write the numbers to this file")
    opts = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench.py needs root (network namespaces)")

    results = {}
    with labmod.Lab() as lab:
        # A pool large enough for both runs, no ping check: the server answers at once.
        lab.start_dnsmasq(pool=(lab.address(20), lab.address(250)), lease_time=3600)
        impls = [Implementation("reference", REFERENCE, lab),
                 Implementation("ours", our_bin_dir(lab, Path(opts.build).resolve()), lab)]
        for impl in impls:
            print(f"measuring {impl.name} ...", flush=True)
            results[impl.name] = measure(impl, fresh_pods(lab, opts.pods), fresh_pods(lab, 100))
    print_table(results["ours"], results["reference"], opts.pods)
    if opts.json:
        Path(opts.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
