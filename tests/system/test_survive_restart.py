"""The daemon killed with SIGKILL and started again on the same --state-dir: every
lease comes back from its record and is renewed on the wire, no pod loses its address,
and a kill at the wrong moment leaves nothing behind (an ADD in flight leaves no
record, a DEL is never undone, a lease whose pod went while the daemon was down is
released when it runs again). The reference keeps leases in memory only: a restart
stops every renewal (containernetworking/plugins#235, #767)."""

import contextlib
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from dhcp_fixtures import lease_active, lease_released
from survive_fixtures import INFINITE_LIFETIME, address_info, default_route, log_lines, valid_lft, wait_for

pytestmark = pytest.mark.usefixtures("require_root")

PODS = 50
# dhcpd leases of 20 s: T1 = 10 s. The 50 ADDs take a second or so, so no lease renews
# before the kill, and every renewal seen after the restart is the new daemon's.
LEASE_S = 20


def test_fifty_leases_survive_sigkill_and_are_renewed(lab, survive, sniffer):
    server = lab.start_dhcpd(lease_time=LEASE_S)
    survive.start()
    conf = survive.conf("1.0.0")
    started = time.monotonic()
    pods = survive.add_many(conf, PODS)
    added_in = time.monotonic() - started

    cidrs = {cid: result["ips"][0]["address"] for _, cid, result in pods}
    addresses = {cid: cidr.split("/")[0] for cid, cidr in cidrs.items()}
    assert len(set(cidrs.values())) == PODS, cidrs
    assert len(survive.records()) == PODS
    ends_before = {cid: server.lease_for(ip=ip).expires for cid, ip in addresses.items()}
    assert all(ends_before.values()), server.leases()
    # The ADDs must be over well before the first T1, or this test could not tell the
    # new daemon's renewals from the old one's.
    assert added_in < LEASE_S / 2 - 4, f"{PODS} ADDs took {added_in:.1f} s"
    # The addresses' lifetimes are tied to the lease: finite, at most the lease.
    for pod, cid, _ in pods:
        lifetime = wait_for(lambda: _finite(valid_lft(pod, cidrs[cid])), 5, f"{cid}'s address lifetime")
        assert lifetime <= LEASE_S, (cid, lifetime)

    # The sniffer logs asynchronously: let it catch up, so what it logs from the mark on
    # is the new daemon's.
    wait_for(lambda: len(sniffer.messages("ACK")) >= PODS, 10, "the sniffer to log the 50 DHCPACKs")

    survive.crash()
    crashed_at = time.monotonic()
    lifetimes = {cid: valid_lft(pod, cidrs[cid]) for pod, cid, _ in pods}
    assert all(lifetimes.values()), lifetimes
    wire_mark = len(sniffer.messages())
    log_mark = len(server.log())

    daemon = survive.restart()
    assert len(log_lines(daemon.log(), ": resumed in ")) == PODS, daemon.log()
    listed = daemon.list()
    assert len(listed) == PODS and {e["containerID"] for e in listed} == set(cidrs), listed

    # Each lease is renewed by the new daemon at its T1: dhcpd moves its end forward.
    def all_renewed():
        leases = {lease.ip: lease for lease in server.leases()}
        return all(leases[ip].expires > ends_before[cid] for cid, ip in addresses.items())

    wait_for(all_renewed, LEASE_S / 2 + 8, "dhcpd to extend all 50 leases after the restart")
    # On the wire: a unicast DHCPREQUEST from each leased address, after the restart,
    # each ACKed (dhcpd's log), and no DHCPDISCOVER: nothing was acquired anew.
    after_restart = sniffer.messages()[wire_mark:]
    renewing = {m["ciaddr"] for m in after_restart
                if m["type"] == "REQUEST" and m["src"] == m["ciaddr"] and m["dst"] == lab.router}
    assert set(addresses.values()) <= renewing, sorted(set(addresses.values()) - renewing)
    assert [m for m in after_restart if m["type"] == "DISCOVER"] == []
    server_log = server.log()[log_mark:]
    for cid, ip in addresses.items():
        assert log_lines(server_log, f"DHCPACK on {ip} to "), (cid, ip, server_log[-3000:])

    # The daemon: all 50 BOUND again on a fresh lease, the same address each.
    def all_bound_and_fresh():
        entries = daemon.list()
        return len(entries) == PODS and all(e["state"] == "BOUND" and e["expiresIn"] > LEASE_S / 2
                                             for e in entries) and entries

    entries = wait_for(all_bound_and_fresh, 5, "all 50 leases BOUND with a fresh lease")
    assert {e["containerID"]: e["address"] for e in entries} == cidrs

    # No pod lost its address; each address' lifetime was refreshed by the renewal
    # (without one it would have counted down from its value at the kill) and is still
    # finite: it ends with the new lease.
    elapsed = time.monotonic() - crashed_at
    for pod, cid, _ in pods:
        info = address_info(pod, cidrs[cid])
        assert info is not None, (cid, pod.addresses("eth0"))
        lifetime = info["valid_life_time"]
        assert lifetime != INFINITE_LIFETIME and lifetime <= LEASE_S, (cid, info)
        assert lifetime > lifetimes[cid] - elapsed + 2, (cid, lifetimes[cid], elapsed, info)
        route = default_route(pod)
        assert route and route["gateway"] == lab.router, (cid, pod.routes())
    assert all(lease_active(server, ip) for ip in addresses.values())
    assert len(survive.records()) == PODS and survive.leftovers() == []


