/* The DHCP message codec: dhcp_builder writes, dhcp_message_parse reads (RFC 2131,
 * RFC 2132 option 52, RFC 3396 concatenation). */
#include "dhcp_helpers.h"

/* ---- round trips ---- */

static void roundtrip_keeps_every_header_field(void **state)
{
	struct test_msg m;
	(void)state;

	msg_header(&m, BOOTREPLY, 0xdeadbeef);
	m.header.hops = 3;
	m.header.secs = htons(513);
	m.header.flags = htons(DHCP_FLAG_BROADCAST);
	m.header.ciaddr = ip4("10.0.0.1").s_addr;
	m.header.yiaddr = ip4("10.0.0.2").s_addr;
	m.header.siaddr = ip4("10.0.0.3").s_addr;
	m.header.giaddr = ip4("10.0.0.4").s_addr;
	memcpy(m.header.sname, "boot-server", 11);
	memcpy(m.header.file, "pxelinux.0", 10);
	msg_start(&m, DHCPOFFER);
	msg_finish(&m);

	struct dhcp_message *msg = parse_or_fail(m.data, m.len);
	assert_int_equal(msg->header.op, BOOTREPLY);
	assert_int_equal(msg->header.htype, 1);
	assert_int_equal(msg->header.hlen, 6);
	assert_int_equal(msg->header.hops, 3);
	assert_int_equal(ntohl(msg->header.xid), 0xdeadbeef);
	assert_int_equal(ntohs(msg->header.secs), 513);
	assert_int_equal(ntohs(msg->header.flags), DHCP_FLAG_BROADCAST);
	assert_addr_equal((struct in_addr){ msg->header.ciaddr }, "10.0.0.1");
	assert_addr_equal((struct in_addr){ msg->header.yiaddr }, "10.0.0.2");
	assert_addr_equal((struct in_addr){ msg->header.siaddr }, "10.0.0.3");
	assert_addr_equal((struct in_addr){ msg->header.giaddr }, "10.0.0.4");
	assert_memory_equal(msg->header.chaddr, test_mac, 6);
	assert_string_equal((const char *)msg->header.sname, "boot-server");
	assert_string_equal((const char *)msg->header.file, "pxelinux.0");
	assert_int_equal(dhcp_message_type(msg), DHCPOFFER);
	free(msg);
}

static void roundtrip_typed_options(void **state)
{
	static const uint8_t blob[] = { 1, 3, 6, 15, 119, 121 };
	struct test_msg m;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	(void)state;

	msg_header(&m, BOOTREQUEST, 1);
	msg_start(&m, DHCPREQUEST);
	dhcp_builder_put_u8(&m.b, 150, 0xab);
	dhcp_builder_put_u16(&m.b, DHCP_OPTION_MAXIMUM_MESSAGE_SIZE, 1500);
	dhcp_builder_put_u32(&m.b, DHCP_OPTION_IP_ADDRESS_LEASE_TIME, 0x01020304);
	dhcp_builder_put_addr(&m.b, DHCP_OPTION_REQUESTED_IP_ADDRESS, ip4("192.0.2.7"));
	msg_put(&m, DHCP_OPTION_PARAMETER_REQUEST_LIST, blob, sizeof(blob));
	msg_finish(&m);

	struct dhcp_message *msg = parse_or_fail(m.data, m.len);
	assert_int_equal(dhcp_message_get_u8(msg, 150, &u8), 0);
	assert_int_equal(u8, 0xab);
	assert_int_equal(dhcp_message_get_u16(msg, DHCP_OPTION_MAXIMUM_MESSAGE_SIZE, &u16), 0);
	assert_int_equal(u16, 1500);
	assert_int_equal(dhcp_message_get_u32(msg, DHCP_OPTION_IP_ADDRESS_LEASE_TIME, &u32), 0);
	assert_int_equal(u32, 0x01020304);
	assert_option_addr(msg, DHCP_OPTION_REQUESTED_IP_ADDRESS, "192.0.2.7");
	assert_option_equal(msg, DHCP_OPTION_PARAMETER_REQUEST_LIST, blob, sizeof(blob));
	assert_int_equal(dhcp_message_type(msg), DHCPREQUEST);
	free(msg);
}

static void builder_writes_cookie_type_and_end(void **state)
{
	struct test_msg m;
	(void)state;

	msg_header(&m, BOOTREQUEST, 1);
	msg_start(&m, DHCPDISCOVER);
	msg_finish(&m);
	static const uint8_t want[] = { 99, 130, 83, 99, 53, 1, DHCPDISCOVER, 255 };
	assert_memory_equal(m.data + DHCP_HEADER_LEN, want, sizeof(want));
	assert_memory_equal(m.data, &m.header, DHCP_HEADER_LEN);
}

