#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "json.h"
#include "result.h"
#include "util/macro.h"

void cni_strv_free(struct cni_strv *strv)
{
	for (size_t i = 0; i < strv->count; i++)
		free(strv->items[i]);
	free(strv->items);
	*strv = (struct cni_strv){ 0 };
}

void cni_dns_free(struct cni_dns *dns)
{
	cni_strv_free(&dns->nameservers);
	free(dns->domain);
	cni_strv_free(&dns->search);
	cni_strv_free(&dns->options);
	*dns = (struct cni_dns){ 0 };
}

void cni_result_free(struct cni_result *result)
{
	for (size_t i = 0; i < result->n_interfaces; i++) {
		struct cni_interface *iface = &result->interfaces[i];
		free(iface->name);
		free(iface->mac);
		free(iface->sandbox);
		free(iface->socket_path);
		free(iface->pci_id);
	}
	free(result->interfaces);
	free(result->ips);
	free(result->routes);
	cni_dns_free(&result->dns);
	*result = (struct cni_result){ 0 };
}

struct cni_interface *cni_result_add_interface(struct cni_result *result)
{
	return array_append(&result->interfaces, &result->n_interfaces, sizeof(struct cni_interface));
}

struct cni_ip *cni_result_add_ip(struct cni_result *result)
{
	struct cni_ip *ip = array_append(&result->ips, &result->n_ips, sizeof(*ip));
	if (ip)
		ip->interface = -1;
	return ip;
}

struct cni_route *cni_result_add_route(struct cni_result *result)
{
	return array_append(&result->routes, &result->n_routes, sizeof(struct cni_route));
}

int cni_strv_push(struct cni_strv *strv, const char *value)
{
	char *copy = strdup(value);
	char **slot = copy ? array_append(&strv->items, &strv->count, sizeof(char *)) : NULL;

	if (!slot) {
		free(copy);
		return -1;
	}
	*slot = copy;
	return 0;
}

bool cni_dns_empty(const struct cni_dns *dns)
{
	return !dns->nameservers.count && !dns->domain && !dns->search.count && !dns->options.count;
}

/* ---- decoding ---- */

static int oom(struct cni_error *err)
{
	return cni_error_set(err, CNI_ERR_IO, "out of memory decoding a result");
}

static int parse_strv(json_t *obj, const char *where, const char *key, struct cni_strv *out, struct cni_error *err)
{
	json_t *array = NULL, *item;
	size_t i;

	if (cni_json_array(obj, where, key, &array, err) < 0)
		return -1;
	json_array_foreach(array, i, item) {
		if (!json_is_string(item))
			return cni_error_set(err, CNI_ERR_INVALID_CONFIG, "%s.%s[%zu] must be a string", where, key, i);
		if (cni_strv_push(out, json_string_value(item)) < 0)
			return oom(err);
	}
	return 0;
}

int cni_dns_parse(json_t *obj, const char *where, struct cni_dns *out, struct cni_error *err)
{
	const char *domain = NULL;

	if (!json_is_object(obj))
		return cni_error_set(err, CNI_ERR_INVALID_CONFIG, "%s must be an object", where);
	if (parse_strv(obj, where, "nameservers", &out->nameservers, err) < 0 ||
	    cni_json_string(obj, where, "domain", &domain, err) < 0 ||
	    parse_strv(obj, where, "search", &out->search, err) < 0 ||
	    parse_strv(obj, where, "options", &out->options, err) < 0)
		return -1;
	if (domain && *domain && !(out->domain = strdup(domain)))
		return oom(err);
	return 0;
}

static int parse_addr(json_t *obj, const char *where, const char *key, bool *has, struct ip_addr *out,
		      struct cni_error *err)
{
	const char *text = NULL;

	if (cni_json_string(obj, where, key, &text, err) < 0)
		return -1;
	if (!text || !*text)
		return 0;
	if (!ip_addr_parse(text, out))
		return cni_error_set(err, CNI_ERR_DECODE, "%s.%s \"%s\" is not an IP address", where, key, text);
	*has = true;
	return 0;
}

static int parse_prefix(json_t *obj, const char *where, const char *key, struct ip_prefix *out, struct cni_error *err)
{
	const char *text = NULL;

	if (cni_json_string(obj, where, key, &text, err) < 0)
		return -1;
	if (!text)
		return cni_error_set(err, CNI_ERR_DECODE, "%s.%s is missing", where, key);
	if (!ip_prefix_parse(text, out))
		return cni_error_set(err, CNI_ERR_DECODE, "%s.%s \"%s\" is not an address with a prefix length (CIDR)",
				     where, key, text);
	return 0;
}

