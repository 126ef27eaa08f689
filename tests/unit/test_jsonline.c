/* JSON lines, the framing both ends of the daemon's socket use: a value out as one
 * line, a line in however it arrives (in pieces, without its newline, too long). */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>

#include "helpers.h"

#include "dhcp/jsonline.h"

struct pipe_pair {
	int reader;
	int writer;
};

static struct pipe_pair nonblocking_pair(void)
{
	int fds[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
	return (struct pipe_pair){ .reader = fds[0], .writer = fds[1] };
}

static void put(int fd, const char *text)
{
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
}

static void encode_is_compact_with_a_newline(void **state)
{
	(void)state;
	json_t *value = load_json("{ \"method\" : \"DHCP.Status\", \"params\" : { } }");
	size_t len = 0;
	char *line = jsonline_encode(value, &len);

	assert_non_null(line);
	assert_string_equal(line, "{\"method\":\"DHCP.Status\",\"params\":{}}\n");
	assert_int_equal(len, strlen(line));
	free(line);
	json_decref(value);
	assert_null(jsonline_encode(NULL, &len));
}

static void line_in_pieces_is_read_whole(void **state)
{
	(void)state;
	struct pipe_pair p = nonblocking_pair();
	struct jsonline_reader r;
	json_error_t jerr;

	jsonline_reader_init(&r, 1024);
	assert_int_equal(jsonline_read(&r, p.reader), 0); /* nothing yet */
	put(p.writer, "{\"a\":");
	assert_int_equal(jsonline_read(&r, p.reader), 0);
	put(p.writer, "[1,2]}\n");
	assert_int_equal(jsonline_read(&r, p.reader), 1);
	json_t *value = jsonline_parse(&r, &jerr);
	assert_non_null(value);
	assert_int_equal(json_array_size(json_object_get(value, "a")), 2);
	json_decref(value);
	jsonline_reader_free(&r);
	close(p.reader);
	close(p.writer);
}

static void end_of_stream_completes_a_line_without_newline(void **state)
{
	(void)state;
	struct pipe_pair p = nonblocking_pair();
	struct jsonline_reader r;

	jsonline_reader_init(&r, 1024);
	put(p.writer, "{\"x\":1}");
	shutdown(p.writer, SHUT_WR);
	assert_int_equal(jsonline_read(&r, p.reader), 1);
	json_t *value = jsonline_parse(&r, NULL);
	assert_non_null(value);
	json_decref(value);
	jsonline_reader_free(&r);
	close(p.reader);
	close(p.writer);
}

static void peer_gone_before_a_byte_is_epipe(void **state)
{
	(void)state;
	struct pipe_pair p = nonblocking_pair();
	struct jsonline_reader r;

	jsonline_reader_init(&r, 1024);
	close(p.writer);
	assert_int_equal(jsonline_read(&r, p.reader), -EPIPE);
	assert_null(jsonline_parse(&r, NULL));
	jsonline_reader_free(&r);
	close(p.reader);
}

static void longer_than_max_is_e2big(void **state)
{
	(void)state;
	struct pipe_pair p = nonblocking_pair();
	struct jsonline_reader r;
	char big[300];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	jsonline_reader_init(&r, 256);
	put(p.writer, big);
	assert_int_equal(jsonline_read(&r, p.reader), -E2BIG);
	jsonline_reader_free(&r);
	close(p.reader);
	close(p.writer);
}

static void exactly_max_is_taken(void **state)
{
	(void)state;
	struct pipe_pair p = nonblocking_pair();
	struct jsonline_reader r;
	char line[257];

	/* 255 octets of a JSON array and its newline: 256, the limit. */
	memset(line, ' ', 255);
	line[0] = '[';
	line[253] = ']';
	line[255] = '\n';
	line[256] = '\0';
	jsonline_reader_init(&r, 256);
	put(p.writer, line);
	assert_int_equal(jsonline_read(&r, p.reader), 1);
	assert_int_equal(r.len, 256);
	json_t *value = jsonline_parse(&r, NULL);
	assert_true(json_is_array(value));
	json_decref(value);
	jsonline_reader_free(&r);
	close(p.reader);
	close(p.writer);
}

static void not_json_says_where(void **state)
{
	(void)state;
	struct pipe_pair p = nonblocking_pair();
	struct jsonline_reader r;
	json_error_t jerr;

	jsonline_reader_init(&r, 1024);
	put(p.writer, "{\"a\": nope}\n");
	assert_int_equal(jsonline_read(&r, p.reader), 1);
	assert_null(jsonline_parse(&r, &jerr));
	assert_int_equal(jerr.line, 1);
	assert_true(jerr.column > 0);
	jsonline_reader_free(&r);
	close(p.reader);
	close(p.writer);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(encode_is_compact_with_a_newline),
		cmocka_unit_test(line_in_pieces_is_read_whole),
		cmocka_unit_test(end_of_stream_completes_a_line_without_newline),
		cmocka_unit_test(peer_gone_before_a_byte_is_epipe),
		cmocka_unit_test(longer_than_max_is_e2big),
		cmocka_unit_test(exactly_max_is_taken),
		cmocka_unit_test(not_json_says_where),
	};
	return cmocka_run_group_tests_name("jsonline", tests, NULL, NULL);
}
