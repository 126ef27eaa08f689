/* Leases held by the daemon: one DHCP client per (container, network, interface),
 * driven by the event loop. */
#pragma once

#include <jansson.h>

#include "dhcpd/daemon.h"

/* DHCP.Allocate: answers `conn` once the lease is bound (or failed). Two calls for one
 * attachment share the same transaction. */
void leases_allocate(struct daemon *d, json_t *params, struct conn *conn);
/* DHCP.Release: unicast DHCPRELEASE, then forget; releasing nothing is success. */
void leases_release(struct daemon *d, json_t *params, struct conn *conn);
/* DHCP.Check: the attachment holds a valid lease with params.address. Never starts one. */
void leases_check(struct daemon *d, json_t *params, struct conn *conn);
/* DHCP.GC: releases the network's leases whose attachment is not in
 * params.validAttachments [{containerID, ifname}]. */
void leases_gc(struct daemon *d, json_t *params, struct conn *conn);
json_t *leases_list(struct daemon *d);
/* Start: resume every saved lease whose pod is still there, release the others. */
void leases_restore(struct daemon *d);

/* The earliest timer of any lease; UINT64_MAX when none. */
uint64_t leases_next_deadline(struct daemon *d);
void leases_run_timers(struct daemon *d, uint64_t now);
/* Frees leases that finished (failed, released) during the last loop turn. */
void leases_reap(struct daemon *d);
/* A connection went away: stop answering it. */
void leases_forget_waiter(struct daemon *d, struct conn *conn);
/* Shutdown: keep every lease on the server (pods keep their addresses). */
void leases_free_all(struct daemon *d);
