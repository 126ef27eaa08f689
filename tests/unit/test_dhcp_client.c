/* The RFC 2131 client state machine, walked with a fake clock, a scripted random source
 * and a scripted server that answers what the client sent. */
#include "dhcp_helpers.h"

#include "dhcp4/client.h"

/* Jitter is random() % (2 * span + 1) - span, with spans of 500 ms (2 s intervals) and
 * 1000 ms (4 s and up) here. Every value the fake returns is base + k * JITTER_MOD, so
 * the jitter stays put while xids change: LOW gives -span, MID 0, HIGH +span. */
#define JITTER_MOD (2001u * 1001u)
#define RAND_LOW 0u
#define RAND_MID ((JITTER_MOD - 1) / 2)
#define RAND_HIGH (JITTER_MOD - 1)

#define T0 1000000ull /* the clock at start: nothing counts from zero */
#define S(seconds) ((uint64_t)(seconds) * 1000)

static const uint8_t client_id[] = { 1, 0x02, 0x00, 0x00, 0xc0, 0xff, 0xee };
/* 55 (1 3 6 15 119 121) and 57 (1500): what the caller encodes for the client. */
static const uint8_t request_options[] = { 55, 6, 1, 3, 6, 15, 119, 121, 57, 2, 0x05, 0xdc };

struct rig {
	struct dhcp_client c;
	uint32_t rand_base;
	uint32_t rand_calls;
	uint64_t now;
	struct dhcp_output out;    /* the last message popped */
	struct dhcp_message *sent; /* ... parsed */
	struct dhcp_event ev;      /* the last event popped */
	char log[256];             /* the last line logged ... */
	int log_priority;          /* ... and its syslog priority */
	char trace[1024];          /* the LOG_DEBUG lines, one per line */
	unsigned info_lines;       /* the LOG_INFO lines */
};

/* A scripted server: its identifier, the address it hands out, the lease it grants. */
struct server {
	const char *id;
	const char *addr;
	uint32_t lease_s;
	uint32_t t1_s, t2_s; /* sent when non-zero */
};

static const struct server srv1 = { "192.0.2.1", "192.0.2.100", 1000, 0, 0 };
static const struct server srv2 = { "192.0.2.2", "192.0.2.200", 1000, 0, 0 };

static uint32_t fake_random(void *ctx)
{
	struct rig *r = ctx;

	return r->rand_base + ++r->rand_calls * JITTER_MOD;
}

static void fake_log(void *ctx, int priority, const char *message)
{
	struct rig *r = ctx;
	size_t used = strlen(r->trace);

	snprintf(r->log, sizeof(r->log), "%s", message);
	r->log_priority = priority;
	r->info_lines += priority == LOG_INFO;
	if (priority == LOG_DEBUG)
		snprintf(r->trace + used, sizeof(r->trace) - used, "%s\n", message);
}

static void rig_init(struct rig *r, bool broadcast, const struct dhcp_timing *timing)
{
	struct dhcp_client_config config = { .broadcast = broadcast };
	uint8_t *options = malloc(sizeof(request_options));

	assert_non_null(options);
	memcpy(options, request_options, sizeof(request_options));
	memcpy(config.mac, test_mac, 6);
	config.client_id = malloc(sizeof(client_id));
	assert_non_null(config.client_id);
	memcpy(config.client_id, client_id, sizeof(client_id));
	config.client_id_len = sizeof(client_id);
	config.request_options = options;
	config.request_options_len = sizeof(request_options);
	if (timing)
		config.timing = *timing;
	dhcp_client_init(&r->c, &config, fake_random, fake_log, r);
}

static int setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));

	if (!r)
		return -1;
	r->rand_base = RAND_MID;
	r->now = T0;
	rig_init(r, false, NULL);
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct rig *r = *state;

	dhcp_client_free(&r->c);
	free(r->sent);
	free(r);
	return 0;
}

/* Starts over with another configuration. */
static void reconfigure(struct rig *r, bool broadcast, const struct dhcp_timing *timing)
{
	dhcp_client_free(&r->c);
	rig_init(r, broadcast, timing);
}

/* ---- driving ---- */

/* Pops the pending message, which must be of `type`, and parses it into r->sent. */
static const struct dhcp_message *sent(struct rig *r, uint8_t type)
{
	if (!dhcp_client_pop_output(&r->c, &r->out))
		fail_msg("expected a %s, nothing was sent (state %s)", dhcp_message_type_name(type),
			 dhcp_client_state_name(dhcp_client_get_state(&r->c)));
	free(r->sent);
	r->sent = parse_or_fail(r->out.data, r->out.len);
	if (dhcp_message_type(r->sent) != type)
		fail_msg("sent a %s, expected a %s", dhcp_message_type_name(dhcp_message_type(r->sent)),
			 dhcp_message_type_name(type));
	assert_int_equal(r->out.type, type);
	assert_int_equal(r->sent->header.op, BOOTREQUEST);
	assert_true(r->out.len >= BOOTP_MIN_LEN);
	return r->sent;
}

static void assert_nothing_sent(struct rig *r)
{
	struct dhcp_output out;

	if (dhcp_client_pop_output(&r->c, &out))
		fail_msg("unexpected %s in state %s", dhcp_message_type_name(out.type),
			 dhcp_client_state_name(dhcp_client_get_state(&r->c)));
}

/* Pops the next event, which must be of `type`; returns its reason. */
static const char *event(struct rig *r, enum dhcp_event_type type)
{
	if (!dhcp_client_pop_event(&r->c, &r->ev))
		fail_msg("expected event %s, there was none", dhcp_event_name(type));
	if (r->ev.type != type)
		fail_msg("event %s (%s), expected %s", dhcp_event_name(r->ev.type), r->ev.reason, dhcp_event_name(type));
	return r->ev.reason;
}

static void assert_no_event(struct rig *r)
{
	struct dhcp_event ev;

	if (dhcp_client_pop_event(&r->c, &ev))
		fail_msg("unexpected event %s: %s", dhcp_event_name(ev.type), ev.reason);
}

#define assert_state(r, want)                                                                   \
	assert_string_equal(dhcp_client_state_name(dhcp_client_get_state(&(r)->c)), dhcp_client_state_name(want))

/* The clock moves to `ms` and the client is told. */
static void at(struct rig *r, uint64_t ms)
{
	assert_true(ms >= r->now);
	r->now = ms;
	dhcp_client_tick(&r->c, ms);
}

/* Moves the clock to the client's deadline; returns it. */
static uint64_t fire(struct rig *r)
{
	uint64_t deadline = dhcp_client_deadline(&r->c);

	assert_true(deadline != UINT64_MAX);
	at(r, deadline);
	return deadline;
}

/* Fires timers, dropping what is sent, until the client is in `state`; at most 100
 * times, so a broken timer fails the test instead of hanging it. */
static void fire_until(struct rig *r, enum dhcp_client_state state)
{
	for (unsigned i = 0; dhcp_client_get_state(&r->c) != state; i++) {
		if (i == 100)
			fail_msg("not %s after 100 timers (%s)", dhcp_client_state_name(state),
				 dhcp_client_state_name(dhcp_client_get_state(&r->c)));
		fire(r);
		dhcp_client_pop_output(&r->c, &r->out);
	}
}

static uint32_t sent_xid(const struct rig *r)
{
	return ntohl(r->sent->header.xid);
}

static void receive(struct rig *r, const struct test_msg *m)
{
	dhcp_client_receive(&r->c, r->now, m->data, m->len);
}

/* The server's answer of `type` to the last message sent (its xid and chaddr). */
static void build_answer(const struct rig *r, const struct server *s, uint8_t type, struct test_msg *m)
{
	msg_reply(m, type, sent_xid(r), type == DHCPNAK ? NULL : s->addr, s->id);
	if (type == DHCPNAK) {
		msg_put(m, DHCP_OPTION_MESSAGE, "go away", 7);
		return;
	}
	msg_put_u32(m, DHCP_OPTION_IP_ADDRESS_LEASE_TIME, s->lease_s);
	if (s->t1_s)
		msg_put_u32(m, DHCP_OPTION_RENEWAL_TIME, s->t1_s);
	if (s->t2_s)
		msg_put_u32(m, DHCP_OPTION_REBINDING_TIME, s->t2_s);
	msg_put(m, DHCP_OPTION_SUBNET_MASK, "\xff\xff\xff\x00", 4);
	msg_put_addr(m, DHCP_OPTION_ROUTER, "192.0.2.1");
}

static void answer(struct rig *r, const struct server *s, uint8_t type)
{
	struct test_msg m;

	build_answer(r, s, type, &m);
	msg_finish(&m);
	receive(r, &m);
}

/* DISCOVER, OFFER, REQUEST: REQUESTING `s`'s offer at r->now (r->sent is the REQUEST). */
static void request(struct rig *r, const struct server *s)
{
	dhcp_client_start(&r->c, r->now);
	sent(r, DHCPDISCOVER);
	answer(r, s, DHCPOFFER);
	sent(r, DHCPREQUEST);
	assert_state(r, DHCP_STATE_REQUESTING);
}

/* ... and ACK: GRANTED at r->now with `s`'s lease. */
static void grant(struct rig *r, const struct server *s)
{
	request(r, s);
	answer(r, s, DHCPACK);
	event(r, DHCP_EVENT_GRANTED);
	assert_state(r, DHCP_STATE_GRANTED);
}

/* ... and accept: BOUND at r->now with `s`'s lease. */
static void bind_to(struct rig *r, const struct server *s)
{
	grant(r, s);
	dhcp_client_accept(&r->c, r->now);
	event(r, DHCP_EVENT_BOUND);
	assert_state(r, DHCP_STATE_BOUND);
}

/* A lease of `s` whose times start at `start_ms`, as loaded from disk. */
static void saved_lease(const struct server *s, uint64_t start_ms, struct dhcp_lease *lease)
{
	struct test_msg m;

	msg_reply(&m, DHCPACK, 1, s->addr, s->id);
	msg_put_u32(&m, DHCP_OPTION_IP_ADDRESS_LEASE_TIME, s->lease_s);
	msg_finish(&m);
	struct dhcp_message *msg = parse_or_fail(m.data, m.len);
	assert_null(dhcp_lease_from_message(msg, m.data, m.len, start_ms, lease));
	free(msg);
}

static void assert_request_options(const struct dhcp_message *msg)
{
	assert_option_equal(msg, DHCP_OPTION_PARAMETER_REQUEST_LIST, request_options + 2, 6);
	assert_option_equal(msg, DHCP_OPTION_MAXIMUM_MESSAGE_SIZE, request_options + 10, 2);
	assert_option_equal(msg, DHCP_OPTION_CLIENT_IDENTIFIER, client_id, sizeof(client_id));
}

