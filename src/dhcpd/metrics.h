/* What the daemon counts for an operator's Prometheus (--metrics-listen): DHCP
 * messages by type, lease events, and how long allocations and renewals took. The
 * counters only grow, from the daemon's start; the loop is the only thread. */
#pragma once

#include <stdint.h>
#include <stdio.h>

#include "dhcp4/client.h"

/* A renewal acknowledged later than this after T1 lost a message or more on the way:
 * the first retransmission goes 4 s after T1 (docs/dhcp.md). */
#define METRICS_RENEWAL_LATE_MS 5000

void metrics_message_sent(uint8_t type);
void metrics_message_received(uint8_t type);
void metrics_lease_event(enum dhcp_event_type type);
void metrics_lease_released(void);
/* A DHCP.Allocate answered, bound or failed, this long after it came in. */
void metrics_allocate_answered(uint64_t ms);
/* A lease renewed (or rebound) this long after its T1. */
void metrics_renewed_after_t1(uint64_t ms);

/* The counters in Prometheus' text exposition format (version 0.0.4). */
void metrics_write(FILE *out);
