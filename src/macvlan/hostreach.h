/* hostReach: the node reaches its own macvlan pods, and they reach it. The kernel passes
 * no frame between a macvlan and its master's own stack, so the node gets a bridge-mode
 * macvlan of its own on the master, the shim "mvh-<master's ifindex>", and a /32 route
 * per pod address through it. The routes are the record of who uses the shim: it is
 * made with the first and removed with the last, under a lock file per master. */
#pragma once

#include "cni/error.h"
#include "cni/result.h"
#include "cni/skel.h"
#include "rtnl/link.h"

/* The node's side: its namespace (the plugin's own) and the master in it. */
struct host_reach_node {
	struct nl_sock *sk;
	int netns;
	const struct link_info *master;
};

/* ADD, once the pod has its addresses: makes the master's shim if it is missing and
 * routes each IPv4 address of `result` through it. Leaves nothing behind on failure. */
int host_reach_add(const struct host_reach_node *node, const struct cni_result *result, struct cni_error *err);

/* DEL: removes the routes to the pod (prevResult's IPv4 addresses, and those on
 * CNI_IFNAME in CNI_NETNS while it is there) and the shim with its last route. */
int host_reach_del(const struct host_reach_node *node, const struct cni_call *call, struct cni_error *err);

/* CHECK: the shim is there and up, and each IPv4 address prevResult gives interface
 * `index` is routed through it. */
int host_reach_check(const struct host_reach_node *node, const struct cni_result *prev, int index,
		     struct cni_error *err);
