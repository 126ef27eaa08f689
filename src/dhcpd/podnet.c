#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cni/netns.h"
#include "cni/result.h"
#include "dhcp4/packet.h"
#include "dhcp4/protocol.h"
#include "dhcpd/podnet.h"
#include "netns/netns.h"
#include "rtnl/addr.h"
#include "rtnl/host_route.h"
#include "rtnl/socket.h"
#include "util/fs.h"
#include "util/mac.h"
#include "util/macro.h"

int podnet_exists(const char *netns_path)
{
	return access(netns_path, F_OK) == 0 ? 0 : -errno;
}

/* The daemon's own network namespace is never a pod's: a caller (or a record) naming
 * it would have the daemon configure the node's own interfaces. */
static bool is_own_netns(int netns)
{
	struct stat pod, own;

	return fstat(netns, &pod) == 0 && stat("/proc/self/ns/net", &own) == 0 && pod.st_dev == own.st_dev &&
	       pod.st_ino == own.st_ino;
}

/* A path in the host's file system, seen from a daemon that sees the host at `root`:
 * resolved there, so that the host's own links (/var/run -> /run) stay in it. */
static char *under_root(const char *root, const char *netns)
{
	char path[PATH_MAX], *joined = NULL;

	if (fs_resolve_under(root, netns, path, sizeof(path)) == 0)
		return strdup(path);
	/* Too long or too many links: opening it says so, as for any bad path. */
	return asprintf(&joined, "%s%s", root, netns) < 0 ? NULL : joined;
}

char *podnet_netns_path(const char *hostprefix, const char *netns)
{
	if (*hostprefix)
		return under_root(hostprefix, netns);
	if (access(netns, F_OK) < 0 && errno == ENOENT) {
		char *path = under_root("/proc/1/root", netns);
		if (!path || access(path, F_OK) == 0)
			return path;
		free(path);
	}
	return strdup(netns);
}

int podnet_netns_ino(const char *netns_path, uint64_t *ino)
{
	struct stat st;

	if (stat(netns_path, &st) < 0)
		return -errno;
	*ino = (uint64_t)st.st_ino;
	return 0;
}

int podnet_prepare_link(const char *netns_path, const char *ifname, const uint8_t *mac, const char *kind,
			struct link_info *link, struct cni_error *err)
{
	char have[MAC_STRLEN], want[MAC_STRLEN];
	_cleanup_close_ int netns = netns_open_cni(netns_path, err);

	if (netns < 0)
		return -1;
	if (is_own_netns(netns))
		return cni_error_set(err, CNI_ERR_INVALID_ENV, "%s is the dhcp daemon's own network namespace, not a pod's",
				     netns_path);
	_cleanup_nl_sock_ struct nl_sock *sk = nl_route_socket(netns);
	if (!sk)
		return cni_error_set(err, CNI_ERR_NETLINK, "cannot open netlink in %s: %s", netns_path, strerror(errno));
	int r = link_get_by_name(sk, ifname, link);
	if (r == -ENODEV) {
		cni_error_set(err, CNI_ERR_DHCP, "interface %s not found in %s", ifname, netns_path);
		cni_error_details(err, "the plugin that calls dhcp as IPAM (macvlan, ...) creates it first");
		return -1;
	}
	if (r == 0 && mac && memcmp(link->mac, mac, MAC_LEN) != 0) {
		mac_format(link->mac, have);
		mac_format(mac, want);
		return cni_error_set(err, CNI_ERR_DHCP, "interface %s in %s is %s, not %s: another interface than the "
							"lease's", ifname, netns_path, have, want);
	}
	if (r == 0 && kind && strcmp(link->kind, kind) != 0)
		return cni_error_set(err, CNI_ERR_DAEMON, "permission denied: %s in %s is a %s link, not a %s", ifname,
				     netns_path, link->kind[0] ? link->kind : "plain", kind);
	if (r == 0 && !(link->flags & IFF_UP) && (r = link_set_up(sk, link->index)) == 0)
		link->flags |= IFF_UP;
	if (r < 0)
		return cni_error_set(err, CNI_ERR_NETLINK, "preparing %s in %s: %s", ifname, netns_path, strerror(-r));
	return 0;
}

/* Runs socket() inside the pod's namespace. */
static int socket_in(const char *netns_path, int domain, int type, int protocol)
{
	_cleanup_close_ int netns = netns_open(netns_path);
	if (netns < 0)
		return netns;
	int saved = netns_enter(netns);
	if (saved < 0)
		return saved;
	int fd = socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
	int r = fd < 0 ? -errno : fd;
	netns_leave(saved);
	return r;
}

