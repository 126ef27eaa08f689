"""What an operator sees of the daemon: lease events in the log with the pod's
namespace/name, in text, JSON or logfmt, and under journald with priorities instead of
timestamps; `dhcp list` by pod; Prometheus metrics on an opt-in listener, parsed with
the Prometheus client library's own text parser and checked against what happened."""

from __future__ import annotations

import json
import os
import re
import socket
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from dhcp_fixtures import DhcpDaemon, dhcp_conf
from lab import wait_until
from macvlan_helpers import macvlan  # noqa: F401

pytestmark = pytest.mark.usefixtures("require_root")

K8S = {"IgnoreUnknown": "1", "K8S_POD_NAMESPACE": "shop", "K8S_POD_NAME": "web-0"}
LONG_NAME = "a-pod-name-longer-than-any-column-of-the-old-table-" + "x" * 40
LEASE_S = 8  # ISC dhcpd: T1 4 s


def add_pod(macvlan, lab, conf, container_id, args=K8S):
    pod = lab.add_pod()
    result = macvlan.add(conf, pod, container_id=container_id, args=args)
    return pod, result["ips"][0]["address"]


def scrape_unix(path: Path) -> str:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(str(path))
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: node\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.decode().partition("\r\n\r\n")
    assert head.startswith("HTTP/1.0 200 OK"), head
    assert "text/plain; version=0.0.4" in head, head
    assert int(re.search(r"Content-Length: (\d+)", head).group(1)) == len(body.encode())
    return body


