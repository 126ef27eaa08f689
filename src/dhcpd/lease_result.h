/* A DHCP lease as the CNI result the IPAM plugin answers ADD with. */
#pragma once

#include "cni/result.h"
#include "dhcp4/lease.h"

/* The IPAM result: address/prefix, gateway from option 3; the lease's routes
 * (dhcp_lease_get_routes: option 121 when present, RFC 3442; a 0.0.0.0 next hop is a
 * link-scope route), each with `priority` as its metric when non-zero; DNS from
 * options 6, 15 and 119. Malformed optional options are skipped. 0, -ENOMEM or
 * -EBADMSG (the ACK no longer parses); `out` is empty unless 0 is returned. */
int lease_to_cni_result(const struct dhcp_lease *lease, int priority, struct cni_result *out);
