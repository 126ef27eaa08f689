#include "dhcpd/sweep.h"

#define SWEEP_INTERVAL_MS 5000

void sweep_init(struct sweep *s, uint64_t now)
{
	s->at = now + SWEEP_INTERVAL_MS;
}

uint64_t sweep_deadline(const struct sweep *s, const struct leases *t)
{
	return t->count ? s->at : UINT64_MAX;
}

void sweep_run(struct sweep *s, struct leases *t, uint64_t now)
{
	if (now < sweep_deadline(s, t))
		return;
	for (struct lease_slot *slot = t->slots; slot; slot = slot->next) {
		/* An ADD still waiting for its lease is the pod's runtime at work. */
		if (slot->ended || slot->n_waiters || lease_pod_gone(slot->lease) || lease_pod_present(slot->lease))
			continue;
		lease_lose_pod(slot->lease);
		lease_release(slot->lease, now, "its pod network namespace is gone");
	}
	s->at = now + SWEEP_INTERVAL_MS;
}