static void assert_header_basics(const struct dhcp_message *msg)
{
	assert_int_equal(msg->header.htype, ARPHRD_ETHER_TYPE);
	assert_int_equal(msg->header.hlen, 6);
	assert_int_equal(msg->header.hops, 0);
	assert_memory_equal(msg->header.chaddr, test_mac, 6);
	assert_int_equal(msg->header.yiaddr, 0);
	assert_int_equal(msg->header.siaddr, 0);
	assert_int_equal(msg->header.giaddr, 0);
	/* RFC 2131 table 5: 0 in DHCPDECLINE and DHCPRELEASE; we never send 0 elsewhere. */
	if (dhcp_message_type(msg) == DHCPDECLINE || dhcp_message_type(msg) == DHCPRELEASE)
		assert_int_equal(msg->header.secs, 0);
	else
		assert_true(ntohs(msg->header.secs) >= 1);
}

static void assert_broadcast_from_nowhere(const struct rig *r)
{
	assert_int_equal(r->out.transport, DHCP_SEND_BROADCAST);
	assert_addr_equal(r->out.src, "0.0.0.0");
	assert_addr_equal(r->out.dst, "255.255.255.255");
}

/* ---- DHCPDISCOVER and DHCPREQUEST in DORA (RFC 2131 table 5) ---- */

static void discover_follows_table_5(void **state)
{
	struct rig *r = *state;

	dhcp_client_start(&r->c, r->now);
	const struct dhcp_message *msg = sent(r, DHCPDISCOVER);
	assert_state(r, DHCP_STATE_SELECTING);
	assert_header_basics(msg);
	assert_int_equal(ntohs(msg->header.secs), 1);
	assert_int_equal(msg->header.ciaddr, 0);
	assert_int_equal(msg->header.flags, 0);
	assert_int_equal(sent_xid(r), dhcp_client_xid(&r->c));
	assert_int_equal(sent_xid(r), RAND_MID + JITTER_MOD); /* the first random number */
	assert_option_absent(msg, DHCP_OPTION_REQUESTED_IP_ADDRESS);
	assert_option_absent(msg, DHCP_OPTION_SERVER_IDENTIFIER);
	assert_request_options(msg);
	assert_broadcast_from_nowhere(r);
	assert_no_event(r);
}

static void broadcast_flag_follows_the_config(void **state)
{
	struct rig *r = *state;

	reconfigure(r, true, NULL);
	dhcp_client_start(&r->c, r->now);
	assert_int_equal(ntohs(sent(r, DHCPDISCOVER)->header.flags), DHCP_FLAG_BROADCAST);
	answer(r, &srv1, DHCPOFFER);
	assert_int_equal(ntohs(sent(r, DHCPREQUEST)->header.flags), DHCP_FLAG_BROADCAST);
}

static void request_in_selecting_follows_table_5(void **state)
{
	struct rig *r = *state;

	dhcp_client_start(&r->c, r->now);
	sent(r, DHCPDISCOVER);
	uint32_t xid = sent_xid(r);
	answer(r, &srv1, DHCPOFFER);
	const struct dhcp_message *msg = sent(r, DHCPREQUEST);
	assert_state(r, DHCP_STATE_REQUESTING);
	assert_header_basics(msg);
	assert_int_equal(sent_xid(r), xid); /* RFC 2131 4.4.1: the DISCOVER's xid */
	assert_int_equal(msg->header.ciaddr, 0);
	assert_int_equal(msg->header.flags, 0);
	assert_option_addr(msg, DHCP_OPTION_REQUESTED_IP_ADDRESS, "192.0.2.100");
	assert_option_addr(msg, DHCP_OPTION_SERVER_IDENTIFIER, "192.0.2.1");
	assert_request_options(msg);
	assert_broadcast_from_nowhere(r);
	assert_int_equal(r->c.counters.offers, 1);
}

static void secs_counts_from_the_first_discover(void **state)
{
	struct rig *r = *state;

	dhcp_client_start(&r->c, r->now);
	sent(r, DHCPDISCOVER);
	at(r, T0 + S(4));
	assert_int_equal(ntohs(sent(r, DHCPDISCOVER)->header.secs), 4);
	at(r, T0 + S(9));
	answer(r, &srv1, DHCPOFFER);
	assert_int_equal(ntohs(sent(r, DHCPREQUEST)->header.secs), 9);
}

static void ack_grants_and_accept_binds_until_t1(void **state)
{
	struct rig *r = *state;

	request(r, &srv1);
	r->now += 300; /* the ACK comes later; the lease counts from the REQUEST */
	answer(r, &srv1, DHCPACK);
	assert_non_null(strstr(event(r, DHCP_EVENT_GRANTED), "192.0.2.100/24 from 192.0.2.1 for 1000 s"));
	assert_state(r, DHCP_STATE_GRANTED);
	assert_true(dhcp_client_deadline(&r->c) == UINT64_MAX);
	assert_nothing_sent(r);
	assert_addr_equal(dhcp_client_lease(&r->c)->address, "192.0.2.100");

	dhcp_client_accept(&r->c, r->now);
	assert_non_null(strstr(event(r, DHCP_EVENT_BOUND), "192.0.2.100/24 from 192.0.2.1"));
	assert_state(r, DHCP_STATE_BOUND);
	assert_int_equal(dhcp_client_deadline(&r->c), T0 + S(500));
	assert_int_equal(dhcp_client_lease(&r->c)->start_ms, T0);
	assert_nothing_sent(r);
}

static void ticks_before_the_deadline_do_nothing(void **state)
{
	struct rig *r = *state;

	bind_to(r, &srv1);
	at(r, T0 + S(500) - 1);
	assert_nothing_sent(r);
	assert_state(r, DHCP_STATE_BOUND);
}

static void infinite_lease_has_no_deadline(void **state)
{
	struct rig *r = *state;
	const struct server forever = { "192.0.2.1", "192.0.2.100", DHCP_LEASE_INFINITE, 0, 0 };

	bind_to(r, &forever);
	assert_true(dhcp_client_deadline(&r->c) == UINT64_MAX);
}

/* ---- renewing and rebinding (RFC 2131 4.4.5) ---- */

static void renew_at_t1_is_unicast_to_the_server(void **state)
{
	struct rig *r = *state;

	reconfigure(r, true, NULL); /* the flag is for clients without an address */
	bind_to(r, &srv1);
	uint32_t dora_xid = sent_xid(r);
	assert_int_equal(fire(r), T0 + S(500));
	const struct dhcp_message *msg = sent(r, DHCPREQUEST);
	assert_state(r, DHCP_STATE_RENEWING);
	assert_header_basics(msg);
	assert_int_equal(ntohs(msg->header.secs), 1);
	assert_addr_equal((struct in_addr){ msg->header.ciaddr }, "192.0.2.100");
	assert_int_equal(msg->header.flags, 0);
	assert_option_absent(msg, DHCP_OPTION_REQUESTED_IP_ADDRESS);
	assert_option_absent(msg, DHCP_OPTION_SERVER_IDENTIFIER);
	assert_request_options(msg);
	assert_int_not_equal(sent_xid(r), dora_xid);
	assert_int_equal(r->out.transport, DHCP_SEND_UNICAST);
	assert_addr_equal(r->out.src, "192.0.2.100");
	assert_addr_equal(r->out.dst, "192.0.2.1");
	/* Still ours while renewing */
	assert_non_null(dhcp_client_lease(&r->c));
}

static void renew_ack_extends_the_lease(void **state)
{
	struct rig *r = *state;

	bind_to(r, &srv1);
	fire(r);
	sent(r, DHCPREQUEST);
	answer(r, &srv1, DHCPACK);
	assert_non_null(strstr(event(r, DHCP_EVENT_RENEWED), "192.0.2.100 extended by 192.0.2.1 for 1000 s"));
	assert_state(r, DHCP_STATE_BOUND);
	assert_int_equal(dhcp_client_lease(&r->c)->start_ms, T0 + S(500));
	assert_int_equal(dhcp_client_deadline(&r->c), T0 + S(1000));
	assert_nothing_sent(r);
}

static void renew_retries_start_at_4s_doubling_until_half_the_time_to_t2_is_sooner(void **state)
{
	/* T1 500 s, T2 875 s: retries 4, 8, 16, 32 and 64 s apart (RFC 2131 4.1's backoff),
	 * then half of the time left to T2 (4.4.5) once that is shorter: 125.5 s, 62.75 s,
	 * then its 60 s minimum; then T2. */
	static const uint64_t retries[] = { 504000, 512000, 528000, 560000, 624000, 749500, 812250, 872250 };
	struct rig *r = *state;

	bind_to(r, &srv1);
	fire(r);
	sent(r, DHCPREQUEST);
	uint32_t xid = sent_xid(r);
	for (size_t i = 0; i < DH_N_ELEMENTS(retries); i++) {
		assert_int_equal(fire(r), T0 + retries[i]);
		sent(r, DHCPREQUEST);
		assert_state(r, DHCP_STATE_RENEWING);
		assert_int_equal(r->out.transport, DHCP_SEND_UNICAST);
		assert_int_equal(sent_xid(r), xid);
	}
	/* 2.75 s are left: the 60 s minimum would pass T2, so the next timer is T2. */
	assert_int_equal(dhcp_client_deadline(&r->c), T0 + S(875));
}

static void rebind_at_t2_broadcasts_with_ciaddr(void **state)
{
	struct rig *r = *state;

	bind_to(r, &srv1);
	at(r, T0 + S(500));
	sent(r, DHCPREQUEST);
	at(r, T0 + S(875));
	const struct dhcp_message *msg = sent(r, DHCPREQUEST);
	assert_state(r, DHCP_STATE_REBINDING);
	assert_header_basics(msg);
	assert_addr_equal((struct in_addr){ msg->header.ciaddr }, "192.0.2.100");
	assert_int_equal(msg->header.flags, 0);
	assert_option_absent(msg, DHCP_OPTION_REQUESTED_IP_ADDRESS);
	assert_option_absent(msg, DHCP_OPTION_SERVER_IDENTIFIER);
	assert_int_equal(r->out.transport, DHCP_SEND_BROADCAST);
	assert_addr_equal(r->out.src, "192.0.2.100");
	assert_addr_equal(r->out.dst, "255.255.255.255");
	/* Every server is asked now: a fresh series, 4 s first. */
	assert_int_equal(dhcp_client_deadline(&r->c), T0 + S(879));
}

static void rebind_retries_double_until_half_the_time_to_expiry_is_sooner(void **state)
{
	/* 4, 8, 16, 32 s apart, then half of the 65 s left is under 60 s: 60 s. */
	static const uint64_t retries[] = { 879000, 887000, 903000, 935000, 995000 };
	struct rig *r = *state;

	bind_to(r, &srv1);
	at(r, T0 + S(500));
	sent(r, DHCPREQUEST);
	at(r, T0 + S(875));
	sent(r, DHCPREQUEST);
	assert_state(r, DHCP_STATE_REBINDING);
	for (size_t i = 0; i < DH_N_ELEMENTS(retries); i++) {
		assert_int_equal(fire(r), T0 + retries[i]);
		sent(r, DHCPREQUEST);
		assert_int_equal(r->out.transport, DHCP_SEND_BROADCAST);
	}
	assert_int_equal(dhcp_client_deadline(&r->c), T0 + S(1000)); /* capped at expiry */
}

