#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dhcpd/log.h"
#include "dhcpd/state.h"
#include "util/fs.h"
#include "util/macro.h"

#define RECORD_SUFFIX ".json"
#define NAME_MAX_USED 200

int state_init(const char *dir)
{
	return mkdir_p(dir, 0700);
}

int state_lock(const char *dir)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
		return -errno;
	return TAKE_FD(fd);
}

/* "<containerID>/<network>/<ifname>" as a file name: '/' and '%' percent-encoded;
 * names too long for the file system end in a hash of the whole key. */
static void record_name(const char *key, char name[NAME_MAX_USED + 32])
{
	size_t out = 0;
	uint64_t hash = 1469598103934665603ull; /* FNV-1a */

	for (const char *p = key; *p; p++) {
		hash = (hash ^ (uint8_t)*p) * 1099511628211ull;
		if (out >= NAME_MAX_USED)
			continue;
		if (*p == '/' || *p == '%' || *p == '\n')
			out += (size_t)sprintf(name + out, "%%%02X", (unsigned char)*p);
		else
			name[out++] = *p;
	}
	if (out >= NAME_MAX_USED)
		out += (size_t)sprintf(name + out, "~%016llx", (unsigned long long)hash);
	strcpy(name + out, RECORD_SUFFIX);
}

static int fsync_dir(const char *dir)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 || fsync(fd) < 0 ? -errno : 0;
}

int state_save(const char *dir, const char *key, json_t *record)
{
	char name[NAME_MAX_USED + 32], path[PATH_MAX], temp[PATH_MAX];
	_cleanup_free_ char *text = json_dumps(record, JSON_INDENT(2) | JSON_SORT_KEYS);

	if (!text)
		return -ENOMEM;
	record_name(key, name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(temp, sizeof(temp), "%s/.%s.tmp", dir, name);
	_cleanup_close_ int fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	size_t len = strlen(text);
	int r = 0;
	if (write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1 || fsync(fd) < 0)
		r = errno ? -errno : -EIO;
	if (r == 0 && rename(temp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(temp);
		return r;
	}
	return fsync_dir(dir);
}

int state_remove(const char *dir, const char *key)
{
	char name[NAME_MAX_USED + 32], path[PATH_MAX];

	record_name(key, name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return fsync_dir(dir);
}

static bool is_record(const char *name)
{
	size_t len = strlen(name), suffix = strlen(RECORD_SUFFIX);
	return name[0] != '.' && len > suffix && strcmp(name + len - suffix, RECORD_SUFFIX) == 0;
}

int state_load_all(const char *dir, void (*fn)(json_t *record, void *ctx), void *ctx)
{
	DIR *d = opendir(dir);
	struct dirent *entry;
	char path[PATH_MAX], aside[PATH_MAX];

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((entry = readdir(d))) {
		/* Temp files of a write that was cut short: the record before it still stands. */
		if (entry->d_name[0] == '.' && strstr(entry->d_name, ".tmp")) {
			unlinkat(dirfd(d), entry->d_name, 0);
			continue;
		}
		if (!is_record(entry->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, entry->d_name);
		json_error_t jerr;
		json_t *record = json_load_file(path, 0, &jerr);
		if (!json_is_object(record)) {
			log_warning("state %s is unreadable (%s): moved aside to .bad", path, jerr.text);
			snprintf(aside, sizeof(aside), "%s.bad", path);
			rename(path, aside);
			json_decref(record);
			continue;
		}
		fn(record, ctx);
		json_decref(record);
	}
	closedir(d);
	return 0;
}
