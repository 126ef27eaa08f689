/* The daemon's log lines (src/dhcpd/log.c): one line each whatever a name or a server's
 * text holds, in text, JSON that a JSON parser takes, and logfmt; lines below the
 * level are not written. stderr is redirected into a file that each test reads back. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dhcpd/log.h"

static const struct log_subject bound = { .lease = "c1/lan/eth0", .pod = "shop/web-0", .event = "bound" };

/* What the calls of `fn` wrote to stderr. */
static char *captured(void (*fn)(void))
{
	static char out[8192];
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);

	assert_non_null(tmp);
	fflush(stderr);
	dup2(fileno(tmp), STDERR_FILENO);
	fn();
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	size_t n = fread(out, 1, sizeof(out) - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	return out;
}

static void write_bound(void)
{
	log_lease(LOG_INFO, &bound, "10.0.0.5/24 from 10.0.0.1 for 120 s");
}

/* A server's text with a newline, a quote, a backslash and a byte that is not UTF-8. */
static void write_hostile(void)
{
	log_lease(LOG_WARNING, &(struct log_subject){ .lease = "c1/lan/eth0" }, "NAK: \"no\"\n\\fake line \xff");
}

static void write_released(void)
{
	log_lease(LOG_INFO, &(struct log_subject){ .lease = "c1/lan/eth0", .event = "released" }, "released (DEL)");
}

static void write_levels(void)
{
	log_debug("a debug line");
	log_info("an info line");
	log_error("an error line");
}

static int reset(void **state)
{
	(void)state;
	assert_true(log_set_format_name("text"));
	assert_true(log_set_level_name("info"));
	return 0;
}

static void text_line_has_key_event_message_and_pod(void **state)
{
	(void)state;
	const char *line = captured(write_bound);
	const char *body = strstr(line, "Z dhcp: ");

	assert_non_null(body);
	assert_string_equal(body, "Z dhcp: c1/lan/eth0: bound: 10.0.0.5/24 from 10.0.0.1 for 120 s (pod shop/web-0)\n");
}

/* The event is not said twice when the message begins with it. */
static void text_event_not_repeated(void **state)
{
	(void)state;
	const char *line = captured(write_released);
	assert_non_null(strstr(line, "dhcp: c1/lan/eth0: released (DEL)\n"));
}

static void text_escapes_control_characters(void **state)
{
	(void)state;
	const char *line = captured(write_hostile);
	assert_non_null(strstr(line, "NAK: \"no\"\\x0a\\fake line \xff\n"));
	assert_int_equal(strchr(line, '\n') - line, (long)strlen(line) - 1);
}

static void json_line_parses_with_every_field(void **state)
{
	(void)state;
	assert_true(log_set_format_name("json"));
	json_error_t err;
	json_t *obj = json_loads(captured(write_bound), 0, &err);

	assert_non_null(obj);
	assert_string_equal(json_string_value(json_object_get(obj, "level")), "info");
	assert_string_equal(json_string_value(json_object_get(obj, "lease")), "c1/lan/eth0");
	assert_string_equal(json_string_value(json_object_get(obj, "pod")), "shop/web-0");
	assert_string_equal(json_string_value(json_object_get(obj, "event")), "bound");
	assert_string_equal(json_string_value(json_object_get(obj, "msg")), "10.0.0.5/24 from 10.0.0.1 for 120 s");
	assert_non_null(strchr(json_string_value(json_object_get(obj, "time")), 'Z'));
	json_decref(obj);
}

/* Whatever the text holds, the line is one valid JSON object. */
static void json_line_of_hostile_text_is_valid(void **state)
{
	(void)state;
	assert_true(log_set_format_name("json"));
	const char *line = captured(write_hostile);
	json_error_t err;
	json_t *obj = json_loads(line, 0, &err);

	assert_non_null(obj);
	assert_string_equal(json_string_value(json_object_get(obj, "level")), "warning");
	assert_string_equal(json_string_value(json_object_get(obj, "msg")), "NAK: \"no\"\n\\fake line \xc3\xbf");
	assert_null(json_object_get(obj, "pod"));
	json_decref(obj);
}

static void logfmt_quotes_values(void **state)
{
	(void)state;
	assert_true(log_set_format_name("logfmt"));
	const char *line = captured(write_hostile);
	assert_non_null(
		strstr(line, " level=warning lease=\"c1/lan/eth0\" msg=\"NAK: \\\"no\\\"\\x0a\\\\fake line \xff\"\n"));
}

static void lines_below_the_level_are_not_written(void **state)
{
	(void)state;
	const char *out = captured(write_levels);
	assert_null(strstr(out, "a debug line"));
	assert_non_null(strstr(out, "an info line"));
	assert_true(log_set_level_name("error"));
	out = captured(write_levels);
	assert_null(strstr(out, "an info line"));
	assert_non_null(strstr(out, "an error line"));
	assert_false(log_set_level_name("verbose"));
	assert_false(log_set_format_name("xml"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(text_line_has_key_event_message_and_pod, reset),
		cmocka_unit_test_setup(text_event_not_repeated, reset),
		cmocka_unit_test_setup(text_escapes_control_characters, reset),
		cmocka_unit_test_setup(json_line_parses_with_every_field, reset),
		cmocka_unit_test_setup(json_line_of_hostile_text_is_valid, reset),
		cmocka_unit_test_setup(logfmt_quotes_values, reset),
		cmocka_unit_test_setup(lines_below_the_level_are_not_written, reset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
