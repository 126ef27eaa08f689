#include <arpa/inet.h>
#include <string.h>

#include "dhcp4/acd.h"

#define ARP_HTYPE_ETHER 1
#define ARP_PTYPE_IPV4 0x0800
#define ARP_OP_REQUEST 1

/* RFC 826 field offsets, for a 6-octet hardware and a 4-octet protocol address. */
enum {
	ARP_HTYPE = 0,
	ARP_PTYPE = 2,
	ARP_HLEN = 4,
	ARP_PLEN = 5,
	ARP_OPER = 6,
	ARP_SHA = 8,
	ARP_SPA = 14,
	ARP_THA = 18,
	ARP_TPA = 24,
};

static uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void acd_probe_build(uint8_t out[ACD_ARP_LEN], const uint8_t mac[6], struct in_addr addr)
{
	memset(out, 0, ACD_ARP_LEN);
	put_u16(out + ARP_HTYPE, ARP_HTYPE_ETHER);
	put_u16(out + ARP_PTYPE, ARP_PTYPE_IPV4);
	out[ARP_HLEN] = 6;
	out[ARP_PLEN] = 4;
	put_u16(out + ARP_OPER, ARP_OP_REQUEST);
	memcpy(out + ARP_SHA, mac, 6);
	memcpy(out + ARP_TPA, &addr.s_addr, 4);
}

void acd_announcement_build(uint8_t out[ACD_ARP_LEN], const uint8_t mac[6], struct in_addr addr)
{
	acd_probe_build(out, mac, addr);
	memcpy(out + ARP_SPA, &addr.s_addr, 4);
}

bool acd_conflict(const uint8_t *arp, size_t len, const uint8_t mac[6], struct in_addr addr, uint8_t holder[6])
{
	static const uint8_t zero[4];

	if (len < ACD_ARP_LEN || get_u16(arp + ARP_HTYPE) != ARP_HTYPE_ETHER ||
	    get_u16(arp + ARP_PTYPE) != ARP_PTYPE_IPV4 || arp[ARP_HLEN] != 6 || arp[ARP_PLEN] != 4)
		return false;
	/* Our own probe, looped back or echoed by a switch, says nothing. */
	if (memcmp(arp + ARP_SHA, mac, 6) == 0)
		return false;
	bool holds = memcmp(arp + ARP_SPA, &addr.s_addr, 4) == 0;
	bool probes = memcmp(arp + ARP_SPA, zero, 4) == 0 && memcmp(arp + ARP_TPA, &addr.s_addr, 4) == 0 &&
		      get_u16(arp + ARP_OPER) == ARP_OP_REQUEST;
	if (!holds && !probes)
		return false;
	memcpy(holder, arp + ARP_SHA, 6);
	return true;
}
