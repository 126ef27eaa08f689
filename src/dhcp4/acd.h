/* IPv4 Address Conflict Detection (RFC 5227) for a granted lease: the ARP Probe that
 * asks whether anyone holds the address, and the test of what comes back. Only ARP
 * payloads (packet sockets with SOCK_DGRAM, ETH_P_ARP: the link layer is the kernel's). */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An ARP packet for Ethernet and IPv4 (RFC 826): 8 octets of header, two 6+4 pairs. */
#define ACD_ARP_LEN 28

/* RFC 5227 1.1: "an ARP Request packet, broadcast on the local link, with an
 * all-zero 'sender IP address'", the probed address as 'target IP address' and a
 * zero 'target hardware address'. */
void acd_probe_build(uint8_t out[ACD_ARP_LEN], const uint8_t mac[6], struct in_addr addr);
/* RFC 5227 2.3: an ARP Announcement is "identical to the ARP Probe described above,
 * except that now the sender and target IP addresses are both set to the host's newly
 * selected IPv4 address". */
void acd_announcement_build(uint8_t out[ACD_ARP_LEN], const uint8_t mac[6], struct in_addr addr);

/* RFC 5227 2.1.1: whether a received ARP packet says another host has `addr`: any
 * Request or Reply whose 'sender IP address' is `addr`, or another host's Probe for
 * it (its 'target IP address', sender hardware address not `mac`). The other host's
 * hardware address goes to `holder`. Anything that is not Ethernet/IPv4 ARP is no
 * conflict. */
bool acd_conflict(const uint8_t *arp, size_t len, const uint8_t mac[6], struct in_addr addr, uint8_t holder[6]);
