/* A network configuration checked before it is installed, the way runtimes and our
 * plugins will read it: a file runtimes skip, or one our plugins refuse at every ADD,
 * is refused at install time instead, when the operator is looking. */
#pragma once

#include <stddef.h>

#include "cni/error.h"

/* How runtimes (libcni) read a file of the conf dir by its name: *.conflist as a list,
 * *.conf and *.json as one plugin; any other file is skipped. */
enum conf_kind { CONF_NONE, CONF_LIST, CONF_SINGLE };
enum conf_kind conf_kind_of(const char *name);

/* `text` (`len` bytes) is to be installed under the file name `name`, whose extension
 * says how runtimes read it (.conflist: a list; .conf, .json: one plugin). Checks the
 * JSON, name, cniVersion and plugins, then runs the macvlan plugin's parser on entries
 * of type macvlan and the dhcp IPAM parser on entries whose ipam.type is dhcp, each on
 * the configuration a runtime hands that plugin. Unknown keys are warned on stderr, as
 * the plugins warn. 0, or -1 with `err` naming the entry and key. */
int conf_validate(const char *text, size_t len, const char *name, struct cni_error *err);
