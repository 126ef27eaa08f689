/* cni_plugin_main: environment and stdin in, result or error JSON and exit status out. */
#include "helpers.h"

#include "cni/skel.h"

/* What the fake handlers saw and do. */
static struct {
	int calls[CNI_CMD_VERSION + 1];
	enum cni_version version;
	char container_id[64];
	char ifname[16];
	bool has_netns;
	bool has_path;
	size_t n_args;
	size_t raw_len;
	bool has_prev_result;
	size_t prev_ips;
	bool fail;         /* handlers fail with code 100 */
	bool fail_plainly; /* ... and no details */
	bool l2_only;      /* ADD returns no IP */
} fake;

static int reset_fake(void **state)
{
	(void)state;
	memset(&fake, 0, sizeof(fake));
	cni_env_clear();
	return 0;
}

static int record(const struct cni_call *call, struct cni_error *err)
{
	fake.calls[call->env.command]++;
	fake.version = call->conf.version;
	snprintf(fake.container_id, sizeof(fake.container_id), "%s", call->env.container_id ? call->env.container_id : "");
	snprintf(fake.ifname, sizeof(fake.ifname), "%s", call->env.ifname ? call->env.ifname : "");
	fake.has_netns = call->env.netns != NULL;
	fake.has_path = call->env.path != NULL;
	fake.n_args = call->args.count;
	fake.raw_len = call->conf.raw_len;
	fake.has_prev_result = call->conf.has_prev_result;
	fake.prev_ips = call->conf.prev_result.n_ips;
	if (!fake.fail)
		return 0;
	cni_error_set(err, CNI_ERR_NETLINK, "cannot create %s: File exists", call->env.ifname);
	if (!fake.fail_plainly)
		cni_error_details(err, "delete it first");
	return -1;
}

static void build_result(struct cni_result *result)
{
	struct cni_interface *iface = cni_result_add_interface(result);
	iface->name = strdup("eth0");
	iface->mac = strdup("02:00:00:00:00:01");
	iface->sandbox = strdup("/var/run/netns/test");
	iface->mtu = 1400;
	if (fake.l2_only)
		return;
	/* Each append may move the array: fill an element before adding the next. */
	struct cni_ip *ip = cni_result_add_ip(result);
	assert_true(ip_prefix_parse("10.1.2.3/24", &ip->address));
	ip->has_gateway = ip_addr_parse("10.1.2.1", &ip->gateway);
	ip->interface = 0;
	ip = cni_result_add_ip(result);
	assert_true(ip_prefix_parse("fd00::3/64", &ip->address));
	ip->interface = 0;
	struct cni_route *route = cni_result_add_route(result);
	assert_true(ip_prefix_parse("0.0.0.0/0", &route->dst));
	route->has_gw = ip_addr_parse("10.1.2.1", &route->gw);
	route->has_table = true;
	route->table = 100;
}

static int fake_add(const struct cni_call *call, struct cni_result *result, struct cni_error *err)
{
	if (record(call, err) < 0)
		return -1;
	build_result(result);
	return 0;
}

static int fake_other(const struct cni_call *call, struct cni_error *err)
{
	return record(call, err);
}

static const struct cni_plugin full_plugin = {
	.name = "fake",
	.about = "fake plugin for tests",
	.add = fake_add,
	.del = fake_other,
	.check = fake_other,
	.status = fake_other,
	.gc = fake_other,
};

static const struct cni_plugin empty_plugin = { .name = "fake", .about = "fake plugin without handlers" };

static const char *const status_env[] = { "CNI_COMMAND=STATUS", "CNI_PATH=/opt/cni/bin", NULL };
static const char *const gc_env[] = { "CNI_COMMAND=GC", "CNI_PATH=/opt/cni/bin", NULL };

static struct plugin_run run(const struct cni_plugin *plugin, const char *const *env, const char *config)
{
	char *converted = sq(config);
	struct plugin_run r = run_plugin(plugin, env, converted);
	free(converted);
	return r;
}

