#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "install/files.h"
#include "install/order.h"
#include "install/validate.h"
#include "util/macro.h"

#define OTHER_CONF_MAX (1024 * 1024)

/* The other network configurations around ours, by name; "" when there is none. */
struct neighbours {
	char before[NAME_MAX + 1]; /* the first one: the default network unless it is ours */
	char after[NAME_MAX + 1];  /* the first one after ours */
	char multus[NAME_MAX + 1]; /* Multus's, passed over */
};

static bool is_multus_type(json_t *type)
{
	const char *text = json_string_value(type);

	return text && (strcmp(text, "multus") == 0 || strcmp(text, "multus-shim") == 0);
}

/* Multus's configuration: a plugin of type multus (thin) or multus-shim (thick). A file
 * that cannot be read is another network's, as runtimes would try it. */
static bool is_multus(int dir_fd, const char *name)
{
	_cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *text = NULL;
	size_t len, i;
	json_t *entry;

	if (fd < 0 || file_read_all(fd, OTHER_CONF_MAX, &text, &len) < 0)
		return false;
	json_auto_t *conf = json_loadb(text, len, 0, NULL);
	if (is_multus_type(json_object_get(conf, "type")))
		return true;
	json_array_foreach(json_object_get(conf, "plugins"), i, entry)
		if (is_multus_type(json_object_get(entry, "type")))
			return true;
	return false;
}

static void keep_first(char slot[NAME_MAX + 1], const char *name)
{
	if (!slot[0] || strcmp(name, slot) < 0)
		snprintf(slot, NAME_MAX + 1, "%s", name);
}

/* A file runtimes would read as a network configuration (directories such as
 * multus.d, and names of other kinds, are not). */
static bool is_network_file(int dir_fd, const char *name)
{
	struct stat st;

	return conf_kind_of(name) != CONF_NONE && fstatat(dir_fd, name, &st, 0) == 0 && S_ISREG(st.st_mode);
}

static int find_neighbours(const char *dir, const char *ours, struct neighbours *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	*n = (struct neighbours){ 0 };
	/* Not there yet: creating it comes next, and says why it cannot be. */
	if (!d && (errno == ENOENT || errno == ENOTDIR))
		return 0;
	if (!d) {
		fprintf(stderr, "cni-install: cannot list the CNI conf dir %s: %s; check the path and its mount\n", dir,
			strerror(errno));
		return -1;
	}
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ours) == 0 || !is_network_file(dirfd(d), e->d_name))
			continue;
		if (is_multus(dirfd(d), e->d_name))
			keep_first(n->multus, e->d_name);
		else
			keep_first(strcmp(e->d_name, ours) < 0 ? n->before : n->after, e->d_name);
	}
	closedir(d);
	return 0;
}

static int refuse_secondary(const char *dir, const char *name, const struct neighbours *n)
{
	fprintf(stderr, "cni-install: refusing to install %s in %s as a secondary network: ", name, dir);
	if (n->after[0])
		fprintf(stderr, "it would sort before %s, the default network's configuration there, ", n->after);
	else
		fprintf(stderr, "no other network's configuration is there, ");
	fprintf(stderr, "so runtimes%s%s%s would make it the default network of every pod.\n",
		n->multus[0] ? " (and Multus, through " : "", n->multus, n->multus[0] ? ")" : "");
	fprintf(stderr,
		"cni-install: install the default network first, or give this one a name that sorts after "
		"the default network's file (--conf-name), or pass --primary if it is meant to be the node's default "
		"network\n");
	return -1;
}

static void warn_primary(const char *dir, const char *name, const struct neighbours *n)
{
	fprintf(stderr,
		"cni-install: warning: %s sorts before %s in %s: runtimes take %s as the node's default network, "
		"not %s. If %s is meant to be the default, remove %s or give %s a name that sorts before it "
		"(--conf-name); if not, install it with --secondary\n",
		n->before, name, dir, n->before, name, name, n->before, name);
}

int conf_order_check(const char *dir, const char *name, enum install_role role)
{
	struct neighbours n;

	if (find_neighbours(dir, name, &n) < 0)
		return -1;
	if (role == INSTALL_ROLE_SECONDARY && !n.before[0])
		return refuse_secondary(dir, name, &n);
	if (role == INSTALL_ROLE_PRIMARY && n.before[0])
		warn_primary(dir, name, &n);
	return 0;
}
