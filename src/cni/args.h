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

/* Error (code 2, naming the key) for a key not in `known` (NULL-terminated), unless
 * IgnoreUnknown is set. IgnoreUnknown itself is always known. */
int cni_args_check_known(const struct cni_args *args, const char *const *known, struct cni_error *err);
