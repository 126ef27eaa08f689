#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "dhcp4/message.h"
#include "util/macro.h"

const char *dhcp_parse_error_name(enum dhcp_parse_error e)
{
	switch (e) {
	case DHCP_PARSE_OK: return "ok";
	case DHCP_PARSE_TRUNCATED: return "shorter than a DHCP header";
	case DHCP_PARSE_TOO_LONG: return "longer than we accept";
	case DHCP_PARSE_BAD_COOKIE: return "no DHCP magic cookie";
	case DHCP_PARSE_OPTION_OVERRUN: return "an option runs past the end of its field";
	case DHCP_PARSE_NO_TYPE: return "no valid message type (option 53)";
	}
	return "?";
}

const char *dhcp_message_type_name(uint8_t type)
{
	static const char *const names[] = {
		[DHCPDISCOVER] = "DHCPDISCOVER", [DHCPOFFER] = "DHCPOFFER",     [DHCPREQUEST] = "DHCPREQUEST",
		[DHCPDECLINE] = "DHCPDECLINE",   [DHCPACK] = "DHCPACK",         [DHCPNAK] = "DHCPNAK",
		[DHCPRELEASE] = "DHCPRELEASE",   [DHCPINFORM] = "DHCPINFORM",
	};
	return type < ARRAY_SIZE(names) && names[type] ? names[type] : "unknown DHCP message";
}

/* Options whose value has a fixed size must not be concatenated: dnsmasq, for one,
 * sends option 54 twice, and gluing the copies would make an 8-octet server id. The
 * first instance wins. Every other option may be split (RFC 3396 5). */
static bool option_is_fixed_size(uint8_t code)
{
	switch (code) {
	case DHCP_OPTION_SUBNET_MASK:
	case DHCP_OPTION_INTERFACE_MTU:
	case DHCP_OPTION_BROADCAST_ADDRESS:
	case DHCP_OPTION_REQUESTED_IP_ADDRESS:
	case DHCP_OPTION_IP_ADDRESS_LEASE_TIME:
	case DHCP_OPTION_OVERLOAD:
	case DHCP_OPTION_MESSAGE_TYPE:
	case DHCP_OPTION_SERVER_IDENTIFIER:
	case DHCP_OPTION_MAXIMUM_MESSAGE_SIZE:
	case DHCP_OPTION_RENEWAL_TIME:
	case DHCP_OPTION_REBINDING_TIME:
		return true;
	default:
		return false;
	}
}

/* Options are read in two passes over the same fields: the first sums each option's
 * length over its instances, the second copies the values into place, so every
 * option's concatenation is contiguous and the total never exceeds the message. */
struct parse_pass {
	bool copy;
	uint16_t filled[256];
	bool seen[256]; /* fixed-size options: an instance was taken already */
};

static void take_instance(struct dhcp_message *msg, struct parse_pass *pass, uint8_t code, const uint8_t *value,
			  uint8_t len)
{
	struct dhcp_option_value *opt = &msg->options[code];

	if (pass->seen[code] && option_is_fixed_size(code))
		return;
	pass->seen[code] = true;
	if (!pass->copy) {
		opt->present = true;
		opt->len = (uint16_t)(opt->len + len);
		return;
	}
	memcpy(msg->values + opt->offset + pass->filled[code], value, len);
	pass->filled[code] = (uint16_t)(pass->filled[code] + len);
}

/* Walks one field (options, file or sname). Option 52 counts only in the options
 * field itself, so an overload inside file or sname cannot loop. */
