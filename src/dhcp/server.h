/* The daemon's unix socket: listening, peer credentials, one RPC call per connection. */
#pragma once

#include "dhcp/daemon.h"

/* Binds the socket (or takes the one systemd passed), replacing a stale file from a
 * dead daemon and refusing to start beside a live one. */
int server_listen(struct daemon *d, struct loop_source *listener);
void server_close(struct daemon *d, struct loop_source *listener);
/* Frees connections that were answered or went away. */
void server_reap(struct daemon *d);
