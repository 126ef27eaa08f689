/* A granted address checked before it is taken (ipam.arpProbe): RFC 5227 ARP Probes
 * from the pod's interface, a DHCPDECLINE when another host answers for it, and ARP
 * Announcements once it is ours. RFC 2131 4.4.1: "The client SHOULD perform a check on
 * the suggested address to ensure that the address is not already in use." */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>

#include "dhcpd/closer.h"
#include "dhcpd/lease_entry.h"
#include "dhcpd/podnet.h"
#include "dhcp4/acd.h"
#include "rtnl/link.h"

/* RFC 5227 2.1.1: PROBE_NUM probes. RFC 5227 spaces them 1 to 2 s apart for links of
 * any speed; here they are spread over the configured window, since a host on a LAN
 * answers in well under a millisecond. */
#define PROBE_NUM 3
/* RFC 5227 2.3: "ANNOUNCE_NUM ARP Announcements, spaced ANNOUNCE_INTERVAL seconds
 * apart", so that neighbours drop what their caches held for the address. */
#define ANNOUNCE_NUM 2
#define ANNOUNCE_INTERVAL_MS 2000

static void on_arp(struct loop_source *source, uint32_t events);

void lease_probe_stop(struct lease_entry *e)
{
	lease_close_source(e->d, &e->arp);
	e->probe_at = UINT64_MAX;
}

static bool probing(const struct lease_entry *e)
{
	return e->arp.fd >= 0 && e->client.state == DHCP_STATE_GRANTED;
}

static int send_arp(struct lease_entry *e, void (*build)(uint8_t *, const uint8_t *, struct in_addr),
		    const char *what)
{
	uint8_t packet[ACD_ARP_LEN];
	int r;

	build(packet, e->mac, dhcp_client_lease(&e->client)->address);
	if ((r = podnet_arp_send(e->arp.fd, e->ifindex, packet, sizeof(packet))) < 0)
		daemon_log("%s: sending an ARP %s on %s failed: %s", e->key, what, e->ifname, strerror(-r));
	return r;
}

static void send_probe(struct lease_entry *e)
{
	if (send_arp(e, acd_probe_build, "probe") == 0)
		e->probes_out++;
	e->probes_sent++;
	/* Probes at 0, 1/3 and 2/3 of the window; the verdict at its end. */
	e->probe_at = e->probe_start + (uint64_t)e->arp_probe_ms * e->probes_sent / PROBE_NUM;
}

static void announce(struct lease_entry *e, uint64_t now)
{
	/* Lost again already (a DHCPNAK): nothing to announce. */
	if (!dhcp_client_lease(&e->client)) {
		lease_probe_stop(e);
		return;
	}
	send_arp(e, acd_announcement_build, "announcement");
	if (++e->announcements == ANNOUNCE_NUM)
		lease_probe_stop(e);
	else
		e->probe_at = now + ANNOUNCE_INTERVAL_MS;
}

static void take_it(struct lease_entry *e, uint64_t now)
{
	if (e->probes_out == 0)
		daemon_log("%s: no ARP probe could be sent on %s: taking the address unchecked", e->key, e->ifname);
	dhcp_client_accept(&e->client, now);
	lease_pump(e, now);
	announce(e, now);
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
	e->probes_sent = e->probes_out = e->announcements = 0;
	send_probe(e);
}

void lease_probe_tick(struct lease_entry *e, uint64_t now)
{
	if (!probing(e))
		announce(e, now);
	else if (e->probes_sent < PROBE_NUM)
		send_probe(e);
	else
		take_it(e, now);
}

static void decline(struct lease_entry *e, const uint8_t holder[6])
{
	char mac[MAC_STRLEN], addr[INET_ADDRSTRLEN], why[64];
	uint64_t now = loop_now_ms();

	mac_format(holder, mac);
	inet_ntop(AF_INET, &dhcp_client_lease(&e->client)->address, addr, sizeof(addr));
	snprintf(why, sizeof(why), "in use by %s", mac);
	daemon_log("%s: %s is %s (it answered the ARP probe on %s): declining it", e->key, addr, why, e->ifname);
	lease_probe_stop(e);
	dhcp_client_decline(&e->client, now, why);
	lease_pump(e, now);
}

static void on_arp(struct loop_source *source, uint32_t events)
{
	struct lease_entry *e = source->data;
	uint8_t buf[128], holder[6];
	(void)events;

	/* While announcing, what arrives is only drained: RFC 5227 2.4's defence of an
	 * address in use is the pod kernel's business. */
	for (int budget = 16; budget > 0 && e->arp.fd >= 0 && !e->dead; budget--) {
		ssize_t n = podnet_arp_recv(e->arp.fd, buf, sizeof(buf));
		if (n < 0)
			break;
		if (probing(e) && acd_conflict(buf, (size_t)n, e->mac, dhcp_client_lease(&e->client)->address, holder)) {
			decline(e, holder);
			break;
		}
	}
}
