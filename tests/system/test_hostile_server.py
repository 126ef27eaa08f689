"""A hostile DHCP server on the LAN (tests/system/hostile.py, a raw-socket responder
in the lab's lan netns that answers the client's xid with whatever a test scripts):
our macvlan + dhcp, run as a runtime runs them, against a server that lies about
the address, lies in its DNS options, sends malformed replies, floods the client, and
grants leases of a second or two. Nothing it says may end up on a pod or in a result
unless it is a usable address and a sane option; the daemon stays alive, quiet in its
log and responsive through all of it.

Each test is named after what it attacks. Run:
    CNT_BUILD_DIR=$PWD/build /usr/bin/python3 -m pytest -q -p no:cacheprovider \
        tests/system/test_hostile_server.py
"""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from dhcp_fixtures import dhcp_conf
from hostile import (ACK, NAK, OFFER, OPT_CLASSLESS, OPT_DNS, OPT_MASK, OPT_SEARCH, OPT_SERVER_ID, OPT_TYPE,
                     AddressMonitor, HostileServer, ack, dns_name, honest, ip, offer, opt, reply,
                     standard, timed_status)
from lab import wait_until
from macvlan_helpers import macvlan  # noqa: F401

pytestmark = pytest.mark.usefixtures("require_root")

# An ADD against a server that only lies fails within this (ipam.timeout).
LIE_TIMEOUT = "3s"


@pytest.fixture
def hostile(lab):
    """Starts the scripted responder in the lab's lan netns: hostile(rules, **options).
    It is one of the lab's processes: stopped by PID when the lab goes."""
    def start(rules, **options):
        return HostileServer(lab, rules, **options)
    return start


@pytest.fixture
def watch(lab, pod):
    """Every IPv4 address ever added in the pod (ip monitor), from before the ADD."""
    monitor = AddressMonitor(lab, pod)
    yield monitor
    monitor.stop()


def key_of(container_id, conf, ifname="eth0"):
    return f"{container_id}/{conf['name']}/{ifname}"


def assert_daemon_serves(daemon):
    """Alive, and DHCP.Status answers within a second."""
    assert daemon.alive(), f"the daemon died ({daemon.process.returncode}); log:\n{daemon.log()[-3000:]}"
    elapsed, answer = timed_status(daemon.socket_path, timeout=1.0)
    assert elapsed < 1.0 and answer.get("result", {}).get("ready") is True, (elapsed, answer)


def error_text(run):
    error = run.output if isinstance(run.output, dict) else {}
    return f"{error.get('msg', '')} {error.get('details', '')}"


# --------------------------------------------------------------------------
# A control: the harness itself is a server the daemon takes seriously


def test_control_the_harness_leases_and_renews_like_a_server(lab, macvlan, pod, dhcp_daemon, hostile):
    """Not an attack: an honest script of the harness gives a lease and renews it, so
    the attacks below fail for what they send, not because the harness is deaf."""
    server = hostile(honest(lab, lease=6, dns=[lab.address(53)], domain=b"lab.test"))
    conf = dhcp_conf(lab, dhcp_daemon, "1.0.0", timeout="10s")
    result = macvlan.add(conf, pod, container_id="cnt-control")
    cidr = result["ips"][0]["address"]
    assert cidr == f"{lab.address(100)}/24", result
    assert result["dns"] == {"nameservers": [lab.address(53)], "domain": "lab.test"}, result
    mac = pod.link("eth0")["address"]
    # T1 = 3 s: a unicast renewal from the leased address, answered, and still BOUND.
    wait_until(lambda: server.received(stage="RENEWING", chaddr=mac), 6, "a renewal from the pod")
    assert pod.cidrs("eth0") == [cidr]
    entry = dhcp_daemon.lease("cnt-control", conf["name"])
    assert entry and entry["address"] == cidr, entry
    macvlan.ok("DEL", conf, pod, container_id="cnt-control")
    wait_until(lambda: server.received(type="RELEASE", chaddr=mac), 5, "the DEL's DHCPRELEASE")


# --------------------------------------------------------------------------
# Lying about the address


def _lies(lab):
    net = lab.network
    return {
        "loopback": ("127.0.0.1", ("loopback",)),
        "multicast": ("224.0.0.5", ("multicast",)),
        "class-e": ("240.0.0.1", ("reserved", "class e", "experimental", "future use")),
        "network-address": (str(net.network_address), ("network address", "subnet's network",
                                                        "network's address", "network number")),
        "broadcast-address": (str(net.broadcast_address), ("broadcast",)),
        "server-own-address": (lab.router, ("server's own", "server\u2019s own", "server itself",
                                            "server identifier", "server id", "option 54", "own address",
                                            "the server's address")),
        "link-local": ("169.254.1.1", ("link-local", "link local", "linklocal")),
    }


