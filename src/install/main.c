/* cni-install: puts the plugins and the network configuration where the container
 * runtime looks for them, or takes them back (--uninstall). The DaemonSet's init
 * container runs it on every node; operators can run it by hand. */
#include "install/install.h"
#include "install/options.h"

int main(int argc, char **argv)
{
	struct install_options o;
	int r = install_options_parse(argc, argv, &o);

	if (r != 0)
		return r > 0 ? 0 : 2;
	return (o.uninstall ? uninstall_run(&o) : install_run(&o)) < 0 ? 1 : 0;
}
