/* Octets as hex text and back: two digits per octet, strictly. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* 0-15, or -1 for anything but a hex digit. */
int hex_digit(char c);
/* Lowercase, NUL-terminated; NULL when out of memory. */
char *hex_encode(const uint8_t *data, size_t len);
/* At most `max` octets of two hex digits each (no sign, blank or prefix); an empty
 * text is an empty value. -EINVAL or -ENOMEM; *out is allocated on success. */
int hex_decode(const char *text, size_t max, uint8_t **out, size_t *len);
