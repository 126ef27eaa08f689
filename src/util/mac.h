/* MAC-48 addresses as text: parsed as Go's net.ParseMAC takes them, written as ip(8)
 * writes them. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define MAC_LEN 6
#define MAC_STRLEN 18 /* "aa:bb:cc:dd:ee:ff" + NUL */

bool mac_parse(const char *text, uint8_t mac[MAC_LEN]);
void mac_format(const uint8_t mac[MAC_LEN], char buf[MAC_STRLEN]);
/* A locally administered unicast MAC that `text` alone decides (FNV-1a, 64 bits, of
 * its bytes; the low 48 with the first octet's bit 1 set and bit 0 cleared): the same
 * name gives the same MAC on any node, so a server can reserve an address by it. */
void mac_from_name(const char *text, uint8_t mac[MAC_LEN]);