static int parse_int_field(json_t *obj, const char *where, const char *key, int *out, bool *has, struct cni_error *err)
{
	long long value = 0;
	bool present = json_object_get(obj, key) && !json_is_null(json_object_get(obj, key));

	if (cni_json_int(obj, where, key, &value, err) < 0)
		return -1;
	if (value < -2147483648LL || value > 2147483647LL)
		return cni_error_set(err, CNI_ERR_DECODE, "%s.%s %lld is out of range", where, key, value);
	*out = (int)value;
	if (has)
		*has = present;
	return 0;
}

/* Parsers of one element of interfaces[], ips[] or routes[]. */
typedef int (*item_parser)(json_t *obj, const char *where, enum cni_version version, struct cni_result *result,
			   struct cni_error *err);

static int parse_route(json_t *obj, const char *where, enum cni_version version, struct cni_result *result,
		       struct cni_error *err)
{
	struct cni_route *route = cni_result_add_route(result);
	(void)version;

	if (!route)
		return oom(err);
	if (!json_is_object(obj))
		return cni_error_set(err, CNI_ERR_DECODE, "%s must be an object", where);
	if (parse_prefix(obj, where, "dst", &route->dst, err) < 0 ||
	    parse_addr(obj, where, "gw", &route->has_gw, &route->gw, err) < 0 ||
	    parse_int_field(obj, where, "mtu", &route->mtu, NULL, err) < 0 ||
	    parse_int_field(obj, where, "advmss", &route->advmss, NULL, err) < 0 ||
	    parse_int_field(obj, where, "priority", &route->priority, NULL, err) < 0 ||
	    parse_int_field(obj, where, "table", &route->table, &route->has_table, err) < 0 ||
	    parse_int_field(obj, where, "scope", &route->scope, &route->has_scope, err) < 0)
		return -1;
	return 0;
}

/* Each element of the array obj[key], named "<where>.<key>[i]" in messages. */
static int parse_list(json_t *obj, const char *where, const char *key, item_parser parse, enum cni_version version,
		      struct cni_result *result, struct cni_error *err)
{
	json_t *array = NULL, *item;
	char item_where[96];
	size_t i;

	if (cni_json_array(obj, where, key, &array, err) < 0)
		return -1;
	json_array_foreach(array, i, item) {
		snprintf(item_where, sizeof(item_where), "%s%s%s[%zu]", where, *where ? "." : "", key, i);
		if (parse(item, item_where, version, result, err) < 0)
			return -1;
	}
	return 0;
}

static int dup_string(json_t *obj, const char *where, const char *key, char **out, struct cni_error *err)
{
	const char *text = NULL;

	if (cni_json_string(obj, where, key, &text, err) < 0)
		return -1;
	if (text && *text && !(*out = strdup(text)))
		return oom(err);
	return 0;
}

static int parse_interface(json_t *obj, const char *where, enum cni_version version, struct cni_result *result,
			   struct cni_error *err)
{
	struct cni_interface *iface = cni_result_add_interface(result);
	(void)version;

	if (!iface)
		return oom(err);
	if (!json_is_object(obj))
		return cni_error_set(err, CNI_ERR_DECODE, "%s must be an object", where);
	if (dup_string(obj, where, "name", &iface->name, err) < 0 || dup_string(obj, where, "mac", &iface->mac, err) < 0 ||
	    dup_string(obj, where, "sandbox", &iface->sandbox, err) < 0 ||
	    parse_int_field(obj, where, "mtu", &iface->mtu, NULL, err) < 0 ||
	    dup_string(obj, where, "socketPath", &iface->socket_path, err) < 0 ||
	    dup_string(obj, where, "pciID", &iface->pci_id, err) < 0)
		return -1;
	if (!iface->name)
		return cni_error_set(err, CNI_ERR_DECODE, "%s.name is missing", where);
	return 0;
}

static int parse_ip(json_t *obj, const char *where, enum cni_version version, struct cni_result *result,
		    struct cni_error *err)
{
	struct cni_ip *ip = cni_result_add_ip(result);
	const char *family = NULL;
	bool has_interface = false;

	if (!ip)
		return oom(err);
	if (!json_is_object(obj))
		return cni_error_set(err, CNI_ERR_DECODE, "%s must be an object", where);
	if (parse_prefix(obj, where, "address", &ip->address, err) < 0 ||
	    parse_addr(obj, where, "gateway", &ip->has_gateway, &ip->gateway, err) < 0 ||
	    parse_int_field(obj, where, "interface", &ip->interface, &has_interface, err) < 0 ||
	    cni_json_string(obj, where, "version", &family, err) < 0)
		return -1;
	/* "interface": null is no interface, as libcni's *int decodes it. */
	if (!has_interface)
		ip->interface = -1;
	else if (ip->interface < 0 || (size_t)ip->interface >= result->n_interfaces)
		return cni_error_set(err, CNI_ERR_DECODE, "%s.interface %d does not index interfaces[] (%zu entries)",
				     where, ip->interface, result->n_interfaces);
	/* 0.3.x/0.4.0 carry the family; 1.x computes it from the address. */
	if (cni_version_has_ip_version(version) && family) {
		const char *expected = ip->address.addr.family == AF_INET ? "4" : "6";
		if (strcmp(family, expected) != 0)
			return cni_error_set(err, CNI_ERR_DECODE, "%s.version \"%s\" does not match address family (IPv%s)",
					     where, family, expected);
	}
	return 0;
}

