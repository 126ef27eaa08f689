/* libFuzzer: what reaches the daemon from outside besides DHCP: the network's "ipam"
 * section and CNI_ARGS (in every DHCP.Allocate), and a lease record read back from the
 * state directory (versions 1 and 2). The input is a JSON object {"ipam": ...,
 * "args": "...", "record": ...}. */
#include <stdint.h>
#include <stdlib.h>

#include "cni/args.h"
#include "dhcp/ipam_conf.h"
#include "dhcpd/client_config.h"
#include "dhcpd/lease/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void client_config(json_t *input)
{
	struct cni_error err = { 0 };
	struct cni_args args;
	struct dhcp_ipam_conf conf;
	struct dhcp_client_config config;
	struct dhcp_attachment att = {
		.container_id = "c0ffee",
		.network = "lan",
		.ifname = "eth0",
		.mac = { 2, 0, 0, 0, 0, 1 },
		.mtu = 1500,
	};

	if (cni_args_parse(json_string_value(json_object_get(input, "args")), &args, &err) < 0)
		return;
	att.pod_name = cni_args_get(&args, "K8S_POD_NAME");
	if (dhcp_ipam_conf_parse(json_object_get(input, "ipam"), &args, &conf, &err) == 0 &&
	    dhcp_client_config_build(&conf, &att, &config, &err) == 0)
		dhcp_client_config_free(&config);
	cni_args_free(&args);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *input = json_loadb((const char *)data, size, 0, NULL);
	struct dhcp_lease lease;
	struct lease_spec spec = { 0 };
	json_t *record;
	bool lost;

	if (!json_is_object(input)) {
		json_decref(input);
		return 0;
	}
	client_config(input);
	record = json_object_get(input, "record");
	if (lease_record_lease(record, 1000000, &lease, &lost) == 0)
		dhcp_lease_clear(&lease);
	if (lease_record_names(record, &spec) == 0 && lease_record_mac(record, spec.mac) == 0 &&
	    lease_record_spec(record, &spec) == 0)
		dhcp_client_config_free(&spec.client);
	json_decref(input);
	return 0;
}
