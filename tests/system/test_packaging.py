"""Releases and packaging (docs/packaging.md): the version every binary reports,
`make install`/`uninstall`, the man pages, `make dist` and `make image`.

- `--version` of macvlan, dhcp and cni-install prints VERSION and, built from git,
  the commit; a runtime's CNI VERSION answer is untouched by it.
- `make install DESTDIR=... PREFIX=/usr` puts each file where docs/packaging.md says,
  with its mode; CNI_BIN_DIR moves the plugins and the systemd service with them;
  `make uninstall` removes every file again.
- The man pages lint clean (groff -ww, mandoc -T lint) and name every daemon flag,
  every configuration key and every DHCP option name the code takes.
- `make dist`, run in a one-commit copy of this tree (so that the files not yet
  committed here are in it), gives a reproducible tarball of exactly the tracked
  files, LICENSE and the man pages among them, whose VERSION holds the whole version
  text; dhcp built from it, unpacked inside another git work tree, reports that text.
- `make image` (podman, offline, state in a test folder as in test_deploy_image.py):
  the OCI labels, stripped static binaries and nothing else, `dhcp` on PATH.

Builds go to CNT_BUILD_DIR (brought up to date first) or to test folders, which are
removed afterwards, pass or fail.
"""

from __future__ import annotations

import filecmp
import json
import re
import shutil
import stat
import tarfile
from pathlib import Path

import pytest

from deploy_helpers import DEPLOY_DIR, REPO_ROOT
from lab import TempDir, run, run_plugin
from test_deploy_image import Podman, missing_tools
from test_version import EXPECTED_VERSION_OUTPUT, is_sanitizer_build

BINARIES = ("macvlan", "dhcp", "cni-install")
MAN_PAGES = ("man/dhcp.8", "man/cni-macvlan.5", "man/cni-dhcp.5")
RELEASE = (REPO_ROOT / "VERSION").read_text().strip()
IN_GIT = (REPO_ROOT / ".git").exists()
MAKE_TIMEOUT = 300.0
IMAGE = "localhost/cni-lan-pkg:test"
IMAGE_SOURCE = "https://example.invalid/cni-lan"
IMAGE_BIN = "opt/cni-lan/bin"
GIT_IDENTITY = ["-c", "user.name=cnt", "-c", "user.email=cnt@example.invalid", "-c", "commit.gpgsign=false"]

# Each file `make install DESTDIR=D PREFIX=/usr` makes, and its mode.
INSTALLED = {
    "opt/cni/bin/macvlan": 0o755,
    "opt/cni/bin/dhcp": 0o755,
    "usr/sbin/cni-install": 0o755,
    "usr/lib/systemd/system/cni-dhcp.service": 0o644,
    "usr/lib/systemd/system/cni-dhcp.socket": 0o644,
    "usr/share/man/man8/dhcp.8": 0o644,
    "usr/share/man/man5/cni-macvlan.5": 0o644,
    "usr/share/man/man5/cni-dhcp.5": 0o644,
    "usr/share/doc/cni-lan/LICENSE": 0o644,
}


def make(directory: Path, *args: object, env=None) -> str:
    """`make -C directory ARGS`; its output, or a failure showing it."""
    done = run(["make", "--no-print-directory", "-C", directory, *args], check=False, env=env,
               timeout=MAKE_TIMEOUT)
    assert done.returncode == 0, f"make {' '.join(map(str, args))} failed:\n{done.stdout}{done.stderr}"
    return done.stdout


def head_commit(repo: Path) -> str:
    return run(["git", "-C", repo, "rev-parse", "HEAD"]).stdout.strip()


def assert_version_text(text: str, release: str, commit: str | None) -> None:
    """`text` is `release`, plus `+g<commit>` (abbreviated, maybe -dirty) when built from git."""
    if commit is None:
        assert text == release, f"{text!r}: expected {release!r}, with no commit outside git"
        return
    found = re.fullmatch(re.escape(release) + r"\+g([0-9a-f]{7,40})(-dirty)?", text)
    assert found, f"{text!r} is not {release}+g<commit>[-dirty]"
    assert commit.startswith(found.group(1)), f"{text!r} names commit {found.group(1)}, HEAD is {commit}"


def reported_version(binary: Path) -> str:
    """What `binary --version` says after its own name: one line on stdout, exit 0."""
    done = run([binary, "--version"], check=False)
    assert (done.returncode, done.stderr) == (0, ""), f"{binary} --version: {done.returncode} {done.stderr}"
    name, _, text = done.stdout.partition(" ")
    assert name == binary.name and text.endswith("\n") and "\n" not in text[:-1], done.stdout
    return text[:-1]


