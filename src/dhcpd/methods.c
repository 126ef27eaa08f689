#include <arpa/inet.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cni/args.h"
#include "cni/env.h"
#include "cni/json.h"
#include "dhcp/rpc.h"
#include "dhcpd/client_config.h"
#include "dhcpd/lease/sync.h"
#include "dhcpd/methods.h"
#include "dhcpd/metrics.h"
#include "dhcpd/reclaim.h"
#include "util/mac.h"
#include "util/macro.h"

/* ---- the attachment a call is about ---- */

struct call {
	const char *container_id;
	const char *ifname;
	const char *netns;
	const char *args;
	json_t *config;
	const char *network;
};

static int parse_call(json_t *params, bool need_netns, struct call *call, struct cni_error *err)
{
	*call = (struct call){ 0 };
	if (cni_json_string(params, "params", "containerID", &call->container_id, err) < 0 ||
	    cni_json_string(params, "params", "ifName", &call->ifname, err) < 0 ||
	    cni_json_string(params, "params", "netns", &call->netns, err) < 0 ||
	    cni_json_string(params, "params", "args", &call->args, err) < 0 ||
	    cni_json_object(params, "params", "config", &call->config, err) < 0 ||
	    cni_json_string(call->config, "config", "name", &call->network, err) < 0)
		return -1;
	if (!call->container_id || !cni_container_id_valid(call->container_id))
		return cni_error_set(err, CNI_ERR_INVALID_ENV, "invalid or missing container ID");
	if (!call->ifname || cni_ifname_invalid(call->ifname))
		return cni_error_set(err, CNI_ERR_INVALID_ENV, "invalid or missing interface name");
	if (need_netns && (!call->netns || call->netns[0] != '/'))
		return cni_error_set(err, CNI_ERR_INVALID_ENV, "the network namespace must be an absolute path");
	if (!call->config || !call->network || !*call->network)
		return cni_error_set(err, CNI_ERR_INVALID_CONFIG, "the network configuration has no \"name\"");
	if (!cni_network_name_valid(call->network))
		return cni_error_set(err, CNI_ERR_INVALID_CONFIG, "invalid network name \"%s\": it must match "
								   "^[a-zA-Z0-9][a-zA-Z0-9_.\\-]*$", call->network);
	return 0;
}

static char *call_key(const struct call *call)
{
	char *key = NULL;
	return asprintf(&key, "%s/%s/%s", call->container_id, call->network, call->ifname) < 0 ? NULL : key;
}

/* What only root may do (docs/security.md): a member of --socket-group may not. */
__attribute__((format(printf, 2, 3))) static void refuse_member(struct conn *conn, const char *fmt, ...)
{
	struct cni_error err = { 0 };
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	cni_error_set(&err, CNI_ERR_DAEMON, "permission denied: %s", what);
	cni_error_details(&err, "only root may; members of the daemon's --socket-group may not (see docs/security.md)");
	conn_reply_error(conn, &err);
}

static void reply_oom(struct conn *conn)
{
	struct cni_error err = { 0 };
	cni_error_set(&err, CNI_ERR_IO, "the dhcp daemon is out of memory");
	conn_reply_error(conn, &err);
}

/* Release and Check name an attachment; its lease, if held, is looked up. false when
 * the call was answered already (bad params). */
static bool find_call(struct methods *m, json_t *params, struct conn *conn, struct lease_slot **slot)
{
	struct cni_error err = { 0 };
	struct call call;

	if (parse_call(params, false, &call, &err) < 0) {
		conn_reply_error(conn, &err);
		return false;
	}
	_cleanup_free_ char *key = call_key(&call);
	if (!key) {
		reply_oom(conn);
		return false;
	}
	*slot = leases_find(m->leases, key);
	return true;
}

/* ---- DHCP.Allocate ---- */

/* Two attachments never send one client identifier at once: the server would take
 * them for one client, give both one address, and a DHCPRELEASE of either would take
 * it from the other. With ipam.identity "pod" a pod recreated under its name (a new
 * container ID) sends the identifier of the lease its predecessor held: when that pod
 * is gone (its DEL has not come yet), the new attachment takes the identifier over,
 * and the server's binding with it, without a DHCPRELEASE; while it is still there,
 * the ADD is refused with "try again": the runtime retries, and succeeds once the old
 * pod's DEL has come. */