LIES = ["loopback", "multicast", "class-e", "network-address", "broadcast-address", "server-own-address",
        "link-local"]


@pytest.mark.parametrize("lie", LIES)
def test_lying_offer_and_ack_of_an_unusable_address(lab, macvlan, pod, dhcp_daemon, hostile, watch, lie):
    address, reasons = _lies(lab)[lie]
    server = hostile({"DISCOVER": [[offer(lab, address)]], "REQUEST": [[ack(lab, address)]]})
    conf = dhcp_conf(lab, dhcp_daemon, "1.0.0", timeout=LIE_TIMEOUT)

    run = macvlan("ADD", conf, pod, container_id="cnt-liar")

    assert server.sent(stage="DISCOVER"), f"the harness never offered {address}:\n{server.log()[-2000:]}"
    put_on_pod = [cidr for cidr in watch.added("eth0") if cidr.split("/")[0] == address]
    assert not put_on_pod, f"the lie {address} ({lie}) was put on the pod: {watch.added('eth0')}"
    assert run.code != 0, f"ADD took the lie {address} ({lie}): {run.stdout}"
    error = run.output
    assert isinstance(error, dict) and {"code", "msg"} <= error.keys(), \
        f"ADD failed without a CNI error on stdout: {run}"
    assert error["code"] == 104, error
    text = error_text(run)
    assert address in text, f"the error does not name the address {address}: {error}"
    assert any(reason in error["msg"].lower() for reason in reasons), \
        f"the error does not say why {address} is unusable (one of {reasons}): {error}"
    assert pod.link("eth0") is None, pod.links()
    assert dhcp_daemon.list() == []
    assert_daemon_serves(dhcp_daemon)


def test_lying_renewal_ack_that_moves_the_pod_to_loopback(lab, macvlan, pod, dhcp_daemon, hostile, watch):
    lease = 6  # T1 3 s, T2 5.25 s
    lie = "127.0.0.9"
    server = hostile({
        "DISCOVER": [[offer(lab, lease=lease)]],
        "SELECTING": [[ack(lab, lease=lease)]],
        # The first renewal is answered with a move to loopback; every later request
        # honestly, so a client that drops the lie keeps its lease.
        "RENEWING": [[ack(lab, lie, lease=lease)], [ack(lab, lease=lease)]],
        "REBINDING": [[ack(lab, lease=lease)]],
        "REBOOTING": [[ack(lab, lease=lease)]],
    })
    conf = dhcp_conf(lab, dhcp_daemon, "1.0.0", timeout="10s")
    cidr = macvlan.add(conf, pod, container_id="cnt-moved")["ips"][0]["address"]
    mac = pod.link("eth0")["address"]

    wait_until(lambda: server.sent(stage="RENEWING"), lease, "the renewal the harness lies to")
    lied_at = len(server.sent())

    # Either the lie took (the pod shows it) or the client asked again afterwards.
    def lie_taken_or_asked_again():
        return any(c.startswith(lie + "/") for c in watch.added("eth0")) or len(server.sent()) > lied_at

    wait_until(lie_taken_or_asked_again, lease + 2, "the daemon to take the lie or ask again")
    moved = [c for c in watch.added("eth0") if c.split("/")[0] == lie]
    assert not moved, f"a renewal ACK moved the pod to {lie}: addresses added on eth0: {watch.added('eth0')}"
    assert pod.cidrs("eth0") == [cidr], pod.addresses("eth0")

    # The honest answer after the lie renews the lease on the same address.
    def bound_fresh():
        entry = dhcp_daemon.lease("cnt-moved", conf["name"])
        return entry if entry and entry["state"] == "BOUND" and entry["expiresIn"] > lease / 2 else None

    entry = wait_until(bound_fresh, lease, "the lease BOUND again after the honest answer")
    assert entry["address"] == cidr, entry
    assert pod.cidrs("eth0") == [cidr], pod.addresses("eth0")
    assert watch.added("eth0") == [cidr], watch.added("eth0")
    assert server.received(chaddr=mac)
    assert_daemon_serves(dhcp_daemon)


# --------------------------------------------------------------------------
# Lying in the DNS options


