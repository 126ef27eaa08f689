#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cni/args.h"
#include "cni/env.h"
#include "dhcpd/lease/record.h"
#include "util/hex.h"
#include "util/mac.h"
#include "util/macro.h"

#define RECORD_VERSION 2

static uint64_t realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- writing ---- */

static json_t *client_json(const struct dhcp_client_config *client)
{
	_cleanup_free_ char *id = hex_encode(client->client_id, client->client_id_len);
	_cleanup_free_ char *options = hex_encode(client->request_options, client->request_options_len);

	if (!id || !options)
		return NULL;
	return json_pack("{s:s, s:s, s:b, s:I, s:I, s:I}", "clientId", id, "options", options, "broadcast",
			 client->broadcast, "initialMs", (json_int_t)client->timing.initial_ms, "maxMs",
			 (json_int_t)client->timing.max_ms, "acquireMs", (json_int_t)client->timing.acquire_ms);
}

static json_t *lease_json(const struct dhcp_lease *lease, bool lost, const uint8_t *server_mac, uint64_t now)
{
	_cleanup_free_ char *ack = hex_encode(lease->ack, lease->ack_len);
	/* The monotonic start of the lease, as wall-clock time. */
	uint64_t started = realtime_ms() - (now > lease->start_ms ? now - lease->start_ms : 0);
	char mac[MAC_STRLEN];

	if (!ack)
		return NULL;
	if (server_mac)
		mac_format(server_mac, mac);
	return json_pack("{s:s, s:I, s:b, s:s*}", "ack", ack, "startedAt", (json_int_t)started, "lost", lost,
			 "serverMac", server_mac ? mac : NULL);
}

json_t *lease_record_json(const struct lease *l, uint64_t now)
{
	const struct lease_spec *spec = lease_spec(l);
	const struct dhcp_lease *lease = lease_held(l);
	bool lost = !lease && lease_last(l);
	char mac[MAC_STRLEN];

	if (lost)
		lease = lease_last(l);
	if (!lease)
		return NULL;
	json_t *client = client_json(lease_client_config(l)), *held = lease_json(lease, lost, lease_server_mac(l), now);
	if (!client || !held) {
		json_decref(client);
		json_decref(held);
		return NULL;
	}
	mac_format(spec->mac, mac);
	/* The identifier itself is in "client": "identity" says only whether the lease is
	 * given back at its end (absent: it is, as in records of earlier versions). */
	return json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s*, s:s*, s:i, s:I, s:s*, s:o, s:o}", "version",
			 RECORD_VERSION, "key", lease_key(l), "containerID", spec->container_id, "network",
			 spec->network, "ifName", spec->ifname, "netns", spec->netns, "mac", mac, "master", spec->master,
			 "pod", spec->pod, "priority", spec->priority, "arpProbeMs", (json_int_t)spec->arp_probe_ms,
			 "identity", spec->identity == DHCP_IDENTITY_POD ? "pod" : NULL, "client", client, "lease", held);
}

/* ---- reading ---- */

/* No control character: a line of the log stays one line. */
static bool printable(const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return *text != '\0';
}

int lease_record_names(json_t *record, struct lease_spec *spec)
{
	const char *key = json_string_value(json_object_get(record, "key"));
	char want[1024];

	spec->container_id = json_string_value(json_object_get(record, "containerID"));
	spec->network = json_string_value(json_object_get(record, "network"));
	spec->ifname = json_string_value(json_object_get(record, "ifName"));
	spec->netns = json_string_value(json_object_get(record, "netns"));
	json_t *pod = json_object_get(record, "pod");
	spec->pod = json_string_value(pod);
	if (!key || !spec->container_id || !spec->network || !spec->ifname || !spec->netns)
		return -EINVAL;
	/* Absent in records of pods no runtime named, and before it was kept. */
	if (pod && (!spec->pod || !cni_pod_ref_valid(spec->pod)))
		return -EINVAL;
	/* Read back as a runtime's call is checked: nothing in a record is trusted more. */
	if (!cni_container_id_valid(spec->container_id) || cni_ifname_invalid(spec->ifname) ||
	    !cni_network_name_valid(spec->network) || spec->netns[0] != '/' || !printable(spec->netns))
		return -EINVAL;
	snprintf(want, sizeof(want), "%s/%s/%s", spec->container_id, spec->network, spec->ifname);
	return strcmp(key, want) == 0 ? 0 : -EINVAL;
}

