/* Files put in place the way a runtime can bear: compared first, written to a temporary
 * name in the target directory and renamed over the old one, so a runtime executing the
 * old plugin keeps its inode, a new exec sees the whole new file, never a half-written
 * one, and "text file busy" cannot happen. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* 1: `target` has the bytes of `source` (read from its start), 0: it differs or is
 * missing, -errno: `source` could not be read. */
int file_same(int source, const char *target);

/* Installs `source` (the file `source_path`, for messages) as `target` with `mode`,
 * unless it is already there with that mode; says what it did (or, with `dry_run`,
 * would do) on stdout. 0 or -1, said on stderr. */
int file_install(int source, const char *source_path, const char *target, mode_t mode, bool dry_run);

/* The whole of `fd`, NUL-terminated, in `*out` (to free); -EFBIG past `max` bytes. */
int file_read_all(int fd, size_t max, char **out, size_t *len);

/* "dir/name" in `out` (PATH_MAX); false, said on stderr, when it does not fit. */
bool file_join(char *out, const char *dir, const char *name);
