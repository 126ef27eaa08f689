#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "dhcpd/lease_result.h"
#include "util/macro.h"

/* Every option a lease configures is optional: one it lacks adds nothing. */
static int optional(int r)
{
	return r == -ENODATA ? 0 : r;
}

static struct ip_addr v4(struct in_addr addr)
{
	return (struct ip_addr){ .family = AF_INET, .v4 = addr };
}

static int set_address(const struct dhcp_lease *lease, struct cni_result *out)
{
	struct cni_ip *ip = cni_result_add_ip(out);
	struct in_addr router;
	int r;

	if (!ip)
		return -ENOMEM;
	ip->address = (struct ip_prefix){ .addr = v4(lease->address), .len = lease->prefix_len };
	r = dhcp_lease_get_router(lease, &router);
	if (r == 0) {
		ip->has_gateway = true;
		ip->gateway = v4(router);
	}
	return optional(r);
}

static int add_route(struct cni_result *out, const struct dhcp_route *route, int priority)
{
	struct cni_route *cni = cni_result_add_route(out);

	if (!cni)
		return -ENOMEM;
	cni->dst = (struct ip_prefix){ .addr = v4(route->dst), .len = route->prefix_len };
	cni->priority = priority;
	if (route->gateway.s_addr != INADDR_ANY) {
		cni->has_gw = true;
		cni->gw = v4(route->gateway);
	} else {
		/* RFC 3442: a router of 0.0.0.0 means the destination is on the link. */
		cni->has_scope = true;
		cni->scope = CNI_SCOPE_LINK;
	}
	return 0;
}

static int add_routes(const struct dhcp_lease *lease, int priority, struct cni_result *out)
{
	_cleanup_free_ struct dhcp_route *routes = NULL;
	size_t n;
	int r = optional(dhcp_lease_get_routes(lease, &routes, &n));

	for (size_t i = 0; r == 0 && i < n; i++)
		r = add_route(out, &routes[i], priority);
	return r;
}

static int push(struct cni_strv *strv, const char *value)
{
	return cni_strv_push(strv, value) < 0 ? -ENOMEM : 0;
}

static int set_dns(const struct dhcp_lease *lease, struct cni_dns *dns)
{
	_cleanup_free_ struct in_addr *servers = NULL;
	struct dhcp_strv search;
	char text[INET_ADDRSTRLEN];
	size_t n;
	int r = optional(dhcp_lease_get_dns(lease, &servers, &n));

	for (size_t i = 0; r == 0 && i < n; i++)
		r = push(&dns->nameservers, inet_ntop(AF_INET, &servers[i], text, sizeof(text)));
	if (r == 0)
		r = optional(dhcp_lease_get_domain_name(lease, &dns->domain));
	if (r < 0)
		return r;
	r = optional(dhcp_lease_get_search_domains(lease, &search));
	for (size_t i = 0; r == 0 && i < search.count; i++)
		r = push(&dns->search, search.items[i]);
	dhcp_strv_free(&search);
	return r;
}

int lease_to_cni_result(const struct dhcp_lease *lease, int priority, struct cni_result *out)
{
	int r;

	*out = (struct cni_result){ 0 };
	r = set_address(lease, out);
	if (r == 0)
		r = add_routes(lease, priority, out);
	if (r == 0)
		r = set_dns(lease, &out->dns);
	if (r < 0)
		cni_result_free(out);
	return r;
}
