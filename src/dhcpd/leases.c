#include <errno.h>
#include <malloc.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "dhcp/rpc.h"
#include "dhcpd/lease/record.h"
#include "dhcpd/leases.h"
#include "dhcpd/log.h"
#include "dhcpd/metrics.h"
#include "dhcpd/state.h"

/* ---- what a lease asks of its owner ---- */

/* Work for the end of this turn of the loop, outside the lease's own call chain. */
static void queue_settle(struct lease_slot *slot)
{
	if (slot->queued)
		return;
	slot->queued = true;
	slot->settle_next = slot->table->settle;
	slot->table->settle = slot;
}

static json_t *outcome_json(struct lease *lease, const struct cni_error *failure)
{
	struct cni_error err = { 0 };
	json_t *result;

	if (failure)
		return rpc_error_json(failure);
	if (!(result = lease_result_json(lease, &err)))
		return rpc_error_json(&err);
	return json_pack("{s:o}", "result", result);
}

static bool answer(void *ctx, struct lease *lease, const struct cni_error *failure)
{
	struct lease_slot *slot = ctx;

	if (slot->release_when_bound) {
		slot->reclaimed = failure ? -1 : 1;
		queue_settle(slot);
		return true; /* the address is on the pod already */
	}
	if (slot->n_waiters == 0)
		return false;
	json_t *response = outcome_json(lease, failure);
	uint64_t now = loop_now_ms();
	for (size_t i = 0; i < slot->n_waiters; i++) {
		metrics_allocate_answered(now - conn_requested_at(slot->waiters[i]));
		conn_reply(slot->waiters[i], json_incref(response));
		conn_unref(slot->waiters[i]);
	}
	slot->n_waiters = 0;
	json_decref(response);
	return true;
}

static void save(void *ctx, struct lease *lease)
{
	struct lease_slot *slot = ctx;
	json_t *record = lease_record_json(lease, loop_now_ms());
	int r = record ? state_save(slot->table->state_dir, lease_key(lease), record) : -ENOMEM;

	json_decref(record);
	if (r < 0)
		log_error("%s: cannot save the lease in %s: %s; it will not survive a restart", lease_key(lease),
			  slot->table->state_dir, strerror(-r));
}

static void forget(void *ctx, struct lease *lease)
{
	struct lease_slot *slot = ctx;
	int r = state_remove(slot->table->state_dir, lease_key(lease));

	if (r < 0)
		log_error("%s: cannot remove its record from %s: %s", lease_key(lease), slot->table->state_dir,
			  strerror(-r));
}

static void ended(void *ctx, struct lease *lease)
{
	struct lease_slot *slot = ctx;
	(void)lease;

	slot->ended = true;
	slot->table->count--;
	timers_remove(&slot->table->timers, &slot->timer);
	queue_settle(slot);
}

static void rescheduled(void *ctx, struct lease *lease)
{
	struct lease_slot *slot = ctx;
	uint64_t at = lease_deadline(lease);

	/* Out of memory for the heap: the loop looks again in a second, not never. */
	if (timers_set(&slot->table->timers, &slot->timer, at) < 0 &&
	    timers_set(&slot->table->timers, &slot->timer, loop_now_ms() + 1000) < 0)
		log_error("%s: out of memory for its timer", lease_key(lease));
}

static const struct lease_owner owner = {
	.answer = answer, .save = save, .forget = forget, .ended = ended, .rescheduled = rescheduled,
};

/* ---- the table ---- */

void leases_init(struct leases *t, struct loop *loop, const char *state_dir)
{
	*t = (struct leases){ .loop = loop, .state_dir = state_dir };
}

void leases_on_add(struct leases *t, void (*fn)(void *ctx, struct lease_slot *slot), void *ctx)
{
	t->added = fn;
	t->added_ctx = ctx;
}

/* What a lease is found by in one index: text, or the client identifier's octets. */
struct index_value {
	const void *data;
	size_t len;
};

/* FNV-1a */
static size_t bytes_hash(struct index_value v)
{
	uint64_t hash = 1469598103934665603ull;

	for (size_t i = 0; i < v.len; i++)
		hash = (hash ^ ((const uint8_t *)v.data)[i]) * 1099511628211ull;
	return (size_t)hash;
}

static struct index_value text_value(const char *text)
{
	return (struct index_value){ text, strlen(text) };
}

