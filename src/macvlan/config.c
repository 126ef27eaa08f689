#include <linux/if_link.h>
#include <stdio.h>
#include <string.h>

#include "cni/args.h"
#include "cni/json.h"
#include "macvlan/config.h"
#include "util/mac.h"
#include "util/macro.h"

static const struct {
	const char *name;
	uint32_t mode;
} modes[] = {
	{ "bridge", MACVLAN_MODE_BRIDGE },
	{ "private", MACVLAN_MODE_PRIVATE },
	{ "vepa", MACVLAN_MODE_VEPA },
	{ "passthru", MACVLAN_MODE_PASSTHRU },
	/* Users write it out; the reference refuses it, nothing is lost by taking it. */
	{ "passthrough", MACVLAN_MODE_PASSTHRU },
};

const char *macvlan_mode_name(uint32_t mode)
{
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++)
		if (modes[i].mode == mode)
			return modes[i].name;
	return "unknown";
}

static int parse_mode(const char *text, struct macvlan_conf *out, struct cni_error *err)
{
	if (!text || !*text)
		text = "bridge";
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
		if (strcmp(text, modes[i].name) == 0) {
			out->mode = modes[i].mode;
			out->mode_name = modes[i].name;
			return 0;
		}
	}
	cni_error_set(err, CNI_ERR_INVALID_CONFIG, "unknown macvlan mode \"%s\"", text);
	cni_error_details(err, "mode must be bridge (the default), private, vepa or passthru");
	return -1;
}

static int parse_unsigned(json_t *root, const char *key, unsigned *out, struct cni_error *err)
{
	long long value = 0;

	if (cni_json_int(root, "", key, &value, err) < 0)
		return -1;
	if (value < 0 || value > 0x7fffffff)
		return cni_error_set(err, CNI_ERR_INVALID_CONFIG, "%s %lld is out of range: it must be 0 or more", key,
				     value);
	*out = (unsigned)value;
	return 0;
}

/* The last source that gives a MAC wins: mac, then CNI_ARGS MAC, then runtimeConfig.mac. */
static int parse_mac(const struct cni_call *call, struct macvlan_conf *out, struct cni_error *err)
{
	const char *from_config = NULL, *from_runtime = NULL;
	const char *from_args = cni_args_get(&call->args, "MAC");
	const char *text = NULL, *source = NULL;

	if (cni_json_string(call->conf.root, "", "mac", &from_config, err) < 0 ||
	    cni_json_string(call->conf.runtime_config, "runtimeConfig", "mac", &from_runtime, err) < 0)
		return -1;
	if (from_config && *from_config)
		text = from_config, source = "mac";
	if (from_args && *from_args)
		text = from_args, source = "CNI_ARGS MAC";
	if (from_runtime && *from_runtime)
		text = from_runtime, source = "runtimeConfig.mac";
	if (!text)
		return 0;
	if (!mac_parse(text, out->mac))
		return cni_error_set(err, CNI_ERR_INVALID_CONFIG, "%s \"%s\" is not a MAC address (aa:bb:cc:dd:ee:ff)",
				     source, text);
	if (out->mac[0] & 0x01)
		return cni_error_set(err, CNI_ERR_INVALID_CONFIG, "%s \"%s\" is a multicast address", source, text);
	out->has_mac = true;
	return 0;
}

void macvlan_conf_warn_unknown(const struct cni_call *call)
{
	/* Ours, the spec's, and what runtimes and other plugins put in a configuration. */
	static const char *const known[] = {
		"cniVersion", "name", "type", "master", "mode", "mtu", "mac", "podMac", "linkInContainer", "bcqueuelen",
		"hostReach",
		"ipam", "dns", "args", "runtimeConfig", "capabilities", "prevResult", "cni.dev/valid-attachments",
		"cni.dev/attachments", NULL,
	};

	cni_json_warn_unknown(call->conf.root, "", known, "macvlan", stderr);
}

/* Why the node's shim, another macvlan of the master, cannot reach pods in `mode`. */
static const char *host_reach_refusal(uint32_t mode)
{
	switch (mode) {
	case MACVLAN_MODE_PRIVATE:
		return "in private mode the macvlans of a master cannot talk to each other, the node's shim included";
	case MACVLAN_MODE_VEPA:
		return "in vepa mode frames between macvlans of a master go out to the switch and come back only "
		       "if it hairpins them (802.1Qbg), which the node cannot count on";
	case MACVLAN_MODE_PASSTHRU:
		return "passthru gives the whole master to one macvlan: there is no room for the node's shim";
	default:
		return NULL;
	}
}