static void assert_error_output(const struct plugin_run *r, const char *version, int code, const char *msg_part)
{
	if (!r->json)
		fail_msg("stdout is not JSON: \"%s\"", r->out);
	assert_int_not_equal(r->status, 0);
	assert_string_equal(json_string_value(json_object_get(r->json, "cniVersion")), version);
	if (json_integer_value(json_object_get(r->json, "code")) != code)
		fail_msg("error output %s, expected code %d", r->out, code);
	assert_contains(json_string_value(json_object_get(r->json, "msg")), msg_part);
}

/* ---- VERSION ---- */

static const char version_output[] =
	"{\"cniVersion\":\"1.1.0\",\"supportedVersions\":[\"0.1.0\",\"0.2.0\",\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\","
	"\"1.1.0\"]}\n";

static void version_prints_supported_versions_exactly(void **state)
{
	(void)state;
	struct plugin_run r = run(&empty_plugin, (const char *const[]){ "CNI_COMMAND=VERSION", NULL },
				  "{'cniVersion':'0.3.1'}");

	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, version_output);
	plugin_run_free(&r);
}

static void version_with_empty_stdin_and_libcni_dummies(void **state)
{
	(void)state;
	struct plugin_run r = run(&empty_plugin,
				  (const char *const[]){ "CNI_COMMAND=VERSION", "CNI_NETNS=dummy", "CNI_IFNAME=dummy",
							 "CNI_PATH=dummy", NULL },
				  "");

	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, version_output);
	plugin_run_free(&r);
}

static void version_with_invalid_json_is_code_6(void **state)
{
	(void)state;
	struct plugin_run r = run(&empty_plugin, (const char *const[]){ "CNI_COMMAND=VERSION", NULL }, "{'cniVersion':");

	assert_error_output(&r, "1.1.0", CNI_ERR_DECODE, "VERSION input is not valid JSON");
	plugin_run_free(&r);
}

static void no_command_prints_nothing_on_stdout_and_succeeds(void **state)
{
	(void)state;
	struct plugin_run r = run(&full_plugin, (const char *const[]){ "CNI_PATH=/p", NULL }, "{}");

	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "");
	assert_int_equal(fake.calls[CNI_CMD_ADD], 0);
	plugin_run_free(&r);
}

/* ---- ADD ---- */

static void add_result_is_printed_in_1_1_0(void **state)
{
	(void)state;
	struct plugin_run r = run(&full_plugin, CNI_ENV("ADD"), "{'cniVersion':'1.1.0','name':'net','type':'fake'}");

	assert_int_equal(r.status, 0);
	assert_json_eq(r.json, "{'cniVersion':'1.1.0','interfaces':[{'name':'eth0','mac':'02:00:00:00:00:01',"
			       "'mtu':1400,'sandbox':'/var/run/netns/test'}],"
			       "'ips':[{'interface':0,'address':'10.1.2.3/24','gateway':'10.1.2.1'},"
			       "{'interface':0,'address':'fd00::3/64'}],"
			       "'routes':[{'dst':'0.0.0.0/0','gw':'10.1.2.1','table':100}],'dns':{}}");
	assert_true(r.out[strlen(r.out) - 1] == '\n');
	plugin_run_free(&r);
}

static void add_result_is_printed_in_0_3_1(void **state)
{
	(void)state;
	struct plugin_run r = run(&full_plugin, CNI_ENV("ADD"), "{'cniVersion':'0.3.1','name':'net','type':'fake'}");

	assert_int_equal(r.status, 0);
	assert_json_eq(r.json, "{'cniVersion':'0.3.1','interfaces':[{'name':'eth0','mac':'02:00:00:00:00:01',"
			       "'sandbox':'/var/run/netns/test'}],"
			       "'ips':[{'version':'4','interface':0,'address':'10.1.2.3/24','gateway':'10.1.2.1'},"
			       "{'version':'6','interface':0,'address':'fd00::3/64'}],"
			       "'routes':[{'dst':'0.0.0.0/0','gw':'10.1.2.1'}],'dns':{}}");
	plugin_run_free(&r);
}

