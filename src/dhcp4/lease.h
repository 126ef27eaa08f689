/* A lease: what the server's DHCPACK granted, and how it becomes a CNI result. */
#pragma once

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "cni/result.h"
#include "dhcp4/message.h"

struct dhcp_lease {
	struct in_addr address;
	uint8_t prefix_len;
	struct in_addr server_id;
	uint32_t lifetime_s; /* DHCP_LEASE_INFINITE for ever */
	uint32_t t1_s;
	uint32_t t2_s;
	/* RFC 2131 4.4.1: times count from when the client sent the request that the
	 * ACK answers. Monotonic milliseconds. */
	uint64_t start_ms;
	/* The DHCPACK as received: routes and resolvers are read from it when needed,
	 * and it is what a saved lease stores. */
	uint8_t *ack;
	size_t ack_len;
};

/* Fills `lease` from a parsed ACK (or OFFER); NULL and a reason when the message
 * cannot be a lease (no address, no server identifier). Copies `raw`. */
const char *dhcp_lease_from_message(const struct dhcp_message *msg, const uint8_t *raw, size_t raw_len,
				    uint64_t start_ms, struct dhcp_lease *lease);
void dhcp_lease_clear(struct dhcp_lease *lease);
int dhcp_lease_copy(struct dhcp_lease *to, const struct dhcp_lease *from);

/* Absolute monotonic times of T1, T2 and expiry; UINT64_MAX when infinite. */
uint64_t dhcp_lease_t1(const struct dhcp_lease *lease);
uint64_t dhcp_lease_t2(const struct dhcp_lease *lease);
uint64_t dhcp_lease_expiry(const struct dhcp_lease *lease);

/* The IPAM result: address/prefix, gateway from option 3; routes from option 121
 * when present (RFC 3442: then 3 and 33 are ignored for routes; a 0.0.0.0 next hop
 * is on-link), else option 33 plus a default route via option 3; `priority`, when
 * non-zero, is every route's metric; DNS from options 6, 15 and 119. Malformed
 * optional options are skipped. -ENOMEM or -EBADMSG (the ACK no longer parses). */
int dhcp_lease_to_result(const struct dhcp_lease *lease, int priority, struct cni_result *out);