@pytest.fixture(scope="module")
def built(build_dir: Path) -> Path:
    """CNT_BUILD_DIR's three binaries brought up to date with the tree (and HEAD, which
    their version names); nothing is rebuilt when they are."""
    san = ["SAN=1"] if is_sanitizer_build(build_dir / "dhcp") else []
    make(REPO_ROOT, f"BUILD={build_dir}", *san, *(build_dir / name for name in BINARIES))
    return build_dir


@pytest.fixture
def workdir():
    folder = TempDir(prefix="cnt-pkg-")
    yield folder.path
    folder.delete()


# ---------------------------------------------------------------- versions

@pytest.mark.parametrize("name", BINARIES)
def test_version_flag_reports_the_release_and_commit(built, name):
    assert_version_text(reported_version(built / name), RELEASE, head_commit(REPO_ROOT) if IN_GIT else None)


def test_make_version_and_the_binaries_agree(built):
    text = make(REPO_ROOT, "-s", "version").strip()
    assert_version_text(text, RELEASE, head_commit(REPO_ROOT) if IN_GIT else None)
    # The tree may become dirty (or clean) between the build and now: compare commits.
    commit = text.removesuffix("-dirty")
    for name in ("macvlan", "dhcp"):
        assert reported_version(built / name).removesuffix("-dirty") == commit, name


@pytest.mark.parametrize("name", ["macvlan", "dhcp"])
def test_cni_version_answer_is_untouched(built, name):
    release = reported_version(built / name)
    answer = run_plugin(built / name, "VERSION", {"cniVersion": "1.0.0"}, container_id=None)
    assert (answer.code, answer.stdout, answer.stderr) == (0, EXPECTED_VERSION_OUTPUT, "")
    assert release not in answer.stdout


# ---------------------------------------------------------------- make install


def installed_files(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): stat.S_IMODE(p.stat().st_mode) for p in root.rglob("*") if not p.is_dir()}


def test_install_puts_every_file_where_documented_and_uninstall_removes_them(built, workdir):
    destdir = workdir / "root"
    layout = ["PREFIX=/usr", f"DESTDIR={destdir}", f"BUILD={built}"]
    make(REPO_ROOT, *layout, "install")

    assert installed_files(destdir) == INSTALLED
    documented = (REPO_ROOT / "docs" / "packaging.md").read_text()
    for path in INSTALLED:
        assert f"/{path}" in documented, f"docs/packaging.md does not say where /{path} goes"
    for name in ("macvlan", "dhcp"):
        assert filecmp.cmp(destdir / "opt/cni/bin" / name, built / name, shallow=False), name
    assert filecmp.cmp(destdir / "usr/sbin/cni-install", built / "cni-install", shallow=False)
    for page in MAN_PAGES:
        section = page[-1]
        assert filecmp.cmp(destdir / f"usr/share/man/man{section}" / Path(page).name, REPO_ROOT / page,
                           shallow=False), page
    assert filecmp.cmp(destdir / "usr/share/doc/cni-lan/LICENSE", REPO_ROOT / "LICENSE", shallow=False)
    for unit in ("cni-dhcp.service", "cni-dhcp.socket"):
        assert filecmp.cmp(destdir / "usr/lib/systemd/system" / unit, DEPLOY_DIR / "systemd" / unit,
                           shallow=False), f"{unit} changed on the way with the default CNI_BIN_DIR"

    make(REPO_ROOT, *layout, "uninstall")
    assert installed_files(destdir) == {}, "make uninstall left files behind"
    assert not (destdir / "usr/share/doc/cni-lan").exists()


def test_install_moves_the_daemon_with_cni_bin_dir(built, workdir):
    destdir = workdir / "root"
    make(REPO_ROOT, "PREFIX=/usr", f"DESTDIR={destdir}", f"BUILD={built}", "CNI_BIN_DIR=/usr/lib/cni", "install")

    assert {"usr/lib/cni/macvlan", "usr/lib/cni/dhcp"} <= installed_files(destdir).keys()
    assert not (destdir / "opt").exists()
    service = (destdir / "usr/lib/systemd/system/cni-dhcp.service").read_text()
    [exec_start] = [line for line in service.splitlines() if line.startswith("ExecStart=")]
    assert exec_start.startswith("ExecStart=/usr/lib/cni/dhcp daemon "), exec_start
    assert "/opt/cni/bin" not in service


# ---------------------------------------------------------------- man pages


