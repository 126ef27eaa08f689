/* The pod's link as one lease uses it, a small state machine of its own that follows
 * the DHCP client's: a packet socket while broadcasting, a UDP socket from the leased
 * address while renewing, nothing while bound, the node's master once the pod is
 * gone. Sockets pin the pod's namespace, so they are held only while talking. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dhcp4/client.h"
#include "dhcpd/loop.h"
#include "util/ratelimit.h"

enum link_state {
	LINK_IDLE,       /* no socket: bound, granted, or stopped */
	LINK_BROADCAST,  /* the packet socket (opened at the first send), filtered to one transaction */
	LINK_RENEWING,   /* the UDP socket to the server, and the packet socket for broadcast DHCPNAKs */
	LINK_VIA_MASTER, /* the pod is gone: sends leave from the master, in the daemon's namespace */
};

/* A DHCP message (UDP payload) arrived for the lease. */
typedef void (*link_payload_fn)(void *ctx, const uint8_t *payload, size_t len);

struct lease_link {
	enum link_state state;
	struct loop *loop;
	const char *key;        /* the lease's, for messages */
	const char *netns_path; /* the pod's namespace, with the daemon's host prefix */
	const char *ifname;
	const char *master; /* NULL when the network names none */
	int ifindex;
	uint8_t mac[6];
	uint32_t xid;        /* the transaction the packet socket's filter must pass */
	uint32_t filter_xid; /* the one it passes */
	struct loop_source packet;
	struct loop_source udp;
	uint8_t last_from[6];  /* the source MAC of the last frame the packet socket heard */
	uint8_t server_mac[6]; /* the bound server's (link_remember_server); all zero: not known */
	struct ratelimit dropped_log; /* a flood of bad frames is not a flood of log lines */
	link_payload_fn on_payload;
	void *ctx;
};

void link_init(struct lease_link *link, struct loop *loop, const char *key, const char *netns_path,
	       const char *ifname, const char *master, int ifindex, const uint8_t mac[6], link_payload_fn on_payload,
	       void *ctx);
/* Closes every socket (LINK_IDLE). */
void link_close(struct lease_link *link);

/* Takes the state the client's state needs: sockets no longer needed close, the
 * packet socket opens to hear DHCPNAKs while renewing, the filter follows `xid`. */
void link_follow(struct lease_link *link, enum dhcp_client_state client, uint32_t xid);
/* The pod's namespace or interface is gone: LINK_VIA_MASTER from now on. */
void link_lose_pod(struct lease_link *link);

/* Sends `out` as its transport says: broadcast out of the packet socket, unicast from
 * the UDP socket (-EADDRNOTAVAIL: the leased address is not on the pod's interface),
 * and anything out of the master once the pod is gone. */
int link_send(struct lease_link *link, const struct dhcp_output *out);
/* The same datagram broadcast out of the packet socket (a unicast that could not
 * leave from the leased address). */
int link_broadcast(struct lease_link *link, const struct dhcp_output *out);
/* The lease was just bound by what the packet socket heard last: that frame came
 * from the server (or from the router in front of it). */
void link_remember_server(struct lease_link *link);
/* The server's MAC from elsewhere (a restored record). */
void link_know_server(struct lease_link *link, const uint8_t mac[6]);
/* The server's MAC is known (remembered since the last DHCPACK came in). */
bool link_knows_server(const struct lease_link *link);
/* The datagram framed straight to the remembered server's MAC (to the link's
 * broadcast address when none is known): it leaves at once, with no ARP to wait for. */
int link_frame_to_server(struct lease_link *link, const struct dhcp_output *out);
/* A renewal's unicast DHCPREQUEST framed to the known server's MAC, with the UDP
 * socket its reply comes to (bound to the leased address) opened first. */
int link_renew_via_server_mac(struct lease_link *link, const struct dhcp_output *out);
