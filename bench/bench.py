"""The benchmark's parts, shared by bench/run.py (ours against the reference) and
bench/ab.py (two builds of ours): the lab, an implementation of the two plugins and
its daemon, what a process costs (CPU, memory), and the floor.

Everything runs in the namespace labs of tests/system/lab.py: a LAN namespace with
the DHCP server, a node namespace holding the macvlan master where the plugins and
the daemons run, and one namespace per pod.
"""
import concurrent.futures
import ipaddress
import json
import os
import resource
import secrets
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "system"))
import lab as labmod  # noqa: E402

REFERENCE = Path("/usr/lib/cni")

# The pods' macvlan mode. In bridge mode (the default) a pod's broadcast is first
# copied to every other macvlan of the master, all into the kernel's backlog at once
# (net.core.netdev_max_backlog, 1000 here): past about a thousand pods on one master
# the copy for the LAN finds the backlog full and is lost, DHCPDISCOVERs with it.
# Private mode sends a pod's frames to the LAN only; DHCP works the same.
MODE = "private"
TICK_NS = 1_000_000_000 // os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------
# Numbers


def quantile(values, q):
    """The q-quantile (0..1) of values, interpolated between the closest ranks."""
    xs = sorted(values)
    if len(xs) == 1:
        return xs[0]
    pos = q * (len(xs) - 1)
    low = int(pos)
    high = min(low + 1, len(xs) - 1)
    return xs[low] + (xs[high] - xs[low]) * (pos - low)


def median(values):
    return statistics.median(values)


# --------------------------------------------------------------------------
# What a process costs


def cpu_ns(pid):
    """CPU time a process has used, all its threads, in ns.

    The kernel's run time of each thread (/proc/PID/task/*/schedstat): the same total
    as utime+stime in /proc/PID/stat, to the ns instead of in clock ticks. A thread
    that has exited is gone from the tasks, so the tick count wins when it is ahead.
    """
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    ticks = (int(fields[11]) + int(fields[12])) * TICK_NS  # utime, stime
    return max(total, ticks)


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def neighbour_table_overflows():
    """How many times the kernel's IPv4 neighbour table has been full since boot."""
    rows = Path("/proc/net/stat/arp_cache").read_text().splitlines()
    column = rows[0].split().index("table_fulls")
    return sum(int(row.split()[column], 16) for row in rows[1:])


def children_cpu_ns():
    """CPU of this process's waited-for children so far."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return int((ru.ru_utime + ru.ru_stime) * 1e9)


def thread_cpu_ns():
    ru = resource.getrusage(resource.RUSAGE_THREAD)
    return int((ru.ru_utime + ru.ru_stime) * 1e9)


# --------------------------------------------------------------------------
# The lab


def entered(netns, argv):
    """argv run in a namespace the way a runtime runs a plugin in its own: in the
    network namespace only. `ip netns exec` also makes a mount namespace and remounts
    /sys, which costs milliseconds more the more namespaces the machine has (each is
    a mount): the pods of a large run would slow every ADD down."""
    return ["nsenter", f"--net={netns.path}", "--"] + [str(a) for a in argv]


class Node(labmod.Node):
    """The lab's node, where the plugins run: entered as entered() does."""

    def exec_argv(self, argv):
        return entered(self, argv)


