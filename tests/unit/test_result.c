/* Results: parsing every spec version, encoding in every version, converting between them. */
#include "helpers.h"

#include <sys/socket.h>

#include "cni/result.h"

#define DNS "'dns':{'nameservers':['10.1.2.1','fd00::1'],'domain':'example.com'," \
	    "'search':['example.com','svc.example.com'],'options':['ndots:2','edns0']}"

/* Two interfaces with the 1.1.0 fields, both families, an IPAM-style IP without interface,
 * routes with every 1.1.0 field (table 0 and scope 0 are values, not absence). */
static const char full_1_1_0[] =
	"{'cniVersion':'1.1.0',"
	"'interfaces':[{'name':'eth0','mac':'02:42:ac:11:00:02','mtu':1400,'sandbox':'/var/run/netns/ctr',"
	"'socketPath':'/run/vhost-user.sock','pciID':'0000:00:1f.6'},{'name':'host0','mac':'02:42:ac:11:00:03'}],"
	"'ips':[{'interface':0,'address':'10.1.2.3/24','gateway':'10.1.2.1'},"
	"{'interface':0,'address':'fd00::3/64','gateway':'fd00::1'},"
	"{'interface':1,'address':'10.1.2.4/24'},{'address':'fd00::4/64'}],"
	"'routes':[{'dst':'0.0.0.0/0','gw':'10.1.2.1','mtu':1400,'advmss':1360,'priority':100,'table':200,'scope':0},"
	"{'dst':'::/0','gw':'fd00::1','priority':50},{'dst':'10.9.0.0/16','table':0,'scope':253},"
	"{'dst':'fd09::/48','scope':254}]," DNS "}";

#define INTERFACES_1_0 \
	"'interfaces':[{'name':'eth0','mac':'02:42:ac:11:00:02','sandbox':'/var/run/netns/ctr'}," \
	"{'name':'host0','mac':'02:42:ac:11:00:03'}]"
#define ROUTES_1_0 \
	"'routes':[{'dst':'0.0.0.0/0','gw':'10.1.2.1'},{'dst':'::/0','gw':'fd00::1'},{'dst':'10.9.0.0/16'}," \
	"{'dst':'fd09::/48'}]"

static const char full_as_1_0_0[] =
	"{'cniVersion':'1.0.0'," INTERFACES_1_0 ","
	"'ips':[{'interface':0,'address':'10.1.2.3/24','gateway':'10.1.2.1'},"
	"{'interface':0,'address':'fd00::3/64','gateway':'fd00::1'},"
	"{'interface':1,'address':'10.1.2.4/24'},{'address':'fd00::4/64'}]," ROUTES_1_0 "," DNS "}";

/* %s is the version */
static const char full_as_0_x_fmt[] =
	"{'cniVersion':'%s'," INTERFACES_1_0 ","
	"'ips':[{'version':'4','interface':0,'address':'10.1.2.3/24','gateway':'10.1.2.1'},"
	"{'version':'6','interface':0,'address':'fd00::3/64','gateway':'fd00::1'},"
	"{'version':'4','interface':1,'address':'10.1.2.4/24'},{'version':'6','address':'fd00::4/64'}]," ROUTES_1_0
	"," DNS "}";

static const char full_as_legacy_fmt[] =
	"{'cniVersion':'%s',"
	"'ip4':{'ip':'10.1.2.3/24','gateway':'10.1.2.1',"
	"'routes':[{'dst':'0.0.0.0/0','gw':'10.1.2.1'},{'dst':'10.9.0.0/16'}]},"
	"'ip6':{'ip':'fd00::3/64','gateway':'fd00::1','routes':[{'dst':'::/0','gw':'fd00::1'},{'dst':'fd09::/48'}]},"
	DNS "}";

static const char legacy_0_2_0[] =
	"{'cniVersion':'0.2.0',"
	"'ip4':{'ip':'10.1.2.3/24','gateway':'10.1.2.1',"
	"'routes':[{'dst':'0.0.0.0/0'},{'dst':'192.168.0.0/16','gw':'10.1.2.254'}]},"
	"'ip6':{'ip':'fd00::3/64','gateway':'fd00::1','routes':[{'dst':'::/0'}]}," DNS "}";

static const char l2_only_1_0_0[] =
	"{'cniVersion':'1.0.0','interfaces':[{'name':'eth0','mac':'02:42:ac:11:00:02','sandbox':'/run/netns/x'}],'dns':{}}";

