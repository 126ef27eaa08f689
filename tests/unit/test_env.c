/* cni_env_load and the validation of container IDs and interface names. */
#include "helpers.h"

#include "cni/env.h"

static int clear_env(void **state)
{
	(void)state;
	cni_env_clear();
	return 0;
}

static int load(const char *const *vars, struct cni_env *env, struct cni_error *err)
{
	cni_env_set(vars);
	return cni_env_load(env, err);
}

static void add_with_full_environment_loads_every_variable(void **state)
{
	(void)state;
	struct cni_env env;
	struct cni_error err = { 0 };

	assert_int_equal(load((const char *const[]){ "CNI_COMMAND=ADD", "CNI_CONTAINERID=abc", "CNI_NETNS=/run/netns/x",
						 "CNI_IFNAME=net1", "CNI_ARGS=A=1", "CNI_PATH=/opt/cni/bin", NULL },
			      &env, &err),
			 0);
	assert_int_equal(env.command, CNI_CMD_ADD);
	assert_string_equal(env.container_id, "abc");
	assert_string_equal(env.netns, "/run/netns/x");
	assert_string_equal(env.ifname, "net1");
	assert_string_equal(env.args, "A=1");
	assert_string_equal(env.path, "/opt/cni/bin");
}

static void each_command_name_is_recognised(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		enum cni_command cmd;
	} cases[] = { { "ADD", CNI_CMD_ADD },	    { "DEL", CNI_CMD_DEL }, { "CHECK", CNI_CMD_CHECK },
		      { "STATUS", CNI_CMD_STATUS }, { "GC", CNI_CMD_GC },   { "VERSION", CNI_CMD_VERSION } };

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct cni_env env;
		struct cni_error err = { 0 };
		assert_int_equal(setenv("CNI_COMMAND", cases[i].name, 1), 0);
		assert_int_equal(setenv("CNI_CONTAINERID", "c", 1), 0);
		assert_int_equal(setenv("CNI_NETNS", "/n", 1), 0);
		assert_int_equal(setenv("CNI_IFNAME", "eth0", 1), 0);
		assert_int_equal(setenv("CNI_PATH", "/p", 1), 0);
		assert_int_equal(cni_env_load(&env, &err), 0);
		assert_int_equal(env.command, cases[i].cmd);
		assert_string_equal(cni_command_name(cases[i].cmd), cases[i].name);
	}
}

static void out_of_range_command_name_is_question_mark(void **state)
{
	(void)state;
	assert_string_equal(cni_command_name((enum cni_command)(CNI_CMD_VERSION + 1)), "?");
}

static void add_lists_all_missing_variables_together(void **state)
{
	(void)state;
	struct cni_env env;
	struct cni_error err = { 0 };

	assert_int_equal(load((const char *const[]){ "CNI_COMMAND=ADD", NULL }, &env, &err), -1);
	assert_cni_error(&err, CNI_ERR_INVALID_ENV, "[CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME,CNI_PATH]");
	assert_contains(err.msg, "ADD");
	assert_true(err.details[0] != '\0');
}

static void only_the_missing_variables_are_listed(void **state)
{
	(void)state;
	struct cni_env env;
	struct cni_error err = { 0 };

	assert_int_equal(load((const char *const[]){ "CNI_COMMAND=CHECK", "CNI_CONTAINERID=c", "CNI_IFNAME=eth0", NULL },
			      &env, &err),
			 -1);
	assert_cni_error(&err, CNI_ERR_INVALID_ENV, "[CNI_NETNS,CNI_PATH]");
	assert_not_contains(err.msg, "CNI_IFNAME");
	assert_not_contains(err.msg, "CNI_CONTAINERID");
}

static void empty_variable_counts_as_unset(void **state)
{
	(void)state;
	struct cni_env env;
	struct cni_error err = { 0 };

	assert_int_equal(load((const char *const[]){ "CNI_COMMAND=ADD", "CNI_CONTAINERID=c", "CNI_NETNS=",
						 "CNI_IFNAME=eth0", "CNI_PATH=/p", NULL },
			      &env, &err),
			 -1);
	assert_cni_error(&err, CNI_ERR_INVALID_ENV, "[CNI_NETNS]");
}

