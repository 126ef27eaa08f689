"""cni-install on its own: what it refuses, what it installs, what it takes back.

Every run gets --cni-bin-dir and --cni-conf-dir in a temporary directory the test
creates and deletes: nothing here touches the machine's /opt/cni/bin or /etc/cni/net.d.
The plugins installed are the build's own (--bin-source, the build directory). No
network namespace is needed: nothing is executed but the installer.

- a configuration is checked before anything is written: JSON, the CNI shape, the
  macvlan plugin's parser and the dhcp IPAM parser, each refusal naming the file and
  the key, the directories left untouched;
- the node's default network: a --secondary configuration that would sort first is
  refused, a --primary one that would not is warned about, Multus's file passed over;
- SKIP_CNI_BINARIES and UPDATE_CNI_BINARIES, as flags and as environment variables;
- --uninstall removes what is byte for byte ours and reports what it leaves;
- the loopback warning, --version, directories made or refused.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
from pathlib import Path
from typing import Any, Optional, Union

import pytest

from lab import TempDir

PLUGINS = ("macvlan", "dhcp")
REPO_ROOT = Path(__file__).resolve().parents[2]
INSTALL_TIMEOUT = 30.0
KNOBS = ("SKIP_CNI_BINARIES", "UPDATE_CNI_BINARIES")

GOOD = {
    "cniVersion": "1.0.0",
    "name": "lan",
    "plugins": [{"type": "macvlan", "master": "eth0", "mode": "bridge", "ipam": {"type": "dhcp"}}],
}


def good(**plugin_changes: Any) -> dict:
    """GOOD with keys of its macvlan entry changed (None deletes one)."""
    conf = json.loads(json.dumps(GOOD))
    for key, value in plugin_changes.items():
        if value is None:
            conf["plugins"][0].pop(key, None)
        else:
            conf["plugins"][0][key] = value
    return conf


def with_ipam(**ipam: Any) -> dict:
    return good(ipam={"type": "dhcp", **ipam})


class Tree:
    """A node's CNI directories and a folder of configurations to install, all under
    one temporary root."""

    def __init__(self, root: Path):
        self.root = root
        self.bin_dir = root / "opt" / "cni" / "bin"
        self.conf_dir = root / "etc" / "cni" / "net.d"
        self.sources = root / "sources"
        self.sources.mkdir()

    def source(self, name: str, content: Union[dict, str]) -> Path:
        path = self.sources / name
        path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2))
        return path

    def other_network(self, name: str, content: Optional[Union[dict, str]] = None) -> Path:
        """Another network's configuration already in the conf dir."""
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        path = self.conf_dir / name
        if content is None:
            content = {"cniVersion": "1.0.0", "name": name.split(".")[0], "plugins": [{"type": "bridge"}]}
        path.write_text(content if isinstance(content, str) else json.dumps(content))
        return path

    def snapshot(self) -> dict[str, tuple]:
        """Every path under the node's directories: (inode, mtime_ns, mode, size)."""
        found = {}
        for top in (self.root / "opt", self.root / "etc"):
            for path in sorted(top.rglob("*")) if top.exists() else []:
                st = path.lstat()
                found[str(path.relative_to(self.root))] = (st.st_ino, st.st_mtime_ns, st.st_mode, st.st_size)
        return found


@pytest.fixture
def tree():
    folder = TempDir(prefix="cnt-install-")
    yield Tree(folder.path)
    folder.delete()


class Run:
    def __init__(self, done: subprocess.CompletedProcess):
        self.code, self.stdout, self.stderr = done.returncode, done.stdout, done.stderr

    @property
    def lines(self) -> list[str]:
        return [line for line in self.stdout.splitlines() if line.strip()]

    def __repr__(self) -> str:
        return f"exit {self.code}\nstdout:\n{self.stdout}stderr:\n{self.stderr}"