/* hostReach puts a macvlan of the master in the node's namespace (macvlan/hostreach.c):
 * the master must be there, and only bridge mode lets the pods and that shim talk. */
static int check_host_reach(const struct macvlan_conf *conf, struct cni_error *err)
{
	const char *why = host_reach_refusal(conf->mode);

	if (!conf->host_reach)
		return 0;
	if (conf->link_in_container) {
		cni_error_set(err, CNI_ERR_INVALID_CONFIG,
			      "hostReach cannot be used with linkInContainer: the master is in the container's "
			      "namespace, not the node's");
		cni_error_details(err, "remove \"hostReach\" or \"linkInContainer\" from the network configuration");
		return -1;
	}
	if (!why)
		return 0;
	cni_error_set(err, CNI_ERR_INVALID_CONFIG, "hostReach needs mode bridge, and mode is %s: %s", conf->mode_name,
		      why);
	cni_error_details(err, "set \"mode\" to \"bridge\" or remove \"hostReach\"");
	return -1;
}

/* podMac: the same pod (namespace and name), network and interface get the same MAC
 * back after a restart or on another node, so a DHCP server can reserve an address
 * for the pod by MAC. A MAC given outright wins. Only ADD makes a link: DEL, STATUS
 * and GC must not fail for want of the pod's names. */
static int derive_pod_mac(const struct cni_call *call, struct macvlan_conf *out, struct cni_error *err)
{
	char pod[CNI_POD_REF_MAX], name[CNI_POD_REF_MAX + 256];

	if (!out->pod_mac || out->has_mac || call->env.command != CNI_CMD_ADD)
		return 0;
	if (!cni_args_pod(call->env.args, pod)) {
		cni_error_set(err, CNI_ERR_INVALID_CONFIG, "podMac needs the pod's K8S_POD_NAMESPACE and K8S_POD_NAME in "
							   "CNI_ARGS, Kubernetes names both, and the runtime did not pass them");
		cni_error_details(err, "kubelet passes them through containerd and CRI-O; podman and plain CNI runtimes do "
				       "not: remove \"podMac\" from their networks, or give a \"mac\"");
		return -1;
	}
	snprintf(name, sizeof(name), "%s/%s/%s", pod, call->conf.name, call->env.ifname);
	mac_from_name(name, out->mac);
	out->has_mac = true;
	return 0;
}

int macvlan_conf_load(const struct cni_call *call, struct macvlan_conf *out, struct cni_error *err)
{
	/* As the reference: CNI_ARGS it does not read need IgnoreUnknown, which kubelet
	 * sets; the pod's names are read with podMac. */
	static const char *const known_args[] = { "MAC", NULL };
	static const char *const known_args_pod_mac[] = { "MAC", "K8S_POD_NAMESPACE", "K8S_POD_NAME", NULL };
	json_t *root = call->conf.root;
	const char *mode = NULL;

	*out = (struct macvlan_conf){ 0 };
	if (cni_json_bool(root, "", "podMac", &out->pod_mac, err) < 0 ||
	    cni_args_check_known(&call->args, out->pod_mac ? known_args_pod_mac : known_args, err) < 0 ||
	    cni_json_string(root, "", "master", &out->master, err) < 0 ||
	    cni_json_string(root, "", "mode", &mode, err) < 0 || parse_mode(mode, out, err) < 0 ||
	    parse_unsigned(root, "mtu", &out->mtu, err) < 0 ||
	    cni_json_bool(root, "", "linkInContainer", &out->link_in_container, err) < 0 ||
	    parse_unsigned(root, "bcqueuelen", &out->bc_queue_len, err) < 0 || parse_mac(call, out, err) < 0 ||
	    cni_json_bool(root, "", "hostReach", &out->host_reach, err) < 0 || check_host_reach(out, err) < 0 ||
	    derive_pod_mac(call, out, err) < 0)
		return -1;
	if (out->master && !*out->master)
		out->master = NULL;
	return 0;
}