static void empty_optional_variables_are_null(void **state)
{
	(void)state;
	struct cni_env env;
	struct cni_error err = { 0 };

	assert_int_equal(load((const char *const[]){ "CNI_COMMAND=DEL", "CNI_CONTAINERID=c", "CNI_NETNS=",
						 "CNI_IFNAME=eth0", "CNI_ARGS=", "CNI_PATH=/p", NULL },
			      &env, &err),
			 0);
	assert_null(env.netns);
	assert_null(env.args);
}

static void del_without_netns_is_fine(void **state)
{
	(void)state;
	struct cni_env env;
	struct cni_error err = { 0 };

	assert_int_equal(load((const char *const[]){ "CNI_COMMAND=DEL", "CNI_CONTAINERID=c", "CNI_IFNAME=eth0",
						 "CNI_PATH=/p", NULL },
			      &env, &err),
			 0);
	assert_int_equal(env.command, CNI_CMD_DEL);
	assert_null(env.netns);
}

static void del_still_needs_ifname_and_container_id(void **state)
{
	(void)state;
	struct cni_env env;
	struct cni_error err = { 0 };

	assert_int_equal(load((const char *const[]){ "CNI_COMMAND=DEL", "CNI_PATH=/p", NULL }, &env, &err), -1);
	assert_cni_error(&err, CNI_ERR_INVALID_ENV, "[CNI_CONTAINERID,CNI_IFNAME]");
	assert_contains(err.msg, "DEL");
}

static void version_needs_nothing(void **state)
{
	(void)state;
	struct cni_env env;
	struct cni_error err = { 0 };

	assert_int_equal(load((const char *const[]){ "CNI_COMMAND=VERSION", NULL }, &env, &err), 0);
	assert_int_equal(env.command, CNI_CMD_VERSION);
	assert_int_equal(err.code, CNI_OK);
}

/* libcni's ValidateNetworkList runs VERSION with these set to "dummy". */
static void version_accepts_libcni_dummy_values(void **state)
{
	(void)state;
	struct cni_env env;
	struct cni_error err = { 0 };

	assert_int_equal(load((const char *const[]){ "CNI_COMMAND=VERSION", "CNI_NETNS=dummy", "CNI_IFNAME=dummy",
						 "CNI_PATH=dummy", NULL },
			      &env, &err),
			 0);
}

static void version_ignores_malformed_variables(void **state)
{
	(void)state;
	struct cni_env env;
	struct cni_error err = { 0 };

	assert_int_equal(load((const char *const[]){ "CNI_COMMAND=VERSION", "CNI_CONTAINERID=-bad",
						 "CNI_IFNAME=much/too/long/name", NULL },
			      &env, &err),
			 0);
	assert_int_equal(err.code, CNI_OK);
}

static void status_and_gc_need_only_cni_path(void **state)
{
	(void)state;
	static const char *const commands[] = { "CNI_COMMAND=STATUS", "CNI_COMMAND=GC" };

	for (size_t i = 0; i < N_ELEMENTS(commands); i++) {
		struct cni_env env;
		struct cni_error err = { 0 };
		assert_int_equal(load((const char *const[]){ commands[i], "CNI_PATH=/p", NULL }, &env, &err), 0);
		assert_string_equal(env.path, "/p");
		assert_int_equal(load((const char *const[]){ commands[i], NULL }, &env, &err), -1);
		assert_cni_error(&err, CNI_ERR_INVALID_ENV, "[CNI_PATH]");
		assert_not_contains(err.msg, "CNI_IFNAME");
	}
}