static enum dhcp_parse_error parse_field(struct dhcp_message *msg, struct parse_pass *pass, const uint8_t *field,
					 size_t len, bool is_options_field, uint8_t *overload)
{
	for (size_t i = 0; i < len;) {
		uint8_t code = field[i++];
		if (code == DHCP_OPTION_PAD)
			continue;
		if (code == DHCP_OPTION_END)
			break;
		if (i >= len || field[i] > len - i - 1)
			return DHCP_PARSE_OPTION_OVERRUN;
		uint8_t opt_len = field[i++];
		if (code == DHCP_OPTION_OVERLOAD && !is_options_field) {
			i += opt_len;
			continue;
		}
		if (code == DHCP_OPTION_OVERLOAD && opt_len == 1 && !pass->seen[code])
			*overload = field[i];
		take_instance(msg, pass, code, field + i, opt_len);
		i += opt_len;
	}
	return DHCP_PARSE_OK;
}

static enum dhcp_parse_error parse_fields(struct dhcp_message *msg, struct parse_pass *pass, const uint8_t *options,
					  size_t len)
{
	uint8_t overload = 0;
	enum dhcp_parse_error e = parse_field(msg, pass, options, len, true, &overload);

	/* RFC 2131 4.1: "the client interprets the 'file' field first, then 'sname'". */
	if (e == DHCP_PARSE_OK && (overload & DHCP_OVERLOAD_FILE))
		e = parse_field(msg, pass, msg->header.file, sizeof(msg->header.file), false, &overload);
	if (e == DHCP_PARSE_OK && (overload & DHCP_OVERLOAD_SNAME))
		e = parse_field(msg, pass, msg->header.sname, sizeof(msg->header.sname), false, &overload);
	return e;
}

enum dhcp_parse_error dhcp_message_parse(const uint8_t *data, size_t len, struct dhcp_message *out)
{
	struct parse_pass pass = { .copy = false };
	uint32_t cookie;
	uint8_t type;

	if (len < DHCP_HEADER_LEN + DHCP_COOKIE_LEN)
		return DHCP_PARSE_TRUNCATED;
	if (len > DHCP_MESSAGE_MAX)
		return DHCP_PARSE_TOO_LONG;
	memset(out, 0, offsetof(struct dhcp_message, values));
	out->values_len = 0;
	memcpy(&out->header, data, DHCP_HEADER_LEN);
	memcpy(&cookie, data + DHCP_HEADER_LEN, sizeof(cookie));
	if (ntohl(cookie) != DHCP_MAGIC_COOKIE)
		return DHCP_PARSE_BAD_COOKIE;

	const uint8_t *options = data + DHCP_HEADER_LEN + DHCP_COOKIE_LEN;
	size_t options_len = len - DHCP_HEADER_LEN - DHCP_COOKIE_LEN;
	enum dhcp_parse_error e = parse_fields(out, &pass, options, options_len);
	if (e != DHCP_PARSE_OK)
		return e;
	/* Lay the options out one after another, then fill them in. */
	for (unsigned code = 0; code < 256; code++) {
		out->options[code].offset = (uint16_t)out->values_len;
		out->values_len += out->options[code].len;
	}
	pass = (struct parse_pass){ .copy = true };
	parse_fields(out, &pass, options, options_len);
	if (dhcp_message_get_u8(out, DHCP_OPTION_MESSAGE_TYPE, &type) < 0 || type == 0)
		return DHCP_PARSE_NO_TYPE;
	return DHCP_PARSE_OK;
}

int dhcp_message_get(const struct dhcp_message *msg, uint8_t code, const uint8_t **data, size_t *len)
{
	const struct dhcp_option_value *opt = &msg->options[code];

	if (!opt->present)
		return -ENOENT;
	*data = msg->values + opt->offset;
	*len = opt->len;
	return 0;
}

static int get_fixed(const struct dhcp_message *msg, uint8_t code, void *out, size_t want)
{
	const uint8_t *data;
	size_t len;
	int r = dhcp_message_get(msg, code, &data, &len);

	if (r < 0)
		return r;
	if (len != want)
		return -EBADMSG;
	memcpy(out, data, want);
	return 0;
}

int dhcp_message_get_u8(const struct dhcp_message *msg, uint8_t code, uint8_t *out)
{
	return get_fixed(msg, code, out, 1);
}

