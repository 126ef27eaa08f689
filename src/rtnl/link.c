#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/macvlan.h>
#include <stdio.h>
#include <string.h>

#include "rtnl/link.h"
#include "rtnl/socket.h"

static void link_fill(struct rtnl_link *link, struct link_info *out)
{
	struct nl_addr *addr = rtnl_link_get_addr(link);
	const char *kind = rtnl_link_get_type(link);

	*out = (struct link_info){
		.index = rtnl_link_get_ifindex(link),
		.mtu = rtnl_link_get_mtu(link),
		.flags = rtnl_link_get_flags(link),
	};
	snprintf(out->name, sizeof(out->name), "%s", rtnl_link_get_name(link));
	snprintf(out->kind, sizeof(out->kind), "%s", kind ? kind : "");
	if (addr && nl_addr_get_len(addr) == MAC_LEN)
		memcpy(out->mac, nl_addr_get_binary_addr(addr), MAC_LEN);
	if (rtnl_link_is_macvlan(link))
		out->macvlan_mode = rtnl_link_macvlan_get_mode(link);
}

static int link_get(struct nl_sock *sk, int index, const char *name, struct link_info *out)
{
	struct rtnl_link *link = NULL;
	int r = rtnl_link_get_kernel(sk, index, name, &link);

	if (r < 0)
		return nl_errno(r) == -ENOENT ? -ENODEV : nl_errno(r);
	link_fill(link, out);
	rtnl_link_put(link);
	return 0;
}

int link_get_by_name(struct nl_sock *sk, const char *name, struct link_info *out)
{
	return link_get(sk, 0, name, out);
}

int link_get_by_index(struct nl_sock *sk, int index, struct link_info *out)
{
	return link_get(sk, index, NULL, out);
}

static struct nl_msg *link_request(int type, int flags, int index)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = index };
	struct nl_msg *msg = nlmsg_alloc_simple(type, flags);

	if (msg && nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static int put_macvlan_info(struct nl_msg *msg, const struct macvlan_spec *spec)
{
	struct nlattr *info = nla_nest_start(msg, IFLA_LINKINFO);
	if (!info || nla_put_string(msg, IFLA_INFO_KIND, "macvlan") < 0)
		return -ENOMEM;
	struct nlattr *data = nla_nest_start(msg, IFLA_INFO_DATA);
	/* Always sent, even for bridge, so the kernel default never decides. */
	if (!data || nla_put_u32(msg, IFLA_MACVLAN_MODE, spec->mode) < 0)
		return -ENOMEM;
	if (spec->bc_queue_len && nla_put_u32(msg, IFLA_MACVLAN_BC_QUEUE_LEN, spec->bc_queue_len) < 0)
		return -ENOMEM;
	nla_nest_end(msg, data);
	nla_nest_end(msg, info);
	return 0;
}

int link_add_macvlan(struct nl_sock *sk, const struct macvlan_spec *spec)
{
	_cleanup_nlmsg_ struct nl_msg *msg = link_request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);

	/* No IFLA_TXQLEN: a zero there once made pfifo drop every packet. */
	if (!msg || nla_put_string(msg, IFLA_IFNAME, spec->name) < 0 ||
	    nla_put_u32(msg, IFLA_LINK, (uint32_t)spec->master_index) < 0 ||
	    nla_put_u32(msg, IFLA_NET_NS_FD, (uint32_t)spec->target_netns) < 0 ||
	    (spec->mtu && nla_put_u32(msg, IFLA_MTU, spec->mtu) < 0) ||
	    (spec->has_mac && nla_put(msg, IFLA_ADDRESS, MAC_LEN, spec->mac) < 0) || put_macvlan_info(msg, spec) < 0)
		return -ENOMEM;
	return nl_transact(sk, msg);
}

int link_rename(struct nl_sock *sk, int index, const char *name)
{
	_cleanup_nlmsg_ struct nl_msg *msg = link_request(RTM_NEWLINK, 0, index);

	if (!msg || nla_put_string(msg, IFLA_IFNAME, name) < 0)
		return -ENOMEM;
	return nl_transact(sk, msg);
}

int link_set_up(struct nl_sock *sk, int index)
{
	_cleanup_nlmsg_ struct nl_msg *msg = link_request(RTM_NEWLINK, 0, index);
	struct ifinfomsg *ifi;

	if (!msg)
		return -ENOMEM;
	ifi = nlmsg_data(nlmsg_hdr(msg));
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	return nl_transact(sk, msg);
}

int link_delete(struct nl_sock *sk, int index)
{
	_cleanup_nlmsg_ struct nl_msg *msg = link_request(RTM_DELLINK, 0, index);

	return msg ? nl_transact(sk, msg) : -ENOMEM;
}
