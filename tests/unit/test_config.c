/* The network configuration on stdin: decoding, types, versions, prevResult. */
#include "helpers.h"

#include "cni/config.h"

static void parse_ok(const char *text, struct cni_conf *conf)
{
	char *converted = sq(text);
	struct cni_error err = { 0 };

	if (cni_conf_parse(converted, strlen(converted), conf, &err) < 0)
		fail_msg("config rejected: %d %s", err.code, err.msg);
	free(converted);
}

static void parse_fails(const char *text, int code, const char *msg_part)
{
	char *converted = sq(text);
	struct cni_conf conf;
	struct cni_error err = { 0 };

	if (cni_conf_parse(converted, strlen(converted), &conf, &err) == 0)
		fail_msg("config accepted: %s", converted);
	assert_cni_error(&err, code, msg_part);
	/* Nothing is left to free after a failure. */
	assert_null(conf.root);
	assert_null(conf.raw);
	assert_false(conf.has_prev_result);
	cni_conf_free(&conf);
	free(converted);
}

static void minimal_config(void **state)
{
	(void)state;
	struct cni_conf conf;

	parse_ok("{'cniVersion':'1.0.0','name':'net','type':'macvlan'}", &conf);
	assert_int_equal(conf.version, CNI_VERSION_1_0_0);
	assert_string_equal(conf.name, "net");
	assert_string_equal(conf.type, "macvlan");
	assert_null(conf.ipam);
	assert_null(conf.ipam_type);
	assert_null(conf.runtime_config);
	assert_null(conf.args_cni);
	assert_null(conf.capabilities);
	assert_false(conf.has_dns);
	assert_false(conf.has_prev_result);
	cni_conf_free(&conf);
	assert_null(conf.root);
}

static void every_section_is_read(void **state)
{
	(void)state;
	struct cni_conf conf;

	parse_ok("{'cniVersion':'1.1.0','name':'net','type':'macvlan','master':'eth0',"
		 "'ipam':{'type':'host-local','subnet':'10.1.2.0/24'},'runtimeConfig':{'mac':'02:00:00:00:00:01'},"
		 "'capabilities':{'mac':true},'args':{'cni':{'ips':['10.1.2.9/24']}},"
		 "'dns':{'nameservers':['10.1.2.1'],'domain':'example.com'}}",
		 &conf);
	assert_string_equal(conf.ipam_type, "host-local");
	assert_string_equal(json_string_value(json_object_get(conf.ipam, "subnet")), "10.1.2.0/24");
	assert_string_equal(json_string_value(json_object_get(conf.runtime_config, "mac")), "02:00:00:00:00:01");
	assert_true(json_is_true(json_object_get(conf.capabilities, "mac")));
	assert_true(json_is_array(json_object_get(conf.args_cni, "ips")));
	assert_true(conf.has_dns);
	assert_string_equal(conf.dns.nameservers.items[0], "10.1.2.1");
	assert_string_equal(conf.dns.domain, "example.com");
	cni_conf_free(&conf);
}

static void raw_keeps_the_exact_bytes(void **state)
{
	(void)state;
	/* Only `len` bytes count: what follows must be neither parsed nor copied. */
	static const char buf[] = "{ \"cniVersion\" : \"0.4.0\",\n\t\"name\": \"n\\u00e9t\" }\n  GARBAGE";
	size_t len = sizeof(buf) - 1 - strlen("GARBAGE");
	struct cni_conf conf;
	struct cni_error err = { 0 };

	assert_int_equal(cni_conf_parse(buf, len, &conf, &err), 0);
	assert_int_equal(conf.raw_len, len);
	assert_memory_equal(conf.raw, buf, len);
	assert_int_equal(conf.raw[len], '\0');
	assert_string_equal(conf.name, "n\xc3\xa9t");
	cni_conf_free(&conf);
}

static void each_version_is_read(void **state)
{
	(void)state;
	static const char *const names[] = { "0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0" };

	for (int v = 0; v < CNI_VERSION_COUNT; v++) {
		char text[128];
		struct cni_conf conf;
		snprintf(text, sizeof(text), "{'cniVersion':'%s','name':'n','type':'t'}", names[v]);
		parse_ok(text, &conf);
		assert_int_equal(conf.version, v);
		cni_conf_free(&conf);
	}
}

static void empty_or_missing_version_is_0_1_0(void **state)
{
	(void)state;
	struct cni_conf conf;

	parse_ok("{'cniVersion':'','name':'n','type':'t'}", &conf);
	assert_int_equal(conf.version, CNI_VERSION_0_1_0);
	cni_conf_free(&conf);
	parse_ok("{'name':'n','type':'t'}", &conf);
	assert_int_equal(conf.version, CNI_VERSION_0_1_0);
	cni_conf_free(&conf);
}

