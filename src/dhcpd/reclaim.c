#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>

#include "cni/args.h"
#include "dhcpd/client_config.h"
#include "dhcpd/log.h"
#include "dhcpd/podnet.h"
#include "dhcpd/reclaim.h"
#include "util/macro.h"

/* The pod's IPv4 address: prevResult's, else what its interface holds. */
static bool pod_address(json_t *config, const char *netns_path, const char *ifname, struct in_addr *addr)
{
	json_t *ips = json_object_get(json_object_get(config, "prevResult"), "ips"), *ip;
	size_t i;

	json_array_foreach(ips, i, ip) {
		const char *cidr = json_string_value(json_object_get(ip, "address"));
		char text[INET_ADDRSTRLEN];
		if (cidr && sscanf(cidr, "%15[0-9.]/", text) == 1 && inet_pton(AF_INET, text, addr) == 1)
			return true;
	}
	return podnet_address_first(netns_path, ifname, addr) == 0;
}

struct lease_slot *reclaim_start(struct leases *t, const struct daemon_options *opt, const struct reclaim_names *names,
				 json_t *config, const char *args, uint32_t acquire_ms)
{
	struct cni_error err = { 0 };
	struct in_addr addr;
	struct lease_spec spec = {
		.container_id = names->container_id,
		.network = names->network,
		.ifname = names->ifname,
		.netns = names->netns,
	};
	_cleanup_free_ char *netns_path = NULL;
	char pod[CNI_POD_REF_MAX];

	if (!names->netns || names->netns[0] != '/')
		return NULL;
	if (cni_args_pod(args, pod))
		spec.pod = pod;
	if (lease_spec_for_pod(&spec, &netns_path, config, args, NULL, opt, &err) < 0) {
		log_debug("%s/%s/%s: cannot reclaim its lease: %s", names->container_id, names->network,
			  names->ifname, err.code ? err.msg : "its namespace went away");
		return NULL;
	}
	/* Another attachment sends its identifier (a pod recreated under its name took it
	 * over): releasing would take that one's address. */
	if (leases_find_client_id(t, spec.client.client_id, spec.client.client_id_len)) {
		log_debug("%s/%s/%s: its client identifier is another lease's now: nothing to reclaim",
			  names->container_id, names->network, names->ifname);
		dhcp_client_config_free(&spec.client);
		return NULL;
	}
	if (!pod_address(config, netns_path, names->ifname, &addr)) {
		log_debug("%s/%s/%s: no IPv4 address on %s in %s: nothing to reclaim", names->container_id,
			  names->network, names->ifname, names->ifname, netns_path);
		dhcp_client_config_free(&spec.client);
		return NULL;
	}
	if (acquire_ms)
		spec.client.timing.acquire_ms = acquire_ms;
	spec.arp_probe_ms = 0; /* the address is the pod's own */
	struct lease_slot *slot = leases_add(t, &spec);
	if (slot)
		lease_reclaim(slot->lease, loop_now_ms(), addr);
	return slot;
}