static void builder_pads_to_300_octets(void **state)
{
	struct test_msg m;
	(void)state;

	msg_header(&m, BOOTREQUEST, 1);
	msg_start(&m, DHCPDISCOVER);
	msg_finish(&m);
	assert_int_equal(m.len, BOOTP_MIN_LEN);
	for (size_t i = DHCP_HEADER_LEN + 8; i < m.len; i++)
		assert_int_equal(m.data[i], DHCP_OPTION_PAD);
}

static void builder_does_not_pad_longer_messages(void **state)
{
	uint8_t value[100] = { 0 };
	struct test_msg m;
	(void)state;

	msg_header(&m, BOOTREQUEST, 1);
	msg_start(&m, DHCPDISCOVER);
	msg_put(&m, 43, value, sizeof(value));
	msg_finish(&m);
	/* header, cookie, 53 (3), 43 (2 + 100), END */
	assert_int_equal(m.len, DHCP_HEADER_LEN + 4 + 3 + 102 + 1);
	assert_int_equal(m.data[m.len - 1], DHCP_OPTION_END);
}

static void builder_splits_values_over_255(void **state)
{
	uint8_t value[600];
	struct test_msg m;
	(void)state;

	for (size_t i = 0; i < sizeof(value); i++)
		value[i] = (uint8_t)(i * 7);
	msg_header(&m, BOOTREPLY, 1);
	msg_start(&m, DHCPACK);
	msg_put(&m, DHCP_OPTION_CLASSLESS_STATIC_ROUTE, value, sizeof(value));
	msg_finish(&m);

	/* 255 + 255 + 90, each with its own code and length (RFC 3396). */
	const uint8_t *p = m.data + DHCP_HEADER_LEN + 4 + 3;
	assert_int_equal(p[0], 121);
	assert_int_equal(p[1], 255);
	assert_memory_equal(p + 2, value, 255);
	p += 257;
	assert_int_equal(p[0], 121);
	assert_int_equal(p[1], 255);
	assert_memory_equal(p + 2, value + 255, 255);
	p += 257;
	assert_int_equal(p[0], 121);
	assert_int_equal(p[1], 90);
	assert_memory_equal(p + 2, value + 510, 90);
	assert_int_equal(p[92], DHCP_OPTION_END);

	struct dhcp_message *msg = parse_or_fail(m.data, m.len);
	assert_option_equal(msg, DHCP_OPTION_CLASSLESS_STATIC_ROUTE, value, sizeof(value));
	free(msg);
}

static void builder_255_octets_is_one_instance_256_is_two(void **state)
{
	uint8_t value[256];
	struct test_msg m;
	(void)state;

	memset(value, 'x', sizeof(value));
	msg_header(&m, BOOTREPLY, 1);
	msg_start(&m, DHCPACK);
	msg_put(&m, 119, value, 255);
	msg_put(&m, 121, value, 256);
	msg_finish(&m);
	const uint8_t *p = m.data + DHCP_HEADER_LEN + 4 + 3;
	assert_int_equal(p[0], 119);
	assert_int_equal(p[1], 255);
	p += 257;
	assert_int_equal(p[0], 121);
	assert_int_equal(p[1], 255);
	p += 257;
	assert_int_equal(p[0], 121);
	assert_int_equal(p[1], 1);
	assert_int_equal(p[3], DHCP_OPTION_END);
}

static void builder_zero_length_value_is_one_empty_instance(void **state)
{
	struct test_msg m;
	(void)state;

	msg_header(&m, BOOTREPLY, 1);
	msg_start(&m, DHCPACK);
	msg_put(&m, 80, "", 0);
	msg_finish(&m);
	assert_int_equal(m.data[DHCP_HEADER_LEN + 7], 80);
	assert_int_equal(m.data[DHCP_HEADER_LEN + 8], 0);
	assert_int_equal(m.data[DHCP_HEADER_LEN + 9], DHCP_OPTION_END);

	struct dhcp_message *msg = parse_or_fail(m.data, m.len);
	const uint8_t *v;
	size_t len = 99;
	assert_int_equal(dhcp_message_get(msg, 80, &v, &len), 0);
	assert_int_equal(len, 0);
	free(msg);
}

static void builder_overflow_is_reported_and_sticky(void **state)
{
	uint8_t buf[DHCP_HEADER_LEN + 4 + 3 + 10];
	struct dhcp_header h = { .op = BOOTREQUEST };
	struct dhcp_builder b;
	uint8_t big[20] = { 0 };
	(void)state;

	dhcp_builder_init(&b, buf, sizeof(buf), &h, DHCPDISCOVER);
	assert_false(b.overflow);
	dhcp_builder_put(&b, 43, big, sizeof(big));
	assert_true(b.overflow);
	size_t len = b.len;
	/* A small option that would fit is not written after an overflow. */
	dhcp_builder_put_u8(&b, 1, 1);
	assert_int_equal(b.len, len);
	assert_int_equal(dhcp_builder_finish(&b), -EMSGSIZE);
}