def samples(text: str) -> dict:
    """{(name, frozenset(labels)): value} through Prometheus' own parser."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(parsed: dict, name: str, **labels) -> float:
    return parsed[(name, frozenset(labels.items()))]


# -- logs

def test_text_log_names_the_pod_on_each_lease_event_once(lab, macvlan, start_daemon):
    lab.start_dnsmasq()
    daemon = start_daemon()
    conf = dhcp_conf(lab, daemon)
    _, cidr = add_pod(macvlan, lab, conf, "cnt-text")
    key = f"cnt-text/{conf['name']}/eth0"
    bound = [line for line in daemon.log().splitlines() if f"{key}: bound:" in line]
    assert len(bound) == 1 and bound[0].endswith("(pod shop/web-0)"), daemon.log()
    assert cidr.split("/")[0] in bound[0]
    # One line per event: the grant before the probe is at debug, not a second info line.
    assert f"{key}: granted" not in daemon.log()
    macvlan.ok("DEL", conf, lab.pods[-1], container_id="cnt-text", args=K8S)
    assert re.search(rf"Z dhcp: {re.escape(key)}: released \(DEL\) \(pod shop/web-0\)$", daemon.log(), re.M)


def test_json_log_lines_are_objects_with_lease_pod_and_event(lab, macvlan, start_daemon):
    lab.start_dnsmasq()
    daemon = start_daemon("--log-format", "json", "--log-level", "debug")
    conf = dhcp_conf(lab, daemon)
    add_pod(macvlan, lab, conf, "cnt-json")
    lines = [json.loads(line) for line in daemon.log().splitlines() if line.startswith("{")]
    assert lines and len(lines) == len([l for l in daemon.log().splitlines() if l.strip()]), daemon.log()
    bound = [l for l in lines if l.get("event") == "bound"]
    assert len(bound) == 1, lines
    assert bound[0]["lease"] == f"cnt-json/{conf['name']}/eth0" and bound[0]["pod"] == "shop/web-0"
    assert bound[0]["level"] == "info" and re.match(r"\d{4}-\d\d-\d\dT[\d:.]+Z$", bound[0]["time"])
    # Debug: every state transition of the client, about its lease.
    transitions = [l for l in lines if l["level"] == "debug" and " -> " in l["msg"]]
    assert any("SELECTING -> REQUESTING" in l["msg"] and l["lease"] == bound[0]["lease"] for l in transitions), lines


def test_logfmt_quotes_what_needs_quoting(lab, macvlan, start_daemon):
    lab.start_dnsmasq()
    daemon = start_daemon("--log-format", "logfmt")
    conf = dhcp_conf(lab, daemon)
    add_pod(macvlan, lab, conf, "cnt-logfmt")
    line = next(l for l in daemon.log().splitlines() if 'event="bound"' in l)
    assert re.match(r'^time=\S+Z level=info lease="cnt-logfmt/[^"]+/eth0" pod="shop/web-0" event="bound" msg="[^"]+"$',
                    line), line


def test_under_journald_a_line_has_a_priority_and_no_time(lab):
    """JOURNAL_STREAM names the daemon's stderr, as systemd sets it."""
    log = lab.workdir / "journal.log"
    log.touch()
    st = os.stat(log)
    binary = Path(os.environ.get("CNT_BUILD_DIR", "build")) / "dhcp"
    env = {**os.environ, "JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}
    argv = [binary, "daemon", "-socketpath", lab.workdir / "j.sock", "--state-dir", lab.workdir / "j-state",
            "--cni-cache-dir", ""]
    process = lab.node.start(argv, log, env=env)
    lab.processes.append(process)
    wait_until(lambda: "lease records are kept" in log.read_text(), 10, "the daemon's first line")
    first = log.read_text().splitlines()[0]
    assert re.match(r"^<6>dhcp: lease records are kept in ", first), first
    # A stream that is not stderr's (journald gave it to another process): timestamps.
    other = dict(env, JOURNAL_STREAM="1:1")
    log2 = lab.workdir / "not-journal.log"
    p2 = lab.node.start([*argv[:3], lab.workdir / "j2.sock", "--state-dir", lab.workdir / "j2-state",
                         "--cni-cache-dir", ""], log2, env=other)
    lab.processes.append(p2)
    wait_until(lambda: log2.exists() and "lease records" in log2.read_text(), 10, "the second daemon's first line")
    assert re.match(r"^\d{4}-\d\d-\d\dT[\d:.]+Z dhcp: ", log2.read_text()), log2.read_text()


def test_bad_log_format_and_metrics_address_are_refused(lab, dhcp_bin):
    for flags, said in ((["--log-format", "xml"], "use text, json or logfmt"),
                        (["--metrics-listen", "9153"], "neither ADDRESS:PORT"),
                        (["--metrics-listen", "localhost:9153"], "neither ADDRESS:PORT")):
        done = lab.node.exec([dhcp_bin, "daemon", "-socketpath", lab.workdir / "x.sock", *flags], check=False)
        assert done.returncode == 2 and said in done.stderr, done


# -- dhcp list

def test_list_shows_filters_and_keeps_pods(lab, macvlan, dhcp_daemon):
    lab.start_dnsmasq()
    conf = dhcp_conf(lab, dhcp_daemon)
    long_id = "f" * 64
    add_pod(macvlan, lab, conf, long_id)
    add_pod(macvlan, lab, conf, "cnt-other", args={**K8S, "K8S_POD_NAME": LONG_NAME})
    add_pod(macvlan, lab, conf, "cnt-plain", args=None)

    entries = {e["containerID"]: e for e in dhcp_daemon.list()}
    assert (entries[long_id]["podNamespace"], entries[long_id]["podName"]) == ("shop", "web-0")
    assert entries["cnt-other"]["podName"] == LONG_NAME
    assert "podName" not in entries["cnt-plain"]
    for e in entries.values():
        assert {"mac", "master", "netns", "address", "server", "state"} <= set(e), e

    table = dhcp_daemon.client("list").stdout.splitlines()
    header = table[0].split()
    assert header == ["POD", "CONTAINER", "NETWORK", "IF", "STATE", "ADDRESS", "SERVER", "RENEW", "EXPIRES"]
    rows = {r.split()[1]: r.split() for r in table[1:]}
    assert rows["f" * 12][0] == "shop/web-0"               # the ID cut as docker cuts it
    assert rows["cnt-other"][0] == f"shop/{LONG_NAME}"      # a long name fits whole
    assert rows["cnt-plain"][0] == "-"
    assert all(len(r) == len(header) for r in rows.values()), table
    # Columns line up: every row's address starts where the header's does.
    at = table[0].index("ADDRESS")
    assert all(line[at:].split()[0] == rows[line.split()[1]][5] for line in table[1:]), table

    only = json.loads(dhcp_daemon.client("list", "--json", "--pod", "shop/web-0").stdout)
    assert [e["containerID"] for e in only] == [long_id]
    assert [e["containerID"] for e in json.loads(dhcp_daemon.client("list", "--json", "--pod", LONG_NAME).stdout)] \
        == ["cnt-other"]
    assert json.loads(dhcp_daemon.client("list", "--json", "--pod", "other/web-0").stdout) == []
    assert len(dhcp_daemon.client("list", "--pod", "web-0").stdout.splitlines()) == 2


def test_pod_survives_a_restart_in_the_record(lab, macvlan, start_daemon):
    lab.start_dnsmasq()
    daemon = start_daemon()
    conf = dhcp_conf(lab, daemon)
    add_pod(macvlan, lab, conf, "cnt-restart")
    daemon.stop()
    again = start_daemon()
    entry = again.lease("cnt-restart", conf["name"])
    assert (entry["podNamespace"], entry["podName"]) == ("shop", "web-0"), entry
    assert re.search(r": resumed in BOUND \(pod shop/web-0\)$", again.log(), re.M), again.log()


# -- metrics

def test_metrics_count_what_happened(lab, macvlan, start_daemon):
    server = lab.start_dhcpd(lease_time=LEASE_S)
    metrics = lab.workdir / "metrics.sock"
    daemon = start_daemon("--metrics-listen", str(metrics))
    conf = dhcp_conf(lab, daemon)
    before = samples(scrape_unix(metrics))
    assert value(before, "cni_dhcp_leases", state="BOUND") == 0
    assert value(before, "cni_dhcp_messages_sent_total", type="DHCPDISCOVER") == 0

    pod, cidr = add_pod(macvlan, lab, conf, "cnt-metrics")
    # A renewal at T1 (4 s), acknowledged at once.
    wait_until(lambda: value(samples(scrape_unix(metrics)), "cni_dhcp_lease_events_total", event="renewed") >= 1,
               LEASE_S, "a renewal counted")
    after = samples(scrape_unix(metrics))
    assert value(after, "cni_dhcp_leases", state="BOUND") + value(after, "cni_dhcp_leases", state="RENEWING") == 1
    assert value(after, "cni_dhcp_messages_sent_total", type="DHCPDISCOVER") == 1
    assert value(after, "cni_dhcp_messages_sent_total", type="DHCPREQUEST") >= 2   # SELECTING, then RENEWING
    assert value(after, "cni_dhcp_messages_received_total", type="DHCPOFFER") == 1
    assert value(after, "cni_dhcp_messages_received_total", type="DHCPACK") >= 2
    assert value(after, "cni_dhcp_lease_events_total", event="bound") == 1
    assert value(after, "cni_dhcp_allocate_duration_seconds_count") == 1
    assert 0 < value(after, "cni_dhcp_allocate_duration_seconds_sum") < 5
    assert value(after, "cni_dhcp_renewal_after_t1_seconds_count") >= 1
    assert value(after, "cni_dhcp_renewal_after_t1_seconds_bucket", le="1") >= 1  # on time
    assert value(after, "cni_dhcp_renewals_late_total") == 0
    assert value(after, "process_open_fds") > 3
    assert value(after, "process_resident_memory_bytes") > 100_000
    build = [(dict(labels), v) for (name, labels), v in after.items() if name == "cni_dhcp_build_info"]
    assert len(build) == 1 and build[0][1] == 1 and build[0][0]["version"], build

    macvlan.ok("DEL", conf, pod, container_id="cnt-metrics", args=K8S)
    gone = samples(scrape_unix(metrics))
    assert value(gone, "cni_dhcp_lease_events_total", event="released") == 1
    assert value(gone, "cni_dhcp_messages_sent_total", type="DHCPRELEASE") == 1
    assert sum(v for (name, _), v in gone.items() if name == "cni_dhcp_leases") == 0
    assert server is not None


def test_metrics_count_a_failed_allocation_and_a_nak(lab, macvlan, start_daemon):
    """No server: the ADD fails, counted as failed with its DISCOVERs; then a NAK."""
    metrics = lab.workdir / "metrics.sock"
    daemon = start_daemon("--metrics-listen", str(metrics))
    conf = dhcp_conf(lab, daemon, timeout="2s")
    pod = lab.add_pod()
    assert macvlan("ADD", conf, pod, container_id="cnt-fail").code != 0
    parsed = samples(scrape_unix(metrics))
    assert value(parsed, "cni_dhcp_lease_events_total", event="failed") == 1
    assert value(parsed, "cni_dhcp_messages_sent_total", type="DHCPDISCOVER") >= 2
    assert value(parsed, "cni_dhcp_allocate_duration_seconds_count") == 1
    assert value(parsed, "cni_dhcp_allocate_duration_seconds_bucket", le="1") == 0
    assert value(parsed, "cni_dhcp_allocate_duration_seconds_bucket", le="2.5") == 1


def test_metrics_over_tcp_and_bad_requests(lab, start_daemon):
    daemon = start_daemon("--metrics-listen", "127.0.0.1:9153")
    get = ("import urllib.request, sys\n"
           "try:\n"
           "    r = urllib.request.urlopen(sys.argv[1], timeout=5); print(r.status); print(r.read().decode())\n"
           "except urllib.error.HTTPError as e:\n"
           "    print(e.code)\n")
    done = lab.node.exec(["python3", "-c", get, "http://127.0.0.1:9153/metrics"])
    assert done.stdout.startswith("200\n") and "cni_dhcp_leases{state=\"BOUND\"} 0" in done.stdout, done
    assert lab.node.exec(["python3", "-c", get, "http://127.0.0.1:9153/other"]).stdout.startswith("404"), done
    # A scraper that connects and says nothing, or too much, does not hold the loop.
    script = ("import socket\n"
              "idle = [socket.create_connection(('127.0.0.1', 9153)) for _ in range(20)]\n"
              "big = socket.create_connection(('127.0.0.1', 9153)); big.sendall(b'G' * 5000)\n")
    lab.node.exec(["python3", "-c", script])
    assert daemon.status()["ready"] is True
    assert daemon.alive()


def test_metrics_address_in_use_stops_the_start(lab, start_daemon):
    holder = socket.socket(socket.AF_UNIX)
    path = lab.workdir / "taken"
    path.write_text("not a socket")
    with pytest.raises(RuntimeError, match="cannot serve metrics on .*taken"):
        start_daemon("--metrics-listen", str(path))
    assert path.read_text() == "not a socket"  # nothing but a socket is replaced
    holder.close()


def test_grafana_dashboard_asks_only_for_metrics_the_daemon_serves(lab, start_daemon):
    """deploy/grafana/cni-dhcp-dashboard.json: every metric its queries name is one a
    scrape returns (a renamed metric would leave a panel empty)."""
    metrics = lab.workdir / "metrics.sock"
    start_daemon("--metrics-listen", str(metrics))
    served = {s.name for family in text_string_to_metric_families(scrape_unix(metrics)) for s in family.samples}
    dashboard = json.loads((Path(__file__).resolve().parents[2] / "deploy/grafana/cni-dhcp-dashboard.json").read_text())
    asked = {name for panel in dashboard["panels"] for target in panel["targets"]
             for name in re.findall(r"\b((?:cni_dhcp|process)_[a-z_0-9]+)", target["expr"])}
    asked |= set(re.findall(r"\b(cni_dhcp_[a-z_0-9]+)", json.dumps(dashboard["templating"])))
    assert len(asked) >= 8 and asked <= served, asked - served
