/* The plugin <-> daemon protocol: one JSON object per line over a unix stream
 * socket, one call per connection (docs/dhcp-rpc.md).
 *   request:  {"method": "DHCP.Allocate", "params": {...}}
 *   response: {"result": ...}  or  {"error": {"code": N, "msg": "...", "details": "..."}} */
#pragma once

#include <jansson.h>

#include "cni/error.h"

#define DHCP_DEFAULT_SOCKET "/run/cni/dhcp.sock"
/* Requests carry a network configuration: far below this. */
#define RPC_MESSAGE_MAX (1u << 20)
/* Answers: DHCP.List of a hundred thousand leases is some 50 MB. */
#define RPC_ANSWER_MAX (128u << 20)

/* Calls `method`; *result is the "result" value (a new reference). A daemon error is
 * passed on with its code; no daemon is CNI_ERR_DAEMON with how to start one. -1 on
 * errors, -EPROTO (CNI_ERR_DAEMON too) when the socket is the reference plugins'
 * daemon's, which speaks Go's net/rpc. */
int rpc_call(const char *socket_path, const char *method, json_t *params, int timeout_ms, json_t **result,
	     struct cni_error *err);

json_t *rpc_error_json(const struct cni_error *err);