/* ---- helpers ---- */

static void parse_text(const char *text, enum cni_version fallback, struct cni_result *result)
{
	json_t *obj = load_json(text);
	struct cni_error err = { 0 };

	if (cni_result_parse(obj, fallback, result, &err) < 0)
		fail_msg("result rejected: %d %s", err.code, err.msg);
	json_decref(obj);
}

/* Parses `text` with fallback 1.0.0 and expects code and a piece of the message. */
static void parse_fails(const char *text, int code, const char *msg_part)
{
	json_t *obj = load_json(text);
	struct cni_error err = { 0 };
	struct cni_result result = { .n_ips = 99 };

	if (cni_result_parse(obj, CNI_VERSION_1_0_0, &result, &err) == 0)
		fail_msg("result accepted: %s", text);
	assert_cni_error(&err, code, msg_part);
	/* What was parsed before the error is freed. */
	assert_int_equal(result.n_ips, 0);
	assert_null(result.ips);
	json_decref(obj);
}

static json_t *encode(const struct cni_result *result, enum cni_version version)
{
	struct cni_error err = { 0 };
	json_t *obj = cni_result_to_json(result, version, &err);

	if (!obj)
		fail_msg("cannot encode in %s: %s", cni_version_name(version), err.msg);
	return obj;
}

/* Parses `text` (which names its version), writes it in `version`, compares with `want`. */
static void assert_converts(const char *text, enum cni_version version, const char *want)
{
	struct cni_result result;
	json_t *obj;

	parse_text(text, CNI_VERSION_0_1_0, &result);
	obj = encode(&result, version);
	assert_json_eq(obj, want);
	json_decref(obj);
	cni_result_free(&result);
}

static void assert_round_trip(const char *text)
{
	json_t *obj = load_json(text);
	enum cni_version version;
	struct cni_error err = { 0 };

	assert_int_equal(cni_version_parse(json_string_value(json_object_get(obj, "cniVersion")), &version, &err), 0);
	json_decref(obj);
	assert_converts(text, version, text);
}

/* `text` with its "%s" replaced by `version` (not a printf format: the JSON may hold '%'). */
static char *with_version(const char *text, const char *version)
{
	const char *at = strstr(text, "%s");
	char *out = NULL;

	assert_non_null(at);
	assert_true(asprintf(&out, "%.*s%s%s", (int)(at - text), text, version, at + 2) > 0);
	return out;
}

/* ---- round trips ---- */

static void round_trip_0_1_0(void **state)
{
	(void)state;
	char *text = with_version(full_as_legacy_fmt, "0.1.0");
	assert_round_trip(text);
	free(text);
}

static void round_trip_0_2_0(void **state)
{
	(void)state;
	assert_round_trip(legacy_0_2_0);
}

static void round_trip_0_3_0(void **state)
{
	(void)state;
	char *text = with_version(full_as_0_x_fmt, "0.3.0");
	assert_round_trip(text);
	free(text);
}

static void round_trip_0_3_1(void **state)
{
	(void)state;
	char *text = with_version(full_as_0_x_fmt, "0.3.1");
	assert_round_trip(text);
	free(text);
}

static void round_trip_0_4_0(void **state)
{
	(void)state;
	char *text = with_version(full_as_0_x_fmt, "0.4.0");
	assert_round_trip(text);
	free(text);
}

static void round_trip_1_0_0(void **state)
{
	(void)state;
	assert_round_trip(full_as_1_0_0);
}

static void round_trip_1_1_0(void **state)
{
	(void)state;
	assert_round_trip(full_1_1_0);
}

static void round_trip_ipam_result_without_interfaces(void **state)
{
	(void)state;
	assert_round_trip("{'cniVersion':'1.1.0','ips':[{'address':'10.1.2.3/24','gateway':'10.1.2.1'}],"
			  "'routes':[{'dst':'0.0.0.0/0'}],'dns':{}}");
}

/* ---- parsing into the structure ---- */