static const char *netns_name(const struct lease *lease)
{
	const char *path = lease_spec(lease)->netns_path, *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

static struct index_value index_value(const struct lease_slot *slot, int index)
{
	const struct dhcp_client_config *client;

	switch (index) {
	case LEASES_BY_KEY:
		return text_value(lease_key(slot->lease));
	case LEASES_BY_NETNS_NAME:
		return text_value(netns_name(slot->lease));
	default:
		client = lease_client_config(slot->lease);
		return (struct index_value){ client->client_id, client->client_id_len };
	}
}

static bool index_matches(const struct lease_slot *slot, int index, struct index_value v)
{
	struct index_value have = index_value(slot, index);

	return have.len == v.len && memcmp(have.data, v.data, v.len) == 0;
}

static struct lease_slot **bucket(const struct leases *t, int index, struct index_value v)
{
	return &t->buckets[index][bytes_hash(v) & (t->n_buckets - 1)];
}

static void chain_in(struct leases *t, struct lease_slot *slot)
{
	for (int i = 0; i < LEASES_INDEXES; i++) {
		struct lease_slot **b = bucket(t, i, index_value(slot, i));
		slot->chain[i] = *b;
		*b = slot;
	}
}

/* Twice the buckets once there are as many leases as buckets; -ENOMEM leaves the
 * table as it was (only its chains grow longer). */
static int grow_buckets(struct leases *t)
{
	size_t n = t->n_buckets ? 2 * t->n_buckets : 64;
	struct lease_slot **fresh[LEASES_INDEXES] = { 0 };

	if (t->count < t->n_buckets)
		return 0;
	for (int i = 0; i < LEASES_INDEXES; i++)
		if (!(fresh[i] = calloc(n, sizeof(*fresh[i])))) {
			while (i-- > 0)
				free(fresh[i]);
			return -ENOMEM;
		}
	for (int i = 0; i < LEASES_INDEXES; i++) {
		free(t->buckets[i]);
		t->buckets[i] = fresh[i];
	}
	t->n_buckets = n;
	for (struct lease_slot *slot = t->slots; slot; slot = slot->next)
		chain_in(t, slot);
	return 0;
}

static void unlink_slot(struct leases *t, struct lease_slot *slot)
{
	for (int i = 0; i < LEASES_INDEXES; i++) {
		struct lease_slot **p = bucket(t, i, index_value(slot, i));
		while (*p != slot)
			p = &(*p)->chain[i];
		*p = slot->chain[i];
	}
	if (t->scan_cursor == slot)
		t->scan_cursor = slot->next;
	if (slot->prev)
		slot->prev->next = slot->next;
	else
		t->slots = slot->next;
	if (slot->next)
		slot->next->prev = slot->prev;
	timers_remove(&t->timers, &slot->timer);
}

struct lease_slot *leases_add(struct leases *t, const struct lease_spec *spec)
{
	struct lease_slot *slot = calloc(1, sizeof(*slot));

	if (!slot || (grow_buckets(t) < 0 && !t->n_buckets)) {
		dhcp_client_config_free(&spec->client);
		free(slot);
		return NULL;
	}
	slot->table = t;
	timer_init(&slot->timer);
	slot->lease = lease_new(spec, t->loop, &owner, slot);
	if (!slot->lease) {
		free(slot);
		return NULL;
	}
	chain_in(t, slot);
	slot->next = t->slots;
	if (t->slots)
		t->slots->prev = slot;
	t->slots = slot;
	t->count++;
	if (t->added)
		t->added(t->added_ctx, slot);
	return slot;
}

/* The lease of `index` found by `v` that has not ended. */
static struct lease_slot *find_in(const struct leases *t, int index, struct index_value v)
{
	if (!t->n_buckets)
		return NULL;
	for (struct lease_slot *slot = *bucket(t, index, v); slot; slot = slot->chain[index])
		if (!slot->ended && index_matches(slot, index, v))
			return slot;
	return NULL;
}

struct lease_slot *leases_find(const struct leases *t, const char *key)
{
	return find_in(t, LEASES_BY_KEY, text_value(key));
}

struct lease_slot *leases_find_client_id(const struct leases *t, const uint8_t *id, size_t len)
{
	return find_in(t, LEASES_BY_CLIENT_ID, (struct index_value){ id, len });
}

void leases_each_in_netns_named(struct leases *t, const char *name, void (*fn)(struct lease_slot *slot, void *ctx),
				void *ctx)
{
	struct index_value v = text_value(name);

	if (!t->n_buckets)
		return;
	for (struct lease_slot *slot = *bucket(t, LEASES_BY_NETNS_NAME, v), *next; slot; slot = next) {
		next = slot->chain[LEASES_BY_NETNS_NAME];
		if (index_matches(slot, LEASES_BY_NETNS_NAME, v))
			fn(slot, ctx);
	}
}

struct lease_slot *leases_scan_next(struct leases *t)
{
	struct lease_slot *slot = t->scan_cursor ? t->scan_cursor : t->slots;

	t->scan_cursor = slot ? slot->next : NULL;
	return slot;
}

int leases_wait(struct lease_slot *slot, struct conn *conn)
{
	if (slot->n_waiters == LEASE_MAX_WAITERS)
		return -EBUSY;
	slot->waiters[slot->n_waiters++] = conn_ref(conn);
	return 0;
}

int leases_release_when_bound(struct lease_slot *slot, struct conn *conn)
{
	slot->release_when_bound = true;
	return leases_wait(slot, conn);
}

uint64_t leases_next_deadline(const struct leases *t)
{
	const struct timer *first = timers_first(&t->timers);
	return first ? first->at : UINT64_MAX;
}

void leases_run_timers(struct leases *t, uint64_t now)
{
	struct timer *first;
	struct lease_slot *due = NULL;

	/* Taken out first: running one may arm it again, even for now. */
	while ((first = timers_first(&t->timers)) && first->at <= now) {
		struct lease_slot *slot = (struct lease_slot *)((char *)first - offsetof(struct lease_slot, timer));
		timers_remove(&t->timers, first);
		slot->due_next = due;
		due = slot;
	}
	while (due) {
		struct lease_slot *slot = due;
		due = slot->due_next;
		lease_run_timers(slot->lease, now);
		rescheduled(slot, slot->lease);
	}
}

static void slot_free(struct lease_slot *slot)
{
	for (size_t i = 0; i < slot->n_waiters; i++)
		conn_unref(slot->waiters[i]);
	lease_free(slot->lease);
	free(slot);
}

/* Outside the lease's own call chain: lease_release may not run inside its answer. */
static void finish_reclaim(struct lease_slot *slot)
{
	struct conn *waiters[LEASE_MAX_WAITERS];
	size_t n = slot->n_waiters;
	bool confirmed = slot->reclaimed > 0;

	memcpy(waiters, slot->waiters, n * sizeof(waiters[0]));
	slot->n_waiters = 0;
	slot->reclaimed = 0;
	slot->release_when_bound = false;
	if (confirmed)
		lease_release(slot->lease, loop_now_ms(), "DEL");
	else
		log_warning("%s: no server confirmed the lease this daemon has no record of: it cannot be "
			    "released, and ends at the server when its time runs out",
			    lease_key(slot->lease));
	for (size_t i = 0; i < n; i++) {
		conn_reply(waiters[i], json_pack("{s:{}}", "result"));
		conn_unref(waiters[i]);
	}
}

/* Freed memory goes back to the system (malloc keeps it otherwise): after this many
 * leases went, or the last one (a node that ran a thousand pods would hold their
 * memory for good), and at most a minute after renewals churned the heap (their
 * messages come and go, each DHCPACK replaces the last: holes between live blocks). */
#define TRIM_AFTER_FREED 64
#define TRIM_INTERVAL_MS 60000

static void trim(struct leases *t)
{
	uint64_t now = loop_now_ms();

	if (t->freed_untrimmed < TRIM_AFTER_FREED && !(t->freed_untrimmed && t->count == 0) && now < t->trim_at)
		return;
	malloc_trim(0);
	t->freed_untrimmed = 0;
	t->trim_at = now + TRIM_INTERVAL_MS;
}

void leases_reap(struct leases *t)
{
	while (t->settle) {
		struct lease_slot *slot = t->settle;
		t->settle = slot->settle_next;
		slot->queued = false;
		if (slot->reclaimed)
			finish_reclaim(slot); /* may end it: queued again */
		if (slot->ended && !slot->queued) {
			unlink_slot(t, slot);
			slot_free(slot);
			t->freed_untrimmed++;
		}
	}
	trim(t);
}

void leases_free_all(struct leases *t)
{
	timers_free(&t->timers); /* first: it touches every armed slot */
	while (t->slots) {
		struct lease_slot *slot = t->slots;
		t->slots = slot->next;
		lease_stop(slot->lease);
		slot_free(slot);
	}
	for (int i = 0; i < LEASES_INDEXES; i++)
		free(t->buckets[i]);
	*t = (struct leases){ .loop = t->loop, .state_dir = t->state_dir, .added = t->added, .added_ctx = t->added_ctx };
}
