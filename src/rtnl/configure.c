#include <errno.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "netns/netns.h"
#include "rtnl/addr.h"
#include "rtnl/configure.h"
#include "util/mac.h"
#include "util/macro.h"

/* Bound on waiting for IPv6 duplicate address detection, as the reference does. */
#define DAD_TIMEOUT_MS 5000
#define DAD_POLL_MS 20

static bool has_family(const struct cni_result *result, int family)
{
	for (size_t i = 0; i < result->n_ips; i++)
		if (result->ips[i].address.addr.family == family)
			return true;
	return false;
}

/* The first gateway of each family: routes without "gw" go through it. */
static const struct ip_addr *family_gateway(const struct cni_result *result, int family)
{
	for (size_t i = 0; i < result->n_ips; i++)
		if (result->ips[i].has_gateway && result->ips[i].gateway.family == family)
			return &result->ips[i].gateway;
	return NULL;
}

static bool unspecified(const struct ip_addr *addr)
{
	static const uint8_t zero[16];
	return memcmp(addr->bytes, zero, ip_addr_len(addr)) == 0;
}

/* A route without "gw" goes through its family's first gateway, unless its scope says
 * the destination is on the link (or the host): a gateway there is refused. A "gw" of
 * 0.0.0.0 is how results before 1.1.0 (and the reference) write an on-link route. */
static const struct ip_addr *route_gateway(const struct cni_result *result, const struct cni_route *route)
{
	if (route->has_gw)
		return unspecified(&route->gw) ? NULL : &route->gw;
	if (route->has_scope && route->scope >= RT_SCOPE_LINK)
		return NULL;
	return family_gateway(result, route->dst.addr.family);
}

