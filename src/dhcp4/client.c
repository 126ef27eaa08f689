#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "dhcp4/client.h"
#include "dhcp4/protocol.h"
#include "util/macro.h"

#define DEFAULT_REQUEST_TRIES 4
#define DEFAULT_REBOOT_TRIES 2
/* RFC 2131 3.1.5: after a DHCPDECLINE "the client SHOULD wait a minimum of ten
 * seconds before restarting the configuration process". */
#define DECLINE_RESTART_MS 10000
/* Restarts after NAKs in a row back off to this. */
#define NAK_BACKOFF_MAX_MS 64000
/* Ours: two DHCPREQUESTs of one renewal are never closer than this. RFC 2131 4.4.5's
 * 60 s minimum gives way to T2 and the end of the lease, which with a lease of a
 * second or two are milliseconds away. */
#define RENEW_RETRY_FLOOR_MS 1000
/* A flood of bad replies carrying our xid must not flood the log: this many lines in
 * this long, then one line with the count of the others. */
#define DROP_LOG_INTERVAL_MS 10000
#define DROP_LOG_BURST 10

/* RFC 2131 figure 5's names, and ours for STOPPED and GRANTED. */
const char *dhcp_client_state_name(enum dhcp_client_state state)
{
	switch (state) {
	case DHCP_STATE_STOPPED: return "STOPPED";
	case DHCP_STATE_INIT: return "INIT";
	case DHCP_STATE_SELECTING: return "SELECTING";
	case DHCP_STATE_REQUESTING: return "REQUESTING";
	case DHCP_STATE_INIT_REBOOT: return "INIT-REBOOT";
	case DHCP_STATE_REBOOTING: return "REBOOTING";
	case DHCP_STATE_GRANTED: return "GRANTED";
	case DHCP_STATE_BOUND: return "BOUND";
	case DHCP_STATE_RENEWING: return "RENEWING";
	case DHCP_STATE_REBINDING: return "REBINDING";
	}
	return "?";
}

const char *dhcp_event_name(enum dhcp_event_type type)
{
	static const char *const names[] = {
		[DHCP_EVENT_GRANTED] = "granted", [DHCP_EVENT_BOUND] = "bound",
		[DHCP_EVENT_RENEWED] = "renewed", [DHCP_EVENT_ADDRESS_CHANGED] = "address-changed",
		[DHCP_EVENT_LOST] = "lost",       [DHCP_EVENT_EXPIRED] = "expired",
		[DHCP_EVENT_FAILED] = "failed",
	};
	return (size_t)type < ARRAY_SIZE(names) ? names[type] : "?";
}

/* ---- helpers ---- */

