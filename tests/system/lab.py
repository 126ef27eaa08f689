"""Network-namespace labs for the system tests (plain Python, no pytest needed).

Everything a test touches lives in namespaces created here and deleted again:

    lan   netns  the site network: router address .1 and the DHCP server
    node  netns  holds the macvlan master (veth to lan, or a bridge port in lan);
                 the plugins and the dhcp daemon run here
    pod   netns  one per container, created on demand, CNI_NETNS points at it

SAFETY: nothing here attaches to, or sends on, the machine's own interfaces.
Every interface gets a lab-unique name (cnt<hex>...), so a command that was
meant for a namespace but ran in the host namespace finds no such interface
instead of touching a real one. Processes are stopped by PID, never by name.

Typical use:

    with Lab() as lab:
        server = lab.start_dnsmasq(dns_servers=["10.0.0.53"])
        pod = lab.add_pod()
        run = lab.run_plugin(build / "macvlan", "ADD", conf, netns=pod, ifname="eth0",
                             cni_path=bin_dir)
"""

from __future__ import annotations

import atexit
import calendar
import ipaddress
import json
import os
import re
import secrets
import shutil
import signal
import struct
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence, Union

PREFIX = "cnt"
IFNAMSIZ_MAX = 15  # longest interface name the kernel accepts

# Timeouts in seconds. Generous: they bound a hang, they never pace a test.
COMMAND_TIMEOUT = 20.0
PLUGIN_TIMEOUT = 60.0
SERVER_START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0

DEFAULT_CONTAINER_ID = "cnt-container-0"
NETNS_RUN_DIR = Path("/run/netns")

PathLike = Union[str, os.PathLike]


# --------------------------------------------------------------------------
# Names, commands, polling


def unique_id(prefix: str = PREFIX) -> str:
    """A short random name such as "cnt3fa9c1": 9 characters, so that a role
    suffix still fits in an interface name."""
    return prefix + secrets.token_hex(3)


def check_ifname(name: str) -> str:
    if not 0 < len(name) <= IFNAMSIZ_MAX:
        raise ValueError(f"interface name {name!r} is not 1..{IFNAMSIZ_MAX} characters")
    return name


class CommandError(RuntimeError):
    """A command exited non-zero; the message carries its output."""

    def __init__(self, argv: Sequence[str], returncode: int, stdout: str, stderr: str):
        self.argv, self.returncode, self.stdout, self.stderr = list(argv), returncode, stdout, stderr
        super().__init__(
            f"{' '.join(map(str, argv))} exited with {returncode}\n"
            f"stdout: {stdout.strip()}\nstderr: {stderr.strip()}"
        )


def run(argv: Sequence[PathLike], *, input: Optional[str] = None, check: bool = True,
        timeout: float = COMMAND_TIMEOUT, env: Optional[Mapping[str, str]] = None
        ) -> subprocess.CompletedProcess:
    """Runs a short command to completion and returns its text output."""
    argv = [str(a) for a in argv]
    done = subprocess.run(argv, input=input, capture_output=True, text=True,
                          timeout=timeout, env=env)
    if check and done.returncode != 0:
        raise CommandError(argv, done.returncode, done.stdout, done.stderr)
    return done


def wait_until(condition: Callable[[], Any], timeout: float, what: str,
               interval: float = 0.005, max_interval: float = 0.1) -> Any:
    """Polls `condition` until it returns something truthy and returns that.

    A bounded poll on an observable condition, not a sleep: the first check is
    immediate and the interval grows from a few ms, so fast events cost little.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)
        interval = min(interval * 2, max_interval)


# --------------------------------------------------------------------------
# Cleanup that survives failures and interruptions


class _CleanupRegistry:
    """Everything this process created and has not removed yet.

    Each resource registers an undo action when created and withdraws it when
    deleted normally. Whatever is left runs, newest first, at interpreter exit,
    so a crashed or interrupted run still removes its namespaces, stops its
    processes and deletes its directories.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._actions: dict[int, tuple[str, Callable[[], None]]] = {}
        self._next_token = 0

    def add(self, what: str, undo: Callable[[], None]) -> int:
        with self._lock:
            self._next_token += 1
            self._actions[self._next_token] = (what, undo)
            return self._next_token

    def discard(self, token: Optional[int]) -> None:
        with self._lock:
            self._actions.pop(token, None)

    def pending(self) -> list[str]:
        with self._lock:
            return [what for what, _ in self._actions.values()]

    def run_all(self) -> None:
        while True:
            with self._lock:
                if not self._actions:
                    return
                token = max(self._actions)
                what, undo = self._actions.pop(token)
            try:
                undo()
            except Exception as e:  # keep going: the rest must still be removed
                print(f"lab cleanup: {what}: {e}", flush=True)


_cleanups = _CleanupRegistry()
_handlers_installed = False


def pending_cleanups() -> list[str]:
    """Descriptions of resources still alive (for tests of the lab itself)."""
    return _cleanups.pending()


def cleanup_all() -> None:
    """Removes everything still registered. Safe to call more than once."""
    _cleanups.run_all()


def _interrupt(signum: int, _frame: Any) -> None:
    # Turn SIGTERM/SIGHUP into the same path as Ctrl-C: pytest then tears its
    # fixtures down, and atexit removes whatever is left. Later signals are
    # ignored so that cleanup itself is not interrupted.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


def install_cleanup_handlers() -> None:
    """Registers the atexit cleanup and SIGTERM/SIGHUP handling (once).

    Signal handlers are only replaced when still at their default, and only
    from the main thread (Python allows no other).
    """
    global _handlers_installed
    if _handlers_installed:
        return
    _handlers_installed = True
    atexit.register(cleanup_all)
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) == signal.SIG_DFL:
            signal.signal(sig, _interrupt)


class TempDir:
    """A temporary directory (in `dir`, default the system's) removed on delete() or at exit."""

    def __init__(self, prefix: str, dir: Optional[PathLike] = None):
        self.path = Path(tempfile.mkdtemp(prefix=prefix, dir=dir))
        self._token = _cleanups.add(f"directory {self.path}", self.delete)

    def delete(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        _cleanups.discard(self._token)


# --------------------------------------------------------------------------
# Processes


class Process:
    """A long-running process we started, optionally inside a netns.

    Known by PID only. `ip netns exec` execs the command in place, so the PID
    is the program's own. stdout and stderr go to one log file (a pipe could
    fill up and stall the program). The process gets its own session so a
    Ctrl-C on the terminal does not reach it: teardown stops it, in order.
    """

    def __init__(self, argv: Sequence[PathLike], log_path: PathLike, *,
                 netns: Optional["Netns"] = None, env: Optional[Mapping[str, str]] = None,
                 name: Optional[str] = None):
        self.argv = [str(a) for a in argv]
        self.netns = netns
        self.log_path = Path(log_path)
        self.name = name or Path(self.argv[0]).name
        self.killed = False  # True when SIGTERM was not enough
        command = (["ip", "netns", "exec", netns.name] if netns else []) + self.argv
        with open(self.log_path, "ab") as log:
            self._popen = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                           stderr=subprocess.STDOUT, env=env,
                                           start_new_session=True)
        self._token = _cleanups.add(f"process {self.name} pid {self.pid}", self.stop)

    @property
    def pid(self) -> int:
        return self._popen.pid

    @property
    def returncode(self) -> Optional[int]:
        return self._popen.poll()

    def alive(self) -> bool:
        return self._popen.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_for_log(self, pattern: str, timeout: float = SERVER_START_TIMEOUT) -> re.Match:
        """Waits until the log matches `pattern` (a regex); fails early if the process exits."""
        regex = re.compile(pattern, re.MULTILINE)

        def matched() -> Optional[re.Match]:
            found = regex.search(self.log())
            if not found and not self.alive():
                raise RuntimeError(f"{self.name} exited ({self.returncode}) before logging "
                                   f"{pattern!r}; log:\n{self.log()}")
            return found

        return wait_until(matched, timeout, f"{self.name} to log {pattern!r}")

    def send_signal(self, sig: int) -> None:
        # Popen refuses to signal a PID it has already reaped: no stray kill
        # can reach a recycled PID.
        self._popen.send_signal(sig)

    def wait(self, timeout: float) -> int:
        return self._popen.wait(timeout)

    def stop(self, timeout: float = STOP_TIMEOUT) -> Optional[int]:
        """SIGTERM, then SIGKILL if it is still running after `timeout`.
        Returns the exit status (negative: killed by that signal)."""
        if self.alive():
            self.send_signal(signal.SIGTERM)
            try:
                self._popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.killed = True
                self._popen.kill()
                self._popen.wait(timeout)
        _cleanups.discard(self._token)
        return self._popen.returncode


