/* dhcpd/client_config: the DHCP client identifier an attachment sends (option 61),
 * the container's (the reference's) or, with ipam.identity "pod", the pod's: its exact
 * octets are what an operator writes a server reservation for (docs/dhcp.md). */
#include "helpers.h"

#include "dhcp4/protocol.h"
#include "dhcpd/client_config.h"

#define LONG_NAME_LEN 253 /* the longest pod name Kubernetes gives */

static const struct dhcp_attachment pod_att = {
	.container_id = "3f4e5a6b",
	.network = "lan",
	.ifname = "eth0",
	.pod_namespace = "shop",
	.pod_name = "web-0",
	.mac = { 0x02, 0, 0, 0, 0, 1 },
	.mtu = 1500,
};

/* `octets` (`len` of them) are type 0 followed by `text`. */
static void assert_type0(const uint8_t *octets, size_t len, const char *text)
{
	assert_int_equal(len, 1 + strlen(text));
	assert_int_equal(octets[0], 0);
	assert_memory_equal(octets + 1, text, strlen(text));
}

static void container_identity_is_the_references(void **state)
{
	uint8_t id[DHCP_CLIENT_ID_MAX];
	(void)state;

	size_t len = dhcp_default_client_id(&pod_att, id);
	assert_type0(id, len, "3f4e5a6b/lan/eth0");
}

static void pod_identity_is_namespace_name_network_ifname(void **state)
{
	uint8_t id[DHCP_CLIENT_ID_MAX];
	struct cni_error err = { 0 };
	(void)state;

	size_t len = dhcp_pod_client_id(&pod_att, id, &err);
	assert_int_equal(err.code, 0);
	assert_type0(id, len, "shop/web-0/lan/eth0");

	/* A new container of the same pod: the same octets. */
	struct dhcp_attachment again = pod_att;
	uint8_t id2[DHCP_CLIENT_ID_MAX];
	again.container_id = "9a8b7c6d";
	assert_int_equal(dhcp_pod_client_id(&again, id2, &err), len);
	assert_memory_equal(id, id2, len);
}

/* Like the default: type 0 and the text cut to 254 octets, the option's 255 in all. */
static void pod_identity_is_cut_to_254_octets_of_text(void **state)
{
	char name[LONG_NAME_LEN + 1], ns[64], text[512];
	uint8_t id[DHCP_CLIENT_ID_MAX];
	struct cni_error err = { 0 };
	struct dhcp_attachment att = pod_att;
	(void)state;

	memset(name, 'a', LONG_NAME_LEN);
	name[LONG_NAME_LEN] = '\0';
	memset(ns, 'n', 63);
	ns[63] = '\0';
	att.pod_namespace = ns;
	att.pod_name = name;
	snprintf(text, sizeof(text), "%s/%s/lan/eth0", ns, name);
	size_t len = dhcp_pod_client_id(&att, id, &err);
	assert_int_equal(err.code, 0);
	assert_int_equal(len, 255);
	assert_int_equal(id[0], 0);
	assert_memory_equal(id + 1, text, 254);

	/* 254 octets of text exactly are not cut. */
	att.pod_namespace = "ns";
	name[254 - strlen("ns//lan/eth0")] = '\0';
	snprintf(text, sizeof(text), "ns/%s/lan/eth0", name);
	assert_int_equal(strlen(text), 254);
	len = dhcp_pod_client_id(&att, id, &err);
	assert_type0(id, len, text);
}

/* ipam.identity "pod" where the runtime named no pod (podman, plain CNI): code 7
 * naming what is missing and who passes it. */
