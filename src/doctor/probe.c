#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "dhcp4/message.h"
#include "dhcp4/options.h"
#include "dhcp4/packet.h"
#include "dhcp4/protocol.h"
#include "dhcpd/podnet.h"
#include "doctor/probe.h"
#include "doctor/scratch.h"
#include "rtnl/link.h"
#include "rtnl/socket.h"
#include "util/macro.h"

#define PROBE_IFNAME "probe0"

/* What the probe asks for: what a pod's lease needs, and the lease time the report
 * shows (servers send option 51 in any case; asking costs nothing). */
static const uint8_t probe_request_list[] = {
	DHCP_OPTION_SUBNET_MASK,
	DHCP_OPTION_ROUTER,
	DHCP_OPTION_DOMAIN_NAME_SERVER,
	DHCP_OPTION_DOMAIN_NAME,
	DHCP_OPTION_DOMAIN_SEARCH,
	DHCP_OPTION_CLASSLESS_STATIC_ROUTE,
	DHCP_OPTION_IP_ADDRESS_LEASE_TIME,
};

struct probe {
	int netns;
	char netns_path[32];
	int ifindex;
	unsigned mtu;
	int fd;
	uint64_t started_ms;
	struct probe_result *out;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A MAC that is locally administered and unicast (no vendor assigned it, so it is no
 * one else's), and the transaction id. */
static int random_ids(uint8_t mac[MAC_LEN], uint32_t *xid)
{
	uint8_t bytes[MAC_LEN + sizeof(*xid)];

	if (getrandom(bytes, sizeof(bytes), 0) != sizeof(bytes))
		return -errno;
	memcpy(mac, bytes, MAC_LEN);
	mac[0] = (uint8_t)((mac[0] & ~0x01) | 0x02);
	memcpy(xid, bytes + MAC_LEN, sizeof(*xid));
	return 0;
}

/* The macvlan, made directly in the probe's namespace (never in ours), and up. */
static int make_link(struct probe *p, const char *master, struct cni_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *here = nl_route_socket(-1);
	_cleanup_nl_sock_ struct nl_sock *there = nl_route_socket(p->netns);
	struct macvlan_spec spec = { .target_netns = p->netns, .name = PROBE_IFNAME, .mode = MACVLAN_MODE_PRIVATE,
				     .has_mac = true };
	struct link_info link;
	int r;

	if (!here || !there)
		return cni_error_set(err, CNI_ERR_NETLINK, "cannot open netlink: %s", strerror(errno));
	r = link_get_by_name(here, master, &link);
	if (r < 0)
		return cni_error_set(err, CNI_ERR_NETLINK, "cannot read master %s: %s", master, strerror(-r));
	spec.master_index = link.index;
	memcpy(spec.mac, p->out->mac, MAC_LEN);
	r = link_add_macvlan(here, &spec);
	if (r == 0)
		r = link_get_by_name(there, PROBE_IFNAME, &link);
	if (r == 0)
		r = link_set_up(there, link.index);
	if (r < 0)
		return cni_error_set(err, CNI_ERR_NETLINK, "cannot make a macvlan on %s: %s", master, strerror(-r));
	p->ifindex = link.index;
	p->mtu = link.mtu;
	return 0;
}

/* RFC 2131 4.4.1: a DHCPDISCOVER from INIT. No broadcast flag: how each server
 * answers (broadcast or unicast to the offered address) is part of the report. */
static size_t build_discover(const struct probe *p, uint16_t secs, uint8_t *out, size_t cap)
{
	uint8_t payload[DHCP_MESSAGE_MAX];
	struct dhcp_header h = {
		.op = BOOTREQUEST,
		.htype = ARPHRD_ETHER_TYPE,
		.hlen = MAC_LEN,
		.xid = htonl(p->out->xid),
		.secs = htons(secs),
	};
	struct dhcp_builder b;
	unsigned max_message = p->mtu < DHCP_MESSAGE_MAX ? p->mtu : DHCP_MESSAGE_MAX;

	memcpy(h.chaddr, p->out->mac, MAC_LEN);
	dhcp_builder_init(&b, payload, sizeof(payload), &h, DHCPDISCOVER);
	dhcp_builder_put(&b, DHCP_OPTION_PARAMETER_REQUEST_LIST, probe_request_list, sizeof(probe_request_list));
	if (max_message >= DHCP_MIN_MAX_MESSAGE)
		dhcp_builder_put_u16(&b, DHCP_OPTION_MAXIMUM_MESSAGE_SIZE, (uint16_t)max_message);
	if (dhcp_builder_finish(&b) < 0 || DHCP_PACKET_HEADROOM + b.len > cap)
		return 0;
	return dhcp_packet_frame(out, payload, b.len, (struct in_addr){ INADDR_ANY },
				 (struct in_addr){ INADDR_BROADCAST }, DHCP_CLIENT_PORT, DHCP_SERVER_PORT);
}

static int send_discover(struct probe *p, uint16_t secs)
{
	uint8_t datagram[DHCP_PACKET_HEADROOM + DHCP_MESSAGE_MAX];
	size_t len = build_discover(p, secs, datagram, sizeof(datagram));

	if (!len)
		return -EMSGSIZE;
	int r = podnet_packet_send(p->fd, p->ifindex, NULL, datagram, len);
	if (r == 0)
		p->out->discovers++;
	return r;
}

/* The server's entry: one per server identifier and source MAC. */
static struct probe_server *server_of(struct probe_result *out, struct in_addr server_id, const uint8_t mac[MAC_LEN])
{
	for (size_t i = 0; i < out->n_servers; i++)
		if (out->servers[i].server_id.s_addr == server_id.s_addr &&
		    memcmp(out->servers[i].mac, mac, MAC_LEN) == 0)
			return &out->servers[i];
	struct probe_server *s = array_append(&out->servers, &out->n_servers, sizeof(*s));
	if (s) {
		s->server_id = server_id;
		memcpy(s->mac, mac, MAC_LEN);
	}
	return s;
}

static size_t get_addresses(const struct dhcp_message *msg, uint8_t code, struct in_addr *into, size_t max)
{
	_cleanup_free_ struct in_addr *addrs = NULL;
	const uint8_t *data;
	size_t len, count = 0;

	if (dhcp_message_get(msg, code, &data, &len) < 0 || dhcp_decode_addresses(data, len, &addrs, &count) < 0)
		return 0;
	count = count < max ? count : max;
	memcpy(into, addrs, count * sizeof(*into));
	return count;
}

static void take_offer(struct probe_server *s, const struct dhcp_message *msg)
{
	struct in_addr mask;

	s->address.s_addr = msg->header.yiaddr;
	if (dhcp_message_get_addr(msg, DHCP_OPTION_SUBNET_MASK, &mask) == 0) {
		s->prefix_len = (uint8_t)__builtin_popcount(mask.s_addr);
	} else {
		s->prefix_len = dhcp_classful_prefix(s->address);
		s->prefix_classful = true;
	}
	s->has_lease_time = dhcp_message_get_u32(msg, DHCP_OPTION_IP_ADDRESS_LEASE_TIME, &s->lease_s) == 0;
	s->n_routers = get_addresses(msg, DHCP_OPTION_ROUTER, s->routers, PROBE_LIST_MAX);
	s->n_dns = get_addresses(msg, DHCP_OPTION_DOMAIN_NAME_SERVER, s->dns, PROBE_LIST_MAX);
}

static void take_nak(struct probe_server *s, const struct dhcp_message *msg)
{
	const uint8_t *text;
	size_t len;

	if (!s->message[0] && dhcp_message_get(msg, DHCP_OPTION_MESSAGE, &text, &len) == 0)
		snprintf(s->message, sizeof(s->message), "%.*s", (int)len, (const char *)text);
}

/* One reply, already past the socket's filter (our xid and MAC, a BOOTREPLY). */
static void take_reply(struct probe *p, const uint8_t *datagram, size_t len, bool checksum_partial,
		       const uint8_t from[MAC_LEN])
{
	static struct dhcp_message msg; /* 4 KiB of values: not on the stack */
	const uint8_t *payload;
	size_t payload_len;
	struct in_addr server_id = { 0 }, source, destination;

	if (dhcp_packet_unframe(datagram, len, checksum_partial, &payload, &payload_len) != DHCP_PACKET_OK ||
	    dhcp_message_parse(payload, payload_len, &msg) != DHCP_PARSE_OK)
		return;
	uint8_t type = dhcp_message_type(&msg);
	if (type != DHCPOFFER && type != DHCPNAK)
		return;
	dhcp_message_get_addr(&msg, DHCP_OPTION_SERVER_IDENTIFIER, &server_id);
	struct probe_server *s = server_of(p->out, server_id, from);
	if (!s)
		return;
	if (!s->offers && !s->naks) {
		/* IPv4 header: source at octet 12, destination at 16. */
		memcpy(&source, datagram + 12, sizeof(source));
		memcpy(&destination, datagram + 16, sizeof(destination));
		s->source = source;
		s->unicast = destination.s_addr != INADDR_BROADCAST;
		s->rtt_ms = (uint32_t)(now_ms() - p->started_ms);
	}
	if (type == DHCPOFFER && !s->offers++)
		take_offer(s, &msg);
	if (type == DHCPNAK && !s->naks++)
		take_nak(s, &msg);
}

static void drain(struct probe *p)
{
	uint8_t buf[DHCP_PACKET_HEADROOM + DHCP_MESSAGE_MAX];
	uint8_t from[MAC_LEN];
	bool partial;
	ssize_t n;

	while ((n = podnet_packet_recv(p->fd, buf, sizeof(buf), &partial, from)) != -EAGAIN)
		if (n > 0)
			take_reply(p, buf, (size_t)n, partial, from);
		else if (n < 0 && n != -EINTR)
			return;
}

/* Sends at PROBE_SEND_MS and listens until `listen_ms`. */
static int exchange(struct probe *p, int64_t listen_ms, struct cni_error *err)
{
	static const int64_t send_at[] = PROBE_SEND_MS;
	size_t sent = 0;
	int64_t elapsed;

	p->started_ms = now_ms();
	while ((elapsed = (int64_t)(now_ms() - p->started_ms)) < listen_ms) {
		if (sent < ARRAY_SIZE(send_at) && send_at[sent] <= elapsed) {
			int r = send_discover(p, (uint16_t)(send_at[sent] / 1000));
			if (r < 0)
				return cni_error_set(err, CNI_ERR_DHCP, "cannot send a DHCPDISCOVER on %s: %s",
						     PROBE_IFNAME, strerror(-r));
			sent++;
			continue;
		}
		int64_t until = sent < ARRAY_SIZE(send_at) && send_at[sent] < listen_ms ? send_at[sent] : listen_ms;
		struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
		if (poll(&pfd, 1, (int)(until - elapsed)) > 0)
			drain(p);
	}
	p->out->listen_ms = listen_ms;
	return 0;
}

int probe_run(const char *master, int64_t listen_ms, struct probe_result *out, struct cni_error *err)
{
	struct probe p = { .out = out, .fd = -1 };
	int r;

	*out = (struct probe_result){ 0 };
	if ((r = random_ids(out->mac, &out->xid)) < 0)
		return cni_error_set(err, CNI_ERR_IO, "cannot read random bytes for a MAC: %s", strerror(-r));
	p.netns = scratch_netns_open();
	if (p.netns < 0) {
		cni_error_set(err, CNI_ERR_NETNS, "cannot make a network namespace for the probe: %s",
			      strerror(-p.netns));
		cni_error_details(err, "run the doctor as root (CAP_SYS_ADMIN, CAP_NET_ADMIN), or skip the probe with "
				       "--no-probe");
		return -1;
	}
	scratch_netns_path(p.netns, p.netns_path, sizeof(p.netns_path));
	r = make_link(&p, master, err);
	if (r == 0 && (p.fd = podnet_packet_socket(p.netns_path, p.ifindex, out->xid, out->mac)) < 0)
		r = cni_error_set(err, CNI_ERR_IO, "cannot open a packet socket on the probe's macvlan: %s",
				  strerror(-p.fd));
	if (r == 0) {
		out->ran = true;
		r = exchange(&p, listen_ms, err);
	}
	if (p.fd >= 0)
		close(p.fd);
	/* The last reference: the kernel deletes the namespace and the macvlan in it. */
	close(p.netns);
	return r;
}
