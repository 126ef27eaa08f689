#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "dhcpd/closer.h"
#include "dhcpd/daemon.h"
#include "dhcp/duration.h"
#include "dhcpd/leases.h"
#include "dhcp/rpc.h"
#include "dhcpd/server.h"
#include "dhcpd/state.h"
#include "util/macro.h"

void daemon_log(const char *fmt, ...)
{
	struct timespec ts;
	struct tm tm;
	char stamp[32];
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ dhcp: ", stamp, ts.tv_nsec / 1000000);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- flags: the reference's, Go style (-x v, -x=v, --x v), and ours ---- */

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
	"                        give up acquiring a lease after this (default 208s); a\n"
	"                        network's ipam.timeout overrides it\n"
	"\n"
	"Our own:\n"
	"  --socket-group GROUP  members of GROUP may call the daemon too (socket mode 0660);\n"
	"                        otherwise only root (mode 0600)\n"
	"  --state-dir PATH      where leases are kept across restarts, one file each\n"
	"                        (default " DHCP_DEFAULT_STATE_DIR ", under -hostprefix too)\n"
	"  --help                this text\n"
	"\n"
	"Other commands: dhcp status, dhcp list (ask a running daemon; -socketpath PATH).\n";

struct flag_reader {
	int argc;
	char **argv;
	int i;
	const char *name;  /* without dashes */
	const char *value; /* from "=value", or NULL */
};

/* Advances to the next flag; false at the end. */
static bool next_flag(struct flag_reader *r)
{
	static char name[64];

	if (r->i >= r->argc)
		return false;
	const char *arg = r->argv[r->i++];
	if (arg[0] != '-') {
		r->name = arg; /* not a flag: reported as unknown */
		r->value = NULL;
		return true;
	}
	arg += arg[1] == '-' ? 2 : 1;
	const char *eq = strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	snprintf(name, sizeof(name), "%.*s", (int)len, arg);
	r->name = name;
	r->value = eq ? eq + 1 : NULL;
	return true;
}

static const char *flag_value(struct flag_reader *r)
{
	if (r->value)
		return r->value;
	if (r->i >= r->argc) {
		fprintf(stderr, "dhcp daemon: flag -%s needs a value\n", r->name);
		return NULL;
	}
	return r->argv[r->i++];
}

static int parse_duration_flag(struct flag_reader *r, int64_t *out)
{
	const char *text = flag_value(r);

	if (!text)
		return -1;
	*out = duration_parse_ms(text);
	if (*out <= 0) {
		fprintf(stderr, "dhcp daemon: -%s \"%s\" is not a positive duration (e.g. 10s, 1m30s)\n", r->name, text);
		return -1;
	}
	return 0;
}

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

/* 1: --help was shown; 0: parsed; -1: bad flags. */
static int parse_flags(int argc, char **argv, struct daemon_options *opt)
{
	struct flag_reader r = { .argc = argc, .argv = argv, .i = 1 };
	const char *socket_path = DHCP_DEFAULT_SOCKET, *state_dir = DHCP_DEFAULT_STATE_DIR, *text;

	*opt = (struct daemon_options){
		.hostprefix = "",
		.timeout_ms = 10000,
		.resend_max_ms = 62000,
		.resend_timeout_ms = 208000,
	};
	while (next_flag(&r)) {
		if (strcmp(r.name, "help") == 0 || strcmp(r.name, "h") == 0) {
			fputs(usage, stdout);
			return 1;
		} else if (strcmp(r.name, "socketpath") == 0) {
			if (!(socket_path = flag_value(&r)))
				return -1;
		} else if (strcmp(r.name, "pidfile") == 0) {
			if (!(opt->pidfile = flag_value(&r)))
				return -1;
		} else if (strcmp(r.name, "hostprefix") == 0) {
			if (!(opt->hostprefix = flag_value(&r)))
				return -1;
		} else if (strcmp(r.name, "broadcast") == 0) {
			opt->broadcast = !r.value || strcmp(r.value, "true") == 0 || strcmp(r.value, "1") == 0;
		} else if (strcmp(r.name, "timeout") == 0) {
			if (parse_duration_flag(&r, &opt->timeout_ms) < 0)
				return -1;
		} else if (strcmp(r.name, "resendmax") == 0) {
			if (parse_duration_flag(&r, &opt->resend_max_ms) < 0)
				return -1;
		} else if (strcmp(r.name, "resendtimeout") == 0) {
			if (parse_duration_flag(&r, &opt->resend_timeout_ms) < 0)
				return -1;
		} else if (strcmp(r.name, "state-dir") == 0) {
			if (!(state_dir = flag_value(&r)))
				return -1;
		} else if (strcmp(r.name, "socket-group") == 0) {
			if (!(text = flag_value(&r)) || parse_group(text, opt) < 0)
				return -1;
		} else {
			fprintf(stderr, "dhcp daemon: unknown flag \"%s\"; see dhcp daemon --help\n", r.name);
			return -1;
		}
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

/* ---- running ---- */

static int write_pidfile(const char *path)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return -errno;
	fprintf(f, "%d\n", (int)getpid());
	return fclose(f) < 0 ? -errno : 0;
}

static void on_signal(struct loop_source *source, uint32_t events)
{
	struct daemon *d = source->data;
	struct signalfd_siginfo info;
	(void)events;

	while (read(source->fd, &info, sizeof(info)) == sizeof(info)) {
		daemon_log("signal %u: shutting down; leases stay with the server and the pods", info.ssi_signo);
		d->stopping = true;
	}
}

static int watch_signals(struct daemon *d, struct loop_source *source)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	*source = (struct loop_source){ .handler = on_signal, .data = d };
	source->fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	return source->fd < 0 ? -errno : loop_add(&d->loop, source, EPOLLIN);
}

static void run(struct daemon *d)
{
	while (!d->stopping) {
		int r = loop_run_once(&d->loop, leases_next_deadline(d));
		if (r < 0) {
			daemon_log("event loop failed: %s", strerror(-r));
			break;
		}
		leases_run_timers(d, loop_now_ms());
		server_reap(d);
		leases_reap(d);
	}
}

int daemon_main(int argc, char **argv)
{
	struct daemon d = { 0 };
	struct loop_source listener = { .fd = -1 }, signals = { .fd = -1 };
	int r = parse_flags(argc, argv, &d.opt);

	if (r != 0)
		return r > 0 ? 0 : 2;
	setvbuf(stderr, NULL, _IOLBF, 0);
	if ((r = state_init(d.opt.state_dir)) < 0) {
		daemon_log("cannot create the state directory %s: %s", d.opt.state_dir, strerror(-r));
		return 1;
	}
	/* Before the socket is touched: two daemons on one state directory would each
	 * renew and release the other's leases, and the second would take the socket of
	 * a first caught between bind and listen for a stale one. */
	_cleanup_close_ int state_lock_fd = state_lock(d.opt.state_dir);
	if (state_lock_fd == -EWOULDBLOCK) {
		daemon_log("another dhcp daemon keeps its leases in %s: stop it first, or give this one its own "
			   "--state-dir", d.opt.state_dir);
		return 1;
	}
	if (state_lock_fd < 0) {
		daemon_log("cannot lock the state directory %s: %s", d.opt.state_dir, strerror(-state_lock_fd));
		return 1;
	}
	if (loop_init(&d.loop) < 0 || watch_signals(&d, &signals) < 0 || closer_start() < 0)
		return 1;
	/* Saved leases first: a DEL arriving on the socket finds them. */
	leases_restore(&d);
	if (server_bind(&d, &listener) < 0)
		return 1;
	/* Written between bind and listen: whoever can connect can also read it. */
	r = d.opt.pidfile ? write_pidfile(d.opt.pidfile) : 0;
	if (r < 0)
		daemon_log("cannot write pidfile %s: %s", d.opt.pidfile, strerror(-r));
	else if ((r = server_listen(&d, &listener)) == 0)
		run(&d);
	server_close(&d, &listener);
	leases_free_all(&d);
	closer_stop();
	if (d.opt.pidfile)
		unlink(d.opt.pidfile);
	closep(&signals.fd);
	loop_close(&d.loop);
	return r < 0 ? 1 : 0;
}

/* ---- dhcp status / dhcp list ---- */

static void print_leases(json_t *list)
{
	json_t *lease;
	size_t i;

	printf("%-40s %-10s %-18s %-15s %8s %8s\n", "LEASE", "STATE", "ADDRESS", "SERVER", "RENEW", "EXPIRES");
	json_array_foreach(list, i, lease) {
		char key[256];
		snprintf(key, sizeof(key), "%s/%s/%s", json_string_value(json_object_get(lease, "containerID")),
			 json_string_value(json_object_get(lease, "network")),
			 json_string_value(json_object_get(lease, "ifName")));
		const char *addr = json_string_value(json_object_get(lease, "address"));
		const char *server = json_string_value(json_object_get(lease, "server"));
		json_t *renew = json_object_get(lease, "renewIn"), *expires = json_object_get(lease, "expiresIn");
		printf("%-40s %-10s %-18s %-15s %7llds %7llds\n", key, json_string_value(json_object_get(lease, "state")),
		       addr ? addr : "-", server ? server : "-", (long long)json_integer_value(renew),
		       (long long)json_integer_value(expires));
	}
}

int daemon_client_main(int argc, char **argv)
{
	struct flag_reader r = { .argc = argc, .argv = argv, .i = 1 };
	const char *socket_path = DHCP_DEFAULT_SOCKET;
	bool as_json = false;
	struct cni_error err = { 0 };
	json_auto_t *params = json_object(), *result = NULL;

	while (next_flag(&r)) {
		if (strcmp(r.name, "socketpath") == 0 && (socket_path = flag_value(&r)))
			continue;
		if (strcmp(r.name, "json") == 0) {
			as_json = true;
			continue;
		}
		fprintf(stderr, "usage: dhcp %s [-socketpath PATH] [--json]\n", argv[0]);
		return 2;
	}
	bool list = strcmp(argv[0], "list") == 0;
	if (rpc_call(socket_path, list ? "DHCP.List" : "DHCP.Status", params, 10000, &result, &err) < 0) {
		fprintf(stderr, "dhcp %s: %s\n%s%s", argv[0], err.msg, err.details, err.details[0] ? "\n" : "");
		return 1;
	}
	if (list && !as_json)
		print_leases(result);
	else
		json_dumpf(result, stdout, JSON_INDENT(2)), putchar('\n');
	return 0;
}
