#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cni/args.h"
#include "cni/json.h"
#include "dhcp4/protocol.h"
#include "dhcpd/client_config.h"
#include "dhcpd/podnet.h"

/* RFC 2132 9.14: type 0 (not a hardware address), then `text` cut to the option's 255
 * octets. */
static size_t type0_client_id(const char *text, int len, uint8_t out[DHCP_CLIENT_ID_MAX])
{
	size_t n = len < 0 ? 0 : (size_t)len > DHCP_CLIENT_ID_MAX - 1 ? DHCP_CLIENT_ID_MAX - 1 : (size_t)len;

	out[0] = 0;
	memcpy(out + 1, text, n);
	return 1 + n;
}

size_t dhcp_default_client_id(const struct dhcp_attachment *att, uint8_t out[DHCP_CLIENT_ID_MAX])
{
	char text[1024];
	int n = snprintf(text, sizeof(text), "%s/%s/%s", att->container_id, att->network, att->ifname);

	return type0_client_id(text, n, out);
}

/* The CNI_ARGS keys of a pod's name that the runtime did not pass, for the error. */
static const char *missing_pod_keys(const struct dhcp_attachment *att)
{
	bool ns = att->pod_namespace && *att->pod_namespace, name = att->pod_name && *att->pod_name;

	return !ns && !name ? "K8S_POD_NAMESPACE and K8S_POD_NAME" : !ns ? "K8S_POD_NAMESPACE" : "K8S_POD_NAME";
}

size_t dhcp_pod_client_id(const struct dhcp_attachment *att, uint8_t out[DHCP_CLIENT_ID_MAX], struct cni_error *err)
{
	char pod[CNI_POD_REF_MAX + 1], text[1024];
	int n = -1;

	if (att->pod_namespace && att->pod_name)
		n = snprintf(pod, sizeof(pod), "%s/%s", att->pod_namespace, att->pod_name);
	/* Kubernetes names hold no '/': the text is read back into its four parts. */
	if (n < 0 || (size_t)n >= sizeof(pod) || !cni_pod_ref_valid(pod)) {
		if (n < 0 || !*att->pod_namespace || !*att->pod_name)
			cni_error_set(err, CNI_ERR_INVALID_CONFIG, "ipam.identity \"pod\" needs K8S_POD_NAMESPACE and "
				      "K8S_POD_NAME in CNI_ARGS; the runtime passed no %s", missing_pod_keys(att));
		else
			cni_error_set(err, CNI_ERR_INVALID_CONFIG, "ipam.identity \"pod\": CNI_ARGS K8S_POD_NAMESPACE "
				      "\"%.63s\" and K8S_POD_NAME \"%.253s\" are not a Kubernetes pod's names",
				      att->pod_namespace, att->pod_name);
		cni_error_details(err, "the runtime must pass the pod's namespace and name (kubelet does, through "
				       "containerd or CRI-O); podman and plain CNI runtimes do not: give their networks "
				       "\"identity\": \"container\", the default (docs/dhcp.md)");
		return 0;
	}
	n = snprintf(text, sizeof(text), "%s/%s/%s", pod, att->network, att->ifname);
	return type0_client_id(text, n, out);
}

static const struct dhcp_provide *find_provide(const struct dhcp_ipam_conf *conf, uint8_t code)
{
	for (size_t i = 0; i < conf->n_provide; i++)
		if (conf->provide[i].code == code)
			return &conf->provide[i];
	return NULL;
}

/* RFC 1123 host names: letters, digits, '-' and '.', as pod names are. */
static bool valid_hostname(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > 253)
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '.'))
			return false;
	return true;
}

/* RFC 4702 2: flags S (server updates the A record) and E (canonical wire format),
 * two zero RCODE octets, then the name as DNS labels. */
static size_t encode_fqdn(const char *name, uint8_t out[260])
{
	size_t len = 3;

	out[0] = 0x01 | 0x04;
	out[1] = out[2] = 0;
	for (const char *label = name; *label && len < 255;) {
		size_t n = strcspn(label, ".");
		if (n == 0 || n > 63 || len + 1 + n > 255)
			return 0;
		out[len++] = (uint8_t)n;
		memcpy(out + len, label, n);
		len += n;
		label += n + (label[n] == '.');
	}
	out[len++] = 0;
	return len;
}

static void put_identity(struct dhcp_builder *b, const struct dhcp_ipam_conf *conf, const struct dhcp_attachment *att)
{
	const struct dhcp_provide *hostname = find_provide(conf, DHCP_OPTION_HOST_NAME);
	const struct dhcp_provide *fqdn = find_provide(conf, DHCP_OPTION_FQDN);
	uint8_t encoded[260];
	size_t len;

	/* RFC 4702 3.1: a client sends option 81 or option 12, not both. */
	if (fqdn && (len = encode_fqdn(fqdn->value, encoded)) > 0)
		dhcp_builder_put(b, DHCP_OPTION_FQDN, encoded, len);
	else if (hostname)
		dhcp_builder_put(b, DHCP_OPTION_HOST_NAME, hostname->value, strlen(hostname->value));
	else if (att->pod_name && valid_hostname(att->pod_name))
		dhcp_builder_put(b, DHCP_OPTION_HOST_NAME, att->pod_name, strlen(att->pod_name));
}

int dhcp_client_config_build(const struct dhcp_ipam_conf *conf, const struct dhcp_attachment *att,
			     struct dhcp_client_config *out, struct cni_error *err)
{
	uint8_t buf[DHCP_OUTPUT_MAX / 2], id[DHCP_CLIENT_ID_MAX];
	struct dhcp_builder b;
	const struct dhcp_provide *client_id = find_provide(conf, DHCP_OPTION_CLIENT_IDENTIFIER);
	size_t id_len;

