/* What a node-side macvlan (macvlan's hostReach shim) needs beyond link.c and addr.c:
 * the lower link of a link, and deleting a host route from one interface only.
 * All return 0 (or an index) or -errno. */
#pragma once

#include <net/if.h>
#include <netlink/netlink.h>

#include "cni/ipaddr.h"

/* The name of master `master_index`'s hostReach shim: "mvh-<index>", unique in the
 * node's namespace and within IFNAMSIZ whatever the master is called. */
void host_reach_shim_name(int master_index, char name[IFNAMSIZ]);

/* The link `index` is stacked on (IFLA_LINK: a macvlan's master), -ENOENT when none. */
int link_lower_index(struct nl_sock *sk, int index);

/* Deletes the main table's route to `addr` (/32 or /128) through link `index`, and
 * no other: a route to the same address through another link stays. -ESRCH when
 * there is none. */
int route_host_delete(struct nl_sock *sk, int index, const struct ip_addr *addr);

/* The link of the main table's host route to `addr`: `want` when one goes through it,
 * else another's, 0 when there is none, or -errno. */
int route_host_link(struct nl_sock *sk, const struct ip_addr *addr, int want);

/* The route to `from` (/32) through link `index` moved to `to`: a pod's address changed
 * under it. The new route is added before the old one goes, so that the link never
 * routes nothing meanwhile (its last route going takes the hostReach shim with it).
 * -ESRCH when no route to `from` goes through `index`: nothing to follow. */
int route_host_move(struct nl_sock *sk, int index, const struct ip_addr *from, const struct ip_addr *to);
