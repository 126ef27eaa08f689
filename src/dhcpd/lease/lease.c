#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "cni/result.h"
#include "dhcp4/protocol.h"
#include "dhcpd/lease/lease.h"
#include "dhcpd/lease/link.h"
#include "dhcpd/lease/probe.h"
#include "dhcpd/lease/sync.h"
#include "dhcpd/lease_result.h"
#include "dhcpd/log.h"
#include "dhcpd/metrics.h"
#include "dhcpd/podnet.h"
#include "util/mac.h"
#include "util/macro.h"

struct lease {
	const struct lease_owner *owner;
	void *ctx;
	char *key;
	struct lease_spec spec; /* its strings live in `strings` */
	char *strings;
	struct dhcp_client client;
	struct lease_link link;
	struct lease_probe probe;
	struct lease_sync sync;
	/* A message the kernel would not take yet (send_again), and when to try again. */
	struct dhcp_output *resend;
	uint64_t resend_at;
	unsigned resend_tries;
	uint32_t framed_xid; /* the renewal whose first DHCPREQUEST went straight to the server's MAC */
	uint64_t t1_ms;      /* of the lease bound last: how late its renewal came (metrics) */
	bool pod_gone;
	bool ended;
};

/* ENOBUFS (a full queue: a bridge-mode master copies each broadcast to a thousand
 * ports through one) or EAGAIN: the same message again 100, 200, 400 and 800 ms
 * later, rather than at the engine's next retransmission seconds away. A newer
 * message replaces it; a DHCPRELEASE, after which the lease ends, is not kept. */
#define RESEND_FIRST_MS 100
#define RESEND_TRIES 4

static void pump(struct lease *l, uint64_t now);

/* The owner hears of any move of the earliest timer: called on the way out of every
 * call in and every packet handled. */
static void rescheduled(struct lease *l)
{
	if (!l->ended && l->owner->rescheduled)
		l->owner->rescheduled(l->ctx, l);
}

/* ---- the engine's needs ---- */

static uint32_t random_u32(void *ctx)
{
	uint32_t value = 0;
	(void)ctx;

	if (getrandom(&value, sizeof(value), 0) != sizeof(value))
		value = (uint32_t)loop_now_ms() * 2654435761u;
	return value;
}

/* A line about this lease: its key, its pod, and the event when it is one. */
#define lease_log(l, priority, event_, ...)                                                                         \
	log_lease(priority, &(struct log_subject){ .lease = (l)->key, .pod = (l)->spec.pod, .event = (event_) }, \
		  __VA_ARGS__)

static void log_engine(void *ctx, int priority, const char *message)
{
	struct lease *l = ctx;
	lease_log(l, priority, NULL, "%s", message);
}

static void on_payload(void *ctx, const uint8_t *payload, size_t len)
{
	lease_receive(ctx, loop_now_ms(), payload, len);
}

/* ---- life ---- */

/* Every string of the spec in one allocation, the key first. */
static int copy_strings(struct lease *l, const struct lease_spec *spec)
{
	const char *from[] = { spec->container_id, spec->network, spec->ifname, spec->netns, spec->netns_path,
			       spec->master, spec->pod };
	const char **to[] = { &l->spec.container_id, &l->spec.network, &l->spec.ifname, &l->spec.netns,
			      &l->spec.netns_path, &l->spec.master, &l->spec.pod };
	int key_len = snprintf(NULL, 0, "%s/%s/%s", spec->container_id, spec->network, spec->ifname);
	size_t size = (size_t)key_len + 1;

	for (size_t i = 0; i < ARRAY_SIZE(from); i++)
		size += from[i] ? strlen(from[i]) + 1 : 0;
	if (!(l->strings = malloc(size)))
		return -ENOMEM;
	l->key = l->strings;
	char *p = l->strings + sprintf(l->strings, "%s/%s/%s", spec->container_id, spec->network, spec->ifname) + 1;
	for (size_t i = 0; i < ARRAY_SIZE(from); i++) {
		*to[i] = from[i] ? p : NULL;
		if (from[i])
			p = stpcpy(p, from[i]) + 1;
	}
	return 0;
}

struct lease *lease_new(const struct lease_spec *spec, struct loop *loop, const struct lease_owner *owner, void *ctx)
{
	struct lease *l = calloc(1, sizeof(*l));

