#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dhcp/flags.h"
#include "dhcp/rpc.h"
#include "doctor/conflist.h"
#include "doctor/daemon_check.h"
#include "doctor/doctor.h"
#include "doctor/kernel_check.h"
#include "doctor/master.h"
#include "doctor/probe.h"
#include "doctor/probe_verdict.h"
#include "doctor/report.h"

#define COMMAND "dhcp doctor"

static const char usage[] =
	"usage: dhcp doctor (--master NAME | --conflist FILE) [-socketpath PATH] [-hostprefix PATH]\n"
	"                   [--json] [--probe-time DURATION] [--no-probe]\n"
	"Checks whether pods can get LAN addresses with macvlan + dhcp on this node: the kernel,\n"
	"the master, the dhcp daemon, and (as root, unless --no-probe) which DHCP servers answer\n"
	"a DHCPDISCOVER on the master's segment. No lease is taken.\n"
	"  --master NAME          the macvlan master to check\n"
	"  --conflist FILE        take master, mode and daemon socket from a network configuration\n"
	"  -socketpath PATH       the daemon's socket (default: the configuration's, else " DHCP_DEFAULT_SOCKET ")\n"
	"  -hostprefix PATH       the daemon's -hostprefix: where it sees the host's files\n"
	"  --probe-time DURATION  how long the probe listens for offers (default 4s)\n"
	"  --no-probe             no probe (nothing is sent on the LAN)\n"
	"  --json                 one JSON object instead of the table\n"
	"Exit status: 0 every check ok or a warning, 1 a check failed, 2 bad usage.\n";

struct doctor_options {
	const char *master;
	const char *conflist;
	const char *socket_path; /* NULL: the configuration's, else the default */
	const char *hostprefix;
	int64_t probe_ms;
	bool probe;
	bool json;
};

/* Where a flag that takes a string goes; NULL for the others. */
static const char **string_flag(struct doctor_options *o, const struct flag_reader *r)
{
	if (flag_is(r, "master"))
		return &o->master;
	if (flag_is(r, "conflist"))
		return &o->conflist;
	if (flag_is(r, "socketpath"))
		return &o->socket_path;
	if (flag_is(r, "hostprefix"))
		return &o->hostprefix;
	return NULL;
}

static int check_usage(const struct doctor_options *o)
{
	if (!o->master == !o->conflist) {
		fprintf(stderr, "%s: give the master to check with --master NAME, or a network configuration with "
				"--conflist FILE (one of the two)\n", COMMAND);
		return -1;
	}
	if (o->master && !*o->master) {
		fprintf(stderr, "%s: --master needs an interface name\n", COMMAND);
		return -1;
	}
	return 0;
}

/* 0, 1 for --help, or -1 on bad usage (said on stderr). */
static int parse_flags(int argc, char **argv, struct doctor_options *o)
{
	struct flag_reader r;
	const char **target;

	*o = (struct doctor_options){ .hostprefix = "", .probe_ms = PROBE_LISTEN_DEFAULT_MS, .probe = true };
	flag_reader_init(&r, argc, argv, COMMAND);
	while (flag_next(&r)) {
		if ((target = string_flag(o, &r))) {
			if (!(*target = flag_value(&r)))
				return -1;
		} else if (flag_is(&r, "json")) {
			o->json = flag_bool(&r);
		} else if (flag_is(&r, "no-probe")) {
			o->probe = !flag_bool(&r);
		} else if (flag_is(&r, "probe-time")) {
			if (flag_duration(&r, &o->probe_ms) < 0)
				return -1;
		} else if (flag_is(&r, "help") || flag_is(&r, "h")) {
			return 1;
		} else {
			fprintf(stderr, "%s: unknown flag or argument \"%s\"\n", COMMAND, r.name);
			return -1;
		}
	}
	return check_usage(o);
}

