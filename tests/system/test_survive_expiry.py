"""Leases that outlive trouble, against ISC dhcpd with leases of a few seconds: the
daemon down for longer than the lease (the kernel drops the pod's address when the
lease ends; the restarted daemon asks for the same address again, RFC 2131 INIT-REBOOT),
the server replaced by one that NAKs the address (the pod moves to the new one; a
restart right after the NAK does not bring the refused address back), and the server
down across the renewal times (REBINDING brings the lease back; past T2
the lease ends and a DHCPDISCOVER does)."""

import time

import pytest

from survive_fixtures import address_info, default_route, log_lines, start_nak_only_dnsmasq, wait_for

pytestmark = pytest.mark.usefixtures("require_root")

SHORT_LEASE_S = 6   # the daemon-down test: T1 3 s, T2 5.25 s
LEASE_S = 8         # T1 4 s, T2 7 s


def _add(lab, survive, pod, container_id):
    conf = survive.conf("1.0.0")
    result = survive.add(conf, pod, container_id)
    cidr = result["ips"][0]["address"]
    return conf, cidr, cidr.split("/")[0], pod.link("eth0")["address"]


def test_daemon_down_longer_than_the_lease(lab, survive, pod, sniffer):
    server = lab.start_dhcpd(lease_time=SHORT_LEASE_S)
    survive.start()
    conf, cidr, address, mac = _add(lab, survive, pod, "cnt-down")
    added_at = time.monotonic()
    # The address lives as long as the lease, no longer (set just after the ADD).
    wait_for(lambda: address_info(pod, cidr)["valid_life_time"] <= SHORT_LEASE_S, 3, "a finite lifetime")
    assert default_route(pod)["gateway"] == lab.router
    survive.crash()

    # Nobody renews: the kernel removes the address when the lease ends, and the routes
    # through it with it.
    wait_for(lambda: address_info(pod, cidr) is None, SHORT_LEASE_S + 3, f"{cidr} to expire in the pod")
    gone_after = time.monotonic() - added_at
    assert SHORT_LEASE_S - 1.5 < gone_after, f"the address went after {gone_after:.1f} s"
    assert default_route(pod) is None, pod.routes()
    assert pod.link("eth0") is not None  # the interface stays: only the lease ended

    # Restarted on the same records: the lease is over, so the daemon asks for the same
    # address again (INIT-REBOOT: a broadcast DHCPREQUEST from 0.0.0.0 naming it), gets
    # it, and puts it back on the pod with its default route.
    wire_mark, log_mark = len(sniffer.messages()), len(server.log())
    daemon = survive.restart()
    assert log_lines(daemon.log(), "cnt-down", "resumed in REBOOTING"), daemon.log()
    wait_for(lambda: address_info(pod, cidr), 10, f"{cidr} back on the pod")
    route = wait_for(lambda: default_route(pod), 3, "the default route back on the pod")
    assert route["gateway"] == lab.router and route["dev"] == "eth0", route
    lifetime = address_info(pod, cidr)["valid_life_time"]
    assert lifetime <= SHORT_LEASE_S, lifetime

    server_log = server.log()[log_mark:]
    assert log_lines(server_log, f"DHCPREQUEST for {address} from {mac}"), server_log
    assert log_lines(server_log, f"DHCPACK on {address} to {mac}"), server_log
    wire = [m for m in sniffer.messages()[wire_mark:] if m["chaddr"] == mac]
    reboot = [m for m in wire if m["type"] == "REQUEST"][0]
    assert (reboot["src"], reboot["ciaddr"], reboot["eth_dst"]) == ("0.0.0.0", "0.0.0.0", "ff:ff:ff:ff:ff:ff"), wire
    assert [m for m in wire if m["type"] == "DISCOVER"] == [], wire
    entry = daemon.lease("cnt-down", conf["name"])
    assert (entry["state"], entry["address"]) == ("BOUND", cidr), entry


