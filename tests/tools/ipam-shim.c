/* A test plugin that does nothing but delegate every command to its IPAM plugin and
 * print what came back: it drives the delegation code as a real plugin would. */
#include <stdio.h>

#include "cni/delegate.h"
#include "cni/skel.h"

static int shim_add(const struct cni_call *call, struct cni_result *result, struct cni_error *err)
{
	if (!call->conf.ipam_type)
		return cni_error_set(err, CNI_ERR_INVALID_CONFIG, "ipam-shim needs ipam.type");
	return cni_ipam_exec(call, CNI_CMD_ADD, result, err);
}

static int shim_forward(const struct cni_call *call, struct cni_error *err)
{
	if (!call->conf.ipam_type)
		return 0;
	return cni_ipam_exec(call, call->env.command, NULL, err);
}

static const struct cni_plugin shim_plugin = {
	.name = "ipam-shim",
	.about = "test plugin: delegates every command to its IPAM plugin",
	.add = shim_add,
	.del = shim_forward,
	.check = shim_forward,
	.status = shim_forward,
	.gc = shim_forward,
};

int main(void)
{
	return cni_plugin_main(&shim_plugin, stdin, stdout);
}