static void add_result_is_printed_in_0_2_0(void **state)
{
	(void)state;
	struct plugin_run r = run(&full_plugin, CNI_ENV("ADD"), "{'cniVersion':'0.2.0','name':'net','type':'fake'}");

	assert_int_equal(r.status, 0);
	assert_json_eq(r.json, "{'cniVersion':'0.2.0','ip4':{'ip':'10.1.2.3/24','gateway':'10.1.2.1',"
			       "'routes':[{'dst':'0.0.0.0/0','gw':'10.1.2.1'}]},'ip6':{'ip':'fd00::3/64'},'dns':{}}");
	plugin_run_free(&r);
}

static void add_without_version_answers_in_0_1_0(void **state)
{
	(void)state;
	struct plugin_run r = run(&full_plugin, CNI_ENV("ADD"), "{'name':'net','type':'fake'}");

	assert_int_equal(r.status, 0);
	assert_string_equal(json_string_value(json_object_get(r.json, "cniVersion")), "0.1.0");
	assert_non_null(json_object_get(r.json, "ip4"));
	plugin_run_free(&r);
}

static void add_handler_gets_environment_and_config(void **state)
{
	(void)state;
	struct plugin_run r = run(&full_plugin,
				  (const char *const[]){ "CNI_COMMAND=ADD", "CNI_CONTAINERID=ctr-9", "CNI_NETNS=/n",
							 "CNI_IFNAME=net1", "CNI_PATH=/p", "CNI_ARGS=IgnoreUnknown=1;A=b",
							 NULL },
				  "{'cniVersion':'1.0.0','name':'net','type':'fake'}");

	assert_int_equal(r.status, 0);
	assert_int_equal(fake.calls[CNI_CMD_ADD], 1);
	assert_int_equal(fake.version, CNI_VERSION_1_0_0);
	assert_string_equal(fake.container_id, "ctr-9");
	assert_string_equal(fake.ifname, "net1");
	assert_true(fake.has_netns);
	assert_int_equal(fake.n_args, 2);
	plugin_run_free(&r);
}

static void add_without_ip_in_0_2_0_is_code_1(void **state)
{
	(void)state;
	fake.l2_only = true;
	struct plugin_run r = run(&full_plugin, CNI_ENV("ADD"), "{'cniVersion':'0.2.0','name':'net','type':'fake'}");

	assert_error_output(&r, "0.2.0", CNI_ERR_INCOMPATIBLE_VERSION, "no IP address");
	assert_int_equal(fake.calls[CNI_CMD_ADD], 1);
	plugin_run_free(&r);
}

static void large_config_is_read_whole(void **state)
{
	(void)state;
	size_t pad = 200 * 1024;
	char *config = malloc(pad + 100);
	int n = snprintf(config, 100, "{\"cniVersion\":\"1.0.0\",\"name\":\"net\",\"pad\":\"");

	memset(config + n, 'x', pad);
	strcpy(config + n + pad, "\"}");
	struct plugin_run r = run_plugin(&full_plugin, CNI_ENV("ADD"), config);
	assert_int_equal(r.status, 0);
	assert_int_equal(fake.raw_len, strlen(config));
	plugin_run_free(&r);
	free(config);
}

static void oversized_stdin_is_code_6(void **state)
{
	(void)state;
	size_t len = (4u << 20) + 1;
	char *config = malloc(len);

	memset(config, ' ', len);
	config[0] = '{';
	config[len - 1] = '}';
	struct plugin_run r = run_plugin_n(&full_plugin, CNI_ENV("ADD"), config, len);
	assert_error_output(&r, "1.1.0", CNI_ERR_DECODE, "exceeds");
	assert_int_equal(fake.calls[CNI_CMD_ADD], 0);
	plugin_run_free(&r);
	free(config);
}

