/* The RPC methods of the daemon (docs/dhcp-rpc.md): DHCP.Allocate, DHCP.Release,
 * DHCP.Check, DHCP.GC, DHCP.Status and DHCP.List, over the table of leases. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "dhcpd/conn.h"
#include "dhcpd/leases.h"
#include "dhcpd/options.h"

struct methods {
	struct leases *leases;
	const struct daemon_options *opt;
	bool stopping; /* DHCP.Status says the daemon is not ready */
};

/* A conn_request_fn: `ctx` is the struct methods. */
void methods_dispatch(void *ctx, struct conn *conn, json_t *request);