static int claim_client_id(struct methods *m, const char *key, const struct dhcp_client_config *client,
			   struct cni_error *err)
{
	struct lease_slot *holder = leases_find_client_id(m->leases, client->client_id, client->client_id_len);

	if (!holder)
		return 0;
	if (!lease_pod_present(holder->lease)) {
		lease_hand_over(holder->lease, key);
		return 0;
	}
	cni_error_set(err, CNI_ERR_TRY_AGAIN, "%s: the DHCP client identifier is in use by %s, whose pod in %s still "
		      "exists", key, lease_key(holder->lease), lease_spec(holder->lease)->netns);
	cni_error_details(err, "two live pods cannot share one identity (ipam.identity \"pod\": the same pod "
			       "namespace and name, network and interface); the runtime retries, and the ADD succeeds "
			       "once the other pod's DEL has come");
	return -1;
}

static struct lease_slot *start_lease(struct methods *m, const struct call *call, const char *key, struct conn *conn)
{
	struct cni_error err = { 0 };
	struct lease_spec spec = {
		.container_id = call->container_id,
		.network = call->network,
		.ifname = call->ifname,
		.netns = call->netns,
	};
	_cleanup_free_ char *netns_path = NULL;
	/* A member of the socket's group leases only for a pod's macvlan: not for the
	 * node's uplink, or a veth some namespace holds. */
	const char *kind = conn_caller_is_root(conn) ? NULL : "macvlan";
	char pod[CNI_POD_REF_MAX];

	if (cni_args_pod(call->args, pod))
		spec.pod = pod;
	if (lease_spec_for_pod(&spec, &netns_path, call->config, call->args, kind, m->opt, &err) < 0) {
		if (!err.code)
			cni_error_set(&err, CNI_ERR_NETNS, "%s went away while its lease was being set up", netns_path);
		if (kind && err.code == CNI_ERR_DAEMON)
			cni_error_details(&err, "members of the daemon's --socket-group may lease only for macvlan "
						"interfaces; root may for any (see docs/security.md)");
		conn_reply_error(conn, &err);
		return NULL;
	}
	if (claim_client_id(m, key, &spec.client, &err) < 0) {
		dhcp_client_config_free(&spec.client);
		conn_reply_error(conn, &err);
		return NULL;
	}
	struct lease_slot *slot = leases_add(m->leases, &spec);
	if (!slot) {
		reply_oom(conn);
		return NULL;
	}
	lease_start(slot->lease, loop_now_ms());
	return slot;
}

/* Answers `conn` once the lease is bound (or failed). Two calls for one attachment
 * share the same transaction; a bound lease answers at once. */
static void allocate(struct methods *m, json_t *params, struct conn *conn)
{
	struct cni_error err = { 0 };
	struct call call;
	_cleanup_free_ char *key = NULL;

	if (parse_call(params, true, &call, &err) < 0) {
		conn_reply_error(conn, &err);
		return;
	}
	if (!(key = call_key(&call))) {
		reply_oom(conn);
		return;
	}
	struct lease_slot *slot = leases_find(m->leases, key);
	if (slot && lease_bound(slot->lease)) {
		json_t *result = lease_result_json(slot->lease, &err);
		metrics_allocate_answered(loop_now_ms() - conn_requested_at(conn));
		conn_reply(conn, result ? json_pack("{s:o}", "result", result) : rpc_error_json(&err));
		return;
	}
	if (!slot && !(slot = start_lease(m, &call, key, conn)))
		return;
	if (leases_wait(slot, conn) < 0) {
		cni_error_set(&err, CNI_ERR_TRY_AGAIN, "%s: too many calls waiting for this lease", key);
		conn_reply_error(conn, &err);
	}
}

/* ---- DHCP.Release, DHCP.Check ---- */

/* A reclaim that outlasts this would outlast the plugin's wait for the DEL. */
#define RECLAIM_TIMEOUT_MS 5000

/* A DEL of a lease with no record, whose pod still holds the address (reclaim.h): it
 * is released once the server confirms it. False when there is nothing to release. */
static bool reclaim_to_release(struct methods *m, const struct call *call, struct conn *conn)
{
	const struct reclaim_names names = {
		.container_id = call->container_id, .network = call->network, .ifname = call->ifname, .netns = call->netns,
	};

	/* Nothing ties a pod without a record to a caller: only root may name it. */
	if (!conn_caller_is_root(conn))
		return false;
	struct lease_slot *slot = reclaim_start(m->leases, m->opt, &names, call->config, call->args, RECLAIM_TIMEOUT_MS);
	return slot && !lease_ended(slot->lease) && leases_release_when_bound(slot, conn) == 0;
}

