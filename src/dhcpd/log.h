/* The daemon's log: one line per message on stderr, with syslog(3) priorities. Lines
 * below the chosen level (info unless --log-level says otherwise) are not written.
 *
 * Three formats (--log-format): text for a person, "TIME dhcp: MESSAGE"; json, one
 * object a line (time, level, lease, pod, event, msg); logfmt, key=value pairs with
 * the same keys. Under journald (JOURNAL_STREAM names our stderr) a line carries no
 * time of its own but a "<N>" priority prefix, which journald turns into the entry's
 * priority: `journalctl -p warning` then works. */
#pragma once

#include <stdbool.h>
#include <syslog.h>

/* "error", "warning", "info" or "debug"; false for anything else. */
bool log_set_level_name(const char *name);
/* "text", "json" or "logfmt"; false for anything else. */
bool log_set_format_name(const char *name);

/* What a line is about, besides its message; NULL members are left out. */
struct log_subject {
	const char *lease; /* "<containerID>/<network>/<ifname>" */
	const char *pod;   /* "namespace/name" */
	const char *event; /* "bound", "renewed", ...: the lease events an operator follows */
};

__attribute__((format(printf, 2, 3))) void log_write(int priority, const char *fmt, ...);
/* A line about one lease. In text: "KEY: EVENT: MESSAGE (pod NS/NAME)", the event
 * not repeated when the message begins with it ("released (DEL)"). */
__attribute__((format(printf, 3, 4))) void log_lease(int priority, const struct log_subject *subject,
						      const char *fmt, ...);

#define log_error(...) log_write(LOG_ERR, __VA_ARGS__)
#define log_warning(...) log_write(LOG_WARNING, __VA_ARGS__)
#define log_info(...) log_write(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_write(LOG_DEBUG, __VA_ARGS__)
