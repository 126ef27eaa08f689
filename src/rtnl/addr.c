#include <errno.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "rtnl/addr.h"
#include "rtnl/socket.h"
#include "util/macro.h"

static struct nl_addr *to_nl_addr(const struct ip_addr *addr, unsigned prefix_len)
{
	struct nl_addr *a = nl_addr_build(addr->family, addr->bytes, ip_addr_len(addr));

	if (a)
		nl_addr_set_prefixlen(a, (int)prefix_len);
	return a;
}

static bool from_nl_addr(struct nl_addr *a, struct ip_prefix *out)
{
	int family = a ? nl_addr_get_family(a) : AF_UNSPEC;
	size_t len = family == AF_INET ? 4 : 16;

	if ((family != AF_INET && family != AF_INET6) || nl_addr_get_len(a) != len)
		return false;
	*out = (struct ip_prefix){ .addr.family = family, .len = nl_addr_get_prefixlen(a) };
	memcpy(out->addr.bytes, nl_addr_get_binary_addr(a), len);
	return true;
}

static int add_object(struct nl_sock *sk, int r, struct nl_msg *msg)
{
	if (r < 0)
		return nl_errno(r);
	r = nl_transact(sk, msg);
	nlmsg_free(msg);
	return r;
}

/* An address object as `ip addr add ADDR/LEN dev IF` builds it; NULL without memory. */
static struct rtnl_addr *build_addr(int index, const struct ip_prefix *prefix)
{
	struct rtnl_addr *addr = rtnl_addr_alloc();
	struct nl_addr *local = to_nl_addr(&prefix->addr, prefix->len);

	if (!addr || !local) {
		nl_addr_put(local);
		rtnl_addr_put(addr);
		return NULL;
	}
	rtnl_addr_set_ifindex(addr, index);
	rtnl_addr_set_local(addr, local);
	nl_addr_put(local);
	/* IPv4 subnets get their broadcast address, as `ip addr add ... brd +` does. */
	if (prefix->addr.family == AF_INET && prefix->len < 31) {
		struct ip_addr brd = prefix->addr;
		brd.v4.s_addr |= htonl(prefix->len ? 0xffffffffu >> prefix->len : 0xffffffffu);
		struct nl_addr *b = to_nl_addr(&brd, 32);
		if (b) {
			rtnl_addr_set_broadcast(addr, b);
			nl_addr_put(b);
		}
	}
	return addr;
}

static int addr_request(struct nl_sock *sk, struct rtnl_addr *addr, bool remove, int flags)
{
	struct nl_msg *msg = NULL;
	int r;

	if (!addr)
		return -ENOMEM;
	r = remove ? rtnl_addr_build_delete_request(addr, 0, &msg) : rtnl_addr_build_add_request(addr, flags, &msg);
	rtnl_addr_put(addr);
	return add_object(sk, r, msg);
}

int addr_add(struct nl_sock *sk, int index, const struct ip_prefix *prefix)
{
	return addr_request(sk, build_addr(index, prefix), false, NLM_F_CREATE | NLM_F_EXCL);
}

int addr_set_lifetime(struct nl_sock *sk, int index, const struct ip_prefix *prefix, uint32_t valid_s)
{
	struct rtnl_addr *addr = build_addr(index, prefix);

	if (addr) {
		rtnl_addr_set_valid_lifetime(addr, valid_s);
		rtnl_addr_set_preferred_lifetime(addr, valid_s);
	}
	return addr_request(sk, addr, false, NLM_F_CREATE | NLM_F_REPLACE);
}

int addr_delete(struct nl_sock *sk, int index, const struct ip_prefix *prefix)
{
	return addr_request(sk, build_addr(index, prefix), true, 0);
}

struct collector {
	void *items;
	size_t count;
	size_t size;
	int family;
	int index;
	int error;
};

static void collect_addr(struct nl_object *obj, void *arg)
{
	struct rtnl_addr *addr = (struct rtnl_addr *)obj;
	struct collector *c = arg;
	struct addr_entry entry = { .flags = rtnl_addr_get_flags(addr), .index = rtnl_addr_get_ifindex(addr) };

	if ((c->index && entry.index != c->index) || !from_nl_addr(rtnl_addr_get_local(addr), &entry.prefix) ||
	    (c->family != AF_UNSPEC && entry.prefix.addr.family != c->family))
		return;
	struct addr_entry *slot = array_append(&c->items, &c->count, sizeof(entry));
	if (slot)
		*slot = entry;
	else
		c->error = -ENOMEM;
}

/* Walks a freshly dumped cache into c->items, then hands them out. */
static int collect(struct collector *c, struct nl_cache *cache, void (*fn)(struct nl_object *, void *), void *out,
		   size_t *count)
{
	nl_cache_foreach(cache, fn, c);
	nl_cache_free(cache);
	if (c->error < 0) {
		free(c->items);
		return c->error;
	}
	*(void **)out = c->items;
	*count = c->count;
	return 0;
}

