#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dhcpd/log.h"
#include "util/macro.h"

/* Longer messages are cut: none of ours comes near. */
#define LOG_LINE_MAX 4096

enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON, LOG_FORMAT_LOGFMT };

static int max_priority = LOG_INFO;
static enum log_format format = LOG_FORMAT_TEXT;

static const struct {
	const char *name;
	int priority;
} levels[] = { { "error", LOG_ERR }, { "warning", LOG_WARNING }, { "info", LOG_INFO }, { "debug", LOG_DEBUG } };

bool log_set_level_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(levels); i++) {
		if (strcmp(name, levels[i].name) == 0) {
			max_priority = levels[i].priority;
			return true;
		}
	}
	return false;
}

bool log_set_format_name(const char *name)
{
	static const char *const names[] = { [LOG_FORMAT_TEXT] = "text", [LOG_FORMAT_JSON] = "json",
					     [LOG_FORMAT_LOGFMT] = "logfmt" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (strcmp(name, names[i]) == 0) {
			format = (enum log_format)i;
			return true;
		}
	}
	return false;
}

static bool log_enabled(int priority)
{
	return priority <= max_priority;
}

static const char *level_name(int priority)
{
	for (size_t i = 0; i < ARRAY_SIZE(levels); i++)
		if (priority <= levels[i].priority)
			return levels[i].name;
	return "debug";
}

/* systemd sets JOURNAL_STREAM to "DEV:INODE" of the stream it connected to stderr. */
static bool stderr_is_journal(void)
{
	static int known = -1;
	const char *stream;
	unsigned long long dev, ino;
	struct stat st;

	if (known < 0)
		known = (stream = getenv("JOURNAL_STREAM")) && sscanf(stream, "%llu:%llu", &dev, &ino) == 2 &&
			fstat(STDERR_FILENO, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
	return known;
}

/* The line being built; cut, never overrun, at LOG_LINE_MAX. */
struct line {
	char text[LOG_LINE_MAX + 1];
	size_t len;
};

static void put_char(struct line *l, char c)
{
	if (l->len < LOG_LINE_MAX)
		l->text[l->len++] = c;
}

__attribute__((format(printf, 2, 3))) static void put(struct line *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(l->text + l->len, LOG_LINE_MAX + 1 - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len = l->len + (size_t)n < LOG_LINE_MAX ? l->len + (size_t)n : LOG_LINE_MAX;
}

/* One message, one line: names from callers, records or the LAN cannot start a line
 * of their own (a forged one). In text, control characters come out as \xNN; a JSON
 * or logfmt string also escapes its quote and backslash, and JSON every byte that is
 * not ASCII (a server's text need not be UTF-8, a JSON line must be). */
static void put_escaped(struct line *l, const char *text)
{
	bool quoted = format != LOG_FORMAT_TEXT;

	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p < 0x20 || *p == 0x7f || (format == LOG_FORMAT_JSON && *p >= 0x80))
			put(l, format == LOG_FORMAT_JSON ? "\\u%04x" : "\\x%02x", *p);
		else if (quoted && (*p == '"' || *p == '\\'))
			put(l, "\\%c", *p);
		else
			put_char(l, (char)*p);
	}
}

static void put_field(struct line *l, const char *key, const char *value)
{
	if (!value)
		return;
	put(l, format == LOG_FORMAT_JSON ? ", \"%s\": \"" : " %s=\"", key);
	put_escaped(l, value);
	put_char(l, '"');
}

static void put_time(struct line *l)
{
	struct timespec ts;
	struct tm tm;
	char stamp[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	put(l, "%s.%03ldZ", stamp, ts.tv_nsec / 1000000);
}

static void put_text(struct line *l, const struct log_subject *s, const char *message)
{
	if (!stderr_is_journal()) {
		put_time(l);
		put_char(l, ' ');
	}
	put(l, "dhcp: ");
	if (s && s->lease) {
		put_escaped(l, s->lease);
		put(l, ": ");
	}
	if (s && s->event && strncmp(message, s->event, strlen(s->event)) != 0)
		put(l, "%s: ", s->event);
	put_escaped(l, message);
	if (s && s->pod) {
		put(l, " (pod ");
		put_escaped(l, s->pod);
		put_char(l, ')');
	}
}

/* json: {"time": ..., "level": ..., "lease": ..., ...}; logfmt: time=... level=... */
static void put_structured(struct line *l, int priority, const struct log_subject *s, const char *message)
{
	bool json = format == LOG_FORMAT_JSON;

	put(l, json ? "{" : "");
	if (!stderr_is_journal()) {
		put(l, json ? "\"time\": \"" : "time=");
		put_time(l);
		put(l, json ? "\", " : " ");
	}
	put(l, json ? "\"level\": \"%s\"" : "level=%s", level_name(priority));
	if (s) {
		put_field(l, "lease", s->lease);
		put_field(l, "pod", s->pod);
		put_field(l, "event", s->event);
	}
	put_field(l, "msg", message);
	put(l, json ? "}" : "");
}

__attribute__((format(printf, 3, 0))) static void emit(int priority, const struct log_subject *subject,
							 const char *fmt, va_list ap)
{
	char message[LOG_LINE_MAX];
	struct line l = { .len = 0 };

	vsnprintf(message, sizeof(message), fmt, ap);
	if (stderr_is_journal())
		put(&l, "<%d>", priority);
	if (format == LOG_FORMAT_TEXT)
		put_text(&l, subject, message);
	else
		put_structured(&l, priority, subject, message);
	l.text[l.len++] = '\n';
	/* One write a line: a line is never split or interleaved with another's. */
	fwrite(l.text, 1, l.len, stderr);
	fflush(stderr);
}

void log_write(int priority, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(priority))
		return;
	va_start(ap, fmt);
	emit(priority, NULL, fmt, ap);
	va_end(ap);
}

void log_lease(int priority, const struct log_subject *subject, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(priority))
		return;
	va_start(ap, fmt);
	emit(priority, subject, fmt, ap);
	va_end(ap);
}
