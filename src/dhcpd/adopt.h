/* Start: the leases pods hold that the daemon has no record of, found in the
 * runtime's CNI result cache (libcni's, cni/cache.h) and reclaimed (reclaim.h) so
 * that they are renewed from now on: pods created under the reference daemon before
 * an upgrade, and pods whose records were lost. Attachments of another daemon (another
 * daemonSocketPath), of pods that are gone, or without an address are left alone. */
#pragma once

#include "dhcpd/leases.h"
#include "dhcpd/options.h"

void adopt_from_cni_cache(struct leases *t, const struct daemon_options *opt);