def _finite(lifetime):
    return lifetime if lifetime is not None and lifetime != INFINITE_LIFETIME else None


# --------------------------------------------------------------------------
# Killed at the wrong moment


def test_killed_during_dora_the_add_fails_and_leaves_nothing(lab, survive, pod, sniffer):
    # No server yet: the ADD is in flight, its DHCPDISCOVERs unanswered.
    daemon = survive.start()
    conf = survive.conf("1.0.0")
    with _background_add(survive, conf, pod, "cnt-dora") as add:
        wait_for(lambda: sniffer.messages("DISCOVER"), 10, "the ADD's DHCPDISCOVER on the wire")
        entry = daemon.lease("cnt-dora", conf["name"])
        assert entry and entry["state"] == "SELECTING", entry
        survive.crash()
        run = add.result(timeout=30)

    # The runtime hears of it at once: an error naming the daemon, and macvlan took its
    # link away again (nothing is half set up in the pod).
    assert run.code != 0 and run.output and run.output["code"] == 105, run
    assert "dhcp daemon" in run.output["msg"], run.output
    assert pod.link("eth0") is None, pod.links()
    # Nothing was bound, so nothing was written: no record points at a lease no one has.
    assert survive.records() == {} and survive.leftovers() == []

    daemon = survive.restart()
    assert daemon.list() == []
    assert "replacing the stale socket" in daemon.log()
    # The runtime retries; now a server answers and the retry gets a lease.
    server = lab.start_dnsmasq()
    result = survive.add(conf, pod, "cnt-dora")
    address = result["ips"][0]["address"].split("/")[0]
    assert lease_active(server, address)
    [entry] = daemon.list()
    assert (entry["containerID"], entry["state"]) == ("cnt-dora", "BOUND"), entry
    assert list(survive.records()) == [f"cnt-dora/{conf['name']}/eth0"]


def test_killed_right_after_a_del_the_lease_does_not_come_back(lab, survive, pod, sniffer):
    server = lab.start_dnsmasq()
    daemon = survive.start()
    conf = survive.conf("1.0.0")
    result = survive.add(conf, pod, "cnt-gone")
    address = result["ips"][0]["address"].split("/")[0]
    mac = pod.link("eth0")["address"]
    survive.macvlan.ok("DEL", conf, pod, container_id="cnt-gone")
    survive.crash()  # the instant DEL answered

    assert survive.records() == {}
    wait_for(lambda: lease_released(server, address), 5, f"dnsmasq to free {address}")
    wait_for(lambda: sniffer.messages("RELEASE", chaddr=mac), 5, "the DEL's DHCPRELEASE in the sniffer's log")
    wire_mark = len(sniffer.messages())
    daemon = survive.restart()
    assert daemon.list() == [] and daemon.status()["leases"] == 0
    # Saved leases are restored before the socket opens: an empty list is final.
    assert ": resumed in " not in daemon.log() and "released" not in daemon.log()
    assert [m for m in sniffer.messages()[wire_mark:] if m["chaddr"] == mac] == []
    assert lease_released(server, address) and server.leases() == []
    assert pod.link("eth0") is None


