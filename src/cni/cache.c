#include <stdlib.h>
#include <string.h>

#include "cni/cache.h"
#include "cni/json.h"
#include "util/base64.h"
#include "util/macro.h"

/* A network configuration is a few KiB; far larger was not written by libcni. */
#define CONFIG_MAX (1024 * 1024)

/* cniArgs, [[key, value], ...], as CNI_ARGS. */
static int join_args(json_t *pairs, char **out, struct cni_error *err)
{
	size_t i, len = 1;
	json_t *pair;

	json_array_foreach(pairs, i, pair) {
		const char *k = json_string_value(json_array_get(pair, 0)), *v = json_string_value(json_array_get(pair, 1));
		if (json_array_size(pair) != 2 || !k || !v)
			return cni_error_set(err, CNI_ERR_DECODE, "cniArgs[%zu] is not a [key, value] pair of strings", i);
		len += strlen(k) + strlen(v) + 2;
	}
	if (!(*out = calloc(1, len)))
		return cni_error_set(err, CNI_ERR_IO, "out of memory");
	json_array_foreach(pairs, i, pair) {
		if (i)
			strcat(*out, ";");
		strcat(strcat(strcat(*out, json_string_value(json_array_get(pair, 0))), "="),
		       json_string_value(json_array_get(pair, 1)));
	}
	return 0;
}

/* Before libcni 1.1 the cache has no "netns": the result's interface says where it is. */
static const char *sandbox_of(json_t *cached, const char *ifname)
{
	json_t *interfaces = json_object_get(json_object_get(cached, "result"), "interfaces"), *iface;
	size_t i;

	json_array_foreach(interfaces, i, iface) {
		const char *name = json_string_value(json_object_get(iface, "name"));
		const char *sandbox = json_string_value(json_object_get(iface, "sandbox"));
		if (name && sandbox && *sandbox && strcmp(name, ifname) == 0)
			return sandbox;
	}
	return NULL;
}

static int decode_config(const char *encoded, json_t **out, struct cni_error *err)
{
	uint8_t *text = NULL;
	size_t len = 0;
	json_error_t jerr;

	if (base64_decode(encoded, CONFIG_MAX, &text, &len) < 0)
		return cni_error_set(err, CNI_ERR_DECODE, "\"config\" is not base64 of at most %d bytes", CONFIG_MAX);
	*out = json_loadb((const char *)text, len, 0, &jerr);
	free(text);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return cni_error_set(err, CNI_ERR_DECODE, "\"config\" is not a JSON object");
	}
	return 0;
}

int cni_cache_entry_parse(json_t *cached, struct cni_cache_entry *out, struct cni_error *err)
{
	const char *kind = NULL, *config = NULL;
	json_t *args = NULL;

	*out = (struct cni_cache_entry){ 0 };
	if (cni_json_string(cached, "", "kind", &kind, err) < 0 ||
	    cni_json_string(cached, "", "containerId", &out->container_id, err) < 0 ||
	    cni_json_string(cached, "", "ifName", &out->ifname, err) < 0 ||
	    cni_json_string(cached, "", "networkName", &out->network, err) < 0 ||
	    cni_json_string(cached, "", "netns", &out->netns, err) < 0 ||
	    cni_json_string(cached, "", "config", &config, err) < 0 ||
	    cni_json_array(cached, "", "cniArgs", &args, err) < 0)
		return -1;
	if (!kind || strcmp(kind, "cniCacheV1") != 0)
		return cni_error_set(err, CNI_ERR_DECODE, "not a libcni cache entry (kind \"%s\")", kind ? kind : "");
	if (!out->container_id || !out->ifname || !out->network || !config)
		return cni_error_set(err, CNI_ERR_DECODE, "containerId, ifName, networkName or config is missing");
	if (!out->netns || !*out->netns)
		out->netns = sandbox_of(cached, out->ifname);
	if (join_args(args, &out->args, err) < 0 || decode_config(config, &out->config, err) < 0) {
		cni_cache_entry_clear(out);
		return -1;
	}
	return 0;
}

void cni_cache_entry_clear(struct cni_cache_entry *e)
{
	free(e->args);
	json_decref(e->config);
	*e = (struct cni_cache_entry){ 0 };
}

json_t *cni_cache_entry_plugin(const struct cni_cache_entry *e, bool (*match)(json_t *plugin, void *ctx), void *ctx)
{
	json_t *plugins = json_object_get(e->config, "plugins"), *plugin;
	size_t i;

	if (!json_is_array(plugins))
		return match(e->config, ctx) ? json_incref(e->config) : NULL;
	json_array_foreach(plugins, i, plugin) {
		if (!json_is_object(plugin) || !match(plugin, ctx))
			continue;
		json_t *conf = json_deep_copy(plugin);
		if (conf && (json_object_set(conf, "name", json_object_get(e->config, "name")) < 0 ||
			     json_object_set(conf, "cniVersion", json_object_get(e->config, "cniVersion")) < 0))
			json_decref(TAKE_PTR(conf));
		return conf;
	}
	return NULL;
}
