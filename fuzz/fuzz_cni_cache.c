/* libFuzzer: a file of the runtime's CNI result cache, as the dhcp daemon reads it at
 * start to adopt leases it has no record of: the entry, its base64 configuration, and
 * the search for a plugin with dhcp as IPAM. */
#include <stdint.h>
#include <string.h>

#include "cni/cache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool dhcp_ipam(json_t *plugin, void *ctx)
{
	const char *type = json_string_value(json_object_get(json_object_get(plugin, "ipam"), "type"));
	(void)ctx;
	return type && strcmp(type, "dhcp") == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cni_cache_entry e;
	struct cni_error err = { 0 };
	json_t *cached = json_loadb((const char *)data, size, 0, NULL);

	if (json_is_object(cached) && cni_cache_entry_parse(cached, &e, &err) == 0) {
		json_decref(cni_cache_entry_plugin(&e, dhcp_ipam, NULL));
		cni_cache_entry_clear(&e);
	}
	json_decref(cached);
	return 0;
}
