"""The daemon's command line: the reference's flags in Go's spellings (-flag value,
-flag=value, one dash or two), --help documenting each, bad flags exiting 2 with a
message and no socket; and the flags doing what they say (-timeout, -resendtimeout,
-broadcast, -hostprefix, -pidfile)."""

import os
import re
import subprocess
import time

import pytest

from dhcp_fixtures import daemon_help, dhcp_conf, socket_accepts, supports_state_dir
from lab import wait_until
from macvlan_helpers import assert_cni_error, assert_only_lo, macvlan  # noqa: F401

pytestmark = pytest.mark.usefixtures("require_root")

# Every flag the daemon takes, as --help must show it.
DOCUMENTED = ["-socketpath", "-pidfile", "-hostprefix", "-broadcast", "-timeout", "-resendmax", "-resendtimeout",
              "--socket-group", "--help"]


def start_raw(lab, dhcp_bin, *args):
    """The daemon with exactly these arguments (plus a lab state directory), in the node."""
    state = ["--state-dir", str(lab.workdir / "dhcp-state")] if supports_state_dir(dhcp_bin) else []
    return lab.start_process([dhcp_bin, "daemon", *state, *args], lab.node, name="dhcp-daemon")


def wait_serving(process, path):
    def ready():
        if not process.alive():
            raise AssertionError(f"the daemon exited with {process.returncode}:\n{process.log()}")
        return socket_accepts(path)
    wait_until(ready, 5, f"the daemon to listen on {path}")


@pytest.mark.parametrize("spelling", ["-flag value", "--flag value", "-flag=value", "--flag=value"])
def test_flag_spellings(lab, dhcp_bin, spelling):
    sock, pidfile = lab.workdir / "dhcp.sock", lab.workdir / "dhcp.pid"
    values = {"socketpath": sock, "pidfile": pidfile, "timeout": "5s", "resendmax": "30s", "resendtimeout": "1m"}
    dashes = "--" if spelling.startswith("--") else "-"
    args = []
    for name, value in values.items():
        args += [f"{dashes}{name}={value}"] if "=" in spelling else [f"{dashes}{name}", str(value)]
    args.append(f"{dashes}broadcast")
    daemon = start_raw(lab, dhcp_bin, *args)
    wait_serving(daemon, sock)
    assert pidfile.read_text().strip() == str(daemon.pid)
    assert daemon.stop() == 0
    assert not sock.exists() and not pidfile.exists()


@pytest.mark.parametrize("flag", ["--help", "-help", "-h"])
def test_help_documents_every_flag(lab, dhcp_bin, flag):
    done = lab.node.exec([dhcp_bin, "daemon", flag], timeout=5)
    assert done.returncode == 0 and done.stderr == ""
    text = done.stdout
    assert text.startswith("usage: dhcp daemon [flags]")
    for name in DOCUMENTED:
        assert re.search(rf"^\s+{re.escape(name)}\b", text, re.M), f"{name} is not documented:\n{text}"
    # Defaults as documented are the reference's.
    for default in ("/run/cni/dhcp.sock", "10s", "62s", "90s"):
        assert default in text
    assert text == daemon_help(dhcp_bin)


BAD_FLAGS = {
    "unknown": (["--bogus"], "bogus"),
    "unknown single dash": (["-socket-path", "x"], "socket-path"),
    "stray argument": (["stray"], "stray"),
    "missing value": (["-pidfile"], "pidfile"),
    "bad duration": (["-timeout", "soon"], "timeout"),
    "zero duration": (["-resendtimeout=0"], "resendtimeout"),
    "negative duration": (["--resendmax=-5s"], "resendmax"),
    "relative pidfile": (["-pidfile", "dhcp.pid"], "absolute"),
    "unknown group": (["--socket-group", "cnt-no-such-group"], "cnt-no-such-group"),
    # Nothing is created under a mistyped prefix (it once made /PREFIX/var/lib/...).
    "missing hostprefix": (["-hostprefix", "/cnt-no-such-prefix"], "-hostprefix /cnt-no-such-prefix is not a directory"),
}


@pytest.mark.parametrize("case", BAD_FLAGS, ids=list(BAD_FLAGS))
def test_bad_flags_exit_2(lab, dhcp_bin, case):
    args, fragment = BAD_FLAGS[case]
    sock = lab.workdir / "dhcp.sock"
    try:
        done = lab.node.exec([dhcp_bin, "daemon", "-socketpath", sock, *args], check=False, timeout=5)
    except subprocess.TimeoutExpired:
        pytest.fail(f"dhcp daemon {' '.join(args)} started instead of refusing")
    assert done.returncode == 2, done
    assert fragment in done.stderr and done.stdout == "", done
    assert not sock.exists()
    assert not os.path.exists("/cnt-no-such-prefix")


