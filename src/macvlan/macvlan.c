#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "cni/delegate.h"
#include "cni/netns.h"
#include "macvlan/config.h"
#include "macvlan/hostreach.h"
#include "macvlan/macvlan.h"
#include "netns/netns.h"
#include "rtnl/addr.h"
#include "rtnl/configure.h"
#include "rtnl/link.h"
#include "rtnl/socket.h"
#include "util/mac.h"
#include "util/macro.h"

/* Where the plugin works: the container's namespace, and the one holding the master
 * (the plugin's own, or the container's with linkInContainer). */
struct namespaces {
	int pod_fd;
	struct nl_sock *pod;
	int master_fd;
	struct nl_sock *master;
};

static void namespaces_close(struct namespaces *ns)
{
	nl_socket_freep(&ns->pod);
	nl_socket_freep(&ns->master);
	closep(&ns->pod_fd);
	closep(&ns->master_fd);
}

static int netlink_error(struct cni_error *err, const char *what)
{
	return cni_error_set(err, CNI_ERR_NETLINK, "cannot open a netlink socket in %s: %s", what, strerror(errno));
}

static int namespaces_open(const struct cni_call *call, const struct macvlan_conf *conf, struct namespaces *ns,
			   struct cni_error *err)
{
	*ns = (struct namespaces){ .pod_fd = -1, .master_fd = -1 };
	ns->pod_fd = netns_open_cni(call->env.netns, err);
	if (ns->pod_fd < 0)
		return -1;
	ns->master_fd = conf->link_in_container ? dup(ns->pod_fd) : netns_open_current();
	if (ns->master_fd < 0)
		return cni_error_set(err, CNI_ERR_NETNS, "cannot open the plugin's own network namespace: %s",
				     strerror(errno));
	if (!(ns->pod = nl_route_socket(ns->pod_fd)))
		return netlink_error(err, call->env.netns);
	if (!(ns->master = nl_route_socket(ns->master_fd)))
		return netlink_error(err, "the master's namespace");
	return 0;
}

static const char *master_where(const struct macvlan_conf *conf)
{
	return conf->link_in_container ? "the container's network namespace" : "the host's network namespace";
}

static int find_master(struct nl_sock *sk, const struct macvlan_conf *conf, struct link_info *master,
		       struct cni_error *err)
{
	int r;

	if (!conf->master) {
		r = route_default_index(sk);
		if (r == -ENOENT) {
			cni_error_set(err, CNI_ERR_INVALID_CONFIG, "no \"master\" given and no default route in %s to take it from",
				      master_where(conf));
			cni_error_details(err, "set \"master\" to the interface on the LAN the pods should join");
			return -1;
		}
		r = r < 0 ? r : link_get_by_index(sk, r, master);
	} else {
		r = link_get_by_name(sk, conf->master, master);
	}
	if (r == -ENODEV) {
		cni_error_set(err, CNI_ERR_INVALID_CONFIG, "master interface \"%s\" not found in %s", conf->master,
			      master_where(conf));
		cni_error_details(err, "check \"master\" in the network configuration against `ip link` on the node");
		return -1;
	}
	if (r < 0)
		return cni_error_set(err, CNI_ERR_NETLINK, "looking up the master interface: %s", strerror(-r));
	return 0;
}

static int check_mtu(const struct macvlan_conf *conf, const struct link_info *master, struct cni_error *err)
{
	if (conf->mtu <= master->mtu)
		return 0;
	cni_error_set(err, CNI_ERR_INVALID_CONFIG, "mtu %u is larger than the MTU %u of master %s", conf->mtu,
		      master->mtu, master->name);
	cni_error_details(err, "a macvlan cannot exceed its master's MTU: lower \"mtu\" or raise the master's");
	return -1;
}

/* Created in the container's namespace under a random name, then renamed there: the
 * final name may well exist in the host namespace. */