__attribute__((format(printf, 3, 4))) static void client_log(struct dhcp_client *c, int priority, const char *fmt,
							     ...)
{
	char line[256];
	va_list ap;

	if (!c->log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c->log(c->ctx, priority, line);
}

__attribute__((format(printf, 3, 4))) static void emit(struct dhcp_client *c, enum dhcp_event_type type,
							const char *fmt, ...)
{
	va_list ap;

	if (c->n_events == DHCP_EVENT_QUEUE) {
		client_log(c, LOG_WARNING, "event queue full, dropping %s", dhcp_event_name(type));
		return;
	}
	if (!c->events && !(c->events = malloc(DHCP_EVENT_QUEUE * sizeof(*c->events)))) {
		client_log(c, LOG_ERR, "out of memory: %s event lost", dhcp_event_name(type));
		return;
	}
	struct dhcp_event *ev = &c->events[c->n_events++];
	ev->type = type;
	ev->failure = DHCP_FAILURE_NONE;
	va_start(ap, fmt);
	vsnprintf(ev->reason, sizeof(ev->reason), fmt, ap);
	va_end(ap);
}

static const char *addr_text(struct in_addr addr, char buf[INET_ADDRSTRLEN])
{
	return inet_ntop(AF_INET, &addr, buf, INET_ADDRSTRLEN);
}

static uint64_t add_ms(uint64_t t, uint64_t ms)
{
	return t > UINT64_MAX - ms ? UINT64_MAX : t + ms;
}

/* RFC 2131 2: 'xid' is "a random number chosen by the client, used by the client and
 * server to associate messages and responses". */
static void new_xid(struct dhcp_client *c)
{
	c->xid = c->random(c->ctx);
}

/* A new exchange: a new transaction, and 'secs' counts from now. */
static void begin_exchange(struct dhcp_client *c, uint64_t now)
{
	new_xid(c);
	c->exchange_start_ms = now;
}

/* Every transition passes here, so the debug log traces the state machine. */
static void set_state(struct dhcp_client *c, enum dhcp_client_state state)
{
	if (state == c->state)
		return;
	client_log(c, LOG_DEBUG, "%s -> %s, xid 0x%08x", dhcp_client_state_name(c->state),
		   dhcp_client_state_name(state), c->xid);
	c->state = state;
}

/* RFC 2131 4.1: 4 s doubling to 64 s, "randomized by ... -1 to +1" second. The
 * jitter shrinks with shorter configured intervals so it never dominates them. */
static uint64_t retransmit_delay(struct dhcp_client *c)
{
	const struct dhcp_timing *t = &c->config.timing;
	unsigned shift = c->tries > 1 ? c->tries - 1 : 0;
	uint64_t base = shift >= 16 ? t->max_ms : (uint64_t)t->initial_ms << shift;

	if (base > t->max_ms)
		base = t->max_ms;
	int64_t span = base / 4 < 1000 ? (int64_t)(base / 4) : 1000;
	int64_t jitter = span ? (int64_t)(c->random(c->ctx) % (uint32_t)(2 * span + 1)) - span : 0;
	return (uint64_t)((int64_t)base + jitter);
}

/* RFC 2131 4.4.5: a renewal's DHCPREQUEST is retransmitted after "one-half of the
 * remaining time until T2 (in RENEWING state) and one-half of the remaining lease time
 * (in REBINDING state), down to a minimum of 60 seconds". Alone, that sends two in a
 * 2-minute lease's renewal, and a reply or two lost on a busy LAN loses the lease. So
 * retransmissions start as 4.1's do (the initial delay, 4 s, doubling: `tries` of this
 * state so far) until 4.4.5's spacing is the shorter, then follow it: a 2-minute
 * lease asks 4 times renewing and 3 rebinding, a day-long one 22 and 18 times.
 * Never past `until` (its own timer changes the state then), never under
 * RENEW_RETRY_FLOOR_MS apart (past `until` if need be). */
static uint64_t renew_retry_at(const struct dhcp_client *c, uint64_t now, uint64_t until)
{
	uint64_t half = until > now ? (until - now) / 2 : 0;
	uint64_t spacing = half < DHCP_RENEW_RETRY_MIN_S * 1000ull ? DHCP_RENEW_RETRY_MIN_S * 1000ull : half;
	unsigned shift = c->tries > 1 ? c->tries - 1 : 0;
	uint64_t backoff = shift >= 32 ? UINT64_MAX : (uint64_t)c->config.timing.initial_ms << shift;
	uint64_t at = add_ms(now, backoff < spacing ? backoff : spacing), floor = add_ms(now, RENEW_RETRY_FLOOR_MS);

	if (at > until)
		at = until;
	return at > floor ? at : floor;
}

/* ---- building messages (RFC 2131 table 5) ---- */

/* RFC 2131 table 5: 'secs' is 0 in DHCPDECLINE and DHCPRELEASE, elsewhere the time
 * since the exchange began; at least 1 there, since some relays hold back requests
 * with secs = 0 to let a local server answer first. A DECLINE or RELEASE is no request
 * anyone must answer, so the table's 0 stands for them. */
static uint16_t secs_field(const struct dhcp_client *c, uint8_t type, uint64_t now)
{
	uint64_t secs = now > c->exchange_start_ms ? (now - c->exchange_start_ms) / 1000 : 0;

	if (type == DHCPDECLINE || type == DHCPRELEASE)
		return 0;
	return secs < 1 ? 1 : secs > 0xffff ? 0xffff : (uint16_t)secs;
}

struct message_plan {
	uint8_t type;
	enum dhcp_transport transport;
	struct in_addr ciaddr;
	struct in_addr requested; /* option 50, when set */
	struct in_addr server_id; /* option 54, when set */
	struct in_addr unicast_to;
	const char *message;  /* option 56, when set */
	bool request_options; /* 55, 57, host name, ... */
	bool broadcast_flag;
};

static void queue_message(struct dhcp_client *c, uint64_t now, const struct message_plan *plan)
{
	struct dhcp_header h = {
		.op = BOOTREQUEST,
		.htype = ARPHRD_ETHER_TYPE,
		.hlen = 6,
		.xid = htonl(c->xid),
		.secs = htons(secs_field(c, plan->type, now)),
		.flags = htons(plan->broadcast_flag ? DHCP_FLAG_BROADCAST : 0),
		.ciaddr = plan->ciaddr.s_addr,
	};
	struct dhcp_output *out = c->output ? c->output : malloc(sizeof(*out));
	struct dhcp_builder b;

	if (!out) {
		client_log(c, LOG_ERR, "out of memory: %s not sent", dhcp_message_type_name(plan->type));
		return;
	}
	memcpy(h.chaddr, c->config.mac, 6);
	dhcp_builder_init(&b, out->data, sizeof(out->data), &h, plan->type);
	if (c->config.client_id_len)
		dhcp_builder_put(&b, DHCP_OPTION_CLIENT_IDENTIFIER, c->config.client_id, c->config.client_id_len);
	if (plan->requested.s_addr)
		dhcp_builder_put_addr(&b, DHCP_OPTION_REQUESTED_IP_ADDRESS, plan->requested);
	if (plan->server_id.s_addr)
		dhcp_builder_put_addr(&b, DHCP_OPTION_SERVER_IDENTIFIER, plan->server_id);
	if (plan->message)
		dhcp_builder_put(&b, DHCP_OPTION_MESSAGE, plan->message, strlen(plan->message));
	if (plan->request_options)
		dhcp_builder_put_encoded(&b, c->config.request_options, c->config.request_options_len);
	if (dhcp_builder_finish(&b) < 0) {
		client_log(c, LOG_ERR, "%s does not fit in %d octets: not sent", dhcp_message_type_name(plan->type),
			   DHCP_OUTPUT_MAX);
		if (out != c->output)
			free(out);
		return;
	}
	out->transport = plan->transport;
	out->type = plan->type;
	out->len = b.len;
	out->src = plan->ciaddr;
	out->dst = plan->transport == DHCP_SEND_UNICAST ? plan->unicast_to : (struct in_addr){ INADDR_BROADCAST };
	c->output = out;
}

/* RFC 2131 4.4.1: DHCPDISCOVER has ciaddr 0 and no server identifier. */
static void send_discover(struct dhcp_client *c, uint64_t now)
{
	struct message_plan plan = {
		.type = DHCPDISCOVER,
		.transport = DHCP_SEND_BROADCAST,
		.request_options = true,
		.broadcast_flag = c->config.broadcast,
	};
	c->counters.discovers++;
	queue_message(c, now, &plan);
}

/* RFC 2131 4.3.2 / table 5: the DHCPREQUEST differs by state.
 *   SELECTING:   ciaddr 0, 'requested IP' MUST, 'server identifier' MUST, broadcast.
 *   INIT-REBOOT: ciaddr 0, 'requested IP' MUST, 'server identifier' MUST NOT, broadcast.
 *   RENEWING:    ciaddr = address, neither option, unicast to the server.
 *   REBINDING:   ciaddr = address, neither option, broadcast. */
static void send_request(struct dhcp_client *c, uint64_t now)
{
	struct message_plan plan = { .type = DHCPREQUEST, .request_options = true };

	switch (c->state) {
	case DHCP_STATE_REQUESTING:
		plan.transport = DHCP_SEND_BROADCAST;
		plan.requested = c->offer.address;
		plan.server_id = c->offer.server_id;
		plan.broadcast_flag = c->config.broadcast;
		break;
	case DHCP_STATE_REBOOTING:
		plan.transport = DHCP_SEND_BROADCAST;
		plan.requested = c->reboot_addr;
		plan.broadcast_flag = c->config.broadcast;
		break;
	case DHCP_STATE_RENEWING:
		plan.transport = DHCP_SEND_UNICAST;
		plan.ciaddr = c->lease.address;
		plan.unicast_to = c->lease.server_id;
		break;
	case DHCP_STATE_REBINDING:
		plan.transport = DHCP_SEND_BROADCAST;
		plan.ciaddr = c->lease.address;
		break;
	case DHCP_STATE_STOPPED:
	case DHCP_STATE_INIT:
	case DHCP_STATE_SELECTING:
	case DHCP_STATE_INIT_REBOOT:
	case DHCP_STATE_GRANTED:
	case DHCP_STATE_BOUND:
		return; /* no DHCPREQUEST is due */
	}
	c->counters.requests++;
	c->request_sent_ms = now;
	queue_message(c, now, &plan);
}

/* RFC 2131 table 5: DHCPDECLINE carries the address (50) and server (54), ciaddr 0,
 * and SHOULD say why (56). */
static void send_decline(struct dhcp_client *c, uint64_t now, const char *why)
{
	struct message_plan plan = {
		.type = DHCPDECLINE,
		.transport = DHCP_SEND_BROADCAST,
		.requested = c->offer.address,
		.server_id = c->offer.server_id,
		.message = why,
	};
	queue_message(c, now, &plan);
}

/* RFC 2131 table 5: DHCPRELEASE has ciaddr = the address and the server id (54), and
 * goes unicast to the server (dnsmasq ignores releases from 0.0.0.0). */
static void send_release(struct dhcp_client *c, uint64_t now)
{
	struct message_plan plan = {
		.type = DHCPRELEASE,
		.transport = DHCP_SEND_UNICAST,
		.ciaddr = c->lease.address,
		.server_id = c->lease.server_id,
		.unicast_to = c->lease.server_id,
	};
	queue_message(c, now, &plan);
}

/* ---- transitions ---- */

static bool acquiring(const struct dhcp_client *c)
{
	switch (c->state) {
	case DHCP_STATE_INIT:
	case DHCP_STATE_SELECTING:
	case DHCP_STATE_REQUESTING:
	case DHCP_STATE_INIT_REBOOT:
	case DHCP_STATE_REBOOTING:
		return true;
	case DHCP_STATE_STOPPED:
	case DHCP_STATE_GRANTED:
	case DHCP_STATE_BOUND:
	case DHCP_STATE_RENEWING:
	case DHCP_STATE_REBINDING:
		return false;
	}
	return false;
}

/* Acquisition timers never run past the point where the caller gave up. */
static void arm(struct dhcp_client *c, uint64_t at)
{
	c->deadline = acquiring(c) && c->acquire_deadline < at ? c->acquire_deadline : at;
}

/* RFC 2131 4.4.1: from INIT the client broadcasts a DHCPDISCOVER and selects. */
static void enter_selecting(struct dhcp_client *c, uint64_t now)
{
	begin_exchange(c, now);
	set_state(c, DHCP_STATE_SELECTING);
	c->tries = 1;
	send_discover(c, now);
	arm(c, add_ms(now, retransmit_delay(c)));
}

static void enter_init(struct dhcp_client *c, uint64_t now, uint64_t delay_ms)
{
	dhcp_lease_clear(&c->offer);
	set_state(c, DHCP_STATE_INIT);
	if (delay_ms == 0) {
		enter_selecting(c, now);
		return;
	}
	arm(c, add_ms(now, delay_ms));
}

/* RFC 2131 4.4.2: from INIT-REBOOT the client broadcasts a DHCPREQUEST for the
 * address it remembers. */
static void enter_rebooting(struct dhcp_client *c, uint64_t now)
{
	begin_exchange(c, now);
	set_state(c, DHCP_STATE_REBOOTING);
	c->tries = 1;
	send_request(c, now);
	arm(c, add_ms(now, retransmit_delay(c)));
}

static void enter_init_reboot(struct dhcp_client *c, uint64_t now, struct in_addr addr)
{
	c->reboot_addr = addr;
	set_state(c, DHCP_STATE_INIT_REBOOT);
	enter_rebooting(c, now);
}

static void enter_bound(struct dhcp_client *c)
{
	set_state(c, DHCP_STATE_BOUND);
	c->nak_streak = 0;
	c->acquire_deadline = UINT64_MAX;
	arm(c, dhcp_lease_t1(&c->lease));
}

/* RENEWING and REBINDING: a DHCPREQUEST when one is due, and the timer of the next
 * one or of `limit` (T2, the expiry), whichever comes first. */
static void renewal_step(struct dhcp_client *c, uint64_t now, uint64_t limit)
{
	if (now >= c->next_request_ms) {
		c->tries++;
		send_request(c, now);
		c->next_request_ms = renew_retry_at(c, now, limit);
	}
	arm(c, c->next_request_ms < limit ? c->next_request_ms : limit);
}

static void clear_counters(struct dhcp_client *c)
{
	free(c->counters.last);
	c->counters = (struct dhcp_counters){ 0 };
}

/* Where the story's last refusals are written; NULL when out of memory (the story
 * then goes without them). */
static struct dhcp_last_words *last_words(struct dhcp_client *c)
{
	if (!c->counters.last)
		c->counters.last = calloc(1, sizeof(*c->counters.last));
	return c->counters.last;
}

static const char *last_nak(const struct dhcp_counters *n)
{
	return n->last ? n->last->nak : "";
}

/* A renewal begins: a transaction of its own, a DHCPREQUEST at once. */
static void begin_renewal(struct dhcp_client *c, uint64_t now)
{
	begin_exchange(c, now);
	c->next_request_ms = now;
}

static void enter_renewing(struct dhcp_client *c, uint64_t now)
{
	begin_renewal(c, now);
	/* The wire story of this renewal (an expiry tells it), not of the acquisition. */
	clear_counters(c);
	c->tries = 0;
	set_state(c, DHCP_STATE_RENEWING);
	renewal_step(c, now, dhcp_lease_t2(&c->lease));
}

/* From RENEWING the transaction goes on: no exchange begins here, and the last
 * DHCPREQUEST's floor still holds. */
static void enter_rebinding(struct dhcp_client *c, uint64_t now)
{
	c->tries = 0; /* every server is asked now, not one: a fresh series */
	set_state(c, DHCP_STATE_REBINDING);
	renewal_step(c, now, dhcp_lease_expiry(&c->lease));
}

static void reset_counters(struct dhcp_client *c, uint64_t now)
{
	clear_counters(c);
	c->nak_streak = 0;
	c->acquire_start_ms = now;
	c->acquire_deadline = c->config.timing.acquire_ms ? add_ms(now, c->config.timing.acquire_ms) : UINT64_MAX;
}

/* The story of a failed acquisition, in what the wire saw. */
static void fail(struct dhcp_client *c, uint64_t now)
{
	const struct dhcp_counters *n = &c->counters;
	uint64_t secs = (now - c->acquire_start_ms + 500) / 1000;
	char story[DHCP_REASON_MAX];
	size_t queued = c->n_events;
	enum dhcp_failure kind = n->declines ? DHCP_FAILURE_DECLINED
				 : n->naks   ? DHCP_FAILURE_REFUSED
				 : n->offers ? DHCP_FAILURE_NO_ACK
					     : DHCP_FAILURE_SILENCE;

	if (n->declines)
		snprintf(story, sizeof(story), "%u DHCPACK%s declined in %llu s, the address in use; last %s", n->declines,
			 n->declines == 1 ? "" : "s", (unsigned long long)secs, n->last ? n->last->decline : "");
	else if (n->offers == 0 && n->discovers > 0)
		snprintf(story, sizeof(story), "no DHCPOFFER after %u DHCPDISCOVER%s in %llu s", n->discovers,
			 n->discovers == 1 ? "" : "s", (unsigned long long)secs);
	else if (n->offers == 0)
		snprintf(story, sizeof(story), "no answer to %u DHCPREQUEST%s for the remembered address in %llu s",
			 n->requests, n->requests == 1 ? "" : "s", (unsigned long long)secs);
	else
		snprintf(story, sizeof(story), "%u DHCPOFFER%s but no DHCPACK to %u DHCPREQUEST%s in %llu s", n->offers,
			 n->offers == 1 ? "" : "s", n->requests, n->requests == 1 ? "" : "s", (unsigned long long)secs);
	if (n->naks)
		emit(c, DHCP_EVENT_FAILED, "%s; %u DHCPNAK%s, last %s", story, n->naks, n->naks == 1 ? "" : "s",
		     last_nak(n));
	else if (n->dropped)
		emit(c, DHCP_EVENT_FAILED, "%s; %u repl%s dropped, last because %s", story, n->dropped,
		     n->dropped == 1 ? "y" : "ies", n->last ? n->last->drop : "");
	else
		emit(c, DHCP_EVENT_FAILED, "%s", story);
	if (c->n_events > queued)
		c->events[queued].failure = kind;
	dhcp_lease_clear(&c->offer);
	dhcp_client_stop(c);
}

static void expire(struct dhcp_client *c, uint64_t now)
{
	char addr[INET_ADDRSTRLEN], server[INET_ADDRSTRLEN];

	emit(c, DHCP_EVENT_EXPIRED, "lease of %s from %s ended with no DHCPACK to %u renew/rebind DHCPREQUESTs",
	     addr_text(c->lease.address, addr), addr_text(c->lease.server_id, server), c->counters.requests);
	reset_counters(c, now);
	/* Re-acquiring after a loss never gives up: the pod still needs an address. */
	c->acquire_deadline = UINT64_MAX;
	enter_init(c, now, 0);
}

void dhcp_client_init(struct dhcp_client *c, const struct dhcp_client_config *config, dhcp_random_fn random,
		      dhcp_log_fn log, void *ctx)
{
	*c = (struct dhcp_client){
		.config = *config,
		.random = random,
		.log = log,
		.ctx = ctx,
		.deadline = UINT64_MAX,
		.acquire_deadline = UINT64_MAX,
		.drop_log = RATELIMIT_INIT(DROP_LOG_INTERVAL_MS, DROP_LOG_BURST),
	};
	struct dhcp_timing *t = &c->config.timing;
	if (!t->initial_ms)
		t->initial_ms = DHCP_RETRANSMIT_INITIAL_S * 1000;
	if (!t->max_ms)
		t->max_ms = DHCP_RETRANSMIT_MAX_S * 1000;
	if (t->max_ms < t->initial_ms)
		t->max_ms = t->initial_ms;
	if (!t->request_tries)
		t->request_tries = DEFAULT_REQUEST_TRIES;
	if (!t->reboot_tries)
		t->reboot_tries = DEFAULT_REBOOT_TRIES;
}

void dhcp_client_config_free(const struct dhcp_client_config *config)
{
	free(config->client_id);
	free(config->request_options);
}

void dhcp_client_free(struct dhcp_client *c)
{
	dhcp_client_config_free(&c->config);
	free(c->counters.last);
	free(c->output);
	free(c->events);
	dhcp_lease_clear(&c->offer);
	dhcp_lease_clear(&c->lease);
	*c = (struct dhcp_client){ .state = DHCP_STATE_STOPPED };
}

void dhcp_client_start(struct dhcp_client *c, uint64_t now)
{
	reset_counters(c, now);
	enter_init(c, now, 0);
}

void dhcp_client_start_reboot(struct dhcp_client *c, uint64_t now, struct in_addr addr)
{
	reset_counters(c, now);
	enter_init_reboot(c, now, addr);
}

/* A saved lease whose address no pod may have (one bound before the address checks
 * existed): it is dropped as a DHCPNAK would, and the client starts over, without
 * asking for that address again. */
static void refuse_saved_lease(struct dhcp_client *c, uint64_t now, const char *why)
{
	char addr[INET_ADDRSTRLEN];

	emit(c, DHCP_EVENT_LOST, "saved lease of %s unusable: %s", addr_text(c->lease.address, addr), why);
	c->acquire_deadline = UINT64_MAX;
	enter_init(c, now, 0);
}

void dhcp_client_resume(struct dhcp_client *c, uint64_t now, const struct dhcp_lease *lease, bool lost)
{
	const char *why = dhcp_lease_address_unusable(lease);

	reset_counters(c, now);
	/* The copy stays for a lost lease too: an ACK for another address then reports
	 * the move, and the old address comes off the pod. */
	if (dhcp_lease_copy(&c->lease, lease) < 0 || lost || now >= dhcp_lease_expiry(lease)) {
		/* As after an expiry: the pod still needs an address, and no caller waits
		 * for a failure (the acquire timeout bounds an ADD, not this). */
		c->acquire_deadline = UINT64_MAX;
		enter_init_reboot(c, now, lease->address);
	} else if (why) {
		refuse_saved_lease(c, now, why);
	} else if (now >= dhcp_lease_t2(lease)) {
		/* No renewal to go on from: a renewal of its own. */
		begin_renewal(c, now);
		enter_rebinding(c, now);
	} else if (now >= dhcp_lease_t1(lease)) {
		enter_renewing(c, now);
	} else {
		enter_bound(c);
	}
}

/* ---- received messages ---- */

/* Once the window of the dropped replies' log is over: how many went unlogged. */
static void log_unlogged_drops(struct dhcp_client *c, uint64_t now)
{
	unsigned unlogged = ratelimit_flush(&c->drop_log, now);

	if (unlogged)
		client_log(c, LOG_INFO, "%u more dropped repl%s not logged in the last %d s", unlogged,
			   unlogged == 1 ? "y" : "ies", DROP_LOG_INTERVAL_MS / 1000);
}

/* Every drop counts in the failure story; its log line is rate-limited. */
__attribute__((format(printf, 3, 4))) static void drop(struct dhcp_client *c, uint64_t now, const char *fmt, ...)
{
	struct dhcp_last_words *last = last_words(c);
	char why[sizeof(last->drop)];
	va_list ap;

	c->counters.dropped++;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (last)
		memcpy(last->drop, why, sizeof(why));
	log_unlogged_drops(c, now);
	if (ratelimit_pass(&c->drop_log, now))
		client_log(c, LOG_INFO, "dropped a reply in %s: %s", dhcp_client_state_name(c->state), why);
}

/* RFC 6842: a server that echoes a client identifier must echo ours. */
static bool client_id_matches(const struct dhcp_client *c, const struct dhcp_message *msg)
{
	const uint8_t *id;
	size_t len;

	if (dhcp_message_get(msg, DHCP_OPTION_CLIENT_IDENTIFIER, &id, &len) < 0)
		return true;
	return len == c->config.client_id_len && memcmp(id, c->config.client_id, len) == 0;
}

static struct in_addr server_of(const struct dhcp_message *msg)
{
	struct in_addr id = { INADDR_ANY };

	dhcp_message_get_addr(msg, DHCP_OPTION_SERVER_IDENTIFIER, &id);
	return id;
}

/* RFC 2131 4.4.1: the client "selects one DHCPOFFER message from the (possibly many)
 * incoming DHCPOFFER messages (e.g., the first DHCPOFFER message ...)", and its
 * DHCPREQUEST keeps the xid of the DHCPDISCOVER. */
static void select_offer(struct dhcp_client *c, uint64_t now, const struct dhcp_message *msg, const uint8_t *raw,
			 size_t len)
{
	char addr[INET_ADDRSTRLEN];
	struct dhcp_lease offer;
	const char *why = dhcp_lease_from_message(msg, raw, len, now, &offer);

	if (!why && (why = dhcp_lease_address_unusable(&offer)))
		dhcp_lease_clear(&offer);
	if (why) {
		drop(c, now, "DHCPOFFER of %s unusable: %s", addr_text((struct in_addr){ msg->header.yiaddr }, addr),
		     why);
		return;
	}
	c->counters.offers++;
	dhcp_lease_clear(&c->offer);
	c->offer = offer;
	set_state(c, DHCP_STATE_REQUESTING);
	c->tries = 1;
	send_request(c, now);
	arm(c, add_ms(now, retransmit_delay(c)));
}

static void on_offer(struct dhcp_client *c, uint64_t now, const struct dhcp_message *msg, const uint8_t *raw,
		     size_t len)
{
	switch (c->state) {
	case DHCP_STATE_SELECTING:
		select_offer(c, now, msg, raw, len);
		return;
	case DHCP_STATE_STOPPED:
	case DHCP_STATE_INIT:
	case DHCP_STATE_REQUESTING:
	case DHCP_STATE_INIT_REBOOT:
	case DHCP_STATE_REBOOTING:
	case DHCP_STATE_GRANTED:
	case DHCP_STATE_BOUND:
	case DHCP_STATE_RENEWING:
	case DHCP_STATE_REBINDING:
		return; /* a second server's offer, or a late one: the first one won */
	}
}

/* The lease a DHCPACK grants. RFC 2131 4.4.1: its times count from the request.
 *
 * An address no pod may have is dropped like any unusable reply, and no DHCPDECLINE
 * goes out: RFC 2131 keeps that message for an address "already in use" (table 2),
 * which the client MUST decline when its own check finds another holder (3.1.5), and
 * a loopback or multicast address has no holder to find. Unanswered, the DHCPREQUEST
 * is sent again and the client starts over after request_tries (REQUESTING,
 * REBOOTING); a renewal keeps the lease it has, and its timers. */
static bool lease_of_ack(struct dhcp_client *c, uint64_t now, const struct dhcp_message *msg, const uint8_t *raw,
			 size_t len, struct dhcp_lease *lease)
{
	char addr[INET_ADDRSTRLEN];
	const char *why = dhcp_lease_from_message(msg, raw, len, c->request_sent_ms, lease);

	if (!why && (why = dhcp_lease_address_unusable(lease)))
		dhcp_lease_clear(lease);
	if (why) {
		drop(c, now, "DHCPACK of %s unusable: %s", addr_text((struct in_addr){ msg->header.yiaddr }, addr),
		     why);
		return false;
	}
	c->counters.acks++;
	return true;
}

static void on_ack_granted(struct dhcp_client *c, struct dhcp_lease *lease)
{
	char addr[INET_ADDRSTRLEN], server[INET_ADDRSTRLEN];

	dhcp_lease_clear(&c->offer);
	c->offer = *lease;
	set_state(c, DHCP_STATE_GRANTED);
	c->deadline = UINT64_MAX;
	emit(c, DHCP_EVENT_GRANTED, "%s/%u from %s for %u s", addr_text(lease->address, addr), lease->prefix_len,
	     addr_text(lease->server_id, server), lease->lifetime_s);
}

static void on_ack_extended(struct dhcp_client *c, struct dhcp_lease *lease)
{
	char old[INET_ADDRSTRLEN], addr[INET_ADDRSTRLEN], server[INET_ADDRSTRLEN];
	bool moved = lease->address.s_addr != c->lease.address.s_addr;

	addr_text(c->lease.address, old);
	dhcp_lease_clear(&c->lease);
	c->lease = *lease;
	enter_bound(c);
	if (moved)
		emit(c, DHCP_EVENT_ADDRESS_CHANGED, "server %s moved the lease from %s to %s",
		     addr_text(lease->server_id, server), old, addr_text(lease->address, addr));
	else
		emit(c, DHCP_EVENT_RENEWED, "%s extended by %s for %u s", addr_text(lease->address, addr),
		     addr_text(lease->server_id, server), lease->lifetime_s);
}

static void on_ack(struct dhcp_client *c, uint64_t now, const struct dhcp_message *msg, const uint8_t *raw,
		   size_t len)
{
	char server[INET_ADDRSTRLEN];
	struct dhcp_lease lease;

	switch (c->state) {
	case DHCP_STATE_SELECTING:
		/* RFC 2131 4.3.1: a DHCPACK answers a DHCPREQUEST; while selecting we sent
		 * none, and a lease must not bypass the caller's accept. */
		drop(c, now, "DHCPACK while selecting: no DHCPREQUEST was sent");
		return;
	case DHCP_STATE_REQUESTING:
		if (server_of(msg).s_addr != c->offer.server_id.s_addr)
			drop(c, now, "DHCPACK from %s, not the server whose offer we requested",
			     addr_text(server_of(msg), server));
		else if (lease_of_ack(c, now, msg, raw, len, &lease))
			on_ack_granted(c, &lease);
		return;
	case DHCP_STATE_REBOOTING:
		if (lease_of_ack(c, now, msg, raw, len, &lease))
			on_ack_granted(c, &lease);
		return;
	case DHCP_STATE_RENEWING:
	case DHCP_STATE_REBINDING:
		if (lease_of_ack(c, now, msg, raw, len, &lease))
			on_ack_extended(c, &lease);
		return;
	case DHCP_STATE_STOPPED:
	case DHCP_STATE_INIT:
	case DHCP_STATE_INIT_REBOOT:
	case DHCP_STATE_GRANTED:
	case DHCP_STATE_BOUND:
		return; /* no DHCPREQUEST is out */
	}
}

/* Only the server we talk to may NAK us; anyone may while we broadcast (REBOOTING,
 * REBINDING). */
static bool nak_from(struct dhcp_client *c, uint64_t now, struct in_addr from, const struct dhcp_lease *talking_to)
{
	char server[INET_ADDRSTRLEN];

	if (from.s_addr == talking_to->server_id.s_addr)
		return true;
	drop(c, now, "DHCPNAK from %s, a server we are not talking to", addr_text(from, server));
	return false;
}

static void count_nak(struct dhcp_client *c, const struct dhcp_message *msg, struct in_addr from)
{
	char server[INET_ADDRSTRLEN];
	const uint8_t *text = NULL;
	size_t text_len = 0;

	struct dhcp_last_words *last = last_words(c);

	dhcp_message_get(msg, DHCP_OPTION_MESSAGE, &text, &text_len);
	c->counters.naks++;
	if (last)
		snprintf(last->nak, sizeof(last->nak), "from %s: %.*s", addr_text(from, server),
			 (int)(text_len > 80 ? 80 : text_len), text ? (const char *)text : "no reason given");
}

/* NAKs in a row: restart at once, then after 2, 4, ... 64 s, so a confused server is
 * not flooded. */
static void restart_after_nak(struct dhcp_client *c, uint64_t now)
{
	c->nak_streak++;
	uint64_t delay = c->nak_streak < 2 ? 0 : 2000ull << (c->nak_streak - 2 > 5 ? 5 : c->nak_streak - 2);
	enter_init(c, now, delay < NAK_BACKOFF_MAX_MS ? delay : NAK_BACKOFF_MAX_MS);
}

/* The lease is refused: ask for the same address once more before starting over. */
static void lose_lease(struct dhcp_client *c, uint64_t now, const char *doing)
{
	char addr[INET_ADDRSTRLEN];

	emit(c, DHCP_EVENT_LOST, "DHCPNAK %s while %s %s", last_nak(&c->counters), doing,
	     addr_text(c->lease.address, addr));
	c->acquire_deadline = UINT64_MAX;
	enter_init_reboot(c, now, c->lease.address);
}

/* RFC 2131 4.4.1 / 4.4.5: a DHCPNAK sends the client back to INIT. */
static void on_nak(struct dhcp_client *c, uint64_t now, const struct dhcp_message *msg)
{
	char server[INET_ADDRSTRLEN];
	struct in_addr from = server_of(msg);

	switch (c->state) {
	case DHCP_STATE_SELECTING:
		/* RFC 2131 4.3.2: a DHCPNAK answers a DHCPREQUEST; while selecting we sent
		 * none. */
		drop(c, now, "DHCPNAK from %s while selecting: no DHCPREQUEST was sent", addr_text(from, server));
		return;
	case DHCP_STATE_REQUESTING:
		if (nak_from(c, now, from, &c->offer)) {
			count_nak(c, msg, from);
			restart_after_nak(c, now);
		}
		return;
	case DHCP_STATE_REBOOTING:
		count_nak(c, msg, from);
		enter_init(c, now, 0);
		return;
	case DHCP_STATE_RENEWING:
		if (nak_from(c, now, from, &c->lease)) {
			count_nak(c, msg, from);
			lose_lease(c, now, "renewing");
		}
		return;
	case DHCP_STATE_REBINDING:
		count_nak(c, msg, from);
		lose_lease(c, now, "rebinding");
		return;
	case DHCP_STATE_STOPPED:
	case DHCP_STATE_INIT:
	case DHCP_STATE_INIT_REBOOT:
	case DHCP_STATE_GRANTED:
	case DHCP_STATE_BOUND:
		return; /* no DHCPREQUEST is out */
	}
}

static bool expecting_reply(const struct dhcp_client *c)
{
	switch (c->state) {
	case DHCP_STATE_SELECTING:
	case DHCP_STATE_REQUESTING:
	case DHCP_STATE_REBOOTING:
	case DHCP_STATE_RENEWING:
	case DHCP_STATE_REBINDING:
		return true;
	case DHCP_STATE_STOPPED:
	case DHCP_STATE_INIT:
	case DHCP_STATE_INIT_REBOOT:
	case DHCP_STATE_GRANTED:
	case DHCP_STATE_BOUND:
		return false;
	}
	return false;
}

/* A reply of our transaction: what it is decides, then the state. */
static void on_reply(struct dhcp_client *c, uint64_t now, const struct dhcp_message *msg, const uint8_t *raw,
		     size_t len)
{
	uint8_t type = dhcp_message_type(msg);

	switch (type) {
	case DHCPOFFER:
		on_offer(c, now, msg, raw, len);
		break;
	case DHCPACK:
		on_ack(c, now, msg, raw, len);
		break;
	case DHCPNAK:
		on_nak(c, now, msg);
		break;
	default:
		drop(c, now, "unexpected %s", dhcp_message_type_name(type));
		break;
	}
}

uint8_t dhcp_client_receive(struct dhcp_client *c, uint64_t now, const uint8_t *data, size_t len)
{
	struct dhcp_message *msg;
	enum dhcp_parse_error e;
	uint8_t taken = 0;

	if (!expecting_reply(c))
		return 0;
	msg = malloc(sizeof(*msg));
	if (!msg)
		return 0;
	e = dhcp_message_parse(data, len, msg);
	if (e != DHCP_PARSE_OK)
		drop(c, now, "malformed: %s", dhcp_parse_error_name(e));
	else if (msg->header.op != BOOTREPLY || ntohl(msg->header.xid) != c->xid ||
		 memcmp(msg->header.chaddr, c->config.mac, 6) != 0)
		; /* another client's transaction on the same link: not ours to count */
	else if (!client_id_matches(c, msg))
		drop(c, now, "%s carries another client's identifier (RFC 6842)",
		     dhcp_message_type_name(dhcp_message_type(msg)));
	else {
		taken = dhcp_message_type(msg);
		on_reply(c, now, msg, data, len);
	}
	free(msg);
	return taken;
}

/* ---- timers and caller decisions ---- */

/* RFC 2131 4.4.1: after `max_tries` (0: no limit) unanswered messages the client
 * returns to INIT and starts over. */
static void retransmit(struct dhcp_client *c, uint64_t now, unsigned max_tries,
		       void (*send)(struct dhcp_client *c, uint64_t now))
{
	if (max_tries && c->tries >= max_tries) {
		enter_init(c, now, 0);
		return;
	}
	c->tries++;
	send(c, now);
	arm(c, add_ms(now, retransmit_delay(c)));
}

void dhcp_client_tick(struct dhcp_client *c, uint64_t now)
{
	log_unlogged_drops(c, now);
	if (now < c->deadline)
		return;
	if (acquiring(c) && now >= c->acquire_deadline) {
		fail(c, now);
		return;
	}
	switch (c->state) {
	case DHCP_STATE_INIT:
		enter_selecting(c, now);
		break;
	case DHCP_STATE_INIT_REBOOT:
		enter_rebooting(c, now);
		break;
	case DHCP_STATE_SELECTING:
		retransmit(c, now, 0, send_discover);
		break;
	case DHCP_STATE_REQUESTING:
		retransmit(c, now, c->config.timing.request_tries, send_request);
		break;
	case DHCP_STATE_REBOOTING:
		retransmit(c, now, c->config.timing.reboot_tries, send_request);
		break;
	case DHCP_STATE_BOUND:
		enter_renewing(c, now);
		break;
	case DHCP_STATE_RENEWING:
		if (now >= dhcp_lease_t2(&c->lease))
			enter_rebinding(c, now);
		else
			renewal_step(c, now, dhcp_lease_t2(&c->lease));
		break;
	case DHCP_STATE_REBINDING:
		if (now >= dhcp_lease_expiry(&c->lease))
			expire(c, now);
		else
			renewal_step(c, now, dhcp_lease_expiry(&c->lease));
		break;
	case DHCP_STATE_STOPPED:
	case DHCP_STATE_GRANTED:
		c->deadline = UINT64_MAX;
		break;
	}
}

/* A granted lease waits for the caller to accept or decline it, and nothing else does. */
static bool awaits_caller(const struct dhcp_client *c)
{
	switch (c->state) {
	case DHCP_STATE_GRANTED:
		return true;
	case DHCP_STATE_STOPPED:
	case DHCP_STATE_INIT:
	case DHCP_STATE_SELECTING:
	case DHCP_STATE_REQUESTING:
	case DHCP_STATE_INIT_REBOOT:
	case DHCP_STATE_REBOOTING:
	case DHCP_STATE_BOUND:
	case DHCP_STATE_RENEWING:
	case DHCP_STATE_REBINDING:
		return false;
	}
	return false;
}

/* The granted lease becomes the one held. */
static void take_offer(struct dhcp_client *c)
{
	dhcp_lease_clear(&c->lease);
	c->lease = c->offer;
	c->offer = (struct dhcp_lease){ 0 };
}

void dhcp_client_accept(struct dhcp_client *c, uint64_t now)
{
	char old[INET_ADDRSTRLEN], addr[INET_ADDRSTRLEN], server[INET_ADDRSTRLEN];
	(void)now;

	if (!awaits_caller(c))
		return;
	bool moved = c->lease.ack && c->lease.address.s_addr != c->offer.address.s_addr;
	addr_text(c->lease.address, old);
	take_offer(c);
	enter_bound(c);
	addr_text(c->lease.address, addr);
	addr_text(c->lease.server_id, server);
	if (moved)
		emit(c, DHCP_EVENT_ADDRESS_CHANGED, "the new lease from %s is %s, the last one was %s", server, addr, old);
	else
		emit(c, DHCP_EVENT_BOUND, "%s/%u from %s for %u s", addr, c->lease.prefix_len, server,
		     c->lease.lifetime_s);
}

void dhcp_client_decline(struct dhcp_client *c, uint64_t now, const char *why)
{
	char addr[INET_ADDRSTRLEN];

	if (!awaits_caller(c))
		return;
	struct dhcp_last_words *last = last_words(c);

	c->counters.declines++;
	if (last)
		snprintf(last->decline, sizeof(last->decline), "%s: %s", addr_text(c->offer.address, addr), why);
	new_xid(c);
	send_decline(c, now, why);
	enter_init(c, now, DECLINE_RESTART_MS);
}

void dhcp_client_release(struct dhcp_client *c, uint64_t now)
{
	switch (c->state) {
	case DHCP_STATE_GRANTED:
		/* The server has bound the address to us already: give it back too. */
		take_offer(c);
		new_xid(c);
		send_release(c, now);
		break;
	case DHCP_STATE_BOUND:
	case DHCP_STATE_RENEWING:
	case DHCP_STATE_REBINDING:
		new_xid(c);
		send_release(c, now);
		break;
	case DHCP_STATE_STOPPED:
	case DHCP_STATE_INIT:
	case DHCP_STATE_SELECTING:
	case DHCP_STATE_REQUESTING:
	case DHCP_STATE_INIT_REBOOT:
	case DHCP_STATE_REBOOTING:
		break; /* nothing to give back */
	}
	dhcp_client_stop(c);
}

void dhcp_client_stop(struct dhcp_client *c)
{
	set_state(c, DHCP_STATE_STOPPED);
	c->deadline = UINT64_MAX;
}

uint64_t dhcp_client_deadline(const struct dhcp_client *c)
{
	uint64_t unlogged = ratelimit_deadline(&c->drop_log);

	return unlogged < c->deadline ? unlogged : c->deadline;
}

bool dhcp_client_pop_output(struct dhcp_client *c, struct dhcp_output *out)
{
	if (!c->output)
		return false;
	*out = *c->output;
	free(c->output);
	c->output = NULL;
	return true;
}

bool dhcp_client_pop_event(struct dhcp_client *c, struct dhcp_event *out)
{
	if (c->n_events == 0)
		return false;
	*out = c->events[0];
	memmove(c->events, c->events + 1, --c->n_events * sizeof(c->events[0]));
	if (c->n_events == 0) {
		free(c->events);
		c->events = NULL;
	}
	return true;
}

const struct dhcp_lease *dhcp_client_lease(const struct dhcp_client *c)
{
	switch (c->state) {
	case DHCP_STATE_GRANTED:
		return &c->offer;
	case DHCP_STATE_BOUND:
	case DHCP_STATE_RENEWING:
	case DHCP_STATE_REBINDING:
		return &c->lease;
	case DHCP_STATE_STOPPED:
	case DHCP_STATE_INIT:
	case DHCP_STATE_SELECTING:
	case DHCP_STATE_REQUESTING:
	case DHCP_STATE_INIT_REBOOT:
	case DHCP_STATE_REBOOTING:
		return NULL;
	}
	return NULL;
}

const struct dhcp_lease *dhcp_client_last_lease(const struct dhcp_client *c)
{
	return c->lease.ack ? &c->lease : NULL;
}

enum dhcp_client_state dhcp_client_get_state(const struct dhcp_client *c)
{
	return c->state;
}

uint32_t dhcp_client_xid(const struct dhcp_client *c)
{
	return c->xid;
}

const struct dhcp_client_config *dhcp_client_get_config(const struct dhcp_client *c)
{
	return &c->config;
}
