/* cni_find_plugin and cni_ipam_exec, run against small shell scripts in a temporary directory. */
#include "helpers.h"

#include <errno.h>
#include <signal.h>
#include <sys/socket.h>

#include "cni/delegate.h"

static const char conf_1_0_0[] =
	"{\"cniVersion\":\"1.0.0\",\"name\":\"net\",\"type\":\"macvlan\",\"ipam\":{\"type\":\"fake-ipam\"}}";

static int make_dir(void **state)
{
	*state = temp_dir();
	cni_env_clear();
	return 0;
}

static int remove_dir(void **state)
{
	temp_dir_remove(*state);
	cni_env_clear();
	return 0;
}

static void make_subdir(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(mkdir(path, 0755), 0);
}

/* dir/name as an executable script. */
static void install(const char *dir, const char *name, const char *script)
{
	free(write_file(dir, name, script, 0755));
}

static void assert_found(const char *type, const char *cni_path, const char *dir, const char *want_rel)
{
	struct cni_error err = { 0 };
	char *found = cni_find_plugin(type, cni_path, &err);
	char want[512];

	snprintf(want, sizeof(want), "%s/%s", dir, want_rel);
	if (!found)
		fail_msg("%s not found in %s: %s", type, cni_path, err.msg);
	assert_string_equal(found, want);
	free(found);
}

static char *join_path(const char *dir, const char *a, const char *b)
{
	char *path = NULL;

	assert_true(asprintf(&path, "%s/%s:%s/%s", dir, a, dir, b) > 0);
	return path;
}

/* ---- cni_find_plugin ---- */

static void finds_executable_file(void **state)
{
	const char *dir = *state;

	install(dir, "host-local", "#!/bin/sh\n");
	assert_found("host-local", dir, dir, "host-local");
}

static void skips_non_executable_file(void **state)
{
	const char *dir = *state;
	struct cni_error err = { 0 };

	free(write_file(dir, "host-local", "#!/bin/sh\n", 0644));
	assert_null(cni_find_plugin("host-local", dir, &err));
	assert_cni_error(&err, CNI_ERR_IPAM, "IPAM plugin \"host-local\" not found in CNI_PATH");
	assert_contains(err.msg, dir);
}

static void skips_directory(void **state)
{
	const char *dir = *state;
	struct cni_error err = { 0 };

	make_subdir(dir, "host-local");
	assert_null(cni_find_plugin("host-local", dir, &err));
	assert_int_equal(err.code, CNI_ERR_IPAM);
}

static void first_match_wins_across_cni_path(void **state)
{
	const char *dir = *state;
	char *path = join_path(dir, "a", "b");

	make_subdir(dir, "a");
	make_subdir(dir, "b");
	install(dir, "a/ipam", "#!/bin/sh\n");
	install(dir, "b/ipam", "#!/bin/sh\n");
	assert_found("ipam", path, dir, "a/ipam");
	free(path);
}

static void later_dir_used_when_first_has_non_executable(void **state)
{
	const char *dir = *state;
	char *path = join_path(dir, "a", "b");

	make_subdir(dir, "a");
	make_subdir(dir, "b");
	free(write_file(dir, "a/ipam", "#!/bin/sh\n", 0644));
	install(dir, "b/ipam", "#!/bin/sh\n");
	assert_found("ipam", path, dir, "b/ipam");
	free(path);
}

static void later_dir_used_when_first_has_directory(void **state)
{
	const char *dir = *state;
	char *path = join_path(dir, "a", "b");

	make_subdir(dir, "a");
	make_subdir(dir, "b");
	make_subdir(dir, "a/ipam");
	install(dir, "b/ipam", "#!/bin/sh\n");
	assert_found("ipam", path, dir, "b/ipam");
	free(path);
}

static void empty_cni_path_entries_are_skipped(void **state)
{
	const char *dir = *state;
	char *path = NULL;

	make_subdir(dir, "b");
	install(dir, "b/ipam", "#!/bin/sh\n");
	assert_true(asprintf(&path, "::%s/missing::%s/b:", dir, dir) > 0);
	assert_found("ipam", path, dir, "b/ipam");
	free(path);
}

static void symlink_to_executable_is_found(void **state)
{
	const char *dir = *state;
	char target[512], link[512];

	install(dir, "real", "#!/bin/sh\n");
	snprintf(target, sizeof(target), "%s/real", dir);
	snprintf(link, sizeof(link), "%s/ipam", dir);
	assert_int_equal(symlink(target, link), 0);
	assert_found("ipam", dir, dir, "ipam");
}

