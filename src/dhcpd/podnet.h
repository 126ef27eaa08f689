/* The pod's side of a lease: its interface, and sockets opened inside its network
 * namespace (a socket stays in the namespace it was created in). */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cni/error.h"
#include "rtnl/link.h"

/* Finds `ifname` in the pod's namespace at `netns_path` (never the daemon's own) and,
 * when it is the one expected (`mac`, `kind` such as "macvlan": each when not NULL),
 * brings it up if it is down (no waiting: the packet socket works on a link that is
 * still coming up). */
int podnet_prepare_link(const char *netns_path, const char *ifname, const uint8_t *mac, const char *kind,
			struct link_info *link, struct cni_error *err);

/* A packet socket (SOCK_DGRAM, ETH_P_IP) on `ifindex` with PACKET_AUXDATA and the
 * filter for transaction `xid`, or -errno. Close it with closer_close. */
int podnet_packet_socket(const char *netns_path, int ifindex, uint32_t xid, const uint8_t mac[6]);
/* Replaces the socket's filter with one for this transaction. */
int podnet_packet_filter(int fd, uint32_t xid, const uint8_t mac[6]);
/* Sends a framed IPv4 datagram to the MAC `to`, or the link's broadcast address when
 * it is NULL. */
int podnet_packet_send(int fd, int ifindex, const uint8_t *to, const uint8_t *datagram, size_t len);
/* Receives one datagram: its length, 0 for a frame to skip (VLAN-tagged, truncated),
 * -EAGAIN when nothing is queued. *checksum_partial from the kernel's auxdata, `from`
 * the frame's source MAC. */
ssize_t podnet_packet_recv(int fd, uint8_t *buf, size_t len, bool *checksum_partial, uint8_t from[6]);

/* A packet socket (SOCK_DGRAM, ETH_P_ARP) on `ifindex`, for RFC 5227 probes, or
 * -errno. Close it with closer_close. */
int podnet_arp_socket(const char *netns_path, int ifindex);
/* Broadcasts an ARP packet on the link. */
int podnet_arp_send(int fd, int ifindex, const uint8_t *arp, size_t len);
/* Receives one ARP packet: its length, 0 for one this host sent, -EAGAIN when nothing
 * is queued. */
ssize_t podnet_arp_recv(int fd, uint8_t *buf, size_t len);

/* A UDP socket bound to `local`:68 on `ifname` and connected to `server`:67, or -errno
 * (-EADDRNOTAVAIL when the address is not on the pod's interface). */
int podnet_udp_socket(const char *netns_path, const char *ifname, struct in_addr local, struct in_addr server);

/* Where the daemon opens a pod's namespace that the runtime named `netns`: under
 * `hostprefix` when one is given; else at `netns`, or, when this mount namespace does
 * not show it (a daemon in a container with hostPID but no mount of the host's
 * /var/run/netns), in the host's view of it through /proc/1/root. Under either, the
 * path is resolved as the host resolves it (fs_resolve_under). NULL: no memory. */
char *podnet_netns_path(const char *hostprefix, const char *netns);

/* 0 when the namespace file exists, -ENOENT when the pod is gone. */
int podnet_exists(const char *netns_path);
/* Which namespace the path holds now (its inode): a pod deleted without a DEL may
 * leave its path to the next one. -errno when there is none. */
int podnet_netns_ino(const char *netns_path, uint64_t *ino);

struct cni_result;
struct ip_prefix;

/* The pod's address follows its lease. -ENOENT: the address is not (yet) on the
 * interface, nothing was changed. */
int podnet_address_lifetime(const char *netns_path, const char *ifname, const struct ip_prefix *addr,
			    uint32_t valid_s);
/* The result's address with `valid_s` seconds to live, added if missing, and its routes
 * (after a restart that outlived the lease, or when the server moved the lease). */
int podnet_address_ensure(const char *netns_path, const char *ifname, const struct cni_result *result,
			  uint32_t valid_s);
/* The first IPv4 address on the pod's interface; -EADDRNOTAVAIL when it has none. */
int podnet_address_first(const char *netns_path, const char *ifname, struct in_addr *addr);
int podnet_address_remove(const char *netns_path, const char *ifname, const struct ip_prefix *addr);

/* A DHCP datagram (IPv4/UDP framed) out of `master` in the daemon's own namespace:
 * the way to reach the server once the pod is gone. */
int podnet_send_via_master(const char *master, const uint8_t *datagram, size_t len);

/* The pod's address moved from `from` to `to`: its route through `master`'s hostReach
 * shim (the macvlan plugin's, in the daemon's own namespace, the node's) follows.
 * -ESRCH when the pod has none (its network does not ask for hostReach). */
int podnet_host_route_follow(const char *master, struct in_addr from, struct in_addr to);
