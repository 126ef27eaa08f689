#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "dhcpd/closer.h"

/* Closes wait for an RCU grace period each, but waiters share one: a few threads
 * close a few sockets in the time of one, so that a burst of DELs (each framing its
 * DHCPRELEASE on a packet socket of its own) does not pile descriptors up. */
#define CLOSER_THREADS 8
/* They only read a pipe and close: a small stack is plenty. */
#define CLOSER_STACK (64 * 1024)

static int queue[2] = { -1, -1 };
static pthread_t threads[CLOSER_THREADS];
static size_t n_threads;

static void *run(void *arg)
{
	int fd;
	(void)arg;

	/* Ends when the write end is closed; a pipe read of an int is atomic, so each fd
	 * goes to one thread. */
	while (read(queue[0], &fd, sizeof(fd)) == sizeof(fd))
		close(fd);
	return NULL;
}

int closer_start(void)
{
	pthread_attr_t attr;
	bool sized;
	int r = 0;

	if (pipe2(queue, O_CLOEXEC) < 0)
		return -errno;
	sized = pthread_attr_init(&attr) == 0;
	/* Without the attribute the threads get the default stack: no harm. */
	if (sized && pthread_attr_setstacksize(&attr, CLOSER_STACK) != 0)
		pthread_attr_setstacksize(&attr, PTHREAD_STACK_MIN);
	for (n_threads = 0; n_threads < CLOSER_THREADS; n_threads++)
		if ((r = pthread_create(&threads[n_threads], sized ? &attr : NULL, run, NULL)) != 0)
			break;
	if (sized)
		pthread_attr_destroy(&attr);
	if (n_threads > 0)
		return 0;
	close(queue[0]);
	close(queue[1]);
	queue[0] = queue[1] = -1;
	return -r;
}

void closer_close(int fd)
{
	/* A pipe write of an int is atomic; if the pipe is full, close here. */
	if (queue[1] < 0 || write(queue[1], &fd, sizeof(fd)) != sizeof(fd))
		close(fd);
}

void closer_stop(void)
{
	if (queue[1] < 0)
		return;
	close(queue[1]);
	for (size_t i = 0; i < n_threads; i++)
		pthread_join(threads[i], NULL);
	n_threads = 0;
	close(queue[0]);
	queue[0] = queue[1] = -1;
}

int closer_watch(struct loop *loop, struct loop_source *source, int fd, loop_handler handler, void *data)
{
	*source = (struct loop_source){ .fd = fd, .handler = handler, .data = data };
	if (loop_add(loop, source, EPOLLIN) == 0)
		return 0;
	closer_close(fd);
	source->fd = -1;
	return -EIO;
}

void closer_unwatch(struct loop *loop, struct loop_source *source)
{
	if (source->fd < 0)
		return;
	loop_remove(loop, source);
	closer_close(source->fd);
	source->fd = -1;
}
