/* The network configuration a plugin reads on stdin. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "result.h"
#include "version.h"

struct cni_conf {
	json_t *root; /* the whole document; every json_t below is borrowed from it */
	enum cni_version version;
	const char *name;
	const char *type;
	json_t *ipam;          /* NULL when absent */
	const char *ipam_type; /* NULL when absent or "": no IPAM, L2 only */
	json_t *runtime_config;
	json_t *args_cni; /* "args": {"cni": {...}} */
	json_t *capabilities;
	bool has_dns;
	struct cni_dns dns;
	bool has_prev_result;
	struct cni_result prev_result;
	/* The bytes as received: delegated plugins get exactly these. */
	char *raw;
	size_t raw_len;
};

/* Decode errors are code 6 with line and column; bad values code 7 naming the key. A failed
 * parse leaves nothing to free and only `version` set: the configuration's when it could be
 * read, else CNI_VERSION_LATEST. */
int cni_conf_parse(const char *buf, size_t len, struct cni_conf *conf, struct cni_error *err);
/* As cni_conf_parse, but a prevResult that does not parse is left out (has_prev_result
 * false) and `prev_err` says why instead of failing the parse. */
int cni_conf_parse_skip_bad_prev_result(const char *buf, size_t len, struct cni_conf *conf,
					struct cni_error *prev_err, struct cni_error *err);
void cni_conf_free(struct cni_conf *conf);