	if (!l || copy_strings(l, spec) < 0) {
		dhcp_client_config_free(&spec->client);
		free(l);
		return NULL;
	}
	l->owner = owner;
	l->ctx = ctx;
	l->resend_at = UINT64_MAX;
	l->spec.ifindex = spec->ifindex;
	l->spec.netns_ino = spec->netns_ino;
	memcpy(l->spec.mac, spec->mac, sizeof(l->spec.mac));
	l->spec.priority = spec->priority;
	l->spec.arp_probe_ms = spec->arp_probe_ms;
	l->spec.identity = spec->identity;
	/* The client's chaddr is the link's MAC, whatever the spec's client said. */
	struct dhcp_client_config client = spec->client;
	memcpy(client.mac, spec->mac, sizeof(client.mac));
	dhcp_client_init(&l->client, &client, random_u32, log_engine, l);
	link_init(&l->link, loop, l->key, l->spec.netns_path, l->spec.ifname, l->spec.master, spec->ifindex, spec->mac,
		  on_payload, l);
	probe_init(&l->probe, loop, l->key, l->spec.ifname, spec->ifindex, spec->mac);
	sync_init(&l->sync, l->key, l->spec.netns_path, l->spec.ifname, l->spec.master, spec->priority);
	return l;
}

void lease_free(struct lease *l)
{
	if (!l)
		return;
	link_close(&l->link);
	probe_stop(&l->probe);
	dhcp_client_free(&l->client);
	free(l->resend);
	free(l->strings);
	free(l);
}

static void drop_resend(struct lease *l)
{
	free(l->resend);
	l->resend = NULL;
	l->resend_at = UINT64_MAX;
}

static void end(struct lease *l)
{
	if (l->ended)
		return;
	l->ended = true;
	probe_stop(&l->probe);
	sync_cancel(&l->sync);
	drop_resend(l);
	l->owner->ended(l->ctx, l);
}

void lease_start(struct lease *l, uint64_t now)
{
	dhcp_client_start(&l->client, now);
	pump(l, now);
	rescheduled(l);
}

void lease_reclaim(struct lease *l, uint64_t now, struct in_addr addr)
{
	char text[INET_ADDRSTRLEN];

	lease_log(l, LOG_INFO, "reclaiming", "asking for %s again, a lease this daemon has no record of",
		  inet_ntop(AF_INET, &addr, text, sizeof(text)));
	dhcp_client_start_reboot(&l->client, now, addr);
	pump(l, now);
	rescheduled(l);
}

void lease_resume(struct lease *l, uint64_t now, const struct dhcp_lease *saved, bool lost)
{
	dhcp_client_resume(&l->client, now, saved, lost);
	l->t1_ms = lost ? 0 : dhcp_lease_t1(saved);
	/* Its owner releases it: there is no pod to talk from or address to keep. */
	if (l->pod_gone)
		return;
	lease_log(l, LOG_INFO, "resumed", "resumed in %s", dhcp_client_state_name(dhcp_client_get_state(&l->client)));
	pump(l, now);
	sync_ensure_at(&l->sync, now);
	rescheduled(l);
}

void lease_know_server_mac(struct lease *l, const uint8_t mac[6])
{
	link_know_server(&l->link, mac);
}

void lease_lose_pod(struct lease *l)
{
	l->pod_gone = true;
	link_lose_pod(&l->link);
	rescheduled(l);
}

void lease_release(struct lease *l, uint64_t now, const char *why)
{
	struct cni_error err = { 0 };

	if (l->ended)
		return;
	/* The record goes first: a daemon killed now must not bring the lease back. */
	l->owner->forget(l->ctx, l);
	probe_stop(&l->probe);
	/* A pod's identifier comes back with the pod recreated under its name (a new
	 * container, maybe on another node), and the server gives it the address it
	 * still binds to it; a DHCPRELEASE would free the address for any client (dnsmasq
	 * hashes the new MAC, Kea takes the next in its pool). */
	if (l->spec.identity == DHCP_IDENTITY_POD)
		dhcp_client_stop(&l->client);
	else
		dhcp_client_release(&l->client, now);
	pump(l, now);
	/* An ADD waiting for the lease hears of it only now: its plugin then deletes the
	 * pod's interface, which the DHCPRELEASE of a grant being probed goes out of. */
	cni_error_set(&err, CNI_ERR_DHCP, "%s: released before a lease was bound", l->key);
	l->owner->answer(l->ctx, l, &err);
	if (l->spec.identity == DHCP_IDENTITY_POD)
		lease_log(l, LOG_INFO, "released", "ended without DHCPRELEASE (%s): the server keeps the address for "
			  "the pod's identity until the lease runs out", why);
	else
		lease_log(l, LOG_INFO, "released", "released (%s)", why);
	metrics_lease_released();
	end(l);
}

