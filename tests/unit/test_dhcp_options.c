/* Typed views of options: names and codes, RFC 3442 classless routes, RFC 2132 static
 * routes (33), RFC 3397 domain search, address lists, classful prefixes. */
#include "dhcp_helpers.h"

#include "dhcp4/options.h"

/* ---- names <-> codes ---- */

static void known_names_parse_to_their_codes(void **state)
{
	static const struct {
		const char *name;
		uint8_t code;
	} names[] = {
		{ "subnet-mask", 1 },
		{ "routers", 3 },
		{ "router", 3 },
		{ "domain-name-servers", 6 },
		{ "host-name", 12 },
		{ "domain-name", 15 },
		{ "interface-mtu", 26 },
		{ "static-routes", 33 },
		{ "ntp-servers", 42 },
		{ "dhcp-lease-time", 51 },
		{ "dhcp-server-identifier", 54 },
		{ "dhcp-renewal-time", 58 },
		{ "dhcp-rebinding-time", 59 },
		{ "dhcp-client-identifier", 61 },
		{ "fqdn", 81 },
		{ "domain-search", 119 },
		{ "classless-static-routes", 121 },
		{ "classless-static-route", 121 },
	};
	(void)state;

	for (size_t i = 0; i < DH_N_ELEMENTS(names); i++) {
		uint8_t code = 0;
		assert_int_equal(dhcp_option_code_parse(names[i].name, &code), 0);
		assert_int_equal(code, names[i].code);
	}
}

static void every_number_from_1_to_254_parses(void **state)
{
	(void)state;
	for (unsigned n = 1; n <= 254; n++) {
		char text[8];
		uint8_t code = 0;
		snprintf(text, sizeof(text), "%u", n);
		assert_int_equal(dhcp_option_code_parse(text, &code), 0);
		assert_int_equal(code, n);
	}
}

static void pad_end_out_of_range_and_junk_are_rejected(void **state)
{
	static const char *const bad[] = {
		"0", "255", "256", "-1", "", "junk", "12x", "x12", "+5", " 5", "5 ", "0x10", "1e2",
		"99999999999999999999", "Routers", "routers ", "3.0",
	};
	(void)state;

	for (size_t i = 0; i < DH_N_ELEMENTS(bad); i++) {
		uint8_t code = 77;
		if (dhcp_option_code_parse(bad[i], &code) != -EINVAL)
			fail_msg("\"%s\" was accepted as option %u", bad[i], code);
		assert_int_equal(code, 77);
	}
}

/* ---- RFC 3442 classless static routes ---- */

static void assert_route(const struct dhcp_route *r, const char *dst, unsigned len, const char *gw)
{
	assert_addr_equal(r->dst, dst);
	assert_int_equal(r->prefix_len, len);
	assert_addr_equal(r->gateway, gw);
}

static void classless_default_route_has_no_destination_octets(void **state)
{
	static const uint8_t data[] = { 0, 192, 0, 2, 1 };
	struct dhcp_route *routes = NULL;
	size_t n = 0;
	(void)state;

	assert_int_equal(dhcp_decode_classless_routes(data, sizeof(data), &routes, &n), 0);
	assert_int_equal(n, 1);
	assert_route(&routes[0], "0.0.0.0", 0, "192.0.2.1");
	free(routes);
}

static void classless_host_route_has_four_destination_octets(void **state)
{
	static const uint8_t data[] = { 32, 203, 0, 113, 7, 192, 0, 2, 9 };
	struct dhcp_route *routes = NULL;
	size_t n = 0;
	(void)state;

	assert_int_equal(dhcp_decode_classless_routes(data, sizeof(data), &routes, &n), 0);
	assert_int_equal(n, 1);
	assert_route(&routes[0], "203.0.113.7", 32, "192.0.2.9");
	free(routes);
}

static void classless_width_9_takes_two_octets_and_masks_the_rest(void **state)
{
	/* RFC 3442 example widths: /9 needs 2 significant octets; bits past 9 are cleared. */
	static const uint8_t data[] = { 9, 10, 255, 192, 0, 2, 1, 24, 192, 168, 77, 192, 0, 2, 2 };
	struct dhcp_route *routes = NULL;
	size_t n = 0;
	(void)state;

	assert_int_equal(dhcp_decode_classless_routes(data, sizeof(data), &routes, &n), 0);
	assert_int_equal(n, 2);
	assert_route(&routes[0], "10.128.0.0", 9, "192.0.2.1");
	assert_route(&routes[1], "192.168.77.0", 24, "192.0.2.2");
	free(routes);
}

