/* IPv4/IPv6 addresses and prefixes in the text forms CNI uses ("10.1.2.3/24"). */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

struct ip_addr {
	int family; /* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
		uint8_t bytes[16];
	};
};

/* An address with a prefix length; CNI addresses keep their host bits. */
struct ip_prefix {
	struct ip_addr addr;
	unsigned len;
};

/* "ADDR/LEN" as long as "ffff:...:255.255.255.255/128" plus NUL. */
#define IP_PREFIX_STRLEN (INET6_ADDRSTRLEN + 4)

bool ip_addr_parse(const char *text, struct ip_addr *out);
bool ip_prefix_parse(const char *text, struct ip_prefix *out);
void ip_addr_format(const struct ip_addr *addr, char buf[static INET6_ADDRSTRLEN]);
void ip_prefix_format(const struct ip_prefix *prefix, char buf[static IP_PREFIX_STRLEN]);
bool ip_addr_equal(const struct ip_addr *a, const struct ip_addr *b);
size_t ip_addr_len(const struct ip_addr *addr);
/* The prefix with host bits cleared: 10.1.2.3/24 -> 10.1.2.0/24. */
struct ip_prefix ip_prefix_network(const struct ip_prefix *prefix);
