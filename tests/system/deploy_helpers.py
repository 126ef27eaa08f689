"""The deployment's manifests, for test_deploy_*.py: the Node project in tests/deploy
(kubernetes-models, js-yaml) installed with `npm ci` when its lock file changed,
the manifests read through it, and the CNI configurations they carry turned into
what a runtime hands a plugin.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Optional

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY_DIR = REPO_ROOT / "deploy"
MANIFEST_DIR = DEPLOY_DIR / "kubernetes"
NODE_PROJECT = REPO_ROOT / "tests" / "deploy"
VALIDATOR = NODE_PROJECT / "validate.mjs"
TO_JSON = NODE_PROJECT / "to-json.mjs"

# npm gives up on the registry after these (ms), and the whole `npm ci` after
# NPM_CI_TIMEOUT s: an unreachable registry fails the test, it never hangs it.
NPM_ENV = {
    "npm_config_fetch_retries": "1",
    "npm_config_fetch_timeout": "30000",
    "npm_config_fetch_retry_mintimeout": "2000",
    "npm_config_fetch_retry_maxtimeout": "10000",
    "npm_config_update_notifier": "false",
    "npm_config_audit": "false",
    "npm_config_fund": "false",
}
NPM_CI_TIMEOUT = 180.0
NODE_TIMEOUT = 60.0
MIN_NODE_MAJOR = 18


def _stamp() -> str:
    """What node_modules was installed from: the lock file, package.json and node."""
    h = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        h.update((NODE_PROJECT / name).read_bytes())
    h.update(subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.encode())
    return h.hexdigest()


def ensure_node_project() -> Path:
    """`npm ci` in tests/deploy unless node_modules already holds exactly the lock
    file's packages (a stamp written after the last successful `npm ci`). Fails the
    test with npm's output when node or npm is missing or npm ci fails."""
    for tool in ("node", "npm"):
        if not shutil.which(tool):
            pytest.fail(f"`{tool}` not found: the deployment checks need Node.js >= {MIN_NODE_MAJOR} "
                        f"with npm (scripts/install-deps.sh installs them)", pytrace=False)
    version = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    if int(version.lstrip("v").split(".")[0] or 0) < MIN_NODE_MAJOR:
        pytest.fail(f"node {version} is too old: the deployment checks need >= {MIN_NODE_MAJOR}", pytrace=False)
    stamp_path = NODE_PROJECT / "node_modules" / ".cnt-npm-ci-stamp"
    stamp = _stamp()
    if stamp_path.is_file() and stamp_path.read_text() == stamp:
        return NODE_PROJECT
    argv = ["npm", "ci", "--no-audit", "--no-fund", "--prefer-offline"]
    try:
        done = subprocess.run(argv, cwd=NODE_PROJECT, capture_output=True, text=True,
                              env={**os.environ, **NPM_ENV}, timeout=NPM_CI_TIMEOUT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"`npm ci` in {NODE_PROJECT} did not finish in {NPM_CI_TIMEOUT:g} s "
                    f"(is the npm registry reachable?)\n{e.stdout or ''}{e.stderr or ''}", pytrace=False)
    if done.returncode != 0:
        pytest.fail(f"`npm ci` in {NODE_PROJECT} failed ({done.returncode}; is the npm registry "
                    f"reachable?):\n{done.stdout}{done.stderr}", pytrace=False)
    stamp_path.write_text(stamp)
    return NODE_PROJECT


def run_node(script: Path, *args: Any, check: bool = False) -> subprocess.CompletedProcess:
    done = subprocess.run(["node", str(script), *map(str, args)], capture_output=True, text=True,
                          timeout=NODE_TIMEOUT, cwd=NODE_PROJECT, stdin=subprocess.DEVNULL)
    if check and done.returncode != 0:
        raise AssertionError(f"node {script.name} {' '.join(map(str, args))} exited with {done.returncode}:\n"
                             f"{done.stdout}{done.stderr}")
    return done


def manifest_files() -> list[Path]:
    return sorted(MANIFEST_DIR.glob("*.yaml"))


def load_manifests(*files: Path) -> list[dict]:
    """Every document of the files (default: deploy/kubernetes/*.yaml), read by js-yaml
    as the validator reads them."""
    done = run_node(TO_JSON, *(files or manifest_files()), check=True)
    return json.loads(done.stdout)


def find_document(docs: list[dict], kind: str, name: Optional[str] = None) -> dict:
    found = [d for d in docs if d.get("kind") == kind and (name is None or d["metadata"]["name"] == name)]
    assert len(found) == 1, f"expected one {kind} {name or ''} in the manifests, found {len(found)}"
    return found[0]


def configmap_conflist(docs: list[dict]) -> tuple[str, str]:
    """(key, text) of the one *.conflist in the ConfigMap the DaemonSet mounts."""
    configmap = find_document(docs, "ConfigMap")
    keys = [k for k in configmap["data"] if k.endswith(".conflist")]
    assert len(keys) == 1, f"expected one .conflist in ConfigMap {configmap['metadata']['name']}: {keys}"
    return keys[0], configmap["data"][keys[0]]


def nad_config(docs: list[dict]) -> str:
    """The Multus NetworkAttachmentDefinition's spec.config (JSON text)."""
    return find_document(docs, "NetworkAttachmentDefinition")["spec"]["config"]


def plugin_config(conf: dict, index: int = 0, prev_result: Optional[dict] = None) -> dict:
    """What libcni hands plugin `index` of a conflist (buildOneConfig): the plugin's
    own object with the list's cniVersion and name injected, and prevResult when
    given. A single-plugin configuration (no "plugins") goes as it is."""
    if "plugins" in conf:
        one = copy.deepcopy(conf["plugins"][index])
        one["cniVersion"] = conf["cniVersion"]
        one["name"] = conf["name"]
    else:
        one = copy.deepcopy(conf)
    if prev_result is not None:
        one["prevResult"] = prev_result
    return one


def for_lab(conf: dict, master: str, socket_path: Optional[Path] = None) -> dict:
    """The deployed configuration with the two site values a lab needs changed: the
    master interface (EDIT in the manifests) and, when given, the daemon's socket."""
    conf = copy.deepcopy(conf)
    plugins = conf["plugins"] if "plugins" in conf else [conf]
    for plugin in plugins:
        if plugin.get("type") == "macvlan":
            plugin["master"] = master
            if socket_path is not None:
                plugin["ipam"]["daemonSocketPath"] = str(socket_path)
    return conf