def pid_exists(pid: int) -> bool:
    """True while `pid` names a process that is not yet reaped (zombies included)."""
    return Path(f"/proc/{pid}").exists()


def process_running(pid: int) -> bool:
    """True while `pid` runs: gone or a zombie (exited, not yet reaped) is not running."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    state = stat.rpartition(")")[2].split()[0]  # the comm field may contain spaces
    return state not in ("Z", "X")


def netns_inode_of_pid(pid: int) -> int:
    return os.stat(f"/proc/{pid}/ns/net").st_ino


# --------------------------------------------------------------------------
# Network namespaces


def netns_list() -> list[str]:
    """Names from `ip netns list` (read only)."""
    names = []
    for line in run(["ip", "netns", "list"]).stdout.splitlines():
        if line.strip():
            names.append(line.split()[0])
    return names


class Netns:
    """A named network namespace (`ip netns add`), deleted by delete() or at exit."""

    def __init__(self, name: str):
        self.name = name
        run(["ip", "netns", "add", name])
        self._token = _cleanups.add(f"netns {name}", self.delete)
        self.set_up("lo")

    def __repr__(self) -> str:
        return f"Netns({self.name!r})"

    @classmethod
    def create_many(cls, names: Sequence[str]) -> list["Netns"]:
        """Many namespaces with one `ip -batch` (1,000 in about a second, against three
        one by one). Their loopback stays down: nothing a pod does for DHCP needs it."""
        created = []
        for name in names:
            ns = cls.__new__(cls)
            ns.name = name
            # Registered first: a batch that fails halfway still has its namespaces removed.
            ns._token = _cleanups.add(f"netns {name}", ns.delete)
            created.append(ns)
        run(["ip", "-batch", "-"], input="".join(f"netns add {name}\n" for name in names),
            timeout=COMMAND_TIMEOUT + 0.01 * len(names))
        return created

    @property
    def path(self) -> str:
        """What CNI_NETNS gets."""
        return str(NETNS_RUN_DIR / self.name)

    def exists(self) -> bool:
        return (NETNS_RUN_DIR / self.name).exists()

    def inode(self) -> int:
        return os.stat(self.path).st_ino

    # -- running things inside

    def exec_argv(self, argv: Sequence[PathLike]) -> list[str]:
        return ["ip", "netns", "exec", self.name] + [str(a) for a in argv]

    def enter_argv(self, argv: Sequence[PathLike]) -> list[str]:
        """`argv` in this network namespace only (nsenter). `ip netns exec` also makes a
        mount namespace and remounts /sys, which costs more the more namespaces the
        machine has mounted: 28 ms against 5 ms with 10,000."""
        return ["nsenter", f"--net={self.path}", "--"] + [str(a) for a in argv]

    def exec(self, argv: Sequence[PathLike], **kwargs: Any) -> subprocess.CompletedProcess:
        """Runs a command inside the netns to completion (see run())."""
        return run(self.exec_argv(argv), **kwargs)

    def start(self, argv: Sequence[PathLike], log_path: PathLike, **kwargs: Any) -> Process:
        """Starts a long-running process inside the netns."""
        return Process(argv, log_path, netns=self, **kwargs)

    def ip(self, *args: str, check: bool = True) -> str:
        return run(["ip", "-n", self.name, *args], check=check).stdout

    def ip_json(self, *args: str) -> list[dict]:
        out = run(["ip", "-j", "-n", self.name, *args]).stdout
        return json.loads(out) if out.strip() else []

    def sysctl(self, key: str, value: Union[str, int]) -> None:
        """Sets a sysctl inside the netns: "net.ipv4.ip_forward" or "net/ipv4/conf/eth0.5/forwarding"."""
        path = "/proc/sys/" + (key if "/" in key else key.replace(".", "/"))
        # /proc/sys/net is per netns; `ip netns exec` gives us that view. Plain sh:
        # procps' sysctl is missing on minimal systems.
        self.exec(["sh", "-c", 'echo "$1" > "$2"', "sh", str(value), path])

    def read_sysctl(self, key: str) -> str:
        path = "/proc/sys/" + (key if "/" in key else key.replace(".", "/"))
        return self.exec(["cat", path]).stdout.strip()

    def pids(self) -> list[int]:
        """PIDs of every process whose network namespace this is."""
        out = run(["ip", "netns", "pids", self.name], check=False).stdout
        return [int(p) for p in out.split()]

    # -- reading state (parsed `ip -j`)

    def links(self) -> list[dict]:
        return self.ip_json("-d", "link", "show")

    def link(self, ifname: str) -> Optional[dict]:
        """`ip -j -d link show IF` as a dict, None when there is no such link."""
        for entry in self.links():
            if entry.get("ifname") == ifname:
                return entry
        return None

    def addresses(self, ifname: Optional[str] = None) -> list[dict]:
        """`ip -j addr show [dev IF]`: one dict per link, with addr_info."""
        return self.ip_json("addr", "show", *(["dev", ifname] if ifname else []))

    def cidrs(self, ifname: str, family: int = 4, scope: str = "global") -> list[str]:
        """Addresses of one link as "a.b.c.d/len" strings (link-local v6 left out by scope)."""
        wanted = "inet" if family == 4 else "inet6"
        found = []
        for entry in self.addresses(ifname):
            for info in entry.get("addr_info", []):
                if info.get("family") == wanted and (scope is None or info.get("scope") == scope):
                    found.append(f"{info['local']}/{info['prefixlen']}")
        return found

    def routes(self, family: int = 4, table: Optional[Union[int, str]] = None) -> list[dict]:
        args = [f"-{family}", "route", "show"] + (["table", str(table)] if table is not None else [])
        return self.ip_json(*args)

    # -- changing state

    def set_up(self, ifname: str) -> None:
        self.ip("link", "set", ifname, "up")

    def add_address(self, ifname: str, cidr: str, nodad: bool = False) -> None:
        self.ip("addr", "add", cidr, "dev", ifname, *(["nodad"] if nodad else []))

    def add_route(self, dst: str, via: Optional[str] = None, dev: Optional[str] = None) -> None:
        self.ip("route", "add", dst, *(["via", via] if via else []), *(["dev", dev] if dev else []))

    def add_bridge(self, name: str) -> None:
        self.ip("link", "add", check_ifname(name), "type", "bridge")
        self.set_up(name)

    def add_to_bridge(self, port: str, bridge: str, hairpin: bool = False) -> None:
        self.ip("link", "set", port, "master", bridge)
        if hairpin:
            # What a VEPA-capable switch does: send frames back out of the port they came in.
            self.ip("link", "set", port, "type", "bridge_slave", "hairpin", "on")

    # -- teardown

    def delete(self) -> None:
        """Stops what still runs inside (by PID), then deletes the namespace."""
        if self.exists():
            self._stop_leftover_processes()
            run(["ip", "netns", "delete", self.name], check=False)
        _cleanups.discard(self._token)

    def _stop_leftover_processes(self) -> None:
        # Anything still in here was started by a test (or by a plugin a test
        # ran, such as a daemon): its netns keeps existing as long as it runs.
        for sig in (signal.SIGTERM, signal.SIGKILL):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            try:
                wait_until(lambda: not self.pids(), STOP_TIMEOUT, f"processes to leave netns {self.name}")
                return
            except TimeoutError:
                continue


# Reads the IPv4 addresses of one interface in each namespace named on stdin (rtnetlink
# from inside, after setns): a JSON line per namespace, {"netns": path, "addresses":
# [{"local", "prefixlen", "valid", "preferred"}]} (lifetimes in seconds, 4294967295
# forever), or {"netns": path, "error": ...}.
ADDRESS_READER_SCRIPT = r"""
import ctypes, json, os, socket, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET, RTM_GETADDR, NLMSG_ERROR, NLMSG_DONE = 0x40000000, 22, 2, 3
IFA_LOCAL, IFA_LABEL, IFA_CACHEINFO = 2, 3, 6
ifname = sys.argv[1]
request = struct.pack("=IHHII", 24, RTM_GETADDR, 0x301, 1, 0) + struct.pack("=BBBBI", socket.AF_INET, 0, 0, 0, 0)
for path in sys.stdin.read().split():
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
        finally:
            os.close(fd)
        found, done = [], False
        with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE) as nl:
            nl.send(request)
            while not done:
                data, at = nl.recv(65536), 0
                while at + 16 <= len(data):
                    length, kind = struct.unpack_from("=IH", data, at)
                    if kind in (NLMSG_DONE, NLMSG_ERROR):
                        done = True
                        break
                    prefixlen = data[at + 17]
                    attrs, entry, label = at + 24, {"prefixlen": prefixlen}, None
                    while attrs + 4 <= at + length:
                        alen, atype = struct.unpack_from("=HH", data, attrs)
                        body = data[attrs + 4:attrs + alen]
                        if atype == IFA_LOCAL:
                            entry["local"] = socket.inet_ntoa(body)
                        elif atype == IFA_LABEL:
                            label = body.rstrip(b"\0").decode()
                        elif atype == IFA_CACHEINFO:
                            entry["preferred"], entry["valid"] = struct.unpack_from("=II", body)
                        attrs += (alen + 3) & ~3
                    if label == ifname and "local" in entry:
                        found.append(entry)
                    at += (length + 3) & ~3
        print(json.dumps({"netns": path, "addresses": found}))
    except OSError as e:
        print(json.dumps({"netns": path, "error": str(e)}))
