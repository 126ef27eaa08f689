/* util/ratelimit: a burst per window, the count of what it held back, reported once
 * when the window ends; the time is the caller's. */
#include "helpers.h"

#include "util/ratelimit.h"

#define T0 1000000ull

static void a_burst_passes_then_events_are_counted(void **state)
{
	struct ratelimit rl = RATELIMIT_INIT(10000, 3);
	(void)state;

	for (unsigned i = 0; i < 3; i++)
		assert_true(ratelimit_pass(&rl, T0 + i));
	for (unsigned i = 0; i < 5; i++)
		assert_false(ratelimit_pass(&rl, T0 + 9999));
	assert_int_equal(ratelimit_suppressed(&rl), 5);
	assert_int_equal(ratelimit_deadline(&rl), T0 + 10000);
}

static void the_count_is_flushed_once_when_the_window_ends(void **state)
{
	struct ratelimit rl = RATELIMIT_INIT(10000, 1);
	(void)state;

	assert_true(ratelimit_pass(&rl, T0));
	assert_false(ratelimit_pass(&rl, T0 + 1));
	assert_false(ratelimit_pass(&rl, T0 + 2));
	assert_int_equal(ratelimit_flush(&rl, T0 + 9999), 0); /* not over yet */
	assert_int_equal(ratelimit_suppressed(&rl), 2);
	assert_int_equal(ratelimit_flush(&rl, T0 + 10000), 2);
	assert_int_equal(ratelimit_flush(&rl, T0 + 10000), 0);
	assert_int_equal(ratelimit_suppressed(&rl), 0);
	assert_true(ratelimit_deadline(&rl) == UINT64_MAX);
	/* A new window passes a burst again. */
	assert_true(ratelimit_pass(&rl, T0 + 10000));
	assert_false(ratelimit_pass(&rl, T0 + 10001));
}

static void nothing_held_back_has_no_deadline_and_nothing_to_flush(void **state)
{
	struct ratelimit rl = RATELIMIT_INIT(10000, 10);
	(void)state;

	assert_true(ratelimit_deadline(&rl) == UINT64_MAX);
	for (unsigned i = 0; i < 10; i++)
		assert_true(ratelimit_pass(&rl, T0 + i * 100));
	assert_true(ratelimit_deadline(&rl) == UINT64_MAX);
	assert_int_equal(ratelimit_flush(&rl, T0 + 100000), 0);
}

/* A caller that passes without flushing first keeps the count: it is put off to the
 * new window's end, never lost. */
static void a_new_window_keeps_an_unflushed_count(void **state)
{
	struct ratelimit rl = RATELIMIT_INIT(1000, 1);
	(void)state;

	assert_true(ratelimit_pass(&rl, T0));
	assert_false(ratelimit_pass(&rl, T0 + 1));
	assert_true(ratelimit_pass(&rl, T0 + 5000));
	assert_int_equal(ratelimit_suppressed(&rl), 1);
	assert_int_equal(ratelimit_deadline(&rl), T0 + 6000);
	assert_int_equal(ratelimit_flush(&rl, T0 + 6000), 1);
}

/* The zeroed window began at time 0: a clock starting there works from the first
 * event. */
static void a_clock_from_zero_works(void **state)
{
	struct ratelimit rl = RATELIMIT_INIT(10, 2);
	(void)state;

	assert_true(ratelimit_pass(&rl, 0));
	assert_true(ratelimit_pass(&rl, 5));
	assert_false(ratelimit_pass(&rl, 9));
	assert_int_equal(ratelimit_deadline(&rl), 10);
	assert_int_equal(ratelimit_flush(&rl, 10), 1);
	assert_true(ratelimit_pass(&rl, 10));
}

/* 1,000 events in 6 s under 10 per 10 s: the caller logs at most the burst and one
 * line with the count. */
static void a_flood_makes_at_most_burst_plus_one_lines(void **state)
{
	struct ratelimit rl = RATELIMIT_INIT(10000, 10);
	unsigned lines = 0, counted = 0;
	(void)state;

	for (unsigned i = 0; i < 1000; i++) {
		unsigned unlogged = ratelimit_flush(&rl, T0 + i * 6);
		lines += unlogged > 0;
		counted += unlogged;
		lines += ratelimit_pass(&rl, T0 + i * 6);
	}
	unsigned unlogged = ratelimit_flush(&rl, ratelimit_deadline(&rl));
	lines += unlogged > 0;
	counted += unlogged;
	assert_int_equal(lines, 11);
	assert_int_equal(counted, 990);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_burst_passes_then_events_are_counted),
		cmocka_unit_test(the_count_is_flushed_once_when_the_window_ends),
		cmocka_unit_test(nothing_held_back_has_no_deadline_and_nothing_to_flush),
		cmocka_unit_test(a_new_window_keeps_an_unflushed_count),
		cmocka_unit_test(a_clock_from_zero_works),
		cmocka_unit_test(a_flood_makes_at_most_burst_plus_one_lines),
	};
	return cmocka_run_group_tests_name("ratelimit", tests, NULL, NULL);
}
