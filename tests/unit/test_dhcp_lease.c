/* Leases from DHCPACKs (times, prefix, RFC 2131 4.4.5 T1/T2 sanity) and what they
 * configure (RFC 3442 precedence, option 33, DNS from 6/15/119, malformed options). */
#include "dhcp_helpers.h"

#include "dhcp4/lease.h"


static const char *refusal_of(struct test_msg *m)
{
	struct dhcp_lease lease;

	msg_finish(m);
	struct dhcp_message *msg = parse_or_fail(m->data, m->len);
	const char *why = dhcp_lease_from_message(msg, m->data, m->len, TEST_LEASE_START_MS, &lease);
	free(msg);
	if (!why)
		dhcp_lease_clear(&lease);
	return why;
}

/* Lease with option 51 = lease_s and, when non-zero, 58 and 59. */
static void times_of(uint32_t lease_s, uint32_t t1_s, uint32_t t2_s, struct dhcp_lease *lease)
{
	struct test_msg m;

	ack_begin(&m);
	msg_put_u32(&m, DHCP_OPTION_IP_ADDRESS_LEASE_TIME, lease_s);
	if (t1_s)
		msg_put_u32(&m, DHCP_OPTION_RENEWAL_TIME, t1_s);
	if (t2_s)
		msg_put_u32(&m, DHCP_OPTION_REBINDING_TIME, t2_s);
	lease_of(&m, lease);
}

/* The server's times in seconds; T1 and T2 as kept, in milliseconds. */
#define assert_times(lease, t1, t2, want_lease, want_t1_ms, want_t2_ms)                               \
	do {                                                                                        \
		struct dhcp_lease l_;                                                               \
		times_of((lease), (t1), (t2), &l_);                                                 \
		assert_int_equal(l_.lifetime_s, (want_lease));                                      \
		assert_int_equal(l_.t1_ms, (want_t1_ms));                                           \
		assert_int_equal(l_.t2_ms, (want_t2_ms));                                           \
		dhcp_lease_clear(&l_);                                                              \
	} while (0)

/* ---- lease times ---- */

static void t1_t2_default_to_half_and_seven_eighths(void **state)
{
	(void)state;
	assert_times(3600, 0, 0, 3600, 1800000, 3150000);
	assert_times(120, 0, 0, 120, 60000, 105000);
	/* In milliseconds: odd leases are not rounded down to whole seconds. */
	assert_times(7, 0, 0, 7, 3500, 6125);
}

static void sane_server_t1_t2_are_kept(void **state)
{
	(void)state;
	assert_times(1000, 300, 700, 1000, 300000, 700000);
	assert_times(1000, 1, 999, 1000, 1000, 999000);
}

static void t2_not_below_the_lease_takes_the_default(void **state)
{
	(void)state;
	assert_times(1000, 300, 1000, 1000, 300000, 875000);
	assert_times(1000, 300, 5000, 1000, 300000, 875000);
}

static void t1_not_below_t2_takes_the_default(void **state)
{
	(void)state;
	assert_times(1000, 700, 700, 1000, 500000, 700000);
	assert_times(1000, 900, 0, 1000, 500000, 875000);
}

static void t1_stays_below_a_small_server_t2(void **state)
{
	/* T2 = 400 is sane; T1 = 450 is not, and its default 500 would not be either:
	 * half-way to T2, as the default is half-way to the end. */
	(void)state;
	assert_times(1000, 450, 400, 1000, 200000, 400000);
	assert_times(1000, 0, 1, 1000, 500, 1000);
}

static void tiny_leases_keep_t1_below_t2(void **state)
{
	(void)state;
	/* In whole seconds T1 of a 1 s lease was 0: renewed at once, again and again. */
	assert_times(3, 0, 0, 3, 1500, 2625);
	assert_times(2, 0, 0, 2, 1000, 1750);
	assert_times(1, 0, 0, 1, 500, 875);
}

static void infinite_lease_never_renews(void **state)
{
	struct dhcp_lease lease;
	(void)state;

	times_of(DHCP_LEASE_INFINITE, 100, 200, &lease);
	assert_int_equal(lease.lifetime_s, DHCP_LEASE_INFINITE);
	assert_true(lease.t1_ms == UINT64_MAX);
	assert_true(lease.t2_ms == UINT64_MAX);
	assert_true(dhcp_lease_t1(&lease) == UINT64_MAX);
	assert_true(dhcp_lease_t2(&lease) == UINT64_MAX);
	assert_true(dhcp_lease_expiry(&lease) == UINT64_MAX);
	dhcp_lease_clear(&lease);
}