static int create_link(const struct cni_call *call, const struct macvlan_conf *conf, const struct namespaces *ns,
		       const struct link_info *master, struct link_info *link, struct cni_error *err)
{
	uint32_t random_id = 0;
	char temp_name[IFNAMSIZ];

	if (getrandom(&random_id, sizeof(random_id), 0) != sizeof(random_id))
		random_id = (uint32_t)getpid();
	snprintf(temp_name, sizeof(temp_name), "mv%08x", random_id);
	struct macvlan_spec spec = {
		.master_index = master->index,
		.target_netns = ns->pod_fd,
		.name = temp_name,
		.mode = conf->mode,
		.mtu = conf->mtu,
		.has_mac = conf->has_mac,
		.bc_queue_len = conf->bc_queue_len,
	};
	memcpy(spec.mac, conf->mac, MAC_LEN);

	int r = link_add_macvlan(ns->master, &spec);
	if (r < 0) {
		cni_error_set(err, CNI_ERR_NETLINK, "creating macvlan (mode %s) on master %s: %s", conf->mode_name,
			      master->name, strerror(-r));
		if (r == -EBUSY || r == -EINVAL)
			cni_error_details(err, "passthru takes the whole master and cannot share it with other macvlans "
					       "or modes; a master's macvlans must all use passthru or none");
		else if (r == -EADDRINUSE)
			cni_error_details(err, "another interface on master %s already has this MAC address", master->name);
		return -1;
	}
	r = link_get_by_name(ns->pod, temp_name, link);
	if (r == 0 && (r = link_rename(ns->pod, link->index, call->env.ifname)) == 0)
		r = link_get_by_index(ns->pod, link->index, link);
	if (r < 0) {
		struct link_info created;
		if (link_get_by_name(ns->pod, temp_name, &created) == 0)
			link_delete(ns->pod, created.index);
		return cni_error_set(err, CNI_ERR_NETLINK, "renaming the new macvlan to %s in %s: %s", call->env.ifname,
				     call->env.netns, strerror(-r));
	}
	return 0;
}

/* The config's dns is the operator's word; what IPAM found fills in the rest. */
static int merge_dns(struct cni_dns *into, const struct cni_dns *config)
{
	const struct cni_strv *lists[] = { &config->nameservers, &config->search, &config->options };
	struct cni_strv *targets[] = { &into->nameservers, &into->search, &into->options };

	for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
		struct cni_strv merged = { 0 };
		for (size_t pass = 0; pass < 2; pass++) {
			const struct cni_strv *from = pass == 0 ? lists[l] : targets[l];
			for (size_t i = 0; i < from->count; i++) {
				bool seen = false;
				for (size_t j = 0; j < merged.count && !seen; j++)
					seen = strcmp(merged.items[j], from->items[i]) == 0;
				if (!seen && cni_strv_push(&merged, from->items[i]) < 0)
					return -ENOMEM;
			}
		}
		cni_strv_free(targets[l]);
		*targets[l] = merged;
	}
	if (config->domain) {
		char *domain = strdup(config->domain);
		if (!domain)
			return -ENOMEM;
		free(into->domain);
		into->domain = domain;
	}
	return 0;
}

static int fill_result(const struct cni_call *call, const struct link_info *link, struct cni_result *result,
		       struct cni_error *err)
{
	struct cni_interface *iface = cni_result_add_interface(result);
	char mac[MAC_STRLEN];

	if (!iface)
		return cni_error_set(err, CNI_ERR_IO, "out of memory building the result");
	/* The IPAM's interfaces, if any, are not ours to report: keep ours first. */
	if (result->n_interfaces > 1) {
		struct cni_interface ours = *iface;
		memmove(result->interfaces + 1, result->interfaces, (result->n_interfaces - 1) * sizeof(ours));
		result->interfaces[0] = ours;
	}
	mac_format(link->mac, mac);
	iface = &result->interfaces[0];
	iface->name = strdup(call->env.ifname);
	iface->mac = strdup(mac);
	iface->sandbox = strdup(call->env.netns);
	iface->mtu = (int)link->mtu;
	for (size_t i = 0; i < result->n_ips; i++)
		result->ips[i].interface = 0;
	if (!iface->name || !iface->mac || !iface->sandbox ||
	    (call->conf.has_dns && merge_dns(&result->dns, &call->conf.dns) < 0))
		return cni_error_set(err, CNI_ERR_IO, "out of memory building the result");
	return 0;
}

/* ipam.priority is the metric of the IPAM plugin's routes. A result before 1.1.0
 * cannot carry a route's priority, so the one the IPAM plugin returned lost it: the
 * routes on the pod take it from the configuration all the same. */
static void apply_ipam_priority(const struct cni_call *call, struct cni_result *result)
{
	json_int_t priority = json_integer_value(json_object_get(call->conf.ipam, "priority"));

	if (call->conf.version >= CNI_VERSION_1_1_0 || priority <= 0 || priority > 0x7fffffff)
		return;
	for (size_t i = 0; i < result->n_routes; i++)
		if (!result->routes[i].priority)
			result->routes[i].priority = (int)priority;
}

/* With hostReach the node's shim is in the master's namespace, the node's own. */
static struct host_reach_node host_reach_node(const struct namespaces *ns, const struct link_info *master)
{
	return (struct host_reach_node){ .sk = ns->master, .netns = ns->master_fd, .master = master };
}

