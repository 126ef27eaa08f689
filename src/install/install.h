/* cni-install's two jobs: put the plugins and the network configuration in place, or
 * take back what it put there. */
#pragma once

#include "install/options.h"

/* The configuration is checked (its content, then its place in the conf dir) and every
 * source opened before anything is written: a refused install changes nothing. Says
 * each file's fate on stdout, warnings and errors on stderr. 0 or -1. */
int install_run(const struct install_options *o);

/* Removes the configuration identical to --conf-source, then the plugins identical to
 * those of --bin-source; a file with other bytes is another installation's and is left,
 * saying so. 0 or -1 (a file that could not be removed). */
int uninstall_run(const struct install_options *o);