static void missing_plugin_names_the_path(void **state)
{
	const char *dir = *state;
	struct cni_error err = { 0 };
	char *path = join_path(dir, "x", "y");

	assert_null(cni_find_plugin("nothing", path, &err));
	assert_cni_error(&err, CNI_ERR_IPAM, path);
	assert_contains(err.details, "ipam.type");
	free(path);
}

static void unset_cni_path_says_so(void **state)
{
	(void)state;
	struct cni_error err = { 0 };

	assert_null(cni_find_plugin("host-local", NULL, &err));
	assert_cni_error(&err, CNI_ERR_IPAM, "(unset)");
	cni_error_clear(&err);
	assert_null(cni_find_plugin("host-local", "", &err));
	assert_int_equal(err.code, CNI_ERR_IPAM);
}

/* ---- cni_ipam_exec ---- */

struct exec {
	struct cni_call call;
	struct cni_result result;
	struct cni_error err;
	int r;
};

/* Runs fake-ipam from `dir` for `command` with the configuration `conf` (real bytes). */
static void exec_ipam(const char *dir, const char *conf, enum cni_command command, struct exec *e)
{
	memset(e, 0, sizeof(*e));
	if (cni_conf_parse(conf, strlen(conf), &e->call.conf, &e->err) < 0)
		fail_msg("test config rejected: %s", e->err.msg);
	e->call.env.command = CNI_CMD_ADD;
	e->call.env.path = dir;
	e->r = cni_ipam_exec(&e->call, command, command == CNI_CMD_ADD ? &e->result : NULL, &e->err);
}

static void exec_free(struct exec *e)
{
	cni_result_free(&e->result);
	cni_conf_free(&e->call.conf);
}

static void exec_ok(const char *dir, const char *conf, enum cni_command command, struct exec *e)
{
	exec_ipam(dir, conf, command, e);
	if (e->r < 0)
		fail_msg("IPAM failed: %d %s (%s)", e->err.code, e->err.msg, e->err.details);
}

static void add_returns_the_plugin_result(void **state)
{
	const char *dir = *state;
	struct exec e;
	char text[IP_PREFIX_STRLEN];

	install(dir, "fake-ipam",
		"#!/bin/sh\ncat >/dev/null\n"
		"echo '{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.1.2.3/24\",\"gateway\":\"10.1.2.1\"}],"
		"\"routes\":[{\"dst\":\"0.0.0.0/0\"}],\"dns\":{\"nameservers\":[\"10.1.2.1\"]}}'\n");
	exec_ok(dir, conf_1_0_0, CNI_CMD_ADD, &e);
	assert_int_equal(e.r, 0);
	assert_int_equal(e.result.n_ips, 1);
	ip_prefix_format(&e.result.ips[0].address, text);
	assert_string_equal(text, "10.1.2.3/24");
	assert_true(e.result.ips[0].has_gateway);
	assert_int_equal(e.result.n_routes, 1);
	assert_string_equal(e.result.dns.nameservers.items[0], "10.1.2.1");
	exec_free(&e);
}

static void add_result_in_another_version_is_accepted(void **state)
{
	const char *dir = *state;
	struct exec e;

	install(dir, "fake-ipam",
		"#!/bin/sh\ncat >/dev/null\n"
		"echo '{\"cniVersion\":\"0.2.0\",\"ip4\":{\"ip\":\"10.1.2.3/24\"},\"ip6\":{\"ip\":\"fd00::3/64\"}}'\n");
	exec_ok(dir, conf_1_0_0, CNI_CMD_ADD, &e);
	assert_int_equal(e.result.n_ips, 2);
	assert_int_equal(e.result.ips[1].address.addr.family, AF_INET6);
	exec_free(&e);
}

static void add_result_without_version_is_read_in_config_version(void **state)
{
	const char *dir = *state;
	struct exec e;

	install(dir, "fake-ipam", "#!/bin/sh\ncat >/dev/null\necho '{\"ip4\":{\"ip\":\"10.1.2.3/24\"}}'\n");
	exec_ok(dir, "{\"cniVersion\":\"0.2.0\",\"name\":\"net\",\"ipam\":{\"type\":\"fake-ipam\"}}", CNI_CMD_ADD, &e);
	assert_int_equal(e.result.n_ips, 1);
	exec_free(&e);
}

