#include <errno.h>
#include <string.h>

#include "cni/result.h"
#include "dhcp4/protocol.h"
#include "dhcpd/lease/sync.h"
#include "dhcpd/lease_result.h"
#include "dhcpd/log.h"
#include "dhcpd/podnet.h"

/* After ADD the plugin adds the address only once our answer is in: look for it a
 * little later, a few times. */
#define SYNC_FIRST_DELAY_MS 100
#define SYNC_RETRY_MS 500
#define SYNC_TRIES 20

void sync_init(struct lease_sync *s, const char *key, const char *netns_path, const char *ifname, const char *master,
	       int priority)
{
	*s = (struct lease_sync){
		.key = key,
		.netns_path = netns_path,
		.ifname = ifname,
		.master = master,
		.priority = priority,
		.at = UINT64_MAX,
	};
}

static void schedule(struct lease_sync *s, uint64_t at, bool create)
{
	s->at = at;
	s->tries = 0;
	s->create = create;
}

void sync_after_add(struct lease_sync *s, uint64_t now)
{
	s->awaiting_plugin = true;
	schedule(s, now + SYNC_FIRST_DELAY_MS, false);
}

void sync_ensure_at(struct lease_sync *s, uint64_t at)
{
	schedule(s, at, !s->awaiting_plugin);
}

void sync_cancel(struct lease_sync *s)
{
	s->at = UINT64_MAX;
}

uint64_t sync_deadline(const struct lease_sync *s)
{
	return s->at;
}

struct ip_prefix lease_prefix(const struct dhcp_lease *lease)
{
	return (struct ip_prefix){ .addr = { .family = AF_INET, .v4 = lease->address }, .len = lease->prefix_len };
}

/* Seconds the address may live: to the end of the lease. */
static uint32_t remaining_s(const struct dhcp_lease *lease, uint64_t now)
{
	uint64_t expiry = dhcp_lease_expiry(lease);

	if (expiry == UINT64_MAX)
		return DHCP_LEASE_INFINITE;
	return expiry > now ? (uint32_t)((expiry - now + 999) / 1000) : 1;
}

int sync_put_back(const struct lease_sync *s, const struct dhcp_lease *lease, uint64_t now)
{
	struct cni_result result;
	int r = lease_to_cni_result(lease, s->priority, &result);

	if (r < 0)
		return r;
	r = podnet_address_ensure(s->netns_path, s->ifname, &result, remaining_s(lease, now));
	cni_result_free(&result);
	return r;
}

enum sync_result sync_run(struct lease_sync *s, const struct dhcp_lease *lease, uint64_t now)
{
	struct ip_prefix prefix = lease_prefix(lease);
	char addr[IP_PREFIX_STRLEN];
	int r;

	s->at = UINT64_MAX;
	if (s->create)
		r = sync_put_back(s, lease, now);
	else
		r = podnet_address_lifetime(s->netns_path, s->ifname, &prefix, remaining_s(lease, now));
	if (r == -ENOENT && ++s->tries < SYNC_TRIES) {
		s->at = now + SYNC_RETRY_MS;
		return SYNC_AGAIN;
	}
	/* Seen on the pod, or not coming: from now on the address is ours to keep. */
	s->awaiting_plugin = false;
	if (r == -ENODEV || (r == -ENOENT && podnet_exists(s->netns_path) < 0))
		return SYNC_POD_GONE;
	if (r < 0) {
		ip_prefix_format(&prefix, addr);
		log_warning("%s: cannot tie %s on %s to the lease: %s", s->key, addr, s->ifname, strerror(-r));
		return SYNC_FAILED;
	}
	return SYNC_DONE;
}

/* With hostReach the node routes the pod's address through its shim on the master;
 * the route moves with the address, or the node would lose the pod. */
static void follow_host_route(const struct lease_sync *s, const struct ip_prefix *from, const struct ip_prefix *to)
{
	int r = podnet_host_route_follow(s->master, from->addr.v4, to->addr.v4);
	char old[INET6_ADDRSTRLEN], new[INET6_ADDRSTRLEN];

	ip_addr_format(&from->addr, old);
	ip_addr_format(&to->addr, new);
	if (r == 0)
		log_info("%s: the node's hostReach route to the pod moved from %s to %s", s->key, old, new);
	else if (r != -ESRCH)
		log_warning("%s: moving the node's hostReach route to the pod from %s to %s failed: %s; the node "
			    "cannot reach the pod until it is added again", s->key, old, new, strerror(-r));
}

void sync_move(const struct lease_sync *s, const struct ip_prefix *old, const struct dhcp_lease *lease, uint64_t now)
{
	struct ip_prefix new_prefix = lease_prefix(lease);
	char from[IP_PREFIX_STRLEN], to[IP_PREFIX_STRLEN];

	ip_prefix_format(old, from);
	ip_prefix_format(&new_prefix, to);
	/* The old address goes first, and the routes through it with it. */
	int r = podnet_address_remove(s->netns_path, s->ifname, old);
	if (r == 0)
		r = sync_put_back(s, lease, now);
	if (r < 0)
		log_warning("%s: moving the pod from %s to %s failed: %s", s->key, from, to, strerror(-r));
	else
		log_info("%s: the pod's address is now %s (was %s)", s->key, to, from);
	follow_host_route(s, old, &new_prefix);
}

/* On expiry the kernel drops it at the same moment (its lifetime is the lease's); this
 * makes sure of it if the lifetime could not be set. */
void sync_drop(const struct lease_sync *s, const struct ip_prefix *address, const char *why)
{
	char addr[IP_PREFIX_STRLEN];

	ip_prefix_format(address, addr);
	if (podnet_address_remove(s->netns_path, s->ifname, address) == 0)
		log_info("%s: removed %s from %s: %s", s->key, addr, s->ifname, why);
}
