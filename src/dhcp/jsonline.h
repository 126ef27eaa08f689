/* JSON lines, the framing of the plugin <-> daemon protocol: one compact JSON value
 * per line, on a stream socket, in both directions. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* `value` as compact JSON and a newline; *len excludes the terminating NUL. NULL
 * when it cannot be encoded (out of memory). */
char *jsonline_encode(const json_t *value, size_t *len);

/* A line arriving in pieces: read from the socket until the newline or the end. */
struct jsonline_reader {
	char *buf;
	size_t len;
	size_t cap;
	size_t max; /* longest line taken, in bytes */
};

void jsonline_reader_init(struct jsonline_reader *r, size_t max);
void jsonline_reader_free(struct jsonline_reader *r);
/* Reads what `fd` has. 1: the line is complete (a newline, or the peer closed after
 * sending something), 0: more is to come (EAGAIN), -EPIPE: the peer closed having
 * sent nothing, -E2BIG: longer than max, -ENOMEM, or -errno of read(2). */
int jsonline_read(struct jsonline_reader *r, int fd);
/* The complete line, parsed; NULL with `jerr` filled when it is not JSON. */
json_t *jsonline_parse(const struct jsonline_reader *r, json_error_t *jerr);
