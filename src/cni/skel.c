#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "skel.h"
#include "util/macro.h"

/* Far above any real configuration; guards against a runaway writer on stdin. */
#define STDIN_MAX (4u << 20)

static const char supported_versions[] =
	"[\"0.1.0\",\"0.2.0\",\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\",\"1.1.0\"]";

static void print_json(json_t *obj, FILE *out)
{
	json_dumpf(obj, out, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
	fputc('\n', out);
	fflush(out);
}

/* Bytes of the UTF-8 character at `s` (RFC 3629, as jansson checks it), 0 when not one. */
static size_t utf8_char_len(const unsigned char *s)
{
	size_t n = s[0] < 0x80 ? 1 : s[0] >= 0xc2 && s[0] <= 0xdf ? 2 : s[0] >= 0xe0 && s[0] <= 0xef ? 3
		   : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : 0;
	unsigned long cp = n > 1 ? s[0] & (0x7f >> n) : s[0];

	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong, surrogate or past U+10FFFF */
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

/* jansson refuses strings that are not UTF-8, but a message may quote any bytes of the
 * environment or be cut inside a character: those bytes become U+FFFD, as Go prints them. */
static json_t *utf8_string(const char *text)
{
	const unsigned char *p = (const unsigned char *)text;
	_cleanup_free_ char *buf = malloc(strlen(text) * 3 + 1);
	size_t used = 0;

	if (!buf)
		return NULL;
	while (*p) {
		size_t n = utf8_char_len(p);
		if (n) {
			memcpy(buf + used, p, n);
			used += n;
			p += n;
		} else {
			memcpy(buf + used, "\xef\xbf\xbd", 3);
			used += 3;
			p++;
		}
	}
	return json_stringn(buf, used);
}

void cni_error_print(const struct cni_error *err, enum cni_version version, FILE *out)
{
	json_auto_t *obj = json_pack("{s:s, s:i, s:o}", "cniVersion", cni_version_name(version), "code",
					       err->code, "msg", utf8_string(err->msg));
	if (err->details[0])
		json_object_set_new(obj, "details", utf8_string(err->details));
	print_json(obj, out);
}

static int read_all(FILE *in, char **out, size_t *len, struct cni_error *err)
{
	size_t cap = 4096, used = 0;
	_cleanup_free_ char *buf = malloc(cap);

	if (!buf)
		return cni_error_set(err, CNI_ERR_IO, "out of memory reading stdin");
	for (;;) {
		used += fread(buf + used, 1, cap - used, in);
		if (ferror(in))
			return cni_error_set(err, CNI_ERR_IO, "cannot read the network configuration from stdin");
		/* A full buffer may hold everything: only more bytes beyond the limit fail. */
		if (used < cap || (cap >= STDIN_MAX && feof(in)))
			break;
		if (cap >= STDIN_MAX && fgetc(in) == EOF && !ferror(in))
			break;
		if (cap >= STDIN_MAX)
			return cni_error_set(err, CNI_ERR_DECODE, "network configuration on stdin exceeds %u bytes",
					     STDIN_MAX);
		char *grown = realloc(buf, cap *= 2);
		if (!grown)
			return cni_error_set(err, CNI_ERR_IO, "out of memory reading stdin");
		buf = grown;
	}
	*out = TAKE_PTR(buf);
	*len = used;
	return 0;
}

static int print_version(const char *stdin_buf, size_t len, FILE *out, struct cni_error *err)
{
	json_error_t jerr;

	/* libcni sends {"cniVersion": "X"}; the answer lists all versions regardless. */
	if (len > 0) {
		json_auto_t *request = json_loadb(stdin_buf, len, 0, &jerr);
		if (!request)
			return cni_error_set(err, CNI_ERR_DECODE, "VERSION input is not valid JSON: %s at line %d, column %d",
					     jerr.text, jerr.line, jerr.column);
	}
	fprintf(out, "{\"cniVersion\":\"1.1.0\",\"supportedVersions\":%s}\n", supported_versions);
	fflush(out);
	return 0;
}

/* SPEC.md: CHECK exists from 0.4.0, STATUS and GC from 1.1.0. */
static int check_command_version(enum cni_command command, enum cni_version version, struct cni_error *err)
{
	enum cni_version needed = command == CNI_CMD_CHECK ? CNI_VERSION_0_4_0
				  : command == CNI_CMD_STATUS || command == CNI_CMD_GC ? CNI_VERSION_1_1_0
										    : CNI_VERSION_0_1_0;
	if (version >= needed)
		return 0;
	cni_error_set(err, CNI_ERR_INCOMPATIBLE_VERSION, "config version %s does not allow %s (needs %s or later)",
		      cni_version_name(version), cni_command_name(command), cni_version_name(needed));
	return -1;
}

/* As the Go skel's validateConfig: runtimes and plugins key state, even file names, on it. */
static int check_network_name(const char *name, struct cni_error *err)
{
	if (!name || !*name)
		return cni_error_set(err, CNI_ERR_INVALID_CONFIG, "missing network name");
	if (cni_container_id_valid(name))
		return 0;
	cni_error_set(err, CNI_ERR_INVALID_CONFIG, "invalid characters in network name \"%s\"", name);
	cni_error_details(err, "it must match ^[a-zA-Z0-9][a-zA-Z0-9_.\\-]*$");
	return -1;
}

static int not_implemented(const struct cni_plugin *plugin, enum cni_command command, struct cni_error *err)
{
	cni_error_set(err, CNI_ERR_NOT_IMPLEMENTED, "%s: %s is not implemented", plugin->name, cni_command_name(command));
	return -1;
}

static int dispatch(const struct cni_plugin *plugin, const struct cni_call *call, FILE *out, struct cni_error *err)
{
	enum cni_command command = call->env.command;
	struct cni_result result = { 0 };
	int r;

	switch (command) {
	case CNI_CMD_ADD:
		if (!plugin->add)
			return not_implemented(plugin, command, err);
		r = plugin->add(call, &result, err);
		if (r == 0) {
			json_auto_t *obj = cni_result_to_json(&result, call->conf.version, err);
			r = obj ? 0 : -1;
			if (obj)
				print_json(obj, out);
		}
		cni_result_free(&result);
		return r;
	case CNI_CMD_DEL:
		return plugin->del ? plugin->del(call, err) : not_implemented(plugin, command, err);
	case CNI_CMD_CHECK:
		return plugin->check ? plugin->check(call, err) : not_implemented(plugin, command, err);
	case CNI_CMD_STATUS:
		return plugin->status ? plugin->status(call, err) : not_implemented(plugin, command, err);
	case CNI_CMD_GC:
		return plugin->gc ? plugin->gc(call, err) : not_implemented(plugin, command, err);
	case CNI_CMD_VERSION:
		break;
	}
	return not_implemented(plugin, command, err);
}

/* A runtime's cached ADD result can be damaged; were DEL to refuse it, every retry would
 * fail and the pod could never be deleted. DEL needs only CNI_IFNAME and the config, so it
 * goes on without it. ADD and CHECK still refuse it. */
static int parse_conf(const struct cni_plugin *plugin, const char *buf, size_t len, struct cni_call *call,
		      struct cni_error *err)
{
	struct cni_error prev_err = { 0 };

	if (call->env.command != CNI_CMD_DEL)
		return cni_conf_parse(buf, len, &call->conf, err);
	if (cni_conf_parse_skip_bad_prev_result(buf, len, &call->conf, &prev_err, err) < 0)
		return -1;
	if (prev_err.code != CNI_OK)
		fprintf(stderr, "%s: DEL of %s in container %s goes on without prevResult, which does not parse (%s); "
			"the runtime's cached ADD result may be damaged\n",
			plugin->name, call->env.ifname, call->env.container_id, prev_err.msg);
	return 0;
}

static int run(const struct cni_plugin *plugin, struct cni_call *call, FILE *in, FILE *out, struct cni_error *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;

	if (cni_env_load(&call->env, err) < 0 || read_all(in, &buf, &len, err) < 0)
		return -1;
	if (call->env.command == CNI_CMD_VERSION)
		return print_version(buf, len, out, err);
	if (parse_conf(plugin, buf, len, call, err) < 0 || check_network_name(call->conf.name, err) < 0 ||
	    check_command_version(call->env.command, call->conf.version, err) < 0 ||
	    cni_args_parse(call->env.args, &call->args, err) < 0)
		return -1;
	return dispatch(plugin, call, out, err);
}

int cni_plugin_main(const struct cni_plugin *plugin, FILE *in, FILE *out)
{
	/* Errors before the configuration is read are printed in the latest version. */
	struct cni_call call = { .conf.version = CNI_VERSION_LATEST };
	struct cni_error err = { 0 };

	if (!getenv("CNI_COMMAND") || !*getenv("CNI_COMMAND")) {
		fprintf(stderr, "%s\n", plugin->about);
		fprintf(stderr, "CNI protocol versions supported: 0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0\n");
		return 0;
	}
	int r = run(plugin, &call, in, out, &err);
	if (r < 0)
		cni_error_print(&err, call.conf.version, out);
	cni_args_free(&call.args);
	cni_conf_free(&call.conf);
	return r < 0 ? 1 : 0;
}