static void missing_or_bad_lease_time_is_an_hour(void **state)
{
	struct dhcp_lease lease;
	struct test_msg m;
	(void)state;

	ack_begin(&m);
	lease_of(&m, &lease);
	assert_int_equal(lease.lifetime_s, 3600);
	assert_int_equal(lease.t1_ms, 1800000);
	assert_int_equal(lease.t2_ms, 3150000);
	dhcp_lease_clear(&lease);

	ack_begin(&m);
	msg_put(&m, DHCP_OPTION_IP_ADDRESS_LEASE_TIME, "\x00\x01", 2);
	lease_of(&m, &lease);
	assert_int_equal(lease.lifetime_s, 3600);
	dhcp_lease_clear(&lease);

	assert_times(0, 0, 0, 3600, 1800000, 3150000);
}

static void absolute_times_count_from_the_request(void **state)
{
	struct dhcp_lease lease;
	(void)state;

	times_of(120, 0, 0, &lease);
	assert_int_equal(lease.start_ms, TEST_LEASE_START_MS);
	assert_int_equal(dhcp_lease_t1(&lease), TEST_LEASE_START_MS + 60000);
	assert_int_equal(dhcp_lease_t2(&lease), TEST_LEASE_START_MS + 105000);
	assert_int_equal(dhcp_lease_expiry(&lease), TEST_LEASE_START_MS + 120000);
	dhcp_lease_clear(&lease);
}

/* ---- address, prefix, server ---- */

static unsigned prefix_with_mask(const void *mask, size_t len, const char *yiaddr)
{
	struct dhcp_lease lease;
	struct test_msg m;

	msg_reply(&m, DHCPACK, 7, yiaddr, "192.0.2.1");
	if (mask)
		msg_put(&m, DHCP_OPTION_SUBNET_MASK, mask, len);
	lease_of(&m, &lease);
	unsigned prefix = lease.prefix_len;
	dhcp_lease_clear(&lease);
	return prefix;
}

static void prefix_comes_from_the_subnet_mask(void **state)
{
	(void)state;
	assert_int_equal(prefix_with_mask("\xff\xff\xff\x00", 4, "192.0.2.100"), 24);
	assert_int_equal(prefix_with_mask("\xff\xff\xf0\x00", 4, "192.0.2.100"), 20);
	assert_int_equal(prefix_with_mask("\xff\xff\xff\xff", 4, "192.0.2.100"), 32);
	assert_int_equal(prefix_with_mask("\x80\x00\x00\x00", 4, "192.0.2.100"), 1);
}

static void missing_or_garbage_mask_is_classful(void **state)
{
	(void)state;
	assert_int_equal(prefix_with_mask(NULL, 0, "10.1.2.3"), 8);
	assert_int_equal(prefix_with_mask(NULL, 0, "172.16.1.2"), 16);
	assert_int_equal(prefix_with_mask(NULL, 0, "192.0.2.100"), 24);
	/* Not contiguous, all zeros, wrong length */
	assert_int_equal(prefix_with_mask("\xff\x00\xff\x00", 4, "10.1.2.3"), 8);
	assert_int_equal(prefix_with_mask("\x00\x00\x00\x01", 4, "172.16.1.2"), 16);
	assert_int_equal(prefix_with_mask("\x00\x00\x00\x00", 4, "10.1.2.3"), 8);
	assert_int_equal(prefix_with_mask("\xff\xff\xff", 3, "10.1.2.3"), 8);
}

static void lease_records_address_and_server(void **state)
{
	struct dhcp_lease lease;
	struct test_msg m;
	(void)state;

	ack_begin(&m);
	lease_of(&m, &lease);
	assert_addr_equal(lease.address, "192.0.2.100");
	assert_addr_equal(lease.server_id, "192.0.2.1");
	assert_int_equal(lease.ack_len, m.len);
	assert_memory_equal(lease.ack, m.data, m.len);
	/* A copy, not the caller's buffer */
	assert_ptr_not_equal(lease.ack, m.data);
	dhcp_lease_clear(&lease);
	assert_null(lease.ack);
	assert_int_equal(lease.ack_len, 0);
}

