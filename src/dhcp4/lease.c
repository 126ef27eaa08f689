#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dhcp4/lease.h"
#include "dhcp4/options.h"
#include "util/macro.h"

/* The reference uses an hour when the server gives no lease time. */
#define DEFAULT_LEASE_S 3600
/* RFC 3927: 169.254.0.0/16 */
#define LINK_LOCAL_PREFIX 0xa9fe

static int mask_to_prefix(struct in_addr mask)
{
	uint32_t m = ntohl(mask.s_addr);
	int len = __builtin_popcount(m);

	/* Contiguous ones from the top, or it is no subnet mask. */
	return (len == 0 ? m == 0 : m == ~0u << (32 - len)) ? len : -1;
}

/* RFC 2131 4.4.5: T1 and T2 default to 0.5 and 0.875 of the lease; what the server
 * sends must keep 0 < T1 < T2 < lease or it is replaced. In milliseconds, so that a
 * lease of a second or two keeps T1 < T2 < expiry instead of rounding T1 to 0, which
 * renewed at once and, answered at once, again and again. */
static void set_times(const struct dhcp_message *msg, struct dhcp_lease *lease)
{
	uint32_t t1_s = 0, t2_s = 0;

	if (dhcp_message_get_u32(msg, DHCP_OPTION_IP_ADDRESS_LEASE_TIME, &lease->lifetime_s) < 0 || !lease->lifetime_s)
		lease->lifetime_s = DEFAULT_LEASE_S;
	if (lease->lifetime_s == DHCP_LEASE_INFINITE) {
		lease->t1_ms = lease->t2_ms = UINT64_MAX;
		return;
	}
	dhcp_message_get_u32(msg, DHCP_OPTION_RENEWAL_TIME, &t1_s);
	dhcp_message_get_u32(msg, DHCP_OPTION_REBINDING_TIME, &t2_s);
	uint64_t lifetime = (uint64_t)lease->lifetime_s * 1000, t1 = (uint64_t)t1_s * 1000, t2 = (uint64_t)t2_s * 1000;
	if (!t2 || t2 >= lifetime)
		t2 = lifetime * DHCP_T2_NUM / DHCP_T2_DEN;
	if (!t1 || t1 >= t2)
		t1 = lifetime * DHCP_T1_NUM / DHCP_T1_DEN;
	/* A server's T2 below half the lease: T1 half-way to it, as the default is
	 * half-way to the end of the lease. */
	if (t1 >= t2)
		t1 = t2 / 2;
	lease->t1_ms = t1;
	lease->t2_ms = t2;
}

const char *dhcp_lease_from_message(const struct dhcp_message *msg, const uint8_t *raw, size_t raw_len,
				    uint64_t start_ms, struct dhcp_lease *lease)
{
	struct in_addr mask;
	int prefix = -1;

	*lease = (struct dhcp_lease){ .address.s_addr = msg->header.yiaddr, .start_ms = start_ms };
	if (lease->address.s_addr == INADDR_ANY || lease->address.s_addr == INADDR_BROADCAST)
		return "it offers no usable address (yiaddr)";
	/* RFC 2131 4.3.1: the server MUST send its identifier in OFFER and ACK. */
	if (dhcp_message_get_addr(msg, DHCP_OPTION_SERVER_IDENTIFIER, &lease->server_id) < 0)
		return "it has no valid server identifier (option 54)";
	if (dhcp_message_get_addr(msg, DHCP_OPTION_SUBNET_MASK, &mask) == 0)
		prefix = mask_to_prefix(mask);
	/* No mask, or a broken one: the address's class decides, as the reference does. */
	lease->prefix_len = prefix > 0 ? (uint8_t)prefix : dhcp_classful_prefix(lease->address);
	set_times(msg, lease);
	lease->ack = malloc(raw_len);
	if (!lease->ack)
		return "out of memory";
	memcpy(lease->ack, raw, raw_len);
	lease->ack_len = raw_len;
	return NULL;
}

void dhcp_lease_clear(struct dhcp_lease *lease)
{
	free(lease->ack);
	*lease = (struct dhcp_lease){ 0 };
}

int dhcp_lease_copy(struct dhcp_lease *to, const struct dhcp_lease *from)
{
	uint8_t *ack = from->ack_len ? malloc(from->ack_len) : NULL;

	if (from->ack_len && !ack)
		return -ENOMEM;
	if (ack)
		memcpy(ack, from->ack, from->ack_len);
	dhcp_lease_clear(to);
	*to = *from;
	to->ack = ack;
	return 0;
}

static uint64_t at(const struct dhcp_lease *lease, uint64_t ms)
{
	return ms == UINT64_MAX ? UINT64_MAX : lease->start_ms + ms;
}