/* The pod's addresses are known only now, after IPAM: the node's routes to them follow. */
static int add_host_reach(const struct macvlan_conf *conf, const struct namespaces *ns,
			  const struct link_info *master, const struct cni_result *result, struct cni_error *err)
{
	struct host_reach_node node = host_reach_node(ns, master);

	return conf->host_reach ? host_reach_add(&node, result, err) : 0;
}

/* IPAM has given addresses: put them on the link, or undo the allocation. */
static int add_with_ipam(const struct cni_call *call, const struct macvlan_conf *conf, const struct namespaces *ns,
			 const struct link_info *master, const struct link_info *link, struct cni_result *result,
			 struct cni_error *err)
{
	if (cni_ipam_exec(call, CNI_CMD_ADD, result, err) < 0)
		return -1;
	apply_ipam_priority(call, result);
	if (result->n_ips == 0)
		cni_error_set(err, CNI_ERR_IPAM, "IPAM plugin %s returned no IP address", call->conf.ipam_type);
	else if (configure_interface(ns->pod, ns->pod_fd, link, result, call->env.netns, err) == 0 &&
		 add_host_reach(conf, ns, master, result, err) == 0)
		return 0;
	struct cni_error ignored = { 0 };
	if (cni_ipam_exec(call, CNI_CMD_DEL, NULL, &ignored) < 0)
		fprintf(stderr, "macvlan: releasing the IPAM allocation after a failed ADD: %s\n", ignored.msg);
	return -1;
}

/* A 0.1.0/0.2.0 result is made of IP addresses: refuse before making a link that
 * could not be reported (and would be left behind). */
static int check_result_version(const struct cni_call *call, struct cni_error *err)
{
	enum cni_version version = call->conf.version;

	if (call->conf.ipam_type || !cni_version_has_legacy_result(version))
		return 0;
	cni_error_set(err, CNI_ERR_INCOMPATIBLE_VERSION,
		      "cannot write the result in CNI %s: it has no IP address, which %s requires",
		      cni_version_name(version), cni_version_name(version));
	cni_error_details(err, "use cniVersion 0.3.0 or later for networks without IPAM");
	return -1;
}

int macvlan_add(const struct cni_call *call, struct cni_result *result, struct cni_error *err)
{
	struct macvlan_conf conf;
	_cleanup_(namespaces_close) struct namespaces ns = { .pod_fd = -1, .master_fd = -1 };
	struct link_info master, link;

	if (check_result_version(call, err) < 0)
		return -1;
	macvlan_conf_warn_unknown(call);
	if (macvlan_conf_load(call, &conf, err) < 0 || namespaces_open(call, &conf, &ns, err) < 0 ||
	    find_master(ns.master, &conf, &master, err) < 0 || check_mtu(&conf, &master, err) < 0)
		return -1;
	if (link_get_by_name(ns.pod, call->env.ifname, &link) == 0) {
		cni_error_set(err, CNI_ERR_INVALID_CONFIG, "interface %s already exists in %s", call->env.ifname,
			      call->env.netns);
		cni_error_details(err, "each attachment needs its own CNI_IFNAME; a DEL may have been skipped");
		return -1;
	}
	if (create_link(call, &conf, &ns, &master, &link, err) < 0)
		return -1;

	int r;
	if (call->conf.ipam_type)
		r = add_with_ipam(call, &conf, &ns, &master, &link, result, err);
	else
		r = configure_link_up(ns.pod, &link, call->env.netns, err);
	if (r == 0 && fill_result(call, &link, result, err) == 0)
		return 0;
	link_delete(ns.pod, link.index);
	return -1;
}

static const char *kind_name(const struct link_info *link)
{
	return *link->kind ? link->kind : "plain";
}

/* prevResult's entry for CNI_IFNAME in CNI_NETNS, or -1. */
static int prev_interface_index(const struct cni_call *call)
{
	const struct cni_result *prev = &call->conf.prev_result;

	for (size_t i = 0; i < prev->n_interfaces; i++) {
		const struct cni_interface *iface = &prev->interfaces[i];
		if (iface->name && strcmp(iface->name, call->env.ifname) == 0 &&
		    (!iface->sandbox || strcmp(iface->sandbox, call->env.netns) == 0))
			return (int)i;
	}
	return -1;
}

/* CNI_IFNAME may name any link in CNI_NETNS: a veth, the uplink with linkInContainer, or a
 * link that took the name after ours went. DEL deletes only a macvlan, and only the one
 * prevResult describes when it gives the MAC. */
