/* The daemon's leases: the RPC methods, restoring saved leases at start, and noticing
 * pods that went away without a DEL. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "cni/args.h"
#include "cni/env.h"
#include "cni/json.h"
#include "dhcp/ipam_conf.h"
#include "dhcpd/lease_entry.h"
#include "dhcpd/leases.h"
#include "dhcpd/podnet.h"
#include "dhcp/rpc.h"
#include "dhcpd/state.h"
#include "util/macro.h"

/* How often every lease's pod is checked for being still there. */
#define SWEEP_INTERVAL_MS 5000

static uint32_t random_u32(void *ctx)
{
	uint32_t value = 0;
	(void)ctx;

	if (getrandom(&value, sizeof(value), 0) != sizeof(value))
		value = (uint32_t)loop_now_ms() * 2654435761u;
	return value;
}

static void log_engine(void *ctx, const char *message)
{
	struct lease_entry *e = ctx;
	daemon_log("%s: %s", e->key, message);
}

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
	return 0;
}

static char *make_key(const char *container_id, const char *network, const char *ifname)
{
	char *key = NULL;
	return asprintf(&key, "%s/%s/%s", container_id, network, ifname) < 0 ? NULL : key;
}

static struct lease_entry *find(struct daemon *d, const char *key)
{
	for (struct lease_entry *e = d->leases; e; e = e->next)
		if (!e->dead && strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

/* ---- entries ---- */

static void entry_free(struct lease_entry *e)
{
	lease_close_sockets(e);
	dhcp_client_free(&e->client);
	json_decref(e->config);
	free(e->key);
	free(e->container_id);
	free(e->network);
	free(e->ifname);
	free(e->netns);
	free(e->netns_path);
	free(e->args);
	free(e->master);
	free(e);
}

static struct dhcp_timing timing_for(const struct daemon *d, const struct dhcp_ipam_conf *conf)
{
	const struct daemon_options *o = &d->opt;
	int64_t initial = conf->retransmit_initial_ms > 0 ? conf->retransmit_initial_ms
			  : o->timeout_ms < DHCP_RETRANSMIT_INITIAL_S * 1000 ? o->timeout_ms
									      : DHCP_RETRANSMIT_INITIAL_S * 1000;
	int64_t acquire = conf->acquire_timeout_ms > 0 ? conf->acquire_timeout_ms : o->resend_timeout_ms;

	/* A short acquisition still gets a few tries: a single lost DISCOVER must not
	 * fail the ADD. */
	if (conf->retransmit_initial_ms <= 0 && initial > acquire / 4)
		initial = acquire / 4 > 250 ? acquire / 4 : 250;
	return (struct dhcp_timing){
		.initial_ms = (uint32_t)initial,
		.max_ms = (uint32_t)o->resend_max_ms,
		.acquire_ms = (uint32_t)acquire,
	};
}

/* Everything the DHCP client needs for this attachment: the pod's link (MAC, MTU),
 * the network's ipam keys, the runtime's CNI_ARGS. */
static int configure_client(struct daemon *d, struct lease_entry *e, const struct link_info *link,
			    struct cni_error *err)
{
	struct cni_args args;
	struct dhcp_ipam_conf conf;
	struct dhcp_client_config config;
	json_t *ipam = NULL;

	if (cni_json_object(e->config, "config", "ipam", &ipam, err) < 0 || cni_args_parse(e->args, &args, err) < 0)
		return -1;
	struct dhcp_attachment att = {
		.container_id = e->container_id,
		.network = e->network,
		.ifname = e->ifname,
		.pod_name = cni_args_get(&args, "K8S_POD_NAME"),
		.mtu = link->mtu,
	};
	memcpy(att.mac, link->mac, sizeof(att.mac));
	int r = dhcp_ipam_conf_parse(ipam, &args, &conf, err);
	if (r == 0)
		r = dhcp_client_config_build(&conf, &att, &config, err);
	cni_args_free(&args);
	if (r < 0)
		return -1;
	config.broadcast = conf.has_broadcast ? conf.broadcast : d->opt.broadcast;
	config.timing = timing_for(d, &conf);
	e->priority = conf.priority;
	e->arp_probe_ms = conf.arp_probe_ms > 0 ? (uint32_t)conf.arp_probe_ms : 0;
	e->ifindex = link->index;
	memcpy(e->mac, link->mac, sizeof(e->mac));
	dhcp_client_init(&e->client, &config, random_u32, log_engine, e);
	return 0;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static struct lease_entry *entry_new(struct daemon *d, const struct call *call)
{
	struct lease_entry *e = calloc(1, sizeof(*e));
	const char *master = json_string_value(json_object_get(call->config, "master"));

	if (!e)
		return NULL;
	*e = (struct lease_entry){
		.d = d, .packet.fd = -1, .udp.fd = -1, .arp.fd = -1, .sync_at = UINT64_MAX, .probe_at = UINT64_MAX,
	};
	e->key = make_key(call->container_id, call->network, call->ifname);
	e->container_id = strdup(call->container_id);
	e->network = strdup(call->network);
	e->ifname = strdup(call->ifname);
	e->netns = dup_or_null(call->netns);
	e->args = dup_or_null(call->args);
	e->master = dup_or_null(master);
	e->config = json_incref(call->config);
	if (call->netns && asprintf(&e->netns_path, "%s%s", d->opt.hostprefix, call->netns) < 0)
		e->netns_path = NULL;
	if (!e->key || !e->container_id || !e->network || !e->ifname || !e->netns_path) {
		entry_free(e);
		return NULL;
	}
	return e;
}

static void entry_add(struct daemon *d, struct lease_entry *e)
{
	e->next = d->leases;
	d->leases = e;
	d->n_leases++;
}

static void reply_oom(struct conn *conn)
{
	struct cni_error err = { 0 };
	cni_error_set(&err, CNI_ERR_IO, "the dhcp daemon is out of memory");
	conn_reply_error(conn, &err);
}

/* ---- RPC methods ---- */

static struct lease_entry *start_lease(struct daemon *d, const struct call *call, struct conn *conn)
{
	struct cni_error err = { 0 };
	struct link_info link;
	struct lease_entry *e = entry_new(d, call);

	if (!e) {
		reply_oom(conn);
		return NULL;
	}
	if (podnet_prepare_link(e->netns_path, e->ifname, &link, &err) < 0 || configure_client(d, e, &link, &err) < 0) {
		conn_reply_error(conn, &err);
		entry_free(e);
		return NULL;
	}
	entry_add(d, e);
	dhcp_client_start(&e->client, loop_now_ms());
	return e;
}

void leases_allocate(struct daemon *d, json_t *params, struct conn *conn)
{
	struct cni_error err = { 0 };
	struct call call;
	_cleanup_free_ char *key = NULL;

	if (parse_call(params, true, &call, &err) < 0) {
		conn_reply_error(conn, &err);
		return;
	}
	if (!(key = make_key(call.container_id, call.network, call.ifname))) {
		reply_oom(conn);
		return;
	}
	struct lease_entry *e = find(d, key);
	if (e && dhcp_client_lease(&e->client) && e->client.state != DHCP_STATE_GRANTED) {
		json_t *result = lease_result_json(e, &err);
		conn_reply(conn, result ? json_pack("{s:o}", "result", result) : rpc_error_json(&err));
		return;
	}
	if (!e && !(e = start_lease(d, &call, conn)))
		return;
	if (e->n_waiters == MAX_WAITERS) {
		cni_error_set(&err, CNI_ERR_TRY_AGAIN, "%s: too many calls waiting for this lease", e->key);
		conn_reply_error(conn, &err);
		return;
	}
	e->waiters[e->n_waiters++] = conn;
	lease_pump(e, loop_now_ms());
}

/* Release and Check name an attachment; the lease, if held, is looked up. */
static struct lease_entry *find_call(struct daemon *d, json_t *params, struct conn *conn, bool *replied)
{
	struct cni_error err = { 0 };
	struct call call;

	*replied = true;
	if (parse_call(params, false, &call, &err) < 0) {
		conn_reply_error(conn, &err);
		return NULL;
	}
	_cleanup_free_ char *key = make_key(call.container_id, call.network, call.ifname);
	if (!key) {
		reply_oom(conn);
		return NULL;
	}
	*replied = false;
	return find(d, key);
}

void leases_release(struct daemon *d, json_t *params, struct conn *conn)
{
	bool replied;
	struct lease_entry *e = find_call(d, params, conn, &replied);

	if (replied)
		return;
	if (e)
		lease_release(e, loop_now_ms(), "DEL");
	conn_reply(conn, json_pack("{s:{}}", "result"));
}

void leases_check(struct daemon *d, json_t *params, struct conn *conn)
{
	bool replied;
	struct lease_entry *e = find_call(d, params, conn, &replied);
	const char *want = json_string_value(json_object_get(params, "address"));
	struct cni_error err = { 0 };
	char have[IP_PREFIX_STRLEN];

	if (replied)
		return;
	const struct dhcp_lease *lease = e ? dhcp_client_lease(&e->client) : NULL;
	if (!e)
		cni_error_set(&err, CNI_ERR_CHECK_FAILED, "the dhcp daemon holds no lease for this attachment");
	else if (!lease || e->client.state == DHCP_STATE_GRANTED)
		cni_error_set(&err, CNI_ERR_CHECK_FAILED, "%s has no valid lease: the client is in %s", e->key,
			      dhcp_client_state_name(e->client.state));
	if (err.code) {
		cni_error_details(&err, "dhcp list on the node shows the leases held; a DEL and ADD gets a new one");
		conn_reply_error(conn, &err);
		return;
	}
	struct ip_prefix held = { .addr = { .family = AF_INET, .v4 = lease->address }, .len = lease->prefix_len };
	ip_prefix_format(&held, have);
	if (want && strcmp(want, have) != 0) {
		cni_error_set(&err, CNI_ERR_CHECK_FAILED, "%s: the lease is %s, prevResult says %s", e->key, have, want);
		conn_reply_error(conn, &err);
		return;
	}
	conn_reply(conn, json_pack("{s:{s:s, s:s}}", "result", "address", have, "state",
				   dhcp_client_state_name(e->client.state)));
}

static bool attachment_valid(json_t *valid, const struct lease_entry *e)
{
	json_t *item;
	size_t i;

	json_array_foreach(valid, i, item) {
		const char *id = json_string_value(json_object_get(item, "containerID"));
		const char *ifname = json_string_value(json_object_get(item, "ifname"));
		if (id && ifname && strcmp(id, e->container_id) == 0 && strcmp(ifname, e->ifname) == 0)
			return true;
	}
	return false;
}

void leases_gc(struct daemon *d, json_t *params, struct conn *conn)
{
	const char *network = json_string_value(json_object_get(params, "network"));
	json_t *valid = json_object_get(params, "validAttachments");
	struct cni_error err = { 0 };
	json_int_t released = 0;

	if (!network || !json_is_array(valid)) {
		cni_error_set(&err, CNI_ERR_DECODE, "DHCP.GC needs \"network\" and \"validAttachments\"");
		conn_reply_error(conn, &err);
		return;
	}
	for (struct lease_entry *e = d->leases; e; e = e->next) {
		if (e->dead || strcmp(e->network, network) != 0 || attachment_valid(valid, e))
			continue;
		e->pod_gone = podnet_exists(e->netns_path) < 0;
		lease_release(e, loop_now_ms(), "GC: not among the valid attachments");
		released++;
	}
	conn_reply(conn, json_pack("{s:{s:I}}", "result", "released", released));
}

static json_t *lease_json(struct lease_entry *e, uint64_t now)
{
	const struct dhcp_lease *lease = dhcp_client_lease(&e->client);
	char addr[INET_ADDRSTRLEN], server[INET_ADDRSTRLEN];
	json_t *obj = json_pack("{s:s, s:s, s:s, s:s, s:s}", "containerID", e->container_id, "network", e->network,
				"ifName", e->ifname, "netns", e->netns_path, "state",
				dhcp_client_state_name(e->client.state));

	if (!obj || !lease)
		return obj;
	uint64_t expiry = dhcp_lease_expiry(lease), t1 = dhcp_lease_t1(lease);
	json_object_set_new(obj, "address", json_sprintf("%s/%u", inet_ntop(AF_INET, &lease->address, addr, sizeof(addr)),
							 lease->prefix_len));
	json_object_set_new(obj, "server", json_string(inet_ntop(AF_INET, &lease->server_id, server, sizeof(server))));
	json_object_set_new(obj, "leaseSeconds", json_integer(lease->lifetime_s));
	if (expiry != UINT64_MAX)
		json_object_set_new(obj, "expiresIn", json_integer(expiry > now ? (json_int_t)((expiry - now) / 1000) : 0));
	if (t1 != UINT64_MAX)
		json_object_set_new(obj, "renewIn", json_integer(t1 > now ? (json_int_t)((t1 - now) / 1000) : 0));
	return obj;
}

json_t *leases_list(struct daemon *d)
{
	json_t *list = json_array();
	uint64_t now = loop_now_ms();

	for (struct lease_entry *e = d->leases; e && list; e = e->next)
		if (!e->dead)
			json_array_append_new(list, lease_json(e, now));
	return list;
}

/* ---- leases saved by an earlier run ---- */

static struct lease_entry *entry_from_record(struct daemon *d, json_t *record)
{
	struct call call = {
		.container_id = json_string_value(json_object_get(record, "containerID")),
		.ifname = json_string_value(json_object_get(record, "ifName")),
		.netns = json_string_value(json_object_get(record, "netns")),
		.args = json_string_value(json_object_get(record, "args")),
		.config = json_object_get(record, "config"),
	};
	call.network = json_string_value(json_object_get(call.config, "name"));
	if (!call.container_id || !call.ifname || !call.netns || !json_is_object(call.config) || !call.network)
		return NULL;
	return entry_new(d, &call);
}

/* The pod is still there when its namespace holds the interface with the same MAC. */
static bool pod_still_there(struct lease_entry *e, json_t *record, struct link_info *link)
{
	const char *mac_text = json_string_value(json_object_get(record, "mac"));
	uint8_t mac[MAC_LEN] = { 0 };
	struct cni_error err = { 0 };

	if (mac_text)
		mac_parse(mac_text, mac);
	if (podnet_prepare_link(e->netns_path, e->ifname, link, &err) == 0 && memcmp(link->mac, mac, MAC_LEN) == 0)
		return true;
	*link = (struct link_info){ .mtu = DHCP_MIN_MAX_MESSAGE };
	memcpy(link->mac, mac, MAC_LEN);
	return false;
}

static void restore_one(json_t *record, void *ctx)
{
	struct daemon *d = ctx;
	const char *key = json_string_value(json_object_get(record, "key"));
	struct lease_entry *e = entry_from_record(d, record);
	struct cni_error err = { 0 };
	struct link_info link;
	struct dhcp_lease lease;
	uint64_t now = loop_now_ms();
	bool usable = false, lost = false;

	if (e) {
		e->pod_gone = !pod_still_there(e, record, &link);
		usable = configure_client(d, e, &link, &err) == 0 && lease_record_lease(record, now, &lease, &lost) == 0;
	}
	if (!usable) {
		daemon_log("%s: the saved lease cannot be used (%s): forgetting it", key ? key : "a record",
			   err.code ? err.msg : "incomplete record");
		if (key)
			state_remove(d->opt.state_dir, key);
		if (e)
			entry_free(e);
		return;
	}
	entry_add(d, e);
	dhcp_client_resume(&e->client, now, &lease, lost);
	dhcp_lease_clear(&lease);
	if (e->pod_gone) {
		lease_release(e, now, "its pod went away while the daemon was down");
		return;
	}
	daemon_log("%s: resumed in %s", e->key, dhcp_client_state_name(e->client.state));
	lease_pump(e, now);
	e->sync_create = true;
	e->sync_at = now;
}

void leases_restore(struct daemon *d)
{
	int r = state_load_all(d->opt.state_dir, restore_one, d);

	if (r < 0)
		daemon_log("cannot read saved leases in %s: %s", d->opt.state_dir, strerror(-r));
	d->next_sweep_ms = loop_now_ms() + SWEEP_INTERVAL_MS;
}

/* ---- timers ---- */

/* A pod deleted without DEL: its namespace file is gone. */
static void sweep(struct daemon *d, uint64_t now)
{
	for (struct lease_entry *e = d->leases; e; e = e->next) {
		if (e->dead || e->n_waiters || podnet_exists(e->netns_path) == 0)
			continue;
		e->pod_gone = true;
		lease_release(e, now, "its pod network namespace is gone");
	}
	d->next_sweep_ms = now + SWEEP_INTERVAL_MS;
}

uint64_t leases_next_deadline(struct daemon *d)
{
	uint64_t next = d->n_leases ? d->next_sweep_ms : UINT64_MAX;

	for (struct lease_entry *e = d->leases; e; e = e->next) {
		uint64_t at = dhcp_client_deadline(&e->client);
		if (e->dead)
			continue;
		next = at < next ? at : next;
		next = e->sync_at < next ? e->sync_at : next;
		next = e->probe_at < next ? e->probe_at : next;
	}
	return next;
}

void leases_run_timers(struct daemon *d, uint64_t now)
{
	if (d->n_leases && now >= d->next_sweep_ms)
		sweep(d, now);
	for (struct lease_entry *e = d->leases; e; e = e->next) {
		if (!e->dead && dhcp_client_deadline(&e->client) <= now) {
			dhcp_client_tick(&e->client, now);
			lease_pump(e, now);
		}
		if (!e->dead && e->sync_at <= now)
			lease_sync_address(e, now);
		if (!e->dead && e->probe_at <= now)
			lease_probe_tick(e, now);
	}
}

void leases_forget_waiter(struct daemon *d, struct conn *conn)
{
	for (struct lease_entry *e = d->leases; e; e = e->next) {
		for (size_t i = 0; i < e->n_waiters; i++) {
			if (e->waiters[i] == conn) {
				e->waiters[i] = e->waiters[--e->n_waiters];
				i--;
			}
		}
	}
}

void leases_reap(struct daemon *d)
{
	for (struct lease_entry **p = &d->leases; *p;) {
		struct lease_entry *e = *p;
		if (!e->dead) {
			p = &e->next;
			continue;
		}
		*p = e->next;
		d->n_leases--;
		entry_free(e);
	}
}

void leases_free_all(struct daemon *d)
{
	while (d->leases) {
		struct lease_entry *e = d->leases;
		d->leases = e->next;
		dhcp_client_stop(&e->client);
		entry_free(e);
	}
	d->n_leases = 0;
}
