"""The Kubernetes manifests of deploy/kubernetes, without a cluster.

- tests/deploy/validate.mjs checks every document against the Kubernetes OpenAPI
  schemas (npm kubernetes-models), unknown fields and the API server's own checks,
  and the Multus NetworkAttachmentDefinition against its CRD; broken copies of the
  manifests must be rejected, each for the reason broken in.
- The CNI configurations they carry work with our plugins: the ConfigMap's conflist
  (fed the way libcni feeds the single plugin of a list) and the NAD's config go
  through ADD and DEL of our macvlan + dhcp with our daemon, against dnsmasq in a lab.
"""

from __future__ import annotations

import json
import re
import shutil

import pytest

from deploy_helpers import (MANIFEST_DIR, VALIDATOR, configmap_conflist, ensure_node_project, for_lab,
                            load_manifests, manifest_files, nad_config, plugin_config, run_node)
from dhcp_fixtures import lease_active, lease_released
from lab import TempDir, wait_until

CONTAINER_ID = "cnt-deploy-c0"


@pytest.fixture(scope="module")
def node_project():
    return ensure_node_project()


@pytest.fixture(scope="module")
def manifests(node_project):
    return load_manifests()


@pytest.fixture
def scratch():
    folder = TempDir(prefix="cnt-manifests-")
    yield folder.path
    folder.delete()


def test_manifests_are_valid(node_project):
    done = run_node(VALIDATOR)
    print(done.stdout, done.stderr)
    assert done.returncode == 0, f"validate.mjs rejected deploy/kubernetes:\n{done.stdout}{done.stderr}"
    # It looked at every document of every file, and said what it checked.
    ok = [line for line in done.stdout.splitlines() if line.startswith("ok ")]
    expected = [("cni-lan.yaml", "v1 ConfigMap kube-system/cni-lan-config"),
                ("cni-lan.yaml", "apps/v1 DaemonSet kube-system/cni-lan"),
                ("multus-network-attachment.yaml", "k8s.cni.cncf.io/v1 NetworkAttachmentDefinition default/lan")]
    for file, what in expected:
        assert any(file in line and what in line for line in ok), f"{file}: {what} not checked:\n{done.stdout}"
    assert {p.name for p in manifest_files()} == {"cni-lan.yaml", "multus-network-attachment.yaml"}, \
        "a new manifest: add what it holds to the expectations above"
    assert len(ok) == 3 and "3 document(s) checked, 0 failure(s)" in done.stdout, done.stdout
    assert "OpenAPI schema, no unknown fields" in ok[0] and "CNI config 10-macvlan.conflist" in ok[0]


# (file, text in it, replacement, what the validator must say). Each changes one thing.
BROKEN = {
    "misspelled-field": (
        "cni-lan.yaml", "          volumeMounts:\n            - { name: config",
        "          volumeMount:\n            - { name: config",
        r"initContainers\[0\]\.volumeMount: unknown field"),
    "misspelled-pod-field": (
        "cni-lan.yaml", "hostNetwork: true", "hostNetworking: true",
        r"spec\.template\.spec\.hostNetworking: unknown field"),
    "wrong-type": (
        "cni-lan.yaml", "periodSeconds: 10", 'periodSeconds: "10"',
        r"readinessProbe\.periodSeconds: must be integer"),
    "wrong-enum": (
        "cni-lan.yaml", "mountPropagation: HostToContainer", "mountPropagation: HostToContainers",
        r"mountPropagation: must be equal to one of the allowed values"),
    "selector-mismatch": (
        "cni-lan.yaml", "    matchLabels:\n      app.kubernetes.io/name: cni-lan",
        "    matchLabels:\n      app.kubernetes.io/name: cni-lan-daemon",
        r"spec\.selector\.matchLabels\.app\.kubernetes\.io/name: .* does not match"),
    "mount-without-volume": (
        "cni-lan.yaml", "- { name: state, mountPath", "- { name: lease-state, mountPath",
        r'no volume "lease-state"'),
    "conf-source-not-in-configmap": (
        "cni-lan.yaml", 'args: ["--conf-source", "/etc/cni-lan/10-macvlan.conflist"]',
        'args: ["--conf-source", "/etc/cni-lan/macvlan.conflist"]',
        r'ConfigMap cni-lan-config has no key "macvlan\.conflist"'),
    "conflist-not-json": (
        "cni-lan.yaml", '"mode": "bridge",\n          "ipam"', '"mode": "bridge"\n          "ipam"',
        r'data\["10-macvlan\.conflist"\]: not JSON'),
    "conflist-wrong-ipam": (
        "cni-lan.yaml", '"type": "dhcp"', '"type": "dhpc"',
        r'plugins\[0\]\.ipam\.type: "dhpc", expected "dhcp"'),
    "bad-name": (
        "cni-lan.yaml", "name: cni-lan-config", "name: CNI_lan_config",
        r"metadata\.name: .* is not a DNS-1123 subdomain"),
    "nad-metadata-misspelled": (
        "multus-network-attachment.yaml", "  namespace: default", "  namepsace: default",
        r"metadata\.namepsace: unknown field"),
    "nad-config-not-string": (
        "multus-network-attachment.yaml", "  config: |-", "  config: 7\n  text: |-",
        r"spec\.config: must be string"),
    "nad-config-bad-mode": (
        "multus-network-attachment.yaml", '"mode": "bridge"', '"mode": "bridged"',
        r'spec\.config\.mode: "bridged" is not one of'),
    "yaml-syntax": (
        "multus-network-attachment.yaml", "kind: NetworkAttachmentDefinition",
        "kind: NetworkAttachmentDefinition\n  bad indentation: [", r"FAIL .*multus-network-attachment\.yaml"),
}


