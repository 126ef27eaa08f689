#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dhcp/flags.h"
#include "dhcp/rpc.h"
#include "dhcpd/log.h"
#include "dhcpd/metrics_http.h"
#include "dhcpd/options.h"

static const char usage[] =
	"usage: dhcp daemon [flags]\n"
	"\n"
	"The node daemon of the dhcp IPAM plugin: leases addresses for pods from the site's\n"
	"DHCP server, acting as the DHCP client inside each pod's network namespace.\n"
	"\n"
	"Flags of the reference plugin (one or two dashes, -flag value or -flag=value):\n"
	"  -socketpath PATH      where to listen (default " DHCP_DEFAULT_SOCKET ")\n"
	"  -pidfile PATH         write the daemon's pid there (absolute path)\n"
	"  -hostprefix PATH      prefix for the socket and every netns path, for a daemon\n"
	"                        running in a container that sees the host at PATH\n"
	"  -broadcast            ask DHCP servers to broadcast their replies (flags bit);\n"
	"                        a network's ipam.broadcast overrides it\n"
	"  -timeout DURATION     longest wait for an answer before the first retransmission\n"
	"                        (default 10s; RFC 2131's 4 s applies when shorter)\n"
	"  -resendmax DURATION   longest wait between retransmissions (default 62s)\n"
	"  -resendtimeout DURATION\n"
	"                        give up acquiring a lease after this (default 90s, so that\n"
	"                        the error reaches kubelet within its 2m runtime timeout); a\n"
	"                        network's ipam.timeout overrides it\n"
	"\n"
	"Our own:\n"
	"  --socket-group GROUP  members of GROUP may call the daemon too (socket mode 0660);\n"
	"                        otherwise only root (mode 0600)\n"
	"  --state-dir PATH      where leases are kept across restarts, one file each\n"
	"                        (default " DHCP_DEFAULT_STATE_DIR ", under -hostprefix too;\n"
	"                        in a container that does not mount it from the host, the\n"
	"                        directory dhcp-leases beside the socket instead)\n"
	"  --cni-cache-dir DIR   the runtimes' CNI cache (default " DHCP_DEFAULT_CNI_CACHE_DIR ", under\n"
	"                        -hostprefix too, or seen through /proc/1/root): at start, pods\n"
	"                        found there with a lease but no record (made by the reference\n"
	"                        daemon before an upgrade) are adopted and renewed; \"\" for none\n"
	"  --log-level LEVEL     error, warning, info (default) or debug: every DHCP state\n"
	"                        transition and dropped packet\n"
	"  --metrics-listen ADDRESS:PORT|PATH\n"
	"                        serve Prometheus metrics (GET /metrics) there: leases by\n"
	"                        state, DHCP messages by type, lease events, allocate and\n"
	"                        renewal latency; e.g. 127.0.0.1:9153 (off by default)\n"
	"  --log-format FORMAT   text (default), json (an object a line) or logfmt; under\n"
	"                        journald a line has no time of its own, and its priority\n"
	"                        goes to the journal\n"
	"  --help                this text\n"
	"\n"
	"Other commands: dhcp status, dhcp list (ask a running daemon; -socketpath PATH).\n";

/* A name from /etc/group, else a number. Not getgrnam(3): in the static binary it
 * loads the host's NSS modules, built for another libc (libnss_systemd crashed on a
 * name /etc/group lacks); groups only NSS knows can be given by number. */
static int parse_group(const char *text, struct daemon_options *opt)
{
	FILE *f = fopen("/etc/group", "re");
	struct group *g = NULL;
	char *end;
	unsigned long gid = strtoul(text, &end, 10);

	while (f && (g = fgetgrent(f)) && strcmp(g->gr_name, text) != 0)
		;
	if (g)
		opt->socket_group = g->gr_gid;
	if (f)
		fclose(f);
	if (!g && *text >= '0' && *text <= '9' && !*end)
		opt->socket_group = (gid_t)gid;
	else if (!g) {
		fprintf(stderr, "dhcp daemon: --socket-group: no group \"%s\" in /etc/group (a number will do)\n", text);
		return -1;
	}
	opt->has_socket_group = true;
	return 0;
}