static void unknown_version_is_code_1(void **state)
{
	(void)state;
	parse_fails("{'cniVersion':'0.5.0','name':'n','type':'t'}", CNI_ERR_INCOMPATIBLE_VERSION, "\"0.5.0\"");
	parse_fails("{'cniVersion':'2.0.0'}", CNI_ERR_INCOMPATIBLE_VERSION, "2.0.0");
}

static void empty_input_is_code_6(void **state)
{
	(void)state;
	struct cni_conf conf;
	struct cni_error err = { 0 };

	assert_int_equal(cni_conf_parse("", 0, &conf, &err), -1);
	assert_cni_error(&err, CNI_ERR_DECODE, "empty");
	assert_true(err.details[0] != '\0');
}

static void malformed_json_is_code_6_with_line_and_column(void **state)
{
	(void)state;
	parse_fails("{'cniVersion': '1.0.0',\n  'name': }", CNI_ERR_DECODE, "at line 2, column 11");
	parse_fails("{\n\n   ,}", CNI_ERR_DECODE, "at line 3, column 4");
	parse_fails("{'name':'n'} x", CNI_ERR_DECODE, "not valid JSON");
}

static void truncated_json_is_code_6_with_line_and_column(void **state)
{
	(void)state;
	parse_fails("{'cniVersion': '1.0.0', 'name': 'n", CNI_ERR_DECODE, "at line 1, column 34");
	parse_fails("{'cniVersion': '1.0.0',\n", CNI_ERR_DECODE, "at line 2");
}

static void duplicate_keys_are_code_6(void **state)
{
	(void)state;
	parse_fails("{'name':'a','name':'b'}", CNI_ERR_DECODE, "duplicate");
}

static void non_object_config_is_code_6(void **state)
{
	(void)state;
	parse_fails("[]", CNI_ERR_DECODE, "must be a JSON object, not array");
	parse_fails("[{'name':'n'}]", CNI_ERR_DECODE, "not array");
	parse_fails("'str'", CNI_ERR_DECODE, "not valid JSON");
	parse_fails("42", CNI_ERR_DECODE, "not valid JSON");
}

static void wrong_types_are_code_7_naming_the_key(void **state)
{
	(void)state;
	parse_fails("{'cniVersion':1.0}", CNI_ERR_INVALID_CONFIG, "cniVersion must be a string, not number");
	parse_fails("{'name':5}", CNI_ERR_INVALID_CONFIG, "name must be a string, not integer 5");
	parse_fails("{'type':['macvlan']}", CNI_ERR_INVALID_CONFIG, "type must be a string, not array");
	parse_fails("{'ipam':'host-local'}", CNI_ERR_INVALID_CONFIG, "ipam must be an object, not string");
	parse_fails("{'ipam':{'type':5}}", CNI_ERR_INVALID_CONFIG, "ipam.type must be a string, not integer 5");
	parse_fails("{'runtimeConfig':[]}", CNI_ERR_INVALID_CONFIG, "runtimeConfig must be an object");
	parse_fails("{'capabilities':true}", CNI_ERR_INVALID_CONFIG, "capabilities must be an object");
	parse_fails("{'args':1}", CNI_ERR_INVALID_CONFIG, "args must be an object");
	parse_fails("{'args':{'cni':'x'}}", CNI_ERR_INVALID_CONFIG, "args.cni must be an object");
	parse_fails("{'prevResult':'x'}", CNI_ERR_INVALID_CONFIG, "prevResult must be an object");
}

static void dns_errors_are_code_7_naming_the_key(void **state)
{
	(void)state;
	parse_fails("{'dns':[]}", CNI_ERR_INVALID_CONFIG, "dns must be an object");
	parse_fails("{'dns':{'nameservers':'10.1.2.1'}}", CNI_ERR_INVALID_CONFIG, "dns.nameservers must be an array");
	parse_fails("{'dns':{'nameservers':['10.1.2.1',5]}}", CNI_ERR_INVALID_CONFIG,
		    "dns.nameservers[1] must be a string");
	parse_fails("{'dns':{'domain':1}}", CNI_ERR_INVALID_CONFIG, "dns.domain must be a string");
}

static void null_sections_count_as_absent(void **state)
{
	(void)state;
	struct cni_conf conf;

	parse_ok("{'cniVersion':'1.0.0','name':null,'ipam':null,'dns':null,'prevResult':null,'args':null}", &conf);
	assert_null(conf.name);
	assert_null(conf.ipam);
	assert_false(conf.has_dns);
	assert_false(conf.has_prev_result);
	cni_conf_free(&conf);
}

static void empty_ipam_type_means_no_ipam(void **state)
{
	(void)state;
	struct cni_conf conf;

	parse_ok("{'cniVersion':'1.0.0','ipam':{'type':''}}", &conf);
	assert_non_null(conf.ipam);
	assert_null(conf.ipam_type);
	cni_conf_free(&conf);
	parse_ok("{'cniVersion':'1.0.0','ipam':{}}", &conf);
	assert_non_null(conf.ipam);
	assert_null(conf.ipam_type);
	cni_conf_free(&conf);
}