def test_daemon_and_server_down_past_the_lease_the_restart_keeps_trying(lab, survive, pod, sniffer):
    # The network gives up on an ADD after 2 s ("timeout"): that bounds a runtime's
    # wait, not the re-acquiring of a lease a running pod already had.
    server = lab.start_dhcpd(lease_time=SHORT_LEASE_S)
    survive.start("-resendmax", "1s")
    conf = survive.conf("1.0.0", timeout="2s", retransmitInitial="1s")
    cidr = survive.add(conf, pod, "cnt-outage")["ips"][0]["address"]
    mac = pod.link("eth0")["address"]
    wait_for(lambda: address_info(pod, cidr)["valid_life_time"] <= SHORT_LEASE_S, 3, "a finite lifetime")
    survive.crash()
    server.stop()  # a site outage: node and server down together
    wait_for(lambda: address_info(pod, cidr) is None, SHORT_LEASE_S + 3, f"{cidr} to expire in the pod")

    daemon = survive.restart()
    restarted_at = time.monotonic()
    assert log_lines(daemon.log(), "cnt-outage", "resumed in REBOOTING"), daemon.log()
    # Well past the network's 2 s: still asking (INIT-REBOOT, then DHCPDISCOVERs).
    wait_for(lambda: time.monotonic() > restarted_at + 3.5, 5, "the network's timeout to pass")
    sent = len(sniffer.messages("DISCOVER", chaddr=mac))
    wait_for(lambda: len(sniffer.messages("DISCOVER", chaddr=mac)) > sent, 5, "a DHCPDISCOVER after the timeout")
    assert not log_lines(daemon.log(), "cnt-outage", "failed:"), daemon.log()
    entry = daemon.lease("cnt-outage", conf["name"])
    assert entry is not None and entry["state"] in ("INIT", "SELECTING", "REBOOTING"), entry
    assert list(survive.records()) == [f"cnt-outage/{conf['name']}/eth0"]

    # The server comes back: the pod gets an address again (the same: dhcpd remembers it).
    server.start()
    wait_for(lambda: pod.cidrs("eth0") == [cidr], 5, f"{cidr} back on the pod")
    assert default_route(pod)["gateway"] == lab.router
    assert _state(daemon, "cnt-outage", conf, "BOUND")


@pytest.mark.parametrize("down_past, state", [(0.5, "RENEWING"), (0.875, "REBINDING")])
def test_daemon_down_past_t1_or_t2_resumes_where_the_lease_is(lab, survive, pod, sniffer, down_past, state):
    server = lab.start_dhcpd(lease_time=LEASE_S)
    survive.start()
    conf, cidr, address, mac = _add(lab, survive, pod, f"cnt-{state.lower()}")
    added_at = time.monotonic()
    first_end = server.lease_for(ip=address).expires
    wait_for(lambda: address_info(pod, cidr)["valid_life_time"] <= LEASE_S, 3, "a finite lifetime")
    survive.crash()
    # A bounded wait on the lease's own timer: T1 (or T2) passes with nobody renewing.
    wait_for(lambda: time.monotonic() > added_at + LEASE_S * down_past + 0.3, LEASE_S, f"{state} time")
    lifetime_at_restart = address_info(pod, cidr)["valid_life_time"]
    wire_mark = len(sniffer.messages())

    daemon = survive.restart()
    assert log_lines(daemon.log(), f"resumed in {state}"), daemon.log()
    wait_for(lambda: server.lease_for(ip=address).expires > first_end, 3, "dhcpd to extend the lease")
    wire = [m for m in sniffer.messages()[wire_mark:] if m["chaddr"] == mac]
    request = [m for m in wire if m["type"] == "REQUEST"][0]
    # RENEWING: unicast to the server; REBINDING: broadcast to any server. Both from
    # the leased address with ciaddr set.
    dst = lab.router if state == "RENEWING" else "255.255.255.255"
    assert (request["src"], request["ciaddr"], request["dst"]) == (address, address, dst), wire
    assert [m for m in wire if m["type"] == "DISCOVER"] == [], wire
    entry = wait_for(lambda: _state(daemon, f"cnt-{state.lower()}", conf, "BOUND"), 3, "BOUND again")
    assert entry["address"] == cidr
    # The pod kept its address all along, and its lifetime now runs to the new end.
    refreshed = wait_for(lambda: address_info(pod, cidr)["valid_life_time"] > lifetime_at_restart + 1, 3,
                         "the address lifetime to follow the renewed lease")
    assert refreshed and address_info(pod, cidr)["valid_life_time"] <= LEASE_S


