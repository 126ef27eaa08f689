/* The DHCP client configuration of one attachment: what the network's ipam keys,
 * the runtime's CNI_ARGS, the pod's link and the daemon's flags make of it. */
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "cni/error.h"
#include "dhcp/ipam_conf.h"
#include "dhcp4/client.h"
#include "dhcpd/lease/lease.h"
#include "dhcpd/options.h"
#include "rtnl/link.h"

struct dhcp_attachment {
	const char *container_id;
	const char *network;
	const char *ifname;
	const char *pod_namespace; /* K8S_POD_NAMESPACE; NULL when the runtime passed none */
	const char *pod_name;      /* K8S_POD_NAME: the default host name */
	uint8_t mac[6];
	unsigned mtu;
};

/* The client identifier the reference sends, kept so existing server reservations
 * still match: type 0, then "<containerID>/<network>/<ifname>", cut to 254 octets. */
size_t dhcp_default_client_id(const struct dhcp_attachment *att, uint8_t out[DHCP_CLIENT_ID_MAX]);

/* ipam.identity "pod": type 0, then "<namespace>/<name>/<network>/<ifname>", cut to 254
 * octets as the default is; what an operator writes a reservation for. 0 with `err` set
 * (code 7, naming the CNI_ARGS keys missing) when the runtime did not name a Kubernetes
 * pod: podman and plain CNI runtimes pass no K8S_POD_NAMESPACE and K8S_POD_NAME. */
size_t dhcp_pod_client_id(const struct dhcp_attachment *att, uint8_t out[DHCP_CLIENT_ID_MAX], struct cni_error *err);

/* Fills `out` (request options allocated: dhcp_client_init takes them over). */
int dhcp_client_config_build(const struct dhcp_ipam_conf *conf, const struct dhcp_attachment *att,
			     struct dhcp_client_config *out, struct cni_error *err);

/* Everything a lease needs from its network configuration (`config`, borrowed: the
 * spec's master points into it) and CNI_ARGS: the client configuration, priority,
 * arpProbe, and the link's index and MAC. The caller fills the spec's names. */
int lease_spec_configure(struct lease_spec *spec, json_t *config, const char *args, const struct link_info *link,
			 const struct daemon_options *opt, struct cni_error *err);

/* The spec of a lease for the pod's interface, whose names the caller filled: its
 * namespace found where the daemon sees it (`*netns_path`, allocated; the spec points
 * at it), the interface brought up (it must be of `kind` when not NULL), and
 * lease_spec_configure. On failure `err` says why (no code: the namespace went away
 * meanwhile) and nothing is left allocated but `*netns_path`. */
int lease_spec_for_pod(struct lease_spec *spec, char **netns_path, json_t *config, const char *args, const char *kind,
		       const struct daemon_options *opt, struct cni_error *err);
