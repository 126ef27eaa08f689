/* The result of ADD, held as the 1.1.0 superset and written in any spec version. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "ipaddr.h"
#include "version.h"

struct cni_strv {
	char **items;
	size_t count;
};

struct cni_interface {
	char *name;
	char *mac;
	char *sandbox;
	/* 1.1.0 only; 0 / NULL when absent */
	int mtu;
	char *socket_path;
	char *pci_id;
};

struct cni_ip {
	struct ip_prefix address;
	bool has_gateway;
	struct ip_addr gateway;
	int interface; /* index into interfaces, -1 when none (IPAM results) */
};

/* Route scopes of spec 1.1.0 (the kernel's RT_SCOPE_* values). */
enum { CNI_SCOPE_UNIVERSE = 0, CNI_SCOPE_LINK = 253, CNI_SCOPE_HOST = 254 };

struct cni_route {
	struct ip_prefix dst;
	bool has_gw;
	struct ip_addr gw;
	/* 1.1.0 only; 0 = absent for mtu, advmss and priority */
	int mtu;
	int advmss;
	int priority;
	bool has_table;
	int table;
	bool has_scope;
	int scope;
};

struct cni_dns {
	struct cni_strv nameservers;
	char *domain;
	struct cni_strv search;
	struct cni_strv options;
};

struct cni_result {
	struct cni_interface *interfaces;
	size_t n_interfaces;
	struct cni_ip *ips;
	size_t n_ips;
	struct cni_route *routes;
	size_t n_routes;
	struct cni_dns dns;
};

void cni_result_free(struct cni_result *result);
void cni_dns_free(struct cni_dns *dns);

/* Appenders return the new zeroed element, NULL when out of memory. */
struct cni_interface *cni_result_add_interface(struct cni_result *result);
struct cni_ip *cni_result_add_ip(struct cni_result *result);
struct cni_route *cni_result_add_route(struct cni_result *result);
int cni_strv_push(struct cni_strv *strv, const char *value);
void cni_strv_free(struct cni_strv *strv);
bool cni_dns_empty(const struct cni_dns *dns);

/* Parses a result in the version its "cniVersion" names, or in `fallback` when it
 * has none (libcni does the same for prevResult and for delegated plugins). */
int cni_result_parse(json_t *obj, enum cni_version fallback, struct cni_result *out, struct cni_error *err);
int cni_dns_parse(json_t *obj, const char *where, struct cni_dns *out, struct cni_error *err);

/* Encodes the result in `version`, converting as libcni does: 0.1.0/0.2.0 keep the
 * first address of each family and fail without any; fields a version lacks are dropped. */
json_t *cni_result_to_json(const struct cni_result *result, enum cni_version version, struct cni_error *err);
json_t *cni_dns_to_json(const struct cni_dns *dns);
