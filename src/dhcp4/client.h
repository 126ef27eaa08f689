/* The DHCPv4 client state machine (RFC 2131 4.4). It owns no socket and no clock:
 * the caller feeds it received messages and the current monotonic time, and takes
 * from it the messages to send, the events, and the next deadline. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <syslog.h>

#include "dhcp4/lease.h"
#include "dhcp4/message.h"
#include "util/ratelimit.h"

enum dhcp_client_state {
	DHCP_STATE_STOPPED, /* not started, released, or gave up */
	DHCP_STATE_INIT,    /* waiting to send DHCPDISCOVER (after a NAK or DECLINE: with a delay) */
	DHCP_STATE_SELECTING,
	DHCP_STATE_REQUESTING,
	DHCP_STATE_INIT_REBOOT, /* waiting to ask for a remembered address again */
	DHCP_STATE_REBOOTING,
	DHCP_STATE_GRANTED, /* a DHCPACK is in: the caller accepts or declines the lease */
	DHCP_STATE_BOUND,
	DHCP_STATE_RENEWING,
	DHCP_STATE_REBINDING,
};

const char *dhcp_client_state_name(enum dhcp_client_state state);

/* Retransmission policy; zeros take the RFC 2131 defaults. */
struct dhcp_timing {
	uint32_t initial_ms;    /* first retransmission delay, 4 s; doubled each time */
	uint32_t max_ms;        /* ceiling of the delay, 64 s */
	uint32_t acquire_ms;    /* give up acquiring after this long; 0 = never */
	unsigned request_tries; /* DHCPREQUESTs in REQUESTING before starting over, 4 */
	unsigned reboot_tries;  /* DHCPREQUESTs in REBOOTING before DHCPDISCOVER, 2 */
};

#define DHCP_CLIENT_ID_MAX 255

struct dhcp_client_config {
	uint8_t mac[6];
	/* Option 61 (at most DHCP_CLIENT_ID_MAX octets), allocated to its length: owned by
	 * the client after dhcp_client_init, as request_options. */
	uint8_t *client_id;
	size_t client_id_len;
	/* Encoded options for DHCPDISCOVER and DHCPREQUEST: 55, 57, 12 or 81, 60 and
	 * whatever else the network provides, appended as they are. Owned by the client
	 * after dhcp_client_init. */
	uint8_t *request_options;
	size_t request_options_len;
	bool broadcast; /* ask servers to broadcast replies (flags bit) */
	struct dhcp_timing timing;
};

enum dhcp_transport {
	/* From the packet socket, broadcast on the link: no address is usable yet. */
	DHCP_SEND_BROADCAST,
	/* From a UDP socket bound to the leased address, to the server (renew, release). */
	DHCP_SEND_UNICAST,
};

/* What we send fits an Ethernet frame with its IP and UDP headers. */
#define DHCP_OUTPUT_MAX 1472

struct dhcp_output {
	enum dhcp_transport transport;
	uint8_t type; /* DHCPDISCOVER, ... */
	struct in_addr src;
	struct in_addr dst;
	uint8_t data[DHCP_OUTPUT_MAX];
	size_t len;
};

enum dhcp_event_type {
	DHCP_EVENT_GRANTED,         /* call dhcp_client_accept or dhcp_client_decline */
	DHCP_EVENT_BOUND,           /* the lease is ours */
	DHCP_EVENT_RENEWED,         /* extended, same address */
	DHCP_EVENT_ADDRESS_CHANGED, /* a new lease with another address than the last one */
	DHCP_EVENT_LOST,            /* NAK while holding a lease: stop using it */
	DHCP_EVENT_EXPIRED,         /* no renewal before the end of the lease */
	DHCP_EVENT_FAILED,          /* acquiring took longer than timing.acquire_ms */
};

const char *dhcp_event_name(enum dhcp_event_type type);

#define DHCP_REASON_MAX 256

/* What a failed acquisition (DHCP_EVENT_FAILED) met on the wire, for the hint its
 * caller gives: each points at other causes. */
enum dhcp_failure {
	DHCP_FAILURE_NONE,
	DHCP_FAILURE_SILENCE,  /* no server answered */
	DHCP_FAILURE_NO_ACK,   /* offered, never acknowledged */
	DHCP_FAILURE_REFUSED,  /* DHCPNAKs */
	DHCP_FAILURE_DECLINED, /* every address granted was in use on the link */
};

struct dhcp_event {
	enum dhcp_event_type type;
	enum dhcp_failure failure; /* DHCP_EVENT_FAILED only */
	char reason[DHCP_REASON_MAX];
};

/* The last refusals of a story, in words: only an acquisition or renewal that met
 * one holds them (a quiet bound lease holds none). */
struct dhcp_last_words {
	char nak[128];     /* "from 10.0.0.1: address not available" */
	char decline[128]; /* "10.0.0.5: in use by 02:..." */
	char drop[128];    /* why the last reply was dropped */
};

/* What happened on the wire since the acquisition began: the story a failure tells. */
struct dhcp_counters {
	unsigned discovers;
	unsigned offers;
	unsigned requests;
	unsigned acks;
	unsigned naks;
	unsigned declines;
	unsigned dropped;
	struct dhcp_last_words *last; /* NULL until there is something to say */
};

typedef uint32_t (*dhcp_random_fn)(void *ctx);
/* `priority` is syslog(3)'s: LOG_DEBUG for state transitions, LOG_INFO for a dropped
 * reply (at most 10 lines in 10 s, then one line with the count of the others),
 * LOG_WARNING for an event lost to a full queue, LOG_ERR for a message too large to
 * send. */
