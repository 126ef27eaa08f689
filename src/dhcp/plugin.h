/* The dhcp IPAM plugin: each CNI command is a call to the node's daemon. */
#pragma once

#include "cni/skel.h"

int dhcp_plugin_add(const struct cni_call *call, struct cni_result *result, struct cni_error *err);
int dhcp_plugin_del(const struct cni_call *call, struct cni_error *err);
int dhcp_plugin_status(const struct cni_call *call, struct cni_error *err);
int dhcp_plugin_check(const struct cni_call *call, struct cni_error *err);
int dhcp_plugin_gc(const struct cni_call *call, struct cni_error *err);
