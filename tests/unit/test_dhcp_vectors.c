/* Replies captured from real servers (dnsmasq, ISC dhcpd, busybox udhcpd) by
 * tests/vectors/capture.py: every field parsed, the lease and what it configures, and
 * the client state machine fed with them (test_lease_result.c makes them results).
 * The vectors are found in DHCP_VECTORS_DIR or tests/vectors (see dhcp_helpers.h). */
#include "dhcp_helpers.h"

#include <jansson.h>

#include "dhcp4/client.h"
#include "dhcp4/lease.h"
#include "dhcp4/options.h"

/* What each capture's server was configured with (tests/vectors/README.md). */
struct expect {
	const char *scenario;
	uint32_t lease_s;
	uint32_t t1_sent, t2_sent; /* 0: the server sent none */
	uint64_t t1_ms, t2_ms;     /* the lease's, defaults applied */
	const char *nak_message;   /* NULL: the NAK has no option 56 */
};

static const struct expect dnsmasq = { "dnsmasq", 120, 60, 105, 60000, 105000, "wrong address" };
static const struct expect dhcpd = { "dhcpd", 300, 0, 0, 150000, 262500, "requested address not available" };
static const struct expect udhcpd = { "udhcpd", 180, 0, 0, 90000, 157500, NULL };
static const struct expect dhcpd_split = { "dhcpd-split", 300, 0, 0, 150000, 262500, NULL };
static const struct expect dhcpd_overload = { "dhcpd-overload", 300, 0, 0, 150000, 262500, NULL };

/* The sidecar: MAC, xids and the address offered, as the capture recorded them. */
struct capture {
	uint32_t xid;
	uint32_t reboot_xid;
	char offered[INET_ADDRSTRLEN];
	char reboot_address[INET_ADDRSTRLEN];
};

static uint32_t hex_field(json_t *root, const char *key)
{
	const char *text = json_string_value(json_object_get(root, key));

	if (!text)
		fail_msg("sidecar has no \"%s\"", key);
	return (uint32_t)strtoul(text, NULL, 16);
}

static struct capture load_capture(const char *scenario)
{
	char path[4352];
	json_error_t jerr;
	struct capture cap = { 0 };

	snprintf(path, sizeof(path), "%s/%s.json", vectors_dir(), scenario);
	json_t *root = json_load_file(path, 0, &jerr);
	if (!root)
		fail_msg("cannot read %s: %s", path, jerr.text);
	assert_string_equal(json_string_value(json_object_get(root, "client_mac")), "02:00:00:c0:ff:ee");
	assert_string_equal(json_string_value(json_object_get(root, "server_id")), "192.0.2.1");
	assert_true(json_is_true(json_object_get(root, "broadcast_flag")));
	cap.xid = hex_field(root, "xid");
	if (json_object_get(root, "reboot_xid")) {
		cap.reboot_xid = hex_field(root, "reboot_xid");
		snprintf(cap.reboot_address, sizeof(cap.reboot_address), "%s",
			 json_string_value(json_object_get(root, "reboot_address")));
	}
	snprintf(cap.offered, sizeof(cap.offered), "%s", json_string_value(json_object_get(root, "offered")));
	json_decref(root);
	return cap;
}

struct vector {
	uint8_t *data;
	size_t len;
	struct dhcp_message *msg;
};

static struct vector load(const char *scenario, const char *kind)
{
	char name[128];
	struct vector v;

	snprintf(name, sizeof(name), "%s-%s.bin", scenario, kind);
	v.data = load_vector(name, &v.len);
	v.msg = parse_or_fail(v.data, v.len);
	return v;
}

static void unload(struct vector *v)
{
	free(v->data);
	free(v->msg);
}

/* ---- fields ---- */

static void assert_reply_header(const struct dhcp_message *msg, uint32_t xid, const char *yiaddr)
{
	assert_int_equal(msg->header.op, BOOTREPLY);
	assert_int_equal(msg->header.htype, 1);
	assert_int_equal(msg->header.hlen, 6);
	assert_int_equal(ntohl(msg->header.xid), xid);
	assert_memory_equal(msg->header.chaddr, test_mac, 6);
	/* We asked for broadcast replies; RFC 2131 4.1: the server echoes the flag. */
	assert_int_equal(ntohs(msg->header.flags), DHCP_FLAG_BROADCAST);
	assert_int_equal(msg->header.ciaddr, 0);
	assert_addr_equal((struct in_addr){ msg->header.yiaddr }, yiaddr);
}

