/* The lease object's world in a unit test (test_lease.c, test_lease_record.c):
 *
 *   - a FAKE of the pod side, src/dhcpd/podnet.h. The podnet_* functions below are
 *     real definitions, not static: the linker takes them and never pulls podnet.o
 *     out of libdhcp.a. So include this header from ONE test file per binary (the
 *     Makefile links each test_*.c alone). Sockets are real file descriptors (one end
 *     of an AF_UNIX SOCK_SEQPACKET pair: the other end sees the close as POLLHUP, so
 *     a test can tell which sockets the lease holds) that the lease adds to a real
 *     epoll loop. Every datagram, ARP packet and address call is recorded, failures
 *     are scripted per function;
 *   - an owner (struct lease_owner) that records what the lease tells it;
 *   - a fixture that builds a lease as the daemon would and drives it with explicit
 *     times.
 *
 * One trace line orders everything that crosses the seam or reaches the owner, e.g.
 * "forget udp-socket udp:DHCPRELEASE answer:failed ended"; a scripted failure shows
 * as "udp-socket=EADDRNOTAVAIL". */
#pragma once

#include "dhcp_helpers.h"
#include "helpers.h"

#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sys/socket.h>

#include "cni/result.h"
#include "dhcp4/acd.h"
#include "dhcp4/packet.h"
#include "dhcpd/lease/lease.h"
#include "dhcpd/lease/record.h"
#include "dhcpd/log.h"
#include "dhcpd/loop.h"
#include "dhcpd/podnet.h"

/* ---- the attachment every test uses ---- */

#define FX_CONTAINER "ctr-1"
#define FX_NETWORK "lan"
#define FX_IFNAME "eth0"
#define FX_KEY "ctr-1/lan/eth0"
#define FX_NETNS "/var/run/netns/pod-1"
#define FX_NETNS_PATH "/host/var/run/netns/pod-1"
#define FX_MASTER "ens9"
#define FX_IFINDEX 7
#define FX_NETNS_INO 4026532555u

/* The server, and what it grants. */
#define SERVER "192.0.2.1"
#define ADDR "192.0.2.100"
#define PREFIX "192.0.2.100/24"
#define ROUTER "192.0.2.254"
#define DNS "192.0.2.53"
#define LEASE_S 1000 /* T1 at 500 s, T2 at 875 s */

#define S(seconds) ((uint64_t)(seconds) * 1000)

/* 55 (1 3 6 15 119 121) and 57 (1500), as client_config.c encodes them. */
static const uint8_t fx_request_options[] = { 55, 6, 1, 3, 6, 15, 119, 121, 57, 2, 0x05, 0xdc };
/* Another host on the link. */
static const uint8_t other_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x99 };

/* ---- the fake pod ---- */

enum via { VIA_PACKET, VIA_UDP, VIA_MASTER };

static inline const char *via_name(enum via via)
{
	return via == VIA_PACKET ? "packet" : via == VIA_UDP ? "udp" : "master";
}

/* One DHCP message the lease sent. For the packet socket and the master, src/dst and
 * the ports are read from the IPv4/UDP framing; for the UDP socket they are what it
 * was bound and connected to. */
struct sent_dgram {
	enum via via;
	struct in_addr src, dst;
	uint16_t src_port, dst_port;
	int ifindex;           /* packet socket: the link it went out of */
	uint32_t filter_xid;   /* packet socket: the transaction its filter passed then */
	uint8_t to[6];         /* packet socket: the destination MAC; all ones: broadcast */
	char master[IFNAMSIZ]; /* master: which */
	uint8_t *payload;
	size_t len;
	struct dhcp_message *msg;
};

enum fake_kind { FAKE_PACKET, FAKE_UDP, FAKE_ARP };

struct fake_sock {
	enum fake_kind kind;
	int fd;   /* the lease's end */
	int peer; /* ours */
	bool closed;
	struct in_addr local, server; /* UDP */
	uint32_t xid;                 /* packet: the filter's transaction */
};

/* Return values handed out in order, then `otherwise` (0 unless a test sets it). */
struct script {
	int values[32];
	unsigned n, next;
	int otherwise;
};

enum addr_op { ADDR_LIFETIME, ADDR_ENSURE, ADDR_REMOVE };

struct addr_call {
	enum addr_op op;
	char prefix[IP_PREFIX_STRLEN];
	uint32_t valid_s;              /* lifetime, ensure */
	char gateway[INET6_ADDRSTRLEN]; /* ensure: the result's gateway, "" when none */
	size_t n_routes;               /* ensure */
	int ret;
};

