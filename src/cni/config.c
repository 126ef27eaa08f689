#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "json.h"

void cni_conf_free(struct cni_conf *conf)
{
	json_decref(conf->root);
	cni_dns_free(&conf->dns);
	cni_result_free(&conf->prev_result);
	free(conf->raw);
	*conf = (struct cni_conf){ 0 };
}

static int decode(const char *buf, size_t len, struct cni_conf *conf, struct cni_error *err)
{
	json_error_t jerr;

	if (len == 0) {
		cni_error_set(err, CNI_ERR_DECODE, "network configuration on stdin is empty");
		cni_error_details(err, "the runtime passes the network configuration as JSON on stdin");
		return -1;
	}
	conf->root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!conf->root) {
		cni_error_set(err, CNI_ERR_DECODE, "network configuration is not valid JSON: %s at line %d, column %d",
			      jerr.text, jerr.line, jerr.column);
		return -1;
	}
	if (!json_is_object(conf->root))
		return cni_error_set(err, CNI_ERR_DECODE, "network configuration must be a JSON object, not %s",
				     cni_json_type_name(conf->root));
	conf->raw = malloc(len + 1);
	if (!conf->raw)
		return cni_error_set(err, CNI_ERR_IO, "out of memory reading the network configuration");
	memcpy(conf->raw, buf, len);
	conf->raw[len] = '\0';
	conf->raw_len = len;
	return 0;
}

static int parse_ipam(struct cni_conf *conf, struct cni_error *err)
{
	if (cni_json_object(conf->root, "", "ipam", &conf->ipam, err) < 0 ||
	    cni_json_string(conf->ipam, "ipam", "type", &conf->ipam_type, err) < 0)
		return -1;
	if (conf->ipam_type && !*conf->ipam_type)
		conf->ipam_type = NULL;
	/* Delegates are looked up by name in CNI_PATH, never by path. */
	if (conf->ipam_type && strchr(conf->ipam_type, '/')) {
		cni_error_set(err, CNI_ERR_INVALID_CONFIG, "ipam.type \"%s\" must be a plugin name, not a path",
			      conf->ipam_type);
		cni_error_details(err, "install the IPAM plugin in a CNI_PATH directory and give its file name");
		return -1;
	}
	return 0;
}

static int read_prev_result(struct cni_conf *conf, struct cni_error *err)
{
	json_t *prev = NULL;

	if (cni_json_object(conf->root, "", "prevResult", &prev, err) < 0)
		return -1;
	if (!prev)
		return 0;
	/* libcni parses prevResult in the configuration's version. */
	if (cni_result_parse(prev, conf->version, &conf->prev_result, err) < 0) {
		cni_error_prefix(err, "prevResult");
		return -1;
	}
	conf->has_prev_result = true;
	return 0;
}

/* Without `prev_err` a bad prevResult fails the parse; with it, it is left out. */
static int parse_prev_result(struct cni_conf *conf, struct cni_error *prev_err, struct cni_error *err)
{
	if (!prev_err)
		return read_prev_result(conf, err);
	read_prev_result(conf, prev_err);
	return 0;
}

static int parse(const char *buf, size_t len, struct cni_conf *conf, struct cni_error *prev_err,
		 struct cni_error *err)
{
	const char *version = NULL;
	json_t *args = NULL, *dns = NULL;

	*conf = (struct cni_conf){ .version = CNI_VERSION_LATEST };
	if (decode(buf, len, conf, err) < 0 || cni_json_string(conf->root, "", "cniVersion", &version, err) < 0 ||
	    cni_version_parse(version, &conf->version, err) < 0 ||
	    cni_json_string(conf->root, "", "name", &conf->name, err) < 0 ||
	    cni_json_string(conf->root, "", "type", &conf->type, err) < 0 || parse_ipam(conf, err) < 0 ||
	    cni_json_object(conf->root, "", "runtimeConfig", &conf->runtime_config, err) < 0 ||
	    cni_json_object(conf->root, "", "capabilities", &conf->capabilities, err) < 0 ||
	    cni_json_object(conf->root, "", "args", &args, err) < 0 ||
	    cni_json_object(args, "args", "cni", &conf->args_cni, err) < 0 ||
	    cni_json_object(conf->root, "", "dns", &dns, err) < 0 ||
	    (dns && cni_dns_parse(dns, "dns", &conf->dns, err) < 0) || parse_prev_result(conf, prev_err, err) < 0) {
		/* The error is printed in the configuration's version once that could be read. */
		enum cni_version parsed = conf->version;
		cni_conf_free(conf);
		conf->version = parsed;
		return -1;
	}
	conf->has_dns = dns != NULL;
	return 0;
}

int cni_conf_parse(const char *buf, size_t len, struct cni_conf *conf, struct cni_error *err)
{
	return parse(buf, len, conf, NULL, err);
}

int cni_conf_parse_skip_bad_prev_result(const char *buf, size_t len, struct cni_conf *conf,
					struct cni_error *prev_err, struct cni_error *err)
{
	return parse(buf, len, conf, prev_err, err);
}