"""


def addresses_in(namespaces: Sequence[Union[Netns, PathLike]], ifname: str = "eth0") -> dict[str, list[dict]]:
    """The IPv4 addresses of `ifname` in each namespace, read from inside by one helper
    process (a thousand namespaces in well under a second, where `ip` takes seconds):
    netns path -> [{"local", "prefixlen", "valid", "preferred"}] (lifetimes in seconds,
    4294967295 forever). A namespace that cannot be entered raises CommandError."""
    paths = [_netns_path(ns) for ns in namespaces]
    done = run(["/usr/bin/python3", "-c", ADDRESS_READER_SCRIPT, ifname], input="\n".join(paths),
               timeout=COMMAND_TIMEOUT + 0.01 * len(paths))
    found, errors = {}, []
    for line in done.stdout.splitlines():
        entry = json.loads(line)
        if "error" in entry:
            errors.append(f"{entry['netns']}: {entry['error']}")
        else:
            found[entry["netns"]] = entry["addresses"]
    if errors:
        raise CommandError(["addresses_in"], 1, "", "\n".join(errors[:10]))
    return found


def delete_many(namespaces: Sequence[Netns]) -> None:
    """Deletes namespaces no process lives in (pods: they hold only a plugin's link)
    with one `ip -batch`; those already gone are skipped. Unlike Netns.delete(), nothing
    is stopped first: a process inside would keep its namespace alive unnamed."""
    names = [ns.name for ns in namespaces if ns.exists()]
    if names:
        run(["ip", "-force", "-batch", "-"], input="".join(f"netns delete {name}\n" for name in names),
            check=False, timeout=COMMAND_TIMEOUT + 0.01 * len(names))
    for ns in namespaces:
        if not ns.exists():
            _cleanups.discard(ns._token)


def create_veth(a: Netns, a_name: str, b: Netns, b_name: str, up: bool = True) -> None:
    """A veth pair with one end in each namespace, created directly there."""
    a.ip("link", "add", check_ifname(a_name), "type", "veth",
         "peer", "name", check_ifname(b_name), "netns", b.name)
    if up:
        a.set_up(a_name)
        b.set_up(b_name)


def set_napi(netns: Netns, ifname: str) -> None:
    """A veth that receives through its own NAPI ring, as a physical NIC does, instead of
    the CPU's backlog queue (net.core.netdev_max_backlog, 1,000 packets, shared with all
    the CPU receives). A macvlan in bridge mode copies each broadcast its pod sends to
    every other bridge port of the master through that backlog, with softirqs held off
    until the copies are queued: past about 1,000 ports the backlog is full when the
    frame reaches a veth master, the veth drops it and the sender sees ENOBUFS. A
    physical master sends it from its own transmit ring (only the copies are lost);
    this gives the lab's veth the same path. UDP GRO forwarding makes the veth take the
    ring for frames from a sender with TSO on."""
    netns.exec(["ethtool", "-K", ifname, "gro", "on", "rx-udp-gro-forwarding", "on"])


class Node(Netns):
    """A node: the netns where the plugins run, holding the macvlan master."""

    def __init__(self, name: str, master: str, address: ipaddress.IPv4Interface, lan_port: str):
        super().__init__(name)
        self.master = master        # the macvlan master inside this netns
        self.address = address      # the node's own address on the master
        self.lan_port = lan_port    # the master's peer in the lan netns
        self.ports_made = 0         # macvlans Lab.add_ports() made on the master


# --------------------------------------------------------------------------
# Running a CNI plugin the way a runtime does


@dataclass
class PluginRun:
    """What a plugin did. Unpacks as (code, output, stderr)."""

    code: int                  # exit status
    output: Any                # stdout parsed as JSON; None when empty or not JSON
    stderr: str
    stdout: str                # raw, for exact-output checks
    env: dict = field(default_factory=dict, repr=False)  # the CNI_* variables it got

    def __iter__(self):
        return iter((self.code, self.output, self.stderr))


class PluginTimeout(AssertionError):
    pass


def _netns_path(netns: Union[Netns, PathLike, None]) -> Optional[str]:
    if netns is None:
        return None
    return netns.path if isinstance(netns, Netns) else str(netns)


def _cni_path(cni_path: Union[PathLike, Sequence[PathLike], None]) -> Optional[str]:
    if cni_path is None or isinstance(cni_path, (str, os.PathLike)):
        return None if cni_path is None else str(cni_path)
    return ":".join(str(p) for p in cni_path)


def _cni_args(args: Union[str, Mapping[str, str], None]) -> Optional[str]:
    if args is None or isinstance(args, str):
        return args
    return ";".join(f"{k}={v}" for k, v in args.items())


def plugin_environment(command: Optional[str], *, netns=None, ifname=None,
                       container_id=DEFAULT_CONTAINER_ID, cni_path=None, args=None,
                       env_extra: Optional[Mapping[str, Optional[str]]] = None) -> dict:
    """This process's environment without any CNI_* variable, plus the given ones.
    None leaves a variable unset; "" sets it empty (libcni exports empty ones)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CNI_")}
    cni = {
        "CNI_COMMAND": command,
        "CNI_CONTAINERID": container_id,
        "CNI_NETNS": _netns_path(netns),
        "CNI_IFNAME": ifname,
        "CNI_ARGS": _cni_args(args),
        "CNI_PATH": _cni_path(cni_path),
    }
    cni.update(env_extra or {})
    env.update({k: v for k, v in cni.items() if v is not None})
    return env