static void messages_without_address_or_server_are_refused(void **state)
{
	struct test_msg m;
	(void)state;

	msg_reply(&m, DHCPACK, 7, NULL, "192.0.2.1");
	assert_non_null(refusal_of(&m));
	msg_reply(&m, DHCPACK, 7, "255.255.255.255", "192.0.2.1");
	assert_non_null(refusal_of(&m));
	msg_reply(&m, DHCPACK, 7, "192.0.2.100", NULL);
	assert_non_null(strstr(refusal_of(&m), "server identifier"));
	msg_reply(&m, DHCPACK, 7, "192.0.2.100", NULL);
	msg_put(&m, DHCP_OPTION_SERVER_IDENTIFIER, "", 0);
	assert_non_null(strstr(refusal_of(&m), "server identifier"));
}

static void lease_copy_is_deep(void **state)
{
	struct dhcp_lease a, b = { 0 };
	(void)state;

	times_of(120, 0, 0, &a);
	assert_int_equal(dhcp_lease_copy(&b, &a), 0);
	assert_ptr_not_equal(b.ack, a.ack);
	assert_int_equal(b.ack_len, a.ack_len);
	assert_memory_equal(b.ack, a.ack, a.ack_len);
	assert_int_equal(b.t2_ms, a.t2_ms);
	assert_int_equal(b.address.s_addr, a.address.s_addr);
	dhcp_lease_clear(&a);
	/* b survives a's end (ASan would see a use after free). */
	struct dhcp_message *msg = parse_or_fail(b.ack, b.ack_len);
	free(msg);
	dhcp_lease_clear(&b);
}

/* ---- what the lease configures ---- */

static void full_ack(struct test_msg *m)
{
	ack_begin(m);
	msg_put(m, DHCP_OPTION_SUBNET_MASK, "\xff\xff\xff\x00", 4);
	msg_put(m, DHCP_OPTION_ROUTER, "\xc0\x00\x02\x01", 4);
	msg_put(m, DHCP_OPTION_DOMAIN_NAME_SERVER, "\xc0\x00\x02\x35\xc0\x00\x02\x36", 8);
	msg_put(m, DHCP_OPTION_DOMAIN_NAME, "example.test", 12);
	msg_put(m, DHCP_OPTION_DOMAIN_SEARCH, "\x01" "a\x07" "example\x00\x01" "b\xc0\x02", 15);
}

/* The lease's routes, compared with `want` (NO_ROUTES: the lease has none). */
static void assert_lease_routes(struct test_msg *m, const char *const *want)
{
	struct dhcp_lease lease;
	struct dhcp_route *routes;
	size_t n;

	lease_of(m, &lease);
	assert_int_equal(dhcp_lease_get_routes(&lease, &routes, &n), want[0] ? 0 : -ENODATA);
	assert_route_list(routes, n, want);
	free(routes);
	dhcp_lease_clear(&lease);
}

/* The gateway, or NULL when the lease has none. */
static void assert_lease_router(struct test_msg *m, const char *want)
{
	struct dhcp_lease lease;
	struct in_addr router;

	lease_of(m, &lease);
	assert_int_equal(dhcp_lease_get_router(&lease, &router), want ? 0 : -ENODATA);
	assert_addr_equal(router, want ? want : "0.0.0.0");
	dhcp_lease_clear(&lease);
}

static void full_ack_gives_router_default_route_and_dns(void **state)
{
	struct dhcp_lease lease;
	struct in_addr router, *dns;
	struct dhcp_strv search;
	char *domain;
	size_t n;
	struct test_msg m;
	(void)state;

	full_ack(&m);
	lease_of(&m, &lease);
	assert_int_equal(dhcp_lease_get_router(&lease, &router), 0);
	assert_addr_equal(router, "192.0.2.1");
	assert_int_equal(dhcp_lease_get_dns(&lease, &dns, &n), 0);
	assert_addr_list(dns, n, STRV("192.0.2.53", "192.0.2.54"));
	free(dns);
	assert_int_equal(dhcp_lease_get_domain_name(&lease, &domain), 0);
	assert_string_equal(domain, "example.test");
	free(domain);
	assert_int_equal(dhcp_lease_get_search_domains(&lease, &search), 0);
	assert_strv(&search, STRV("a.example", "b.example"));
	dhcp_strv_free(&search);
	dhcp_lease_clear(&lease);

	full_ack(&m);
	assert_lease_routes(&m, ROUTES("0.0.0.0/0 via 192.0.2.1"));
}