/* 0.1.0/0.2.0: {"ip4": {"ip", "gateway", "routes"}, "ip6": {...}, "dns"} */
static int parse_legacy_family(json_t *obj, const char *key, int family, struct cni_result *result,
			       struct cni_error *err)
{
	json_t *config = NULL;

	if (cni_json_object(obj, "", key, &config, err) < 0)
		return -1;
	if (!config)
		return 0;
	struct cni_ip *ip = cni_result_add_ip(result);
	if (!ip)
		return oom(err);
	if (parse_prefix(config, key, "ip", &ip->address, err) < 0 ||
	    parse_addr(config, key, "gateway", &ip->has_gateway, &ip->gateway, err) < 0)
		return -1;
	if (ip->address.addr.family != family)
		return cni_error_set(err, CNI_ERR_DECODE, "%s.ip is not an IPv%c address", key, key[2]);
	return parse_list(config, key, "routes", parse_route, CNI_VERSION_0_2_0, result, err);
}

static int parse_any(json_t *obj, enum cni_version version, struct cni_result *out, struct cni_error *err)
{
	json_t *dns = NULL;

	if (cni_version_has_legacy_result(version)) {
		if (parse_legacy_family(obj, "ip4", AF_INET, out, err) < 0 ||
		    parse_legacy_family(obj, "ip6", AF_INET6, out, err) < 0)
			return -1;
	} else if (parse_list(obj, "", "interfaces", parse_interface, version, out, err) < 0 ||
		   parse_list(obj, "", "ips", parse_ip, version, out, err) < 0 ||
		   parse_list(obj, "", "routes", parse_route, version, out, err) < 0) {
		return -1;
	}
	if (cni_json_object(obj, "", "dns", &dns, err) < 0)
		return -1;
	return dns ? cni_dns_parse(dns, "dns", &out->dns, err) : 0;
}

int cni_result_parse(json_t *obj, enum cni_version fallback, struct cni_result *out, struct cni_error *err)
{
	const char *version_text = NULL;
	enum cni_version version = fallback;

	*out = (struct cni_result){ 0 };
	if (!json_is_object(obj))
		return cni_error_set(err, CNI_ERR_DECODE, "a result must be a JSON object");
	if (cni_json_string(obj, "", "cniVersion", &version_text, err) < 0 ||
	    (version_text && *version_text && cni_version_parse(version_text, &version, err) < 0) ||
	    parse_any(obj, version, out, err) < 0) {
		/* Whatever the getter said, a bad result is a decoding failure. */
		if (err->code == CNI_ERR_INVALID_CONFIG)
			err->code = CNI_ERR_DECODE;
		cni_result_free(out);
		return -1;
	}
	return 0;
}

/* ---- encoding ---- */

static json_t *addr_json(const struct ip_addr *addr)
{
	char text[INET6_ADDRSTRLEN];

	ip_addr_format(addr, text);
	return json_string(text);
}

static json_t *prefix_json(const struct ip_prefix *prefix)
{
	char text[IP_PREFIX_STRLEN];

	ip_prefix_format(prefix, text);
	return json_string(text);
}

static void set_string(json_t *obj, const char *key, const char *value)
{
	if (value && *value)
		json_object_set_new(obj, key, json_string(value));
}

static void set_strv(json_t *obj, const char *key, const struct cni_strv *strv)
{
	if (!strv->count)
		return;
	json_t *array = json_array();
	for (size_t i = 0; i < strv->count; i++)
		json_array_append_new(array, json_string(strv->items[i]));
	json_object_set_new(obj, key, array);
}

json_t *cni_dns_to_json(const struct cni_dns *dns)
{
	json_t *obj = json_object();

	set_strv(obj, "nameservers", &dns->nameservers);
	set_string(obj, "domain", dns->domain);
	set_strv(obj, "search", &dns->search);
	set_strv(obj, "options", &dns->options);
	return obj;
}