static void assert_search_list(const struct dhcp_message *msg)
{
	struct dhcp_strv names;
	const uint8_t *data;
	size_t len;

	assert_int_equal(dhcp_message_get(msg, DHCP_OPTION_DOMAIN_SEARCH, &data, &len), 0);
	assert_int_equal(dhcp_decode_domain_search(data, len, &names), 0);
	assert_strv(&names, STRV("a.example", "b.example"));
	dhcp_strv_free(&names);
}

static void assert_classless_routes(const struct dhcp_message *msg, size_t want_count)
{
	struct dhcp_route *routes = NULL;
	size_t n = 0;
	const uint8_t *data;
	size_t len;

	assert_int_equal(dhcp_message_get(msg, DHCP_OPTION_CLASSLESS_STATIC_ROUTE, &data, &len), 0);
	assert_int_equal(dhcp_decode_classless_routes(data, len, &routes, &n), 0);
	assert_int_equal(n, want_count);
	assert_addr_equal(routes[0].dst, "198.51.100.0");
	assert_int_equal(routes[0].prefix_len, 24);
	assert_addr_equal(routes[0].gateway, "192.0.2.254");
	assert_addr_equal(routes[1].dst, "203.0.113.7");
	assert_int_equal(routes[1].prefix_len, 32);
	assert_addr_equal(routes[1].gateway, "0.0.0.0");
	assert_addr_equal(routes[2].dst, "0.0.0.0");
	assert_int_equal(routes[2].prefix_len, 0);
	assert_addr_equal(routes[2].gateway, "192.0.2.1");
	for (size_t i = 3; i < n; i++) {
		char dst[INET_ADDRSTRLEN];
		snprintf(dst, sizeof(dst), "10.%zu.0.0", i - 3);
		assert_addr_equal(routes[i].dst, dst);
		assert_int_equal(routes[i].prefix_len, 16);
		assert_addr_equal(routes[i].gateway, "192.0.2.254");
	}
	free(routes);
}

static void assert_offer_or_ack_options(const struct dhcp_message *msg, const struct expect *e, size_t n_routes)
{
	uint32_t u32;
	static const uint8_t dns[] = { 192, 0, 2, 53, 192, 0, 2, 54 };

	assert_option_addr(msg, DHCP_OPTION_SERVER_IDENTIFIER, "192.0.2.1");
	assert_int_equal(dhcp_message_get_u32(msg, DHCP_OPTION_IP_ADDRESS_LEASE_TIME, &u32), 0);
	assert_int_equal(u32, e->lease_s);
	if (e->t1_sent) {
		assert_int_equal(dhcp_message_get_u32(msg, DHCP_OPTION_RENEWAL_TIME, &u32), 0);
		assert_int_equal(u32, e->t1_sent);
		assert_int_equal(dhcp_message_get_u32(msg, DHCP_OPTION_REBINDING_TIME, &u32), 0);
		assert_int_equal(u32, e->t2_sent);
	} else {
		assert_option_absent(msg, DHCP_OPTION_RENEWAL_TIME);
		assert_option_absent(msg, DHCP_OPTION_REBINDING_TIME);
	}
	assert_option_addr(msg, DHCP_OPTION_SUBNET_MASK, "255.255.255.0");
	assert_option_addr(msg, DHCP_OPTION_ROUTER, "192.0.2.1");
	assert_option_equal(msg, DHCP_OPTION_DOMAIN_NAME_SERVER, dns, sizeof(dns));
	assert_option_equal(msg, DHCP_OPTION_DOMAIN_NAME, "example.test", 12);
	assert_search_list(msg);
	assert_classless_routes(msg, n_routes);
}

static void check_offer(const struct expect *e)
{
	struct capture cap = load_capture(e->scenario);
	struct vector v = load(e->scenario, "offer");

	assert_int_equal(dhcp_message_type(v.msg), DHCPOFFER);
	assert_reply_header(v.msg, cap.xid, cap.offered);
	assert_offer_or_ack_options(v.msg, e, 3);
	unload(&v);
}

