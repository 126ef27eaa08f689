#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dhcp4/protocol.h"
#include "doctor/report.h"
#include "util/macro.h"

struct check *report_add(struct report *r, const char *name, enum check_status status, const char *fmt, ...)
{
	struct check *c = array_append(&r->checks, &r->n_checks, sizeof(*c));
	va_list ap;

	if (!c) {
		r->incomplete = true;
		return NULL;
	}
	c->name = name;
	c->status = status;
	va_start(ap, fmt);
	vsnprintf(c->finding, sizeof(c->finding), fmt, ap);
	va_end(ap);
	return c;
}

void check_hint(struct check *c, const char *fmt, ...)
{
	va_list ap;

	if (!c)
		return;
	va_start(ap, fmt);
	vsnprintf(c->hint, sizeof(c->hint), fmt, ap);
	va_end(ap);
}

enum check_status report_worst(const struct report *r)
{
	enum check_status worst = r->incomplete ? CHECK_FAILED : CHECK_OK;

	for (size_t i = 0; i < r->n_checks; i++)
		if (r->checks[i].status > worst)
			worst = r->checks[i].status;
	return worst;
}

const char *check_status_name(enum check_status status)
{
	switch (status) {
	case CHECK_OK: return "ok";
	case CHECK_SKIPPED: return "skipped";
	case CHECK_WARNING: return "warning";
	case CHECK_FAILED: return "failed";
	}
	return "?";
}

/* "a,b,c" of `n` addresses, or "-" */
static const char *addr_list_text(const struct in_addr *addrs, size_t n, char *buf, size_t len)
{
	size_t used = 0;

	snprintf(buf, len, "-");
	for (size_t i = 0; i < n && used < len; i++) {
		char a[INET_ADDRSTRLEN];
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? "," : "",
					 inet_ntop(AF_INET, &addrs[i], a, sizeof(a)));
	}
	return buf;
}

static const char *addr_text(struct in_addr addr, char buf[INET_ADDRSTRLEN])
{
	return addr.s_addr ? inet_ntop(AF_INET, &addr, buf, INET_ADDRSTRLEN) : "-";
}

/* ---- for a person ---- */

#define NAME_WIDTH 16
#define STATUS_WIDTH 8
/* Continuation lines start under the finding. */
#define INDENT (NAME_WIDTH + 1 + STATUS_WIDTH + 1)

static void print_check(const struct check *c, FILE *out)
{
	fprintf(out, "%-*s %-*s %s\n", NAME_WIDTH, c->name, STATUS_WIDTH, check_status_name(c->status), c->finding);
	if (c->n_causes)
		fprintf(out, "%*slikely causes, in order:\n", INDENT, "");
	for (size_t i = 0; i < c->n_causes; i++)
		fprintf(out, "%*s%zu. %s\n%*scheck: %s\n", INDENT, "", i + 1, c->causes[i].cause, INDENT + 3, "",
			c->causes[i].check);
	if (c->hint[0])
		fprintf(out, "%*snext: %s\n", INDENT, "", c->hint);
}

/* The servers table, its columns as wide as their widest cell. */
enum { COL_ID, COL_MAC, COL_OFFERED, COL_LEASE, COL_ROUTER, COL_DNS, COL_RTT, COL_REPLY, N_COLS };

static const char *const column_names[N_COLS] = { "SERVER ID", "MAC", "OFFERED", "LEASE", "ROUTER", "DNS", "RTT",
						  "REPLY" };

struct row {
	char cell[N_COLS][80];
};

