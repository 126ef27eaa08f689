"""Lease records kept beside the socket (dhcp-leases in the socket's directory, where a
daemon in a container without a host-mounted state directory keeps them) are taken
over by a daemon that has its state directory: the operator who adds the mount later
loses no lease. A directory there that is not root's alone is not trusted."""

import shutil

import pytest

from survive_fixtures import log_lines

pytestmark = pytest.mark.usefixtures("require_root")


def move_records_beside_the_socket(survive) -> list[str]:
    beside = survive.socket_path.parent / "dhcp-leases"
    beside.mkdir(mode=0o700)
    names = sorted(p.name for p in survive.state_dir.iterdir() if p.name.endswith(".json"))
    for name in names:
        shutil.move(str(survive.state_dir / name), str(beside / name))
    return names


def test_records_beside_the_socket_are_taken_over(lab, survive):
    lab.start_dnsmasq()
    survive.start()
    conf = survive.conf("1.0.0")
    pod = lab.add_pod()
    result = survive.add(conf, pod, "cnt-beside")
    survive.crash()
    names = move_records_beside_the_socket(survive)
    assert len(names) == 1 and survive.records() == {}

    daemon = survive.restart()
    assert log_lines(daemon.log(), "took over 1 lease records from"), daemon.log()
    assert [e["containerID"] for e in daemon.list()] == ["cnt-beside"]
    assert list(survive.records()) == [f"cnt-beside/{conf['name']}/eth0"]
    assert not (survive.socket_path.parent / "dhcp-leases").exists(), "the emptied directory stays behind"
    assert pod.cidrs("eth0") == [result["ips"][0]["address"]]
    survive.macvlan.ok("DEL", conf, pod, container_id="cnt-beside")
    assert survive.records() == {}


def test_records_beside_the_socket_others_may_write_are_not_trusted(lab, survive):
    lab.start_dnsmasq()
    survive.start()
    conf = survive.conf("1.0.0")
    pod = lab.add_pod()
    survive.add(conf, pod, "cnt-untrusted")
    survive.crash()
    names = move_records_beside_the_socket(survive)
    beside = survive.socket_path.parent / "dhcp-leases"
    beside.chmod(0o777)

    daemon = survive.restart()
    assert log_lines(daemon.log(), f"records in {beside} are not taken over: the directory is not root's alone")
    assert daemon.list() == [] and survive.records() == {}
    assert sorted(p.name for p in beside.iterdir()) == names
