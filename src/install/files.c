#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "install/files.h"
#include "util/macro.h"

int file_same(int source, const char *target)
{
	_cleanup_close_ int fb = open(target, O_RDONLY | O_CLOEXEC);
	char ba[65536], bb[65536];

	if (lseek(source, 0, SEEK_SET) < 0)
		return -errno;
	if (fb < 0)
		return 0;
	for (;;) {
		ssize_t na = read(source, ba, sizeof(ba)), nb = read(fb, bb, sizeof(bb));
		if (na < 0)
			return -errno;
		if (na != nb || memcmp(ba, bb, (size_t)na) != 0)
			return 0;
		if (na == 0)
			return 1;
	}
}

static int copy_to(int from, int to)
{
	char buf[65536];

	if (lseek(from, 0, SEEK_SET) < 0)
		return -errno;
	for (;;) {
		ssize_t n = read(from, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		if (n == 0)
			return fsync(to) < 0 ? -errno : 0;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(to, buf + off, (size_t)(n - off));
			if (w < 0)
				return -errno;
			off += w;
		}
	}
}

/* Writes `source` as `target` through a temporary file in the same directory. Its name
 * is random: in a container the installer is PID 1 on every run, and a temporary file
 * left by a killed run must not block the next one. */
static int replace_file(int source, const char *target, mode_t mode)
{
	char temp[PATH_MAX];
	const char *slash = strrchr(target, '/');
	int dir_len = slash ? (int)(slash - target) : 1;

	snprintf(temp, sizeof(temp), "%.*s/.%s.XXXXXX", dir_len, slash ? target : ".", slash ? slash + 1 : target);
	_cleanup_close_ int to = mkostemp(temp, O_CLOEXEC);
	if (to < 0)
		return -errno;
	int r = copy_to(source, to);
	if (r == 0 && fchmod(to, mode) < 0)
		r = -errno;
	if (r == 0 && rename(temp, target) < 0)
		r = -errno;
	if (r < 0)
		unlink(temp);
	return r;
}

int file_install(int source, const char *source_path, const char *target, mode_t mode, bool dry_run)
{
	struct stat st;
	int same = file_same(source, target);

	if (same < 0) {
		fprintf(stderr, "cni-install: cannot read %s: %s\n", source_path, strerror(-same));
		return -1;
	}
	/* The same bytes with other permissions (a plugin that lost its execute bit) are
	 * not the same file: the runtime could not run it. */
	if (same && (stat(target, &st) < 0 || (st.st_mode & 07777) != mode))
		same = 0;
	if (same) {
		printf("unchanged %s\n", target);
		return 0;
	}
	if (dry_run) {
		printf("would install %s from %s\n", target, source_path);
		return 0;
	}
	int r = replace_file(source, target, mode);
	if (r < 0) {
		fprintf(stderr, "cni-install: cannot install %s from %s: %s; check that its directory is writable\n",
			target, source_path, strerror(-r));
		return -1;
	}
	if (fstat(source, &st) < 0)
		st.st_size = 0;
	printf("installed %s (%lld bytes)\n", target, (long long)st.st_size);
	return 0;
}

int file_read_all(int fd, size_t max, char **out, size_t *len)
{
	_cleanup_free_ char *buf = malloc(max + 1);
	size_t have = 0;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = read(fd, buf + have, max + 1 - have);
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		have += (size_t)n;
		if (have > max)
			return -EFBIG;
	}
	buf[have] = '\0';
	*len = have;
	*out = TAKE_PTR(buf);
	return 0;
}

bool file_join(char *out, const char *dir, const char *name)
{
	if (snprintf(out, PATH_MAX, "%s/%s", dir, name) < PATH_MAX)
		return true;
	fprintf(stderr, "cni-install: the path %s/%s is longer than %d bytes\n", dir, name, PATH_MAX);
	return false;
}