def test_dns_lies_shell_metacharacters_in_the_domain_and_bogus_nameservers(lab, macvlan, pod, dhcp_daemon,
                                                                            hostile):
    good = [lab.address(53), lab.address(54), lab.address(55)]
    servers = [good[0], "0.0.0.0", good[1], "255.255.255.255", "127.0.0.1", good[2]]
    domain = b"a;b#c$(id)"
    hostile(honest(lab, dns=servers, domain=domain, extra=opt(OPT_SEARCH, dns_name("lab.test"))))
    conf = dhcp_conf(lab, dhcp_daemon, "1.0.0", timeout="10s")

    run = macvlan("ADD", conf, pod, container_id="cnt-dns")

    assert run.code == 0 and isinstance(run.output, dict), \
        f"bad DNS options must not cost the pod its address: {run}"
    dns = run.output.get("dns", {})
    bogus = {"0.0.0.0", "255.255.255.255", "127.0.0.1"}
    assert not bogus & set(dns.get("nameservers", [])), f"bogus nameservers in the result: {dns}"
    assert dns.get("nameservers") == good, f"the good nameservers, in order, must be kept: {dns}"
    assert "domain" not in dns, f"a domain from option 15 {domain!r} reached the result: {dns}"
    for char in ";#$()":
        assert char not in run.stdout, f"{char!r} in the ADD's output: {run.stdout}"
    assert dns.get("search") == ["lab.test"], f"the good search list must be kept: {dns}"
    assert_daemon_serves(dhcp_daemon)


# --------------------------------------------------------------------------
# Malformed replies


def _malformed(lab, bad):
    """name -> (stage it is sent in, reply). Each reply offers or acks `bad`."""
    std = standard(lab, OFFER)
    head = opt(OPT_TYPE, bytes([OFFER])) + opt(OPT_SERVER_ID, ip(lab.router)) + opt(51, (600).to_bytes(4, "big"))
    return {
        # The options field ends inside an option: a code and no length octet.
        "truncated-options": ("DISCOVER", reply(bad, head + opt(OPT_MASK, ip("255.255.255.0")) + bytes([3]))),
        # A length octet that claims more than the field holds.
        "option-length-past-the-end": ("DISCOVER", reply(bad, head + bytes([OPT_DNS, 200]) + ip(lab.router))),
        # RFC 2131 4.3.1: the server MUST send its identifier.
        "ack-without-server-id": ("SELECTING", reply(bad, standard(lab, ACK, server_id=None))),
        # Option 53 of length 0.
        "message-type-of-length-zero": ("DISCOVER", reply(bad, opt(OPT_TYPE, b"") + std[3:])),
        # Option 52 sends the parser into `file`, where an option runs past the field's end.
        "overload-into-a-broken-file-field": ("DISCOVER", reply(bad, std[:-1] + opt(52, b"\x01") + b"\xff",
                                                                file=b"\x00" * 120 + bytes([OPT_DNS, 40]) + b"\x0a" * 6)),
    }


MALFORMED = ["truncated-options", "option-length-past-the-end", "ack-without-server-id",
             "message-type-of-length-zero", "overload-into-a-broken-file-field"]


@pytest.mark.parametrize("kind", MALFORMED)
def test_malformed_reply_is_dropped(lab, macvlan, pod, dhcp_daemon, hostile, watch, kind):
    """The malformed reply comes first, then an honest one: a client that drops the
    malformed one takes the honest one (the pool's first address); one that took it
    would have `bad`."""
    bad = lab.address(66)
    stage, malformed = _malformed(lab, bad)[kind]
    if stage == "DISCOVER":
        # A client that took the malformed OFFER asks for `bad`: the same options, as an
        # ACK, answer it (a consistent server); everyone else gets an honest ACK.
        twin = dict(malformed, options=bytes.fromhex(malformed["options"]).replace(
            bytes([OPT_TYPE, 1, OFFER]), bytes([OPT_TYPE, 1, ACK]), 1).hex(), only_for=bad)
        rules = {"DISCOVER": [[malformed, offer(lab)]], "REQUEST": [[twin, ack(lab, except_for=bad)]]}
    else:
        rules = {"DISCOVER": [[offer(lab)]], "SELECTING": [[malformed, ack(lab)]], "REQUEST": [[ack(lab)]]}
    server = hostile(rules)
    conf = dhcp_conf(lab, dhcp_daemon, "1.0.0", timeout="10s")

    run = macvlan("ADD", conf, pod, container_id="cnt-malformed")

    assert [e for e in server.sent() if e["yiaddr"] == bad], f"the harness never sent it:\n{server.log()[-2000:]}"
    assert_daemon_serves(dhcp_daemon)
    took = [c for c in watch.added("eth0") if c.split("/")[0] == bad]
    assert not took, f"the malformed reply ({kind}) was taken: {bad} on the pod: {watch.added('eth0')}; " \
        f"its routes: {[(r['dst'], r.get('gateway')) for r in pod.routes()] if pod.link('eth0') else None}"
    assert run.code == 0 and isinstance(run.output, dict), f"ADD failed after the malformed reply: {run}"
    assert run.output["ips"][0]["address"] == f"{lab.address(100)}/24", \
        f"the malformed reply ({kind}) was taken: {run.output}"


