#include <string.h>

#include "version.h"

static const char *const names[CNI_VERSION_COUNT] = {
	[CNI_VERSION_0_1_0] = "0.1.0", [CNI_VERSION_0_2_0] = "0.2.0", [CNI_VERSION_0_3_0] = "0.3.0",
	[CNI_VERSION_0_3_1] = "0.3.1", [CNI_VERSION_0_4_0] = "0.4.0", [CNI_VERSION_1_0_0] = "1.0.0",
	[CNI_VERSION_1_1_0] = "1.1.0",
};

int cni_version_parse(const char *text, enum cni_version *out, struct cni_error *err)
{
	if (!text || !*text) {
		*out = CNI_VERSION_0_1_0;
		return 0;
	}
	for (int v = 0; v < CNI_VERSION_COUNT; v++) {
		if (strcmp(text, names[v]) == 0) {
			*out = (enum cni_version)v;
			return 0;
		}
	}
	cni_error_set(err, CNI_ERR_INCOMPATIBLE_VERSION, "incompatible CNI versions: config is \"%s\", plugin supports 0.1.0 to 1.1.0", text);
	cni_error_details(err, "set cniVersion to one of 0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0");
	return -1;
}

const char *cni_version_name(enum cni_version v)
{
	return v < CNI_VERSION_COUNT ? names[v] : "?";
}
