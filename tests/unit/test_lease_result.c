/* A lease as the IPAM result (src/dhcpd/lease_result.c): address and gateway, the
 * lease's routes with their scope and the network's priority as metric, DNS from
 * 6/15/119; and the replies of real servers as results. Which routes and names a
 * lease gives (RFC 3442 precedence, malformed options skipped) is the engine's, and
 * tested with its getters in test_dhcp_lease.c. */
#include "dhcp_helpers.h"

#include <jansson.h>

#include "cni/result.h"
#include "dhcp4/lease.h"
#include "dhcpd/lease_result.h"


/* ---- results as text ---- */

/* "198.51.100.0/24 via 192.0.2.254", "203.0.113.7/32 scope link", with " metric N"
 * when the route has a priority. */
static void route_text(const struct cni_route *r, char *buf, size_t cap)
{
	char dst[IP_PREFIX_STRLEN], gw[INET6_ADDRSTRLEN];
	int n;

	ip_prefix_format(&r->dst, dst);
	if (r->has_gw) {
		ip_addr_format(&r->gw, gw);
		n = snprintf(buf, cap, "%s via %s", dst, gw);
	} else {
		n = snprintf(buf, cap, "%s", dst);
	}
	if (r->has_scope)
		n += snprintf(buf + n, cap - (size_t)n, " scope %s", r->scope == CNI_SCOPE_LINK ? "link" : "other");
	if (r->priority)
		snprintf(buf + n, cap - (size_t)n, " metric %d", r->priority);
}

/* Compares the result's routes, in order, with the NULL-terminated `want`. */
static void assert_routes(const struct cni_result *res, const char *const *want)
{
	size_t n = 0;

	for (; want[n]; n++) {
		char got[128];
		if (n >= res->n_routes)
			fail_msg("route %zu missing: expected \"%s\"", n, want[n]);
		route_text(&res->routes[n], got, sizeof(got));
		if (strcmp(got, want[n]) != 0)
			fail_msg("route %zu is \"%s\", expected \"%s\"", n, got, want[n]);
	}
	if (res->n_routes != n) {
		char extra[128];
		route_text(&res->routes[n], extra, sizeof(extra));
		fail_msg("%zu routes, expected %zu; the first extra one is \"%s\"", res->n_routes, n, extra);
	}
}

static void assert_cni_strv(const struct cni_strv *got, const char *const *want)
{
	size_t n = 0;

	for (; want[n]; n++) {
		if (n >= got->count)
			fail_msg("item %zu missing: expected \"%s\"", n, want[n]);
		assert_string_equal(got->items[n], want[n]);
	}
	assert_int_equal(got->count, n);
}

static void assert_ip(const struct cni_result *res, const char *address, const char *gateway)
{
	char text[IP_PREFIX_STRLEN];

	assert_int_equal(res->n_ips, 1);
	ip_prefix_format(&res->ips[0].address, text);
	assert_string_equal(text, address);
	assert_int_equal(res->ips[0].address.addr.family, AF_INET);
	if (gateway) {
		assert_true(res->ips[0].has_gateway);
		ip_addr_format(&res->ips[0].gateway, text);
		assert_string_equal(text, gateway);
	} else {
		assert_false(res->ips[0].has_gateway);
	}
}

/* ---- leases of built DHCPACKs ---- */

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

/* ---- lease -> CNI result ---- */

static void result_of(struct test_msg *m, int priority, struct cni_result *res)
{
	struct dhcp_lease lease;

	lease_of(m, &lease);
	assert_int_equal(lease_to_cni_result(&lease, priority, res), 0);
	dhcp_lease_clear(&lease);
}

static void full_ack(struct test_msg *m)
{
	ack_begin(m);
	msg_put(m, DHCP_OPTION_SUBNET_MASK, "\xff\xff\xff\x00", 4);
	msg_put(m, DHCP_OPTION_ROUTER, "\xc0\x00\x02\x01", 4);
	msg_put(m, DHCP_OPTION_DOMAIN_NAME_SERVER, "\xc0\x00\x02\x35\xc0\x00\x02\x36", 8);
	msg_put(m, DHCP_OPTION_DOMAIN_NAME, "example.test", 12);
	msg_put(m, DHCP_OPTION_DOMAIN_SEARCH, "\x01" "a\x07" "example\x00\x01" "b\xc0\x02", 15);
}

static void result_has_address_gateway_default_route_and_dns(void **state)
{
	struct cni_result res;
	struct test_msg m;
	(void)state;

	full_ack(&m);
	result_of(&m, 0, &res);
	assert_ip(&res, "192.0.2.100/24", "192.0.2.1");
	assert_routes(&res, ROUTES("0.0.0.0/0 via 192.0.2.1"));
	assert_cni_strv(&res.dns.nameservers, STRV("192.0.2.53", "192.0.2.54"));
	assert_string_equal(res.dns.domain, "example.test");
	assert_cni_strv(&res.dns.search, STRV("a.example", "b.example"));
	assert_int_equal(res.n_interfaces, 0);
	assert_int_equal(res.ips[0].interface, -1); /* IPAM: no interface */
	cni_result_free(&res);
}

