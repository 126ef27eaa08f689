/* CNI_ARGS: "K=V;K=V" key-value pairs passed by the runtime. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct cni_arg {
	char *key;
	char *value;
};

struct cni_args {
	struct cni_arg *items;
	size_t count;
	bool ignore_unknown; /* IgnoreUnknown=1|true */
};

/* NULL or "" gives an empty list. A trailing ';' is allowed, as libcni allows it. */
int cni_args_parse(const char *text, struct cni_args *out, struct cni_error *err);
void cni_args_free(struct cni_args *args);

const char *cni_args_get(const struct cni_args *args, const char *key);

/* A Kubernetes namespace (63) and pod name (253), a slash and the NUL. */
#define CNI_POD_REF_MAX (63 + 1 + 253 + 1)

/* "namespace/name" of the Kubernetes pod that CNI_ARGS `text` names (K8S_POD_NAMESPACE,
 * K8S_POD_NAME): what an operator knows an attachment by. False when either is absent
 * or is not a name Kubernetes gives (the daemon logs and lists it). */
bool cni_args_pod(const char *text, char out[CNI_POD_REF_MAX]);
/* `ref` is such a "namespace/name" (read back from a record). */
bool cni_pod_ref_valid(const char *ref);

/* Error (code 2, naming the key) for a key not in `known` (NULL-terminated), unless
 * IgnoreUnknown is set. IgnoreUnknown itself is always known. */
int cni_args_check_known(const struct cni_args *args, const char *const *known, struct cni_error *err);