void lease_hand_over(struct lease *l, const char *to)
{
	struct cni_error err = { 0 };

	if (l->ended)
		return;
	/* The record goes first: a restarted daemon must not bring it back beside its
	 * successor's, two leases of one identifier. */
	l->owner->forget(l->ctx, l);
	probe_stop(&l->probe);
	dhcp_client_stop(&l->client);
	cni_error_set(&err, CNI_ERR_DHCP, "%s: its client identifier was handed over to %s", l->key, to);
	l->owner->answer(l->ctx, l, &err);
	lease_log(l, LOG_INFO, "handed-over", "ended without DHCPRELEASE: its pod is gone and %s takes over its client "
		  "identifier, and the server's binding with it", to);
	end(l);
}

void lease_stop(struct lease *l)
{
	dhcp_client_stop(&l->client);
	probe_stop(&l->probe);
	link_close(&l->link);
}

/* ---- the wire ---- */

/* Whether `server` is on the lease's subnet, reached without a router. */
static bool on_link(const struct dhcp_lease *lease, struct in_addr server)
{
	uint32_t mask = lease->prefix_len ? htonl(~0u << (32 - lease->prefix_len)) : 0;

	return ((server.s_addr ^ lease->address.s_addr) & mask) == 0;
}

static int send_from_pod(struct lease *l, const struct dhcp_output *out, uint64_t now)
{
	const struct dhcp_lease *last = dhcp_client_last_lease(&l->client);
	int r;

	/* A DHCPRELEASE to a server on the pod's subnet is framed straight to the MAC the
	 * server's DHCPACK came from: there is no ARP to wait for, so it is on the wire
	 * before the DEL is answered and the plugin deletes the interface, which a
	 * unicast still waiting for ARP would die with. */
	if (out->type == DHCPRELEASE && last && on_link(last, out->dst))
		return link_frame_to_server(&l->link, out);
	/* A renewal's first DHCPREQUEST to a server on the pod's subnet goes straight to
	 * the MAC its DHCPACK came from too: no ARP from the pod's namespace, whose
	 * neighbour entries share one kernel table with every other namespace's (about a
	 * thousand entries here; ten thousand pods renewing would overflow it, and lose
	 * requests). Its retransmissions take the kernel's path, so a server whose MAC
	 * changed is still reached. */
	if (out->type == DHCPREQUEST && out->transport == DHCP_SEND_UNICAST && last && on_link(last, out->dst) &&
	    link_knows_server(&l->link) && dhcp_client_xid(&l->client) != l->framed_xid) {
		l->framed_xid = dhcp_client_xid(&l->client);
		if (link_renew_via_server_mac(&l->link, out) == 0)
			return 0;
	}
	r = link_send(&l->link, out);
	/* The leased address was taken off the pod: the server answers a renewal to that
	 * address, which nobody would claim (ARP). The lease is still ours: put it back
	 * (with its routes) first. */
	if (r == -EADDRNOTAVAIL && dhcp_client_get_state(&l->client) == DHCP_STATE_RENEWING &&
	    sync_put_back(&l->sync, dhcp_client_lease(&l->client), now) == 0)
		r = link_send(&l->link, out);
	/* Still no way out from the leased address: the same datagram, broadcast. */
	if (r < 0 && out->transport == DHCP_SEND_UNICAST)
		r = link_broadcast(&l->link, out);
	return r;
}

/* Keeps `out` to send again shortly; false when it has been tried enough. */
static bool send_again(struct lease *l, const struct dhcp_output *out, int error, uint64_t now)
{
	if (l->resend_tries == RESEND_TRIES || (!l->resend && !(l->resend = malloc(sizeof(*l->resend)))))
		return false;
	if (out != l->resend)
		memcpy(l->resend, out, sizeof(*out));
	l->resend_at = now + ((uint64_t)RESEND_FIRST_MS << l->resend_tries++);
	lease_log(l, LOG_DEBUG, NULL, "sending %s: %s; again in %llu ms", dhcp_message_type_name(out->type),
		  strerror(-error), (unsigned long long)(l->resend_at - now));
	return true;
}