int addr_list(struct nl_sock *sk, int family, int index, struct addr_entry **out, size_t *count)
{
	struct collector c = { .family = family, .index = index };
	struct nl_cache *cache = NULL;
	int r = rtnl_addr_alloc_cache(sk, &cache);

	return r < 0 ? nl_errno(r) : collect(&c, cache, collect_addr, out, count);
}

bool addr_entries_contain(const struct addr_entry *addrs, size_t count, const struct ip_prefix *prefix)
{
	for (size_t i = 0; i < count; i++)
		if (addrs[i].prefix.len == prefix->len && ip_addr_equal(&addrs[i].prefix.addr, &prefix->addr))
			return true;
	return false;
}

int route_add(struct nl_sock *sk, int index, const struct cni_route *cni, const struct ip_addr *gw)
{
	struct rtnl_route *route = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *dst = to_nl_addr(&cni->dst.addr, cni->dst.len);
	struct nl_addr *via = gw ? to_nl_addr(gw, ip_addr_len(gw) * 8) : NULL;
	struct nl_msg *msg = NULL;
	int r = -NLE_NOMEM;

	if (route && nh && dst && (via || !gw)) {
		rtnl_route_set_family(route, (uint8_t)cni->dst.addr.family);
		rtnl_route_set_dst(route, dst);
		rtnl_route_nh_set_ifindex(nh, index);
		if (via)
			rtnl_route_nh_set_gateway(nh, via);
		rtnl_route_add_nexthop(route, nh);
		nh = NULL; /* the route owns it now */
		rtnl_route_set_table(route, cni->has_table ? (uint32_t)cni->table : RT_TABLE_MAIN);
		/* Without a gateway the destination is on the link. */
		rtnl_route_set_scope(route, cni->has_scope ? (uint8_t)cni->scope : gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
		if (cni->priority)
			rtnl_route_set_priority(route, (uint32_t)cni->priority);
		if (cni->mtu)
			rtnl_route_set_metric(route, RTAX_MTU, (unsigned)cni->mtu);
		if (cni->advmss)
			rtnl_route_set_metric(route, RTAX_ADVMSS, (unsigned)cni->advmss);
		r = rtnl_route_build_add_request(route, NLM_F_CREATE | NLM_F_EXCL, &msg);
	}
	if (nh)
		rtnl_route_nh_free(nh);
	nl_addr_put(dst);
	nl_addr_put(via);
	rtnl_route_put(route);
	return add_object(sk, r, msg);
}

static void collect_route(struct nl_object *obj, void *arg)
{
	struct rtnl_route *route = (struct rtnl_route *)obj;
	struct collector *c = arg;
	struct route_entry entry = {
		.table = rtnl_route_get_table(route),
		.priority = rtnl_route_get_priority(route),
		.scope = rtnl_route_get_scope(route),
	};
	struct nl_addr *dst = rtnl_route_get_dst(route);

	if (rtnl_route_get_type(route) != RTN_UNICAST)
		return;
	/* A default route carries no RTA_DST: libnl leaves an empty address. */
	if (!dst || nl_addr_get_len(dst) == 0)
		entry.dst = (struct ip_prefix){ .addr.family = rtnl_route_get_family(route) };
	else if (!from_nl_addr(dst, &entry.dst))
		return;
	if (rtnl_route_get_nnexthops(route) > 0) {
		struct rtnl_nexthop *nh = rtnl_route_nexthop_n(route, 0);
		entry.index = rtnl_route_nh_get_ifindex(nh);
		struct ip_prefix gw;
		if (from_nl_addr(rtnl_route_nh_get_gateway(nh), &gw)) {
			entry.has_gw = true;
			entry.gw = gw.addr;
		}
	}
	struct route_entry *slot = array_append(&c->items, &c->count, sizeof(entry));
	if (slot)
		*slot = entry;
	else
		c->error = -ENOMEM;
}

int route_list(struct nl_sock *sk, int family, struct route_entry **out, size_t *count)
{
	struct collector c = { .family = family };
	struct nl_cache *cache = NULL;
	int r = rtnl_route_alloc_cache(sk, family, 0, &cache);

	return r < 0 ? nl_errno(r) : collect(&c, cache, collect_route, out, count);
}

int route_default_index(struct nl_sock *sk)
{
	_cleanup_free_ struct route_entry *routes = NULL;
	size_t count = 0;
	int r = route_list(sk, AF_INET, &routes, &count);

	if (r < 0)
		return r;
	for (size_t i = 0; i < count; i++)
		if (routes[i].table == RT_TABLE_MAIN && routes[i].dst.len == 0 && routes[i].index > 0)
			return routes[i].index;
	return -ENOENT;
}