static void parse_1_1_0_fills_interfaces(void **state)
{
	(void)state;
	struct cni_result r;

	parse_text(full_1_1_0, CNI_VERSION_0_1_0, &r);
	assert_int_equal(r.n_interfaces, 2);
	assert_string_equal(r.interfaces[0].name, "eth0");
	assert_string_equal(r.interfaces[0].mac, "02:42:ac:11:00:02");
	assert_string_equal(r.interfaces[0].sandbox, "/var/run/netns/ctr");
	assert_int_equal(r.interfaces[0].mtu, 1400);
	assert_string_equal(r.interfaces[0].socket_path, "/run/vhost-user.sock");
	assert_string_equal(r.interfaces[0].pci_id, "0000:00:1f.6");
	assert_null(r.interfaces[1].sandbox);
	assert_int_equal(r.interfaces[1].mtu, 0);
	assert_null(r.interfaces[1].pci_id);
	cni_result_free(&r);
}

static void parse_1_1_0_fills_ips(void **state)
{
	(void)state;
	struct cni_result r;
	char text[IP_PREFIX_STRLEN];

	parse_text(full_1_1_0, CNI_VERSION_0_1_0, &r);
	assert_int_equal(r.n_ips, 4);
	ip_prefix_format(&r.ips[1].address, text);
	assert_string_equal(text, "fd00::3/64");
	assert_true(r.ips[1].has_gateway);
	ip_addr_format(&r.ips[1].gateway, text);
	assert_string_equal(text, "fd00::1");
	assert_int_equal(r.ips[1].interface, 0);
	assert_int_equal(r.ips[2].interface, 1);
	assert_false(r.ips[2].has_gateway);
	assert_int_equal(r.ips[3].interface, -1);
	cni_result_free(&r);
}

static void parse_1_1_0_fills_routes(void **state)
{
	(void)state;
	struct cni_result r;

	parse_text(full_1_1_0, CNI_VERSION_0_1_0, &r);
	assert_int_equal(r.n_routes, 4);
	assert_true(r.routes[0].has_gw);
	assert_int_equal(r.routes[0].mtu, 1400);
	assert_int_equal(r.routes[0].advmss, 1360);
	assert_int_equal(r.routes[0].priority, 100);
	assert_true(r.routes[0].has_table);
	assert_int_equal(r.routes[0].table, 200);
	assert_true(r.routes[0].has_scope);
	assert_int_equal(r.routes[0].scope, CNI_SCOPE_UNIVERSE);
	assert_false(r.routes[1].has_table);
	assert_false(r.routes[1].has_scope);
	assert_true(r.routes[2].has_table);
	assert_int_equal(r.routes[2].table, 0);
	assert_int_equal(r.routes[2].scope, CNI_SCOPE_LINK);
	assert_false(r.routes[2].has_gw);
	assert_int_equal(r.routes[3].scope, CNI_SCOPE_HOST);
	cni_result_free(&r);
}

static void parse_fills_dns(void **state)
{
	(void)state;
	struct cni_result r;

	parse_text(full_1_1_0, CNI_VERSION_0_1_0, &r);
	assert_int_equal(r.dns.nameservers.count, 2);
	assert_string_equal(r.dns.nameservers.items[1], "fd00::1");
	assert_string_equal(r.dns.domain, "example.com");
	assert_int_equal(r.dns.search.count, 2);
	assert_string_equal(r.dns.options.items[0], "ndots:2");
	assert_false(cni_dns_empty(&r.dns));
	cni_result_free(&r);
}

static void parse_legacy_fills_one_ip_per_family(void **state)
{
	(void)state;
	struct cni_result r;

	parse_text(legacy_0_2_0, CNI_VERSION_1_0_0, &r);
	assert_int_equal(r.n_interfaces, 0);
	assert_int_equal(r.n_ips, 2);
	assert_int_equal(r.ips[0].address.addr.family, AF_INET);
	assert_int_equal(r.ips[0].interface, -1);
	assert_int_equal(r.ips[1].address.addr.family, AF_INET6);
	assert_int_equal(r.n_routes, 3);
	cni_result_free(&r);
}

static void null_and_empty_fields_count_as_absent(void **state)
{
	(void)state;
	struct cni_result r;

	parse_text("{'cniVersion':'1.1.0','interfaces':[{'name':'eth0','mac':'','sandbox':null,'mtu':null}],"
		   "'ips':[{'address':'10.1.2.3/24','gateway':''}],"
		   "'routes':[{'dst':'0.0.0.0/0','gw':null,'table':null,'scope':null}],'dns':{'domain':''}}",
		   CNI_VERSION_0_1_0, &r);
	assert_null(r.interfaces[0].mac);
	assert_null(r.interfaces[0].sandbox);
	assert_false(r.ips[0].has_gateway);
	assert_false(r.routes[0].has_gw);
	assert_false(r.routes[0].has_table);
	assert_false(r.routes[0].has_scope);
	assert_true(cni_dns_empty(&r.dns));
	cni_result_free(&r);
}

