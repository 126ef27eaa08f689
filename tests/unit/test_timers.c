/* The timer heap against a plain array searched in full: random arming, moving and
 * disarming, the earliest always the same. */
#include "helpers.h"

#include "util/timers.h"

#define N 300

static uint64_t earliest_by_search(const struct timer *all, size_t n)
{
	uint64_t best = UINT64_MAX;

	for (size_t i = 0; i < n; i++)
		if (all[i].index != TIMER_IDLE && all[i].at < best)
			best = all[i].at;
	return best;
}

static void the_first_is_always_the_earliest(void **state)
{
	struct timer all[N];
	struct timers h = { 0 };
	uint32_t seed = 12345;
	(void)state;

	for (size_t i = 0; i < N; i++)
		timer_init(&all[i]);
	for (unsigned step = 0; step < 20000; step++) {
		seed = seed * 1103515245u + 12345u;
		struct timer *t = &all[(seed >> 8) % N];
		unsigned op = (seed >> 4) % 4;
		uint64_t at = (seed >> 12) % 1000;
		if (op == 0)
			timers_remove(&h, t);
		else
			assert_int_equal(timers_set(&h, t, op == 1 ? UINT64_MAX : at), 0);
		struct timer *first = timers_first(&h);
		uint64_t want = earliest_by_search(all, N);
		if (want == UINT64_MAX)
			assert_null(first);
		else
			assert_int_equal(first->at, want);
		for (size_t i = 0; i < h.len; i++)
			assert_int_equal(h.heap[i]->index, i);
	}
	timers_free(&h);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(all[i].index, TIMER_IDLE);
}

static void removing_an_idle_timer_does_nothing(void **state)
{
	struct timer a, b;
	struct timers h = { 0 };
	(void)state;

	timer_init(&a);
	timer_init(&b);
	timers_remove(&h, &a);
	assert_int_equal(timers_set(&h, &b, 5), 0);
	timers_remove(&h, &a);
	assert_ptr_equal(timers_first(&h), &b);
	timers_remove(&h, &b);
	timers_remove(&h, &b);
	assert_null(timers_first(&h));
	timers_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_first_is_always_the_earliest),
		cmocka_unit_test(removing_an_idle_timer_does_nothing),
	};
	return cmocka_run_group_tests_name("timers", tests, NULL, NULL);
}
