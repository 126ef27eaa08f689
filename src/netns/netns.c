#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netns/netns.h"
#include "util/macro.h"

int netns_open(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
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

int netns_open_cni(const char *path, struct cni_error *err)
{
	int fd = netns_open(path);

	if (fd >= 0)
		return fd;
	cni_error_set(err, CNI_ERR_NETNS, "cannot open network namespace %s: %s", path, strerror(-fd));
	cni_error_details(err, "CNI_NETNS must be the path of the container's network namespace, e.g. "
			       "/var/run/netns/NAME or /proc/PID/ns/net, and the container must still exist");
	return -1;
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