/* libcni decodes "interface": null into a nil pointer: no interface. */
static void null_ip_interface_means_none(void **state)
{
	(void)state;
	struct cni_result r;

	parse_text("{'cniVersion':'1.0.0','interfaces':[{'name':'eth0'}],"
		   "'ips':[{'address':'10.1.2.3/24','interface':null}]}",
		   CNI_VERSION_0_1_0, &r);
	assert_int_equal(r.ips[0].interface, -1);
	cni_result_free(&r);
	parse_text("{'cniVersion':'1.0.0','ips':[{'address':'10.1.2.3/24','interface':null}]}", CNI_VERSION_0_1_0, &r);
	assert_int_equal(r.ips[0].interface, -1);
	cni_result_free(&r);
}

/* ---- the version a result is parsed in ---- */

static void result_without_version_is_parsed_in_fallback(void **state)
{
	(void)state;
	static const char text[] = "{'ip4':{'ip':'10.1.2.3/24'},'ips':[{'address':'fd00::3/64'},{'address':'fd00::4/64'}]}";
	struct cni_result r;

	parse_text(text, CNI_VERSION_0_2_0, &r);
	assert_int_equal(r.n_ips, 1);
	assert_int_equal(r.ips[0].address.addr.family, AF_INET);
	cni_result_free(&r);
	parse_text(text, CNI_VERSION_1_0_0, &r);
	assert_int_equal(r.n_ips, 2);
	assert_int_equal(r.ips[0].address.addr.family, AF_INET6);
	cni_result_free(&r);
}

static void empty_version_is_parsed_in_fallback(void **state)
{
	(void)state;
	struct cni_result r;

	parse_text("{'cniVersion':'','ips':[{'address':'fd00::3/64'}]}", CNI_VERSION_1_0_0, &r);
	assert_int_equal(r.n_ips, 1);
	cni_result_free(&r);
}

static void result_version_wins_over_fallback(void **state)
{
	(void)state;
	struct cni_result r;

	parse_text(legacy_0_2_0, CNI_VERSION_1_1_0, &r);
	assert_int_equal(r.n_ips, 2);
	cni_result_free(&r);
	parse_text("{'cniVersion':'1.0.0','ip4':{'ip':'10.1.2.3/24'}}", CNI_VERSION_0_2_0, &r);
	assert_int_equal(r.n_ips, 0);
	cni_result_free(&r);
}

/* ---- conversions ---- */

static void full_1_1_0_as_1_0_0_drops_1_1_fields(void **state)
{
	(void)state;
	assert_converts(full_1_1_0, CNI_VERSION_1_0_0, full_as_1_0_0);
}

static void full_1_1_0_as_0_3_and_0_4_adds_ip_version(void **state)
{
	(void)state;
	static const enum cni_version versions[] = { CNI_VERSION_0_3_0, CNI_VERSION_0_3_1, CNI_VERSION_0_4_0 };

	for (size_t i = 0; i < N_ELEMENTS(versions); i++) {
		char *want = with_version(full_as_0_x_fmt, cni_version_name(versions[i]));
		assert_converts(full_1_1_0, versions[i], want);
		free(want);
	}
}

static void full_1_1_0_as_legacy_keeps_first_ip_per_family(void **state)
{
	(void)state;
	static const enum cni_version versions[] = { CNI_VERSION_0_1_0, CNI_VERSION_0_2_0 };

	for (size_t i = 0; i < N_ELEMENTS(versions); i++) {
		char *want = with_version(full_as_legacy_fmt, cni_version_name(versions[i]));
		assert_converts(full_1_1_0, versions[i], want);
		free(want);
	}
}

static void ipv6_only_as_legacy_has_only_ip6(void **state)
{
	(void)state;
	assert_converts("{'cniVersion':'1.0.0','ips':[{'address':'fd00::3/64'}],"
			"'routes':[{'dst':'0.0.0.0/0','gw':'10.1.2.1'},{'dst':'::/0'}],'dns':{}}",
			CNI_VERSION_0_2_0,
			"{'cniVersion':'0.2.0','ip6':{'ip':'fd00::3/64','routes':[{'dst':'::/0'}]},'dns':{}}");
}

