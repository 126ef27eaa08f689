#include <stdio.h>
#include <string.h>

#include "dhcp/duration.h"
#include "dhcp/flags.h"

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

int flag_duration(struct flag_reader *r, int64_t *ms)
{
	const char *text = flag_value(r);

	if (!text)
		return -1;
	*ms = duration_parse_ms(text);
	if (*ms <= 0) {
		fprintf(stderr, "%s: -%s \"%s\" is not a positive duration (e.g. 10s, 1m30s)\n", r->command, r->name,
			text);
		return -1;
	}
	return 0;
}
