/* A lease as a record in the state directory: the attachment it belongs to, the
 * configuration that shaped it, and the server's DHCPACK with the wall-clock time it
 * counts from (monotonic clocks restart with the machine). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dhcpd/lease_entry.h"
#include "dhcpd/state.h"
#include "rtnl/link.h"
#include "util/macro.h"

#define RECORD_VERSION 1

static uint64_t realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static char *hex(const uint8_t *data, size_t len)
{
	char *out = malloc(len * 2 + 1);

	for (size_t i = 0; out && i < len; i++)
		sprintf(out + i * 2, "%02x", data[i]);
	if (out)
		out[len * 2] = '\0';
	return out;
}

static int unhex(const char *text, uint8_t **out, size_t *len)
{
	size_t n = strlen(text);

	if (n % 2 || n == 0 || n / 2 > DHCP_MESSAGE_MAX)
		return -EINVAL;
	*out = malloc(n / 2);
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned byte;
		if (sscanf(text + i * 2, "%2x", &byte) != 1) {
			free(*out);
			*out = NULL;
			return -EINVAL;
		}
		(*out)[i] = (uint8_t)byte;
	}
	*len = n / 2;
	return 0;
}

/* The lease the pod holds; after a DHCPNAK, the one it held, marked lost: a restart
 * then asks for its address again instead of putting it back on the pod. */
static json_t *record_json(struct lease_entry *e)
{
	const struct dhcp_lease *lease = dhcp_client_lease(&e->client);
	bool lost = !lease && e->client.lease.ack;
	char mac[MAC_STRLEN];

	if (lost)
		lease = &e->client.lease;
	if (!lease)
		return NULL;
	_cleanup_free_ char *ack = hex(lease->ack, lease->ack_len);
	uint64_t now = loop_now_ms();
	/* The monotonic start of the lease, as wall-clock time. */
	uint64_t started = realtime_ms() - (now > lease->start_ms ? now - lease->start_ms : 0);
	mac_format(e->mac, mac);
	return json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s?, s:O, s:s, s:{s:s, s:I, s:b}}", "version", RECORD_VERSION,
			 "key", e->key, "containerID", e->container_id, "network", e->network, "ifName", e->ifname,
			 "netns", e->netns, "args", e->args, "config", e->config, "mac", mac, "lease", "ack",
			 ack ? ack : "", "startedAt", (json_int_t)started, "lost", lost);
}

void lease_record_save(struct lease_entry *e)
{
	json_auto_t *record = record_json(e);
	int r = record ? state_save(e->d->opt.state_dir, e->key, record) : -ENOMEM;

	if (r < 0)
		daemon_log("%s: cannot save the lease in %s: %s; it will not survive a restart", e->key,
			   e->d->opt.state_dir, strerror(-r));
}

void lease_record_remove(struct lease_entry *e)
{
	int r = state_remove(e->d->opt.state_dir, e->key);

	if (r < 0)
		daemon_log("%s: cannot remove its record from %s: %s", e->key, e->d->opt.state_dir, strerror(-r));
}

int lease_record_lease(json_t *record, uint64_t now, struct dhcp_lease *out, bool *lost)
{
	json_t *lease = json_object_get(record, "lease");
	const char *ack_hex = json_string_value(json_object_get(lease, "ack"));
	json_t *started = json_object_get(lease, "startedAt");
	_cleanup_free_ uint8_t *ack = NULL;
	size_t ack_len = 0;
	struct dhcp_message *msg;

	if (!ack_hex || !json_is_integer(started) || unhex(ack_hex, &ack, &ack_len) < 0)
		return -EINVAL;
	/* Absent in records written before it existed: those were never lost. */
	*lost = json_is_true(json_object_get(lease, "lost"));
	msg = malloc(sizeof(*msg));
	if (!msg)
		return -ENOMEM;
	int r = -EINVAL;
	if (dhcp_message_parse(ack, ack_len, msg) == DHCP_PARSE_OK) {
		/* Back from wall-clock to this boot's monotonic time; a lease that began
		 * before the boot began at time 0. */
		uint64_t wall = realtime_ms(), began = (uint64_t)json_integer_value(started);
		uint64_t age = wall > began ? wall - began : 0;
		uint64_t start = now > age ? now - age : 0;
		r = dhcp_lease_from_message(msg, ack, ack_len, start, out) ? -EINVAL : 0;
	}
	free(msg);
	return r;
}
