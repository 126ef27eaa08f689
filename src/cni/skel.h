/* The part of every plugin that is the same: read the environment and stdin, check
 * versions, call the command's handler, print the result or the error. */
#pragma once

#include <stdio.h>

#include "args.h"
#include "config.h"
#include "env.h"
#include "error.h"
#include "result.h"

struct cni_call {
	struct cni_env env;
	struct cni_args args;
	struct cni_conf conf;
};

struct cni_plugin {
	const char *name;  /* the binary's name, used in messages */
	const char *about; /* one line printed when run without CNI_COMMAND */
	/* Handlers return 0 or -1 with err set; a NULL handler answers "not implemented". */
	int (*add)(const struct cni_call *call, struct cni_result *result, struct cni_error *err);
	int (*del)(const struct cni_call *call, struct cni_error *err);
	int (*check)(const struct cni_call *call, struct cni_error *err);
	int (*status)(const struct cni_call *call, struct cni_error *err);
	int (*gc)(const struct cni_call *call, struct cni_error *err);
};

/* Runs one invocation; returns the process exit status. */
int cni_plugin_main(const struct cni_plugin *plugin, FILE *in, FILE *out);

/* Writes `err` as the spec's error object in `version`. */
void cni_error_print(const struct cni_error *err, enum cni_version version, FILE *out);
