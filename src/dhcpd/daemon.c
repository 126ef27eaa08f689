#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dhcpd/adopt.h"
#include "dhcpd/closer.h"
#include "dhcpd/daemon.h"
#include "dhcpd/leases.h"
#include "dhcpd/log.h"
#include "dhcpd/methods.h"
#include "dhcpd/metrics_http.h"
#include "dhcpd/options.h"
#include "dhcpd/restore.h"
#include "dhcpd/server.h"
#include "dhcpd/state.h"
#include "dhcpd/state_place.h"
#include "dhcpd/sweep.h"
#include "util/macro.h"

struct daemon {
	struct daemon_options opt;
	struct loop loop;
	struct leases leases;
	struct sweep sweep;
	struct methods methods;
	struct server server;
	struct metrics_http metrics;
	struct loop_source signals;
};

/* Opened so that nothing planted at the path (a FIFO, a symlink) can hang the daemon
 * or make it write elsewhere. */
static int write_pidfile(const char *path)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
	char text[16];
	struct stat st;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return -EINVAL;
	int len = snprintf(text, sizeof(text), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || write(fd, text, (size_t)len) != len)
		return errno ? -errno : -EIO;
	return 0;
}

static void on_signal(struct loop_source *source, uint32_t events)
{
	struct daemon *d = source->data;
	struct signalfd_siginfo info;
	(void)events;

	while (read(source->fd, &info, sizeof(info)) == sizeof(info)) {
		log_info("signal %u: shutting down; leases stay with the server and the pods", info.ssi_signo);
		d->methods.stopping = true;
	}
}

static int watch_signals(struct daemon *d)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->signals = (struct loop_source){ .handler = on_signal, .data = d };
	d->signals.fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	return d->signals.fd < 0 ? -errno : loop_add(&d->loop, &d->signals, EPOLLIN);
}

static void run(struct daemon *d)
{
	while (!d->methods.stopping) {
		uint64_t next = leases_next_deadline(&d->leases), at = sweep_deadline(&d->sweep);
		next = at < next ? at : next;
		at = server_deadline(&d->server);
		int r = loop_run_once(&d->loop, at < next ? at : next);
		if (r < 0) {
			log_error("event loop failed: %s", strerror(-r));
			break;
		}
		uint64_t now = loop_now_ms();
		sweep_run(&d->sweep, now);
		leases_run_timers(&d->leases, now);
		server_run_timers(&d->server, now);
		server_reap(&d->server);
		leases_reap(&d->leases);
	}
}

/* Every lease holds sockets while it talks and every caller one: take all the hard
 * limit allows (systemd's LimitNOFILE, a container's ulimit); epoll has no
 * FD_SETSIZE to outgrow. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_warning("cannot raise the open file limit to %llu: %s", (unsigned long long)rl.rlim_max,
				    strerror(errno));
	}
}

/* Before the socket is touched: two daemons on one state directory would each renew
 * and release the other's leases, and the second would take the socket of a first
 * caught between bind and listen for a stale one. */
static int lock_state(const char *dir)
{
	int r = state_init(dir);

	if (r == -EPERM) {
		log_error("the state directory %s is not root's alone (another owner, or writable by group or "
			  "others): whoever writes records there steers the daemon; chown root and chmod 700 it",
			  dir);
		return r;
	}
	if (r < 0) {
		log_error("cannot create the state directory %s: %s", dir, strerror(-r));
		return r;
	}
	r = state_lock(dir);
	if (r == -EWOULDBLOCK)
		log_error("another dhcp daemon keeps its leases in %s: stop it first, or give this one its own "
			  "--state-dir", dir);
	else if (r < 0)
		log_error("cannot lock the state directory %s: %s", dir, strerror(-r));
	return r;
}

/* Where records live (state_place.h), locked, with those an earlier run kept in the
 * other place taken over. */
static int place_state(struct daemon_options *opt)
{
	char chosen[PATH_MAX], other[PATH_MAX];

	state_place_choose(opt->state_dir, opt->state_dir_given, opt->socket_path, chosen, other);
	snprintf(opt->state_dir, sizeof(opt->state_dir), "%s", chosen);
	int fd = lock_state(opt->state_dir);
	if (fd >= 0 && other[0] && strcmp(other, opt->state_dir) != 0)
		state_take_over(opt->state_dir, other);
	if (fd >= 0)
		log_info("lease records are kept in %s", opt->state_dir);
	return fd;
}

/* An operator who asked for metrics hears why there are none at the start, not at
 * the first scrape. */
static int start_metrics(struct daemon *d)
{
	d->metrics.listener.fd = -1;
	if (!d->opt.metrics_listen)
		return 0;
	int r = metrics_http_start(&d->metrics, &d->loop, &d->leases, d->opt.metrics_listen);
	if (r < 0)
		log_error("cannot serve metrics on %s: %s", d->opt.metrics_listen, strerror(-r));
	else
		log_info("metrics served on %s (GET /metrics)", d->opt.metrics_listen);
	return r;
}

/* Saved leases first (a DEL arriving on the socket finds them), then the socket; the
 * pidfile is written between bind and listen: whoever can connect can also read it. */
static int serve(struct daemon *d)
{
	int r;

	leases_init(&d->leases, &d->loop, d->opt.state_dir);
	sweep_init(&d->sweep, &d->leases, &d->loop, loop_now_ms());
	restore_leases(&d->leases, &d->opt);
	adopt_from_cni_cache(&d->leases, &d->opt);
	d->methods = (struct methods){ .leases = &d->leases, .opt = &d->opt };
	server_init(&d->server, &d->loop, d->opt.socket_path, d->opt.has_socket_group ? &d->opt.socket_group : NULL,
		    methods_dispatch, &d->methods);
	if ((r = start_metrics(d)) < 0 || (r = server_bind(&d->server)) < 0) {
		metrics_http_stop(&d->metrics);
		return r;
	}
	r = d->opt.pidfile ? write_pidfile(d->opt.pidfile) : 0;
	if (r < 0)
		log_error("cannot write pidfile %s: %s", d->opt.pidfile, strerror(-r));
	else if ((r = server_listen(&d->server)) == 0)
		run(d);
	server_close(&d->server);
	metrics_http_stop(&d->metrics);
	sweep_close(&d->sweep);
	return r;
}

int daemon_main(int argc, char **argv)
{
	struct daemon d = { .signals = { .fd = -1 } };
	int r = daemon_options_parse(argc, argv, &d.opt);

	if (r != 0)
		return r > 0 ? 0 : 2;
	setvbuf(stderr, NULL, _IOLBF, 0);
	raise_fd_limit();
	_cleanup_close_ int state_lock_fd = place_state(&d.opt);
	if (state_lock_fd < 0)
		return 1;
	if ((r = loop_init(&d.loop)) < 0 || (r = watch_signals(&d)) < 0 || (r = closer_start()) < 0) {
		log_error("cannot set up the event loop: %s", strerror(-r));
		return 1;
	}
	r = serve(&d);
	leases_free_all(&d.leases);
	closer_stop();
	if (d.opt.pidfile)
		unlink(d.opt.pidfile);
	closep(&d.signals.fd);
	loop_close(&d.loop);
	return r < 0 ? 1 : 0;
}