def install(build_dir: Path, tree: Tree, *args: Any, env: Optional[dict] = None) -> Run:
    """cni-install with the build's plugins and the tree's directories; the knobs'
    variables only as `env` gives them."""
    argv = [build_dir / "cni-install", "--bin-source", build_dir, "--cni-bin-dir", tree.bin_dir,
            "--cni-conf-dir", tree.conf_dir, *args]
    environment = {k: v for k, v in os.environ.items() if k not in KNOBS}
    environment.update(env or {})
    done = subprocess.run([str(a) for a in argv], capture_output=True, text=True, env=environment,
                          timeout=INSTALL_TIMEOUT, stdin=subprocess.DEVNULL)
    return Run(done)


def installed_lines(build_dir: Path, tree: Tree, conf: Optional[Path] = None, name: Optional[str] = None) -> list:
    lines = [f"installed {tree.bin_dir / p} ({(build_dir / p).stat().st_size} bytes)" for p in PLUGINS]
    if conf is not None:
        lines.append(f"installed {tree.conf_dir / (name or conf.name)} ({conf.stat().st_size} bytes)")
    return lines


def assert_plugins_installed(build_dir: Path, tree: Tree, names=PLUGINS) -> None:
    for name in names:
        path = tree.bin_dir / name
        assert path.read_bytes() == (build_dir / name).read_bytes(), f"{path} is not the build's {name}"
        assert stat.S_IMODE(path.stat().st_mode) == 0o755, oct(path.stat().st_mode)


def assert_refused(run: Run, source: Path, message: str) -> None:
    """Refused, naming the source and saying `message`, and saying nothing was installed."""
    assert run.code == 1, run
    assert f"cni-install: refusing {source}: " in run.stderr, run
    assert message in run.stderr, f"no {message!r} in:\n{run}"
    assert "cni-install: nothing was installed" in run.stderr, run
    assert run.stdout == "", run


# ---------------------------------------------------------------- --version


def test_version_names_the_build(build_dir):
    done = subprocess.run([build_dir / "cni-install", "--version"], capture_output=True, text=True, timeout=10)
    assert done.returncode == 0 and done.stderr == "", done
    match = re.fullmatch(r"cni-install (\S+)\n", done.stdout)
    assert match, done.stdout
    # The same text every binary of this build reports, from VERSION (and the commit).
    assert match[1].startswith((REPO_ROOT / "VERSION").read_text().strip()), match[1]
    dhcp = subprocess.run([build_dir / "dhcp", "--version"], capture_output=True, text=True, timeout=10)
    assert dhcp.stdout == f"dhcp {match[1]}\n", dhcp.stdout


# ---------------------------------------------------------------- refused configurations

BAD_JSON = '{\n  "cniVersion": "1.0.0",\n  "name": "lan",\n  "plugins": [ { "type": "macvlan", } ]\n}\n'


def test_bad_json_is_refused_and_nothing_is_created(build_dir, tree):
    source = tree.source("10-macvlan.conflist", BAD_JSON)
    run = install(build_dir, tree, "--conf-source", source, "--primary")
    assert_refused(run, source, "not valid JSON: ")
    assert "at line 4" in run.stderr, run
    # Not even the directories: the plugins were not installed either.
    assert not tree.bin_dir.exists() and not tree.conf_dir.exists()


# (configuration, what the refusal says): the macvlan plugin's own parser.
MACVLAN_REFUSALS = {
    "mode-typo": (good(mode="brige"),
                  'plugins[0] (macvlan): unknown macvlan mode "brige"; mode must be bridge (the default), private, '
                  'vepa or passthru'),
    "mtu-string": (good(mtu="1500"), 'plugins[0] (macvlan): mtu must be an integer, not string "1500"'),
    "mtu-negative": (good(mtu=-1), "plugins[0] (macvlan): mtu -1 is out of range: it must be 0 or more"),
    "mac-bad": (good(mac="aa:bb:cc"), 'plugins[0] (macvlan): mac "aa:bb:cc" is not a MAC address'),
    "ipam-type-path": (good(ipam={"type": "/usr/lib/cni/dhcp"}),
                       'plugins[0] (macvlan): ipam.type "/usr/lib/cni/dhcp" must be a plugin name, not a path'),
}

