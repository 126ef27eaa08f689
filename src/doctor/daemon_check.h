/* Check 3: the node's dhcp daemon answers, and can see the pods' namespaces. */
#pragma once

#include "doctor/report.h"

/* DHCP.Status over `socket_path`: "daemon" ok with its leases, or failed saying
 * whether nothing is there, a stale socket nobody listens on, or another daemon. */
void check_daemon(struct report *r, const char *socket_path);
/* "daemon-netns": the directory where runtimes name pods' namespaces is visible,
 * under `hostprefix` when the daemon runs with -hostprefix (empty: none). */
void check_daemon_netns(struct report *r, const char *hostprefix);
