/* Leases a pod holds that this daemon has no record of: taken by the reference
 * daemon before an upgrade to this one, or by this daemon before its record was lost.
 * The pod's interface still holds the address; the server is asked to confirm it
 * (INIT-REBOOT, with the client identifier the reference uses too), and the lease is
 * then the daemon's like any other: renewed (adopted), or released (a DEL). */
#pragma once

#include <jansson.h>
#include <stdint.h>

#include "dhcpd/leases.h"
#include "dhcpd/options.h"

struct reclaim_names {
	const char *container_id;
	const char *network;
	const char *ifname;
	const char *netns; /* as the runtime gave it */
};

/* A lease reclaimed for the attachment `names` with its network configuration
 * `config` (prevResult, when there, names the address) and CNI_ARGS `args`;
 * `acquire_ms` bounds the wait for the server (0: the configuration's). NULL, saying
 * why at debug level, when the pod holds no address there or its configuration is
 * unusable. */
struct lease_slot *reclaim_start(struct leases *t, const struct daemon_options *opt, const struct reclaim_names *names,
				 json_t *config, const char *args, uint32_t acquire_ms);