static json_t *route_json(const struct cni_route *route, enum cni_version version)
{
	json_t *obj = json_object();

	json_object_set_new(obj, "dst", prefix_json(&route->dst));
	if (route->has_gw)
		json_object_set_new(obj, "gw", addr_json(&route->gw));
	if (version < CNI_VERSION_1_1_0)
		return obj;
	if (route->mtu)
		json_object_set_new(obj, "mtu", json_integer(route->mtu));
	if (route->advmss)
		json_object_set_new(obj, "advmss", json_integer(route->advmss));
	if (route->priority)
		json_object_set_new(obj, "priority", json_integer(route->priority));
	if (route->has_table)
		json_object_set_new(obj, "table", json_integer(route->table));
	if (route->has_scope)
		json_object_set_new(obj, "scope", json_integer(route->scope));
	return obj;
}

static json_t *interface_json(const struct cni_interface *iface, enum cni_version version)
{
	json_t *obj = json_object();

	json_object_set_new(obj, "name", json_string(iface->name ? iface->name : ""));
	set_string(obj, "mac", iface->mac);
	if (version >= CNI_VERSION_1_1_0 && iface->mtu)
		json_object_set_new(obj, "mtu", json_integer(iface->mtu));
	set_string(obj, "sandbox", iface->sandbox);
	if (version >= CNI_VERSION_1_1_0) {
		set_string(obj, "socketPath", iface->socket_path);
		set_string(obj, "pciID", iface->pci_id);
	}
	return obj;
}

static json_t *ip_json(const struct cni_ip *ip, enum cni_version version)
{
	json_t *obj = json_object();

	if (cni_version_has_ip_version(version))
		json_object_set_new(obj, "version", json_string(ip->address.addr.family == AF_INET ? "4" : "6"));
	if (ip->interface >= 0)
		json_object_set_new(obj, "interface", json_integer(ip->interface));
	json_object_set_new(obj, "address", prefix_json(&ip->address));
	if (ip->has_gateway)
		json_object_set_new(obj, "gateway", addr_json(&ip->gateway));
	return obj;
}

static void set_array(json_t *obj, const char *key, size_t count, json_t *(*one)(const void *, enum cni_version),
		      const void *items, size_t size, enum cni_version version)
{
	if (!count)
		return;
	json_t *array = json_array();
	for (size_t i = 0; i < count; i++)
		json_array_append_new(array, one((const char *)items + i * size, version));
	json_object_set_new(obj, key, array);
}

static json_t *interface_json_any(const void *p, enum cni_version v) { return interface_json(p, v); }
static json_t *ip_json_any(const void *p, enum cni_version v) { return ip_json(p, v); }
static json_t *route_json_any(const void *p, enum cni_version v) { return route_json(p, v); }

/* libcni's convertTo02: the first address of each family becomes ip4/ip6, each route
 * goes under the family of its destination, interfaces are dropped. */
static json_t *legacy_family_json(const struct cni_result *result, int family)
{
	const struct cni_ip *first = NULL;

	for (size_t i = 0; i < result->n_ips && !first; i++)
		if (result->ips[i].address.addr.family == family)
			first = &result->ips[i];
	if (!first)
		return NULL;

	json_t *obj = json_object();
	json_object_set_new(obj, "ip", prefix_json(&first->address));
	if (first->has_gateway)
		json_object_set_new(obj, "gateway", addr_json(&first->gateway));
	json_t *routes = json_array();
	for (size_t i = 0; i < result->n_routes; i++)
		if (result->routes[i].dst.addr.family == family)
			json_array_append_new(routes, route_json(&result->routes[i], CNI_VERSION_0_2_0));
	if (json_array_size(routes))
		json_object_set_new(obj, "routes", routes);
	else
		json_decref(routes);
	return obj;
}

json_t *cni_result_to_json(const struct cni_result *result, enum cni_version version, struct cni_error *err)
{
	json_t *obj = json_object();

	json_object_set_new(obj, "cniVersion", json_string(cni_version_name(version)));
	if (cni_version_has_legacy_result(version)) {
		json_t *ip4 = legacy_family_json(result, AF_INET), *ip6 = legacy_family_json(result, AF_INET6);
		if (!ip4 && !ip6) {
			json_decref(obj);
			cni_error_set(err, CNI_ERR_INCOMPATIBLE_VERSION,
				      "cannot write the result in CNI %s: it has no IP address, which %s requires",
				      cni_version_name(version), cni_version_name(version));
			cni_error_details(err, "use cniVersion 0.3.0 or later for networks without IPAM");
			return NULL;
		}
		if (ip4)
			json_object_set_new(obj, "ip4", ip4);
		if (ip6)
			json_object_set_new(obj, "ip6", ip6);
	} else {
		set_array(obj, "interfaces", result->n_interfaces, interface_json_any, result->interfaces,
			  sizeof(*result->interfaces), version);
		set_array(obj, "ips", result->n_ips, ip_json_any, result->ips, sizeof(*result->ips), version);
		set_array(obj, "routes", result->n_routes, route_json_any, result->routes, sizeof(*result->routes), version);
	}
	json_object_set_new(obj, "dns", cni_dns_to_json(&result->dns));
	return obj;
}