/* One flag; -1 when it is bad, 1 for --help. */
static int parse_flag(struct flag_reader *r, struct daemon_options *opt, const char **socket_path,
		      const char **state_dir)
{
	const char *text;

	if (flag_is(r, "help") || flag_is(r, "h")) {
		fputs(usage, stdout);
		return 1;
	}
	if (flag_is(r, "socketpath"))
		return (*socket_path = flag_value(r)) ? 0 : -1;
	if (flag_is(r, "pidfile"))
		return (opt->pidfile = flag_value(r)) ? 0 : -1;
	if (flag_is(r, "hostprefix"))
		return (opt->hostprefix = flag_value(r)) ? 0 : -1;
	if (flag_is(r, "state-dir")) {
		opt->state_dir_given = true;
		return (*state_dir = flag_value(r)) ? 0 : -1;
	}
	if (flag_is(r, "cni-cache-dir"))
		return (opt->cni_cache_dir = flag_value(r)) ? 0 : -1;
	if (flag_is(r, "broadcast")) {
		opt->broadcast = flag_bool(r);
		return 0;
	}
	if (flag_is(r, "timeout"))
		return flag_duration(r, &opt->timeout_ms);
	if (flag_is(r, "resendmax"))
		return flag_duration(r, &opt->resend_max_ms);
	if (flag_is(r, "resendtimeout"))
		return flag_duration(r, &opt->resend_timeout_ms);
	if (flag_is(r, "socket-group"))
		return (text = flag_value(r)) && parse_group(text, opt) == 0 ? 0 : -1;
	if (flag_is(r, "log-level")) {
		if (!(text = flag_value(r)))
			return -1;
		if (log_set_level_name(text))
			return 0;
		fprintf(stderr, "dhcp daemon: --log-level \"%s\": use error, warning, info or debug\n", text);
		return -1;
	}
	if (flag_is(r, "metrics-listen")) {
		char why[160];
		if (!(text = flag_value(r)))
			return -1;
		if (metrics_http_check_address(text, why, sizeof(why)) == 0) {
			opt->metrics_listen = text;
			return 0;
		}
		fprintf(stderr, "dhcp daemon: --metrics-listen: %s\n", why);
		return -1;
	}
	if (flag_is(r, "log-format")) {
		if (!(text = flag_value(r)))
			return -1;
		if (log_set_format_name(text))
			return 0;
		fprintf(stderr, "dhcp daemon: --log-format \"%s\": use text, json or logfmt\n", text);
		return -1;
	}
	fprintf(stderr, "dhcp daemon: unknown flag \"%s\"; see dhcp daemon --help\n", r->name);
	return -1;
}

int daemon_options_parse(int argc, char **argv, struct daemon_options *opt)
{
	struct flag_reader r;
	const char *socket_path = DHCP_DEFAULT_SOCKET, *state_dir = DHCP_DEFAULT_STATE_DIR;

	*opt = (struct daemon_options){
		.hostprefix = "",
		.cni_cache_dir = DHCP_DEFAULT_CNI_CACHE_DIR,
		.timeout_ms = 10000,
		.resend_max_ms = 62000,
		/* The reference waits 208 s; kubelet gives a RunPodSandbox 2 minutes
		 * (runtime-request-timeout), after which the operator sees its timeout
		 * instead of our story of what the wire saw. */
		.resend_timeout_ms = 90000,
	};
	flag_reader_init(&r, argc, argv, "dhcp daemon");
	while (flag_next(&r)) {
		int done = parse_flag(&r, opt, &socket_path, &state_dir);
		if (done != 0)
			return done;
	}
	/* Everything else goes under it: a mistyped prefix must not become new directories
	 * on the container's own file system. */
	struct stat st;
	if (*opt->hostprefix && (stat(opt->hostprefix, &st) < 0 || !S_ISDIR(st.st_mode))) {
		fprintf(stderr, "dhcp daemon: -hostprefix %s is not a directory: it must be where this daemon sees the "
				"host's root (a hostPath mount of /)\n", opt->hostprefix);
		return -1;
	}
	if (opt->pidfile && opt->pidfile[0] != '/') {
		fprintf(stderr, "dhcp daemon: -pidfile must be an absolute path\n");
		return -1;
	}
	if (snprintf(opt->socket_path, sizeof(opt->socket_path), "%s%s", opt->hostprefix, socket_path) >=
		    (int)sizeof(opt->socket_path) ||
	    snprintf(opt->state_dir, sizeof(opt->state_dir), "%s%s", opt->hostprefix, state_dir) >=
		    (int)sizeof(opt->state_dir)) {
		fprintf(stderr, "dhcp daemon: socket or state path too long\n");
		return -1;
	}
	return 0;
}
