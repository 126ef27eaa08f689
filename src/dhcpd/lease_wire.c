/* One lease's conversation with the DHCP server, and what its outcomes do to the pod. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "cni/result.h"
#include "dhcpd/closer.h"
#include "dhcpd/lease_entry.h"
#include "dhcpd/podnet.h"
#include "dhcp/rpc.h"
#include "dhcp4/packet.h"
#include "dhcp4/protocol.h"
#include "util/macro.h"

/* After ADD the plugin adds the address only once our answer is in: look for it a
 * little later, a few times. */
#define SYNC_FIRST_DELAY_MS 100
#define SYNC_RETRY_MS 500
#define SYNC_TRIES 20

/* ---- sockets ---- */

void lease_close_source(struct daemon *d, struct loop_source *source)
{
	if (source->fd < 0)
		return;
	loop_remove(&d->loop, source);
	closer_close(source->fd);
	source->fd = -1;
}

void lease_close_sockets(struct lease_entry *e)
{
	lease_close_source(e->d, &e->packet);
	lease_close_source(e->d, &e->udp);
	lease_close_source(e->d, &e->arp);
}

static void on_packet(struct loop_source *source, uint32_t events);
static void on_udp(struct loop_source *source, uint32_t events);
static int ensure_address(struct lease_entry *e, const struct dhcp_lease *lease, uint64_t now);

