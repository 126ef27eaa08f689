#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "dhcp/rpc.h"
#include "doctor/daemon_check.h"
#include "util/fs.h"
#include "util/macro.h"

#define STATUS_TIMEOUT_MS 5000

static const char start_hint[] = "start the daemon: `systemctl start cni-dhcp.socket cni-dhcp` (deploy/systemd), or "
				 "the cni-lan DaemonSet (`kubectl -n kube-system get pods -l "
				 "app.kubernetes.io/name=cni-lan -o wide`: is one running on this node?)";

/* Why connecting fails: 0 when something listens, else -errno of connect(). */
static int try_connect(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	return connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 ? 0 : -errno;
}

/* The call failed: says what is (not) at the path. */
static void report_unreachable(struct report *r, const char *path, const struct cni_error *err)
{
	struct stat st;
	struct check *c;
	int e;

	bool exists = stat(path, &st) == 0;

	if (!exists && errno == ENOENT) {
		c = report_add(r, "daemon", CHECK_FAILED, "no dhcp daemon: nothing at %s", path);
		check_hint(c, "%s; or give the daemon's socket with -socketpath", start_hint);
		return;
	}
	if (exists && !S_ISSOCK(st.st_mode)) {
		c = report_add(r, "daemon", CHECK_FAILED, "%s is not a socket", path);
		check_hint(c, "something else took the daemon's path: remove it, then %s", start_hint);
		return;
	}
	e = try_connect(path);
	if (e == -ECONNREFUSED) {
		c = report_add(r, "daemon", CHECK_FAILED, "stale socket %s: the file is there but no daemon listens "
							  "on it (the daemon died or was killed)", path);
		check_hint(c, "see why it stopped (`journalctl -u cni-dhcp`, `kubectl logs` of the DaemonSet's pod), "
			      "then %s; it replaces the stale file", start_hint);
		return;
	}
	c = report_add(r, "daemon", CHECK_FAILED, "%s", err->msg);
	check_hint(c, "%s", err->details[0] ? err->details : "see the daemon's log");
}

void check_daemon(struct report *r, const char *socket_path)
{
	json_auto_t *params = json_object(), *result = NULL;
	struct cni_error err = { 0 };
	struct check *c;

	if (rpc_call(socket_path, "DHCP.Status", params, STATUS_TIMEOUT_MS, &result, &err) < 0) {
		report_unreachable(r, socket_path, &err);
		return;
	}
	json_t *ready = json_object_get(result, "ready"), *leases = json_object_get(result, "leases");
	if (!json_is_boolean(ready) || !json_is_integer(leases)) {
		c = report_add(r, "daemon", CHECK_FAILED, "the daemon at %s answers DHCP.Status without \"ready\" and "
							  "\"leases\"", socket_path);
		check_hint(c, "it is another program than this dhcp daemon: see which (`ss -xlp | grep %s`)",
			   socket_path);
		return;
	}
	long long count = (long long)json_integer_value(leases);
	if (!json_is_true(ready)) {
		c = report_add(r, "daemon", CHECK_WARNING,
			       "the daemon at %s is stopping (not ready), holding %lld lease%s", socket_path, count,
			       count == 1 ? "" : "s");
		check_hint(c, "it takes no new pods while it stops: see that it is restarted");
		return;
	}
	report_add(r, "daemon", CHECK_OK, "the daemon at %s answers: ready, %lld lease%s", socket_path, count,
		   count == 1 ? "" : "s");
}

/* `dir` as the daemon sees it: under `prefix` as the host resolves it (the host's
 * /var/run is a link to /run, its /run, not ours), as podnet_netns_path opens pods. */
static bool is_dir(const char *prefix, const char *dir, char *path, size_t len)
{
	struct stat st;

	if (!*prefix)
		snprintf(path, len, "%s", dir);
	else if (fs_resolve_under(prefix, dir, path, len) < 0)
		snprintf(path, len, "%s%s", prefix, dir);
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

void check_daemon_netns(struct report *r, const char *hostprefix)
{
	char run[PATH_MAX], var_run[PATH_MAX];
	const char *found = NULL;
	struct check *c;

	if (is_dir(hostprefix, "/run/netns", run, sizeof(run)))
		found = run;
	else if (is_dir(hostprefix, "/var/run/netns", var_run, sizeof(var_run)))
		found = var_run;
	if (found) {
		report_add(r, "daemon-netns", CHECK_OK, "pods' network namespaces are visible at %s", found);
		return;
	}
	if (*hostprefix) {
		c = report_add(r, "daemon-netns", CHECK_WARNING,
			       "neither %s nor %s exists: with -hostprefix %s the daemon cannot open the pods' "
			       "namespaces", run, var_run, hostprefix);
		check_hint(c, "mount the host's root at %s (hostPath /), or drop -hostprefix and mount /var/run/netns "
			      "with mountPropagation: HostToContainer", hostprefix);
		return;
	}
	c = report_add(r, "daemon-netns", CHECK_WARNING,
		       "neither /run/netns nor /var/run/netns exists here: no pod has a named namespace yet, or this "
		       "is a container without them");
	check_hint(c, "on the node, runtimes create /run/netns with the first pod; in the daemon's container, mount "
		      "/var/run/netns with mountPropagation: HostToContainer (deploy/kubernetes)");
}
