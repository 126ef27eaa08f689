#include <errno.h>
#include <string.h>

#include "cni/netns.h"
#include "netns/netns.h"

int netns_open_cni(const char *path, struct cni_error *err)
{
	int fd = netns_open(path);

	if (fd >= 0)
		return fd;
	if (fd == -EINVAL)
		cni_error_set(err, CNI_ERR_NETNS, "cannot open network namespace %s: it is not a network namespace",
			      path);
	else
		cni_error_set(err, CNI_ERR_NETNS, "cannot open network namespace %s: %s", path, strerror(-fd));
	cni_error_details(err, "CNI_NETNS must be the path of the container's network namespace, e.g. "
			       "/var/run/netns/NAME or /proc/PID/ns/net, and the container must still exist");
	return -1;
}
