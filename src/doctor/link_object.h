/* libnl's link objects released at the end of their scope, as rtnl/socket.h does for
 * sockets and messages. */
#pragma once

#include <netlink/route/link.h>

#include "util/macro.h"

static inline void rtnl_link_putp(struct rtnl_link **link)
{
	if (*link)
		rtnl_link_put(*link);
}
#define _cleanup_link_ _cleanup_(rtnl_link_putp)
