/* Shared by the unit tests. The Makefile links each test_*.c alone, so everything here
 * is a macro or static inline. */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cni/skel.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

/* Macros rather than functions so that a failure reports the test's line. */
#define assert_contains(haystack, needle)                                                           \
	do {                                                                                        \
		const char *h_ = (haystack), *n_ = (needle);                                        \
		if (!h_ || !strstr(h_, n_))                                                         \
			fail_msg("\"%s\" does not contain \"%s\"", h_ ? h_ : "(null)", n_);         \
	} while (0)

#define assert_not_contains(haystack, needle)                                                       \
	do {                                                                                        \
		const char *h_ = (haystack), *n_ = (needle);                                        \
		if (h_ && strstr(h_, n_))                                                           \
			fail_msg("\"%s\" contains \"%s\"", h_, n_);                                 \
	} while (0)

/* Compares a JSON value with the JSON text `expected` (key order and spacing do not matter;
 * ' may stand for "). */
#define assert_json_eq(got, expected)                                                               \
	do {                                                                                        \
		json_t *want_ = load_json(expected);                                                \
		json_t *got_ = (got);                                                               \
		if (!got_ || !json_equal(got_, want_)) {                                            \
			char *text_ = got_ ? json_dumps(got_, JSON_COMPACT | JSON_SORT_KEYS) : NULL; \
			char *want_text_ = json_dumps(want_, JSON_COMPACT | JSON_SORT_KEYS);        \
			print_error("got      %s\nexpected %s\n", text_ ? text_ : "(null)", want_text_); \
			free(text_);                                                                \
			free(want_text_);                                                           \
			json_decref(want_);                                                         \
			fail();                                                                     \
		}                                                                                   \
		json_decref(want_);                                                                 \
	} while (0)

/* Error code and a piece of the message, printed whole on mismatch. */
#define assert_cni_error(err, want_code, msg_part)                                                  \
	do {                                                                                        \
		const struct cni_error *e_ = (err);                                                 \
		if (e_->code != (want_code))                                                        \
			fail_msg("error code %d (\"%s\"), expected %d", e_->code, e_->msg, (int)(want_code)); \
		assert_contains(e_->msg, msg_part);                                                 \
	} while (0)

/* Test JSON may be written with ' for " to stay readable: no test text needs a real '. */
static inline char *sq(const char *text)
{
	char *copy = strdup(text);

	assert_non_null(copy);
	for (char *p = copy; *p; p++)
		if (*p == '\'')
			*p = '"';
	return copy;
}

static inline json_t *load_json(const char *text)
{
	json_error_t jerr;
	char *converted = sq(text);
	json_t *value = json_loads(converted, JSON_DECODE_ANY, &jerr);

	if (!value)
		fail_msg("test JSON does not parse: %s at %d:%d: %s", jerr.text, jerr.line, jerr.column, converted);
	free(converted);
	return value;
}

/* ---- the CNI_* environment ---- */

static inline void cni_env_clear(void)
{
	static const char *const vars[] = { "CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS",
					    "CNI_IFNAME",  "CNI_ARGS",        "CNI_PATH" };
	for (size_t i = 0; i < N_ELEMENTS(vars); i++)
		unsetenv(vars[i]);
}

/* `env` holds "NAME=value" strings and ends with NULL; it replaces every CNI_* variable. */
static inline void cni_env_set(const char *const *env)
{
	cni_env_clear();
	for (; env && *env; env++) {
		const char *eq = strchr(*env, '=');
		char name[64];
		assert_non_null(eq);
		snprintf(name, sizeof(name), "%.*s", (int)(eq - *env), *env);
		assert_int_equal(setenv(name, eq + 1, 1), 0);
	}
}

/* The environment a runtime passes for ADD/DEL/CHECK, with the command given. */
#define CNI_ENV(command)                                                                            \
	(const char *const[])                                                                       \
	{                                                                                           \
		"CNI_COMMAND=" command, "CNI_CONTAINERID=ctr-1", "CNI_NETNS=/var/run/netns/test",   \
			"CNI_IFNAME=eth0", "CNI_PATH=/opt/cni/bin", NULL                            \
	}

/* ---- running a plugin's main ---- */

struct plugin_run {
	int status;   /* what cni_plugin_main returned */
	char *out;    /* everything written to stdout */
	json_t *json; /* stdout parsed, NULL when empty or not JSON */
};

static inline struct plugin_run run_plugin_n(const struct cni_plugin *plugin, const char *const *env,
					     const char *input, size_t input_len)
{
	struct plugin_run run = { 0 };
	size_t out_len = 0;
	char *copy = malloc(input_len + 1);
	FILE *in, *out;

	assert_non_null(copy);
	memcpy(copy, input, input_len);
	/* fmemopen may refuse a zero-sized buffer. */
	in = input_len ? fmemopen(copy, input_len, "r") : fopen("/dev/null", "r");
	out = open_memstream(&run.out, &out_len);
	assert_non_null(in);
	assert_non_null(out);
	cni_env_set(env);
	run.status = cni_plugin_main(plugin, in, out);
	fclose(in);
	fclose(out);
	free(copy);
	cni_env_clear();
	run.json = *run.out ? json_loads(run.out, 0, NULL) : NULL;
	return run;
}

static inline struct plugin_run run_plugin(const struct cni_plugin *plugin, const char *const *env, const char *input)
{
	return run_plugin_n(plugin, env, input, strlen(input));
}

static inline void plugin_run_free(struct plugin_run *run)
{
	free(run->out);
	json_decref(run->json);
	*run = (struct plugin_run){ 0 };
}

/* ---- temporary files ---- */

static inline char *temp_dir(void)
{
	char tmpl[] = "/tmp/cni-unit-XXXXXX";
	char *dir = mkdtemp(tmpl);

	assert_non_null(dir);
	dir = strdup(dir);
	assert_non_null(dir);
	return dir;
}

static inline int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void temp_dir_remove(char *dir)
{
	if (!dir)
		return;
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

/* Writes `len` bytes to dir/name (creating dir/ subdirectories first is the caller's job). */
static inline char *write_file_n(const char *dir, const char *name, const char *content, size_t len, mode_t mode)
{
	char *path = NULL;
	int fd;

	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
	/* open() applies the umask; the tests want the mode exactly. */
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static inline char *write_file(const char *dir, const char *name, const char *content, mode_t mode)
{
	return write_file_n(dir, name, content, strlen(content), mode);
}

/* The whole file, NUL-terminated; *len gets its size. */
static inline char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *data = NULL;
	size_t cap = 0, used = 0;

	assert_non_null(f);
	for (;;) {
		if (cap - used < 4096) {
			cap = cap ? cap * 2 : 8192;
			data = realloc(data, cap);
			assert_non_null(data);
		}
		size_t n = fread(data + used, 1, cap - used - 1, f);
		used += n;
		if (n == 0)
			break;
	}
	fclose(f);
	data[used] = '\0';
	if (len)
		*len = used;
	return data;
}
