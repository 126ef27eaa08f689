#include <errno.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "dhcpd/loop.h"
#include "util/macro.h"

#define EVENTS_PER_WAKE 64

int loop_init(struct loop *loop)
{
	loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	return loop->epoll_fd < 0 ? -errno : 0;
}

void loop_close(struct loop *loop)
{
	closep(&loop->epoll_fd);
}

int loop_add(struct loop *loop, struct loop_source *source, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = source };

	return epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, source->fd, &ev) < 0 ? -errno : 0;
}

int loop_modify(struct loop *loop, struct loop_source *source, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = source };

	return epoll_ctl(loop->epoll_fd, EPOLL_CTL_MOD, source->fd, &ev) < 0 ? -errno : 0;
}

void loop_remove(struct loop *loop, struct loop_source *source)
{
	if (source->fd >= 0)
		epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, source->fd, NULL);
}

uint64_t loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int loop_run_once(struct loop *loop, uint64_t deadline)
{
	struct epoll_event events[EVENTS_PER_WAKE];
	uint64_t now = loop_now_ms();
	int timeout = deadline == UINT64_MAX ? -1 : deadline <= now ? 0 : deadline - now > 3600000 ? 3600000
												 : (int)(deadline - now);
	int n = epoll_wait(loop->epoll_fd, events, EVENTS_PER_WAKE, timeout);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		struct loop_source *source = events[i].data.ptr;
		source->handler(source, events[i].events);
	}
	return 0;
}
