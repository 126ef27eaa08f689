/* A single-threaded event loop: file descriptors through epoll, time as the one
 * earliest deadline the caller computes. */
#pragma once

#include <stdint.h>

struct loop_source;
typedef void (*loop_handler)(struct loop_source *source, uint32_t events);

struct loop_source {
	int fd;
	loop_handler handler;
	void *data;
};

struct loop {
	int epoll_fd;
};

int loop_init(struct loop *loop);
void loop_close(struct loop *loop);
/* EPOLLIN etc.; the source must stay valid until loop_remove. */
int loop_add(struct loop *loop, struct loop_source *source, uint32_t events);
/* Changes the events a source is watched for (0: only hangups and errors). */
int loop_modify(struct loop *loop, struct loop_source *source, uint32_t events);
void loop_remove(struct loop *loop, struct loop_source *source);
/* Waits for events until `deadline` (loop_now_ms clock; UINT64_MAX: no limit) and
 * runs their handlers. -errno on failure. */
int loop_run_once(struct loop *loop, uint64_t deadline);

/* Monotonic milliseconds that keep counting while the machine sleeps: leases do. */
uint64_t loop_now_ms(void);