class BenchLab(labmod.Lab):
    """The standard lab (one node, no bridge) on a /20: room for a few thousand pods.

    The kernel's neighbour table is shared by every namespace on the machine and
    holds about a thousand entries that are not permanent (gc_thresh3): past that,
    a new entry cannot be made and a unicast reply to a new address is lost. The
    server answers a client that has no address yet by unicast to its MAC, first
    setting a neighbour entry for the address it hands out; so the LAN namespace
    starts with a permanent placeholder entry for every address of the pool
    (reserve_neighbours: permanent entries do not count), which the server then only
    updates, and each pod's entry is made permanent again after its ADD (pin). No
    number of pods, here or in another lab on the machine, can fill the table for
    the server then."""

    def __init__(self):
        self._pod_lock = threading.Lock()
        self.overflows = neighbour_table_overflows()
        super().__init__()

    def _build(self, node_count):
        self.network = ipaddress.IPv4Network(
            (f"10.{secrets.choice(range(100, 250))}.{secrets.randbelow(16) * 16}.0", 20))
        self.router = str(self.network[1])
        super()._build(node_count)

    def add_node(self):
        node = super().add_node()
        node.__class__ = Node
        return node

    def pool(self):
        """The server's pool: the whole subnet past the first 20 addresses."""
        return self.address(20), self.address(self.network.num_addresses - 2)

    def new_pods(self, n, workers=8):
        """n pod namespaces, made a few at a time."""
        def make(_):
            with self._pod_lock:
                name = f"{self.id}-pod{len(self.pods)}"
                self.pods.append(None)
                slot = len(self.pods) - 1
            pod = labmod.Netns(name)
            self.pods[slot] = pod
            return pod
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            return list(pool.map(make, range(n)))

    def namespaces(self):
        return [ns for ns in super().namespaces() if ns is not None]

    def reserve_neighbours(self):
        """A permanent placeholder neighbour entry in the LAN namespace for every
        address of the pool (call it once the server runs)."""
        first, last = (int(ipaddress.IPv4Address(a)) for a in self.pool())
        lines = "".join(f"neigh replace {ipaddress.IPv4Address(n)} lladdr 02:00:00:00:00:01 nud permanent "
                        f"dev {self.lan_if}\n" for n in range(first, last + 1))
        labmod.run(["ip", "-n", self.lan.name, "-batch", "-"], input=lines, timeout=120)

    def pin_router(self, pods, ifname="eth0"):
        """A permanent entry for the router (the server) in each pod: renewals are
        unicast to it, and need no new entry then."""
        mac = self.lan.link(self.lan_if)["address"]
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda pod: pod.ip("neigh", "replace", self.router, "lladdr", mac, "nud", "permanent",
                                             "dev", ifname), pods))

    def pin(self, attachments):
        """Permanent neighbour entries in the LAN namespace for these pods."""
        lines = "".join(f"neigh replace {a.ip} lladdr {a.mac} nud permanent dev {self.lan_if}\n"
                        for a in attachments if a is not None)
        if lines:
            labmod.run(["ip", "-n", self.lan.name, "-batch", "-"], input=lines, timeout=120)

    def diagnose(self):
        """Why an ADD may have failed, when this machine says."""
        overflows = neighbour_table_overflows() - self.overflows
        if not overflows:
            return ""
        return (f"\nthe kernel's neighbour table, shared by every namespace, was full {overflows} times during "
                "this run (another lab with many pods on this machine?)")

    def delete_pods(self, workers=8):
        """Deletes every pod namespace, a few at a time (the lab's own close is serial)."""
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda pod: pod.delete(), [p for p in self.pods if p is not None]))


# --------------------------------------------------------------------------
# An implementation: the two plugins and the daemon


@dataclass
class Attachment:
    """One ADD: how long it took, what CPU it cost the plugins, and the pod's address."""
    seconds: float
    plugin_cpu_ns: int
    ip: str
    mac: str


class Implementation:
    """The macvlan and dhcp plugins of one implementation and its daemon on a lab.

    ours: our daemon (lease records in the lab, DHCP.Status with heapBytes); else the
    reference's. Each start_daemon() gets a fresh socket and state directory."""

    def __init__(self, label, bin_dir, lab, ours):
        self.label = label
        self.bin_dir = Path(bin_dir)
        self.lab = lab
        self.ours = ours
        self.daemon = None
        self.starts = 0
        self.socket = None

    def start_daemon(self):
        self.starts += 1
        self.socket = self.lab.workdir / f"{self.label}-{self.starts}.sock"
        argv = [self.bin_dir / "dhcp", "daemon", "-socketpath", self.socket]
        if self.ours:
            # Lease records in the lab, never in the host's /var/lib/cni/dhcp.
            argv += ["--state-dir", self.lab.workdir / f"{self.label}-state-{self.starts}"]
        self.daemon = self.lab.start_process(argv, self.lab.node, name=f"{self.label}-daemon")
        labmod.wait_until(self.socket.exists, 10, f"{self.label} daemon socket")

    def stop_daemon(self):
        if self.daemon:
            self.daemon.stop()
            self.daemon = None

    def conf(self):
        return {
            "cniVersion": "0.4.0",
            "name": "bench",
            "type": "macvlan",
            "master": self.lab.node.master,
            "mode": MODE,
            "ipam": {"type": "dhcp", "daemonSocketPath": str(self.socket)},
        }

    def run(self, command, pod, container_id):
        return labmod.run_plugin(self.bin_dir / "macvlan", command, self.conf(), netns=pod, ifname="eth0",
                                 container_id=container_id, cni_path=self.bin_dir, node=self.lab.node,
                                 args="IgnoreUnknown=1", timeout=120)

    def add(self, pod, container_id):
        """An ADD as a runtime runs it. plugin_cpu_ns is exact only when no other child
        of this process ends meanwhile (sequential ADDs from one thread)."""
        cpu = children_cpu_ns()
        start = time.monotonic()
        done = self.run("ADD", pod, container_id)
        elapsed = time.monotonic() - start
        cpu = children_cpu_ns() - cpu
        if done.code != 0:
            raise RuntimeError(f"{self.label} ADD failed: {done.stdout} {done.stderr}{self.lab.diagnose()}")
        result = done.output
        ip = result["ips"][0]["address"].split("/")[0]
        mac = next(i["mac"] for i in result["interfaces"] if i.get("sandbox"))
        return Attachment(elapsed, cpu, ip, mac)

    def burst(self, pods, concurrency, tag):
        """ADDs to every pod, `concurrency` at a time: (wall seconds, attachments)."""
        start = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
            attachments = list(pool.map(lambda ip: self.add(ip[1], f"{self.label}-{tag}{ip[0]}"),
                                        enumerate(pods)))
        return time.monotonic() - start, attachments

    def heap_bytes(self):
        """The daemon's heap in use (ours only: DHCP.Status reports it)."""
        if not self.ours:
            return None
        done = labmod.run([self.bin_dir / "dhcp", "status", "-socketpath", self.socket, "--json"])
        return json.loads(done.stdout).get("heapBytes")

    def rss_kib(self):
        return rss_kib(self.daemon.pid)

    def cpu_ns(self):
        return cpu_ns(self.daemon.pid)


