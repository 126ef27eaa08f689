#include <stdlib.h>

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
