#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "dhcpd/log.h"
#include "dhcpd/state_place.h"

/* Beside the socket: /run/cni/dhcp.sock -> /run/cni/dhcp-leases. */
#define BESIDE_SOCKET_NAME "dhcp-leases"

static bool same_inode(const char *a, const char *b)
{
	struct stat sa, sb;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Either a root other than PID 1's (with hostPID, the host's init), or an overlay
 * root (containerd's and CRI-O's snapshots). Not the runtimes' marker files: machine
 * images made from container images keep them. */
static bool in_container(void)
{
	struct statfs root;

	if (access("/proc/1/root/", F_OK) == 0 && !same_inode("/", "/proc/1/root/"))
		return true;
	return statfs("/", &root) == 0 && root.f_type == OVERLAYFS_SUPER_MAGIC;
}

static int mount_id(const char *path, unsigned long long *id)
{
	struct statx st;

	if (statx(AT_FDCWD, path, 0, STATX_MNT_ID, &st) < 0)
		return -errno;
	if (!(st.stx_mask & STATX_MNT_ID))
		return -EOPNOTSUPP;
	*id = st.stx_mnt_id;
	return 0;
}

/* The directory may not exist yet: what holds it is the nearest part that does. */
static int nearest_mount_id(const char *dir, unsigned long long *id)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s", dir);
	for (;;) {
		int r = mount_id(path, id);
		if (r != -ENOENT || strcmp(path, "/") == 0)
			return r;
		char *slash = strrchr(path, '/');
		if (slash == path)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
}

bool state_place_ephemeral(const char *dir)
{
	unsigned long long root, here;

	if (dir[0] != '/' || !in_container())
		return false;
	return mount_id("/", &root) == 0 && nearest_mount_id(dir, &here) == 0 && root == here;
}

static void beside_socket(const char *socket_path, char out[PATH_MAX])
{
	char copy[PATH_MAX];

	snprintf(copy, sizeof(copy), "%s", socket_path);
	snprintf(out, PATH_MAX, "%s/%s", dirname(copy), BESIDE_SOCKET_NAME);
}

void state_place_choose(const char *state_dir, bool given, const char *socket_path, char dir[PATH_MAX],
			char other[PATH_MAX])
{
	char beside[PATH_MAX];

	beside_socket(socket_path, beside);
	snprintf(dir, PATH_MAX, "%s", state_dir);
	snprintf(other, PATH_MAX, "%s", beside);
	if (!state_place_ephemeral(state_dir))
		return;
	if (given) {
		log_warning("the state directory %s is on this container's own file system: every lease is "
			    "forgotten when the container restarts, and pods then lose their addresses when their "
			    "leases end; mount it from the host (a hostPath volume)",
			    state_dir);
		other[0] = '\0';
		return;
	}
	if (state_place_ephemeral(beside)) {
		log_warning("neither %s nor the socket's directory is mounted from the host: every lease is "
			    "forgotten when this container restarts, and pods then lose their addresses when their "
			    "leases end; mount %s from the host (a hostPath volume)",
			    state_dir, state_dir);
		other[0] = '\0';
		return;
	}
	log_warning("%s is not mounted from the host, so leases are kept beside the socket, in %s: they "
		    "survive a restart of this container, not a reboot of the node (after one, leases of pods "
		    "that did not come back are left to expire at the server instead of being released); "
		    "mount %s from the host to keep them across reboots too",
		    state_dir, beside, state_dir);
	snprintf(dir, PATH_MAX, "%s", beside);
	other[0] = '\0';
}