int podnet_packet_socket(const char *netns_path, int ifindex, uint32_t xid, const uint8_t mac[6])
{
	struct sockaddr_ll addr = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP), .sll_ifindex = ifindex };
	int one = 1;
	/* Protocol 0 until bind: a socket created with ETH_P_IP starts receiving at once,
	 * and re-binding it waits for an RCU grace period. The filter goes on first, so
	 * nothing unfiltered is ever queued. */
	_cleanup_close_ int fd = socket_in(netns_path, AF_PACKET, SOCK_DGRAM, 0);

	if (fd < 0)
		return fd;
	if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0 || podnet_packet_filter(fd, xid, mac) < 0 ||
	    bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return -errno;
	return TAKE_FD(fd);
}

int podnet_packet_filter(int fd, uint32_t xid, const uint8_t mac[6])
{
	struct sock_filter code[DHCP_FILTER_LEN];
	struct sock_fprog prog = { .len = DHCP_FILTER_LEN, .filter = code };

	dhcp_filter_build(code, xid, mac);
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ? -errno : 0;
}

/* To `mac`, or the link's broadcast address when NULL. */
static int send_frame(int fd, int ifindex, uint16_t protocol, const uint8_t *mac, const uint8_t *data, size_t len)
{
	static const uint8_t broadcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct sockaddr_ll addr = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(protocol),
		.sll_ifindex = ifindex,
		.sll_halen = ETH_ALEN,
	};

	memcpy(addr.sll_addr, mac ? mac : broadcast, ETH_ALEN);
	return sendto(fd, data, len, 0, (struct sockaddr *)&addr, sizeof(addr)) < 0 ? -errno : 0;
}

int podnet_packet_send(int fd, int ifindex, const uint8_t *to, const uint8_t *datagram, size_t len)
{
	return send_frame(fd, ifindex, ETH_P_IP, to, datagram, len);
}

int podnet_arp_socket(const char *netns_path, int ifindex)
{
	struct sockaddr_ll addr = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ARP), .sll_ifindex = ifindex };
	_cleanup_close_ int fd = socket_in(netns_path, AF_PACKET, SOCK_DGRAM, 0);

	if (fd < 0)
		return fd;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return -errno;
	return TAKE_FD(fd);
}

int podnet_arp_send(int fd, int ifindex, const uint8_t *arp, size_t len)
{
	return send_frame(fd, ifindex, ETH_P_ARP, NULL, arp, len);
}

ssize_t podnet_arp_recv(int fd, uint8_t *buf, size_t len)
{
	struct sockaddr_ll from;
	socklen_t from_len = sizeof(from);
	ssize_t n = recvfrom(fd, buf, len, 0, (struct sockaddr *)&from, &from_len);

	if (n < 0)
		return -errno;
	/* A packet socket also sees what this host sends: our own probes. */
	return from.sll_pkttype == PACKET_OUTGOING ? 0 : n;
}

ssize_t podnet_packet_recv(int fd, uint8_t *buf, size_t len, bool *checksum_partial, uint8_t from[6])
{
	union {
		struct cmsghdr align;
		uint8_t data[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	} control;
	struct sockaddr_ll source = { 0 };
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { .msg_name = &source, .msg_namelen = sizeof(source), .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = &control, .msg_controllen = sizeof(control) };
	ssize_t n = recvmsg(fd, &msg, MSG_TRUNC);

	if (n < 0)
		return -errno;
	memcpy(from, source.sll_addr, ETH_ALEN);
	*checksum_partial = false;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA)
			continue;
		struct tpacket_auxdata aux;
		memcpy(&aux, CMSG_DATA(c), sizeof(aux));
		/* veth and virtio hand up frames whose checksum was never computed. */
		*checksum_partial = (aux.tp_status & TP_STATUS_CSUMNOTREADY) != 0;
		/* A VLAN-tagged frame seen on the parent link belongs to the VLAN, not us. */
		if (aux.tp_vlan_tci != 0 || (aux.tp_status & TP_STATUS_VLAN_VALID))
			return 0;
	}
	/* Truncated (larger than our buffer): not a reply we asked for. */
	return (size_t)n > len ? 0 : n;
}

int podnet_udp_socket(const char *netns_path, const char *ifname, struct in_addr local, struct in_addr server)
{
	struct sockaddr_in src = { .sin_family = AF_INET, .sin_port = htons(DHCP_CLIENT_PORT), .sin_addr = local };
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(DHCP_SERVER_PORT), .sin_addr = server };
	int one = 1;
	_cleanup_close_ int fd = socket_in(netns_path, AF_INET, SOCK_DGRAM, IPPROTO_UDP);

	if (fd < 0)
		return fd;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname)) < 0 ||
	    bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0 || connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0)
		return -errno;
	return TAKE_FD(fd);
}

