/* The CNI_* environment a runtime passes to a plugin. */
#pragma once

#include <stdbool.h>

#include "error.h"

enum cni_command {
	CNI_CMD_ADD,
	CNI_CMD_DEL,
	CNI_CMD_CHECK,
	CNI_CMD_STATUS,
	CNI_CMD_GC,
	CNI_CMD_VERSION,
};

/* Pointers into the process environment; NULL when unset or empty (libcni exports
 * every variable, some as ""). */
struct cni_env {
	enum cni_command command;
	const char *container_id;
	const char *netns;
	const char *ifname;
	const char *args;
	const char *path;
};

const char *cni_command_name(enum cni_command cmd);

/* Reads and validates the variables the command needs; code 4 names every missing
 * or malformed one. */
int cni_env_load(struct cni_env *env, struct cni_error *err);

/* Container IDs: ^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$ */
bool cni_container_id_valid(const char *id);
/* A network's "name" has the same rule (spec 1.0: "must start with an alphanumeric
 * character, optionally followed by any combination of one or more alphanumeric
 * characters, underscore (_), dot (.) or hyphen (-)"). */
static inline bool cni_network_name_valid(const char *name)
{
	return cni_container_id_valid(name);
}
/* Interface names: 1-15 bytes, not "." or "..", no '/', ':', '%' or whitespace (what the
 * kernel refuses, and '%', which it expands). Returns NULL when valid, else why not. */
const char *cni_ifname_invalid(const char *name);
