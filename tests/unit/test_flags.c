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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_or_two_dashes_and_both_value_forms),
		cmocka_unit_test(booleans),
		cmocka_unit_test(missing_value_is_null),
		cmocka_unit_test(an_argument_that_is_no_flag_comes_back_whole),
		cmocka_unit_test(durations),
	};
	return cmocka_run_group_tests_name("flags", tests, NULL, NULL);
}