	*out = (struct dhcp_client_config){ .broadcast = conf->broadcast };
	dhcp_builder_init_options(&b, buf, sizeof(buf));
	memcpy(out->mac, att->mac, sizeof(out->mac));
	if (client_id) {
		id_len = strlen(client_id->value);
		memcpy(id, client_id->value, id_len);
	} else if (conf->identity == DHCP_IDENTITY_POD) {
		if ((id_len = dhcp_pod_client_id(att, id, err)) == 0)
			return -1;
	} else {
		id_len = dhcp_default_client_id(att, id);
	}
	dhcp_builder_put(&b, DHCP_OPTION_PARAMETER_REQUEST_LIST, conf->request, conf->n_request);
	/* RFC 2132 9.10: the largest message we take; 576 is the floor every host takes. */
	unsigned mtu = att->mtu < DHCP_MIN_MAX_MESSAGE ? DHCP_MIN_MAX_MESSAGE
		       : att->mtu > DHCP_MESSAGE_MAX   ? DHCP_MESSAGE_MAX
						       : att->mtu;
	dhcp_builder_put_u16(&b, DHCP_OPTION_MAXIMUM_MESSAGE_SIZE, (uint16_t)mtu);
	put_identity(&b, conf, att);
	for (size_t i = 0; i < conf->n_provide; i++) {
		uint8_t code = conf->provide[i].code;
		if (code != DHCP_OPTION_HOST_NAME && code != DHCP_OPTION_FQDN && code != DHCP_OPTION_CLIENT_IDENTIFIER)
			dhcp_builder_put(&b, code, conf->provide[i].value, strlen(conf->provide[i].value));
	}
	if (b.overflow)
		return cni_error_set(err, CNI_ERR_INVALID_CONFIG, "ipam.provide and ipam.request make DHCP messages "
								   "larger than %zu octets", sizeof(buf));
	out->request_options = malloc(b.len);
	out->client_id = malloc(id_len ? id_len : 1);
	if (!out->request_options || !out->client_id) {
		dhcp_client_config_free(out);
		*out = (struct dhcp_client_config){ 0 };
		return cni_error_set(err, CNI_ERR_IO, "out of memory");
	}
	memcpy(out->request_options, buf, b.len);
	out->request_options_len = b.len;
	memcpy(out->client_id, id, id_len);
	out->client_id_len = id_len;
	return 0;
}

static struct dhcp_timing timing_for(const struct daemon_options *o, const struct dhcp_ipam_conf *conf)
{
	int64_t initial = conf->retransmit_initial_ms > 0 ? conf->retransmit_initial_ms
			  : o->timeout_ms < DHCP_RETRANSMIT_INITIAL_S * 1000 ? o->timeout_ms
									      : DHCP_RETRANSMIT_INITIAL_S * 1000;
	int64_t acquire = conf->acquire_timeout_ms > 0 ? conf->acquire_timeout_ms : o->resend_timeout_ms;

	/* A short acquisition still gets a few tries: a single lost DISCOVER must not
	 * fail the ADD. */
	if (conf->retransmit_initial_ms <= 0 && initial > acquire / 4)
		initial = acquire / 4 > 250 ? acquire / 4 : 250;
	return (struct dhcp_timing){
		.initial_ms = (uint32_t)initial,
		.max_ms = (uint32_t)o->resend_max_ms,
		.acquire_ms = (uint32_t)acquire,
	};
}

int lease_spec_configure(struct lease_spec *spec, json_t *config, const char *args, const struct link_info *link,
			 const struct daemon_options *opt, struct cni_error *err)
{
	struct cni_args parsed;
	struct dhcp_ipam_conf conf;
	json_t *ipam = NULL;

	if (cni_json_object(config, "config", "ipam", &ipam, err) < 0 || cni_args_parse(args, &parsed, err) < 0)
		return -1;
	struct dhcp_attachment att = {
		.container_id = spec->container_id,
		.network = spec->network,
		.ifname = spec->ifname,
		.pod_namespace = cni_args_get(&parsed, "K8S_POD_NAMESPACE"),
		.pod_name = cni_args_get(&parsed, "K8S_POD_NAME"),
		.mtu = link->mtu,
	};
	memcpy(att.mac, link->mac, sizeof(att.mac));
	int r = dhcp_ipam_conf_parse(ipam, &parsed, &conf, err);
	if (r == 0)
		r = dhcp_client_config_build(&conf, &att, &spec->client, err);
	cni_args_free(&parsed);
	if (r < 0)
		return -1;
	spec->client.broadcast = conf.has_broadcast ? conf.broadcast : opt->broadcast;
	spec->client.timing = timing_for(opt, &conf);
	spec->master = json_string_value(json_object_get(config, "master"));
	spec->priority = conf.priority;
	spec->arp_probe_ms = conf.arp_probe_ms > 0 ? (uint32_t)conf.arp_probe_ms : 0;
	spec->identity = conf.identity;
	spec->ifindex = link->index;
	memcpy(spec->mac, link->mac, sizeof(spec->mac));
	return 0;
}

int lease_spec_for_pod(struct lease_spec *spec, char **netns_path, json_t *config, const char *args, const char *kind,
		       const struct daemon_options *opt, struct cni_error *err)
{
	struct link_info link;

	if (!(*netns_path = podnet_netns_path(opt->hostprefix, spec->netns)))
		return cni_error_set(err, CNI_ERR_IO, "the dhcp daemon is out of memory");
	spec->netns_path = *netns_path;
	if (podnet_prepare_link(*netns_path, spec->ifname, NULL, kind, &link, err) < 0 ||
	    podnet_netns_ino(*netns_path, &spec->netns_ino) < 0)
		return -1;
	return lease_spec_configure(spec, config, args, &link, opt, err);
}
