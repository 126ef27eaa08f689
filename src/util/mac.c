#include <stdio.h>
#include <string.h>

#include "util/hex.h"
#include "util/mac.h"

/* "aa:bb:cc:dd:ee:ff" or with '-' separators, any case, as Go's net.ParseMAC takes them. */
bool mac_parse(const char *text, uint8_t mac[MAC_LEN])
{
	if (strlen(text) != MAC_STRLEN - 1)
		return false;
	for (int i = 0; i < MAC_LEN; i++) {
		const char *p = text + i * 3;
		int hi = hex_digit(p[0]), lo = hex_digit(p[1]);
		if (hi < 0 || lo < 0 || (i < MAC_LEN - 1 && p[2] != text[2]) || (text[2] != ':' && text[2] != '-'))
			return false;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

void mac_from_name(const char *text, uint8_t mac[MAC_LEN])
{
	uint64_t hash = 0xcbf29ce484222325ULL; /* FNV-1a's offset basis and prime */

	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		hash = (hash ^ *p) * 0x100000001b3ULL;
	for (int i = 0; i < MAC_LEN; i++)
		mac[i] = (uint8_t)(hash >> (8 * (MAC_LEN - 1 - i)));
	mac[0] = (uint8_t)((mac[0] & ~0x01) | 0x02);
}

void mac_format(const uint8_t mac[MAC_LEN], char buf[MAC_STRLEN])
{
	snprintf(buf, MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}
