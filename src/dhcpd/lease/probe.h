/* A granted address checked before it is taken (ipam.arpProbe): RFC 5227 ARP Probes
 * from the pod's interface, then ARP Announcements once it is taken. The probe only
 * sends and listens; what a verdict means for the lease is the lease's to decide.
 * RFC 2131 4.4.1: "The client SHOULD perform a check on the suggested address to
 * ensure that the address is not already in use." */
#pragma once

#include <netinet/in.h>
#include <stdint.h>

#include "dhcpd/loop.h"

enum probe_phase {
	PROBE_IDLE,
	PROBE_PROBING,    /* probes out, listening for another holder */
	PROBE_ANNOUNCING, /* the address is taken: telling the neighbours */
};

enum probe_verdict {
	PROBE_WAIT,     /* nothing decided: ask again at probe_deadline() */
	PROBE_CLEAR,    /* the window ended and nobody answered: take the address */
	PROBE_CONFLICT, /* another host holds it, or probes for it */
};

struct lease_probe {
	enum probe_phase phase;
	struct loop *loop;
	const char *key; /* the lease's, for messages */
	const char *ifname;
	int ifindex;
	uint8_t mac[6];
	struct in_addr address;
	struct loop_source arp;
	uint32_t window_ms;
	uint64_t start;
	uint64_t at; /* the next probe, announcement or verdict; UINT64_MAX: none */
	unsigned probes_sent;
	unsigned probes_out; /* sent without an error */
	unsigned announcements;
};

void probe_init(struct lease_probe *p, struct loop *loop, const char *key, const char *ifname, int ifindex,
		const uint8_t mac[6]);
/* Opens the ARP socket in the pod's namespace (readable: `on_arp` runs, and calls
 * probe_read) and sends the first probe; -errno when no probe can go out. */
int probe_start(struct lease_probe *p, const char *netns_path, struct in_addr address, uint32_t window_ms,
		loop_handler on_arp, void *data, uint64_t now);
/* At probe_deadline(): the next probe, or at the end of the window PROBE_CLEAR (with
 * no probe sent at all, the address is taken unchecked, and that is logged). While
 * announcing: the next announcement. */
enum probe_verdict probe_tick(struct lease_probe *p, uint64_t now);
/* Reads what the socket has: PROBE_CONFLICT with the holder's MAC when another host
 * answered for the address; while announcing, what arrives is only drained (RFC 5227
 * 2.4's defence of an address in use is the pod kernel's business). */
enum probe_verdict probe_read(struct lease_probe *p, uint8_t holder[6]);
/* The address was taken: ANNOUNCE_NUM announcements, then the socket closes. */
void probe_announce(struct lease_probe *p, uint64_t now);
void probe_stop(struct lease_probe *p);
uint64_t probe_deadline(const struct lease_probe *p);
