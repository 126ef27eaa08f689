/* CNI specification versions and what each allows. */
#pragma once

#include <stdbool.h>

#include "error.h"

enum cni_version {
	CNI_VERSION_0_1_0,
	CNI_VERSION_0_2_0,
	CNI_VERSION_0_3_0,
	CNI_VERSION_0_3_1,
	CNI_VERSION_0_4_0,
	CNI_VERSION_1_0_0,
	CNI_VERSION_1_1_0,
	CNI_VERSION_COUNT,
};

#define CNI_VERSION_LATEST CNI_VERSION_1_1_0

/* An empty string is 0.1.0, as the spec says for configurations without cniVersion. */
int cni_version_parse(const char *text, enum cni_version *out, struct cni_error *err);
const char *cni_version_name(enum cni_version v);

/* Result shapes: 0.1.0/0.2.0 have ip4/ip6; 0.3.0-0.4.0 add ips[].version; 1.x drop it. */
static inline bool cni_version_has_legacy_result(enum cni_version v) { return v <= CNI_VERSION_0_2_0; }
static inline bool cni_version_has_ip_version(enum cni_version v)
{
	return v >= CNI_VERSION_0_3_0 && v <= CNI_VERSION_0_4_0;
}
