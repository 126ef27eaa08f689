#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "install/files.h"
#include "install/install.h"
#include "install/order.h"
#include "install/sources.h"
#include "install/validate.h"
#include "util/fs.h"
#include "util/macro.h"

/* Far above any network configuration; a bigger file is not one. */
#define CONF_MAX (1024 * 1024)

static int check_conf_content(const struct install_options *o, int fd)
{
	_cleanup_free_ char *text = NULL;
	struct cni_error err = { 0 };
	size_t len;
	int r = file_read_all(fd, CONF_MAX, &text, &len);

	if (r < 0) {
		fprintf(stderr, "cni-install: cannot read the network configuration %s: %s\n", o->conf_source,
			r == -EFBIG ? "larger than 1 MiB, which no network configuration is" : strerror(-r));
		return -1;
	}
	if (conf_validate(text, len, o->conf_name, &err) < 0) {
		fprintf(stderr, "cni-install: refusing %s: %s%s%s\n", o->conf_source, err.msg, err.details[0] ? "; " : "",
			err.details);
		return -1;
	}
	return 0;
}

static int make_dir(const char *dir, const char *what, bool dry_run)
{
	int r = dry_run ? 0 : mkdir_p(dir, 0755);

	if (r < 0)
		fprintf(stderr, "cni-install: cannot create the %s %s: %s; check that the path (a hostPath volume in "
				"the DaemonSet) is a directory the installer may write\n",
			what, dir, strerror(-r));
	return r;
}

static int install_binary(const struct install_options *o, const struct sources *s, int i)
{
	char target[PATH_MAX];

	if (!file_join(target, o->bin_dir, install_plugins[i]))
		return -1;
	if (o->skip[i]) {
		printf("skipped %s (in the skip list)\n", target);
		return 0;
	}
	/* Another installation's copy, such as the reference plugin a node image ships,
	 * is the operator's to keep. */
	if (!o->update_binaries && access(target, F_OK) == 0) {
		printf("kept %s (already present, and updating binaries is off)\n", target);
		return 0;
	}
	return file_install(s->bin[i], s->bin_path[i], target, 0755, o->dry_run);
}

static int install_conf(const struct install_options *o, const struct sources *s)
{
	char target[PATH_MAX];

	if (!file_join(target, o->conf_dir, o->conf_name))
		return -1;
	return file_install(s->conf, o->conf_source, target, 0644, o->dry_run);
}

/* containerd's CRI plugin and CRI-O bring up every pod's lo with the `loopback` plugin
 * from the same bin dir; we do not ship one. */
static void warn_without_loopback(const char *bin_dir)
{
	char path[PATH_MAX];

	if (!file_join(path, bin_dir, "loopback") || access(path, X_OK) == 0)
		return;
	fprintf(stderr,
		"cni-install: warning: no loopback plugin in %s: containerd and CRI-O run it from this directory for "
		"every pod, and pods cannot start without it; install the reference plugins there (kubeadm's "
		"kubernetes-cni package, or a containernetworking/plugins release)\n",
		bin_dir);
}

/* Everything that can refuse the install, before anything is written. */
static int prepare(const struct install_options *o, struct sources *s)
{
	if (sources_open(o, s) < 0)
		return -1;
	if (o->conf_source &&
	    (check_conf_content(o, s->conf) < 0 || conf_order_check(o->conf_dir, o->conf_name, o->role) < 0))
		return -1;
	if (make_dir(o->bin_dir, "CNI bin dir", o->dry_run) < 0 ||
	    (o->conf_source && make_dir(o->conf_dir, "CNI conf dir", o->dry_run) < 0))
		return -1;
	return 0;
}

int install_run(const struct install_options *o)
{
	_cleanup_(sources_close) struct sources s;
	int failed = 0;

	if (prepare(o, &s) < 0) {
		fputs("cni-install: nothing was installed\n", stderr);
		return -1;
	}
	for (int i = 0; i < INSTALL_PLUGIN_COUNT; i++)
		failed |= install_binary(o, &s, i) < 0;
	/* The configuration last: it names the plugins, which must be there first. */
	if (o->conf_source)
		failed |= install_conf(o, &s) < 0;
	warn_without_loopback(o->bin_dir);
	return failed ? -1 : 0;
}