static void ipam_type_with_slash_is_code_7(void **state)
{
	(void)state;
	parse_fails("{'ipam':{'type':'../host-local'}}", CNI_ERR_INVALID_CONFIG,
		    "ipam.type \"../host-local\" must be a plugin name, not a path");
	parse_fails("{'ipam':{'type':'/opt/cni/bin/dhcp'}}", CNI_ERR_INVALID_CONFIG, "not a path");
	parse_fails("{'ipam':{'type':'dhcp/'}}", CNI_ERR_INVALID_CONFIG, "not a path");
}

static void prev_result_is_parsed(void **state)
{
	(void)state;
	struct cni_conf conf;

	parse_ok("{'cniVersion':'1.0.0','name':'n','prevResult':{'cniVersion':'1.0.0','interfaces':[{'name':'eth0'}],"
		 "'ips':[{'address':'10.1.2.3/24','interface':0}],'routes':[{'dst':'0.0.0.0/0'}]}}",
		 &conf);
	assert_true(conf.has_prev_result);
	assert_int_equal(conf.prev_result.n_interfaces, 1);
	assert_int_equal(conf.prev_result.n_ips, 1);
	assert_int_equal(conf.prev_result.ips[0].interface, 0);
	assert_int_equal(conf.prev_result.n_routes, 1);
	cni_conf_free(&conf);
	assert_false(conf.has_prev_result);
}

/* A prevResult without its own cniVersion is read in the configuration's version. */
static void prev_result_is_parsed_in_config_version(void **state)
{
	(void)state;
	struct cni_conf conf;

	parse_ok("{'cniVersion':'0.2.0','name':'n','prevResult':{'ip4':{'ip':'10.1.2.3/24'}}}", &conf);
	assert_true(conf.has_prev_result);
	assert_int_equal(conf.prev_result.n_ips, 1);
	cni_conf_free(&conf);
	/* In 1.0.0, ip4 means nothing. */
	parse_ok("{'cniVersion':'1.0.0','name':'n','prevResult':{'ip4':{'ip':'10.1.2.3/24'}}}", &conf);
	assert_true(conf.has_prev_result);
	assert_int_equal(conf.prev_result.n_ips, 0);
	cni_conf_free(&conf);
}

static void prev_result_ip_version_checked_in_0_4_0(void **state)
{
	(void)state;
	struct cni_conf conf;

	parse_fails("{'cniVersion':'0.4.0','prevResult':{'ips':[{'version':'6','address':'10.1.2.3/24'}]}}",
		    CNI_ERR_DECODE, "prevResult: ips[0].version");
	parse_ok("{'cniVersion':'1.0.0','prevResult':{'ips':[{'version':'6','address':'10.1.2.3/24'}]}}", &conf);
	assert_int_equal(conf.prev_result.n_ips, 1);
	cni_conf_free(&conf);
}

static void bad_prev_result_is_code_6_saying_prev_result(void **state)
{
	(void)state;
	parse_fails("{'cniVersion':'1.0.0','prevResult':{'ips':[{'address':'10.1.2.3'}]}}", CNI_ERR_DECODE,
		    "prevResult: ips[0].address \"10.1.2.3\"");
	parse_fails("{'cniVersion':'1.0.0','prevResult':{'cniVersion':'7.0.0'}}", CNI_ERR_INCOMPATIBLE_VERSION,
		    "prevResult: ");
}

/* What DEL reads: the rest of the configuration, and why prevResult was left out. */
static void bad_prev_result_can_be_skipped_saying_why(void **state)
{
	(void)state;
	static const struct {
		const char *prev;
		int code;
		const char *why;
	} cases[] = {
		{ "{'ips':[{'address':'10.1.2.3'}]}", CNI_ERR_DECODE, "prevResult: ips[0].address \"10.1.2.3\"" },
		{ "{'cniVersion':'7.0.0'}", CNI_ERR_INCOMPATIBLE_VERSION, "prevResult: " },
		{ "'junk'", CNI_ERR_INVALID_CONFIG, "prevResult must be an object" },
	};

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		char *text = NULL;
		assert_true(asprintf(&text, "{'cniVersion':'1.0.0','name':'n','ipam':{'type':'dhcp'},'prevResult':%s}",
				     cases[i].prev) > 0);
		char *converted = sq(text);
		struct cni_conf conf;
		struct cni_error prev_err = { 0 }, err = { 0 };
		assert_int_equal(cni_conf_parse_skip_bad_prev_result(converted, strlen(converted), &conf, &prev_err, &err), 0);
		assert_int_equal(err.code, CNI_OK);
		assert_cni_error(&prev_err, cases[i].code, cases[i].why);
		assert_false(conf.has_prev_result);
		assert_int_equal(conf.prev_result.n_ips, 0);
		assert_string_equal(conf.name, "n");
		assert_string_equal(conf.ipam_type, "dhcp");
		/* Delegates get the bytes as received, prevResult and all. */
		assert_string_equal(conf.raw, converted);
		cni_conf_free(&conf);
		free(converted);
		free(text);
	}
}

