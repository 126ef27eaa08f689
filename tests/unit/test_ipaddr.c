/* Addresses and prefixes in CNI's text forms. */
#include "helpers.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include "cni/ipaddr.h"

static struct ip_addr addr(const char *text)
{
	struct ip_addr a;

	if (!ip_addr_parse(text, &a))
		fail_msg("address \"%s\" rejected", text);
	return a;
}

static struct ip_prefix prefix(const char *text)
{
	struct ip_prefix p;

	if (!ip_prefix_parse(text, &p))
		fail_msg("prefix \"%s\" rejected", text);
	return p;
}

static void assert_prefix_text(const struct ip_prefix *p, const char *want)
{
	char buf[IP_PREFIX_STRLEN];

	ip_prefix_format(p, buf);
	assert_string_equal(buf, want);
}

static void ipv4_address_parses(void **state)
{
	(void)state;
	struct ip_addr a = addr("10.1.2.3");

	assert_int_equal(a.family, AF_INET);
	assert_int_equal(a.v4.s_addr, htonl(0x0a010203));
	assert_int_equal(ip_addr_len(&a), 4);
}

static void ipv6_address_parses(void **state)
{
	(void)state;
	struct ip_addr a = addr("fd00::1");
	static const uint8_t want[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };

	assert_int_equal(a.family, AF_INET6);
	assert_memory_equal(a.bytes, want, 16);
	assert_int_equal(ip_addr_len(&a), 16);
}

static void bad_addresses_are_rejected_untouched(void **state)
{
	(void)state;
	static const char *const bad[] = { "", "1.2.3", "256.1.1.1", "1.2.3.4/24", "::g", "1.2.3.4 ", " ::1",
					   "01.2.3.4", "fe80::1%eth0", "localhost" };

	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		struct ip_addr a = { .family = 77 };
		if (ip_addr_parse(bad[i], &a))
			fail_msg("address \"%s\" accepted", bad[i]);
		assert_int_equal(a.family, 77);
	}
}

static void prefix_keeps_host_bits(void **state)
{
	(void)state;
	struct ip_prefix p = prefix("10.1.2.3/24");

	assert_int_equal(p.len, 24);
	assert_int_equal(p.addr.family, AF_INET);
	assert_prefix_text(&p, "10.1.2.3/24");
}

static void prefix_lengths_at_the_limits(void **state)
{
	(void)state;
	assert_int_equal(prefix("0.0.0.0/0").len, 0);
	assert_int_equal(prefix("10.0.0.1/32").len, 32);
	assert_int_equal(prefix("::/0").len, 0);
	assert_int_equal(prefix("::1/128").len, 128);
}

static void bad_prefixes_are_rejected(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"10.0.0.1",    "10.0.0.1/",    "/24",	     "10.0.0.1/33",	"::1/129",     "10.0.0.1/024",
		"10.0.0.1/00", "10.0.0.1/2a",  "10.0.0.1/-1", "10.0.0.1/ 24",	"10.0.0.1/1000", "10.0.0.1/24/",
		"10.0.0/24",   "fd00::1/64x",  "10.0.0.1/+8", "x/24",
		/* longer than any address before the slash */
		"1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb/64",
	};

	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		struct ip_prefix p = { .len = 77 };
		if (ip_prefix_parse(bad[i], &p))
			fail_msg("prefix \"%s\" accepted", bad[i]);
		assert_int_equal(p.len, 77);
	}
}

static void ipv6_is_formatted_canonically(void **state)
{
	(void)state;
	struct ip_prefix p = prefix("FD00:0:0:0:0:0:0:0001/64");
	char buf[INET6_ADDRSTRLEN];

	assert_prefix_text(&p, "fd00::1/64");
	ip_addr_format(&p.addr, buf);
	assert_string_equal(buf, "fd00::1");
}

static void longest_prefix_fits_its_buffer(void **state)
{
	(void)state;
	struct ip_prefix p = prefix("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
	struct ip_prefix mapped = prefix("::ffff:255.255.255.255/128");

	assert_prefix_text(&p, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
	assert_prefix_text(&mapped, "::ffff:255.255.255.255/128");
}

static void format_of_unknown_family_says_so(void **state)
{
	(void)state;
	struct ip_addr a = { .family = 0 };
	char buf[INET6_ADDRSTRLEN];

	ip_addr_format(&a, buf);
	assert_string_equal(buf, "<family 0>");
}

static void equal_compares_family_and_bytes(void **state)
{
	(void)state;
	struct ip_addr a = addr("10.1.2.3"), b = addr("10.1.2.3"), c = addr("10.1.2.4");
	struct ip_addr v6 = addr("a01:203::"); /* the same first four bytes as 10.1.2.3 */

	assert_true(ip_addr_equal(&a, &b));
	assert_false(ip_addr_equal(&a, &c));
	assert_false(ip_addr_equal(&a, &v6));
	assert_false(ip_addr_equal(&v6, &a));
	assert_true(ip_addr_equal(&v6, &v6));
}

static void network_clears_host_bits(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "10.1.2.3/24", "10.1.2.0/24" },	{ "10.1.255.3/20", "10.1.240.0/20" },
		{ "10.1.2.3/32", "10.1.2.3/32" },	{ "10.1.2.3/0", "0.0.0.0/0" },
		{ "10.1.2.3/31", "10.1.2.2/31" },	{ "255.255.255.255/1", "128.0.0.0/1" },
		{ "fd00::1:2:3/64", "fd00::/64" },	{ "fd00::3/127", "fd00::2/127" },
		{ "fd00:ffff::1/20", "fd00:f000::/20" }, { "fd00::1/0", "::/0" },
		{ "fd00::1/128", "fd00::1/128" },
	};

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct ip_prefix p = prefix(cases[i].in);
		struct ip_prefix net = ip_prefix_network(&p);
		assert_prefix_text(&net, cases[i].out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ipv4_address_parses),
		cmocka_unit_test(ipv6_address_parses),
		cmocka_unit_test(bad_addresses_are_rejected_untouched),
		cmocka_unit_test(prefix_keeps_host_bits),
		cmocka_unit_test(prefix_lengths_at_the_limits),
		cmocka_unit_test(bad_prefixes_are_rejected),
		cmocka_unit_test(ipv6_is_formatted_canonically),
		cmocka_unit_test(longest_prefix_fits_its_buffer),
		cmocka_unit_test(format_of_unknown_family_says_so),
		cmocka_unit_test(equal_compares_family_and_bytes),
		cmocka_unit_test(network_clears_host_bits),
	};
	return cmocka_run_group_tests_name("ipaddr", tests, NULL, NULL);
}