/* The point of retrying sooner than RFC 2131 4.4.5 alone (two DHCPREQUESTs): a
 * 2-minute lease (dnsmasq's shortest) asks seven times, so replies lost on a busy LAN
 * do not lose it. */
static void a_two_minute_lease_asks_seven_times_before_it_ends(void **state)
{
	const struct server two_min = { "192.0.2.1", "192.0.2.100", 120, 0, 0 };
	/* T1 60 s, T2 105 s: renewing at 60, 64, 72, 88 s; rebinding at 105, 109, 117 s. */
	static const uint64_t asks[] = { 60000, 64000, 72000, 88000, 105000, 109000, 117000 };
	struct rig *r = *state;

	bind_to(r, &two_min);
	for (size_t i = 0; i < DH_N_ELEMENTS(asks); i++) {
		assert_int_equal(fire(r), T0 + asks[i]);
		sent(r, DHCPREQUEST);
	}
	assert_int_equal(dhcp_client_deadline(&r->c), T0 + S(120));
	/* Six lost, the seventh answered, 3 s before the end: the lease goes on. */
	answer(r, &two_min, DHCPACK);
	event(r, DHCP_EVENT_RENEWED);
	assert_state(r, DHCP_STATE_BOUND);
}

/* A timer late past T2: the renewal's DHCPREQUEST goes out, then the state moves on
 * at once, but its DHCPREQUEST waits a second rather than going out with the first. */
static void renewal_requests_are_a_second_apart_when_t2_has_passed(void **state)
{
	struct rig *r = *state;

	bind_to(r, &srv1);
	at(r, T0 + S(875));
	sent(r, DHCPREQUEST);
	assert_state(r, DHCP_STATE_RENEWING);
	uint32_t xid = sent_xid(r);
	assert_int_equal(dhcp_client_deadline(&r->c), T0 + S(875));
	at(r, T0 + S(875));
	assert_state(r, DHCP_STATE_REBINDING);
	assert_nothing_sent(r);
	assert_int_equal(fire(r), T0 + S(876));
	sent(r, DHCPREQUEST);
	assert_int_equal(sent_xid(r), xid);
	assert_int_equal(r->out.transport, DHCP_SEND_BROADCAST);
	/* Then the rebinding's own series: 4 s first. */
	assert_int_equal(dhcp_client_deadline(&r->c), T0 + S(876) + S(4));
}

/* Near the end of the lease the 60 s minimum gives way to the expiry; the requests
 * still keep a second apart, and the expiry comes on time. */
static void renewal_requests_near_the_expiry_are_a_second_apart(void **state)
{
	const struct server brief = { "192.0.2.1", "192.0.2.100", 4, 0, 0 };
	struct rig *r = *state;

	bind_to(r, &brief); /* T1 2 s, T2 3.5 s, expiry 4 s */
	assert_int_equal(fire(r), T0 + S(2));
	sent(r, DHCPREQUEST);
	assert_state(r, DHCP_STATE_RENEWING);
	/* The 60 s minimum would pass T2: T2 itself. */
	assert_int_equal(fire(r), T0 + 3500);
	sent(r, DHCPREQUEST);
	assert_state(r, DHCP_STATE_REBINDING);
	/* The next one would be under a second away: none before the expiry. */
	assert_int_equal(fire(r), T0 + S(4));
	event(r, DHCP_EVENT_EXPIRED);
	sent(r, DHCPDISCOVER);
}

/* A fake server for `run_for`: it offers and grants `s`'s lease to every DHCPDISCOVER
 * and DHCPREQUEST, and answers renewals too when `renewals`; GRANTED is accepted. */
struct tally {
	unsigned requests;
	unsigned bound; /* BOUND and RENEWED */
	unsigned expired;
	uint64_t shortest_renewal_gap_ms; /* between two DHCPREQUESTs of one renewal */
};

static void serve(struct rig *r, const struct server *s, bool renewals, struct tally *t, uint32_t *last_xid,
		  uint64_t *last_ms)
{
	struct dhcp_event ev;

	while (dhcp_client_pop_output(&r->c, &r->out)) {
		enum dhcp_client_state state = dhcp_client_get_state(&r->c);
		bool renewing = state == DHCP_STATE_RENEWING || state == DHCP_STATE_REBINDING;
		free(r->sent);
		r->sent = parse_or_fail(r->out.data, r->out.len);
		uint8_t type = dhcp_message_type(r->sent);
		if (type == DHCPREQUEST) {
			t->requests++;
			if (renewing && sent_xid(r) == *last_xid && r->now - *last_ms < t->shortest_renewal_gap_ms)
				t->shortest_renewal_gap_ms = r->now - *last_ms;
			*last_xid = sent_xid(r);
			*last_ms = r->now;
		}
		if (type == DHCPDISCOVER)
			answer(r, s, DHCPOFFER);
		else if (type == DHCPREQUEST && (!renewing || renewals))
			answer(r, s, DHCPACK);
	}
	while (dhcp_client_pop_event(&r->c, &ev)) {
		if (ev.type == DHCP_EVENT_GRANTED)
			dhcp_client_accept(&r->c, r->now);
		t->bound += ev.type == DHCP_EVENT_BOUND || ev.type == DHCP_EVENT_RENEWED;
		t->expired += ev.type == DHCP_EVENT_EXPIRED;
	}
}

/* Runs the client against the fake server from now for `ms`; at most 1000 timers, so
 * a storm of them fails the test instead of hanging it. */
static struct tally run_for(struct rig *r, const struct server *s, bool renewals, uint64_t ms)
{
	struct tally t = { .shortest_renewal_gap_ms = UINT64_MAX };
	uint64_t until = r->now + ms, last_ms = 0;
	uint32_t last_xid = 0;

	dhcp_client_start(&r->c, r->now);
	for (unsigned timers = 0;; timers++) {
		serve(r, s, renewals, &t, &last_xid, &last_ms);
		if (dhcp_client_deadline(&r->c) > until)
			return t;
		if (timers == 1000)
			fail_msg("1000 timers before %llu ms: %u DHCPREQUESTs", (unsigned long long)ms, t.requests);
		fire(r);
	}
}

/* Leases of 1 and 2 s, every renewal answered at once: one DHCPREQUEST per T1 (half
 * the lease), the first in REQUESTING; the renewal storm was thousands. */
static void short_leases_renew_at_t1_and_no_sooner(void **state)
{
	const struct server one = { "192.0.2.1", "192.0.2.100", 1, 0, 0 };
	const struct server two = { "192.0.2.1", "192.0.2.100", 2, 0, 0 };
	struct rig *r = *state;

	struct tally t = run_for(r, &one, true, S(14));
	assert_int_equal(t.requests, 1 + 28); /* at 0, then every 0.5 s to 14 s */
	assert_int_equal(t.bound, 29);
	assert_int_equal(t.expired, 0);

	reconfigure(r, false, NULL);
	t = run_for(r, &two, true, S(14));
	assert_int_equal(t.requests, 1 + 14);
	assert_int_equal(t.bound, 15);
	assert_int_equal(t.expired, 0);
}

/* The same leases with renewals unanswered: one renewal DHCPREQUEST (the next one would
 * be under a second away, past the expiry), the expiry on time, a new lease at once. */
static void short_leases_unrenewed_expire_and_come_back(void **state)
{
	const struct server one = { "192.0.2.1", "192.0.2.100", 1, 0, 0 };
	const struct server two = { "192.0.2.1", "192.0.2.100", 2, 0, 0 };
	struct rig *r = *state;

	struct tally t = run_for(r, &one, false, S(14));
	assert_int_equal(t.expired, 14);
	assert_int_equal(t.bound, 15);
	assert_int_equal(t.requests, 15 + 14); /* one to acquire each lease, one to renew it */
	assert_state(r, DHCP_STATE_BOUND);

	reconfigure(r, false, NULL);
	t = run_for(r, &two, false, S(14));
	assert_int_equal(t.expired, 7);
	assert_int_equal(t.bound, 8);
	assert_int_equal(t.requests, 8 + 7);
	assert_state(r, DHCP_STATE_BOUND);
}

/* A lease of 3 s unanswered: a DHCPREQUEST at T1 (1.5 s) and at T2 (2.625 s), none in
 * the 375 ms left, the expiry at 3 s and a new lease. */
static void renewal_of_a_short_lease_asks_at_t1_and_t2(void **state)
{
	const struct server three = { "192.0.2.1", "192.0.2.100", 3, 0, 0 };
	struct rig *r = *state;

	struct tally t = run_for(r, &three, false, S(3));
	assert_int_equal(t.expired, 1);
	assert_int_equal(t.requests, 1 + 2 + 1);
	assert_int_equal(t.shortest_renewal_gap_ms, 1125);
	assert_state(r, DHCP_STATE_BOUND);
}

static void rebind_ack_from_any_server_renews(void **state)
{
	struct rig *r = *state;
	const struct server other = { "192.0.2.2", "192.0.2.100", 600, 0, 0 };

	bind_to(r, &srv1);
	at(r, T0 + S(500));
	sent(r, DHCPREQUEST);
	at(r, T0 + S(875));
	sent(r, DHCPREQUEST);
	answer(r, &other, DHCPACK);
	event(r, DHCP_EVENT_RENEWED);
	assert_state(r, DHCP_STATE_BOUND);
	assert_addr_equal(dhcp_client_lease(&r->c)->server_id, "192.0.2.2");
	/* Renewals now go to the new server. */
	assert_int_equal(fire(r), T0 + S(875) + S(300));
	sent(r, DHCPREQUEST);
	assert_addr_equal(r->out.dst, "192.0.2.2");
}

static void expiry_emits_expired_then_discovers(void **state)
{
	struct rig *r = *state;

	bind_to(r, &srv1);
	for (unsigned i = 0; i < 15; i++) { /* 9 renewing, 6 rebinding */
		fire(r);
		sent(r, DHCPREQUEST);
	}
	assert_state(r, DHCP_STATE_REBINDING);
	assert_int_equal(fire(r), T0 + S(1000));
	const char *reason = event(r, DHCP_EVENT_EXPIRED);
	assert_non_null(strstr(reason, "192.0.2.100 from 192.0.2.1"));
	assert_non_null(strstr(reason, "15 renew/rebind DHCPREQUESTs"));
	const struct dhcp_message *msg = sent(r, DHCPDISCOVER);
	assert_int_equal(msg->header.ciaddr, 0);
	assert_state(r, DHCP_STATE_SELECTING);
	assert_null(dhcp_client_lease(&r->c));
	assert_broadcast_from_nowhere(r);
}

