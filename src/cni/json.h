/* Typed reads of configuration values with errors that name the key. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "error.h"

/* Each getter leaves *out untouched and returns 0 when the key is absent or null;
 * a value of the wrong type is code 7 naming "<where>.<key>" and the value seen.
 * `where` may be "" for top-level keys. */
int cni_json_string(json_t *obj, const char *where, const char *key, const char **out, struct cni_error *err);
int cni_json_int(json_t *obj, const char *where, const char *key, long long *out, struct cni_error *err);
int cni_json_bool(json_t *obj, const char *where, const char *key, bool *out, struct cni_error *err);
int cni_json_object(json_t *obj, const char *where, const char *key, json_t **out, struct cni_error *err);
int cni_json_array(json_t *obj, const char *where, const char *key, json_t **out, struct cni_error *err);

/* Keys of `obj` that are not in `known` (NULL-terminated), one line each on `out`
 * ("<plugin>: warning: ..."), with the known key it is likely a misspelling of: the
 * plugin still works, as the reference ignores them, but "timeouts" for "timeout"
 * must not pass in silence. Returns how many there were. */
int cni_json_warn_unknown(json_t *obj, const char *where, const char *const *known, const char *plugin, FILE *out);

/* "string", "number", ... for messages. */
const char *cni_json_type_name(const json_t *value);

