#include <errno.h>
#include <linux/if_link.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <string.h>

#include "doctor/kernel_check.h"
#include "doctor/link_object.h"
#include "doctor/scratch.h"
#include "rtnl/link.h"
#include "rtnl/socket.h"
#include "util/macro.h"

#define LOWER_NAME "lower0"

/* Creates `link` through `sk`; 0 or the kernel's exact -errno (-EOPNOTSUPP: no such
 * link kind in this kernel). */
static int add_link(struct nl_sock *sk, struct rtnl_link *link)
{
	struct nl_msg *msg = NULL;
	int r = rtnl_link_build_add_request(link, NLM_F_CREATE | NLM_F_EXCL, &msg);

	if (r < 0)
		return -ENOMEM;
	r = nl_transact(sk, msg);
	nlmsg_free(msg);
	return r;
}

static int add_dummy(struct nl_sock *sk)
{
	_cleanup_link_ struct rtnl_link *link = rtnl_link_alloc();

	if (!link || rtnl_link_set_type(link, "dummy") < 0)
		return -ENOMEM;
	rtnl_link_set_name(link, LOWER_NAME);
	return add_link(sk, link);
}

static int add_veth(struct nl_sock *sk)
{
	_cleanup_link_ struct rtnl_link *link = rtnl_link_veth_alloc();
	struct rtnl_link *peer;

	if (!link)
		return -ENOMEM;
	rtnl_link_set_name(link, LOWER_NAME);
	/* get_peer hands out a reference of its own. */
	peer = rtnl_link_veth_get_peer(link);
	rtnl_link_set_name(peer, "lower1");
	rtnl_link_put(peer);
	return add_link(sk, link);
}

/* The link to hang the macvlan on: which kind it is, or NULL with *error set. */
static const char *add_lower(struct nl_sock *sk, int *error)
{
	*error = add_dummy(sk);
	if (*error == 0)
		return "dummy";
	if (*error != -EOPNOTSUPP)
		return NULL;
	*error = add_veth(sk);
	return *error == 0 ? "veth" : NULL;
}

static void report_macvlan(struct report *r, const char *lower, int e)
{
	struct check *c;

	if (e == 0) {
		report_add(r, "kernel-macvlan", CHECK_OK, "a macvlan can be made (tried on a %s link in a throwaway "
							  "namespace%s)", lower,
			   strcmp(lower, "dummy") ? ": this kernel has no dummy driver" : "");
		return;
	}
	c = report_add(r, "kernel-macvlan", CHECK_FAILED, "the kernel refused a macvlan on a %s link: %s", lower,
		       strerror(-e));
	if (e == -EOPNOTSUPP)
		check_hint(c, "this kernel has no macvlan driver: `modprobe macvlan`, or a kernel built with "
			      "CONFIG_MACVLAN");
	else
		check_hint(c, "see `dmesg` for the kernel's reason; `ip link add link IF type macvlan` in a scratch "
			      "namespace shows the same");
}

void check_kernel_macvlan(struct report *r)
{
	_cleanup_close_ int netns = scratch_netns_open();
	struct link_info lower_link;
	const char *lower;
	struct check *c;
	int e;

	if (netns < 0) {
		c = report_add(r, "kernel-macvlan", CHECK_FAILED, "cannot make a network namespace to try a macvlan "
								  "in: %s", strerror(-netns));
		check_hint(c, "run the doctor as root (it needs CAP_SYS_ADMIN and CAP_NET_ADMIN)");
		return;
	}
	_cleanup_nl_sock_ struct nl_sock *sk = nl_route_socket(netns);
	if (!sk) {
		report_add(r, "kernel-macvlan", CHECK_FAILED, "cannot open netlink in a throwaway namespace: %s",
			   strerror(errno));
		return;
	}
	lower = add_lower(sk, &e);
	if (!lower && e == -EOPNOTSUPP) {
		report_add(r, "kernel-macvlan", CHECK_SKIPPED, "not tried: this kernel has neither the dummy nor "
							       "the veth driver to put a macvlan on");
		return;
	}
	if (!lower) {
		c = report_add(r, "kernel-macvlan", CHECK_FAILED, "cannot make a dummy link to try a macvlan on: %s",
			       strerror(-e));
		check_hint(c, "run the doctor as root; see `dmesg`");
		return;
	}
	e = link_get_by_name(sk, LOWER_NAME, &lower_link);
	if (e == 0) {
		struct macvlan_spec spec = { .master_index = lower_link.index, .target_netns = netns,
					     .name = "macvlan0", .mode = MACVLAN_MODE_BRIDGE };
		e = link_add_macvlan(sk, &spec);
	}
	report_macvlan(r, lower, e);
}
