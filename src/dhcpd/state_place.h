/* Where lease records live. They must outlive the daemon: a daemon restarted without
 * them cannot renew the pods' leases, and a pod's address lives only as long as its
 * lease. A daemon in a container whose state directory is not mounted from the host
 * would lose them with the container (the seed's DaemonSet mounts only /run/cni),
 * so by default it keeps them beside its socket instead, in a directory the plugins
 * already share with the host. */
#pragma once

#include <limits.h>
#include <stdbool.h>

/* The state directory the daemon uses, and the one beside the socket that an earlier
 * run without a host-mounted state directory used (its records are taken over:
 * `other`, "" when none). `given`: the operator chose
 * `dir` (--state-dir) and it is kept, with a warning if it dies with the container. */
void state_place_choose(const char *state_dir, bool given, const char *socket_path, char dir[PATH_MAX],
			char other[PATH_MAX]);

/* True when records in `dir` would be lost with this daemon's container: it runs in
 * one, and `dir` (or what of it exists) is on the container's own root file system. */
bool state_place_ephemeral(const char *dir);
