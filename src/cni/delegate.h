/* Running another plugin (the IPAM plugin) the way a runtime would. */
#pragma once

#include "error.h"
#include "result.h"
#include "skel.h"

/* Finds `type` as an executable regular file in the CNI_PATH directories (first match).
 * Returns a malloc'd path, or NULL with err set naming the directories searched. */
char *cni_find_plugin(const char *type, const char *cni_path, struct cni_error *err);

/* Runs conf.ipam.type for `command` with this process's environment and the whole
 * stdin configuration; its stderr goes to ours. ADD fills `result` (in any version the
 * plugin answers); a failing plugin's code and message are passed on. */
int cni_ipam_exec(const struct cni_call *call, enum cni_command command, struct cni_result *result,
		  struct cni_error *err);
