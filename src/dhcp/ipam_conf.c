#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cni/json.h"
#include "dhcp/duration.h"
#include "dhcp/ipam_conf.h"
#include "dhcp4/options.h"
#include "dhcp4/protocol.h"

const uint8_t dhcp_default_request[6] = {
	DHCP_OPTION_SUBNET_MASK,     DHCP_OPTION_ROUTER,        DHCP_OPTION_DOMAIN_NAME_SERVER,
	DHCP_OPTION_DOMAIN_NAME,     DHCP_OPTION_DOMAIN_SEARCH, DHCP_OPTION_CLASSLESS_STATIC_ROUTE,
};

const char *const dhcp_ipam_keys[] = {
	"type", "daemonSocketPath", "request", "provide", "priority", "broadcast", "timeout", "retransmitInitial",
	"arpProbe", "identity", NULL,
};

static int parse_option_code(json_t *entry, const char *where, uint8_t *code, struct cni_error *err)
{
	json_t *option = json_object_get(entry, "option");
	char number[8];
	const char *text = number;

	if (json_is_integer(option))
		snprintf(number, sizeof(number), "%lld", (long long)json_integer_value(option));
	else if (json_is_string(option))
		text = json_string_value(option);
	else
		return cni_error_set(err, CNI_ERR_INVALID_CONFIG, "%s.option is missing: give an option name or number",
				     where);
	if (dhcp_option_code_parse(text, code) < 0) {
		cni_error_set(err, CNI_ERR_INVALID_CONFIG, "%s.option \"%s\" is not a DHCP option", where, text);
		cni_error_details(err, "use a number from 1 to 254 or a name such as routers, domain-name-servers, "
				       "classless-static-routes, host-name, vendor-class-identifier");
		return -1;
	}
	return 0;
}

static void add_request(struct dhcp_ipam_conf *out, uint8_t code)
{
	for (size_t i = 0; i < out->n_request; i++)
		if (out->request[i] == code)
			return;
	if (out->n_request < sizeof(out->request))
		out->request[out->n_request++] = code;
}

/* "request": [{"option": "...", "skipDefault": true}] adds to option 55; any
 * skipDefault drops the default list (the reference's rule). */
static int parse_request(json_t *ipam, struct dhcp_ipam_conf *out, struct cni_error *err)
{
	json_t *list = NULL, *entry;
	uint8_t codes[255];
	size_t n = 0, i;
	bool skip_default = false;
	char where[48];

	if (cni_json_array(ipam, "ipam", "request", &list, err) < 0)
		return -1;
	if (json_array_size(list) > sizeof(codes))
		return cni_error_set(err, CNI_ERR_INVALID_CONFIG, "ipam.request has more than %zu entries", sizeof(codes));
	json_array_foreach(list, i, entry) {
		bool skip = false;
		snprintf(where, sizeof(where), "ipam.request[%zu]", i);
		if (!json_is_object(entry))
			return cni_error_set(err, CNI_ERR_INVALID_CONFIG, "%s must be an object", where);
		if (parse_option_code(entry, where, &codes[n++], err) < 0 ||
		    cni_json_bool(entry, where, "skipDefault", &skip, err) < 0)
			return -1;
		skip_default |= skip;
	}
	if (!skip_default)
		for (i = 0; i < sizeof(dhcp_default_request); i++)
			add_request(out, dhcp_default_request[i]);
	for (i = 0; i < n; i++)
		add_request(out, codes[i]);
	return 0;
}

/* "provide": [{"option": "...", "value": "...", "fromArg": "K8S_POD_NAME"}] */
static int parse_provide(json_t *ipam, const struct cni_args *args, struct dhcp_ipam_conf *out, struct cni_error *err)
{
	json_t *list = NULL, *entry;
	size_t i;
	char where[48];

	if (cni_json_array(ipam, "ipam", "provide", &list, err) < 0)
		return -1;
	if (json_array_size(list) > DHCP_PROVIDE_MAX)
		return cni_error_set(err, CNI_ERR_INVALID_CONFIG, "ipam.provide has %zu entries, at most %d are allowed",
				     json_array_size(list), DHCP_PROVIDE_MAX);
	json_array_foreach(list, i, entry) {
		struct dhcp_provide *p = &out->provide[out->n_provide];
		const char *from_arg = NULL;
		snprintf(where, sizeof(where), "ipam.provide[%zu]", i);
		if (!json_is_object(entry))
			return cni_error_set(err, CNI_ERR_INVALID_CONFIG, "%s must be an object", where);
		if (parse_option_code(entry, where, &p->code, err) < 0 ||
		    cni_json_string(entry, where, "value", &p->value, err) < 0 ||
		    cni_json_string(entry, where, "fromArg", &from_arg, err) < 0)
			return -1;
		if (from_arg && *from_arg)
			p->value = cni_args_get(args, from_arg);
		else if (!p->value)
			return cni_error_set(err, CNI_ERR_INVALID_CONFIG, "%s needs \"value\" or \"fromArg\"", where);
		if (p->value && strlen(p->value) > 255)
			return cni_error_set(err, CNI_ERR_INVALID_CONFIG, "%s value is longer than 255 octets", where);
		/* fromArg naming an argument the runtime did not pass: nothing to send. */
		if (p->value)
			out->n_provide++;
	}
	return 0;
}

