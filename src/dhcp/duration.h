/* Go-style durations ("10s", "1m30s", "500ms") as the reference's flags take them. */
#pragma once

#include <stdint.h>

/* The longest durations the dhcp plugin's `ipam` keys and the daemon's flags take
 * (docs/dhcp.md). The engine keeps uint32 milliseconds, 49 days: a value past that
 * would wrap to a short one, "4294967.296s" to none at all. */
#define DURATION_MAX_RETRANSMIT_MS (60 * 60 * 1000)   /* a retransmission wait: 1h */
#define DURATION_MAX_ACQUIRE_MS (24 * 60 * 60 * 1000) /* an acquisition, anything else: 24h */

/* Room for duration_format's text. */
#define DURATION_TEXT_MAX 24

/* Decimal numbers, each followed by a unit of ms, s, m or h ("1m30s", "1.5h", ".5s");
 * a bare number is seconds. 0 and the milliseconds in *ms, at most `max_ms`; -EINVAL
 * when `text` is not a duration (signs, exponents, "NaN" are not), -ERANGE when it is
 * longer than `max_ms`. */
int duration_parse_ms(const char *text, int64_t max_ms, int64_t *ms);
/* `ms` in its largest whole unit, as such a bound is written: "24h", "90s", "300ms". */
const char *duration_format(int64_t ms, char buf[DURATION_TEXT_MAX]);
