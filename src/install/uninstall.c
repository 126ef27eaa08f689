#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "install/files.h"
#include "install/install.h"
#include "install/sources.h"
#include "util/macro.h"

/* Ours means the same bytes as what this installer ships: a file of the same name with
 * other bytes is the reference plugin, another installer's, or an operator's edit. */
static int remove_if_ours(int source, const char *source_path, const char *target, bool dry_run)
{
	struct stat st;
	int same = file_same(source, target);

	if (same < 0) {
		fprintf(stderr, "cni-install: cannot read %s: %s\n", source_path, strerror(-same));
		return -1;
	}
	if (!same && lstat(target, &st) < 0) {
		printf("absent %s\n", target);
		return 0;
	}
	if (!same) {
		printf("left %s: its bytes differ from %s, so it is not the file this installer put there\n", target,
		       source_path);
		return 0;
	}
	if (dry_run) {
		printf("would remove %s\n", target);
		return 0;
	}
	if (unlink(target) < 0) {
		fprintf(stderr, "cni-install: cannot remove %s: %s; check that its directory is writable\n", target,
			strerror(errno));
		return -1;
	}
	printf("removed %s\n", target);
	return 0;
}

static int uninstall_binary(const struct install_options *o, const struct sources *s, int i)
{
	char target[PATH_MAX];

	if (!file_join(target, o->bin_dir, install_plugins[i]))
		return -1;
	if (o->skip[i]) {
		printf("skipped %s (in the skip list)\n", target);
		return 0;
	}
	return remove_if_ours(s->bin[i], s->bin_path[i], target, o->dry_run);
}

int uninstall_run(const struct install_options *o)
{
	_cleanup_(sources_close) struct sources s;
	char target[PATH_MAX];
	int failed = 0;

	if (sources_open(o, &s) < 0) {
		fputs("cni-install: nothing was removed\n", stderr);
		return -1;
	}
	/* The configuration first: runtimes stop using the network before its plugins go. */
	if (o->conf_source)
		failed |= !file_join(target, o->conf_dir, o->conf_name) ||
			  remove_if_ours(s.conf, o->conf_source, target, o->dry_run) < 0;
	for (int i = 0; i < INSTALL_PLUGIN_COUNT; i++)
		failed |= uninstall_binary(o, &s, i) < 0;
	return failed ? -1 : 0;
}