/* ipam.`key`: a positive duration, a string ("30s") or a number of seconds, of at most
 * `max_ms`. */
static int parse_duration(json_t *ipam, const char *key, int64_t max_ms, int64_t *out, struct cni_error *err)
{
	json_t *value = json_object_get(ipam, key);
	char bound[DURATION_TEXT_MAX];
	int e = -EINVAL;

	*out = -1;
	if (!value || json_is_null(value))
		return 0;
	if (json_is_string(value)) {
		e = duration_parse_ms(json_string_value(value), max_ms, out);
	} else if (json_is_integer(value) && json_integer_value(value) > max_ms / 1000) {
		e = -ERANGE;
	} else if (json_is_integer(value)) {
		*out = json_integer_value(value) * 1000;
		e = 0;
	}
	if (e == -ERANGE)
		return cni_error_set(err, CNI_ERR_INVALID_CONFIG, "ipam.%s is longer than %s, the longest allowed", key,
				     duration_format(max_ms, bound));
	if (e < 0 || *out <= 0)
		return cni_error_set(err, CNI_ERR_INVALID_CONFIG,
				     "ipam.%s must be a positive duration such as \"30s\" or a number of seconds", key);
	return 0;
}

/* ipam.identity: "container" (the default) or "pod". A client identifier given in
 * ipam.provide would replace the pod's, which the operator asked for: both are refused. */
static int parse_identity(json_t *ipam, struct dhcp_ipam_conf *out, struct cni_error *err)
{
	const char *identity = NULL;

	if (cni_json_string(ipam, "ipam", "identity", &identity, err) < 0)
		return -1;
	if (!identity || strcmp(identity, "container") == 0)
		return 0;
	if (strcmp(identity, "pod") != 0) {
		cni_error_set(err, CNI_ERR_INVALID_CONFIG, "ipam.identity \"%s\" is not one: use \"container\" or \"pod\"",
			      identity);
		cni_error_details(err, "\"container\" (the default) gives each container its own DHCP client identifier; "
				       "\"pod\" derives it from the pod's namespace and name, so that a pod recreated "
				       "under its name keeps its address (docs/dhcp.md)");
		return -1;
	}
	for (size_t i = 0; i < out->n_provide; i++)
		if (out->provide[i].code == DHCP_OPTION_CLIENT_IDENTIFIER)
			return cni_error_set(err, CNI_ERR_INVALID_CONFIG,
					     "ipam.identity \"pod\" and ipam.provide[] dhcp-client-identifier both set the "
					     "client identifier: keep one");
	out->identity = DHCP_IDENTITY_POD;
	return 0;
}

int dhcp_ipam_conf_parse(json_t *ipam, const struct cni_args *args, struct dhcp_ipam_conf *out,
			 struct cni_error *err)
{
	long long priority = 0;
	json_t *broadcast;

	*out = (struct dhcp_ipam_conf){ .acquire_timeout_ms = -1, .retransmit_initial_ms = -1, .arp_probe_ms = -1 };
	if (cni_json_string(ipam, "ipam", "daemonSocketPath", &out->socket_path, err) < 0 ||
	    cni_json_int(ipam, "ipam", "priority", &priority, err) < 0 ||
	    cni_json_bool(ipam, "ipam", "broadcast", &out->broadcast, err) < 0 || parse_request(ipam, out, err) < 0 ||
	    parse_provide(ipam, args, out, err) < 0 || parse_identity(ipam, out, err) < 0 ||
	    parse_duration(ipam, "timeout", DURATION_MAX_ACQUIRE_MS, &out->acquire_timeout_ms, err) < 0 ||
	    parse_duration(ipam, "retransmitInitial", DURATION_MAX_RETRANSMIT_MS, &out->retransmit_initial_ms, err) < 0 ||
	    /* Its own range, checked below, says more than this bound would. */
	    parse_duration(ipam, "arpProbe", DURATION_MAX_ACQUIRE_MS, &out->arp_probe_ms, err) < 0)
		return -1;
	if (out->arp_probe_ms > 0 &&
	    (out->arp_probe_ms < DHCP_ARP_PROBE_MIN_MS || out->arp_probe_ms > DHCP_ARP_PROBE_MAX_MS))
		return cni_error_set(err, CNI_ERR_INVALID_CONFIG, "ipam.arpProbe must be from %dms to %ds, not %gs",
				     DHCP_ARP_PROBE_MIN_MS, DHCP_ARP_PROBE_MAX_MS / 1000,
				     (double)out->arp_probe_ms / 1000);
	if (priority < 0 || priority > 0x7fffffff)
		return cni_error_set(err, CNI_ERR_INVALID_CONFIG, "ipam.priority %lld is out of range", priority);
	out->priority = (int)priority;
	broadcast = json_object_get(ipam, "broadcast");
	out->has_broadcast = broadcast && !json_is_null(broadcast);
	if (out->socket_path && !*out->socket_path)
		out->socket_path = NULL;
	return 0;
}