static void builder_fits_exactly_without_padding_room(void **state)
{
	/* 300 octets of room: the message is complete, padding stops at the cap. */
	uint8_t buf[BOOTP_MIN_LEN];
	struct dhcp_header h = { .op = BOOTREQUEST };
	struct dhcp_builder b;
	(void)state;

	dhcp_builder_init(&b, buf, sizeof(buf), &h, DHCPDISCOVER);
	assert_int_equal(dhcp_builder_finish(&b), 0);
	assert_int_equal(b.len, BOOTP_MIN_LEN);

	uint8_t small[DHCP_HEADER_LEN + 4 + 3];
	dhcp_builder_init(&b, small, sizeof(small), &h, DHCPDISCOVER);
	assert_int_equal(dhcp_builder_finish(&b), -EMSGSIZE); /* no room for END */
}

static void builder_put_encoded_appends_options_as_they_are(void **state)
{
	/* 55 and 57 as a caller encodes them once for every message. */
	static const uint8_t encoded[] = { 55, 3, 1, 3, 6, 57, 2, 0x05, 0xdc };
	struct test_msg m;
	(void)state;

	msg_header(&m, BOOTREQUEST, 1);
	msg_start(&m, DHCPDISCOVER);
	dhcp_builder_put_encoded(&m.b, encoded, sizeof(encoded));
	msg_put_addr(&m, DHCP_OPTION_REQUESTED_IP_ADDRESS, "192.0.2.7");
	msg_finish(&m);
	/* Right after 53, before what follows */
	assert_memory_equal(m.data + DHCP_HEADER_LEN + 4 + 3, encoded, sizeof(encoded));
	struct dhcp_message *msg = parse_or_fail(m.data, m.len);
	assert_option_equal(msg, DHCP_OPTION_PARAMETER_REQUEST_LIST, encoded + 2, 3);
	assert_option_equal(msg, DHCP_OPTION_MAXIMUM_MESSAGE_SIZE, encoded + 7, 2);
	assert_option_addr(msg, DHCP_OPTION_REQUESTED_IP_ADDRESS, "192.0.2.7");
	free(msg);
}

static void builder_of_options_alone_makes_what_put_encoded_takes(void **state)
{
	static const uint8_t want[] = { 55, 3, 1, 3, 6, 57, 2, 0x05, 0xdc };
	static const uint8_t prl[] = { 1, 3, 6 };
	uint8_t buf[16];
	struct dhcp_builder b;
	(void)state;

	dhcp_builder_init_options(&b, buf, sizeof(buf));
	assert_int_equal(b.len, 0);
	dhcp_builder_put(&b, DHCP_OPTION_PARAMETER_REQUEST_LIST, prl, sizeof(prl));
	dhcp_builder_put_u16(&b, DHCP_OPTION_MAXIMUM_MESSAGE_SIZE, 1500);
	assert_false(b.overflow);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	/* No room for another: overflow, and the block must not be used. */
	dhcp_builder_put(&b, DHCP_OPTION_HOST_NAME, "a-long-host-name", 16);
	assert_true(b.overflow);
	assert_true(b.len <= sizeof(buf));
}

static void builder_put_encoded_of_nothing_adds_nothing(void **state)
{
	struct test_msg m;
	(void)state;

	msg_header(&m, BOOTREQUEST, 1);
	msg_start(&m, DHCPDISCOVER);
	size_t len = m.b.len;
	dhcp_builder_put_encoded(&m.b, NULL, 0);
	assert_int_equal(m.b.len, len);
	assert_false(m.b.overflow);
}

static void builder_put_encoded_overflow_writes_none_of_them(void **state)
{
	static const uint8_t encoded[] = { 55, 3, 1, 3, 6, 57, 2, 0x05, 0xdc };
	uint8_t buf[DHCP_HEADER_LEN + 4 + 3 + sizeof(encoded)];
	struct dhcp_header h = { .op = BOOTREQUEST };
	struct dhcp_builder b;
	(void)state;

	/* Exactly the room they take: written whole. */
	dhcp_builder_init(&b, buf, sizeof(buf), &h, DHCPDISCOVER);
	dhcp_builder_put_encoded(&b, encoded, sizeof(encoded));
	assert_false(b.overflow);
	assert_int_equal(b.len, sizeof(buf));
	assert_memory_equal(buf + DHCP_HEADER_LEN + 4 + 3, encoded, sizeof(encoded));

	/* One octet short: none of them, and the message is not to be sent. */
	memset(buf, 0, sizeof(buf));
	dhcp_builder_init(&b, buf, sizeof(buf) - 1, &h, DHCPDISCOVER);
	size_t len = b.len;
	dhcp_builder_put_encoded(&b, encoded, sizeof(encoded));
	assert_true(b.overflow);
	assert_int_equal(b.len, len);
	assert_int_equal(buf[len], 0);
	assert_int_equal(dhcp_builder_finish(&b), -EMSGSIZE);

	/* Sticky as for every option: nothing after an overflow either. */
	dhcp_builder_init(&b, buf, DHCP_HEADER_LEN + 4 + 3 + 2, &h, DHCPDISCOVER);
	dhcp_builder_put_u32(&b, 51, 1);
	assert_true(b.overflow);
	len = b.len;
	dhcp_builder_put_encoded(&b, encoded, 2);
	assert_int_equal(b.len, len);
}