static void legacy_without_routes_has_no_routes_key(void **state)
{
	(void)state;
	assert_converts("{'cniVersion':'1.0.0','ips':[{'address':'10.1.2.3/24'}]}", CNI_VERSION_0_2_0,
			"{'cniVersion':'0.2.0','ip4':{'ip':'10.1.2.3/24'},'dns':{}}");
}

static void no_ip_as_legacy_fails_with_code_1(void **state)
{
	(void)state;
	static const enum cni_version versions[] = { CNI_VERSION_0_1_0, CNI_VERSION_0_2_0 };
	struct cni_result r;

	parse_text(l2_only_1_0_0, CNI_VERSION_0_1_0, &r);
	for (size_t i = 0; i < N_ELEMENTS(versions); i++) {
		struct cni_error err = { 0 };
		assert_null(cni_result_to_json(&r, versions[i], &err));
		assert_cni_error(&err, CNI_ERR_INCOMPATIBLE_VERSION, "no IP address");
		assert_contains(err.msg, cni_version_name(versions[i]));
		assert_contains(err.details, "0.3.0");
	}
	cni_result_free(&r);
}

static void no_ip_as_0_3_0_keeps_interfaces(void **state)
{
	(void)state;
	assert_converts(l2_only_1_0_0, CNI_VERSION_0_3_0,
			"{'cniVersion':'0.3.0','interfaces':[{'name':'eth0','mac':'02:42:ac:11:00:02',"
			"'sandbox':'/run/netns/x'}],'dns':{}}");
}

static void legacy_0_2_0_as_0_4_0(void **state)
{
	(void)state;
	assert_converts(legacy_0_2_0, CNI_VERSION_0_4_0,
			"{'cniVersion':'0.4.0','ips':[{'version':'4','address':'10.1.2.3/24','gateway':'10.1.2.1'},"
			"{'version':'6','address':'fd00::3/64','gateway':'fd00::1'}],"
			"'routes':[{'dst':'0.0.0.0/0'},{'dst':'192.168.0.0/16','gw':'10.1.2.254'},{'dst':'::/0'}]," DNS
			"}");
}

static void legacy_0_2_0_as_1_0_0(void **state)
{
	(void)state;
	assert_converts(legacy_0_2_0, CNI_VERSION_1_0_0,
			"{'cniVersion':'1.0.0','ips':[{'address':'10.1.2.3/24','gateway':'10.1.2.1'},"
			"{'address':'fd00::3/64','gateway':'fd00::1'}],"
			"'routes':[{'dst':'0.0.0.0/0'},{'dst':'192.168.0.0/16','gw':'10.1.2.254'},{'dst':'::/0'}]," DNS
			"}");
}

static void result_0_4_0_as_1_0_0_drops_ip_version(void **state)
{
	(void)state;
	char *text = with_version(full_as_0_x_fmt, "0.4.0");
	assert_converts(text, CNI_VERSION_1_0_0, full_as_1_0_0);
	free(text);
}

/* ---- encoding a result built in code ---- */

static void built_result_encodes_with_defaults(void **state)
{
	(void)state;
	struct cni_result r = { 0 };
	struct cni_interface *iface = cni_result_add_interface(&r);
	struct cni_ip *ip = cni_result_add_ip(&r);
	struct cni_route *route = cni_result_add_route(&r);

	assert_non_null(iface);
	assert_non_null(ip);
	assert_non_null(route);
	assert_int_equal(ip->interface, -1);
	assert_false(route->has_table);
	iface->name = strdup("eth0");
	assert_true(ip_prefix_parse("10.1.2.3/24", &ip->address));
	assert_true(ip_prefix_parse("0.0.0.0/0", &route->dst));
	assert_int_equal(cni_strv_push(&r.dns.nameservers, "10.1.2.1"), 0);
	json_t *obj = encode(&r, CNI_VERSION_1_1_0);
	assert_json_eq(obj, "{'cniVersion':'1.1.0','interfaces':[{'name':'eth0'}],'ips':[{'address':'10.1.2.3/24'}],"
			    "'routes':[{'dst':'0.0.0.0/0'}],'dns':{'nameservers':['10.1.2.1']}}");
	json_decref(obj);
	cni_result_free(&r);
	assert_null(r.interfaces);
	assert_int_equal(r.n_ips, 0);
}

