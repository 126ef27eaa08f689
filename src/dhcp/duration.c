#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "dhcp/duration.h"
#include "util/macro.h"

/* "ms" before "m", which would take its first letter; backwards, largest first. */
static const struct unit {
	const char *name;
	int64_t ms;
} units[] = { { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 } };

/* Digits of a fraction beyond these are finer than any unit's millisecond. */
#define FRACTION_SCALE_MAX 1000000000

/* A decimal number: whole + frac / scale. */
struct decimal {
	int64_t whole;
	int64_t frac;
	int64_t scale;
};

/* Digits with an optional fraction, as Go's time.ParseDuration reads them: "1",
 * "1.5", ".5", "5.". Not strtod(3), which takes blanks, signs, exponents, hex, "inf"
 * and "nan". A whole part too large for int64 saturates: it is out of range anyway.
 * Returns the end of the number, or NULL when there is none. */
static const char *scan_decimal(const char *p, struct decimal *d)
{
	bool digits = false;

	*d = (struct decimal){ .scale = 1 };
	for (; *p >= '0' && *p <= '9'; p++, digits = true)
		d->whole = d->whole <= (INT64_MAX - 9) / 10 ? d->whole * 10 + (*p - '0') : INT64_MAX;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++, digits = true)
			if (d->scale < FRACTION_SCALE_MAX) {
				d->frac = d->frac * 10 + (*p - '0');
				d->scale *= 10;
			}
	return digits ? p : NULL;
}

static const struct unit *unit_at(const char *p)
{
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (strncmp(p, units[i].name, strlen(units[i].name)) == 0)
			return &units[i];
	return NULL;
}

/* Adds `d` of `unit_ms` to *total, unless the sum would pass `max_ms`: every product
 * and sum is checked before it is made, so none overflows. */
static bool add_term(int64_t *total, const struct decimal *d, int64_t unit_ms, int64_t max_ms)
{
	int64_t room = max_ms - *total;

	if (d->whole > room / unit_ms)
		return false;
	int64_t ms = d->whole * unit_ms + d->frac * unit_ms / d->scale;
	if (ms > room)
		return false;
	*total += ms;
	return true;
}

int duration_parse_ms(const char *text, int64_t max_ms, int64_t *ms)
{
	struct decimal d;
	int64_t total = 0;
	bool over = false;
	const char *p = text ? scan_decimal(text, &d) : NULL;

	if (!p)
		return -EINVAL;
	if (*p == '\0') {
		/* A bare number: seconds, as the reference's JSON took them. */
		over = !add_term(&total, &d, 1000, max_ms);
	} else {
		/* Every term is read even past the bound: a text that is no duration at all
		 * is told so, not that it is too long. */
		for (p = text; *p;) {
			const struct unit *u;
			if (!(p = scan_decimal(p, &d)) || !(u = unit_at(p)))
				return -EINVAL;
			over |= !add_term(&total, &d, u->ms, max_ms);
			p += strlen(u->name);
		}
	}
	if (over)
		return -ERANGE;
	*ms = total;
	return 0;
}

const char *duration_format(int64_t ms, char buf[DURATION_TEXT_MAX])
{
	size_t i = ARRAY_SIZE(units) - 1;

	while (i > 0 && ms % units[i].ms != 0)
		i--;
	snprintf(buf, DURATION_TEXT_MAX, "%lld%s", (long long)(ms / units[i].ms), units[i].name);
	return buf;
}
