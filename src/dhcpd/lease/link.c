#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "dhcp4/packet.h"
#include "dhcp4/protocol.h"
#include "dhcpd/closer.h"
#include "dhcpd/lease/link.h"
#include "dhcpd/log.h"
#include "dhcpd/podnet.h"

/* Frames read per wake-up of one socket, so one busy link cannot starve the rest. */
#define READ_BUDGET 16
/* Dropped frames logged per lease: this many in this window, then a count. */
#define DROPPED_LOG_BURST 10
#define DROPPED_LOG_WINDOW_MS 10000

static void on_packet(struct loop_source *source, uint32_t events);
static void on_udp(struct loop_source *source, uint32_t events);

void link_init(struct lease_link *link, struct loop *loop, const char *key, const char *netns_path,
	       const char *ifname, const char *master, int ifindex, const uint8_t mac[6], link_payload_fn on_payload,
	       void *ctx)
{
	*link = (struct lease_link){
		.state = LINK_IDLE,
		.loop = loop,
		.key = key,
		.netns_path = netns_path,
		.ifname = ifname,
		.master = master,
		.ifindex = ifindex,
		.packet = { .fd = -1 },
		.udp = { .fd = -1 },
		.on_payload = on_payload,
		.ctx = ctx,
		.dropped_log = RATELIMIT_INIT(DROPPED_LOG_WINDOW_MS, DROPPED_LOG_BURST),
	};
	memcpy(link->mac, mac, sizeof(link->mac));
}

/* ---- sockets ---- */

static int open_packet(struct lease_link *link)
{
	int fd;

	if (link->packet.fd >= 0)
		return 0;
	fd = podnet_packet_socket(link->netns_path, link->ifindex, link->xid, link->mac);
	if (fd < 0)
		return fd;
	link->filter_xid = link->xid;
	return closer_watch(link->loop, &link->packet, fd, on_packet, link);
}

/* The socket's filter passes one transaction; the xid changes per exchange. */
static void refresh_filter(struct lease_link *link)
{
	if (link->packet.fd < 0 || link->filter_xid == link->xid)
		return;
	if (podnet_packet_filter(link->packet.fd, link->xid, link->mac) == 0)
		link->filter_xid = link->xid;
}

static int open_udp(struct lease_link *link, const struct dhcp_output *out)
{
	int fd;

	if (link->udp.fd >= 0)
		return 0;
	fd = podnet_udp_socket(link->netns_path, link->ifname, out->src, out->dst);
	return fd < 0 ? fd : closer_watch(link->loop, &link->udp, fd, on_udp, link);
}

/* ---- states ---- */

static enum link_state state_for(enum dhcp_client_state client)
{
	switch (client) {
	case DHCP_STATE_STOPPED:
	case DHCP_STATE_GRANTED:
	case DHCP_STATE_BOUND:
		return LINK_IDLE;
	case DHCP_STATE_INIT:
	case DHCP_STATE_SELECTING:
	case DHCP_STATE_REQUESTING:
	case DHCP_STATE_INIT_REBOOT:
	case DHCP_STATE_REBOOTING:
	case DHCP_STATE_REBINDING:
		return LINK_BROADCAST;
	case DHCP_STATE_RENEWING:
		return LINK_RENEWING;
	}
	return LINK_IDLE;
}

/* Closes what `state` does not hold; while renewing the packet socket listens too:
 * RFC 2131 4.1, "when 'giaddr' is zero, the server broadcasts any DHCPNAK" (dnsmasq
 * does), and a broadcast never reaches the UDP socket bound to the leased address. */
static void enter(struct lease_link *link, enum link_state state)
{
	switch (state) {
	case LINK_IDLE:
	case LINK_VIA_MASTER:
		closer_unwatch(link->loop, &link->packet);
		closer_unwatch(link->loop, &link->udp);
		break;
	case LINK_BROADCAST:
		closer_unwatch(link->loop, &link->udp);
		break;
	case LINK_RENEWING:
		if (open_packet(link) < 0)
			log_debug("%s: no packet socket while renewing: a broadcast DHCPNAK goes unheard", link->key);
		break;
	}
	link->state = state;
}

void link_follow(struct lease_link *link, enum dhcp_client_state client, uint32_t xid)
{
	link->xid = xid;
	/* Entered again in the same state too: a packet socket that could not be opened
	 * for a renewal is tried again at its next message. */
	if (link->state != LINK_VIA_MASTER)
		enter(link, state_for(client));
	refresh_filter(link);
}

void link_lose_pod(struct lease_link *link)
{
	enter(link, LINK_VIA_MASTER);
}

void link_close(struct lease_link *link)
{
	enter(link, LINK_IDLE);
}

/* ---- sending ---- */

