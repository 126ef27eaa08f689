#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>

#include "cni/args.h"
#include "cni/env.h"
#include "cni/json.h"
#include "cni/result.h"
#include "dhcp/closer.h"
#include "dhcp/ipam_conf.h"
#include "dhcp/leases.h"
#include "dhcp/podnet.h"
#include "dhcp/rpc.h"
#include "dhcp4/packet.h"
#include "dhcp4/protocol.h"
#include "util/macro.h"

#define MAX_WAITERS 8

struct lease_entry {
	struct lease_entry *next;
	struct daemon *d;
	char *key; /* "<containerID>/<network>/<ifname>" */
	char *container_id;
	char *network;
	char *ifname;
	char *netns_path;
	char *master; /* the config's "master", for messages */
	int priority;
	int ifindex;
	struct dhcp_client client;
	struct loop_source packet; /* while broadcasting */
	struct loop_source udp;    /* while renewing */
	uint32_t filter_xid;
	struct conn *waiters[MAX_WAITERS];
	size_t n_waiters;
	bool dead;
};

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

/* ---- sockets ---- */

static void close_source(struct daemon *d, struct loop_source *source)
{
	if (source->fd < 0)
		return;
	loop_remove(&d->loop, source);
	closer_close(source->fd);
	source->fd = -1;
}

static void on_packet(struct loop_source *source, uint32_t events);
static void on_udp(struct loop_source *source, uint32_t events);

static int open_packet_socket(struct lease_entry *e)
{
	int fd = podnet_packet_socket(e->netns_path, e->ifindex, e->client.xid, e->client.config.mac);

	if (fd < 0)
		return fd;
	e->packet = (struct loop_source){ .fd = fd, .handler = on_packet, .data = e };
	e->filter_xid = e->client.xid;
	if (loop_add(&e->d->loop, &e->packet, EPOLLIN) < 0) {
		closep(&e->packet.fd);
		return -EIO;
	}
	return 0;
}

/* The socket's filter passes this transaction only; the xid changes per exchange. */
static void refresh_filter(struct lease_entry *e)
{
	if (e->packet.fd < 0 || e->filter_xid == e->client.xid)
		return;
	if (podnet_packet_filter(e->packet.fd, e->client.xid, e->client.config.mac) == 0)
		e->filter_xid = e->client.xid;
}

static int send_broadcast(struct lease_entry *e, const struct dhcp_output *out)
{
	uint8_t datagram[DHCP_PACKET_HEADROOM + DHCP_OUTPUT_MAX];

	if (e->packet.fd < 0 && open_packet_socket(e) < 0)
		return -EIO;
	refresh_filter(e);
	size_t len = dhcp_packet_frame(datagram, out->data, out->len, out->src, out->dst, DHCP_CLIENT_PORT,
				       DHCP_SERVER_PORT);
	return podnet_packet_send(e->packet.fd, e->ifindex, datagram, len);
}

/* Unicast from the leased address. When the address is not on the pod's interface
 * (any more), the same datagram goes out of the packet socket instead. */
static int send_unicast(struct lease_entry *e, const struct dhcp_output *out)
{
	if (e->udp.fd < 0) {
		int fd = podnet_udp_socket(e->netns_path, e->ifname, out->src, out->dst);
		if (fd >= 0) {
			e->udp = (struct loop_source){ .fd = fd, .handler = on_udp, .data = e };
			if (loop_add(&e->d->loop, &e->udp, EPOLLIN) < 0)
				closep(&e->udp.fd);
		}
	}
	if (e->udp.fd >= 0 && send(e->udp.fd, out->data, out->len, MSG_DONTWAIT) >= 0)
		return 0;
	return send_broadcast(e, out);
}

static void send_output(struct lease_entry *e, const struct dhcp_output *out)
{
	char dst[INET_ADDRSTRLEN];
	int r = out->transport == DHCP_SEND_UNICAST ? send_unicast(e, out) : send_broadcast(e, out);

	if (r < 0)
		daemon_log("%s: sending %s to %s failed: %s", e->key, dhcp_message_type_name(out->type),
			   inet_ntop(AF_INET, &out->dst, dst, sizeof(dst)), strerror(-r));
}

