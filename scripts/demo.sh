#!/usr/bin/env bash
# The demo: a site LAN with its own DHCP server, a Kubernetes-style node on it running
# our dhcp daemon, and three pods attached to the LAN with our macvlan + dhcp plugins,
# exactly as a container runtime calls them; then a fourth pod whose address a printer
# on the LAN already uses, declined thanks to ipam.arpProbe. Everything lives in
# network namespaces and a temporary directory made here and removed on exit,
# whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh >/dev/null
make -j"$(nproc)" >/dev/null

id=$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')
lan="demo-lan-$id" node="demo-node-$id"
pods=("demo-pod1-$id" "demo-pod2-$id" "demo-pod3-$id")
prober="demo-pod4-$id" prober_mac=02:de:00:00:00:04
printer="demo-printer-$id" printer_addr=10.200.0.150
state=$(mktemp -d)
bin=$state/bin
pids=()

cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
	for pod in "${pods[@]}" "$prober" "$printer"; do ip netns del "$pod" 2>/dev/null || true; done
	ip netns del "$node" 2>/dev/null || true
	ip netns del "$lan" 2>/dev/null || true
	rm -rf "$state"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "the site LAN ($lan): router 10.200.0.1, dnsmasq serving 10.200.0.100-199"
ip netns add "$lan"
ip netns add "$node"
ip link add ens9 netns "$node" type veth peer name lan0 netns "$lan"
ip -n "$lan" addr add 10.200.0.1/24 dev lan0
ip -n "$lan" link set lan0 up
ip -n "$node" link set ens9 up
for pod in "${pods[@]}" "$prober" "$printer"; do ip netns add "$pod"; done
ip netns exec "$lan" dnsmasq --no-daemon --conf-file=/dev/null --port=0 --interface=lan0 --bind-interfaces \
	--dhcp-range=10.200.0.100,10.200.0.199,255.255.255.0,1h --dhcp-leasefile="$state/dnsmasq.leases" \
	--dhcp-host="$prober_mac,$printer_addr" \
	--dhcp-option=option:router,10.200.0.1 --dhcp-option=option:dns-server,10.200.0.1 \
	--dhcp-option=option:domain-name,lan.example --no-ping 2>"$state/dnsmasq.log" &
pids+=($!)

# The node's CNI bin dir: our two plugins, nothing else.
mkdir -p "$bin"
cp build/macvlan build/dhcp "$bin/"
socket=$state/dhcp.sock

step "the node ($node): master ens9, dhcp daemon on $socket"
ip netns exec "$node" "$bin/dhcp" daemon -socketpath "$socket" --state-dir "$state/leases" 2>"$state/daemon.log" &
pids+=($!)
for _ in $(seq 100); do [ -S "$socket" ] && break; sleep 0.05; done

conf=$(cat <<JSON
{
  "cniVersion": "1.0.0",
  "name": "lan",
  "type": "macvlan",
  "master": "ens9",
  "mode": "bridge",
  "ipam": { "type": "dhcp", "daemonSocketPath": "$socket" }
}
JSON
)
printf '%s\n' "$conf"

cni() { # cni COMMAND POD [CONFIG]
	printf '%s' "${3:-$conf}" | ip netns exec "$node" env CNI_COMMAND="$1" CNI_CONTAINERID="$2" \
		CNI_NETNS="/run/netns/$2" CNI_IFNAME=eth0 CNI_PATH="$bin" \
		CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=demo;K8S_POD_NAME=${2%-$id}" "$bin/macvlan"
}

addrs=()
for pod in "${pods[@]}"; do
	step "ADD $pod: macvlan on ens9, address from the LAN's DHCP server"
	start=$(date +%s%N)
	result=$(cni ADD "$pod")
	end=$(date +%s%N)
	printf '%s\n' "$result"
	echo "ADD took $(((end - start) / 1000000)) ms"
	addrs+=("$(printf '%s' "$result" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["ips"][0]["address"].split("/")[0])')")
done

step "inside ${pods[0]}"
ip -n "${pods[0]}" -br addr show eth0
ip -n "${pods[0]}" route

step "pings: pod to pod, and pod to the LAN's gateway"
ip netns exec "${pods[0]}" ping -c1 -W2 "${addrs[1]}" | sed -n 2p
ip netns exec "${pods[1]}" ping -c1 -W2 "${addrs[2]}" | sed -n 2p
ip netns exec "${pods[2]}" ping -c1 -W2 10.200.0.1 | sed -n 2p

step "the daemon's leases (dhcp list), and the server's (dnsmasq lease file)"
ip netns exec "$node" "$bin/dhcp" list -socketpath "$socket"
cat "$state/dnsmasq.leases"

step "a printer on the LAN ($printer) uses $printer_addr, the address the server reserves for $prober"
ip -n "$node" link add link ens9 name lan0 netns "$printer" type macvlan mode bridge
ip -n "$printer" addr add "$printer_addr/24" dev lan0
ip -n "$printer" link set lan0 up
probing=$(printf '%s' "$conf" | /usr/bin/python3 -c '
import json, sys
conf = json.load(sys.stdin)
conf["mac"] = sys.argv[1]
conf["ipam"]["arpProbe"] = "300ms"
print(json.dumps(conf, indent=2))' "$prober_mac")
printf '%s\n' "$probing"
echo "ADD $prober: ARP probes find the printer, DHCPDECLINE, and 10 s later (RFC 2131) another address"
cni ADD "$prober" "$probing" | /usr/bin/python3 -c 'import json,sys; print("got", json.load(sys.stdin)["ips"][0]["address"])'
grep -h "DHCPDECLINE" "$state/dnsmasq.log"
grep -h "declining" "$state/daemon.log"

step "DEL every pod: the daemon sends DHCPRELEASE, the server frees the lease"
for pod in "${pods[@]}"; do cni DEL "$pod" && echo "DEL $pod: ok"; done
cni DEL "$prober" "$probing" && echo "DEL $prober: ok"
echo "server leases left: $(wc -l <"$state/dnsmasq.leases")"

step "the daemon's log"
cat "$state/daemon.log"

step "teardown"
