#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dhcp/rpc.h"
#include "dhcpd/lease/record.h"
#include "dhcpd/leases.h"
#include "dhcpd/log.h"
#include "dhcpd/state.h"

/* ---- what a lease asks of its owner ---- */

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
		return true; /* the address is on the pod already */
	}
	if (slot->n_waiters == 0)
		return false;
	json_t *response = outcome_json(lease, failure);
	for (size_t i = 0; i < slot->n_waiters; i++) {
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
}

static const struct lease_owner owner = { .answer = answer, .save = save, .forget = forget, .ended = ended };

/* ---- the table ---- */

void leases_init(struct leases *t, struct loop *loop, const char *state_dir)
{
	*t = (struct leases){ .loop = loop, .state_dir = state_dir };
}

struct lease_slot *leases_add(struct leases *t, const struct lease_spec *spec)
{
	struct lease_slot *slot = calloc(1, sizeof(*slot));

	if (!slot) {
		free(spec->client.request_options);
		return NULL;
	}
	slot->table = t;
	slot->lease = lease_new(spec, t->loop, &owner, slot);
	if (!slot->lease) {
		free(slot);
		return NULL;
	}
	slot->next = t->slots;
	t->slots = slot;
	t->count++;
	return slot;
}

struct lease_slot *leases_find(const struct leases *t, const char *key)
{
	for (struct lease_slot *slot = t->slots; slot; slot = slot->next)
		if (!slot->ended && strcmp(lease_key(slot->lease), key) == 0)
			return slot;
	return NULL;
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
	uint64_t next = UINT64_MAX;

	for (struct lease_slot *slot = t->slots; slot; slot = slot->next) {
		uint64_t at = lease_deadline(slot->lease);
		next = at < next ? at : next;
	}
	return next;
}

void leases_run_timers(struct leases *t, uint64_t now)
{
	for (struct lease_slot *slot = t->slots; slot; slot = slot->next)
		lease_run_timers(slot->lease, now);
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

void leases_reap(struct leases *t)
{
	for (struct lease_slot *slot = t->slots; slot; slot = slot->next)
		if (slot->reclaimed)
			finish_reclaim(slot);

	for (struct lease_slot **p = &t->slots; *p;) {
		struct lease_slot *slot = *p;
		if (!slot->ended) {
			p = &slot->next;
			continue;
		}
		*p = slot->next;
		slot_free(slot);
	}
}

void leases_free_all(struct leases *t)
{
	while (t->slots) {
		struct lease_slot *slot = t->slots;
		t->slots = slot->next;
		lease_stop(slot->lease);
		slot_free(slot);
	}
	t->count = 0;
}
