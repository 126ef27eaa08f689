/* libFuzzer: a DHCP reply from the network, through the parser, the lease checks and
 * the conversion to a CNI result in every spec version. */
#include <stdint.h>
#include <stdlib.h>

#include "cni/result.h"
#include "dhcp4/lease.h"
#include "dhcp4/message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dhcp_message *msg = malloc(sizeof(*msg));
	struct dhcp_lease lease;
	struct cni_result result;
	struct cni_error err = { 0 };

	if (!msg)
		return 0;
	if (dhcp_message_parse(data, size, msg) == DHCP_PARSE_OK && !dhcp_lease_from_message(msg, data, size, 0, &lease)) {
		if (dhcp_lease_to_result(&lease, 100, &result) == 0) {
			for (int v = 0; v < CNI_VERSION_COUNT; v++) {
				json_t *obj = cni_result_to_json(&result, (enum cni_version)v, &err);
				cni_error_clear(&err);
				json_decref(obj);
			}
			cni_result_free(&result);
		}
		dhcp_lease_clear(&lease);
	}
	free(msg);
	return 0;
}
