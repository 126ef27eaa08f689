#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "install/options.h"
#include "util/version.h"

const char *const install_plugins[INSTALL_PLUGIN_COUNT] = { "macvlan", "dhcp" };

static const char usage[] =
	"usage: cni-install [options]\n"
	"\n"
	"Installs the macvlan and dhcp plugins and a network configuration, atomically and\n"
	"idempotently (identical files are not rewritten). The configuration is checked\n"
	"first, by the plugins' own parsers: a bad one is refused and nothing is installed.\n"
	"\n"
	"  --bin-source DIR        where the plugins are (default: this program's directory)\n"
	"  --cni-bin-dir DIR       where the runtime looks for plugins (default /host/opt/cni/bin)\n"
	"  --conf-source FILE      a network configuration (.conflist, .conf) to install;\n"
	"                          none: plugins only (a Multus NetworkAttachmentDefinition\n"
	"                          carries the configuration)\n"
	"  --primary               the configuration is the node's default network: runtimes\n"
	"                          take the first file of the conf dir, so it must sort first\n"
	"                          (warned when another file does)\n"
	"  --secondary             it is attached by name (Multus, podman): refused when it\n"
	"                          would sort first and so become the node's default network\n"
	"  --cni-conf-dir DIR      where the runtime looks for configurations\n"
	"                          (default /host/etc/cni/net.d)\n"
	"  --conf-name NAME        file name there (default: the source's name)\n"
	"  --skip-binaries LIST    comma-separated binaries not to install (or remove), e.g.\n"
	"                          dhcp; env SKIP_CNI_BINARIES\n"
	"  --update-binaries BOOL  false: leave binaries already present as they are\n"
	"                          (default true); env UPDATE_CNI_BINARIES\n"
	"  --uninstall             remove the plugins identical to those in --bin-source and\n"
	"                          the configuration identical to --conf-source; leave the rest\n"
	"  --dry-run               say what would change, change nothing\n"
	"  --version               the release this binary was built from\n"
	"  --help                  this text\n";

static void defaults(struct install_options *o)
{
	*o = (struct install_options){
		.bin_dir = "/host/opt/cni/bin",
		.conf_dir = "/host/etc/cni/net.d",
		.update_binaries = true,
	};
}

static int plugin_index(const char *name, size_t len)
{
	for (int i = 0; i < INSTALL_PLUGIN_COUNT; i++)
		if (strlen(install_plugins[i]) == len && strncmp(install_plugins[i], name, len) == 0)
			return i;
	return -1;
}

/* "dhcp, macvlan": spaces and empty entries are tolerated; a name that is not one of
 * ours is refused, since a typo would silently overwrite the binary it meant to keep. */
static int parse_skip_list(const char *list, const char *source, bool skip[INSTALL_PLUGIN_COUNT])
{
	memset(skip, 0, sizeof(bool) * INSTALL_PLUGIN_COUNT);
	for (const char *p = list + strspn(list, " \t,"); *p; p += strspn(p, " \t,")) {
		size_t entry = strcspn(p, ","), len = entry;
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		int i = plugin_index(p, len);
		if (i < 0) {
			fprintf(stderr,
				"cni-install: %s names \"%.*s\", which is not a binary this installer ships: "
				"give a comma-separated list of %s and %s\n",
				source, (int)len, p, install_plugins[0], install_plugins[1]);
			return -1;
		}
		skip[i] = true;
		p += entry;
	}
	return 0;
}

static int parse_bool(const char *text, const char *source, bool *out)
{
	if (strcasecmp(text, "true") == 0) {
		*out = true;
		return 0;
	}
	if (strcasecmp(text, "false") == 0) {
		*out = false;
		return 0;
	}
	fprintf(stderr, "cni-install: %s is \"%s\": it must be true or false\n", source, text);
	return -1;
}

/* The knobs' values as the flags gave them; NULL: not given. */
struct knob_flags {
	const char *skip;
	const char *update;
};

/* The DaemonSet's knobs are environment variables, named as Calico's installer names
 * them; a flag wins over its variable. */
static int apply_knobs(const struct knob_flags *flags, struct install_options *o)
{
	const char *skip = flags->skip ? flags->skip : getenv("SKIP_CNI_BINARIES");
	const char *update = flags->update ? flags->update : getenv("UPDATE_CNI_BINARIES");

	if (skip && parse_skip_list(skip, flags->skip ? "--skip-binaries" : "SKIP_CNI_BINARIES", o->skip) < 0)
		return -1;
	if (update && *update &&
	    parse_bool(update, flags->update ? "--update-binaries" : "UPDATE_CNI_BINARIES", &o->update_binaries) < 0)
		return -1;
	return 0;
}

