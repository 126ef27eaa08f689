/* A caller's connection: an answer of any size arrives whole, however slowly the
 * caller reads it, without the loop ever blocking on the socket. */
#include <sys/socket.h>

#include "helpers.h"

#include "dhcpd/conn.h"

#define ENTRIES 20000 /* a DHCP.List of this many leases: megabytes */

struct rig {
	struct loop loop;
	int peer;
	struct conn *conn;
	json_t *request;
};

static void on_request(void *ctx, struct conn *conn, json_t *request)
{
	struct rig *r = ctx;
	(void)conn;
	r->request = json_incref(request);
}

static json_t *big_answer(void)
{
	json_t *list = json_array();

	for (int i = 0; i < ENTRIES; i++)
		json_array_append_new(list, json_pack("{s:s,s:i}", "containerID", "0123456789abcdef0123456789abcdef", "n", i));
	return json_pack("{s:o}", "result", list);
}

/* Reads whatever is there; the loop runs between reads, as the daemon's would. */
static size_t drain(struct rig *r, char **text, size_t *len)
{
	char buf[4096];
	ssize_t n = recv(r->peer, buf, sizeof(buf), MSG_DONTWAIT);

	if (n <= 0)
		return 0;
	*text = realloc(*text, *len + (size_t)n + 1);
	assert_non_null(*text);
	memcpy(*text + *len, buf, (size_t)n);
	*len += (size_t)n;
	(*text)[*len] = '\0';
	return (size_t)n;
}

static void a_huge_answer_arrives_whole_to_a_slow_reader(void **state)
{
	struct rig r = { 0 };
	int fds[2], small = 4096;
	char *text = NULL;
	size_t len = 0;
	(void)state;

	assert_int_equal(loop_init(&r.loop), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
	setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	r.peer = fds[1];
	r.conn = conn_new(&r.loop, fds[0], on_request, &r);
	assert_non_null(r.conn);
	const char *ask = "{\"method\":\"DHCP.List\",\"params\":{}}\n";
	assert_int_equal(send(r.peer, ask, strlen(ask), 0), (ssize_t)strlen(ask));
	while (!r.request)
		assert_int_equal(loop_run_once(&r.loop, loop_now_ms() + 1000), 0);

	conn_reply(r.conn, big_answer());
	/* The loop never blocks: each turn returns, however full the socket is. */
	for (unsigned turns = 0; !conn_finished(r.conn); turns++) {
		assert_true(turns < 1000000);
		assert_int_equal(loop_run_once(&r.loop, loop_now_ms()), 0);
		drain(&r, &text, &len);
	}
	while (drain(&r, &text, &len))
		;
	assert_true(len > (size_t)ENTRIES * 40);
	assert_int_equal(text[len - 1], '\n');
	json_error_t jerr;
	json_t *answer = json_loadb(text, len - 1, 0, &jerr);
	assert_non_null(answer);
	assert_int_equal(json_array_size(json_object_get(answer, "result")), ENTRIES);
	json_decref(answer);
	json_decref(r.request);
	free(text);
	conn_unref(r.conn);
	close(r.peer);
	loop_close(&r.loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_huge_answer_arrives_whole_to_a_slow_reader),
	};
	return cmocka_run_group_tests_name("conn", tests, NULL, NULL);
}
