/* Start: every lease saved by an earlier run taken back. One whose pod is still there
 * resumes (renewed when due, its address put back if it went); one whose pod went
 * away while the daemon was down is released through the master. */
#pragma once

#include "dhcpd/leases.h"
#include "dhcpd/options.h"

void restore_leases(struct leases *t, const struct daemon_options *opt);
