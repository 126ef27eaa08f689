/* File system helpers. */
#pragma once

#include <sys/types.h>

/* mkdir -p: creates `path` and its missing parents with `mode`; 0 or -errno. */
int mkdir_p(const char *path, mode_t mode);