/* ---- DHCPNAK ---- */

static void nak_in_requesting_restarts_with_growing_delay(void **state)
{
	static const uint64_t delays[] = { 0, 2000, 4000, 8000, 16000, 32000, 64000, 64000 };
	struct rig *r = *state;

	dhcp_client_start(&r->c, r->now);
	sent(r, DHCPDISCOVER);
	for (size_t i = 0; i < DH_N_ELEMENTS(delays); i++) {
		uint32_t xid = sent_xid(r);
		answer(r, &srv1, DHCPOFFER);
		sent(r, DHCPREQUEST);
		answer(r, &srv1, DHCPNAK);
		if (delays[i]) {
			assert_state(r, DHCP_STATE_INIT);
			assert_nothing_sent(r);
			assert_int_equal(dhcp_client_deadline(&r->c), r->now + delays[i]);
			fire(r);
		}
		sent(r, DHCPDISCOVER);
		assert_int_not_equal(sent_xid(r), xid);
		assert_state(r, DHCP_STATE_SELECTING);
	}
	assert_int_equal(r->c.counters.naks, DH_N_ELEMENTS(delays));
	assert_no_event(r);
}

static void nak_from_another_server_is_ignored_while_requesting(void **state)
{
	struct rig *r = *state;

	request(r, &srv1);
	answer(r, &srv2, DHCPNAK);
	assert_nothing_sent(r);
	assert_state(r, DHCP_STATE_REQUESTING);
	assert_int_equal(r->c.counters.naks, 0);
	assert_int_equal(r->c.counters.dropped, 1);
	answer(r, &srv1, DHCPACK);
	event(r, DHCP_EVENT_GRANTED);
}

static void nak_in_renewing_loses_the_lease_then_asks_for_it_again(void **state)
{
	struct rig *r = *state;

	bind_to(r, &srv1);
	fire(r);
	sent(r, DHCPREQUEST);
	uint32_t renew_xid = sent_xid(r);
	answer(r, &srv1, DHCPNAK);
	const char *reason = event(r, DHCP_EVENT_LOST);
	assert_non_null(strstr(reason, "from 192.0.2.1: go away"));
	assert_non_null(strstr(reason, "renewing 192.0.2.100"));
	assert_null(dhcp_client_lease(&r->c));
	/* INIT-REBOOT for the same address: 50, no 54, ciaddr 0, broadcast */
	const struct dhcp_message *msg = sent(r, DHCPREQUEST);
	assert_state(r, DHCP_STATE_REBOOTING);
	assert_int_equal(msg->header.ciaddr, 0);
	assert_option_addr(msg, DHCP_OPTION_REQUESTED_IP_ADDRESS, "192.0.2.100");
	assert_option_absent(msg, DHCP_OPTION_SERVER_IDENTIFIER);
	assert_broadcast_from_nowhere(r);
	assert_int_not_equal(sent_xid(r), renew_xid);
}

static void nak_from_another_server_is_ignored_while_renewing(void **state)
{
	struct rig *r = *state;

	bind_to(r, &srv1);
	fire(r);
	sent(r, DHCPREQUEST);
	answer(r, &srv2, DHCPNAK);
	assert_no_event(r);
	assert_nothing_sent(r);
	assert_state(r, DHCP_STATE_RENEWING);
}

static void nak_in_rebinding_from_any_server_loses_the_lease(void **state)
{
	struct rig *r = *state;

	bind_to(r, &srv1);
	at(r, T0 + S(500));
	sent(r, DHCPREQUEST);
	at(r, T0 + S(875));
	sent(r, DHCPREQUEST);
	answer(r, &srv2, DHCPNAK);
	assert_non_null(strstr(event(r, DHCP_EVENT_LOST), "rebinding 192.0.2.100"));
	sent(r, DHCPREQUEST);
	assert_state(r, DHCP_STATE_REBOOTING);
}

static void nak_in_selecting_is_ignored(void **state)
{
	/* A DHCPNAK answers a DHCPREQUEST; while selecting we sent none. */
	struct rig *r = *state;

	dhcp_client_start(&r->c, r->now);
	sent(r, DHCPDISCOVER);
	uint32_t xid = sent_xid(r);
	answer(r, &srv1, DHCPNAK);
	assert_nothing_sent(r);
	assert_state(r, DHCP_STATE_SELECTING);
	assert_int_equal(dhcp_client_xid(&r->c), xid);
	answer(r, &srv1, DHCPOFFER);
	sent(r, DHCPREQUEST);
}

static void ack_in_selecting_is_dropped(void **state)
{
	/* No lease without a DHCPREQUEST, and none without the caller's accept. */
	struct rig *r = *state;

	dhcp_client_start(&r->c, r->now);
	sent(r, DHCPDISCOVER);
	answer(r, &srv1, DHCPACK);
	assert_no_event(r);
	assert_nothing_sent(r);
	assert_state(r, DHCP_STATE_SELECTING);
	assert_null(dhcp_client_lease(&r->c));
	assert_int_equal(r->c.counters.dropped, 1);
}

/* ---- retransmission (RFC 2131 4.1) ---- */

static void discover_schedule(struct rig *r, uint32_t rand_base, const int64_t *want_s, size_t n, int64_t jitter_ms)
{
	r->rand_base = rand_base;
	dhcp_client_start(&r->c, r->now);
	sent(r, DHCPDISCOVER);
	uint32_t xid = sent_xid(r);
	for (size_t i = 0; i < n; i++) {
		uint64_t before = r->now;
		uint64_t at_ms = fire(r);
		assert_int_equal((int64_t)(at_ms - before), want_s[i] * 1000 + jitter_ms);
		sent(r, DHCPDISCOVER);
		assert_int_equal(sent_xid(r), xid);
	}
	assert_int_equal(r->c.counters.discovers, n + 1);
}

static const int64_t rfc_schedule[] = { 4, 8, 16, 32, 64, 64, 64 };

static void retransmissions_double_from_4_to_64_seconds(void **state)
{
	discover_schedule(*state, RAND_MID, rfc_schedule, DH_N_ELEMENTS(rfc_schedule), 0);
}

static void retransmission_jitter_low_bound_is_minus_one_second(void **state)
{
	discover_schedule(*state, RAND_LOW, rfc_schedule, DH_N_ELEMENTS(rfc_schedule), -1000);
}

static void retransmission_jitter_high_bound_is_plus_one_second(void **state)
{
	discover_schedule(*state, RAND_HIGH, rfc_schedule, DH_N_ELEMENTS(rfc_schedule), 1000);
}

static void request_retransmits_then_starts_over(void **state)
{
	/* 4 DHCPREQUESTs (0, 4, 12, 28 s), then DISCOVER at 60 s with a new xid. */
	static const uint64_t times[] = { 4, 12, 28 };
	struct rig *r = *state;

	request(r, &srv1);
	uint32_t xid = sent_xid(r);
	for (size_t i = 0; i < DH_N_ELEMENTS(times); i++) {
		assert_int_equal(fire(r), T0 + S(times[i]));
		sent(r, DHCPREQUEST);
		assert_option_addr(r->sent, DHCP_OPTION_SERVER_IDENTIFIER, "192.0.2.1");
		assert_int_equal(sent_xid(r), xid);
	}
	assert_int_equal(fire(r), T0 + S(60));
	sent(r, DHCPDISCOVER);
	assert_int_not_equal(sent_xid(r), xid);
	assert_state(r, DHCP_STATE_SELECTING);
}

static void acquire_timeout_fails_with_the_wire_story(void **state)
{
	/* 2 s doubling to 8 s, give up at 20 s: DISCOVERs at 0, 2, 6, 14 s. */
	const struct dhcp_timing timing = { .initial_ms = 2000, .max_ms = 8000, .acquire_ms = 20000 };
	static const uint64_t times[] = { 2, 6, 14 };
	struct rig *r = *state;

	reconfigure(r, false, &timing);
	dhcp_client_start(&r->c, r->now);
	sent(r, DHCPDISCOVER);
	for (size_t i = 0; i < DH_N_ELEMENTS(times); i++) {
		assert_int_equal(fire(r), T0 + S(times[i]));
		sent(r, DHCPDISCOVER);
	}
	assert_int_equal(fire(r), T0 + S(20));
	assert_string_equal(event(r, DHCP_EVENT_FAILED), "no DHCPOFFER after 4 DHCPDISCOVERs in 20 s");
	assert_int_equal(r->ev.failure, DHCP_FAILURE_SILENCE);
	assert_nothing_sent(r);
	assert_state(r, DHCP_STATE_STOPPED);
	assert_true(dhcp_client_deadline(&r->c) == UINT64_MAX);
}

static void failure_story_tells_offers_requests_and_naks(void **state)
{
	const struct dhcp_timing timing = { .acquire_ms = 30000 };
	struct rig *r = *state;

	reconfigure(r, false, &timing);
	request(r, &srv1);
	answer(r, &srv1, DHCPNAK);
	sent(r, DHCPDISCOVER);
	answer(r, &srv1, DHCPOFFER);
	sent(r, DHCPREQUEST);
	fire_until(r, DHCP_STATE_STOPPED);
	assert_string_equal(event(r, DHCP_EVENT_FAILED), "2 DHCPOFFERs but no DHCPACK to 5 DHCPREQUESTs in 30 s; "
							 "1 DHCPNAK, last from 192.0.2.1: go away");
	assert_int_equal(r->ev.failure, DHCP_FAILURE_REFUSED);
}

static void failure_story_tells_declined_addresses(void **state)
{
	const struct dhcp_timing timing = { .acquire_ms = 15000 };
	struct rig *r = *state;

	reconfigure(r, false, &timing);
	grant(r, &srv1);
	dhcp_client_decline(&r->c, r->now, "in use by 02:00:00:00:00:99");
	sent(r, DHCPDECLINE);
	fire_until(r, DHCP_STATE_STOPPED);
	assert_string_equal(event(r, DHCP_EVENT_FAILED), "1 DHCPACK declined in 15 s, the address in use; last "
							 "192.0.2.100: in use by 02:00:00:00:00:99");
	assert_int_equal(r->ev.failure, DHCP_FAILURE_DECLINED);
}

static void failure_story_tells_dropped_replies(void **state)
{
	const struct dhcp_timing timing = { .acquire_ms = 10000 };
	struct rig *r = *state;
	struct test_msg m;

	reconfigure(r, false, &timing);
	dhcp_client_start(&r->c, r->now);
	sent(r, DHCPDISCOVER);
	msg_reply(&m, DHCPOFFER, sent_xid(r), "192.0.2.100", NULL); /* no server id */
	msg_finish(&m);
	receive(r, &m);
	assert_state(r, DHCP_STATE_SELECTING);
	fire_until(r, DHCP_STATE_STOPPED);
	const char *reason = event(r, DHCP_EVENT_FAILED);
	assert_non_null(strstr(reason, "no DHCPOFFER after 2 DHCPDISCOVERs in 10 s; 1 reply dropped, last because"));
	assert_non_null(strstr(reason, "server identifier"));
	assert_int_equal(r->ev.failure, DHCP_FAILURE_SILENCE);
}

