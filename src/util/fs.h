/* File system helpers. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* mkdir -p: creates `path` and its missing parents with `mode`; 0 or -errno. */
int mkdir_p(const char *path, mode_t mode);

/* `path` resolved as if `root` were "/": symlinks met on the way are followed, and an
 * absolute one leads back under `root`, not to this process's root (/proc/1/root/
 * var/run/netns/x, with the host's /var/run a link to /run, is the host's /run/netns/x,
 * not ours). `out` is `root` followed by the resolved path; components that do not
 * exist are kept as they are. 0, -ENAMETOOLONG or -ELOOP. */
int fs_resolve_under(const char *root, const char *path, char *out, size_t size);