static bool link_is_ours(const struct cni_call *call, const struct link_info *link)
{
	int index = prev_interface_index(call);
	const char *want = index >= 0 ? call->conf.prev_result.interfaces[index].mac : NULL;
	uint8_t want_mac[MAC_LEN];
	char have[MAC_STRLEN];

	if (strcmp(link->kind, "macvlan") != 0) {
		fprintf(stderr, "macvlan: DEL leaves %s in %s alone: it is a %s link, not a macvlan, so not ours "
				"(check CNI_IFNAME)\n", link->name, call->env.netns, kind_name(link));
		return false;
	}
	if (want && mac_parse(want, want_mac) && memcmp(want_mac, link->mac, MAC_LEN) != 0) {
		mac_format(link->mac, have);
		fprintf(stderr, "macvlan: DEL leaves %s in %s alone: its MAC is %s and prevResult says %s, so it is "
				"not the macvlan ADD made (another took its name since)\n", link->name, call->env.netns, have, want);
		return false;
	}
	return true;
}

/* Gone is as good as deleted: DEL must succeed when the container or the link is. */
static int remove_link(const struct cni_call *call, struct cni_error *err)
{
	struct link_info link;

	if (!call->env.netns)
		return 0;
	_cleanup_close_ int fd = netns_open(call->env.netns);
	/* Missing, or a file whose namespace mount is gone: no namespace, no link left. */
	if (fd == -ENOENT || fd == -EINVAL)
		return 0;
	if (fd < 0)
		return netns_open_cni(call->env.netns, err);
	_cleanup_nl_sock_ struct nl_sock *sk = nl_route_socket(fd);
	if (!sk)
		return netlink_error(err, call->env.netns);
	int r = link_get_by_name(sk, call->env.ifname, &link);
	/* By index: the link checked is the link deleted, whatever is renamed meanwhile. */
	if (r == 0 && link_is_ours(call, &link))
		r = link_delete(sk, link.index);
	if (r < 0 && r != -ENODEV)
		return cni_error_set(err, CNI_ERR_NETLINK, "deleting %s in %s: %s", call->env.ifname, call->env.netns,
				     strerror(-r));
	return 0;
}

/* The node's routes to the pod, and the shim with the last pod. Before IPAM DEL: once
 * released, the address may go to a new pod, whose route this must not take. */
static int del_host_reach(const struct cni_call *call, const struct macvlan_conf *conf, struct cni_error *err)
{
	_cleanup_(namespaces_close) struct namespaces ns = { .pod_fd = -1, .master_fd = -1 };
	struct link_info master;
	struct cni_error no_master = { 0 };

	ns.master_fd = netns_open_current();
	if (ns.master_fd < 0 || !(ns.master = nl_route_socket(ns.master_fd)))
		return netlink_error(err, "the host's network namespace");
	/* A master that is gone took its shim, and the routes through it, along. */
	if (find_master(ns.master, conf, &master, &no_master) < 0) {
		if (no_master.code != CNI_ERR_INVALID_CONFIG)
			*err = no_master;
		return no_master.code != CNI_ERR_INVALID_CONFIG ? -1 : 0;
	}
	struct host_reach_node node = host_reach_node(&ns, &master);
	return host_reach_del(&node, call, err);
}

/* Both halves run whatever the other did; the runtime retries a failed DEL. */
static int del_ipam_and_link(const struct cni_call *call, struct cni_error *err)
{
	struct cni_error link_err = { 0 };
	int ipam_r = call->conf.ipam_type ? cni_ipam_exec(call, CNI_CMD_DEL, NULL, err) : 0;
	int link_r = remove_link(call, &link_err);
	if (ipam_r < 0) {
		if (link_r < 0)
			fprintf(stderr, "macvlan: %s\n", link_err.msg);
		return -1;
	}
	if (link_r < 0)
		*err = link_err;
	return link_r;
}

int macvlan_del(const struct cni_call *call, struct cni_error *err)
{
	struct macvlan_conf conf;
	struct cni_error reach_err = { 0 };

	if (macvlan_conf_load(call, &conf, err) < 0)
		return -1;
	int reach_r = conf.host_reach ? del_host_reach(call, &conf, &reach_err) : 0;
	int r = del_ipam_and_link(call, err);
	if (reach_r < 0 && r < 0)
		fprintf(stderr, "macvlan: %s\n", reach_err.msg);
	else if (reach_r < 0)
		*err = reach_err;
	return r < 0 || reach_r < 0 ? -1 : 0;
}

static int find_prev_interface(const struct cni_call *call, struct cni_error *err)
{
	int index = prev_interface_index(call);

	if (index < 0)
		return cni_error_set(err, CNI_ERR_CHECK_FAILED, "prevResult lists no interface %s in sandbox %s",
				     call->env.ifname, call->env.netns);
	return index;
}

