/* IPv4/UDP framing (dhcp_packet_frame/unframe), Internet checksums, and the classic
 * BPF socket filter, run here by a small interpreter over framed packets. */
#include "dhcp_helpers.h"

#include <netinet/ip.h>
#include <netinet/udp.h>

#include "dhcp4/packet.h"

#define XID 0x1d0c0001u

/* A framed DHCPOFFER from 192.0.2.1:67 to 255.255.255.255:68; returns the length. */
static size_t framed_reply(uint8_t *out, uint8_t op, uint32_t xid, const uint8_t mac[6])
{
	struct test_msg m;

	msg_reply(&m, DHCPOFFER, xid, "192.0.2.100", "192.0.2.1");
	m.data[0] = op;
	memcpy(m.data + offsetof(struct dhcp_header, chaddr), mac, 6);
	msg_finish(&m);
	return dhcp_packet_frame(out, m.data, m.len, ip4("192.0.2.1"), ip4("255.255.255.255"), DHCP_SERVER_PORT,
				 DHCP_CLIENT_PORT);
}

static void fix_ip_checksum(uint8_t *packet)
{
	size_t ihl = (size_t)(packet[0] & 0xf) * 4;

	packet[10] = packet[11] = 0;
	uint16_t sum = inet_checksum_fold(inet_checksum_add(0, packet, ihl));
	packet[10] = (uint8_t)(sum >> 8);
	packet[11] = (uint8_t)sum;
}

static void set_u16(uint8_t *p, uint16_t value)
{
	p[0] = (uint8_t)(value >> 8);
	p[1] = (uint8_t)value;
}

static enum dhcp_packet_error unframe(const uint8_t *packet, size_t len, bool partial)
{
	const uint8_t *payload = NULL;
	size_t payload_len = 0;

	return dhcp_packet_unframe(packet, len, partial, &payload, &payload_len);
}

/* ---- checksums ---- */

static void checksum_of_the_rfc1071_example(void **state)
{
	/* RFC 1071 4.1: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 (one's complement 220d). */
	static const uint8_t data[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	(void)state;

	assert_int_equal(inet_checksum_fold(inet_checksum_add(0, data, sizeof(data))), 0x220d);
	/* Odd lengths pad with a zero octet; sums continue across calls. */
	uint32_t sum = inet_checksum_add(0, data, 4);
	assert_int_equal(inet_checksum_fold(inet_checksum_add(sum, data + 4, 4)), 0x220d);
	assert_int_equal(inet_checksum_fold(inet_checksum_add(0, (const uint8_t[]){ 0x12 }, 1)), (uint16_t)~0x1200);
}

/* ---- framing ---- */

static void frame_writes_ip_and_udp_headers(void **state)
{
	uint8_t payload[300], packet[400];
	struct iphdr ip;
	struct udphdr udp;
	(void)state;

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)i;
	size_t len = dhcp_packet_frame(packet, payload, sizeof(payload), ip4("0.0.0.0"), ip4("255.255.255.255"), 68, 67);
	assert_int_equal(len, 328);
	memcpy(&ip, packet, sizeof(ip));
	memcpy(&udp, packet + 20, sizeof(udp));
	assert_int_equal(ip.version, 4);
	assert_int_equal(ip.ihl, 5);
	assert_int_equal(ip.tos, 0);
	assert_int_equal(ntohs(ip.tot_len), 328);
	assert_int_equal(ntohs(ip.frag_off), 0);
	assert_true(ip.ttl > 0);
	assert_int_equal(ip.protocol, IPPROTO_UDP);
	assert_addr_equal((struct in_addr){ ip.saddr }, "0.0.0.0");
	assert_addr_equal((struct in_addr){ ip.daddr }, "255.255.255.255");
	assert_int_equal(inet_checksum_fold(inet_checksum_add(0, packet, 20)), 0);
	assert_int_equal(ntohs(udp.source), 68);
	assert_int_equal(ntohs(udp.dest), 67);
	assert_int_equal(ntohs(udp.len), 308);
	assert_int_not_equal(udp.check, 0);
	assert_memory_equal(packet + 28, payload, sizeof(payload));
}

static void frame_then_unframe_round_trips(void **state)
{
	uint8_t payload[301], packet[400];
	const uint8_t *got = NULL;
	size_t got_len = 0;
	(void)state;

	/* An odd length exercises the checksum's padding octet. */
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 13 + 1);
	size_t len = dhcp_packet_frame(packet, payload, sizeof(payload), ip4("192.0.2.1"), ip4("192.0.2.100"), 67, 68);
	assert_int_equal(dhcp_packet_unframe(packet, len, false, &got, &got_len), DHCP_PACKET_OK);
	assert_ptr_equal(got, packet + 28);
	assert_int_equal(got_len, sizeof(payload));
	assert_memory_equal(got, payload, sizeof(payload));
}

