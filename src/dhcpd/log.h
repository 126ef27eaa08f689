/* The daemon's log: one line per message on stderr, with syslog(3) priorities. Lines
 * below the chosen level (info unless --log-level says otherwise) are not written. */
#pragma once

#include <stdbool.h>
#include <syslog.h>

/* "error", "warning", "info" or "debug"; false for anything else. */
bool log_set_level_name(const char *name);

__attribute__((format(printf, 2, 3))) void log_write(int priority, const char *fmt, ...);

#define log_error(...) log_write(LOG_ERR, __VA_ARGS__)
#define log_warning(...) log_write(LOG_WARNING, __VA_ARGS__)
#define log_info(...) log_write(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_write(LOG_DEBUG, __VA_ARGS__)
