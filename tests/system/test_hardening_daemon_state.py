"""The dhcp daemon against a state directory someone tampered with while it was down:
whatever a record says is checked before it is acted on. A FIFO or a symlink named
like a record, a record whose MAC is not its interface's, one renamed to another key,
one whose containerID holds a newline, one naming the daemon's own namespace, and a
directory others may write. (Attacks through the socket and the pods:
test_hardening_daemon.py.)"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest

from dhcp_fixtures import lease_active, lease_released
from survive_fixtures import log_lines, wait_for

pytestmark = pytest.mark.usefixtures("require_root")

# Every line the daemon writes starts so (dhcpd/log.c).
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z dhcp: ")


def record_name(key: str) -> str:
    """The file a key's record has (dhcpd/state.c): '/', '%' and newline percent-encoded."""
    return "".join(f"%{ord(c):02X}" if c in "/%\n" else c for c in key) + ".json"


def record_path(survive, key: str) -> Path:
    return survive.state_dir / record_name(key)


def rewrite(survive, key: str, **changes) -> str:
    """Edits the record of `key` (the daemon is down) and files it under the key it
    then holds, as someone who knows the layout would; returns that key."""
    path = record_path(survive, key)
    record = json.loads(path.read_text())
    record.update(changes)
    record["key"] = f"{record['containerID']}/{record['network']}/{record['ifName']}"
    path.unlink()
    record_path(survive, record["key"]).write_text(json.dumps(record))
    return record["key"]


def added(survive, conf, pod, container_id):
    """ADD: (address, MAC, key)."""
    address = survive.add(conf, pod, container_id)["ips"][0]["address"].split("/")[0]
    return address, pod.link("eth0")["address"], f"{container_id}/{conf['name']}/eth0"


def is_up(netns, ifname: str) -> bool:
    return "UP" in netns.link(ifname)["flags"]


# --------------------------------------------------------------------------
# 2. Files that are not records