static void plugin_error_is_passed_on(void **state)
{
	const char *dir = *state;
	struct exec e;

	install(dir, "fake-ipam",
		"#!/bin/sh\ncat >/dev/null\n"
		"echo '{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":\"no addresses left\",\"details\":\"range is full\"}'\n"
		"exit 1\n");
	exec_ipam(dir, conf_1_0_0, CNI_CMD_ADD, &e);
	assert_int_equal(e.r, -1);
	assert_int_equal(e.err.code, CNI_ERR_TRY_AGAIN);
	assert_string_equal(e.err.msg, "IPAM plugin fake-ipam: no addresses left");
	assert_string_equal(e.err.details, "range is full");
	exec_free(&e);
}

static void silent_nonzero_exit_is_code_102_with_status(void **state)
{
	const char *dir = *state;
	struct exec e;

	install(dir, "fake-ipam", "#!/bin/sh\nexit 3\n");
	exec_ipam(dir, conf_1_0_0, CNI_CMD_DEL, &e);
	assert_int_equal(e.r, -1);
	assert_cni_error(&e.err, CNI_ERR_IPAM, "IPAM plugin fake-ipam exited with status 3 and printed no CNI error");
	exec_free(&e);
}

static void error_json_with_code_0_is_not_trusted(void **state)
{
	const char *dir = *state;
	struct exec e;

	install(dir, "fake-ipam", "#!/bin/sh\necho '{\"code\":0,\"msg\":\"fine\"}'\nexit 2\n");
	exec_ipam(dir, conf_1_0_0, CNI_CMD_ADD, &e);
	assert_cni_error(&e.err, CNI_ERR_IPAM, "exited with status 2");
	exec_free(&e);
}

static void killed_plugin_is_code_102_with_signal(void **state)
{
	const char *dir = *state;
	struct exec e;

	install(dir, "fake-ipam", "#!/bin/sh\nkill -KILL $$\n");
	exec_ipam(dir, conf_1_0_0, CNI_CMD_ADD, &e);
	assert_int_equal(e.r, -1);
	assert_cni_error(&e.err, CNI_ERR_IPAM, "IPAM plugin fake-ipam was killed by signal 9");
	exec_free(&e);
}

static const char recorder[] = "#!/bin/sh\n"
			       "cat > \"$0.stdin\"\n"
			       "printf '%s' \"$CNI_COMMAND\" > \"$0.command\"\n"
			       "printf '%s' \"$CNI_CONTAINERID/$CNI_IFNAME\" > \"$0.env\"\n"
			       /* the environment as execve gave it: a shell would hide a duplicate */
			       "tr '\\0' '\\n' < /proc/$$/environ | grep -c '^CNI_COMMAND=' > \"$0.count\"\n";

static void assert_file(const char *dir, const char *name, const char *want, size_t want_len)
{
	char *path = NULL, *data;
	size_t len;

	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	data = read_file(path, &len);
	assert_int_equal(len, want_len);
	assert_memory_equal(data, want, want_len);
	free(data);
	free(path);
}

static void child_gets_exact_stdin_and_overridden_command(void **state)
{
	const char *dir = *state;
	/* Odd spacing, a non-ASCII escape, no trailing newline: the bytes must arrive as they are. */
	static const char conf[] =
		"  {\"cniVersion\" :\"1.0.0\",\n\t\"name\":\"n\\u00e9t\", \"ipam\": {\"type\":\"fake-ipam\"}}";
	struct exec e;

	install(dir, "fake-ipam", recorder);
	assert_int_equal(setenv("CNI_COMMAND", "ADD", 1), 0);
	assert_int_equal(setenv("CNI_CONTAINERID", "ctr-7", 1), 0);
	assert_int_equal(setenv("CNI_IFNAME", "net3", 1), 0);
	exec_ok(dir, conf, CNI_CMD_DEL, &e);
	assert_file(dir, "fake-ipam.stdin", conf, strlen(conf));
	assert_file(dir, "fake-ipam.command", "DEL", 3);
	assert_file(dir, "fake-ipam.env", "ctr-7/net3", 10);
	assert_file(dir, "fake-ipam.count", "1\n", 2);
	/* Ours is left alone. */
	assert_string_equal(getenv("CNI_COMMAND"), "ADD");
	exec_free(&e);
}

static void each_command_is_passed(void **state)
{
	const char *dir = *state;
	static const enum cni_command commands[] = { CNI_CMD_CHECK, CNI_CMD_STATUS, CNI_CMD_GC, CNI_CMD_DEL };

	install(dir, "fake-ipam", recorder);
	assert_int_equal(setenv("CNI_COMMAND", "ADD", 1), 0);
	for (size_t i = 0; i < N_ELEMENTS(commands); i++) {
		struct exec e;
		const char *name = cni_command_name(commands[i]);
		exec_ok(dir, conf_1_0_0, commands[i], &e);
		assert_file(dir, "fake-ipam.command", name, strlen(name));
		exec_free(&e);
	}
}

