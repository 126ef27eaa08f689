"""`dhcp doctor` on a lab node: the doctor runs in the node netns (`ip netns exec`, so
/sys is the node's) against the lab's master veth, with real DHCP servers on the lan
side. Every check it makes is made to pass and to fail here, and whatever the probe
makes (a namespace of its own, a macvlan on the master) must be gone afterwards, also
when it is interrupted mid-probe."""

import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from dhcp_fixtures import dhcp_conf, unprivileged
from lab import Udhcpd, check_ifname
from macvlan_helpers import macvlan  # noqa: F401

pytestmark = pytest.mark.usefixtures("require_root")

# Three DHCPDISCOVERs go out at 0, 1 and 2 s: listening a little longer hears all answers.
PROBE_TIME = "3s"
CAUSE_WORDS = ["VLAN", "Forged transmits", "AWS", "pool is full", "relay", "ip helper-address"]


def doctor(lab, dhcp_bin, *args, socket_path=None, timeout=30, user=False):
    """`dhcp doctor ARGS --json` in the node netns (as nobody with `user`): (exit status,
    report)."""
    argv = [dhcp_bin, "doctor", *args, "--json"]
    if socket_path is not None:
        argv += ["-socketpath", socket_path]
    if user:
        argv = unprivileged(argv)
    done = lab.node.exec(argv, check=False, timeout=timeout)
    assert done.returncode in (0, 1), done
    return done.returncode, json.loads(done.stdout)


def doctor_text(lab, dhcp_bin, *args):
    done = lab.node.exec([dhcp_bin, "doctor", *args], check=False, timeout=30)
    return done.returncode, done.stdout, done.stderr


def checks(report):
    """{name: check} (a name a probe repeats per server keeps its first)."""
    found = {}
    for check in report["checks"]:
        assert set(check) == {"name", "status", "finding", "hint", "causes"}, check
        assert check["status"] in ("ok", "warning", "failed", "skipped"), check
        assert check["finding"], check
        # What to check next, whenever something is wrong; nothing when all is well.
        if check["status"] in ("warning", "failed"):
            assert check["hint"], check
        if check["status"] == "ok":
            assert check["hint"] == "", check
        found.setdefault(check["name"], check)
    return found


def node_links(lab):
    return sorted(link["ifname"] for link in lab.node.links())


def doctor_watched(lab, argv, interrupt_when=None, sig=signal.SIGINT):
    """Runs the doctor in the node netns and, while it runs, notes every network
    namespace it holds by a descriptor other than the node's (its throwaway ones).
    `interrupt_when`: send it `sig` once that returns true. (exit status, stdout, inodes)."""
    own = f"net:[{lab.node.inode()}]"
    seen = set()
    # The signals at their defaults, as on an operator's terminal: a run started in the
    # background by a non-interactive shell (a CI job) inherits SIGINT ignored.
    process = subprocess.Popen(lab.node.exec_argv(argv), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True, preexec_fn=default_signals)
    reader = threading.Thread(target=lambda: setattr(process, "output", process.stdout.read()))
    reader.start()
    try:
        interrupted = False
        while process.poll() is None:
            seen |= probe_namespaces(process.pid, own)
            if interrupt_when and not interrupted and seen and interrupt_when():
                process.send_signal(sig)
                interrupted = True
            time.sleep(0.005)
        process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        reader.join(10)
    # Only the throwaway namespaces: named ones (the lab's, whatever `ip netns exec`
    # held on its way in) are not the doctor's.
    return process.returncode, getattr(process, "output", ""), seen - named_namespaces()


def named_namespaces():
    inodes = set()
    for entry in Path("/run/netns").iterdir():
        try:
            inodes.add(entry.stat().st_ino)
        except OSError:
            pass  # deleted meanwhile
    return inodes


def default_signals():
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


def no_socket(lab):
    return str(lab.workdir / "no-daemon.sock")


@pytest.fixture
def rogue(lab):
    """A second host on the lan segment: a macvlan on the lan's interface in a netns of
    its own (deleted with the lab), address .2, where another server can run."""
    host = lab.add_pod()
    ifname = check_ifname(f"{lab.id}rg")
    lab.lan.ip("link", "add", "link", lab.lan_if, "name", ifname, "netns", host.name, "type", "macvlan",
               "mode", "bridge")
    host.set_up(ifname)
    host.add_address(ifname, f"{lab.address(2)}/{lab.network.prefixlen}")
    return host, ifname


