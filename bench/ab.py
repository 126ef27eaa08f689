#!/usr/bin/python3
"""Two builds of ours side by side: is a change slower? Both daemons run at once on
the same lab and the same dnsmasq, and their ADDs alternate (A, B, A, B, ...), so
whatever else the machine does weighs on both alike. Prints each build's median and
p95 ADD latency, the ratio, and what one lease costs in each daemon's heap.

Run as root: bench/ab.py --baseline OLD_BUILD_DIR [--build NEW_BUILD_DIR] [--pods N]
(a baseline is made with e.g. `git worktree add /tmp/old REV && make -C /tmp/old`).
"""
import argparse
import os
import sys
from pathlib import Path

from bench import REPO, BenchLab, Implementation, median, our_bin_dir, quantile


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", required=True, help="the build directory to compare against")
    parser.add_argument("--build", default=str(REPO / "build"), help="our build directory (default build/)")
    parser.add_argument("--pods", type=int, default=40, help="ADDs per build (default 40)")
    opts = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("ab.py needs root (network namespaces)")

    with BenchLab() as lab:
        lab.start_dnsmasq(pool=lab.pool(), lease_time=3600, extra=["--dhcp-lease-max=10000"])
        lab.reserve_neighbours()
        builds = [Implementation(label, our_bin_dir(lab, Path(path), label), lab, ours=True)
                  for label, path in (("baseline", opts.baseline), ("build", opts.build))]
        heap = {}
        try:
            for b in builds:
                b.start_daemon()
                heap[b.label] = b.heap_bytes()
            pods = {b.label: lab.new_pods(opts.pods) for b in builds}
            latencies = {b.label: [] for b in builds}
            for i in range(opts.pods):
                for b in builds:
                    attachment = b.add(pods[b.label][i], f"{b.label}-{i}")
                    lab.pin([attachment])
                    latencies[b.label].append(attachment.seconds)
            for b in builds:
                heap[b.label] = (b.heap_bytes() - heap[b.label]) / opts.pods if heap[b.label] is not None else None
        finally:
            for b in builds:
                b.stop_daemon()
            lab.delete_pods()

    print(f"\n{'':28} {'baseline':>12} {'build':>12} {'build/baseline':>15}")
    for label, pick in (("ADD latency median", median),
                        ("ADD latency p95", lambda xs: quantile(xs, 0.95))):
        a, b = pick(latencies["baseline"]) * 1000, pick(latencies["build"]) * 1000
        print(f"{label:28} {a:>9.1f} ms {b:>9.1f} ms {b / a:>14.2f}x")
    if heap["baseline"] is not None and heap["build"] is not None:
        a, b = heap["baseline"], heap["build"]
        print(f"{'heap per lease':28} {a:>10.0f} B {b:>10.0f} B {b / a:>14.2f}x")
    else:
        print("heap per lease: the baseline's DHCP.Status does not report heapBytes")


if __name__ == "__main__":
    main()
