/* A JSON object from a file that others may have planted: opened without following
 * a link or blocking (a FIFO), a regular file of a bounded size. */
#pragma once

#include <jansson.h>
#include <stddef.h>

/* `name` in the directory `dir_fd`; NULL with `why` ("is not a regular file", ...)
 * when it cannot be trusted or read. */
json_t *json_file_read(int dir_fd, const char *name, size_t max_size, char *why, size_t why_len);