/* We ignore SIGPIPE while feeding the plugin; a runtime starts plugins with the default. */
static void child_starts_with_default_sigpipe(void **state)
{
	const char *dir = *state;
	char *path = NULL, *text;
	struct exec e;

	install(dir, "fake-ipam", "#!/bin/sh\nsed -n 's/^SigIgn:[[:space:]]*//p' /proc/$$/status > \"$0.sigign\"\n");
	exec_ok(dir, conf_1_0_0, CNI_CMD_DEL, &e);
	assert_true(asprintf(&path, "%s/fake-ipam.sigign", dir) > 0);
	text = read_file(path, NULL);
	unsigned long long ignored = strtoull(text, NULL, 16);
	if (ignored & (1ULL << (SIGPIPE - 1)))
		fail_msg("the plugin started with SIGPIPE ignored (SigIgn %s)", text);
	free(text);
	free(path);
	exec_free(&e);
}

static void output_of_other_commands_is_ignored(void **state)
{
	const char *dir = *state;
	struct exec e;

	install(dir, "fake-ipam", "#!/bin/sh\ncat >/dev/null\necho 'not JSON at all'\n");
	exec_ok(dir, conf_1_0_0, CNI_CMD_DEL, &e);
	assert_int_equal(e.r, 0);
	exec_free(&e);
}

static void non_json_add_output_is_code_102(void **state)
{
	const char *dir = *state;
	struct exec e;

	install(dir, "fake-ipam", "#!/bin/sh\necho 'not JSON at all'\n");
	exec_ipam(dir, conf_1_0_0, CNI_CMD_ADD, &e);
	assert_int_equal(e.r, -1);
	assert_cni_error(&e.err, CNI_ERR_IPAM, "IPAM plugin fake-ipam printed a result that is not JSON");
	assert_contains(e.err.msg, "line 1");
	exec_free(&e);
}

static void empty_add_output_is_code_102(void **state)
{
	const char *dir = *state;
	struct exec e;

	install(dir, "fake-ipam", "#!/bin/sh\n");
	exec_ipam(dir, conf_1_0_0, CNI_CMD_ADD, &e);
	assert_cni_error(&e.err, CNI_ERR_IPAM, "not JSON");
	exec_free(&e);
}

static void invalid_add_result_is_code_6_saying_where(void **state)
{
	const char *dir = *state;
	struct exec e;

	install(dir, "fake-ipam", "#!/bin/sh\necho '{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"bad\"}]}'\n");
	exec_ipam(dir, conf_1_0_0, CNI_CMD_ADD, &e);
	assert_int_equal(e.r, -1);
	assert_cni_error(&e.err, CNI_ERR_DECODE, "IPAM plugin fake-ipam result: ips[0].address \"bad\"");
	assert_int_equal(e.result.n_ips, 0);
	exec_free(&e);
}

static void missing_plugin_is_code_102(void **state)
{
	const char *dir = *state;
	struct exec e;

	exec_ipam(dir, conf_1_0_0, CNI_CMD_ADD, &e);
	assert_int_equal(e.r, -1);
	assert_cni_error(&e.err, CNI_ERR_IPAM, "IPAM plugin \"fake-ipam\" not found");
	exec_free(&e);
}

static void unrunnable_plugin_is_code_102(void **state)
{
	const char *dir = *state;
	struct exec e;

	install(dir, "fake-ipam", "#!/nonexistent/interpreter\n");
	exec_ipam(dir, conf_1_0_0, CNI_CMD_ADD, &e);
	assert_int_equal(e.r, -1);
	assert_cni_error(&e.err, CNI_ERR_IPAM, "cannot run IPAM plugin");
	assert_contains(e.err.msg, strerror(ENOENT));
	exec_free(&e);
}

static void stderr_goes_to_ours(void **state)
{
	const char *dir = *state;
	char *log = NULL;
	struct exec e;
	int saved = dup(STDERR_FILENO);

	install(dir, "fake-ipam", "#!/bin/sh\necho 'ipam says hello' >&2\nexit 0\n");
	assert_true(asprintf(&log, "%s/stderr.log", dir) > 0);
	int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0 && saved >= 0);
	fflush(stderr);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	exec_ipam(dir, conf_1_0_0, CNI_CMD_DEL, &e);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fd);
	assert_int_equal(e.r, 0);
	char *text = read_file(log, NULL);
	assert_string_equal(text, "ipam says hello\n");
	free(text);
	free(log);
	exec_free(&e);
}