static void empty_result_encodes_dns_only(void **state)
{
	(void)state;
	struct cni_result r = { 0 };
	json_t *obj = encode(&r, CNI_VERSION_1_0_0);

	assert_json_eq(obj, "{'cniVersion':'1.0.0','dns':{}}");
	json_decref(obj);
	assert_true(cni_dns_empty(&r.dns));
	cni_result_free(&r);
}

static void strv_push_copies(void **state)
{
	(void)state;
	struct cni_strv strv = { 0 };
	char value[] = "one";

	assert_int_equal(cni_strv_push(&strv, value), 0);
	value[0] = 'X';
	assert_int_equal(cni_strv_push(&strv, "two"), 0);
	assert_int_equal(strv.count, 2);
	assert_string_equal(strv.items[0], "one");
	assert_string_equal(strv.items[1], "two");
	struct cni_dns dns = { .search = strv };
	assert_false(cni_dns_empty(&dns));
	cni_dns_free(&dns);
	assert_true(cni_dns_empty(&dns));
}

static void dns_to_json_has_only_set_fields(void **state)
{
	(void)state;
	struct cni_dns dns = { 0 };
	json_t *obj;

	assert_int_equal(cni_strv_push(&dns.options, "rotate"), 0);
	dns.domain = strdup("example.org");
	obj = cni_dns_to_json(&dns);
	assert_json_eq(obj, "{'domain':'example.org','options':['rotate']}");
	json_decref(obj);
	cni_dns_free(&dns);
}

/* ---- parse errors: every one is a decoding failure, code 6 (or 1 for the version) ---- */

static void non_object_result_is_code_6(void **state)
{
	(void)state;
	parse_fails("[]", CNI_ERR_DECODE, "must be a JSON object");
	parse_fails("'x'", CNI_ERR_DECODE, "must be a JSON object");
}

static void unknown_result_version_is_code_1(void **state)
{
	(void)state;
	parse_fails("{'cniVersion':'0.9.0','ips':[]}", CNI_ERR_INCOMPATIBLE_VERSION, "0.9.0");
}

static void non_string_result_version_is_code_6(void **state)
{
	(void)state;
	parse_fails("{'cniVersion':1}", CNI_ERR_DECODE, "cniVersion must be a string");
}

static void missing_or_bad_address_is_code_6(void **state)
{
	(void)state;
	parse_fails("{'ips':[{'gateway':'10.1.2.1'}]}", CNI_ERR_DECODE, "ips[0].address is missing");
	parse_fails("{'ips':[{'address':'10.1.2.3/24'},{'address':'10.1.2.4'}]}", CNI_ERR_DECODE,
		    "ips[1].address \"10.1.2.4\" is not an address with a prefix length");
	parse_fails("{'ips':[{'address':'10.1.2.3/40'}]}", CNI_ERR_DECODE, "ips[0].address");
	parse_fails("{'ips':[{'address':5}]}", CNI_ERR_DECODE, "ips[0].address must be a string");
}

static void bad_gateway_is_code_6(void **state)
{
	(void)state;
	parse_fails("{'ips':[{'address':'10.1.2.3/24','gateway':'10.1.2.1/24'}]}", CNI_ERR_DECODE,
		    "ips[0].gateway \"10.1.2.1/24\" is not an IP address");
}

static void ip_version_must_match_address_in_0_x(void **state)
{
	(void)state;
	parse_fails("{'cniVersion':'0.4.0','ips':[{'version':'6','address':'10.1.2.3/24'}]}", CNI_ERR_DECODE,
		    "ips[0].version \"6\" does not match");
	parse_fails("{'cniVersion':'0.3.0','ips':[{'version':'4','address':'fd00::1/64'}]}", CNI_ERR_DECODE,
		    "(IPv6)");
	parse_fails("{'cniVersion':'0.3.1','ips':[{'version':4,'address':'10.1.2.3/24'}]}", CNI_ERR_DECODE,
		    "ips[0].version must be a string");
}

static void ip_version_is_ignored_in_1_x(void **state)
{
	(void)state;
	struct cni_result r;

	parse_text("{'cniVersion':'1.0.0','ips':[{'version':'6','address':'10.1.2.3/24'}]}", CNI_VERSION_0_1_0, &r);
	assert_int_equal(r.n_ips, 1);
	cni_result_free(&r);
}