def test_server_answers_and_daemon_ok(lab, dhcp_bin, dhcp_daemon, sniffer):
    server = lab.start_dnsmasq(dns_servers=[lab.address(53), lab.address(54)], lease_time=900)
    links_before = node_links(lab)

    code, stdout, namespaces = doctor_watched(lab, [dhcp_bin, "doctor", "--master", lab.node.master, "--json",
                                                    "--probe-time", PROBE_TIME, "-socketpath",
                                                    dhcp_daemon.socket_path])
    report = json.loads(stdout)

    found = checks(report)
    assert code == 0 and report["status"] == "ok", report
    assert [name for name in found if found[name]["status"] != "ok"] == [], report
    assert found["daemon"]["finding"].endswith("answers: ready, 0 leases"), found["daemon"]
    assert report["master"] == lab.node.master and report["masterSource"] == "--master"
    [offer] = report["probe"]["servers"]
    assert offer["serverId"] == lab.router and offer["sourceIp"] == lab.router
    assert offer["address"] in {lab.address(n) for n in range(100, 200)} and offer["prefixLen"] == 24, offer
    assert offer["leaseSeconds"] == 900 and offer["routers"] == [lab.router], offer
    assert offer["dns"] == [lab.address(53), lab.address(54)], offer
    assert offer["sourceMac"] == lab.lan.link(lab.lan_if)["address"], offer
    assert offer["reply"] in ("unicast", "broadcast") and 0 <= offer["rttMs"] < 3000, offer
    assert offer["offers"] == report["probe"]["discovers"] == 3, report["probe"]

    # The wire: three DHCPDISCOVERs in one transaction from the probe's own MAC, a locally
    # administered one, and never a DHCPREQUEST: the server keeps no lease for the probe.
    mac = report["probe"]["mac"]
    assert int(mac.split(":")[0], 16) & 0x03 == 0x02, mac
    discovers = sniffer.messages("DISCOVER", chaddr=mac)
    assert len(discovers) == 3 and len({m["xid"] for m in discovers}) == 1, discovers
    assert discovers[0]["xid"] == report["probe"]["xid"]
    assert sniffer.messages("REQUEST") == [] and server.leases() == []

    # Nothing left behind: no link in the node; the probe's namespace was seen while it
    # ran, and no process or mount (a name under /run/netns) holds it now.
    assert namespaces, "the probe's namespace was never seen"
    assert [namespace_holders(inode) for inode in namespaces] == [[] for _ in namespaces]
    assert node_links(lab) == links_before


def test_daemon_with_a_lease(lab, dhcp_bin, dhcp_daemon, macvlan, pod):
    lab.start_dnsmasq()
    macvlan.add(dhcp_conf(lab, dhcp_daemon), pod, container_id="cnt-doctor")

    code, report = doctor(lab, dhcp_bin, "--master", lab.node.master, "--no-probe",
                          socket_path=dhcp_daemon.socket_path)

    found = checks(report)
    assert code == 0, report
    assert found["daemon"]["status"] == "ok" and found["daemon"]["finding"].endswith("ready, 1 lease"), found["daemon"]
    assert found["lan-probe"]["status"] == "skipped" and report["probe"] is None, report


def test_two_servers_warn(lab, dhcp_bin, dhcp_daemon, rogue):
    lab.start_dnsmasq(dns_servers=[lab.address(53)])
    host, ifname = rogue
    udhcpd = Udhcpd(host, ifname, lab.network, lab.workdir, pool=(lab.address(200), lab.address(220)),
                    router=lab.address(2), dns_servers=[lab.address(2)], lease_time=300)
    lab.servers.append(udhcpd)  # stopped with the lab
    udhcpd.start()

    # The default probe time: a slow answer on a loaded machine still counts.
    code, report = doctor(lab, dhcp_bin, "--master", lab.node.master, socket_path=dhcp_daemon.socket_path)

    found = checks(report)
    assert code == 0 and report["status"] == "warning", json.dumps(report, indent=1)
    assert found["dhcp-servers"]["status"] == "warning", json.dumps(report, indent=1)
    assert "2 DHCP servers answered: a rogue server" in found["dhcp-servers"]["finding"], found["dhcp-servers"]
    by_id = {s["serverId"]: s for s in report["probe"]["servers"]}
    assert set(by_id) == {lab.router, lab.address(2)}, report["probe"]
    assert by_id[lab.address(2)]["address"] in {lab.address(n) for n in range(200, 221)}
    assert by_id[lab.address(2)]["leaseSeconds"] == 300 and by_id[lab.address(2)]["routers"] == [lab.address(2)]
    assert by_id[lab.address(2)]["sourceMac"] == host.link(ifname)["address"]
    assert by_id[lab.router]["dns"] == [lab.address(53)]

    code, text, _ = doctor_text(lab, dhcp_bin, "--master", lab.node.master, "-socketpath",
                                str(dhcp_daemon.socket_path))
    assert code == 0 and "2 DHCP servers answered" in text, text
    rows = [line for line in text.splitlines() if line.startswith((lab.router + " ", lab.address(2) + " "))]
    assert len(rows) == 2, text