typedef void (*dhcp_log_fn)(void *ctx, int priority, const char *message);

#define DHCP_EVENT_QUEUE 4

/* The engine's own: callers embed it and use the functions below, never the fields. */
struct dhcp_client {
	struct dhcp_client_config config;
	dhcp_random_fn random;
	dhcp_log_fn log;
	void *ctx;

	enum dhcp_client_state state;
	uint32_t xid;
	uint64_t exchange_start_ms; /* for 'secs' */
	uint64_t request_sent_ms;   /* lease times count from the last request */
	uint64_t acquire_start_ms;
	uint64_t acquire_deadline;  /* UINT64_MAX: none */
	uint64_t deadline;          /* next timer, UINT64_MAX: none */
	uint64_t next_request_ms;   /* RENEWING, REBINDING: no DHCPREQUEST before this */
	unsigned tries;             /* of the message being retransmitted */
	unsigned nak_streak;        /* NAKs in a row: grows the restart delay */
	struct dhcp_counters counters;
	struct ratelimit drop_log;  /* the log lines of dropped replies */

	struct dhcp_lease offer;    /* the one being requested */
	struct dhcp_lease lease;    /* the bound one (also kept after loss, to compare) */
	struct in_addr reboot_addr; /* INIT-REBOOT asks for this */

	/* Allocated while something waits to be taken (dhcp_client_pop_output and
	 * _pop_event): a thousand idle leases need no 2.5 KiB of buffers each. */
	struct dhcp_output *output;
	struct dhcp_event *events; /* DHCP_EVENT_QUEUE of them */
	unsigned n_events;
};

/* Frees what a configuration owns (client_id, request_options), for one no client
 * took over. */
void dhcp_client_config_free(const struct dhcp_client_config *config);

/* Takes ownership of config->client_id and config->request_options. */
void dhcp_client_init(struct dhcp_client *c, const struct dhcp_client_config *config, dhcp_random_fn random,
		      dhcp_log_fn log, void *ctx);
void dhcp_client_free(struct dhcp_client *c);

/* INIT: broadcast DHCPDISCOVER now. */
void dhcp_client_start(struct dhcp_client *c, uint64_t now);
/* INIT-REBOOT: ask for `addr` again (a lease remembered across a restart); DHCPDISCOVER
 * follows if no server confirms it. */
void dhcp_client_start_reboot(struct dhcp_client *c, uint64_t now, struct in_addr addr);
/* Resume a lease that is still valid at `now` (loaded from disk): BOUND, RENEWING or
 * REBINDING as time puts it. Takes a copy. Falls back to INIT-REBOOT if it expired or
 * was `lost` (a DHCPNAK refused it before the restart), and to INIT with a
 * DHCP_EVENT_LOST if its address is one no pod may have
 * (dhcp_lease_address_unusable); then, as after an expiry or a NAK, never gives up
 * re-acquiring. */
void dhcp_client_resume(struct dhcp_client *c, uint64_t now, const struct dhcp_lease *lease, bool lost);

/* A DHCP message (UDP payload) arrived. A reply of our transaction that cannot be
 * taken is dropped, counted in the failure story and logged; among the addresses a
 * server may not give (dhcp_lease_address_unusable) an ACK that would move a renewed
 * lease to one is dropped too, and the lease stays as it was. Returns the message type
 * of a reply of our transaction that was looked at (a DHCPOFFER, DHCPACK, DHCPNAK),
 * 0 for anything else: what the daemon counts as received. */
uint8_t dhcp_client_receive(struct dhcp_client *c, uint64_t now, const uint8_t *data, size_t len);
/* Time moved on; call at or after dhcp_client_deadline(), which is the next state
 * timer, or the end of a window in which dropped replies went unlogged (the tick logs
 * how many). */
void dhcp_client_tick(struct dhcp_client *c, uint64_t now);

void dhcp_client_accept(struct dhcp_client *c, uint64_t now);
/* The granted address is in use (an ARP conflict): DHCPDECLINE saying `why` (option
 * 56, and the failure story if acquiring then times out), restart in 10 s. */
void dhcp_client_decline(struct dhcp_client *c, uint64_t now, const char *why);
/* Give the lease back (unicast DHCPRELEASE) and stop. */
void dhcp_client_release(struct dhcp_client *c, uint64_t now);
/* Stop without telling the server (daemon shutdown: the lease lives on). */
void dhcp_client_stop(struct dhcp_client *c);

uint64_t dhcp_client_deadline(const struct dhcp_client *c);
bool dhcp_client_pop_output(struct dhcp_client *c, struct dhcp_output *out);
bool dhcp_client_pop_event(struct dhcp_client *c, struct dhcp_event *out);
/* The current lease (granted or held), or NULL when there is none. */
const struct dhcp_lease *dhcp_client_lease(const struct dhcp_client *c);
/* The lease last bound, kept after a DHCPNAK or an expiry took it (to compare the next
 * one with, and to take its address off); NULL when there never was one. */
const struct dhcp_lease *dhcp_client_last_lease(const struct dhcp_client *c);
enum dhcp_client_state dhcp_client_get_state(const struct dhcp_client *c);
/* The current transaction, which a socket filter lets through. */
uint32_t dhcp_client_xid(const struct dhcp_client *c);
/* What it was made with (a saved lease keeps it). */
const struct dhcp_client_config *dhcp_client_get_config(const struct dhcp_client *c);
