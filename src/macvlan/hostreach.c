#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "macvlan/hostreach.h"
#include "netns/netns.h"
#include "rtnl/addr.h"
#include "rtnl/host_route.h"
#include "rtnl/socket.h"
#include "util/fs.h"
#include "util/macro.h"

/* One lock file per master, <master>.lock, on the node's /run: a tmpfs, so a reboot,
 * which takes the shims too, leaves no lock behind. */
#define LOCK_DIR "/run/cni/macvlan-hostreach"
/* Holders do a few netlink calls: a wait this long means one is stuck. */
#define LOCK_WAIT_MS 30000
/* The file at the path is replaced only by a DEL removing a shim: a few tries suffice. */
#define LOCK_ATTEMPTS 100

struct master_lock {
	int fd;
	char path[PATH_MAX];
};

struct shim {
	char name[IFNAMSIZ];
	bool exists;
	bool foreign; /* a link of that name that is not the master's shim */
	struct link_info link;
};

struct addr_set {
	struct ip_addr *items;
	size_t count;
};

static void addr_set_free(struct addr_set *set)
{
	free(set->items);
}

static int addr_set_add(struct addr_set *set, const struct ip_addr *addr)
{
	for (size_t i = 0; i < set->count; i++)
		if (ip_addr_equal(&set->items[i], addr))
			return 0;
	struct ip_addr *slot = array_append(&set->items, &set->count, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	*slot = *addr;
	return 0;
}

/* The IPv4 addresses of `result`; `index` < 0: of every interface. */
static int result_addresses(const struct cni_result *result, int index, struct addr_set *set)
{
	for (size_t i = 0; i < result->n_ips; i++) {
		const struct cni_ip *ip = &result->ips[i];
		if (ip->address.addr.family == AF_INET && (index < 0 || ip->interface == index) &&
		    addr_set_add(set, &ip->address.addr) < 0)
			return -ENOMEM;
	}
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Polled, so that a stuck holder ends in an error rather than a hung ADD. */
static int lock_wait(int fd)
{
	long waited = 0;

	for (long step = 1;; step = step < 16 ? step * 2 : step) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		if (waited >= LOCK_WAIT_MS)
			return -ETIMEDOUT;
		sleep_ms(step);
		waited += step;
	}
}

static bool same_file(int fd, const char *path)
{
	struct stat held, named;

	return fstat(fd, &held) == 0 && stat(path, &named) == 0 && held.st_dev == named.st_dev &&
	       held.st_ino == named.st_ino;
}

static int lock_error(struct cni_error *err, const struct master_lock *lock, const char *what, int error)
{
	cni_error_set(err, CNI_ERR_IO, "hostReach: %s lock file %s: %s", what, lock->path, strerror(error));
	if (error == ETIMEDOUT)
		cni_error_details(err, "another macvlan plugin has held it for %d s: `lslocks` shows which process",
				  LOCK_WAIT_MS / 1000);
	else
		cni_error_details(err, "the plugin needs to create files in %s on the node (root, a writable /run)",
				  LOCK_DIR);
	return -1;
}

static void master_unlock(struct master_lock *lock)
{
	closep(&lock->fd);
}

/* Serialises the plugins working on one master's shim, which the first pod's ADD makes
 * and the last pod's DEL removes. That DEL also unlinks the file while holding it, so a
 * plugin that got the lock checks the file is still the one at the path. */
static int master_lock(const struct link_info *master, struct master_lock *lock, struct cni_error *err)
{
	snprintf(lock->path, sizeof(lock->path), "%s/%s.lock", LOCK_DIR, master->name);
	for (int attempt = 0; attempt < LOCK_ATTEMPTS; attempt++) {
		int r = mkdir_p(LOCK_DIR, 0755);
		if (r < 0)
			return lock_error(err, lock, "creating the directory of", -r);
		lock->fd = open(lock->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (lock->fd < 0 && errno == ENOENT)
			continue; /* the directory went meanwhile */
		if (lock->fd < 0)
			return lock_error(err, lock, "opening", errno);
		if ((r = lock_wait(lock->fd)) < 0)
			return lock_error(err, lock, "locking", -r);
		if (same_file(lock->fd, lock->path))
			return 0;
		closep(&lock->fd);
	}
	return lock_error(err, lock, "taking", EAGAIN);
}

/* The lock's file goes with the shim; the caller still holds it until it unlocks. */
static void lock_remove_file(const struct master_lock *lock)
{
	if (unlink(lock->path) < 0 && errno != ENOENT)
		fprintf(stderr, "macvlan: hostReach: removing lock file %s: %s\n", lock->path, strerror(errno));
}

/* The master's shim: absent, ours, or a link of its name that is something else. */
static int shim_find(const struct host_reach_node *node, struct shim *shim, struct cni_error *err)
{
	*shim = (struct shim){ 0 };
	host_reach_shim_name(node->master->index, shim->name);
	int r = link_get_by_name(node->sk, shim->name, &shim->link);
	if (r == -ENODEV)
		return 0;
	if (r < 0)
		return cni_error_set(err, CNI_ERR_NETLINK, "hostReach: looking up the shim %s of master %s: %s",
				     shim->name, node->master->name, strerror(-r));
	shim->exists = true;
	shim->foreign = strcmp(shim->link.kind, "macvlan") != 0 || shim->link.macvlan_mode != MACVLAN_MODE_BRIDGE ||
			link_lower_index(node->sk, shim->link.index) != node->master->index;
	return 0;
}

static int shim_foreign_error(const struct host_reach_node *node, const struct shim *shim, struct cni_error *err)
{
	cni_error_set(err, CNI_ERR_INVALID_CONFIG,
		      "hostReach: %s in the node's namespace is not the shim of master %s: it is a %s link, not a "
		      "bridge-mode macvlan on %s",
		      shim->name, node->master->name, *shim->link.kind ? shim->link.kind : "plain", node->master->name);
	cni_error_details(err, "hostReach needs the name %s for the shim of master %s: rename or delete the link "
			       "that has it",
			  shim->name, node->master->name);
	return -1;
}

static int shim_error(const struct host_reach_node *node, const struct shim *shim, const char *what, int r,
		      struct cni_error *err)
{
	cni_error_set(err, CNI_ERR_NETLINK, "hostReach: %s the shim %s of master %s in the node's namespace: %s", what,
		      shim->name, node->master->name, strerror(-r));
	if (r == -ENETDOWN)
		cni_error_details(err, "the master must be up: ip link set %s up", node->master->name);
	return -1;
}

static int shim_create(const struct host_reach_node *node, struct shim *shim, struct cni_error *err)
{
	struct macvlan_spec spec = {
		.master_index = node->master->index,
		.target_netns = node->netns,
		.name = shim->name,
		.mode = MACVLAN_MODE_BRIDGE,
	};
	char key[64];
	int r = link_add_macvlan(node->sk, &spec);

	if (r == 0)
		r = link_get_by_name(node->sk, shim->name, &shim->link);
	if (r < 0)
		return shim_error(node, shim, "creating", r, err);
	shim->exists = true;
	/* LAN broadcasts reach the shim too: it must answer ARP for the node's address only
	 * to senders routed through it (the pods), or LAN hosts learn its MAC for the node. */
	snprintf(key, sizeof(key), "net/ipv4/conf/%s/arp_filter", shim->name);
	if ((r = netns_sysctl_write(node->netns, key, "1")) < 0)
		return shim_error(node, shim, "setting arp_filter on", r, err);
	return 0;
}

/* The master's primary IPv4 address (1), or none (0): the node's source towards its pods. */
static int master_address(const struct host_reach_node *node, struct ip_prefix *out)
{
	_cleanup_free_ struct addr_entry *addrs = NULL;
	size_t count = 0;
	int r = addr_list(node->sk, AF_INET, node->master->index, &addrs, &count);

	if (r < 0)
		return r;
	for (size_t i = 0; i < count; i++) {
		if (!(addrs[i].flags & IFA_F_SECONDARY)) {
			*out = (struct ip_prefix){ .addr = addrs[i].prefix.addr, .len = 32 };
			return 1;
		}
	}
	return 0;
}

/* The shim borrows the master's address as a /32 (no prefix route): the node then
 * speaks to its pods from the address they know it by, and answers their ARP for it.
 * One the master no longer has (its address changed) goes. */
static int shim_set_address(const struct host_reach_node *node, const struct shim *shim, struct cni_error *err)
{
	_cleanup_free_ struct addr_entry *addrs = NULL;
	struct ip_prefix want;
	size_t count = 0;
	int have = master_address(node, &want), r = have;

	if (r >= 0)
		r = addr_list(node->sk, AF_INET, shim->link.index, &addrs, &count);
	for (size_t i = 0; r >= 0 && i < count; i++)
		if (!have || !ip_addr_equal(&addrs[i].prefix.addr, &want.addr) || addrs[i].prefix.len != 32)
			r = addr_delete(node->sk, shim->link.index, &addrs[i].prefix);
	if (r >= 0 && have && !addr_entries_contain(addrs, count, &want))
		r = addr_add(node->sk, shim->link.index, &want);
	return r < 0 ? shim_error(node, shim, "giving the master's address to", r, err) : 0;
}

static int shim_ready(const struct host_reach_node *node, struct shim *shim, struct cni_error *err)
{
	if (shim_set_address(node, shim, err) < 0)
		return -1;
	if (shim->link.flags & IFF_UP)
		return 0;
	int r = link_set_up(node->sk, shim->link.index);
	return r < 0 ? shim_error(node, shim, "setting up", r, err) : 0;
}

/* How many IPv4 routes leave through the shim: the pods using it. The kernel's own
 * routes for its address are local and broadcast, never counted. */
static int routes_through(const struct host_reach_node *node, int index)
{
	_cleanup_free_ struct route_entry *routes = NULL;
	size_t count = 0;
	int r = route_list(node->sk, AF_INET, &routes, &count), through = 0;

	for (size_t i = 0; r >= 0 && i < count; i++)
		through += routes[i].index == index;
	return r < 0 ? r : through;
}

static int route_error(const struct host_reach_node *node, const struct shim *shim, const struct ip_addr *addr,
		       const char *what, int r, struct cni_error *err)
{
	char text[INET6_ADDRSTRLEN];

	ip_addr_format(addr, text);
	return cni_error_set(err, CNI_ERR_NETLINK, "hostReach: %s route %s/32 through the shim %s of master %s: %s",
			     what, text, shim->name, node->master->name, strerror(-r));
}

static int route_pod(const struct host_reach_node *node, const struct shim *shim, const struct ip_addr *addr,
		     struct cni_error *err)
{
	struct cni_route route = { .dst = { .addr = *addr, .len = 32 } };
	int r = route_add(node->sk, shim->link.index, &route, NULL);

	if (r != -EEXIST)
		return r < 0 ? route_error(node, shim, addr, "adding", r, err) : 0;
	/* Left by a pod that went without DEL and had this address: now this pod's. */
	int other = route_host_link(node->sk, addr, shim->link.index);
	if (other == shim->link.index)
		return 0;
	char text[INET6_ADDRSTRLEN];
	ip_addr_format(addr, text);
	route_error(node, shim, addr, "adding", r, err);
	if (other > 0)
		cni_error_details(err, "the node's main table already routes %s/32 through ifindex %d (ip route show "
				       "%s/32): remove that route, or give the pod another address",
				  text, other, text);
	return -1;
}

/* Under the lock: the pod's routes go, and the shim with the last one. */
static int release_locked(const struct host_reach_node *node, const struct shim *shim, const struct addr_set *addrs,
			  const struct master_lock *lock, struct cni_error *err)
{
	if (!shim->exists) {
		lock_remove_file(lock);
		return 0;
	}
	for (size_t i = 0; i < addrs->count; i++) {
		int r = route_host_delete(node->sk, shim->link.index, &addrs->items[i]);
		if (r < 0 && r != -ESRCH && r != -ENOENT)
			return route_error(node, shim, &addrs->items[i], "deleting", r, err);
	}
	int used = routes_through(node, shim->link.index);
	if (used < 0)
		return shim_error(node, shim, "listing the routes through", used, err);
	if (used > 0)
		return 0;
	int r = link_delete(node->sk, shim->link.index);
	if (r < 0 && r != -ENODEV)
		return shim_error(node, shim, "deleting", r, err);
	lock_remove_file(lock);
	return 0;
}

int host_reach_add(const struct host_reach_node *node, const struct cni_result *result, struct cni_error *err)
{
	_cleanup_(addr_set_free) struct addr_set addrs = { 0 };
	_cleanup_(master_unlock) struct master_lock lock = { .fd = -1 };
	struct shim shim;

	if (result_addresses(result, -1, &addrs) < 0)
		return cni_error_set(err, CNI_ERR_IO, "out of memory listing the pod's addresses");
	/* Only IPv4 is routed; an L2-only pod has nothing to route. */
	if (addrs.count == 0)
		return 0;
	if (master_lock(node->master, &lock, err) < 0 || shim_find(node, &shim, err) < 0)
		return -1;
	if (shim.foreign)
		return shim_foreign_error(node, &shim, err);
	if ((shim.exists || shim_create(node, &shim, err) == 0) && shim_ready(node, &shim, err) == 0) {
		size_t routed = 0;
		while (routed < addrs.count && route_pod(node, &shim, &addrs.items[routed], err) == 0)
			routed++;
		if (routed == addrs.count)
			return 0;
	}
	/* As it was: no route to this pod, and no shim that only it would have used. */
	struct cni_error ignored = { 0 };
	if (release_locked(node, &shim, &addrs, &lock, &ignored) < 0)
		fprintf(stderr, "macvlan: undoing hostReach after a failed ADD: %s\n", ignored.msg);
	return -1;
}

/* The addresses on CNI_IFNAME in CNI_NETNS: a lease the dhcp daemon moved since ADD is
 * not in prevResult. Best effort: prevResult alone serves when the pod is gone. */
static void pod_addresses(const struct cni_call *call, struct addr_set *set)
{
	_cleanup_free_ struct addr_entry *addrs = NULL;
	struct link_info link;
	size_t count = 0;

	if (!call->env.netns)
		return;
	_cleanup_close_ int fd = netns_open(call->env.netns);
	if (fd < 0)
		return;
	_cleanup_nl_sock_ struct nl_sock *sk = nl_route_socket(fd);
	if (!sk || link_get_by_name(sk, call->env.ifname, &link) < 0 || strcmp(link.kind, "macvlan") != 0 ||
	    addr_list(sk, AF_INET, link.index, &addrs, &count) < 0)
		return;
	for (size_t i = 0; i < count; i++)
		if (addr_set_add(set, &addrs[i].prefix.addr) < 0)
			return;
}

int host_reach_del(const struct host_reach_node *node, const struct cni_call *call, struct cni_error *err)
{
	_cleanup_(addr_set_free) struct addr_set addrs = { 0 };
	_cleanup_(master_unlock) struct master_lock lock = { .fd = -1 };
	struct shim shim;

	if (result_addresses(&call->conf.prev_result, -1, &addrs) < 0)
		return cni_error_set(err, CNI_ERR_IO, "out of memory listing the pod's addresses");
	pod_addresses(call, &addrs);
	if (master_lock(node->master, &lock, err) < 0 || shim_find(node, &shim, err) < 0)
		return -1;
	if (shim.foreign) {
		/* Not ours, so no route of ours goes through it: nothing to undo, and DEL must pass. */
		fprintf(stderr, "macvlan: DEL leaves %s alone: it is not the hostReach shim of master %s\n", shim.name,
			node->master->name);
		return 0;
	}
	return release_locked(node, &shim, &addrs, &lock, err);
}

static int check_failed(const struct host_reach_node *node, const struct shim *shim, const char *what,
			struct cni_error *err)
{
	cni_error_set(err, CNI_ERR_CHECK_FAILED, "hostReach: the shim %s of master %s %s: the node cannot reach the pod",
		      shim->name, node->master->name, what);
	cni_error_details(err, "delete the attachment and add it again: ADD makes the shim");
	return -1;
}

int host_reach_check(const struct host_reach_node *node, const struct cni_result *prev, int index,
		     struct cni_error *err)
{
	_cleanup_(addr_set_free) struct addr_set addrs = { 0 };
	struct shim shim;

	if (result_addresses(prev, index, &addrs) < 0)
		return cni_error_set(err, CNI_ERR_IO, "out of memory listing the pod's addresses");
	if (addrs.count == 0)
		return 0;
	if (shim_find(node, &shim, err) < 0)
		return -1;
	if (shim.foreign)
		return check_failed(node, &shim, "is taken by another link, not a bridge-mode macvlan on the master", err);
	if (!shim.exists)
		return check_failed(node, &shim, "is missing", err);
	if (!(shim.link.flags & IFF_UP))
		return check_failed(node, &shim, "is down", err);
	for (size_t i = 0; i < addrs.count; i++) {
		int found = route_host_link(node->sk, &addrs.items[i], shim.link.index);
		char text[INET6_ADDRSTRLEN];
		if (found == shim.link.index)
			continue;
		ip_addr_format(&addrs.items[i], text);
		if (found < 0)
			return route_error(node, &shim, &addrs.items[i], "reading", found, err);
		if (found == 0)
			cni_error_set(err, CNI_ERR_CHECK_FAILED, "hostReach: route %s/32 through the shim %s of master %s "
								 "is missing: the node cannot reach the pod",
				      text, shim.name, node->master->name);
		else
			cni_error_set(err, CNI_ERR_CHECK_FAILED, "hostReach: route %s/32 goes through ifindex %d, not the "
								 "shim %s of master %s: the node cannot reach the pod",
				      text, found, shim.name, node->master->name);
		cni_error_details(err, "put it back with `ip route replace %s/32 dev %s` on the node, or delete the "
				       "attachment and add it again",
				  text, shim.name);
		return -1;
	}
	return 0;
}