struct arp_sent {
	uint8_t data[ACD_ARP_LEN];
	int ifindex;
};

#define FAKE_SOCKS_N 128
#define FAKE_SENT_N 128
#define FAKE_CALLS_N 64
#define FAKE_ARP_N 32

struct fake_pod {
	struct fake_sock socks[FAKE_SOCKS_N];
	size_t n_socks;
	struct sent_dgram *sent[FAKE_SENT_N];
	size_t n_sent;
	struct addr_call calls[FAKE_CALLS_N];
	size_t n_calls;
	struct arp_sent arp[FAKE_ARP_N];
	size_t n_arp;
	struct script packet_socket, packet_send, udp_socket, arp_socket, arp_send, lifetime, ensure, remove, exists,
		via_master, host_route;
	/* What the lease must ask for: the fixture's attachment. */
	const char *netns_path;
	const char *ifname;
	const char *master;
	int ifindex;
	uint8_t mac[6];
	uint8_t server_mac[6]; /* the source of the frames the fake server sends; zero: unknown */
	uint64_t netns_ino;    /* the namespace at netns_path now */
	char trace[8192];
};

static struct fake_pod pod;

__attribute__((format(printf, 1, 2))) static inline void trace(const char *fmt, ...)
{
	size_t used = strlen(pod.trace);
	va_list ap;

	if (used && used < sizeof(pod.trace) - 1)
		pod.trace[used++] = ' ';
	va_start(ap, fmt);
	vsnprintf(pod.trace + used, sizeof(pod.trace) - used, fmt, ap);
	va_end(ap);
}

static inline void trace_clear(void)
{
	pod.trace[0] = '\0';
}

/* "=EADDRNOTAVAIL" after a traced call that failed, "" otherwise. */
static inline const char *err_suffix(int r, char buf[64])
{
	const char *name = r < 0 ? strerrorname_np(-r) : NULL;

	if (r >= 0)
		buf[0] = '\0';
	else
		snprintf(buf, 64, "=%s", name ? name : "?");
	return buf;
}

static inline void script_push(struct script *s, int value)
{
	assert_true(s->n < DH_N_ELEMENTS(s->values));
	s->values[s->n++] = value;
}

static inline int script_next(struct script *s)
{
	return s->next < s->n ? s->values[s->next++] : s->otherwise;
}

static inline void record_payload(struct sent_dgram *d, const uint8_t *payload, size_t len)
{
	enum dhcp_parse_error e;

	d->payload = malloc(len ? len : 1);
	d->msg = malloc(sizeof(*d->msg));
	assert_non_null(d->payload);
	assert_non_null(d->msg);
	memcpy(d->payload, payload, len);
	d->len = len;
	e = dhcp_message_parse(payload, len, d->msg);
	if (e != DHCP_PARSE_OK)
		fail_msg("the lease sent a DHCP message that does not parse: %s", dhcp_parse_error_name(e));
	if (d->msg->header.op != BOOTREQUEST)
		fail_msg("the lease sent op %u, not BOOTREQUEST", d->msg->header.op);
}

static inline struct sent_dgram *new_sent(enum via via)
{
	struct sent_dgram *d = calloc(1, sizeof(*d));

	assert_non_null(d);
	assert_true(pod.n_sent < FAKE_SENT_N);
	d->via = via;
	pod.sent[pod.n_sent++] = d;
	return d;
}

/* A framed datagram (packet socket, master): the IPv4/UDP headers are checked by
 * dhcp_packet_unframe, which takes only datagrams to port 68; ours go to 67, so it
 * is given a copy with the ports swapped (the UDP checksum does not change when two
 * of its 16-bit words trade places). */
static inline struct sent_dgram *record_framed(enum via via, const uint8_t *datagram, size_t len)
{
	struct sent_dgram *d = new_sent(via);
	struct iphdr ip;
	struct udphdr udp;
	const uint8_t *payload;
	size_t payload_len;
	uint8_t *copy = malloc(len);
	enum dhcp_packet_error e;

	assert_non_null(copy);
	assert_true(len >= DHCP_PACKET_HEADROOM);
	memcpy(&ip, datagram, sizeof(ip));
	memcpy(&udp, datagram + IPV4_HEADER_LEN, sizeof(udp));
	d->src.s_addr = ip.saddr;
	d->dst.s_addr = ip.daddr;
	d->src_port = ntohs(udp.source);
	d->dst_port = ntohs(udp.dest);
	memcpy(copy, datagram, len);
	memcpy(copy + IPV4_HEADER_LEN, datagram + IPV4_HEADER_LEN + 2, 2);
	memcpy(copy + IPV4_HEADER_LEN + 2, datagram + IPV4_HEADER_LEN, 2);
	e = dhcp_packet_unframe(copy, len, false, &payload, &payload_len);
	if (e != DHCP_PACKET_OK) {
		free(copy);
		fail_msg("the lease sent a badly framed datagram: %s", dhcp_packet_error_name(e));
	}
	record_payload(d, payload, payload_len);
	free(copy);
	return d;
}