static void computed_zero_checksum_is_sent_as_all_ones(void **state)
{
	uint8_t payload[300] = { 1, 2, 3 }, packet[400];
	(void)state;

	/* Putting the checksum into the last payload word makes the sum 0xffff, whose
	 * complement is 0: RFC 768 sends that as 0xffff, since 0 means "no checksum". */
	size_t len = dhcp_packet_frame(packet, payload, sizeof(payload), ip4("192.0.2.1"), ip4("192.0.2.100"), 67, 68);
	payload[298] = packet[26];
	payload[299] = packet[27];
	len = dhcp_packet_frame(packet, payload, sizeof(payload), ip4("192.0.2.1"), ip4("192.0.2.100"), 67, 68);
	assert_int_equal(packet[26], 0xff);
	assert_int_equal(packet[27], 0xff);
	assert_int_equal(unframe(packet, len, false), DHCP_PACKET_OK);
}

static void corrupted_payload_fails_the_udp_checksum(void **state)
{
	uint8_t packet[600];
	(void)state;

	size_t len = framed_reply(packet, BOOTREPLY, XID, test_mac);
	assert_int_equal(unframe(packet, len, false), DHCP_PACKET_OK);
	packet[len - 1] ^= 0x01;
	assert_int_equal(unframe(packet, len, false), DHCP_PACKET_BAD_UDP_CHECKSUM);
	/* The kernel said the checksum was never filled in: not verified. */
	assert_int_equal(unframe(packet, len, true), DHCP_PACKET_OK);
}

static void corrupted_pseudo_header_fails_the_udp_checksum(void **state)
{
	uint8_t packet[600];
	(void)state;

	size_t len = framed_reply(packet, BOOTREPLY, XID, test_mac);
	packet[15] ^= 0x01; /* source address, covered by the pseudo header */
	fix_ip_checksum(packet);
	assert_int_equal(unframe(packet, len, false), DHCP_PACKET_BAD_UDP_CHECKSUM);
}

static void zero_udp_checksum_means_none(void **state)
{
	uint8_t packet[600];
	(void)state;

	size_t len = framed_reply(packet, BOOTREPLY, XID, test_mac);
	packet[26] = packet[27] = 0;
	packet[len - 1] ^= 0x01;
	assert_int_equal(unframe(packet, len, false), DHCP_PACKET_OK);
}

static void udp_length_below_header_is_rejected(void **state)
{
	uint8_t packet[600];
	(void)state;

	size_t len = framed_reply(packet, BOOTREPLY, XID, test_mac);
	for (uint16_t bad = 0; bad < 8; bad++) {
		set_u16(packet + 24, bad);
		assert_int_equal(unframe(packet, len, true), DHCP_PACKET_BAD_UDP_LENGTH);
	}
}

static void udp_length_past_the_datagram_is_rejected(void **state)
{
	uint8_t packet[600];
	(void)state;

	size_t len = framed_reply(packet, BOOTREPLY, XID, test_mac);
	set_u16(packet + 24, (uint16_t)(len - 20 + 1));
	assert_int_equal(unframe(packet, len, true), DHCP_PACKET_BAD_UDP_LENGTH);
}

static void udp_length_shorter_than_the_datagram_bounds_the_payload(void **state)
{
	uint8_t packet[600];
	const uint8_t *payload;
	size_t payload_len;
	(void)state;

	/* Link-layer padding past the UDP datagram is not payload. */
	size_t len = framed_reply(packet, BOOTREPLY, XID, test_mac);
	set_u16(packet + 24, 8 + 290);
	assert_int_equal(dhcp_packet_unframe(packet, len, true, &payload, &payload_len), DHCP_PACKET_OK);
	assert_int_equal(payload_len, 290);
}

static void ip_datagram_too_short_for_udp_is_rejected(void **state)
{
	uint8_t packet[600];
	(void)state;

	size_t len = framed_reply(packet, BOOTREPLY, XID, test_mac);
	set_u16(packet + 2, 20 + 7);
	fix_ip_checksum(packet);
	assert_int_equal(unframe(packet, len, true), DHCP_PACKET_BAD_UDP_LENGTH);
}