def our_bin_dir(lab, build, name="ours"):
    """A CNI_PATH directory holding our two plugins of that build."""
    d = lab.workdir / name
    d.mkdir()
    for plugin in ("macvlan", "dhcp"):
        (d / plugin).symlink_to(Path(build).resolve() / plugin)
    return d


# --------------------------------------------------------------------------
# The floor

# Prints "TIME_NS IFNAME DIRECTION TYPE" for each DHCP message on any interface of
# the namespace it runs in: the kernel's timestamp of the frame, "out" or "in", the
# message type (option 53).
WIRE_SCRIPT = r"""
import socket, struct, sys
SO_TIMESTAMPNS = 35
s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0003))  # outgoing frames too
s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
print("ready", flush=True)
while True:
    data, anc, _, addr = s.recvmsg(2048, 64)
    if addr[1] != 0x0800 or len(data) < 20 + 8 + 240 or data[9] != 17:
        continue
    udp = (data[0] & 0x0F) * 4
    if {struct.unpack_from("!H", data, udp)[0], struct.unpack_from("!H", data, udp + 2)[0]} != {67, 68}:
        continue
    options, i, kind = data[udp + 8 + 240:], 0, 0
    while i + 2 < len(options) and options[i] != 255:
        if options[i] == 0:
            i += 1
            continue
        if options[i] == 53:
            kind = options[i + 2]
        i += 2 + options[i + 1]
    stamp = next((struct.unpack("qq", d[:16]) for _, t, d in anc if t == SO_TIMESTAMPNS), None)
    if stamp:
        print(stamp[0] * 1000000000 + stamp[1], addr[0], "out" if addr[2] == 4 else "in", kind, flush=True)
"""