static int set_role(struct install_options *o, enum install_role role)
{
	if (o->role != INSTALL_ROLE_UNSET && o->role != role) {
		fputs("cni-install: --primary and --secondary exclude each other: give the one that says what the "
		      "network of --conf-source is\n",
		      stderr);
		return -1;
	}
	o->role = role;
	return 0;
}

static const char *own_dir(void)
{
	static char dir[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);

	if (n <= 0)
		return ".";
	dir[n] = '\0';
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	return dir;
}

/* A configuration's role decides whether it may become the node's default network:
 * guessing either way is wrong (primary would let it take over a node whose default is
 * another plugin's by sort order alone), so it must be said. */
static int check_role(const struct install_options *o)
{
	if (!o->conf_source && o->role != INSTALL_ROLE_UNSET) {
		fprintf(stderr, "cni-install: %s says what the configuration of --conf-source is, and none is given\n",
			o->role == INSTALL_ROLE_PRIMARY ? "--primary" : "--secondary");
		return -1;
	}
	if (o->conf_source && !o->uninstall && o->role == INSTALL_ROLE_UNSET) {
		fprintf(stderr,
			"cni-install: --conf-source %s: say whether this network is the node's default network: "
			"--primary (runtimes give it to every pod; its file must sort first in the conf dir) or "
			"--secondary (Multus or podman attach it by name; its file must not sort first)\n",
			o->conf_source);
		return -1;
	}
	return 0;
}

static void fill_defaults(struct install_options *o)
{
	if (!o->bin_source)
		o->bin_source = own_dir();
	if (o->conf_source && !o->conf_name) {
		const char *slash = strrchr(o->conf_source, '/');
		o->conf_name = slash ? slash + 1 : o->conf_source;
	}
}

/* The configuration's name in the conf dir must be a file name, which cannot lead
 * elsewhere. */
static int check_conf_name(const struct install_options *o)
{
	const char *name = o->conf_name;

	if (!o->conf_source ||
	    (*name && !strchr(name, '/') && strcmp(name, ".") != 0 && strcmp(name, "..") != 0))
		return 0;
	fprintf(stderr, "cni-install: the configuration's name in the conf dir, \"%s\", is not a file name: give one "
			"with --conf-name\n",
		name);
	return -1;
}

static int parse_flags(int argc, char **argv, struct install_options *o, struct knob_flags *knobs)
{
	static const struct option longopts[] = {
		{ "bin-source", required_argument, NULL, 'b' },    { "cni-bin-dir", required_argument, NULL, 'B' },
		{ "conf-source", required_argument, NULL, 'c' },   { "cni-conf-dir", required_argument, NULL, 'C' },
		{ "conf-name", required_argument, NULL, 'n' },     { "primary", no_argument, NULL, 'p' },
		{ "secondary", no_argument, NULL, 's' },           { "skip-binaries", required_argument, NULL, 'S' },
		{ "update-binaries", required_argument, NULL, 'U' }, { "uninstall", no_argument, NULL, 'u' },
		{ "dry-run", no_argument, NULL, 'd' },             { "version", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },                { NULL, 0, NULL, 0 },
	};
	int c, r = 0;

	while (r == 0 && (c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'b': o->bin_source = optarg; break;
		case 'B': o->bin_dir = optarg; break;
		case 'c': o->conf_source = optarg; break;
		case 'C': o->conf_dir = optarg; break;
		case 'n': o->conf_name = optarg; break;
		case 'p': r = set_role(o, INSTALL_ROLE_PRIMARY); break;
		case 's': r = set_role(o, INSTALL_ROLE_SECONDARY); break;
		case 'S': knobs->skip = optarg; break;
		case 'U': knobs->update = optarg; break;
		case 'u': o->uninstall = true; break;
		case 'd': o->dry_run = true; break;
		case 'v': printf("cni-install %s\n", cnt_version); return 1;
		case 'h': fputs(usage, stdout); return 1;
		default: fputs(usage, stderr); return -1;
		}
	}
	if (r == 0 && optind < argc) {
		fprintf(stderr, "cni-install: unexpected argument \"%s\"\n%s", argv[optind], usage);
		return -1;
	}
	return r;
}

int install_options_parse(int argc, char **argv, struct install_options *o)
{
	struct knob_flags knobs = { 0 };

	defaults(o);
	int r = parse_flags(argc, argv, o, &knobs);
	if (r != 0)
		return r;
	fill_defaults(o);
	if (apply_knobs(&knobs, o) < 0 || check_role(o) < 0 || check_conf_name(o) < 0)
		return -1;
	return 0;
}
