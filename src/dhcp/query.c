#include <stdio.h>
#include <string.h>

#include "dhcp/flags.h"
#include "dhcp/query.h"
#include "dhcp/rpc.h"

#define QUERY_TIMEOUT_MS 10000

static void print_leases(json_t *list)
{
	json_t *lease;
	size_t i;

	printf("%-40s %-10s %-18s %-15s %8s %8s\n", "LEASE", "STATE", "ADDRESS", "SERVER", "RENEW", "EXPIRES");
	json_array_foreach(list, i, lease) {
		char key[256];
		snprintf(key, sizeof(key), "%s/%s/%s", json_string_value(json_object_get(lease, "containerID")),
			 json_string_value(json_object_get(lease, "network")),
			 json_string_value(json_object_get(lease, "ifName")));
		const char *addr = json_string_value(json_object_get(lease, "address"));
		const char *server = json_string_value(json_object_get(lease, "server"));
		json_t *renew = json_object_get(lease, "renewIn"), *expires = json_object_get(lease, "expiresIn");
		printf("%-40s %-10s %-18s %-15s %7llds %7llds\n", key, json_string_value(json_object_get(lease, "state")),
		       addr ? addr : "-", server ? server : "-", (long long)json_integer_value(renew),
		       (long long)json_integer_value(expires));
	}
}

int query_main(int argc, char **argv)
{
	struct flag_reader r;
	const char *socket_path = DHCP_DEFAULT_SOCKET;
	bool as_json = false, list = strcmp(argv[0], "list") == 0;
	struct cni_error err = { 0 };
	json_auto_t *params = json_object(), *result = NULL;
	char command[32];

	snprintf(command, sizeof(command), "dhcp %s", argv[0]);
	flag_reader_init(&r, argc, argv, command);
	while (flag_next(&r)) {
		if (flag_is(&r, "socketpath") && (socket_path = flag_value(&r)))
			continue;
		if (flag_is(&r, "json")) {
			as_json = true;
			continue;
		}
		fprintf(stderr, "usage: %s [-socketpath PATH] [--json]\n", command);
		return 2;
	}
	if (rpc_call(socket_path, list ? "DHCP.List" : "DHCP.Status", params, QUERY_TIMEOUT_MS, &result, &err) < 0) {
		fprintf(stderr, "%s: %s\n%s%s", command, err.msg, err.details, err.details[0] ? "\n" : "");
		return 1;
	}
	if (list && !as_json)
		print_leases(result);
	else
		json_dumpf(result, stdout, JSON_INDENT(2)), putchar('\n');
	return 0;
}