static void classless_routes_win_over_router_and_static_routes(void **state)
{
	struct test_msg m;
	(void)state;

	full_ack(&m);
	msg_put(&m, DHCP_OPTION_STATIC_ROUTE, "\x0a\x00\x00\x00\xc0\x00\x02\x09", 8);
	msg_put(&m, DHCP_OPTION_CLASSLESS_STATIC_ROUTE, "\x18\xc6\x33\x64\xc0\x00\x02\xfe\x00\xc0\x00\x02\x02", 13);
	/* RFC 3442: routes from 121 only; option 3 still names the gateway. */
	assert_lease_routes(&m, ROUTES("198.51.100.0/24 via 192.0.2.254", "0.0.0.0/0 via 192.0.2.2"));
	full_ack(&m);
	msg_put(&m, DHCP_OPTION_CLASSLESS_STATIC_ROUTE, "\x18\xc6\x33\x64\xc0\x00\x02\xfe\x00\xc0\x00\x02\x02", 13);
	assert_lease_router(&m, "192.0.2.1");
}

static void classless_zero_next_hop_is_on_link(void **state)
{
	struct test_msg m;
	(void)state;

	full_ack(&m);
	msg_put(&m, DHCP_OPTION_CLASSLESS_STATIC_ROUTE, "\x20\xcb\x00\x71\x07\x00\x00\x00\x00", 9);
	assert_lease_routes(&m, ROUTES("203.0.113.7/32 on link"));
}

static void static_routes_then_default_via_router(void **state)
{
	struct test_msg m;
	(void)state;

	full_ack(&m);
	msg_put(&m, DHCP_OPTION_STATIC_ROUTE, "\x0a\x00\x00\x00\xc0\x00\x02\x09\xac\x10\x00\x00\xc0\x00\x02\x0a", 16);
	assert_lease_routes(&m,
			    ROUTES("10.0.0.0/8 via 192.0.2.9", "172.16.0.0/16 via 192.0.2.10", "0.0.0.0/0 via 192.0.2.1"));
	/* Static routes without a router: no default route. */
	ack_begin(&m);
	msg_put(&m, DHCP_OPTION_STATIC_ROUTE, "\x0a\x00\x00\x00\xc0\x00\x02\x09", 8);
	assert_lease_routes(&m, ROUTES("10.0.0.0/8 via 192.0.2.9"));
}

static void first_router_is_the_gateway(void **state)
{
	struct test_msg m;
	(void)state;

	ack_begin(&m);
	msg_put(&m, DHCP_OPTION_ROUTER, "\xc0\x00\x02\x02\xc0\x00\x02\x03", 8);
	assert_lease_router(&m, "192.0.2.2");
	ack_begin(&m);
	msg_put(&m, DHCP_OPTION_ROUTER, "\xc0\x00\x02\x02\xc0\x00\x02\x03", 8);
	assert_lease_routes(&m, ROUTES("0.0.0.0/0 via 192.0.2.2"));
}

static void bare_ack_configures_nothing(void **state)
{
	struct dhcp_lease lease;
	struct dhcp_route *routes = (void *)1;
	struct in_addr *dns = (void *)1;
	struct dhcp_strv search = { (void *)1, 1 };
	char *domain = (void *)1;
	size_t n = 1;
	struct test_msg m;
	(void)state;

	ack_begin(&m);
	assert_lease_router(&m, NULL);
	ack_begin(&m);
	lease_of(&m, &lease);
	/* -ENODATA leaves every output empty. */
	assert_int_equal(dhcp_lease_get_routes(&lease, &routes, &n), -ENODATA);
	assert_null(routes);
	assert_int_equal(n, 0);
	n = 1;
	assert_int_equal(dhcp_lease_get_classless_routes(&lease, &routes, &n), -ENODATA);
	assert_null(routes);
	assert_int_equal(n, 0);
	n = 1;
	assert_int_equal(dhcp_lease_get_dns(&lease, &dns, &n), -ENODATA);
	assert_null(dns);
	assert_int_equal(n, 0);
	assert_int_equal(dhcp_lease_get_domain_name(&lease, &domain), -ENODATA);
	assert_null(domain);
	assert_int_equal(dhcp_lease_get_search_domains(&lease, &search), -ENODATA);
	assert_null(search.items);
	assert_int_equal(search.count, 0);
	dhcp_lease_clear(&lease);
}

