/* The daemon's unix socket: listening, who may call, and the connections of callers
 * (one call each). What a request means is the caller's business (on_request). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dhcpd/conn.h"
#include "dhcpd/loop.h"

struct conn_entry;

struct server {
	struct loop *loop;
	const char *path;
	bool has_group;
	gid_t group; /* members may call too */
	conn_request_fn on_request;
	void *ctx;
	struct loop_source listener;
	bool from_systemd; /* the listening socket was passed by systemd */
	uint64_t resume_at; /* accepting rests until then (descriptors ran out); UINT64_MAX: it does not */
	struct conn_entry *conns;
	size_t n_conns;
};

void server_init(struct server *s, struct loop *loop, const char *path, const gid_t *group, conn_request_fn on_request,
		 void *ctx);
/* Binds the socket (or takes the one systemd passed), replacing a stale file from a
 * dead daemon and refusing to start beside a live one. Until server_listen, a client
 * connecting is refused, so whatever the daemon sets up in between (its pidfile) is
 * in place before the first client can see it. */
int server_bind(struct server *s);
int server_listen(struct server *s);
/* Closes every connection and the socket. */
void server_close(struct server *s);
/* Drops connections that were answered or went away. */
void server_reap(struct server *s);
/* The next stalled caller to hang up on, or the end of a rest from accepting. */
uint64_t server_deadline(const struct server *s);
void server_run_timers(struct server *s, uint64_t now);
