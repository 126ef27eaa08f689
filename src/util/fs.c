#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fs.h"

int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s/", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

/* Appends "/name" to `done`; false when it does not fit. */
static bool append_component(char done[PATH_MAX], const char *name, size_t len)
{
	size_t have = strlen(done);

	if (have + 1 + len >= PATH_MAX)
		return false;
	done[have] = '/';
	memcpy(done + have + 1, name, len);
	done[have + 1 + len] = '\0';
	return true;
}

int fs_resolve_under(const char *root, const char *path, char *out, size_t size)
{
	char rest[PATH_MAX], done[PATH_MAX] = "";
	const char *p = rest;
	unsigned links = 0;

	if (snprintf(rest, sizeof(rest), "%s", path) >= (int)sizeof(rest))
		return -ENAMETOOLONG;
	while (*(p += strspn(p, "/"))) {
		size_t len = strcspn(p, "/");
		char full[PATH_MAX], target[PATH_MAX], next[PATH_MAX];
		const char *name = p;

		p += len;
		if (len == 1 && name[0] == '.')
			continue;
		if (len == 2 && name[0] == '.' && name[1] == '.') {
			char *last = strrchr(done, '/'); /* never above the root */
			if (last)
				*last = '\0';
			continue;
		}
		if (snprintf(full, sizeof(full), "%s%s/%.*s", root, done, (int)len, name) >= (int)sizeof(full))
			return -ENAMETOOLONG;
		ssize_t n = readlink(full, target, sizeof(target) - 1);
		if (n < 0) { /* not a link, or not there: the caller finds out which */
			if (!append_component(done, name, len))
				return -ENAMETOOLONG;
			continue;
		}
		if (++links > 40)
			return -ELOOP;
		target[n] = '\0';
		if (snprintf(next, sizeof(next), "%s/%s", target, p) >= (int)sizeof(next))
			return -ENAMETOOLONG;
		if (target[0] == '/')
			done[0] = '\0';
		memcpy(rest, next, strlen(next) + 1);
		p = rest;
	}
	if (snprintf(out, size, "%s%s", root, done[0] ? done : "/") >= (int)size)
		return -ENAMETOOLONG;
	return 0;
}
