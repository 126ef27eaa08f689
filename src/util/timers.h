/* A min-heap of timers: the earliest in O(1), a timer set, moved or removed in
 * O(log n). Timers are embedded in their owners (container_of); the heap holds
 * pointers and keeps each timer's position, so nothing is ever searched for. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define TIMER_IDLE SIZE_MAX

struct timer {
	uint64_t at;  /* when it is due; meaningful while armed */
	size_t index; /* its place in the heap; TIMER_IDLE when not armed */
};

struct timers {
	struct timer **heap;
	size_t len, cap;
};

static inline void timer_init(struct timer *t)
{
	*t = (struct timer){ .at = UINT64_MAX, .index = TIMER_IDLE };
}

/* Arms `t` for `at`, or moves it there; UINT64_MAX disarms it. -ENOMEM (the timer
 * then stays as it was). */
int timers_set(struct timers *h, struct timer *t, uint64_t at);
void timers_remove(struct timers *h, struct timer *t);
/* The earliest armed timer; NULL when none is. */
struct timer *timers_first(const struct timers *h);
void timers_free(struct timers *h);
