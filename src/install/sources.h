/* What cni-install installs or takes back, opened before anything is changed: a source
 * that is missing stops the run before the first write, and what is installed is what
 * was checked, even if a ConfigMap update swaps the file meanwhile. */
#pragma once

#include <limits.h>

#include "install/options.h"

struct sources {
	int bin[INSTALL_PLUGIN_COUNT]; /* -1: skipped */
	char bin_path[INSTALL_PLUGIN_COUNT][PATH_MAX];
	int conf; /* -1: no --conf-source */
};

/* Opens every plugin not skipped and --conf-source. 0, or -1 said on stderr with
 * nothing left open. */
int sources_open(const struct install_options *o, struct sources *s);
void sources_close(struct sources *s);