static void check_lease(const struct expect *e, const struct vector *v, const char *address,
			const char *const *routes)
{
	struct dhcp_lease lease;
	struct dhcp_route *got_routes;
	struct in_addr router, *dns;
	struct dhcp_strv search;
	char *domain;
	size_t n;

	assert_null(dhcp_lease_from_message(v->msg, v->data, v->len, 1000, &lease));
	assert_addr_equal(lease.address, address);
	assert_int_equal(lease.prefix_len, 24);
	assert_addr_equal(lease.server_id, "192.0.2.1");
	assert_int_equal(lease.lifetime_s, e->lease_s);
	assert_int_equal(lease.t1_ms, e->t1_ms);
	assert_int_equal(lease.t2_ms, e->t2_ms);
	assert_int_equal(dhcp_lease_expiry(&lease), 1000 + (uint64_t)e->lease_s * 1000);

	assert_int_equal(dhcp_lease_get_router(&lease, &router), 0);
	assert_addr_equal(router, "192.0.2.1");
	/* RFC 3442: option 121 carries the default route; option 3 adds none. */
	assert_int_equal(dhcp_lease_get_routes(&lease, &got_routes, &n), 0);
	assert_route_list(got_routes, n, routes);
	free(got_routes);
	assert_int_equal(dhcp_lease_get_classless_routes(&lease, &got_routes, &n), 0);
	assert_route_list(got_routes, n, routes);
	free(got_routes);
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
}

static const char *const three_routes[] = { "198.51.100.0/24 via 192.0.2.254", "203.0.113.7/32 on link",
					    "0.0.0.0/0 via 192.0.2.1", NULL };

static void check_ack(const struct expect *e)
{
	struct capture cap = load_capture(e->scenario);
	struct vector v = load(e->scenario, "ack");

	assert_int_equal(dhcp_message_type(v.msg), DHCPACK);
	assert_reply_header(v.msg, cap.xid, cap.offered);
	assert_offer_or_ack_options(v.msg, e, 3);
	check_lease(e, &v, cap.offered, three_routes);
	unload(&v);
}

static void check_nak(const struct expect *e)
{
	struct capture cap = load_capture(e->scenario);
	struct vector v = load(e->scenario, "nak");
	struct dhcp_lease lease;

	assert_int_equal(dhcp_message_type(v.msg), DHCPNAK);
	assert_reply_header(v.msg, cap.reboot_xid, "0.0.0.0");
	assert_option_addr(v.msg, DHCP_OPTION_SERVER_IDENTIFIER, "192.0.2.1");
	/* RFC 2131 table 3: a DHCPNAK carries no lease time and no configuration. */
	assert_option_absent(v.msg, DHCP_OPTION_IP_ADDRESS_LEASE_TIME);
	assert_option_absent(v.msg, DHCP_OPTION_ROUTER);
	if (e->nak_message)
		assert_option_equal(v.msg, DHCP_OPTION_MESSAGE, e->nak_message, strlen(e->nak_message));
	else
		assert_option_absent(v.msg, DHCP_OPTION_MESSAGE);
	assert_non_null(dhcp_lease_from_message(v.msg, v.data, v.len, 0, &lease));
	unload(&v);
}

/* What capture.py sent: the DHCPREQUEST asked for what the OFFER offered. */
static void check_our_requests(const struct expect *e)
{
	struct capture cap = load_capture(e->scenario);
	struct vector discover = load(e->scenario, "discover");
	struct vector request = load(e->scenario, "request");

	assert_int_equal(dhcp_message_type(discover.msg), DHCPDISCOVER);
	assert_int_equal(dhcp_message_type(request.msg), DHCPREQUEST);
	assert_int_equal(ntohl(discover.msg->header.xid), cap.xid);
	assert_int_equal(ntohl(request.msg->header.xid), cap.xid);
	assert_option_addr(request.msg, DHCP_OPTION_REQUESTED_IP_ADDRESS, cap.offered);
	assert_option_addr(request.msg, DHCP_OPTION_SERVER_IDENTIFIER, "192.0.2.1");
	unload(&discover);
	unload(&request);
}

static void dnsmasq_offer(void **state) { (void)state; check_offer(&dnsmasq); }
static void dnsmasq_ack(void **state) { (void)state; check_ack(&dnsmasq); }
static void dnsmasq_nak(void **state) { (void)state; check_nak(&dnsmasq); }
static void dnsmasq_requests(void **state) { (void)state; check_our_requests(&dnsmasq); }
static void dhcpd_offer(void **state) { (void)state; check_offer(&dhcpd); }
static void dhcpd_ack(void **state) { (void)state; check_ack(&dhcpd); }
static void dhcpd_nak(void **state) { (void)state; check_nak(&dhcpd); }
static void dhcpd_requests(void **state) { (void)state; check_our_requests(&dhcpd); }
static void udhcpd_offer(void **state) { (void)state; check_offer(&udhcpd); }
static void udhcpd_ack(void **state) { (void)state; check_ack(&udhcpd); }
static void udhcpd_nak(void **state) { (void)state; check_nak(&udhcpd); }
static void udhcpd_requests(void **state) { (void)state; check_our_requests(&udhcpd); }

