"""docs/benchmarks.md and its charts (docs/benchmarks/*.png, matplotlib) from one
run of bench/run.py."""
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from bench import REPO, Floor, quantile  # noqa: E402

LINKS = Floor.LINKS

DOC = REPO / "docs" / "benchmarks.md"
CHARTS = REPO / "docs" / "benchmarks"
STYLE = {
    "ours": dict(color="tab:blue", label="ours"),
    "reference": dict(color="tab:orange", label="reference"),
    "floor": dict(color="0.35", linestyle="--", label="floor"),
}
plain = FuncFormatter(lambda v, _: f"{v:g}")


def _log(ax, which):
    """A log scale labelled in plain numbers, at 1, 2 and 5 of each decade."""
    (ax.set_xscale if which == "x" else ax.set_yscale)("log")
    axis = ax.xaxis if which == "x" else ax.yaxis
    axis.set_major_formatter(plain)
    axis.set_minor_formatter(FuncFormatter(
        lambda v, _: f"{v:g}" if round(v / 10 ** math.floor(math.log10(v))) in (2, 5) else ""))


def _axes(ax, title, xlabel, ylabel, legend_outside=False):
    ax.set_title(title, fontsize=11)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="both", alpha=0.3)
    if legend_outside:
        ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1))
    else:
        ax.legend(fontsize=9)


def _save(fig, name):
    path = CHARTS / name
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def latency_chart(results, floor_ms):
    lat = results["latency"]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for label in ("ours", "reference"):
        xs = sorted(s * 1000 for s in lat[label]["seconds"])
        ys = [(i + 1) / len(xs) for i in range(len(xs))]
        ax.step(xs, ys, where="post", linewidth=1.8, **{**STYLE[label], "label": f"{label} ({len(xs)} ADDs)"})
    totals = sorted(s["total"][0] / 1e6 for s in lat["floor"])
    ax.step(totals, [(i + 1) / len(totals) for i in range(len(totals))], where="post", color="0.6",
            linewidth=1, label=f"floor samples ({len(totals)}, parts summed per sample)")
    ax.axvline(floor_ms, **{**STYLE["floor"], "label": f"floor: the parts' medians summed, {floor_ms:.1f} ms"})
    _log(ax, "x")
    ax.set_ylim(0, 1.02)
    _axes(ax, "ADD latency, macvlan + dhcp, one at a time (cumulative)", "ADD latency (ms, log scale)",
          "fraction of ADDs at most this long")
    return _save(fig, "latency.png")


def memory_chart(results, floor_idle_kib, facts):
    mem = results["memory"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    top = max(m["leases"] for label in ("ours", "reference") for m in mem[label]["memory"])
    for label in ("ours", "reference"):
        points = mem[label]["memory"]
        left.plot([m["leases"] for m in points], [m["rss_kib"] / 1024 for m in points], marker="o",
                  markersize=4, **STYLE[label])
        grown = [m for m in points if m["leases"]]
        right.plot([m["leases"] for m in grown],
                   [(m["rss_kib"] - points[0]["rss_kib"]) / m["leases"] for m in grown],
                   marker="o", markersize=4, **{**STYLE[label], "label": f"{label}: RSS growth per lease"})
    ours = mem["ours"]["memory"]
    right.plot([m["leases"] for m in ours if m["leases"]],
               [(m["heap_bytes"] - ours[0]["heap_bytes"]) / m["leases"] / 1024 for m in ours if m["leases"]],
               marker="s", markersize=4, color="tab:blue", linestyle=":", label="ours: heap per lease")
    left.plot([0, top], [floor_idle_kib / 1024, (floor_idle_kib * 1024 + top * facts) / 2**20],
              **{**STYLE["floor"], "label": "floor: an idle daemon, plus the lease facts"})
    right.axhline(facts / 1024, **{**STYLE["floor"], "label": f"floor: the lease facts, {facts} B"})
    left.set_ylim(bottom=0)
    _axes(left, "daemon resident memory", "leases held", "RSS (MiB)")
    _log(right, "y")
    _axes(right, "memory per lease", "leases held", "KiB per lease (log scale)")
    return _save(fig, "memory.png")


def cpu_chart(results):
    renew = results["renewal"]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    for label in ("ours", "reference", "floor"):
        points = [w for w in renew[label] if w["renewals"]]
        style = {**STYLE[label], "label": "floor: busybox udhcpc" if label == "floor" else label}
        ax.plot([w["leases"] for w in points], [w["cpu_ns"] / w["renewals"] / 1000 for w in points],
                marker="o", markersize=5, **style)
    _log(ax, "y")
    _axes(ax, f"daemon CPU per renewal (leases of {renew['lease_seconds']} s, windows of {renew['window']:g} s)",
          "leases held by each daemon", "CPU time per renewal (µs, log scale)", legend_outside=True)
    return _save(fig, "cpu.png")


def burst_chart(results, sizes):
    mem = results["memory"]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    for label in ("ours", "reference"):
        bursts = mem[label]["bursts"]
        ax.plot([b["leases_before"] for b in bursts], [sizes["burst"] / b["seconds"] for b in bursts],
                marker="o", markersize=5, **STYLE[label])
    bursts = mem["ours"]["bursts"]
    ax.plot([b["leases_before"] for b in bursts], [sizes["burst"] / b["floor_seconds"] for b in bursts],
            marker=".", **{**STYLE["floor"], "label": "floor, measured before\neach round of bursts"})
    _log(ax, "y")
    _axes(ax, f"burst throughput: {sizes['burst']} ADDs, {sizes['concurrency']} at a time",
          "leases the daemon already holds", "ADDs per second (log scale)", legend_outside=True)
    return _save(fig, "burst.png")


def md_table(cells, text_columns=1):
    """A markdown table; the first text_columns columns are text, the others numbers."""
    head, *body = cells
    lines = ["| " + " | ".join(head) + " |",
             "|" + "---|" * text_columns + "---:|" * (len(head) - text_columns)]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines)