def test_a_malformed_classless_route_option_is_skipped_not_the_lease(lab, macvlan, pod, dhcp_daemon, hostile):
    """RFC 3442 routes that do not parse (a width of 33 is no prefix length) are skipped
    like any malformed optional option: the lease stands, and its routes are what the
    server would give without option 121 (the default route through option 3,
    docs/dhcp.md); nothing of the bad option reaches the pod or the result."""
    bad_121 = opt(OPT_CLASSLESS, bytes([33, 10, 0, 0, 0, 0]) + ip(lab.router))
    hostile({"DISCOVER": [[offer(lab, extra=bad_121)]], "REQUEST": [[ack(lab, extra=bad_121)]]})
    conf = dhcp_conf(lab, dhcp_daemon, "1.0.0", timeout="10s")

    result = macvlan.add(conf, pod, container_id="cnt-bad-121")

    assert result["ips"][0]["address"] == f"{lab.address(100)}/24", result
    routes = [(r["dst"], r.get("gw")) for r in result.get("routes", [])]
    assert routes == [("0.0.0.0/0", lab.router)], routes
    assert {r["dst"] for r in pod.routes()} == {"default", str(lab.network)}, pod.routes()
    assert_daemon_serves(dhcp_daemon)


def test_replies_to_another_transaction_or_another_client_are_ignored(lab, macvlan, pod, dhcp_daemon, hostile,
                                                                      watch):
    """The harness's xid and chaddr knobs: an OFFER of `bad` with a foreign xid, and one
    with the client's xid but another chaddr, come before the honest OFFER: neither is
    the client's, so it takes the honest one."""
    bad = lab.address(67)
    foreign = [reply(bad, standard(lab, OFFER), xid=0x0BADF00D, copies=50),
               reply(bad, standard(lab, OFFER), chaddr="02:00:5e:00:53:01", copies=50)]
    server = hostile({"DISCOVER": [foreign + [offer(lab)]], "REQUEST": [[ack(lab)]]})
    conf = dhcp_conf(lab, dhcp_daemon, "1.0.0", timeout="10s")

    run = macvlan("ADD", conf, pod, container_id="cnt-foreign")

    assert [e for e in server.sent() if e["yiaddr"] == bad], server.log()[-2000:]
    assert run.code == 0 and run.output["ips"][0]["address"] == f"{lab.address(100)}/24", run
    assert not [c for c in watch.added("eth0") if c.split("/")[0] == bad], watch.added("eth0")
    assert_daemon_serves(dhcp_daemon)


# --------------------------------------------------------------------------
# Flooding


FLOOD = 20000
FLOOD_SECONDS = 3.0
LOG_LINES_MAX = 40  # "a few dozen" lines for one lease, whatever the flood


def _garbage(lab):
    """Replies with the right xid and chaddr that no client may take: each one reaches
    the parser or the state machine (checksums and cookie are right)."""
    return [
        opt(OPT_TYPE, bytes([OFFER])) + bytes([OPT_DNS, 250]) + b"\x00" * 8,           # overrun
        opt(OPT_SERVER_ID, ip(lab.router)) + b"\xff",                                   # no type
        standard(lab, OFFER),                                                           # yiaddr 0.0.0.0
        standard(lab, ACK),                                                             # ACK while selecting
        standard(lab, NAK, lease=None, mask=None),                                      # NAK while selecting
        opt(OPT_TYPE, bytes([9])) + opt(OPT_SERVER_ID, ip(lab.router)) + b"\xff",       # no such type
        opt(OPT_TYPE, bytes([OFFER])) + opt(OPT_SERVER_ID, b"\x01\x02") + b"\xff",      # short server id
    ]


