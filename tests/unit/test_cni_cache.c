/* libcni's result cache entries, as the dhcp daemon reads them to adopt leases: the
 * attachment's names, its netns (or the result's sandbox before libcni 1.1), CNI_ARGS
 * from cniArgs, and the plugin configuration as a runtime passes it. */
#include "helpers.h"

#include "cni/cache.h"

/* {"cniVersion":"1.0.0","name":"lan","plugins":[{"type":"macvlan","ipam":{"type":"dhcp"}}]} */
#define CONFLIST_B64                                                                                   \
	"eyJjbmlWZXJzaW9uIjoiMS4wLjAiLCJuYW1lIjoibGFuIiwicGx1Z2lucyI6W3sidHlwZSI6Im1hY3ZsYW4iLCJpcGFtIjp7" \
	"InR5cGUiOiJkaGNwIn19XX0="

static json_t *entry(const char *extra)
{
	char text[2048];
	snprintf(text, sizeof(text),
		 "{\"kind\":\"cniCacheV1\",\"containerId\":\"c1\",\"ifName\":\"eth0\",\"networkName\":\"lan\","
		 "\"config\":\"%s\"%s}",
		 CONFLIST_B64, extra);
	json_t *value = json_loads(text, 0, NULL);
	assert_non_null(value);
	return value;
}

static bool dhcp_ipam(json_t *plugin, void *ctx)
{
	const char *type = json_string_value(json_object_get(json_object_get(plugin, "ipam"), "type"));
	(void)ctx;
	return type && strcmp(type, "dhcp") == 0;
}

static void an_entry_gives_names_args_and_the_plugin_as_passed(void **state)
{
	json_t *cached = entry(",\"netns\":\"/var/run/netns/p\",\"cniArgs\":[[\"IgnoreUnknown\",\"1\"],"
			       "[\"K8S_POD_NAME\",\"web-0\"]]");
	struct cni_cache_entry e;
	struct cni_error err = { 0 };
	(void)state;

	assert_int_equal(cni_cache_entry_parse(cached, &e, &err), 0);
	assert_string_equal(e.container_id, "c1");
	assert_string_equal(e.ifname, "eth0");
	assert_string_equal(e.network, "lan");
	assert_string_equal(e.netns, "/var/run/netns/p");
	assert_string_equal(e.args, "IgnoreUnknown=1;K8S_POD_NAME=web-0");
	json_t *plugin = cni_cache_entry_plugin(&e, dhcp_ipam, NULL);
	assert_non_null(plugin);
	assert_string_equal(json_string_value(json_object_get(plugin, "name")), "lan");
	assert_string_equal(json_string_value(json_object_get(plugin, "cniVersion")), "1.0.0");
	assert_string_equal(json_string_value(json_object_get(plugin, "type")), "macvlan");
	json_decref(plugin);
	cni_cache_entry_clear(&e);
	json_decref(cached);
}

static void without_netns_the_results_sandbox_says_where(void **state)
{
	json_t *cached = entry(",\"result\":{\"interfaces\":[{\"name\":\"cali0\"},{\"name\":\"eth0\","
			       "\"sandbox\":\"/proc/42/ns/net\"}]}");
	struct cni_cache_entry e;
	struct cni_error err = { 0 };
	(void)state;

	assert_int_equal(cni_cache_entry_parse(cached, &e, &err), 0);
	assert_string_equal(e.netns, "/proc/42/ns/net");
	assert_string_equal(e.args, "");
	cni_cache_entry_clear(&e);
	json_decref(cached);
}

static void no_plugin_matches_gives_none(void **state)
{
	json_t *cached = entry("");
	struct cni_cache_entry e;
	struct cni_error err = { 0 };
	(void)state;

	assert_int_equal(cni_cache_entry_parse(cached, &e, &err), 0);
	json_object_set_new(json_object_get(json_array_get(json_object_get(e.config, "plugins"), 0), "ipam"), "type",
			    json_string("host-local"));
	assert_null(cni_cache_entry_plugin(&e, dhcp_ipam, NULL));
	assert_null(e.netns);
	cni_cache_entry_clear(&e);
	json_decref(cached);
}

static void bad_entries_are_refused_with_the_reason(void **state)
{
	static const char *const bad[][2] = {
		{ "{\"kind\":\"cniCacheV2\",\"containerId\":\"c\",\"ifName\":\"e\",\"networkName\":\"n\",\"config\":\"e30=\"}",
		  "not a libcni cache entry" },
		{ "{\"kind\":\"cniCacheV1\",\"ifName\":\"e\",\"networkName\":\"n\",\"config\":\"e30=\"}", "is missing" },
		{ "{\"kind\":\"cniCacheV1\",\"containerId\":\"c\",\"ifName\":\"e\",\"networkName\":\"n\",\"config\":\"e30\"}",
		  "not base64" },
		{ "{\"kind\":\"cniCacheV1\",\"containerId\":\"c\",\"ifName\":\"e\",\"networkName\":\"n\",\"config\":\"W10=\"}",
		  "not a JSON object" },
		{ "{\"kind\":\"cniCacheV1\",\"containerId\":\"c\",\"ifName\":\"e\",\"networkName\":\"n\",\"config\":\"e30=\","
		  "\"cniArgs\":[[\"K\"]]}",
		  "cniArgs[0]" },
		{ "{\"kind\":\"cniCacheV1\",\"containerId\":7,\"ifName\":\"e\",\"networkName\":\"n\",\"config\":\"e30=\"}",
		  "containerId" },
	};
	(void)state;

	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		json_t *cached = json_loads(bad[i][0], 0, NULL);
		struct cni_cache_entry e;
		struct cni_error err = { 0 };
		assert_non_null(cached);
		assert_int_equal(cni_cache_entry_parse(cached, &e, &err), -1);
		assert_contains(err.msg, bad[i][1]);
		assert_null(e.config);
		assert_null(e.args);
		json_decref(cached);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(an_entry_gives_names_args_and_the_plugin_as_passed),
		cmocka_unit_test(without_netns_the_results_sandbox_says_where),
		cmocka_unit_test(no_plugin_matches_gives_none),
		cmocka_unit_test(bad_entries_are_refused_with_the_reason),
	};
	return cmocka_run_group_tests_name("cni_cache", tests, NULL, NULL);
}