static void stdin_of_exactly_the_limit_is_read(void **state)
{
	(void)state;
	static const char head[] = "{\"cniVersion\":\"1.0.0\",\"name\":\"n\"";
	size_t len = 4u << 20;
	char *config = malloc(len);

	memset(config, ' ', len);
	memcpy(config, head, sizeof(head) - 1);
	config[len - 1] = '}';
	struct plugin_run r = run_plugin_n(&full_plugin, CNI_ENV("ADD"), config, len);
	assert_int_equal(r.status, 0);
	assert_int_equal(fake.calls[CNI_CMD_ADD], 1);
	assert_int_equal(fake.raw_len, len);
	plugin_run_free(&r);
	free(config);
}

/* ---- errors ---- */

static void unreadable_stdin_is_code_5(void **state)
{
	(void)state;
	char *out = NULL;
	size_t len = 0;
	FILE *in = fopen("/dev/null", "w"); /* reading a write-only stream fails */
	FILE *f = open_memstream(&out, &len);

	assert_non_null(in);
	cni_env_set(CNI_ENV("ADD"));
	assert_int_equal(cni_plugin_main(&full_plugin, in, f), 1);
	fclose(in);
	fclose(f);
	json_t *obj = load_json(out);
	assert_int_equal(json_integer_value(json_object_get(obj, "code")), CNI_ERR_IO);
	assert_contains(json_string_value(json_object_get(obj, "msg")), "cannot read the network configuration");
	assert_int_equal(fake.calls[CNI_CMD_ADD], 0);
	json_decref(obj);
	free(out);
}

static void handler_error_is_printed_in_config_version(void **state)
{
	(void)state;
	fake.fail = true;
	struct plugin_run r = run(&full_plugin, CNI_ENV("ADD"), "{'cniVersion':'0.4.0','name':'net','type':'fake'}");

	assert_int_equal(r.status, 1);
	assert_json_eq(r.json, "{'cniVersion':'0.4.0','code':100,'msg':'cannot create eth0: File exists',"
			       "'details':'delete it first'}");
	plugin_run_free(&r);
}

static void handler_error_without_details_has_no_details_key(void **state)
{
	(void)state;
	fake.fail = fake.fail_plainly = true;
	struct plugin_run r = run(&full_plugin, CNI_ENV("DEL"), "{'cniVersion':'1.0.0','name':'net','type':'fake'}");

	assert_int_equal(r.status, 1);
	assert_json_eq(r.json, "{'cniVersion':'1.0.0','code':100,'msg':'cannot create eth0: File exists'}");
	plugin_run_free(&r);
}

static void null_handlers_answer_not_implemented(void **state)
{
	(void)state;
	const struct {
		const char *const *env;
		const char *name;
	} cases[] = { { CNI_ENV("ADD"), "ADD" }, { CNI_ENV("DEL"), "DEL" }, { CNI_ENV("CHECK"), "CHECK" },
		      { status_env, "STATUS" },	 { gc_env, "GC" } };

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct plugin_run r = run(&empty_plugin, cases[i].env, "{'cniVersion':'1.1.0','name':'n','type':'fake'}");
		char msg[64];
		snprintf(msg, sizeof(msg), "fake: %s is not implemented", cases[i].name);
		assert_error_output(&r, "1.1.0", CNI_ERR_NOT_IMPLEMENTED, msg);
		plugin_run_free(&r);
	}
}

static void missing_env_is_code_4_and_runs_nothing(void **state)
{
	(void)state;
	struct plugin_run r = run(&full_plugin, (const char *const[]){ "CNI_COMMAND=ADD", "CNI_PATH=/p", NULL },
				  "{'cniVersion':'0.3.1','name':'net','type':'fake'}");

	assert_error_output(&r, "1.1.0", CNI_ERR_INVALID_ENV, "[CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME]");
	assert_int_equal(fake.calls[CNI_CMD_ADD], 0);
	plugin_run_free(&r);
}

static void unknown_command_is_code_4(void **state)
{
	(void)state;
	struct plugin_run r = run(&full_plugin, (const char *const[]){ "CNI_COMMAND=UPDATE", NULL }, "{}");

	assert_error_output(&r, "1.1.0", CNI_ERR_INVALID_ENV, "UPDATE");
	plugin_run_free(&r);
}

