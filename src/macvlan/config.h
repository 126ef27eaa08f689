/* The macvlan plugin's configuration keys, read as the reference plugin reads them. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cni/skel.h"
#include "util/mac.h"

struct macvlan_conf {
	const char *master; /* NULL: the interface of the default route */
	uint32_t mode;      /* MACVLAN_MODE_* */
	const char *mode_name;
	unsigned mtu; /* 0: the kernel's default (the master's) */
	bool has_mac;
	uint8_t mac[MAC_LEN];
	bool link_in_container;
	unsigned bc_queue_len;
	bool host_reach; /* hostReach: the node reaches its pods through a shim (hostreach.c) */
	bool pod_mac;    /* podMac: the MAC from the pod's name (has_mac set once derived) */
};

/* Reads the keys and CNI_ARGS (MAC, and the pod's K8S_POD_NAMESPACE and K8S_POD_NAME
 * for podMac); MAC precedence is runtimeConfig.mac > CNI_ARGS MAC > mac > podMac. */
/* ADD: says on stderr which keys of the configuration no one reads (a typo). */
void macvlan_conf_warn_unknown(const struct cni_call *call);
int macvlan_conf_load(const struct cni_call *call, struct macvlan_conf *out, struct cni_error *err);
const char *macvlan_mode_name(uint32_t mode);