static void malformed_classless_routes_fall_back_to_33_and_3(void **state)
{
	static const struct {
		const char *data;
		size_t len;
	} bad[] = {
		{ "\x18\xc6\x33\x64\xc0\x00\x02", 7 }, /* truncated router */
		{ "\x21\x01\x02\x03\x04\x05\xc0\x00\x02\x01", 10 }, /* width 33 */
		{ "", 0 }, /* empty: under RFC 3442's 5-octet minimum */
	};
	(void)state;

	for (size_t i = 0; i < DH_N_ELEMENTS(bad); i++) {
		struct test_msg m;
		full_ack(&m);
		msg_put(&m, DHCP_OPTION_STATIC_ROUTE, "\x0a\x00\x00\x00\xc0\x00\x02\x09", 8);
		msg_put(&m, DHCP_OPTION_CLASSLESS_STATIC_ROUTE, bad[i].data, bad[i].len);
		assert_lease_routes(&m, ROUTES("10.0.0.0/8 via 192.0.2.9", "0.0.0.0/0 via 192.0.2.1"));
	}
}

static void malformed_static_routes_are_skipped(void **state)
{
	struct test_msg m;
	(void)state;

	full_ack(&m);
	msg_put(&m, DHCP_OPTION_STATIC_ROUTE, "\x0a\x00\x00\x00\xc0\x00\x02", 7);
	assert_lease_routes(&m, ROUTES("0.0.0.0/0 via 192.0.2.1"));
	/* Only the illegal default destination (RFC 2132 5.8): no static route at all. */
	full_ack(&m);
	msg_put(&m, DHCP_OPTION_STATIC_ROUTE, "\x00\x00\x00\x00\xc0\x00\x02\x09", 8);
	assert_lease_routes(&m, ROUTES("0.0.0.0/0 via 192.0.2.1"));
}

static void malformed_router_gives_no_gateway_and_no_default_route(void **state)
{
	struct test_msg m;
	(void)state;

	ack_begin(&m);
	msg_put(&m, DHCP_OPTION_ROUTER, "\xc0\x00\x02", 3);
	assert_lease_router(&m, NULL);
	ack_begin(&m);
	msg_put(&m, DHCP_OPTION_ROUTER, "\xc0\x00\x02", 3);
	assert_lease_routes(&m, NO_ROUTES);

	ack_begin(&m);
	msg_put(&m, DHCP_OPTION_ROUTER, "\xc0\x00\x02\x01\xc0", 5);
	assert_lease_router(&m, NULL);
	ack_begin(&m);
	msg_put(&m, DHCP_OPTION_ROUTER, "", 0);
	assert_lease_router(&m, NULL);
}

static void classless_routes_as_the_server_sent_them(void **state)
{
	struct dhcp_lease lease;
	struct dhcp_route *routes;
	size_t n;
	struct test_msg m;
	(void)state;

	full_ack(&m);
	msg_put(&m, DHCP_OPTION_CLASSLESS_STATIC_ROUTE,
		"\x18\xc6\x33\x64\xc0\x00\x02\xfe\x20\xcb\x00\x71\x07\x00\x00\x00\x00", 17);
	lease_of(&m, &lease);
	assert_int_equal(dhcp_lease_get_classless_routes(&lease, &routes, &n), 0);
	assert_route_list(routes, n, ROUTES("198.51.100.0/24 via 192.0.2.254", "203.0.113.7/32 on link"));
	free(routes);
	dhcp_lease_clear(&lease);

	/* Malformed: none, and options 3 and 33 are not asked for here. */
	full_ack(&m);
	msg_put(&m, DHCP_OPTION_CLASSLESS_STATIC_ROUTE, "\x18\xc6\x33\x64\xc0\x00\x02", 7);
	lease_of(&m, &lease);
	assert_int_equal(dhcp_lease_get_classless_routes(&lease, &routes, &n), -ENODATA);
	assert_null(routes);
	dhcp_lease_clear(&lease);
}

