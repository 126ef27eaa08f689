/* Check 1: this kernel can make a macvlan at all. */
#pragma once

#include "doctor/report.h"

/* In a throwaway namespace: a dummy link (a veth when the kernel has no dummy driver)
 * and a macvlan on it. Adds the "kernel-macvlan" check. */
void check_kernel_macvlan(struct report *r);
