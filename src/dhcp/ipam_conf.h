/* The dhcp IPAM plugin's keys in "ipam" (the reference's, plus ours), as both the
 * plugin (daemonSocketPath) and the daemon (the rest) read them. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "cni/args.h"
#include "cni/error.h"

#define DHCP_PROVIDE_MAX 32
/* ipam.arpProbe's bounds. RFC 5227's own timing takes at most 7 s (PROBE_WAIT, then
 * PROBE_NUM probes up to PROBE_MAX apart, then ANNOUNCE_WAIT); below 100 ms, three
 * probes would go out back to back and the answers could not arrive in time. */
#define DHCP_ARP_PROBE_MIN_MS 100
#define DHCP_ARP_PROBE_MAX_MS 10000

/* ipam.identity: what the DHCP client identifier (option 61) is derived from. */
enum dhcp_identity {
	DHCP_IDENTITY_CONTAINER, /* "<containerID>/<network>/<ifname>": the reference's, a new one per container */
	DHCP_IDENTITY_POD,       /* "<namespace>/<name>/<network>/<ifname>": a pod recreated under its name keeps it */
};

struct dhcp_provide {
	uint8_t code;
	const char *value; /* borrowed from the config or CNI_ARGS; NULL: fromArg absent */
};

struct dhcp_ipam_conf {
	const char *socket_path; /* daemonSocketPath; NULL: the daemon's default */
	int priority;            /* metric of every route; 0: none */
	bool broadcast;          /* ask servers to broadcast replies */
	bool has_broadcast;      /* else the daemon's -broadcast decides */
	int64_t acquire_timeout_ms;    /* -1: the daemon's default; at most DURATION_MAX_ACQUIRE_MS */
	int64_t retransmit_initial_ms; /* -1: the daemon's default; at most DURATION_MAX_RETRANSMIT_MS */
	int64_t arp_probe_ms;          /* -1: the granted address is taken unchecked */
	enum dhcp_identity identity;
	uint8_t request[255];          /* option 55, in order */
	size_t n_request;
	struct dhcp_provide provide[DHCP_PROVIDE_MAX];
	size_t n_provide;
};

/* Options every lease asks for unless a `request` entry says skipDefault: subnet
 * mask, routers, DNS servers, domain name, domain search, classless routes. */
extern const uint8_t dhcp_default_request[6];

/* The keys dhcp_ipam_conf_parse reads, and "type": any other is likely a typo. */
extern const char *const dhcp_ipam_keys[];

/* `ipam` may be NULL. `args` resolves provide[].fromArg. Errors are code 7 naming the
 * key ("ipam.request[1].option"). `"identity": "pod"` is taken without the CNI_ARGS it
 * needs (an installer checks a configuration with none): the daemon asks for them when
 * it builds the client identifier. */
int dhcp_ipam_conf_parse(json_t *ipam, const struct cni_args *args, struct dhcp_ipam_conf *out,
			 struct cni_error *err);
