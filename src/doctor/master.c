#include <errno.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <netlink/route/link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "doctor/link_object.h"
#include "doctor/master.h"
#include "rtnl/socket.h"
#include "util/macro.h"

/* What the kernel says of the master; its own master (a bridge, a bond) when it has one. */
struct master {
	const char *name;
	int index;
	char kind[16]; /* IFLA_INFO_KIND; empty for a plain (physical) device */
	unsigned mtu;
	unsigned flags;
	uint8_t operstate;
	uint32_t promiscuity;
	int upper_index;        /* IFLA_MASTER, 0 when none */
	char upper_name[IFNAMSIZ];
	char upper_kind[16];    /* the slave kind (IFLA_INFO_SLAVE_KIND), else the upper's kind */
};

static int read_upper(struct nl_sock *sk, struct rtnl_link *link, struct master *m)
{
	_cleanup_link_ struct rtnl_link *upper = NULL;
	const char *slave_kind = rtnl_link_get_slave_type(link);
	int r;

	m->upper_index = rtnl_link_get_master(link);
	if (!m->upper_index)
		return 0;
	r = rtnl_link_get_kernel(sk, m->upper_index, NULL, &upper);
	if (r < 0)
		return nl_errno(r);
	const char *upper_kind = rtnl_link_get_type(upper);
	snprintf(m->upper_name, sizeof(m->upper_name), "%s", rtnl_link_get_name(upper));
	snprintf(m->upper_kind, sizeof(m->upper_kind), "%s", slave_kind ? slave_kind : upper_kind ? upper_kind : "");
	return 0;
}

/* 0, -ENODEV when there is no such interface, or -errno. */
static int read_master(const char *name, struct master *m)
{
	_cleanup_nl_sock_ struct nl_sock *sk = nl_route_socket(-1);
	_cleanup_link_ struct rtnl_link *link = NULL;
	int r;

	if (!sk)
		return -errno;
	r = rtnl_link_get_kernel(sk, 0, name, &link);
	if (r < 0)
		return nl_errno(r) == -ENOENT ? -ENODEV : nl_errno(r);
	const char *kind = rtnl_link_get_type(link);
	*m = (struct master){
		.name = name,
		.index = rtnl_link_get_ifindex(link),
		.mtu = rtnl_link_get_mtu(link),
		.flags = rtnl_link_get_flags(link),
		.operstate = rtnl_link_get_operstate(link),
		.promiscuity = rtnl_link_get_promiscuity(link),
	};
	snprintf(m->kind, sizeof(m->kind), "%s", kind ? kind : "");
	return read_upper(sk, link, m);
}

/* sysfs shows the interfaces of the namespace it was mounted in, which need not be
 * ours (nsenter --net keeps the host's /sys): only trusted when the ifindex agrees. */
static bool sysfs_is_ours(const struct master *m)
{
	char path[128];
	int index = 0;

	snprintf(path, sizeof(path), "/sys/class/net/%s/ifindex", m->name);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	bool same = fscanf(f, "%d", &index) == 1 && index == m->index;
	fclose(f);
	return same;
}

static bool sysfs_has(const struct master *m, const char *entry)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", m->name, entry);
	return access(path, F_OK) == 0;
}

/* "a veth link", "a physical NIC (driver e1000e)", ... */
static void describe_type(const struct master *m, bool sysfs, char *buf, size_t len)
{
	char path[128], target[256];
	ssize_t n;

	if (m->kind[0]) {
		snprintf(buf, len, "a %s link%s", m->kind, strcmp(m->kind, "vlan") == 0 ? " (802.1Q)" : "");
		return;
	}
	snprintf(path, sizeof(path), "/sys/class/net/%s/device/driver", m->name);
	if (!sysfs || (n = readlink(path, target, sizeof(target) - 1)) < 0) {
		snprintf(buf, len, "a device without a link kind (physical%s)",
			 sysfs ? "" : ", as far as netlink tells");
		return;
	}
	target[n] = '\0';
	const char *driver = strrchr(target, '/');
	snprintf(buf, len, "a physical NIC (driver %s)", driver ? driver + 1 : target);
}

static void check_exists(struct report *r, const struct master *m, bool sysfs)
{
	char type[96];

	describe_type(m, sysfs, type, sizeof(type));
	report_add(r, "master", CHECK_OK, "%s is %s, index %d, MTU %u", m->name, type, m->index, m->mtu);
}

