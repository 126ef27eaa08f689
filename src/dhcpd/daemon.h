/* The node daemon: shared state of the event loop, the RPC server and the leases. */
#pragma once

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cni/error.h"
#include "dhcpd/loop.h"

struct daemon_options {
	char socket_path[PATH_MAX]; /* with the host prefix */
	const char *pidfile;
	const char *hostprefix; /* "" or e.g. "/host": put before every netns path */
	char state_dir[PATH_MAX]; /* with the host prefix */
	bool broadcast;
	int64_t timeout_ms;        /* -timeout: the first retransmission waits at most this */
	int64_t resend_max_ms;     /* -resendmax: the longest wait between retransmissions */
	int64_t resend_timeout_ms; /* -resendtimeout: give up acquiring after this */
	bool has_socket_group;
	gid_t socket_group; /* members may call the daemon too */
};

struct conn;
struct lease_entry;

struct daemon {
	struct daemon_options opt;
	struct loop loop;
	struct lease_entry *leases;
	size_t n_leases;
	uint64_t next_sweep_ms;
	struct conn *conns;
	bool stopping;
};

int daemon_main(int argc, char **argv);
/* `dhcp status` and `dhcp list`: ask a running daemon. */
int daemon_client_main(int argc, char **argv);

__attribute__((format(printf, 1, 2))) void daemon_log(const char *fmt, ...);

/* One RPC call per connection: the answer, then the connection closes. */
void conn_reply(struct conn *conn, json_t *response);
void conn_reply_error(struct conn *conn, const struct cni_error *err);
