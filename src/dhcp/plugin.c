#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cni/json.h"
#include "dhcp/ipam_conf.h"
#include "dhcp/plugin.h"
#include "dhcp/rpc.h"
#include "netns/netns.h"
#include "util/macro.h"

/* The daemon bounds each acquisition itself; this only guards against a hung one. */
#define CALL_TIMEOUT_MS (10 * 60 * 1000)
#define QUICK_TIMEOUT_MS (10 * 1000)

static const char *socket_path(const struct cni_call *call, struct cni_error *err)
{
	struct dhcp_ipam_conf conf;

	if (dhcp_ipam_conf_parse(call->conf.ipam, &call->args, &conf, err) < 0)
		return NULL;
	return conf.socket_path ? conf.socket_path : DHCP_DEFAULT_SOCKET;
}

/* The CNI call as the daemon needs it, with the whole configuration. */
static json_t *call_params(const struct cni_call *call)
{
	json_t *params = json_pack("{s:s, s:s, s:O}", "containerID", call->env.container_id, "ifName",
				   call->env.ifname, "config", call->conf.root);

	if (params && call->env.netns)
		json_object_set_new(params, "netns", json_string(call->env.netns));
	if (params && call->env.args)
		json_object_set_new(params, "args", json_string(call->env.args));
	return params;
}

/* Calls `method` on the network's daemon; `params` defaults to the attachment's. */
static int call_daemon(const struct cni_call *call, const char *method, json_t *params, int timeout_ms,
		       json_t **answer, struct cni_error *err)
{
	const char *path = socket_path(call, err);
	json_auto_t *own = params ? NULL : call_params(call);

	if (!path)
		return -1;
	if (!params && !(params = own))
		return cni_error_set(err, CNI_ERR_IO, "out of memory");
	return rpc_call(path, method, params, timeout_ms, answer, err);
}

/* The daemon could not open a namespace that this plugin, in the runtime's view of the
 * host, opens fine: the daemon does not see the pods' namespaces, CNI_NETNS is not at
 * fault. */
static void blame_the_daemons_view(const struct cni_call *call, struct cni_error *err)
{
	_cleanup_close_ int fd = call->env.netns ? netns_open(call->env.netns) : -1;

	if (err->code != CNI_ERR_NETNS || fd < 0)
		return;
	cni_error_clear(err);
	cni_error_set(err, CNI_ERR_NETNS, "the dhcp daemon cannot see the pod's network namespace %s, which the "
					  "plugin sees: the pods' namespaces are not visible where the daemon runs",
		      call->env.netns);
	cni_error_details(err, "run the daemon's container with hostPID: true (it then looks through /proc/1/root), "
			       "or mount the host's /var/run/netns into it with mountPropagation: HostToContainer "
			       "(or give -hostprefix the path where it sees the host)");
}

int dhcp_plugin_add(const struct cni_call *call, struct cni_result *result, struct cni_error *err)
{
	json_auto_t *answer = NULL;

	if (call->conf.ipam)
		cni_json_warn_unknown(call->conf.ipam, "ipam", dhcp_ipam_keys, "dhcp", stderr);
	if (call_daemon(call, "DHCP.Allocate", NULL, CALL_TIMEOUT_MS, &answer, err) < 0) {
		blame_the_daemons_view(call, err);
		return -1;
	}
	if (cni_result_parse(answer, CNI_VERSION_1_1_0, result, err) < 0) {
		cni_error_prefix(err, "the dhcp daemon's result");
		return -1;
	}
	/* Results before 1.1.0 have no route scope, and a route without "gw" goes through
	 * the default gateway: an on-link route (RFC 3442 router 0.0.0.0) says so the way
	 * those versions can, and the reference does, with gateway 0.0.0.0. */
	for (size_t i = 0; call->conf.version < CNI_VERSION_1_1_0 && i < result->n_routes; i++) {
		struct cni_route *route = &result->routes[i];
		if (!route->has_gw && route->has_scope && route->scope == CNI_SCOPE_LINK &&
		    route->dst.addr.family == AF_INET) {
			route->has_gw = true;
			route->gw = (struct ip_addr){ .family = AF_INET };
		}
	}
	return 0;
}

