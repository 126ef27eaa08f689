#include <errno.h>
#include <stdlib.h>

#include "util/timers.h"

static void place(struct timers *h, size_t i, struct timer *t)
{
	h->heap[i] = t;
	t->index = i;
}

static void sift_up(struct timers *h, size_t i)
{
	struct timer *t = h->heap[i];

	while (i > 0 && h->heap[(i - 1) / 2]->at > t->at) {
		place(h, i, h->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	place(h, i, t);
}

static void sift_down(struct timers *h, size_t i)
{
	struct timer *t = h->heap[i];

	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= h->len)
			break;
		if (child + 1 < h->len && h->heap[child + 1]->at < h->heap[child]->at)
			child++;
		if (h->heap[child]->at >= t->at)
			break;
		place(h, i, h->heap[child]);
		i = child;
	}
	place(h, i, t);
}

void timers_remove(struct timers *h, struct timer *t)
{
	size_t i = t->index;

	if (i == TIMER_IDLE)
		return;
	t->index = TIMER_IDLE;
	t->at = UINT64_MAX;
	if (i == --h->len)
		return;
	/* The last one fills the gap, then finds its place either way. */
	struct timer *moved = h->heap[h->len];
	place(h, i, moved);
	sift_up(h, i);
	sift_down(h, moved->index);
}

int timers_set(struct timers *h, struct timer *t, uint64_t at)
{
	if (at == UINT64_MAX) {
		timers_remove(h, t);
		return 0;
	}
	if (t->index == TIMER_IDLE) {
		if (h->len == h->cap) {
			size_t cap = h->cap ? 2 * h->cap : 64;
			struct timer **heap = realloc(h->heap, cap * sizeof(*heap));
			if (!heap)
				return -ENOMEM;
			h->heap = heap;
			h->cap = cap;
		}
		t->at = at;
		place(h, h->len++, t);
		sift_up(h, t->index);
		return 0;
	}
	uint64_t was = t->at;
	t->at = at;
	if (at < was)
		sift_up(h, t->index);
	else
		sift_down(h, t->index);
	return 0;
}

struct timer *timers_first(const struct timers *h)
{
	return h->len ? h->heap[0] : NULL;
}

void timers_free(struct timers *h)
{
	for (size_t i = 0; i < h->len; i++)
		h->heap[i]->index = TIMER_IDLE;
	free(h->heap);
	*h = (struct timers){ 0 };
}
