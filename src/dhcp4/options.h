/* Typed views of DHCP options: names, routes (33, 121), address lists (3, 6),
 * domain search (119). */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "routers", "classless-static-routes", "121", ... (ISC dhclient's names); -EINVAL
 * for anything else. */
int dhcp_option_code_parse(const char *text, uint8_t *code);

struct dhcp_route {
	struct in_addr dst;
	uint8_t prefix_len;
	struct in_addr gateway; /* 0.0.0.0: on the link (RFC 3442) */
};

/* RFC 3442: classless static routes. -EBADMSG when the option is malformed (then the
 * whole option is ignored, as RFC 3442 asks of a bad descriptor). */
int dhcp_decode_classless_routes(const uint8_t *data, size_t len, struct dhcp_route **out, size_t *count);
/* RFC 2132 5.8: static routes, destination/router pairs, classful destinations. */
int dhcp_decode_static_routes(const uint8_t *data, size_t len, struct dhcp_route **out, size_t *count);
/* Owned strings, such as the names of a domain search list. */
struct dhcp_strv {
	char **items;
	size_t count;
};

/* Frees the strings and the list, and leaves it empty. */
void dhcp_strv_free(struct dhcp_strv *strv);

/* RFC 3397: a list of domain names in RFC 1035 wire form, compression pointers
 * relative to the start of the (concatenated) option. Fills `out` (an empty option
 * is an empty list) with the names dhcp_domain_name_valid takes, skipping the others
 * one by one; -EBADMSG (a broken encoding) or -ENOMEM leave it empty, as a malformed
 * list is dropped whole rather than half-used. */
int dhcp_decode_domain_search(const uint8_t *data, size_t len, struct dhcp_strv *out);
/* Whether the `len` octets at `name` are a domain name a resolver may be given (every
 * name that reaches a result passes here: option 15 and each of 119's). RFC 1035 2.3.1
 * and RFC 1123 2.1: labels of letters, digits and '-', 1 to 63 octets, at most 253 in
 * all, with no trailing dot (callers drop the root's); '_' too, as in service names.
 * Nothing else: no blank, ';' or '#' that resolv.conf reads as syntax, no shell
 * character, no octet past ASCII. */
bool dhcp_domain_name_valid(const char *name, size_t len);
/* Why no host may have `addr` as its own, or NULL when it may: "this network"
 * 0.0.0.0/8 and loopback 127.0.0.0/8 (RFC 1122 3.2.1.3), multicast 224.0.0.0/4 (RFC
 * 5771), the limited broadcast 255.255.255.255 (RFC 919) and the rest of 240.0.0.0/4
 * (RFC 1112 4). Neither a leased address nor a nameserver can be one of these. */
const char *dhcp_address_reserved(struct in_addr addr);
/* A list of IPv4 addresses (options 3, 6, 42), in the server's order: -EBADMSG
 * unless the option is a non-empty multiple of four octets. */
int dhcp_decode_addresses(const uint8_t *data, size_t len, struct in_addr **out, size_t *count);
/* The classful prefix length of an address (A /8, B /16, C /24), for options 33
 * and for leases without a subnet mask. */
uint8_t dhcp_classful_prefix(struct in_addr addr);
