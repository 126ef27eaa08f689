/* The macvlan plugin's commands. */
#pragma once

#include "cni/skel.h"

int macvlan_add(const struct cni_call *call, struct cni_result *result, struct cni_error *err);
int macvlan_del(const struct cni_call *call, struct cni_error *err);
int macvlan_check(const struct cni_call *call, struct cni_error *err);
int macvlan_status(const struct cni_call *call, struct cni_error *err);
int macvlan_gc(const struct cni_call *call, struct cni_error *err);
