#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dhcp4/lease.h"
#include "dhcp4/options.h"
#include "util/macro.h"

/* The reference uses an hour when the server gives no lease time. */
#define DEFAULT_LEASE_S 3600

static int mask_to_prefix(struct in_addr mask)
{
	uint32_t m = ntohl(mask.s_addr);
	int len = __builtin_popcount(m);

	/* Contiguous ones from the top, or it is no subnet mask. */
	return (len == 0 ? m == 0 : m == ~0u << (32 - len)) ? len : -1;
}

static void set_times(const struct dhcp_message *msg, struct dhcp_lease *lease)
{
	uint32_t t1 = 0, t2 = 0;

	if (dhcp_message_get_u32(msg, DHCP_OPTION_IP_ADDRESS_LEASE_TIME, &lease->lifetime_s) < 0 || !lease->lifetime_s)
		lease->lifetime_s = DEFAULT_LEASE_S;
	if (lease->lifetime_s == DHCP_LEASE_INFINITE) {
		lease->t1_s = lease->t2_s = DHCP_LEASE_INFINITE;
		return;
	}
	dhcp_message_get_u32(msg, DHCP_OPTION_RENEWAL_TIME, &t1);
	dhcp_message_get_u32(msg, DHCP_OPTION_REBINDING_TIME, &t2);
	/* RFC 2131 4.4.5: defaults 0.5 and 0.875 of the lease; what the server sends
	 * must keep 0 < T1 < T2 < lease or it is replaced by the defaults. */
	if (!t2 || t2 >= lease->lifetime_s)
		t2 = (uint32_t)((uint64_t)lease->lifetime_s * DHCP_T2_NUM / DHCP_T2_DEN);
	if (!t1 || t1 >= t2)
		t1 = (uint32_t)((uint64_t)lease->lifetime_s * DHCP_T1_NUM / DHCP_T1_DEN);
	if (t1 >= t2) /* only for leases of a second or two */
		t1 = t2 > 0 ? t2 - 1 : 0;
	lease->t1_s = t1;
	lease->t2_s = t2;
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

static uint64_t at(const struct dhcp_lease *lease, uint32_t seconds)
{
	return seconds == DHCP_LEASE_INFINITE ? UINT64_MAX : lease->start_ms + (uint64_t)seconds * 1000;
}

uint64_t dhcp_lease_t1(const struct dhcp_lease *lease) { return at(lease, lease->t1_s); }
uint64_t dhcp_lease_t2(const struct dhcp_lease *lease) { return at(lease, lease->t2_s); }
uint64_t dhcp_lease_expiry(const struct dhcp_lease *lease) { return at(lease, lease->lifetime_s); }

/* ---- lease to CNI result ---- */

static struct ip_addr v4(struct in_addr addr)
{
	struct ip_addr out = { .family = AF_INET, .v4 = addr };
	return out;
}

static int add_route(struct cni_result *out, struct in_addr dst, uint8_t len, struct in_addr gw, int priority)
{
	struct cni_route *route = cni_result_add_route(out);

	if (!route)
		return -ENOMEM;
	route->dst = (struct ip_prefix){ .addr = v4(dst), .len = len };
	route->priority = priority;
	if (gw.s_addr != INADDR_ANY) {
		route->has_gw = true;
		route->gw = v4(gw);
	} else {
		/* RFC 3442: a router of 0.0.0.0 means the destination is on the link. */
		route->has_scope = true;
		route->scope = CNI_SCOPE_LINK;
	}
	return 0;
}

static int add_decoded_routes(struct cni_result *out, const struct dhcp_route *routes, size_t count, int priority)
{
	for (size_t i = 0; i < count; i++)
		if (add_route(out, routes[i].dst, routes[i].prefix_len, routes[i].gateway, priority) < 0)
			return -ENOMEM;
	return 0;
}

/* RFC 3442: "If the DHCP server returns both a Classless Static Routes option and a
 * Router option, the DHCP client MUST ignore the Router option" (and option 33). */
static int add_routes(const struct dhcp_message *msg, const struct in_addr *router, int priority,
		      struct cni_result *out)
{
	_cleanup_free_ struct dhcp_route *routes = NULL;
	size_t count = 0;
	const uint8_t *data;
	size_t len;

	if (dhcp_message_get(msg, DHCP_OPTION_CLASSLESS_STATIC_ROUTE, &data, &len) == 0 &&
	    dhcp_decode_classless_routes(data, len, &routes, &count) == 0)
		return add_decoded_routes(out, routes, count, priority);
	if (dhcp_message_get(msg, DHCP_OPTION_STATIC_ROUTE, &data, &len) == 0 &&
	    dhcp_decode_static_routes(data, len, &routes, &count) == 0 &&
	    add_decoded_routes(out, routes, count, priority) < 0)
		return -ENOMEM;
	if (router)
		return add_route(out, (struct in_addr){ INADDR_ANY }, 0, *router, priority);
	return 0;
}

/* Option 15 may carry a trailing NUL or dot; resolv.conf wants neither. */
static int set_domain(const struct dhcp_message *msg, struct cni_dns *dns)
{
	const uint8_t *data;
	size_t len;

	if (dhcp_message_get(msg, DHCP_OPTION_DOMAIN_NAME, &data, &len) < 0)
		return 0;
	while (len > 0 && (data[len - 1] == '\0' || data[len - 1] == '.'))
		len--;
	for (size_t i = 0; i < len; i++)
		if (data[i] <= ' ' || data[i] >= 0x7f)
			return 0;
	if (len == 0)
		return 0;
	dns->domain = strndup((const char *)data, len);
	return dns->domain ? 0 : -ENOMEM;
}

static int set_dns(const struct dhcp_message *msg, struct cni_dns *dns)
{
	const uint8_t *data;
	size_t len;

	if (dhcp_message_get(msg, DHCP_OPTION_DOMAIN_NAME_SERVER, &data, &len) == 0 &&
	    dhcp_decode_addresses(data, len, &dns->nameservers) == -ENOMEM)
		return -ENOMEM;
	if (set_domain(msg, dns) < 0)
		return -ENOMEM;
	if (dhcp_message_get(msg, DHCP_OPTION_DOMAIN_SEARCH, &data, &len) == 0) {
		struct cni_strv search = { 0 };
		int r = dhcp_decode_domain_search(data, len, &search);
		if (r == -ENOMEM) {
			cni_strv_free(&search);
			return r;
		}
		/* A malformed list is dropped whole rather than half-used. */
		if (r < 0)
			cni_strv_free(&search);
		dns->search = search;
	}
	return 0;
}

int dhcp_lease_to_result(const struct dhcp_lease *lease, int priority, struct cni_result *out)
{
	struct dhcp_message *msg = malloc(sizeof(*msg));
	struct in_addr router = { INADDR_ANY };
	bool has_router = false;
	int r = -ENOMEM;

	*out = (struct cni_result){ 0 };
	if (!msg)
		return -ENOMEM;
	if (dhcp_message_parse(lease->ack, lease->ack_len, msg) != DHCP_PARSE_OK) {
		free(msg);
		return -EBADMSG;
	}
	const uint8_t *routers;
	size_t routers_len;
	if (dhcp_message_get(msg, DHCP_OPTION_ROUTER, &routers, &routers_len) == 0 && routers_len >= 4 &&
	    routers_len % 4 == 0) {
		memcpy(&router, routers, 4);
		has_router = true;
	}
	struct cni_ip *ip = cni_result_add_ip(out);
	if (ip) {
		ip->address = (struct ip_prefix){ .addr = v4(lease->address), .len = lease->prefix_len };
		ip->has_gateway = has_router;
		ip->gateway = v4(router);
		r = add_routes(msg, has_router ? &router : NULL, priority, out);
		if (r == 0)
			r = set_dns(msg, &out->dns);
	}
	free(msg);
	if (r < 0)
		cni_result_free(out);
	return r;
}