static void fragments_are_rejected(void **state)
{
	static const uint16_t frag[] = { IP_MF, 1, 185, IP_MF | 3, IP_OFFMASK };
	uint8_t packet[600];
	(void)state;

	size_t len = framed_reply(packet, BOOTREPLY, XID, test_mac);
	for (size_t i = 0; i < DH_N_ELEMENTS(frag); i++) {
		set_u16(packet + 6, frag[i]);
		fix_ip_checksum(packet);
		assert_int_equal(unframe(packet, len, true), DHCP_PACKET_FRAGMENT);
	}
	/* Don't-fragment is fine. */
	set_u16(packet + 6, IP_DF);
	fix_ip_checksum(packet);
	assert_int_equal(unframe(packet, len, false), DHCP_PACKET_OK);
}

static void non_udp_is_rejected(void **state)
{
	uint8_t packet[600];
	(void)state;

	size_t len = framed_reply(packet, BOOTREPLY, XID, test_mac);
	packet[9] = IPPROTO_TCP;
	fix_ip_checksum(packet);
	assert_int_equal(unframe(packet, len, true), DHCP_PACKET_NOT_UDP);
}

static void wrong_port_is_rejected(void **state)
{
	uint8_t packet[600];
	(void)state;

	size_t len = framed_reply(packet, BOOTREPLY, XID, test_mac);
	set_u16(packet + 22, DHCP_SERVER_PORT);
	assert_int_equal(unframe(packet, len, true), DHCP_PACKET_WRONG_PORT);
}

static void bad_ip_header_checksum_is_rejected(void **state)
{
	uint8_t packet[600];
	(void)state;

	size_t len = framed_reply(packet, BOOTREPLY, XID, test_mac);
	packet[8] ^= 0x10; /* TTL */
	assert_int_equal(unframe(packet, len, true), DHCP_PACKET_BAD_IP_CHECKSUM);
}

static void not_ipv4_is_rejected(void **state)
{
	uint8_t packet[600];
	(void)state;

	size_t len = framed_reply(packet, BOOTREPLY, XID, test_mac);
	packet[0] = 0x65;
	assert_int_equal(unframe(packet, len, true), DHCP_PACKET_NOT_IPV4);
}

static void bad_ip_lengths_are_rejected(void **state)
{
	uint8_t packet[600];
	(void)state;

	size_t len = framed_reply(packet, BOOTREPLY, XID, test_mac);
	assert_int_equal(unframe(packet, 19, true), DHCP_PACKET_BAD_IP_LENGTH);
	/* The datagram claims more than we got. */
	assert_int_equal(unframe(packet, len - 1, true), DHCP_PACKET_BAD_IP_LENGTH);
	/* Header length under 20 */
	packet[0] = 0x44;
	assert_int_equal(unframe(packet, len, true), DHCP_PACKET_BAD_IP_LENGTH);
	/* Total length under the header length */
	packet[0] = 0x45;
	set_u16(packet + 2, 19);
	fix_ip_checksum(packet);
	assert_int_equal(unframe(packet, len, true), DHCP_PACKET_BAD_IP_LENGTH);
}

/* A datagram with 4 octets of IP options (NOPs): ihl = 6. */
static size_t with_ip_options(uint8_t *out, const uint8_t *packet, size_t len)
{
	memcpy(out, packet, 20);
	memset(out + 20, 1, 4);
	memcpy(out + 24, packet + 20, len - 20);
	out[0] = 0x46;
	set_u16(out + 2, (uint16_t)(len + 4));
	fix_ip_checksum(out);
	return len + 4;
}

static void ip_options_move_the_udp_header(void **state)
{
	uint8_t packet[600], opts[610];
	const uint8_t *payload;
	size_t payload_len;
	(void)state;

	size_t len = with_ip_options(opts, packet, framed_reply(packet, BOOTREPLY, XID, test_mac));
	assert_int_equal(dhcp_packet_unframe(opts, len, false, &payload, &payload_len), DHCP_PACKET_OK);
	assert_ptr_equal(payload, opts + 32);
	assert_int_equal(payload[0], BOOTREPLY);
}

static void error_names(void **state)
{
	(void)state;
	assert_string_equal(dhcp_packet_error_name(DHCP_PACKET_OK), "ok");
	assert_string_equal(dhcp_packet_error_name(DHCP_PACKET_FRAGMENT), "IP fragment");
	assert_string_equal(dhcp_packet_error_name(DHCP_PACKET_BAD_UDP_CHECKSUM), "bad UDP checksum");
	assert_string_equal(dhcp_packet_error_name((enum dhcp_packet_error)99), "?");
}

/* ---- the socket filter ---- */