static void skipping_keeps_a_good_prev_result_and_other_errors(void **state)
{
	(void)state;
	char *good = sq("{'cniVersion':'1.0.0','prevResult':{'ips':[{'address':'10.1.2.3/24'}]}}");
	char *bad = sq("{'cniVersion':'1.0.0','ipam':{'type':5},'prevResult':{'ips':[{'address':'10.1.2.3/24'}]}}");
	struct cni_conf conf;
	struct cni_error prev_err = { 0 }, err = { 0 };

	assert_int_equal(cni_conf_parse_skip_bad_prev_result(good, strlen(good), &conf, &prev_err, &err), 0);
	assert_int_equal(prev_err.code, CNI_OK);
	assert_true(conf.has_prev_result);
	assert_int_equal(conf.prev_result.n_ips, 1);
	cni_conf_free(&conf);
	assert_int_equal(cni_conf_parse_skip_bad_prev_result(bad, strlen(bad), &conf, &prev_err, &err), -1);
	assert_cni_error(&err, CNI_ERR_INVALID_CONFIG, "ipam.type");
	assert_null(conf.root);
	free(good);
	free(bad);
}

/* So that the error can be printed in the configuration's version. */
static void failure_keeps_the_version_read(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		enum cni_version version;
	} cases[] = {
		{ "{'cniVersion':'0.3.1','ipam':{'type':5}}", CNI_VERSION_0_3_1 },
		{ "{'cniVersion':'1.0.0','prevResult':{'ips':[{}]}}", CNI_VERSION_1_0_0 },
		{ "{'ipam':[]}", CNI_VERSION_0_1_0 },
		{ "{'cniVersion':'0.3.1',", CNI_VERSION_LATEST },
		{ "{'cniVersion':'9.9.9'}", CNI_VERSION_LATEST },
		{ "{'cniVersion':3}", CNI_VERSION_LATEST },
	};

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		char *text = sq(cases[i].text);
		struct cni_conf conf;
		struct cni_error err = { 0 };
		assert_int_equal(cni_conf_parse(text, strlen(text), &conf, &err), -1);
		if (conf.version != cases[i].version)
			fail_msg("%s: version %s after failure", text, cni_version_name(conf.version));
		assert_null(conf.root);
		free(text);
	}
}

static void free_is_idempotent(void **state)
{
	(void)state;
	struct cni_conf conf;

	parse_ok("{'cniVersion':'1.0.0','dns':{'search':['a']},'prevResult':{'ips':[{'address':'10.1.2.3/24'}]}}",
		 &conf);
	cni_conf_free(&conf);
	cni_conf_free(&conf);
	assert_null(conf.raw);
	assert_int_equal(conf.raw_len, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(minimal_config),
		cmocka_unit_test(every_section_is_read),
		cmocka_unit_test(raw_keeps_the_exact_bytes),
		cmocka_unit_test(each_version_is_read),
		cmocka_unit_test(empty_or_missing_version_is_0_1_0),
		cmocka_unit_test(unknown_version_is_code_1),
		cmocka_unit_test(empty_input_is_code_6),
		cmocka_unit_test(malformed_json_is_code_6_with_line_and_column),
		cmocka_unit_test(truncated_json_is_code_6_with_line_and_column),
		cmocka_unit_test(duplicate_keys_are_code_6),
		cmocka_unit_test(non_object_config_is_code_6),
		cmocka_unit_test(wrong_types_are_code_7_naming_the_key),
		cmocka_unit_test(dns_errors_are_code_7_naming_the_key),
		cmocka_unit_test(null_sections_count_as_absent),
		cmocka_unit_test(empty_ipam_type_means_no_ipam),
		cmocka_unit_test(ipam_type_with_slash_is_code_7),
		cmocka_unit_test(prev_result_is_parsed),
		cmocka_unit_test(prev_result_is_parsed_in_config_version),
		cmocka_unit_test(prev_result_ip_version_checked_in_0_4_0),
		cmocka_unit_test(bad_prev_result_is_code_6_saying_prev_result),
		cmocka_unit_test(bad_prev_result_can_be_skipped_saying_why),
		cmocka_unit_test(skipping_keeps_a_good_prev_result_and_other_errors),
		cmocka_unit_test(failure_keeps_the_version_read),
		cmocka_unit_test(free_is_idempotent),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