static void malformed_config_is_code_6(void **state)
{
	(void)state;
	struct plugin_run r = run(&full_plugin, CNI_ENV("ADD"), "{'cniVersion':'0.3.1',\n'name':");

	assert_error_output(&r, "1.1.0", CNI_ERR_DECODE, "line 2");
	assert_int_equal(fake.calls[CNI_CMD_ADD], 0);
	plugin_run_free(&r);
}

static void empty_stdin_for_add_is_code_6(void **state)
{
	(void)state;
	struct plugin_run r = run(&full_plugin, CNI_ENV("ADD"), "");

	assert_error_output(&r, "1.1.0", CNI_ERR_DECODE, "empty");
	plugin_run_free(&r);
}

static void unknown_config_version_is_code_1(void **state)
{
	(void)state;
	struct plugin_run r = run(&full_plugin, CNI_ENV("ADD"), "{'cniVersion':'1.2.0','name':'net','type':'fake'}");

	assert_error_output(&r, "1.1.0", CNI_ERR_INCOMPATIBLE_VERSION, "1.2.0");
	assert_int_equal(fake.calls[CNI_CMD_ADD], 0);
	plugin_run_free(&r);
}

/* Once cniVersion is read, every error is printed in it. */
static void config_error_is_printed_in_config_version(void **state)
{
	(void)state;
	struct plugin_run r = run(&full_plugin, CNI_ENV("ADD"), "{'cniVersion':'0.3.1','name':'net','ipam':{'type':5}}");

	assert_error_output(&r, "0.3.1", CNI_ERR_INVALID_CONFIG, "ipam.type must be a string");
	plugin_run_free(&r);
}

/* As the Go plugins: every command but VERSION needs a network name fit for a file name. */
static void missing_network_name_is_code_7(void **state)
{
	(void)state;
	static const char *const configs[] = { "{'cniVersion':'1.0.0','type':'fake'}",
					       "{'cniVersion':'1.0.0','name':'','type':'fake'}" };

	for (size_t i = 0; i < N_ELEMENTS(configs); i++) {
		struct plugin_run r = run(&full_plugin, CNI_ENV("DEL"), configs[i]);
		assert_error_output(&r, "1.0.0", CNI_ERR_INVALID_CONFIG, "missing network name");
		plugin_run_free(&r);
	}
	assert_int_equal(fake.calls[CNI_CMD_DEL], 0);
}

static void invalid_network_name_is_code_7(void **state)
{
	(void)state;
	static const char *const configs[] = { "{'cniVersion':'0.4.0','name':'../etc','type':'fake'}",
					       "{'cniVersion':'0.4.0','name':'a/b','type':'fake'}",
					       "{'cniVersion':'0.4.0','name':'-net','type':'fake'}",
					       "{'cniVersion':'0.4.0','name':'my net','type':'fake'}" };

	for (size_t i = 0; i < N_ELEMENTS(configs); i++) {
		struct plugin_run r = run(&full_plugin, CNI_ENV("ADD"), configs[i]);
		assert_error_output(&r, "0.4.0", CNI_ERR_INVALID_CONFIG, "invalid characters in network name");
		plugin_run_free(&r);
	}
	assert_int_equal(fake.calls[CNI_CMD_ADD], 0);
}

static void network_name_with_dots_dashes_underscores_is_valid(void **state)
{
	(void)state;
	struct plugin_run r =
		run(&full_plugin, CNI_ENV("DEL"), "{'cniVersion':'1.0.0','name':'k8s-pod_net.v1','type':'f'}");

	assert_int_equal(r.status, 0);
	assert_int_equal(fake.calls[CNI_CMD_DEL], 1);
	plugin_run_free(&r);
}

static void invalid_cni_args_is_code_4_in_config_version(void **state)
{
	(void)state;
	struct plugin_run r = run(&full_plugin,
				  (const char *const[]){ "CNI_COMMAND=ADD", "CNI_CONTAINERID=c", "CNI_NETNS=/n",
							 "CNI_IFNAME=eth0", "CNI_PATH=/p", "CNI_ARGS=A=1;B", NULL },
				  "{'cniVersion':'0.3.1','name':'net','type':'fake'}");

	assert_error_output(&r, "0.3.1", CNI_ERR_INVALID_ENV, "invalid pair \"B\"");
	assert_int_equal(fake.calls[CNI_CMD_ADD], 0);
	plugin_run_free(&r);
}