static inline struct fake_sock *new_sock(enum fake_kind kind)
{
	int pair[2];

	assert_true(pod.n_socks < FAKE_SOCKS_N);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, pair), 0);
	struct fake_sock *s = &pod.socks[pod.n_socks++];
	*s = (struct fake_sock){ .kind = kind, .fd = pair[0], .peer = pair[1] };
	return s;
}

/* Reads what the lease sent on its UDP sockets (send(2) on the fd podnet_udp_socket
 * gave it), and notes which sockets it closed. Runs first in every fake function
 * and owner callback, so the trace keeps the order things happened in. */
static inline void pod_refresh(void)
{
	uint8_t buf[DHCP_MESSAGE_MAX];

	for (size_t i = 0; i < pod.n_socks; i++) {
		struct fake_sock *s = &pod.socks[i];
		struct pollfd p = { .fd = s->peer, .events = POLLIN };
		ssize_t n;

		if (s->closed)
			continue;
		while (s->kind == FAKE_UDP && (n = recv(s->peer, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
			struct sent_dgram *d = new_sent(VIA_UDP);
			d->src = s->local;
			d->dst = s->server;
			d->src_port = DHCP_CLIENT_PORT;
			d->dst_port = DHCP_SERVER_PORT;
			record_payload(d, buf, (size_t)n);
			trace("udp:%s", dhcp_message_type_name(dhcp_message_type(d->msg)));
		}
		if (poll(&p, 1, 0) == 1 && (p.revents & POLLHUP)) {
			s->closed = true;
			close(s->peer);
			s->peer = -1;
		}
	}
}

/* The open socket of the lease's `fd`; fails the test when the lease uses an fd the
 * fake never gave it, or one it closed. */
static inline struct fake_sock *sock_of(int fd, enum fake_kind kind)
{
	for (size_t i = pod.n_socks; i-- > 0;)
		if (!pod.socks[i].closed && pod.socks[i].fd == fd && pod.socks[i].kind == kind)
			return &pod.socks[i];
	fail_msg("the lease used fd %d, which is no open socket of that kind", fd);
	return NULL;
}

/* The open socket of `kind` the lease holds (at most one), or NULL. */
static inline struct fake_sock *open_sock(enum fake_kind kind)
{
	struct fake_sock *found = NULL;

	pod_refresh();
	for (size_t i = 0; i < pod.n_socks; i++) {
		if (pod.socks[i].closed || pod.socks[i].kind != kind)
			continue;
		if (found)
			fail_msg("the lease holds two sockets of the same kind");
		found = &pod.socks[i];
	}
	return found;
}

#define packet_open() (open_sock(FAKE_PACKET) != NULL)
#define udp_open() (open_sock(FAKE_UDP) != NULL)
#define arp_open() (open_sock(FAKE_ARP) != NULL)

static inline void assert_pod_names(const char *netns_path, const char *ifname)
{
	assert_string_equal(netns_path, pod.netns_path);
	if (ifname)
		assert_string_equal(ifname, pod.ifname);
}

static inline struct addr_call *new_call(enum addr_op op, const char *netns_path, const char *ifname)
{
	assert_pod_names(netns_path, ifname);
	assert_true(pod.n_calls < FAKE_CALLS_N);
	struct addr_call *c = &pod.calls[pod.n_calls++];
	*c = (struct addr_call){ .op = op };
	return c;
}

static inline void pod_reset(void)
{
	for (size_t i = 0; i < pod.n_socks; i++)
		if (pod.socks[i].peer >= 0)
			close(pod.socks[i].peer);
	for (size_t i = 0; i < pod.n_sent; i++) {
		free(pod.sent[i]->payload);
		free(pod.sent[i]->msg);
		free(pod.sent[i]);
	}
	memset(&pod, 0, sizeof(pod));
	pod.netns_path = FX_NETNS_PATH;
	pod.ifname = FX_IFNAME;
	pod.master = FX_MASTER;
	pod.ifindex = FX_IFINDEX;
	pod.netns_ino = FX_NETNS_INO;
	memcpy(pod.mac, test_mac, sizeof(pod.mac));
}

/* ---- podnet.h, faked ---- */

int podnet_prepare_link(const char *netns_path, const char *ifname, const uint8_t *mac, const char *kind,
			struct link_info *link, struct cni_error *err)
{
	(void)netns_path;
	(void)ifname;
	(void)mac;
	(void)kind;
	(void)link;
	fail_msg("the lease never prepares the link: the daemon's methods do");
	return cni_error_set(err, CNI_ERR_NETNS, "unit test");
}

int podnet_packet_socket(const char *netns_path, int ifindex, uint32_t xid, const uint8_t mac[6])
{
	char e[64];
	int r;

	pod_refresh();
	assert_pod_names(netns_path, NULL);
	assert_int_equal(ifindex, pod.ifindex);
	assert_memory_equal(mac, pod.mac, 6);
	r = script_next(&pod.packet_socket);
	trace("packet-socket%s", err_suffix(r, e));
	if (r < 0)
		return r;
	struct fake_sock *s = new_sock(FAKE_PACKET);
	s->xid = xid;
	return s->fd;
}

int podnet_packet_filter(int fd, uint32_t xid, const uint8_t mac[6])
{
	pod_refresh();
	assert_memory_equal(mac, pod.mac, 6);
	sock_of(fd, FAKE_PACKET)->xid = xid;
	return 0;
}

int podnet_packet_send(int fd, int ifindex, const uint8_t *to, const uint8_t *datagram, size_t len)
{
	char e[64];
	int r = script_next(&pod.packet_send);

	pod_refresh();
	if (r < 0) {
		trace("packet-send%s", err_suffix(r, e));
		return r;
	}
	struct fake_sock *s = sock_of(fd, FAKE_PACKET);
	struct sent_dgram *d = record_framed(VIA_PACKET, datagram, len);
	d->ifindex = ifindex;
	d->filter_xid = s->xid;
	memset(d->to, 0xff, sizeof(d->to));
	if (to)
		memcpy(d->to, to, sizeof(d->to));
	trace("packet:%s", dhcp_message_type_name(dhcp_message_type(d->msg)));
	return 0;
}

ssize_t podnet_packet_recv(int fd, uint8_t *buf, size_t len, bool *checksum_partial, uint8_t from[6])
{
	ssize_t n = recv(fd, buf, len, MSG_DONTWAIT);

	memcpy(from, pod.server_mac, 6);
	*checksum_partial = false;
	return n < 0 ? -errno : n;
}

int podnet_arp_socket(const char *netns_path, int ifindex)
{
	char e[64];
	int r;

	pod_refresh();
	assert_pod_names(netns_path, NULL);
	assert_int_equal(ifindex, pod.ifindex);
	r = script_next(&pod.arp_socket);
	trace("arp-socket%s", err_suffix(r, e));
	return r < 0 ? r : new_sock(FAKE_ARP)->fd;
}

int podnet_arp_send(int fd, int ifindex, const uint8_t *arp, size_t len)
{
	static const uint8_t zero[4];
	char e[64];
	int r;

	pod_refresh();
	sock_of(fd, FAKE_ARP);
	assert_int_equal(len, ACD_ARP_LEN);
	assert_true(pod.n_arp < FAKE_ARP_N);
	memcpy(pod.arp[pod.n_arp].data, arp, ACD_ARP_LEN);
	pod.arp[pod.n_arp++].ifindex = ifindex;
	r = script_next(&pod.arp_send);
	/* RFC 5227: a probe's sender IP is 0.0.0.0, an announcement's is the address. */
	trace("arp:%s%s", memcmp(arp + 14, zero, 4) == 0 ? "probe" : "announce", err_suffix(r, e));
	return r;
}

ssize_t podnet_arp_recv(int fd, uint8_t *buf, size_t len)
{
	ssize_t n = recv(fd, buf, len, MSG_DONTWAIT);

	return n < 0 ? -errno : n;
}

int podnet_udp_socket(const char *netns_path, const char *ifname, struct in_addr local, struct in_addr server)
{
	char e[64];
	int r;

	pod_refresh();
	assert_pod_names(netns_path, ifname);
	r = script_next(&pod.udp_socket);
	trace("udp-socket%s", err_suffix(r, e));
	if (r < 0)
		return r;
	struct fake_sock *s = new_sock(FAKE_UDP);
	s->local = local;
	s->server = server;
	return s->fd;
}

int podnet_exists(const char *netns_path)
{
	char e[64];
	int r;

	pod_refresh();
	assert_pod_names(netns_path, NULL);
	r = script_next(&pod.exists);
	trace("exists%s", err_suffix(r, e));
	return r;
}

int podnet_netns_ino(const char *netns_path, uint64_t *ino)
{
	assert_pod_names(netns_path, NULL);
	*ino = pod.netns_ino;
	return pod.netns_ino ? 0 : -ENOENT;
}

int podnet_address_lifetime(const char *netns_path, const char *ifname, const struct ip_prefix *addr,
			    uint32_t valid_s)
{
	char e[64];

	pod_refresh();
	struct addr_call *c = new_call(ADDR_LIFETIME, netns_path, ifname);
	ip_prefix_format(addr, c->prefix);
	c->valid_s = valid_s;
	c->ret = script_next(&pod.lifetime);
	trace("lifetime:%s%s", c->prefix, err_suffix(c->ret, e));
	return c->ret;
}

int podnet_address_ensure(const char *netns_path, const char *ifname, const struct cni_result *result,
			  uint32_t valid_s)
{
	char e[64];

	pod_refresh();
	struct addr_call *c = new_call(ADDR_ENSURE, netns_path, ifname);
	assert_int_equal(result->n_ips, 1);
	ip_prefix_format(&result->ips[0].address, c->prefix);
	if (result->ips[0].has_gateway)
		ip_addr_format(&result->ips[0].gateway, c->gateway);
	c->n_routes = result->n_routes;
	c->valid_s = valid_s;
	c->ret = script_next(&pod.ensure);
	trace("ensure:%s%s", c->prefix, err_suffix(c->ret, e));
	return c->ret;
}

int podnet_address_remove(const char *netns_path, const char *ifname, const struct ip_prefix *addr)
{
	char e[64];

	pod_refresh();
	struct addr_call *c = new_call(ADDR_REMOVE, netns_path, ifname);
	ip_prefix_format(addr, c->prefix);
	c->ret = script_next(&pod.remove);
	trace("remove:%s%s", c->prefix, err_suffix(c->ret, e));
	return c->ret;
}

int podnet_host_route_follow(const char *master, struct in_addr from, struct in_addr to)
{
	char e[64], old[INET_ADDRSTRLEN], new[INET_ADDRSTRLEN];
	int r = script_next(&pod.host_route);

	inet_ntop(AF_INET, &from, old, sizeof(old));
	inet_ntop(AF_INET, &to, new, sizeof(new));
	trace("host-route:%s:%s>%s%s", master ? master : "(null)", old, new, err_suffix(r, e));
	return r;
}

int podnet_send_via_master(const char *master, const uint8_t *datagram, size_t len)
{
	char e[64];
	int r;

	pod_refresh();
	struct sent_dgram *d = record_framed(VIA_MASTER, datagram, len);
	snprintf(d->master, sizeof(d->master), "%s", master ? master : "(null)");
	r = script_next(&pod.via_master);
	trace("master:%s%s", dhcp_message_type_name(dhcp_message_type(d->msg)), err_suffix(r, e));
	return r;
}

/* ---- the fixture and its owner ---- */

struct fx {
	struct loop loop;
	struct lease *lease;
	struct lease_spec spec; /* the next lease_new's; its client config is made then */
	struct dhcp_timing timing;
	uint64_t t0; /* where the test's clock starts */
	uint64_t now;
	/* The server. */
	const char *offer_addr;
	uint8_t reply[DHCP_MESSAGE_MAX]; /* the last reply delivered */
	size_t reply_len;
	/* The owner: whether a plugin waits for the answer, and what it was told. */
	bool answer_returns;
	unsigned answers, failures, saves, forgets, ends;
	struct cni_error failure; /* the last failure answered */
	json_t *result;           /* the CNI result of the last success answered */
	json_t *record;           /* the last record saved */
};

#define T(ms) (fx->t0 + (uint64_t)(ms))

static bool owner_answer(void *ctx, struct lease *lease, const struct cni_error *failure)
{
	struct fx *fx = ctx;

	pod_refresh();
	assert_ptr_equal(lease, fx->lease);
	fx->answers++;
	if (failure) {
		fx->failures++;
		fx->failure = *failure;
		trace("answer:failed");
	} else {
		struct cni_error err = { 0 };
		json_decref(fx->result);
		fx->result = lease_result_json(lease, &err);
		if (!fx->result)
			fail_msg("answered bound, but no result: %s", err.msg);
		trace("answer:ok");
	}
	return fx->answer_returns;
}

static void owner_save(void *ctx, struct lease *lease)
{
	struct fx *fx = ctx;

	pod_refresh();
	assert_ptr_equal(lease, fx->lease);
	fx->saves++;
	json_decref(fx->record);
	fx->record = lease_record_json(lease, fx->now);
	if (!fx->record)
		fail_msg("asked to save a lease that makes no record");
	trace("save");
}

static void owner_forget(void *ctx, struct lease *lease)
{
	struct fx *fx = ctx;

	pod_refresh();
	assert_ptr_equal(lease, fx->lease);
	fx->forgets++;
	trace("forget");
}

static void owner_ended(void *ctx, struct lease *lease)
{
	struct fx *fx = ctx;

	pod_refresh();
	assert_ptr_equal(lease, fx->lease);
	assert_true(lease_ended(lease));
	fx->ends++;
	trace("ended");
}

static const struct lease_owner fx_owner = {
	.answer = owner_answer, .save = owner_save, .forget = owner_forget, .ended = owner_ended,
};

/* What dhcp_client_config_build makes for the attachment: our MAC, the reference's
 * client id (type 0, then the key), the request options (allocated: lease_new takes
 * them over). */
static inline void fx_client_config(const struct fx *fx, struct dhcp_client_config *c)
{
	*c = (struct dhcp_client_config){ .timing = fx->timing };
	memcpy(c->mac, test_mac, 6);
	c->client_id = malloc(1 + strlen(FX_KEY));
	assert_non_null(c->client_id);
	c->client_id[0] = 0;
	memcpy(c->client_id + 1, FX_KEY, strlen(FX_KEY));
	c->client_id_len = 1 + strlen(FX_KEY);
	c->request_options = malloc(sizeof(fx_request_options));
	assert_non_null(c->request_options);
	memcpy(c->request_options, fx_request_options, sizeof(fx_request_options));
	c->request_options_len = sizeof(fx_request_options);
}

static int fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	log_set_level_name(getenv("LEASE_TEST_LOG") ? getenv("LEASE_TEST_LOG") : "error");
	if (loop_init(&fx->loop) < 0) {
		free(fx);
		return -1;
	}
	pod_reset();
	fx->spec = (struct lease_spec){
		.container_id = FX_CONTAINER,
		.network = FX_NETWORK,
		.ifname = FX_IFNAME,
		.netns = FX_NETNS,
		.netns_path = FX_NETNS_PATH,
		.master = FX_MASTER,
		.ifindex = FX_IFINDEX,
		.netns_ino = FX_NETNS_INO,
	};
	memcpy(fx->spec.mac, test_mac, 6);
	/* Retransmissions from 1 s doubling to 4 s; an ADD gives up after 10 s. */
	fx->timing = (struct dhcp_timing){ .initial_ms = 1000, .max_ms = 4000, .acquire_ms = 10000 };
	/* The handlers of readable sockets read loop_now_ms(): the test's clock starts
	 * there, so both clocks roughly agree. */
	fx->t0 = fx->now = loop_now_ms();
	fx->offer_addr = ADDR;
	fx->answer_returns = true;
	*state = fx;
	return 0;
}

static void fx_drop_lease(struct fx *fx)
{
	lease_free(fx->lease);
	fx->lease = NULL;
	pod_reset();
	json_decref(fx->result);
	json_decref(fx->record);
	fx->result = fx->record = NULL;
	fx->answers = fx->failures = fx->saves = fx->forgets = fx->ends = 0;
	fx->failure = (struct cni_error){ 0 };
}

static int fx_teardown(void **state)
{
	struct fx *fx = *state;

	fx_drop_lease(fx);
	loop_close(&fx->loop);
	free(fx);
	return 0;
}

/* The lease of fx->spec, with the client configuration the daemon would build. */
static inline struct lease *fx_lease(struct fx *fx)
{
	struct lease_spec spec = fx->spec;

	assert_null(fx->lease);
	fx_client_config(fx, &spec.client);
	fx->lease = lease_new(&spec, &fx->loop, &fx_owner, fx);
	assert_non_null(fx->lease);
	return fx->lease;
}

#define FX_TEST(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

/* ---- what was sent ---- */

static inline size_t n_sent(void)
{
	pod_refresh();
	return pod.n_sent;
}

/* The i-th DHCP message the lease sent (0: the first). */
static inline const struct sent_dgram *sent(size_t i)
{
	pod_refresh();
	if (i >= pod.n_sent)
		fail_msg("message %zu was not sent (%zu were)", i, pod.n_sent);
	return pod.sent[i];
}

static inline const struct sent_dgram *last_sent(void)
{
	assert_true(n_sent() > 0);
	return sent(pod.n_sent - 1);
}

static inline uint32_t xid_of(const struct sent_dgram *d)
{
	return ntohl(d->msg->header.xid);
}

static inline uint8_t type_of(const struct sent_dgram *d)
{
	return dhcp_message_type(d->msg);
}

#define assert_sent_type(d, type) assert_string_equal(dhcp_message_type_name(type_of(d)), dhcp_message_type_name(type))

#define assert_via(d, v) assert_string_equal(via_name((d)->via), via_name(v))

/* Out of the pod's packet socket, from 0.0.0.0:68 to 255.255.255.255:67, the filter
 * passing its transaction. */
#define assert_broadcast(d)                                                                             \
	do {                                                                                            \
		assert_via((d), VIA_PACKET);                                                            \
		assert_int_equal((d)->ifindex, FX_IFINDEX);                                             \
		assert_addr_equal((d)->src, "0.0.0.0");                                                 \
		assert_addr_equal((d)->dst, "255.255.255.255");                                         \
		assert_int_equal((d)->src_port, DHCP_CLIENT_PORT);                                      \
		assert_int_equal((d)->dst_port, DHCP_SERVER_PORT);                                      \
		assert_int_equal((d)->filter_xid, xid_of(d));                                           \
	} while (0)

/* From the leased address to the server, through the UDP socket. */
#define assert_unicast(d)                                                                               \
	do {                                                                                            \
		assert_via((d), VIA_UDP);                                                               \
		assert_addr_equal((d)->src, ADDR);                                                      \
		assert_addr_equal((d)->dst, SERVER);                                                    \
	} while (0)

#define assert_ciaddr(d, text) assert_addr_equal((struct in_addr){ (d)->msg->header.ciaddr }, (text))

#define assert_trace(want)                                                                              \
	do {                                                                                            \
		pod_refresh();                                                                          \
		assert_string_equal(pod.trace, (want));                                                 \
	} while (0)

#define assert_state(fx, want)                                                                          \
	assert_string_equal(dhcp_client_state_name(lease_state((fx)->lease)), dhcp_client_state_name(want))

/* The i-th address call. */
static inline const struct addr_call *addr_call(size_t i)
{
	if (i >= pod.n_calls)
		fail_msg("address call %zu was not made (%zu were)", i, pod.n_calls);
	return &pod.calls[i];
}

static inline size_t count_calls(enum addr_op op)
{
	size_t n = 0;

	for (size_t i = 0; i < pod.n_calls; i++)
		n += pod.calls[i].op == op;
	return n;
}

/* ---- the server ---- */

/* The server's `type` to the last message sent (its xid): an OFFER or ACK of
 * fx->offer_addr for LEASE_S with mask, router and DNS; a NAK with a message. */
static inline void build_reply(struct fx *fx, uint8_t type, struct test_msg *m)
{
	const struct sent_dgram *req = last_sent();

	msg_reply(m, type, xid_of(req), type == DHCPNAK ? NULL : fx->offer_addr, SERVER);
	if (type == DHCPNAK) {
		msg_put(m, DHCP_OPTION_MESSAGE, "address not available", 21);
	} else {
		msg_put_u32(m, DHCP_OPTION_IP_ADDRESS_LEASE_TIME, LEASE_S);
		msg_put(m, DHCP_OPTION_SUBNET_MASK, "\xff\xff\xff\x00", 4);
		msg_put_addr(m, DHCP_OPTION_ROUTER, ROUTER);
		msg_put_addr(m, DHCP_OPTION_DOMAIN_NAME_SERVER, DNS);
	}
	msg_finish(m);
	memcpy(fx->reply, m->data, m->len);
	fx->reply_len = m->len;
}

/* A reply broadcast by the server as the pod's packet socket receives it, read by the
 * lease's own handler in one turn of the loop. */
static inline void deliver_on_packet(struct fx *fx, uint8_t type)
{
	struct test_msg m;
	uint8_t datagram[DHCP_PACKET_HEADROOM + DHCP_MESSAGE_MAX];
	struct fake_sock *s = open_sock(FAKE_PACKET);

	assert_non_null(s);
	build_reply(fx, type, &m);
	size_t len = dhcp_packet_frame(datagram, m.data, m.len, ip4(SERVER), ip4("255.255.255.255"), DHCP_SERVER_PORT,
				       DHCP_CLIENT_PORT);
	assert_int_equal(send(s->peer, datagram, len, 0), (ssize_t)len);
	assert_int_equal(loop_run_once(&fx->loop, 0), 0);
}

static inline void reply(struct fx *fx, uint8_t type)
{
	struct test_msg m;

	build_reply(fx, type, &m);
	lease_receive(fx->lease, fx->now, m.data, m.len);
}

static inline void reply_offer(struct fx *fx)
{
	reply(fx, DHCPOFFER);
}

/* The server's MAC, the source of the frames the fake server sends. */
#define FAKE_SERVER_MAC ((const uint8_t[6]){ 0x02, 0x5e, 0x00, 0x00, 0x00, 0x01 })

/* A lease bound by a DHCPACK framed from FAKE_SERVER_MAC: the lease knows it. */
static inline void bind_from_server_mac(struct fx *fx)
{
	memcpy(pod.server_mac, FAKE_SERVER_MAC, 6);
	fx_lease(fx);
	lease_start(fx->lease, fx->now);
	reply_offer(fx);
	deliver_on_packet(fx, DHCPACK);
	assert_state(fx, DHCP_STATE_BOUND);
}

static inline void reply_ack(struct fx *fx)
{
	reply(fx, DHCPACK);
}

static inline void reply_nak(struct fx *fx)
{
	reply(fx, DHCPNAK);
}

/* The last reply as hex: what a record keeps of a DHCPACK. */
static inline char *reply_hex(const struct fx *fx)
{
	char *hex = malloc(fx->reply_len * 2 + 1);

	assert_non_null(hex);
	for (size_t i = 0; i < fx->reply_len; i++)
		sprintf(hex + i * 2, "%02x", fx->reply[i]);
	hex[fx->reply_len * 2] = '\0';
	return hex;
}

/* ---- time ---- */

/* The clock moves to `t` and the lease runs its timers. */
static inline void at(struct fx *fx, uint64_t t)
{
	assert_true(t >= fx->now);
	fx->now = t;
	lease_run_timers(fx->lease, t);
}

/* To the lease's deadline; returns it. */
static inline uint64_t fire(struct fx *fx)
{
	uint64_t deadline = lease_deadline(fx->lease);

	if (deadline == UINT64_MAX)
		fail_msg("the lease has no timer (state %s)", dhcp_client_state_name(lease_state(fx->lease)));
	at(fx, deadline < fx->now ? fx->now : deadline);
	return deadline;
}

/* Every timer up to `t`, then the clock at `t`. */
static inline void run_until(struct fx *fx, uint64_t t)
{
	for (unsigned i = 0; lease_deadline(fx->lease) <= t; i++) {
		if (i == 1000)
			fail_msg("more than 1000 timers before %llu", (unsigned long long)(t - fx->t0));
		fire(fx);
	}
	fx->now = t;
}

/* ---- whole exchanges ---- */

/* DISCOVER, OFFER, REQUEST, ACK at fx->now: bound (or GRANTED while probing). */
static inline void acquire(struct fx *fx)
{
	if (!fx->lease)
		fx_lease(fx);
	lease_start(fx->lease, fx->now);
	assert_sent_type(last_sent(), DHCPDISCOVER);
	reply_offer(fx);
	assert_sent_type(last_sent(), DHCPREQUEST);
	reply_ack(fx);
}

/* ... and the address's lifetime tied to the lease (the plugin put it on the pod). */
static inline void acquire_and_sync(struct fx *fx)
{
	acquire(fx);
	assert_state(fx, DHCP_STATE_BOUND);
	fire(fx);
	assert_int_equal(count_calls(ADDR_LIFETIME), 1);
}

/* The lease's T1 and T2, counted from when its DHCPREQUEST went out. */
#define T1(start) ((start) + S(LEASE_S / 2))
#define T2(start) ((start) + S(LEASE_S * 7 / 8))

/* From BOUND (synced) to RENEWING at T1: the unicast DHCPREQUEST is the last sent. */
static inline void renew(struct fx *fx)
{
	uint64_t start = fx->now;

	acquire_and_sync(fx);
	assert_int_equal(fire(fx), T1(start));
	assert_state(fx, DHCP_STATE_RENEWING);
	assert_sent_type(last_sent(), DHCPREQUEST);
}