static void classless_zero_router_means_on_link(void **state)
{
	static const uint8_t data[] = { 24, 198, 51, 100, 0, 0, 0, 0 };
	struct dhcp_route *routes = NULL;
	size_t n = 0;
	(void)state;

	assert_int_equal(dhcp_decode_classless_routes(data, sizeof(data), &routes, &n), 0);
	assert_int_equal(n, 1);
	assert_route(&routes[0], "198.51.100.0", 24, "0.0.0.0");
	free(routes);
}

static void classless_every_width_takes_the_right_octet_count(void **state)
{
	(void)state;
	for (unsigned width = 0; width <= 32; width++) {
		uint8_t data[9] = { (uint8_t)width, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
		size_t significant = (width + 7) / 8;
		struct dhcp_route *routes = NULL;
		size_t n = 0;
		assert_int_equal(dhcp_decode_classless_routes(data, 1 + significant + 4, &routes, &n), 0);
		assert_int_equal(n, 1);
		assert_int_equal(routes[0].prefix_len, width);
		uint32_t want = width ? ~0u << (32 - width) : 0;
		assert_int_equal(ntohl(routes[0].dst.s_addr), want);
		assert_int_equal(routes[0].gateway.s_addr, 0xffffffffu);
		free(routes);
		/* One octet short is a truncated descriptor. */
		routes = NULL;
		assert_int_equal(dhcp_decode_classless_routes(data, significant + 4, &routes, &n), -EBADMSG);
		assert_null(routes);
	}
}

static void classless_truncated_descriptor_rejects_the_whole_option(void **state)
{
	/* A good route, then one missing the last router octet. */
	static const uint8_t data[] = { 0, 192, 0, 2, 1, 24, 198, 51, 100, 192, 0, 2 };
	struct dhcp_route *routes = NULL;
	size_t n = 42;
	(void)state;

	assert_int_equal(dhcp_decode_classless_routes(data, sizeof(data), &routes, &n), -EBADMSG);
	assert_null(routes);
	assert_int_equal(n, 42);
	/* A width octet alone */
	assert_int_equal(dhcp_decode_classless_routes(data, 6, &routes, &n), -EBADMSG);
}

static void classless_width_over_32_is_rejected(void **state)
{
	static const uint8_t data[] = { 33, 1, 2, 3, 4, 5, 192, 0, 2, 1 };
	static const uint8_t huge[] = { 255, 1, 2, 3, 4, 192, 0, 2, 1 };
	struct dhcp_route *routes = NULL;
	size_t n = 0;
	(void)state;

	assert_int_equal(dhcp_decode_classless_routes(data, sizeof(data), &routes, &n), -EBADMSG);
	assert_int_equal(dhcp_decode_classless_routes(huge, sizeof(huge), &routes, &n), -EBADMSG);
	assert_null(routes);
}

static void classless_empty_option_is_malformed(void **state)
{
	/* RFC 3442: "its minimum length is 5 bytes". */
	static const uint8_t data[] = { 0 };
	struct dhcp_route *routes = NULL;
	size_t n = 0;
	(void)state;

	assert_int_equal(dhcp_decode_classless_routes(data, 0, &routes, &n), -EBADMSG);
	assert_null(routes);
}

/* ---- RFC 2132 5.8 static routes (33) ---- */

static void static_routes_are_pairs_with_classful_destinations(void **state)
{
	static const uint8_t data[] = {
		10, 0, 0, 0, 192, 0, 2, 1,        /* class A */
		172, 16, 0, 0, 192, 0, 2, 2,      /* class B */
		198, 51, 100, 0, 192, 0, 2, 3,    /* class C */
	};
	struct dhcp_route *routes = NULL;
	size_t n = 0;
	(void)state;

	assert_int_equal(dhcp_decode_static_routes(data, sizeof(data), &routes, &n), 0);
	assert_int_equal(n, 3);
	assert_route(&routes[0], "10.0.0.0", 8, "192.0.2.1");
	assert_route(&routes[1], "172.16.0.0", 16, "192.0.2.2");
	assert_route(&routes[2], "198.51.100.0", 24, "192.0.2.3");
	free(routes);
}

static void static_routes_skip_the_illegal_default_destination(void **state)
{
	static const uint8_t data[] = { 0, 0, 0, 0, 192, 0, 2, 1, 10, 0, 0, 0, 192, 0, 2, 2 };
	struct dhcp_route *routes = NULL;
	size_t n = 0;
	(void)state;

	assert_int_equal(dhcp_decode_static_routes(data, sizeof(data), &routes, &n), 0);
	assert_int_equal(n, 1);
	assert_route(&routes[0], "10.0.0.0", 8, "192.0.2.2");
	free(routes);
}

static void static_routes_with_host_bits_are_host_routes(void **state)
{
	static const uint8_t data[] = { 10, 1, 2, 3, 192, 0, 2, 1, 172, 16, 5, 0, 192, 0, 2, 2 };
	struct dhcp_route *routes = NULL;
	size_t n = 0;
	(void)state;

	assert_int_equal(dhcp_decode_static_routes(data, sizeof(data), &routes, &n), 0);
	assert_int_equal(n, 2);
	assert_route(&routes[0], "10.1.2.3", 32, "192.0.2.1");
	assert_route(&routes[1], "172.16.5.0", 32, "192.0.2.2");
	free(routes);
}

static void static_routes_of_odd_length_are_rejected(void **state)
{
	static const uint8_t data[16] = { 10 };
	struct dhcp_route *routes = NULL;
	size_t n = 0;
	(void)state;

	assert_int_equal(dhcp_decode_static_routes(data, 7, &routes, &n), -EBADMSG);
	assert_int_equal(dhcp_decode_static_routes(data, 12, &routes, &n), -EBADMSG);
	assert_null(routes);
}

static void classful_prefixes(void **state)
{
	(void)state;
	assert_int_equal(dhcp_classful_prefix(ip4("0.0.0.0")), 8);
	assert_int_equal(dhcp_classful_prefix(ip4("10.1.2.3")), 8);
	assert_int_equal(dhcp_classful_prefix(ip4("127.255.255.255")), 8);
	assert_int_equal(dhcp_classful_prefix(ip4("128.0.0.0")), 16);
	assert_int_equal(dhcp_classful_prefix(ip4("191.255.0.1")), 16);
	assert_int_equal(dhcp_classful_prefix(ip4("192.0.0.0")), 24);
	assert_int_equal(dhcp_classful_prefix(ip4("223.1.1.1")), 24);
}

/* ---- address lists ---- */

static void address_lists_keep_the_servers_order(void **state)
{
	static const uint8_t data[] = { 192, 0, 2, 53, 10, 0, 0, 1 };
	struct in_addr *out = NULL;
	size_t n = 0;
	(void)state;

	assert_int_equal(dhcp_decode_addresses(data, sizeof(data), &out, &n), 0);
	assert_addr_list(out, n, STRV("192.0.2.53", "10.0.0.1"));
	free(out);
}

static void address_lists_of_bad_length_are_rejected(void **state)
{
	static const uint8_t data[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct in_addr *out = NULL;
	size_t n = 0;
	(void)state;

	assert_int_equal(dhcp_decode_addresses(data, 0, &out, &n), -EBADMSG);
	assert_int_equal(dhcp_decode_addresses(data, 5, &out, &n), -EBADMSG);
	assert_int_equal(dhcp_decode_addresses(data, 3, &out, &n), -EBADMSG);
	assert_null(out);
	assert_int_equal(n, 0);
}

/* ---- RFC 3397 domain search ---- */

static int search(const uint8_t *data, size_t len, struct dhcp_strv *out)
{
	*out = (struct dhcp_strv){ (void *)1, 1 }; /* filled, not appended to */
	return dhcp_decode_domain_search(data, len, out);
}

static void search_list_without_compression(void **state)
{
	static const uint8_t data[] = { 1, 'a', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 3, 'f', 'o', 'o', 0 };
	struct dhcp_strv out;
	(void)state;

	assert_int_equal(search(data, sizeof(data), &out), 0);
	assert_strv(&out, STRV("a.example", "foo"));
	dhcp_strv_free(&out);
}

static void search_list_with_pointer_to_a_suffix(void **state)
{
	/* RFC 3397 section 3's example: eng.apple.com, marketing.apple.com */
	static const uint8_t data[] = { 3,   'e', 'n', 'g', 5,   'a', 'p', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
					9,   'm', 'a', 'r', 'k', 'e', 't', 'i', 'n', 'g', 0xc0, 4 };
	struct dhcp_strv out;
	(void)state;

	assert_int_equal(search(data, sizeof(data), &out), 0);
	assert_strv(&out, STRV("eng.apple.com", "marketing.apple.com"));
	dhcp_strv_free(&out);
}

static void search_list_name_that_is_only_a_pointer(void **state)
{
	/* "b.example", then a name that is just a pointer to "example". */
	static const uint8_t data[] = { 1, 'b', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0xc0, 2, 1, 'c', 0xc0, 0 };
	struct dhcp_strv out;
	(void)state;

	assert_int_equal(search(data, sizeof(data), &out), 0);
	assert_strv(&out, STRV("b.example", "example", "c.b.example"));
	dhcp_strv_free(&out);
}

static void search_list_rejects_forward_pointers(void **state)
{
	static const uint8_t data[] = { 1, 'a', 0xc0, 4, 3, 'c', 'o', 'm', 0 };
	struct dhcp_strv out;
	(void)state;

	assert_int_equal(search(data, sizeof(data), &out), -EBADMSG);
	dhcp_strv_free(&out);
}

static void search_list_rejects_pointer_to_itself(void **state)
{
	static const uint8_t data[] = { 1, 'a', 0xc0, 2 };
	struct dhcp_strv out;
	(void)state;

	assert_int_equal(search(data, sizeof(data), &out), -EBADMSG);
	dhcp_strv_free(&out);
}

static void search_list_rejects_pointer_loops(void **state)
{
	/* A backward pointer into the name being read: a -> a -> a ... */
	static const uint8_t data[] = { 1, 'a', 0xc0, 0 };
	/* The loop one label further in: a.b.b.b ... */
	static const uint8_t pair[] = { 1, 'a', 1, 'b', 0xc0, 2 };
	struct dhcp_strv out;
	(void)state;

	assert_int_equal(search(data, sizeof(data), &out), -EBADMSG);
	dhcp_strv_free(&out);
	assert_int_equal(search(pair, sizeof(pair), &out), -EBADMSG);
	dhcp_strv_free(&out);
}

static void search_list_rejects_truncation(void **state)
{
	static const uint8_t label_past_end[] = { 7, 'e', 'x', 'a' };
	static const uint8_t no_terminator[] = { 1, 'a', 1, 'b' };
	static const uint8_t half_pointer[] = { 1, 'a', 0, 1, 'b', 0xc0 };
	struct dhcp_strv out;
	(void)state;

	assert_int_equal(search(label_past_end, sizeof(label_past_end), &out), -EBADMSG);
	dhcp_strv_free(&out);
	assert_int_equal(search(no_terminator, sizeof(no_terminator), &out), -EBADMSG);
	dhcp_strv_free(&out);
	assert_int_equal(search(half_pointer, sizeof(half_pointer), &out), -EBADMSG);
	dhcp_strv_free(&out);
}

static void search_list_rejects_reserved_label_types(void **state)
{
	static const uint8_t type_01[] = { 0x41, 'a', 0 };
	static const uint8_t type_10[] = { 0x81, 'a', 0 };
	struct dhcp_strv out;
	(void)state;

	assert_int_equal(search(type_01, sizeof(type_01), &out), -EBADMSG);
	dhcp_strv_free(&out);
	assert_int_equal(search(type_10, sizeof(type_10), &out), -EBADMSG);
	dhcp_strv_free(&out);
}

/* A name no resolver should be given goes alone: the names around it stay. */
static void search_list_skips_names_with_bad_characters(void **state)
{
	static const uint8_t bad[] = { ' ', '.', '\t', '\n', ';', '#', '$', '(', ')', '`', '\'', '"', '\\',
				       '/', '*', '|', '&', '<', 0x00, 0x1f, 0x7f, 0x80, 0xff };
	struct dhcp_strv out;
	(void)state;

	for (size_t i = 0; i < sizeof(bad); i++) {
		uint8_t data[] = { 1, 'x', 0, 3, 'a', bad[i], 'b', 1, 'c', 0, 1, 'y', 0 };
		assert_int_equal(search(data, sizeof(data), &out), 0);
		if (out.count != 2)
			fail_msg("a label with octet 0x%02x was accepted", bad[i]);
		assert_strv(&out, STRV("x", "y"));
		dhcp_strv_free(&out);
	}
	/* What a resolver accepts passes: digits, hyphens, underscores. */
	static const uint8_t good[] = { 6, '_', 's', '-', '0', '9', 'Z', 0 };
	assert_int_equal(search(good, sizeof(good), &out), 0);
	assert_strv(&out, STRV("_s-09Z"));
	dhcp_strv_free(&out);
}

static void search_list_skips_the_root_name(void **state)
{
	static const uint8_t data[] = { 1, 'a', 0, 0 };
	struct dhcp_strv out;
	(void)state;

	assert_int_equal(search(data, sizeof(data), &out), 0);
	assert_strv(&out, STRV("a"));
	dhcp_strv_free(&out);
}

/* A name of `labels` labels of `label_len` 'x's, in wire form. */
static size_t long_name(uint8_t *buf, unsigned labels, unsigned label_len)
{
	size_t n = 0;

	for (unsigned i = 0; i < labels; i++) {
		buf[n++] = (uint8_t)label_len;
		memset(buf + n, 'x', label_len);
		n += label_len;
	}
	buf[n++] = 0;
	return n;
}

static void search_list_name_length_limit(void **state)
{
	uint8_t buf[600];
	struct dhcp_strv out;
	(void)state;

	/* 4 labels of 62: 4 * 62 + 3 dots = 251 characters. */
	assert_int_equal(search(buf, long_name(buf, 4, 62), &out), 0);
	assert_int_equal(strlen(out.items[0]), 251);
	dhcp_strv_free(&out);
	/* 4 labels of 63: 255 characters, 257 octets on the wire: more than RFC 1035's
	 * 255, and past the 253 of text a name may have. Skipped. */
	assert_int_equal(search(buf, long_name(buf, 4, 63), &out), 0);
	assert_int_equal(out.count, 0);
	dhcp_strv_free(&out);
	/* 5 labels of 63: 319 characters, past what the decoder holds: malformed. */
	assert_int_equal(search(buf, long_name(buf, 5, 63), &out), -EBADMSG);
	dhcp_strv_free(&out);
}

static void search_list_empty_option_is_an_empty_list(void **state)
{
	struct dhcp_strv out;
	(void)state;

	assert_int_equal(search((const uint8_t *)"", 0, &out), 0);
	assert_int_equal(out.count, 0);
	assert_null(out.items);
}

static void search_list_failure_leaves_no_names_behind(void **state)
{
	/* "a", then a name with a forward pointer: a malformed list is dropped whole. */
	static const uint8_t data[] = { 1, 'a', 0, 1, 'b', 0xc0, 9 };
	struct dhcp_strv out;
	(void)state;

	assert_int_equal(search(data, sizeof(data), &out), -EBADMSG);
	assert_int_equal(out.count, 0);
	assert_null(out.items);
}

/* ---- what reaches a result ---- */

/* A name of `len` octets: labels of 63 'x's joined by dots, the last one shorter. */
static const char *name_of_length(char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = i % 64 == 63 ? '.' : 'x';
	buf[len] = '\0';
	return buf;
}

#define assert_name(valid, text)                                                                    \
	do {                                                                                        \
		const char *n_ = (text);                                                            \
		if (dhcp_domain_name_valid(n_, strlen(n_)) != (valid))                              \
			fail_msg("\"%s\" is%s a valid name", n_, (valid) ? " not" : "");              \
	} while (0)

static void domain_names_are_letters_digits_hyphens_underscores(void **state)
{
	char buf[300];
	(void)state;

	assert_name(true, "example.test");
	assert_name(true, "a");
	assert_name(true, "_sip._tcp.Example-1.test");
	assert_name(true, "xn--caf-dma.example");
	assert_name(false, "a;b#c$(id)");
	assert_name(false, "a b");
	assert_name(false, "example.test; rm -rf /");
	assert_name(false, "a`id`");
	assert_name(false, "caf\xc3\xa9.example");
	assert_name(false, "");
	assert_name(false, ".");
	assert_name(false, ".example");
	assert_name(false, "example.");
	assert_name(false, "a..b");
	/* Labels of 1 to 63 octets; names of at most 253. */
	memset(buf, 'x', 63);
	buf[63] = '\0';
	assert_name(true, buf);
	buf[63] = 'x';
	buf[64] = '\0';
	assert_name(false, buf);
	assert_name(true, name_of_length(buf, 253));
	assert_name(false, name_of_length(buf, 254));
	/* A NUL inside is no end. */
	assert_false(dhcp_domain_name_valid("a\0b", 3));
}

static void reserved_addresses_are_no_hosts(void **state)
{
	static const struct {
		const char *addr;
		const char *why; /* NULL: a host's */
	} cases[] = {
		{ "0.0.0.0", "this network" },
		{ "0.255.255.255", "this network" },
		{ "127.0.0.1", "loopback" },
		{ "127.255.255.254", "loopback" },
		{ "224.0.0.1", "multicast" },
		{ "239.255.255.255", "multicast" },
		{ "240.0.0.1", "reserved" },
		{ "255.255.255.254", "reserved" },
		{ "255.255.255.255", "limited broadcast" },
		{ "1.0.0.0", NULL },
		{ "126.255.255.255", NULL },
		{ "128.0.0.1", NULL },
		{ "169.254.169.253", NULL }, /* a resolver may be link-local */
		{ "192.0.2.53", NULL },
		{ "223.255.255.255", NULL },
	};
	(void)state;

	for (size_t i = 0; i < DH_N_ELEMENTS(cases); i++) {
		const char *why = dhcp_address_reserved(ip4(cases[i].addr));
		if (!cases[i].why && why)
			fail_msg("%s is refused: %s", cases[i].addr, why);
		if (cases[i].why && (!why || !strstr(why, cases[i].why)))
			fail_msg("%s: \"%s\", expected \"%s\"", cases[i].addr, why ? why : "(null)", cases[i].why);
	}
}

static void strv_free_empties_the_list(void **state)
{
	static const uint8_t data[] = { 1, 'a', 0, 1, 'b', 0 };
	struct dhcp_strv out;
	(void)state;

	assert_int_equal(search(data, sizeof(data), &out), 0);
	assert_strv(&out, STRV("a", "b"));
	dhcp_strv_free(&out);
	assert_null(out.items);
	assert_int_equal(out.count, 0);
	dhcp_strv_free(&out); /* twice is harmless */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(known_names_parse_to_their_codes),
		cmocka_unit_test(every_number_from_1_to_254_parses),
		cmocka_unit_test(pad_end_out_of_range_and_junk_are_rejected),
		cmocka_unit_test(classless_default_route_has_no_destination_octets),
		cmocka_unit_test(classless_host_route_has_four_destination_octets),
		cmocka_unit_test(classless_width_9_takes_two_octets_and_masks_the_rest),
		cmocka_unit_test(classless_zero_router_means_on_link),
		cmocka_unit_test(classless_every_width_takes_the_right_octet_count),
		cmocka_unit_test(classless_truncated_descriptor_rejects_the_whole_option),
		cmocka_unit_test(classless_width_over_32_is_rejected),
		cmocka_unit_test(classless_empty_option_is_malformed),
		cmocka_unit_test(static_routes_are_pairs_with_classful_destinations),
		cmocka_unit_test(static_routes_skip_the_illegal_default_destination),
		cmocka_unit_test(static_routes_with_host_bits_are_host_routes),
		cmocka_unit_test(static_routes_of_odd_length_are_rejected),
		cmocka_unit_test(classful_prefixes),
		cmocka_unit_test(address_lists_keep_the_servers_order),
		cmocka_unit_test(address_lists_of_bad_length_are_rejected),
		cmocka_unit_test(search_list_without_compression),
		cmocka_unit_test(search_list_with_pointer_to_a_suffix),
		cmocka_unit_test(search_list_name_that_is_only_a_pointer),
		cmocka_unit_test(search_list_rejects_forward_pointers),
		cmocka_unit_test(search_list_rejects_pointer_to_itself),
		cmocka_unit_test(search_list_rejects_pointer_loops),
		cmocka_unit_test(search_list_rejects_truncation),
		cmocka_unit_test(search_list_rejects_reserved_label_types),
		cmocka_unit_test(search_list_skips_names_with_bad_characters),
		cmocka_unit_test(search_list_skips_the_root_name),
		cmocka_unit_test(search_list_name_length_limit),
		cmocka_unit_test(search_list_empty_option_is_an_empty_list),
		cmocka_unit_test(search_list_failure_leaves_no_names_behind),
		cmocka_unit_test(domain_names_are_letters_digits_hyphens_underscores),
		cmocka_unit_test(reserved_addresses_are_no_hosts),
		cmocka_unit_test(strv_free_empties_the_list),
	};
	return cmocka_run_group_tests_name("dhcp_options", tests, NULL, NULL);
}