static int open_packet_socket(struct lease_entry *e)
{
	int fd = podnet_packet_socket(e->netns_path, e->ifindex, e->client.xid, e->client.config.mac);

	if (fd < 0)
		return fd;
	e->packet = (struct loop_source){ .fd = fd, .handler = on_packet, .data = e };
	e->filter_xid = e->client.xid;
	if (loop_add(&e->d->loop, &e->packet, EPOLLIN) < 0) {
		closer_close(fd);
		e->packet.fd = -1;
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

static size_t frame(const struct dhcp_output *out, uint8_t datagram[DHCP_PACKET_HEADROOM + DHCP_OUTPUT_MAX])
{
	return dhcp_packet_frame(datagram, out->data, out->len, out->src, out->dst, DHCP_CLIENT_PORT, DHCP_SERVER_PORT);
}

static int send_broadcast(struct lease_entry *e, const struct dhcp_output *out)
{
	uint8_t datagram[DHCP_PACKET_HEADROOM + DHCP_OUTPUT_MAX];
	int r;

	if (e->packet.fd < 0 && (r = open_packet_socket(e)) < 0)
		return r;
	refresh_filter(e);
	return podnet_packet_send(e->packet.fd, e->ifindex, datagram, frame(out, datagram));
}

/* Unicast from the leased address. When the address is not on the pod's interface
 * (any more), the same datagram goes out of the packet socket instead. */
static int send_unicast(struct lease_entry *e, const struct dhcp_output *out)
{
	/* RFC 2131 4.1: "when 'giaddr' is zero, the server broadcasts any DHCPNAK" (dnsmasq
	 * does): a renewal's NAK never reaches the UDP socket bound to the leased address,
	 * so the packet socket listens too. Without it the ACKs still come. */
	if (e->client.state == DHCP_STATE_RENEWING && e->packet.fd < 0)
		open_packet_socket(e);
	if (e->udp.fd < 0) {
		int fd = podnet_udp_socket(e->netns_path, e->ifname, out->src, out->dst);
		/* The leased address was taken off the pod: the server answers a renewal to
		 * that address, which nobody would claim (ARP). The lease is still ours: put
		 * it back (with its routes) first. */
		if (fd == -EADDRNOTAVAIL && e->client.state == DHCP_STATE_RENEWING &&
		    ensure_address(e, dhcp_client_lease(&e->client), loop_now_ms()) == 0)
			fd = podnet_udp_socket(e->netns_path, e->ifname, out->src, out->dst);
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
	uint8_t datagram[DHCP_PACKET_HEADROOM + DHCP_OUTPUT_MAX];
	char dst[INET_ADDRSTRLEN];
	int r;

	if (e->pod_gone)
		r = podnet_send_via_master(e->master, datagram, frame(out, datagram));
	else
		r = out->transport == DHCP_SEND_UNICAST ? send_unicast(e, out) : send_broadcast(e, out);
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

	/* RENEWING hears broadcast NAKs there (send_unicast). */
	if (!broadcasting && s != DHCP_STATE_RENEWING)
		lease_close_source(e->d, &e->packet);
	if (s != DHCP_STATE_RENEWING)
		lease_close_source(e->d, &e->udp);
}

/* ---- the pod's address ---- */

static struct ip_prefix lease_prefix(const struct dhcp_lease *lease)
{
	return (struct ip_prefix){ .addr = { .family = AF_INET, .v4 = lease->address }, .len = lease->prefix_len };
}

/* Seconds the address may live: to the end of the lease. */
static uint32_t remaining_s(const struct dhcp_lease *lease, uint64_t now)
{
	uint64_t expiry = dhcp_lease_expiry(lease);

	if (expiry == UINT64_MAX)
		return DHCP_LEASE_INFINITE;
	return expiry > now ? (uint32_t)((expiry - now + 999) / 1000) : 1;
}

static void schedule_sync(struct lease_entry *e, uint64_t at, bool create)
{
	e->sync_at = at;
	e->sync_tries = 0;
	e->sync_create = create;
}

/* Address and routes as the lease says, created if missing. */
static int ensure_address(struct lease_entry *e, const struct dhcp_lease *lease, uint64_t now)
{
	struct cni_result result;
	int r = dhcp_lease_to_result(lease, e->priority, &result);

	if (r < 0)
		return r;
	r = podnet_address_ensure(e->netns_path, e->ifname, &result, remaining_s(lease, now));
	cni_result_free(&result);
	return r;
}

void lease_sync_address(struct lease_entry *e, uint64_t now)
{
	const struct dhcp_lease *lease = dhcp_client_lease(&e->client);
	char addr[IP_PREFIX_STRLEN];
	int r;

	e->sync_at = UINT64_MAX;
	if (!lease || e->pod_gone)
		return;
	struct ip_prefix prefix = lease_prefix(lease);
	if (e->sync_create)
		r = ensure_address(e, lease, now);
	else
		r = podnet_address_lifetime(e->netns_path, e->ifname, &prefix, remaining_s(lease, now));
	if (r == -ENOENT && ++e->sync_tries < SYNC_TRIES) {
		e->sync_at = now + SYNC_RETRY_MS;
		return;
	}
	if (r == -ENODEV || (r == -ENOENT && podnet_exists(e->netns_path) < 0)) {
		/* Interface or namespace gone: only the master still reaches the server. */
		e->pod_gone = true;
		lease_release(e, now, "its pod interface is gone");
		return;
	}
	if (r < 0) {
		ip_prefix_format(&prefix, addr);
		daemon_log("%s: cannot tie %s on %s to the lease: %s", e->key, addr, e->ifname, strerror(-r));
	}
}

static void move_address(struct lease_entry *e, const struct ip_prefix *old, uint64_t now)
{
	const struct dhcp_lease *lease = dhcp_client_lease(&e->client);
	char from[IP_PREFIX_STRLEN], to[IP_PREFIX_STRLEN];

	if (!lease)
		return;
	struct ip_prefix new_prefix = lease_prefix(lease);
	ip_prefix_format(old, from);
	ip_prefix_format(&new_prefix, to);
	/* The old address goes first, and the routes through it with it. */
	int r = podnet_address_remove(e->netns_path, e->ifname, old);
	if (r == 0)
		r = ensure_address(e, lease, now);
	if (r < 0)
		daemon_log("%s: moving the pod from %s to %s failed: %s", e->key, from, to, strerror(-r));
	else
		daemon_log("%s: the pod's address is now %s (was %s)", e->key, to, from);
}

/* ---- answers ---- */

void lease_answer_waiters(struct lease_entry *e, json_t *response)
{
	for (size_t i = 0; i < e->n_waiters; i++)
		conn_reply(e->waiters[i], json_incref(response));
	e->n_waiters = 0;
	json_decref(response);
}

json_t *lease_result_json(struct lease_entry *e, struct cni_error *err)
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

	lease_answer_waiters(e, result ? json_pack("{s:o}", "result", result) : rpc_error_json(&err));
}

/* "no DHCPOFFER after 4 DHCPDISCOVERs in 10 s", where, and what to look at. */
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
	lease_answer_waiters(e, rpc_error_json(&err));
	e->dead = true;
}

/* ---- events ---- */

static void on_bound(struct lease_entry *e, const struct dhcp_event *ev, const struct ip_prefix *before, uint64_t now)
{
	bool first = e->n_waiters > 0;

	lease_record_save(e);
	if (first) {
		answer_bound(e);
		schedule_sync(e, now + SYNC_FIRST_DELAY_MS, false);
	} else if (ev->type == DHCP_EVENT_ADDRESS_CHANGED && before) {
		move_address(e, before, now);
	} else {
		schedule_sync(e, now, true);
	}
}

/* On expiry the kernel drops it at the same moment (its lifetime is the lease's); this
 * makes sure of it if the lifetime could not be set. */
static void drop_address(struct lease_entry *e, const struct ip_prefix *lost, const char *why)
{
	char addr[IP_PREFIX_STRLEN];

	ip_prefix_format(lost, addr);
	if (podnet_address_remove(e->netns_path, e->ifname, lost) == 0)
		daemon_log("%s: removed %s from %s: %s", e->key, addr, e->ifname, why);
}

static void handle_event(struct lease_entry *e, const struct dhcp_event *ev, const struct ip_prefix *before,
			 uint64_t now)
{
	daemon_log("%s: %s: %s", e->key, dhcp_event_name(ev->type), ev->reason);
	switch (ev->type) {
	case DHCP_EVENT_GRANTED:
		if (e->arp_probe_ms)
			lease_probe_start(e, now);
		else
			dhcp_client_accept(&e->client, now);
		break;
	case DHCP_EVENT_BOUND:
	case DHCP_EVENT_RENEWED:
	case DHCP_EVENT_ADDRESS_CHANGED:
		on_bound(e, ev, before, now);
		break;
	case DHCP_EVENT_FAILED:
		answer_failed(e, ev->reason);
		break;
	case DHCP_EVENT_EXPIRED:
		if (before)
			drop_address(e, before, "its lease ended");
		break;
	case DHCP_EVENT_LOST:
		/* RFC 2131 4.4.5 (figure 5: DHCPNAK / "Halt network"): the server may have
		 * given it to another host. A DHCPACK for it puts it back. */
		if (before)
			drop_address(e, before, "the server refused the lease");
		lease_record_save(e);
		break;
	}
}

/* Sends what the engine queued and acts on its events until it is quiet. */
void lease_pump(struct lease_entry *e, uint64_t now)
{
	struct dhcp_output out;
	struct dhcp_event ev;
	/* The last lease the pod had, to move it or remove it when it changes. */
	const struct dhcp_lease *held = e->client.lease.ack ? &e->client.lease : NULL;
	struct ip_prefix before = held ? lease_prefix(held) : (struct ip_prefix){ 0 };

	for (;;) {
		if (dhcp_client_pop_output(&e->client, &out))
			send_output(e, &out);
		else if (dhcp_client_pop_event(&e->client, &ev))
			handle_event(e, &ev, held ? &before : NULL, now);
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
		lease_pump(e, now);
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
		lease_pump(e, now);
	}
}

void lease_release(struct lease_entry *e, uint64_t now, const char *why)
{
	struct cni_error err = { 0 };

	/* The record goes first: a daemon killed now must not bring the lease back. */
	lease_record_remove(e);
	lease_probe_stop(e);
	dhcp_client_release(&e->client, now);
	lease_pump(e, now);
	/* An ADD waiting for the lease hears of it only now: its plugin then deletes the
	 * pod's interface, which the DHCPRELEASE of a grant being probed goes out of. */
	cni_error_set(&err, CNI_ERR_DHCP, "%s: released before a lease was bound", e->key);
	lease_answer_waiters(e, rpc_error_json(&err));
	daemon_log("%s: released (%s)", e->key, why);
	e->dead = true;
}
