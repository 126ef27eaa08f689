#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "dhcpd/log.h"
#include "dhcpd/server.h"
#include "util/macro.h"

/* systemd's sd_listen_fds(3): the first passed descriptor. */
#define SD_LISTEN_FDS_START 3
/* Callers at once; more are answered "try again" at once, so that a flood of
 * connections cannot take every descriptor the leases need. */
#define CONNS_MAX 1024
/* accept() out of descriptors: the listener rests this long instead of spinning on a
 * connection it cannot take. */
#define ACCEPT_PAUSE_MS 1000

struct conn_entry {
	struct conn_entry *next;
	struct conn *conn;
};

static bool activated_by_systemd(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	return pid && fds && atoi(pid) == getpid() && atoi(fds) >= 1;
}

void server_init(struct server *s, struct loop *loop, const char *path, const gid_t *group, conn_request_fn on_request,
		 void *ctx)
{
	*s = (struct server){
		.loop = loop,
		.path = path,
		.has_group = group != NULL,
		.group = group ? *group : 0,
		.on_request = on_request,
		.ctx = ctx,
		.listener = { .fd = -1 },
		.resume_at = UINT64_MAX,
	};
}

/* ---- who may call ---- */

/* Supplementary groups count too (SO_PEERGROUPS, Linux 4.13): `usermod -aG` is how
 * one joins a group, and the socket's mode 0660 already lets such callers connect. */
static bool peer_in_group(int fd, gid_t group)
{
	gid_t small[64];
	gid_t *groups = small;
	socklen_t len = sizeof(small);
	bool found = false;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
		/* ERANGE: more groups than fit; len now says how many bytes they need. */
		if (errno != ERANGE || !(groups = malloc(len)))
			return false;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
			len = 0;
	}
	for (size_t i = 0; i < len / sizeof(gid_t) && !found; i++)
		found = groups[i] == group;
	if (groups != small)
		free(groups);
	return found;
}

/* Root only, or members of the socket's group: this socket hands out addresses and
 * enters other namespaces on a caller's word. */
static bool peer_allowed(const struct server *s, int fd, struct ucred *cred)
{
	socklen_t len = sizeof(*cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len) < 0)
		return false;
	if (cred->uid == 0)
		return true;
	return s->has_group && (cred->gid == s->group || peer_in_group(fd, s->group));
}

static void refuse(struct conn *conn, const struct ucred *cred)
{
	struct cni_error err = { 0 };

	cni_error_set(&err, CNI_ERR_DAEMON, "permission denied: uid %u gid %u may not call the dhcp daemon",
		      (unsigned)cred->uid, (unsigned)cred->gid);
	cni_error_details(&err, "only root may, or members of the group given to the daemon's --socket-group");
	/* Answered before its request is read: the answer ends at the newline, where the
	 * caller stops reading, before the reset that closing on an unread request sends. */
	conn_reply_error(conn, &err);
	log_warning("refused a call from uid %u gid %u", (unsigned)cred->uid, (unsigned)cred->gid);
}

/* ---- connections ---- */

static void refuse_busy(struct conn *conn)
{
	struct cni_error err = { 0 };

	cni_error_set(&err, CNI_ERR_TRY_AGAIN, "the dhcp daemon has %d calls open: try again", CONNS_MAX);
	conn_reply_error(conn, &err);
}

static void accept_one(struct server *s, int fd)
{
	struct conn_entry *entry = malloc(sizeof(*entry));
	struct conn *conn = entry ? conn_new(s->loop, fd, s->on_request, s->ctx) : NULL;
	struct ucred cred = { 0 };

	if (!conn) {
		log_error("cannot take a call: out of memory");
		free(entry);
		close(fd);
		return;
	}
	*entry = (struct conn_entry){ .next = s->conns, .conn = conn };
	s->conns = entry;
	s->n_conns++;
	bool allowed = peer_allowed(s, fd, &cred);
	conn_set_caller(conn, allowed ? cred.uid : (uid_t)-1);
	if (!allowed)
		refuse(conn, &cred);
	else if (s->n_conns > CONNS_MAX)
		refuse_busy(conn);
}

/* Out of descriptors (or memory): the pending connection stays queued and epoll would
 * report it again at once, for ever. Rest, and say so once. */
static void pause_accepting(struct server *s, int error)
{
	log_warning("cannot accept calls: %s; resting %d ms (%zu calls open; raise the daemon's LimitNOFILE?)",
		    strerror(error), ACCEPT_PAUSE_MS, s->n_conns);
	loop_remove(s->loop, &s->listener);
	s->resume_at = loop_now_ms() + ACCEPT_PAUSE_MS;
}

