#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dhcp/duration.h"
#include "dhcp/flags.h"
#include "util/macro.h"

void flag_reader_init(struct flag_reader *r, int argc, char **argv, const char *command)
{
	*r = (struct flag_reader){ .argc = argc, .argv = argv, .i = 1, .command = command };
}

bool flag_next(struct flag_reader *r)
{
	if (r->i >= r->argc)
		return false;
	const char *arg = r->argv[r->i++];
	bool is_flag = arg[0] == '-';

	if (is_flag)
		arg += arg[1] == '-' ? 2 : 1;
	const char *eq = is_flag ? strchr(arg, '=') : NULL;
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	snprintf(r->name, sizeof(r->name), "%.*s", (int)len, arg);
	r->value = eq ? eq + 1 : NULL;
	return true;
}

bool flag_is(const struct flag_reader *r, const char *name)
{
	return strcmp(r->name, name) == 0;
}

const char *flag_value(struct flag_reader *r)
{
	if (r->value)
		return r->value;
	if (r->i >= r->argc) {
		fprintf(stderr, "%s: flag -%s needs a value\n", r->command, r->name);
		return NULL;
	}
	return r->argv[r->i++];
}

bool flag_bool(const struct flag_reader *r)
{
	return !r->value || strcmp(r->value, "true") == 0 || strcmp(r->value, "1") == 0;
}

/* The reference daemon's duration flags and their bounds: -timeout and -resendmax
 * are retransmission waits, -resendtimeout an acquisition. */
static const struct {
	const char *name;
	int64_t max_ms;
} duration_bounds[] = {
	{ "timeout", DURATION_MAX_RETRANSMIT_MS },
	{ "resendmax", DURATION_MAX_RETRANSMIT_MS },
	{ "resendtimeout", DURATION_MAX_ACQUIRE_MS },
};

static int64_t duration_bound(const struct flag_reader *r)
{
	for (size_t i = 0; i < ARRAY_SIZE(duration_bounds); i++)
		if (flag_is(r, duration_bounds[i].name))
			return duration_bounds[i].max_ms;
	return DURATION_MAX_ACQUIRE_MS;
}

int flag_duration(struct flag_reader *r, int64_t *ms)
{
	const char *text = flag_value(r);
	int64_t max_ms = duration_bound(r);
	char bound[DURATION_TEXT_MAX];
	int e;

	if (!text)
		return -1;
	e = duration_parse_ms(text, max_ms, ms);
	if (e == -ERANGE) {
		fprintf(stderr, "%s: -%s \"%s\" is longer than %s, the longest allowed\n", r->command, r->name, text,
			duration_format(max_ms, bound));
		return -1;
	}
	if (e < 0 || *ms <= 0) {
		fprintf(stderr, "%s: -%s \"%s\" is not a positive duration (e.g. 10s, 1m30s)\n", r->command, r->name,
			text);
		return -1;
	}
	return 0;
}
