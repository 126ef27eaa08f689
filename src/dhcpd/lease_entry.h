/* One attachment's lease inside the daemon (private to leases*.c). */
#pragma once

#include <jansson.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "dhcpd/daemon.h"
#include "dhcpd/loop.h"
#include "dhcp4/client.h"

#define MAX_WAITERS 8

struct lease_entry {
	struct lease_entry *next;
	struct daemon *d;
	char *key; /* "<containerID>/<network>/<ifname>" */
	char *container_id;
	char *network;
	char *ifname;
	char *netns;      /* as the runtime gave it */
	char *netns_path; /* with the daemon's host prefix */
	char *args;       /* CNI_ARGS, kept for the record */
	json_t *config;   /* the network configuration, kept for the record */
	char *master;     /* the config's "master": messages, and releases once the pod is gone */
	int priority;
	int ifindex;
	uint8_t mac[6];
	struct dhcp_client client;
	struct loop_source packet; /* while broadcasting */
	struct loop_source udp;    /* while renewing */
	struct loop_source arp;    /* while probing for a granted address, and announcing it */
	uint32_t filter_xid;
	uint32_t arp_probe_ms; /* ipam.arpProbe; 0: granted addresses are taken unchecked */
	uint64_t probe_start;
	uint64_t probe_at; /* the next probe or announcement, or the verdict; UINT64_MAX: none */
	unsigned probes_sent;
	unsigned probes_out; /* sent without an error */
	unsigned announcements;
	bool pod_gone; /* its namespace or interface vanished: talk through the master */
	/* The pod's address lifetime follows the lease: set after the plugin adds the
	 * address, refreshed on every renewal. */
	uint64_t sync_at;
	unsigned sync_tries;
	/* false right after ADD: wait for the plugin to add the address. true while
	 * maintaining: put the address (and its routes) back if it is missing. */
	bool sync_create;
	struct conn *waiters[MAX_WAITERS];
	size_t n_waiters;
	bool dead;
};

/* lease_wire.c: the DHCP conversation and its effects on the pod. */
void lease_pump(struct lease_entry *e, uint64_t now);
void lease_close_sockets(struct lease_entry *e);
void lease_close_source(struct daemon *d, struct loop_source *source);
void lease_sync_address(struct lease_entry *e, uint64_t now);
void lease_answer_waiters(struct lease_entry *e, json_t *response);
json_t *lease_result_json(struct lease_entry *e, struct cni_error *err);
/* Stop, DHCPRELEASE (from the pod, or through the master when the pod is gone),
 * forget the record, and mark the entry for freeing. */
void lease_release(struct lease_entry *e, uint64_t now, const char *why);

/* lease_probe.c: the granted address checked for another holder (RFC 5227), then
 * declined, or accepted and announced. */
void lease_probe_start(struct lease_entry *e, uint64_t now);
void lease_probe_tick(struct lease_entry *e, uint64_t now);
void lease_probe_stop(struct lease_entry *e);

/* lease_record.c: the lease on disk. */
/* Saves the lease held, or the one a DHCPNAK just refused (marked lost). */
void lease_record_save(struct lease_entry *e);
void lease_record_remove(struct lease_entry *e);
/* The lease stored in a record, its clock moved to this boot's monotonic time, and
 * whether a DHCPNAK had refused it. */
int lease_record_lease(json_t *record, uint64_t now, struct dhcp_lease *out, bool *lost);