/* The "config" check: what the file says, and the master it implies. */
static void check_conflist(struct report *r, const struct doctor_options *o, struct doctor_conf *conf)
{
	struct cni_error err = { 0 };
	struct check *c;
	char *master = NULL;

	if (doctor_conf_load(o->conflist, conf, &err) < 0) {
		c = report_add(r, "config", CHECK_FAILED, "%s", err.msg);
		check_hint(c, "%s", err.details[0] ? err.details : "fix the file (the plugins read it the same way), or "
								   "name the master with --master");
		return;
	}
	if (!conf->master && doctor_default_master(&master, &err) < 0) {
		c = report_add(r, "config", CHECK_FAILED, "%s: %s", o->conflist, err.msg);
		check_hint(c, "%s", err.details);
		return;
	}
	if (master)
		conf->master = master;
	if (!o->socket_path && conf->socket_path)
		r->socket_path = conf->socket_path;
	r->master = conf->master;
	r->master_source = master ? "the default route: the configuration has no master" : "conflist";
	r->mode = conf->mode;
	if (conf->ipam_type && strcmp(conf->ipam_type, "dhcp") != 0) {
		c = report_add(r, "config", CHECK_WARNING, "%s: macvlan on %s, mode %s, but ipam \"%s\", not dhcp",
			       o->conflist, conf->master, conf->mode, conf->ipam_type);
		check_hint(c, "the daemon checks below are of %s, which this network does not use", r->socket_path);
		return;
	}
	report_add(r, "config", CHECK_OK, "%s: macvlan on %s%s, mode %s, ipam %s", o->conflist, conf->master,
		   master ? " (the default route's interface: no \"master\" key)" : "", conf->mode,
		   conf->ipam_type ? conf->ipam_type : "none");
}

static void check_lan(struct report *r, const struct doctor_options *o, bool master_usable)
{
	struct cni_error err = { 0 };
	struct check *c;

	if (!o->probe) {
		report_add(r, "lan-probe", CHECK_SKIPPED, "not run (--no-probe)");
		return;
	}
	if (!master_usable) {
		report_add(r, "lan-probe", CHECK_SKIPPED, "not run: the master %s", r->master ? "is not usable (above)"
											     : "is unknown");
		return;
	}
	if (probe_run(r->master, o->probe_ms, &r->probe, &err) < 0) {
		c = report_add(r, "lan-probe", CHECK_FAILED, "%s", err.msg);
		check_hint(c, "%s", err.details[0] ? err.details : "see `dmesg`; --no-probe skips the probe");
		return;
	}
	check_probe(r, r->master, &r->probe);
}

static void run_checks(struct report *r, const struct doctor_options *o, struct doctor_conf *conf)
{
	bool master_usable = false;

	r->socket_path = o->socket_path ? o->socket_path : DHCP_DEFAULT_SOCKET;
	if (o->conflist) {
		r->conflist = o->conflist;
		check_conflist(r, o, conf);
	}
	check_kernel_macvlan(r);
	if (r->master)
		master_usable = check_master(r, r->master);
	check_daemon(r, r->socket_path);
	check_daemon_netns(r, o->hostprefix);
	check_lan(r, o, master_usable);
}

int doctor_main(int argc, char **argv)
{
	struct doctor_options o;
	struct doctor_conf conf = { 0 };
	struct report r = { 0 };
	int parsed = parse_flags(argc, argv, &o);

	if (parsed != 0) {
		fputs(usage, parsed > 0 ? stdout : stderr);
		return parsed > 0 ? 0 : 2;
	}
	if (o.master) {
		r.master = o.master;
		r.master_source = "--master";
	}
	run_checks(&r, &o, &conf);
	int status = report_worst(&r) == CHECK_FAILED ? 1 : 0;
	if (!o.json) {
		report_print_text(&r, stdout);
	} else if (report_print_json(&r, stdout) < 0) {
		fprintf(stderr, "%s: out of memory writing the report\n", COMMAND);
		status = 1;
	}
	report_free(&r);
	doctor_conf_free(&conf);
	return status;
}
