/* Go-style flags as the reference's daemon takes them: one or two dashes, a value
 * after '=' or as the next argument, booleans alone or =true, durations. */
#include "helpers.h"

#include "dhcp/flags.h"

#define MAX_ARGS 16

/* An argv as main() gets it, writable, from words separated by spaces. */
struct args {
	int argc;
	char *argv[MAX_ARGS + 1];
	char text[256];
};

static void make_args(struct args *a, const char *line)
{
	snprintf(a->text, sizeof(a->text), "%s", line);
	a->argc = 0;
	for (char *word = strtok(a->text, " "); word && a->argc < MAX_ARGS; word = strtok(NULL, " "))
		a->argv[a->argc++] = word;
	a->argv[a->argc] = NULL;
}

static void one_or_two_dashes_and_both_value_forms(void **state)
{
	(void)state;
	struct args a;
	struct flag_reader r;

	make_args(&a, "daemon -socketpath /a --pidfile=/b --state-dir /c");
	flag_reader_init(&r, a.argc, a.argv, "dhcp daemon");
	assert_true(flag_next(&r));
	assert_true(flag_is(&r, "socketpath"));
	assert_string_equal(flag_value(&r), "/a");
	assert_true(flag_next(&r));
	assert_true(flag_is(&r, "pidfile"));
	assert_string_equal(flag_value(&r), "/b");
	assert_true(flag_next(&r));
	assert_true(flag_is(&r, "state-dir"));
	assert_string_equal(flag_value(&r), "/c");
	assert_false(flag_next(&r));
}

static void booleans(void **state)
{
	(void)state;
	struct args a;
	struct flag_reader r;
	bool want[] = { true, false, true, true };

	make_args(&a, "daemon -broadcast -broadcast=false --broadcast=true -broadcast=1");
	flag_reader_init(&r, a.argc, a.argv, "dhcp daemon");
	for (size_t i = 0; i < 4; i++) {
		assert_true(flag_next(&r));
		assert_true(flag_is(&r, "broadcast"));
		assert_int_equal(flag_bool(&r), want[i]);
	}
}

static void missing_value_is_null(void **state)
{
	(void)state;
	struct args a;
	struct flag_reader r;

	make_args(&a, "daemon -socketpath");
	flag_reader_init(&r, a.argc, a.argv, "dhcp daemon");
	assert_true(flag_next(&r));
	assert_null(flag_value(&r));
}

static void an_argument_that_is_no_flag_comes_back_whole(void **state)
{
	(void)state;
	struct args a;
	struct flag_reader r;

	make_args(&a, "daemon stray=value");
	flag_reader_init(&r, a.argc, a.argv, "dhcp daemon");
	assert_true(flag_next(&r));
	assert_string_equal(r.name, "stray=value");
	assert_null(r.value);
}

static void durations(void **state)
{
	(void)state;
	struct args a;
	struct flag_reader r;
	int64_t ms = 0;

	make_args(&a, "daemon -timeout 1m30s -resendmax=500ms -timeout soon -timeout=0s");
	flag_reader_init(&r, a.argc, a.argv, "dhcp daemon");
	assert_true(flag_next(&r));
	assert_int_equal(flag_duration(&r, &ms), 0);
	assert_int_equal(ms, 90000);
	assert_true(flag_next(&r));
	assert_int_equal(flag_duration(&r, &ms), 0);
	assert_int_equal(ms, 500);
	assert_true(flag_next(&r));
	assert_int_equal(flag_duration(&r, &ms), -1);
	assert_true(flag_next(&r));
	assert_int_equal(flag_duration(&r, &ms), -1);
}

/* flag_duration on the next flag, its stderr kept in `said`. */
static int duration_saying(struct flag_reader *r, int64_t *ms, char *said, size_t cap)
{
	FILE *f = tmpfile();
	int saved = dup(STDERR_FILENO);

	assert_non_null(f);
	fflush(stderr);
	dup2(fileno(f), STDERR_FILENO);
	assert_true(flag_next(r));
	int ret = flag_duration(r, ms);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(f);
	size_t n = fread(said, 1, cap - 1, f);
	said[n] = '\0';
	fclose(f);
	return ret;
}

/* -timeout and -resendmax wait at most an hour, -resendtimeout acquires for at most a
 * day: the bound passes, a millisecond more does not, nor what wraps the engine's
 * uint32 milliseconds. */
static void durations_are_bounded_per_flag(void **state)
{
	static const struct {
		const char *arg;
		int64_t ms;        /* -1: refused */
		const char *said; /* with a refusal */
	} cases[] = {
		{ "-timeout=1h", 3600000, NULL },
		{ "-resendmax=3600s", 3600000, NULL },
		{ "-resendtimeout=24h", 86400000, NULL },
		{ "-timeout=1h1ms", -1, "dhcp daemon: -timeout \"1h1ms\" is longer than 1h, the longest allowed" },
		{ "--resendmax=3601", -1, "-resendmax \"3601\" is longer than 1h" },
		{ "-resendtimeout=24h1ms", -1, "-resendtimeout \"24h1ms\" is longer than 24h" },
		{ "-resendtimeout=4294967.296s", -1, "-resendtimeout \"4294967.296s\" is longer than 24h" },
		{ "-resendmax=4294967.296s", -1, "-resendmax \"4294967.296s\" is longer than 1h" },
		{ "-timeout=1e300s", -1, "-timeout \"1e300s\" is not a positive duration" },
		{ "-timeout=NaNs", -1, "-timeout \"NaNs\" is not a positive duration" },
	};
	(void)state;

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct args a;
		struct flag_reader r;
		int64_t ms = 0;
		char said[256];
		char line[64];

		snprintf(line, sizeof(line), "daemon %s", cases[i].arg);
		make_args(&a, line);
		flag_reader_init(&r, a.argc, a.argv, "dhcp daemon");
		int ret = duration_saying(&r, &ms, said, sizeof(said));
		if (cases[i].ms < 0) {
			if (ret != -1)
				fail_msg("%s was taken for %lld ms", cases[i].arg, (long long)ms);
			assert_contains(said, cases[i].said);
		} else {
			assert_int_equal(ret, 0);
			assert_int_equal(ms, cases[i].ms);
			assert_string_equal(said, "");
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_or_two_dashes_and_both_value_forms),
		cmocka_unit_test(booleans),
		cmocka_unit_test(missing_value_is_null),
		cmocka_unit_test(an_argument_that_is_no_flag_comes_back_whole),
		cmocka_unit_test(durations),
		cmocka_unit_test(durations_are_bounded_per_flag),
	};
	return cmocka_run_group_tests_name("flags", tests, NULL, NULL);
}
