/* The daemon's table of leases, one per attachment key, and what each lease asks of
 * its owner: the callers waiting for it answered, its record kept in the state
 * directory, and its memory freed once it ended. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "dhcpd/conn.h"
#include "dhcpd/lease/lease.h"
#include "dhcpd/loop.h"
#include "util/timers.h"

#define LEASE_MAX_WAITERS 8

/* The table's indexes: by attachment key, by the name of the pod's namespace file
 * (the last part of its path: what a file system event names), and by DHCP client
 * identifier (two attachments must never send the same one). */
enum { LEASES_BY_KEY, LEASES_BY_NETNS_NAME, LEASES_BY_CLIENT_ID, LEASES_INDEXES };

struct lease_slot {
	struct lease_slot *next, *prev;           /* every lease of the table, newest first */
	struct lease_slot *chain[LEASES_INDEXES]; /* the next in its bucket of each index */
	struct lease_slot *settle_next; /* in the table's queue of slots to settle */
	struct lease_slot *due_next;    /* in leases_run_timers' list of due slots */
	struct leases *table;
	struct lease *lease;
	struct timer timer; /* at its lease's deadline */
	bool queued;        /* in the settle queue */
	struct conn *waiters[LEASE_MAX_WAITERS]; /* references held */
	size_t n_waiters;
	bool ended;
	/* Reclaimed only to be released (a DEL of a lease with no record): once the
	 * server confirms it, DHCPRELEASE, and the waiting DEL answered. */
	bool release_when_bound;
	int reclaimed; /* 1: confirmed, -1: not; 0: not yet */
};

/* Every operation on one lease costs O(1) (find by key) or O(log n) (its timer):
 * the loop never walks the whole table on an event. */
struct leases {
	struct loop *loop;
	const char *state_dir;
	struct lease_slot *slots;
	struct lease_slot **buckets[LEASES_INDEXES]; /* grow with the count */
	size_t n_buckets;
	struct lease_slot *scan_cursor; /* leases_scan_next's place in `slots` */
	struct timers timers;
	struct lease_slot *settle; /* ended or reclaimed during this turn of the loop */
	size_t count;              /* not ended */
	size_t freed_untrimmed;    /* leases freed since malloc_trim */
	uint64_t trim_at;          /* malloc_trim again, as renewals churn the heap */
	/* Told of every lease added (leases_on_add): the sweep watches its namespace's
	 * directory from the start. */
	void (*added)(void *ctx, struct lease_slot *slot);
	void *added_ctx;
};

void leases_init(struct leases *t, struct loop *loop, const char *state_dir);
/* `fn` is called with every lease added from now on. */
void leases_on_add(struct leases *t, void (*fn)(void *ctx, struct lease_slot *slot), void *ctx);
/* A lease for `spec`, in the table (not started); NULL: out of memory. Takes over
 * spec->client.request_options. */
struct lease_slot *leases_add(struct leases *t, const struct lease_spec *spec);
/* The lease of an attachment key that has not ended; NULL when none. */
struct lease_slot *leases_find(const struct leases *t, const char *key);
/* The lease that has not ended whose client sends the identifier `id` (`len` octets);
 * NULL when none. */
struct lease_slot *leases_find_client_id(const struct leases *t, const uint8_t *id, size_t len);
/* Calls `fn` for every lease whose pod's namespace file is named `name` (in any
 * directory), ended or not. */
void leases_each_in_netns_named(struct leases *t, const char *name, void (*fn)(struct lease_slot *slot, void *ctx),
				void *ctx);
/* The leases one after the other, from where the last call stopped, round and round;
 * NULL when there is none. */
struct lease_slot *leases_scan_next(struct leases *t);
/* `conn` is answered when the lease's acquisition ends; -EBUSY when too many wait. */
int leases_wait(struct lease_slot *slot, struct conn *conn);

/* `conn` (a DEL) is answered once the lease, started with lease_reclaim, is confirmed
 * and released, or could not be confirmed: a DEL succeeds either way. */
int leases_release_when_bound(struct lease_slot *slot, struct conn *conn);

/* The earliest timer of any lease; UINT64_MAX when none. */
uint64_t leases_next_deadline(const struct leases *t);
/* Runs the timers of the leases that are due, and only those. */
void leases_run_timers(struct leases *t, uint64_t now);
/* Releases the reclaimed leases whose server answered, then frees the leases that
 * ended during the last turn of the loop, and hands freed memory back now and then. */
void leases_reap(struct leases *t);
/* Shutdown: every lease stays with the server and the pods. */
void leases_free_all(struct leases *t);