/* The error must still be printed, as JSON, when its message is not UTF-8. */
static void error_from_non_utf8_environment_is_valid_json(void **state)
{
	(void)state;
	struct plugin_run r = run(&full_plugin,
				  (const char *const[]){ "CNI_COMMAND=ADD", "CNI_CONTAINERID=c", "CNI_NETNS=/n",
							 "CNI_IFNAME=eth0", "CNI_PATH=/p", "CNI_ARGS=A\xff\xfe", NULL },
				  "{'cniVersion':'1.0.0','name':'net','type':'fake'}");

	assert_error_output(&r, "1.0.0", CNI_ERR_INVALID_ENV, "invalid pair \"A\xef\xbf\xbd\xef\xbf\xbd\"");
	plugin_run_free(&r);
}

/* A message cut at CNI_MSG_MAX inside a multi-byte character. */
static void error_truncated_inside_a_character_is_valid_json(void **state)
{
	(void)state;
	char name[CNI_MSG_MAX + 64], config[sizeof(name) + 128];
	size_t i;

	for (i = 0; i + 2 < sizeof(name); i += 2)
		memcpy(name + i, "\xc3\xa9", 2); /* é */
	name[i] = '\0';
	/* "ipam.type \"x" is 12 bytes: the 511th byte is the first half of a character. */
	snprintf(config, sizeof(config), "{'cniVersion':'1.0.0','name':'net','ipam':{'type':'x%s/x'}}", name);
	struct plugin_run r = run(&full_plugin, CNI_ENV("ADD"), config);

	assert_error_output(&r, "1.0.0", CNI_ERR_INVALID_CONFIG, "ipam.type \"x\xc3\xa9\xc3\xa9");
	plugin_run_free(&r);
}

/* ---- command versions ---- */

static void check_below_0_4_0_is_code_1(void **state)
{
	(void)state;
	struct plugin_run r = run(&full_plugin, CNI_ENV("CHECK"), "{'cniVersion':'0.3.1','name':'net','type':'fake'}");

	assert_error_output(&r, "0.3.1", CNI_ERR_INCOMPATIBLE_VERSION, "does not allow CHECK");
	assert_int_equal(fake.calls[CNI_CMD_CHECK], 0);
	plugin_run_free(&r);
}

static void check_in_0_4_0_gets_prev_result_and_prints_nothing(void **state)
{
	(void)state;
	struct plugin_run r = run(&full_plugin, CNI_ENV("CHECK"),
				  "{'cniVersion':'0.4.0','name':'net','type':'fake','prevResult':{"
				  "'ips':[{'version':'4','address':'10.1.2.3/24'}]}}");

	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "");
	assert_int_equal(fake.calls[CNI_CMD_CHECK], 1);
	assert_true(fake.has_prev_result);
	assert_int_equal(fake.prev_ips, 1);
	plugin_run_free(&r);
}

static void status_and_gc_below_1_1_0_are_code_1(void **state)
{
	(void)state;
	const char *const *envs[] = { status_env, gc_env };

	for (size_t i = 0; i < N_ELEMENTS(envs); i++) {
		struct plugin_run r = run(&full_plugin, envs[i], "{'cniVersion':'1.0.0','name':'net','type':'fake'}");
		assert_error_output(&r, "1.0.0", CNI_ERR_INCOMPATIBLE_VERSION, "needs 1.1.0");
		plugin_run_free(&r);
	}
	assert_int_equal(fake.calls[CNI_CMD_STATUS], 0);
	assert_int_equal(fake.calls[CNI_CMD_GC], 0);
}

