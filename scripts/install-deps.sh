#!/usr/bin/env bash
# Installs everything the build, the tests and the demo need on Debian bookworm.
# Idempotent: packages already present are left alone, apt is not touched then.
set -euo pipefail

packages=(
	# build
	build-essential clang llvm pkg-config
	libnl-3-dev libnl-route-3-dev libjansson-dev
	# unit tests, fuzzing
	libcmocka-dev libclang-rt-14-dev
	# system tests and demo
	python3-pytest iproute2 iputils-ping
	# counting datagrams per address on the lab's LAN (the concurrent-DEL test)
	iptables
	dnsmasq-base isc-dhcp-server udhcpd
	containernetworking-plugins
	# the scale tests: Kea, the cluster's second server (test_scale_cluster.py), and
	# ethtool, for a lab uplink that receives through NAPI rings (test_scale_bridge.py)
	kea-dhcp4-server ethtool
	# system tests: `file` checks static linking (udhcpc, the test DHCP client,
	# comes with busybox-static below, which also satisfies udhcpd)
	file
	# a real CNI runtime for the system tests
	podman runc busybox-static
	# a Kubernetes runtime for the system tests: containerd's CRI, driven by a client
	# compiled from tests/cri/api.proto (tests/system/test_cri_containerd.py)
	containerd python3-grpc-tools python3-grpcio python3-protobuf
	# the deployment checks: kubernetes-models validates the manifests (tests/deploy),
	# systemd-analyze verifies the units
	nodejs systemd
	# the man pages' lint (tests/system/test_packaging.py)
	groff-base mandoc
	# the benchmark's charts (bench/report.py)
	python3-matplotlib
	# the daemon's metrics, parsed as Prometheus parses them (test_observe.py)
	python3-prometheus-client
)
# The machine image ships NodeSource's nodejs, which includes npm (Debian's npm
# package would conflict with it); on plain Debian, npm is a package of its own.
command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' \
		|| missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#packages[@]} packages present"
	exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# isc-dhcp-server's, kea-dhcp4-server's and containerd's packages start system
# services (the DHCP servers would listen on the host's interfaces); the tests run
# their own instances inside namespaces.
for service in isc-dhcp-server kea-dhcp4-server containerd; do
	if command -v systemctl >/dev/null && systemctl is-enabled "$service" >/dev/null 2>&1; then
		systemctl disable --now "$service" >/dev/null 2>&1 || true
	fi
done
echo "install-deps: done"