# The dhcp IPAM parser: on our macvlan, and on another plugin's entry (the runtime would
# run our dhcp for it all the same).
DHCP_REFUSALS = {
    "timeout-word": (with_ipam(timeout="soon"),
                     'plugins[0] (macvlan): ipam.timeout must be a positive duration such as "30s"'),
    "arp-probe-range": (with_ipam(arpProbe="20s"),
                        "plugins[0] (macvlan): ipam.arpProbe must be from 100ms to 10s, not 20s"),
    "request-option": (with_ipam(request=[{"option": "nosuch"}]),
                       'plugins[0] (macvlan): ipam.request[0].option "nosuch" is not a DHCP option'),
    "priority-type": (with_ipam(priority="high"),
                      'plugins[0] (macvlan): ipam.priority must be an integer, not string "high"'),
    "other-plugin": ({"cniVersion": "1.0.0", "name": "lan",
                      "plugins": [{"type": "tuning"}, {"type": "bridge", "ipam": {"type": "dhcp", "timeout": 0}}]},
                     "plugins[1] (bridge): ipam.timeout must be a positive duration"),
}

# The CNI shape runtimes need.
SHAPE_REFUSALS = {
    "no-name": ({"cniVersion": "1.0.0", "plugins": GOOD["plugins"]}, '"name" is missing'),
    "bad-name": ({**GOOD, "name": "my lan"}, 'name "my lan" is not a valid network name'),
    "no-version": ({"name": "lan", "plugins": GOOD["plugins"]}, '"cniVersion" is missing'),
    "unknown-version": ({**GOOD, "cniVersion": "9.9.9"}, 'config is "9.9.9", plugin supports 0.1.0 to 1.1.0'),
    "no-plugins": ({"cniVersion": "1.0.0", "name": "lan"}, '"plugins" is missing or empty'),
    "no-type": ({**GOOD, "plugins": [{"master": "eth0"}]}, 'plugins[0]: "type" is missing'),
    "not-object": ("[1, 2]", "a network configuration is a JSON object, not array"),
}


@pytest.mark.parametrize("case", sorted(MACVLAN_REFUSALS) + sorted(DHCP_REFUSALS) + sorted(SHAPE_REFUSALS))
def test_bad_configuration_is_refused_before_anything_is_written(build_dir, tree, case):
    conf, message = {**MACVLAN_REFUSALS, **DHCP_REFUSALS, **SHAPE_REFUSALS}[case]
    source = tree.source("10-macvlan.conflist", conf)
    # The node's directories exist and hold another network: they must stay as they are.
    tree.bin_dir.mkdir(parents=True)
    tree.other_network("20-other.conflist")
    before = tree.snapshot()

    run = install(build_dir, tree, "--conf-source", source, "--primary")
    assert_refused(run, source, message)
    assert tree.snapshot() == before, "a refused install changed the node's directories"


def test_conf_file_names_runtimes_read(build_dir, tree):
    """libcni reads .conflist as a list, .conf and .json as one plugin, nothing else."""
    listed = tree.source("10-macvlan.conf", GOOD)
    run = install(build_dir, tree, "--conf-source", listed, "--primary")
    assert_refused(run, listed, 'it lists "plugins", but runtimes read a .conf or .json file as one plugin')
    assert "name it .conflist (--conf-name)" in run.stderr

    yaml = tree.source("lan.yaml", GOOD)
    run = install(build_dir, tree, "--conf-source", yaml, "--primary")
    assert_refused(run, yaml, 'the file name "lan.yaml" does not end in .conflist, .conf or .json')
    # Named right where it is installed, the same file is taken.
    run = install(build_dir, tree, "--conf-source", yaml, "--conf-name", "10-lan.conflist", "--primary")
    assert run.code == 0, run
    assert [p.name for p in tree.conf_dir.iterdir()] == ["10-lan.conflist"]
    assert (tree.conf_dir / "10-lan.conflist").read_text() == yaml.read_text()


# ---------------------------------------------------------------- a good configuration