def rendered(page: str) -> str:
    """The page as a reader sees it, without the overstrike of bold and underline."""
    text = run(["mandoc", "-T", "ascii", REPO_ROOT / page]).stdout
    return re.sub(r".\x08", "", text)


def c_strings(path: str, start: str, end: str) -> list[str]:
    """The string literals of the source between `start` and the next `end`."""
    source = (REPO_ROOT / path).read_text()
    begin = source.index(start)
    return re.findall(r'"([^"]+)"', source[begin:source.index(end, begin)])


@pytest.fixture(scope="module")
def man_tools():
    missing = [tool for tool in ("groff", "mandoc") if not shutil.which(tool)]
    if missing:
        pytest.fail(f"{', '.join(missing)} not found: run scripts/install-deps.sh (groff-base, mandoc)",
                    pytrace=False)


@pytest.mark.parametrize("page", MAN_PAGES)
def test_man_page_lints_clean(man_tools, page):
    groff = run(["groff", "-man", "-ww", "-z", REPO_ROOT / page], check=False)
    assert (groff.returncode, groff.stderr) == (0, ""), groff.stderr
    mandoc = run(["mandoc", "-T", "lint", "-W", "warning", REPO_ROOT / page], check=False)
    assert (mandoc.returncode, mandoc.stdout + mandoc.stderr) == (0, ""), mandoc.stdout + mandoc.stderr


def test_dhcp_page_names_every_daemon_flag_and_command(man_tools, built):
    help_text = run([built / "dhcp", "daemon", "--help"]).stdout
    flags = re.findall(r"^ {2}(-{1,2}[a-z][a-z-]*)", help_text, re.MULTILINE)
    assert len(flags) >= 10, f"too few flags found in dhcp daemon --help:\n{help_text}"
    page = rendered("man/dhcp.8")
    for word in [*flags, "dhcp status", "dhcp list", "--json", "--version", "SIGTERM", "/run/cni/dhcp.sock"]:
        assert word in page, f"dhcp(8) does not mention {word}"


def test_config_pages_name_every_key_and_option(man_tools):
    ipam_keys = c_strings("src/dhcp/ipam_conf.c", "dhcp_ipam_keys[] = {", "NULL")
    options = c_strings("src/dhcp4/options.c", "option_names[] = {", "};")
    macvlan_keys = c_strings("src/macvlan/config.c", "known[] = {", "NULL")
    # What the specification and runtimes put in every configuration, not macvlan's.
    spec_keys = {"args", "capabilities", "prevResult", "cni.dev/valid-attachments", "cni.dev/attachments"}
    assert "arpProbe" in ipam_keys and "fqdn" in options and "bcqueuelen" in macvlan_keys
    dhcp_page, macvlan_page = rendered("man/cni-dhcp.5"), rendered("man/cni-macvlan.5")
    for word in ipam_keys + options:
        assert re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", dhcp_page), f"cni-dhcp(5) does not mention {word}"
    for key in set(macvlan_keys) - spec_keys:
        assert re.search(rf"(?<![\w-]){re.escape(key)}(?![\w-])", macvlan_page), f"cni-macvlan(5) lacks {key}"


# ---------------------------------------------------------------- make dist


