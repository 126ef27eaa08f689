#include <stdio.h>
#include <string.h>

#include "dhcp/flags.h"
#include "dhcp/query.h"
#include "dhcp/rpc.h"

#define QUERY_TIMEOUT_MS 10000
/* As docker and crictl show a container ID; --json keeps it whole. */
#define SHORT_ID_LEN 12
/* The widest cell: a pod's "namespace/name" (CNI_POD_REF_MAX). */
#define CELL_MAX 320

enum column { COL_POD, COL_CONTAINER, COL_NETWORK, COL_IFNAME, COL_STATE, COL_ADDRESS, COL_SERVER, COL_RENEW,
	      COL_EXPIRES, COLUMNS };

static const char *const headings[COLUMNS] = { "POD", "CONTAINER", "NETWORK", "IF", "STATE",
					       "ADDRESS", "SERVER", "RENEW", "EXPIRES" };

static const char *text_of(json_t *lease, const char *key)
{
	const char *text = json_string_value(json_object_get(lease, key));
	return text ? text : "-";
}

/* One row of the table; "-" where the daemon does not know. */
static void row_of(json_t *lease, char cells[COLUMNS][CELL_MAX])
{
	json_t *ns = json_object_get(lease, "podNamespace"), *renew = json_object_get(lease, "renewIn");
	json_t *expires = json_object_get(lease, "expiresIn");

	if (ns)
		snprintf(cells[COL_POD], CELL_MAX, "%s/%s", json_string_value(ns), text_of(lease, "podName"));
	else
		snprintf(cells[COL_POD], CELL_MAX, "-");
	snprintf(cells[COL_CONTAINER], CELL_MAX, "%.*s", SHORT_ID_LEN, text_of(lease, "containerID"));
	snprintf(cells[COL_NETWORK], CELL_MAX, "%s", text_of(lease, "network"));
	snprintf(cells[COL_IFNAME], CELL_MAX, "%s", text_of(lease, "ifName"));
	snprintf(cells[COL_STATE], CELL_MAX, "%s", text_of(lease, "state"));
	snprintf(cells[COL_ADDRESS], CELL_MAX, "%s", text_of(lease, "address"));
	snprintf(cells[COL_SERVER], CELL_MAX, "%s", text_of(lease, "server"));
	snprintf(cells[COL_RENEW], CELL_MAX, renew ? "%llds" : "-", (long long)json_integer_value(renew));
	snprintf(cells[COL_EXPIRES], CELL_MAX, expires ? "%llds" : "-", (long long)json_integer_value(expires));
}

static void print_row(char cells[COLUMNS][CELL_MAX], const int width[COLUMNS])
{
	for (int c = 0; c < COLUMNS; c++) {
		bool last = c == COLUMNS - 1, numeric = c == COL_RENEW || c == COL_EXPIRES;
		printf(numeric ? "%*s%s" : "%-*s%s", last ? 0 : width[c], cells[c], last ? "\n" : "  ");
	}
}

/* Each column as wide as its widest cell: long pod names and networks fit. */
static void print_leases(json_t *list)
{
	char cells[COLUMNS][CELL_MAX];
	int width[COLUMNS];
	json_t *lease;
	size_t i;

	for (int c = 0; c < COLUMNS; c++)
		width[c] = (int)strlen(headings[c]);
	json_array_foreach(list, i, lease) {
		row_of(lease, cells);
		for (int c = 0; c < COLUMNS; c++)
			if ((int)strlen(cells[c]) > width[c])
				width[c] = (int)strlen(cells[c]);
	}
	for (int c = 0; c < COLUMNS; c++)
		snprintf(cells[c], sizeof(cells[c]), "%s", headings[c]);
	print_row(cells, width);
	json_array_foreach(list, i, lease) {
		row_of(lease, cells);
		print_row(cells, width);
	}
}

/* --pod NAME matches a pod of that name in any namespace, --pod NAMESPACE/NAME one. */
static bool pod_matches(json_t *lease, const char *pod)
{
	const char *ns = json_string_value(json_object_get(lease, "podNamespace"));
	const char *name = json_string_value(json_object_get(lease, "podName"));
	const char *slash = strchr(pod, '/');

	if (!ns || !name)
		return false;
	if (!slash)
		return strcmp(name, pod) == 0;
	return strlen(ns) == (size_t)(slash - pod) && strncmp(ns, pod, (size_t)(slash - pod)) == 0 &&
	       strcmp(name, slash + 1) == 0;
}

static void keep_pod(json_t *list, const char *pod)
{
	for (size_t i = json_array_size(list); i-- > 0;)
		if (!pod_matches(json_array_get(list, i), pod))
			json_array_remove(list, i);
}

int query_main(int argc, char **argv)
{
	struct flag_reader r;
	const char *socket_path = DHCP_DEFAULT_SOCKET, *pod = NULL;
	bool as_json = false, list = strcmp(argv[0], "list") == 0;
	struct cni_error err = { 0 };
	json_auto_t *params = json_object(), *result = NULL;
	char command[32];

	snprintf(command, sizeof(command), "dhcp %s", argv[0]);
	flag_reader_init(&r, argc, argv, command);
	while (flag_next(&r)) {
		if (flag_is(&r, "socketpath") && (socket_path = flag_value(&r)))
			continue;
		if (list && flag_is(&r, "pod") && (pod = flag_value(&r)))
			continue;
		if (flag_is(&r, "json")) {
			as_json = true;
			continue;
		}
		fprintf(stderr, "usage: %s [-socketpath PATH] [--json]%s\n", command,
			list ? " [--pod [NAMESPACE/]NAME]" : "");
		return 2;
	}
	if (rpc_call(socket_path, list ? "DHCP.List" : "DHCP.Status", params, QUERY_TIMEOUT_MS, &result, &err) < 0) {
		fprintf(stderr, "%s: %s\n%s%s", command, err.msg, err.details, err.details[0] ? "\n" : "");
		return 1;
	}
	if (pod)
		keep_pod(result, pod);
	if (list && !as_json)
		print_leases(result);
	else
		json_dumpf(result, stdout, JSON_INDENT(2)), putchar('\n');
	return 0;
}