/* Offered, then silence: the pool may have run out between the two. */
static void failure_after_an_offer_without_ack_says_so(void **state)
{
	const struct dhcp_timing timing = { .acquire_ms = 10000 };
	struct rig *r = *state;

	reconfigure(r, false, &timing);
	request(r, &srv1);
	fire_until(r, DHCP_STATE_STOPPED);
	assert_non_null(strstr(event(r, DHCP_EVENT_FAILED), "1 DHCPOFFER but no DHCPACK"));
	assert_int_equal(r->ev.failure, DHCP_FAILURE_NO_ACK);
}

/* ---- replies that are not for us, or not acceptable ---- */

static void second_offer_while_requesting_is_ignored(void **state)
{
	struct rig *r = *state;

	request(r, &srv1);
	answer(r, &srv2, DHCPOFFER);
	assert_nothing_sent(r);
	assert_state(r, DHCP_STATE_REQUESTING);
	assert_int_equal(r->c.counters.offers, 1);
	/* An ACK from the other server is not the answer to our request. */
	answer(r, &srv2, DHCPACK);
	assert_no_event(r);
	assert_int_equal(r->c.counters.dropped, 1);
	answer(r, &srv1, DHCPACK);
	event(r, DHCP_EVENT_GRANTED);
	assert_addr_equal(dhcp_client_lease(&r->c)->address, "192.0.2.100");
}

static void reply_with_another_client_id_is_dropped(void **state)
{
	static const uint8_t other_id[] = { 1, 0x02, 0x00, 0x00, 0xc0, 0xff, 0xef };
	struct rig *r = *state;
	struct test_msg m;

	dhcp_client_start(&r->c, r->now);
	sent(r, DHCPDISCOVER);
	build_answer(r, &srv1, DHCPOFFER, &m);
	msg_put(&m, DHCP_OPTION_CLIENT_IDENTIFIER, other_id, sizeof(other_id));
	msg_finish(&m);
	receive(r, &m);
	assert_nothing_sent(r);
	assert_int_equal(r->c.counters.dropped, 1);
	assert_non_null(strstr(r->c.counters.last->drop, "RFC 6842"));
	/* Our own identifier echoed is fine. */
	build_answer(r, &srv1, DHCPOFFER, &m);
	msg_put(&m, DHCP_OPTION_CLIENT_IDENTIFIER, client_id, sizeof(client_id));
	msg_finish(&m);
	receive(r, &m);
	sent(r, DHCPREQUEST);
}

static void replies_for_other_transactions_are_ignored(void **state)
{
	struct rig *r = *state;
	struct test_msg m;

	dhcp_client_start(&r->c, r->now);
	sent(r, DHCPDISCOVER);
	build_answer(r, &srv1, DHCPOFFER, &m);
	m.data[7] ^= 1; /* xid */
	msg_finish(&m);
	receive(r, &m);
	build_answer(r, &srv1, DHCPOFFER, &m);
	m.data[offsetof(struct dhcp_header, chaddr) + 5] ^= 1;
	msg_finish(&m);
	receive(r, &m);
	build_answer(r, &srv1, DHCPOFFER, &m);
	m.data[0] = BOOTREQUEST;
	msg_finish(&m);
	receive(r, &m);
	assert_nothing_sent(r);
	assert_state(r, DHCP_STATE_SELECTING);
	/* Other clients' traffic is not counted as dropped. */
	assert_int_equal(r->c.counters.dropped, 0);
	assert_int_equal(r->c.counters.offers, 0);
}

static void malformed_and_unexpected_replies_are_dropped(void **state)
{
	struct rig *r = *state;
	struct test_msg m;

	dhcp_client_start(&r->c, r->now);
	sent(r, DHCPDISCOVER);
	dhcp_client_receive(&r->c, r->now, (const uint8_t *)"short", 5);
	assert_int_equal(r->c.counters.dropped, 1);
	assert_string_equal(r->c.counters.last->drop, "malformed: shorter than a DHCP header");
	assert_non_null(strstr(r->log, "malformed"));
	assert_int_equal(r->log_priority, LOG_INFO);
	msg_reply(&m, DHCPINFORM, sent_xid(r), NULL, "192.0.2.1");
	msg_finish(&m);
	receive(r, &m);
	assert_int_equal(r->c.counters.dropped, 2);
	assert_string_equal(r->c.counters.last->drop, "unexpected DHCPINFORM");
	assert_nothing_sent(r);
	assert_state(r, DHCP_STATE_SELECTING);
}

static void replies_are_ignored_when_not_expected(void **state)
{
	struct rig *r = *state;

	grant(r, &srv1);
	/* GRANTED waits for the caller: a repeated ACK or a NAK changes nothing. */
	answer(r, &srv1, DHCPNAK);
	answer(r, &srv1, DHCPACK);
	assert_no_event(r);
	assert_state(r, DHCP_STATE_GRANTED);
	dhcp_client_accept(&r->c, r->now);
	event(r, DHCP_EVENT_BOUND);
	/* BOUND sent nothing to be answered. */
	answer(r, &srv1, DHCPNAK);
	assert_no_event(r);
	assert_state(r, DHCP_STATE_BOUND);
}

/* ---- addresses no pod may have ---- */

/* What a server may not give, and why (srv1's identifier 192.0.2.1, a /24). */
static const struct {
	const char *addr;
	const char *why;
} unusable[] = {
	{ "127.0.0.1", "a loopback address" },
	{ "127.0.0.9", "a loopback address" },
	{ "224.0.0.5", "a multicast address" },
	{ "240.0.0.1", "a reserved address (240.0.0.0/4)" },
	{ "0.1.2.3", "an address of \"this network\" (0.0.0.0/8)" },
	{ "169.254.7.7", "a link-local address" },
	{ "192.0.2.0", "the network address of its subnet" },
	{ "192.0.2.255", "the broadcast address of its subnet" },
	{ "192.0.2.1", "the server's own address" },
};

static void offers_of_unusable_addresses_are_dropped(void **state)
{
	struct rig *r = *state;

	dhcp_client_start(&r->c, r->now);
	sent(r, DHCPDISCOVER);
	for (size_t i = 0; i < DH_N_ELEMENTS(unusable); i++) {
		const struct server bad = { "192.0.2.1", unusable[i].addr, 1000, 0, 0 };
		char want[128];
		answer(r, &bad, DHCPOFFER);
		assert_nothing_sent(r);
		assert_state(r, DHCP_STATE_SELECTING);
		assert_int_equal(r->c.counters.dropped, i + 1);
		assert_int_equal(r->c.counters.offers, 0);
		snprintf(want, sizeof(want), "DHCPOFFER of %s unusable: %s", unusable[i].addr, unusable[i].why);
		assert_non_null(strstr(r->c.counters.last->drop, want));
	}
	/* A good one after them is taken. */
	answer(r, &srv1, DHCPOFFER);
	sent(r, DHCPREQUEST);
	assert_option_addr(r->sent, DHCP_OPTION_REQUESTED_IP_ADDRESS, "192.0.2.100");
}

static void failure_story_names_the_unusable_offer(void **state)
{
	/* DISCOVERs at 0, 2 and 6 s, each offered 127.0.0.1; no DHCPOFFER counts. */
	const struct dhcp_timing timing = { .initial_ms = 2000, .max_ms = 8000, .acquire_ms = 10000 };
	const struct server loopback = { "192.0.2.1", "127.0.0.1", 1000, 0, 0 };
	struct rig *r = *state;

	reconfigure(r, false, &timing);
	dhcp_client_start(&r->c, r->now);
	for (unsigned i = 0; i < 3; i++) {
		sent(r, DHCPDISCOVER);
		answer(r, &loopback, DHCPOFFER);
		if (i < 2)
			fire(r);
	}
	fire_until(r, DHCP_STATE_STOPPED);
	assert_string_equal(event(r, DHCP_EVENT_FAILED), "no DHCPOFFER after 3 DHCPDISCOVERs in 10 s; 3 replies "
							 "dropped, last because DHCPOFFER of 127.0.0.1 unusable: "
							 "a loopback address");
}

/* The ACK to a good offer names another address: dropped, no DHCPDECLINE (no host
 * holds a loopback address), and the DHCPREQUEST is retransmitted as if unanswered. */
static void ack_of_an_unusable_address_is_dropped_while_requesting(void **state)
{
	const struct server bad = { "192.0.2.1", "127.0.0.9", 1000, 0, 0 };
	struct rig *r = *state;

	request(r, &srv1);
	uint64_t retransmit = dhcp_client_deadline(&r->c);
	answer(r, &bad, DHCPACK);
	assert_no_event(r);
	assert_nothing_sent(r);
	assert_state(r, DHCP_STATE_REQUESTING);
	assert_int_equal(r->c.counters.acks, 0);
	assert_string_equal(r->c.counters.last->drop, "DHCPACK of 127.0.0.9 unusable: a loopback address");
	assert_int_equal(dhcp_client_deadline(&r->c), retransmit);
	fire(r);
	sent(r, DHCPREQUEST);
	answer(r, &srv1, DHCPACK);
	event(r, DHCP_EVENT_GRANTED);
}

static void ack_of_an_unusable_address_is_dropped_while_rebooting(void **state)
{
	const struct server bad = { "192.0.2.1", "224.0.0.5", 1000, 0, 0 };
	struct rig *r = *state;

	dhcp_client_start_reboot(&r->c, r->now, ip4("192.0.2.100"));
	sent(r, DHCPREQUEST);
	answer(r, &bad, DHCPACK);
	assert_no_event(r);
	assert_nothing_sent(r);
	assert_state(r, DHCP_STATE_REBOOTING);
	assert_string_equal(r->c.counters.last->drop, "DHCPACK of 224.0.0.5 unusable: a multicast address");
}

/* A renewal's ACK moving the lease to an address no pod may have: the lease stays as
 * it was, and so do its timers. */
