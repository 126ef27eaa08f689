/* A lease as a record in the state directory: the attachment it belongs to, how its
 * client talks (version 2; version 1 kept the network configuration instead), and the
 * server's DHCPACK with the wall-clock time it counts from (monotonic clocks restart
 * with the machine) and the MAC it came from. The record of a lease a DHCPNAK refused says so ("lost"): a
 * restart then asks for its address again instead of putting it back on the pod. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "dhcp4/lease.h"
#include "dhcpd/lease/lease.h"

/* NULL when the lease holds nothing worth keeping (never bound). */
json_t *lease_record_json(const struct lease *lease, uint64_t now);

/* The names: containerID, network, ifName, netns, pod (borrowed from `record`); -EINVAL
 * when one is missing, is not what a runtime may pass, or the key is not made of them. */
int lease_record_names(json_t *record, struct lease_spec *spec);
/* The pod interface's MAC when the lease was taken; -EINVAL when absent. */
int lease_record_mac(json_t *record, uint8_t mac[6]);
/* The rest of the spec from a version 2 record: master (borrowed), priority,
 * arpProbe, identity, the client configuration (request options allocated). -ENOENT for a
 * version 1 record, -EINVAL for a bad one. */
int lease_record_spec(json_t *record, struct lease_spec *spec);
/* The MAC the lease's DHCPACK came from: -ENOENT when the record has none (written
 * before it was kept, or the server's MAC was not known), -EINVAL when malformed. */
int lease_record_server_mac(json_t *record, uint8_t mac[6]);
/* The lease stored, its clock moved to this boot's monotonic time, and whether a
 * DHCPNAK had refused it. */
int lease_record_lease(json_t *record, uint64_t now, struct dhcp_lease *out, bool *lost);
