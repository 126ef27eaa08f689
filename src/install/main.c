/* cni-install: puts the plugins and the network configuration where the container
 * runtime looks for them. The DaemonSet's init container runs it on every node;
 * operators can run it by hand. Each file is written to a temporary name in the
 * target directory and renamed over the old one: a runtime executing the old plugin
 * keeps its inode, a new exec sees the whole new file, never a half-written one,
 * and "text file busy" cannot happen. Files already identical are left alone. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fs.h"
#include "util/macro.h"

struct options {
	const char *bin_source;
	const char *bin_dir;
	const char *conf_source;
	const char *conf_dir;
	const char *conf_name;
	bool dry_run;
};

static const char *const plugins[] = { "macvlan", "dhcp" };

static const char usage[] =
	"usage: cni-install [options]\n"
	"\n"
	"Installs the macvlan and dhcp plugins and a network configuration, atomically and\n"
	"idempotently (identical files are not rewritten).\n"
	"\n"
	"  --bin-source DIR    where the plugins are (default: this program's directory)\n"
	"  --cni-bin-dir DIR   where the runtime looks for plugins (default /host/opt/cni/bin)\n"
	"  --conf-source FILE  a network configuration (.conflist) to install; none: plugins only\n"
	"  --cni-conf-dir DIR  where the runtime looks for configurations (default /host/etc/cni/net.d)\n"
	"  --conf-name NAME    file name there (default: the source's name)\n"
	"  --dry-run           say what would change, change nothing\n"
	"  --help              this text\n";

/* 1: same bytes, 0: different or missing, -errno: unreadable source. */
static int same_content(const char *a, const char *b)
{
	_cleanup_close_ int fa = open(a, O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int fb = open(b, O_RDONLY | O_CLOEXEC);
	char ba[65536], bb[65536];

	if (fa < 0)
		return -errno;
	if (fb < 0)
		return 0;
	for (;;) {
		ssize_t na = read(fa, ba, sizeof(ba)), nb = read(fb, bb, sizeof(bb));
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
static int replace_file(const char *source, const char *target, mode_t mode)
{
	char temp[PATH_MAX];
	_cleanup_close_ int from = open(source, O_RDONLY | O_CLOEXEC);

	if (from < 0)
		return -errno;
	const char *slash = strrchr(target, '/');
	int dir_len = slash ? (int)(slash - target) : 1;
	snprintf(temp, sizeof(temp), "%.*s/.%s.XXXXXX", dir_len, slash ? target : ".", slash ? slash + 1 : target);
	_cleanup_close_ int to = mkostemp(temp, O_CLOEXEC);
	if (to < 0)
		return -errno;
	int r = copy_to(from, to);
	if (r == 0 && fchmod(to, mode) < 0)
		r = -errno;
	if (r == 0 && rename(temp, target) < 0)
		r = -errno;
	if (r < 0)
		unlink(temp);
	return r;
}

static int install_one(const char *source, const char *dir, const char *name, mode_t mode, bool dry_run)
{
	char target[PATH_MAX];
	struct stat st;

	snprintf(target, sizeof(target), "%s/%s", dir, name);
	int same = same_content(source, target);
	if (same < 0) {
		fprintf(stderr, "cni-install: cannot read %s: %s\n", source, strerror(-same));
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
		printf("would install %s from %s\n", target, source);
		return 0;
	}
	int r = replace_file(source, target, mode);
	if (r < 0) {
		fprintf(stderr, "cni-install: cannot install %s: %s\n", target, strerror(-r));
		return -1;
	}
	stat(target, &st);
	printf("installed %s (%lld bytes)\n", target, (long long)st.st_size);
	return 0;
}

static int make_dir(const char *dir, bool dry_run)
{
	int r = dry_run ? 0 : mkdir_p(dir, 0755);

	if (r < 0)
		fprintf(stderr, "cni-install: cannot create %s: %s\n", dir, strerror(-r));
	return r;
}

static const char *own_dir(void)
{
	static char dir[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);

	if (n <= 0)
		return ".";
	dir[n] = '\0';
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	return dir;
}

static int parse(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "bin-source", required_argument, NULL, 'b' }, { "cni-bin-dir", required_argument, NULL, 'B' },
		{ "conf-source", required_argument, NULL, 'c' }, { "cni-conf-dir", required_argument, NULL, 'C' },
		{ "conf-name", required_argument, NULL, 'n' },   { "dry-run", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },              { NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct options){ .bin_dir = "/host/opt/cni/bin", .conf_dir = "/host/etc/cni/net.d" };
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'b': o->bin_source = optarg; break;
		case 'B': o->bin_dir = optarg; break;
		case 'c': o->conf_source = optarg; break;
		case 'C': o->conf_dir = optarg; break;
		case 'n': o->conf_name = optarg; break;
		case 'd': o->dry_run = true; break;
		case 'h': fputs(usage, stdout); return 1;
		default: fputs(usage, stderr); return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "cni-install: unexpected argument \"%s\"\n%s", argv[optind], usage);
		return -1;
	}
	if (!o->bin_source)
		o->bin_source = own_dir();
	if (o->conf_source && !o->conf_name) {
		const char *slash = strrchr(o->conf_source, '/');
		o->conf_name = slash ? slash + 1 : o->conf_source;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	char source[PATH_MAX];
	int r = parse(argc, argv, &o), failed = 0;

	if (r != 0)
		return r > 0 ? 0 : 2;
	if (make_dir(o.bin_dir, o.dry_run) < 0 || (o.conf_source && make_dir(o.conf_dir, o.dry_run) < 0))
		return 1;
	for (size_t i = 0; i < ARRAY_SIZE(plugins); i++) {
		snprintf(source, sizeof(source), "%s/%s", o.bin_source, plugins[i]);
		failed |= install_one(source, o.bin_dir, plugins[i], 0755, o.dry_run) < 0;
	}
	if (o.conf_source)
		failed |= install_one(o.conf_source, o.conf_dir, o.conf_name, 0644, o.dry_run) < 0;
	return failed ? 1 : 0;
}
