/* What `dhcp doctor` found: a list of checks, each with a verdict, a one-line finding
 * and what to look at next, and the DHCP servers the LAN probe heard; printed for a
 * person or as one JSON object for tools (docs/doctor.md). */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/mac.h"

/* In order of gravity: the worst one decides the exit status. */
enum check_status {
	CHECK_OK,
	CHECK_SKIPPED, /* could not run (a module missing, an earlier check failed, --no-probe) */
	CHECK_WARNING,
	CHECK_FAILED,
};

#define CHECK_TEXT_MAX 512

/* One likely cause of a failure and how to tell whether it is the one. */
struct check_cause {
	const char *cause;
	const char *check;
};

struct check {
	const char *name; /* "master-up", ...: stable, tools match on it */
	enum check_status status;
	char finding[CHECK_TEXT_MAX];
	char hint[CHECK_TEXT_MAX]; /* what to check next; empty when ok */
	const struct check_cause *causes; /* likely causes in order, or NULL */
	size_t n_causes;
};

#define PROBE_LIST_MAX 4

/* One DHCP server as the probe heard it: the first of its answers. */
struct probe_server {
	struct in_addr server_id; /* option 54; 0.0.0.0 when it sent none */
	uint8_t mac[MAC_LEN];     /* the frame's source: the server's or its relay's */
	struct in_addr source;    /* the IP source: differs from server_id behind a relay */
	struct in_addr address;   /* yiaddr */
	uint8_t prefix_len;
	bool prefix_classful; /* no subnet mask (option 1): the classful length */
	bool has_lease_time;
	uint32_t lease_s;
	struct in_addr routers[PROBE_LIST_MAX];
	size_t n_routers;
	struct in_addr dns[PROBE_LIST_MAX];
	size_t n_dns;
	uint32_t rtt_ms;   /* from the first DHCPDISCOVER to this server's first answer */
	bool unicast;      /* sent to the offered address, not 255.255.255.255 */
	unsigned offers;   /* DHCPOFFERs heard from it (one per DHCPDISCOVER, at most) */
	unsigned naks;     /* DHCPNAKs heard from it */
	char message[128]; /* option 56 of a DHCPNAK */
};

/* What the probe did, for the report's header of the servers table. */
struct probe_result {
	bool ran;
	uint8_t mac[MAC_LEN];
	uint32_t xid;
	unsigned discovers;
	int64_t listen_ms;
	struct probe_server *servers;
	size_t n_servers;
};

struct report {
	/* What was examined, and where each came from. */
	const char *master;        /* NULL: none could be found */
	const char *master_source; /* "--master", "conflist", "default route" */
	const char *mode;          /* the conflist's macvlan mode, or NULL */
	const char *socket_path;
	const char *conflist;
	struct check *checks;
	size_t n_checks;
	bool incomplete; /* a check was lost for want of memory */
	struct probe_result probe;
};

/* Appends a check; the finding is printf-formatted. The pointer holds until the next
 * check is added. NULL when out of memory: the report then says one is missing. */
__attribute__((format(printf, 4, 5)))
struct check *report_add(struct report *r, const char *name, enum check_status status, const char *fmt, ...);
/* The next step for a check that is not ok; `c` may be NULL (report_add's). */
__attribute__((format(printf, 2, 3)))
void check_hint(struct check *c, const char *fmt, ...);

enum check_status report_worst(const struct report *r);
const char *check_status_name(enum check_status status);

void report_print_text(const struct report *r, FILE *out);
/* 0, or -ENOMEM */
int report_print_json(const struct report *r, FILE *out);

void report_free(struct report *r);
