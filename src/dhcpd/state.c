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
#include "util/json_file.h"
#include "util/macro.h"

#define RECORD_SUFFIX ".json"
#define NAME_MAX_USED 200
/* A record is a few KiB; anything far larger was not written by us. */
#define RECORD_SIZE_MAX (256 * 1024)
#define WHY_MAX 160

static int check_owner(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	/* Whoever may write records there may make the daemon bring up interfaces and
	 * hold addresses in any namespace it names. */
	if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return -EPERM;
	return 0;
}

int state_init(const char *dir)
{
	int r = mkdir_p(dir, 0700);
	return r < 0 ? r : check_owner(dir);
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
	/* A fresh file of ours: whatever was planted under the temp name (a symlink to
	 * elsewhere, a FIFO) is removed, not written through. */
	if (unlink(temp) < 0 && errno != ENOENT)
		return -errno;
	_cleanup_close_ int fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
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

/* A record that cannot be trusted is kept for a person to look at, never acted on. */
static void set_aside(int dir_fd, const char *dir, const char *name, const char *why)
{
	char aside[NAME_MAX_USED + 64];

	snprintf(aside, sizeof(aside), "%s.bad", name);
	log_warning("state %s/%s %s: moved aside to .bad", dir, name, why);
	if (renameat(dir_fd, name, dir_fd, aside) < 0)
		log_error("state %s/%s: cannot move it aside: %s", dir, name, strerror(errno));
}

/* The file's name is its key's: a record moved or copied under another name would be
 * acted on, and then never be removed. */
static bool named_by_its_key(json_t *record, const char *name)
{
	const char *key = json_string_value(json_object_get(record, "key"));
	char want[NAME_MAX_USED + 32];

	if (!key)
		return false;
	record_name(key, want);
	return strcmp(want, name) == 0;
}

int state_load_all(const char *dir, void (*fn)(json_t *record, void *ctx), void *ctx)
{
	DIR *d = opendir(dir);
	struct dirent *entry;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((entry = readdir(d))) {
		char why[WHY_MAX];
		/* Temp files of a write that was cut short: the record before it still stands. */
		if (entry->d_name[0] == '.' && strstr(entry->d_name, ".tmp")) {
			unlinkat(dirfd(d), entry->d_name, 0);
			continue;
		}
		if (!is_record(entry->d_name))
			continue;
		json_t *record = json_file_read(dirfd(d), entry->d_name, RECORD_SIZE_MAX, why, sizeof(why));
		if (record && !named_by_its_key(record, entry->d_name)) {
			snprintf(why, WHY_MAX, "is named for another key than its own");
			json_decref(TAKE_PTR(record));
		}
		if (!record) {
			set_aside(dirfd(d), dir, entry->d_name, why);
			continue;
		}
		fn(record, ctx);
		json_decref(record);
	}
	closedir(d);
	return 0;
}

struct take_over {
	const char *to, *from;
	unsigned moved, failed;
};

static void move_record(json_t *record, void *ctx)
{
	struct take_over *t = ctx;
	const char *key = json_string_value(json_object_get(record, "key"));
	int r = state_save(t->to, key, record);

	if (r == 0)
		r = state_remove(t->from, key);
	if (r < 0) {
		log_error("state %s: cannot move the record of %s to %s: %s", t->from, key, t->to, strerror(-r));
		t->failed++;
	} else {
		t->moved++;
	}
}

int state_take_over(const char *dir, const char *from)
{
	struct take_over t = { .to = dir, .from = from };
	int r = check_owner(from);

	if (r == -ENOENT)
		return 0;
	if (r == -EPERM) {
		log_error("records in %s are not taken over: the directory is not root's alone", from);
		return r;
	}
	_cleanup_close_ int lock = r < 0 ? r : state_lock(from);
	if (lock == -EWOULDBLOCK) {
		log_info("%s belongs to another running dhcp daemon: its records stay there", from);
		return 0;
	}
	if (lock < 0 || (r = state_load_all(from, move_record, &t)) < 0) {
		log_error("cannot take over the records in %s: %s", from, strerror(lock < 0 ? -lock : -r));
		return lock < 0 ? lock : r;
	}
	if (t.moved)
		log_info("took over %u lease records from %s into %s", t.moved, from, dir);
	if (!t.failed)
		rmdir(from); /* fails, rightly, while anything is left there */
	return 0;
}