static size_t frame(const struct dhcp_output *out, uint8_t datagram[DHCP_PACKET_HEADROOM + DHCP_OUTPUT_MAX])
{
	return dhcp_packet_frame(datagram, out->data, out->len, out->src, out->dst, DHCP_CLIENT_PORT, DHCP_SERVER_PORT);
}

/* A socket the state does not keep is opened for one send only. */
static void close_unkept(struct lease_link *link)
{
	if (link->state == LINK_IDLE)
		closer_unwatch(link->loop, &link->packet);
	if (link->state != LINK_RENEWING)
		closer_unwatch(link->loop, &link->udp);
}

static int send_framed(struct lease_link *link, const uint8_t *to, const struct dhcp_output *out)
{
	uint8_t datagram[DHCP_PACKET_HEADROOM + DHCP_OUTPUT_MAX];
	int r = open_packet(link);

	if (r == 0) {
		refresh_filter(link);
		r = podnet_packet_send(link->packet.fd, link->ifindex, to, datagram, frame(out, datagram));
	}
	close_unkept(link);
	return r;
}

int link_broadcast(struct lease_link *link, const struct dhcp_output *out)
{
	return send_framed(link, NULL, out);
}

void link_remember_server(struct lease_link *link)
{
	static const uint8_t none[6];

	if (memcmp(link->last_from, none, sizeof(none)) != 0)
		memcpy(link->server_mac, link->last_from, sizeof(link->server_mac));
}

void link_know_server(struct lease_link *link, const uint8_t mac[6])
{
	memcpy(link->server_mac, mac, sizeof(link->server_mac));
}

bool link_knows_server(const struct lease_link *link)
{
	static const uint8_t none[6];
	return memcmp(link->server_mac, none, sizeof(none)) != 0;
}

int link_frame_to_server(struct lease_link *link, const struct dhcp_output *out)
{
	return send_framed(link, link_knows_server(link) ? link->server_mac : NULL, out);
}

int link_renew_via_server_mac(struct lease_link *link, const struct dhcp_output *out)
{
	int r = open_udp(link, out);
	return r < 0 ? r : link_frame_to_server(link, out);
}

static int send_unicast(struct lease_link *link, const struct dhcp_output *out)
{
	int r = open_udp(link, out);

	if (r == 0 && send(link->udp.fd, out->data, out->len, MSG_DONTWAIT) < 0)
		r = -errno;
	close_unkept(link);
	return r;
}

int link_send(struct lease_link *link, const struct dhcp_output *out)
{
	uint8_t datagram[DHCP_PACKET_HEADROOM + DHCP_OUTPUT_MAX];

	if (link->state == LINK_VIA_MASTER)
		return podnet_send_via_master(link->master, datagram, frame(out, datagram));
	switch (out->transport) {
	case DHCP_SEND_BROADCAST:
		return link_broadcast(link, out);
	case DHCP_SEND_UNICAST:
		return send_unicast(link, out);
	}
	return -EINVAL;
}

/* ---- receiving ---- */

static void log_dropped(struct lease_link *link, enum dhcp_packet_error error)
{
	uint64_t now = loop_now_ms();
	unsigned unlogged = ratelimit_flush(&link->dropped_log, now);

	if (unlogged)
		log_debug("%s: %u more dropped frames not logged in the last %d s", link->key, unlogged,
			  DROPPED_LOG_WINDOW_MS / 1000);
	if (ratelimit_pass(&link->dropped_log, now))
		log_debug("%s: dropped a frame: %s", link->key, dhcp_packet_error_name(error));
}

static void on_packet(struct loop_source *source, uint32_t events)
{
	struct lease_link *link = source->data;
	uint8_t buf[DHCP_PACKET_HEADROOM + DHCP_MESSAGE_MAX], from[6];
	const uint8_t *payload;
	size_t payload_len;
	bool partial;
	(void)events;

	/* The payload's handler may close this socket (the exchange is over). */
	for (int budget = READ_BUDGET; budget > 0 && link->packet.fd >= 0; budget--) {
		ssize_t n = podnet_packet_recv(link->packet.fd, buf, sizeof(buf), &partial, from);
		if (n == 0)
			continue;
		if (n < 0)
			break;
		enum dhcp_packet_error pe = dhcp_packet_unframe(buf, (size_t)n, partial, &payload, &payload_len);
		if (pe != DHCP_PACKET_OK) {
			log_dropped(link, pe);
			continue;
		}
		memcpy(link->last_from, from, sizeof(link->last_from));
		link->on_payload(link->ctx, payload, payload_len);
	}
}

static void on_udp(struct loop_source *source, uint32_t events)
{
	struct lease_link *link = source->data;
	uint8_t buf[DHCP_MESSAGE_MAX];
	(void)events;

	for (int budget = READ_BUDGET; budget > 0 && link->udp.fd >= 0; budget--) {
		ssize_t n = recv(link->udp.fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0)
			break;
		link->on_payload(link->ctx, buf, (size_t)n);
	}
}