static void malformed_dns_options_are_skipped_one_by_one(void **state)
{
	struct dhcp_lease lease;
	struct in_addr *dns;
	struct dhcp_strv search;
	char *domain;
	size_t n;
	struct test_msg m;
	(void)state;

	ack_begin(&m);
	msg_put(&m, DHCP_OPTION_ROUTER, "\xc0\x00\x02\x01", 4);
	msg_put(&m, DHCP_OPTION_DOMAIN_NAME_SERVER, "\xc0\x00\x02\x35\xc0", 5);
	msg_put(&m, DHCP_OPTION_DOMAIN_NAME, "example.test", 12);
	/* "a", then a name with a forward pointer: the whole list goes, not half of it. */
	msg_put(&m, DHCP_OPTION_DOMAIN_SEARCH, "\x01" "a\x00\x01" "b\xc0\x09", 7);
	lease_of(&m, &lease);
	assert_int_equal(dhcp_lease_get_dns(&lease, &dns, &n), -ENODATA);
	assert_null(dns);
	assert_int_equal(dhcp_lease_get_domain_name(&lease, &domain), 0);
	assert_string_equal(domain, "example.test");
	free(domain);
	assert_int_equal(dhcp_lease_get_search_domains(&lease, &search), -ENODATA);
	assert_strv(&search, NO_STRV);
	dhcp_lease_clear(&lease);

	ack_begin(&m);
	msg_put(&m, DHCP_OPTION_ROUTER, "\xc0\x00\x02\x01", 4);
	assert_lease_routes(&m, ROUTES("0.0.0.0/0 via 192.0.2.1"));
}

static void empty_search_list_is_none(void **state)
{
	struct dhcp_lease lease;
	struct dhcp_strv search;
	struct test_msg m;
	(void)state;

	ack_begin(&m);
	msg_put(&m, DHCP_OPTION_DOMAIN_SEARCH, "", 0);
	lease_of(&m, &lease);
	assert_int_equal(dhcp_lease_get_search_domains(&lease, &search), -ENODATA);
	assert_int_equal(search.count, 0);
	dhcp_lease_clear(&lease);
}

static const char *domain_of(const void *data, size_t len)
{
	static char kept[300];
	struct dhcp_lease lease;
	struct test_msg m;
	char *domain;
	int r;

	ack_begin(&m);
	msg_put(&m, DHCP_OPTION_DOMAIN_NAME, data, len);
	lease_of(&m, &lease);
	r = dhcp_lease_get_domain_name(&lease, &domain);
	dhcp_lease_clear(&lease);
	if (r == -ENODATA) {
		assert_null(domain);
		return NULL;
	}
	assert_int_equal(r, 0);
	snprintf(kept, sizeof(kept), "%s", domain);
	free(domain);
	return kept;
}

static void domain_name_loses_trailing_nul_and_dot(void **state)
{
	(void)state;
	assert_string_equal(domain_of("example.test", 12), "example.test");
	assert_string_equal(domain_of("example.test\0", 13), "example.test");
	assert_string_equal(domain_of("example.test.", 13), "example.test");
	assert_string_equal(domain_of("example.test.\0\0", 15), "example.test");
}

static void unusable_domain_names_are_skipped(void **state)
{
	(void)state;
	assert_null(domain_of("", 0));
	assert_null(domain_of(".", 1));
	assert_null(domain_of("\0", 1));
	assert_null(domain_of("bad name", 8));
	assert_null(domain_of("bad\nname", 8));
	assert_null(domain_of("caf\xc3\xa9", 5));
	assert_null(domain_of("a\0b", 3));
	/* What option 119's names may not hold, option 15 may not either: ';' and '#'
	 * begin comments in resolv.conf, and the rest is a shell's. */
	assert_null(domain_of("a;b#c$(id)", 10));
	assert_null(domain_of("example.test;", 13));
	assert_null(domain_of("a..b", 4));
	assert_null(domain_of(".example", 8));
	assert_null(domain_of("example..", 9));
}

/* Option 119's names one by one: the bad one goes, the others stay. */
static void search_domains_skip_the_names_a_resolver_refuses(void **state)
{
	struct dhcp_lease lease;
	struct dhcp_strv search;
	struct test_msg m;
	(void)state;

	ack_begin(&m);
	msg_put(&m, DHCP_OPTION_DOMAIN_SEARCH, "\x04" "good\x00\x0a" "a;b#c$(id)\x00\x05" "other\x00", 25);
	lease_of(&m, &lease);
	assert_int_equal(dhcp_lease_get_search_domains(&lease, &search), 0);
	assert_strv(&search, STRV("good", "other"));
	dhcp_strv_free(&search);
	dhcp_lease_clear(&lease);

	/* None left: none at all. */
	ack_begin(&m);
	msg_put(&m, DHCP_OPTION_DOMAIN_SEARCH, "\x03" "a;b\x00", 5);
	lease_of(&m, &lease);
	assert_int_equal(dhcp_lease_get_search_domains(&lease, &search), -ENODATA);
	assert_strv(&search, NO_STRV);
	dhcp_lease_clear(&lease);
}

