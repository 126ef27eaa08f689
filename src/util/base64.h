/* RFC 4648 base64 (the standard alphabet, padded), as Go's encoding/json writes a
 * []byte. Decoding only: strictly, whole quanta of four characters. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* At most `max` octets; *out is allocated (NUL-terminated after *len octets, so a
 * decoded text can be read as a string). -EINVAL or -ENOMEM. */
int base64_decode(const char *text, size_t max, uint8_t **out, size_t *len);
