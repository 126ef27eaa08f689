/* libFuzzer: a network configuration on stdin, as a runtime would send it, through
 * config parsing, prevResult parsing and result encoding in every version. */
#include <stdint.h>

#include "cni/args.h"
#include "cni/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cni_conf conf;
	struct cni_error err = { 0 };

	if (cni_conf_parse((const char *)data, size, &conf, &err) < 0)
		return 0;
	if (conf.has_prev_result) {
		for (int v = 0; v < CNI_VERSION_COUNT; v++) {
			json_t *obj = cni_result_to_json(&conf.prev_result, (enum cni_version)v, &err);
			cni_error_clear(&err);
			json_decref(obj);
		}
	}
	/* The config's "name" doubles as a CNI_ARGS string: both come from outside. */
	struct cni_args args;
	if (conf.name && cni_args_parse(conf.name, &args, &err) == 0)
		cni_args_free(&args);
	cni_conf_free(&conf);
	return 0;
}
