/* libcni's result cache: what a runtime (containerd, CRI-O, podman's CNI backend)
 * ADDed, one file per attachment under <cacheDir>/results (by default
 * /var/lib/cni/results/<network>-<containerID>-<ifname>), kept so that it can DEL
 * later. A JSON object of kind "cniCacheV1": containerId, ifName, networkName,
 * netns (libcni 1.1 and later), cniArgs ([[key, value], ...]), the network
 * configuration as Go encodes a []byte (base64) and the result. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "cni/error.h"

struct cni_cache_entry {
	const char *container_id;
	const char *ifname;
	const char *network;
	const char *netns; /* "netns", or the result's interface of ifName's "sandbox" */
	char *args;        /* cniArgs as CNI_ARGS: "K=V;K=V" */
	json_t *config;    /* the network configuration: a conflist or one plugin's */
};

/* The strings point into `cached`, which must outlive the entry. */
int cni_cache_entry_parse(json_t *cached, struct cni_cache_entry *out, struct cni_error *err);
void cni_cache_entry_clear(struct cni_cache_entry *e);

/* The first plugin configuration in it that `match` takes, as a runtime passes it to
 * the plugin (the list's name and cniVersion set on it); a new reference, or NULL. */
json_t *cni_cache_entry_plugin(const struct cni_cache_entry *e, bool (*match)(json_t *plugin, void *ctx), void *ctx);