static void zero_next_hop_is_a_link_scope_route(void **state)
{
	struct cni_result res;
	struct test_msg m;
	(void)state;

	full_ack(&m);
	msg_put(&m, DHCP_OPTION_CLASSLESS_STATIC_ROUTE, "\x20\xcb\x00\x71\x07\x00\x00\x00\x00", 9);
	result_of(&m, 0, &res);
	assert_routes(&res, ROUTES("203.0.113.7/32 scope link"));
	assert_false(res.routes[0].has_gw);
	assert_int_equal(res.routes[0].scope, CNI_SCOPE_LINK);
	cni_result_free(&res);
}

static void priority_is_every_routes_metric(void **state)
{
	struct cni_result res;
	struct test_msg m;
	(void)state;

	full_ack(&m);
	msg_put(&m, DHCP_OPTION_STATIC_ROUTE, "\x0a\x00\x00\x00\xc0\x00\x02\x09", 8);
	result_of(&m, 300, &res);
	assert_routes(&res, ROUTES("10.0.0.0/8 via 192.0.2.9 metric 300", "0.0.0.0/0 via 192.0.2.1 metric 300"));
	cni_result_free(&res);

	full_ack(&m);
	msg_put(&m, DHCP_OPTION_CLASSLESS_STATIC_ROUTE, "\x18\xc6\x33\x64\x00\x00\x00\x00\x00\xc0\x00\x02\x02", 13);
	result_of(&m, 50, &res);
	assert_routes(&res, ROUTES("198.51.100.0/24 scope link metric 50", "0.0.0.0/0 via 192.0.2.2 metric 50"));
	cni_result_free(&res);
}

static void bare_ack_gives_only_the_address(void **state)
{
	struct cni_result res;
	struct test_msg m;
	(void)state;

	ack_begin(&m);
	result_of(&m, 0, &res);
	assert_ip(&res, "192.0.2.100/24", NULL);
	assert_routes(&res, NO_ROUTES);
	assert_true(cni_dns_empty(&res.dns));
	cni_result_free(&res);
}

static void unparsable_ack_is_ebadmsg(void **state)
{
	struct dhcp_lease lease;
	struct cni_result res;
	(void)state;

	times_of(120, 0, 0, &lease);
	lease.ack[DHCP_HEADER_LEN] = 0; /* the cookie */
	assert_int_equal(lease_to_cni_result(&lease, 0, &res), -EBADMSG);
	assert_int_equal(res.n_ips, 0);
	assert_int_equal(res.n_routes, 0);
	dhcp_lease_clear(&lease);
}

/* ---- the replies of real servers (tests/vectors) ---- */

static const char *const three_routes[] = { "198.51.100.0/24 via 192.0.2.254", "203.0.113.7/32 scope link",
					    "0.0.0.0/0 via 192.0.2.1", NULL };

/* `scenario`'s DHCPACK (for `address`) as a result: every capture's server was set up
 * alike (tests/vectors/README.md). */
static void check_vector_result(const char *scenario, const char *address, const char *const *routes)
{
	char name[128], cidr[32];
	struct dhcp_lease lease;
	struct cni_result res;
	size_t len;

	snprintf(name, sizeof(name), "%s-ack.bin", scenario);
	uint8_t *data = load_vector(name, &len);
	struct dhcp_message *msg = parse_or_fail(data, len);
	assert_null(dhcp_lease_from_message(msg, data, len, 1000, &lease));
	assert_addr_equal(lease.address, address);

	assert_int_equal(lease_to_cni_result(&lease, 0, &res), 0);
	snprintf(cidr, sizeof(cidr), "%s/24", address);
	assert_ip(&res, cidr, "192.0.2.1");
	/* RFC 3442: option 121 carries the default route; option 3 adds none. */
	assert_routes(&res, routes);
	assert_cni_strv(&res.dns.nameservers, STRV("192.0.2.53", "192.0.2.54"));
	assert_string_equal(res.dns.domain, "example.test");
	assert_cni_strv(&res.dns.search, STRV("a.example", "b.example"));
	cni_result_free(&res);
	dhcp_lease_clear(&lease);
	free(msg);
	free(data);
}

/* The address the capture's server offered, from its sidecar. */
static const char *offered(const char *scenario)
{
	static char text[INET_ADDRSTRLEN];
	char path[4352];
	json_error_t jerr;

	snprintf(path, sizeof(path), "%s/%s.json", vectors_dir(), scenario);
	json_t *root = json_load_file(path, 0, &jerr);
	if (!root)
		fail_msg("cannot read %s: %s", path, jerr.text);
	const char *addr = json_string_value(json_object_get(root, "offered"));
	assert_non_null(addr);
	snprintf(text, sizeof(text), "%s", addr);
	json_decref(root);
	return text;
}

static void real_acks_become_results(void **state)
{
	static const char *const scenarios[] = { "dnsmasq", "dhcpd", "udhcpd" };
	(void)state;

	for (size_t i = 0; i < DH_N_ELEMENTS(scenarios); i++)
		check_vector_result(scenarios[i], offered(scenarios[i]), three_routes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(result_has_address_gateway_default_route_and_dns),
		cmocka_unit_test(zero_next_hop_is_a_link_scope_route),
		cmocka_unit_test(priority_is_every_routes_metric),
		cmocka_unit_test(bare_ack_gives_only_the_address),
		cmocka_unit_test(unparsable_ack_is_ebadmsg),
		cmocka_unit_test(real_acks_become_results),
	};
	return cmocka_run_group_tests_name("lease_result", tests, NULL, NULL);
}