static void server_row(const struct probe_server *s, struct row *row)
{
	char a[INET_ADDRSTRLEN];

	snprintf(row->cell[COL_ID], sizeof(row->cell[0]), "%s", addr_text(s->server_id, a));
	mac_format(s->mac, row->cell[COL_MAC]);
	if (s->offers)
		snprintf(row->cell[COL_OFFERED], sizeof(row->cell[0]), "%s/%u%s", addr_text(s->address, a),
			 s->prefix_len, s->prefix_classful ? " (classful)" : "");
	else
		snprintf(row->cell[COL_OFFERED], sizeof(row->cell[0]), "DHCPNAK");
	if (s->has_lease_time && s->lease_s == DHCP_LEASE_INFINITE)
		snprintf(row->cell[COL_LEASE], sizeof(row->cell[0]), "infinite");
	else if (s->has_lease_time)
		snprintf(row->cell[COL_LEASE], sizeof(row->cell[0]), "%u s", s->lease_s);
	else
		snprintf(row->cell[COL_LEASE], sizeof(row->cell[0]), s->offers ? "none" : "-");
	addr_list_text(s->routers, s->n_routers, row->cell[COL_ROUTER], sizeof(row->cell[0]));
	addr_list_text(s->dns, s->n_dns, row->cell[COL_DNS], sizeof(row->cell[0]));
	snprintf(row->cell[COL_RTT], sizeof(row->cell[0]), "%u ms", s->rtt_ms);
	snprintf(row->cell[COL_REPLY], sizeof(row->cell[0]), "%s", s->unicast ? "unicast" : "broadcast");
}

static void print_row(const char *const cells[N_COLS], const size_t widths[N_COLS], FILE *out)
{
	for (int c = 0; c + 1 < N_COLS; c++)
		fprintf(out, "%-*s  ", (int)widths[c], cells[c]);
	fprintf(out, "%s\n", cells[N_COLS - 1]);
}

static void print_table(const struct probe_result *p, FILE *out)
{
	_cleanup_free_ struct row *rows = calloc(p->n_servers, sizeof(*rows));
	size_t widths[N_COLS];
	const char *cells[N_COLS];

	if (!rows) {
		fputs("(out of memory listing the servers: see --json)\n", out);
		return;
	}
	for (int c = 0; c < N_COLS; c++)
		widths[c] = strlen(column_names[c]);
	for (size_t i = 0; i < p->n_servers; i++) {
		server_row(&p->servers[i], &rows[i]);
		for (int c = 0; c < N_COLS; c++)
			if (strlen(rows[i].cell[c]) > widths[c])
				widths[c] = strlen(rows[i].cell[c]);
	}
	print_row(column_names, widths, out);
	for (size_t i = 0; i < p->n_servers; i++) {
		for (int c = 0; c < N_COLS; c++)
			cells[c] = rows[i].cell[c];
		print_row(cells, widths, out);
	}
}

static void print_servers(const struct report *r, FILE *out)
{
	const struct probe_result *p = &r->probe;
	char mac[MAC_STRLEN];

	if (!p->ran)
		return;
	mac_format(p->mac, mac);
	fprintf(out, "\nDHCP servers that answered %u DHCPDISCOVER%s from %s on %s (xid 0x%08x, %lld ms):\n",
		p->discovers, p->discovers == 1 ? "" : "s", mac, r->master, p->xid, (long long)p->listen_ms);
	if (p->n_servers)
		print_table(p, out);
	else
		fputs("none\n", out);
}

static void print_summary(const struct report *r, FILE *out)
{
	unsigned counts[CHECK_FAILED + 1] = { 0 };

	for (size_t i = 0; i < r->n_checks; i++)
		counts[r->checks[i].status]++;
	if (r->incomplete)
		fputs("\nout of memory: some checks are missing from this report\n", out);
	fprintf(out, "\nresult: %s (%u ok, %u warning%s, %u failed, %u skipped)\n", check_status_name(report_worst(r)),
		counts[CHECK_OK], counts[CHECK_WARNING], counts[CHECK_WARNING] == 1 ? "" : "s", counts[CHECK_FAILED],
		counts[CHECK_SKIPPED]);
}

void report_print_text(const struct report *r, FILE *out)
{
	fprintf(out, "dhcp doctor: master %s", r->master ? r->master : "(none)");
	if (r->master)
		fprintf(out, " (from %s%s%s)", r->master_source, r->mode ? ", mode " : "", r->mode ? r->mode : "");
	fprintf(out, ", daemon socket %s\n\n", r->socket_path);
	fprintf(out, "%-*s %-*s %s\n", NAME_WIDTH, "CHECK", STATUS_WIDTH, "RESULT", "FINDING");
	for (size_t i = 0; i < r->n_checks; i++)
		print_check(&r->checks[i], out);
	print_servers(r, out);
	print_summary(r, out);
}

