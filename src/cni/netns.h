/* CNI_NETNS: the container's network namespace, opened for a plugin. A CNI adapter
 * above netns/: the errors it sets are CNI errors that say what to check. */
#pragma once

#include "cni/error.h"

/* Opens CNI_NETNS with a CNI error that says what to check; the fd, or -1 with `err`
 * set (CNI_ERR_NETNS). */
int netns_open_cni(const char *path, struct cni_error *err);