static void send_output(struct lease *l, const struct dhcp_output *out, uint64_t now)
{
	char dst[INET_ADDRSTRLEN];
	bool again = out == l->resend;

	if (!again) { /* a newer message: the one waiting is out of date */
		drop_resend(l);
		l->resend_tries = 0;
	}
	int r = l->pod_gone ? link_send(&l->link, out) : send_from_pod(l, out, now);

	/* The pod's namespace or interface went away before its DEL (or with it): the
	 * server still hears of it, through the master. */
	if (r < 0 && out->type == DHCPRELEASE && !l->pod_gone && l->spec.master) {
		lease_log(l, LOG_INFO, NULL, "the pod's interface is gone (%s): releasing through %s", strerror(-r),
			  l->spec.master);
		lease_lose_pod(l);
		r = link_send(&l->link, out);
	}
	if ((r == -ENOBUFS || r == -EAGAIN) && send_again(l, out, r, now))
		return;
	if (r == 0)
		metrics_message_sent(out->type);
	if (r < 0)
		lease_log(l, LOG_WARNING, NULL, "sending %s to %s failed: %s", dhcp_message_type_name(out->type),
			  inet_ntop(AF_INET, &out->dst, dst, sizeof(dst)), strerror(-r));
	if (again)
		drop_resend(l);
}

void lease_receive(struct lease *l, uint64_t now, const uint8_t *payload, size_t len)
{
	if (l->ended)
		return;
	uint8_t type = dhcp_client_receive(&l->client, now, payload, len);
	if (type)
		metrics_message_received(type);
	pump(l, now);
	rescheduled(l);
}

/* ---- the ARP probe ---- */

static void accept_granted(struct lease *l, uint64_t now)
{
	dhcp_client_accept(&l->client, now);
	pump(l, now);
}

static void decline(struct lease *l, const uint8_t holder[6], uint64_t now)
{
	char mac[MAC_STRLEN], addr[INET_ADDRSTRLEN], why[64];

	mac_format(holder, mac);
	inet_ntop(AF_INET, &l->probe.address, addr, sizeof(addr));
	snprintf(why, sizeof(why), "in use by %s", mac);
	lease_log(l, LOG_WARNING, NULL, "%s is %s (it answered the ARP probe on %s): declining it", addr, why,
		  l->spec.ifname);
	probe_stop(&l->probe);
	dhcp_client_decline(&l->client, now, why);
	pump(l, now);
}

static void on_arp(struct loop_source *source, uint32_t events)
{
	struct lease *l = source->data;
	uint8_t holder[6];
	(void)events;

	if (probe_read(&l->probe, holder) == PROBE_CONFLICT && !l->ended)
		decline(l, holder, loop_now_ms());
	rescheduled(l);
}

static void start_probe(struct lease *l, uint64_t now)
{
	const struct dhcp_lease *granted = dhcp_client_lease(&l->client);
	int r = probe_start(&l->probe, l->spec.netns_path, granted->address, l->spec.arp_probe_ms, on_arp, l, now);

	if (r < 0) {
		lease_log(l, LOG_WARNING, NULL, "cannot probe for the granted address on %s (%s): taking it unchecked",
			  l->spec.ifname, strerror(-r));
		dhcp_client_accept(&l->client, now);
	}
}

static void run_probe(struct lease *l, uint64_t now)
{
	/* Lost again already (a DHCPNAK): nothing to announce. */
	if (l->probe.phase == PROBE_ANNOUNCING && !dhcp_client_lease(&l->client)) {
		probe_stop(&l->probe);
		return;
	}
	if (probe_tick(&l->probe, now) == PROBE_CLEAR) {
		accept_granted(l, now);
		if (dhcp_client_lease(&l->client))
			probe_announce(&l->probe, now);
		else
			probe_stop(&l->probe);
	}
}

/* ---- the pod's address ---- */

