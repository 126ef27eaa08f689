#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "netns/netns.h"
#include "util/macro.h"

/* A network namespace, not the plain file left where one was mounted (the mount gone,
 * the file not yet removed) nor a namespace of another kind. */
static bool is_netns(int fd)
{
	struct statfs fs;

	return fstatfs(fd, &fs) == 0 && fs.f_type == NSFS_MAGIC && ioctl(fd, NS_GET_NSTYPE) == CLONE_NEWNET;
}

int netns_open(const char *path)
{
	/* O_NONBLOCK: a FIFO planted at the path must not hang the caller in open();
	 * nothing but a namespace passes is_netns anyway. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (!is_netns(fd)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

int netns_open_current(void)
{
	return netns_open("/proc/thread-self/ns/net");
}

int netns_enter(int target)
{
	int saved = netns_open_current();

	if (saved < 0)
		return saved;
	if (setns(target, CLONE_NEWNET) < 0) {
		int r = -errno;
		close(saved);
		return r;
	}
	return saved;
}

void netns_leave(int saved)
{
	if (setns(saved, CLONE_NEWNET) < 0) {
		fprintf(stderr, "fatal: cannot return to the original network namespace: %s\n", strerror(errno));
		abort();
	}
	close(saved);
}

int netns_sysctl_write(int netns, const char *key, const char *value)
{
	char path[256];
	int saved = netns_enter(netns), r = 0;

	if (saved < 0)
		return saved;
	snprintf(path, sizeof(path), "/proc/sys/%s", key);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, value, strlen(value)) < 0)
		r = -errno;
	netns_leave(saved);
	return r;
}
