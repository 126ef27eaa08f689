#include <stdlib.h>
#include <string.h>

#include "dhcp/duration.h"

int64_t duration_parse_ms(const char *text)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = { { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 } };
	int64_t total = 0;
	char *end;

	if (!text || !*text)
		return -1;
	double value = strtod(text, &end);
	if (*end == '\0')
		return end != text && value >= 0 && value <= 1e9 ? (int64_t)(value * 1000) : -1;
	for (const char *p = text; *p;) {
		value = strtod(p, &end);
		/* Written so that NaN fails too. */
		if (end == p || !(value >= 0 && value <= 1e9))
			return -1;
		size_t i, matched = 0;
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t n = strlen(units[i].unit);
			if (strncmp(end, units[i].unit, n) == 0 && (matched = n))
				break;
		}
		if (!matched)
			return -1;
		total += (int64_t)(value * (double)units[i].ms);
		p = end + matched;
	}
	return total;
}
