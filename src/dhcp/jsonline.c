#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dhcp/jsonline.h"

#define READ_CHUNK 4096

char *jsonline_encode(const json_t *value, size_t *len)
{
	char *text = value ? json_dumps(value, JSON_COMPACT) : NULL;
	size_t n = text ? strlen(text) : 0;
	char *line = text ? realloc(text, n + 2) : NULL;

	if (!line) {
		free(text);
		return NULL;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	*len = n + 1;
	return line;
}

void jsonline_reader_init(struct jsonline_reader *r, size_t max)
{
	*r = (struct jsonline_reader){ .max = max };
}

void jsonline_reader_free(struct jsonline_reader *r)
{
	free(r->buf);
	*r = (struct jsonline_reader){ 0 };
}

static int grow(struct jsonline_reader *r)
{
	size_t cap = r->cap ? r->cap * 2 : READ_CHUNK;

	if (r->cap >= r->max + 1)
		return -E2BIG;
	if (cap > r->max + 1)
		cap = r->max + 1;
	char *grown = realloc(r->buf, cap);
	if (!grown)
		return -ENOMEM;
	r->buf = grown;
	r->cap = cap;
	return 0;
}

int jsonline_read(struct jsonline_reader *r, int fd)
{
	for (;;) {
		int e = r->cap - r->len < 2 ? grow(r) : 0;
		if (e < 0)
			return e;
		ssize_t n = read(fd, r->buf + r->len, r->cap - r->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		if (n == 0)
			return r->len ? 1 : -EPIPE;
		r->len += (size_t)n;
		r->buf[r->len] = '\0';
		if (memchr(r->buf + r->len - n, '\n', (size_t)n))
			return 1;
	}
}

json_t *jsonline_parse(const struct jsonline_reader *r, json_error_t *jerr)
{
	return json_loadb(r->buf ? r->buf : "", r->len, 0, jerr);
}
