/* macvlan: gives a container an interface on the master's LAN segment. */
#include <stdio.h>

#include "cni/skel.h"
#include "macvlan/macvlan.h"

static const struct cni_plugin macvlan_plugin = {
	.name = "macvlan",
	.about = "CNI macvlan plugin",
	.add = macvlan_add,
	.del = macvlan_del,
	.check = macvlan_check,
	.status = macvlan_status,
	.gc = macvlan_gc,
};

int main(void)
{
	return cni_plugin_main(&macvlan_plugin, stdin, stdout);
}
