/* Interface addresses and routes. All return 0 or -errno. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <netlink/netlink.h>

#include "cni/ipaddr.h"
#include "cni/result.h"

struct addr_entry {
	struct ip_prefix prefix;
	unsigned flags; /* IFA_F_* */
	int index;
};

struct route_entry {
	struct ip_prefix dst;
	bool has_gw;
	struct ip_addr gw;
	int index; /* output interface of the first next hop */
	unsigned table;
	unsigned priority;
	unsigned scope;
};

int addr_add(struct nl_sock *sk, int index, const struct ip_prefix *prefix);
/* Adds or updates the address with valid and preferred lifetimes of `valid_s` seconds
 * (0xffffffff: forever): the kernel removes it when they run out. */
int addr_set_lifetime(struct nl_sock *sk, int index, const struct ip_prefix *prefix, uint32_t valid_s);
int addr_delete(struct nl_sock *sk, int index, const struct ip_prefix *prefix);
/* Every address of `family` (AF_UNSPEC: all) on link `index` (0: all links). */
int addr_list(struct nl_sock *sk, int family, int index, struct addr_entry **out, size_t *count);
/* `prefix` (address and length) is among the `count` entries. */
bool addr_entries_contain(const struct addr_entry *addrs, size_t count, const struct ip_prefix *prefix);

/* A CNI route on link `index` through `gw` (NULL: on-link). */
int route_add(struct nl_sock *sk, int index, const struct cni_route *route, const struct ip_addr *gw);
int route_list(struct nl_sock *sk, int family, struct route_entry **out, size_t *count);

/* The interface of the first IPv4 default route in the main table, as the reference
 * picks the default master; -ENOENT when there is none. */
int route_default_index(struct nl_sock *sk);