def write(results, rows, cells, floor_parts, bounds, facts, ci):
    CHARTS.mkdir(parents=True, exist_ok=True)
    by = {r.key: r for r in rows}
    wall, cpu = floor_parts
    sizes = results["sizes"]
    written = [latency_chart(results, by["add_median"].floor),
               memory_chart(results, results["floor_idle_kib"], facts),
               burst_chart(results, sizes)]
    if "renewal" in results:
        written.append(cpu_chart(results))
    m = results["machine"]
    notes = [f"- {r.label}: {r.note}." for r in rows if r.note]
    part_names = {
        "harness": "the runtime starting the plugin: the trivial program run exactly as the plugins are "
                   "(in the node's network namespace, the CNI environment, the configuration on stdin)",
        "exec": "the plugin starting its IPAM plugin: fork, exec and wait of the trivial program, timed in C",
        "link": f"a macvlan created on the master, in the pod, up: `ip -batch` of {1 + LINKS} of them less "
                f"`ip -batch` of 1, over {LINKS}",
        "dora": "one DORA with the same dnsmasq: busybox udhcpc's DISCOVER out to OFFER in plus REQUEST out "
                "to ACK in, from the kernel's timestamps of the frames in the pod",
        "fsync": "a 512-byte file written and fsynced in the directory our daemon keeps its records in",
    }
    parts_table = md_table([("part", "what it is", "wall", "CPU")]
                           + [(p, part_names[p], f"{wall[p]:.2f} ms", f"{cpu[p]:.2f} ms") for p in wall]
                           + [("sum", "the floor of an ADD", f"{sum(wall.values()):.2f} ms",
                               f"{sum(cpu.values()):.2f} ms")], text_columns=2)
    bounds_table = md_table([("figure", "bound", "this run", "margin")]
                            + [(what, f"{op} {bound:,}", f"{value:,.1f}",
                                f"{(bound / value if op == '<=' else value / bound):.1f}x")
                               for what, op, bound, value, _ in bounds])
    renew = results.get("renewal")
    renew_text = ""
    if renew:
        renew_text = f"""
### CPU per renewal

![CPU per renewal](benchmarks/cpu.png)

A second lab, with ISC dhcpd handing out leases of {renew['lease_seconds']} s
(dnsmasq's shortest is 2 minutes): each lease is renewed every
{renew['lease_seconds'] // 2} s. Both daemons grow to each lease count
({', '.join(str(w['leases']) for w in renew['ours'])}, the same for both; bursts,
{sizes['concurrency']} at a time), and after 2 s for what the ADDs leave behind to
settle, a window of {renew['window']:g} s opens for both at once. A daemon's CPU per
renewal is its CPU time over the window (the kernel's run time of all its threads,
`/proc/PID/task/*/schedstat`: utime+stime to the ns instead of in clock ticks)
divided by the renewals of its leases the server acknowledged in the window (the
DHCPACKs in its log, by address). The floor is {renew['floor'][0]['clients']} busybox
udhcpc clients, each in a pod of its own, renewing their leases in the same windows:
a minimal client's CPU per renewal (its script runs in a child and is not counted).
Each pod has a permanent neighbour entry for the server, as the server has for each
pod, so that no renewal depends on the kernel's shared neighbour table (below).
"""
    text = f"""# Benchmarks

`bench/run.py` (as root) measures our `macvlan` and `dhcp` plugins and `dhcp daemon`
against the reference ones (Debian's containernetworking-plugins, `/usr/lib/cni`) on
the same namespace labs and the same DHCP servers, their measurements interleaved so
that whatever else the machine does weighs on both, and next to each figure the
floor: what no implementation can beat on this machine, measured in the same run.
It prints the table below and writes this page and its charts (matplotlib).
`bench/run.py --quick` is a smaller run, `bench/run.py --ci` the CI's check (below);
`bench/ab.py --baseline OTHER_BUILD_DIR` compares two builds of ours.

This page is one {results['mode']} run of {results['seconds'] / 60:.1f} minutes, {results['date']}:

- {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB, Linux {m['kernel']}, Debian {m['debian']};
  load average {m['load'][0]:.2f} before the run and {m['load_after'][0]:.2f} after
  (the machine runs other work too: the interleaving is there for that)
- reference: containernetworking-plugins {m['reference']}; ours: `{results['ours_version']}`
- servers: dnsmasq {m['dnsmasq']} (`--no-ping`), ISC dhcpd {m['dhcpd']}; the floor's
  client: busybox {m['busybox']} udhcpc

## The figures

"Ours better by" is the reference's cost over ours (for throughput, ours over the
reference's); "ours in floors" is our cost over the floor's: 1x is the floor.

{md_table(cells)}

{chr(10).join(notes)}

## The floor

An ADD costs at least what any implementation of the two plugins and a daemon has to
do. Each part is measured alone, {len(results['latency']['floor'])} times, interleaved
with the ADDs; the floor is the sum of the parts' medians. The trivial program is a
static C program that exits at once (`bench/floor.c`).

{parts_table}

The floor is a cost, next to the median: the tails are the machine's noise, which
reaches the floor's samples too (the latency chart shows them, each the sum of its
parts). The other floors:

- CPU per ADD: the parts' CPU medians summed (the DORA's includes the server's).
- A burst of {sizes['burst']} ADDs, {sizes['concurrency']} at a time: the longer of
  {sizes['burst']} floor ADDs {sizes['concurrency']} at a time with nothing shared,
  and their CPU spread over the {m['cores']} cores; from {sizes['burst_floor_samples']}
  floor samples taken just before each round of bursts.
- An idle daemon: `bench/floor.c` listening on a unix socket and doing nothing else.
- A lease: its facts, what it must remember to be renewed and released (its key:
  container ID, network and interface names; the pod's namespace path; address,
  prefix length, router, server, MAC; T1, T2 and the expiry), {facts} bytes here.
- A renewal: a minimal client's, busybox udhcpc renewing its own lease.

## How it is measured

### ADD latency

![ADD latency](benchmarks/latency.png)

The lab of `tests/system/lab.py`: a LAN namespace with the DHCP server, a node
namespace holding the macvlan master where the plugins and the daemons run, a
namespace per pod. Each ADD is `macvlan` with `ipam.type` `dhcp` run as a runtime
runs it, for a new pod: the CNI environment, the configuration on stdin, in the
node's network namespace (`nsenter --net`, as a runtime runs plugins in its own;
`ip netns exec` would also remount /sys, at a cost that grows with the number of
namespaces on the machine). Every round runs one ADD of ours and one floor sample,
and every {sizes['pods'] // max(sizes['ref_pods'], 1)} rounds one of the reference (about
{quantile(results['latency']['reference']['seconds'], 0.5):.1f} s each); the order within a round rotates.
The CPU of an ADD is the plugins' (children of the benchmark), the daemon's and the
server's over the ADD.

### Bursts and memory

![burst throughput](benchmarks/burst.png)

Fresh daemons on the same lab. Rounds of bursts of {sizes['burst']} ADDs,
{sizes['concurrency']} at a time, the two implementations alternating, each burst
adding {sizes['burst']} leases to what its daemon holds: ours grows to
{sizes['leases']} leases, the reference to {sizes['ref_leases']} (past that its ADDs,
seconds each, would make the run much longer). The table's burst is the median of
the bursts both made, at the same lease counts.

![memory](benchmarks/memory.png)

The daemon's resident memory (VmRSS) after each burst; the growth per lease is from
the idle daemon to that count. Our daemon also reports its heap in use
(`DHCP.Status`, `heapBytes`); the reference's reports nothing like it.
{renew_text}
### A thousand pods on one machine

The pods' macvlans are in private mode. In bridge mode (the default) a pod's
broadcast is first copied to every other macvlan of the master, all into the
kernel's backlog at once (`net.core.netdev_max_backlog`, {m['netdev_max_backlog']} here): past
that many pods on one master the copy for the LAN finds the backlog full and every
DHCPDISCOVER is lost. In private mode a pod's frames go to the LAN only; DHCP works
the same.

The kernel's neighbour (ARP) table is shared by every namespace on the machine and
holds about a thousand entries that are not permanent: past that, no new entry can
be made and a unicast reply to a new address is lost. The server answers a client
with no address yet by unicast to its MAC, first setting the neighbour entry for the
address it hands out. So the LAN namespace starts with a permanent placeholder entry
for every address of the pool (permanent entries do not count), which the server
only updates, and each pod's entry is made permanent again after its ADD: neither
this lab's pods nor another lab's can fill the table for the server.

## The CI's check

`bench/run.py --ci`, a step of `scripts/test.sh`, is a small run of the same
measurements ({ci.pods} ADDs of ours and as many floor samples, {ci.ref_pods} of the
reference, bursts up to {ci.leases} leases for ours and {ci.ref_leases} for the
reference, no renewal windows) that fails when a figure is out of its bound. The
bounds are ratios measured in the same run, never absolute times (the heap,
deterministic, in bytes), set with room for a busy machine: under load our ADDs slow
down with the floor's while the reference's, mostly waiting, do not. This run's
values against them:

{bounds_table}
"""
    DOC.write_text(text)
    return written + [DOC]
