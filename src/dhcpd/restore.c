#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cni/args.h"
#include "dhcp4/protocol.h"
#include "dhcpd/client_config.h"
#include "dhcpd/lease/record.h"
#include "dhcpd/log.h"
#include "dhcpd/podnet.h"
#include "dhcpd/restore.h"
#include "dhcpd/state.h"
#include "util/macro.h"

struct restore {
	struct leases *leases;
	const struct daemon_options *opt;
};

/* The pod is still there when its namespace holds the interface with the same MAC;
 * otherwise `link` is what the record knew of it. */
static bool pod_still_there(const char *netns_path, const char *ifname, json_t *record, struct link_info *link)
{
	uint8_t mac[6] = { 0 };
	struct cni_error err = { 0 };

	/* Only the same interface is brought up: a record naming another is not ours. */
	if (lease_record_mac(record, mac) == 0 && podnet_prepare_link(netns_path, ifname, mac, NULL, link, &err) == 0)
		return true;
	*link = (struct link_info){ .mtu = DHCP_MIN_MAX_MESSAGE };
	memcpy(link->mac, mac, sizeof(mac));
	return false;
}

/* How the lease's client talks: as the record says (version 2), or as the network
 * configuration a version 1 record kept makes it. */
static int configure(struct restore *r, json_t *record, const struct link_info *link, struct lease_spec *spec,
		     char pod[CNI_POD_REF_MAX], struct cni_error *err)
{
	int e = lease_record_spec(record, spec);
	const char *args = json_string_value(json_object_get(record, "args"));

	if (e == -ENOENT && !spec->pod && cni_args_pod(args, pod))
		spec->pod = pod;
	if (e == -ENOENT)
		return lease_spec_configure(spec, json_object_get(record, "config"), args, link, r->opt, err);
	if (e < 0)
		return cni_error_set(err, CNI_ERR_DECODE, "its client configuration is malformed");
	spec->ifindex = link->index;
	memcpy(spec->mac, link->mac, sizeof(spec->mac));
	return 0;
}

static void restore_one(json_t *record, void *ctx)
{
	struct restore *r = ctx;
	const char *key = json_string_value(json_object_get(record, "key"));
	struct lease_spec spec = { 0 };
	struct cni_error err = { 0 };
	struct link_info link;
	struct dhcp_lease saved = { 0 };
	char pod[CNI_POD_REF_MAX];
	_cleanup_free_ char *netns_path = NULL;
	uint64_t now = loop_now_ms();
	bool lost = false, there = false;
	int usable = -1;

	if (lease_record_names(record, &spec) == 0 && (netns_path = podnet_netns_path(r->opt->hostprefix, spec.netns))) {
		spec.netns_path = netns_path;
		there = pod_still_there(netns_path, spec.ifname, record, &link) &&
			podnet_netns_ino(netns_path, &spec.netns_ino) == 0;
		usable = configure(r, record, &link, &spec, pod, &err);
		if (usable == 0 && (usable = lease_record_lease(record, now, &saved, &lost)) < 0)
			dhcp_client_config_free(&spec.client);
	}
	if (usable < 0) {
		log_warning("%s: the saved lease cannot be used (%s): forgetting it", key ? key : "a record",
			    err.code ? err.msg : "incomplete record");
		if (key)
			state_remove(r->opt->state_dir, key);
		return;
	}
	struct lease_slot *slot = leases_add(r->leases, &spec);
	if (slot && !there)
		lease_lose_pod(slot->lease);
	uint8_t server_mac[6];
	if (slot && lease_record_server_mac(record, server_mac) == 0)
		lease_know_server_mac(slot->lease, server_mac);
	if (slot)
		lease_resume(slot->lease, now, &saved, lost);
	if (slot && !there)
		lease_release(slot->lease, now, "its pod went away while the daemon was down");
	dhcp_lease_clear(&saved);
}

void restore_leases(struct leases *t, const struct daemon_options *opt)
{
	struct restore r = { .leases = t, .opt = opt };
	int e = state_load_all(opt->state_dir, restore_one, &r);

	if (e < 0)
		log_error("cannot read saved leases in %s: %s", opt->state_dir, strerror(-e));
}
