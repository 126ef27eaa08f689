/* Go-style durations ("10s", "1m30s", "500ms") as the reference's flags take them. */
#pragma once

#include <stdint.h>

/* Milliseconds, or -1 when `text` is not a duration. A bare number is seconds. */
int64_t duration_parse_ms(const char *text);