static void status_and_gc_in_1_1_0_need_only_cni_path(void **state)
{
	(void)state;
	const char *const *envs[] = { status_env, gc_env };

	for (size_t i = 0; i < N_ELEMENTS(envs); i++) {
		struct plugin_run r = run(&full_plugin, envs[i], "{'cniVersion':'1.1.0','name':'net','type':'fake'}");
		assert_int_equal(r.status, 0);
		assert_string_equal(r.out, "");
		plugin_run_free(&r);
	}
	assert_int_equal(fake.calls[CNI_CMD_STATUS], 1);
	assert_int_equal(fake.calls[CNI_CMD_GC], 1);
	assert_true(fake.has_path);
}

static void del_without_netns_calls_handler_and_prints_nothing(void **state)
{
	(void)state;
	struct plugin_run r = run(&full_plugin,
				  (const char *const[]){ "CNI_COMMAND=DEL", "CNI_CONTAINERID=c", "CNI_NETNS=",
							 "CNI_IFNAME=eth0", "CNI_PATH=/p", NULL },
				  "{'cniVersion':'0.1.0','name':'net','type':'fake'}");

	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "");
	assert_int_equal(fake.calls[CNI_CMD_DEL], 1);
	assert_false(fake.has_netns);
	plugin_run_free(&r);
}

/* ---- a prevResult that does not parse ---- */

static const char bad_prev_result_config[] =
	"{'cniVersion':'1.0.0','name':'net','type':'fake','prevResult':{'ips':[{'address':'junk'}]}}";

/* run() with stderr caught; returns what went there. */
static char *run_catching_stderr(const char *const *env, const char *config, struct plugin_run *r)
{
	FILE *caught = tmpfile();
	int saved = dup(STDERR_FILENO);
	char *text = calloc(1, 4096);

	assert_true(caught && saved >= 0 && text);
	fflush(stderr);
	assert_int_equal(dup2(fileno(caught), STDERR_FILENO), STDERR_FILENO);
	*r = run(&full_plugin, env, config);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(caught);
	size_t n = fread(text, 1, 4095, caught);
	text[n] = '\0';
	fclose(caught);
	return text;
}

/* A damaged runtime cache must not make every DEL retry fail: the pod could never go. */
static void del_goes_on_without_a_malformed_prev_result_and_warns(void **state)
{
	(void)state;
	struct plugin_run r;
	char *warning = run_catching_stderr(CNI_ENV("DEL"), bad_prev_result_config, &r);

	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "");
	assert_int_equal(fake.calls[CNI_CMD_DEL], 1);
	assert_false(fake.has_prev_result);
	assert_contains(warning, "fake: DEL of eth0 in container ctr-1 goes on without prevResult");
	assert_contains(warning, "prevResult: ips[0].address \"junk\"");
	free(warning);
	plugin_run_free(&r);
}

static void add_and_check_refuse_a_malformed_prev_result(void **state)
{
	(void)state;
	const char *commands[] = { "ADD", "CHECK" };

	for (size_t i = 0; i < N_ELEMENTS(commands); i++) {
		char *command = NULL;
		assert_true(asprintf(&command, "CNI_COMMAND=%s", commands[i]) > 0);
		const char *const env[] = { command, "CNI_CONTAINERID=ctr-1", "CNI_NETNS=/var/run/netns/test",
					    "CNI_IFNAME=eth0", "CNI_PATH=/opt/cni/bin", NULL };
		struct plugin_run r = run(&full_plugin, env, bad_prev_result_config);
		assert_error_output(&r, "1.0.0", CNI_ERR_DECODE, "prevResult: ips[0].address \"junk\"");
		plugin_run_free(&r);
		free(command);
	}
	assert_int_equal(fake.calls[CNI_CMD_ADD] + fake.calls[CNI_CMD_CHECK], 0);
}

static void del_gets_a_good_prev_result_quietly(void **state)
{
	(void)state;
	struct plugin_run r;
	char *warning = run_catching_stderr(
		CNI_ENV("DEL"), "{'cniVersion':'1.0.0','name':'net','prevResult':{'ips':[{'address':'10.1.2.3/24'}]}}", &r);

	assert_int_equal(r.status, 0);
	assert_true(fake.has_prev_result);
	assert_int_equal(fake.prev_ips, 1);
	assert_string_equal(warning, "");
	free(warning);
	plugin_run_free(&r);
}