int dhcp_message_get_u16(const struct dhcp_message *msg, uint8_t code, uint16_t *out)
{
	uint16_t be;
	int r = get_fixed(msg, code, &be, sizeof(be));

	if (r == 0)
		*out = ntohs(be);
	return r;
}

int dhcp_message_get_u32(const struct dhcp_message *msg, uint8_t code, uint32_t *out)
{
	uint32_t be;
	int r = get_fixed(msg, code, &be, sizeof(be));

	if (r == 0)
		*out = ntohl(be);
	return r;
}

int dhcp_message_get_addr(const struct dhcp_message *msg, uint8_t code, struct in_addr *out)
{
	return get_fixed(msg, code, out, sizeof(*out));
}

uint8_t dhcp_message_type(const struct dhcp_message *msg)
{
	uint8_t type = 0;

	dhcp_message_get_u8(msg, DHCP_OPTION_MESSAGE_TYPE, &type);
	return type;
}

/* ---- building ---- */

static void append(struct dhcp_builder *b, const void *data, size_t len)
{
	/* Nothing to add may come as (NULL, 0), which memcpy must not be given. */
	if (len == 0)
		return;
	if (b->overflow || len > b->cap - b->len) {
		b->overflow = true;
		return;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
}

void dhcp_builder_init(struct dhcp_builder *b, uint8_t *buf, size_t cap, const struct dhcp_header *header,
		       uint8_t type)
{
	uint32_t cookie = htonl(DHCP_MAGIC_COOKIE);

	*b = (struct dhcp_builder){ .data = buf, .cap = cap };
	append(b, header, DHCP_HEADER_LEN);
	append(b, &cookie, sizeof(cookie));
	dhcp_builder_put_u8(b, DHCP_OPTION_MESSAGE_TYPE, type);
}

void dhcp_builder_init_options(struct dhcp_builder *b, uint8_t *buf, size_t cap)
{
	*b = (struct dhcp_builder){ .data = buf, .cap = cap };
}

void dhcp_builder_put(struct dhcp_builder *b, uint8_t code, const void *data, size_t len)
{
	const uint8_t *bytes = data;

	/* A zero-length value is still one instance (e.g. an empty host name is not sent
	 * at all by callers; this keeps the encoding honest). */
	do {
		uint8_t chunk = len > 255 ? 255 : (uint8_t)len;
		uint8_t head[2] = { code, chunk };
		append(b, head, sizeof(head));
		append(b, bytes, chunk);
		bytes += chunk;
		len -= chunk;
	} while (len > 0);
}

void dhcp_builder_put_u8(struct dhcp_builder *b, uint8_t code, uint8_t value)
{
	dhcp_builder_put(b, code, &value, 1);
}

void dhcp_builder_put_u16(struct dhcp_builder *b, uint8_t code, uint16_t value)
{
	uint16_t be = htons(value);
	dhcp_builder_put(b, code, &be, sizeof(be));
}

void dhcp_builder_put_u32(struct dhcp_builder *b, uint8_t code, uint32_t value)
{
	uint32_t be = htonl(value);
	dhcp_builder_put(b, code, &be, sizeof(be));
}

void dhcp_builder_put_addr(struct dhcp_builder *b, uint8_t code, struct in_addr addr)
{
	dhcp_builder_put(b, code, &addr, sizeof(addr));
}

void dhcp_builder_put_encoded(struct dhcp_builder *b, const uint8_t *options, size_t len)
{
	append(b, options, len);
}

int dhcp_builder_finish(struct dhcp_builder *b)
{
	uint8_t end = DHCP_OPTION_END, pad = DHCP_OPTION_PAD;

	append(b, &end, 1);
	while (!b->overflow && b->len < BOOTP_MIN_LEN)
		append(b, &pad, 1);
	return b->overflow ? -EMSGSIZE : 0;
}