static int set_sysctls(int netns, const char *ifname, const struct cni_result *result)
{
	char key[128];
	int r;

	/* Announce the new address so neighbours update stale ARP/ND entries at once. */
	snprintf(key, sizeof(key), "net/ipv4/conf/%s/arp_notify", ifname);
	if ((r = netns_sysctl_write(netns, key, "1")) < 0)
		return r;
	if (!has_family(result, AF_INET6))
		return 0;
	snprintf(key, sizeof(key), "net/ipv6/conf/%s/ndisc_notify", ifname);
	netns_sysctl_write(netns, key, "1");
	/* Pod namespaces may start with IPv6 disabled; the addresses need it on. */
	netns_sysctl_write(netns, "net/ipv6/conf/lo/disable_ipv6", "0");
	snprintf(key, sizeof(key), "net/ipv6/conf/%s/disable_ipv6", ifname);
	if ((r = netns_sysctl_write(netns, key, "0")) < 0)
		return r;
	snprintf(key, sizeof(key), "net/ipv6/conf/%s/keep_addr_on_down", ifname);
	netns_sysctl_write(netns, key, "1");
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Routes through an IPv6 gateway need the addresses out of DAD first. */
static int wait_for_dad(struct nl_sock *sk, const struct link_info *link, const char *where, struct cni_error *err)
{
	for (long waited = 0;; waited += DAD_POLL_MS) {
		_cleanup_free_ struct addr_entry *addrs = NULL;
		size_t count = 0;
		bool tentative = false;
		int r = addr_list(sk, AF_INET6, link->index, &addrs, &count);
		if (r < 0)
			return cni_error_set(err, CNI_ERR_NETLINK, "listing IPv6 addresses of %s in %s: %s", link->name,
					     where, strerror(-r));
		for (size_t i = 0; i < count; i++) {
			char text[IP_PREFIX_STRLEN];
			ip_prefix_format(&addrs[i].prefix, text);
			if (addrs[i].flags & IFA_F_DADFAILED)
				return cni_error_set(err, CNI_ERR_NETLINK,
						     "IPv6 address %s on %s in %s failed duplicate address detection: "
						     "another host on the segment uses it",
						     text, link->name, where);
			tentative |= (addrs[i].flags & IFA_F_TENTATIVE) != 0;
		}
		if (!tentative)
			return 0;
		if (waited >= DAD_TIMEOUT_MS)
			return cni_error_set(err, CNI_ERR_NETLINK, "IPv6 addresses on %s in %s still tentative after %d ms",
					     link->name, where, DAD_TIMEOUT_MS);
		sleep_ms(DAD_POLL_MS);
	}
}

static int add_routes(struct nl_sock *sk, const struct link_info *link, const struct cni_result *result,
		      const char *where, struct cni_error *err)
{
	for (size_t i = 0; i < result->n_routes; i++) {
		const struct cni_route *route = &result->routes[i];
		const struct ip_addr *gw = route_gateway(result, route);
		int r = route_add(sk, link->index, route, gw);
		if (r < 0) {
			char dst[IP_PREFIX_STRLEN], via[INET6_ADDRSTRLEN] = "on-link";
			ip_prefix_format(&route->dst, dst);
			if (gw)
				ip_addr_format(gw, via);
			cni_error_set(err, CNI_ERR_NETLINK, "adding route %s via %s on %s in %s: %s", dst, via, link->name,
				      where, strerror(-r));
			if (r == -ENETUNREACH)
				cni_error_details(err, "the gateway is not inside any subnet of the interface's addresses");
			return -1;
		}
	}
	return 0;
}

int configure_link_up(struct nl_sock *sk, const struct link_info *link, const char *where, struct cni_error *err)
{
	int r = link_set_up(sk, link->index);
	char mac[MAC_STRLEN];

	if (r == 0)
		return 0;
	cni_error_set(err, CNI_ERR_NETLINK, "setting %s up in %s: %s", link->name, where, strerror(-r));
	/* A macvlan's MAC clash with its master or a sibling shows only now, when it opens. */
	if (r == -EADDRINUSE) {
		mac_format(link->mac, mac);
		cni_error_details(err, "MAC address %s is already used on the same master (by the master itself or "
				       "another macvlan): choose another \"mac\" or leave it unset",
				  mac);
	}
	return -1;
}

int configure_interface(struct nl_sock *sk, int netns, const struct link_info *link, const struct cni_result *result,
			const char *where, struct cni_error *err)
{
	int r = set_sysctls(netns, link->name, result);

	if (r < 0)
		return cni_error_set(err, CNI_ERR_NETLINK, "setting sysctls of %s in %s: %s", link->name, where,
				     strerror(-r));
	for (size_t i = 0; i < result->n_ips; i++) {
		r = addr_add(sk, link->index, &result->ips[i].address);
		if (r < 0) {
			char text[IP_PREFIX_STRLEN];
			ip_prefix_format(&result->ips[i].address, text);
			return cni_error_set(err, CNI_ERR_NETLINK, "adding address %s to %s in %s: %s", text, link->name,
					     where, strerror(-r));
		}
	}
	if (configure_link_up(sk, link, where, err) < 0)
		return -1;
	if (family_gateway(result, AF_INET6) && wait_for_dad(sk, link, where, err) < 0)
		return -1;
	return add_routes(sk, link, result, where, err);
}

static bool same_network(const struct ip_prefix *a, const struct ip_prefix *b)
{
	struct ip_prefix na = ip_prefix_network(a), nb = ip_prefix_network(b);
	return na.len == nb.len && ip_addr_equal(&na.addr, &nb.addr);
}

static bool route_present(const struct route_entry *routes, size_t count, const struct ip_prefix *dst, int index,
			  unsigned table, const struct ip_addr *gw)
{
	for (size_t i = 0; i < count; i++) {
		const struct route_entry *r = &routes[i];
		if (same_network(&r->dst, dst) && r->table == table && (!index || r->index == index) &&
		    (!gw || (r->has_gw && ip_addr_equal(&r->gw, gw))))
			return true;
	}
	return false;
}

static int check_addresses(const struct addr_entry *addrs, size_t n_addrs, const struct route_entry *routes,
			   size_t n_routes, const struct link_info *link, const struct cni_result *result,
			   int result_index, struct cni_error *err)
{
	for (size_t i = 0; i < result->n_ips; i++) {
		const struct cni_ip *ip = &result->ips[i];
		char text[IP_PREFIX_STRLEN];

		if (ip->interface != result_index)
			continue;
		ip_prefix_format(&ip->address, text);
		if (!addr_entries_contain(addrs, n_addrs, &ip->address))
			return cni_error_set(err, CNI_ERR_CHECK_FAILED, "address %s is not on %s", text, link->name);
		/* Host-length prefixes have no prefix route. */
		if (ip->address.len < ip_addr_len(&ip->address.addr) * 8 &&
		    !route_present(routes, n_routes, &ip->address, link->index, RT_TABLE_MAIN, NULL))
			return cni_error_set(err, CNI_ERR_CHECK_FAILED, "the prefix route of address %s on %s is missing",
					     text, link->name);
	}
	return 0;
}

static int check_routes(const struct route_entry *routes, size_t n_routes, const struct link_info *link,
			const struct cni_result *result, struct cni_error *err)
{
	for (size_t i = 0; i < result->n_routes; i++) {
		const struct cni_route *route = &result->routes[i];
		const struct ip_addr *gw = route_gateway(result, route);
		unsigned table = route->has_table ? (unsigned)route->table : RT_TABLE_MAIN;

		if (!route_present(routes, n_routes, &route->dst, 0, table, gw)) {
			char dst[IP_PREFIX_STRLEN], via[INET6_ADDRSTRLEN] = "on-link";
			ip_prefix_format(&route->dst, dst);
			if (gw)
				ip_addr_format(gw, via);
			return cni_error_set(err, CNI_ERR_CHECK_FAILED, "route %s via %s (table %u) for %s is missing", dst,
					     via, table, link->name);
		}
	}
	return 0;
}

int check_interface_config(struct nl_sock *sk, const struct link_info *link, const struct cni_result *result,
			   int result_index, struct cni_error *err)
{
	_cleanup_free_ struct addr_entry *addrs = NULL;
	_cleanup_free_ struct route_entry *routes = NULL;
	size_t n_addrs = 0, n_routes = 0;
	int r = addr_list(sk, AF_UNSPEC, link->index, &addrs, &n_addrs);

	if (r >= 0)
		r = route_list(sk, AF_UNSPEC, &routes, &n_routes);
	if (r < 0)
		return cni_error_set(err, CNI_ERR_NETLINK, "reading addresses and routes of %s: %s", link->name,
				     strerror(-r));
	if (check_addresses(addrs, n_addrs, routes, n_routes, link, result, result_index, err) < 0)
		return -1;
	return check_routes(routes, n_routes, link, result, err);
}
