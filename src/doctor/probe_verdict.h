/* Check 4's verdict: what the servers the probe heard (or did not hear) mean. */
#pragma once

#include "doctor/report.h"

/* Adds "lan-probe" (a server offered, or the likely causes of silence), and when
 * servers answered "dhcp-servers" (one, or several: a rogue?), "dhcp-nak" and
 * "lease-time" for answers a pod could not use as they are. */
void check_probe(struct report *r, const char *master, const struct probe_result *p);
