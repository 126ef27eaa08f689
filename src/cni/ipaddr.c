#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ipaddr.h"

bool ip_addr_parse(const char *text, struct ip_addr *out)
{
	struct ip_addr addr = { 0 };

	if (inet_pton(AF_INET, text, &addr.v4) == 1)
		addr.family = AF_INET;
	else if (inet_pton(AF_INET6, text, &addr.v6) == 1)
		addr.family = AF_INET6;
	else
		return false;
	*out = addr;
	return true;
}

bool ip_prefix_parse(const char *text, struct ip_prefix *out)
{
	const char *slash = strchr(text, '/');
	char host[INET6_ADDRSTRLEN];
	struct ip_prefix prefix;

	if (!slash || (size_t)(slash - text) >= sizeof(host))
		return false;
	memcpy(host, text, (size_t)(slash - text));
	host[slash - text] = '\0';
	if (!ip_addr_parse(host, &prefix.addr))
		return false;

	const char *digits = slash + 1;
	unsigned max = prefix.addr.family == AF_INET ? 32 : 128;
	unsigned len = 0;
	if (*digits == '\0' || strlen(digits) > 3 || (digits[0] == '0' && digits[1] != '\0'))
		return false;
	for (const char *p = digits; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		len = len * 10 + (unsigned)(*p - '0');
	}
	if (len > max)
		return false;
	prefix.len = len;
	*out = prefix;
	return true;
}

void ip_addr_format(const struct ip_addr *addr, char buf[static INET6_ADDRSTRLEN])
{
	if (!inet_ntop(addr->family, addr->bytes, buf, INET6_ADDRSTRLEN))
		snprintf(buf, INET6_ADDRSTRLEN, "<family %d>", addr->family);
}

void ip_prefix_format(const struct ip_prefix *prefix, char buf[static IP_PREFIX_STRLEN])
{
	char host[INET6_ADDRSTRLEN];

	ip_addr_format(&prefix->addr, host);
	snprintf(buf, IP_PREFIX_STRLEN, "%s/%u", host, prefix->len);
}

size_t ip_addr_len(const struct ip_addr *addr)
{
	return addr->family == AF_INET ? 4 : 16;
}

bool ip_addr_equal(const struct ip_addr *a, const struct ip_addr *b)
{
	return a->family == b->family && memcmp(a->bytes, b->bytes, ip_addr_len(a)) == 0;
}

struct ip_prefix ip_prefix_network(const struct ip_prefix *prefix)
{
	struct ip_prefix net = *prefix;
	size_t nbytes = ip_addr_len(&net.addr);

	for (size_t i = 0; i < nbytes; i++) {
		unsigned bit = (unsigned)i * 8;
		if (bit >= net.len)
			net.addr.bytes[i] = 0;
		else if (net.len - bit < 8)
			net.addr.bytes[i] &= (uint8_t)(0xff << (8 - (net.len - bit)));
	}
	return net;
}