def test_no_server_lists_the_causes(lab, dhcp_bin, dhcp_daemon):
    code, text, _ = doctor_text(lab, dhcp_bin, "--master", lab.node.master, "--probe-time", "1500ms",
                                "-socketpath", str(dhcp_daemon.socket_path))

    assert code == 1, text
    assert "lan-probe        failed   no DHCPOFFER within 1500 ms to 2 DHCPDISCOVERs" in text, text
    assert "likely causes, in order:" in text and "\nnone\n" in text, text
    for word in CAUSE_WORDS:
        assert word in text, (word, text)
    assert "result: failed" in text

    code, report = doctor(lab, dhcp_bin, "--master", lab.node.master, "--probe-time", "1200ms",
                          socket_path=dhcp_daemon.socket_path)
    probe = checks(report)["lan-probe"]
    assert code == 1 and probe["status"] == "failed" and report["probe"]["servers"] == [], report
    causes = probe["causes"]
    assert len(causes) >= 4 and all(c["cause"] and c["check"] for c in causes), causes
    assert "VLAN" in causes[0]["cause"] and "relay" in causes[3]["cause"], causes


# A server that answers every DHCPDISCOVER the way a broken one does: "nolease", a
# DHCPOFFER without option 51; "nak", a DHCPNAK with a message (option 56).
ODD_SERVER = r"""
import socket, sys
mode, ifname, server_ip, offer_ip = sys.argv[1:5]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
s.bind(("0.0.0.0", 67))
print("ready", flush=True)
while True:
    data, _ = s.recvfrom(4096)
    if len(data) < 240 or data[0] != 1:
        continue
    print("xid", data[4:8].hex(), "secs", int.from_bytes(data[8:10], "big"), flush=True)
    reply = bytearray(236)
    reply[0:3] = bytes([2, 1, 6])
    reply[4:8] = data[4:8]
    reply[28:44] = data[28:44]
    options = bytes([0x63, 0x82, 0x53, 0x63])
    if mode == "nolease":
        reply[16:20] = socket.inet_aton(offer_ip)
        options += bytes([53, 1, 2, 1, 4]) + socket.inet_aton("255.255.255.0")
    else:
        options += bytes([53, 1, 6, 56, 12]) + b"no pool here"
    options += bytes([54, 4]) + socket.inet_aton(server_ip) + bytes([255])
    s.sendto(bytes(reply) + options, ("255.255.255.255", 68))
"""


@pytest.mark.parametrize("mode", ["nolease", "nak"])
def test_odd_answers(lab, dhcp_bin, mode):
    server = lab.start_process(["/usr/bin/python3", "-u", "-c", ODD_SERVER, mode, lab.lan_if, lab.router,
                                lab.address(150)], lab.lan, name="odd-dhcp")
    server.wait_for_log("^ready$")

    code, report = doctor(lab, dhcp_bin, "--master", lab.node.master, "--probe-time", "1200ms",
                          socket_path=no_socket(lab))

    found = checks(report)
    # Each retransmission in the same transaction, its secs field counting up.
    xid = f"{report['probe']['xid']:08x}"
    assert re.findall(r"^xid (\S+) secs (\d+)$", server.log(), re.M) == [(xid, "0"), (xid, "1")], server.log()
    [answer] = report["probe"]["servers"]
    assert answer["serverId"] == lab.router and answer["reply"] == "broadcast", answer
    if mode == "nolease":
        assert answer["address"] == lab.address(150) and answer["leaseSeconds"] is None, answer
        assert found["lan-probe"]["status"] == "ok", report
        assert found["lease-time"]["status"] == "warning", report
        assert f"offered {lab.address(150)} without a lease time (option 51)" in found["lease-time"]["finding"]
    else:
        assert answer["naks"] == 2 and answer["offers"] == 0 and answer["address"] is None, answer
        assert answer["nakMessage"] == "no pool here", answer
        assert code == 1 and found["lan-probe"]["status"] == "failed", report
        assert 'DHCPNAK ("no pool here")' in found["lan-probe"]["finding"], found["lan-probe"]