/* Sockets pin the pod's namespace: hold them only while talking. */
static void trim_sockets(struct lease_entry *e)
{
	enum dhcp_client_state s = e->client.state;
	bool broadcasting = s == DHCP_STATE_SELECTING || s == DHCP_STATE_REQUESTING || s == DHCP_STATE_REBOOTING ||
			    s == DHCP_STATE_REBINDING || s == DHCP_STATE_INIT || s == DHCP_STATE_INIT_REBOOT;

	if (!broadcasting)
		close_source(e->d, &e->packet);
	if (s != DHCP_STATE_RENEWING)
		close_source(e->d, &e->udp);
}

/* ---- answers ---- */

static void answer_waiters(struct lease_entry *e, json_t *response)
{
	for (size_t i = 0; i < e->n_waiters; i++)
		conn_reply(e->waiters[i], json_incref(response));
	e->n_waiters = 0;
	json_decref(response);
}

static json_t *lease_result_json(struct lease_entry *e, struct cni_error *err)
{
	const struct dhcp_lease *lease = dhcp_client_lease(&e->client);
	struct cni_result result;
	json_t *obj;

	if (!lease || dhcp_lease_to_result(lease, e->priority, &result) < 0) {
		cni_error_set(err, CNI_ERR_DHCP, "%s: the lease cannot be turned into a result", e->key);
		return NULL;
	}
	obj = cni_result_to_json(&result, CNI_VERSION_1_1_0, err);
	cni_result_free(&result);
	return obj;
}

static void answer_bound(struct lease_entry *e)
{
	struct cni_error err = { 0 };
	json_t *result = lease_result_json(e, &err);

	answer_waiters(e, result ? json_pack("{s:o}", "result", result) : rpc_error_json(&err));
}

/* "no DHCPOFFER after 4 DHCPDISCOVERs in 10 s" plus where, and what to look at. */
static void answer_failed(struct lease_entry *e, const char *story)
{
	struct cni_error err = { 0 };

	cni_error_set(&err, CNI_ERR_DHCP, "%s on %s (pod netns %s)", story, e->ifname, e->netns_path);
	if (e->master)
		cni_error_details(&err, "is a DHCP server on the L2 segment of master %s, and does it answer the "
					"client id %s? (dhcp list on the node shows the leases held)",
				  e->master, e->key);
	else
		cni_error_details(&err, "is a DHCP server on the pod interface's L2 segment?");
	answer_waiters(e, rpc_error_json(&err));
	e->dead = true;
}

/* ---- driving the engine ---- */

static void handle_event(struct lease_entry *e, const struct dhcp_event *ev, uint64_t now)
{
	daemon_log("%s: %s: %s", e->key, dhcp_event_name(ev->type), ev->reason);
	switch (ev->type) {
	case DHCP_EVENT_GRANTED:
		/* No address conflict check (DECLINE) yet: the lease is taken as granted. */
		dhcp_client_accept(&e->client, now);
		break;
	case DHCP_EVENT_BOUND:
	case DHCP_EVENT_ADDRESS_CHANGED:
		answer_bound(e);
		break;
	case DHCP_EVENT_FAILED:
		answer_failed(e, ev->reason);
		break;
	case DHCP_EVENT_RENEWED:
	case DHCP_EVENT_LOST:
	case DHCP_EVENT_EXPIRED:
		break;
	}
}

/* Sends what the engine queued and acts on its events until it is quiet. */
static void pump(struct lease_entry *e, uint64_t now)
{
	struct dhcp_output out;
	struct dhcp_event ev;

	for (;;) {
		if (dhcp_client_pop_output(&e->client, &out))
			send_output(e, &out);
		else if (dhcp_client_pop_event(&e->client, &ev))
			handle_event(e, &ev, now);
		else
			break;
	}
	refresh_filter(e);
	trim_sockets(e);
}