static void ip_interface_out_of_range_is_code_6(void **state)
{
	(void)state;
	parse_fails("{'interfaces':[{'name':'eth0'}],'ips':[{'address':'10.1.2.3/24','interface':1}]}", CNI_ERR_DECODE,
		    "ips[0].interface 1 does not index interfaces[] (1 entries)");
	parse_fails("{'interfaces':[{'name':'eth0'}],'ips':[{'address':'10.1.2.3/24','interface':-1}]}",
		    CNI_ERR_DECODE, "ips[0].interface -1");
	parse_fails("{'ips':[{'address':'10.1.2.3/24','interface':0}]}", CNI_ERR_DECODE, "(0 entries)");
}

static void interface_without_name_is_code_6(void **state)
{
	(void)state;
	parse_fails("{'interfaces':[{'mac':'02:00:00:00:00:01'}]}", CNI_ERR_DECODE, "interfaces[0].name is missing");
	parse_fails("{'interfaces':[{'name':''}]}", CNI_ERR_DECODE, "interfaces[0].name is missing");
}

static void array_items_must_be_objects(void **state)
{
	(void)state;
	parse_fails("{'interfaces':['eth0']}", CNI_ERR_DECODE, "interfaces[0] must be an object");
	parse_fails("{'ips':[null]}", CNI_ERR_DECODE, "ips[0] must be an object");
	parse_fails("{'routes':[{'dst':'0.0.0.0/0'},1]}", CNI_ERR_DECODE, "routes[1] must be an object");
}

static void arrays_must_be_arrays(void **state)
{
	(void)state;
	parse_fails("{'ips':{'address':'10.1.2.3/24'}}", CNI_ERR_DECODE, "ips must be an array");
	parse_fails("{'interfaces':'eth0'}", CNI_ERR_DECODE, "interfaces must be an array");
	parse_fails("{'routes':1}", CNI_ERR_DECODE, "routes must be an array");
}

static void route_errors_name_the_field(void **state)
{
	(void)state;
	parse_fails("{'routes':[{'gw':'10.1.2.1'}]}", CNI_ERR_DECODE, "routes[0].dst is missing");
	parse_fails("{'routes':[{'dst':'0.0.0.0/0','mtu':'1500'}]}", CNI_ERR_DECODE,
		    "routes[0].mtu must be an integer, not string \"1500\"");
	parse_fails("{'routes':[{'dst':'0.0.0.0/0','table':1.5}]}", CNI_ERR_DECODE, "routes[0].table must be an integer");
	parse_fails("{'routes':[{'dst':'0.0.0.0/0','gw':'gateway'}]}", CNI_ERR_DECODE, "routes[0].gw \"gateway\"");
}

static void int_fields_out_of_range_are_code_6(void **state)
{
	(void)state;
	parse_fails("{'routes':[{'dst':'0.0.0.0/0','priority':4294967296}]}", CNI_ERR_DECODE,
		    "routes[0].priority 4294967296 is out of range");
	parse_fails("{'interfaces':[{'name':'eth0','mtu':-2147483649}]}", CNI_ERR_DECODE, "interfaces[0].mtu");
}

static void dns_errors_are_code_6(void **state)
{
	(void)state;
	parse_fails("{'dns':[]}", CNI_ERR_DECODE, "dns must be an object");
	parse_fails("{'dns':{'nameservers':[1]}}", CNI_ERR_DECODE, "dns.nameservers[0] must be a string");
	parse_fails("{'dns':{'search':'a'}}", CNI_ERR_DECODE, "dns.search must be an array");
	parse_fails("{'dns':{'domain':['a']}}", CNI_ERR_DECODE, "dns.domain must be a string");
}

