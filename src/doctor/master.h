/* Check 2: the master a macvlan hangs on, as the kernel and sysfs describe it. */
#pragma once

#include <stdbool.h>

#include "doctor/report.h"

/* Adds the master's checks (exists, type and MTU; up; not wireless; not a bridge or
 * bond port; promiscuous or not). True when it exists, is up and has a carrier: a
 * probe on it can tell something. */
bool check_master(struct report *r, const char *master);
