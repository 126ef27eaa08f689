#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cni/cache.h"
#include "dhcp/rpc.h"
#include "dhcpd/adopt.h"
#include "dhcpd/log.h"
#include "dhcpd/podnet.h"
#include "dhcpd/reclaim.h"
#include "util/json_file.h"
#include "util/macro.h"

/* libcni writes a few KiB per attachment. */
#define CACHE_ENTRY_MAX (1024 * 1024)

struct match {
	const struct daemon_options *opt;
};

/* A plugin whose IPAM is dhcp through this daemon's socket. */
static bool ours(json_t *plugin, void *ctx)
{
	const struct daemon_options *opt = ((struct match *)ctx)->opt;
	json_t *ipam = json_object_get(plugin, "ipam");
	const char *type = json_string_value(json_object_get(ipam, "type"));
	const char *socket = json_string_value(json_object_get(ipam, "daemonSocketPath"));
	char path[PATH_MAX];

	if (!type || strcmp(type, "dhcp") != 0)
		return false;
	snprintf(path, sizeof(path), "%s%s", opt->hostprefix, socket && *socket ? socket : DHCP_DEFAULT_SOCKET);
	return strcmp(path, opt->socket_path) == 0;
}

/* true when a lease was reclaimed for it. */
static bool adopt_one(struct leases *t, const struct daemon_options *opt, json_t *cached, const char *name)
{
	struct cni_cache_entry e;
	struct cni_error err = { 0 };
	_cleanup_free_ char *key = NULL;

	if (cni_cache_entry_parse(cached, &e, &err) < 0) {
		log_debug("CNI cache entry %s: %s", name, err.msg);
		return false;
	}
	struct match match = { .opt = opt };
	json_t *config = cni_cache_entry_plugin(&e, ours, &match);
	const struct reclaim_names names = {
		.container_id = e.container_id, .network = e.network, .ifname = e.ifname, .netns = e.netns,
	};
	bool adopted = false;
	if (config && asprintf(&key, "%s/%s/%s", e.container_id, e.network, e.ifname) >= 0 && !leases_find(t, key))
		adopted = reclaim_start(t, opt, &names, config, e.args, 0) != NULL;
	json_decref(config);
	cni_cache_entry_clear(&e);
	return adopted;
}

void adopt_from_cni_cache(struct leases *t, const struct daemon_options *opt)
{
	char results[PATH_MAX];
	unsigned adopted = 0;

	if (!*opt->cni_cache_dir)
		return;
	snprintf(results, sizeof(results), "%s/results", opt->cni_cache_dir);
	_cleanup_free_ char *dir_path = podnet_netns_path(opt->hostprefix, results);
	DIR *dir = dir_path ? opendir(dir_path) : NULL;
	if (!dir) {
		if (errno != ENOENT)
			log_warning("cannot read the CNI result cache %s: %s: leases the daemon has no record of are "
				    "not adopted",
				    dir_path ? dir_path : results, strerror(errno));
		return;
	}
	for (struct dirent *entry; (entry = readdir(dir));) {
		char why[160];
		if (entry->d_name[0] == '.')
			continue;
		json_t *cached = json_file_read(dirfd(dir), entry->d_name, CACHE_ENTRY_MAX, why, sizeof(why));
		if (!cached)
			log_debug("CNI cache entry %s/%s %s", dir_path, entry->d_name, why);
		else if (adopt_one(t, opt, cached, entry->d_name))
			adopted++;
		json_decref(cached);
	}
	closedir(dir);
	if (adopted)
		log_info("adopting %u leases found in %s that no record held", adopted, dir_path);
}
