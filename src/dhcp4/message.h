/* Reading and writing DHCP messages (the BOOTP payload of a UDP datagram). */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dhcp4/protocol.h"

/* Largest message we read or write; replies are bounded by our option 57. */
#define DHCP_MESSAGE_MAX 4096

struct dhcp_option_value {
	bool present;
	uint16_t offset; /* into dhcp_message.values */
	uint16_t len;
};

/* A parsed message: the header, and each option's value, concatenated across
 * instances (RFC 3396) where the option may be split. */
struct dhcp_message {
	struct dhcp_header header;
	struct dhcp_option_value options[256];
	uint8_t values[DHCP_MESSAGE_MAX];
	size_t values_len;
};

/* Why a message was dropped: for the log line. */
enum dhcp_parse_error {
	DHCP_PARSE_OK = 0,
	DHCP_PARSE_TRUNCATED,      /* shorter than header + cookie */
	DHCP_PARSE_TOO_LONG,       /* larger than DHCP_MESSAGE_MAX */
	DHCP_PARSE_BAD_COOKIE,     /* no magic cookie: BOOTP, not DHCP */
	DHCP_PARSE_OPTION_OVERRUN, /* an option's length runs past its field */
	DHCP_PARSE_NO_TYPE,        /* option 53 missing or not one octet */
};

enum dhcp_parse_error dhcp_message_parse(const uint8_t *data, size_t len, struct dhcp_message *out);
const char *dhcp_parse_error_name(enum dhcp_parse_error e);

/* Option accessors: 0, -ENOENT when absent, -EBADMSG when the length is wrong for the
 * option's type. */
int dhcp_message_get(const struct dhcp_message *msg, uint8_t code, const uint8_t **data, size_t *len);
int dhcp_message_get_u8(const struct dhcp_message *msg, uint8_t code, uint8_t *out);
int dhcp_message_get_u16(const struct dhcp_message *msg, uint8_t code, uint16_t *out);
int dhcp_message_get_u32(const struct dhcp_message *msg, uint8_t code, uint32_t *out);
int dhcp_message_get_addr(const struct dhcp_message *msg, uint8_t code, struct in_addr *out);
uint8_t dhcp_message_type(const struct dhcp_message *msg);
const char *dhcp_message_type_name(uint8_t type);

/* Building a message: header first, then options; _finish adds END and pads to the
 * BOOTP minimum of 300 octets. */
struct dhcp_builder {
	uint8_t *data;
	size_t cap;
	size_t len;
	bool overflow; /* an option did not fit: the message must not be sent */
};

void dhcp_builder_init(struct dhcp_builder *b, uint8_t *buf, size_t cap, const struct dhcp_header *header,
		       uint8_t type);
/* Options alone, no header: a block of them to put in messages later
 * (dhcp_builder_put_encoded). */
void dhcp_builder_init_options(struct dhcp_builder *b, uint8_t *buf, size_t cap);
/* Values longer than 255 octets are split over several instances (RFC 3396). */
void dhcp_builder_put(struct dhcp_builder *b, uint8_t code, const void *data, size_t len);
void dhcp_builder_put_u8(struct dhcp_builder *b, uint8_t code, uint8_t value);
void dhcp_builder_put_u16(struct dhcp_builder *b, uint8_t code, uint16_t value);
void dhcp_builder_put_u32(struct dhcp_builder *b, uint8_t code, uint32_t value);
void dhcp_builder_put_addr(struct dhcp_builder *b, uint8_t code, struct in_addr addr);
/* Appends options already encoded (code, length, value; as another builder wrote
 * them), all or nothing: when they do not fit, overflow is set. */
void dhcp_builder_put_encoded(struct dhcp_builder *b, const uint8_t *options, size_t len);
/* 0, or -EMSGSIZE when something did not fit. */
int dhcp_builder_finish(struct dhcp_builder *b);