uint64_t dhcp_lease_t1(const struct dhcp_lease *lease) { return at(lease, lease->t1_ms); }
uint64_t dhcp_lease_t2(const struct dhcp_lease *lease) { return at(lease, lease->t2_ms); }

uint64_t dhcp_lease_expiry(const struct dhcp_lease *lease)
{
	return lease->lifetime_s == DHCP_LEASE_INFINITE ? UINT64_MAX : at(lease, (uint64_t)lease->lifetime_s * 1000);
}

/* RFC 2131 4.3.1: the server gives the client an address "from the server's pool";
 * one that is no host's, or that its subnet gives no host, is a server's mistake or
 * an attack, and no pod gets it. */
const char *dhcp_lease_address_unusable(const struct dhcp_lease *lease)
{
	uint32_t a = ntohl(lease->address.s_addr);
	const char *reserved = dhcp_address_reserved(lease->address);

	if (reserved)
		return reserved;
	/* RFC 3927 1.6: "addresses in the 169.254/16 prefix SHOULD NOT be configured
	 * manually or by a DHCP server". */
	if (a >> 16 == LINK_LOCAL_PREFIX)
		return "a link-local address (169.254.0.0/16, RFC 3927: not for DHCP)";
	/* RFC 3021: a /31 has no network or broadcast address, a /32 is the host alone. */
	if (lease->prefix_len <= 30) {
		uint32_t host_bits = 0xffffffffu >> lease->prefix_len;
		if ((a & host_bits) == 0)
			return "the network address of its subnet (option 1)";
		if ((a & host_bits) == host_bits)
			return "the broadcast address of its subnet (option 1)";
	}
	if (lease->address.s_addr == lease->server_id.s_addr)
		return "the server's own address (its server identifier)";
	return NULL;
}

/* ---- what the lease configures ---- */

/* The stored DHCPACK, parsed again: a lease keeps the message, not views of it. */
static int parse_ack(const struct dhcp_lease *lease, struct dhcp_message **out)
{
	struct dhcp_message *msg = malloc(sizeof(*msg));

	if (!msg)
		return -ENOMEM;
	if (dhcp_message_parse(lease->ack, lease->ack_len, msg) != DHCP_PARSE_OK) {
		free(msg);
		return -EBADMSG;
	}
	*out = msg;
	return 0;
}

/* Optional options that are malformed are skipped: the lease has none of them. */
static int none_if_malformed(int r)
{
	return r == -EBADMSG ? -ENODATA : r;
}

static int addresses_of(const struct dhcp_message *msg, uint8_t code, struct in_addr **out, size_t *n)
{
	const uint8_t *data;
	size_t len;

	if (dhcp_message_get(msg, code, &data, &len) < 0)
		return -ENODATA;
	return none_if_malformed(dhcp_decode_addresses(data, len, out, n));
}

/* RFC 2132 3.5: "Routers SHOULD be listed in order of preference": the first one is
 * the gateway. */
static int router_of(const struct dhcp_message *msg, struct in_addr *out)
{
	_cleanup_free_ struct in_addr *routers = NULL;
	size_t n;
	int r = addresses_of(msg, DHCP_OPTION_ROUTER, &routers, &n);

	if (r == 0)
		*out = routers[0];
	return r;
}

typedef int (*route_decoder)(const uint8_t *data, size_t len, struct dhcp_route **out, size_t *n);

static int routes_of(const struct dhcp_message *msg, uint8_t code, route_decoder decode, struct dhcp_route **out,
		     size_t *n)
{
	const uint8_t *data;
	size_t len;
	int r;

	if (dhcp_message_get(msg, code, &data, &len) < 0)
		return -ENODATA;
	r = none_if_malformed(decode(data, len, out, n));
	/* Option 33 holding only the illegal default destination (RFC 2132 5.8) gives no
	 * route at all. */
	return r == 0 && *n == 0 ? -ENODATA : r;
}

static int add_default_route(const struct dhcp_message *msg, struct dhcp_route **routes, size_t *n)
{
	struct in_addr router;
	struct dhcp_route *route;
	int r = router_of(msg, &router);

	if (r < 0)
		return r;
	route = array_append(routes, n, sizeof(*route));
	if (!route)
		return -ENOMEM;
	*route = (struct dhcp_route){ .dst.s_addr = INADDR_ANY, .prefix_len = 0, .gateway = router };
	return 0;
}

int dhcp_lease_get_router(const struct dhcp_lease *lease, struct in_addr *out)
{
	_cleanup_free_ struct dhcp_message *msg = NULL;
	int r = parse_ack(lease, &msg);

	*out = (struct in_addr){ INADDR_ANY };
	return r < 0 ? r : router_of(msg, out);
}

