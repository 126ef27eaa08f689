/* The daemon's unix socket: listening, peer credentials, one RPC call per connection. */
#pragma once

#include "dhcpd/daemon.h"

/* Binds the socket (or takes the one systemd passed), replacing a stale file from a
 * dead daemon and refusing to start beside a live one. Until server_listen, a client
 * connecting is refused, so whatever the daemon sets up in between (its pidfile) is
 * in place before the first client can see it. */
int server_bind(struct daemon *d, struct loop_source *listener);
int server_listen(struct daemon *d, struct loop_source *listener);
void server_close(struct daemon *d, struct loop_source *listener);
/* Frees connections that were answered or went away. */
void server_reap(struct daemon *d);