int dhcp_plugin_del(const struct cni_call *call, struct cni_error *err)
{
	json_auto_t *answer = NULL;
	int r = call_daemon(call, "DHCP.Release", NULL, QUICK_TIMEOUT_MS, &answer, err);

	if (r == 0)
		return 0;
	if (err->code != CNI_ERR_DAEMON)
		return -1;
	/* A pod must never hang in Terminating for want of a daemon: ours releases what
	 * no pod holds when it starts again; a reference daemon on the socket keeps its
	 * lease until the lease ends. */
	if (r == -EPROTO)
		fprintf(stderr, "dhcp: warning: %s; it keeps this lease until it ends: %s\n", err->msg, err->details);
	else
		fprintf(stderr, "dhcp: warning: %s; the lease is released when the daemon runs again\n", err->msg);
	cni_error_clear(err);
	return 0;
}

int dhcp_plugin_status(const struct cni_call *call, struct cni_error *err)
{
	json_auto_t *params = json_object(), *answer = NULL;

	if (call_daemon(call, "DHCP.Status", params, QUICK_TIMEOUT_MS, &answer, err) == 0) {
		/* Answering, but on its way out (SIGTERM): ADDs now would fail. */
		if (!json_is_false(json_object_get(answer, "ready")))
			return 0;
		return cni_error_set(err, CNI_ERR_NOT_AVAILABLE, "the dhcp daemon is shutting down and takes no "
								 "new leases; its successor will");
	}
	if (err->code == CNI_ERR_INVALID_CONFIG)
		return -1;
	/* SPEC 1.1.0 STATUS: 50 means "not ready to add". */
	err->code = CNI_ERR_NOT_AVAILABLE;
	return -1;
}

/* CHECK: the daemon must hold a valid lease with prevResult's IPv4 address. */
int dhcp_plugin_check(const struct cni_call *call, struct cni_error *err)
{
	json_auto_t *params = call_params(call), *answer = NULL;
	char address[IP_PREFIX_STRLEN] = "";

	if (!params)
		return cni_error_set(err, CNI_ERR_IO, "out of memory");
	if (!call->conf.has_prev_result)
		return cni_error_set(err, CNI_ERR_INVALID_CONFIG, "CHECK needs prevResult, and the runtime sent none");
	for (size_t i = 0; i < call->conf.prev_result.n_ips && !address[0]; i++)
		if (call->conf.prev_result.ips[i].address.addr.family == AF_INET)
			ip_prefix_format(&call->conf.prev_result.ips[i].address, address);
	if (address[0])
		json_object_set_new(params, "address", json_string(address));
	return call_daemon(call, "DHCP.Check", params, QUICK_TIMEOUT_MS, &answer, err);
}

/* GC (spec 1.1.0): the runtime lists the attachments still in use; libcni also sends
 * them under the older key. */
int dhcp_plugin_gc(const struct cni_call *call, struct cni_error *err)
{
	json_t *valid = json_object_get(call->conf.root, "cni.dev/valid-attachments");
	json_auto_t *params = NULL, *answer = NULL;

	if (!json_is_array(valid))
		valid = json_object_get(call->conf.root, "cni.dev/attachments");
	if (!json_is_array(valid))
		return cni_error_set(err, CNI_ERR_INVALID_CONFIG, "GC needs \"cni.dev/valid-attachments\" in the config");
	params = json_pack("{s:s, s:O}", "network", call->conf.name, "validAttachments", valid);
	if (!params)
		return cni_error_set(err, CNI_ERR_IO, "out of memory");
	return call_daemon(call, "DHCP.GC", params, QUICK_TIMEOUT_MS, &answer, err);
}
