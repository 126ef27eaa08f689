/* Check 4's wire part: DHCPDISCOVERs from a throwaway macvlan on the master, and every
 * answer collected. Never a DHCPREQUEST: no server commits a lease to the probe. */
#pragma once

#include <stdint.h>

#include "cni/error.h"
#include "doctor/report.h"

/* DHCPDISCOVERs at these times (ms) from the start, one xid, secs 0, 1, 2 (RFC 2131
 * 4.4.1: a client retransmits; a server may favour one that has waited longer). */
#define PROBE_SEND_MS { 0, 1000, 2000 }
#define PROBE_LISTEN_DEFAULT_MS 4000

/* In a namespace of its own, a macvlan (mode private, a random locally administered
 * MAC) on `master` sends the DHCPDISCOVERs sent within `listen_ms`, and collects every
 * DHCPOFFER and DHCPNAK until then into `out`. 0, or -1 with `err` when the probe
 * could not be set up. Whatever it made is gone when it returns (scratch.h). */
int probe_run(const char *master, int64_t listen_ms, struct probe_result *out, struct cni_error *err);