static void dnsmasq_search_list_uses_compression(void **state)
{
	struct vector v = load("dnsmasq", "ack");
	const uint8_t *data;
	size_t len;
	(void)state;

	/* "a.example", then "b" and a pointer to "example": RFC 1035 compression. */
	assert_int_equal(dhcp_message_get(v.msg, DHCP_OPTION_DOMAIN_SEARCH, &data, &len), 0);
	assert_int_equal(len, 15);
	assert_int_equal(data[13], 0xc0);
	assert_int_equal(data[14], 2);
	unload(&v);
}

/* ---- RFC 3396 and option overload, as ISC dhcpd does them ---- */

static void check_forty_three_routes(const struct expect *e)
{
	static const char *routes[44];
	static char text[40][40];
	struct capture cap = load_capture(e->scenario);
	struct vector v = load(e->scenario, "ack");

	routes[0] = three_routes[0];
	routes[1] = three_routes[1];
	routes[2] = three_routes[2];
	for (size_t i = 0; i < 40; i++) {
		snprintf(text[i], sizeof(text[i]), "10.%zu.0.0/16 via 192.0.2.254", i);
		routes[3 + i] = text[i];
	}
	routes[43] = NULL;
	assert_int_equal(dhcp_message_type(v.msg), DHCPACK);
	assert_reply_header(v.msg, cap.xid, cap.offered);
	assert_offer_or_ack_options(v.msg, e, 43);
	check_lease(e, &v, cap.offered, routes);
	unload(&v);
}

/* The instances of `code` in the options field, without concatenation. */
static size_t instances_in_options_field(const struct vector *v, uint8_t code, uint8_t *overload)
{
	size_t n = 0;

	*overload = 0;
	for (size_t i = DHCP_HEADER_LEN + 4; i + 1 < v->len && v->data[i] != DHCP_OPTION_END;) {
		if (v->data[i] == DHCP_OPTION_PAD) {
			i++;
			continue;
		}
		if (v->data[i] == code)
			n++;
		if (v->data[i] == DHCP_OPTION_OVERLOAD)
			*overload = v->data[i + 2];
		i += 2u + v->data[i + 1];
	}
	return n;
}

static void dhcpd_splits_long_classless_routes(void **state)
{
	struct vector v = load("dhcpd-split", "ack");
	uint8_t overload;
	(void)state;

	/* The raw message: 121 in two instances (302 octets), no overload. */
	assert_int_equal(instances_in_options_field(&v, 121, &overload), 2);
	assert_int_equal(overload, 0);
	assert_int_equal(v.msg->options[121].len, 302);
	unload(&v);
	check_forty_three_routes(&dhcpd_split);
}

static void dhcpd_overloads_file_when_the_client_takes_576(void **state)
{
	struct vector v = load("dhcpd-overload", "ack");
	uint8_t overload;
	(void)state;

	/* 576-octet datagram: 548 octets of DHCP; 121 starts in options, ends in file. */
	assert_int_equal(v.len, 548);
	assert_int_equal(instances_in_options_field(&v, 121, &overload), 1);
	assert_int_equal(overload, DHCP_OVERLOAD_FILE);
	assert_int_equal(v.msg->header.file[0], 121);
	assert_int_equal(v.msg->options[121].len, 302);
	unload(&v);
	check_forty_three_routes(&dhcpd_overload);
}

/* ---- the client state machine fed with real replies ---- */

struct xid_source {
	uint32_t xid;
};

static uint32_t fixed_random(void *ctx)
{
	return ((struct xid_source *)ctx)->xid;
}

static void client_init(struct dhcp_client *c, struct xid_source *rnd)
{
	struct dhcp_client_config config = { .broadcast = true };

	memcpy(config.mac, test_mac, 6);
	dhcp_client_init(c, &config, fixed_random, NULL, rnd);
}

static void feed(struct dhcp_client *c, uint64_t now, const char *scenario, const char *kind)
{
	struct vector v = load(scenario, kind);

	dhcp_client_receive(c, now, v.data, v.len);
	unload(&v);
}

static uint8_t pop_type(struct dhcp_client *c, struct dhcp_output *out)
{
	if (!dhcp_client_pop_output(c, out))
		return 0;
	struct dhcp_message *msg = parse_or_fail(out->data, out->len);
	uint8_t type = dhcp_message_type(msg);
	free(msg);
	return type;
}