def run_plugin(binary: PathLike, command: Optional[str],
               conf: Union[Mapping[str, Any], str, bytes, None], netns=None,
               ifname: Optional[str] = None, container_id: Optional[str] = DEFAULT_CONTAINER_ID,
               cni_path=None, args=None, env_extra: Optional[Mapping[str, Optional[str]]] = None,
               timeout: float = PLUGIN_TIMEOUT, node: Optional[Netns] = None,
               nsenter: bool = False) -> PluginRun:
    """Runs a CNI plugin exactly as a runtime does.

    command    CNI_COMMAND ("ADD", "DEL", ...); None leaves it unset (about text)
    conf       dict -> JSON on stdin; str/bytes sent as is; None -> empty stdin
    netns      CNI_NETNS: a Netns or a path
    cni_path   a directory or a list of them
    args       CNI_ARGS: "K=V;K=V" or a dict
    env_extra  more variables; a None value removes one (e.g. {"CNI_PATH": None})
    node       run inside this netns (`ip netns exec`), as the runtime on that node would
    nsenter    enter the node's netns with nsenter instead (Netns.enter_argv: cheaper on a
               machine with thousands of namespaces)
    Returns a PluginRun, which unpacks as (exit code, parsed stdout JSON or None, stderr).
    """
    env = plugin_environment(command, netns=netns, ifname=ifname, container_id=container_id,
                             cni_path=cni_path, args=args, env_extra=env_extra)
    if conf is None:
        stdin = b""
    elif isinstance(conf, bytes):
        stdin = conf
    elif isinstance(conf, str):
        stdin = conf.encode()
    else:
        stdin = json.dumps(conf).encode()
    argv = [str(binary)]
    if node is not None:
        argv = node.enter_argv(argv) if nsenter else node.exec_argv(argv)
    try:
        done = subprocess.run(argv, input=stdin, capture_output=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise PluginTimeout(f"{binary} {command} did not finish in {timeout:g} s; stderr so far:\n"
                            f"{(e.stderr or b'').decode(errors='replace')}") from None
    stdout = done.stdout.decode(errors="replace")
    try:
        output = json.loads(stdout) if stdout.strip() else None
    except json.JSONDecodeError:
        output = None
    cni_env = {k: v for k, v in env.items() if k.startswith("CNI_")}
    return PluginRun(done.returncode, output, done.stderr.decode(errors="replace"), stdout, cni_env)


@dataclass
class Attachment:
    """One pod attached by attach_many(): its ADD and what it gave."""

    pod: Netns
    container_id: str
    node: Netns
    run: PluginRun
    started: float             # time.monotonic() when the ADD started
    seconds: float             # how long it took

    @property
    def ok(self) -> bool:
        return self.run.code == 0 and isinstance(self.run.output, dict) and bool(self.run.output.get("ips"))

    @property
    def cidr(self) -> Optional[str]:
        return self.run.output["ips"][0]["address"] if self.ok else None

    @property
    def ip(self) -> Optional[str]:
        return self.cidr.partition("/")[0] if self.ok else None

    @property
    def mac(self) -> Optional[str]:
        """The MAC of the pod's interface, from the result's interfaces."""
        for interface in (self.run.output or {}).get("interfaces", []) if self.ok else []:
            if interface.get("sandbox"):
                return interface.get("mac")
        return None


def attach_many(lab: "Lab", binary: PathLike, jobs: Sequence[tuple[Netns, dict, Netns, str]], *,
                cni_path: Any, per_node: int = 3, pin: bool = True, nsenter: bool = False,
                timeout: float = PLUGIN_TIMEOUT, ifname: str = "eth0",
                args: Union[str, Mapping[str, str], None] = None) -> list[Attachment]:
    """ADDs every (node, conf, pod, container_id) of `jobs`: `per_node` at a time on each
    node, as each node's runtime does, the nodes side by side. With `pin`, every pod that
    got an address is given to the lan netns as a permanent neighbour entry
    (Lab.pin_neighbours) within a fraction of a second, before its first renewal.
    Returns the attachments in the order of `jobs`; failed ADDs are returned too."""
    done: list[Optional[Attachment]] = [None] * len(jobs)
    pending: list[tuple[str, str]] = []
    lock = threading.Lock()
    last_pin = [time.monotonic()]

    def flush(force: bool = False) -> None:
        with lock:
            if not pending or not (force or len(pending) >= 50 or time.monotonic() - last_pin[0] > 0.25):
                return
            batch = pending[:]
            pending.clear()
            last_pin[0] = time.monotonic()
        lab.pin_neighbours(batch)

    def attach(index: int) -> None:
        node, conf, pod, container_id = jobs[index]
        started = time.monotonic()
        result = run_plugin(binary, "ADD", conf, netns=pod, ifname=ifname, container_id=container_id,
                            cni_path=cni_path, args=args, timeout=timeout, node=node, nsenter=nsenter)
        attachment = Attachment(pod, container_id, node, result, started, time.monotonic() - started)
        done[index] = attachment
        if pin and attachment.ok and attachment.mac:
            with lock:
                pending.append((attachment.ip, attachment.mac))
            flush()

    by_node: dict[str, list[int]] = {}
    for index, (node, _, _, _) in enumerate(jobs):
        by_node.setdefault(node.name, []).append(index)
    pools = [ThreadPoolExecutor(max_workers=per_node) for _ in by_node]
    try:
        futures = [pool.submit(attach, index) for pool, indices in zip(pools, by_node.values())
                   for index in indices]
        for future in futures:
            future.result()
    finally:
        for pool in pools:  # an interrupted run starts no more ADDs
            pool.shutdown(wait=True, cancel_futures=True)
    if pin:
        flush(force=True)
    return [a for a in done if a is not None]


# --------------------------------------------------------------------------
# DHCP servers


@dataclass
class Reservation:
    """A fixed address for one client, matched by MAC or by client identifier."""

    ip: str
    mac: Optional[str] = None
    client_id: Optional[bytes] = None   # option 61 as sent, type byte included
    hostname: Optional[str] = None


@dataclass
class Lease:
    """One row of a server's lease database, the same shape for every server."""

    ip: str
    mac: Optional[str]
    client_id: Optional[str]     # hex with colons ("00:63:6e:74"), None if the server has none
    hostname: Optional[str]
    expires: Optional[int]       # Unix time; None for infinite
    state: str = "active"        # ISC dhcpd: active, free, released, expired, ...


def hex_colon(data: bytes) -> str:
    return ":".join(f"{b:02x}" for b in data)


_ROUTER_DEFAULT = object()


class DhcpServer:
    """Common shape of the three servers. Subclasses write the configuration.

    netns, interface   where it serves (the lab's lan netns and lan interface)
    network            the served IPv4 subnet (the interface has an address in it)
    workdir            where config, lease file and log go
    pool               (first, last) addresses; default .100 - .199
    router             option 3; default the network's .1, None for no router option
    lease_time         seconds
    dns_servers        option 6;  domain: option 15
    classless_routes   option 121: [(destination cidr, gateway), ...]
    reservations       [Reservation, ...]
    extra              server-specific raw arguments (dnsmasq) or config lines (dhcpd, udhcpd)
    """

    kind = "dhcp-server"
    binary = ""

    def __init__(self, netns: Netns, interface: str, network: Union[str, ipaddress.IPv4Network],
                 workdir: PathLike, *, pool: Optional[tuple[str, str]] = None,
                 router: Any = _ROUTER_DEFAULT, lease_time: int = 600,
                 dns_servers: Sequence[str] = (), domain: Optional[str] = None,
                 classless_routes: Sequence[tuple[str, str]] = (),
                 reservations: Sequence[Reservation] = (), extra: Sequence[str] = ()):
        self.netns = netns
        self.interface = interface
        self.network = ipaddress.IPv4Network(network)
        self.workdir = Path(workdir)
        self.pool = pool or (str(self.network[100]), str(self.network[199]))
        self.router = str(self.network[1]) if router is _ROUTER_DEFAULT else router
        self.lease_time = lease_time
        self.dns_servers = list(dns_servers)
        self.domain = domain
        self.classless_routes = list(classless_routes)
        self.reservations = list(reservations)
        self.extra = list(extra)
        self.process: Optional[Process] = None
        tag = f"{self.kind}-{secrets.token_hex(2)}"
        self.lease_path = self.workdir / f"{tag}.leases"
        self.conf_path = self.workdir / f"{tag}.conf"
        self.log_path = self.workdir / f"{tag}.log"
        self.pid_path = self.workdir / f"{tag}.pid"

    def __enter__(self) -> "DhcpServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def pid(self) -> Optional[int]:
        return self.process.pid if self.process else None

    def argv(self) -> list[str]:
        raise NotImplementedError

    def write_config(self) -> None:
        """Writes the config file, if the server has one, and an empty lease file."""
        self.lease_path.touch()

    def environment(self) -> Optional[dict[str, str]]:
        """The server's environment; None: this process's."""
        return None

    def start(self, timeout: float = SERVER_START_TIMEOUT) -> "DhcpServer":
        """Starts the server and returns once it listens on UDP port 67."""
        self.write_config()
        self.process = self.netns.start(self.argv(), self.log_path, name=self.kind, env=self.environment())
        try:
            wait_until(self._ready, timeout, f"{self.kind} to listen on port 67 in {self.netns.name}")
        except Exception:
            self.stop()
            raise
        return self

    def _ready(self) -> bool:
        if not self.process.alive():
            raise RuntimeError(f"{self.kind} exited with {self.process.returncode}; log:\n{self.log()}")
        return self.listening()

    def listening(self) -> bool:
        """True when our process has a UDP socket on port 67 inside the netns."""
        out = self.netns.exec(["ss", "-H", "-u", "-a", "-n", "-p", "sport = :67"]).stdout
        return self.process is not None and f"pid={self.process.pid}," in out

    def stop(self, timeout: float = STOP_TIMEOUT) -> Optional[int]:
        return self.process.stop(timeout) if self.process else None

    def log(self) -> str:
        return self.process.log() if self.process else ""

    def leases(self) -> list[Lease]:
        raise NotImplementedError

    def lease_for(self, *, ip: Optional[str] = None, mac: Optional[str] = None) -> Optional[Lease]:
        for lease in self.leases():
            if (ip is None or lease.ip == ip) and (mac is None or (lease.mac or "").lower() == mac.lower()):
                return lease
        return None


class DnsmasqServer(DhcpServer):
    """dnsmasq as a DHCP-only server (DNS off with --port=0), logging to its log file."""

    kind = "dnsmasq"
    binary = "dnsmasq"
    MIN_LEASE = 120  # dnsmasq silently raises shorter leases to 2 minutes

    def __init__(self, *args: Any, ping: bool = False, reservations_only: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if self.lease_time < self.MIN_LEASE:
            raise ValueError(f"dnsmasq leases are at least {self.MIN_LEASE} s; use IscDhcpd for short leases")
        self.ping = ping
        self.reservations_only = reservations_only

    def argv(self) -> list[str]:
        first, last = self.pool
        # A "static" range serves the subnet with no pool: only reservations get an address.
        pool = f"{self.network.network_address},static" if self.reservations_only else f"{first},{last}"
        argv = [
            self.binary, "--no-daemon", "--conf-file=/dev/null", "--port=0",
            f"--interface={self.interface}", "--bind-interfaces",
            f"--dhcp-range={pool},{self.network.netmask},{self.lease_time}",
            f"--dhcp-leasefile={self.lease_path}",
            "--log-facility=-", "--log-dhcp",
            # Without an explicit option 3 dnsmasq offers itself as the router.
            "--dhcp-option=3" + (f",{self.router}" if self.router else ""),
        ]
        if not self.ping:
            argv.append("--no-ping")  # the ping check costs ~3 s per new client
        if self.dns_servers:
            argv.append("--dhcp-option=6," + ",".join(self.dns_servers))
        if self.domain:
            argv.append(f"--dhcp-option=15,{self.domain}")
        if self.classless_routes:
            argv.append("--dhcp-option=121," + ",".join(f"{dst},{gw}" for dst, gw in self.classless_routes))
        for r in self.reservations:
            argv.append("--dhcp-host=" + ",".join(self._host_fields(r)))
        return argv + self.extra

    @staticmethod
    def _host_fields(r: Reservation) -> list[str]:
        fields = []
        if r.mac:
            fields.append(r.mac)
        if r.client_id is not None:
            fields.append("id:" + hex_colon(r.client_id))
        fields.append(r.ip)
        if r.hostname:
            fields.append(r.hostname)
        return fields

    def leases(self) -> list[Lease]:
        # "<expiry> <mac> <ip> <hostname|*> <client-id|*>", one lease a line;
        # expiry 0 means infinite. A "duid" line belongs to DHCPv6.
        rows = []
        for line in self.lease_path.read_text().splitlines():
            parts = line.split()
            if len(parts) < 5 or parts[0] == "duid":
                continue
            expiry, mac, ip, hostname, client_id = parts[:5]
            rows.append(Lease(ip=ip, mac=mac, client_id=None if client_id == "*" else client_id,
                              hostname=None if hostname == "*" else hostname,
                              expires=int(expiry) or None))
        return rows


class IscDhcpd(DhcpServer):
    """ISC dhcpd: allows leases of a few seconds (renew, rebind and expiry tests)."""

    kind = "dhcpd"
    binary = "dhcpd"

    def __init__(self, *args: Any, ping: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.ping = ping

    def argv(self) -> list[str]:
        # -d logs to stderr (and implies -f); the positional IF limits it to our interface.
        return [self.binary, "-f", "-d", "-4", "-cf", str(self.conf_path), "-lf", str(self.lease_path),
                "-pf", str(self.pid_path), self.interface]

    def config_text(self) -> str:
        net = self.network
        lines = [
            "# written by tests/system/lab.py",
            "authoritative;",
            "ddns-update-style none;",
            f"ping-check {'true' if self.ping else 'false'};",
            f"default-lease-time {self.lease_time};",
            f"max-lease-time {self.lease_time};",
            f"min-lease-time {self.lease_time};",
            "option rfc3442-classless-static-routes code 121 = array of integer 8;",
            f"subnet {net.network_address} netmask {net.netmask} {{",
            f"  range {self.pool[0]} {self.pool[1]};",
            f"  option subnet-mask {net.netmask};",
        ]
        if self.router:
            lines.append(f"  option routers {self.router};")
        if self.dns_servers:
            lines.append(f"  option domain-name-servers {', '.join(self.dns_servers)};")
        if self.domain:
            lines.append(f'  option domain-name "{self.domain}";')
        if self.classless_routes:
            lines.append(f"  option rfc3442-classless-static-routes {self._rfc3442_bytes()};")
        lines.append("}")
        for i, r in enumerate(self.reservations):
            lines.append(f"host reserved{i} {{")
            if r.mac:
                lines.append(f"  hardware ethernet {r.mac};")
            if r.client_id is not None:
                lines.append(f"  option dhcp-client-identifier {hex_colon(r.client_id)};")
            lines.append(f"  fixed-address {r.ip};")
            if r.hostname:
                lines.append(f'  option host-name "{r.hostname}";')
            lines.append("}")
        return "\n".join(lines + self.extra) + "\n"

    def _rfc3442_bytes(self) -> str:
        # RFC 3442 encoding: prefix length, the significant octets of the
        # destination, then the 4 gateway octets.
        out = []
        for dst, gw in self.classless_routes:
            net = ipaddress.IPv4Network(dst)
            significant = (net.prefixlen + 7) // 8
            out += [net.prefixlen, *net.network_address.packed[:significant], *ipaddress.IPv4Address(gw).packed]
        return ", ".join(str(b) for b in out)

    def write_config(self) -> None:
        self.conf_path.write_text(self.config_text())
        self.lease_path.touch()  # dhcpd refuses to start without its lease file

    def leases(self) -> list[Lease]:
        # dhcpd appends a block per change; the last block of an address wins.
        latest: dict[str, Lease] = {}
        text = self.lease_path.read_text()
        for m in re.finditer(r"^lease (\S+) \{(.*?)^\}", text, re.S | re.M):
            ip, body = m.group(1), m.group(2)
            latest[ip] = Lease(
                ip=ip,
                mac=_search(r"hardware ethernet ([0-9a-fA-F:]+);", body),
                client_id=_isc_uid(_search(r'uid ("(?:[^"\\]|\\.)*"|[0-9a-fA-F:]+);', body)),
                hostname=_search(r'client-hostname "([^"]*)";', body),
                expires=_isc_time(_search(r"ends (.+?);", body)),
                state=_search(r"^\s*binding state (\S+);", body) or "unknown",
            )
        return list(latest.values())


def _search(pattern: str, text: str) -> Optional[str]:
    m = re.search(pattern, text, re.M)
    return m.group(1) if m else None


def _isc_time(value: Optional[str]) -> Optional[int]:
    # "4 2025/01/30 12:00:00" (weekday, UTC) or "never"
    if not value or value == "never":
        return None
    m = re.match(r"\d+ (\d+)/(\d+)/(\d+) (\d+):(\d+):(\d+)", value)
    if not m:
        return None
    return calendar.timegm(tuple(int(x) for x in m.groups()) + (0, 0, 0))


def _isc_uid(value: Optional[str]) -> Optional[str]:
    # dhcpd writes the uid as a quoted string with octal escapes when printable
    # enough, else as hex bytes with colons. Normalise to hex with colons.
    if value is None:
        return None
    if not value.startswith('"'):
        return ":".join(f"{int(b, 16):02x}" for b in value.split(":"))
    raw = bytearray()
    body = value[1:-1]
    i = 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            if body[i + 1] in "01234567":
                raw.append(int(body[i + 1:i + 4], 8))
                i += 4
                continue
            raw.append(ord(body[i + 1]))
            i += 2
            continue
        raw.append(ord(body[i]))
        i += 1
    return hex_colon(bytes(raw))


class Udhcpd(DhcpServer):
    """busybox udhcpd: small and strict."""

    kind = "udhcpd"
    binary = "udhcpd"
    LEASE_RECORD = struct.Struct("!II6s20s2x")  # busybox struct dyn_lease, 36 bytes

    def __init__(self, *args: Any, arp_ping_ms: int = 0, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.arp_ping_ms = arp_ping_ms  # its default, 2000, delays every OFFER by 2 s

    def argv(self) -> list[str]:
        return [self.binary, "-f", "-a", str(self.arp_ping_ms), str(self.conf_path)]

    def config_text(self) -> str:
        first, last = self.pool
        size = int(ipaddress.IPv4Address(last)) - int(ipaddress.IPv4Address(first)) + 1
        lines = [
            "# written by tests/system/lab.py",
            f"start {first}",
            f"end {last}",
            f"interface {self.interface}",
            f"max_leases {size}",
            f"lease_file {self.lease_path}",
            f"pidfile {self.pid_path}",
            f"option subnet {self.network.netmask}",
            f"option lease {self.lease_time}",
        ]
        if self.router:
            lines.append(f"option router {self.router}")
        if self.dns_servers:
            lines.append(f"option dns {' '.join(self.dns_servers)}")
        if self.domain:
            lines.append(f"option domain {self.domain}")
        if self.classless_routes:
            lines.append("option staticroutes " + ", ".join(f"{d} {g}" for d, g in self.classless_routes))
        for r in self.reservations:
            if not r.mac:
                raise ValueError("udhcpd reserves addresses by MAC only")
            lines.append(f"static_lease {r.mac} {r.ip}")
        return "\n".join(lines + self.extra) + "\n"

    def write_config(self) -> None:
        self.conf_path.write_text(self.config_text())

    def leases(self, timeout: float = STOP_TIMEOUT) -> list[Lease]:
        """Asks the server to write its leases (SIGUSR1), then reads the binary file."""
        if self.process and self.process.alive():
            # udhcpd creates, writes and closes the file on SIGUSR1. Removing it first
            # makes "exists and no longer open" mean "this write is complete"
            # (an mtime change could be missed: file times are coarse).
            self.lease_path.unlink(missing_ok=True)
            self.process.send_signal(signal.SIGUSR1)
            wait_until(self._lease_file_written, timeout, "udhcpd to write its leases")
        return self._read_leases()

    def _lease_file_written(self) -> bool:
        if not self.lease_path.exists():
            return False
        wanted = os.path.realpath(self.lease_path)
        fd_dir = Path(f"/proc/{self.process.pid}/fd")
        for fd in fd_dir.iterdir():
            try:
                if os.readlink(fd) == wanted:
                    return False
            except OSError:  # closed meanwhile
                continue
        return True

    def _read_leases(self) -> list[Lease]:
        # int64 written_at, then records whose "expires" is seconds left at written_at.
        try:
            data = self.lease_path.read_bytes()
        except FileNotFoundError:
            return []
        if len(data) < 8:
            return []
        (written_at,) = struct.unpack_from("!q", data, 0)
        rows = []
        for offset in range(8, len(data) - self.LEASE_RECORD.size + 1, self.LEASE_RECORD.size):
            remaining, nip, mac, hostname, = self.LEASE_RECORD.unpack_from(data, offset)
            if nip == 0:
                continue
            rows.append(Lease(ip=str(ipaddress.IPv4Address(nip)), mac=hex_colon(mac), client_id=None,
                              hostname=hostname.split(b"\0", 1)[0].decode(errors="replace") or None,
                              expires=written_at + remaining))
        return rows


class KeaServer(DhcpServer):
    """ISC Kea (kea-dhcp4) with its memfile lease database in the work directory: short
    leases like ISC dhcpd's, raw sockets, and replies framed to the client's MAC. `extra`
    items are JSON objects whose members are merged into the "Dhcp4" configuration."""

    kind = "kea"
    binary = "kea-dhcp4"

    def argv(self) -> list[str]:
        return [self.binary, "-c", str(self.conf_path)]

    def environment(self) -> dict[str, str]:
        # Its lock and PID files go to /run/kea unless told otherwise: keep them here.
        return {**os.environ, "KEA_LOCKFILE_DIR": str(self.workdir), "KEA_PIDFILE_DIR": str(self.workdir)}

    def config(self) -> dict:
        if self.classless_routes:
            raise ValueError("KeaServer does not write option 121; use IscDhcpd or dnsmasq")
        first, last = self.pool
        options = []
        if self.router:
            options.append({"name": "routers", "data": self.router})
        if self.dns_servers:
            options.append({"name": "domain-name-servers", "data": ", ".join(self.dns_servers)})
        if self.domain:
            options.append({"name": "domain-name", "data": self.domain})
        reservations = []
        for r in self.reservations:
            entry: dict[str, Any] = {"ip-address": r.ip}
            if r.mac:
                entry["hw-address"] = r.mac
            elif r.client_id is not None:
                entry["client-id"] = hex_colon(r.client_id)
            if r.hostname:
                entry["hostname"] = r.hostname
            reservations.append(entry)
        dhcp4: dict[str, Any] = {
            "interfaces-config": {"interfaces": [self.interface], "dhcp-socket-type": "raw"},
            "lease-database": {"type": "memfile", "persist": True, "name": str(self.lease_path),
                               "lfc-interval": 0},
            "valid-lifetime": self.lease_time,
            "min-valid-lifetime": self.lease_time,
            "max-valid-lifetime": self.lease_time,
            "calculate-tee-times": True, "t1-percent": 0.5, "t2-percent": 0.875,
            "subnet4": [{"id": 1, "subnet": str(self.network), "pools": [{"pool": f"{first} - {last}"}],
                         "option-data": options, "reservations": reservations}],
            "loggers": [{"name": "kea-dhcp4", "severity": "INFO",
                         "output_options": [{"output": "stdout", "flush": True}]}],
        }
        for item in self.extra:
            dhcp4.update(json.loads(item))
        return {"Dhcp4": dhcp4}

    def write_config(self) -> None:
        self.conf_path.write_text(json.dumps(self.config(), indent=2) + "\n")

    def leases(self) -> list[Lease]:
        # The memfile CSV: a row per change, the last row of an address wins; a valid
        # lifetime of 0 marks a lease deleted (released). State 0 is a lease in use,
        # 1 declined, 2 expired and reclaimed.
        latest: dict[str, Lease] = {}
        try:
            text = self.lease_path.read_text()
        except FileNotFoundError:
            return []
        for row in text.splitlines():
            fields = row.split(",")
            if len(fields) < 10 or fields[0] == "address":
                continue
            ip, mac, client_id, valid, expire, _, _, _, hostname, state = fields[:10]
            if valid == "0":
                latest.pop(ip, None)
                continue
            latest[ip] = Lease(ip=ip, mac=mac or None, client_id=client_id or None, hostname=hostname or None,
                               expires=int(expire),
                               state={"0": "active", "1": "declined", "2": "expired"}.get(state, state))
        return list(latest.values())


# --------------------------------------------------------------------------
# A DHCP client for checking servers and as a foreign host on the LAN


def udhcpc_lease(netns: Netns, ifname: str, workdir: PathLike, *, client_id: Optional[bytes] = None,
                 hostname: Optional[str] = None, request_options: Sequence[str] = (),
                 timeout: float = 10.0) -> dict[str, str]:
    """Gets one lease with busybox udhcpc without configuring the interface.

    Returns udhcpc's variables for the "bound" event: ip, mask, subnet, router,
    dns, domain, lease, serverid, staticroutes, ... Raises CommandError when no
    lease came. The interface must be up.
    """
    workdir = Path(workdir)
    tag = f"udhcpc-{secrets.token_hex(2)}"
    result_path = workdir / f"{tag}.env"
    script = workdir / f"{tag}.sh"
    # udhcpc runs the script with the lease in its environment; we only record it.
    script.write_text(f'#!/bin/sh\n[ "$1" = bound ] || exit 0\nenv > "{result_path}"\n')
    script.chmod(0o755)
    argv = ["env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
            "busybox", "udhcpc", "-f", "-q", "-n", "-i", ifname, "-t", "5", "-T", "1", "-A", "1",
            "-s", str(script)]
    if client_id is not None:
        argv += ["-x", "0x3d:" + client_id.hex()]
    if hostname:
        argv += ["-x", f"hostname:{hostname}"]
    for option in request_options:
        argv += ["-O", option]
    netns.exec(argv, timeout=timeout)
    values = {}
    for line in result_path.read_text().splitlines():
        key, _, value = line.partition("=")
        if key not in ("PATH", "PWD", "SHLVL", "_"):  # the shell's own, not the lease's
            values[key] = value
    return values


# --------------------------------------------------------------------------
# The standard lab


_networks_in_use: set[ipaddress.IPv4Network] = set()


def _pick_network(prefixlen: int = 24) -> ipaddress.IPv4Network:
    """A random 10.x.y.0/24 (or the /prefixlen around it: /18 holds 16,382 hosts) not
    overlapping another live lab of this process.

    The lab is sealed off from the host, so overlap with a host network would
    be harmless; distinct subnets just keep logs of parallel labs apart.
    """
    if not 8 <= prefixlen <= 24:
        raise ValueError(f"a lab network is a /8 to a /24, not a /{prefixlen}")
    while True:
        net = ipaddress.IPv4Network(f"10.{secrets.choice(range(100, 250))}.{secrets.randbelow(256)}.0/24")
        net = net.supernet(new_prefix=prefixlen)
        if not any(net.overlaps(other) for other in _networks_in_use):
            _networks_in_use.add(net)
            return net


class Lab:
    """The standard topology of lab.md.

        lan (router .1, DHCP server on lan_if)
          |-- veth --- node0 (master, .10)          one node, no bridge
        or
          br -- veth --- node0 (master, .10)        bridge=True or nodes > 1
             \\- veth --- node1 (master, .11) ...    hairpin=True for VEPA

    napi=True: each node's veth receives through NAPI rings, as a physical NIC does
    (set_napi): for more than about 1,000 macvlans in bridge mode on one master.

    Attributes: id, network (IPv4Network, a /24 unless prefixlen says otherwise),
    router (str), lan (Netns), lan_if (where servers listen), nodes (list of Node),
    node (= nodes[0]), pods, workdir (Path). Address n of the subnet: address(n).
    """

    def __init__(self, *, nodes: int = 1, bridge: Optional[bool] = None, hairpin: bool = False,
                 prefixlen: int = 24, napi: bool = False):
        install_cleanup_handlers()
        self.id = unique_id()
        self.network = _pick_network(prefixlen)
        self.router = str(self.network[1])
        self.nodes: list[Node] = []
        self.pods: list[Netns] = []
        self.processes: list[Process] = []
        self.servers: list[DhcpServer] = []
        self._tempdir = TempDir(prefix=f"{self.id}-")
        self.workdir = self._tempdir.path
        self.lan: Optional[Netns] = None
        self.bridge = bridge if bridge is not None else (nodes > 1 or hairpin)
        self.hairpin = hairpin
        self.napi = napi
        try:
            self._build(nodes)
        except BaseException:
            self.close()
            raise

    def _build(self, node_count: int) -> None:
        self.lan = Netns(f"{self.id}-lan")
        self.lan.sysctl("net.ipv4.ip_forward", 1)  # it is the site's router
        if self.bridge:
            self.lan_if = check_ifname(f"{self.id}br")
            self.lan.add_bridge(self.lan_if)
        for _ in range(node_count):
            self.add_node()
        if not self.bridge:
            self.lan_if = self.node.lan_port
        self.lan.add_address(self.lan_if, f"{self.router}/{self.network.prefixlen}")

    def add_node(self) -> Node:
        """Another node on the LAN segment (needs the bridge when there is one already)."""
        i = len(self.nodes)
        if i > 0 and not self.bridge:
            raise ValueError("several nodes need the lan bridge: Lab(bridge=True) or Lab(nodes=N)")
        address = ipaddress.IPv4Interface(f"{self.network[10 + i]}/{self.network.prefixlen}")
        node = Node(f"{self.id}-node{i}", master=check_ifname(f"{self.id}m{i}"), address=address,
                    lan_port=check_ifname(f"{self.id}p{i}"))
        self.nodes.append(node)
        create_veth(self.lan, node.lan_port, node, node.master)
        if self.napi:
            for ns, ifname in ((self.lan, node.lan_port), (node, node.master)):
                set_napi(ns, ifname)
        if self.bridge:
            self.lan.add_to_bridge(node.lan_port, self.lan_if, hairpin=self.hairpin)
        node.add_address(node.master, str(address))
        node.add_route("default", via=self.router)
        return node

    @property
    def node(self) -> Node:
        return self.nodes[0]

    def address(self, n: int) -> str:
        """Host number n of the lab subnet: address(1) is the router."""
        return str(self.network[n])

    def add_pod(self) -> Netns:
        pod = Netns(f"{self.id}-pod{len(self.pods)}")
        self.pods.append(pod)
        return pod

    def add_pods(self, count: int) -> list[Netns]:
        """`count` more pods at once (Netns.create_many); delete_pods() removes them the same way."""
        first = len(self.pods)
        pods = Netns.create_many([f"{self.id}-pod{first + i}" for i in range(count)])
        self.pods.extend(pods)
        return pods

    def delete_pods(self) -> None:
        """Deletes every pod at once (delete_many): for labs of thousands of pods, where
        close() would take minutes one by one. Stop the dhcp daemons first, or they
        release every lease of the vanished pods."""
        delete_many(self.pods)

    def pin_neighbours(self, entries: Sequence[tuple[str, str]]) -> None:
        """Permanent neighbour entries in the lan netns for (address, MAC) pairs.

        The kernel's neighbour table is shared by every namespace of the machine and
        holds about 1,024 entries (gc_thresh3): past that, new entries fail ("neighbor
        table overflow") and a server's replies to pods are lost. Permanent entries are
        not counted against that limit, so a lab of thousands of pods gives the server
        its pods' addresses this way; the host's sysctls are left alone."""
        lines = "".join(f"neigh replace {ip} lladdr {mac} nud permanent dev {self.lan_if}\n"
                        for ip, mac in entries)
        if lines:
            run(["ip", "-n", self.lan.name, "-batch", "-"], input=lines,
                timeout=COMMAND_TIMEOUT + 0.001 * len(entries))

    def add_macvlan(self, netns: Netns, ifname: str = "eth0", *, mode: str = "bridge",
                    node: Optional[Node] = None, mac: Optional[str] = None, up: bool = True) -> str:
        """A macvlan on a node's master, created directly in `netns` (a test host or pod
        made by the lab itself, not by a plugin)."""
        node = node or self.node
        node.ip("link", "add", "link", node.master, "name", check_ifname(ifname), "netns", netns.name,
                *(["address", mac] if mac else []), "type", "macvlan", "mode", mode)
        if up:
            netns.set_up(ifname)
        return ifname

    def add_ports(self, count: int, *, mode: str = "bridge", node: Optional[Node] = None,
                  bcqueuelen: Optional[int] = None, group: Optional[int] = None) -> list[str]:
        """`count` more macvlans on a node's master, up, made in the node netns itself with
        one `ip -batch`: ports of the master with no pod behind them (in bridge mode each
        broadcast a pod sends is copied to every one). `group` puts them in that link group,
        for delete_ports(). Returns their names."""
        node = node or self.node
        first = node.ports_made
        node.ports_made += count
        names = [check_ifname(f"port{first + i}") for i in range(count)]
        extra = (f" group {group}" if group is not None else "") + " type macvlan mode " + mode + \
            (f" bcqueuelen {bcqueuelen}" if bcqueuelen is not None else "")
        run(["ip", "-n", node.name, "-batch", "-"], timeout=COMMAND_TIMEOUT + 0.05 * count,
            input="".join(f"link add link {node.master} name {name} up{extra}\n" for name in names))
        return names

    def delete_ports(self, group: int, node: Optional[Node] = None) -> None:
        """Deletes the ports add_ports() made in link group `group`, in one go (one by one,
        each deletion waits for the kernel's RCU: a thousand take half a minute)."""
        if group <= 0:
            raise ValueError("link group 0 is every link's default: the master's too")
        (node or self.node).ip("link", "del", "group", str(group))

    # -- processes and servers

    def start_process(self, argv: Sequence[PathLike], netns: Netns, name: Optional[str] = None,
                      env: Optional[Mapping[str, str]] = None) -> Process:
        """A long-running process inside one of the lab's namespaces, stopped at teardown."""
        name = name or Path(str(argv[0])).name
        log = self.workdir / f"{name}-{secrets.token_hex(2)}.log"
        process = netns.start(argv, log, name=name, env=env)
        self.processes.append(process)
        return process

    def _start_server(self, cls: type, **options: Any) -> DhcpServer:
        """Options go to the server's class; workdir= keeps its files elsewhere than the lab's."""
        server = cls(self.lan, self.lan_if, self.network, options.pop("workdir", self.workdir), **options)
        self.servers.append(server)
        return server.start()

    def start_dnsmasq(self, **options: Any) -> DnsmasqServer:
        return self._start_server(DnsmasqServer, **options)

    def start_dhcpd(self, **options: Any) -> IscDhcpd:
        return self._start_server(IscDhcpd, **options)

    def start_udhcpd(self, **options: Any) -> Udhcpd:
        return self._start_server(Udhcpd, **options)

    def start_kea(self, **options: Any) -> KeaServer:
        return self._start_server(KeaServer, **options)

    def dhcp_client_lease(self, netns: Netns, ifname: str = "eth0", **kwargs: Any) -> dict[str, str]:
        return udhcpc_lease(netns, ifname, self.workdir, **kwargs)

    def run_plugin(self, binary: PathLike, command: Optional[str], conf: Any, **kwargs: Any) -> PluginRun:
        """run_plugin() inside the first node unless node= says otherwise."""
        kwargs.setdefault("node", self.node)
        return run_plugin(binary, command, conf, **kwargs)

    # -- diagnostics and teardown

    def namespaces(self) -> list[Netns]:
        return [ns for ns in [self.lan, *self.nodes, *self.pods] if ns is not None]

    def describe(self, pods: bool = True) -> str:
        """Addresses, routes and process logs: printed when a test fails (pods=False leaves
        the pods out, for labs of thousands)."""
        parts = [f"lab {self.id}: network {self.network}, lan interface {getattr(self, 'lan_if', '?')}"]
        for ns in self.namespaces() if pods else [ns for ns in [self.lan, *self.nodes] if ns is not None]:
            if not ns.exists():
                continue
            parts.append(f"--- {ns.name}: ip addr\n{ns.ip('-br', 'addr', check=False)}"
                         f"--- {ns.name}: ip route\n{ns.ip('route', check=False)}")
        for server in self.servers:
            parts.append(f"--- {server.kind} (pid {server.pid}) log:\n{server.log()[-4000:]}")
        for process in self.processes:
            parts.append(f"--- {process.name} (pid {process.pid}) log:\n{process.log()[-4000:]}")
        return "\n".join(parts)

    def close(self) -> None:
        """Stops processes, deletes namespaces and the work directory. Every step is
        attempted even when one fails; the first failure is raised at the end."""
        errors: list[BaseException] = []

        def attempt(action: Callable[[], Any]) -> None:
            try:
                action()
            except Exception as e:
                errors.append(e)

        for server in reversed(self.servers):
            attempt(server.stop)
        for process in reversed(self.processes):
            attempt(process.stop)
        for ns in reversed(self.namespaces()):
            attempt(ns.delete)
        attempt(self._tempdir.delete)
        _networks_in_use.discard(self.network)
        if errors:
            raise errors[0]

    def __enter__(self) -> "Lab":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
