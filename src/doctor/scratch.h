/* A throwaway network namespace that nothing names: it lives as long as its
 * descriptor and the sockets made in it. However the doctor ends (done, failed, a
 * signal, SIGKILL), the kernel then deletes it with every link in it (a macvlan on
 * the master goes with it), so there is nothing to clean up and nothing can leak. */
#pragma once

#include <stddef.h>

/* The namespace's descriptor, or -errno (-EPERM: not root). */
int scratch_netns_open(void);
/* A path that opens the namespace, for the functions that take one (podnet's). */
const char *scratch_netns_path(int fd, char *buf, size_t len);