static int check_link(const struct cni_call *call, const struct macvlan_conf *conf, const struct cni_interface *prev,
		      const struct link_info *link, struct cni_error *err)
{
	uint8_t want_mac[MAC_LEN];

	if (strcmp(link->kind, "macvlan") != 0) {
		cni_error_set(err, CNI_ERR_CHECK_FAILED, "%s in %s is a %s link, not a macvlan", link->name,
			      call->env.netns, kind_name(link));
		cni_error_details(err, "the macvlan ADD made is gone and another link has its name; "
				       "check CNI_IFNAME, or delete the attachment and add it again");
		return -1;
	}
	if (link->macvlan_mode != conf->mode)
		return cni_error_set(err, CNI_ERR_CHECK_FAILED, "%s in %s is in macvlan mode %s, the config says %s",
				     link->name, call->env.netns, macvlan_mode_name(link->macvlan_mode), conf->mode_name);
	if (prev->mac && mac_parse(prev->mac, want_mac) && memcmp(want_mac, link->mac, MAC_LEN) != 0) {
		char have[MAC_STRLEN];
		mac_format(link->mac, have);
		return cni_error_set(err, CNI_ERR_CHECK_FAILED, "%s in %s has MAC %s, prevResult says %s", link->name,
				     call->env.netns, have, prev->mac);
	}
	return 0;
}

int macvlan_check(const struct cni_call *call, struct cni_error *err)
{
	const struct cni_result *prev = &call->conf.prev_result;
	struct macvlan_conf conf;
	_cleanup_(namespaces_close) struct namespaces ns = { .pod_fd = -1, .master_fd = -1 };
	struct link_info master, link;

	if (macvlan_conf_load(call, &conf, err) < 0)
		return -1;
	if (!call->conf.has_prev_result) {
		cni_error_set(err, CNI_ERR_INVALID_CONFIG, "CHECK needs prevResult, and the runtime sent none");
		cni_error_details(err, "the runtime passes the cached ADD result as prevResult; without it there is "
				       "nothing to check against");
		return -1;
	}
	if (call->conf.ipam_type && cni_ipam_exec(call, CNI_CMD_CHECK, NULL, err) < 0)
		return -1;
	if (namespaces_open(call, &conf, &ns, err) < 0 || find_master(ns.master, &conf, &master, err) < 0)
		return -1;
	int index = find_prev_interface(call, err);
	if (index < 0)
		return -1;
	int r = link_get_by_name(ns.pod, call->env.ifname, &link);
	if (r < 0)
		return cni_error_set(err, CNI_ERR_CHECK_FAILED, "interface %s in %s: %s", call->env.ifname,
				     call->env.netns, r == -ENODEV ? "missing" : strerror(-r));
	if (check_link(call, &conf, &prev->interfaces[index], &link, err) < 0 ||
	    check_interface_config(ns.pod, &link, prev, index, err) < 0)
		return -1;
	struct host_reach_node node = host_reach_node(&ns, &master);
	return conf.host_reach ? host_reach_check(&node, prev, index, err) : 0;
}

/* Ready for ADD when the master is there and up (spec 1.1.0 STATUS). */
int macvlan_status(const struct cni_call *call, struct cni_error *err)
{
	struct macvlan_conf conf;
	struct link_info master;

	if (macvlan_conf_load(call, &conf, err) < 0)
		return -1;
	/* With linkInContainer the master lives in containers not known yet. */
	if (!conf.link_in_container) {
		_cleanup_nl_sock_ struct nl_sock *sk = nl_route_socket(-1);
		if (!sk)
			return netlink_error(err, "the host's network namespace");
		if (find_master(sk, &conf, &master, err) < 0) {
			err->code = CNI_ERR_NOT_AVAILABLE;
			return -1;
		}
		if (!(master.flags & IFF_UP)) {
			cni_error_set(err, CNI_ERR_NOT_AVAILABLE, "master interface %s is down", master.name);
			cni_error_details(err, "bring it up (ip link set %s up) before adding pods", master.name);
			return -1;
		}
	}
	return call->conf.ipam_type ? cni_ipam_exec(call, CNI_CMD_STATUS, NULL, err) : 0;
}

int macvlan_gc(const struct cni_call *call, struct cni_error *err)
{
	struct macvlan_conf conf;

	/* Links die with their containers; only IPAM holds state worth collecting. */
	if (macvlan_conf_load(call, &conf, err) < 0)
		return -1;
	return call->conf.ipam_type ? cni_ipam_exec(call, CNI_CMD_GC, NULL, err) : 0;
}