/* Unicast DHCPRELEASE, then forget; releasing nothing is success. */
static void release(struct methods *m, json_t *params, struct conn *conn)
{
	struct lease_slot *slot = NULL;
	struct cni_error err = { 0 };
	struct call call;

	const char *netns = json_string_value(json_object_get(params, "netns"));

	if (!find_call(m, params, conn, &slot))
		return;
	if (!slot && parse_call(params, false, &call, &err) == 0 && reclaim_to_release(m, &call, conn))
		return;
	/* Another pod's lease, named by its key alone, is not a member's to give back. */
	if (slot && !conn_caller_is_root(conn) && (!netns || strcmp(netns, lease_spec(slot->lease)->netns) != 0)) {
		refuse_member(conn, "%s belongs to the pod in %s, not %s", lease_key(slot->lease),
			      lease_spec(slot->lease)->netns, netns ? netns : "(no netns)");
		return;
	}
	if (slot)
		lease_release(slot->lease, loop_now_ms(), "DEL");
	conn_reply(conn, json_pack("{s:{}}", "result"));
}

/* The attachment holds a valid lease with params.address. Never starts one. */
static void check(struct methods *m, json_t *params, struct conn *conn)
{
	struct lease_slot *slot = NULL;
	const char *want = json_string_value(json_object_get(params, "address"));
	struct cni_error err = { 0 };
	char have[IP_PREFIX_STRLEN];

	if (!find_call(m, params, conn, &slot))
		return;
	struct lease *lease = slot ? slot->lease : NULL;
	if (!lease)
		cni_error_set(&err, CNI_ERR_CHECK_FAILED, "the dhcp daemon holds no lease for this attachment");
	else if (!lease_bound(lease))
		cni_error_set(&err, CNI_ERR_CHECK_FAILED, "%s has no valid lease: the client is in %s", lease_key(lease),
			      dhcp_client_state_name(lease_state(lease)));
	if (err.code) {
		cni_error_details(&err, "dhcp list on the node shows the leases held; a DEL and ADD gets a new one");
		conn_reply_error(conn, &err);
		return;
	}
	struct ip_prefix held = lease_prefix(lease_held(lease));
	ip_prefix_format(&held, have);
	if (want && strcmp(want, have) != 0) {
		cni_error_set(&err, CNI_ERR_CHECK_FAILED, "%s: the lease is %s, prevResult says %s", lease_key(lease), have,
			      want);
		conn_reply_error(conn, &err);
		return;
	}
	conn_reply(conn, json_pack("{s:{s:s, s:s}}", "result", "address", have, "state",
				   dhcp_client_state_name(lease_state(lease))));
}

/* ---- DHCP.GC ---- */

static bool attachment_valid(json_t *valid, const struct lease_spec *spec)
{
	json_t *item;
	size_t i;

	json_array_foreach(valid, i, item) {
		const char *id = json_string_value(json_object_get(item, "containerID"));
		const char *ifname = json_string_value(json_object_get(item, "ifname"));
		if (id && ifname && strcmp(id, spec->container_id) == 0 && strcmp(ifname, spec->ifname) == 0)
			return true;
	}
	return false;
}

/* Releases the network's leases whose attachment is not in params.validAttachments
 * [{containerID, ifname}]. */
static void gc(struct methods *m, json_t *params, struct conn *conn)
{
	const char *network = json_string_value(json_object_get(params, "network"));
	json_t *valid = json_object_get(params, "validAttachments");
	struct cni_error err = { 0 };
	json_int_t released = 0;

	if (!conn_caller_is_root(conn)) {
		refuse_member(conn, "DHCP.GC releases every lease of a network");
		return;
	}
	if (!network || !json_is_array(valid)) {
		cni_error_set(&err, CNI_ERR_DECODE, "DHCP.GC needs \"network\" and \"validAttachments\"");
		conn_reply_error(conn, &err);
		return;
	}
	for (struct lease_slot *slot = m->leases->slots; slot; slot = slot->next) {
		const struct lease_spec *spec = lease_spec(slot->lease);
		if (slot->ended || strcmp(spec->network, network) != 0 || attachment_valid(valid, spec))
			continue;
		if (!lease_pod_present(slot->lease))
			lease_lose_pod(slot->lease);
		lease_release(slot->lease, loop_now_ms(), "GC: not among the valid attachments");
		released++;
	}
	conn_reply(conn, json_pack("{s:{s:I}}", "result", "released", released));
}

