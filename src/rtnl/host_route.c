#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/rtnetlink.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

#include "rtnl/addr.h"
#include "rtnl/host_route.h"
#include "rtnl/socket.h"
#include "util/macro.h"

void host_reach_shim_name(int master_index, char name[IFNAMSIZ])
{
	snprintf(name, IFNAMSIZ, "mvh-%d", master_index);
}

int link_lower_index(struct nl_sock *sk, int index)
{
	struct rtnl_link *link = NULL;
	int r = rtnl_link_get_kernel(sk, index, NULL, &link);

	if (r < 0)
		return nl_errno(r) == -ENOENT ? -ENODEV : nl_errno(r);
	int lower = rtnl_link_get_link(link);
	rtnl_link_put(link);
	return lower > 0 ? lower : -ENOENT;
}

int route_host_delete(struct nl_sock *sk, int index, const struct ip_addr *addr)
{
	struct rtnl_route *route = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *dst = nl_addr_build(addr->family, addr->bytes, ip_addr_len(addr));
	struct nl_msg *msg = NULL;
	int r = -NLE_NOMEM;

	if (route && nh && dst) {
		nl_addr_set_prefixlen(dst, (int)ip_addr_len(addr) * 8);
		rtnl_route_set_family(route, (uint8_t)addr->family);
		rtnl_route_set_dst(route, dst);
		rtnl_route_set_table(route, RT_TABLE_MAIN);
		/* The kernel deletes only a route whose next hop leaves through this link. */
		rtnl_route_nh_set_ifindex(nh, index);
		rtnl_route_add_nexthop(route, nh);
		nh = NULL; /* the route owns it now */
		r = rtnl_route_build_del_request(route, 0, &msg);
	}
	if (nh)
		rtnl_route_nh_free(nh);
	nl_addr_put(dst);
	rtnl_route_put(route);
	if (r < 0)
		return nl_errno(r);
	r = nl_transact(sk, msg);
	nlmsg_free(msg);
	return r;
}

int route_host_link(struct nl_sock *sk, const struct ip_addr *addr, int want)
{
	_cleanup_free_ struct route_entry *routes = NULL;
	size_t count = 0;
	int r = route_list(sk, addr->family, &routes, &count), found = 0;

	for (size_t i = 0; r >= 0 && i < count; i++) {
		const struct route_entry *route = &routes[i];
		if (route->table == RT_TABLE_MAIN && route->dst.len == ip_addr_len(addr) * 8 &&
		    ip_addr_equal(&route->dst.addr, addr) && found != want)
			found = route->index;
	}
	return r < 0 ? r : found;
}

int route_host_move(struct nl_sock *sk, int index, const struct ip_addr *from, const struct ip_addr *to)
{
	struct cni_route route = { .dst = { .addr = *to, .len = (unsigned)ip_addr_len(to) * 8 } };
	int r = route_host_link(sk, from, index);

	if (r != index)
		return r < 0 ? r : -ESRCH;
	r = route_add(sk, index, &route, NULL);
	if (r < 0 && r != -EEXIST)
		return r;
	r = route_host_delete(sk, index, from);
	return r == -ESRCH ? 0 : r;
}
