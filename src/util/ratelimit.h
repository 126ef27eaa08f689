/* A rate limit in the manner of systemd's RateLimit: at most `burst` events pass in a
 * window of `interval_ms`, and those held back are counted, so that one line can say
 * how many there were. The caller gives the time (monotonic milliseconds), so a user
 * without a clock of its own, such as the DHCP engine, can have one.
 *
 *     static struct ratelimit rl = RATELIMIT_INIT(10000, 10);
 *     unsigned unlogged = ratelimit_flush(&rl, now);
 *     if (unlogged)
 *             log("%u more ... not logged in the last 10 s", unlogged);
 *     if (ratelimit_pass(&rl, now))
 *             log(...);
 *
 * A caller with a timer can also report at ratelimit_deadline() rather than at the
 * next event. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct ratelimit {
	uint64_t interval_ms;
	unsigned burst;
	/* The current window: the zeroed struct has one that began at time 0. */
	uint64_t begin_ms;
	unsigned passed;
	unsigned suppressed; /* held back and not yet flushed, in this window or the last */
};

#define RATELIMIT_INIT(interval, max) ((struct ratelimit){ .interval_ms = (interval), .burst = (max) })

/* Whether one more event may pass at `now_ms`; when not, it is counted as
 * suppressed. A window that is over gives way to a new one beginning now. */
bool ratelimit_pass(struct ratelimit *rl, uint64_t now_ms);
/* How many events were held back and not yet flushed. */
unsigned ratelimit_suppressed(const struct ratelimit *rl);
/* When the window that held events back ends, which is when ratelimit_flush reports
 * them; UINT64_MAX when none are held back. */
uint64_t ratelimit_deadline(const struct ratelimit *rl);
/* At or after ratelimit_deadline: how many events were held back, to be reported once
 * (the count starts again from 0); before it, or when none were, 0. Call it before
 * ratelimit_pass, whose new window would otherwise put the report off. */
unsigned ratelimit_flush(struct ratelimit *rl, uint64_t now_ms);