int lease_record_mac(json_t *record, uint8_t mac[6])
{
	const char *text = json_string_value(json_object_get(record, "mac"));

	return text && mac_parse(text, mac) ? 0 : -EINVAL;
}

static bool get_u32(json_t *obj, const char *key, uint32_t *out)
{
	json_t *value = json_object_get(obj, key);

	if (!json_is_integer(value) || json_integer_value(value) < 0 || json_integer_value(value) > UINT32_MAX)
		return false;
	*out = (uint32_t)json_integer_value(value);
	return true;
}

static int read_client(json_t *client, struct dhcp_client_config *out)
{
	_cleanup_free_ uint8_t *id = NULL;
	uint8_t *options = NULL;
	size_t id_len = 0, options_len = 0;

	*out = (struct dhcp_client_config){ .broadcast = json_is_true(json_object_get(client, "broadcast")) };
	if (!get_u32(client, "initialMs", &out->timing.initial_ms) || !get_u32(client, "maxMs", &out->timing.max_ms) ||
	    !get_u32(client, "acquireMs", &out->timing.acquire_ms) ||
	    hex_decode(json_string_value(json_object_get(client, "clientId")), DHCP_CLIENT_ID_MAX, &id, &id_len) < 0 ||
	    hex_decode(json_string_value(json_object_get(client, "options")), DHCP_OUTPUT_MAX, &options, &options_len) < 0)
		return -EINVAL;
	out->client_id = TAKE_PTR(id);
	out->client_id_len = id_len;
	out->request_options = options;
	out->request_options_len = options_len;
	return 0;
}

/* "pod", or absent: records of containers' leases, and of earlier versions. */
static int read_identity(json_t *record, enum dhcp_identity *out)
{
	json_t *identity = json_object_get(record, "identity");

	*out = DHCP_IDENTITY_CONTAINER;
	if (!identity)
		return 0;
	if (!json_is_string(identity) || strcmp(json_string_value(identity), "pod") != 0)
		return -EINVAL;
	*out = DHCP_IDENTITY_POD;
	return 0;
}

int lease_record_spec(json_t *record, struct lease_spec *spec)
{
	json_t *client = json_object_get(record, "client");
	json_t *master = json_object_get(record, "master");
	json_t *priority = json_object_get(record, "priority");

	if (!client)
		return json_object_get(record, "config") ? -ENOENT : -EINVAL;
	if ((master && !json_is_string(master) && !json_is_null(master)) || !json_is_integer(priority) || json_integer_value(priority) < 0 ||
	    json_integer_value(priority) > 0x7fffffff || !get_u32(record, "arpProbeMs", &spec->arp_probe_ms) ||
	    read_identity(record, &spec->identity) < 0 || read_client(client, &spec->client) < 0)
		return -EINVAL;
	spec->master = json_string_value(master);
	spec->priority = (int)json_integer_value(priority);
	return 0;
}

int lease_record_server_mac(json_t *record, uint8_t mac[6])
{
	const char *text = json_string_value(json_object_get(json_object_get(record, "lease"), "serverMac"));

	if (!text)
		return -ENOENT;
	return mac_parse(text, mac) ? 0 : -EINVAL;
}

int lease_record_lease(json_t *record, uint64_t now, struct dhcp_lease *out, bool *lost)
{
	json_t *lease = json_object_get(record, "lease");
	const char *ack_hex = json_string_value(json_object_get(lease, "ack"));
	json_t *started = json_object_get(lease, "startedAt");
	_cleanup_free_ uint8_t *ack = NULL;
	size_t ack_len = 0;
	struct dhcp_message *msg;

	if (!ack_hex || !*ack_hex || !json_is_integer(started) || hex_decode(ack_hex, DHCP_MESSAGE_MAX, &ack, &ack_len) < 0)
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
