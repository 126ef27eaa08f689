/* MAC-48 addresses as text: parsed as Go's net.ParseMAC takes them, written as ip(8)
 * writes them. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define MAC_LEN 6
#define MAC_STRLEN 18 /* "aa:bb:cc:dd:ee:ff" + NUL */

bool mac_parse(const char *text, uint8_t mac[MAC_LEN]);
void mac_format(const uint8_t mac[MAC_LEN], char buf[MAC_STRLEN]);
