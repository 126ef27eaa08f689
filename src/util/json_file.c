#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/json_file.h"
#include "util/macro.h"

/* Up to `cap` bytes, or -errno. */
static ssize_t read_up_to(int fd, char *buf, size_t cap)
{
	size_t used = 0;

	while (used < cap) {
		ssize_t n = read(fd, buf + used, cap - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		used += (size_t)n;
	}
	return (ssize_t)used;
}

json_t *json_file_read(int dir_fd, const char *name, size_t max_size, char *why, size_t why_len)
{
	_cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	json_error_t jerr = { 0 };
	struct stat st;

	if (fd < 0) {
		snprintf(why, why_len, "is unreadable (%s)", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, why_len, "is not a regular file");
		return NULL;
	}
	if ((size_t)st.st_size > max_size) {
		snprintf(why, why_len, "is larger than expected (%lld bytes)", (long long)st.st_size);
		return NULL;
	}
	/* Read whole, then parsed: json_loadfd reads a byte per system call, which made
	 * restoring ten thousand records take seconds. One byte more than its size tells
	 * a file that grew since fstat. */
	size_t size = (size_t)st.st_size;
	_cleanup_free_ char *text = malloc(size + 1);
	ssize_t len = text ? read_up_to(fd, text, size + 1) : -ENOMEM;
	if (len < 0) {
		snprintf(why, why_len, "is unreadable (%s)", strerror((int)-len));
		return NULL;
	}
	if ((size_t)len > size) {
		snprintf(why, why_len, "grew while it was read");
		return NULL;
	}
	json_t *value = json_loadb(text, (size_t)len, 0, &jerr);
	if (!json_is_object(value)) {
		json_decref(value);
		snprintf(why, why_len, "is unreadable (%s)", jerr.text[0] ? jerr.text : "not a JSON object");
		return NULL;
	}
	return value;
}