static void on_packet(struct loop_source *source, uint32_t events)
{
	struct lease_entry *e = source->data;
	uint8_t buf[DHCP_PACKET_HEADROOM + DHCP_MESSAGE_MAX];
	const uint8_t *payload;
	size_t payload_len;
	bool partial;
	(void)events;

	for (int budget = 16; budget > 0 && e->packet.fd >= 0 && !e->dead; budget--) {
		ssize_t n = podnet_packet_recv(e->packet.fd, buf, sizeof(buf), &partial);
		if (n == 0)
			continue;
		if (n < 0)
			break;
		enum dhcp_packet_error pe = dhcp_packet_unframe(buf, (size_t)n, partial, &payload, &payload_len);
		if (pe != DHCP_PACKET_OK) {
			daemon_log("%s: dropped a frame: %s", e->key, dhcp_packet_error_name(pe));
			continue;
		}
		uint64_t now = loop_now_ms();
		dhcp_client_receive(&e->client, now, payload, payload_len);
		pump(e, now);
	}
}

static void on_udp(struct loop_source *source, uint32_t events)
{
	struct lease_entry *e = source->data;
	uint8_t buf[DHCP_MESSAGE_MAX];
	(void)events;

	while (e->udp.fd >= 0 && !e->dead) {
		ssize_t n = recv(e->udp.fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0)
			break;
		uint64_t now = loop_now_ms();
		dhcp_client_receive(&e->client, now, buf, (size_t)n);
		pump(e, now);
	}
}

uint64_t leases_next_deadline(struct daemon *d)
{
	uint64_t next = UINT64_MAX;

	for (struct lease_entry *e = d->leases; e; e = e->next) {
		uint64_t at = dhcp_client_deadline(&e->client);
		if (!e->dead && at < next)
			next = at;
	}
	return next;
}

void leases_run_timers(struct daemon *d, uint64_t now)
{
	for (struct lease_entry *e = d->leases; e; e = e->next) {
		if (e->dead || dhcp_client_deadline(&e->client) > now)
			continue;
		dhcp_client_tick(&e->client, now);
		pump(e, now);
	}
}

/* ---- RPC methods ---- */

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

static char *make_key(const struct call *call)
{
	char *key = NULL;
	return asprintf(&key, "%s/%s/%s", call->container_id, call->network, call->ifname) < 0 ? NULL : key;
}