def test_unprivileged(lab, dhcp_bin):
    code, report = doctor(lab, dhcp_bin, "--master", lab.node.master, "--probe-time", "1s",
                          socket_path=no_socket(lab), user=True)

    found = checks(report)
    assert code == 1, report
    for name in ("kernel-macvlan", "lan-probe"):
        assert found[name]["status"] == "failed" and "Operation not permitted" in found[name]["finding"], report
        assert "as root" in found[name]["hint"], found[name]
    assert found["master"]["status"] == "ok", report


def test_hostprefix(lab, dhcp_bin, tmp_path):
    code, report = doctor(lab, dhcp_bin, "--master", lab.node.master, "--no-probe", "-hostprefix", tmp_path,
                          socket_path=no_socket(lab))
    netns = checks(report)["daemon-netns"]
    assert netns["status"] == "warning" and f"{tmp_path}/run/netns" in netns["finding"], netns

    (tmp_path / "var" / "run" / "netns").mkdir(parents=True)
    code, report = doctor(lab, dhcp_bin, "--master", lab.node.master, "--no-probe", "-hostprefix", tmp_path,
                          socket_path=no_socket(lab))
    netns = checks(report)["daemon-netns"]
    assert netns["status"] == "ok" and netns["finding"].endswith(f"visible at {tmp_path}/var/run/netns"), netns


def test_master_missing(lab, dhcp_bin):
    code, report = doctor(lab, dhcp_bin, "--master", "cntnosuch0", socket_path=no_socket(lab))

    found = checks(report)
    assert code == 1 and found["master"]["status"] == "failed", report
    assert "no interface cntnosuch0" in found["master"]["finding"] and "ip -br link" in found["master"]["hint"]
    assert found["lan-probe"]["status"] == "skipped" and report["probe"] is None, report
    assert "master-up" not in found


def test_master_is_a_bridge_port(lab, dhcp_bin):
    bridge, port, peer = (check_ifname(f"{lab.id}{s}") for s in ("br", "pa", "pb"))
    lab.node.add_bridge(bridge)
    lab.node.ip("link", "add", port, "type", "veth", "peer", "name", peer)
    lab.node.add_to_bridge(port, bridge)
    lab.node.set_up(port)

    code, report = doctor(lab, dhcp_bin, "--master", port, "--no-probe", socket_path=no_socket(lab))

    found = checks(report)
    assert code == 1 and found["master-port"]["status"] == "failed", report
    assert f"port of bridge {bridge}" in found["master-port"]["finding"], found["master-port"]
    assert f'"master": "{bridge}"' in found["master-port"]["hint"], found["master-port"]
    assert found["master"]["status"] == "ok" and "veth" in found["master"]["finding"]


def test_master_down(lab, dhcp_bin):
    lab.node.ip("link", "set", lab.node.master, "down")

    code, report = doctor(lab, dhcp_bin, "--master", lab.node.master, socket_path=no_socket(lab))

    found = checks(report)
    assert code == 1 and found["master-up"]["status"] == "failed", report
    assert f"ip link set {lab.node.master} up" in found["master-up"]["hint"]
    assert found["lan-probe"]["status"] == "skipped", report


def test_daemon_not_running(lab, dhcp_bin):
    code, report = doctor(lab, dhcp_bin, "--master", lab.node.master, "--no-probe", socket_path=no_socket(lab))
    daemon = checks(report)["daemon"]
    assert code == 1 and daemon["status"] == "failed", report
    assert daemon["finding"] == f"no dhcp daemon: nothing at {no_socket(lab)}", daemon
    assert "systemctl start cni-dhcp" in daemon["hint"] and "DaemonSet" in daemon["hint"], daemon

    # A socket file nobody listens on: what a killed daemon leaves.
    stale = lab.workdir / "stale.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.bind(str(stale))
    code, report = doctor(lab, dhcp_bin, "--master", lab.node.master, "--no-probe", socket_path=stale)
    daemon = checks(report)["daemon"]
    assert code == 1 and daemon["status"] == "failed", report
    assert daemon["finding"].startswith(f"stale socket {stale}:") and "no daemon listens" in daemon["finding"]