static void run_sync(struct lease *l, uint64_t now)
{
	const struct dhcp_lease *held = dhcp_client_lease(&l->client);

	if (!held || l->pod_gone) {
		sync_cancel(&l->sync);
		return;
	}
	if (sync_run(&l->sync, held, now) == SYNC_POD_GONE) {
		/* Interface or namespace gone: only the master still reaches the server. */
		lease_lose_pod(l);
		lease_release(l, now, "its pod interface is gone");
	}
}

/* ---- what the engine tells ---- */

/* What to look at, by what the wire saw; a full pool shows as any of the first three,
 * as servers differ in how they say it (ISC dhcpd and Kea stay silent, dnsmasq too,
 * some NAK, some offer and then refuse the request). */
static void explain(struct cni_error *err, const char *segment, const char *client_id, enum dhcp_failure failure)
{
	switch (failure) {
	case DHCP_FAILURE_REFUSED:
		cni_error_details(err, "the server refused: its pool may be full, the address reserved for another "
				       "client, or the server serving another subnet than %s is on (see its log)",
				  segment);
		break;
	case DHCP_FAILURE_NO_ACK:
		cni_error_details(err, "a server offered but never acknowledged: its pool may be full, or a second "
				       "server interferes (dhcp doctor lists every server that answers on %s)",
				  segment);
		break;
	case DHCP_FAILURE_DECLINED:
		cni_error_details(err, "every address the server gave was in use on %s: its pool overlaps addresses "
				       "set by hand, or it lost its lease database",
				  segment);
		break;
	default:
		cni_error_details(err, "nothing answered client id %s on %s: is a DHCP server on that L2 segment, "
				       "with addresses left in its pool (a full pool is often silent)? A switch or "
				       "hypervisor that drops frames from unknown MACs (port security, VMware forged "
				       "transmits, cloud networks) looks the same, as does a server on another subnet "
				       "with no relay; dhcp doctor probes the segment",
				  client_id, segment);
	}
}

/* "no DHCPOFFER after 4 DHCPDISCOVERs in 10 s", where, and what to look at. */
static void fail(struct lease *l, const struct dhcp_event *ev)
{
	struct cni_error err = { 0 };
	char segment[64];

	if (l->spec.master)
		snprintf(segment, sizeof(segment), "master %s", l->spec.master);
	else
		snprintf(segment, sizeof(segment), "the pod interface's segment");
	cni_error_set(&err, CNI_ERR_DHCP, "%s on %s (pod netns %s)", ev->reason, l->spec.ifname, l->spec.netns_path);
	explain(&err, segment, l->key, ev->failure);
	l->owner->answer(l->ctx, l, &err);
	end(l);
}

static void on_bound(struct lease *l, const struct dhcp_event *ev, const struct ip_prefix *before, uint64_t now)
{
	if (ev->type == DHCP_EVENT_RENEWED && l->t1_ms && now > l->t1_ms)
		metrics_renewed_after_t1(now - l->t1_ms);
	l->t1_ms = dhcp_lease_t1(dhcp_client_lease(&l->client));
	link_remember_server(&l->link);
	l->owner->save(l->ctx, l);
	if (l->owner->answer(l->ctx, l, NULL))
		sync_after_add(&l->sync, now);
	else if (ev->type == DHCP_EVENT_ADDRESS_CHANGED && before)
		sync_move(&l->sync, before, dhcp_client_lease(&l->client), now);
	else
		sync_ensure_at(&l->sync, now);
}

static void handle_event(struct lease *l, const struct dhcp_event *ev, const struct ip_prefix *before, uint64_t now)
{
	lease_log(l, ev->type == DHCP_EVENT_GRANTED ? LOG_DEBUG : LOG_INFO, dhcp_event_name(ev->type), "%s",
		  ev->reason);
	metrics_lease_event(ev->type);
	switch (ev->type) {
	case DHCP_EVENT_GRANTED:
		if (l->spec.arp_probe_ms)
			start_probe(l, now);
		else
			dhcp_client_accept(&l->client, now);
		break;
	case DHCP_EVENT_BOUND:
	case DHCP_EVENT_RENEWED:
	case DHCP_EVENT_ADDRESS_CHANGED:
		on_bound(l, ev, before, now);
		break;
	case DHCP_EVENT_FAILED:
		fail(l, ev);
		break;
	case DHCP_EVENT_EXPIRED:
		if (before)
			sync_drop(&l->sync, before, "its lease ended");
		break;
	case DHCP_EVENT_LOST:
		/* RFC 2131 4.4.5 (figure 5: DHCPNAK / "Halt network"): the server may have
		 * given it to another host (or a saved lease names an address no pod may
		 * have). A DHCPACK for it puts it back. */
		if (before)
			sync_drop(&l->sync, before, "the lease was lost");
		l->owner->save(l->ctx, l);
		break;
	}
}