static void nameservers_that_cannot_be_skip_one_by_one(void **state)
{
	struct dhcp_lease lease;
	struct in_addr *dns = (void *)1;
	size_t n = 1;
	struct test_msg m;
	(void)state;

	ack_begin(&m);
	/* 0.0.0.0 192.0.2.53 255.255.255.255 127.0.0.1 224.0.0.251 240.0.0.1 169.254.169.253 192.0.2.54 */
	msg_put(&m, DHCP_OPTION_DOMAIN_NAME_SERVER,
		"\x00\x00\x00\x00\xc0\x00\x02\x35\xff\xff\xff\xff\x7f\x00\x00\x01"
		"\xe0\x00\x00\xfb\xf0\x00\x00\x01\xa9\xfe\xa9\xfd\xc0\x00\x02\x36",
		32);
	lease_of(&m, &lease);
	assert_int_equal(dhcp_lease_get_dns(&lease, &dns, &n), 0);
	assert_addr_list(dns, n, STRV("192.0.2.53", "169.254.169.253", "192.0.2.54"));
	free(dns);
	dhcp_lease_clear(&lease);

	/* None left: none at all. */
	ack_begin(&m);
	msg_put(&m, DHCP_OPTION_DOMAIN_NAME_SERVER, "\x00\x00\x00\x00\x7f\x00\x00\x01", 8);
	lease_of(&m, &lease);
	assert_int_equal(dhcp_lease_get_dns(&lease, &dns, &n), -ENODATA);
	assert_null(dns);
	assert_int_equal(n, 0);
	dhcp_lease_clear(&lease);
}

/* ---- addresses no pod may have ---- */

/* Why the lease of `yiaddr` (mask `mask` when not NULL, server 192.0.2.1) is unusable. */
static const char *unusable_with(const char *yiaddr, const char *mask)
{
	static char why[128];
	struct dhcp_lease lease;
	struct test_msg m;

	msg_reply(&m, DHCPACK, 7, yiaddr, "192.0.2.1");
	if (mask)
		msg_put(&m, DHCP_OPTION_SUBNET_MASK, mask, 4);
	lease_of(&m, &lease);
	const char *reason = dhcp_lease_address_unusable(&lease);
	dhcp_lease_clear(&lease);
	if (!reason)
		return NULL;
	snprintf(why, sizeof(why), "%s", reason);
	return why;
}

#define assert_unusable(yiaddr, mask, part) assert_non_null(strstr(unusable_with((yiaddr), (mask)) ?: "", (part)))
#define assert_usable(yiaddr, mask) assert_null(unusable_with((yiaddr), (mask)))

#define M24 "\xff\xff\xff\x00"
#define M31 "\xff\xff\xff\xfe"
#define M32 "\xff\xff\xff\xff"

static void addresses_no_host_may_have_are_unusable(void **state)
{
	(void)state;
	assert_unusable("127.0.0.1", M24, "a loopback address");
	assert_unusable("127.0.0.9", NULL, "a loopback address");
	assert_unusable("224.0.0.5", NULL, "a multicast address");
	assert_unusable("240.0.0.1", NULL, "a reserved address");
	assert_unusable("255.255.255.254", M32, "a reserved address");
	assert_unusable("0.0.0.1", M24, "this network");
	assert_unusable("169.254.1.1", "\xff\xff\x00\x00", "a link-local address");
	assert_usable("192.0.2.100", M24);
	assert_usable("10.1.2.3", NULL);
}

static void network_and_broadcast_addresses_of_the_subnet_are_unusable(void **state)
{
	(void)state;
	assert_unusable("192.0.2.0", M24, "the network address of its subnet");
	assert_unusable("192.0.2.255", M24, "the broadcast address of its subnet");
	assert_unusable("198.51.100.64", "\xff\xff\xff\xc0", "the network address");
	assert_unusable("198.51.100.127", "\xff\xff\xff\xc0", "the broadcast address");
	assert_usable("198.51.100.128", "\xff\xff\xfe\x00");
	/* No mask: the classful prefix the pod would get (10.0.0.0/8). */
	assert_unusable("10.0.0.0", NULL, "the network address");
	assert_usable("10.0.1.0", NULL);
	/* RFC 3021: both addresses of a /31 are hosts', and a /32 is the host alone. */
	assert_usable("192.0.2.100", M31);
	assert_usable("192.0.2.101", M31);
	assert_usable("192.0.2.0", M32);
	assert_usable("192.0.2.255", M32);
	/* /30 still has both. */
	assert_unusable("192.0.2.100", "\xff\xff\xff\xfc", "the network address");
}

