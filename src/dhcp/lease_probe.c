/* A granted address checked before it is taken (ipam.arpProbe): RFC 5227 ARP Probes
 * from the pod's interface, and a DHCPDECLINE when another host answers for it. RFC
 * 2131 4.4.1: "The client SHOULD perform a check on the suggested address to ensure
 * that the address is not already in use." */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>

#include "dhcp/closer.h"
#include "dhcp/lease_entry.h"
#include "dhcp/podnet.h"
#include "dhcp4/acd.h"
#include "rtnl/link.h"

/* RFC 5227 2.1.1: PROBE_NUM probes, spread over the window (RFC 5227 spreads them over
 * 1 to 2 s each; a LAN host answers in well under a millisecond). */
#define PROBE_NUM 3

static void on_arp(struct loop_source *source, uint32_t events);

static void stop_probing(struct lease_entry *e)
{
	lease_close_source(e->d, &e->arp);
	e->probe_at = UINT64_MAX;
}

static void send_probe(struct lease_entry *e)
{
	const struct dhcp_lease *granted = dhcp_client_lease(&e->client);
	uint8_t probe[ACD_ARP_LEN];
	int r;

	acd_probe_build(probe, e->mac, granted->address);
	if ((r = podnet_arp_send(e->arp.fd, e->ifindex, probe, sizeof(probe))) < 0)
		daemon_log("%s: sending an ARP probe on %s failed: %s", e->key, e->ifname, strerror(-r));
	e->probes_sent++;
	/* Probes at 0, 1/3 and 2/3 of the window; the verdict at its end. */
	e->probe_at = e->probe_start + (uint64_t)e->arp_probe_ms * e->probes_sent / PROBE_NUM;
}

static void take_it(struct lease_entry *e, uint64_t now)
{
	stop_probing(e);
	dhcp_client_accept(&e->client, now);
	lease_pump(e, now);
}

void lease_probe_start(struct lease_entry *e, uint64_t now)
{
	int fd = podnet_arp_socket(e->netns_path, e->ifindex);

	if (fd >= 0) {
		e->arp = (struct loop_source){ .fd = fd, .handler = on_arp, .data = e };
		if (loop_add(&e->d->loop, &e->arp, EPOLLIN) < 0) {
			closer_close(fd);
			e->arp.fd = -1;
			fd = -EIO;
		}
	}
	if (fd < 0) {
		daemon_log("%s: cannot probe for the granted address on %s (%s): taking it unchecked", e->key, e->ifname,
			   strerror(-fd));
		dhcp_client_accept(&e->client, now);
		return;
	}
	e->probe_start = now;
	e->probes_sent = 0;
	send_probe(e);
}

void lease_probe_tick(struct lease_entry *e, uint64_t now)
{
	if (e->probes_sent < PROBE_NUM)
		send_probe(e);
	else
		take_it(e, now);
}

static void decline(struct lease_entry *e, const uint8_t holder[6])
{
	const struct dhcp_lease *granted = dhcp_client_lease(&e->client);
	char mac[MAC_STRLEN], addr[INET_ADDRSTRLEN], why[64];
	uint64_t now = loop_now_ms();

	mac_format(holder, mac);
	inet_ntop(AF_INET, &granted->address, addr, sizeof(addr));
	snprintf(why, sizeof(why), "in use by %s", mac);
	daemon_log("%s: %s is %s (it answered the ARP probe on %s): declining it", e->key, addr, why, e->ifname);
	stop_probing(e);
	dhcp_client_decline(&e->client, now, why);
	lease_pump(e, now);
}

static void on_arp(struct loop_source *source, uint32_t events)
{
	struct lease_entry *e = source->data;
	uint8_t buf[128], holder[6];
	(void)events;

	while (e->arp.fd >= 0) {
		ssize_t n = podnet_arp_recv(e->arp.fd, buf, sizeof(buf));
		if (n < 0)
			break;
		if (acd_conflict(buf, (size_t)n, e->mac, dhcp_client_lease(&e->client)->address, holder)) {
			decline(e, holder);
			break;
		}
	}
}