/* Sends what the engine queued and acts on its events until it is quiet; the link
 * follows the engine's state before each message leaves. */
static void pump(struct lease *l, uint64_t now)
{
	/* The last lease the pod had, to move it or remove it when it changes. */
	const struct dhcp_lease *last = dhcp_client_last_lease(&l->client);
	struct ip_prefix before = last ? lease_prefix(last) : (struct ip_prefix){ 0 };
	struct dhcp_output out;
	struct dhcp_event ev;

	for (;;) {
		link_follow(&l->link, dhcp_client_get_state(&l->client), dhcp_client_xid(&l->client));
		if (dhcp_client_pop_output(&l->client, &out))
			send_output(l, &out, now);
		else if (dhcp_client_pop_event(&l->client, &ev))
			handle_event(l, &ev, last ? &before : NULL, now);
		else
			break;
	}
}

/* ---- timers ---- */

static uint64_t earliest(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

uint64_t lease_deadline(const struct lease *l)
{
	if (l->ended)
		return UINT64_MAX;
	return earliest(earliest(dhcp_client_deadline(&l->client), l->resend_at),
			earliest(sync_deadline(&l->sync), probe_deadline(&l->probe)));
}

void lease_run_timers(struct lease *l, uint64_t now)
{
	/* Nothing is said or changed from a namespace that is no longer the pod's. */
	if (!l->ended && !l->pod_gone && lease_deadline(l) <= now && !lease_pod_present(l)) {
		lease_lose_pod(l);
		lease_release(l, now, "its pod network namespace is gone");
		return;
	}
	if (!l->ended && l->resend_at <= now)
		send_output(l, l->resend, now);
	if (!l->ended && dhcp_client_deadline(&l->client) <= now) {
		dhcp_client_tick(&l->client, now);
		pump(l, now);
	}
	if (!l->ended && sync_deadline(&l->sync) <= now)
		run_sync(l, now);
	if (!l->ended && probe_deadline(&l->probe) <= now)
		run_probe(l, now);
}

/* ---- what it is ---- */

const char *lease_key(const struct lease *l)
{
	return l->key;
}

const struct lease_spec *lease_spec(const struct lease *l)
{
	return &l->spec;
}

const struct dhcp_client_config *lease_client_config(const struct lease *l)
{
	return dhcp_client_get_config(&l->client);
}

enum dhcp_client_state lease_state(const struct lease *l)
{
	return dhcp_client_get_state(&l->client);
}

const struct dhcp_lease *lease_held(const struct lease *l)
{
	return dhcp_client_lease(&l->client);
}

const struct dhcp_lease *lease_last(const struct lease *l)
{
	return dhcp_client_last_lease(&l->client);
}

const uint8_t *lease_server_mac(const struct lease *l)
{
	return link_knows_server(&l->link) ? l->link.server_mac : NULL;
}

bool lease_bound(const struct lease *l)
{
	return lease_held(l) && lease_state(l) != DHCP_STATE_GRANTED;
}

bool lease_ended(const struct lease *l)
{
	return l->ended;
}

bool lease_pod_gone(const struct lease *l)
{
	return l->pod_gone;
}

bool lease_pod_present(const struct lease *l)
{
	uint64_t ino;

	return podnet_netns_ino(l->spec.netns_path, &ino) == 0 && ino == l->spec.netns_ino;
}

json_t *lease_result_json(const struct lease *l, struct cni_error *err)
{
	const struct dhcp_lease *held = lease_held(l);
	struct cni_result result;
	json_t *obj;

	if (!held || lease_to_cni_result(held, l->spec.priority, &result) < 0) {
		cni_error_set(err, CNI_ERR_DHCP, "%s: the lease cannot be turned into a result", l->key);
		return NULL;
	}
	obj = cni_result_to_json(&result, CNI_VERSION_1_1_0, err);
	cni_result_free(&result);
	return obj;
}
