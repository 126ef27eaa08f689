#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "util/json_file.h"
#include "util/macro.h"

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
	json_t *value = json_loadfd(fd, 0, &jerr);
	if (!json_is_object(value)) {
		json_decref(value);
		snprintf(why, why_len, "is unreadable (%s)", jerr.text[0] ? jerr.text : "not a JSON object");
		return NULL;
	}
	return value;
}
