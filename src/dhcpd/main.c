/* dhcp: one binary, two roles. `dhcp daemon` is the node daemon that holds leases
 * (src/dhcpd); run by a container runtime it is the IPAM plugin that asks the daemon
 * (src/dhcp), and `dhcp status` / `dhcp list` ask it for an operator. */
#include <stdio.h>
#include <string.h>

#include "cni/skel.h"
#include "dhcp/plugin.h"
#include "dhcp/query.h"
#include "dhcpd/daemon.h"

static const struct cni_plugin dhcp_plugin = {
	.name = "dhcp",
	.about = "CNI dhcp IPAM plugin (node daemon: dhcp daemon --help)",
	.add = dhcp_plugin_add,
	.del = dhcp_plugin_del,
	.check = dhcp_plugin_check,
	.status = dhcp_plugin_status,
	.gc = dhcp_plugin_gc,
};

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "daemon") == 0)
		return daemon_main(argc - 1, argv + 1);
	if (argc > 1 && (strcmp(argv[1], "status") == 0 || strcmp(argv[1], "list") == 0))
		return query_main(argc - 1, argv + 1);
	return cni_plugin_main(&dhcp_plugin, stdin, stdout);
}
