#include <limits.h>

#include "util/ratelimit.h"

/* A clock that went back makes a huge difference: a new window, not a stuck one. */
static bool window_over(const struct ratelimit *rl, uint64_t now_ms)
{
	return now_ms - rl->begin_ms >= rl->interval_ms;
}

bool ratelimit_pass(struct ratelimit *rl, uint64_t now_ms)
{
	if (window_over(rl, now_ms)) {
		rl->begin_ms = now_ms;
		rl->passed = 0;
	}
	if (rl->passed < rl->burst) {
		rl->passed++;
		return true;
	}
	if (rl->suppressed < UINT_MAX)
		rl->suppressed++;
	return false;
}

unsigned ratelimit_suppressed(const struct ratelimit *rl)
{
	return rl->suppressed;
}

uint64_t ratelimit_deadline(const struct ratelimit *rl)
{
	if (!rl->suppressed)
		return UINT64_MAX;
	return rl->begin_ms > UINT64_MAX - rl->interval_ms ? UINT64_MAX : rl->begin_ms + rl->interval_ms;
}

unsigned ratelimit_flush(struct ratelimit *rl, uint64_t now_ms)
{
	unsigned suppressed = rl->suppressed;

	if (!suppressed || !window_over(rl, now_ms))
		return 0;
	rl->suppressed = 0;
	return suppressed;
}
