/* Closing packet sockets off the event loop. The kernel waits for an RCU grace period
 * (synchronize_net, 10-20 ms) in every AF_PACKET close; done inline, that stalls every
 * other lease and caller. A few helper threads do nothing but these closes. */
#pragma once

int closer_start(void);
/* Closes `fd` soon, on a helper thread (inline if none is running). */
void closer_close(int fd);
void closer_stop(void);
