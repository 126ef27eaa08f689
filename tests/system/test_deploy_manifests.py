"""The Kubernetes manifests of deploy/kubernetes, without a cluster.

- tests/deploy/validate.mjs checks every document against the Kubernetes OpenAPI
  schemas (npm kubernetes-models), unknown fields and the API server's own checks,
  and the Multus NetworkAttachmentDefinition against its CRD; broken copies of the
  manifests must be rejected, each for the reason broken in.
- The CNI configurations they carry work with our plugins: the ConfigMap's conflist
  (fed the way libcni feeds the single plugin of a list) and the NAD's config go
  through ADD and DEL of our macvlan + dhcp with our daemon, against dnsmasq in a lab.
- The two DaemonSets are one: cni-lan.yaml (macvlan the node's primary network) and
  cni-lan-plugins.yaml (plugins and daemon only, for Multus) differ in their init
  container alone, and each init container's arguments, run through our cni-install
  against a temporary node, do what the manifest says: the conflist as the primary
  network, or no configuration at all.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from deploy_helpers import (MANIFEST_DIR, VALIDATOR, configmap_conflist, ensure_node_project, find_document, for_lab,
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
                ("cni-lan-plugins.yaml", "apps/v1 DaemonSet kube-system/cni-lan"),
                ("multus-network-attachment.yaml", "k8s.cni.cncf.io/v1 NetworkAttachmentDefinition default/lan")]
    for file, what in expected:
        assert any(f"{file} " in line and what in line for line in ok), f"{file}: {what} not checked:\n{done.stdout}"
    assert {p.name for p in manifest_files()} == {"cni-lan.yaml", "cni-lan-plugins.yaml",
                                                  "multus-network-attachment.yaml"}, \
        "a new manifest: add what it holds to the expectations above"
    assert len(ok) == 4 and "4 document(s) checked, 0 failure(s)" in done.stdout, done.stdout
    [configmap] = [line for line in ok if "v1 ConfigMap" in line]
    assert "OpenAPI schema, no unknown fields" in configmap and "CNI config 10-macvlan.conflist" in configmap


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
        "cni-lan.yaml", 'args: ["--conf-source", "/etc/cni-lan/10-macvlan.conflist", "--primary"]',
        'args: ["--conf-source", "/etc/cni-lan/macvlan.conflist", "--primary"]',
        r'ConfigMap cni-lan-config has no key "macvlan\.conflist"'),
    "conf-source-without-role": (
        "cni-lan.yaml", '"/etc/cni-lan/10-macvlan.conflist", "--primary"]', '"/etc/cni-lan/10-macvlan.conflist"]',
        r"initContainers\[0\]: --conf-source with neither --primary nor --secondary: cni-install needs exactly one"),
    "conf-source-both-roles": (
        "cni-lan.yaml", '"--primary"]', '"--primary", "--secondary"]',
        r"initContainers\[0\]: --conf-source with --primary and --secondary"),
    "plugins-only-misspelled-field": (
        "cni-lan-plugins.yaml", "hostPID: true", "hostPid: true",
        r"spec\.template\.spec\.hostPid: unknown field"),
    "plugins-only-mount-without-volume": (
        "cni-lan-plugins.yaml", "- { name: cni-bin, mountPath", "- { name: cni-conf, mountPath",
        r'initContainers\[0\]\.volumeMounts\[0\]\.name: no volume "cni-conf"'),
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


# ---------------------------------------------------------------- the two DaemonSets

DAEMONSET_FILES = ("cni-lan.yaml", "cni-lan-plugins.yaml")
IMAGE_INSTALLER = "/opt/cni-lan/bin/cni-install"  # the image's entrypoint (test_deploy_image checks it)


@pytest.fixture(scope="module")
def daemonsets(node_project):
    """The DaemonSet of each manifest, by file name."""
    return {name: find_document(load_manifests(MANIFEST_DIR / name), "DaemonSet") for name in DAEMONSET_FILES}


def pod_spec(daemonset: dict) -> dict:
    return daemonset["spec"]["template"]["spec"]


def volumes(daemonset: dict) -> dict:
    return {v["name"]: v for v in pod_spec(daemonset)["volumes"]}


def without_installer(daemonset: dict) -> dict:
    """The DaemonSet without what only its init container uses."""
    spec = copy.deepcopy(daemonset["spec"])
    for key in ("initContainers", "volumes"):
        spec["template"]["spec"].pop(key)
    return spec


def test_plugins_only_daemonset_is_the_default_one_without_a_conflist(daemonsets):
    primary, plugins = daemonsets["cni-lan.yaml"], daemonsets["cni-lan-plugins.yaml"]
    # One DaemonSet under one name: applying either manifest replaces the other, so two
    # daemons never share a node's socket and lease records.
    assert plugins["metadata"] == primary["metadata"]
    # The same pod but for the installer: the daemon container above all.
    assert without_installer(plugins) == without_installer(primary)
    [daemon] = pod_spec(plugins)["containers"]
    for mount in daemon["volumeMounts"]:
        assert volumes(plugins)[mount["name"]] == volumes(primary)[mount["name"]], mount["name"]

    [install] = pod_spec(plugins)["initContainers"]
    argv = install["command"] + install.get("args", [])
    # The command is given whole: the image's default arguments (a --conf-source) never apply.
    assert argv[0] == IMAGE_INSTALLER and "--conf-source" not in argv, argv
    assert [m["name"] for m in install["volumeMounts"]] == ["cni-bin"]
    assert set(volumes(plugins)) == {"cni-bin", "run-cni", "netns", "state"}
    assert volumes(plugins)["cni-bin"] == volumes(primary)["cni-bin"]
    # The default manifest says its network is the node's default.
    [primary_install] = pod_spec(primary)["initContainers"]
    assert "--primary" in primary_install["args"] and "--secondary" not in primary_install["args"]


def installer_argv(install: dict, build_dir: Path, root: Path) -> list[str]:
    """The init container's command line with our build's cni-install, every container
    path (/host/..., the ConfigMap's /etc/cni-lan/...) moved under `root`. The
    installer's default directories (/host/...) are given, moved, when the manifest
    leaves them out: nothing can reach this machine's /host."""
    assert "command" in install or "args" in install, "the image's default command would run"
    argv = [*install.get("command", [IMAGE_INSTALLER]), *install.get("args", [])]
    for flag, default in (("--cni-bin-dir", "/host/opt/cni/bin"), ("--cni-conf-dir", "/host/etc/cni/net.d")):
        if flag not in argv:
            argv += [flag, default]

    def moved(arg: str) -> str:
        if arg == IMAGE_INSTALLER:
            return str(build_dir / "cni-install")
        return f"{root}{arg}" if arg.startswith(("/host/", "/etc/cni-lan/")) else arg

    return [moved(a) for a in argv]


@pytest.mark.parametrize("file", DAEMONSET_FILES)
def test_init_container_arguments_on_our_installer(daemonsets, manifests, build_dir, scratch, file):
    [install] = pod_spec(daemonsets[file])["initContainers"]
    key, conflist = configmap_conflist(manifests)
    (scratch / "etc" / "cni-lan").mkdir(parents=True)
    (scratch / "etc" / "cni-lan" / key).write_text(conflist)
    bin_dir, conf_dir = scratch / "host" / "opt" / "cni" / "bin", scratch / "host" / "etc" / "cni" / "net.d"

    done = subprocess.run(installer_argv(install, build_dir, scratch), capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL)
    print(done.stdout, done.stderr)
    assert done.returncode == 0, done.stdout + done.stderr
    # Both install the plugins where the cni-bin volume is mounted.
    [mount] = [m for m in install["volumeMounts"] if m["name"] == "cni-bin"]
    assert Path(f"{scratch}{mount['mountPath']}") == bin_dir
    for name in ("macvlan", "dhcp"):
        assert (bin_dir / name).read_bytes() == (build_dir / name).read_bytes(), name
    if file == "cni-lan.yaml":
        # The primary network: its conflist, nothing warned about the order.
        assert [p.name for p in conf_dir.iterdir()] == [key]
        assert (conf_dir / key).read_text() == conflist
        assert "sorts before" not in done.stderr, done.stderr
    else:
        assert not conf_dir.exists(), "the plugins-only installer wrote a network configuration"
