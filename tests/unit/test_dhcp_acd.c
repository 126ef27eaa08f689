/* RFC 5227 address conflict detection: the ARP Probe as sent, octet by octet, and
 * which received ARP packets mean the address is taken. */
#include "dhcp_helpers.h"

#include "dhcp4/acd.h"

static const uint8_t OURS[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t THEIRS[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x99 };

static bool conflict(const uint8_t packet[ACD_ARP_LEN], uint8_t holder[6])
{
	return acd_conflict(packet, ACD_ARP_LEN, OURS, ip4("192.0.2.100"), holder);
}

static void probe_is_a_request_from_0_0_0_0(void **state)
{
	uint8_t probe[ACD_ARP_LEN], want[ACD_ARP_LEN];
	(void)state;

	acd_probe_build(probe, OURS, ip4("192.0.2.100"));
	arp_packet(want, 1, OURS, "0.0.0.0", "192.0.2.100");
	assert_memory_equal(probe, want, ACD_ARP_LEN);
	/* 'target hardware address' all zero (RFC 5227 2.1.1: "SHOULD be set to all zeroes"). */
	static const uint8_t zero[6];
	assert_memory_equal(probe + 18, zero, 6);
}

static void announcement_names_the_address_twice(void **state)
{
	uint8_t announcement[ACD_ARP_LEN], want[ACD_ARP_LEN];
	(void)state;

	acd_announcement_build(announcement, OURS, ip4("192.0.2.100"));
	arp_packet(want, 1, OURS, "192.0.2.100", "192.0.2.100");
	assert_memory_equal(announcement, want, ACD_ARP_LEN);
}

static void reply_from_the_holder_is_a_conflict(void **state)
{
	uint8_t packet[ACD_ARP_LEN], holder[6] = { 0 };
	(void)state;

	arp_packet(packet, 2, THEIRS, "192.0.2.100", "0.0.0.0");
	assert_true(conflict(packet, holder));
	assert_memory_equal(holder, THEIRS, 6);
}

static void request_from_the_holder_is_a_conflict(void **state)
{
	uint8_t packet[ACD_ARP_LEN], holder[6] = { 0 };
	(void)state;

	/* The holder asking for someone else (or announcing itself): its sender IP says it. */
	arp_packet(packet, 1, THEIRS, "192.0.2.100", "192.0.2.1");
	assert_true(conflict(packet, holder));
	assert_memory_equal(holder, THEIRS, 6);
}

static void another_hosts_probe_is_a_conflict(void **state)
{
	uint8_t packet[ACD_ARP_LEN], holder[6] = { 0 };
	(void)state;

	arp_packet(packet, 1, THEIRS, "0.0.0.0", "192.0.2.100");
	assert_true(conflict(packet, holder));
	assert_memory_equal(holder, THEIRS, 6);
}

static void our_own_packets_are_no_conflict(void **state)
{
	uint8_t packet[ACD_ARP_LEN], holder[6] = { 0 };
	(void)state;

	acd_probe_build(packet, OURS, ip4("192.0.2.100"));
	assert_false(conflict(packet, holder));
	acd_announcement_build(packet, OURS, ip4("192.0.2.100"));
	assert_false(conflict(packet, holder));
	arp_packet(packet, 2, OURS, "192.0.2.100", "192.0.2.1");
	assert_false(conflict(packet, holder));
}

static void other_addresses_are_no_conflict(void **state)
{
	uint8_t packet[ACD_ARP_LEN], holder[6] = { 0 };
	(void)state;

	arp_packet(packet, 2, THEIRS, "192.0.2.101", "192.0.2.1");
	assert_false(conflict(packet, holder));
	/* Someone asking who has our address is not holding it. */
	arp_packet(packet, 1, THEIRS, "192.0.2.1", "192.0.2.100");
	assert_false(conflict(packet, holder));
	/* A probe for another address. */
	arp_packet(packet, 1, THEIRS, "0.0.0.0", "192.0.2.101");
	assert_false(conflict(packet, holder));
	/* A reply with a zero sender IP is no probe. */
	arp_packet(packet, 2, THEIRS, "0.0.0.0", "192.0.2.100");
	assert_false(conflict(packet, holder));
}

static void short_or_foreign_packets_are_no_conflict(void **state)
{
	uint8_t packet[ACD_ARP_LEN], holder[6] = { 0 };
	(void)state;

	arp_packet(packet, 2, THEIRS, "192.0.2.100", "192.0.2.1");
	assert_false(acd_conflict(packet, ACD_ARP_LEN - 1, OURS, ip4("192.0.2.100"), holder));
	packet[1] = 6; /* IEEE 802 hardware */
	assert_false(conflict(packet, holder));
	arp_packet(packet, 2, THEIRS, "192.0.2.100", "192.0.2.1");
	packet[3] = 0xdd; /* not IPv4 */
	assert_false(conflict(packet, holder));
	arp_packet(packet, 2, THEIRS, "192.0.2.100", "192.0.2.1");
	packet[4] = 8; /* other hardware address length */
	assert_false(conflict(packet, holder));
	arp_packet(packet, 2, THEIRS, "192.0.2.100", "192.0.2.1");
	packet[5] = 16; /* other protocol address length */
	assert_false(conflict(packet, holder));
}

static void padding_after_the_packet_is_ignored(void **state)
{
	uint8_t frame[60] = { 0 }, holder[6] = { 0 };
	(void)state;

	/* Ethernet pads ARP to the 60-octet minimum. */
	arp_packet(frame, 2, THEIRS, "192.0.2.100", "192.0.2.1");
	assert_true(acd_conflict(frame, sizeof(frame), OURS, ip4("192.0.2.100"), holder));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(probe_is_a_request_from_0_0_0_0),
		cmocka_unit_test(announcement_names_the_address_twice),
		cmocka_unit_test(reply_from_the_holder_is_a_conflict),
		cmocka_unit_test(request_from_the_holder_is_a_conflict),
		cmocka_unit_test(another_hosts_probe_is_a_conflict),
		cmocka_unit_test(our_own_packets_are_no_conflict),
		cmocka_unit_test(other_addresses_are_no_conflict),
		cmocka_unit_test(short_or_foreign_packets_are_no_conflict),
		cmocka_unit_test(padding_after_the_packet_is_ignored),
	};
	return cmocka_run_group_tests_name("dhcp_acd", tests, NULL, NULL);
}