static void unknown_command_is_code_4_naming_it(void **state)
{
	(void)state;
	static const char *const bad[] = { "CNI_COMMAND=FOO", "CNI_COMMAND=add", "CNI_COMMAND=ADD ", "CNI_COMMAND=ADDX" };

	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		struct cni_env env;
		struct cni_error err = { 0 };
		assert_int_equal(load((const char *const[]){ bad[i], "CNI_PATH=/p", NULL }, &env, &err), -1);
		assert_cni_error(&err, CNI_ERR_INVALID_ENV, bad[i] + strlen("CNI_COMMAND="));
		assert_contains(err.details, "VERSION");
	}
}

static void missing_or_empty_command_is_code_4(void **state)
{
	(void)state;
	struct cni_env env;
	struct cni_error err = { 0 };

	assert_int_equal(load((const char *const[]){ "CNI_PATH=/p", NULL }, &env, &err), -1);
	assert_cni_error(&err, CNI_ERR_INVALID_ENV, "[CNI_COMMAND]");
	cni_error_clear(&err);
	assert_int_equal(load((const char *const[]){ "CNI_COMMAND=", "CNI_PATH=/p", NULL }, &env, &err), -1);
	assert_cni_error(&err, CNI_ERR_INVALID_ENV, "[CNI_COMMAND]");
}

static void invalid_container_id_is_code_4(void **state)
{
	(void)state;
	struct cni_env env;
	struct cni_error err = { 0 };

	assert_int_equal(load((const char *const[]){ "CNI_COMMAND=ADD", "CNI_CONTAINERID=-bad", "CNI_NETNS=/n",
						 "CNI_IFNAME=eth0", "CNI_PATH=/p", NULL },
			      &env, &err),
			 -1);
	assert_cni_error(&err, CNI_ERR_INVALID_ENV, "invalid CNI_CONTAINERID \"-bad\"");
}

static void invalid_ifname_is_code_4_saying_why(void **state)
{
	(void)state;
	struct cni_env env;
	struct cni_error err = { 0 };

	assert_int_equal(load((const char *const[]){ "CNI_COMMAND=ADD", "CNI_CONTAINERID=c", "CNI_NETNS=/n",
						 "CNI_IFNAME=eth0123456789abc", "CNI_PATH=/p", NULL },
			      &env, &err),
			 -1);
	assert_cni_error(&err, CNI_ERR_INVALID_ENV, "invalid CNI_IFNAME \"eth0123456789abc\"");
	assert_contains(err.msg, "15 bytes");
}

static void valid_container_ids(void **state)
{
	(void)state;
	static const char *const good[] = { "a", "0", "Z", "abc123", "A-b_c.d", "0123456789abcdef0123456789abcdef",
					    "a--", "a..", "a__" };

	for (size_t i = 0; i < N_ELEMENTS(good); i++)
		if (!cni_container_id_valid(good[i]))
			fail_msg("container ID \"%s\" rejected", good[i]);
}

static void invalid_container_ids(void **state)
{
	(void)state;
	static const char *const bad[] = { "", "-a", "_a", ".a", "a b", "a/b", "a:b", "a;b", "a\n", "\xc3\xa9", "a\xc3\xa9",
					   "a+b", "a@b" };

	for (size_t i = 0; i < N_ELEMENTS(bad); i++)
		if (cni_container_id_valid(bad[i]))
			fail_msg("container ID \"%s\" accepted", bad[i]);
}

static void ifname_of_15_bytes_is_valid(void **state)
{
	(void)state;
	assert_null(cni_ifname_invalid("123456789012345"));
	assert_null(cni_ifname_invalid("eth0"));
	assert_null(cni_ifname_invalid("eth0.100"));
	assert_null(cni_ifname_invalid("..."));
	assert_null(cni_ifname_invalid("a"));
}

static void ifname_of_16_bytes_is_invalid(void **state)
{
	(void)state;
	assert_contains(cni_ifname_invalid("1234567890123456"), "longer than 15 bytes");
}

static void ifname_empty_dot_and_dotdot_are_invalid(void **state)
{
	(void)state;
	assert_contains(cni_ifname_invalid(""), "empty");
	assert_contains(cni_ifname_invalid("."), "\".\"");
	assert_contains(cni_ifname_invalid(".."), "\"..\"");
}

