/* Pods deleted without a DEL: their network namespace file is gone, or holds another
 * namespace now. Their leases are released through the master, at most
 * SWEEP_INTERVAL_MS after the pod went. */
#pragma once

#include <stdint.h>

#include "dhcpd/leases.h"

struct sweep {
	uint64_t at; /* the next sweep */
};

void sweep_init(struct sweep *s, uint64_t now);
/* UINT64_MAX while there is no lease to check. */
uint64_t sweep_deadline(const struct sweep *s, const struct leases *t);
void sweep_run(struct sweep *s, struct leases *t, uint64_t now);
