/* Shared by the DHCPv4 unit tests (test_dhcp_*.c, test_lease_result.c): building
 * messages the way a server would, reading them back, the committed test vectors, and
 * what a lease configures as text for readable assertions. The Makefile links each
 * test alone, so all is static inline. */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dhcp4/acd.h"
#include "dhcp4/lease.h"
#include "dhcp4/message.h"
#include "dhcp4/options.h"
#include "dhcp4/protocol.h"

#define DH_N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

static inline struct in_addr ip4(const char *text)
{
	struct in_addr addr;

	if (inet_pton(AF_INET, text, &addr) != 1)
		fail_msg("bad test address %s", text);
	return addr;
}

#define assert_addr_equal(addr, text)                                                                   \
	do {                                                                                            \
		struct in_addr got_ = (addr);                                                           \
		char buf_[INET_ADDRSTRLEN];                                                             \
		inet_ntop(AF_INET, &got_, buf_, sizeof(buf_));                                          \
		assert_string_equal(buf_, (text));                                                      \
	} while (0)

static const uint8_t test_mac[6] = { 0x02, 0x00, 0x00, 0xc0, 0xff, 0xee };

/* ---- building messages ---- */

struct test_msg {
	struct dhcp_header header;
	uint8_t data[DHCP_MESSAGE_MAX];
	size_t len;
	struct dhcp_builder b;
};

/* A message with `op`, `xid` and our MAC; set header fields in m->header before
 * msg_start when more are needed. */
static inline void msg_header(struct test_msg *m, uint8_t op, uint32_t xid)
{
	memset(m, 0, sizeof(*m));
	m->header.op = op;
	m->header.htype = ARPHRD_ETHER_TYPE;
	m->header.hlen = 6;
	m->header.xid = htonl(xid);
	memcpy(m->header.chaddr, test_mac, sizeof(test_mac));
}

static inline void msg_start(struct test_msg *m, uint8_t type)
{
	dhcp_builder_init(&m->b, m->data, sizeof(m->data), &m->header, type);
}

static inline void msg_put(struct test_msg *m, uint8_t code, const void *data, size_t len)
{
	dhcp_builder_put(&m->b, code, data, len);
}

static inline void msg_put_addr(struct test_msg *m, uint8_t code, const char *addr)
{
	dhcp_builder_put_addr(&m->b, code, ip4(addr));
}

static inline void msg_put_u32(struct test_msg *m, uint8_t code, uint32_t value)
{
	dhcp_builder_put_u32(&m->b, code, value);
}

static inline void msg_finish(struct test_msg *m)
{
	assert_int_equal(dhcp_builder_finish(&m->b), 0);
	m->len = m->b.len;
}

/* A BOOTREPLY of `type` offering `yiaddr` from server `server` (option 54). */
static inline void msg_reply(struct test_msg *m, uint8_t type, uint32_t xid, const char *yiaddr, const char *server)
{
	msg_header(m, BOOTREPLY, xid);
	if (yiaddr)
		m->header.yiaddr = ip4(yiaddr).s_addr;
	msg_start(m, type);
	if (server)
		msg_put_addr(m, DHCP_OPTION_SERVER_IDENTIFIER, server);
}

/* Raw messages for malformed cases: the 236-octet header, the cookie, then `options`
 * exactly as given (no END, no padding). Returns the length. */
static inline size_t raw_message(uint8_t *buf, const struct dhcp_header *header, const uint8_t *options, size_t len)
{
	uint32_t cookie = htonl(DHCP_MAGIC_COOKIE);

	memcpy(buf, header, DHCP_HEADER_LEN);
	memcpy(buf + DHCP_HEADER_LEN, &cookie, sizeof(cookie));
	if (len)
		memcpy(buf + DHCP_HEADER_LEN + DHCP_COOKIE_LEN, options, len);
	return DHCP_HEADER_LEN + DHCP_COOKIE_LEN + len;
}

static inline struct dhcp_message *parse_or_fail(const uint8_t *data, size_t len)
{
	struct dhcp_message *msg = malloc(sizeof(*msg));
	enum dhcp_parse_error e;

	assert_non_null(msg);
	e = dhcp_message_parse(data, len, msg);
	if (e != DHCP_PARSE_OK)
		fail_msg("message does not parse: %s", dhcp_parse_error_name(e));
	return msg;
}

/* Leases built by tests count from this monotonic time. */
#define TEST_LEASE_START_MS 5000

/* An ACK for 192.0.2.100 from 192.0.2.1, options added by the test, then m->len. */
static inline void ack_begin(struct test_msg *m)
{
	msg_reply(m, DHCPACK, 7, "192.0.2.100", "192.0.2.1");
}

/* Makes the lease from the finished message; fails the test on a refusal. */
static inline void lease_of(struct test_msg *m, struct dhcp_lease *lease)
{
	msg_finish(m);
	struct dhcp_message *msg = parse_or_fail(m->data, m->len);
	const char *why = dhcp_lease_from_message(msg, m->data, m->len, TEST_LEASE_START_MS, lease);
	if (why)
		fail_msg("no lease: %s", why);
	free(msg);
}