def test_valid_conflist_is_installed_then_left_alone(build_dir, tree):
    # An unknown key is warned about, as the plugin warns at ADD, and does not refuse.
    source = tree.source("10-macvlan.conflist", good(mtuu=1400))
    run = install(build_dir, tree, "--conf-source", source, "--primary")
    assert run.code == 0, run
    assert run.lines == installed_lines(build_dir, tree, source), run
    assert 'macvlan: warning: unknown key "mtuu" ignored (did you mean "mtu"?)' in run.stderr, run
    assert_plugins_installed(build_dir, tree)
    conf = tree.conf_dir / source.name
    assert conf.read_bytes() == source.read_bytes() and stat.S_IMODE(conf.stat().st_mode) == 0o644
    # Nothing else, no temporary file left.
    assert sorted(p.name for p in tree.bin_dir.iterdir()) == sorted(PLUGINS)
    assert [p.name for p in tree.conf_dir.iterdir()] == [source.name]

    before = tree.snapshot()
    again = install(build_dir, tree, "--conf-source", source, "--primary")
    assert again.code == 0, again
    assert again.lines == [f"unchanged {tree.bin_dir / p}" for p in PLUGINS] + [f"unchanged {conf}"], again
    assert tree.snapshot() == before


def test_valid_single_plugin_conf_is_installed(build_dir, tree):
    single = {"cniVersion": "0.4.0", "name": "lan", "type": "macvlan", "master": "eth0", "mtu": 1400,
              "ipam": {"type": "dhcp", "timeout": "20s", "request": [{"option": "ntp-servers"}]}}
    source = tree.source("10-lan.conf", single)
    run = install(build_dir, tree, "--conf-source", source, "--primary")
    assert run.code == 0, run
    assert run.lines == installed_lines(build_dir, tree, source), run
    # A single plugin's errors name the plugin alone.
    bad = tree.source("10-bad.conf", {**single, "mode": "brige"})
    refused = install(build_dir, tree, "--conf-source", bad, "--primary")
    assert_refused(refused, bad, 'refusing %s: macvlan: unknown macvlan mode "brige"' % bad)


def test_dry_run_changes_nothing(build_dir, tree):
    source = tree.source("10-macvlan.conflist", GOOD)
    run = install(build_dir, tree, "--conf-source", source, "--primary", "--dry-run")
    assert run.code == 0, run
    assert run.lines == [f"would install {tree.bin_dir / p} from {build_dir / p}" for p in PLUGINS] + \
        [f"would install {tree.conf_dir / source.name} from {source}"], run
    assert not tree.bin_dir.exists() and not tree.conf_dir.exists()


# ---------------------------------------------------------------- the node's default network


def test_conf_name_must_be_a_file_name(build_dir, tree):
    source = tree.source("10-macvlan.conflist", GOOD)
    run = install(build_dir, tree, "--conf-source", source, "--primary", "--conf-name", "../10-macvlan.conflist")
    assert run.code == 2, run
    assert 'the configuration\'s name in the conf dir, "../10-macvlan.conflist", is not a file name' in run.stderr
    assert not tree.bin_dir.exists() and not (tree.root / "etc").exists()


def test_role_must_be_said(build_dir, tree):
    source = tree.source("10-macvlan.conflist", GOOD)
    run = install(build_dir, tree, "--conf-source", source)
    assert run.code == 2, run
    assert f"--conf-source {source}: say whether this network is the node's default network: --primary" \
        in run.stderr, run
    both = install(build_dir, tree, "--conf-source", source, "--primary", "--secondary")
    assert both.code == 2 and "--primary and --secondary exclude each other" in both.stderr, both
    alone = install(build_dir, tree, "--secondary")
    assert alone.code == 2 and "--secondary says what the configuration of --conf-source is" in alone.stderr, alone
    assert not tree.bin_dir.exists() and not tree.conf_dir.exists()


