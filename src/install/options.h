/* cni-install's flags and the environment variables a DaemonSet sets instead. */
#pragma once

#include <stdbool.h>

/* The binaries the installer ships, in the order it installs them. */
#define INSTALL_PLUGIN_COUNT 2
extern const char *const install_plugins[INSTALL_PLUGIN_COUNT];

/* Whether the network of --conf-source is meant to be the node's default network:
 * runtimes give every pod the network of the first configuration file in the conf dir. */
enum install_role {
	INSTALL_ROLE_UNSET,
	INSTALL_ROLE_PRIMARY,   /* the node's default network: it must sort first */
	INSTALL_ROLE_SECONDARY, /* attached by name (Multus, podman): it must not sort first */
};

struct install_options {
	const char *bin_source;  /* where the shipped binaries are */
	const char *bin_dir;     /* the runtime's CNI bin dir */
	const char *conf_source; /* NULL: no network configuration to install */
	const char *conf_dir;
	const char *conf_name; /* the file name in conf_dir */
	enum install_role role;
	bool skip[INSTALL_PLUGIN_COUNT]; /* --skip-binaries, SKIP_CNI_BINARIES */
	bool update_binaries;            /* --update-binaries, UPDATE_CNI_BINARIES: false keeps present ones */
	bool uninstall;
	bool dry_run;
};

/* Reads the flags, and the knobs' variables where no flag gives them. 0: run; 1:
 * nothing to run (--help, --version printed); -1: bad usage, said on stderr. */
int install_options_parse(int argc, char **argv, struct install_options *o);