static void renewal_ack_moving_to_an_unusable_address_keeps_the_lease(void **state)
{
	struct rig *r = *state;

	for (size_t i = 0; i < DH_N_ELEMENTS(unusable); i++) {
		const struct server bad = { "192.0.2.1", unusable[i].addr, 1000, 0, 0 };
		reconfigure(r, false, NULL);
		r->now = T0;
		bind_to(r, &srv1);
		fire(r);
		sent(r, DHCPREQUEST);
		uint64_t retry = dhcp_client_deadline(&r->c);
		answer(r, &bad, DHCPACK);
		assert_no_event(r);
		assert_nothing_sent(r);
		assert_state(r, DHCP_STATE_RENEWING);
		assert_addr_equal(dhcp_client_lease(&r->c)->address, "192.0.2.100");
		assert_int_equal(dhcp_client_lease(&r->c)->start_ms, T0);
		assert_int_equal(dhcp_client_deadline(&r->c), retry);
		assert_non_null(strstr(r->c.counters.last->drop, unusable[i].why));
	}
	/* Rebinding, from any server. */
	const struct server bad = { "192.0.2.2", "127.0.0.9", 1000, 0, 0 };
	at(r, T0 + S(875));
	sent(r, DHCPREQUEST);
	assert_state(r, DHCP_STATE_REBINDING);
	answer(r, &bad, DHCPACK);
	assert_no_event(r);
	assert_state(r, DHCP_STATE_REBINDING);
	assert_addr_equal(dhcp_client_lease(&r->c)->address, "192.0.2.100");
	answer(r, &srv1, DHCPACK);
	event(r, DHCP_EVENT_RENEWED);
}

/* A lease saved before these checks, on an address no pod may have: lost at once
 * (its address comes off the pod), and a new one from DHCPDISCOVER. */
static void resumed_lease_of_an_unusable_address_is_lost(void **state)
{
	const struct server bad = { "192.0.2.1", "127.0.0.9", 1000, 0, 0 };
	struct rig *r = *state;
	struct dhcp_lease lease;

	saved_lease(&bad, T0, &lease);
	r->now = T0 + S(100);
	dhcp_client_resume(&r->c, r->now, &lease, false);
	dhcp_lease_clear(&lease);
	assert_string_equal(event(r, DHCP_EVENT_LOST), "saved lease of 127.0.0.9 unusable: a loopback address");
	sent(r, DHCPDISCOVER);
	assert_state(r, DHCP_STATE_SELECTING);
	assert_addr_equal(dhcp_client_last_lease(&r->c)->address, "127.0.0.9");
	answer(r, &srv1, DHCPOFFER);
	sent(r, DHCPREQUEST);
	answer(r, &srv1, DHCPACK);
	event(r, DHCP_EVENT_GRANTED);
	dhcp_client_accept(&r->c, r->now);
	assert_non_null(strstr(event(r, DHCP_EVENT_ADDRESS_CHANGED), "the last one was 127.0.0.9"));
}

/* ---- the log of dropped replies ---- */

/* A flood of garbage with our xid: every reply counts in the story, ten log lines
 * pass in ten seconds, and one more says how many did not. */
static void a_flood_of_dropped_replies_logs_a_burst_then_a_count(void **state)
{
	const struct server bad = { "192.0.2.1", "127.0.0.1", 1000, 0, 0 };
	struct rig *r = *state;

	dhcp_client_start(&r->c, r->now);
	sent(r, DHCPDISCOVER);
	for (unsigned i = 0; i < 1000; i++) {
		r->now = T0 + i * 3; /* 3 s of them */
		answer(r, &bad, DHCPOFFER);
	}
	assert_int_equal(r->c.counters.dropped, 1000);
	assert_int_equal(r->info_lines, 10);
	/* The retransmission at 4 s, then the end of the window at 10 s, before the next
	 * one at 12 s: the client wakes up for it. */
	assert_int_equal(dhcp_client_deadline(&r->c), T0 + S(4));
	at(r, T0 + S(4));
	sent(r, DHCPDISCOVER);
	assert_int_equal(r->info_lines, 10);
	assert_int_equal(fire(r), T0 + S(10));
	assert_nothing_sent(r);
	assert_int_equal(r->info_lines, 11);
	assert_string_equal(r->log, "990 more dropped replies not logged in the last 10 s");
	assert_int_equal(r->log_priority, LOG_INFO);
	/* Said once; then the next retransmission is the only timer. */
	assert_int_equal(dhcp_client_deadline(&r->c), T0 + S(12));
	/* A new window logs again. */
	answer(r, &bad, DHCPOFFER);
	assert_int_equal(r->info_lines, 12);
	assert_non_null(strstr(r->log, "dropped a reply in SELECTING: DHCPOFFER of 127.0.0.1 unusable"));
}

/* With no timer of its own, the count comes before the next line logged. */
static void unlogged_drops_are_counted_before_the_next_line(void **state)
{
	const struct dhcp_timing timing = { .initial_ms = 60000, .max_ms = 60000 };
	struct rig *r = *state;
	struct test_msg m;

	reconfigure(r, false, &timing);
	dhcp_client_start(&r->c, r->now);
	sent(r, DHCPDISCOVER);
	msg_reply(&m, DHCPACK, sent_xid(r), "192.0.2.100", "192.0.2.1");
	msg_finish(&m);
	for (unsigned i = 0; i < 11; i++)
		receive(r, &m);
	assert_int_equal(r->info_lines, 10);
	r->now = T0 + S(10);
	receive(r, &m);
	assert_int_equal(r->info_lines, 12);
	assert_string_equal(r->log, "dropped a reply in SELECTING: DHCPACK while selecting: no DHCPREQUEST was sent");
	assert_int_equal(r->c.counters.dropped, 12);
}

/* ---- INIT-REBOOT ---- */

static void init_reboot_asks_for_the_remembered_address(void **state)
{
	struct rig *r = *state;

	reconfigure(r, true, NULL);
	dhcp_client_start_reboot(&r->c, r->now, ip4("192.0.2.100"));
	const struct dhcp_message *msg = sent(r, DHCPREQUEST);
	assert_state(r, DHCP_STATE_REBOOTING);
	assert_header_basics(msg);
	assert_int_equal(msg->header.ciaddr, 0);
	assert_int_equal(ntohs(msg->header.flags), DHCP_FLAG_BROADCAST);
	assert_option_addr(msg, DHCP_OPTION_REQUESTED_IP_ADDRESS, "192.0.2.100");
	assert_option_absent(msg, DHCP_OPTION_SERVER_IDENTIFIER);
	assert_request_options(msg);
	assert_broadcast_from_nowhere(r);
}

static void init_reboot_ack_is_granted(void **state)
{
	struct rig *r = *state;

	dhcp_client_start_reboot(&r->c, r->now, ip4("192.0.2.100"));
	sent(r, DHCPREQUEST);
	answer(r, &srv1, DHCPACK);
	event(r, DHCP_EVENT_GRANTED);
	dhcp_client_accept(&r->c, r->now);
	event(r, DHCP_EVENT_BOUND);
	assert_int_equal(dhcp_client_deadline(&r->c), T0 + S(500));
}

static void init_reboot_nak_discovers_at_once(void **state)
{
	struct rig *r = *state;

	dhcp_client_start_reboot(&r->c, r->now, ip4("192.0.2.100"));
	sent(r, DHCPREQUEST);
	uint32_t xid = sent_xid(r);
	answer(r, &srv2, DHCPNAK);
	sent(r, DHCPDISCOVER);
	assert_int_not_equal(sent_xid(r), xid);
	assert_state(r, DHCP_STATE_SELECTING);
	assert_no_event(r);
}

static void init_reboot_without_answer_discovers_after_reboot_tries(void **state)
{
	const struct dhcp_timing three = { .reboot_tries = 3 };
	struct rig *r = *state;

	/* Default: 2 DHCPREQUESTs (0, 4 s), then DHCPDISCOVER at 12 s. */
	dhcp_client_start_reboot(&r->c, r->now, ip4("192.0.2.100"));
	sent(r, DHCPREQUEST);
	assert_int_equal(fire(r), T0 + S(4));
	sent(r, DHCPREQUEST);
	assert_int_equal(fire(r), T0 + S(12));
	sent(r, DHCPDISCOVER);

	reconfigure(r, false, &three);
	r->now = T0 + S(100);
	dhcp_client_start_reboot(&r->c, r->now, ip4("192.0.2.100"));
	sent(r, DHCPREQUEST);
	fire(r);
	sent(r, DHCPREQUEST);
	fire(r);
	sent(r, DHCPREQUEST);
	assert_int_equal(fire(r), T0 + S(100 + 28));
	sent(r, DHCPDISCOVER);
}

static void init_reboot_timeout_tells_of_the_remembered_address(void **state)
{
	const struct dhcp_timing timing = { .acquire_ms = 5000 };
	struct rig *r = *state;

	reconfigure(r, false, &timing);
	dhcp_client_start_reboot(&r->c, r->now, ip4("192.0.2.100"));
	sent(r, DHCPREQUEST);
	fire(r);
	sent(r, DHCPREQUEST);
	assert_int_equal(fire(r), T0 + S(5));
	assert_string_equal(event(r, DHCP_EVENT_FAILED),
			    "no answer to 2 DHCPREQUESTs for the remembered address in 5 s");
	assert_state(r, DHCP_STATE_STOPPED);
}

/* ---- decline and release ---- */

static void decline_sends_decline_and_restarts_after_10s(void **state)
{
	struct rig *r = *state;

	reconfigure(r, true, NULL);
	grant(r, &srv1);
	uint32_t xid = sent_xid(r); /* the DHCPREQUEST's */
	r->now += 1500; /* the ARP probe took a while */
	dhcp_client_decline(&r->c, r->now, "in use by 02:00:00:00:00:99");
	const struct dhcp_message *msg = sent(r, DHCPDECLINE);
	assert_header_basics(msg);
	assert_option_equal(msg, DHCP_OPTION_MESSAGE, "in use by 02:00:00:00:00:99", 27);
	assert_int_equal(msg->header.ciaddr, 0);
	assert_option_addr(msg, DHCP_OPTION_REQUESTED_IP_ADDRESS, "192.0.2.100");
	assert_option_addr(msg, DHCP_OPTION_SERVER_IDENTIFIER, "192.0.2.1");
	assert_option_absent(msg, DHCP_OPTION_PARAMETER_REQUEST_LIST);
	assert_int_not_equal(sent_xid(r), xid);
	assert_broadcast_from_nowhere(r);
	assert_state(r, DHCP_STATE_INIT);
	assert_null(dhcp_client_lease(&r->c));
	assert_int_equal(fire(r), T0 + 1500 + S(10));
	sent(r, DHCPDISCOVER);
	assert_state(r, DHCP_STATE_SELECTING);
}

static void release_is_unicast_from_the_leased_address(void **state)
{
	struct rig *r = *state;

	bind_to(r, &srv1);
	uint32_t xid = sent_xid(r);
	r->now += S(100);
	dhcp_client_release(&r->c, r->now);
	const struct dhcp_message *msg = sent(r, DHCPRELEASE);
	assert_header_basics(msg);
	assert_addr_equal((struct in_addr){ msg->header.ciaddr }, "192.0.2.100");
	assert_option_addr(msg, DHCP_OPTION_SERVER_IDENTIFIER, "192.0.2.1");
	assert_option_absent(msg, DHCP_OPTION_REQUESTED_IP_ADDRESS);
	assert_int_not_equal(sent_xid(r), xid);
	assert_int_equal(r->out.transport, DHCP_SEND_UNICAST);
	assert_addr_equal(r->out.src, "192.0.2.100");
	assert_addr_equal(r->out.dst, "192.0.2.1");
	assert_state(r, DHCP_STATE_STOPPED);
	assert_true(dhcp_client_deadline(&r->c) == UINT64_MAX);
	assert_null(dhcp_client_lease(&r->c));
	assert_no_event(r);
}