static void ifname_with_slash_colon_or_whitespace_is_invalid(void **state)
{
	(void)state;
	static const char *const bad[] = { "a/b", "/", "eth0:1", ":", "a b", " eth0", "eth0 ", "a\tb", "a\nb", "a\rb",
					   "a\vb", "a\fb" };

	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		const char *why = cni_ifname_invalid(bad[i]);
		if (!why)
			fail_msg("interface name \"%s\" accepted", bad[i]);
		assert_contains(why, "contains");
	}
}

/* The kernel makes "eth%d" eth0, eth1, ...: the runtime would record a name no link has. */
static void ifname_with_percent_is_invalid(void **state)
{
	(void)state;
	static const char *const bad[] = { "eth%d", "%d", "net%s", "%", "a%%b" };

	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		const char *why = cni_ifname_invalid(bad[i]);
		if (!why)
			fail_msg("interface name \"%s\" accepted", bad[i]);
		assert_contains(why, "contains '%'");
	}
}

/* The kernel's isspace() takes Latin-1's no-break space too: dev_valid_name() refuses it,
 * and with it UTF-8 characters that end in 0xa0. */
static void ifname_with_byte_0xa0_is_invalid(void **state)
{
	(void)state;
	assert_contains(cni_ifname_invalid("a\xa0"), "whitespace");
	assert_contains(cni_ifname_invalid("eth\xc2\xa0"), "whitespace");    /* U+00A0 */
	assert_contains(cni_ifname_invalid("caf\xc3\xa0"), "whitespace");    /* U+00E0 */
	assert_null(cni_ifname_invalid("caf\xc3\xa9"));                      /* U+00E9 */
}

static void invalid_ifname_is_code_4_for_every_command(void **state)
{
	(void)state;
	static const char *const commands[] = { "CNI_COMMAND=ADD", "CNI_COMMAND=DEL", "CNI_COMMAND=CHECK" };

	for (size_t i = 0; i < N_ELEMENTS(commands); i++) {
		struct cni_env env;
		struct cni_error err = { 0 };
		assert_int_equal(load((const char *const[]){ commands[i], "CNI_CONTAINERID=c", "CNI_NETNS=/n",
							 "CNI_IFNAME=eth%d", "CNI_PATH=/p", NULL },
				      &env, &err),
				 -1);
		assert_cni_error(&err, CNI_ERR_INVALID_ENV, "invalid CNI_IFNAME \"eth%d\": it contains '%'");
		assert_contains(err.details, "'%'");
	}
}

#define T(f) cmocka_unit_test_setup_teardown(f, clear_env, clear_env)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(add_with_full_environment_loads_every_variable),
		T(each_command_name_is_recognised),
		T(out_of_range_command_name_is_question_mark),
		T(add_lists_all_missing_variables_together),
		T(only_the_missing_variables_are_listed),
		T(empty_variable_counts_as_unset),
		T(empty_optional_variables_are_null),
		T(del_without_netns_is_fine),
		T(del_still_needs_ifname_and_container_id),
		T(version_needs_nothing),
		T(version_accepts_libcni_dummy_values),
		T(version_ignores_malformed_variables),
		T(status_and_gc_need_only_cni_path),
		T(unknown_command_is_code_4_naming_it),
		T(missing_or_empty_command_is_code_4),
		T(invalid_container_id_is_code_4),
		T(invalid_ifname_is_code_4_saying_why),
		T(valid_container_ids),
		T(invalid_container_ids),
		T(ifname_of_15_bytes_is_valid),
		T(ifname_of_16_bytes_is_invalid),
		T(ifname_empty_dot_and_dotdot_are_invalid),
		T(ifname_with_slash_colon_or_whitespace_is_invalid),
		T(ifname_with_percent_is_invalid),
		T(ifname_with_byte_0xa0_is_invalid),
		T(invalid_ifname_is_code_4_for_every_command),
	};
	return cmocka_run_group_tests_name("env", tests, NULL, NULL);
}