def test_server_swapped_for_one_that_naks_moves_the_pod(lab, survive, pod, sniffer):
    old_server = lab.start_dhcpd(lease_time=LEASE_S)
    daemon = survive.start()
    conf, old_cidr, old_address, mac = _add(lab, survive, pod, "cnt-moved")
    added_at = time.monotonic()
    old_server.stop()
    # Another server on the same subnet and address, authoritative, with another pool:
    # it knows nothing of the old lease and NAKs it. (ISC dhcpd would not: it ignores a
    # renewal for a lease it does not know, "unknown lease", and lets it run out.)
    new_pool = (lab.address(200), lab.address(209))
    new_server = lab.start_dnsmasq(pool=new_pool, extra=["--dhcp-authoritative"])

    def moved():
        cidrs = pod.cidrs("eth0")
        return len(cidrs) == 1 and cidrs[0] != old_cidr and cidrs

    [new_cidr] = wait_for(moved, LEASE_S + 8, "the pod to move to the new server's address")
    new_address = new_cidr.split("/")[0]
    assert new_pool[0] <= new_address <= new_pool[1] and len(new_address) == len(new_pool[0]), new_cidr

    # The story in the daemon's log: the renewal NAKed (heard while renewing, before T2),
    # the event naming both addresses, the pod moved.
    log = daemon.log()
    lost = log_lines(log, "cnt-moved", "lost: DHCPNAK", old_address)
    assert lost, log
    assert "while renewing" in lost[0], lost
    assert log_lines(log, "cnt-moved", "address-changed", new_address, old_address), log
    assert log_lines(log, "cnt-moved", f"the pod's address is now {new_cidr} (was {old_cidr})"), log
    assert time.monotonic() - added_at < LEASE_S, "the move waited for the old lease to end"

    assert log_lines(new_server.log(), f"DHCPNAK({lab.lan_if}) {old_address} {mac}"), new_server.log()
    assert new_server.lease_for(ip=new_address).mac == mac
    route = wait_for(lambda: default_route(pod), 3, "the default route through the new address")
    assert route["gateway"] == lab.router, route
    entry = daemon.lease("cnt-moved", conf["name"])
    assert (entry["state"], entry["address"]) == ("BOUND", new_cidr), entry
    # The record follows: a restart now resumes the new address.
    survive.crash()
    daemon = survive.restart()
    assert daemon.lease("cnt-moved", conf["name"])["address"] == new_cidr
    assert pod.cidrs("eth0") == [new_cidr]


def test_a_lease_refused_just_before_a_kill_is_not_put_back(lab, survive, pod, sniffer):
    first = lab.start_dhcpd(lease_time=LEASE_S)
    daemon = survive.start()
    conf, cidr, address, mac = _add(lab, survive, pod, "cnt-refused")
    added_at = time.monotonic()
    key = f"cnt-refused/{conf['name']}/eth0"
    first.stop()
    nak_server = start_nak_only_dnsmasq(lab)
    wait_for(lambda: log_lines(daemon.log(), "cnt-refused", "lost: DHCPNAK"), LEASE_S, "the renewal to be NAKed")
    # The record says so at once: the lease in it still looks valid for seconds.
    wait_for(lambda: survive.records()[key]["lease"]["lost"], 2, "the record to mark the lease lost")

    survive.crash()
    wire_mark = len(sniffer.messages())
    daemon = survive.restart()
    assert time.monotonic() - added_at < LEASE_S, "restarted after the lease ended: nothing left to test"
    assert log_lines(daemon.log(), "cnt-refused", "resumed in REBOOTING"), daemon.log()
    # Asked for again (INIT-REBOOT: no ciaddr, broadcast), NAKed again, back to DISCOVER;
    # never renewed as if still held.
    wait_for(lambda: daemon.lease("cnt-refused", conf["name"])["state"] == "SELECTING", 5,
             "the daemon to look for a new lease")
    requests = [m for m in sniffer.messages()[wire_mark:] if m["type"] == "REQUEST" and m["chaddr"] == mac]
    assert requests and requests[0]["ciaddr"] == "0.0.0.0", requests
    assert log_lines(nak_server.log(), f"DHCPNAK({lab.lan_if}) {address} {mac}"), nak_server.log()
    assert pod.cidrs("eth0") == [], pod.addresses("eth0")
    assert not log_lines(daemon.log(), "cnt-refused", "lost: DHCPNAK"), daemon.log()
    assert not log_lines(daemon.log(), "cnt-refused", f"removed {cidr}"), daemon.log()


