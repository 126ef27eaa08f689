#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "dhcp/jsonline.h"
#include "dhcp/rpc.h"
#include "util/macro.h"

json_t *rpc_error_json(const struct cni_error *err)
{
	json_t *error = json_pack("{s:i, s:s}", "code", err->code, "msg", err->msg);

	if (err->details[0])
		json_object_set_new(error, "details", json_string(err->details));
	return json_pack("{s:o}", "error", error);
}

static int connect_daemon(const char *path, struct cni_error *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path))
		return cni_error_set(err, CNI_ERR_INVALID_CONFIG, "daemon socket path %s is too long", path);
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cni_error_set(err, CNI_ERR_IO, "cannot create a unix socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
		return fd;
	int e = errno;
	close(fd);
	cni_error_set(err, CNI_ERR_DAEMON, "cannot reach the dhcp daemon at %s: %s", path, strerror(e));
	if (e == ENOENT || e == ECONNREFUSED)
		cni_error_details(err, "start it on this node: `dhcp daemon` (the DaemonSet in deploy/kubernetes or "
				       "the unit in deploy/systemd), or point ipam.daemonSocketPath at its socket");
	else if (e == EACCES)
		cni_error_details(err, "the socket admits root only; run the plugin as root or configure the daemon's "
				       "--socket-group");
	return -1;
}

static uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Reads the answer line (or until the daemon closes), within `timeout_ms`. */
static int read_response(int fd, int timeout_ms, struct jsonline_reader *r, struct cni_error *err)
{
	uint64_t until = monotonic_ms() + (uint64_t)timeout_ms;
	int n;

	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		return cni_error_set(err, CNI_ERR_IO, "cannot read from the dhcp daemon: %s", strerror(errno));
	while ((n = jsonline_read(r, fd)) == 0) {
		uint64_t now = monotonic_ms();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (now >= until || poll(&pfd, 1, (int)(until - now)) == 0)
			return cni_error_set(err, CNI_ERR_DAEMON, "the dhcp daemon did not answer within %d s",
					     timeout_ms / 1000);
	}
	if (n == -E2BIG)
		return cni_error_set(err, CNI_ERR_DAEMON, "the dhcp daemon's answer is larger than %u bytes",
				     RPC_ANSWER_MAX);
	if (n < 0 && n != -EPIPE)
		return cni_error_set(err, CNI_ERR_DAEMON, "reading from the dhcp daemon: %s", strerror(-n));
	return 0;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static int parse_response(const struct jsonline_reader *r, const char *method, json_t **result,
			  struct cni_error *err)
{
	json_auto_t *response = jsonline_parse(r, NULL);
	json_t *error = json_object_get(response, "error");

	/* The reference plugins' daemon serves Go's net/rpc over HTTP. */
	if (!response && r->len > 5 && strncmp(r->buf, "HTTP/", 5) == 0) {
		cni_error_set(err, CNI_ERR_DAEMON, "the dhcp daemon on this socket answers HTTP (%.*s): it is the "
						   "reference plugins' daemon, which this dhcp plugin cannot call",
			      (int)strcspn(r->buf, "\r\n"), r->buf);
		cni_error_details(err, "stop it and run this plugin's own `dhcp daemon` (the DaemonSet in "
				       "deploy/kubernetes, or deploy/systemd); both binaries are named dhcp");
		return -EPROTO;
	}
	if (!json_is_object(response))
		return cni_error_set(err, CNI_ERR_DAEMON, "the dhcp daemon's answer to %s is not JSON%s", method,
				     r->len ? "" : " (it closed the connection: see its log)");
	if (json_is_object(error)) {
		json_t *code = json_object_get(error, "code"), *msg = json_object_get(error, "msg");
		json_t *details = json_object_get(error, "details");
		cni_error_set(err, json_is_integer(code) ? (int)json_integer_value(code) : CNI_ERR_DAEMON, "%s",
			      json_is_string(msg) ? json_string_value(msg) : "the dhcp daemon failed without a message");
		if (json_is_string(details))
			cni_error_details(err, "%s", json_string_value(details));
		return -1;
	}
	*result = json_incref(json_object_get(response, "result"));
	return 0;
}

int rpc_call(const char *socket_path, const char *method, json_t *params, int timeout_ms, json_t **result,
	     struct cni_error *err)
{
	json_auto_t *request = json_pack("{s:s, s:O}", "method", method, "params", params);
	size_t len = 0;
	_cleanup_free_ char *line = request ? jsonline_encode(request, &len) : NULL;
	_cleanup_close_ int fd = -1;
	struct jsonline_reader reader;

	if (!line)
		return cni_error_set(err, CNI_ERR_IO, "out of memory building the %s request", method);
	fd = connect_daemon(socket_path, err);
	if (fd < 0)
		return -1;
	int r = write_all(fd, line, len);
	/* A daemon that refuses the caller answers at once and hangs up without reading
	 * the request: sending may fail while its answer waits to be read. */
	if (r < 0 && r != -EPIPE && r != -ECONNRESET)
		return cni_error_set(err, CNI_ERR_DAEMON, "sending %s to the dhcp daemon: %s", method, strerror(-r));
	shutdown(fd, SHUT_WR);
	jsonline_reader_init(&reader, RPC_ANSWER_MAX);
	int read = read_response(fd, timeout_ms, &reader, err);
	if (r < 0 && (read < 0 || reader.len == 0)) {
		cni_error_clear(err);
		r = cni_error_set(err, CNI_ERR_DAEMON, "sending %s to the dhcp daemon: %s", method, strerror(-r));
	} else {
		r = read < 0 ? -1 : parse_response(&reader, method, result, err);
	}
	jsonline_reader_free(&reader);
	return r;
}