/* Classic BPF, the subset the filter uses. Loads past the end make the kernel return 0
 * (drop), and so does this. */
static uint32_t bpf_run(const struct sock_filter *prog, size_t n, const uint8_t *pkt, size_t len)
{
	uint32_t a = 0, x = 0;

	for (size_t pc = 0; pc < n; pc++) {
		const struct sock_filter *f = &prog[pc];
		uint32_t k = f->k, at;
		switch (f->code) {
		case BPF_LD | BPF_W | BPF_ABS:
		case BPF_LD | BPF_H | BPF_ABS:
		case BPF_LD | BPF_B | BPF_ABS:
		case BPF_LD | BPF_W | BPF_IND:
		case BPF_LD | BPF_H | BPF_IND:
		case BPF_LD | BPF_B | BPF_IND: {
			size_t size = BPF_SIZE(f->code) == BPF_W ? 4 : BPF_SIZE(f->code) == BPF_H ? 2 : 1;
			at = BPF_MODE(f->code) == BPF_IND ? x + k : k;
			if (at < (BPF_MODE(f->code) == BPF_IND ? x : 0) || (size_t)at + size > len)
				return 0;
			a = 0;
			for (size_t i = 0; i < size; i++)
				a = a << 8 | pkt[at + i];
			break;
		}
		case BPF_LDX | BPF_B | BPF_MSH:
			if (k >= len)
				return 0;
			x = (uint32_t)(pkt[k] & 0xf) * 4;
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			a &= k;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == k ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += (a & k) ? f->jt : f->jf;
			break;
		case BPF_RET | BPF_K:
			return k;
		default:
			fail_msg("instruction %zu: opcode 0x%x is not in the interpreter", pc, f->code);
		}
		if (pc >= n)
			fail_msg("jump past the end of the program at %zu", pc);
	}
	fail_msg("the program fell off its end");
	return 0;
}

static uint32_t filter(const uint8_t *packet, size_t len)
{
	struct sock_filter prog[DHCP_FILTER_LEN];

	dhcp_filter_build(prog, XID, test_mac);
	return bpf_run(prog, DHCP_FILTER_LEN, packet, len);
}

static void filter_accepts_our_reply(void **state)
{
	uint8_t packet[600];
	(void)state;

	size_t len = framed_reply(packet, BOOTREPLY, XID, test_mac);
	assert_int_equal(filter(packet, len), 0xffffffffu);
}

static void filter_rejects_another_xid(void **state)
{
	uint8_t packet[600];
	(void)state;

	assert_int_equal(filter(packet, framed_reply(packet, BOOTREPLY, XID + 1, test_mac)), 0);
	assert_int_equal(filter(packet, framed_reply(packet, BOOTREPLY, XID ^ 0x80000000u, test_mac)), 0);
}

static void filter_rejects_another_mac(void **state)
{
	uint8_t packet[600], mac[6];
	(void)state;

	/* The filter compares the MAC in two loads: change a byte of each. */
	for (size_t i = 0; i < 6; i++) {
		memcpy(mac, test_mac, 6);
		mac[i] ^= 0x01;
		if (filter(packet, framed_reply(packet, BOOTREPLY, XID, mac)) != 0)
			fail_msg("a reply to a MAC differing in octet %zu passed", i);
	}
}

static void filter_rejects_bootrequest(void **state)
{
	uint8_t packet[600];
	(void)state;

	assert_int_equal(filter(packet, framed_reply(packet, BOOTREQUEST, XID, test_mac)), 0);
}

static void filter_rejects_fragments(void **state)
{
	uint8_t packet[600];
	(void)state;

	size_t len = framed_reply(packet, BOOTREPLY, XID, test_mac);
	set_u16(packet + 6, IP_MF);
	assert_int_equal(filter(packet, len), 0);
	set_u16(packet + 6, 20);
	assert_int_equal(filter(packet, len), 0);
	set_u16(packet + 6, IP_DF);
	assert_int_equal(filter(packet, len), 0xffffffffu);
}

static void filter_rejects_wrong_port(void **state)
{
	uint8_t packet[600];
	(void)state;

	size_t len = framed_reply(packet, BOOTREPLY, XID, test_mac);
	set_u16(packet + 22, 67);
	assert_int_equal(filter(packet, len), 0);
}

static void filter_rejects_missing_cookie(void **state)
{
	uint8_t packet[600];
	(void)state;

	size_t len = framed_reply(packet, BOOTREPLY, XID, test_mac);
	packet[28 + DHCP_HEADER_LEN] = 0; /* plain BOOTP */
	assert_int_equal(filter(packet, len), 0);
	/* Cut before the cookie: the load fails and the kernel drops. */
	assert_int_equal(filter(packet, 28 + DHCP_HEADER_LEN + 2), 0);
}

