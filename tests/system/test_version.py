"""VERSION, the about text, and the errors every command meets before it does
anything: environment, JSON, and which spec version allows which command.

No namespace is needed: nothing here reaches the network. The configurations
still point at things that cannot exist (a master named cnt-nosuch0, a daemon
socket under /nonexistent), so that a plugin that wrongly went ahead could not
touch anything real.
"""

import re
import subprocess

import pytest

from lab import run_plugin

EXPECTED_VERSION_OUTPUT = (
    '{"cniVersion":"1.1.0","supportedVersions":'
    '["0.1.0","0.2.0","0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}\n'
)
ALL_VERSIONS = ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]
REQUIRED_FOR_ADD = ["CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_PATH"]
NO_SUCH_NETNS = "/run/netns/cnt-does-not-exist"
NO_SUCH_PATH = "/nonexistent/cni/bin"


@pytest.fixture(params=["macvlan", "dhcp"])
def plugin(request, build_dir):
    return build_dir / request.param


def config_for(plugin, version="1.0.0"):
    """A harmless network configuration for either plugin."""
    if plugin.name == "macvlan":
        return {"cniVersion": version, "name": "cnt-net", "type": "macvlan",
                "master": "cnt-nosuch0", "ipam": {}}
    return {"cniVersion": version, "name": "cnt-net", "type": "macvlan", "master": "cnt-nosuch0",
            "ipam": {"type": "dhcp", "daemonSocketPath": "/nonexistent/dhcp.sock"}}


def full_env(**overrides):
    """Every variable a command can need, pointing at nothing real."""
    env = dict(netns=NO_SUCH_NETNS, ifname="eth0", container_id="cnt-c1", cni_path=NO_SUCH_PATH)
    env.update(overrides)
    return env


def assert_cni_error(run, code):
    """Failed with the CNI error `code`, printed as JSON on stdout."""
    assert run.code != 0, f"expected failure, got exit 0 with {run.stdout!r}"
    assert isinstance(run.output, dict), f"stdout is not a JSON error: {run.stdout!r}"
    assert {"cniVersion", "code", "msg"} <= run.output.keys(), run.output
    assert run.output["code"] == code, run.output
    assert run.output["msg"], run.output
    return run.output


# --- VERSION


def test_version_answers_request_on_stdin(plugin):
    run = run_plugin(plugin, "VERSION", {"cniVersion": "1.0.0"}, container_id=None)
    assert run.code == 0, run
    assert run.stdout == EXPECTED_VERSION_OUTPUT
    assert run.stderr == ""


@pytest.mark.parametrize("requested", ALL_VERSIONS + ["0.0.1", "9.9.9"])
def test_version_answer_does_not_depend_on_requested_version(plugin, requested):
    run = run_plugin(plugin, "VERSION", {"cniVersion": requested}, container_id=None)
    assert (run.code, run.stdout) == (0, EXPECTED_VERSION_OUTPUT)


def test_version_without_stdin(plugin):
    run = run_plugin(plugin, "VERSION", None, container_id=None)
    assert (run.code, run.stdout, run.stderr) == (0, EXPECTED_VERSION_OUTPUT, "")


def test_version_as_libcni_validates_a_network(plugin):
    # libcni's ValidateNetworkList / podman: dummy values, the others exported empty.
    run = run_plugin(plugin, "VERSION", {"cniVersion": "1.0.0"}, netns="dummy", ifname="dummy",
                     cni_path="dummy", container_id="", args="")
    assert (run.code, run.stdout, run.stderr) == (0, EXPECTED_VERSION_OUTPUT, "")


def test_version_with_invalid_json_is_a_decode_error(plugin):
    assert_cni_error(run_plugin(plugin, "VERSION", "{not json", container_id=None), 6)


# --- no command: the about text


@pytest.mark.parametrize("command", [None, ""], ids=["unset", "empty"])
def test_about_text_without_command(plugin, command):
    run = run_plugin(plugin, command, None, container_id=None)
    assert run.code == 0, run
    assert run.stdout == ""
    assert plugin.name in run.stderr
    assert "CNI protocol versions supported: 0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0" in run.stderr


# --- environment


def test_add_without_environment_lists_every_missing_variable(plugin):
    run = run_plugin(plugin, "ADD", config_for(plugin), container_id=None)
    error = assert_cni_error(run, 4)
    for name in REQUIRED_FOR_ADD:
        assert name in error["msg"], error
    assert "ADD" in error["msg"]


@pytest.mark.parametrize("missing", REQUIRED_FOR_ADD)
@pytest.mark.parametrize("how", ["unset", "empty"])
def test_add_names_exactly_the_missing_variable(plugin, missing, how):
    # libcni exports all six variables, unused ones as "": empty counts as missing.
    run = run_plugin(plugin, "ADD", config_for(plugin), **full_env(),
                     env_extra={missing: None if how == "unset" else ""})
    error = assert_cni_error(run, 4)
    assert missing in error["msg"], error
    for other in set(REQUIRED_FOR_ADD) - {missing}:
        assert other not in error["msg"], error


def test_unknown_command_is_an_environment_error(plugin):
    error = assert_cni_error(run_plugin(plugin, "FROB", config_for(plugin), **full_env()), 4)
    assert "FROB" in error["msg"]


@pytest.mark.parametrize("command", ["ADD", "DEL", "CHECK"])
def test_invalid_json_is_a_decode_error(plugin, command):
    assert_cni_error(run_plugin(plugin, command, '{"cniVersion": "1.0.0", "name": ', **full_env()), 6)


# --- which spec version allows which command


@pytest.mark.parametrize("version", ["0.1.0", "0.2.0", "0.3.0", "0.3.1"])
def test_check_before_040_is_incompatible(plugin, version):
    run = run_plugin(plugin, "CHECK", config_for(plugin, version), **full_env())
    error = assert_cni_error(run, 1)
    assert "CHECK" in error["msg"]
    assert error["cniVersion"] == version  # errors answer in the config's version


@pytest.mark.parametrize("command", ["STATUS", "GC"])
@pytest.mark.parametrize("version", ["0.4.0", "1.0.0"])
def test_status_and_gc_before_110_are_incompatible(plugin, command, version):
    conf = config_for(plugin, version)
    conf["cni.dev/valid-attachments"] = []
    run = run_plugin(plugin, command, conf, container_id=None, cni_path=NO_SUCH_PATH)
    error = assert_cni_error(run, 1)
    assert command in error["msg"]


@pytest.mark.parametrize("command,version", [("CHECK", "0.4.0"), ("CHECK", "1.0.0"),
                                             ("STATUS", "1.1.0"), ("GC", "1.1.0")])
def test_commands_pass_the_version_gate_from_their_version_on(plugin, command, version):
    # Whatever the command then says about this harmless config, it is not "incompatible".
    conf = config_for(plugin, version)
    conf["cni.dev/valid-attachments"] = []
    run = run_plugin(plugin, command, conf, **full_env())
    if run.code != 0:
        assert isinstance(run.output, dict) and run.output.get("code") != 1, run


# --- the binaries themselves


def is_sanitizer_build(binary):
    return b"__asan_init" in binary.read_bytes()


def test_binary_is_statically_linked(plugin):
    if is_sanitizer_build(plugin):
        pytest.skip("sanitizer builds (make SAN=1) are dynamic by design")
    description = subprocess.run(["file", "-L", str(plugin)], capture_output=True, text=True,
                                 check=True).stdout
    # gcc -static-pie: "static-pie linked"; -static: "statically linked".
    assert re.search(r"statically linked|static-pie linked", description), description
    assert "dynamically linked" not in description
    assert "interpreter" not in description