def copy_manifests(scratch):
    for path in manifest_files():
        shutil.copy(path, scratch / path.name)
    return scratch


def test_validator_accepts_unchanged_copies(node_project, scratch):
    """The control for the broken copies: the same files elsewhere pass."""
    copy_manifests(scratch)
    done = run_node(VALIDATOR, *sorted(scratch.glob("*.yaml")))
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_validator_rejects_broken_manifest(node_project, scratch, case):
    file, old, new, expected = BROKEN[case]
    copy_manifests(scratch)
    path = scratch / file
    text = path.read_text()
    assert text.count(old) >= 1, f"{case}: {old!r} is no longer in {MANIFEST_DIR / file}: update the case"
    path.write_text(text.replace(old, new, 1))

    done = run_node(VALIDATOR, *sorted(scratch.glob("*.yaml")))
    print(done.stdout, done.stderr)
    assert done.returncode == 1, f"{case}: accepted (exit {done.returncode}):\n{done.stdout}{done.stderr}"
    assert re.search(expected, done.stdout), f"{case}: no /{expected}/ in:\n{done.stdout}"
    # Only what was broken is reported: the other file still passes.
    other = [p.name for p in manifest_files() if p.name != file]
    for name in other:
        assert not re.search(rf"^FAIL .*{re.escape(name)}", done.stdout, re.M), done.stdout


def test_validator_fails_on_no_documents(node_project, scratch):
    empty = scratch / "empty.yaml"
    empty.write_text("# nothing\n---\n")
    done = run_node(VALIDATOR, empty)
    assert done.returncode == 1 and "no document found" in done.stdout, done.stdout


def test_validator_rejects_kind_without_schema(node_project, scratch):
    path = scratch / "crd.yaml"
    path.write_text("apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n")
    done = run_node(VALIDATOR, path)
    assert done.returncode == 1 and "no schema for example.com/v1 Widget" in done.stdout, done.stdout


# ---------------------------------------------------------------- the configurations on our plugins


def deployed_configuration(manifests, source: str) -> dict:
    if source == "configmap":
        key, text = configmap_conflist(manifests)
        assert key == "10-macvlan.conflist"
        conflist = json.loads(text)
        assert len(conflist["plugins"]) == 1 and conflist["plugins"][0]["type"] == "macvlan"
        return conflist
    return json.loads(nad_config(manifests))


@pytest.mark.usefixtures("require_root")
@pytest.mark.parametrize("source", ["configmap", "nad"])
def test_deployed_configuration_add_del(lab, pod, dnsmasq, dhcp_daemon, build_dir, manifests, source):
    """ADD then DEL with the manifests' own configuration (master and socket set for
    the lab), our macvlan delegating to our dhcp, CNI_PATH our build directory."""
    conf = for_lab(deployed_configuration(manifests, source), lab.node.master, dhcp_daemon.socket_path)
    name = conf["name"]
    add_conf = plugin_config(conf)
    assert add_conf["cniVersion"] == "1.0.0" and add_conf["name"] == "lan" and add_conf["type"] == "macvlan"

    add = lab.run_plugin(build_dir / "macvlan", "ADD", add_conf, netns=pod, ifname="eth0",
                         container_id=CONTAINER_ID, cni_path=build_dir)
    assert add.code == 0, f"ADD failed: {add.stdout}{add.stderr}"
    result = add.output
    assert result["cniVersion"] == "1.0.0"
    [ip] = result["ips"]
    address = ip["address"].split("/")[0]
    assert address in {lab.address(n) for n in range(100, 200)} and ip["address"].endswith("/24"), ip
    assert ip["gateway"] == lab.router
    assert result["interfaces"][ip["interface"]]["sandbox"] == pod.path
    assert pod.cidrs("eth0") == [ip["address"]]
    link = pod.link("eth0")
    assert link["linkinfo"]["info_kind"] == "macvlan" and link["linkinfo"]["info_data"]["mode"] == "bridge"
    assert result["interfaces"][ip["interface"]]["mac"] == link["address"]
    assert lease_active(dnsmasq, address), dnsmasq.leases()
    assert dhcp_daemon.lease(CONTAINER_ID, name) is not None, dhcp_daemon.list()

    # DEL as libcni sends it for a list: the cached ADD result as prevResult.
    delete = lab.run_plugin(build_dir / "macvlan", "DEL", plugin_config(conf, prev_result=result), netns=pod,
                            ifname="eth0", container_id=CONTAINER_ID, cni_path=build_dir)
    assert delete.code == 0, f"DEL failed: {delete.stdout}{delete.stderr}"
    assert pod.link("eth0") is None
    assert dhcp_daemon.lease(CONTAINER_ID, name) is None, dhcp_daemon.list()
    wait_until(lambda: lease_released(dnsmasq, address), 10, f"dnsmasq to see {address} released")