static void filter_rejects_non_udp_and_non_ipv4(void **state)
{
	uint8_t packet[600];
	(void)state;

	size_t len = framed_reply(packet, BOOTREPLY, XID, test_mac);
	packet[9] = IPPROTO_TCP;
	assert_int_equal(filter(packet, len), 0);
	packet[9] = IPPROTO_UDP;
	packet[0] = 0x65;
	assert_int_equal(filter(packet, len), 0);
}

static void filter_finds_udp_after_ip_options(void **state)
{
	uint8_t packet[600], opts[610];
	(void)state;

	size_t len = with_ip_options(opts, packet, framed_reply(packet, BOOTREPLY, XID, test_mac));
	assert_int_equal(filter(opts, len), 0xffffffffu);
	/* Same frame, other xid: the xid is read relative to X too. */
	opts[24 + 8 + 7] ^= 1;
	assert_int_equal(filter(opts, len), 0);
}

static void filter_accepts_what_real_servers_sent(void **state)
{
	static const char *const files[] = { "dnsmasq-offer.bin", "dnsmasq-ack.bin", "dhcpd-ack.bin",
					     "udhcpd-ack.bin", "dhcpd-overload-ack.bin" };
	static const uint32_t xids[] = { 0x1d0c0001, 0x1d0c0001, 0x1d0c0002, 0x1d0c0003, 0x1d0c0005 };
	uint8_t packet[DHCP_MESSAGE_MAX + DHCP_PACKET_HEADROOM];
	struct sock_filter prog[DHCP_FILTER_LEN];
	(void)state;

	for (size_t i = 0; i < DH_N_ELEMENTS(files); i++) {
		size_t n;
		uint8_t *data = load_vector(files[i], &n);
		size_t len = dhcp_packet_frame(packet, data, n, ip4("192.0.2.1"), ip4("255.255.255.255"), 67, 68);
		dhcp_filter_build(prog, xids[i], test_mac);
		if (bpf_run(prog, DHCP_FILTER_LEN, packet, len) != 0xffffffffu)
			fail_msg("the filter dropped %s", files[i]);
		dhcp_filter_build(prog, xids[i] + 1, test_mac);
		assert_int_equal(bpf_run(prog, DHCP_FILTER_LEN, packet, len), 0);
		free(data);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(checksum_of_the_rfc1071_example),
		cmocka_unit_test(frame_writes_ip_and_udp_headers),
		cmocka_unit_test(frame_then_unframe_round_trips),
		cmocka_unit_test(computed_zero_checksum_is_sent_as_all_ones),
		cmocka_unit_test(corrupted_payload_fails_the_udp_checksum),
		cmocka_unit_test(corrupted_pseudo_header_fails_the_udp_checksum),
		cmocka_unit_test(zero_udp_checksum_means_none),
		cmocka_unit_test(udp_length_below_header_is_rejected),
		cmocka_unit_test(udp_length_past_the_datagram_is_rejected),
		cmocka_unit_test(udp_length_shorter_than_the_datagram_bounds_the_payload),
		cmocka_unit_test(ip_datagram_too_short_for_udp_is_rejected),
		cmocka_unit_test(fragments_are_rejected),
		cmocka_unit_test(non_udp_is_rejected),
		cmocka_unit_test(wrong_port_is_rejected),
		cmocka_unit_test(bad_ip_header_checksum_is_rejected),
		cmocka_unit_test(not_ipv4_is_rejected),
		cmocka_unit_test(bad_ip_lengths_are_rejected),
		cmocka_unit_test(ip_options_move_the_udp_header),
		cmocka_unit_test(error_names),
		cmocka_unit_test(filter_accepts_our_reply),
		cmocka_unit_test(filter_rejects_another_xid),
		cmocka_unit_test(filter_rejects_another_mac),
		cmocka_unit_test(filter_rejects_bootrequest),
		cmocka_unit_test(filter_rejects_fragments),
		cmocka_unit_test(filter_rejects_wrong_port),
		cmocka_unit_test(filter_rejects_missing_cookie),
		cmocka_unit_test(filter_rejects_non_udp_and_non_ipv4),
		cmocka_unit_test(filter_finds_udp_after_ip_options),
		cmocka_unit_test(filter_accepts_what_real_servers_sent),
	};
	return cmocka_run_group_tests_name("dhcp_packet", tests, NULL, NULL);
}
