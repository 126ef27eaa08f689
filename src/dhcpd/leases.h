/* The daemon's table of leases, one per attachment key, and what each lease asks of
 * its owner: the callers waiting for it answered, its record kept in the state
 * directory, and its memory freed once it ended. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "dhcpd/conn.h"
#include "dhcpd/lease/lease.h"
#include "dhcpd/loop.h"

#define LEASE_MAX_WAITERS 8

struct lease_slot {
	struct lease_slot *next;
	struct leases *table;
	struct lease *lease;
	struct conn *waiters[LEASE_MAX_WAITERS]; /* references held */
	size_t n_waiters;
	bool ended;
	/* Reclaimed only to be released (a DEL of a lease with no record): once the
	 * server confirms it, DHCPRELEASE, and the waiting DEL answered. */
	bool release_when_bound;
	int reclaimed; /* 1: confirmed, -1: not; 0: not yet */
};

struct leases {
	struct loop *loop;
	const char *state_dir;
	struct lease_slot *slots;
	size_t count; /* not ended */
};

void leases_init(struct leases *t, struct loop *loop, const char *state_dir);
/* A lease for `spec`, in the table (not started); NULL: out of memory. Takes over
 * spec->client.request_options. */
struct lease_slot *leases_add(struct leases *t, const struct lease_spec *spec);
/* The lease of an attachment key that has not ended; NULL when none. */
struct lease_slot *leases_find(const struct leases *t, const char *key);
/* `conn` is answered when the lease's acquisition ends; -EBUSY when too many wait. */
int leases_wait(struct lease_slot *slot, struct conn *conn);

/* `conn` (a DEL) is answered once the lease, started with lease_reclaim, is confirmed
 * and released, or could not be confirmed: a DEL succeeds either way. */
int leases_release_when_bound(struct lease_slot *slot, struct conn *conn);

/* The earliest timer of any lease; UINT64_MAX when none. */
uint64_t leases_next_deadline(const struct leases *t);
void leases_run_timers(struct leases *t, uint64_t now);
/* Releases the reclaimed leases whose server answered, then frees the leases that
 * ended during the last turn of the loop. */
void leases_reap(struct leases *t);
/* Shutdown: every lease stays with the server and the pods. */
void leases_free_all(struct leases *t);
