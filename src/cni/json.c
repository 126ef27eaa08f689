#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

const char *cni_json_type_name(const json_t *value)
{
	switch (json_typeof(value)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "integer";
	case JSON_REAL: return "number";
	case JSON_TRUE:
	case JSON_FALSE: return "boolean";
	case JSON_NULL: return "null";
	}
	return "value";
}

static json_t *lookup(json_t *obj, const char *key)
{
	json_t *value = json_is_object(obj) ? json_object_get(obj, key) : NULL;
	return json_is_null(value) ? NULL : value;
}

static int wrong_type(const char *where, const char *key, const char *want, json_t *got, struct cni_error *err)
{
	char *text = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
	cni_error_set(err, CNI_ERR_INVALID_CONFIG, "%s%s%s must be %s, not %s %s", where, *where ? "." : "", key,
		      want, cni_json_type_name(got), text ? text : "");
	free(text);
	return -1;
}

int cni_json_string(json_t *obj, const char *where, const char *key, const char **out, struct cni_error *err)
{
	json_t *value = lookup(obj, key);

	if (!value)
		return 0;
	if (!json_is_string(value))
		return wrong_type(where, key, "a string", value, err);
	*out = json_string_value(value);
	return 0;
}

int cni_json_int(json_t *obj, const char *where, const char *key, long long *out, struct cni_error *err)
{
	json_t *value = lookup(obj, key);

	if (!value)
		return 0;
	if (!json_is_integer(value))
		return wrong_type(where, key, "an integer", value, err);
	*out = json_integer_value(value);
	return 0;
}

int cni_json_bool(json_t *obj, const char *where, const char *key, bool *out, struct cni_error *err)
{
	json_t *value = lookup(obj, key);

	if (!value)
		return 0;
	if (!json_is_boolean(value))
		return wrong_type(where, key, "true or false", value, err);
	*out = json_is_true(value);
	return 0;
}

int cni_json_object(json_t *obj, const char *where, const char *key, json_t **out, struct cni_error *err)
{
	json_t *value = lookup(obj, key);

	if (!value)
		return 0;
	if (!json_is_object(value))
		return wrong_type(where, key, "an object", value, err);
	*out = value;
	return 0;
}

int cni_json_array(json_t *obj, const char *where, const char *key, json_t **out, struct cni_error *err)
{
	json_t *value = lookup(obj, key);

	if (!value)
		return 0;
	if (!json_is_array(value))
		return wrong_type(where, key, "an array", value, err);
	*out = value;
	return 0;
}

/* Levenshtein distance, capped: enough to tell a typo from another word. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64];

	if (la >= 64 || lb >= 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diagonal = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t above = row[j];
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t best = diagonal + cost;
			best = above + 1 < best ? above + 1 : best;
			best = row[j - 1] + 1 < best ? row[j - 1] + 1 : best;
			row[j] = best;
			diagonal = above;
		}
	}
	return row[lb];
}

static const char *closest(const char *key, const char *const *known)
{
	const char *best = NULL;
	size_t best_distance = 3; /* two edits at most */

	for (size_t i = 0; known[i]; i++) {
		size_t d = distance(key, known[i]);
		if (d < best_distance) {
			best = known[i];
			best_distance = d;
		}
	}
	return best;
}

int cni_json_warn_unknown(json_t *obj, const char *where, const char *const *known, const char *plugin, FILE *out)
{
	const char *key;
	json_t *value;
	int unknown = 0;

	json_object_foreach(obj, key, value) {
		size_t i = 0;
		while (known[i] && strcmp(known[i], key) != 0)
			i++;
		if (known[i])
			continue;
		const char *guess = closest(key, known);
		fprintf(out, "%s: warning: unknown key \"%s\"%s%s ignored%s%s%s\n", plugin, key, *where ? " in " : "", where,
			guess ? " (did you mean \"" : "", guess ? guess : "", guess ? "\"?)" : "");
		unknown++;
	}
	return unknown;
}