def test_server_down_across_t1_rebinding_recovers_the_same_lease(lab, survive, pod, sniffer):
    server = lab.start_dhcpd(lease_time=LEASE_S)
    daemon = survive.start()
    conf, cidr, address, mac = _add(lab, survive, pod, "cnt-rebind")
    first_end = server.lease_for(ip=address).expires
    server.stop()

    # T1 passes with the server gone: the unicast renewal goes unanswered.
    wait_for(lambda: _state(daemon, "cnt-rebind", conf, "RENEWING"), LEASE_S, "RENEWING")
    wait_for(lambda: [m for m in sniffer.messages("REQUEST", chaddr=mac) if m["dst"] == lab.router], 3,
             "the renewal, unicast to the server, in the sniffer's log")
    wire_mark = len(sniffer.messages())
    server.start()  # back, same lease file, before T2
    log_mark = len(server.log())

    # At T2 the daemon broadcasts a DHCPREQUEST for its address (REBINDING), any server
    # may answer, and the lease goes on: same address, later end, never a DISCOVER.
    wait_for(lambda: server.lease_for(ip=address).expires > first_end, LEASE_S, "dhcpd to extend the lease")
    wire = [m for m in sniffer.messages()[wire_mark:] if m["chaddr"] == mac]
    rebind = [m for m in wire if m["type"] == "REQUEST" and m["eth_dst"] == "ff:ff:ff:ff:ff:ff"]
    assert rebind and (rebind[0]["ciaddr"], rebind[0]["src"], rebind[0]["dst"]) == \
        (address, address, "255.255.255.255"), wire
    assert [m for m in wire if m["type"] == "DISCOVER"] == [], wire
    assert log_lines(server.log()[log_mark:], f"DHCPREQUEST for {address} from {mac}"), server.log()
    entry = wait_for(lambda: _state(daemon, "cnt-rebind", conf, "BOUND"), 3, "BOUND again")
    assert entry["address"] == cidr and "expired" not in daemon.log()
    assert log_lines(daemon.log(), "cnt-rebind", "renewed:"), daemon.log()
    assert pod.cidrs("eth0") == [cidr]
    assert address_info(pod, cidr)["valid_life_time"] > LEASE_S / 2


def test_server_down_past_t2_the_lease_ends_and_discover_brings_it_back(lab, survive, pod, sniffer):
    server = lab.start_dhcpd(lease_time=LEASE_S)
    daemon = survive.start()
    conf, cidr, address, mac = _add(lab, survive, pod, "cnt-expire")
    server.stop()
    # REBINDING: its one broadcast DHCPREQUEST goes unanswered. (RFC 2131 4.4.5: the
    # next one waits half the remaining time but at least 60 s, so with a lease this
    # short the lease ends first.)
    wait_for(lambda: _state(daemon, "cnt-expire", conf, "REBINDING"), LEASE_S + 2, "REBINDING")
    server.start()

    # At the end of the lease: the EXPIRED event, the address goes, DHCPDISCOVER, and
    # the server gives it the same address again (it remembers the client).
    wait_for(lambda: log_lines(daemon.log(), "cnt-expire", "expired:"), LEASE_S, "the lease to expire")
    wait_for(lambda: _state(daemon, "cnt-expire", conf, "BOUND"), 10, "BOUND again")
    log = daemon.log()
    assert log.index("expired:") < log.rindex("bound:"), log
    assert log_lines(log, "cnt-expire", f"removed {cidr} from eth0: its lease ended"), log
    assert log_lines(server.log(), f"DHCPDISCOVER from {mac}"), server.log()
    wait_for(lambda: pod.cidrs("eth0") == [cidr], 3, f"{cidr} back on the pod")
    assert default_route(pod)["gateway"] == lab.router
    assert address_info(pod, cidr)["valid_life_time"] <= LEASE_S


def _state(daemon, container_id, conf, state):
    entry = daemon.lease(container_id, conf["name"])
    return entry if entry and entry["state"] == state else None


def test_an_address_taken_from_the_pod_comes_back_with_the_next_renewal(lab, survive, pod):
    server = lab.start_dhcpd(lease_time=LEASE_S)
    daemon = survive.start()
    conf, cidr, address, mac = _add(lab, survive, pod, "cnt-taken")
    first_end = server.lease_for(ip=address).expires
    wait_for(lambda: address_info(pod, cidr)["valid_life_time"] <= LEASE_S, 3, "a finite lifetime")
    pod.ip("addr", "del", cidr, "dev", "eth0")  # someone (a script, a bad chained plugin)
    assert default_route(pod) is None

    # The daemon maintains what the lease says: at the renewal it is all put back.
    wait_for(lambda: server.lease_for(ip=address).expires > first_end, LEASE_S, "the renewal")
    wait_for(lambda: address_info(pod, cidr), 3, f"{cidr} back on the pod")
    route = wait_for(lambda: default_route(pod), 3, "the default route back")
    assert route["gateway"] == lab.router and route["dev"] == "eth0", route
    assert address_info(pod, cidr)["valid_life_time"] <= LEASE_S
    assert _state(daemon, "cnt-taken", conf, "BOUND")["address"] == cidr