/* ---- malformed messages ---- */

static const struct dhcp_header reply_header = { .op = BOOTREPLY, .htype = 1, .hlen = 6 };

static enum dhcp_parse_error parse_raw(const uint8_t *options, size_t len)
{
	uint8_t buf[DHCP_MESSAGE_MAX];
	struct dhcp_message *msg = malloc(sizeof(*msg));
	assert_non_null(msg);
	size_t n = raw_message(buf, &reply_header, options, len);
	enum dhcp_parse_error e = dhcp_message_parse(buf, n, msg);
	free(msg);
	return e;
}

static void parse_rejects_truncated_header(void **state)
{
	uint8_t buf[DHCP_HEADER_LEN + 4] = { 0 };
	struct dhcp_message *msg = malloc(sizeof(*msg));
	(void)state;

	assert_non_null(msg);
	raw_message(buf, &reply_header, NULL, 0);
	assert_int_equal(dhcp_message_parse(buf, 0, msg), DHCP_PARSE_TRUNCATED);
	assert_int_equal(dhcp_message_parse(buf, DHCP_HEADER_LEN, msg), DHCP_PARSE_TRUNCATED);
	assert_int_equal(dhcp_message_parse(buf, DHCP_HEADER_LEN + 3, msg), DHCP_PARSE_TRUNCATED);
	/* Header and cookie but no options: a DHCP message needs its type. */
	assert_int_equal(dhcp_message_parse(buf, DHCP_HEADER_LEN + 4, msg), DHCP_PARSE_NO_TYPE);
	free(msg);
}

static void parse_rejects_bad_cookie(void **state)
{
	struct test_msg m;
	struct dhcp_message *msg = malloc(sizeof(*msg));
	(void)state;

	assert_non_null(msg);
	msg_reply(&m, DHCPOFFER, 1, "10.0.0.2", "10.0.0.1");
	msg_finish(&m);
	m.data[DHCP_HEADER_LEN + 3] = 98; /* 99.130.83.98 */
	assert_int_equal(dhcp_message_parse(m.data, m.len, msg), DHCP_PARSE_BAD_COOKIE);
	memset(m.data + DHCP_HEADER_LEN, 0, 4); /* plain BOOTP */
	assert_int_equal(dhcp_message_parse(m.data, m.len, msg), DHCP_PARSE_BAD_COOKIE);
	free(msg);
}

static void parse_rejects_messages_over_the_maximum(void **state)
{
	uint8_t *buf = calloc(1, DHCP_MESSAGE_MAX + 1);
	struct dhcp_message *msg = malloc(sizeof(*msg));
	static const uint8_t type[] = { 53, 1, DHCPACK, 255 };
	(void)state;

	assert_non_null(buf);
	assert_non_null(msg);
	raw_message(buf, &reply_header, type, sizeof(type));
	/* Padding after END up to the limit is fine; one octet more is not. */
	assert_int_equal(dhcp_message_parse(buf, DHCP_MESSAGE_MAX, msg), DHCP_PARSE_OK);
	assert_int_equal(dhcp_message_parse(buf, DHCP_MESSAGE_MAX + 1, msg), DHCP_PARSE_TOO_LONG);
	free(buf);
	free(msg);
}

static void parse_rejects_option_past_the_end(void **state)
{
	static const uint8_t opts[] = { 53, 1, DHCPACK, 54, 4, 10, 0, 0 };
	(void)state;

	assert_int_equal(parse_raw(opts, sizeof(opts)), DHCP_PARSE_OPTION_OVERRUN);
	/* The same with one octet more is complete. */
	static const uint8_t whole[] = { 53, 1, DHCPACK, 54, 4, 10, 0, 0, 1 };
	assert_int_equal(parse_raw(whole, sizeof(whole)), DHCP_PARSE_OK);
}

static void parse_rejects_missing_length_octet(void **state)
{
	static const uint8_t opts[] = { 53, 1, DHCPACK, 54 };
	(void)state;

	assert_int_equal(parse_raw(opts, sizeof(opts)), DHCP_PARSE_OPTION_OVERRUN);
}

static void parse_accepts_options_without_end(void **state)
{
	static const uint8_t opts[] = { 53, 1, DHCPACK, 51, 4, 0, 0, 0, 60 };
	(void)state;

	assert_int_equal(parse_raw(opts, sizeof(opts)), DHCP_PARSE_OK);
}

static void parse_stops_at_end_and_skips_pad(void **state)
{
	/* PADs between options; after END anything goes, even an overrun. */
	static const uint8_t opts[] = { 0, 0, 53, 1, DHCPACK, 0, 51, 4, 0, 0, 0, 60, 255, 54, 200, 1 };
	uint8_t buf[512];
	uint32_t lease;
	(void)state;

	size_t n = raw_message(buf, &reply_header, opts, sizeof(opts));
	struct dhcp_message *msg = parse_or_fail(buf, n);
	assert_int_equal(dhcp_message_get_u32(msg, 51, &lease), 0);
	assert_int_equal(lease, 60);
	assert_option_absent(msg, 54);
	assert_option_absent(msg, 0);
	assert_option_absent(msg, 255);
	free(msg);
}

