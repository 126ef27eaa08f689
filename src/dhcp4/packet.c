#include <arpa/inet.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <string.h>

#include "dhcp4/packet.h"
#include "dhcp4/protocol.h"

uint32_t inet_checksum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

uint16_t inet_checksum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* RFC 768: the UDP checksum covers a pseudo header of addresses, protocol, length. */
static uint32_t pseudo_header_sum(struct in_addr src, struct in_addr dst, uint16_t udp_len)
{
	uint32_t sum = inet_checksum_add(0, &src, 4);

	sum = inet_checksum_add(sum, &dst, 4);
	return sum + IPPROTO_UDP + udp_len;
}

size_t dhcp_packet_frame(uint8_t *out, const uint8_t *payload, size_t len, struct in_addr src, struct in_addr dst,
			 uint16_t src_port, uint16_t dst_port)
{
	struct iphdr ip = {
		.version = 4,
		.ihl = IPV4_HEADER_LEN / 4,
		.tos = 0, /* DSCP CS0 */
		.tot_len = htons((uint16_t)(DHCP_PACKET_HEADROOM + len)),
		.ttl = IPDEFTTL,
		.protocol = IPPROTO_UDP,
		.saddr = src.s_addr,
		.daddr = dst.s_addr,
	};
	struct udphdr udp = {
		.source = htons(src_port),
		.dest = htons(dst_port),
		.len = htons((uint16_t)(UDP_HEADER_LEN + len)),
	};

	ip.check = htons(inet_checksum_fold(inet_checksum_add(0, &ip, sizeof(ip))));
	uint32_t sum = pseudo_header_sum(src, dst, (uint16_t)(UDP_HEADER_LEN + len));
	sum = inet_checksum_add(sum, &udp, sizeof(udp));
	uint16_t check = inet_checksum_fold(inet_checksum_add(sum, payload, len));
	/* RFC 768: a computed zero is sent as all ones. */
	udp.check = htons(check ? check : 0xffff);

	memcpy(out, &ip, sizeof(ip));
	memcpy(out + IPV4_HEADER_LEN, &udp, sizeof(udp));
	memcpy(out + DHCP_PACKET_HEADROOM, payload, len);
	return DHCP_PACKET_HEADROOM + len;
}

const char *dhcp_packet_error_name(enum dhcp_packet_error e)
{
	switch (e) {
	case DHCP_PACKET_OK: return "ok";
	case DHCP_PACKET_NOT_IPV4: return "not IPv4";
	case DHCP_PACKET_BAD_IP_LENGTH: return "bad IP header or total length";
	case DHCP_PACKET_FRAGMENT: return "IP fragment";
	case DHCP_PACKET_NOT_UDP: return "not UDP";
	case DHCP_PACKET_BAD_IP_CHECKSUM: return "bad IP header checksum";
	case DHCP_PACKET_BAD_UDP_LENGTH: return "bad UDP length";
	case DHCP_PACKET_WRONG_PORT: return "not for UDP port 68";
	case DHCP_PACKET_BAD_UDP_CHECKSUM: return "bad UDP checksum";
	}
	return "?";
}

enum dhcp_packet_error dhcp_packet_unframe(const uint8_t *packet, size_t len, bool checksum_partial,
					   const uint8_t **payload, size_t *payload_len)
{
	struct iphdr ip;
	struct udphdr udp;

	if (len < IPV4_HEADER_LEN)
		return DHCP_PACKET_BAD_IP_LENGTH;
	memcpy(&ip, packet, sizeof(ip));
	if (ip.version != 4)
		return DHCP_PACKET_NOT_IPV4;
	size_t ihl = (size_t)ip.ihl * 4, total = ntohs(ip.tot_len);
	if (ihl < IPV4_HEADER_LEN || total < ihl || total > len)
		return DHCP_PACKET_BAD_IP_LENGTH;
	if (ntohs(ip.frag_off) & (IP_MF | IP_OFFMASK))
		return DHCP_PACKET_FRAGMENT;
	if (ip.protocol != IPPROTO_UDP)
		return DHCP_PACKET_NOT_UDP;
	if (inet_checksum_fold(inet_checksum_add(0, packet, ihl)) != 0)
		return DHCP_PACKET_BAD_IP_CHECKSUM;
	if (total - ihl < UDP_HEADER_LEN)
		return DHCP_PACKET_BAD_UDP_LENGTH;
	memcpy(&udp, packet + ihl, sizeof(udp));
	size_t udp_len = ntohs(udp.len);
	/* An udp.len under 8 once made a client read out of bounds. */
	if (udp_len < UDP_HEADER_LEN || udp_len > total - ihl)
		return DHCP_PACKET_BAD_UDP_LENGTH;
	if (ntohs(udp.dest) != DHCP_CLIENT_PORT)
		return DHCP_PACKET_WRONG_PORT;
	if (udp.check && !checksum_partial) {
		struct in_addr src = { ip.saddr }, dst = { ip.daddr };
		uint32_t sum = inet_checksum_add(pseudo_header_sum(src, dst, (uint16_t)udp_len), packet + ihl, udp_len);
		if (inet_checksum_fold(sum) != 0)
			return DHCP_PACKET_BAD_UDP_CHECKSUM;
	}
	*payload = packet + ihl + UDP_HEADER_LEN;
	*payload_len = udp_len - UDP_HEADER_LEN;
	return DHCP_PACKET_OK;
}

