#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cni/env.h"
#include "cni/json.h"
#include "cni/skel.h"
#include "cni/version.h"
#include "dhcp/ipam_conf.h"
#include "install/validate.h"
#include "macvlan/config.h"
#include "util/macro.h"

enum conf_kind conf_kind_of(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (dot && strcmp(dot, ".conflist") == 0)
		return CONF_LIST;
	if (dot && (strcmp(dot, ".conf") == 0 || strcmp(dot, ".json") == 0))
		return CONF_SINGLE;
	return CONF_NONE;
}

static json_t *decode(const char *text, size_t len, struct cni_error *err)
{
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);

	if (!root) {
		cni_error_set(err, CNI_ERR_DECODE, "not valid JSON: %s at line %d, column %d", jerr.text, jerr.line,
			      jerr.column);
		return NULL;
	}
	if (!json_is_object(root)) {
		cni_error_set(err, CNI_ERR_DECODE, "a network configuration is a JSON object, not %s",
			      cni_json_type_name(root));
		json_decref(root);
		return NULL;
	}
	return root;
}

static int check_name_version(json_t *root, struct cni_error *err)
{
	const char *name = NULL, *version = NULL;
	enum cni_version parsed;

	if (cni_json_string(root, "", "name", &name, err) < 0 || cni_json_string(root, "", "cniVersion", &version, err) < 0)
		return -1;
	if (!name || !*name)
		return cni_error_set(err, CNI_ERR_INVALID_CONFIG,
				     "\"name\" is missing: runtimes, Multus and the dhcp daemon know the network by it");
	if (!cni_network_name_valid(name)) {
		cni_error_set(err, CNI_ERR_INVALID_CONFIG, "name \"%s\" is not a valid network name", name);
		cni_error_details(err, "use letters, digits, '_', '.' and '-', starting with a letter or digit");
		return -1;
	}
	if (!version || !*version)
		return cni_error_set(err, CNI_ERR_INVALID_CONFIG,
				     "\"cniVersion\" is missing: give the spec version the configuration follows, "
				     "such as \"1.0.0\"");
	return cni_version_parse(version, &parsed, err);
}

/* What a runtime hands the plugin of `entry`: for a list, the entry with the list's
 * cniVersion and name (libcni's buildOneConfig). */
static char *plugin_text(json_t *list, json_t *entry)
{
	json_auto_t *one = json_deep_copy(entry);

	if (!one)
		return NULL;
	if (list != entry && (json_object_set(one, "cniVersion", json_object_get(list, "cniVersion")) < 0 ||
			      json_object_set(one, "name", json_object_get(list, "name")) < 0))
		return NULL;
	return json_dumps(one, JSON_COMPACT);
}

/* The plugins' own checks, as at ADD: macvlan's keys, the dhcp IPAM keys. No CNI_ARGS
 * exist at install time, so keys that come from them are not checked here. */
static int run_our_parsers(const char *text, bool macvlan, bool dhcp, struct cni_error *err)
{
	struct cni_call call = { 0 };
	struct macvlan_conf mconf;
	struct dhcp_ipam_conf dconf;
	int r = cni_conf_parse(text, strlen(text), &call.conf, err);

	if (r == 0 && macvlan) {
		macvlan_conf_warn_unknown(&call);
		r = macvlan_conf_load(&call, &mconf, err);
	}
	if (r == 0 && dhcp) {
		cni_json_warn_unknown(call.conf.ipam, "ipam", dhcp_ipam_keys, "dhcp", stderr);
		r = dhcp_ipam_conf_parse(call.conf.ipam, &call.args, &dconf, err);
	}
	cni_conf_free(&call.conf);
	return r;
}

/* `where` is "plugins[N]" in a list, "" for a single plugin's file. */
static int check_plugin(json_t *list, json_t *entry, const char *where, struct cni_error *err)
{
	const char *type = NULL;

	if (!json_is_object(entry))
		return cni_error_set(err, CNI_ERR_INVALID_CONFIG, "%s must be an object, not %s", where,
				     cni_json_type_name(entry));
	if (cni_json_string(entry, where, "type", &type, err) < 0)
		return -1;
	if (!type || !*type)
		return cni_error_set(err, CNI_ERR_INVALID_CONFIG,
				     "%s%s\"type\" is missing: it names the plugin binary the runtime runs", where,
				     *where ? ": " : "");
	json_t *ipam = json_object_get(entry, "ipam");
	const char *ipam_type = json_is_object(ipam) ? json_string_value(json_object_get(ipam, "type")) : NULL;
	bool macvlan = strcmp(type, "macvlan") == 0, dhcp = ipam_type && strcmp(ipam_type, "dhcp") == 0;
	if (!macvlan && !dhcp)
		return 0;
	_cleanup_free_ char *text = plugin_text(list, entry);
	if (!text)
		return cni_error_set(err, CNI_ERR_IO, "out of memory checking %s", *where ? where : "the configuration");
	if (run_our_parsers(text, macvlan, dhcp, err) < 0) {
		if (*where)
			cni_error_prefix(err, "%s (%s)", where, type);
		else
			cni_error_prefix(err, "%s", type);
		return -1;
	}
	return 0;
}

static int check_list(json_t *root, struct cni_error *err)
{
	json_t *plugins = NULL, *entry;
	size_t i;
	char where[32];

	if (cni_json_array(root, "", "plugins", &plugins, err) < 0)
		return -1;
	if (json_array_size(plugins) == 0)
		return cni_error_set(err, CNI_ERR_INVALID_CONFIG,
				     "\"plugins\" is missing or empty: a .conflist lists its plugins there");
	json_array_foreach(plugins, i, entry) {
		snprintf(where, sizeof(where), "plugins[%zu]", i);
		if (check_plugin(root, entry, where, err) < 0)
			return -1;
	}
	return 0;
}

static int check_single(json_t *root, struct cni_error *err)
{
	if (json_object_get(root, "plugins")) {
		cni_error_set(err, CNI_ERR_INVALID_CONFIG,
			      "it lists \"plugins\", but runtimes read a .conf or .json file as one plugin's configuration");
		cni_error_details(err, "name it .conflist (--conf-name)");
		return -1;
	}
	return check_plugin(root, root, "", err);
}

int conf_validate(const char *text, size_t len, const char *name, struct cni_error *err)
{
	enum conf_kind kind = conf_kind_of(name);

	if (kind == CONF_NONE) {
		cni_error_set(err, CNI_ERR_INVALID_CONFIG,
			      "the file name \"%s\" does not end in .conflist, .conf or .json, so runtimes would "
			      "never read it",
			      name);
		cni_error_details(err, "name it with --conf-name, such as 10-macvlan.conflist");
		return -1;
	}
	json_auto_t *root = decode(text, len, err);
	if (!root || check_name_version(root, err) < 0)
		return -1;
	return kind == CONF_LIST ? check_list(root, err) : check_single(root, err);
}
