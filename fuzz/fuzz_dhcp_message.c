/* libFuzzer: a DHCP reply from the network, through the parser, the lease checks (its
 * address too), what the lease configures, and the conversion to a CNI result in every
 * spec version. */
#include <stdint.h>
#include <stdlib.h>

#include "cni/result.h"
#include "dhcp4/lease.h"
#include "dhcp4/message.h"
#include "dhcpd/lease_result.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every getter; outputs are empty unless one returns 0, so freeing them always is
 * right whatever the lease holds. */
static void read_views(const struct dhcp_lease *lease)
{
	struct dhcp_route *routes;
	struct in_addr router, *dns;
	struct dhcp_strv search;
	char *domain;
	size_t n;

	(void)dhcp_lease_get_router(lease, &router);
	(void)dhcp_lease_get_routes(lease, &routes, &n);
	free(routes);
	(void)dhcp_lease_get_classless_routes(lease, &routes, &n);
	free(routes);
	(void)dhcp_lease_get_dns(lease, &dns, &n);
	free(dns);
	(void)dhcp_lease_get_domain_name(lease, &domain);
	free(domain);
	(void)dhcp_lease_get_search_domains(lease, &search);
	dhcp_strv_free(&search);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dhcp_message *msg = malloc(sizeof(*msg));
	struct dhcp_lease lease;
	struct cni_result result;
	struct cni_error err = { 0 };

	if (!msg)
		return 0;
	if (dhcp_message_parse(data, size, msg) == DHCP_PARSE_OK && !dhcp_lease_from_message(msg, data, size, 0, &lease)) {
		(void)dhcp_lease_address_unusable(&lease);
		read_views(&lease);
		if (lease_to_cni_result(&lease, 100, &result) == 0) {
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
