/* IPv4/UDP framing of DHCP messages for packet sockets, which see whole IP datagrams
 * (SOCK_DGRAM, ETH_P_IP: the link layer is the kernel's), and the socket filter. */
#pragma once

#include <linux/filter.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPV4_HEADER_LEN 20
#define UDP_HEADER_LEN 8
#define DHCP_PACKET_HEADROOM (IPV4_HEADER_LEN + UDP_HEADER_LEN)

/* Writes IP and UDP headers with checksums in front of `payload` into `out` (which
 * has DHCP_PACKET_HEADROOM + len octets). Returns the datagram length. */
size_t dhcp_packet_frame(uint8_t *out, const uint8_t *payload, size_t len, struct in_addr src, struct in_addr dst,
			 uint16_t src_port, uint16_t dst_port);

enum dhcp_packet_error {
	DHCP_PACKET_OK = 0,
	DHCP_PACKET_NOT_IPV4,
	DHCP_PACKET_BAD_IP_LENGTH,
	DHCP_PACKET_FRAGMENT,
	DHCP_PACKET_NOT_UDP,
	DHCP_PACKET_BAD_IP_CHECKSUM,
	DHCP_PACKET_BAD_UDP_LENGTH,
	DHCP_PACKET_WRONG_PORT,
	DHCP_PACKET_BAD_UDP_CHECKSUM,
};

/* Finds the UDP payload of a datagram to port 68. `checksum_partial`: the kernel said
 * the checksum was never filled in (TP_STATUS_CSUMNOTREADY on veth and virtio), so it
 * is not verified; a zero UDP checksum means "none" (RFC 768). */
enum dhcp_packet_error dhcp_packet_unframe(const uint8_t *packet, size_t len, bool checksum_partial,
					   const uint8_t **payload, size_t *payload_len);
const char *dhcp_packet_error_name(enum dhcp_packet_error e);

/* Internet checksum (RFC 1071) over `len` octets, continuing from `sum`. */
uint32_t inet_checksum_add(uint32_t sum, const void *data, size_t len);
uint16_t inet_checksum_fold(uint32_t sum);

/* A classic BPF program for a SOCK_DGRAM/ETH_P_IP packet socket that passes only
 * unfragmented IPv4 UDP to port 68 carrying a BOOTREPLY with the DHCP cookie, our
 * xid and our chaddr. */
#define DHCP_FILTER_LEN 22
void dhcp_filter_build(struct sock_filter prog[DHCP_FILTER_LEN], uint32_t xid, const uint8_t mac[6]);