static void release_of_a_granted_lease_releases_it(void **state)
{
	struct rig *r = *state;

	grant(r, &srv1);
	dhcp_client_release(&r->c, r->now);
	assert_addr_equal((struct in_addr){ sent(r, DHCPRELEASE)->header.ciaddr }, "192.0.2.100");
	assert_state(r, DHCP_STATE_STOPPED);
}

static void release_without_a_lease_sends_nothing(void **state)
{
	struct rig *r = *state;

	dhcp_client_start(&r->c, r->now);
	sent(r, DHCPDISCOVER);
	dhcp_client_release(&r->c, r->now);
	assert_nothing_sent(r);
	assert_state(r, DHCP_STATE_STOPPED);
	/* A stopped client ignores replies and time. */
	answer(r, &srv1, DHCPOFFER);
	at(r, T0 + S(1000));
	assert_nothing_sent(r);
	assert_no_event(r);
}

/* ---- resuming a saved lease ---- */

/* srv1's lease saved at T0, resumed at `now` (`lost`: a DHCPNAK had refused it). */
static void resume_at(struct rig *r, uint64_t now, bool lost)
{
	struct dhcp_lease lease;

	saved_lease(&srv1, T0, &lease);
	r->now = now;
	dhcp_client_resume(&r->c, r->now, &lease, lost);
	dhcp_lease_clear(&lease);
}

static void resume_before_t1_is_bound(void **state)
{
	struct rig *r = *state;

	resume_at(r, T0 + S(100), false);
	assert_state(r, DHCP_STATE_BOUND);
	assert_nothing_sent(r);
	assert_no_event(r);
	assert_int_equal(dhcp_client_deadline(&r->c), T0 + S(500));
	assert_addr_equal(dhcp_client_lease(&r->c)->address, "192.0.2.100");
	fire(r);
	sent(r, DHCPREQUEST);
	assert_int_equal(r->out.transport, DHCP_SEND_UNICAST);
}

static void resume_between_t1_and_t2_renews(void **state)
{
	struct rig *r = *state;

	resume_at(r, T0 + S(600), false);
	const struct dhcp_message *msg = sent(r, DHCPREQUEST);
	assert_state(r, DHCP_STATE_RENEWING);
	assert_addr_equal((struct in_addr){ msg->header.ciaddr }, "192.0.2.100");
	assert_int_equal(ntohs(msg->header.secs), 1);
	assert_int_equal(r->out.transport, DHCP_SEND_UNICAST);
	assert_addr_equal(r->out.dst, "192.0.2.1");
	assert_int_equal(dhcp_client_deadline(&r->c), T0 + S(600) + S(4));
}

static void resume_between_t2_and_expiry_rebinds(void **state)
{
	struct rig *r = *state;

	resume_at(r, T0 + S(900), false);
	const struct dhcp_message *msg = sent(r, DHCPREQUEST);
	assert_state(r, DHCP_STATE_REBINDING);
	assert_addr_equal((struct in_addr){ msg->header.ciaddr }, "192.0.2.100");
	assert_int_equal(r->out.transport, DHCP_SEND_BROADCAST);
	/* A transaction of its own: a random xid, secs counted from now. */
	assert_int_equal(sent_xid(r), RAND_MID + JITTER_MOD);
	assert_int_equal(ntohs(msg->header.secs), 1);
	assert_int_equal(dhcp_client_deadline(&r->c), T0 + S(900) + S(4));
	answer(r, &srv1, DHCPACK);
	event(r, DHCP_EVENT_RENEWED);
}

static void resume_after_expiry_reboots(void **state)
{
	struct rig *r = *state;

	resume_at(r, T0 + S(1000), false);
	const struct dhcp_message *msg = sent(r, DHCPREQUEST);
	assert_state(r, DHCP_STATE_REBOOTING);
	assert_int_equal(msg->header.ciaddr, 0);
	assert_option_addr(msg, DHCP_OPTION_REQUESTED_IP_ADDRESS, "192.0.2.100");
	assert_option_absent(msg, DHCP_OPTION_SERVER_IDENTIFIER);
	assert_null(dhcp_client_lease(&r->c));
}

static void resume_after_expiry_never_gives_up(void **state)
{
	const struct dhcp_timing timing = { .acquire_ms = 5000 };
	struct rig *r = *state;

	/* A configured acquire timeout bounds an ADD; nobody waits on a resumed lease,
	 * and the pod still needs its address however long the server stays away. */
	reconfigure(r, false, &timing);
	resume_at(r, T0 + S(1000), false);
	sent(r, DHCPREQUEST);
	fire(r);
	sent(r, DHCPREQUEST);
	/* No answer to the remembered address: DHCPDISCOVERs, long past the 5 s. */
	for (int i = 0; i < 4; i++) {
		fire(r);
		sent(r, DHCPDISCOVER);
	}
	assert_true(r->now > T0 + S(1000) + 5000);
	assert_no_event(r);
	assert_state(r, DHCP_STATE_SELECTING);
	answer(r, &srv1, DHCPOFFER);
	sent(r, DHCPREQUEST);
	answer(r, &srv1, DHCPACK);
	event(r, DHCP_EVENT_GRANTED);
}

/* A lease a DHCPNAK refused before the restart is not put back, valid as its times
 * still look: the address is asked for again, and a NAK starts over. */
static void resume_lost_lease_asks_again(void **state)
{
	struct rig *r = *state;

	resume_at(r, T0 + S(100), true);
	const struct dhcp_message *msg = sent(r, DHCPREQUEST);
	assert_state(r, DHCP_STATE_REBOOTING);
	assert_option_addr(msg, DHCP_OPTION_REQUESTED_IP_ADDRESS, "192.0.2.100");
	assert_null(dhcp_client_lease(&r->c));
	answer(r, &srv1, DHCPNAK);
	sent(r, DHCPDISCOVER);
	assert_state(r, DHCP_STATE_SELECTING);
	answer(r, &srv2, DHCPOFFER);
	sent(r, DHCPREQUEST);
	answer(r, &srv2, DHCPACK);
	event(r, DHCP_EVENT_GRANTED);
	dhcp_client_accept(&r->c, r->now);
	/* The refused address is still known: the caller takes it off the pod. */
	const char *reason = event(r, DHCP_EVENT_ADDRESS_CHANGED);
	assert_non_null(strstr(reason, "is 192.0.2.200, the last one was 192.0.2.100"));
}

/* ---- address changes ---- */

static void renew_ack_with_another_address_changes_it(void **state)
{
	struct rig *r = *state;
	const struct server moved = { "192.0.2.1", "192.0.2.101", 1000, 0, 0 };

	bind_to(r, &srv1);
	fire(r);
	sent(r, DHCPREQUEST);
	answer(r, &moved, DHCPACK);
	const char *reason = event(r, DHCP_EVENT_ADDRESS_CHANGED);
	assert_non_null(strstr(reason, "from 192.0.2.100 to 192.0.2.101"));
	assert_state(r, DHCP_STATE_BOUND);
	assert_addr_equal(dhcp_client_lease(&r->c)->address, "192.0.2.101");
}

static void reacquired_lease_with_another_address_changes_it(void **state)
{
	struct rig *r = *state;

	bind_to(r, &srv1);
	fire_until(r, DHCP_STATE_SELECTING);
	event(r, DHCP_EVENT_EXPIRED);
	free(r->sent);
	r->sent = parse_or_fail(r->out.data, r->out.len);
	answer(r, &srv2, DHCPOFFER);
	sent(r, DHCPREQUEST);
	answer(r, &srv2, DHCPACK);
	event(r, DHCP_EVENT_GRANTED);
	dhcp_client_accept(&r->c, r->now);
	const char *reason = event(r, DHCP_EVENT_ADDRESS_CHANGED);
	assert_non_null(strstr(reason, "is 192.0.2.200, the last one was 192.0.2.100"));
	assert_state(r, DHCP_STATE_BOUND);
}

static void reacquired_lease_with_the_same_address_is_bound(void **state)
{
	struct rig *r = *state;

	bind_to(r, &srv1);
	fire(r);
	sent(r, DHCPREQUEST);
	answer(r, &srv1, DHCPNAK);
	event(r, DHCP_EVENT_LOST);
	sent(r, DHCPREQUEST);
	answer(r, &srv1, DHCPACK);
	event(r, DHCP_EVENT_GRANTED);
	dhcp_client_accept(&r->c, r->now);
	event(r, DHCP_EVENT_BOUND);
}

/* ---- the log ---- */

static void transitions_are_logged_at_debug_level_with_the_xid(void **state)
{
	struct rig *r = *state;
	char want[64];

	dhcp_client_start(&r->c, r->now);
	sent(r, DHCPDISCOVER);
	answer(r, &srv1, DHCPOFFER);
	sent(r, DHCPREQUEST);
	snprintf(want, sizeof(want), "SELECTING -> REQUESTING, xid 0x%08x", sent_xid(r));
	assert_string_equal(r->log, want);
	assert_int_equal(r->log_priority, LOG_DEBUG);
}

static void debug_log_traces_every_transition_once(void **state)
{
	struct rig *r = *state;
	char want[512];

	bind_to(r, &srv1);
	uint32_t dora = sent_xid(r);
	fire(r);
	sent(r, DHCPREQUEST);
	uint32_t renew = sent_xid(r);
	answer(r, &srv1, DHCPNAK);
	sent(r, DHCPREQUEST);
	uint32_t reboot = sent_xid(r);
	dhcp_client_release(&r->c, r->now);
	dhcp_client_stop(&r->c); /* STOPPED already: no transition */
	snprintf(want, sizeof(want),
		 "STOPPED -> INIT, xid 0x00000000\n"
		 "INIT -> SELECTING, xid 0x%08x\n"
		 "SELECTING -> REQUESTING, xid 0x%08x\n"
		 "REQUESTING -> GRANTED, xid 0x%08x\n"
		 "GRANTED -> BOUND, xid 0x%08x\n"
		 "BOUND -> RENEWING, xid 0x%08x\n"
		 "RENEWING -> INIT-REBOOT, xid 0x%08x\n"
		 "INIT-REBOOT -> REBOOTING, xid 0x%08x\n"
		 "REBOOTING -> STOPPED, xid 0x%08x\n",
		 dora, dora, dora, dora, renew, renew, reboot, reboot);
	assert_string_equal(r->trace, want);
}

