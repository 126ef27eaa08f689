/* macvlan: gives a container an interface on the master's LAN segment. */
#include <stdio.h>

#include "cni/skel.h"

static const struct cni_plugin macvlan_plugin = {
	.name = "macvlan",
	.about = "CNI macvlan plugin",
};

int main(void)
{
	return cni_plugin_main(&macvlan_plugin, stdin, stdout);
}
