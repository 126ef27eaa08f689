/* dhcp: the IPAM plugin that asks the node's DHCP daemon for a lease. */
#include <stdio.h>

#include "cni/skel.h"

static const struct cni_plugin dhcp_plugin = {
	.name = "dhcp",
	.about = "CNI dhcp IPAM plugin",
};

int main(void)
{
	return cni_plugin_main(&dhcp_plugin, stdin, stdout);
}