static void parse_requires_a_one_octet_message_type(void **state)
{
	static const uint8_t none[] = { 54, 4, 10, 0, 0, 1 };
	static const uint8_t empty[] = { 53, 0 };
	static const uint8_t two[] = { 53, 2, 5, 5 };
	static const uint8_t zero[] = { 53, 1, 0 };
	(void)state;

	assert_int_equal(parse_raw(none, sizeof(none)), DHCP_PARSE_NO_TYPE);
	assert_int_equal(parse_raw(empty, sizeof(empty)), DHCP_PARSE_NO_TYPE);
	assert_int_equal(parse_raw(two, sizeof(two)), DHCP_PARSE_NO_TYPE);
	assert_int_equal(parse_raw(zero, sizeof(zero)), DHCP_PARSE_NO_TYPE);
}

static void zero_length_server_id_is_present_but_invalid(void **state)
{
	static const uint8_t opts[] = { 53, 1, DHCPACK, 54, 0, 51, 0 };
	uint8_t buf[512];
	struct in_addr addr;
	uint32_t lease;
	const uint8_t *v;
	size_t len;
	(void)state;

	size_t n = raw_message(buf, &reply_header, opts, sizeof(opts));
	struct dhcp_message *msg = parse_or_fail(buf, n);
	assert_int_equal(dhcp_message_get(msg, 54, &v, &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(dhcp_message_get_addr(msg, 54, &addr), -EBADMSG);
	assert_int_equal(dhcp_message_get_u32(msg, 51, &lease), -EBADMSG);
	free(msg);
}

static void typed_getters_check_length_and_presence(void **state)
{
	static const uint8_t opts[] = { 53, 1, DHCPACK, 54, 3, 10, 0, 0, 57, 1, 5, 51, 5, 0, 0, 0, 0, 1 };
	uint8_t buf[512];
	struct in_addr addr;
	uint16_t u16;
	uint32_t u32;
	uint8_t u8;
	(void)state;

	size_t n = raw_message(buf, &reply_header, opts, sizeof(opts));
	struct dhcp_message *msg = parse_or_fail(buf, n);
	assert_int_equal(dhcp_message_get_addr(msg, 54, &addr), -EBADMSG);
	assert_int_equal(dhcp_message_get_u16(msg, 57, &u16), -EBADMSG);
	assert_int_equal(dhcp_message_get_u32(msg, 51, &u32), -EBADMSG);
	assert_int_equal(dhcp_message_get_u8(msg, 52, &u8), -ENOENT);
	assert_int_equal(dhcp_message_get_u32(msg, 58, &u32), -ENOENT);
	free(msg);
}

/* ---- duplicates and RFC 3396 concatenation ---- */

static void duplicate_server_id_keeps_the_first(void **state)
{
	/* dnsmasq sends option 54 twice: gluing them would make an 8-octet id. */
	static const uint8_t opts[] = { 53, 1, DHCPACK, 54, 4, 10, 0, 0, 1, 54, 4, 10, 0, 0, 2, 255 };
	uint8_t buf[512];
	(void)state;

	size_t n = raw_message(buf, &reply_header, opts, sizeof(opts));
	struct dhcp_message *msg = parse_or_fail(buf, n);
	assert_option_addr(msg, 54, "10.0.0.1");
	free(msg);
}

static void duplicate_fixed_options_keep_the_first(void **state)
{
	static const uint8_t opts[] = { 53, 1, DHCPOFFER, 53, 1, DHCPNAK,     51, 4, 0, 0, 1, 0,    51, 4, 0, 0, 2, 0,
					1,  4, 255,       255, 255, 0, 1, 4, 255, 255, 0, 0, 255 };
	uint8_t buf[512];
	struct in_addr mask;
	uint32_t lease;
	(void)state;

	size_t n = raw_message(buf, &reply_header, opts, sizeof(opts));
	struct dhcp_message *msg = parse_or_fail(buf, n);
	assert_int_equal(dhcp_message_type(msg), DHCPOFFER);
	assert_int_equal(dhcp_message_get_u32(msg, 51, &lease), 0);
	assert_int_equal(lease, 256);
	assert_int_equal(dhcp_message_get_addr(msg, 1, &mask), 0);
	assert_addr_equal(mask, "255.255.255.0");
	free(msg);
}

static void split_classless_routes_are_concatenated(void **state)
{
	/* RFC 3396: 121 in two instances, split in the middle of a descriptor. */
	static const uint8_t opts[] = { 53, 1, DHCPACK, 121, 3, 24, 192, 168, 3, 4, 10, 0, 0, 1,
					121, 5, 7, 10, 0, 0, 1, 255 };
	static const uint8_t want[] = { 24, 192, 168, 7, 10, 0, 0, 1 };
	uint8_t buf[512];
	(void)state;

	size_t n = raw_message(buf, &reply_header, opts, sizeof(opts));
	struct dhcp_message *msg = parse_or_fail(buf, n);
	assert_option_equal(msg, 121, want, sizeof(want));
	free(msg);
}

static void split_domain_search_is_concatenated_with_others_between(void **state)
{
	static const uint8_t opts[] = { 53, 1, DHCPACK, 119, 3, 1, 'a', 7, 6, 4, 10, 0, 0, 53,
					119, 9, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 255 };
	static const uint8_t want[] = { 1, 'a', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0 };
	uint8_t buf[512];
	(void)state;

	size_t n = raw_message(buf, &reply_header, opts, sizeof(opts));
	struct dhcp_message *msg = parse_or_fail(buf, n);
	assert_option_equal(msg, 119, want, sizeof(want));
	assert_option_addr(msg, 6, "10.0.0.53");
	free(msg);
}

/* ---- option overload (52) ---- */

static size_t overloaded(uint8_t *buf, uint8_t overload, const uint8_t *file, size_t file_len, const uint8_t *sname,
			 size_t sname_len, const uint8_t *opts, size_t opts_len)
{
	struct dhcp_header h = reply_header;
	uint8_t options[300];
	size_t n = 0;

	if (file_len)
		memcpy(h.file, file, file_len);
	if (sname_len)
		memcpy(h.sname, sname, sname_len);
	options[n++] = 53;
	options[n++] = 1;
	options[n++] = DHCPACK;
	if (overload) {
		options[n++] = 52;
		options[n++] = 1;
		options[n++] = overload;
	}
	if (opts_len)
		memcpy(options + n, opts, opts_len);
	n += opts_len;
	options[n++] = 255;
	return raw_message(buf, &h, options, n);
}

static void overload_file_reads_options_from_file(void **state)
{
	static const uint8_t file[] = { 54, 4, 10, 0, 0, 1, 255 };
	/* sname is not overloaded: its text would be an overrun as options. */
	static const uint8_t sname[] = { 'h', 'o', 's', 't' };
	uint8_t buf[600];
	uint8_t overload;
	(void)state;

	size_t n = overloaded(buf, DHCP_OVERLOAD_FILE, file, sizeof(file), sname, sizeof(sname), NULL, 0);
	struct dhcp_message *msg = parse_or_fail(buf, n);
	assert_option_addr(msg, 54, "10.0.0.1");
	assert_int_equal(dhcp_message_get_u8(msg, 52, &overload), 0);
	assert_int_equal(overload, DHCP_OVERLOAD_FILE);
	free(msg);
}

static void overload_sname_reads_options_from_sname(void **state)
{
	static const uint8_t sname[] = { 51, 4, 0, 0, 0, 120, 255 };
	static const uint8_t file[] = { 'p', 'x', 'e' };
	uint8_t buf[600];
	uint32_t lease;
	(void)state;

	size_t n = overloaded(buf, DHCP_OVERLOAD_SNAME, file, sizeof(file), sname, sizeof(sname), NULL, 0);
	struct dhcp_message *msg = parse_or_fail(buf, n);
	assert_int_equal(dhcp_message_get_u32(msg, 51, &lease), 0);
	assert_int_equal(lease, 120);
	free(msg);
}

static void no_overload_leaves_file_and_sname_alone(void **state)
{
	static const uint8_t file[] = { 54, 4, 10, 0, 0, 1, 255 };
	uint8_t buf[600];
	(void)state;

	size_t n = overloaded(buf, 0, file, sizeof(file), file, sizeof(file), NULL, 0);
	struct dhcp_message *msg = parse_or_fail(buf, n);
	assert_option_absent(msg, 54);
	free(msg);
}

static void overload_both_concatenates_options_file_sname_in_order(void **state)
{
	/* RFC 3396 and RFC 2131 4.1: options field, then file, then sname. */
	static const uint8_t opts[] = { 119, 2, 1, 'a' };
	static const uint8_t file[] = { 119, 3, 7, 'e', 'x', 255 };
	static const uint8_t sname[] = { 119, 6, 'a', 'm', 'p', 'l', 'e', 0, 255 };
	static const uint8_t want[] = { 1, 'a', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0 };
	uint8_t buf[600];
	(void)state;

	size_t n = overloaded(buf, DHCP_OVERLOAD_BOTH, file, sizeof(file), sname, sizeof(sname), opts, sizeof(opts));
	struct dhcp_message *msg = parse_or_fail(buf, n);
	assert_option_equal(msg, 119, want, sizeof(want));
	free(msg);
}

static void overload_keeps_first_fixed_option_across_fields(void **state)
{
	static const uint8_t opts[] = { 54, 4, 10, 0, 0, 1 };
	static const uint8_t file[] = { 54, 4, 10, 0, 0, 9, 255 };
	uint8_t buf[600];
	(void)state;

	size_t n = overloaded(buf, DHCP_OVERLOAD_FILE, file, sizeof(file), NULL, 0, opts, sizeof(opts));
	struct dhcp_message *msg = parse_or_fail(buf, n);
	assert_option_addr(msg, 54, "10.0.0.1");
	free(msg);
}

static void overload_inside_file_is_ignored(void **state)
{
	/* file says "sname too"; sname holds text that would overrun if read as options.
	 * Only the options field's 52 counts, so there is no loop and no overrun. */
	static const uint8_t file[] = { 52, 1, 3, 54, 4, 10, 0, 0, 1, 255 };
	static const uint8_t sname[] = { 'x', 'y', 'z' };
	uint8_t buf[600];
	uint8_t overload;
	(void)state;

	size_t n = overloaded(buf, DHCP_OVERLOAD_FILE, file, sizeof(file), sname, sizeof(sname), NULL, 0);
	struct dhcp_message *msg = parse_or_fail(buf, n);
	assert_option_addr(msg, 54, "10.0.0.1");
	assert_int_equal(dhcp_message_get_u8(msg, 52, &overload), 0);
	assert_int_equal(overload, DHCP_OVERLOAD_FILE);
	free(msg);
}

static void overload_inside_sname_pointing_at_itself_is_ignored(void **state)
{
	static const uint8_t sname[] = { 52, 1, 2, 51, 4, 0, 0, 0, 30, 255 };
	uint8_t buf[600];
	uint32_t lease;
	(void)state;

	size_t n = overloaded(buf, DHCP_OVERLOAD_SNAME, NULL, 0, sname, sizeof(sname), NULL, 0);
	struct dhcp_message *msg = parse_or_fail(buf, n);
	assert_int_equal(dhcp_message_get_u32(msg, 51, &lease), 0);
	assert_int_equal(lease, 30);
	free(msg);
}

static void overload_file_with_overrun_is_rejected(void **state)
{
	uint8_t file[128];
	uint8_t buf[600];
	struct dhcp_message *msg = malloc(sizeof(*msg));
	(void)state;

	assert_non_null(msg);
	memset(file, 0, sizeof(file));
	file[126] = 43; /* code, length, and no room for the value */
	file[127] = 5;
	size_t n = overloaded(buf, DHCP_OVERLOAD_FILE, file, sizeof(file), NULL, 0, NULL, 0);
	assert_int_equal(dhcp_message_parse(buf, n, msg), DHCP_PARSE_OPTION_OVERRUN);
	free(msg);
}

static void overload_with_bad_length_is_no_overload(void **state)
{
	static const uint8_t opts[] = { 52, 2, 1, 0 };
	static const uint8_t file[] = { 54, 4, 10, 0, 0, 1, 255 };
	uint8_t buf[600];
	(void)state;

	size_t n = overloaded(buf, 0, file, sizeof(file), NULL, 0, opts, sizeof(opts));
	struct dhcp_message *msg = parse_or_fail(buf, n);
	assert_option_absent(msg, 54);
	free(msg);
}

static void duplicate_overload_keeps_the_first(void **state)
{
	static const uint8_t opts[] = { 52, 1, 2 };
	static const uint8_t file[] = { 54, 4, 10, 0, 0, 1, 255 };
	static const uint8_t sname[] = { 51, 4, 0, 0, 0, 30, 255 };
	uint8_t buf[600];
	uint8_t overload;
	(void)state;

	/* The first 52 says file; the second would say sname. */
	size_t n = overloaded(buf, DHCP_OVERLOAD_FILE, file, sizeof(file), sname, sizeof(sname), opts, sizeof(opts));
	struct dhcp_message *msg = parse_or_fail(buf, n);
	assert_option_addr(msg, 54, "10.0.0.1");
	assert_option_absent(msg, 51);
	assert_int_equal(dhcp_message_get_u8(msg, 52, &overload), 0);
	assert_int_equal(overload, DHCP_OVERLOAD_FILE);
	free(msg);
}

static void largest_message_concatenates_everything(void **state)
{
	/* 4096 octets of 255-octet instances of one option, plus file and sname full of
	 * it too: the values buffer must hold it all. */
	uint8_t *buf = calloc(1, DHCP_MESSAGE_MAX);
	uint8_t *o = calloc(1, DHCP_MESSAGE_MAX);
	struct dhcp_header h = reply_header;
	size_t total = 0;
	(void)state;

	assert_non_null(buf);
	assert_non_null(o);
	for (size_t i = 0; i + 2 + 126 <= sizeof(h.file); i += 128, total += 126) {
		h.file[i] = 43;
		h.file[i + 1] = 126;
		memset(h.file + i + 2, 'f', 126);
	}
	h.sname[0] = 43;
	h.sname[1] = 62;
	memset(h.sname + 2, 's', 62);
	total += 62;
	size_t room = DHCP_MESSAGE_MAX - DHCP_HEADER_LEN - 4;
	size_t at = 0;
	memcpy(o, (uint8_t[]){ 53, 1, DHCPACK, 52, 1, 3 }, 6);
	at = 6;
	while (room - at >= 2) {
		uint8_t chunk = room - at - 2 > 255 ? 255 : (uint8_t)(room - at - 2);
		o[at] = 43;
		o[at + 1] = chunk;
		memset(o + at + 2, 'o', chunk);
		at += 2u + chunk;
		total += chunk;
	}
	raw_message(buf, &h, o, at);
	struct dhcp_message *msg = parse_or_fail(buf, DHCP_HEADER_LEN + 4 + at);
	const uint8_t *v;
	size_t len;
	assert_int_equal(dhcp_message_get(msg, 43, &v, &len), 0);
	assert_int_equal(len, total);
	assert_int_equal(v[0], 'o');
	assert_int_equal(v[len - 62 - 1], 'f');
	assert_int_equal(v[len - 1], 's');
	free(msg);
	free(buf);
	free(o);
}

/* ---- names ---- */

static void names_of_types_and_errors(void **state)
{
	(void)state;
	assert_string_equal(dhcp_message_type_name(DHCPDISCOVER), "DHCPDISCOVER");
	assert_string_equal(dhcp_message_type_name(DHCPNAK), "DHCPNAK");
	assert_string_equal(dhcp_message_type_name(DHCPINFORM), "DHCPINFORM");
	assert_string_equal(dhcp_message_type_name(0), "unknown DHCP message");
	assert_string_equal(dhcp_message_type_name(9), "unknown DHCP message");
	assert_string_equal(dhcp_message_type_name(255), "unknown DHCP message");
	assert_string_equal(dhcp_parse_error_name(DHCP_PARSE_OK), "ok");
	assert_string_equal(dhcp_parse_error_name(DHCP_PARSE_BAD_COOKIE), "no DHCP magic cookie");
	assert_string_equal(dhcp_parse_error_name((enum dhcp_parse_error)99), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(roundtrip_keeps_every_header_field),
		cmocka_unit_test(roundtrip_typed_options),
		cmocka_unit_test(builder_writes_cookie_type_and_end),
		cmocka_unit_test(builder_pads_to_300_octets),
		cmocka_unit_test(builder_does_not_pad_longer_messages),
		cmocka_unit_test(builder_splits_values_over_255),
		cmocka_unit_test(builder_255_octets_is_one_instance_256_is_two),
		cmocka_unit_test(builder_zero_length_value_is_one_empty_instance),
		cmocka_unit_test(builder_overflow_is_reported_and_sticky),
		cmocka_unit_test(builder_fits_exactly_without_padding_room),
		cmocka_unit_test(builder_put_encoded_appends_options_as_they_are),
		cmocka_unit_test(builder_of_options_alone_makes_what_put_encoded_takes),
		cmocka_unit_test(builder_put_encoded_of_nothing_adds_nothing),
		cmocka_unit_test(builder_put_encoded_overflow_writes_none_of_them),
		cmocka_unit_test(parse_rejects_truncated_header),
		cmocka_unit_test(parse_rejects_bad_cookie),
		cmocka_unit_test(parse_rejects_messages_over_the_maximum),
		cmocka_unit_test(parse_rejects_option_past_the_end),
		cmocka_unit_test(parse_rejects_missing_length_octet),
		cmocka_unit_test(parse_accepts_options_without_end),
		cmocka_unit_test(parse_stops_at_end_and_skips_pad),
		cmocka_unit_test(parse_requires_a_one_octet_message_type),
		cmocka_unit_test(zero_length_server_id_is_present_but_invalid),
		cmocka_unit_test(typed_getters_check_length_and_presence),
		cmocka_unit_test(duplicate_server_id_keeps_the_first),
		cmocka_unit_test(duplicate_fixed_options_keep_the_first),
		cmocka_unit_test(split_classless_routes_are_concatenated),
		cmocka_unit_test(split_domain_search_is_concatenated_with_others_between),
		cmocka_unit_test(overload_file_reads_options_from_file),
		cmocka_unit_test(overload_sname_reads_options_from_sname),
		cmocka_unit_test(no_overload_leaves_file_and_sname_alone),
		cmocka_unit_test(overload_both_concatenates_options_file_sname_in_order),
		cmocka_unit_test(overload_keeps_first_fixed_option_across_fields),
		cmocka_unit_test(overload_inside_file_is_ignored),
		cmocka_unit_test(overload_inside_sname_pointing_at_itself_is_ignored),
		cmocka_unit_test(overload_file_with_overrun_is_rejected),
		cmocka_unit_test(overload_with_bad_length_is_no_overload),
		cmocka_unit_test(duplicate_overload_keeps_the_first),
		cmocka_unit_test(largest_message_concatenates_everything),
		cmocka_unit_test(names_of_types_and_errors),
	};
	return cmocka_run_group_tests_name("dhcp_message", tests, NULL, NULL);
}
