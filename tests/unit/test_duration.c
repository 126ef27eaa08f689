/* dhcp/duration: Go-style durations, bounded as they are read, so that no value wraps
 * in the engine's uint32 milliseconds. */
#include <errno.h>

#include "helpers.h"

#include "dhcp/duration.h"

#define DAY_MS 86400000

/* The milliseconds of `text` under a bound of a day; -EINVAL or -ERANGE. */
static int64_t ms_of(const char *text)
{
	int64_t ms = -7;
	int r = duration_parse_ms(text, DAY_MS, &ms);

	if (r < 0) {
		assert_int_equal(ms, -7); /* untouched */
		return r;
	}
	return ms;
}

static void go_durations_and_bare_seconds(void **state)
{
	(void)state;
	assert_int_equal(ms_of("10s"), 10000);
	assert_int_equal(ms_of("1m30s"), 90000);
	assert_int_equal(ms_of("500ms"), 500);
	assert_int_equal(ms_of("1h"), 3600000);
	assert_int_equal(ms_of("1.5h"), 5400000);
	assert_int_equal(ms_of(".5s"), 500);
	assert_int_equal(ms_of("5.s"), 5000);
	assert_int_equal(ms_of("2h45m30s250ms"), 9930250);
	assert_int_equal(ms_of("0.0015s"), 1); /* finer than a millisecond: cut */
	assert_int_equal(ms_of("0s"), 0);
	/* A bare number is seconds. */
	assert_int_equal(ms_of("30"), 30000);
	assert_int_equal(ms_of("0.25"), 250);
}

static void what_is_no_duration(void **state)
{
	static const char *const bad[] = {
		"", "s", ".", "soon", "-5s", "+5s", " 5s", "5s ", "5 s", "5x", "5sec", "1e3", "1e300s", "NaNs",
		"nan", "infs", "inf", "0x10s", "1..5s", "5s5", "ms",
	};
	(void)state;

	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		int64_t ms = 0;
		if (duration_parse_ms(bad[i], DAY_MS, &ms) != -EINVAL)
			fail_msg("\"%s\" was taken for %lld ms", bad[i], (long long)ms);
	}
	assert_int_equal(duration_parse_ms(NULL, DAY_MS, &(int64_t){ 0 }), -EINVAL);
}

/* The bound itself passes; a millisecond more does not, nor what would wrap a uint32
 * of milliseconds to 0, nor products and sums past int64. */
static void the_bound_and_past_it(void **state)
{
	(void)state;
	assert_int_equal(ms_of("24h"), DAY_MS);
	assert_int_equal(ms_of("86400"), DAY_MS);
	assert_int_equal(ms_of("23h59m59s1000ms"), DAY_MS);
	assert_int_equal(ms_of("24h1ms"), -ERANGE);
	assert_int_equal(ms_of("86400.001"), -ERANGE);
	assert_int_equal(ms_of("86400.001s"), -ERANGE);
	assert_int_equal(ms_of("4294967.296s"), -ERANGE);
	assert_int_equal(ms_of("4294967296ms"), -ERANGE);
	assert_int_equal(ms_of("99999999999999999999999999h"), -ERANGE);
	assert_int_equal(ms_of("2562047788015215h"), -ERANGE); /* * 3600000 wraps int64 */
	assert_int_equal(ms_of("12h12h1ms"), -ERANGE);           /* the sum, not a term */
	/* Too long, and then no duration at all: told so. */
	assert_int_equal(ms_of("48h junk"), -EINVAL);
	int64_t ms = 0;
	assert_int_equal(duration_parse_ms("1h", 3600000, &ms), 0);
	assert_int_equal(ms, 3600000);
	assert_int_equal(duration_parse_ms("3600.001s", 3600000, &ms), -ERANGE);
}

static void bounds_are_written_in_their_largest_unit(void **state)
{
	char buf[DURATION_TEXT_MAX];
	(void)state;

	assert_string_equal(duration_format(DURATION_MAX_ACQUIRE_MS, buf), "24h");
	assert_string_equal(duration_format(DURATION_MAX_RETRANSMIT_MS, buf), "1h");
	assert_string_equal(duration_format(90000, buf), "90s");
	assert_string_equal(duration_format(120000, buf), "2m");
	assert_string_equal(duration_format(300, buf), "300ms");
	assert_string_equal(duration_format(1500, buf), "1500ms");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(go_durations_and_bare_seconds),
		cmocka_unit_test(what_is_no_duration),
		cmocka_unit_test(the_bound_and_past_it),
		cmocka_unit_test(bounds_are_written_in_their_largest_unit),
	};
	return cmocka_run_group_tests_name("duration", tests, NULL, NULL);
}
