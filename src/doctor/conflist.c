#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cni/skel.h"
#include "dhcp/ipam_conf.h"
#include "doctor/conflist.h"
#include "macvlan/config.h"
#include "rtnl/addr.h"
#include "rtnl/link.h"
#include "rtnl/socket.h"
#include "util/macro.h"

static bool is_macvlan(json_t *entry)
{
	const char *type = json_string_value(json_object_get(entry, "type"));

	return type && strcmp(type, "macvlan") == 0;
}

/* The macvlan entry: the file itself for a single plugin, else the first of "plugins". */
static json_t *macvlan_entry(json_t *root, const char *path, struct cni_error *err)
{
	json_t *plugins = json_object_get(root, "plugins"), *entry;
	size_t i;

	if (!plugins && is_macvlan(root))
		return root;
	json_array_foreach(plugins, i, entry)
		if (is_macvlan(entry))
			return entry;
	cni_error_set(err, CNI_ERR_INVALID_CONFIG, "%s has no plugin of type macvlan", path);
	cni_error_details(err, "give the node's network configuration (the one whose pods get LAN addresses), or "
			       "name the master with --master");
	return NULL;
}

/* What a runtime hands the plugin of `entry`: in a list, with the list's cniVersion
 * and name (libcni's buildOneConfig). */
static char *plugin_text(json_t *root, json_t *entry)
{
	json_auto_t *one = json_deep_copy(entry);

	if (!one)
		return NULL;
	if (root != entry && (json_object_set(one, "cniVersion", json_object_get(root, "cniVersion")) < 0 ||
			      json_object_set(one, "name", json_object_get(root, "name")) < 0))
		return NULL;
	return json_dumps(one, JSON_COMPACT);
}

static int read_keys(const struct cni_call *call, struct doctor_conf *out, struct cni_error *err)
{
	struct macvlan_conf mconf;
	struct dhcp_ipam_conf dconf;

	if (macvlan_conf_load(call, &mconf, err) < 0)
		return -1;
	out->mode = mconf.mode_name;
	if (mconf.master && !(out->master = strdup(mconf.master)))
		return cni_error_set(err, CNI_ERR_IO, "out of memory");
	if (!call->conf.ipam_type)
		return 0;
	if (!(out->ipam_type = strdup(call->conf.ipam_type)))
		return cni_error_set(err, CNI_ERR_IO, "out of memory");
	if (strcmp(call->conf.ipam_type, "dhcp") != 0)
		return 0;
	if (dhcp_ipam_conf_parse(call->conf.ipam, &call->args, &dconf, err) < 0)
		return -1;
	if (dconf.socket_path && !(out->socket_path = strdup(dconf.socket_path)))
		return cni_error_set(err, CNI_ERR_IO, "out of memory");
	return 0;
}

int doctor_conf_load(const char *path, struct doctor_conf *out, struct cni_error *err)
{
	json_error_t jerr;
	json_auto_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	struct cni_call call = { 0 };

	*out = (struct doctor_conf){ 0 };
	if (!root)
		return cni_error_set(err, CNI_ERR_DECODE, "cannot read %s: %s (line %d, column %d)", path, jerr.text,
				     jerr.line, jerr.column);
	json_t *entry = macvlan_entry(root, path, err);
	if (!entry)
		return -1;
	_cleanup_free_ char *text = plugin_text(root, entry);
	if (!text)
		return cni_error_set(err, CNI_ERR_IO, "out of memory reading %s", path);
	int r = cni_conf_parse(text, strlen(text), &call.conf, err);
	if (r == 0)
		r = read_keys(&call, out, err);
	cni_conf_free(&call.conf);
	if (r < 0) {
		cni_error_prefix(err, "%s", path);
		doctor_conf_free(out);
	}
	return r;
}

void doctor_conf_free(struct doctor_conf *conf)
{
	free(conf->master);
	free(conf->ipam_type);
	free(conf->socket_path);
	*conf = (struct doctor_conf){ 0 };
}

int doctor_default_master(char **name, struct cni_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = nl_route_socket(-1);
	struct link_info link;
	int r;

	if (!sk)
		return cni_error_set(err, CNI_ERR_NETLINK, "cannot open a netlink socket: %s", strerror(errno));
	r = route_default_index(sk);
	if (r == -ENOENT) {
		cni_error_set(err, CNI_ERR_INVALID_CONFIG,
			      "no \"master\" key and no IPv4 default route to take one from");
		cni_error_details(err, "the macvlan plugin would fail the same way: name the master in the "
				       "configuration (`ip -br link` lists the interfaces)");
		return -1;
	}
	if (r < 0 || (r = link_get_by_index(sk, r, &link)) < 0)
		return cni_error_set(err, CNI_ERR_NETLINK, "reading the default route's interface: %s", strerror(-r));
	if (!(*name = strdup(link.name)))
		return cni_error_set(err, CNI_ERR_IO, "out of memory");
	return 0;
}
