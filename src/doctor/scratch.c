#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

#include "doctor/scratch.h"
#include "netns/netns.h"

int scratch_netns_open(void)
{
	int saved = netns_open_current(), fd;

	if (saved < 0)
		return saved;
	/* This thread alone moves to the new namespace, takes hold of it and comes back. */
	if (unshare(CLONE_NEWNET) < 0) {
		int r = -errno;
		close(saved);
		return r;
	}
	fd = netns_open_current();
	netns_leave(saved);
	return fd;
}

const char *scratch_netns_path(int fd, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/self/fd/%d", fd);
	return buf;
}