/* Offsets from the start of the UDP header (X = IP header length). */
#define BOOTP_AT(off) (UDP_HEADER_LEN + (off))

void dhcp_filter_build(struct sock_filter prog[DHCP_FILTER_LEN], uint32_t xid, const uint8_t mac[6])
{
	uint32_t mac_high = (uint32_t)mac[0] << 24 | (uint32_t)mac[1] << 16 | (uint32_t)mac[2] << 8 | mac[3];
	uint32_t mac_low = (uint32_t)mac[4] << 8 | mac[5];
	const struct sock_filter filter[DHCP_FILTER_LEN] = {
		/* IPv4 */
		BPF_STMT(BPF_LD + BPF_B + BPF_ABS, 0),
		BPF_STMT(BPF_ALU + BPF_AND + BPF_K, 0xf0),
		BPF_JUMP(BPF_JMP + BPF_JEQ + BPF_K, 0x40, 0, 18),
		/* UDP */
		BPF_STMT(BPF_LD + BPF_B + BPF_ABS, offsetof(struct iphdr, protocol)),
		BPF_JUMP(BPF_JMP + BPF_JEQ + BPF_K, IPPROTO_UDP, 0, 16),
		/* not a fragment: MF clear, offset zero */
		BPF_STMT(BPF_LD + BPF_H + BPF_ABS, offsetof(struct iphdr, frag_off)),
		BPF_JUMP(BPF_JMP + BPF_JSET + BPF_K, IP_MF | IP_OFFMASK, 14, 0),
		/* X = IP header length */
		BPF_STMT(BPF_LDX + BPF_B + BPF_MSH, 0),
		/* to port 68 */
		BPF_STMT(BPF_LD + BPF_H + BPF_IND, offsetof(struct udphdr, dest)),
		BPF_JUMP(BPF_JMP + BPF_JEQ + BPF_K, DHCP_CLIENT_PORT, 0, 11),
		/* BOOTREPLY */
		BPF_STMT(BPF_LD + BPF_B + BPF_IND, BOOTP_AT(offsetof(struct dhcp_header, op))),
		BPF_JUMP(BPF_JMP + BPF_JEQ + BPF_K, BOOTREPLY, 0, 9),
		/* our transaction */
		BPF_STMT(BPF_LD + BPF_W + BPF_IND, BOOTP_AT(offsetof(struct dhcp_header, xid))),
		BPF_JUMP(BPF_JMP + BPF_JEQ + BPF_K, xid, 0, 7),
		/* our hardware address */
		BPF_STMT(BPF_LD + BPF_W + BPF_IND, BOOTP_AT(offsetof(struct dhcp_header, chaddr))),
		BPF_JUMP(BPF_JMP + BPF_JEQ + BPF_K, mac_high, 0, 5),
		BPF_STMT(BPF_LD + BPF_H + BPF_IND, BOOTP_AT(offsetof(struct dhcp_header, chaddr) + 4)),
		BPF_JUMP(BPF_JMP + BPF_JEQ + BPF_K, mac_low, 0, 3),
		/* DHCP, not BOOTP */
		BPF_STMT(BPF_LD + BPF_W + BPF_IND, BOOTP_AT(DHCP_HEADER_LEN)),
		BPF_JUMP(BPF_JMP + BPF_JEQ + BPF_K, DHCP_MAGIC_COOKIE, 0, 1),
		BPF_STMT(BPF_RET + BPF_K, 0xffffffff),
		BPF_STMT(BPF_RET + BPF_K, 0),
	};
	memcpy(prog, filter, sizeof(filter));
}