int dhcp_lease_get_routes(const struct dhcp_lease *lease, struct dhcp_route **out, size_t *n)
{
	_cleanup_free_ struct dhcp_message *msg = NULL;
	int r = parse_ack(lease, &msg);

	*out = NULL;
	*n = 0;
	if (r < 0)
		return r;
	/* RFC 3442: "If the DHCP server returns both a Classless Static Routes option and
	 * a Router option, the DHCP client MUST ignore the Router option. Similarly, if
	 * the DHCP server returns both a Classless Static Routes option and a Static
	 * Routes option, the DHCP client MUST ignore the Static Routes option." */
	r = routes_of(msg, DHCP_OPTION_CLASSLESS_STATIC_ROUTE, dhcp_decode_classless_routes, out, n);
	if (r != -ENODATA)
		return r;
	r = routes_of(msg, DHCP_OPTION_STATIC_ROUTE, dhcp_decode_static_routes, out, n);
	if (r == 0 || r == -ENODATA)
		r = add_default_route(msg, out, n);
	if (r == -ENOMEM) {
		free(*out);
		*out = NULL;
		*n = 0;
		return r;
	}
	return *n ? 0 : -ENODATA;
}

int dhcp_lease_get_classless_routes(const struct dhcp_lease *lease, struct dhcp_route **out, size_t *n)
{
	_cleanup_free_ struct dhcp_message *msg = NULL;
	int r = parse_ack(lease, &msg);

	*out = NULL;
	*n = 0;
	return r < 0 ? r : routes_of(msg, DHCP_OPTION_CLASSLESS_STATIC_ROUTE, dhcp_decode_classless_routes, out, n);
}

/* Option 6 without the addresses no resolver can be at (dhcp_address_reserved), one
 * by one: 0.0.0.0 or the pod's own loopback would leave it without DNS. */
static int nameservers_of(const struct dhcp_message *msg, struct in_addr **out, size_t *n)
{
	int r = addresses_of(msg, DHCP_OPTION_DOMAIN_NAME_SERVER, out, n);
	size_t kept = 0;

	if (r < 0)
		return r;
	for (size_t i = 0; i < *n; i++)
		if (!dhcp_address_reserved((*out)[i]))
			(*out)[kept++] = (*out)[i];
	*n = kept;
	if (kept)
		return 0;
	free(*out);
	*out = NULL;
	return -ENODATA;
}

int dhcp_lease_get_dns(const struct dhcp_lease *lease, struct in_addr **out, size_t *n)
{
	_cleanup_free_ struct dhcp_message *msg = NULL;
	int r = parse_ack(lease, &msg);

	*out = NULL;
	*n = 0;
	return r < 0 ? r : nameservers_of(msg, out, n);
}

/* RFC 2132 2: text options "SHOULD NOT include a trailing NULL; however, the receiver
 * of such options MUST be prepared to delete trailing nulls". The root's dot goes
 * too: resolv.conf wants neither. */
static int domain_name_of(const struct dhcp_message *msg, char **out)
{
	const uint8_t *data;
	size_t len;

	if (dhcp_message_get(msg, DHCP_OPTION_DOMAIN_NAME, &data, &len) < 0)
		return -ENODATA;
	while (len > 0 && data[len - 1] == '\0')
		len--;
	if (len > 0 && data[len - 1] == '.')
		len--;
	if (!dhcp_domain_name_valid((const char *)data, len))
		return -ENODATA;
	*out = strndup((const char *)data, len);
	return *out ? 0 : -ENOMEM;
}

int dhcp_lease_get_domain_name(const struct dhcp_lease *lease, char **out)
{
	_cleanup_free_ struct dhcp_message *msg = NULL;
	int r = parse_ack(lease, &msg);

	*out = NULL;
	return r < 0 ? r : domain_name_of(msg, out);
}

static int search_domains_of(const struct dhcp_message *msg, struct dhcp_strv *out)
{
	const uint8_t *data;
	size_t len;
	int r;

	if (dhcp_message_get(msg, DHCP_OPTION_DOMAIN_SEARCH, &data, &len) < 0)
		return -ENODATA;
	r = none_if_malformed(dhcp_decode_domain_search(data, len, out));
	return r == 0 && out->count == 0 ? -ENODATA : r;
}

int dhcp_lease_get_search_domains(const struct dhcp_lease *lease, struct dhcp_strv *out)
{
	_cleanup_free_ struct dhcp_message *msg = NULL;
	int r = parse_ack(lease, &msg);

	*out = (struct dhcp_strv){ 0 };
	return r < 0 ? r : search_domains_of(msg, out);
}
