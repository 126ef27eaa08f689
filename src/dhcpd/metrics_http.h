/* The opt-in Prometheus endpoint (--metrics-listen): GET /metrics over HTTP/1.x on a
 * TCP address or a unix socket, answered from the loop without blocking it. The
 * lease table and the process are read at each scrape; the rest is metrics.c's. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "dhcpd/leases.h"
#include "dhcpd/loop.h"

struct scrape;

struct metrics_http {
	struct loop *loop;
	const struct leases *leases;
	struct loop_source listener;
	struct scrape *scrapes;
	size_t n_scrapes;
};

/* "ADDRESS:PORT" (an IPv4 address, or an IPv6 one in brackets) or an absolute path;
 * -EINVAL for anything else, with `why` said. */
int metrics_http_check_address(const char *address, char *why, size_t why_len);
/* Listens on `address`; a unix socket's stale file is replaced. -errno on failure. */
int metrics_http_start(struct metrics_http *h, struct loop *loop, const struct leases *leases, const char *address);
void metrics_http_stop(struct metrics_http *h);
