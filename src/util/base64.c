#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/base64.h"

static int sextet(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* One quantum of four characters into up to three octets; -1 when malformed. Padding
 * ('=') may only end the last quantum. */
static int decode_quantum(const char q[4], bool last, uint8_t out[3])
{
	int v[4], pad = (q[3] == '=') + (q[2] == '=' && q[3] == '=');

	if (pad && !last)
		return -1;
	for (int i = 0; i < 4 - pad; i++)
		if ((v[i] = sextet(q[i])) < 0)
			return -1;
	for (int i = 4 - pad; i < 4; i++)
		v[i] = 0;
	uint32_t bits = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
	out[0] = (uint8_t)(bits >> 16);
	out[1] = (uint8_t)(bits >> 8);
	out[2] = (uint8_t)bits;
	return 3 - pad;
}

int base64_decode(const char *text, size_t max, uint8_t **out, size_t *len)
{
	size_t n = strlen(text);

	*out = NULL;
	if (n % 4 != 0 || n / 4 * 3 > max + 2)
		return -EINVAL;
	uint8_t *buf = malloc(n / 4 * 3 + 1);
	if (!buf)
		return -ENOMEM;
	size_t used = 0;
	for (size_t i = 0; i < n; i += 4) {
		int got = decode_quantum(text + i, i + 4 == n, buf + used);
		if (got < 0 || used + (size_t)got > max) {
			free(buf);
			return -EINVAL;
		}
		used += (size_t)got;
	}
	buf[used] = '\0';
	*out = buf;
	*len = used;
	return 0;
}
