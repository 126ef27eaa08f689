#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dhcp4/options.h"
#include "dhcp4/protocol.h"
#include "util/macro.h"

static const struct {
	const char *name;
	uint8_t code;
} option_names[] = {
	{ "subnet-mask", DHCP_OPTION_SUBNET_MASK },
	{ "time-offset", 2 },
	{ "routers", DHCP_OPTION_ROUTER },
	{ "router", DHCP_OPTION_ROUTER },
	{ "domain-name-servers", DHCP_OPTION_DOMAIN_NAME_SERVER },
	{ "host-name", DHCP_OPTION_HOST_NAME },
	{ "domain-name", DHCP_OPTION_DOMAIN_NAME },
	{ "interface-mtu", DHCP_OPTION_INTERFACE_MTU },
	{ "broadcast-address", DHCP_OPTION_BROADCAST_ADDRESS },
	{ "static-routes", DHCP_OPTION_STATIC_ROUTE },
	{ "ntp-servers", DHCP_OPTION_NTP_SERVERS },
	{ "vendor-encapsulated-options", DHCP_OPTION_VENDOR_SPECIFIC },
	{ "dhcp-requested-address", DHCP_OPTION_REQUESTED_IP_ADDRESS },
	{ "dhcp-lease-time", DHCP_OPTION_IP_ADDRESS_LEASE_TIME },
	{ "dhcp-server-identifier", DHCP_OPTION_SERVER_IDENTIFIER },
	{ "dhcp-parameter-request-list", DHCP_OPTION_PARAMETER_REQUEST_LIST },
	{ "dhcp-max-message-size", DHCP_OPTION_MAXIMUM_MESSAGE_SIZE },
	{ "dhcp-renewal-time", DHCP_OPTION_RENEWAL_TIME },
	{ "dhcp-rebinding-time", DHCP_OPTION_REBINDING_TIME },
	{ "vendor-class-identifier", DHCP_OPTION_VENDOR_CLASS_IDENTIFIER },
	{ "dhcp-client-identifier", DHCP_OPTION_CLIENT_IDENTIFIER },
	{ "user-class", DHCP_OPTION_USER_CLASS },
	{ "fqdn", DHCP_OPTION_FQDN },
	{ "domain-search", DHCP_OPTION_DOMAIN_SEARCH },
	{ "classless-static-routes", DHCP_OPTION_CLASSLESS_STATIC_ROUTE },
	{ "classless-static-route", DHCP_OPTION_CLASSLESS_STATIC_ROUTE },
};

int dhcp_option_code_parse(const char *text, uint8_t *code)
{
	for (size_t i = 0; i < ARRAY_SIZE(option_names); i++) {
		if (strcmp(text, option_names[i].name) == 0) {
			*code = option_names[i].code;
			return 0;
		}
	}
	char *end;
	unsigned long value = strtoul(text, &end, 10);
	/* Digits only: strtoul would also take leading blanks and signs. 0 (pad) and 255
	 * (end) are not options. */
	if (!isdigit((unsigned char)text[0]) || *end || value < 1 || value > 254)
		return -EINVAL;
	*code = (uint8_t)value;
	return 0;
}

uint8_t dhcp_classful_prefix(struct in_addr addr)
{
	uint8_t first = (uint8_t)(ntohl(addr.s_addr) >> 24);

	return first < 128 ? 8 : first < 192 ? 16 : 24;
}

static int push_route(struct dhcp_route **routes, size_t *count, struct dhcp_route route)
{
	struct dhcp_route *slot = array_append(routes, count, sizeof(route));

	if (!slot)
		return -ENOMEM;
	*slot = route;
	return 0;
}

int dhcp_decode_classless_routes(const uint8_t *data, size_t len, struct dhcp_route **out, size_t *count)
{
	struct dhcp_route *routes = NULL;
	size_t n = 0;

	/* RFC 3442: each route is a width octet, the significant octets of the
	 * destination, then the four octets of the router; "its minimum length is 5
	 * bytes", so an empty option is malformed, not "no routes". */
	if (len == 0)
		return -EBADMSG;
	for (size_t i = 0; i < len;) {
		struct dhcp_route route = { .prefix_len = data[i++] };
		size_t significant = (route.prefix_len + 7u) / 8u;
		uint8_t dst[4] = { 0 };
		if (route.prefix_len > 32 || len - i < significant + 4) {
			free(routes);
			return -EBADMSG;
		}
		memcpy(dst, data + i, significant);
		memcpy(&route.dst, dst, 4);
		memcpy(&route.gateway, data + i + significant, 4);
		i += significant + 4;
		/* Bits past the width must be ignored (RFC 3442: "zero"), so mask them. */
		if (route.prefix_len < 32)
			route.dst.s_addr &= htonl(route.prefix_len ? ~0u << (32 - route.prefix_len) : 0);
		if (push_route(&routes, &n, route) < 0) {
			free(routes);
			return -ENOMEM;
		}
	}
	*out = routes;
	*count = n;
	return 0;
}

