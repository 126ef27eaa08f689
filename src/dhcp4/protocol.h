/* DHCPv4 wire constants: RFC 2131 (protocol), RFC 2132 (options) and friends. */
#pragma once

#include <stdint.h>

#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68

/* RFC 2131 2: op */
#define BOOTREQUEST 1
#define BOOTREPLY 2
#define ARPHRD_ETHER_TYPE 1 /* htype: 10Mb Ethernet, per "Assigned Numbers" */

/* RFC 2131 3: "the first four octets of the 'options' field ... 99, 130, 83, 99" */
#define DHCP_MAGIC_COOKIE 0x63825363u

/* RFC 2131 2: the broadcast bit is the leftmost bit of 'flags'. */
#define DHCP_FLAG_BROADCAST 0x8000

/* RFC 2131 2: fixed-format part of the message, 236 octets before the options. */
struct dhcp_header {
	uint8_t op;
	uint8_t htype;
	uint8_t hlen;
	uint8_t hops;
	uint32_t xid;
	uint16_t secs;
	uint16_t flags;
	uint32_t ciaddr;
	uint32_t yiaddr;
	uint32_t siaddr;
	uint32_t giaddr;
	uint8_t chaddr[16];
	uint8_t sname[64];
	uint8_t file[128];
} __attribute__((packed));

#define DHCP_HEADER_LEN 236
#define DHCP_COOKIE_LEN 4
/* RFC 2131 2: "a DHCP client must be prepared to receive DHCP messages with an
 * 'options' field of at least length 312 octets" -> 576-byte IP datagrams. */
#define DHCP_MIN_MAX_MESSAGE 576
/* RFC 1542 2.1 / BOOTP: requests are padded to 300 octets of BOOTP payload. */
#define BOOTP_MIN_LEN 300

/* RFC 2132 9.6: DHCP message type values */
enum dhcp_message_type {
	DHCPDISCOVER = 1,
	DHCPOFFER = 2,
	DHCPREQUEST = 3,
	DHCPDECLINE = 4,
	DHCPACK = 5,
	DHCPNAK = 6,
	DHCPRELEASE = 7,
	DHCPINFORM = 8,
};

/* RFC 2132 option codes (and later RFCs where noted) */
enum dhcp_option_code {
	DHCP_OPTION_PAD = 0,
	DHCP_OPTION_SUBNET_MASK = 1,
	DHCP_OPTION_ROUTER = 3,
	DHCP_OPTION_DOMAIN_NAME_SERVER = 6,
	DHCP_OPTION_HOST_NAME = 12,
	DHCP_OPTION_DOMAIN_NAME = 15,
	DHCP_OPTION_INTERFACE_MTU = 26,
	DHCP_OPTION_BROADCAST_ADDRESS = 28,
	DHCP_OPTION_STATIC_ROUTE = 33,
	DHCP_OPTION_NTP_SERVERS = 42,
	DHCP_OPTION_VENDOR_SPECIFIC = 43,
	DHCP_OPTION_REQUESTED_IP_ADDRESS = 50,
	DHCP_OPTION_IP_ADDRESS_LEASE_TIME = 51,
	DHCP_OPTION_OVERLOAD = 52,
	DHCP_OPTION_MESSAGE_TYPE = 53,
	DHCP_OPTION_SERVER_IDENTIFIER = 54,
	DHCP_OPTION_PARAMETER_REQUEST_LIST = 55,
	DHCP_OPTION_MESSAGE = 56,
	DHCP_OPTION_MAXIMUM_MESSAGE_SIZE = 57,
	DHCP_OPTION_RENEWAL_TIME = 58,
	DHCP_OPTION_REBINDING_TIME = 59,
	DHCP_OPTION_VENDOR_CLASS_IDENTIFIER = 60,
	DHCP_OPTION_CLIENT_IDENTIFIER = 61,
	DHCP_OPTION_USER_CLASS = 77,          /* RFC 3004 */
	DHCP_OPTION_FQDN = 81,                /* RFC 4702 */
	DHCP_OPTION_DOMAIN_SEARCH = 119,      /* RFC 3397 */
	DHCP_OPTION_CLASSLESS_STATIC_ROUTE = 121, /* RFC 3442 */
	DHCP_OPTION_END = 255,
};

/* RFC 2132 9.3: option overload values */
enum {
	DHCP_OVERLOAD_FILE = 1,
	DHCP_OVERLOAD_SNAME = 2,
	DHCP_OVERLOAD_BOTH = 3,
};

/* RFC 2131 4.4.5: T1 defaults to 0.5 * lease, T2 to 0.875 * lease. */
#define DHCP_T1_NUM 1
#define DHCP_T1_DEN 2
#define DHCP_T2_NUM 7
#define DHCP_T2_DEN 8

/* RFC 2131 4.4.5: "the client SHOULD wait one-half of the remaining time until T2
 * (in RENEWING state) and one-half of the remaining lease time (in REBINDING state),
 * down to a minimum of 60 seconds, before retransmitting". */
#define DHCP_RENEW_RETRY_MIN_S 60

/* RFC 2131 4.1: "delay 4 seconds before the first retransmission ... doubled on each
 * subsequent retransmission up to a maximum of 64 seconds ... randomized by the
 * value of a uniform random number chosen from the range -1 to +1". */
#define DHCP_RETRANSMIT_INITIAL_S 4
#define DHCP_RETRANSMIT_MAX_S 64

/* RFC 2132 9.2: leases of 0xffffffff seconds are infinite. */
#define DHCP_LEASE_INFINITE 0xffffffffu