def test_fifo_named_like_a_record_does_not_hang_the_daemon(lab, start_daemon):
    state = lab.workdir / "dhcp-state"
    state.mkdir(mode=0o700)
    fifo = state / "x%2Fnet%2Feth0.json"
    os.mkfifo(fifo, 0o600)
    daemon = start_daemon(state_dir=state, wait=False)
    try:
        daemon.wait_ready()
    finally:
        # A daemon that opened the FIFO waits in open() for a writer: give it one, so
        # that the test ends on its assertion instead of a kill.
        try:
            os.close(os.open(state / fifo.name, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass  # ENXIO: nobody reads it
    assert daemon.status()["ready"] is True
    assert log_lines(daemon.log(), str(fifo), "is not a regular file", "moved aside"), daemon.log()
    assert not os.path.lexists(fifo)
    assert stat.S_ISFIFO(os.lstat(f"{fifo}.bad").st_mode)
    assert daemon.list() == []


def test_symlink_named_like_a_record_is_not_followed(lab, survive, pod):
    server = lab.start_dnsmasq()
    survive.start()
    conf = survive.conf("1.0.0")
    address, _, key = added(survive, conf, pod, "cnt-link")
    survive.crash()
    # The genuine record, elsewhere; in the state directory a symlink to it under its name.
    elsewhere = lab.workdir / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    target = elsewhere / record_name(key)
    record_path(survive, key).rename(target)
    text = target.read_text()
    link = record_path(survive, key)
    link.symlink_to(target)

    daemon = survive.restart()
    assert log_lines(daemon.log(), str(link), "moved aside"), daemon.log()
    assert daemon.list() == [] and ": resumed in " not in daemon.log() and "released" not in daemon.log()
    aside = Path(f"{link}.bad")
    assert os.path.islink(aside) and not os.path.lexists(link), survive.leftovers()
    assert target.read_text() == text
    assert lease_active(server, address)


# --------------------------------------------------------------------------
# 8. Records edited while the daemon was down


def test_record_with_another_mac_than_its_interface_is_released_not_resumed(lab, survive, pod, sniffer):
    server = lab.start_dnsmasq()
    survive.start()
    conf = survive.conf("1.0.0")
    address, mac, key = added(survive, conf, pod, "cnt-mac")
    survive.crash()
    pod.ip("link", "set", "eth0", "down")
    forged = "02:00:5e:00:53:01"
    assert forged != mac
    rewrite(survive, key, mac=forged)

    daemon = survive.restart()
    assert log_lines(daemon.log(), key, "released (its pod went away while the daemon was down)"), daemon.log()
    assert not is_up(pod, "eth0"), pod.link("eth0")
    assert daemon.list() == [] and survive.records() == {}
    wait_for(lambda: lease_released(server, address), 5, f"dnsmasq to free {address}")
    # Sent through the master, not from the interface the record does not describe.
    release = wait_for(lambda: sniffer.messages("RELEASE"), 5, "the DHCPRELEASE in the sniffer's log")
    assert [(m["ciaddr"], m["chaddr"]) for m in release] == [(address, forged)], release
    assert not is_up(pod, "eth0") and daemon.status()["ready"] is True


def test_record_renamed_to_another_key_is_set_aside_not_acted_on(lab, survive, sniffer):
    server = lab.start_dnsmasq()
    survive.start()
    conf = survive.conf("1.0.0")
    renamed_pod, control_pod = lab.add_pod(), lab.add_pod()
    address, mac, key = added(survive, conf, renamed_pod, "cnt-renamed")
    control_address, control_mac, _ = added(survive, conf, control_pod, "cnt-control")
    survive.crash()
    renamed_pod.delete()
    control_pod.delete()
    moved = survive.state_dir / record_name(f"cnt-someone-else/{conf['name']}/eth0")
    record_path(survive, key).rename(moved)

    daemon = survive.restart()
    assert log_lines(daemon.log(), str(moved), "is named for another key than its own", "moved aside"), daemon.log()
    assert not log_lines(daemon.log(), key, "released"), daemon.log()
    assert survive.leftovers() == [f"{moved.name}.bad"] and survive.records() == {}
    # The control record, whose pod went too, is released in the same pass: its
    # release on the wire means the renamed one's would be there as well.
    wait_for(lambda: sniffer.messages("RELEASE", chaddr=control_mac), 5, "the control lease's DHCPRELEASE")
    wait_for(lambda: lease_released(server, control_address), 5, f"dnsmasq to free {control_address}")
    assert sniffer.messages("RELEASE", chaddr=mac) == []
    assert lease_active(server, address)

    # Not there to act on at the next start either.
    daemon.stop()
    daemon = survive.restart()
    assert daemon.list() == [] and "released" not in daemon.log() and "moved aside" not in daemon.log(), daemon.log()
    assert survive.leftovers() == [f"{moved.name}.bad"]
    assert sniffer.messages("RELEASE", chaddr=mac) == [] and lease_active(server, address)


# The newline in containerID alone, or in the key and the file name too (a record
# consistent with itself, as whoever forges it can make it).
@pytest.mark.parametrize("forged_key", [False, True], ids=["id-only", "key-too"])
def test_record_whose_container_id_holds_a_newline_is_refused_and_splits_no_log_line(lab, survive, pod, forged_key):
    lab.start_dnsmasq()
    survive.start()
    conf = survive.conf("1.0.0")
    _, _, key = added(survive, conf, pod, "cnt-nl")
    survive.crash()
    forged_line = "2030-01-01T00:00:00.000Z dhcp: forged by a record"
    container_id = f"cnt-nl\n{forged_line}"
    if forged_key:
        rewrite(survive, key, containerID=container_id)
    else:
        path = record_path(survive, key)
        path.write_text(json.dumps({**json.loads(path.read_text()), "containerID": container_id}))
    assert len(list(survive.state_dir.glob("*.json"))) == 1

    daemon = survive.restart()
    log = daemon.log()
    assert log_lines(log, "the saved lease cannot be used", "forgetting it"), log
    # Every line is one event of the daemon's: none starts with what the record says.
    assert [line for line in log.splitlines() if not LOG_LINE.match(line) or line.startswith("2030-")] == [], \
        f"a log line split by the newline of a record:\n{log}"
    assert log_lines(log, "cnt-nl", "the saved lease cannot be used"), log
    assert daemon.list() == [] and ": resumed in " not in log
    assert list(survive.state_dir.glob("*.json")) == [], survive.leftovers()
    assert daemon.status()["ready"] is True


@pytest.mark.parametrize("mode", [0o777, 0o770])
def test_state_directory_others_may_write_is_refused(lab, survive, start_daemon, mode):
    survive.state_dir.mkdir(mode=0o700)
    survive.state_dir.chmod(mode)
    daemon = start_daemon(socket_path=survive.socket_path, state_dir=survive.state_dir, wait=False)
    try:
        status = daemon.process.wait(5)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the daemon runs on a state directory of mode {mode:o}:\n{daemon.log()}")
    assert status == 1, daemon.log()
    log = daemon.log()
    assert log_lines(log, str(survive.state_dir), "chown", "chmod"), log
    assert not survive.socket_path.exists()
    # Left as it was: the operator decides.
    assert stat.S_IMODE(os.lstat(survive.state_dir).st_mode) == mode


def test_record_naming_the_daemons_own_netns_leaves_the_node_alone(lab, survive):
    server = lab.start_dnsmasq()
    survive.start()
    conf = survive.conf("1.0.0")
    node = lab.node
    pods = [lab.add_pod(), lab.add_pod()]
    dummy_address, _, dummy_key = added(survive, conf, pods[0], "cnt-own-dummy")
    master_address, _, master_key = added(survive, conf, pods[1], "cnt-own-master")
    survive.crash()
    # A link of the node that is down (a veth pair's end), and the node's uplink: records made to name them,
    # by the node's netns path and by the daemon's own view of its namespace.
    dummy = f"{lab.id}d0"
    node.ip("link", "add", dummy, "type", "veth", "peer", "name", f"{lab.id}d1")
    rewrite(survive, dummy_key, netns=node.path, ifName=dummy, mac=node.link(dummy)["address"])
    rewrite(survive, master_key, netns="/proc/self/ns/net", ifName=node.master,
            mac=node.link(node.master)["address"])
    master_before = node.cidrs(node.master)
    routes_before = node.routes()

    daemon = survive.restart()
    # Status answered: the loop has run its first timers after the restore, when a
    # resumed lease puts its address back on its interface.
    assert daemon.status()["ready"] is True
    assert not is_up(node, dummy), node.link(dummy)
    assert node.cidrs(dummy) == []
    assert node.cidrs(node.master) == master_before == [str(node.address)]
    assert node.routes() == routes_before
    assert daemon.list() == [] and ": resumed in " not in daemon.log(), daemon.log()
    for address in (dummy_address, master_address):
        wait_for(lambda: lease_released(server, address), 5, f"dnsmasq to free {address}")
    assert node.cidrs(node.master) == master_before and node.cidrs(dummy) == []
