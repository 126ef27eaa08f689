/* A lease: what the server's DHCPACK granted, and what it configures. */
#pragma once

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "dhcp4/message.h"
#include "dhcp4/options.h"

struct dhcp_lease {
	struct in_addr address;
	uint8_t prefix_len;
	struct in_addr server_id;
	uint32_t lifetime_s; /* DHCP_LEASE_INFINITE for ever */
	/* T1 and T2 from start_ms; UINT64_MAX with an infinite lease. */
	uint64_t t1_ms;
	uint64_t t2_ms;
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

/* Why the lease's address must not go on an interface, or NULL when it may: an
 * address no host may have (dhcp_address_reserved), a link-local one (RFC 3927), the
 * network or broadcast address of its subnet (not in a /31 or /32, RFC 3021), or the
 * server's own. A reason such as "a loopback address". */
const char *dhcp_lease_address_unusable(const struct dhcp_lease *lease);

/* What the lease configures, read from the stored DHCPACK. Each getter returns 0;
 * -ENODATA when the lease has none (the option is absent, or malformed and skipped:
 * all of them are optional); -EBADMSG when the ACK no longer parses; or -ENOMEM.
 * Outputs are the caller's to free, and empty (NULL, 0) unless 0 is returned. */

/* The gateway: the first router of option 3. */
int dhcp_lease_get_router(const struct dhcp_lease *lease, struct in_addr *out);
/* The routes to install. Option 121 when present (RFC 3442: then options 3 and 33 are
 * ignored for routes; a 0.0.0.0 next hop means on the link), else option 33's routes
 * and a default route via the router. */
int dhcp_lease_get_routes(const struct dhcp_lease *lease, struct dhcp_route **out, size_t *n);
/* Option 121 alone, as the server sent it (RFC 3442). */
int dhcp_lease_get_classless_routes(const struct dhcp_lease *lease, struct dhcp_route **out, size_t *n);
/* The DNS servers (option 6), in the server's order, without those no resolver can
 * be at (dhcp_address_reserved: 0.0.0.0, loopback, multicast, ...). */
int dhcp_lease_get_dns(const struct dhcp_lease *lease, struct in_addr **out, size_t *n);
/* The domain name (option 15) as resolv.conf takes it: without trailing NULs or the
 * root's dot; none unless dhcp_domain_name_valid takes it. */
int dhcp_lease_get_domain_name(const struct dhcp_lease *lease, char **out);
/* The domain search list (option 119, RFC 3397) without the names
 * dhcp_domain_name_valid refuses; a malformed list is none at all. */
int dhcp_lease_get_search_domains(const struct dhcp_lease *lease, struct dhcp_strv *out);
