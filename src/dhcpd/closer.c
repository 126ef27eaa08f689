#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include "dhcpd/closer.h"

static int queue[2] = { -1, -1 };
static pthread_t thread;

static void *run(void *arg)
{
	int fd;
	(void)arg;

	/* Ends when the write end is closed. */
	while (read(queue[0], &fd, sizeof(fd)) == sizeof(fd))
		close(fd);
	return NULL;
}

int closer_start(void)
{
	if (pipe2(queue, O_CLOEXEC) < 0)
		return -errno;
	int r = pthread_create(&thread, NULL, run, NULL);
	if (r != 0) {
		close(queue[0]);
		close(queue[1]);
		queue[0] = queue[1] = -1;
		return -r;
	}
	return 0;
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
	pthread_join(thread, NULL);
	close(queue[0]);
	queue[0] = queue[1] = -1;
}
