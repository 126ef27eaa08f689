#!/usr/bin/env bash
# The demo: a site LAN, a Kubernetes-style node on it, and three pods attached to
# the LAN with our macvlan plugin, exactly as a container runtime calls it.
# Everything lives in network namespaces made here and removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh >/dev/null
make -j"$(nproc)" >/dev/null

id=$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')
lan="demo-lan-$id" node="demo-node-$id"
pods=("demo-pod1-$id" "demo-pod2-$id" "demo-pod3-$id")
state=$(mktemp -d)
bin=$state/bin

cleanup() {
	for pod in "${pods[@]}"; do ip netns del "$pod" 2>/dev/null || true; done
	ip netns del "$node" 2>/dev/null || true
	ip netns del "$lan" 2>/dev/null || true
	rm -rf "$state"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "lab: LAN namespace $lan (gateway 10.200.0.1/24) and node namespace $node"
ip netns add "$lan"
ip netns add "$node"
ip link add ens9 netns "$node" type veth peer name lan0 netns "$lan"
ip -n "$lan" addr add 10.200.0.1/24 dev lan0
ip -n "$lan" link set lan0 up
ip -n "$node" link set ens9 up
for pod in "${pods[@]}"; do ip netns add "$pod"; done

# CNI_PATH: our macvlan, with Debian's reference host-local as IPAM.
mkdir -p "$bin"
cp build/macvlan "$bin/"
ln -s /usr/lib/cni/host-local "$bin/host-local"

conf=$(cat <<JSON
{
  "cniVersion": "1.0.0",
  "name": "lan",
  "type": "macvlan",
  "master": "ens9",
  "mode": "bridge",
  "ipam": {
    "type": "host-local",
    "ranges": [[{"subnet": "10.200.0.0/24", "rangeStart": "10.200.0.100", "gateway": "10.200.0.1"}]],
    "routes": [{"dst": "0.0.0.0/0"}],
    "dataDir": "$state/ipam"
  }
}
JSON
)

cni() { # cni COMMAND POD [extra env...]
	local command=$1 pod=$2
	shift 2
	printf '%s' "$conf" | ip netns exec "$node" env CNI_COMMAND="$command" CNI_CONTAINERID="$pod" \
		CNI_NETNS="/run/netns/$pod" CNI_IFNAME=eth0 CNI_PATH="$bin" "$@" "$bin/macvlan"
}

addrs=()
for pod in "${pods[@]}"; do
	step "ADD $pod (macvlan on ens9, bridge mode)"
	start=$(date +%s%N)
	result=$(cni ADD "$pod" CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAME=$pod")
	end=$(date +%s%N)
	printf '%s\n' "$result"
	echo "ADD took $(((end - start) / 1000000)) ms"
	addrs+=("$(printf '%s' "$result" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["ips"][0]["address"].split("/")[0])')")
done

step "inside ${pods[0]}"
ip -n "${pods[0]}" -br addr show eth0
ip -n "${pods[0]}" route

step "pings: pod to pod (bridge mode) and pod to the LAN gateway"
ip netns exec "${pods[0]}" ping -c1 -W2 "${addrs[1]}" | sed -n 2p
ip netns exec "${pods[1]}" ping -c1 -W2 "${addrs[2]}" | sed -n 2p
ip netns exec "${pods[2]}" ping -c1 -W2 10.200.0.1 | sed -n 2p

step "DEL every pod"
for pod in "${pods[@]}"; do cni DEL "$pod" && echo "DEL $pod: ok"; done
ip -n "${pods[0]}" -br link

step "teardown"