/* True when frames can flow: a probe on it can tell something. */
static bool check_up(struct report *r, const struct master *m)
{
	char state[32];
	struct check *c;

	rtnl_link_operstate2str(m->operstate, state, sizeof(state));
	if (!(m->flags & IFF_UP)) {
		c = report_add(r, "master-up", CHECK_FAILED, "%s is down (administratively)", m->name);
		check_hint(c, "bring it up: `ip link set %s up` (and see why it was down: the node's network "
			      "configuration)", m->name);
		return false;
	}
	if (m->operstate == IF_OPER_UP || (m->operstate == IF_OPER_UNKNOWN && (m->flags & IFF_LOWER_UP))) {
		report_add(r, "master-up", CHECK_OK, "%s is up (operational state %s)", m->name, state);
		return true;
	}
	if (m->operstate == IF_OPER_DOWN || m->operstate == IF_OPER_LOWERLAYERDOWN) {
		c = report_add(r, "master-up", CHECK_FAILED, "%s is up but has no carrier (operational state %s)",
			       m->name, state);
		check_hint(c, "check the cable and the switch port (`ip link show %s`, `ethtool %s`); for a vlan or "
			      "bond, its lower links", m->name, m->name);
		return false;
	}
	c = report_add(r, "master-up", CHECK_WARNING, "%s is up, operational state %s", m->name, state);
	check_hint(c, "`ip link show %s`: the link may still be coming up (dormant: 802.1X or a wireless "
		      "association pending)", m->name);
	return true;
}

static void check_wireless(struct report *r, const struct master *m, bool sysfs)
{
	struct check *c;

	if (!sysfs) {
		c = report_add(r, "master-wireless", CHECK_SKIPPED, "/sys shows another network namespace's "
								    "interfaces, so whether %s is wireless is unknown",
			       m->name);
		check_hint(c, "run the doctor in the node's namespace with its own /sys (`ip netns exec`), or on "
			      "the host itself");
		return;
	}
	if (!sysfs_has(m, "wireless") && !sysfs_has(m, "phy80211")) {
		report_add(r, "master-wireless", CHECK_OK, "%s is not a wireless NIC", m->name);
		return;
	}
	c = report_add(r, "master-wireless", CHECK_FAILED, "%s is a wireless NIC: macvlan does not work on Wi-Fi, "
							   "the access point drops frames from MACs that did not "
							   "associate", m->name);
	check_hint(c, "use a wired NIC as master; on Wi-Fi only ipvlan (one MAC for every pod) can work");
}

static void check_port(struct report *r, const struct master *m)
{
	static const char *const no_traffic[] = { "bridge", "bond", "team", "openvswitch" };
	struct check *c;

	if (!m->upper_index) {
		report_add(r, "master-port", CHECK_OK, "%s is not a port of a bridge or bond", m->name);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(no_traffic); i++) {
		if (strcmp(m->upper_kind, no_traffic[i]) != 0)
			continue;
		c = report_add(r, "master-port", CHECK_FAILED, "%s is a port of %s %s: a macvlan on a %s port gets "
							       "no traffic, the %s takes every frame first",
			       m->name, m->upper_kind, m->upper_name, m->upper_kind, m->upper_kind);
		check_hint(c, "use the %s itself as master: \"master\": \"%s\"", m->upper_kind, m->upper_name);
		return;
	}
	c = report_add(r, "master-port", CHECK_WARNING, "%s is enslaved to %s (%s)", m->name, m->upper_name,
		       m->upper_kind[0] ? m->upper_kind : "unknown kind");
	check_hint(c, "if pods get no traffic, try %s as master", m->upper_name);
}

/* Informational: a NIC must accept every pod's MAC. Most put them in their unicast
 * filter; when it is full the kernel turns promiscuous mode on by itself. */
static void check_promisc(struct report *r, const struct master *m)
{
	if (m->flags & IFF_PROMISC)
		report_add(r, "master-promisc", CHECK_OK, "%s is promiscuous (set by a user or program): it takes "
							  "frames for any MAC, a macvlan's too", m->name);
	else if (m->promiscuity)
		report_add(r, "master-promisc", CHECK_OK, "%s is promiscuous (count %u: the kernel's doing when "
							  "the unicast filter is full, or a packet capture's)", m->name,
			   m->promiscuity);
	else
		report_add(r, "master-promisc", CHECK_OK, "%s is not promiscuous: its unicast filter takes the "
							  "macvlans' MACs (the kernel turns promiscuous mode on when "
							  "the filter is full)", m->name);
}

bool check_master(struct report *r, const char *name)
{
	struct master m;
	struct check *c;
	int e = read_master(name, &m);

	if (e == -ENODEV) {
		c = report_add(r, "master", CHECK_FAILED, "there is no interface %s in this network namespace", name);
		check_hint(c, "`ip -br link` lists the node's interfaces; the configuration's \"master\" must be one "
			      "of them on every node (names differ between machines)");
		return false;
	}
	if (e < 0) {
		c = report_add(r, "master", CHECK_FAILED, "cannot read interface %s: %s", name, strerror(-e));
		check_hint(c, "run the doctor as root, in the node's network namespace");
		return false;
	}
	bool sysfs = sysfs_is_ours(&m);
	check_exists(r, &m, sysfs);
	bool usable = check_up(r, &m);
	check_wireless(r, &m, sysfs);
	check_port(r, &m);
	check_promisc(r, &m);
	return usable;
}