/* ---- DHCP.List, DHCP.Status ---- */

static json_t *lease_json(const struct lease *lease, uint64_t now)
{
	const struct lease_spec *spec = lease_spec(lease);
	const struct dhcp_lease *held = lease_held(lease);
	char addr[INET_ADDRSTRLEN], server[INET_ADDRSTRLEN];
	char mac[MAC_STRLEN];

	mac_format(spec->mac, mac);
	json_t *obj = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s*}", "containerID", spec->container_id, "network",
				spec->network, "ifName", spec->ifname, "netns", spec->netns_path, "state",
				dhcp_client_state_name(lease_state(lease)), "mac", mac, "master",
				spec->master);
	const char *slash = spec->pod ? strchr(spec->pod, '/') : NULL;

	if (obj && slash) {
		json_object_set_new(obj, "podNamespace", json_stringn(spec->pod, (size_t)(slash - spec->pod)));
		json_object_set_new(obj, "podName", json_string(slash + 1));
	}
	if (!obj || !held)
		return obj;
	uint64_t expiry = dhcp_lease_expiry(held), t1 = dhcp_lease_t1(held);
	json_object_set_new(obj, "address", json_sprintf("%s/%u", inet_ntop(AF_INET, &held->address, addr, sizeof(addr)),
							 held->prefix_len));
	json_object_set_new(obj, "server", json_string(inet_ntop(AF_INET, &held->server_id, server, sizeof(server))));
	json_object_set_new(obj, "leaseSeconds", json_integer(held->lifetime_s));
	if (expiry != UINT64_MAX)
		json_object_set_new(obj, "expiresIn", json_integer(expiry > now ? (json_int_t)((expiry - now) / 1000) : 0));
	if (t1 != UINT64_MAX)
		json_object_set_new(obj, "renewIn", json_integer(t1 > now ? (json_int_t)((t1 - now) / 1000) : 0));
	return obj;
}

static json_t *list(const struct leases *t)
{
	json_t *leases = json_array();
	uint64_t now = loop_now_ms();

	for (struct lease_slot *slot = t->slots; slot && leases; slot = slot->next)
		if (!slot->ended)
			json_array_append_new(leases, lease_json(slot->lease, now));
	return leases;
}

/* Ready, the leases held, and the heap in use: what a lease costs is measured by it. */
static json_t *status(const struct methods *m)
{
	struct mallinfo2 heap = mallinfo2();

	return json_pack("{s:{s:b, s:I, s:I}}", "result", "ready", !m->stopping, "leases",
			 (json_int_t)m->leases->count, "heapBytes", (json_int_t)(heap.uordblks + heap.hblkhd));
}

/* ---- dispatch ---- */

void methods_dispatch(void *ctx, struct conn *conn, json_t *request)
{
	struct methods *m = ctx;
	json_t *method = json_object_get(request, "method"), *params = json_object_get(request, "params");
	const char *name = json_string_value(method);
	struct cni_error err = { 0 };

	if (!name || !json_is_object(params)) {
		cni_error_set(&err, CNI_ERR_DECODE, "a request needs \"method\" and \"params\"");
		conn_reply_error(conn, &err);
	} else if (strcmp(name, "DHCP.Allocate") == 0) {
		allocate(m, params, conn);
	} else if (strcmp(name, "DHCP.Release") == 0) {
		release(m, params, conn);
	} else if (strcmp(name, "DHCP.Check") == 0) {
		check(m, params, conn);
	} else if (strcmp(name, "DHCP.GC") == 0) {
		gc(m, params, conn);
	} else if (strcmp(name, "DHCP.Status") == 0) {
		conn_reply(conn, status(m));
	} else if (strcmp(name, "DHCP.List") == 0) {
		conn_reply(conn, json_pack("{s:o}", "result", list(m->leases)));
	} else {
		cni_error_set(&err, CNI_ERR_NOT_IMPLEMENTED, "unknown method \"%s\"", name);
		cni_error_details(&err, "the daemon serves DHCP.Allocate, DHCP.Release, DHCP.Check, DHCP.GC, DHCP.Status "
					"and DHCP.List");
		conn_reply_error(conn, &err);
	}
}
