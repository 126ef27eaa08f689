/* Links: look up, create macvlans, rename, bring up, delete. All return 0 or -errno. */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include <netlink/netlink.h>

#include "util/mac.h"

struct link_info {
	int index;
	char name[IFNAMSIZ];
	char kind[16]; /* "macvlan", "veth", ... or "" */
	uint8_t mac[MAC_LEN];
	unsigned mtu;
	unsigned flags;        /* IFF_UP, ... */
	uint32_t macvlan_mode; /* MACVLAN_MODE_* when kind is macvlan */
};

int link_get_by_name(struct nl_sock *sk, const char *name, struct link_info *out);
int link_get_by_index(struct nl_sock *sk, int index, struct link_info *out);

struct macvlan_spec {
	int master_index;
	int target_netns; /* fd: the link is created directly in there */
	const char *name;
	uint32_t mode;
	unsigned mtu; /* 0 = inherit the master's */
	bool has_mac;
	uint8_t mac[MAC_LEN];
	unsigned bc_queue_len; /* 0 = kernel default */
};

/* Created through `sk`, which must be in the master's namespace. */
int link_add_macvlan(struct nl_sock *sk, const struct macvlan_spec *spec);
int link_rename(struct nl_sock *sk, int index, const char *name);
int link_set_up(struct nl_sock *sk, int index);
int link_delete(struct nl_sock *sk, int index);