def test_flooding_twenty_thousand_garbage_replies_with_the_right_xid(lab, macvlan, pod, dhcp_daemon, hostile):
    variants = _garbage(lab)
    flood = reply("0.0.0.0", variants[0], variants=variants, copies=FLOOD, pace_s=FLOOD_SECONDS, note="garbage")
    server = hostile({"DISCOVER": [[flood, offer(lab)], [offer(lab)]], "REQUEST": [[ack(lab)]]})
    conf = dhcp_conf(lab, dhcp_daemon, "1.0.0", timeout="30s")
    key = key_of("cnt-flood", conf)
    log_mark = len(dhcp_daemon.log().splitlines())

    latencies = []

    def probe_until_flood_ends():
        elapsed, answer = timed_status(dhcp_daemon.socket_path, timeout=1.0)
        latencies.append(elapsed)
        assert "result" in answer, answer
        return server.events("flood-end")

    with ThreadPoolExecutor(max_workers=1) as pool:
        add = pool.submit(macvlan, "ADD", conf, pod, container_id="cnt-flood")
        wait_until(lambda: server.events("flood-start") or add.done(), 20, "the flood to start")
        try:
            wait_until(probe_until_flood_ends, FLOOD_SECONDS + 30, "the flood to end")
        except socket.timeout:
            pytest.fail(f"DHCP.Status did not answer within 1 s during the flood (answers so far took "
                        f"{[round(x, 3) for x in latencies]})")
        run = add.result(timeout=60)

    lines = [line for line in dhcp_daemon.log().splitlines()[log_mark:] if key in line]
    print(f"flood: {len(latencies)} DHCP.Status probes, slowest {max(latencies or [0]):.3f} s; "
          f"{len(lines)} log lines about {key}")
    [end] = server.events("flood-end")
    assert end["copies"] == FLOOD, end
    assert len(latencies) >= 5, f"too few DHCP.Status probes during the flood: {latencies}"
    assert max(latencies) < 1.0, f"DHCP.Status took {max(latencies):.2f} s during the flood"
    assert dhcp_daemon.alive(), dhcp_daemon.log()[-3000:]
    assert len(lines) <= LOG_LINES_MAX, \
        f"{len(lines)} log lines about {key} for one flood (at most {LOG_LINES_MAX}); first ones:\n" + \
        "\n".join(lines[:8])
    assert run.code == 0 and isinstance(run.output, dict), f"ADD failed after the flood: {run}"
    assert run.output["ips"][0]["address"] == f"{lab.address(100)}/24", run.output
    assert_daemon_serves(dhcp_daemon)


# --------------------------------------------------------------------------
# Leases of a second or two


OBSERVE_S = 14
REQUESTS_MAX = 30


@pytest.mark.parametrize("lease", [1, 2])
def test_short_leases_of_one_or_two_seconds(lab, macvlan, pod, dhcp_daemon, hostile, lease):
    server = hostile(honest(lab, lease=lease))
    conf = dhcp_conf(lab, dhcp_daemon, "1.0.0", timeout="10s")
    started = time.monotonic()

    run = macvlan("ADD", conf, pod, container_id="cnt-short")

    requests = lambda: [e for e in server.received(type="REQUEST")  # noqa: E731
                        if started <= e["t"] <= started + OBSERVE_S]
    storm = None
    try:
        # A bounded window of observation: it ends early only when the limit is passed.
        storm = wait_until(lambda: len(requests()) > REQUESTS_MAX and requests(),
                           max(0.0, started + OBSERVE_S - time.monotonic()), "more DHCPREQUESTs than allowed",
                           max_interval=0.25)
    except TimeoutError:
        pass
    count = len(requests())
    print(f"{lease} s lease: {count} DHCPREQUESTs in {OBSERVE_S} s")
    # Both defects are told when both are there.
    problems = []
    if "File exists" in run.stdout + run.stderr:
        problems.append(f"ADD with a {lease} s lease hit 'File exists' (the daemon added the address before "
                        f"the plugin did): {run.output or run.stdout}")
    elif run.code != 0 or not isinstance(run.output, dict):
        problems.append(f"ADD with a {lease} s lease failed: {run}")
    if storm:
        span = storm[-1]["t"] - storm[0]["t"]
        problems.append(f"{len(storm)} DHCPREQUESTs in {span:.2f} s for one {lease} s lease "
                        f"(at most {REQUESTS_MAX} in {OBSERVE_S} s)")
    assert not problems, "\n".join(problems)
    assert count <= REQUESTS_MAX, count
    assert count >= 2, f"the {lease} s lease was never renewed: {server.received()}"
    assert_daemon_serves(dhcp_daemon)