/* More than the 64 KiB a pipe holds, so that it takes many reads. */
static void large_output_is_read_whole(void **state)
{
	const char *dir = *state;
	const size_t n_ips = 4000;
	size_t cap = n_ips * 48 + 64, len = 0;
	char *json = malloc(cap);
	struct exec e;

	len += (size_t)snprintf(json + len, cap - len, "{\"cniVersion\":\"1.0.0\",\"ips\":[");
	for (size_t i = 0; i < n_ips; i++)
		len += (size_t)snprintf(json + len, cap - len, "%s{\"address\":\"10.%zu.%zu.1/32\"}", i ? "," : "",
					i / 256, i % 256);
	len += (size_t)snprintf(json + len, cap - len, "]}");
	assert_true(len > 64 * 1024 && len < cap);
	free(write_file(dir, "fake-ipam.json", json, 0644));
	install(dir, "fake-ipam", "#!/bin/sh\ncat >/dev/null\ncat \"$0.json\"\n");
	exec_ok(dir, conf_1_0_0, CNI_CMD_ADD, &e);
	assert_int_equal(e.result.n_ips, n_ips);
	char text[IP_PREFIX_STRLEN];
	ip_prefix_format(&e.result.ips[n_ips - 1].address, text);
	assert_string_equal(text, "10.15.159.1/32");
	exec_free(&e);
	free(json);
}

/* A configuration (that is also a result) far larger than a pipe, echoed back as the plugin
 * reads it: stdin must be fed while stdout is drained, or both sides wait for ever. */
static char *large_echo_config(size_t pad)
{
	char *conf = malloc(pad + 256);
	int n = snprintf(conf, 256,
			 "{\"cniVersion\":\"1.0.0\",\"name\":\"net\",\"ipam\":{\"type\":\"fake-ipam\"},"
			 "\"ips\":[{\"address\":\"10.1.2.3/24\"}],\"pad\":\"");

	memset(conf + n, 'x', pad);
	strcpy(conf + n + pad, "\"}");
	return conf;
}

static void large_stdin_echoed_back_does_not_block(void **state)
{
	const char *dir = *state;
	char *conf = large_echo_config(1 << 20);
	struct exec e;

	install(dir, "fake-ipam", "#!/bin/sh\nexec cat\n");
	exec_ok(dir, conf, CNI_CMD_ADD, &e);
	assert_int_equal(e.result.n_ips, 1);
	exec_free(&e);
	free(conf);
}

static void plugin_not_reading_large_stdin_does_not_block(void **state)
{
	const char *dir = *state;
	char *conf = large_echo_config(1 << 20);
	struct exec e;

	install(dir, "fake-ipam", "#!/bin/sh\necho '{\"ips\":[{\"address\":\"10.1.2.3/24\"}]}'\n");
	exec_ok(dir, conf, CNI_CMD_ADD, &e);
	assert_int_equal(e.result.n_ips, 1);
	exec_free(&e);
	free(conf);
}

#define T(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(finds_executable_file),
		T(skips_non_executable_file),
		T(skips_directory),
		T(first_match_wins_across_cni_path),
		T(later_dir_used_when_first_has_non_executable),
		T(later_dir_used_when_first_has_directory),
		T(empty_cni_path_entries_are_skipped),
		T(symlink_to_executable_is_found),
		T(missing_plugin_names_the_path),
		T(unset_cni_path_says_so),
		T(add_returns_the_plugin_result),
		T(add_result_in_another_version_is_accepted),
		T(add_result_without_version_is_read_in_config_version),
		T(plugin_error_is_passed_on),
		T(silent_nonzero_exit_is_code_102_with_status),
		T(error_json_with_code_0_is_not_trusted),
		T(killed_plugin_is_code_102_with_signal),
		T(child_gets_exact_stdin_and_overridden_command),
		T(each_command_is_passed),
		T(child_starts_with_default_sigpipe),
		T(output_of_other_commands_is_ignored),
		T(non_json_add_output_is_code_102),
		T(empty_add_output_is_code_102),
		T(invalid_add_result_is_code_6_saying_where),
		T(missing_plugin_is_code_102),
		T(unrunnable_plugin_is_code_102),
		T(stderr_goes_to_ours),
		T(large_output_is_read_whole),
		T(large_stdin_echoed_back_does_not_block),
		T(plugin_not_reading_large_stdin_does_not_block),
	};
	/* A deadlock with a child must fail the run, not hang it. */
	alarm(120);
	return cmocka_run_group_tests_name("delegate", tests, NULL, NULL);
}
