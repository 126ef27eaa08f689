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

#include "dhcpd/leases.h"
#include "dhcp/rpc.h"
#include "dhcpd/server.h"
#include "util/macro.h"

/* systemd's sd_listen_fds(3): the first passed descriptor. */
#define SD_LISTEN_FDS_START 3

struct conn {
	struct conn *next;
	struct daemon *d;
	struct loop_source src;
	char *buf;
	size_t len;
	size_t cap;
	bool dead;
};

static bool activated_by_systemd(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	return pid && fds && atoi(pid) == getpid() && atoi(fds) >= 1;
}

/* ---- answering ---- */

void conn_reply(struct conn *conn, json_t *response)
{
	char *text = response ? json_dumps(response, JSON_COMPACT) : NULL;

	json_decref(response);
	if (!conn->dead && text) {
		size_t len = strlen(text);
		text[len] = '\n';
		/* Answers are small and the socket buffer is empty: one send does it. */
		if (send(conn->src.fd, text, len + 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			daemon_log("answering a caller failed: %s", strerror(errno));
		/* The caller sees the end at once, not when the loop gets round to closing. */
		shutdown(conn->src.fd, SHUT_WR);
	}
	free(text);
	conn->dead = true;
}

void conn_reply_error(struct conn *conn, const struct cni_error *err)
{
	conn_reply(conn, rpc_error_json(err));
}

static void dispatch(struct conn *conn, json_t *request)
{
	struct daemon *d = conn->d;
	json_t *method = json_object_get(request, "method"), *params = json_object_get(request, "params");
	const char *name = json_string_value(method);
	struct cni_error err = { 0 };

	if (!name || !json_is_object(params)) {
		cni_error_set(&err, CNI_ERR_DECODE, "a request needs \"method\" and \"params\"");
		conn_reply_error(conn, &err);
	} else if (strcmp(name, "DHCP.Allocate") == 0) {
		leases_allocate(d, params, conn);
	} else if (strcmp(name, "DHCP.Release") == 0) {
		leases_release(d, params, conn);
	} else if (strcmp(name, "DHCP.Check") == 0) {
		leases_check(d, params, conn);
	} else if (strcmp(name, "DHCP.GC") == 0) {
		leases_gc(d, params, conn);
	} else if (strcmp(name, "DHCP.Status") == 0) {
		conn_reply(conn, json_pack("{s:{s:b, s:I}}", "result", "ready", !d->stopping, "leases",
					   (json_int_t)d->n_leases));
	} else if (strcmp(name, "DHCP.List") == 0) {
		conn_reply(conn, json_pack("{s:o}", "result", leases_list(d)));
	} else {
		cni_error_set(&err, CNI_ERR_NOT_IMPLEMENTED, "unknown method \"%s\"", name);
		cni_error_details(&err, "the daemon serves DHCP.Allocate, DHCP.Release, DHCP.Check, DHCP.GC, DHCP.Status "
					"and DHCP.List");
		conn_reply_error(conn, &err);
	}
}

static void handle_request(struct conn *conn)
{
	json_error_t jerr;
	json_auto_t *request = json_loadb(conn->buf, conn->len, 0, &jerr);
	struct cni_error err = { 0 };

	/* The call is in: from now on only a hangup matters (the caller half-closed). */
	struct epoll_event ev = { .events = 0, .data.ptr = &conn->src };
	epoll_ctl(conn->d->loop.epoll_fd, EPOLL_CTL_MOD, conn->src.fd, &ev);
	if (!request) {
		cni_error_set(&err, CNI_ERR_DECODE, "request is not JSON: %s at line %d, column %d", jerr.text, jerr.line,
			      jerr.column);
		conn_reply_error(conn, &err);
		return;
	}
	dispatch(conn, request);
}

static void on_conn(struct loop_source *source, uint32_t events)
{
	struct conn *conn = source->data;

	if (conn->dead)
		return;
	if (!(events & EPOLLIN)) {
		/* Hung up while waiting for its answer. */
		conn->dead = true;
		return;
	}
	if (conn->cap - conn->len < 2) {
		char *grown = conn->cap < RPC_MESSAGE_MAX ? realloc(conn->buf, conn->cap * 2) : NULL;
		if (!grown) {
			struct cni_error err = { 0 };
			cni_error_set(&err, CNI_ERR_DECODE, "request larger than %u bytes", RPC_MESSAGE_MAX);
			conn_reply_error(conn, &err);
			return;
		}
		conn->buf = grown;
		conn->cap *= 2;
	}
	ssize_t n = read(source->fd, conn->buf + conn->len, conn->cap - conn->len - 1);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		conn->len += (size_t)n;
		if (!memchr(conn->buf + conn->len - n, '\n', (size_t)n))
			return;
	}
	if (n < 0 || conn->len == 0) {
		conn->dead = true;
		return;
	}
	handle_request(conn);
}

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

/* Root only, or members of --socket-group: this socket hands out addresses and
 * enters other namespaces on a caller's word. */
static bool peer_allowed(struct daemon *d, int fd, struct ucred *cred)
{
	socklen_t len = sizeof(*cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len) < 0)
		return false;
	if (cred->uid == 0)
		return true;
	return d->opt.has_socket_group && (cred->gid == d->opt.socket_group || peer_in_group(fd, d->opt.socket_group));
}