def test_secondary_that_would_sort_first_is_refused(build_dir, tree):
    tree.other_network("20-calico.conflist")
    source = tree.source("10-macvlan.conflist", GOOD)
    before = tree.snapshot()
    run = install(build_dir, tree, "--conf-source", source, "--secondary")
    assert run.code == 1, run
    assert (f"refusing to install 10-macvlan.conflist in {tree.conf_dir} as a secondary network: it would sort "
            "before 20-calico.conflist, the default network's configuration there, so runtimes would make it the "
            "default network of every pod") in run.stderr, run
    assert "(--conf-name), or pass --primary if it is meant to be the node's default network" in run.stderr, run
    assert "nothing was installed" in run.stderr and run.stdout == "", run
    assert tree.snapshot() == before and not tree.bin_dir.exists()

    # Named to sort after the default network's file, it is installed.
    after = install(build_dir, tree, "--conf-source", source, "--secondary", "--conf-name", "50-lan.conflist")
    assert after.code == 0, after
    assert (tree.conf_dir / "50-lan.conflist").read_bytes() == source.read_bytes()
    assert "sorts before" not in after.stderr, after


def test_secondary_alone_in_the_conf_dir_is_refused(build_dir, tree):
    source = tree.source("99-lan.conflist", GOOD)
    run = install(build_dir, tree, "--conf-source", source, "--secondary")
    assert run.code == 1, run
    assert "no other network's configuration is there, so runtimes would make it the default network" \
        in run.stderr, run
    assert not tree.conf_dir.exists() and not tree.bin_dir.exists()


def test_multus_file_is_passed_over(build_dir, tree):
    """Multus (00-multus.conf) hands the default network to the first file after it."""
    multus = {"cniVersion": "0.3.1", "name": "multus-cni-network", "type": "multus-shim"}
    tree.other_network("00-multus.conf", multus)
    source = tree.source("50-lan.conflist", GOOD)
    run = install(build_dir, tree, "--conf-source", source, "--secondary")
    assert run.code == 1, run
    assert "so runtimes (and Multus, through 00-multus.conf) would make it the default network" in run.stderr, run

    # With the primary network's file before ours, the secondary one is fine.
    tree.other_network("10-flannel.conflist")
    assert install(build_dir, tree, "--conf-source", source, "--secondary").code == 0

    # A primary one after Multus's file is the default network: no warning. Files that
    # are no network configuration (a directory, another extension) do not count.
    (tree.conf_dir / "multus.d").mkdir()
    (tree.conf_dir / "00-readme.txt").write_text("not a configuration\n")
    (tree.conf_dir / "10-flannel.conflist").unlink()
    primary = install(build_dir, tree, "--conf-source", tree.source("05-lan.conflist", GOOD), "--primary")
    assert primary.code == 0 and "sorts before" not in primary.stderr, primary


def test_primary_behind_another_network_is_warned(build_dir, tree):
    tree.other_network("05-cilium.conflist")
    source = tree.source("10-macvlan.conflist", GOOD)
    run = install(build_dir, tree, "--conf-source", source, "--primary")
    assert run.code == 0, run
    assert (f"cni-install: warning: 05-cilium.conflist sorts before 10-macvlan.conflist in {tree.conf_dir}: "
            "runtimes take 05-cilium.conflist as the node's default network, not 10-macvlan.conflist") \
        in run.stderr, run
    assert run.lines == installed_lines(build_dir, tree, source), run

    # Alone, or first, it is the default network: no warning.
    (tree.conf_dir / "05-cilium.conflist").rename(tree.conf_dir / "20-cilium.conflist")
    again = install(build_dir, tree, "--conf-source", source, "--primary")
    assert again.code == 0 and "sorts before" not in again.stderr, again


# ---------------------------------------------------------------- SKIP and UPDATE


@pytest.mark.parametrize("how", ["flag", "env"])
def test_skip_binaries(build_dir, tree, how):
    args, env = (["--skip-binaries", "dhcp"], None) if how == "flag" else ([], {"SKIP_CNI_BINARIES": " dhcp ,"})
    run = install(build_dir, tree, *args, env=env)
    assert run.code == 0, run
    assert run.lines == [installed_lines(build_dir, tree)[0], f"skipped {tree.bin_dir / 'dhcp'} (in the skip list)"]
    assert_plugins_installed(build_dir, tree, ["macvlan"])
    assert not (tree.bin_dir / "dhcp").exists()