/* An Ethernet/IPv4 ARP packet as RFC 826 lays it out. */
static inline void arp_packet(uint8_t out[ACD_ARP_LEN], uint16_t op, const uint8_t sha[6], const char *spa,
			      const char *tpa)
{
	struct in_addr s = ip4(spa), t = ip4(tpa);

	memset(out, 0, ACD_ARP_LEN);
	out[1] = 1;    /* Ethernet */
	out[2] = 0x08; /* IPv4 */
	out[4] = 6;
	out[5] = 4;
	out[7] = (uint8_t)op;
	memcpy(out + 8, sha, 6);
	memcpy(out + 14, &s.s_addr, 4);
	memcpy(out + 24, &t.s_addr, 4);
}

/* The whole option value as a (len, bytes) pair compared with `want`. */
#define assert_option_equal(msg, code, want, want_len)                                                  \
	do {                                                                                            \
		const uint8_t *v_;                                                                      \
		size_t l_;                                                                              \
		assert_int_equal(dhcp_message_get((msg), (code), &v_, &l_), 0);                         \
		assert_int_equal(l_, (want_len));                                                       \
		assert_memory_equal(v_, (want), (want_len));                                            \
	} while (0)

#define assert_option_absent(msg, code)                                                                 \
	do {                                                                                            \
		const uint8_t *v_;                                                                      \
		size_t l_;                                                                              \
		assert_int_equal(dhcp_message_get((msg), (code), &v_, &l_), -ENOENT);                   \
	} while (0)

#define assert_option_addr(msg, code, text)                                                             \
	do {                                                                                            \
		struct in_addr a_;                                                                      \
		assert_int_equal(dhcp_message_get_addr((msg), (code), &a_), 0);                         \
		assert_addr_equal(a_, (text));                                                          \
	} while (0)

/* ---- what a lease configures, as text ---- */

/* "198.51.100.0/24 via 192.0.2.254", or "203.0.113.7/32 on link" for a 0.0.0.0 next
 * hop (RFC 3442). */
static inline void dhcp_route_text(const struct dhcp_route *r, char *buf, size_t cap)
{
	char dst[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &r->dst, dst, sizeof(dst));
	if (r->gateway.s_addr == INADDR_ANY) {
		snprintf(buf, cap, "%s/%u on link", dst, r->prefix_len);
		return;
	}
	inet_ntop(AF_INET, &r->gateway, gw, sizeof(gw));
	snprintf(buf, cap, "%s/%u via %s", dst, r->prefix_len, gw);
}

/* Compares `n` routes, in order, with the NULL-terminated `want`. */
static inline void assert_route_list(const struct dhcp_route *routes, size_t n, const char *const *want)
{
	size_t i = 0;

	for (; want[i]; i++) {
		char got[128];
		if (i >= n)
			fail_msg("route %zu missing: expected \"%s\"", i, want[i]);
		dhcp_route_text(&routes[i], got, sizeof(got));
		if (strcmp(got, want[i]) != 0)
			fail_msg("route %zu is \"%s\", expected \"%s\"", i, got, want[i]);
	}
	if (n != i) {
		char extra[128];
		dhcp_route_text(&routes[i], extra, sizeof(extra));
		fail_msg("%zu routes, expected %zu; the first extra one is \"%s\"", n, i, extra);
	}
}

#define ROUTES(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define NO_ROUTES ((const char *const[]){ NULL })

/* Compares `n` addresses, in order, with the NULL-terminated `want`. */
static inline void assert_addr_list(const struct in_addr *addrs, size_t n, const char *const *want)
{
	size_t i = 0;

	for (; want[i]; i++) {
		if (i >= n)
			fail_msg("address %zu missing: expected %s", i, want[i]);
		assert_addr_equal(addrs[i], want[i]);
	}
	assert_int_equal(n, i);
}

static inline void assert_strv(const struct dhcp_strv *got, const char *const *want)
{
	size_t n = 0;

	for (; want[n]; n++) {
		if (n >= got->count)
			fail_msg("item %zu missing: expected \"%s\"", n, want[n]);
		assert_string_equal(got->items[n], want[n]);
	}
	assert_int_equal(got->count, n);
}

#define STRV(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define NO_STRV ((const char *const[]){ NULL })

/* ---- test vectors captured from real servers (tests/vectors/README.md) ---- */

/* DHCP_VECTORS_DIR, or tests/vectors found from this header's own path (the tests run
 * from the repository root, and __FILE__ is relative to where the compiler ran). */
static inline const char *vectors_dir(void)
{
	static char dir[4096];
	const char *env = getenv("DHCP_VECTORS_DIR");
	const char *here = __FILE__;
	const char *slash;

	if (env && *env)
		return env;
	/* __FILE__ is .../tests/unit/dhcp_helpers.h: go up to .../tests. */
	slash = strrchr(here, '/');
	if (!slash)
		return "../vectors";
	size_t unit_len = (size_t)(slash - here);
	const char *parent = unit_len ? memrchr(here, '/', unit_len) : NULL;
	if (!parent)
		snprintf(dir, sizeof(dir), "vectors");
	else
		snprintf(dir, sizeof(dir), "%.*s/vectors", (int)(parent - here), here);
	return dir;
}

/* The whole vector file; fails the test when it is missing. */
static inline uint8_t *load_vector(const char *name, size_t *len)
{
	char path[4352];
	FILE *f;
	uint8_t *data;
	long size;

	snprintf(path, sizeof(path), "%s/%s", vectors_dir(), name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open test vector %s (set DHCP_VECTORS_DIR?)", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	assert_true(size > 0);
	rewind(f);
	data = malloc((size_t)size + 1);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	data[size] = '\0';
	*len = (size_t)size;
	return data;
}
