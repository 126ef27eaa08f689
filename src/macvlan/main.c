/* macvlan: gives a container an interface on the master's LAN segment. */
#include <stdio.h>
#include <string.h>

#include "cni/skel.h"
#include "macvlan/macvlan.h"
#include "util/version.h"

static const struct cni_plugin macvlan_plugin = {
	.name = "macvlan",
	.about = "CNI macvlan plugin",
	.add = macvlan_add,
	.del = macvlan_del,
	.check = macvlan_check,
	.status = macvlan_status,
	.gc = macvlan_gc,
};

int main(int argc, char **argv)
{
	/* A runtime runs the plugin without arguments, so an operator's --version cannot
	 * be mistaken for a CNI call. */
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("macvlan %s\n", cnt_version);
		return 0;
	}
	return cni_plugin_main(&macvlan_plugin, stdin, stdout);
}
