#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "util/macro.h"

static const char *const command_names[] = {
	[CNI_CMD_ADD] = "ADD",       [CNI_CMD_DEL] = "DEL", [CNI_CMD_CHECK] = "CHECK",
	[CNI_CMD_STATUS] = "STATUS", [CNI_CMD_GC] = "GC",   [CNI_CMD_VERSION] = "VERSION",
};

const char *cni_command_name(enum cni_command cmd)
{
	return (size_t)cmd < ARRAY_SIZE(command_names) ? command_names[cmd] : "?";
}

/* Empty values count as unset: libcni exports every variable, some as "". */
static const char *env_get(const char *name)
{
	const char *value = getenv(name);
	return value && *value ? value : NULL;
}

bool cni_container_id_valid(const char *id)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

	if (!id[0] || !strchr(alnum, id[0]))
		return false;
	for (const char *p = id + 1; *p; p++)
		if (!strchr(alnum, *p) && !strchr("_.-", *p))
			return false;
	return true;
}

/* The kernel's isspace(), which dev_valid_name() uses: ASCII whitespace and Latin-1's
 * no-break space 0xa0 (also the last byte of UTF-8 characters such as U+00A0). */
static bool kernel_isspace(unsigned char c)
{
	return c == 0xa0 || (c && strchr(" \t\n\v\f\r", c));
}

const char *cni_ifname_invalid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0)
		return "is empty";
	/* IFNAMSIZ is 16 including the terminating NUL. */
	if (len > 15)
		return "is longer than 15 bytes";
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return "is \".\" or \"..\"";
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (*p == '/')
			return "contains '/'";
		if (*p == ':')
			return "contains ':'";
		if (kernel_isspace(*p))
			return "contains whitespace";
		/* The kernel names a link "eth%d" eth0, eth1, ...: the runtime would record a
		 * name no link has, and DEL and CHECK would miss the link. */
		if (*p == '%')
			return "contains '%', which the kernel replaces with a number when it names a link";
	}
	return NULL;
}

/* Which variables each command needs (SPEC.md "Parameters"). */
enum { NEED_CONTAINERID = 1, NEED_NETNS = 2, NEED_IFNAME = 4, NEED_PATH = 8 };
static const unsigned required[] = {
	[CNI_CMD_ADD] = NEED_CONTAINERID | NEED_NETNS | NEED_IFNAME | NEED_PATH,
	[CNI_CMD_DEL] = NEED_CONTAINERID | NEED_IFNAME | NEED_PATH,
	[CNI_CMD_CHECK] = NEED_CONTAINERID | NEED_NETNS | NEED_IFNAME | NEED_PATH,
	[CNI_CMD_STATUS] = NEED_PATH,
	[CNI_CMD_GC] = NEED_PATH,
	[CNI_CMD_VERSION] = 0,
};

static int parse_command(const char *text, enum cni_command *out, struct cni_error *err)
{
	if (!text)
		return cni_error_set(err, CNI_ERR_INVALID_ENV, "required env variables [CNI_COMMAND] missing");
	for (size_t i = 0; i < ARRAY_SIZE(command_names); i++) {
		if (strcmp(text, command_names[i]) == 0) {
			*out = (enum cni_command)i;
			return 0;
		}
	}
	cni_error_set(err, CNI_ERR_INVALID_ENV, "unknown CNI_COMMAND \"%s\"", text);
	cni_error_details(err, "CNI_COMMAND must be one of ADD, DEL, CHECK, STATUS, GC, VERSION");
	return -1;
}

static void append_name(char *list, size_t size, const char *name)
{
	size_t used = strlen(list);
	snprintf(list + used, size - used, "%s%s", used ? "," : "", name);
}

int cni_env_load(struct cni_env *env, struct cni_error *err)
{
	*env = (struct cni_env){
		.container_id = env_get("CNI_CONTAINERID"),
		.netns = env_get("CNI_NETNS"),
		.ifname = env_get("CNI_IFNAME"),
		.args = env_get("CNI_ARGS"),
		.path = env_get("CNI_PATH"),
	};
	if (parse_command(env_get("CNI_COMMAND"), &env->command, err) < 0)
		return -1;

	unsigned need = required[env->command];
	char missing[128] = "";
	if ((need & NEED_CONTAINERID) && !env->container_id)
		append_name(missing, sizeof(missing), "CNI_CONTAINERID");
	if ((need & NEED_NETNS) && !env->netns)
		append_name(missing, sizeof(missing), "CNI_NETNS");
	if ((need & NEED_IFNAME) && !env->ifname)
		append_name(missing, sizeof(missing), "CNI_IFNAME");
	if ((need & NEED_PATH) && !env->path)
		append_name(missing, sizeof(missing), "CNI_PATH");
	if (missing[0]) {
		cni_error_set(err, CNI_ERR_INVALID_ENV, "required env variables [%s] missing for %s", missing,
			      cni_command_name(env->command));
		cni_error_details(err, "the container runtime must set these; when calling the plugin by hand, export them");
		return -1;
	}
	/* VERSION uses none of them: as with the Go skel, leftovers in the environment must not fail it. */
	if (env->command == CNI_CMD_VERSION)
		return 0;

	if (env->container_id && !cni_container_id_valid(env->container_id)) {
		cni_error_set(err, CNI_ERR_INVALID_ENV, "invalid CNI_CONTAINERID \"%s\"", env->container_id);
		cni_error_details(err, "it must match ^[a-zA-Z0-9][a-zA-Z0-9_.\\-]*$");
		return -1;
	}
	const char *why = env->ifname ? cni_ifname_invalid(env->ifname) : NULL;
	if (why) {
		cni_error_set(err, CNI_ERR_INVALID_ENV, "invalid CNI_IFNAME \"%s\": it %s", env->ifname, why);
		cni_error_details(err, "interface names are 1 to 15 bytes, not \".\" or \"..\", without '/', ':', '%%' "
				       "or whitespace");
		return -1;
	}
	return 0;
}