static struct lease_entry *find(struct daemon *d, const char *key)
{
	for (struct lease_entry *e = d->leases; e; e = e->next)
		if (!e->dead && strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

static void entry_free(struct lease_entry *e)
{
	close_source(e->d, &e->packet);
	close_source(e->d, &e->udp);
	dhcp_client_free(&e->client);
	free(e->key);
	free(e->container_id);
	free(e->network);
	free(e->ifname);
	free(e->netns_path);
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

	return (struct dhcp_timing){
		.initial_ms = (uint32_t)initial,
		.max_ms = (uint32_t)o->resend_max_ms,
		.acquire_ms = (uint32_t)acquire,
	};
}

/* Everything the DHCP client needs for this attachment: the pod's link, the network's
 * ipam keys, the runtime's CNI_ARGS. */
static int configure_client(struct daemon *d, struct lease_entry *e, const struct call *call, struct cni_error *err)
{
	struct link_info link;
	struct cni_args args;
	struct dhcp_ipam_conf conf;
	struct dhcp_client_config config;
	json_t *ipam = NULL;

	if (podnet_prepare_link(e->netns_path, e->ifname, &link, err) < 0 ||
	    cni_json_object(call->config, "config", "ipam", &ipam, err) < 0 || cni_args_parse(call->args, &args, err) < 0)
		return -1;
	struct dhcp_attachment att = {
		.container_id = e->container_id,
		.network = e->network,
		.ifname = e->ifname,
		.pod_name = cni_args_get(&args, "K8S_POD_NAME"),
		.mtu = link.mtu,
	};
	memcpy(att.mac, link.mac, sizeof(att.mac));
	int r = dhcp_ipam_conf_parse(ipam, &args, &conf, err);
	if (r == 0)
		r = dhcp_client_config_build(&conf, &att, &config, err);
	cni_args_free(&args);
	if (r < 0)
		return -1;
	config.broadcast = conf.has_broadcast ? conf.broadcast : d->opt.broadcast;
	config.timing = timing_for(d, &conf);
	e->priority = conf.priority;
	e->ifindex = link.index;
	dhcp_client_init(&e->client, &config, random_u32, log_engine, e);
	return 0;
}

static struct lease_entry *entry_new(struct daemon *d, const struct call *call, struct cni_error *err)
{
	struct lease_entry *e = calloc(1, sizeof(*e));
	const char *master = NULL;

	if (!e) {
		cni_error_set(err, CNI_ERR_IO, "out of memory");
		return NULL;
	}
	e->d = d;
	e->packet.fd = e->udp.fd = -1;
	cni_json_string(call->config, "config", "master", &master, err);
	cni_error_clear(err);
	e->key = make_key(call);
	e->container_id = strdup(call->container_id);
	e->network = strdup(call->network);
	e->ifname = strdup(call->ifname);
	e->master = master ? strdup(master) : NULL;
	if (asprintf(&e->netns_path, "%s%s", d->opt.hostprefix, call->netns) < 0)
		e->netns_path = NULL;
	if (!e->key || !e->container_id || !e->network || !e->ifname || !e->netns_path) {
		cni_error_set(err, CNI_ERR_IO, "out of memory");
	} else if (configure_client(d, e, call, err) == 0) {
		return e;
	}
	entry_free(e);
	return NULL;
}

void leases_allocate(struct daemon *d, json_t *params, struct conn *conn)
{
	struct cni_error err = { 0 };
	struct call call;
	_cleanup_free_ char *key = NULL;
	struct lease_entry *e;

	if (parse_call(params, true, &call, &err) < 0 || !(key = make_key(&call))) {
		if (!err.code)
			cni_error_set(&err, CNI_ERR_IO, "out of memory");
		conn_reply_error(conn, &err);
		return;
	}
	e = find(d, key);
	if (e && dhcp_client_lease(&e->client) && e->client.state != DHCP_STATE_GRANTED) {
		json_t *result = lease_result_json(e, &err);
		conn_reply(conn, result ? json_pack("{s:o}", "result", result) : rpc_error_json(&err));
		return;
	}
	if (!e) {
		e = entry_new(d, &call, &err);
		if (!e) {
			conn_reply_error(conn, &err);
			return;
		}
		e->next = d->leases;
		d->leases = e;
		d->n_leases++;
		dhcp_client_start(&e->client, loop_now_ms());
	}
	if (e->n_waiters == MAX_WAITERS) {
		cni_error_set(&err, CNI_ERR_TRY_AGAIN, "%s: too many calls waiting for this lease", e->key);
		conn_reply_error(conn, &err);
		return;
	}
	e->waiters[e->n_waiters++] = conn;
	pump(e, loop_now_ms());
}

void leases_release(struct daemon *d, json_t *params, struct conn *conn)
{
	struct cni_error err = { 0 };
	struct call call;
	_cleanup_free_ char *key = NULL;
	struct lease_entry *e;

	if (parse_call(params, false, &call, &err) < 0 || !(key = make_key(&call))) {
		if (!err.code)
			cni_error_set(&err, CNI_ERR_IO, "out of memory");
		conn_reply_error(conn, &err);
		return;
	}
	e = find(d, key);
	if (e) {
		uint64_t now = loop_now_ms();
		cni_error_set(&err, CNI_ERR_DHCP, "%s: released before a lease was granted", e->key);
		answer_waiters(e, rpc_error_json(&err));
		dhcp_client_release(&e->client, now);
		pump(e, now);
		daemon_log("%s: released", e->key);
		e->dead = true;
	}
	conn_reply(conn, json_pack("{s:{}}", "result"));
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
