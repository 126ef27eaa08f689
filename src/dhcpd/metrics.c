#include "dhcp4/protocol.h"
#include "dhcpd/metrics.h"
#include "util/macro.h"

/* DHCPDISCOVER (1) to DHCPINFORM (8); 0: any other type a server sent. */
#define MESSAGE_TYPES (DHCPINFORM + 1)
#define EVENT_TYPES (DHCP_EVENT_FAILED + 1)

struct histogram {
	const double *bounds; /* upper bounds in seconds, increasing; +Inf implied */
	size_t n_bounds;
	uint64_t *counts; /* per bucket, not cumulative; n_bounds + 1 */
	uint64_t count;
	double sum;
};

/* An ADD waits for its lease: milliseconds on a quiet LAN, the acquire timeout (90 s
 * by default) when no server answers. */
static const double allocate_bounds[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 90 };
/* A renewal is due at T1; retransmissions follow 4 s later and beyond. */
static const double renewal_bounds[] = { 0.1, 0.5, 1, 5, 15, 60, 300, 1800 };

static uint64_t allocate_counts[ARRAY_SIZE(allocate_bounds) + 1];
static uint64_t renewal_counts[ARRAY_SIZE(renewal_bounds) + 1];

static struct {
	uint64_t sent[MESSAGE_TYPES];
	uint64_t received[MESSAGE_TYPES];
	uint64_t events[EVENT_TYPES];
	uint64_t released;
	uint64_t renewals_late;
	struct histogram allocate;
	struct histogram renewal;
} m = {
	.allocate = { allocate_bounds, ARRAY_SIZE(allocate_bounds), allocate_counts, 0, 0 },
	.renewal = { renewal_bounds, ARRAY_SIZE(renewal_bounds), renewal_counts, 0, 0 },
};

static unsigned type_index(uint8_t type)
{
	return type < MESSAGE_TYPES ? type : 0;
}

void metrics_message_sent(uint8_t type)
{
	m.sent[type_index(type)]++;
}

void metrics_message_received(uint8_t type)
{
	m.received[type_index(type)]++;
}

void metrics_lease_event(enum dhcp_event_type type)
{
	if ((unsigned)type < EVENT_TYPES)
		m.events[type]++;
}

void metrics_lease_released(void)
{
	m.released++;
}

static void observe(struct histogram *h, uint64_t ms)
{
	double seconds = (double)ms / 1000;
	size_t i = 0;

	while (i < h->n_bounds && seconds > h->bounds[i])
		i++;
	h->counts[i]++;
	h->count++;
	h->sum += seconds;
}

void metrics_allocate_answered(uint64_t ms)
{
	observe(&m.allocate, ms);
}

void metrics_renewed_after_t1(uint64_t ms)
{
	observe(&m.renewal, ms);
	if (ms > METRICS_RENEWAL_LATE_MS)
		m.renewals_late++;
}

/* ---- the text format ---- */

static void write_header(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void write_by_type(FILE *out, const char *name, const char *help, const uint64_t *counts)
{
	write_header(out, name, "counter", help);
	for (uint8_t t = DHCPDISCOVER; t < MESSAGE_TYPES; t++)
		fprintf(out, "%s{type=\"%s\"} %llu\n", name, dhcp_message_type_name(t), (unsigned long long)counts[t]);
	fprintf(out, "%s{type=\"other\"} %llu\n", name, (unsigned long long)counts[0]);
}

static void write_histogram(FILE *out, const char *name, const char *help, const struct histogram *h)
{
	uint64_t cumulative = 0;

	write_header(out, name, "histogram", help);
	for (size_t i = 0; i < h->n_bounds; i++) {
		cumulative += h->counts[i];
		fprintf(out, "%s_bucket{le=\"%g\"} %llu\n", name, h->bounds[i], (unsigned long long)cumulative);
	}
	fprintf(out, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)h->count);
	fprintf(out, "%s_sum %.3f\n%s_count %llu\n", name, h->sum, name, (unsigned long long)h->count);
}

static void write_events(FILE *out)
{
	static const char name[] = "cni_dhcp_lease_events_total";

	write_header(out, name, "counter", "Lease events: bound, renewed, address-changed, lost (a DHCPNAK), "
					   "expired, failed (no lease within the acquire timeout), released.");
	for (unsigned e = DHCP_EVENT_BOUND; e < EVENT_TYPES; e++)
		fprintf(out, "%s{event=\"%s\"} %llu\n", name, dhcp_event_name((enum dhcp_event_type)e),
			(unsigned long long)m.events[e]);
	fprintf(out, "%s{event=\"released\"} %llu\n", name, (unsigned long long)m.released);
}

void metrics_write(FILE *out)
{
	write_by_type(out, "cni_dhcp_messages_sent_total", "DHCP messages sent, by type.", m.sent);
	write_by_type(out, "cni_dhcp_messages_received_total",
		      "DHCP replies of the daemon's own transactions taken in, by type.", m.received);
	write_events(out);
	write_histogram(out, "cni_dhcp_allocate_duration_seconds",
			"Time from a DHCP.Allocate (a pod's ADD) to its answer, bound or failed.", &m.allocate);
	write_histogram(out, "cni_dhcp_renewal_after_t1_seconds",
			"Time from a lease's T1 to the DHCPACK that renewed (or rebound) it.", &m.renewal);
	write_header(out, "cni_dhcp_renewals_late_total", "counter",
		     "Renewals acknowledged more than 5 s after T1: a DHCPREQUEST or its answer was lost.");
	fprintf(out, "cni_dhcp_renewals_late_total %llu\n", (unsigned long long)m.renewals_late);
}
