/* The pod's address kept in step with its lease: its lifetime is the lease's, so the
 * kernel drops it when the lease ends unrenewed; a renewal extends it, a move replaces
 * it, and an address taken off the pod while the lease holds is put back. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cni/ipaddr.h"
#include "dhcp4/lease.h"

enum sync_result {
	SYNC_DONE,
	SYNC_AGAIN,    /* the plugin has not added the address yet: asked again at sync_deadline() */
	SYNC_POD_GONE, /* the pod's interface or namespace is gone */
	SYNC_FAILED,   /* logged */
};

struct lease_sync {
	const char *key; /* the lease's, for messages */
	const char *netns_path;
	const char *ifname;
	const char *master; /* the network's; NULL when it names none */
	int priority;       /* the metric of the lease's routes */
	uint64_t at;  /* UINT64_MAX: nothing to do */
	unsigned tries;
	/* false right after ADD: the plugin adds the address, only its lifetime is ours.
	 * true while maintaining: put the address (and its routes) back if missing. */
	bool create;
	/* An ADD's plugin was answered and has not been seen to add the address: adding
	 * it first would make the plugin's own add fail ("File exists"), however soon a
	 * short lease asks for it. */
	bool awaiting_plugin;
};

void sync_init(struct lease_sync *s, const char *key, const char *netns_path, const char *ifname, const char *master,
	       int priority);
/* After ADD: the plugin adds the address once our answer is in; tie its lifetime to
 * the lease a little later. */
void sync_after_add(struct lease_sync *s, uint64_t now);
/* Put the address and its routes on the pod at `at`, or refresh them; only refresh
 * while the plugin of an ADD has not added it yet. */
void sync_ensure_at(struct lease_sync *s, uint64_t at);
void sync_cancel(struct lease_sync *s);
uint64_t sync_deadline(const struct lease_sync *s);
enum sync_result sync_run(struct lease_sync *s, const struct dhcp_lease *lease, uint64_t now);

/* The lease's address and routes on the pod, created if missing, now. */
int sync_put_back(const struct lease_sync *s, const struct dhcp_lease *lease, uint64_t now);
/* The pod moves from `old` to the lease's address (the old one and its routes first). */
void sync_move(const struct lease_sync *s, const struct ip_prefix *old, const struct dhcp_lease *lease, uint64_t now);
/* Takes `address` off the pod (the lease ended or was refused), saying why. */
void sync_drop(const struct lease_sync *s, const struct ip_prefix *address, const char *why);

struct ip_prefix lease_prefix(const struct dhcp_lease *lease);