static void the_servers_own_address_is_unusable(void **state)
{
	(void)state;
	assert_unusable("192.0.2.1", M24, "the server's own address (its server identifier)");
	assert_usable("192.0.2.2", M24);
}

static void unparsable_ack_is_ebadmsg_for_every_getter(void **state)
{
	struct dhcp_lease lease;
	struct in_addr router, *dns = (void *)1;
	struct dhcp_route *routes = (void *)1;
	struct dhcp_strv search = { (void *)1, 1 };
	char *domain = (void *)1;
	size_t n = 1;
	(void)state;

	times_of(120, 0, 0, &lease);
	lease.ack[DHCP_HEADER_LEN] = 0; /* the cookie */
	assert_int_equal(dhcp_lease_get_router(&lease, &router), -EBADMSG);
	assert_int_equal(router.s_addr, INADDR_ANY);
	assert_int_equal(dhcp_lease_get_routes(&lease, &routes, &n), -EBADMSG);
	assert_null(routes);
	assert_int_equal(n, 0);
	n = 1;
	assert_int_equal(dhcp_lease_get_classless_routes(&lease, &routes, &n), -EBADMSG);
	assert_null(routes);
	assert_int_equal(n, 0);
	n = 1;
	assert_int_equal(dhcp_lease_get_dns(&lease, &dns, &n), -EBADMSG);
	assert_null(dns);
	assert_int_equal(n, 0);
	assert_int_equal(dhcp_lease_get_domain_name(&lease, &domain), -EBADMSG);
	assert_null(domain);
	assert_int_equal(dhcp_lease_get_search_domains(&lease, &search), -EBADMSG);
	assert_int_equal(search.count, 0);
	dhcp_lease_clear(&lease);
	/* A cleared lease has no ACK at all. */
	assert_int_equal(dhcp_lease_get_router(&lease, &router), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t1_t2_default_to_half_and_seven_eighths),
		cmocka_unit_test(sane_server_t1_t2_are_kept),
		cmocka_unit_test(t2_not_below_the_lease_takes_the_default),
		cmocka_unit_test(t1_not_below_t2_takes_the_default),
		cmocka_unit_test(t1_stays_below_a_small_server_t2),
		cmocka_unit_test(tiny_leases_keep_t1_below_t2),
		cmocka_unit_test(infinite_lease_never_renews),
		cmocka_unit_test(missing_or_bad_lease_time_is_an_hour),
		cmocka_unit_test(absolute_times_count_from_the_request),
		cmocka_unit_test(prefix_comes_from_the_subnet_mask),
		cmocka_unit_test(missing_or_garbage_mask_is_classful),
		cmocka_unit_test(lease_records_address_and_server),
		cmocka_unit_test(messages_without_address_or_server_are_refused),
		cmocka_unit_test(lease_copy_is_deep),
		cmocka_unit_test(full_ack_gives_router_default_route_and_dns),
		cmocka_unit_test(classless_routes_win_over_router_and_static_routes),
		cmocka_unit_test(classless_zero_next_hop_is_on_link),
		cmocka_unit_test(static_routes_then_default_via_router),
		cmocka_unit_test(first_router_is_the_gateway),
		cmocka_unit_test(bare_ack_configures_nothing),
		cmocka_unit_test(malformed_classless_routes_fall_back_to_33_and_3),
		cmocka_unit_test(malformed_static_routes_are_skipped),
		cmocka_unit_test(malformed_router_gives_no_gateway_and_no_default_route),
		cmocka_unit_test(classless_routes_as_the_server_sent_them),
		cmocka_unit_test(malformed_dns_options_are_skipped_one_by_one),
		cmocka_unit_test(empty_search_list_is_none),
		cmocka_unit_test(domain_name_loses_trailing_nul_and_dot),
		cmocka_unit_test(unusable_domain_names_are_skipped),
		cmocka_unit_test(search_domains_skip_the_names_a_resolver_refuses),
		cmocka_unit_test(nameservers_that_cannot_be_skip_one_by_one),
		cmocka_unit_test(addresses_no_host_may_have_are_unusable),
		cmocka_unit_test(network_and_broadcast_addresses_of_the_subnet_are_unusable),
		cmocka_unit_test(the_servers_own_address_is_unusable),
		cmocka_unit_test(unparsable_ack_is_ebadmsg_for_every_getter),
	};
	return cmocka_run_group_tests_name("dhcp_lease", tests, NULL, NULL);
}
