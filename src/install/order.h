/* Which network runtimes take as the node's default: containerd and CRI-O (libcni's
 * ConfFiles) use the first network configuration file of the conf dir in byte order.
 * Multus's own file is passed over, since Multus hands the default network to the
 * first file after it. */
#pragma once

#include "install/options.h"

/* Checks what installing `name` in `dir` does to the node's default network: a
 * secondary configuration that would become it is refused (-1), a primary one that
 * would not is warned about (0). Both say on stderr which file decides it and the way
 * out. A missing `dir` is an empty one. */
int conf_order_check(const char *dir, const char *name, enum install_role role);