static void legacy_errors_are_code_6(void **state)
{
	(void)state;
	parse_fails("{'cniVersion':'0.2.0','ip4':{'ip':'fd00::1/64'}}", CNI_ERR_DECODE, "ip4.ip is not an IPv4 address");
	parse_fails("{'cniVersion':'0.2.0','ip6':{'ip':'10.1.2.3/24'}}", CNI_ERR_DECODE, "ip6.ip is not an IPv6 address");
	parse_fails("{'cniVersion':'0.1.0','ip4':{'gateway':'10.1.2.1'}}", CNI_ERR_DECODE, "ip4.ip is missing");
	parse_fails("{'cniVersion':'0.1.0','ip4':'10.1.2.3/24'}", CNI_ERR_DECODE, "ip4 must be an object");
	parse_fails("{'cniVersion':'0.2.0','ip4':{'ip':'10.1.2.3/24','routes':[{'dst':'x'}]}}", CNI_ERR_DECODE,
		    "ip4.routes[0].dst");
}

static void dns_parse_rejects_non_object_with_code_7(void **state)
{
	(void)state;
	json_t *arr = load_json("[]");
	struct cni_dns dns = { 0 };
	struct cni_error err = { 0 };

	assert_int_equal(cni_dns_parse(arr, "dns", &dns, &err), -1);
	assert_cni_error(&err, CNI_ERR_INVALID_CONFIG, "dns must be an object");
	json_decref(arr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip_0_1_0),
		cmocka_unit_test(round_trip_0_2_0),
		cmocka_unit_test(round_trip_0_3_0),
		cmocka_unit_test(round_trip_0_3_1),
		cmocka_unit_test(round_trip_0_4_0),
		cmocka_unit_test(round_trip_1_0_0),
		cmocka_unit_test(round_trip_1_1_0),
		cmocka_unit_test(round_trip_ipam_result_without_interfaces),
		cmocka_unit_test(parse_1_1_0_fills_interfaces),
		cmocka_unit_test(parse_1_1_0_fills_ips),
		cmocka_unit_test(parse_1_1_0_fills_routes),
		cmocka_unit_test(parse_fills_dns),
		cmocka_unit_test(parse_legacy_fills_one_ip_per_family),
		cmocka_unit_test(null_and_empty_fields_count_as_absent),
		cmocka_unit_test(null_ip_interface_means_none),
		cmocka_unit_test(result_without_version_is_parsed_in_fallback),
		cmocka_unit_test(empty_version_is_parsed_in_fallback),
		cmocka_unit_test(result_version_wins_over_fallback),
		cmocka_unit_test(full_1_1_0_as_1_0_0_drops_1_1_fields),
		cmocka_unit_test(full_1_1_0_as_0_3_and_0_4_adds_ip_version),
		cmocka_unit_test(full_1_1_0_as_legacy_keeps_first_ip_per_family),
		cmocka_unit_test(ipv6_only_as_legacy_has_only_ip6),
		cmocka_unit_test(legacy_without_routes_has_no_routes_key),
		cmocka_unit_test(no_ip_as_legacy_fails_with_code_1),
		cmocka_unit_test(no_ip_as_0_3_0_keeps_interfaces),
		cmocka_unit_test(legacy_0_2_0_as_0_4_0),
		cmocka_unit_test(legacy_0_2_0_as_1_0_0),
		cmocka_unit_test(result_0_4_0_as_1_0_0_drops_ip_version),
		cmocka_unit_test(built_result_encodes_with_defaults),
		cmocka_unit_test(empty_result_encodes_dns_only),
		cmocka_unit_test(strv_push_copies),
		cmocka_unit_test(dns_to_json_has_only_set_fields),
		cmocka_unit_test(non_object_result_is_code_6),
		cmocka_unit_test(unknown_result_version_is_code_1),
		cmocka_unit_test(non_string_result_version_is_code_6),
		cmocka_unit_test(missing_or_bad_address_is_code_6),
		cmocka_unit_test(bad_gateway_is_code_6),
		cmocka_unit_test(ip_version_must_match_address_in_0_x),
		cmocka_unit_test(ip_version_is_ignored_in_1_x),
		cmocka_unit_test(ip_interface_out_of_range_is_code_6),
		cmocka_unit_test(interface_without_name_is_code_6),
		cmocka_unit_test(array_items_must_be_objects),
		cmocka_unit_test(arrays_must_be_arrays),
		cmocka_unit_test(route_errors_name_the_field),
		cmocka_unit_test(int_fields_out_of_range_are_code_6),
		cmocka_unit_test(dns_errors_are_code_6),
		cmocka_unit_test(legacy_errors_are_code_6),
		cmocka_unit_test(dns_parse_rejects_non_object_with_code_7),
	};
	return cmocka_run_group_tests_name("result", tests, NULL, NULL);
}