int dhcp_decode_static_routes(const uint8_t *data, size_t len, struct dhcp_route **out, size_t *count)
{
	struct dhcp_route *routes = NULL;
	size_t n = 0;

	if (len % 8)
		return -EBADMSG;
	for (size_t i = 0; i < len; i += 8) {
		struct dhcp_route route;
		memcpy(&route.dst, data + i, 4);
		memcpy(&route.gateway, data + i + 4, 4);
		/* RFC 2132 5.8: "the default route (0.0.0.0) is an illegal destination". */
		if (route.dst.s_addr == 0)
			continue;
		/* RFC 2132 5.8 has classful destinations; one with host bits set beyond its
		 * class can only mean that host (dhclient reads it so too). */
		route.prefix_len = dhcp_classful_prefix(route.dst);
		if (ntohl(route.dst.s_addr) & (0xffffffffu >> route.prefix_len))
			route.prefix_len = 32;
		if (push_route(&routes, &n, route) < 0) {
			free(routes);
			return -ENOMEM;
		}
	}
	*out = routes;
	*count = n;
	return 0;
}

int dhcp_decode_addresses(const uint8_t *data, size_t len, struct in_addr **out, size_t *count)
{
	struct in_addr *addrs;

	if (len == 0 || len % 4)
		return -EBADMSG;
	addrs = malloc(len);
	if (!addrs)
		return -ENOMEM;
	memcpy(addrs, data, len);
	*out = addrs;
	*count = len / 4;
	return 0;
}

void dhcp_strv_free(struct dhcp_strv *strv)
{
	for (size_t i = 0; i < strv->count; i++)
		free(strv->items[i]);
	free(strv->items);
	*strv = (struct dhcp_strv){ 0 };
}

static int strv_push(struct dhcp_strv *strv, const char *value)
{
	char *copy = strdup(value);
	char **slot = copy ? array_append(&strv->items, &strv->count, sizeof(*slot)) : NULL;

	if (!slot) {
		free(copy);
		return -ENOMEM;
	}
	*slot = copy;
	return 0;
}

/* RFC 1035 4.1.4: a name is labels, ended by a zero octet or by a pointer (two
 * octets, top bits 11) to an earlier name in the same option. */
#define DNS_NAME_MAX 255
#define DNS_LABEL_MAX 63
#define DNS_POINTER 0xc0
/* RFC 1035 2.3.4 allows 255 octets in wire form: 253 as text, without the root. */
#define DNS_NAME_TEXT_MAX 253

/* Decodes the name at *pos into `name` as text (*name_len octets; the root is empty)
 * and moves *pos past it; -EBADMSG when its encoding is broken. *dotted tells of a
 * label holding a dot, which the text would read as two labels. */
static int decode_name(const uint8_t *data, size_t len, size_t *pos, char name[DNS_NAME_MAX + 1], size_t *name_len,
		       bool *dotted)
{
	size_t at = *pos, out = 0, hops = 0;
	bool jumped = false;

	*dotted = false;
	for (;;) {
		if (at >= len)
			return -EBADMSG;
		uint8_t label = data[at];
		if ((label & DNS_POINTER) == DNS_POINTER) {
			if (at + 1 >= len || ++hops > len)
				return -EBADMSG; /* truncated, or a pointer loop */
			size_t target = (size_t)(label & 0x3f) << 8 | data[at + 1];
			/* Pointers go backwards only; with the hop limit that ends any loop
			 * back into the name being read. */
			if (target >= at)
				return -EBADMSG;
			if (!jumped)
				*pos = at + 2;
			jumped = true;
			at = target;
			continue;
		}
		if (label & DNS_POINTER)
			return -EBADMSG; /* 01 and 10 prefixes are reserved */
		if (label == 0) {
			if (!jumped)
				*pos = at + 1;
			name[out] = '\0';
			*name_len = out;
			return 0;
		}
		if (at + 1 + label > len || out + label + 1 > DNS_NAME_MAX)
			return -EBADMSG;
		if (out)
			name[out++] = '.';
		memcpy(name + out, data + at + 1, label);
		*dotted |= memchr(name + out, '.', label) != NULL;
		out += label;
		at += 1 + label;
	}
}

int dhcp_decode_domain_search(const uint8_t *data, size_t len, struct dhcp_strv *out)
{
	char name[DNS_NAME_MAX + 1];
	size_t name_len;
	bool dotted;

	*out = (struct dhcp_strv){ 0 };
	for (size_t pos = 0; pos < len;) {
		int r = decode_name(data, len, &pos, name, &name_len, &dotted);
		/* A name no resolver should be given goes alone; the list stays. */
		if (r == 0 && !dotted && dhcp_domain_name_valid(name, name_len))
			r = strv_push(out, name);
		if (r < 0) {
			dhcp_strv_free(out);
			return r;
		}
	}
	return 0;
}

static bool label_octet_valid(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

bool dhcp_domain_name_valid(const char *name, size_t len)
{
	size_t label = 0;

	if (len == 0 || len > DNS_NAME_TEXT_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (name[i] != '.') {
			if (!label_octet_valid(name[i]) || ++label > DNS_LABEL_MAX)
				return false;
		} else if (label == 0) {
			return false; /* a leading dot, or two in a row */
		} else {
			label = 0;
		}
	}
	return label > 0; /* not ending in a dot */
}

const char *dhcp_address_reserved(struct in_addr addr)
{
	uint32_t a = ntohl(addr.s_addr);

	if (a >> 24 == 0)
		return "an address of \"this network\" (0.0.0.0/8)";
	if (a >> 24 == 127)
		return "a loopback address";
	if (a >> 28 == 0xe)
		return "a multicast address";
	if (a == INADDR_BROADCAST)
		return "the limited broadcast address";
	if (a >> 28 == 0xf)
		return "a reserved address (240.0.0.0/4)";
	return NULL;
}
