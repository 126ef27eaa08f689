/* libFuzzer: an ARP packet from the pod's link, through the RFC 5227 conflict test. */
#include <stdint.h>
#include <string.h>

#include "dhcp4/acd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 1 };
	struct in_addr addr = { 0 };
	uint8_t holder[6];

	/* The probed address is the packet's sender or target address (by the length's
	 * parity), so both kinds of conflict are reachable. */
	if (size >= ACD_ARP_LEN)
		memcpy(&addr.s_addr, data + (size % 2 ? 14 : 24), 4);
	(void)acd_conflict(data, size, mac, addr, holder);
	return 0;
}