def test_del_while_the_daemon_is_down_succeeds_and_the_restart_releases(lab, survive, pod, sniffer):
    server = lab.start_dnsmasq()
    survive.start()
    conf = survive.conf("1.0.0")
    result = survive.add(conf, pod, "cnt-orphan")
    cidr = result["ips"][0]["address"]
    address = cidr.split("/")[0]
    key = f"cnt-orphan/{conf['name']}/eth0"
    survive.crash()

    # DEL with nobody on the socket: success with a warning, so the pod does not hang
    # in Terminating; macvlan still removes the link.
    run = survive.macvlan.ok("DEL", conf, pod, container_id="cnt-orphan")
    assert "warning" in run.stderr and str(survive.socket_path) in run.stderr, run.stderr
    assert "released when the daemon runs again" in run.stderr, run.stderr
    assert pod.link("eth0") is None
    assert lease_active(server, address)  # nobody told the server yet
    assert list(survive.records()) == [key]

    # The restarted daemon finds the record, sees the pod's interface gone, and gives
    # the lease back through the node's master.
    wire_mark = len(sniffer.messages())
    daemon = survive.restart()
    assert log_lines(daemon.log(), key, "released (its pod went away while the daemon was down)"), daemon.log()
    assert survive.records() == {} and daemon.list() == []
    wait_for(lambda: lease_released(server, address), 5, f"dnsmasq to free {address}")
    release = [m for m in sniffer.messages()[wire_mark:] if m["type"] == "RELEASE"]
    assert [(m["ciaddr"], m["src"], m["dst"]) for m in release] == [(address, address, lab.router)], release
    assert f"DHCPRELEASE({lab.lan_if}) {address}" in server.log()


@contextlib.contextmanager
def _background_add(survive, conf, pod, container_id):
    """An ADD running in another thread: yields its future (a PluginRun)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        yield pool.submit(survive.cni, "ADD", conf, pod, container_id=container_id)


def test_a_record_write_cut_short_by_the_kill_leaves_the_record_before_it(lab, survive, pod):
    server = lab.start_dnsmasq()
    survive.start()
    conf = survive.conf("1.0.0")
    cidr = survive.add(conf, pod, "cnt-atomic")["ips"][0]["address"]
    key = f"cnt-atomic/{conf['name']}/eth0"
    [record_file] = [p for p in survive.state_dir.iterdir() if p.name.endswith(".json")]
    survive.crash()
    # What a kill in the middle of the next save leaves: the temp file beside the record
    # (records are written to a temp file, fsynced, then renamed over the old one).
    temp = survive.state_dir / f".{record_file.name}.tmp"
    temp.write_text(record_file.read_text()[:57])
    # And a record some other accident truncated: set aside, never fatal.
    broken = survive.state_dir / "cnt-broken%2Fnet%2Feth0.json"
    broken.write_text('{"version": 1, "key": "cnt-bro')

    daemon = survive.restart()
    assert daemon.alive()
    entry = daemon.lease("cnt-atomic", conf["name"])
    assert (entry["state"], entry["address"]) == ("BOUND", cidr), entry
    assert not temp.exists()
    assert log_lines(daemon.log(), str(broken), "unreadable", "moved aside"), daemon.log()
    assert survive.leftovers() == [f"{broken.name}.bad"]
    assert list(survive.records()) == [key]
    assert lease_active(server, cidr.split("/")[0])


def test_a_record_of_the_previous_version_is_resumed_and_released(lab, survive, pod, sniffer):
    """Records of the previous version kept the whole network configuration instead of
    the client's: an upgraded daemon resumes them with the same client identifier."""
    server = lab.start_dnsmasq()
    survive.start()
    conf = survive.conf("1.0.0")
    cidr = survive.add(conf, pod, "cnt-v1")["ips"][0]["address"]
    address = cidr.split("/")[0]
    [record_file] = [p for p in survive.state_dir.iterdir() if p.name.endswith(".json")]
    survive.crash()
    record = json.loads(record_file.read_text())
    assert record["version"] == 2 and "config" not in record, record
    old = {k: record[k] for k in ("key", "containerID", "network", "ifName", "netns", "mac", "lease")}
    old.update(version=1, config=conf, args="IgnoreUnknown=1")
    record_file.write_text(json.dumps(old))

    daemon = survive.restart()
    entry = daemon.lease("cnt-v1", conf["name"])
    assert (entry["state"], entry["address"]) == ("BOUND", cidr), daemon.log()
    # Its client still says who it is: dnsmasq frees the lease on the DEL's release.
    wire_mark = len(sniffer.messages())
    survive.macvlan.ok("DEL", conf, pod, container_id="cnt-v1")
    wait_for(lambda: lease_released(server, address), 5, f"dnsmasq to free {address}")
    assert [m["type"] for m in sniffer.messages()[wire_mark:]] == ["RELEASE"]
    assert survive.records() == {}
