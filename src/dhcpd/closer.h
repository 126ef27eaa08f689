/* Closing packet sockets off the event loop. The kernel waits for an RCU grace period
 * (synchronize_net, 10-20 ms) in every AF_PACKET close; done inline, that stalls every
 * other lease and caller. A few helper threads do nothing but these closes. */
#pragma once

#include "dhcpd/loop.h"

int closer_start(void);
/* Closes `fd` soon, on a helper thread (inline if none is running). */
void closer_close(int fd);
void closer_stop(void);

/* A packet socket `fd` watched (EPOLLIN) through `source`; when the loop will not
 * take it, it is closed here and -EIO returned. */
int closer_watch(struct loop *loop, struct loop_source *source, int fd, loop_handler handler, void *data);
/* Stops watching `source` and closes its socket off the loop; a no-op without one. */
void closer_unwatch(struct loop *loop, struct loop_source *source);