/* ---- cni_error_print ---- */

static void error_print_writes_the_spec_object(void **state)
{
	(void)state;
	struct cni_error err = { 0 };
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	cni_error_set(&err, CNI_ERR_TRY_AGAIN, "busy \"now\"");
	cni_error_details(&err, "retry");
	cni_error_print(&err, CNI_VERSION_0_3_0, f);
	fclose(f);
	json_t *obj = load_json(out);
	assert_json_eq(obj, "{\"cniVersion\":\"0.3.0\",\"code\":11,\"msg\":\"busy \\\"now\\\"\",\"details\":\"retry\"}");
	json_decref(obj);
	free(out);
}

/* Each byte that does not belong to a valid character becomes U+FFFD; valid ones stay. */
static void error_print_replaces_invalid_utf8(void **state)
{
	(void)state;
	struct cni_error err = { 0 };
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	/* é, an emoji, a lone lead byte, an overlong '/', a surrogate */
	cni_error_set(&err, CNI_ERR_INVALID_CONFIG, "\xc3\xa9\xf0\x9f\x98\x80 \xc3( \xc0\xaf \xed\xa0\x80");
	cni_error_details(&err, "\xff");
	cni_error_print(&err, CNI_VERSION_1_1_0, f);
	fclose(f);
	json_t *obj = load_json(out);
	assert_string_equal(json_string_value(json_object_get(obj, "msg")),
			    "\xc3\xa9\xf0\x9f\x98\x80 \xef\xbf\xbd( \xef\xbf\xbd\xef\xbf\xbd "
			    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	assert_string_equal(json_string_value(json_object_get(obj, "details")), "\xef\xbf\xbd");
	json_decref(obj);
	free(out);
}

#define T(f) cmocka_unit_test_setup_teardown(f, reset_fake, reset_fake)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(version_prints_supported_versions_exactly),
		T(version_with_empty_stdin_and_libcni_dummies),
		T(version_with_invalid_json_is_code_6),
		T(no_command_prints_nothing_on_stdout_and_succeeds),
		T(add_result_is_printed_in_1_1_0),
		T(add_result_is_printed_in_0_3_1),
		T(add_result_is_printed_in_0_2_0),
		T(add_without_version_answers_in_0_1_0),
		T(add_handler_gets_environment_and_config),
		T(add_without_ip_in_0_2_0_is_code_1),
		T(large_config_is_read_whole),
		T(oversized_stdin_is_code_6),
		T(stdin_of_exactly_the_limit_is_read),
		T(unreadable_stdin_is_code_5),
		T(handler_error_is_printed_in_config_version),
		T(handler_error_without_details_has_no_details_key),
		T(null_handlers_answer_not_implemented),
		T(missing_env_is_code_4_and_runs_nothing),
		T(unknown_command_is_code_4),
		T(malformed_config_is_code_6),
		T(empty_stdin_for_add_is_code_6),
		T(unknown_config_version_is_code_1),
		T(config_error_is_printed_in_config_version),
		T(missing_network_name_is_code_7),
		T(invalid_network_name_is_code_7),
		T(network_name_with_dots_dashes_underscores_is_valid),
		T(invalid_cni_args_is_code_4_in_config_version),
		T(error_from_non_utf8_environment_is_valid_json),
		T(error_truncated_inside_a_character_is_valid_json),
		T(check_below_0_4_0_is_code_1),
		T(check_in_0_4_0_gets_prev_result_and_prints_nothing),
		T(status_and_gc_below_1_1_0_are_code_1),
		T(status_and_gc_in_1_1_0_need_only_cni_path),
		T(del_without_netns_calls_handler_and_prints_nothing),
		T(del_goes_on_without_a_malformed_prev_result_and_warns),
		T(add_and_check_refuse_a_malformed_prev_result),
		T(del_gets_a_good_prev_result_quietly),
		T(error_print_writes_the_spec_object),
		T(error_print_replaces_invalid_utf8),
	};
	return cmocka_run_group_tests_name("skel", tests, NULL, NULL);
}