static void on_listener(struct loop_source *source, uint32_t events)
{
	struct server *s = source->data;
	(void)events;

	for (;;) {
		int fd = accept4(source->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		int error = errno;
		if (fd >= 0) {
			accept_one(s, fd);
			continue;
		}
		if (error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM)
			pause_accepting(s, error);
		if (error != EINTR && error != ECONNABORTED)
			return;
	}
}

uint64_t server_deadline(const struct server *s)
{
	uint64_t next = s->resume_at;

	for (struct conn_entry *entry = s->conns; entry; entry = entry->next) {
		uint64_t at = conn_deadline(entry->conn);
		next = at < next ? at : next;
	}
	return next;
}

void server_run_timers(struct server *s, uint64_t now)
{
	if (now >= s->resume_at) {
		s->resume_at = UINT64_MAX;
		if (loop_add(s->loop, &s->listener, EPOLLIN) < 0)
			log_error("cannot listen on %s again: %s", s->path, strerror(errno));
	}
	for (struct conn_entry *entry = s->conns; entry; entry = entry->next)
		conn_expire(entry->conn, now);
}

static void drop_conns(struct server *s, bool all)
{
	for (struct conn_entry **p = &s->conns; *p;) {
		struct conn_entry *entry = *p;
		if (!all && !conn_finished(entry->conn)) {
			p = &entry->next;
			continue;
		}
		*p = entry->next;
		s->n_conns--;
		conn_close(entry->conn);
		conn_unref(entry->conn);
		free(entry);
	}
}

void server_reap(struct server *s)
{
	drop_conns(s, false);
}

/* ---- the listening socket ---- */

/* A socket file with nobody behind it is what a killed daemon leaves: replace it. A
 * daemon that answers is left alone. */
static int clear_stale_socket(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;

	if (lstat(path, &st) < 0) {
		int r = -errno;
		if (r == -ENOENT)
			return 0;
		log_error("cannot look at %s: %s", path, strerror(-r));
		return r;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_error("%s exists and is not a socket: not touching it", path);
		return -EEXIST;
	}
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
		log_error("another dhcp daemon is serving on %s: stop it first", path);
		return -EADDRINUSE;
	}
	log_warning("replacing the stale socket %s left by a daemon that is gone", path);
	if (unlink(path) < 0) {
		int r = -errno;
		log_error("cannot remove the stale socket %s: %s", path, strerror(-r));
		return r;
	}
	return 0;
}

/* A directory we create is root's; with a socket group its members must be able to
 * enter it too (0750), or the socket's 0660 would admit nobody but root. */
static int make_parent_dir(const struct server *s)
{
	_cleanup_free_ char *copy = strdup(s->path);
	char *dir = copy ? dirname(copy) : NULL;

	if (!dir)
		return -ENOMEM;
	if (mkdir(dir, s->has_group ? 0750 : 0700) < 0)
		return errno == EEXIST ? 0 : -errno;
	if (s->has_group && chown(dir, 0, s->group) < 0)
		return -errno;
	return 0;
}

static int bind_socket(const struct server *s)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int r;

	if (strlen(s->path) >= sizeof(addr.sun_path)) {
		log_error("socket path %s is too long", s->path);
		return -ENAMETOOLONG;
	}
	strcpy(addr.sun_path, s->path);
	if ((r = make_parent_dir(s)) < 0) {
		log_error("cannot make the directory of the socket %s: %s (does its parent exist, and -hostprefix?)",
			  s->path, strerror(-r));
		return r;
	}
	if ((r = clear_stale_socket(s->path)) < 0)
		return r;
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	mode_t old = umask(0177);
	r = fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ? -errno : 0;
	umask(old);
	if (r == 0 && s->has_group && (chown(s->path, 0, s->group) < 0 || chmod(s->path, 0660) < 0))
		r = -errno;
	if (r < 0) {
		log_error("cannot bind %s: %s", s->path, strerror(-r));
		return r;
	}
	return TAKE_FD(fd);
}

int server_bind(struct server *s)
{
	int fd;

	s->from_systemd = activated_by_systemd();
	if (s->from_systemd) {
		fd = SD_LISTEN_FDS_START;
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	} else if ((fd = bind_socket(s)) < 0) {
		return fd;
	}
	s->listener = (struct loop_source){ .fd = fd, .handler = on_listener, .data = s };
	return 0;
}

int server_listen(struct server *s)
{
	int r = 0;

	/* systemd's socket listens already; listen() again would only reset the backlog. */
	if (!s->from_systemd && listen(s->listener.fd, SOMAXCONN) < 0)
		r = -errno;
	if (r == 0)
		r = loop_add(s->loop, &s->listener, EPOLLIN);
	if (r < 0) {
		log_error("cannot listen on %s: %s", s->path, strerror(-r));
		return r;
	}
	log_info("serving on %s", s->from_systemd ? "the socket passed by systemd" : s->path);
	return 0;
}

void server_close(struct server *s)
{
	drop_conns(s, true);
	if (s->listener.fd < 0)
		return;
	loop_remove(s->loop, &s->listener);
	closep(&s->listener.fd);
	/* A socket systemd made is systemd's to remove. */
	if (!s->from_systemd)
		unlink(s->path);
}
