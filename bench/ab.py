#!/usr/bin/python3
"""Two builds of ours side by side: is a change slower? Both daemons run at once on
the same lab and the same dnsmasq, and their ADDs alternate (A, B, A, B, ...), so
whatever else the machine does weighs on both alike. Prints each build's median and
p95 ADD latency, the ratio, and what one lease costs in each daemon's heap.

Run as root: bench/ab.py --baseline OLD_BUILD_DIR [--build NEW_BUILD_DIR] [--pods N]
(a baseline is made with e.g. `git worktree add /tmp/old REV && make -C /tmp/old`).
"""
import argparse
import json
import os
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "system"))
import lab as labmod  # noqa: E402
from bench import Implementation, our_bin_dir  # noqa: E402


class Build(Implementation):
    """One build of ours with its own daemon, socket and state directory."""

    def __init__(self, label, build_dir, lab):
        super().__init__("ours", our_bin_dir(lab, build_dir, label), lab)
        self.label = label
        self.socket = lab.workdir / f"{label}-dhcp.sock"

    def start_daemon(self):
        argv = [self.bin_dir / "dhcp", "daemon", "-socketpath", self.socket,
                "--state-dir", self.lab.workdir / f"{self.label}-state"]
        self.daemon = self.lab.start_process(argv, self.lab.node, name=f"{self.label}-daemon")
        labmod.wait_until(self.socket.exists, 10, f"{self.label} daemon socket")

    def heap_bytes(self):
        done = labmod.run([self.bin_dir / "dhcp", "status", "-socketpath", self.socket, "--json"])
        return json.loads(done.stdout).get("heapBytes")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", required=True, help="the build directory to compare against")
    parser.add_argument("--build", default=str(REPO / "build"), help="our build directory (default build/)")
    parser.add_argument("--pods", type=int, default=40, help="ADDs per build (default 40)")
    opts = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("ab.py needs root (network namespaces)")

    with labmod.Lab() as lab:
        lab.start_dnsmasq(pool=(lab.address(20), lab.address(250)), lease_time=3600)
        builds = [Build("baseline", Path(opts.baseline).resolve(), lab), Build("build", Path(opts.build).resolve(), lab)]
        heap = {}
        for b in builds:
            b.start_daemon()
            heap[b.label] = b.heap_bytes()
        latencies = {b.label: [] for b in builds}
        for i in range(opts.pods):
            for b in builds:
                latencies[b.label].append(b.add(lab.add_pod(), f"{b.label}-{i}"))
        for b in builds:
            heap[b.label] = (b.heap_bytes() - heap[b.label]) / opts.pods if heap[b.label] is not None else None

    print(f"\n{'':28} {'baseline':>12} {'build':>12} {'build/baseline':>15}")
    for label, pick in (("ADD latency median", statistics.median),
                        ("ADD latency p95", lambda xs: statistics.quantiles(xs, n=20)[18])):
        a, b = pick(latencies["baseline"]) * 1000, pick(latencies["build"]) * 1000
        print(f"{label:28} {a:>9.1f} ms {b:>9.1f} ms {b / a:>14.2f}x")
    if heap["baseline"] is not None and heap["build"] is not None:
        a, b = heap["baseline"], heap["build"]
        print(f"{'heap per lease':28} {a:>10.0f} B {b:>10.0f} B {b / a:>14.2f}x")
    else:
        print("heap per lease: the baseline's DHCP.Status does not report heapBytes")


if __name__ == "__main__":
    main()