static void refuse(int fd, const struct ucred *cred)
{
	struct cni_error err = { 0 };
	json_t *response;

	cni_error_set(&err, CNI_ERR_DAEMON, "permission denied: uid %u gid %u may not call the dhcp daemon",
		      (unsigned)cred->uid, (unsigned)cred->gid);
	cni_error_details(&err, "only root may, or members of the group given to the daemon's --socket-group");
	response = rpc_error_json(&err);
	char *text = json_dumps(response, JSON_COMPACT);
	size_t len = text ? strlen(text) : 0;
	/* Answers end at the newline: the caller stops reading there, before the reset
	 * that closing on its unread request sends. (json_dumps leaves room for it.) */
	if (text)
		text[len] = '\n';
	if (text && send(fd, text, len + 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		daemon_log("refusing uid %u failed: %s", (unsigned)cred->uid, strerror(errno));
	free(text);
	json_decref(response);
	daemon_log("refused a call from uid %u gid %u", (unsigned)cred->uid, (unsigned)cred->gid);
}

static void on_listener(struct loop_source *source, uint32_t events)
{
	struct daemon *d = source->data;
	(void)events;

	for (;;) {
		int fd = accept4(source->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct ucred cred = { 0 };
		if (fd < 0)
			return;
		if (!peer_allowed(d, fd, &cred)) {
			refuse(fd, &cred);
			close(fd);
			continue;
		}
		struct conn *conn = calloc(1, sizeof(*conn));
		if (conn)
			conn->buf = malloc(conn->cap = 4096);
		if (!conn || !conn->buf) {
			free(conn);
			close(fd);
			continue;
		}
		conn->d = d;
		conn->src = (struct loop_source){ .fd = fd, .handler = on_conn, .data = conn };
		conn->next = d->conns;
		d->conns = conn;
		if (loop_add(&d->loop, &conn->src, EPOLLIN) < 0)
			conn->dead = true;
	}
}

void server_reap(struct daemon *d)
{
	for (struct conn **p = &d->conns; *p;) {
		struct conn *conn = *p;
		if (!conn->dead) {
			p = &conn->next;
			continue;
		}
		*p = conn->next;
		leases_forget_waiter(d, conn);
		loop_remove(&d->loop, &conn->src);
		close(conn->src.fd);
		free(conn->buf);
		free(conn);
	}
}

/* ---- the listening socket ---- */

/* A socket file with nobody behind it is what a killed daemon leaves: replace it. A
 * daemon that answers is left alone. */
static int clear_stale_socket(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		daemon_log("%s exists and is not a socket: not touching it", path);
		return -EEXIST;
	}
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
		daemon_log("another dhcp daemon is serving on %s: stop it first", path);
		return -EADDRINUSE;
	}
	daemon_log("replacing the stale socket %s left by a daemon that is gone", path);
	return unlink(path) < 0 ? -errno : 0;
}

/* A directory we create is root's; with --socket-group its members must be able to
 * enter it too (0750), or the socket's 0660 would admit nobody but root. */
static int make_parent_dir(const struct daemon_options *opt)
{
	_cleanup_free_ char *copy = strdup(opt->socket_path);
	char *dir = copy ? dirname(copy) : NULL;

	if (!dir)
		return -ENOMEM;
	if (mkdir(dir, opt->has_socket_group ? 0750 : 0700) < 0)
		return errno == EEXIST ? 0 : -errno;
	if (opt->has_socket_group && chown(dir, 0, opt->socket_group) < 0)
		return -errno;
	return 0;
}

static int bind_socket(struct daemon *d)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	const char *path = d->opt.socket_path;
	int r;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		daemon_log("socket path %s is too long", path);
		return -ENAMETOOLONG;
	}
	strcpy(addr.sun_path, path);
	if ((r = make_parent_dir(&d->opt)) < 0 || (r = clear_stale_socket(path)) < 0)
		return r;
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	mode_t old = umask(0177);
	r = fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ? -errno : 0;
	umask(old);
	if (r == 0 && d->opt.has_socket_group && (chown(path, 0, d->opt.socket_group) < 0 || chmod(path, 0660) < 0))
		r = -errno;
	if (r < 0) {
		daemon_log("cannot bind %s: %s", path, strerror(-r));
		return r;
	}
	return TAKE_FD(fd);
}

int server_bind(struct daemon *d, struct loop_source *listener)
{
	int fd;

	if (activated_by_systemd()) {
		fd = SD_LISTEN_FDS_START;
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	} else if ((fd = bind_socket(d)) < 0) {
		return fd;
	}
	*listener = (struct loop_source){ .fd = fd, .handler = on_listener, .data = d };
	return 0;
}

int server_listen(struct daemon *d, struct loop_source *listener)
{
	const char *path = d->opt.socket_path;
	int r = 0;

	/* systemd's socket listens already; listen() again would only reset the backlog. */
	if (!activated_by_systemd() && listen(listener->fd, SOMAXCONN) < 0)
		r = -errno;
	if (r == 0)
		r = loop_add(&d->loop, listener, EPOLLIN);
	if (r < 0) {
		daemon_log("cannot listen on %s: %s", path, strerror(-r));
		return r;
	}
	daemon_log("serving on %s", activated_by_systemd() ? "the socket passed by systemd" : path);
	return 0;
}

void server_close(struct daemon *d, struct loop_source *listener)
{
	for (struct conn *conn = d->conns; conn; conn = conn->next)
		conn->dead = true;
	server_reap(d);
	loop_remove(&d->loop, listener);
	closep(&listener->fd);
	/* A socket systemd made is systemd's to remove. */
	if (!activated_by_systemd())
		unlink(d->opt.socket_path);
}