def test_skip_binaries_flag_wins_and_names_are_checked(build_dir, tree):
    run = install(build_dir, tree, "--skip-binaries", "macvlan", env={"SKIP_CNI_BINARIES": "dhcp,macvlan"})
    assert run.code == 0, run
    assert sorted(p.name for p in tree.bin_dir.iterdir()) == ["dhcp"], run

    for args, env, source in ((["--skip-binaries", "dhcp,dhpc"], None, "--skip-binaries"),
                              ([], {"SKIP_CNI_BINARIES": "dhpc"}, "SKIP_CNI_BINARIES")):
        typo = install(build_dir, tree, *args, env=env)
        assert typo.code == 2, typo
        assert f'cni-install: {source} names "dhpc", which is not a binary this installer ships: give a ' \
            "comma-separated list of macvlan and dhcp" in typo.stderr, typo


@pytest.mark.parametrize("how", ["flag", "env"])
def test_update_binaries_false_keeps_present_ones(build_dir, tree, how):
    tree.bin_dir.mkdir(parents=True)
    foreign = tree.bin_dir / "dhcp"
    foreign.write_bytes(b"#!/bin/sh\n# the reference dhcp, say\n")
    foreign.chmod(0o755)
    args, env = (["--update-binaries", "false"], None) if how == "flag" else ([], {"UPDATE_CNI_BINARIES": "false"})
    run = install(build_dir, tree, *args, env=env)
    assert run.code == 0, run
    assert run.lines == [installed_lines(build_dir, tree)[0],
                         f"kept {foreign} (already present, and updating binaries is off)"], run
    assert foreign.read_bytes() == b"#!/bin/sh\n# the reference dhcp, say\n"
    assert_plugins_installed(build_dir, tree, ["macvlan"])

    # The default, and the flag's true over the variable's false, replace it.
    update = install(build_dir, tree, "--update-binaries", "true", env={"UPDATE_CNI_BINARIES": "false"})
    assert update.code == 0, update
    assert_plugins_installed(build_dir, tree)


def test_update_binaries_takes_true_or_false(build_dir, tree):
    for args, env, source in ((["--update-binaries", "no"], None, "--update-binaries"),
                              ([], {"UPDATE_CNI_BINARIES": "no"}, "UPDATE_CNI_BINARIES")):
        run = install(build_dir, tree, *args, env=env)
        assert run.code == 2 and f'cni-install: {source} is "no": it must be true or false' in run.stderr, run
    assert not tree.bin_dir.exists()


# ---------------------------------------------------------------- uninstall


def test_uninstall_removes_ours_only(build_dir, tree):
    source = tree.source("10-macvlan.conflist", GOOD)
    assert install(build_dir, tree, "--conf-source", source, "--primary").code == 0
    # Since then: dhcp replaced by another installation's (same name, other bytes);
    # a loopback and another network's configuration that were never ours.
    foreign = tree.bin_dir / "dhcp"
    foreign.write_bytes(b"\x7fELF another dhcp\n")
    (tree.bin_dir / "loopback").write_bytes(b"\x7fELF loopback\n")
    other = tree.other_network("20-other.conflist")

    dry = install(build_dir, tree, "--uninstall", "--conf-source", source, "--dry-run")
    assert dry.code == 0, dry
    assert dry.lines[:2] == [f"would remove {tree.conf_dir / source.name}", f"would remove {tree.bin_dir / 'macvlan'}"]
    assert (tree.conf_dir / source.name).exists() and (tree.bin_dir / "macvlan").exists()

    run = install(build_dir, tree, "--uninstall", "--conf-source", source)
    assert run.code == 0, run
    assert run.lines == [
        f"removed {tree.conf_dir / source.name}",
        f"removed {tree.bin_dir / 'macvlan'}",
        f"left {foreign}: its bytes differ from {build_dir / 'dhcp'}, so it is not the file this installer put there",
    ], run
    assert sorted(p.name for p in tree.bin_dir.iterdir()) == ["dhcp", "loopback"]
    assert foreign.read_bytes() == b"\x7fELF another dhcp\n"
    assert [p.name for p in tree.conf_dir.iterdir()] == [other.name]

    # Again: nothing of ours is left to remove.
    again = install(build_dir, tree, "--uninstall", "--conf-source", source)
    assert again.code == 0 and again.lines[:2] == [f"absent {tree.conf_dir / source.name}",
                                                   f"absent {tree.bin_dir / 'macvlan'}"], again