/* Runs `fn` with a netlink socket in the pod's namespace and its interface. */
static int with_pod_link(const char *netns_path, const char *ifname,
			 int (*fn)(struct nl_sock *sk, int index, const void *arg), const void *arg)
{
	_cleanup_close_ int netns = netns_open(netns_path);
	struct link_info link;

	if (netns < 0)
		return netns;
	_cleanup_nl_sock_ struct nl_sock *sk = nl_route_socket(netns);
	if (!sk)
		return -errno;
	int r = link_get_by_name(sk, ifname, &link);
	return r < 0 ? r : fn(sk, link.index, arg);
}

struct lifetime_args {
	const struct ip_prefix *addr;
	uint32_t valid_s;
};

static bool has_address(struct nl_sock *sk, int index, const struct ip_prefix *addr)
{
	_cleanup_free_ struct addr_entry *addrs = NULL;
	size_t count = 0;

	return addr_list(sk, AF_INET, index, &addrs, &count) == 0 && addr_entries_contain(addrs, count, addr);
}

static int set_lifetime(struct nl_sock *sk, int index, const void *arg)
{
	const struct lifetime_args *a = arg;

	/* Only an address the plugin put there: creating it here would make the
	 * plugin's own add fail. */
	if (!has_address(sk, index, a->addr))
		return -ENOENT;
	return addr_set_lifetime(sk, index, a->addr, a->valid_s);
}

int podnet_address_lifetime(const char *netns_path, const char *ifname, const struct ip_prefix *addr,
			    uint32_t valid_s)
{
	struct lifetime_args a = { .addr = addr, .valid_s = valid_s };
	return with_pod_link(netns_path, ifname, set_lifetime, &a);
}

static int remove_address(struct nl_sock *sk, int index, const void *arg)
{
	int r = addr_delete(sk, index, arg);
	return r == -EADDRNOTAVAIL || r == -ENOENT ? 0 : r;
}

int podnet_address_remove(const char *netns_path, const char *ifname, const struct ip_prefix *addr)
{
	return with_pod_link(netns_path, ifname, remove_address, addr);
}

struct first_args {
	struct in_addr *out;
};

static int first_ipv4(struct nl_sock *sk, int index, const void *arg)
{
	const struct first_args *a = arg;
	_cleanup_free_ struct addr_entry *addrs = NULL;
	size_t count = 0;
	int r = addr_list(sk, AF_INET, index, &addrs, &count);

	if (r < 0)
		return r;
	if (count == 0)
		return -EADDRNOTAVAIL;
	*a->out = addrs[0].prefix.addr.v4;
	return 0;
}

int podnet_address_first(const char *netns_path, const char *ifname, struct in_addr *addr)
{
	struct first_args a = { .out = addr };
	return with_pod_link(netns_path, ifname, first_ipv4, &a);
}

struct ensure_args {
	const struct cni_result *result;
	uint32_t valid_s;
};

static int ensure_address(struct nl_sock *sk, int index, const void *arg)
{
	const struct ensure_args *a = arg;
	int r = addr_set_lifetime(sk, index, &a->result->ips[0].address, a->valid_s);

	for (size_t i = 0; r == 0 && i < a->result->n_routes; i++) {
		const struct cni_route *route = &a->result->routes[i];
		r = route_add(sk, index, route, route->has_gw ? &route->gw : NULL);
		if (r == -EEXIST)
			r = 0;
	}
	return r;
}

int podnet_address_ensure(const char *netns_path, const char *ifname, const struct cni_result *result,
			  uint32_t valid_s)
{
	struct ensure_args a = { .result = result, .valid_s = valid_s };

	if (result->n_ips == 0)
		return -EINVAL;
	return with_pod_link(netns_path, ifname, ensure_address, &a);
}

int podnet_host_route_follow(const char *master, struct in_addr from, struct in_addr to)
{
	int master_index = master ? (int)if_nametoindex(master) : 0;
	struct ip_addr old = { .family = AF_INET, .v4 = from }, new = { .family = AF_INET, .v4 = to };
	char shim[IFNAMSIZ];

	if (master_index == 0)
		return -ESRCH;
	host_reach_shim_name(master_index, shim);
	int shim_index = (int)if_nametoindex(shim);
	if (shim_index == 0)
		return -ESRCH; /* no hostReach on this master: nothing to follow */
	_cleanup_(nl_socket_freep) struct nl_sock *sk = nl_route_socket(-1);
	return sk ? route_host_move(sk, shim_index, &old, &new) : -ENOMEM;
}

int podnet_send_via_master(const char *master, const uint8_t *datagram, size_t len)
{
	int ifindex = master ? (int)if_nametoindex(master) : 0;
	struct sockaddr_ll addr = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP), .sll_ifindex = ifindex };

	if (ifindex == 0)
		return -ENODEV;
	/* Send only: protocol 0 never receives anything. */
	_cleanup_close_ int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return -errno;
	return podnet_packet_send(fd, ifindex, NULL, datagram, len);
}
