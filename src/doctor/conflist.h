/* The network a node's runtime would attach pods to, read from its configuration file
 * (a .conflist, or one plugin's .conf) by the plugins' own parsers: which master, which
 * mode, which daemon socket. */
#pragma once

#include <stdbool.h>

#include "cni/error.h"

struct doctor_conf {
	char *master;        /* NULL: no "master" key (the plugin takes the default route's) */
	const char *mode;    /* "bridge", "private", ... (static) */
	char *ipam_type;     /* the macvlan entry's ipam.type; NULL when it has none */
	char *socket_path;   /* ipam.daemonSocketPath of a dhcp ipam; NULL: the default */
};

/* Reads `path`: the first entry of type macvlan, and its ipam when that is dhcp.
 * 0, or -1 with `err` saying what is wrong with which key. */
int doctor_conf_load(const char *path, struct doctor_conf *out, struct cni_error *err);
void doctor_conf_free(struct doctor_conf *conf);

/* The interface of the first IPv4 default route of this network namespace, as the
 * macvlan plugin picks a master when the configuration names none. 0, or -1 with `err`. */
int doctor_default_master(char **name, struct cni_error *err);
