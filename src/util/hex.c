#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hex.h"

char *hex_encode(const uint8_t *data, size_t len)
{
	char *out = malloc(len * 2 + 1);

	for (size_t i = 0; out && i < len; i++)
		sprintf(out + i * 2, "%02x", data[i]);
	if (out)
		out[len * 2] = '\0';
	return out;
}

int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hex_decode(const char *text, size_t max, uint8_t **out, size_t *len)
{
	size_t n = text ? strlen(text) : 1;

	if (n % 2 || n / 2 > max)
		return -EINVAL;
	*out = malloc(n / 2 + 1);
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < n / 2; i++) {
		int high = hex_digit(text[i * 2]), low = hex_digit(text[i * 2 + 1]);
		if (high < 0 || low < 0) {
			free(*out);
			*out = NULL;
			return -EINVAL;
		}
		(*out)[i] = (uint8_t)(high << 4 | low);
	}
	*len = n / 2;
	return 0;
}
