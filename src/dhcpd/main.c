/* dhcp: one binary, two roles. `dhcp daemon` is the node daemon that holds leases
 * (src/dhcpd); run by a container runtime it is the IPAM plugin that asks the daemon
 * (src/dhcp), and `dhcp status` / `dhcp list` ask it for an operator. */
#include <stdio.h>
#include <string.h>

#include "cni/skel.h"
#include "dhcp/plugin.h"
#include "dhcp/query.h"
#include "dhcpd/daemon.h"
#include "doctor/doctor.h"
#include "util/version.h"

static const struct cni_plugin dhcp_plugin = {
	.name = "dhcp",
	.about = "CNI dhcp IPAM plugin (node daemon: dhcp daemon --help)",
	.add = dhcp_plugin_add,
	.del = dhcp_plugin_del,
	.check = dhcp_plugin_check,
	.status = dhcp_plugin_status,
	.gc = dhcp_plugin_gc,
};

static const char usage[] =
	"usage: dhcp daemon [flags]      the node daemon (dhcp daemon --help)\n"
	"       dhcp status|list [flags] ask a running daemon (-socketpath PATH, --json;\n"
	"                                list --pod [NAMESPACE/]NAME: that pod's leases)\n"
	"       dhcp doctor [flags]      check this node for macvlan + dhcp (dhcp doctor --help)\n"
	"       dhcp --version           the release this binary was built from\n"
	"       dhcp                     the CNI IPAM plugin, as a container runtime runs it\n";

int main(int argc, char **argv)
{
	/* A runtime runs the plugin without arguments. */
	if (argc == 1)
		return cni_plugin_main(&dhcp_plugin, stdin, stdout);
	if (strcmp(argv[1], "daemon") == 0)
		return daemon_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "status") == 0 || strcmp(argv[1], "list") == 0)
		return query_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "doctor") == 0)
		return doctor_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("dhcp %s\n", cnt_version);
		return 0;
	}
	fprintf(stderr, "dhcp: unknown command \"%s\"\n%s", argv[1], usage);
	return 2;
}