static void full_event_queue_drops_with_a_warning(void **state)
{
	struct rig *r = *state;

	/* GRANTED, BOUND and three renewals, none popped: the fifth finds no room. */
	request(r, &srv1);
	answer(r, &srv1, DHCPACK);
	dhcp_client_accept(&r->c, r->now);
	for (int i = 0; i < 3; i++) {
		fire(r);
		sent(r, DHCPREQUEST);
		answer(r, &srv1, DHCPACK);
	}
	assert_string_equal(r->log, "event queue full, dropping renewed");
	assert_int_equal(r->log_priority, LOG_WARNING);
	event(r, DHCP_EVENT_GRANTED);
	event(r, DHCP_EVENT_BOUND);
	event(r, DHCP_EVENT_RENEWED);
	event(r, DHCP_EVENT_RENEWED);
	assert_no_event(r);
}

static void message_too_large_is_not_sent_and_logged_as_an_error(void **state)
{
	struct rig *r = *state;
	struct dhcp_client_config config = { 0 };

	/* Request options that fill the whole frame (PADs): no room for the rest. */
	dhcp_client_free(&r->c);
	memcpy(config.mac, test_mac, 6);
	config.request_options = calloc(1, DHCP_OUTPUT_MAX);
	assert_non_null(config.request_options);
	config.request_options_len = DHCP_OUTPUT_MAX;
	dhcp_client_init(&r->c, &config, fake_random, fake_log, r);
	dhcp_client_start(&r->c, r->now);
	assert_nothing_sent(r);
	assert_string_equal(r->log, "DHCPDISCOVER does not fit in 1472 octets: not sent");
	assert_int_equal(r->log_priority, LOG_ERR);
	assert_state(r, DHCP_STATE_SELECTING);
}

/* ---- getters ---- */

static void state_and_xid_follow_the_exchange(void **state)
{
	struct rig *r = *state;

	assert_int_equal(dhcp_client_get_state(&r->c), DHCP_STATE_STOPPED);
	dhcp_client_start(&r->c, r->now);
	sent(r, DHCPDISCOVER);
	assert_int_equal(dhcp_client_get_state(&r->c), DHCP_STATE_SELECTING);
	assert_int_equal(dhcp_client_xid(&r->c), sent_xid(r));
	uint32_t dora = sent_xid(r);
	answer(r, &srv1, DHCPOFFER);
	sent(r, DHCPREQUEST);
	assert_int_equal(dhcp_client_get_state(&r->c), DHCP_STATE_REQUESTING);
	assert_int_equal(dhcp_client_xid(&r->c), dora);
	answer(r, &srv1, DHCPACK);
	assert_int_equal(dhcp_client_get_state(&r->c), DHCP_STATE_GRANTED);
	dhcp_client_accept(&r->c, r->now);
	assert_int_equal(dhcp_client_get_state(&r->c), DHCP_STATE_BOUND);
	/* A renewal is a transaction of its own: the socket filter must follow. */
	fire(r);
	sent(r, DHCPREQUEST);
	assert_int_equal(dhcp_client_get_state(&r->c), DHCP_STATE_RENEWING);
	assert_int_equal(dhcp_client_xid(&r->c), sent_xid(r));
	assert_int_not_equal(dhcp_client_xid(&r->c), dora);
}

static void last_lease_is_none_before_the_first_bind(void **state)
{
	struct rig *r = *state;

	assert_null(dhcp_client_last_lease(&r->c));
	grant(r, &srv1);
	/* Granted is not bound yet: the caller may still decline it. */
	assert_null(dhcp_client_last_lease(&r->c));
	dhcp_client_decline(&r->c, r->now, "in use");
	assert_null(dhcp_client_last_lease(&r->c));
}

static void last_lease_outlives_a_nak(void **state)
{
	struct rig *r = *state;

	bind_to(r, &srv1);
	assert_ptr_equal(dhcp_client_last_lease(&r->c), dhcp_client_lease(&r->c));
	fire(r);
	sent(r, DHCPREQUEST);
	answer(r, &srv1, DHCPNAK);
	event(r, DHCP_EVENT_LOST);
	assert_null(dhcp_client_lease(&r->c));
	assert_non_null(dhcp_client_last_lease(&r->c));
	assert_addr_equal(dhcp_client_last_lease(&r->c)->address, "192.0.2.100");
	/* Bound again, to another address: that one is the last lease now. */
	sent(r, DHCPREQUEST);
	answer(r, &srv2, DHCPACK);
	event(r, DHCP_EVENT_GRANTED);
	assert_addr_equal(dhcp_client_last_lease(&r->c)->address, "192.0.2.100");
	dhcp_client_accept(&r->c, r->now);
	event(r, DHCP_EVENT_ADDRESS_CHANGED);
	assert_addr_equal(dhcp_client_last_lease(&r->c)->address, "192.0.2.200");
}

static void last_lease_outlives_an_expiry_and_a_release(void **state)
{
	struct rig *r = *state;

	bind_to(r, &srv1);
	fire_until(r, DHCP_STATE_SELECTING);
	event(r, DHCP_EVENT_EXPIRED);
	assert_null(dhcp_client_lease(&r->c));
	assert_addr_equal(dhcp_client_last_lease(&r->c)->address, "192.0.2.100");
	assert_addr_equal(dhcp_client_last_lease(&r->c)->server_id, "192.0.2.1");

	dhcp_client_free(&r->c);
	rig_init(r, false, NULL);
	bind_to(r, &srv1);
	dhcp_client_release(&r->c, r->now);
	assert_null(dhcp_client_lease(&r->c));
	assert_addr_equal(dhcp_client_last_lease(&r->c)->address, "192.0.2.100");
}

static void last_lease_of_a_lost_saved_lease_is_that_lease(void **state)
{
	struct rig *r = *state;

	resume_at(r, T0 + S(100), true);
	assert_null(dhcp_client_lease(&r->c));
	assert_addr_equal(dhcp_client_last_lease(&r->c)->address, "192.0.2.100");
}

static void names_of_states_and_events(void **state)
{
	(void)state;
	assert_string_equal(dhcp_client_state_name(DHCP_STATE_INIT_REBOOT), "INIT-REBOOT");
	assert_string_equal(dhcp_client_state_name(DHCP_STATE_REBINDING), "REBINDING");
	assert_string_equal(dhcp_client_state_name((enum dhcp_client_state)42), "?");
	assert_string_equal(dhcp_event_name(DHCP_EVENT_ADDRESS_CHANGED), "address-changed");
	assert_string_equal(dhcp_event_name(DHCP_EVENT_FAILED), "failed");
	assert_string_equal(dhcp_event_name((enum dhcp_event_type)42), "?");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(discover_follows_table_5),
		T(broadcast_flag_follows_the_config),
		T(request_in_selecting_follows_table_5),
		T(secs_counts_from_the_first_discover),
		T(ack_grants_and_accept_binds_until_t1),
		T(ticks_before_the_deadline_do_nothing),
		T(infinite_lease_has_no_deadline),
		T(renew_at_t1_is_unicast_to_the_server),
		T(renew_ack_extends_the_lease),
		T(renew_retries_start_at_4s_doubling_until_half_the_time_to_t2_is_sooner),
		T(rebind_at_t2_broadcasts_with_ciaddr),
		T(rebind_retries_double_until_half_the_time_to_expiry_is_sooner),
		T(a_two_minute_lease_asks_seven_times_before_it_ends),
		T(renewal_requests_are_a_second_apart_when_t2_has_passed),
		T(renewal_requests_near_the_expiry_are_a_second_apart),
		T(short_leases_renew_at_t1_and_no_sooner),
		T(short_leases_unrenewed_expire_and_come_back),
		T(renewal_of_a_short_lease_asks_at_t1_and_t2),
		T(rebind_ack_from_any_server_renews),
		T(expiry_emits_expired_then_discovers),
		T(nak_in_requesting_restarts_with_growing_delay),
		T(nak_from_another_server_is_ignored_while_requesting),
		T(nak_in_renewing_loses_the_lease_then_asks_for_it_again),
		T(nak_from_another_server_is_ignored_while_renewing),
		T(nak_in_rebinding_from_any_server_loses_the_lease),
		T(nak_in_selecting_is_ignored),
		T(ack_in_selecting_is_dropped),
		T(retransmissions_double_from_4_to_64_seconds),
		T(retransmission_jitter_low_bound_is_minus_one_second),
		T(retransmission_jitter_high_bound_is_plus_one_second),
		T(request_retransmits_then_starts_over),
		T(acquire_timeout_fails_with_the_wire_story),
		T(failure_story_tells_offers_requests_and_naks),
		T(failure_story_tells_declined_addresses),
		T(failure_story_tells_dropped_replies),
		T(failure_after_an_offer_without_ack_says_so),
		T(second_offer_while_requesting_is_ignored),
		T(reply_with_another_client_id_is_dropped),
		T(replies_for_other_transactions_are_ignored),
		T(malformed_and_unexpected_replies_are_dropped),
		T(replies_are_ignored_when_not_expected),
		T(offers_of_unusable_addresses_are_dropped),
		T(failure_story_names_the_unusable_offer),
		T(ack_of_an_unusable_address_is_dropped_while_requesting),
		T(ack_of_an_unusable_address_is_dropped_while_rebooting),
		T(renewal_ack_moving_to_an_unusable_address_keeps_the_lease),
		T(resumed_lease_of_an_unusable_address_is_lost),
		T(a_flood_of_dropped_replies_logs_a_burst_then_a_count),
		T(unlogged_drops_are_counted_before_the_next_line),
		T(init_reboot_asks_for_the_remembered_address),
		T(init_reboot_ack_is_granted),
		T(init_reboot_nak_discovers_at_once),
		T(init_reboot_without_answer_discovers_after_reboot_tries),
		T(init_reboot_timeout_tells_of_the_remembered_address),
		T(decline_sends_decline_and_restarts_after_10s),
		T(release_is_unicast_from_the_leased_address),
		T(release_of_a_granted_lease_releases_it),
		T(release_without_a_lease_sends_nothing),
		T(resume_before_t1_is_bound),
		T(resume_between_t1_and_t2_renews),
		T(resume_between_t2_and_expiry_rebinds),
		T(resume_after_expiry_reboots),
		T(resume_after_expiry_never_gives_up),
		T(resume_lost_lease_asks_again),
		T(renew_ack_with_another_address_changes_it),
		T(reacquired_lease_with_another_address_changes_it),
		T(reacquired_lease_with_the_same_address_is_bound),
		T(transitions_are_logged_at_debug_level_with_the_xid),
		T(debug_log_traces_every_transition_once),
		T(full_event_queue_drops_with_a_warning),
		T(message_too_large_is_not_sent_and_logged_as_an_error),
		T(state_and_xid_follow_the_exchange),
		T(last_lease_is_none_before_the_first_bind),
		T(last_lease_outlives_a_nak),
		T(last_lease_outlives_an_expiry_and_a_release),
		T(last_lease_of_a_lost_saved_lease_is_that_lease),
		T(names_of_states_and_events),
	};
	return cmocka_run_group_tests_name("dhcp_client", tests, NULL, NULL);
}
