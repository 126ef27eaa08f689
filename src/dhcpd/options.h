/* The daemon's flags: the reference's (-socketpath, -pidfile, -hostprefix,
 * -broadcast, -timeout, -resendmax, -resendtimeout) and ours. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define DHCP_DEFAULT_STATE_DIR "/var/lib/cni/dhcp"
#define DHCP_DEFAULT_CNI_CACHE_DIR "/var/lib/cni"

struct daemon_options {
	char socket_path[PATH_MAX]; /* with the host prefix */
	const char *pidfile;
	const char *hostprefix; /* "" or e.g. "/host": put before every netns path */
	char state_dir[PATH_MAX]; /* with the host prefix */
	bool state_dir_given;     /* by --state-dir, not the default */
	const char *cni_cache_dir; /* libcni's cache, where leases without a record are found; "": none */
	bool broadcast;
	int64_t timeout_ms;        /* -timeout: the first retransmission waits at most this */
	int64_t resend_max_ms;     /* -resendmax: the longest wait between retransmissions */
	int64_t resend_timeout_ms; /* -resendtimeout: give up acquiring after this */
	bool has_socket_group;
	gid_t socket_group; /* members may call the daemon too */
	const char *metrics_listen; /* --metrics-listen: ADDRESS:PORT or a unix socket's path; NULL: none */
};

/* 1: --help was shown; 0: parsed; -1: bad flags (said on stderr). */
int daemon_options_parse(int argc, char **argv, struct daemon_options *opt);