def test_uninstall_leaves_an_edited_configuration_and_skipped_binaries(build_dir, tree):
    source = tree.source("10-macvlan.conflist", GOOD)
    assert install(build_dir, tree, "--conf-source", source, "--primary").code == 0
    edited = tree.conf_dir / source.name
    edited.write_text(json.dumps(good(master="ens9")))

    run = install(build_dir, tree, "--uninstall", "--conf-source", source, env={"SKIP_CNI_BINARIES": "dhcp"})
    assert run.code == 0, run
    assert run.lines == [
        f"left {edited}: its bytes differ from {source}, so it is not the file this installer put there",
        f"removed {tree.bin_dir / 'macvlan'}",
        f"skipped {tree.bin_dir / 'dhcp'} (in the skip list)",
    ], run
    assert edited.exists() and (tree.bin_dir / "dhcp").exists()


# ---------------------------------------------------------------- loopback, directories


def test_missing_loopback_is_warned(build_dir, tree):
    run = install(build_dir, tree)
    assert run.code == 0, run
    assert (f"cni-install: warning: no loopback plugin in {tree.bin_dir}: containerd and CRI-O run it from this "
            "directory for every pod") in run.stderr, run

    loopback = tree.bin_dir / "loopback"
    loopback.write_bytes(b"\x7fELF loopback\n")
    loopback.chmod(0o755)
    present = install(build_dir, tree)
    assert present.code == 0 and "loopback" not in present.stderr, present


def test_missing_directories_are_created(build_dir, tree):
    source = tree.source("10-macvlan.conflist", GOOD)
    deep_bin, deep_conf = tree.root / "a" / "b" / "bin", tree.root / "c" / "d" / "net.d"
    run = install(build_dir, tree, "--conf-source", source, "--primary", "--cni-bin-dir", deep_bin,
                  "--cni-conf-dir", deep_conf)
    assert run.code == 0, run
    assert sorted(p.name for p in deep_bin.iterdir()) == sorted(PLUGINS)
    assert (deep_conf / source.name).read_bytes() == source.read_bytes()


@pytest.mark.parametrize("which", ["bin", "conf"])
def test_directory_that_cannot_be_created_is_refused(build_dir, tree, which):
    source = tree.source("10-macvlan.conflist", GOOD)
    blocker = tree.root / "blocker"
    blocker.write_text("a file where a directory should be\n")
    bad = blocker / "net"
    args = ["--cni-bin-dir", bad] if which == "bin" else ["--cni-conf-dir", bad]
    run = install(build_dir, tree, "--conf-source", source, "--primary", *args)
    assert run.code == 1, run
    what = "CNI bin dir" if which == "bin" else "CNI conf dir"
    assert f"cni-install: cannot create the {what} {bad}: Not a directory; check that the path" in run.stderr, run
    assert "nothing was installed" in run.stderr and run.stdout == "", run
    # The other directory may be there, empty: no plugin was written before the refusal.
    for d in (tree.bin_dir, tree.conf_dir):
        assert not d.exists() or not any(d.iterdir()), sorted(d.iterdir())


def test_missing_plugin_source_is_refused_before_anything_is_written(build_dir, tree):
    empty = tree.root / "empty-bin-source"
    empty.mkdir()
    run = install(build_dir, tree, "--bin-source", empty)
    assert run.code == 1, run
    assert f"cni-install: cannot open the plugin {empty / 'macvlan'}: No such file or directory; check " \
        "--bin-source" in run.stderr, run
    assert not tree.bin_dir.exists()
