/* One attachment's lease, its whole life: the DHCP client, the pod's link and its
 * sockets, the ARP probe of a granted address, and the pod's address kept in step.
 * It knows no table, no caller and no file: it talks to its owner only through the
 * callbacks of struct lease_owner. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "cni/error.h"
#include "dhcp/ipam_conf.h"
#include "dhcp4/client.h"
#include "dhcpd/loop.h"

/* What a lease is for, and how it talks. Strings are copied by lease_new. */
struct lease_spec {
	const char *container_id;
	const char *network;
	const char *ifname;
	const char *netns;      /* as the runtime gave it */
	const char *netns_path; /* with the daemon's host prefix */
	const char *master;     /* the network's "master" (messages, releases once the pod is gone); may be NULL */
	const char *pod;        /* "namespace/name" (cni_args_pod); NULL when the runtime named no pod */
	uint64_t netns_ino;     /* the pod's namespace: its path may be handed to another pod */
	int ifindex;
	uint8_t mac[6];
	int priority;          /* the metric of every route; 0: none */
	uint32_t arp_probe_ms; /* ipam.arpProbe; 0: a granted address is taken unchecked */
	enum dhcp_identity identity; /* ipam.identity: a pod's lease is never given back (lease_release) */
	struct dhcp_client_config client;
};

struct lease;

struct lease_owner {
	/* An acquisition ended: bound (failure NULL), failed or released. Answers the
	 * callers waiting for it; true when one was: its plugin puts the address on the
	 * pod itself. */
	bool (*answer)(void *ctx, struct lease *lease, const struct cni_error *failure);
	/* The lease changed: keep its record (a lease a DHCPNAK took is kept as lost). */
	void (*save)(void *ctx, struct lease *lease);
	/* Drop its record: a restart must not bring it back. */
	void (*forget)(void *ctx, struct lease *lease);
	/* The lease is over (failed, released): free it once this turn of the loop ends. */
	void (*ended)(void *ctx, struct lease *lease);
	/* Its earliest timer (lease_deadline) may have moved: after every call in, and
	 * every packet it took. NULL when the owner asks lease_deadline itself. */
	void (*rescheduled)(void *ctx, struct lease *lease);
};

/* Takes over spec->client.request_options, also on failure (NULL: out of memory). */
struct lease *lease_new(const struct lease_spec *spec, struct loop *loop, const struct lease_owner *owner, void *ctx);
void lease_free(struct lease *lease);

/* INIT: a DHCPDISCOVER now. */
void lease_start(struct lease *lease, uint64_t now);
/* INIT-REBOOT for `addr`, a lease the pod holds that this daemon has no record of
 * (taken by the reference daemon, or a record lost): the server confirms it, with its
 * identifier, so that it can be renewed or released. */
void lease_reclaim(struct lease *lease, uint64_t now, struct in_addr addr);
/* A lease saved by an earlier run: renewed from where time puts it, or asked for
 * again if it ended or a DHCPNAK refused it (`lost`); the pod's address is put back.
 * When the pod is gone (lease_lose_pod first) it is only taken back, to be released. */
void lease_resume(struct lease *lease, uint64_t now, const struct dhcp_lease *saved, bool lost);
/* The server's MAC as a record kept it (before lease_resume): a restarted daemon's
 * first renewal is framed to it as the old daemon's would have been, with no ARP from
 * the pod (ten thousand pods resolving one server overflow the kernel's table). */
void lease_know_server_mac(struct lease *lease, const uint8_t mac[6]);
/* DHCPRELEASE (from the pod, or through the master once it is gone), the record
 * forgotten, waiting callers told, and the lease ended. A lease of ipam.identity "pod"
 * ends the same way but sends no DHCPRELEASE: the server keeps the address bound to the
 * pod's identifier until the lease runs out, for the pod recreated under its name. */
void lease_release(struct lease *lease, uint64_t now, const char *why);
/* Ended without DHCPRELEASE, its record forgotten and waiting callers told: the
 * attachment `to` sends the same client identifier from now on, and the server's
 * binding (the address) goes with it. Only for a lease whose pod is gone: two pods
 * must never send one identifier at once. */
void lease_hand_over(struct lease *lease, const char *to);
/* The pod's namespace or interface went away: only the master reaches the server. */
void lease_lose_pod(struct lease *lease);
/* Daemon shutdown: silence; the lease lives on at the server and on the pod. */
void lease_stop(struct lease *lease);

/* The earliest timer; UINT64_MAX when none. */
uint64_t lease_deadline(const struct lease *lease);
void lease_run_timers(struct lease *lease, uint64_t now);
/* A DHCP message (UDP payload) for this lease. */
void lease_receive(struct lease *lease, uint64_t now, const uint8_t *payload, size_t len);

const char *lease_key(const struct lease *lease); /* "<containerID>/<network>/<ifname>" */
/* Its spec (client config aside: lease_client_config). */
const struct lease_spec *lease_spec(const struct lease *lease);
const struct dhcp_client_config *lease_client_config(const struct lease *lease);
enum dhcp_client_state lease_state(const struct lease *lease);
/* The lease held, granted or bound; NULL when none. */
const struct dhcp_lease *lease_held(const struct lease *lease);
/* The last lease bound, also after a DHCPNAK or an expiry took it. */
const struct dhcp_lease *lease_last(const struct lease *lease);
/* The MAC the bound lease's DHCPACK came from; NULL when not known. */
const uint8_t *lease_server_mac(const struct lease *lease);
/* Bound (or renewing, rebinding): a caller may have it at once. */
bool lease_bound(const struct lease *lease);
bool lease_ended(const struct lease *lease);
bool lease_pod_gone(const struct lease *lease);
/* Its pod's namespace is still at its path (the same namespace, not a newer one). */
bool lease_pod_present(const struct lease *lease);
/* The lease as the CNI result the daemon answers Allocate with. */
json_t *lease_result_json(const struct lease *lease, struct cni_error *err);