static void client_binds_with(const struct expect *e)
{
	struct capture cap = load_capture(e->scenario);
	struct xid_source rnd = { cap.xid };
	struct dhcp_client *c = calloc(1, sizeof(*c));
	struct dhcp_output *out = malloc(sizeof(*out));
	struct dhcp_event ev;

	assert_non_null(c);
	assert_non_null(out);
	client_init(c, &rnd);
	dhcp_client_start(c, 5000);
	assert_int_equal(pop_type(c, out), DHCPDISCOVER);
	feed(c, 5000, e->scenario, "offer");
	assert_int_equal(pop_type(c, out), DHCPREQUEST);
	struct dhcp_message *req = parse_or_fail(out->data, out->len);
	assert_option_addr(req, DHCP_OPTION_REQUESTED_IP_ADDRESS, cap.offered);
	assert_option_addr(req, DHCP_OPTION_SERVER_IDENTIFIER, "192.0.2.1");
	free(req);
	feed(c, 5010, e->scenario, "ack");
	assert_true(dhcp_client_pop_event(c, &ev));
	assert_int_equal(ev.type, DHCP_EVENT_GRANTED);
	dhcp_client_accept(c, 5010);
	assert_true(dhcp_client_pop_event(c, &ev));
	assert_int_equal(ev.type, DHCP_EVENT_BOUND);
	assert_int_equal(dhcp_client_deadline(c), 5000 + e->t1_ms);
	assert_addr_equal(dhcp_client_lease(c)->address, cap.offered);
	dhcp_client_free(c);
	free(c);
	free(out);
}

static void client_is_refused_with(const struct expect *e)
{
	struct capture cap = load_capture(e->scenario);
	struct xid_source rnd = { cap.reboot_xid };
	struct dhcp_client *c = calloc(1, sizeof(*c));
	struct dhcp_output *out = malloc(sizeof(*out));

	assert_non_null(c);
	assert_non_null(out);
	client_init(c, &rnd);
	dhcp_client_start_reboot(c, 5000, ip4(cap.reboot_address));
	assert_int_equal(pop_type(c, out), DHCPREQUEST);
	feed(c, 5000, e->scenario, "nak");
	/* INIT-REBOOT refused: DHCPDISCOVER at once. */
	assert_int_equal(pop_type(c, out), DHCPDISCOVER);
	assert_int_equal(dhcp_client_get_state(c), DHCP_STATE_SELECTING);
	assert_int_equal(c->counters.naks, 1);
	dhcp_client_free(c);
	free(c);
	free(out);
}

static void client_binds_with_dnsmasq(void **state) { (void)state; client_binds_with(&dnsmasq); }
static void client_binds_with_dhcpd(void **state) { (void)state; client_binds_with(&dhcpd); }
static void client_binds_with_udhcpd(void **state) { (void)state; client_binds_with(&udhcpd); }
static void client_binds_with_dhcpd_overload(void **state) { (void)state; client_binds_with(&dhcpd_overload); }
static void client_is_refused_by_dnsmasq(void **state) { (void)state; client_is_refused_with(&dnsmasq); }
static void client_is_refused_by_dhcpd(void **state) { (void)state; client_is_refused_with(&dhcpd); }
static void client_is_refused_by_udhcpd(void **state) { (void)state; client_is_refused_with(&udhcpd); }

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dnsmasq_offer),
		cmocka_unit_test(dnsmasq_ack),
		cmocka_unit_test(dnsmasq_nak),
		cmocka_unit_test(dnsmasq_requests),
		cmocka_unit_test(dnsmasq_search_list_uses_compression),
		cmocka_unit_test(dhcpd_offer),
		cmocka_unit_test(dhcpd_ack),
		cmocka_unit_test(dhcpd_nak),
		cmocka_unit_test(dhcpd_requests),
		cmocka_unit_test(udhcpd_offer),
		cmocka_unit_test(udhcpd_ack),
		cmocka_unit_test(udhcpd_nak),
		cmocka_unit_test(udhcpd_requests),
		cmocka_unit_test(dhcpd_splits_long_classless_routes),
		cmocka_unit_test(dhcpd_overloads_file_when_the_client_takes_576),
		cmocka_unit_test(client_binds_with_dnsmasq),
		cmocka_unit_test(client_binds_with_dhcpd),
		cmocka_unit_test(client_binds_with_udhcpd),
		cmocka_unit_test(client_binds_with_dhcpd_overload),
		cmocka_unit_test(client_is_refused_by_dnsmasq),
		cmocka_unit_test(client_is_refused_by_dhcpd),
		cmocka_unit_test(client_is_refused_by_udhcpd),
	};
	return cmocka_run_group_tests_name("dhcp_vectors", tests, NULL, NULL);
}