def test_conflist(lab, dhcp_bin, dhcp_daemon, tmp_path):
    lab.start_dnsmasq()
    conf = dhcp_conf(lab, dhcp_daemon)
    conf["mode"] = "private"
    conflist = {"cniVersion": conf["cniVersion"], "name": conf["name"],
                "plugins": [{k: v for k, v in conf.items() if k not in ("cniVersion", "name")},
                            {"type": "tuning"}]}
    path = tmp_path / "10-lan.conflist"
    path.write_text(json.dumps(conflist))

    code, report = doctor(lab, dhcp_bin, "--conflist", path, "--probe-time", PROBE_TIME)

    found = checks(report)
    assert code == 0 and found["config"]["status"] == "ok", report
    assert report["master"] == lab.node.master and report["masterSource"] == "conflist", report
    assert report["mode"] == "private" and report["conflist"] == str(path)
    assert report["socketPath"] == str(dhcp_daemon.socket_path) and found["daemon"]["status"] == "ok", report
    assert len(report["probe"]["servers"]) == 1

    # No "master": the default route's interface, as the plugin takes it, and said so.
    del conflist["plugins"][0]["master"]
    path.write_text(json.dumps(conflist))
    code, report = doctor(lab, dhcp_bin, "--conflist", path, "--no-probe")
    assert code == 0 and report["master"] == lab.node.master, report
    assert "default route" in report["masterSource"] and "no \"master\" key" in checks(report)["config"]["finding"]

    # A single plugin's .conf works too; a file the plugin would refuse fails the check.
    single = tmp_path / "10-lan.conf"
    single.write_text(json.dumps(dict(conf, mode="sideways")))
    code, report = doctor(lab, dhcp_bin, "--conflist", single, "--no-probe")
    config = checks(report)["config"]
    assert code == 1 and config["status"] == "failed" and 'unknown macvlan mode "sideways"' in config["finding"]


def test_usage(lab, dhcp_bin):
    for args in ([], ["--master", "x", "--conflist", "y"], ["--master", "x", "--bogus"],
                 ["--master", "x", "--probe-time", "soon"]):
        code, out, err = doctor_text(lab, dhcp_bin, *args)
        assert code == 2 and out == "" and "usage: dhcp doctor" in err, (args, out, err)
    code, out, _ = doctor_text(lab, dhcp_bin, "--help")
    assert code == 0 and "usage: dhcp doctor" in out


def namespace_holders(inode):
    """Processes and mounts that hold the network namespace `inode`."""
    holders = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        for entry in [proc / "ns" / "net", *(proc / "fd").glob("*")]:
            try:
                if os.readlink(entry) == f"net:[{inode}]":
                    holders.append(str(entry))
            except OSError:
                continue
    mounts = Path("/proc/self/mountinfo").read_text()
    holders += [line for line in mounts.splitlines() if f"net:[{inode}]" in line]
    return holders


def probe_namespaces(pid, own):
    """The network namespaces process `pid` holds by a descriptor, but its own."""
    found = set()
    for fd in Path(f"/proc/{pid}/fd").glob("*"):
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("net:[") and target != own:
            found.add(int(target[5:-1]))
    return found


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_mid_probe_leaves_nothing(lab, dhcp_bin, sniffer, sig):
    links_before = node_links(lab)

    code, _, namespaces = doctor_watched(
        lab, [dhcp_bin, "doctor", "--master", lab.node.master, "--probe-time", "20s", "-socketpath", no_socket(lab)],
        interrupt_when=lambda: sniffer.messages("DISCOVER"), sig=sig)  # mid-probe: a DHCPDISCOVER is out

    assert code == -sig, code
    # Nobody holds the probe's namespace any more: the kernel deletes it, and the macvlan
    # in it. No link was ever made in the node.
    assert namespaces, "the probe's namespace was never seen"
    assert [namespace_holders(inode) for inode in namespaces] == [[] for _ in namespaces]
    assert node_links(lab) == links_before
