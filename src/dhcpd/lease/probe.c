#include <string.h>

#include "dhcp4/acd.h"
#include "dhcpd/closer.h"
#include "dhcpd/lease/probe.h"
#include "dhcpd/log.h"
#include "dhcpd/podnet.h"

/* RFC 5227 2.1.1: PROBE_NUM probes. RFC 5227 spaces them 1 to 2 s apart for links of
 * any speed; here they are spread over the configured window, since a host on a LAN
 * answers in well under a millisecond. */
#define PROBE_NUM 3
/* RFC 5227 2.3: "ANNOUNCE_NUM ARP Announcements, spaced ANNOUNCE_INTERVAL seconds
 * apart", so that neighbours drop what their caches held for the address. */
#define ANNOUNCE_NUM 2
#define ANNOUNCE_INTERVAL_MS 2000
/* Packets read per wake-up. */
#define READ_BUDGET 16

void probe_init(struct lease_probe *p, struct loop *loop, const char *key, const char *ifname, int ifindex,
		const uint8_t mac[6])
{
	*p = (struct lease_probe){
		.phase = PROBE_IDLE,
		.loop = loop,
		.key = key,
		.ifname = ifname,
		.ifindex = ifindex,
		.arp = { .fd = -1 },
		.at = UINT64_MAX,
	};
	memcpy(p->mac, mac, sizeof(p->mac));
}

void probe_stop(struct lease_probe *p)
{
	closer_unwatch(p->loop, &p->arp);
	p->phase = PROBE_IDLE;
	p->at = UINT64_MAX;
}

uint64_t probe_deadline(const struct lease_probe *p)
{
	return p->at;
}

static int send_arp(struct lease_probe *p, void (*build)(uint8_t *, const uint8_t *, struct in_addr), const char *what)
{
	uint8_t packet[ACD_ARP_LEN];
	int r;

	build(packet, p->mac, p->address);
	if ((r = podnet_arp_send(p->arp.fd, p->ifindex, packet, sizeof(packet))) < 0)
		log_warning("%s: sending an ARP %s on %s failed: %s", p->key, what, p->ifname, strerror(-r));
	return r;
}

static void send_probe(struct lease_probe *p)
{
	if (send_arp(p, acd_probe_build, "probe") == 0)
		p->probes_out++;
	p->probes_sent++;
	/* Probes at 0, 1/3 and 2/3 of the window; the verdict at its end. */
	p->at = p->start + (uint64_t)p->window_ms * p->probes_sent / PROBE_NUM;
}

int probe_start(struct lease_probe *p, const char *netns_path, struct in_addr address, uint32_t window_ms,
		loop_handler on_arp, void *data, uint64_t now)
{
	int fd = podnet_arp_socket(netns_path, p->ifindex);

	if (fd < 0 || (fd = closer_watch(p->loop, &p->arp, fd, on_arp, data)) < 0)
		return fd;
	p->phase = PROBE_PROBING;
	p->address = address;
	p->window_ms = window_ms;
	p->start = now;
	p->probes_sent = p->probes_out = p->announcements = 0;
	send_probe(p);
	return 0;
}

static void announce_next(struct lease_probe *p, uint64_t now)
{
	send_arp(p, acd_announcement_build, "announcement");
	if (++p->announcements == ANNOUNCE_NUM)
		probe_stop(p);
	else
		p->at = now + ANNOUNCE_INTERVAL_MS;
}

void probe_announce(struct lease_probe *p, uint64_t now)
{
	if (p->arp.fd < 0)
		return;
	p->phase = PROBE_ANNOUNCING;
	announce_next(p, now);
}

enum probe_verdict probe_tick(struct lease_probe *p, uint64_t now)
{
	switch (p->phase) {
	case PROBE_IDLE:
		p->at = UINT64_MAX;
		return PROBE_WAIT;
	case PROBE_PROBING:
		if (p->probes_sent < PROBE_NUM) {
			send_probe(p);
			return PROBE_WAIT;
		}
		if (p->probes_out == 0)
			log_warning("%s: no ARP probe could be sent on %s: taking the address unchecked", p->key,
				    p->ifname);
		p->at = UINT64_MAX;
		return PROBE_CLEAR;
	case PROBE_ANNOUNCING:
		announce_next(p, now);
		return PROBE_WAIT;
	}
	return PROBE_WAIT;
}

enum probe_verdict probe_read(struct lease_probe *p, uint8_t holder[6])
{
	uint8_t buf[128];

	for (int budget = READ_BUDGET; budget > 0 && p->arp.fd >= 0; budget--) {
		ssize_t n = podnet_arp_recv(p->arp.fd, buf, sizeof(buf));
		if (n < 0)
			break;
		if (p->phase == PROBE_PROBING && acd_conflict(buf, (size_t)n, p->mac, p->address, holder))
			return PROBE_CONFLICT;
	}
	return PROBE_WAIT;
}