static void pod_identity_without_the_pods_names_is_refused(void **state)
{
	static const struct {
		const char *ns, *name, *msg;
	} cases[] = {
		{ NULL, NULL, "the runtime passed no K8S_POD_NAMESPACE and K8S_POD_NAME" },
		{ "", "", "the runtime passed no K8S_POD_NAMESPACE and K8S_POD_NAME" },
		{ NULL, "web-0", "the runtime passed no K8S_POD_NAMESPACE" },
		{ "shop", NULL, "the runtime passed no K8S_POD_NAME" },
		{ "shop", "", "the runtime passed no K8S_POD_NAME" },
		{ "shop/x", "web-0", "K8S_POD_NAMESPACE \"shop/x\" and K8S_POD_NAME \"web-0\" are not a Kubernetes" },
		{ "shop", "Web 0", "are not a Kubernetes pod's names" },
	};
	uint8_t id[DHCP_CLIENT_ID_MAX];
	(void)state;

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct cni_error err = { 0 };
		struct dhcp_attachment att = pod_att;
		att.pod_namespace = cases[i].ns;
		att.pod_name = cases[i].name;
		assert_int_equal(dhcp_pod_client_id(&att, id, &err), 0);
		assert_cni_error(&err, CNI_ERR_INVALID_CONFIG, cases[i].msg);
		assert_contains(err.msg, "ipam.identity \"pod\"");
		assert_contains(err.details, "kubelet does, through containerd or CRI-O");
		assert_contains(err.details, "\"identity\": \"container\"");
	}
}

/* The options the client config sends, parsed from `ipam_json` (' for "). */
static int build(const char *ipam_json, const struct dhcp_attachment *att, struct dhcp_client_config *out,
		 struct cni_error *err)
{
	json_t *ipam = load_json(ipam_json);
	struct cni_args args = { 0 };
	struct dhcp_ipam_conf conf;

	*err = (struct cni_error){ 0 };
	int r = dhcp_ipam_conf_parse(ipam, &args, &conf, err);
	if (r == 0)
		r = dhcp_client_config_build(&conf, att, out, err);
	json_decref(ipam);
	return r;
}

/* Option `code` of the encoded options, or NULL; its length in *len. */
static const uint8_t *find_option(const struct dhcp_client_config *c, uint8_t code, size_t *len)
{
	for (size_t i = 0; i + 1 < c->request_options_len; i += 2 + c->request_options[i + 1])
		if (c->request_options[i] == code) {
			*len = c->request_options[i + 1];
			return c->request_options + i + 2;
		}
	return NULL;
}

static void the_client_config_carries_the_identity_and_keeps_the_host_name(void **state)
{
	struct dhcp_client_config c;
	struct cni_error err;
	size_t len = 0;
	(void)state;

	assert_int_equal(build("{'identity': 'pod'}", &pod_att, &c, &err), 0);
	assert_type0(c.client_id, c.client_id_len, "shop/web-0/lan/eth0");
	/* The host name is still the pod's name, as without the key. */
	const uint8_t *hostname = find_option(&c, DHCP_OPTION_HOST_NAME, &len);
	assert_non_null(hostname);
	assert_int_equal(len, strlen("web-0"));
	assert_memory_equal(hostname, "web-0", len);
	dhcp_client_config_free(&c);

	assert_int_equal(build("{'identity': 'container'}", &pod_att, &c, &err), 0);
	assert_type0(c.client_id, c.client_id_len, "3f4e5a6b/lan/eth0");
	dhcp_client_config_free(&c);
	assert_int_equal(build("{}", &pod_att, &c, &err), 0);
	assert_type0(c.client_id, c.client_id_len, "3f4e5a6b/lan/eth0");
	dhcp_client_config_free(&c);

	struct dhcp_attachment podman = pod_att;
	podman.pod_namespace = podman.pod_name = NULL;
	assert_int_equal(build("{'identity': 'pod'}", &podman, &c, &err), -1);
	assert_cni_error(&err, CNI_ERR_INVALID_CONFIG, "the runtime passed no K8S_POD_NAMESPACE and K8S_POD_NAME");
	assert_null(c.client_id);
	assert_null(c.request_options);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(container_identity_is_the_references),
		cmocka_unit_test(pod_identity_is_namespace_name_network_ifname),
		cmocka_unit_test(pod_identity_is_cut_to_254_octets_of_text),
		cmocka_unit_test(pod_identity_without_the_pods_names_is_refused),
		cmocka_unit_test(the_client_config_carries_the_identity_and_keeps_the_host_name),
	};
	return cmocka_run_group_tests_name("client_config", tests, NULL, NULL);
}