def snapshot_repository(into: Path) -> Path:
    """A one-commit repository of this work tree as it is (tracked files, and new ones
    not ignored), so that `make dist` packs what is here now."""
    listed = run(["git", "-C", REPO_ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard"]).stdout
    for name in sorted(set(filter(None, listed.split("\0")))):
        source = REPO_ROOT / name
        if source.is_symlink() or source.is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name, follow_symlinks=False)
    run(["git", "-C", into, "init", "-q"])
    run(["git", "-C", into, "add", "-A"])
    run(["git", *GIT_IDENTITY, "-C", into, "commit", "-q", "-m", "snapshot"])
    return into


def test_dist_tarball_builds_to_the_same_version_without_git(workdir):
    if not IN_GIT:
        pytest.skip("make dist needs a git checkout: this tree has no .git")
    repo = snapshot_repository(workdir / "repo")
    out = workdir / "out"
    make(repo, f"BUILD={out}", "dist")

    [tarball] = out.glob("*.tar.gz")
    assert sorted(p.name for p in out.iterdir()) == sorted([tarball.name, "version.c"]), "dist left files behind"
    name = tarball.name.removesuffix(".tar.gz")
    version = name.removeprefix("cni-lan-")
    assert_version_text(version, RELEASE, head_commit(repo))
    assert not version.endswith("-dirty")

    with tarfile.open(tarball) as tar:
        members = {m.name: m for m in tar.getmembers()}
        files = {n.removeprefix(f"{name}/") for n, m in members.items() if not m.isdir()}
        version_file = tar.extractfile(f"{name}/VERSION").read().decode()
    assert all(n == name or n.startswith(f"{name}/") for n in members), sorted(members)[:5]
    tracked = set(run(["git", "-C", repo, "ls-files"]).stdout.split())
    assert files == tracked, f"not tracked: {sorted(files - tracked)}; missing: {sorted(tracked - files)}"
    assert {"LICENSE", "VERSION", "Makefile", *MAN_PAGES} <= files
    assert all((m.uid, m.gid, m.uname, m.gname) == (0, 0, "", "") for m in members.values())
    assert version_file == version + "\n"

    # The same commit gives the same bytes.
    first = tarball.read_bytes()
    make(repo, f"BUILD={out}", "dist")
    assert tarball.read_bytes() == first, "make dist is not reproducible"

    # Unpacked inside a git work tree (as a packaging repository would hold it), the
    # tarball's own VERSION is the whole text: no commit of the outer tree is added.
    unpacked = repo / "unpacked"
    unpacked.mkdir()
    run(["tar", "-xzf", tarball, "-C", unpacked])
    build = workdir / "tarball-build"
    make(unpacked / name, "-j2", f"BUILD={build}", build / "dhcp")
    assert reported_version(build / "dhcp") == version


# ---------------------------------------------------------------- make image


@pytest.fixture(scope="module")
def podman(require_root):
    missing = missing_tools()
    if missing:
        pytest.skip(f"the image test needs podman: missing {', '.join(missing)} (scripts/install-deps.sh)")
    folder = TempDir(prefix="cnt-pkg-podman-")
    try:
        engine = Podman(folder.path)
        holder = engine.start_holder()
        try:
            yield engine, holder
        finally:
            engine(holder, "rm", "--all", "--force", "--time", "0", check=False)
            engine(holder, "rmi", "--all", "--force", check=False)
            holder.stop()
    finally:
        folder.delete()


def test_image_is_labelled_stripped_and_has_dhcp_on_path(podman, built, workdir):
    engine, holder = podman
    if is_sanitizer_build(built / "dhcp"):
        pytest.skip("sanitizer builds (make SAN=1) are dynamic: they cannot run in a FROM scratch image")
    make(REPO_ROOT, f"BUILD={built}", "image", f"IMAGE={IMAGE}", f"IMAGE_SOURCE={IMAGE_SOURCE}",
         f"IMAGE_STAGE={workdir / 'stage'}", f"PODMAN=nsenter --target={holder.pid} --mount --net podman",
         env=engine.env)
    version = reported_version(built / "dhcp")

    config = json.loads(engine(holder, "image", "inspect", IMAGE).stdout)[0]["Config"]
    labels = {k.removeprefix("org.opencontainers.image."): v for k, v in config["Labels"].items()
              if k.startswith("org.opencontainers.image.")}
    assert labels.pop("description")
    assert labels == {"title": "cni-lan", "licenses": "Apache-2.0", "version": version, "source": IMAGE_SOURCE,
                      "revision": head_commit(REPO_ROOT) if IN_GIT else version.partition("+g")[2]}, labels
    assert "PATH=/opt/cni-lan/bin" in config["Env"], config["Env"]
    # What the DaemonSet's init container runs with its args (test_deploy_image.py checks
    # the default command against the manifest).
    assert config["Entrypoint"] == [f"/{IMAGE_BIN}/cni-install"]

    rootfs = Path(engine(holder, "image", "mount", IMAGE).stdout.strip())
    try:
        files = sorted(str(p.relative_to(rootfs)) for p in rootfs.rglob("*") if not p.is_dir())
        assert files == sorted(f"{IMAGE_BIN}/{name}" for name in BINARIES), files
        for name in BINARIES:
            inside = rootfs / IMAGE_BIN / name
            kind = run(["file", "-b", inside]).stdout
            assert ", stripped" in kind and re.search(r"static-pie linked|statically linked", kind), f"{name}: {kind}"
            stripped = workdir / f"{name}.stripped"
            run(["strip", "--strip-all", "-o", stripped, built / name])
            assert filecmp.cmp(inside, stripped, shallow=False), f"{name} in the image is not {built / name} stripped"
    finally:
        engine(holder, "image", "unmount", IMAGE, check=False)

    # No path given: found through the image's PATH, as `kubectl exec POD -- dhcp status` is.
    done = engine(holder, "run", "--rm", "--network", "none", "--entrypoint", "dhcp", IMAGE, "--version")
    assert done.stdout == f"dhcp {version}\n", done.stdout + done.stderr