def test_unwritable_pidfile_stops_the_daemon_before_it_serves(lab, dhcp_bin):
    sock, pidfile = lab.workdir / "dhcp.sock", lab.workdir / "no-such-dir" / "dhcp.pid"
    state = ["--state-dir", lab.workdir / "dhcp-state"]
    done = lab.node.exec([dhcp_bin, "daemon", *state, "-socketpath", sock, "-pidfile", pidfile], check=False,
                         timeout=5)
    assert done.returncode == 1, done
    assert f"cannot write pidfile {pidfile}" in done.stderr, done
    assert not sock.exists() and not pidfile.exists()


def test_timeout_and_resendtimeout(lab, macvlan, pod, start_daemon, sniffer):
    # No DHCP server at all. -timeout 1s: the first retransmission after about 1 s
    # (RFC 2131's 4 s otherwise); -resendtimeout 3s: give up then.
    daemon = start_daemon("-timeout", "1s", "-resendtimeout", "3s")
    conf = dhcp_conf(lab, daemon, "1.0.0")
    started = time.monotonic()
    run = macvlan("ADD", conf, pod)
    elapsed = time.monotonic() - started
    error = assert_cni_error(run, 104, "no DHCPOFFER after")
    discovers = int(re.search(r"after (\d+) DHCPDISCOVER", error["msg"]).group(1))
    assert discovers >= 2, error
    assert 2.5 <= elapsed < 5, elapsed
    assert len(sniffer.messages("DISCOVER")) == discovers
    assert_only_lo(pod)
    assert daemon.list() == []


def test_broadcast_flag_and_the_network_override(lab, macvlan, start_daemon, sniffer):
    lab.start_dnsmasq()
    daemon = start_daemon("-broadcast")
    asking, quiet = lab.add_pod(), lab.add_pod()
    macvlan.add(dhcp_conf(lab, daemon, "1.0.0"), asking, container_id="cnt-bcast")
    macvlan.add(dhcp_conf(lab, daemon, "1.0.0", broadcast=False), quiet, container_id="cnt-quiet")

    for pod, flag in ((asking, 0x8000), (quiet, 0)):
        mac = pod.link("eth0")["address"]
        sent = sniffer.messages("DISCOVER", chaddr=mac) + sniffer.messages("REQUEST", chaddr=mac)
        assert sent and all(m["flags"] == flag for m in sent), sent
        # dnsmasq honours the bit: broadcast replies only when asked for.
        replies = sniffer.messages("OFFER", chaddr=mac) + sniffer.messages("ACK", chaddr=mac)
        assert replies and all((m["eth_dst"] == "ff:ff:ff:ff:ff:ff") == bool(flag) for m in replies), replies


def test_hostprefix(lab, macvlan, pod, start_daemon):
    # A daemon in a container sees the host's / at HOST: socket and netns paths get the prefix.
    lab.start_dnsmasq()
    host = lab.workdir / "host"
    host.mkdir()
    (host / "run").symlink_to("/run")
    daemon = start_daemon("-hostprefix", str(host), socket_path=host / "dhcp.sock", socketpath_flag="/dhcp.sock",
                          state_dir="/dhcp-state")
    if daemon.state_dir is not None:
        assert (host / "dhcp-state").is_dir()
    conf = dhcp_conf(lab, daemon, "1.0.0")  # the runtime's view: the socket at HOST/dhcp.sock
    result = macvlan.add(conf, pod, container_id="cnt-prefixed")
    assert pod.cidrs("eth0") == [result["ips"][0]["address"]]
    [entry] = daemon.list()
    assert entry["netns"] == f"{host}{pod.path}" and entry["state"] == "BOUND", entry
    macvlan.ok("DEL", conf, pod, container_id="cnt-prefixed")
    assert daemon.list() == []


@pytest.mark.parametrize("command", ["lsit", "deamon", "--socketpath"])
def test_an_unknown_command_exits_2_with_the_usage(dhcp_bin, command):
    """A runtime runs the plugin without arguments: an argument that names no command is
    a typo (`dhcp lsit`), which must not pass for success."""
    done = subprocess.run([dhcp_bin, command], capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
    assert done.returncode == 2, done
    assert f'unknown command "{command}"' in done.stderr and "usage: dhcp daemon" in done.stderr, done.stderr
    assert done.stdout == ""
