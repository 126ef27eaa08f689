#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dhcpd/log.h"
#include "util/macro.h"

/* Longer messages are cut: none of ours comes near. */
#define LOG_LINE_MAX 4096

static int max_priority = LOG_INFO;

bool log_set_level_name(const char *name)
{
	static const struct {
		const char *name;
		int priority;
	} levels[] = { { "error", LOG_ERR }, { "warning", LOG_WARNING }, { "info", LOG_INFO }, { "debug", LOG_DEBUG } };

	for (size_t i = 0; i < ARRAY_SIZE(levels); i++) {
		if (strcmp(name, levels[i].name) == 0) {
			max_priority = levels[i].priority;
			return true;
		}
	}
	return false;
}

static bool log_enabled(int priority)
{
	return priority <= max_priority;
}

/* One message, one line: names from callers, records or the LAN cannot start a line
 * of their own (a forged one), control characters come out as \xNN. */
static void put_escaped(const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fprintf(stderr, "\\x%02x", *p);
		else
			fputc(*p, stderr);
	}
}

void log_write(int priority, const char *fmt, ...)
{
	struct timespec ts;
	struct tm tm;
	char stamp[32], message[LOG_LINE_MAX];
	va_list ap;

	if (!log_enabled(priority))
		return;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ dhcp: ", stamp, ts.tv_nsec / 1000000);
	put_escaped(message);
	fputc('\n', stderr);
}
