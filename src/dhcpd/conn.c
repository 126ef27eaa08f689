#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "dhcp/jsonline.h"
#include "dhcp/rpc.h"
#include "dhcpd/conn.h"
#include "dhcpd/log.h"
#include "util/macro.h"

/* A caller has this long to send its request, and to take its answer: one that
 * stalls holds a descriptor for nothing. Waiting for a lease has no such limit (the
 * acquisition has its own). */
#define CONN_STALL_MS 10000

enum conn_state {
	CONN_READING,  /* the request line arrives */
	CONN_WAITING,  /* the request is in; its answer is not */
	CONN_SENDING,  /* the answer is partly out; the rest when the socket takes it */
	CONN_FINISHED, /* answered, or the caller hung up */
};

struct conn {
	unsigned refs;
	enum conn_state state;
	uid_t caller;
	uint64_t deadline; /* reading or sending: the caller stalled; UINT64_MAX while waiting */
	uint64_t requested_at; /* when its request was in */
	struct loop *loop;
	struct loop_source src;
	conn_request_fn on_request;
	void *ctx;
	struct jsonline_reader request;
	char *answer;
	size_t answer_len;
	size_t answer_sent;
};

static void on_event(struct loop_source *source, uint32_t events);

struct conn *conn_new(struct loop *loop, int fd, conn_request_fn on_request, void *ctx)
{
	struct conn *conn = calloc(1, sizeof(*conn));

	if (!conn)
		return NULL;
	*conn = (struct conn){
		.refs = 1,
		.caller = (uid_t)-1,
		.deadline = loop_now_ms() + CONN_STALL_MS,
		.loop = loop,
		.src = { .fd = fd, .handler = on_event, .data = conn },
		.on_request = on_request,
		.ctx = ctx,
	};
	jsonline_reader_init(&conn->request, RPC_MESSAGE_MAX);
	if (loop_add(loop, &conn->src, EPOLLIN) < 0)
		conn->state = CONN_FINISHED;
	return conn;
}

struct conn *conn_ref(struct conn *conn)
{
	conn->refs++;
	return conn;
}

void conn_unref(struct conn *conn)
{
	if (!conn || --conn->refs > 0)
		return;
	conn_close(conn);
	jsonline_reader_free(&conn->request);
	free(conn->answer);
	free(conn);
}

void conn_close(struct conn *conn)
{
	conn->state = CONN_FINISHED;
	if (conn->src.fd < 0)
		return;
	loop_remove(conn->loop, &conn->src);
	closep(&conn->src.fd);
}

uint64_t conn_requested_at(const struct conn *conn)
{
	return conn->requested_at;
}

bool conn_finished(const struct conn *conn)
{
	return conn->state == CONN_FINISHED;
}

void conn_set_caller(struct conn *conn, uid_t uid)
{
	conn->caller = uid;
}

bool conn_caller_is_root(const struct conn *conn)
{
	return conn->caller == 0;
}

uint64_t conn_deadline(const struct conn *conn)
{
	return conn->state == CONN_FINISHED ? UINT64_MAX : conn->deadline;
}

void conn_expire(struct conn *conn, uint64_t now)
{
	if (now < conn_deadline(conn))
		return;
	log_debug("a caller stalled %s its call for %d s: hanging up",
		  conn->state == CONN_READING ? "sending" : "taking the answer to", CONN_STALL_MS / 1000);
	conn->state = CONN_FINISHED;
}

/* Writes what the socket takes; the rest when it says it is writable again. */
static void send_answer(struct conn *conn)
{
	while (conn->answer_sent < conn->answer_len) {
		ssize_t n = send(conn->src.fd, conn->answer + conn->answer_sent, conn->answer_len - conn->answer_sent,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (conn->state != CONN_SENDING)
				conn->deadline = loop_now_ms() + CONN_STALL_MS;
			conn->state = CONN_SENDING;
			loop_modify(conn->loop, &conn->src, EPOLLOUT);
			return;
		}
		if (n < 0) {
			log_warning("answering a caller failed: %s", strerror(errno));
			break;
		}
		conn->answer_sent += (size_t)n;
	}
	/* The caller sees the end at once, not when the loop gets round to closing. */
	shutdown(conn->src.fd, SHUT_WR);
	conn->state = CONN_FINISHED;
}

void conn_reply(struct conn *conn, json_t *response)
{
	bool open = conn->state == CONN_READING || conn->state == CONN_WAITING;

	if (open)
		conn->answer = jsonline_encode(response, &conn->answer_len);
	json_decref(response);
	if (!open)
		return;
	if (!conn->answer) {
		log_error("answering a caller failed: out of memory");
		conn->state = CONN_FINISHED;
		return;
	}
	send_answer(conn);
}

void conn_reply_error(struct conn *conn, const struct cni_error *err)
{
	conn_reply(conn, rpc_error_json(err));
}

/* The reference plugins' dhcp plugin speaks Go's net/rpc over HTTP: it opens with this
 * and takes any status line but "200 Connected to Go RPC" as the error to show. */
#define GO_RPC_CONNECT "CONNECT /_goRPC_ "

static void answer_go_rpc(struct conn *conn)
{
	static const char status[] =
		"HTTP/1.0 501 this is the dhcp daemon of cni-lan, which the reference plugins' dhcp plugin cannot "
		"call: put cni-lan's dhcp plugin in the CNI bin directory too (both are named dhcp)\n\n";

	log_warning("a caller spoke Go net/rpc: the reference plugins' dhcp plugin is installed beside this daemon");
	conn->answer = strdup(status);
	conn->answer_len = conn->answer ? strlen(status) : 0;
	send_answer(conn);
}

static void read_request(struct conn *conn)
{
	struct cni_error err = { 0 };
	json_error_t jerr;
	int r = jsonline_read(&conn->request, conn->src.fd);

	if (r == 0)
		return;
	if (r == -E2BIG) {
		cni_error_set(&err, CNI_ERR_DECODE, "request larger than %u bytes", RPC_MESSAGE_MAX);
		conn_reply_error(conn, &err);
		return;
	}
	if (r < 0) {
		conn->state = CONN_FINISHED;
		return;
	}
	/* The call is in: from now on only a hangup matters (the caller half-closed). */
	conn->state = CONN_WAITING;
	conn->deadline = UINT64_MAX;
	loop_modify(conn->loop, &conn->src, 0);
	if (strncmp(conn->request.buf, GO_RPC_CONNECT, strlen(GO_RPC_CONNECT)) == 0) {
		answer_go_rpc(conn);
		return;
	}
	json_t *request = jsonline_parse(&conn->request, &jerr);
	if (!request) {
		cni_error_set(&err, CNI_ERR_DECODE, "request is not JSON: %s at line %d, column %d", jerr.text, jerr.line,
			      jerr.column);
		conn_reply_error(conn, &err);
		return;
	}
	conn->requested_at = loop_now_ms();
	conn->on_request(conn->ctx, conn, request);
	json_decref(request);
}

static void on_event(struct loop_source *source, uint32_t events)
{
	struct conn *conn = source->data;

	switch (conn->state) {
	case CONN_READING:
		read_request(conn);
		break;
	case CONN_WAITING:
		/* Hung up while waiting for its answer. */
		conn->state = CONN_FINISHED;
		break;
	case CONN_SENDING:
		if (events & (EPOLLHUP | EPOLLERR))
			conn->state = CONN_FINISHED;
		else
			send_answer(conn);
		break;
	case CONN_FINISHED:
		break;
	}
}