class Floor:
    """What no implementation can beat on this machine, measured part by part.

    An ADD costs at least: the runtime starting the plugin (the harness starting a
    trivial static program exactly as it starts ours), the plugin starting its IPAM
    plugin (fork, exec, wait of that program), creating a macvlan in the pod and
    setting it up, one DORA with the server, and one fsync of a small file (the
    lease made durable before the answer). Each part is timed alone, with whatever
    starts it subtracted, and the parts are summed.

    The DORA is busybox udhcpc's, timed on the wire in the pod: DISCOVER out to
    OFFER in, plus REQUEST out to ACK in (the client's own time between the two,
    opening packet sockets, is not the exchange's). All samples use one pod, a fresh
    macvlan (a new client to the server) each time."""

    LINKS = 16  # extra macvlans per sample: the link part is their cost over one

    def __init__(self, lab, server_pid):
        self.lab = lab
        self.server_pid = server_pid
        self.program = lab.workdir / "floor"
        labmod.run(["gcc", "-O2", "-static", "-o", self.program, REPO / "bench" / "floor.c"], timeout=120)
        self.sync_dir = lab.workdir / "floor-sync"
        self.sync_dir.mkdir()
        self.pod = lab.new_pods(1)[0]
        self.wire = lab.start_process(["/usr/bin/python3", "-u", "-c", WIRE_SCRIPT], self.pod, name="floor-wire")
        self.wire.wait_for_log("^ready$")
        self.samples = 0

    def exec_cost(self, runs=20):
        """(wall, cpu) ns of one fork+exec+wait of the trivial program, from C."""
        wall, cpu = labmod.run([self.program, "spawn", str(runs)]).stdout.split()
        return int(wall), int(cpu)

    @staticmethod
    def _timed(fn):
        """(wall ns, CPU ns of waited children) of fn()."""
        cpu = children_cpu_ns()
        start = time.monotonic_ns()
        fn()
        return time.monotonic_ns() - start, children_cpu_ns() - cpu

    def harness(self, conf):
        """The runtime starting a plugin: the trivial program run as our plugins are."""
        return self._timed(lambda: labmod.run_plugin(self.program, "ADD", conf, netns=self.pod, ifname="eth0",
                                                     container_id="floor", cni_path=self.lab.workdir,
                                                     node=self.lab.node, args="IgnoreUnknown=1"))

    def _links(self, names, action):
        lines = "".join(f"link add link {self.lab.node.master} name {n} netns {self.pod.name} up "
                        f"type macvlan mode {MODE}\n" if action == "add" else f"link del {n}\n"
                        for n in names)
        netns = self.lab.node if action == "add" else self.pod
        return self._timed(lambda: labmod.run(["ip", "-n", netns.name, "-batch", "-"], input=lines))

    def link(self, names):
        """One macvlan created on the master, in the pod, up: `ip -batch` of 1 + LINKS
        of them less `ip -batch` of 1, over LINKS."""
        one = self._links(names[:1], "add")
        many = self._links(names[1:], "add")
        return tuple((m - o) / self.LINKS for m, o in zip(many, one))

    def _exchange(self, ifname):
        stamps = {}
        for line in self.wire.log().splitlines():
            fields = line.split()
            if len(fields) == 4 and fields[1] == ifname:
                stamps.setdefault((fields[2], int(fields[3])), int(fields[0]))
        keys = [("out", 1), ("in", 2), ("out", 3), ("in", 5)]  # DISCOVER OFFER REQUEST ACK
        return [stamps[k] for k in keys] if all(k in stamps for k in keys) else None

    def dora(self, ifname, exec_cost):
        """One DORA: (wall ns on the wire, CPU ns). CPU: udhcpc's run less busybox
        started the same way doing nothing and the two runs of its script (the
        trivial program: deconfig, bound), plus the server's."""
        udhcpc = ["busybox", "udhcpc", "-f", "-q", "-n", "-i", ifname, "-s", self.program, "-t", "3", "-T", "1"]
        noop = self._timed(lambda: labmod.run(entered(self.pod, ["busybox", "true"])))
        server = cpu_ns(self.server_pid)
        client = self._timed(lambda: labmod.run(entered(self.pod, udhcpc)))
        server = cpu_ns(self.server_pid) - server
        d, o, r, a = labmod.wait_until(lambda: self._exchange(ifname), 5, f"the DORA of {ifname} on the wire")
        return (o - d) + (a - r), client[1] - noop[1] - 2 * exec_cost[1] + server

    def fsync(self):
        """A small file written and fsynced where our daemon keeps its records."""
        path = self.sync_dir / f"{self.samples}.json"
        cpu = thread_cpu_ns()
        start = time.monotonic_ns()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, b"x" * 512)
            os.fsync(fd)
        finally:
            os.close(fd)
        return time.monotonic_ns() - start, thread_cpu_ns() - cpu

    def sample(self, conf):
        """One floor ADD: {part: (wall ns, cpu ns)}, and their "total"."""
        self.samples += 1
        names = [f"fl{self.samples}x{i}" for i in range(2 + self.LINKS)]
        parts = {}
        parts["exec"] = self.exec_cost()
        parts["harness"] = self.harness(conf)
        parts["link"] = self.link(names)
        parts["dora"] = self.dora(names[0], parts["exec"])
        parts["fsync"] = self.fsync()
        parts["total"] = tuple(sum(p[i] for p in parts.values()) for i in (0, 1))
        self._links(names, "del")
        return parts

    def idle_daemon(self):
        """A daemon that does nothing (listens on a unix socket): its resident memory."""
        process = self.lab.start_process([self.program, "idle", self.lab.workdir / "floor.sock"],
                                         self.lab.node, name="floor-daemon")
        labmod.wait_until((self.lab.workdir / "floor.sock").exists, 10, "the idle daemon's socket")
        try:
            return rss_kib(process.pid)
        finally:
            process.stop()


def renewal_client(lab, pod, ifname):
    """busybox udhcpc holding a lease in a pod and renewing it, the floor of a renewal:
    its script puts the address on the interface when bound (so it can renew from
    it) and writes the address to a file. Returns (process, address file)."""
    tag = secrets.token_hex(3)
    address_file = lab.workdir / f"udhcpc-{tag}.ip"
    script = lab.workdir / f"udhcpc-{tag}.sh"
    script.write_text('#!/bin/sh\n[ "$1" = bound ] || exit 0\n'
                      'ip addr replace "$ip/$subnet" dev "$interface"\n'
                      f'echo "$ip" > "{address_file}"\n')
    script.chmod(0o755)
    process = lab.start_process(["busybox", "udhcpc", "-f", "-i", ifname, "-s", script, "-t", "5", "-T", "1"],
                                pod, name="udhcpc")
    return process, address_file