/* ---- for tools ---- */

static json_t *addrs_json(const struct in_addr *addrs, size_t n)
{
	json_t *list = json_array();
	char a[INET_ADDRSTRLEN];

	for (size_t i = 0; i < n && list; i++)
		json_array_append_new(list, json_string(inet_ntop(AF_INET, &addrs[i], a, sizeof(a))));
	return list;
}

static json_t *optional_addr(struct in_addr addr)
{
	char a[INET_ADDRSTRLEN];

	return addr.s_addr ? json_string(inet_ntop(AF_INET, &addr, a, sizeof(a))) : json_null();
}

static json_t *server_json(const struct probe_server *s)
{
	char mac[MAC_STRLEN];

	mac_format(s->mac, mac);
	return json_pack("{s:o, s:s, s:o, s:o, s:o, s:b, s:o, s:o, s:o, s:I, s:s, s:I, s:I, s:o}", "serverId",
			 optional_addr(s->server_id), "sourceMac", mac, "sourceIp", optional_addr(s->source), "address",
			 s->offers ? optional_addr(s->address) : json_null(), "prefixLen",
			 s->offers ? json_integer(s->prefix_len) : json_null(), "prefixClassful", s->prefix_classful,
			 "leaseSeconds", s->has_lease_time ? json_integer(s->lease_s) : json_null(), "routers",
			 addrs_json(s->routers, s->n_routers), "dns", addrs_json(s->dns, s->n_dns), "rttMs",
			 (json_int_t)s->rtt_ms, "reply", s->unicast ? "unicast" : "broadcast", "offers",
			 (json_int_t)s->offers, "naks", (json_int_t)s->naks, "nakMessage",
			 s->message[0] ? json_string(s->message) : json_null());
}

static json_t *probe_json(const struct probe_result *p)
{
	char mac[MAC_STRLEN];
	json_t *servers;

	if (!p->ran)
		return json_null();
	servers = json_array();
	for (size_t i = 0; i < p->n_servers && servers; i++)
		json_array_append_new(servers, server_json(&p->servers[i]));
	mac_format(p->mac, mac);
	return json_pack("{s:s, s:I, s:I, s:I, s:o}", "mac", mac, "xid", (json_int_t)p->xid, "discovers",
			 (json_int_t)p->discovers, "listenMs", (json_int_t)p->listen_ms, "servers", servers);
}

static json_t *check_json(const struct check *c)
{
	json_t *causes = json_array();

	for (size_t i = 0; i < c->n_causes && causes; i++)
		json_array_append_new(causes, json_pack("{s:s, s:s}", "cause", c->causes[i].cause, "check",
							c->causes[i].check));
	return json_pack("{s:s, s:s, s:s, s:s, s:o}", "name", c->name, "status", check_status_name(c->status),
			 "finding", c->finding, "hint", c->hint, "causes", causes);
}

static json_t *optional_string(const char *s)
{
	return s ? json_string(s) : json_null();
}

int report_print_json(const struct report *r, FILE *out)
{
	json_auto_t *checks = json_array();
	json_auto_t *doc = NULL;

	for (size_t i = 0; i < r->n_checks && checks; i++)
		if (json_array_append_new(checks, check_json(&r->checks[i])) < 0)
			return -ENOMEM;
	const char *source = r->master ? r->master_source : NULL;
	doc = json_pack("{s:s, s:b, s:o, s:o, s:o, s:s, s:o, s:O, s:o}", "status",
			check_status_name(report_worst(r)), "incomplete", r->incomplete, "master",
			optional_string(r->master), "masterSource", optional_string(source), "mode",
			optional_string(r->mode), "socketPath", r->socket_path, "conflist",
			optional_string(r->conflist), "checks", checks, "probe", probe_json(&r->probe));
	if (!doc || json_dumpf(doc, out, JSON_INDENT(2)) < 0)
		return -ENOMEM;
	fputc('\n', out);
	return 0;
}

void report_free(struct report *r)
{
	free(r->checks);
	free(r->probe.servers);
	*r = (struct report){ 0 };
}
