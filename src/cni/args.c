#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "args.h"
#include "util/macro.h"

void cni_args_free(struct cni_args *args)
{
	for (size_t i = 0; i < args->count; i++) {
		free(args->items[i].key);
		free(args->items[i].value);
	}
	free(args->items);
	*args = (struct cni_args){ 0 };
}

/* libcni's UnmarshallableBool: "1"/"true" or "0"/"false", any case. */
static int parse_bool(const char *text, bool *out)
{
	if (strcmp(text, "1") == 0 || strcasecmp(text, "true") == 0)
		*out = true;
	else if (strcmp(text, "0") == 0 || strcasecmp(text, "false") == 0)
		*out = false;
	else
		return -1;
	return 0;
}

static int add_pair(struct cni_args *args, const char *pair, size_t len, struct cni_error *err)
{
	const char *eq = memchr(pair, '=', len);

	/* A key and '='; the value runs to the next ';' and may itself hold '='
	 * (libcni rejects that, but the split is unambiguous). */
	if (!eq || eq == pair) {
		cni_error_set(err, CNI_ERR_INVALID_ENV, "CNI_ARGS: invalid pair \"%.*s\"", (int)len, pair);
		cni_error_details(err, "CNI_ARGS is a list of KEY=VALUE pairs separated by ';'");
		return -1;
	}
	struct cni_arg *arg = array_append(&args->items, &args->count, sizeof(*arg));
	if (!arg)
		return cni_error_set(err, CNI_ERR_IO, "out of memory parsing CNI_ARGS");
	arg->key = strndup(pair, (size_t)(eq - pair));
	arg->value = strndup(eq + 1, len - (size_t)(eq - pair) - 1);
	if (!arg->key || !arg->value)
		return cni_error_set(err, CNI_ERR_IO, "out of memory parsing CNI_ARGS");
	if (strcmp(arg->key, "IgnoreUnknown") == 0 && parse_bool(arg->value, &args->ignore_unknown) < 0) {
		cni_error_set(err, CNI_ERR_INVALID_ENV, "CNI_ARGS: IgnoreUnknown=\"%s\" is not a boolean", arg->value);
		cni_error_details(err, "use IgnoreUnknown=1 or IgnoreUnknown=true");
		return -1;
	}
	return 0;
}

int cni_args_parse(const char *text, struct cni_args *out, struct cni_error *err)
{
	*out = (struct cni_args){ 0 };
	if (!text)
		return 0;
	for (const char *pair = text; *pair;) {
		size_t len = strcspn(pair, ";");
		/* Empty elements, as a trailing ';' leaves, carry nothing: skip them. */
		if (len > 0 && add_pair(out, pair, len, err) < 0) {
			cni_args_free(out);
			return -1;
		}
		pair += len + (pair[len] == ';');
	}
	return 0;
}

const char *cni_args_get(const struct cni_args *args, const char *key)
{
	for (size_t i = 0; i < args->count; i++)
		if (strcmp(args->items[i].key, key) == 0)
			return args->items[i].value;
	return NULL;
}

/* A DNS-1123 subdomain as Kubernetes names pods and namespaces: lower-case letters,
 * digits, '-' and '.', at most `max` long. */
static bool kubernetes_name(const char *name, size_t max)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0 || len > max)
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
			return false;
	return true;
}

bool cni_args_pod(const char *text, char out[CNI_POD_REF_MAX])
{
	struct cni_args args;
	struct cni_error err = { 0 };
	bool named = false;

	if (cni_args_parse(text, &args, &err) < 0)
		return false;
	const char *ns = cni_args_get(&args, "K8S_POD_NAMESPACE"), *name = cni_args_get(&args, "K8S_POD_NAME");
	if (kubernetes_name(ns, 63) && kubernetes_name(name, 253)) {
		snprintf(out, CNI_POD_REF_MAX, "%s/%s", ns, name);
		named = true;
	}
	cni_args_free(&args);
	return named;
}

bool cni_pod_ref_valid(const char *ref)
{
	const char *slash = strchr(ref, '/');
	char ns[64];

	if (!slash || (size_t)(slash - ref) >= sizeof(ns))
		return false;
	memcpy(ns, ref, (size_t)(slash - ref));
	ns[slash - ref] = '\0';
	return kubernetes_name(ns, 63) && kubernetes_name(slash + 1, 253);
}

static bool is_known(const char *key, const char *const *known)
{
	if (strcmp(key, "IgnoreUnknown") == 0)
		return true;
	for (; known && *known; known++)
		if (strcmp(key, *known) == 0)
			return true;
	return false;
}

int cni_args_check_known(const struct cni_args *args, const char *const *known, struct cni_error *err)
{
	if (args->ignore_unknown)
		return 0;
	for (size_t i = 0; i < args->count; i++) {
		if (!is_known(args->items[i].key, known)) {
			cni_error_set(err, CNI_ERR_UNSUPPORTED_FIELD, "CNI_ARGS: unknown key \"%s\"", args->items[i].key);
			cni_error_details(err, "add IgnoreUnknown=1 to CNI_ARGS to let the plugin ignore keys it does not use");
			return -1;
		}
	}
	return 0;
}
