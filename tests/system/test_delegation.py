"""IPAM delegation, driven through ipam-shim (a plugin that only delegates to
ipam.type and prints the result) against Debian's reference host-local and
static. The shim runs inside the lab's node netns with CNI_NETNS = a pod, as a
runtime on that node would run it.
"""

import ipaddress
import json

import pytest

from lab import run_plugin

pytestmark = pytest.mark.usefixtures("require_root")  # every test builds namespaces
HOST_LOCAL_VERSIONS = ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0"]
LEGACY_VERSIONS = {"0.1.0", "0.2.0"}  # result shape with ip4/ip6 objects


@pytest.fixture
def resolv_conf(lab):
    """A resolv.conf for host-local to put into the result's dns."""
    path = lab.workdir / "resolv.conf"
    path.write_text(f"nameserver {lab.address(53)}\nnameserver {lab.address(54)}\n"
                    "domain lab.test\nsearch lab.test example.test\noptions ndots:2\n")
    return path


@pytest.fixture
def host_local_dir(lab):
    return lab.workdir / "host-local"


def host_local_conf(lab, version, data_dir, resolv_conf=None, **ipam_extra):
    ipam = {
        "type": "host-local",
        "ranges": [[{"subnet": str(lab.network), "rangeStart": lab.address(50),
                     "rangeEnd": lab.address(99), "gateway": lab.router}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": str(data_dir),
    }
    if resolv_conf:
        ipam["resolvConf"] = str(resolv_conf)
    ipam.update(ipam_extra)
    return {"cniVersion": version, "name": f"{lab.id}-net", "type": "ipam-shim", "ipam": ipam}


@pytest.fixture
def shim(lab, pod, ipam_shim_bin, cni_bin_dir):
    """Runs ipam-shim as the runtime would: in the node, for container cnt-c1, eth0 in the pod."""
    def call(command, conf, **kwargs):
        kwargs.setdefault("netns", pod)
        kwargs.setdefault("ifname", "eth0")
        kwargs.setdefault("container_id", "cnt-c1")
        kwargs.setdefault("cni_path", cni_bin_dir)
        return lab.run_plugin(ipam_shim_bin, command, conf, **kwargs)
    return call


def reservation_file(data_dir, conf, address):
    """host-local keeps one file per allocated address, named after it."""
    return data_dir / conf["name"] / address.split("/")[0]


def allocated_address(result, version):
    if version in LEGACY_VERSIONS:
        return result["ip4"]["ip"]
    return result["ips"][0]["address"]


def assert_in_pool(lab, cidr):
    iface = ipaddress.IPv4Interface(cidr)
    assert iface.network == lab.network, cidr
    assert ipaddress.IPv4Address(lab.address(50)) <= iface.ip <= ipaddress.IPv4Address(lab.address(99)), cidr


def test_host_local_supports_the_versions_tested_here(reference_plugins):
    run = run_plugin(reference_plugins / "host-local", "VERSION", {"cniVersion": "1.0.0"}, container_id=None)
    assert run.code == 0, run
    assert set(HOST_LOCAL_VERSIONS) <= set(run.output["supportedVersions"])


# --- ADD: the result in each version's shape


@pytest.mark.parametrize("version", HOST_LOCAL_VERSIONS)
def test_add_result_has_the_shape_of_its_version(lab, shim, host_local_dir, resolv_conf, version):
    conf = host_local_conf(lab, version, host_local_dir, resolv_conf)
    code, result, stderr = shim("ADD", conf)
    assert code == 0, (result, stderr)
    assert result["cniVersion"] == version
    expected_dns = {"nameservers": [lab.address(53), lab.address(54)], "domain": "lab.test",
                    "search": ["lab.test", "example.test"], "options": ["ndots:2"]}

    if version in LEGACY_VERSIONS:
        assert set(result) == {"cniVersion", "ip4", "dns"}, result
        assert_in_pool(lab, result["ip4"]["ip"])
        assert result["ip4"]["gateway"] == lab.router
        assert result["ip4"]["routes"] == [{"dst": "0.0.0.0/0"}]
    else:
        # An IPAM result: no interfaces, no ips[].interface.
        assert set(result) == {"cniVersion", "ips", "routes", "dns"}, result
        assert len(result["ips"]) == 1, result
        ip = result["ips"][0]
        expected_keys = {"address", "gateway"} | ({"version"} if version != "1.0.0" else set())
        assert set(ip) == expected_keys, ip
        if version != "1.0.0":
            assert ip["version"] == "4"
        assert_in_pool(lab, ip["address"])
        assert ip["gateway"] == lab.router
        assert result["routes"] == [{"dst": "0.0.0.0/0"}]
    assert result["dns"] == expected_dns

    reservation = reservation_file(host_local_dir, conf, allocated_address(result, version))
    assert reservation.read_text().split() == ["cnt-c1", "eth0"]


def test_successive_adds_get_distinct_addresses(lab, shim, host_local_dir):
    conf = host_local_conf(lab, "1.0.0", host_local_dir)
    addresses = []
    for i in range(3):
        code, result, stderr = shim("ADD", conf, container_id=f"cnt-c{i}")
        assert code == 0, (result, stderr)
        addresses.append(result["ips"][0]["address"])
    assert len(set(addresses)) == 3, addresses


# --- DEL releases


@pytest.mark.parametrize("version", HOST_LOCAL_VERSIONS)
def test_del_releases_the_address(lab, shim, host_local_dir, version):
    conf = host_local_conf(lab, version, host_local_dir)
    code, result, stderr = shim("ADD", conf)
    assert code == 0, (result, stderr)
    reservation = reservation_file(host_local_dir, conf, allocated_address(result, version))
    assert reservation.exists()

    run = shim("DEL", conf)
    assert (run.code, run.stdout) == (0, ""), run
    assert not reservation.exists()


def test_del_reaches_ipam_without_netns_and_twice(lab, shim, host_local_dir):
    # SPEC: DEL must release IPAM even when the netns is already gone, and be idempotent.
    conf = host_local_conf(lab, "1.0.0", host_local_dir)
    code, result, stderr = shim("ADD", conf)
    assert code == 0, (result, stderr)
    reservation = reservation_file(host_local_dir, conf, result["ips"][0]["address"])

    for _ in range(2):
        run = shim("DEL", conf, netns=None)
        assert (run.code, run.stdout) == (0, ""), run
    assert not reservation.exists()


# --- CHECK passthrough


@pytest.mark.parametrize("version", ["0.4.0", "1.0.0"])
def test_check_passes_through_to_ipam(lab, shim, host_local_dir, version):
    conf = host_local_conf(lab, version, host_local_dir)
    code, result, stderr = shim("ADD", conf)
    assert code == 0, (result, stderr)
    checked = dict(conf, prevResult=result)

    run = shim("CHECK", checked)
    assert (run.code, run.stdout) == (0, ""), run

    # host-local's CHECK looks the container up: an unknown one must fail, and
    # its error must reach our output.
    code, error, stderr = shim("CHECK", checked, container_id="cnt-never-added")
    assert code != 0
    assert error["code"] == 999, error  # what the Go plugins use for plain errors
    assert "host-local" in error["msg"] and "cnt-never-added" in error["msg"], error
    assert error["cniVersion"] == version


# --- failures of the IPAM plugin


def test_missing_ipam_plugin_is_named_with_the_path(lab, shim, host_local_dir, cni_bin_dir):
    conf = host_local_conf(lab, "1.0.0", host_local_dir)
    conf["ipam"]["type"] = "cnt-no-such-ipam"
    search_path = [lab.workdir / "empty", cni_bin_dir]
    code, error, stderr = shim("ADD", conf, cni_path=search_path)
    assert code != 0
    assert error["code"] == 102, error  # CNI_ERR_IPAM
    assert "cnt-no-such-ipam" in error["msg"], error
    assert f"{search_path[0]}:{search_path[1]}" in error["msg"], error


def test_ipam_not_found_when_cni_path_lacks_it(lab, shim, host_local_dir):
    # host-local is installed, but not in CNI_PATH: delegation must not find it.
    only_shim = lab.workdir / "only-shim"
    only_shim.mkdir()
    conf = host_local_conf(lab, "1.0.0", host_local_dir)
    code, error, stderr = shim("ADD", conf, cni_path=only_shim)
    assert code != 0
    assert "host-local" in error["msg"] and str(only_shim) in error["msg"], error


@pytest.mark.parametrize("version", ["0.2.0", "1.0.0"])
def test_failing_ipam_code_and_message_reach_our_output(lab, shim, host_local_dir, reference_plugins,
                                                        pod, version):
    conf = host_local_conf(lab, version, host_local_dir)
    conf["ipam"]["ranges"] = [[{"subnet": "10.0.0.0/33"}]]

    # What host-local itself says, run the same way...
    direct = run_plugin(reference_plugins / "host-local", "ADD", conf, netns=pod, ifname="eth0",
                        container_id="cnt-c1", cni_path=reference_plugins, node=lab.node)
    assert direct.code != 0 and direct.output, direct
    # ...must be what we report, with its code.
    code, error, stderr = shim("ADD", conf)
    assert code != 0
    assert error["code"] == direct.output["code"], (error, direct.output)
    assert direct.output["msg"] in error["msg"], (error, direct.output)
    assert "host-local" in error["msg"]


def test_cni_args_reach_the_ipam_plugin(lab, shim):
    # static takes IP and GATEWAY from CNI_ARGS: proof that the environment is passed on.
    conf = {"cniVersion": "1.0.0", "name": f"{lab.id}-net", "type": "ipam-shim", "ipam": {"type": "static"}}
    address = f"{lab.address(60)}/24"
    code, result, stderr = shim("ADD", conf, args=f"IgnoreUnknown=1;IP={address};GATEWAY={lab.router}")
    assert code == 0, (result, stderr)
    assert result["ips"] == [{"address": address, "gateway": lab.router}]


# --- static IPAM: two families and routes


def static_conf(lab, version):
    return {
        "cniVersion": version, "name": f"{lab.id}-net", "type": "ipam-shim",
        "ipam": {
            "type": "static",
            "addresses": [{"address": f"{lab.address(7)}/24", "gateway": lab.router},
                          {"address": "fd63:6e74::7/64", "gateway": "fd63:6e74::1"}],
            "routes": [{"dst": "0.0.0.0/0"}, {"dst": "10.250.0.0/16", "gw": lab.address(254)},
                       {"dst": "::/0"}],
            "dns": {"nameservers": [lab.address(53)], "domain": "lab.test", "search": ["lab.test"]},
        },
    }


def test_static_two_families_with_routes(lab, shim):
    code, result, stderr = shim("ADD", static_conf(lab, "1.0.0"))
    assert code == 0, (result, stderr)
    assert result == {
        "cniVersion": "1.0.0",
        "ips": [{"address": f"{lab.address(7)}/24", "gateway": lab.router},
                {"address": "fd63:6e74::7/64", "gateway": "fd63:6e74::1"}],
        "routes": [{"dst": "0.0.0.0/0"}, {"dst": "10.250.0.0/16", "gw": lab.address(254)},
                   {"dst": "::/0"}],
        "dns": {"nameservers": [lab.address(53)], "domain": "lab.test", "search": ["lab.test"]},
    }


def test_static_in_legacy_shape_splits_families(lab, shim):
    code, result, stderr = shim("ADD", static_conf(lab, "0.2.0"))
    assert code == 0, (result, stderr)
    assert result["ip4"] == {"ip": f"{lab.address(7)}/24", "gateway": lab.router,
                             "routes": [{"dst": "0.0.0.0/0"}, {"dst": "10.250.0.0/16", "gw": lab.address(254)}]}
    assert result["ip6"] == {"ip": "fd63:6e74::7/64", "gateway": "fd63:6e74::1", "routes": [{"dst": "::/0"}]}


@pytest.mark.parametrize("version", ["0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0"])
def test_static_result_is_passed_on_unchanged(lab, shim, pod, reference_plugins, version):
    # static is deterministic: through the shim or called directly, same result.
    conf = static_conf(lab, version)
    direct = run_plugin(reference_plugins / "static", "ADD", conf, netns=pod, ifname="eth0",
                        container_id="cnt-c1", cni_path=reference_plugins, node=lab.node)
    assert direct.code == 0, direct
    code, result, stderr = shim("ADD", conf)
    assert code == 0, (result, stderr)
    assert result == direct.output, json.dumps({"shim": result, "static": direct.output}, indent=1)


def test_static_del_succeeds(lab, shim):
    run = shim("DEL", static_conf(lab, "1.0.0"))
    assert (run.code, run.stdout) == (0, ""), run
